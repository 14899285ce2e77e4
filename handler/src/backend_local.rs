//! Per-backend state in plain statics.
//!
//! A PostgreSQL backend runs its queries on one thread (pgrx refuses calls
//! into PostgreSQL from any other), so per-backend state needs no
//! synchronisation.  `thread_local!` would be correct too, but in a
//! dlopen'ed library every access is a `__tls_get_addr` call, and the call
//! path touches this state on every row.

use std::ops::Deref;

pub struct BackendLocal<T>(T);

// SAFETY: plrust's backend code runs only on the backend's main thread (the
// only thread PostgreSQL and pgrx let call into the extension), so a value
// behind a BackendLocal is never touched by two threads.  T is a Cell or
// RefCell, which keep single-threaded access sound.
unsafe impl<T> Sync for BackendLocal<T> {}

impl<T> BackendLocal<T> {
    pub const fn new(value: T) -> BackendLocal<T> {
        BackendLocal(value)
    }
}

impl<T> Deref for BackendLocal<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
