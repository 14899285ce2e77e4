//! Waiting politely: every wait in a backend serves interrupts (cancel,
//! statement_timeout, termination) and ends if the postmaster dies.

use pgrx::prelude::*;

/// Whether an interrupt is waiting to be served.  Cheap: one volatile read
/// of the flag PostgreSQL's signal handlers set, as C code reads it.
pub fn pending() -> bool {
    // SAFETY: InterruptPending is a sig_atomic_t written by signal handlers.
    unsafe { std::ptr::addr_of!(pg_sys::InterruptPending).read_volatile() != 0 }
}

/// Sleep about a millisecond on the latch, then serve interrupts (which may
/// raise an ERROR).
pub fn nap() {
    // SAFETY: waiting on this process's own latch with a timeout; the
    // postmaster's death ends the process (WL_EXIT_ON_PM_DEATH).
    unsafe {
        pg_sys::WaitLatch(
            pg_sys::MyLatch,
            (pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH) as i32,
            1,
            pg_sys::PG_WAIT_EXTENSION,
        );
        pg_sys::ResetLatch(pg_sys::MyLatch);
    }
    pgrx::check_for_interrupts!();
}
