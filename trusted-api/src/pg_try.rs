//! `PgTryBuilder`: pgrx's PG_TRY/PG_CATCH/PG_FINALLY, for a body that
//! wants to handle an ERROR raised inside a closure.
//!
//! Why this one is sound, where pgrx's needs care: in pgrx, an SQL error
//! inside the closure longjmps through it and is caught with the backend
//! in whatever state the error left (no subtransaction rolled back).
//! Here every ERROR a closure can raise is a Rust panic in the executor:
//! `error!`/`ereport!`, an SQL error raised again (`fn_call`, `.report()`,
//! the clock functions: SPI already rolled that query back to before it
//! began), or any other panic.  Catching one leaves the backend exactly as
//! consistent as after an `Err` from SPI, so nothing is swallowed that the
//! backend still needs to act on.  What must never be caught does not
//! reach a body at all: a query cancel, a statement timeout or a shutdown
//! in the backend ends the query there, and the backend, which never
//! abandons a call, kills the executor (bgworker/executor/serve.rs).
//!
//! As in pgrx, the finally block runs whether the closure returned, a
//! handler returned, or a handler raised; an error no handler takes is
//! raised again unchanged (same payload, so the call reports it with the
//! SQLSTATE and body line it had).

use std::any::Any;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe, RefUnwindSafe, UnwindSafe};

use crate::entry::RaisedError;
use crate::errcodes::PgSqlErrorCode;
use crate::log::PgLogLevel;

/// SQLSTATE XX000: what pgrx gives a Rust panic (and `error!`).
const INTERNAL_ERROR: [u8; 5] = *b"XX000";

/// What a caught ERROR said.
#[derive(Debug, Clone)]
pub struct ErrorReportWithLevel {
    /// As raised: a handler that rethrows raises exactly this again.
    raised: RaisedError,
}

impl ErrorReportWithLevel {
    /// Always ERROR: lesser levels are messages, never raised.
    pub fn level(&self) -> PgLogLevel {
        PgLogLevel::ERROR
    }

    /// The five-character SQLSTATE (`b"22012"`).
    pub fn sqlstate(&self) -> [u8; 5] {
        self.raised.sqlstate.unwrap_or(INTERNAL_ERROR)
    }

    pub fn message(&self) -> &str {
        &self.raised.message
    }

    pub fn detail(&self) -> Option<&str> {
        self.raised.detail.as_deref()
    }

    pub fn hint(&self) -> Option<&str> {
        self.raised.hint.as_deref()
    }
}

/// The ERROR a `PgTryBuilder` caught, with pgrx's three kinds.
#[derive(Debug)]
pub enum CaughtError {
    /// An SQL error from the backend, raised again in the closure.
    PostgresError(ErrorReportWithLevel),
    /// `error!` or `ereport!(ERROR, ...)` in the closure.
    ErrorReport(ErrorReportWithLevel),
    /// Any other panic, as SQLSTATE XX000; `payload` is the panic's own.
    RustPanic {
        ereport: ErrorReportWithLevel,
        payload: Box<dyn Any + Send>,
    },
}

impl CaughtError {
    fn of(payload: Box<dyn Any + Send>) -> CaughtError {
        match payload.downcast::<RaisedError>() {
            Ok(raised) => {
                // Only an error that came from the backend has an origin.
                let from_backend = raised.origin.is_some();
                let report = ErrorReportWithLevel { raised: *raised };
                if from_backend {
                    CaughtError::PostgresError(report)
                } else {
                    CaughtError::ErrorReport(report)
                }
            }
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&'static str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "Box<dyn Any>".to_string());
                let raised = RaisedError {
                    sqlstate: Some(INTERNAL_ERROR),
                    message,
                    detail: None,
                    hint: None,
                    origin: None,
                };
                CaughtError::RustPanic {
                    ereport: ErrorReportWithLevel { raised },
                    payload,
                }
            }
        }
    }

    fn report(&self) -> &ErrorReportWithLevel {
        match self {
            CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => r,
            CaughtError::RustPanic { ereport, .. } => ereport,
        }
    }

    /// Raise this error again, unchanged (same payload, so the call
    /// reports it with the SQLSTATE, origin and body line it had).
    pub fn rethrow(self) -> ! {
        match self {
            CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => {
                resume_unwind(Box::new(r.raised))
            }
            CaughtError::RustPanic { payload, .. } => resume_unwind(payload),
        }
    }
}

type Handler<'a, R> = Box<dyn FnMut(CaughtError) -> R + 'a>;

/// Run a closure; on an ERROR, the handler registered for its SQLSTATE,
/// else the catch-all, else (for a plain panic) the panic handler, else
/// the ERROR goes on; then the finally block.
#[must_use = "must call `PgTryBuilder::execute(self)` in order for it to run"]
pub struct PgTryBuilder<'a, R, F: FnOnce() -> R + UnwindSafe> {
    func: F,
    when: Vec<([u8; 5], Handler<'a, R>)>,
    others: Option<Handler<'a, R>>,
    rust: Option<Handler<'a, R>>,
    finally: Option<Box<dyn FnMut() + 'a>>,
}

impl<'a, R, F: FnOnce() -> R + UnwindSafe> PgTryBuilder<'a, R, F> {
    pub fn new(func: F) -> Self {
        PgTryBuilder {
            func,
            when: Vec::new(),
            others: None,
            rust: None,
            finally: None,
        }
    }

