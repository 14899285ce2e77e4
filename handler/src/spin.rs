//! The backend's side of the spin policy (plrust_bgworker::spin): what the
//! pool knows of the machine's load, sampled cheaply enough for every call.
//!
//! The number of runnable processes comes from /proc/loadavg, read by one
//! backend at a time at most every SAMPLE_MS and shared through the pool's
//! memory; the number of calls in flight is a counter in the same place.
//! The executor cannot read either (it is sandboxed), so the backend tells
//! it, with each request, how long it may spin for the next one.

use std::cell::Cell;
use std::sync::atomic::Ordering;

use plrust_bgworker::spin::{self, Budget, Load};

use crate::backend_local::BackendLocal;
use crate::{gucs, pool};

const SAMPLE_MS: u64 = 10;

/// This backend's open /proc/loadavg (-1: not yet, -2: unavailable).
static LOADAVG: BackendLocal<Cell<i32>> = BackendLocal::new(Cell::new(-1));
static CPUS: BackendLocal<Cell<u32>> = BackendLocal::new(Cell::new(0));

fn read_runnable() -> Option<u32> {
    let mut fd = LOADAVG.get();
    if fd == -1 {
        // SAFETY: open(2) of a constant NUL-terminated path.
        fd = unsafe { libc::open(c"/proc/loadavg".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        LOADAVG.set(if fd < 0 { -2 } else { fd });
    }
    if fd < 0 {
        return None;
    }
    let mut buf = [0u8; 128];
    // SAFETY: pread into our buffer of buf.len() bytes.
    let n = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n <= 0 {
        return None;
    }
    spin::parse_loadavg(std::str::from_utf8(&buf[..n as usize]).ok()?)
}

fn runnable() -> u32 {
    let shared = pool::shared();
    let now = pool::now_ms();
    let at = shared.runnable_at.load(Ordering::Relaxed);
    if now.saturating_sub(at) >= SAMPLE_MS
        && shared
            .runnable_at
            .compare_exchange(at, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        if let Some(r) = read_runnable() {
            shared.runnable.store(r, Ordering::Relaxed);
        }
    }
    shared.runnable.load(Ordering::Relaxed)
}

/// Spin budgets for a call starting now (its own lease already counted in
/// `in_flight`).
pub fn budget() -> Budget {
    let mut cpus = CPUS.get();
    if cpus == 0 {
        cpus = gucs::cpus();
        CPUS.set(cpus);
    }
    spin::budget(Load {
        runnable: runnable(),
        in_flight: pool::shared().in_flight.load(Ordering::Relaxed),
        cpus,
    })
}
