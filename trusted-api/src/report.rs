//! `ErrorReportable`: pgrx's `result.report()`, which turns a `Result`'s
//! error into an ERROR that ends the call; and the one place that raises
//! an SPI error again as the ERROR it was.
//!
//! In pgrx an SQL error never comes back as a value: it longjmps out of
//! the query, through the body, with its own SQLSTATE.  Here SPI returns
//! it as `Err(SpiError::Sql)` (rolled back to before the query), so
//! whatever ends the call with one (`.report()`, `fn_call`, the clock
//! functions) raises it again with its SQLSTATE, texts and origin: what a
//! PL/Rust body's caller would have seen.

use std::any::Any;
use std::fmt::Display;

use crate::entry::{BoxError, RaisedError};
use crate::log::raise;
use crate::spi::SpiError;

/// Something that can be raised as an ERROR.
pub trait ErrorReportable {
    type Inner;

    /// The value, or (for an error) an ERROR that ends the call.
    fn report(self) -> Self::Inner;
}

impl<T, E> ErrorReportable for Result<T, E>
where
    E: Any + Display,
{
    type Inner = T;

    /// `Ok`'s value.  An `Err` is raised: an SQL error (`SpiError`, also
    /// inside a `BoxError`) with its own SQLSTATE, anything else as pgrx
    /// does, with its text and SQLSTATE 22000 (data_exception).
    #[track_caller]
    fn report(self) -> T {
        match self {
            Ok(value) => value,
            Err(e) => {
                let any: &dyn Any = &e;
                let spi = any
                    .downcast_ref::<SpiError>()
                    .or_else(|| any.downcast_ref::<BoxError>()?.downcast_ref());
                if let Some(raised) = spi.and_then(as_raised) {
                    std::panic::panic_any(raised)
                }
                raise(Some(*b"22000"), e.to_string(), None)
            }
        }
    }
}

/// The ERROR an SQL error was, to raise again; None for the other SPI
/// errors (which were never PostgreSQL's).
pub(crate) fn as_raised(e: &SpiError) -> Option<RaisedError> {
    match e {
        SpiError::Sql {
            sqlstate,
            message,
            detail,
            hint,
            origin,
            ..
        } => Some(RaisedError {
            sqlstate: Some(*sqlstate),
            message: message.clone(),
            detail: detail.clone(),
            hint: hint.clone(),
            origin: origin.clone(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datum::TryFromDatumError;

    fn raised_by(f: impl FnOnce() + std::panic::UnwindSafe) -> RaisedError {
        let payload = std::panic::catch_unwind(f).expect_err("raised");
        payload
            .downcast::<RaisedError>()
            .map(|b| *b)
            .expect("a RaisedError")
    }

    fn sql_error() -> SpiError {
        SpiError::Sql {
            sqlstate: *b"22012",
            message: "division by zero".into(),
            detail: Some("d".into()),
            hint: None,
            origin: None,
            line: 0,
        }
    }

    #[test]
    fn ok_is_the_value() {
        assert_eq!(Ok::<i32, String>(7).report(), 7);
    }

    #[test]
    fn other_errors_are_data_exceptions_with_their_text() {
        let r = raised_by(|| {
            Err::<(), _>("no good".to_string()).report();
        });
        assert_eq!(
            (r.sqlstate, r.message.as_str()),
            (Some(*b"22000"), "no good")
        );
        let r = raised_by(|| {
            Err::<(), _>(SpiError::Datum(TryFromDatumError::NoSuchAttributeNumber(3))).report();
        });
        assert_eq!(r.sqlstate, Some(*b"22000"));
    }

    #[test]
    fn sql_errors_keep_their_own_code() {
        let r = raised_by(|| {
            Err::<(), _>(sql_error()).report();
        });
        assert_eq!(
            (r.sqlstate, r.message.as_str(), r.detail.as_deref()),
            (Some(*b"22012"), "division by zero", Some("d"))
        );
        let r = raised_by(|| {
            Err::<(), BoxError>(sql_error().into()).report();
        });
        assert_eq!(r.sqlstate, Some(*b"22012"));
    }
}
