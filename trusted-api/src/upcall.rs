//! The call in progress, as the body's code reaches it: the executor's
//! Host, by which an upcall goes to the backend mid-call (log messages,
//! SPI, rows of a set), and where the body's lines are, to tell a source
//! location as a line of the body.
//!
//! entry.rs sets both for the length of a call (`CallScope`); everything
//! that talks to the backend (spi, log, iter, heap_tuple) comes here, not
//! to entry.rs, which turns their errors into replies.

use std::panic::Location;
use std::sync::atomic::{AtomicPtr, Ordering};

use plrust_ipc::message::{Answer, Upcall};
use plrust_ipc::{wire, Host};

/// The executor's host for the call in progress (null outside a call).
/// A plain static, not a thread-local: an executor runs calls on one
/// thread, and in a shared object every thread-local access is a
/// `__tls_get_addr` call, paid on every call.
static HOST: AtomicPtr<Host> = AtomicPtr::new(std::ptr::null_mut());

/// The body of the call in progress (null outside a call), to tell a
/// source location as a line of the body.
static BODY: AtomicPtr<Body> = AtomicPtr::new(std::ptr::null_mut());

/// Where a function's body is in the source codegen.rs made of it: the
/// file, and the lines the body's own lines are (the body starts on a
/// line of its own, so line `first_line` is the body's line 1).
#[derive(Debug, Clone, Copy)]
pub struct Body {
    pub file: &'static str,
    pub first_line: u32,
    pub lines: u32,
}

impl Body {
    /// `at`'s line in the body, or 0 if it is not in the body.
    fn line_of(&self, at: &Location<'_>) -> u32 {
        let line = at.line();
        if at.file() == self.file && line >= self.first_line && line - self.first_line < self.lines
        {
            line - self.first_line + 1
        } else {
            0
        }
    }
}

/// The running body's line of `at`, or 0 (not in the body, or no call).
pub(crate) fn body_line(at: &Location<'_>) -> u32 {
    let body = BODY.load(Ordering::Relaxed).cast_const();
    if body.is_null() {
        return 0;
    }
    // SAFETY: BODY points at the `Body` run() was given, which outlives
    // the call, and is reset when the call ends (CallScope).
    unsafe { (*body).line_of(at) }
}

/// Send an upcall to the backend and wait for its answer.
pub(crate) fn upcall(u: &Upcall<'_>) -> Answer {
    let host = HOST.load(Ordering::Relaxed).cast_const();
    assert!(
        !host.is_null(),
        "plrust: the backend can only be reached during a call"
    );
    let req = wire::encode_to_vec(u);
    if req.len() > plrust_ipc::limits::REPLY_AREA {
        panic!(
            "plrust: a request to the backend of {} bytes does not fit the channel ({} bytes)",
            req.len(),
            plrust_ipc::limits::REPLY_AREA
        );
    }
    let mut len = 0usize;
    // SAFETY: `host` is the executor's Host for the call in progress (set by
    // run() below and cleared when it returns); req is a live buffer.
    let answer = unsafe { ((*host).upcall)((*host).ctx, req.as_ptr(), req.len(), &mut len) };
    // SAFETY: the executor returns `len` readable bytes, valid until the
    // next upcall; they are decoded (copied) before this returns.
    let bytes = unsafe { std::slice::from_raw_parts(answer, len) };
    match wire::decode_exact::<Answer>(bytes) {
        Ok(a) => a,
        Err(e) => panic!("plrust: malformed answer from the backend: {e}"),
    }
}

/// Puts back the Host and Body of the call this one is nested in (null at
/// the top) when the call ends, however it ends: a call nested in an
/// upcall returns to a body that goes on calling its own backend.
pub(crate) struct CallScope(*mut Host, *mut Body);

impl CallScope {
    /// Make `host` and `source` the call in progress until the scope ends.
    pub(crate) fn enter(host: *const Host, source: &Body) -> CallScope {
        CallScope(
            HOST.swap(host.cast_mut(), Ordering::Relaxed),
            BODY.swap(std::ptr::from_ref(source).cast_mut(), Ordering::Relaxed),
        )
    }
}

impl Drop for CallScope {
    fn drop(&mut self) {
        HOST.store(self.0, Ordering::Relaxed);
        BODY.store(self.1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_outside_the_body_has_no_line() {
        let source = Body {
            file: "elsewhere.rs",
            first_line: 1,
            lines: 10,
        };
        let here = Location::caller();
        assert_eq!(source.line_of(here), 0);
        let body = Body {
            file: here.file(),
            first_line: here.line() - 2,
            lines: 3,
        };
        assert_eq!(body.line_of(here), 3);
        let before = Body {
            first_line: here.line() + 1,
            ..body
        };
        assert_eq!(before.line_of(here), 0);
        let after = Body {
            first_line: here.line() - 3,
            lines: 3,
            ..body
        };
        assert_eq!(after.line_of(here), 0);
    }
}
