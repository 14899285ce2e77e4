//! Raising errors the way PostgreSQL users expect: SQLSTATE, message,
//! DETAIL and HINT.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

/// LOCATION (VERBOSITY verbose) is the caller's file and line.
#[track_caller]
pub fn raise(
    code: PgSqlErrorCode,
    message: String,
    detail: Option<String>,
    hint: Option<String>,
) -> ! {
    let mut report = ErrorReport::new(code, message, "plrust");
    if let Some(d) = detail {
        report = report.set_detail(d);
    }
    if let Some(h) = hint {
        report = report.set_hint(h);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR returned")
}

/// Keep Rust backtraces out of error reports.
///
/// pgrx's panic hook captures a backtrace at every ERROR that crosses Rust
/// code, and when `RUST_BACKTRACE` (or `RUST_LIB_BACKTRACE`) is in the
/// server's environment it appends it to the DETAIL: the server's
/// internals in a tenant's client, and, through calls nested in SPI, a
/// DETAIL that grows by a backtrace per level (144 KiB at 270 levels) and
/// takes a capture per level.  std reads `RUST_LIB_BACKTRACE` before
/// `RUST_BACKTRACE`, once per process, when it first captures one; set
/// here, in `_PG_init`, before any capture and while the process has one
/// thread, every backend forked later inherits it.  Panics still print
/// their backtraces where `RUST_BACKTRACE` says (the panic message, not a
/// captured `Backtrace`).
pub fn no_backtraces_in_reports() {
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
}

/// CONTEXT for every error raised while a plrust function runs, one line
/// per call (nested calls through SPI, triggers): `plrust function
/// f(integer)`, as PL/pgSQL says `PL/pgSQL function f(integer) line 3 at
/// RAISE`.
///
/// An ERROR raised in Rust unwinds to the call handler's `pg_guard`,
/// which reports it there: the callback must outlive the call's frames, so
/// it lives in the call's memory context, and it stays on
/// `error_context_stack` when the call fails (whoever catches the error
/// restores the stack, as PG_TRY does).  A call that returns pops it.
pub struct CallContext {
    callback: *mut pg_sys::ErrorContextCallback,
}

extern "C-unwind" {
    // Left out of pgrx's bindings (it is variadic); errcontext() is
    // set_errcontext_domain() and this.
    fn errcontext_msg(fmt: *const std::ffi::c_char, ...) -> std::ffi::c_int;
}

/// The callback: `signature` is a NUL-terminated string that lives as long
/// as the function's definition (function.rs: Function::context).
unsafe extern "C-unwind" fn call_context(arg: *mut std::ffi::c_void) {
    // SAFETY: PostgreSQL calls this while an error is being reported, in
    // the process's one thread; `arg` is the CStr pointer pushed below.
    unsafe {
        pg_sys::set_errcontext_domain(std::ptr::null());
        errcontext_msg(
            c"plrust function %s".as_ptr(),
            arg as *const std::ffi::c_char,
        );
    }
}

impl CallContext {
    /// Push the context line for a call of `signature`.
    pub fn push(signature: &'static std::ffi::CStr) -> CallContext {
        // SAFETY: palloc in the current (call's) memory context, which
        // lives until the error, if any, has been reported; the struct is
        // filled before it is linked, on the backend's only thread.
        unsafe {
            let callback = pg_sys::palloc(std::mem::size_of::<pg_sys::ErrorContextCallback>())
                as *mut pg_sys::ErrorContextCallback;
            (*callback).previous = pg_sys::error_context_stack;
            (*callback).callback = Some(call_context);
            (*callback).arg = signature.as_ptr() as *mut std::ffi::c_void;
            pg_sys::error_context_stack = callback;
            CallContext { callback }
        }
    }
}

impl Drop for CallContext {
    /// A call that returns (or whose error Rust code caught) pops its
    /// line; a call unwinding with an ERROR leaves it for the report.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        // SAFETY: `callback` is the entry this value pushed, still valid;
        // restored only if it is the top, as any nested entry popped
        // itself or was dropped by whoever caught its error.
        unsafe {
            if pg_sys::error_context_stack == self.callback {
                pg_sys::error_context_stack = (*self.callback).previous;
            }
        }
    }
}
