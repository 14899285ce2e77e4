//! Futex wait and wake on a word in shared memory.
//!
//! The channel lives in a memfd mapped by two processes, so these are the
//! shared (not FUTEX_PRIVATE) operations.

use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// Sleep while `word` still holds `expected`, at most `timeout`.  Returns
/// early on a wake-up, a signal, or when the word already differs; callers
/// re-check the word, so the reason does not matter.
pub fn wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: `word` is a live, aligned u32 for the duration of the call; the
    // kernel only reads it and the timespec; errors (EAGAIN, EINTR,
    // ETIMEDOUT) are all "look again", which every caller does.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}

/// Wake whoever sleeps on `word` (at most one process ever does).
pub fn wake(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key; it never writes
    // through it, and a failure leaves nothing to clean up.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            i32::MAX,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0u32,
        );
    }
}