    /// Handle an ERROR of this SQLSTATE (a second handler for the same
    /// code replaces the first).
    pub fn catch_when(
        mut self,
        error: PgSqlErrorCode,
        f: impl FnMut(CaughtError) -> R + 'a + UnwindSafe + RefUnwindSafe,
    ) -> Self {
        let code = error.sqlstate();
        self.when.retain(|(c, _)| *c != code);
        self.when.push((code, Box::new(f)));
        self
    }

    /// Handle any ERROR no `catch_when` takes.
    pub fn catch_others(
        mut self,
        f: impl FnMut(CaughtError) -> R + 'a + UnwindSafe + RefUnwindSafe,
    ) -> Self {
        self.others = Some(Box::new(f));
        self
    }

    /// Handle a plain Rust panic (not `error!`, not an SQL error).
    pub fn catch_rust_panic(
        mut self,
        f: impl FnMut(CaughtError) -> R + 'a + UnwindSafe + RefUnwindSafe,
    ) -> Self {
        self.rust = Some(Box::new(f));
        self
    }

    /// Run after the closure or a handler, even one that raises.
    pub fn finally(mut self, f: impl FnMut() + 'a) -> Self {
        self.finally = Some(Box::new(f));
        self
    }

    pub fn execute(self) -> R {
        let PgTryBuilder {
            func,
            mut when,
            others,
            rust,
            mut finally,
        } = self;
        let mut run_finally = || {
            if let Some(f) = finally.as_mut() {
                f()
            }
        };
        let payload = match catch_unwind(func) {
            Ok(value) => {
                run_finally();
                return value;
            }
            Err(payload) => payload,
        };
        let caught = CaughtError::of(payload);
        let code = caught.report().sqlstate();
        let handler = match when.iter().position(|(c, _)| *c == code) {
            Some(i) => Some(when.swap_remove(i).1),
            None if others.is_some() => others,
            None if matches!(caught, CaughtError::RustPanic { .. }) => rust,
            None => None,
        };
        let Some(mut handler) = handler else {
            run_finally();
            caught.rethrow()
        };
        let handled = catch_unwind(AssertUnwindSafe(|| handler(caught)));
        run_finally();
        handled.unwrap_or_else(|payload| resume_unwind(payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn raise(code: &[u8; 5], origin: bool) -> ! {
        std::panic::panic_any(RaisedError {
            sqlstate: Some(*code),
            message: "m".into(),
            detail: None,
            hint: None,
            origin: origin.then(|| Box::new(crate::entry::ErrorOrigin::default())),
        })
    }

    #[test]
    fn no_error_runs_finally() {
        let done = Cell::new(false);
        let r = PgTryBuilder::new(|| 42)
            .catch_others(|_| 0)
            .finally(|| done.set(true))
            .execute();
        assert_eq!((r, done.get()), (42, true));
    }

    #[test]
    fn handlers_by_code_then_others_then_panics() {
        {
            let r = PgTryBuilder::new(|| raise(b"22012", true))
                .catch_when(PgSqlErrorCode::ERRCODE_DIVISION_BY_ZERO, |e| {
                    assert!(matches!(e, CaughtError::PostgresError(_)));
                    1
                })
                .catch_others(|_| 2)
                .execute();
            assert_eq!(r, 1);
            let r = PgTryBuilder::new(|| raise(b"23505", false))
                .catch_when(PgSqlErrorCode::ERRCODE_DIVISION_BY_ZERO, |_| 1)
                .catch_others(|e| {
                    assert!(matches!(e, CaughtError::ErrorReport(_)));
                    assert_eq!(e.report().sqlstate(), *b"23505");
                    2
                })
                .execute();
            assert_eq!(r, 2);
            let r = PgTryBuilder::new(|| -> i32 { panic!("plain") })
                .catch_when(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, |e| {
                    assert_eq!(e.report().message(), "plain");
                    3
                })
                .execute();
            assert_eq!(r, 3);
            let r = PgTryBuilder::new(|| -> i32 { panic!("plain") })
                .catch_rust_panic(|_| 4)
                .execute();
            assert_eq!(r, 4);
        }
    }

    #[test]
    fn unhandled_errors_go_on_unchanged_after_finally() {
        {
            let done = Cell::new(0);
            let p = catch_unwind(AssertUnwindSafe(|| {
                PgTryBuilder::new(|| -> i32 { raise(b"22012", false) })
                    .catch_rust_panic(|_| 4)
                    .finally(|| done.set(done.get() + 1))
                    .execute()
            }))
            .unwrap_err();
            assert_eq!(
                p.downcast::<RaisedError>().unwrap().sqlstate,
                Some(*b"22012")
            );
            // A handler that rethrows: the same payload, finally once.
            let p = catch_unwind(AssertUnwindSafe(|| {
                let n = std::hint::black_box(1);
                PgTryBuilder::new(move || -> i32 { panic!("plain {n}") })
                    .catch_others(|e| e.rethrow())
                    .finally(|| done.set(done.get() + 1))
                    .execute()
            }))
            .unwrap_err();
            assert_eq!(p.downcast::<String>().unwrap().as_str(), "plain 1");
            assert_eq!(done.get(), 2);
        }
    }
}
