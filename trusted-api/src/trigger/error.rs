//! `PgTriggerError`, with pgrx 0.11's variants.  pgrx builds a `PgTrigger`
//! from raw pointers the trigger manager hands it, so most variants name a
//! pointer that was NULL; here a `PgTrigger` is built from what the backend
//! sent, so they never occur, but bodies that match on them must compile.

use std::fmt;
use std::num::TryFromIntError;
use std::str::Utf8Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgTriggerError {
    /// The function was not called as a trigger.
    NotTrigger,
    NullFunctionCallInfo,
    /// A timing that is not BEFORE, AFTER or INSTEAD OF (pgrx: the event's
    /// timing bits; here the byte the backend sent).
    InvalidPgTriggerWhen(u32),
    /// An operation that is not INSERT, UPDATE, DELETE or TRUNCATE.
    InvalidPgTriggerOperation(u32),
    CoreUtf8(Utf8Error),
    TryFromInt(TryFromIntError),
    NullTrigger,
    NullTriggerData,
    NullRelation,
}

impl fmt::Display for PgTriggerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PgTriggerError::NotTrigger => f.write_str("the function was not called as a trigger"),
            PgTriggerError::NullFunctionCallInfo => f.write_str("no call information"),
            PgTriggerError::InvalidPgTriggerWhen(w) => write!(f, "invalid trigger timing {w}"),
            PgTriggerError::InvalidPgTriggerOperation(o) => {
                write!(f, "invalid trigger operation {o}")
            }
            PgTriggerError::CoreUtf8(e) => write!(f, "trigger data is not UTF-8: {e}"),
            PgTriggerError::TryFromInt(e) => write!(f, "trigger data out of range: {e}"),
            PgTriggerError::NullTrigger => f.write_str("no trigger in the trigger data"),
            PgTriggerError::NullTriggerData => f.write_str("no trigger data"),
            PgTriggerError::NullRelation => f.write_str("no relation in the trigger data"),
        }
    }
}

impl std::error::Error for PgTriggerError {}

impl From<Utf8Error> for PgTriggerError {
    fn from(e: Utf8Error) -> PgTriggerError {
        PgTriggerError::CoreUtf8(e)
    }
}

impl From<TryFromIntError> for PgTriggerError {
    fn from(e: TryFromIntError) -> PgTriggerError {
        PgTriggerError::TryFromInt(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_from_the_std_errors_and_copies() {
        let not_utf8 = vec![0xff_u8];
        let utf8 = std::str::from_utf8(&not_utf8).unwrap_err();
        let range = u8::try_from(300i32).unwrap_err();
        let e: PgTriggerError = utf8.into();
        let copy = e;
        assert_eq!(e, copy);
        assert!(matches!(e, PgTriggerError::CoreUtf8(_)));
        assert!(matches!(
            PgTriggerError::from(range),
            PgTriggerError::TryFromInt(_)
        ));
        assert_eq!(
            PgTriggerError::InvalidPgTriggerWhen(24).to_string(),
            "invalid trigger timing 24"
        );
    }
}
