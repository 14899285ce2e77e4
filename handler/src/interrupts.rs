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

/// Whether CHECK_FOR_INTERRUPTS would end the current statement now: a
/// cancel, a timeout or termination, and interrupts not held off.
/// InterruptPending alone also flags interrupts that end nothing
/// (a barrier, a catch-up) and stays set while they are held off, as in
/// an extension script; a compile must not give up for those.
pub fn cancel_pending() -> bool {
    // SAFETY: sig_atomic_t flags written by signal handlers, and counters
    // of this backend's only thread, read as C code reads them.
    unsafe {
        let held = std::ptr::addr_of!(pg_sys::InterruptHoldoffCount).read_volatile() != 0
            || std::ptr::addr_of!(pg_sys::CritSectionCount).read_volatile() != 0;
        let die = std::ptr::addr_of!(pg_sys::ProcDiePending).read_volatile() != 0;
        let cancel = std::ptr::addr_of!(pg_sys::QueryCancelPending).read_volatile() != 0
            && std::ptr::addr_of!(pg_sys::QueryCancelHoldoffCount).read_volatile() == 0;
        pending() && !held && (die || cancel)
    }
}
