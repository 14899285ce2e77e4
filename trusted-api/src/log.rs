//! Messages and errors: `notice!`, `warning!`, ..., `error!`, `ereport!`.
//!
//! A message below ERROR is an upcall: the backend emits it with elog's
//! usual rules (client_min_messages, log_min_messages).  An ERROR unwinds
//! the body (like pgrx, whose `error!` never returns) and ends the call
//! with `Reply::Error`.  Levels above ERROR are refused: user code never
//! ends a session or the cluster, so `ereport!(FATAL, ...)` and
//! `ereport!(PANIC, ...)` raise an ERROR that says so.

use plrust_ipc::message::{ErrorReport, LogLevel, Upcall};

use crate::entry::RaisedError;
use crate::errcodes::PgSqlErrorCode;
use crate::upcall::{body_line, upcall};

/// pgrx's log levels, for `ereport!`, with elog.h's values (PostgreSQL
/// 14 and later) as pgrx gives them, and ordered by them.
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PgLogLevel {
    DEBUG5 = 10,
    DEBUG4 = 11,
    DEBUG3 = 12,
    DEBUG2 = 13,
    DEBUG1 = 14,
    LOG = 15,
    LOG_SERVER_ONLY = 16,
    INFO = 17,
    NOTICE = 18,
    WARNING = 19,
    ERROR = 21,
    FATAL = 22,
    PANIC = 23,
}

/// From elog.h's value; an unknown one is ERROR, as in pgrx.
impl From<isize> for PgLogLevel {
    fn from(level: isize) -> Self {
        use PgLogLevel::*;
        [
            DEBUG5,
            DEBUG4,
            DEBUG3,
            DEBUG2,
            DEBUG1,
            LOG,
            LOG_SERVER_ONLY,
            INFO,
            NOTICE,
            WARNING,
            ERROR,
            FATAL,
            PANIC,
        ]
        .into_iter()
        .find(|l| *l as isize == level)
        .unwrap_or(ERROR)
    }
}

impl From<i32> for PgLogLevel {
    fn from(level: i32) -> Self {
        PgLogLevel::from(level as isize)
    }
}

/// Emit a message below ERROR.  Its CONTEXT line says the body's line
/// of the macro that emitted it (`#[track_caller]` from the macro's call
/// site).
#[track_caller]
pub fn emit(level: LogLevel, sqlstate: Option<[u8; 5]>, message: &str, detail: Option<&str>) {
    upcall(&Upcall::Log {
        level,
        report: ErrorReport {
            detail,
            line: body_line(std::panic::Location::caller()),
            ..ErrorReport::new(sqlstate, message)
        }
        .bounded(),
    });
}

/// End the call with an ERROR.  The panic's location, which the CONTEXT
/// line tells as a line of the body, is the caller's (the macro's call
/// site).
#[track_caller]
pub fn raise(sqlstate: Option<[u8; 5]>, message: String, detail: Option<String>) -> ! {
    std::panic::panic_any(RaisedError {
        sqlstate,
        message,
        detail,
        hint: None,
        origin: None,
    })
}

/// `ereport!`: a message, or an ERROR at ERROR and (refused) above.
#[track_caller]
pub fn ereport(level: PgLogLevel, code: PgSqlErrorCode, message: &str, detail: Option<&str>) {
    let sqlstate = Some(code.sqlstate());
    let level = match level {
        PgLogLevel::DEBUG5 => LogLevel::Debug5,
        PgLogLevel::DEBUG4 => LogLevel::Debug4,
        PgLogLevel::DEBUG3 => LogLevel::Debug3,
        PgLogLevel::DEBUG2 => LogLevel::Debug2,
        PgLogLevel::DEBUG1 => LogLevel::Debug1,
        PgLogLevel::LOG | PgLogLevel::LOG_SERVER_ONLY => LogLevel::Log,
        PgLogLevel::INFO => LogLevel::Info,
        PgLogLevel::NOTICE => LogLevel::Notice,
        PgLogLevel::WARNING => LogLevel::Warning,
        PgLogLevel::ERROR => raise(sqlstate, message.to_string(), detail.map(str::to_string)),
        refused @ (PgLogLevel::FATAL | PgLogLevel::PANIC) => std::panic::panic_any(RaisedError {
            sqlstate: Some(*b"42501"),
            message: format!("plrust functions cannot raise {refused:?}: {message}"),
            detail: Some("A plrust function can end its own call with an ERROR, never the session or the server.".into()),
            hint: Some("Use ereport!(PgLogLevel::ERROR, ...) or error!().".into()),
            origin: None,
        }),
    };
    emit(level, sqlstate, message, detail);
}

#[doc(hidden)]
#[macro_export]
macro_rules! __plrust_log {
    ($level:ident, $($arg:tt)*) => {
        $crate::log::emit($crate::__private::LogLevel::$level, None, &$crate::__private::format!($($arg)*), None)
    };
}

#[macro_export]
macro_rules! debug5 { ($($arg:tt)*) => { $crate::__plrust_log!(Debug5, $($arg)*) }; }
#[macro_export]
macro_rules! debug4 { ($($arg:tt)*) => { $crate::__plrust_log!(Debug4, $($arg)*) }; }
#[macro_export]
macro_rules! debug3 { ($($arg:tt)*) => { $crate::__plrust_log!(Debug3, $($arg)*) }; }
#[macro_export]
macro_rules! debug2 { ($($arg:tt)*) => { $crate::__plrust_log!(Debug2, $($arg)*) }; }
#[macro_export]
macro_rules! debug1 { ($($arg:tt)*) => { $crate::__plrust_log!(Debug1, $($arg)*) }; }
#[macro_export]
macro_rules! log { ($($arg:tt)*) => { $crate::__plrust_log!(Log, $($arg)*) }; }
#[macro_export]
macro_rules! info { ($($arg:tt)*) => { $crate::__plrust_log!(Info, $($arg)*) }; }
#[macro_export]
macro_rules! notice { ($($arg:tt)*) => { $crate::__plrust_log!(Notice, $($arg)*) }; }
#[macro_export]
macro_rules! warning { ($($arg:tt)*) => { $crate::__plrust_log!(Warning, $($arg)*) }; }

/// Raise an ERROR (SQLSTATE XX000, like pgrx's `error!`); never returns.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => {
        $crate::log::raise(Some(*b"XX000"), $crate::__private::format!($($arg)*), None)
    };
}

/// `ereport!(level, code, message [, detail])`.  The level is a
/// `PgLogLevel`, or, as pgrx's macro also takes it, one of the bare names
/// `ERROR`, `WARNING`, ...; `ereport!(ERROR, ...)` never returns.
#[macro_export]
macro_rules! ereport {
    (ERROR, $code:expr, $message:expr $(, $detail:expr)? $(,)?) => {{
        $crate::ereport!($crate::log::PgLogLevel::ERROR, $code, $message $(, $detail)?);
        ::core::unreachable!("ereport!(ERROR) returned")
    }};
    (FATAL, $code:expr, $message:expr $(, $detail:expr)? $(,)?) => {{
        $crate::ereport!($crate::log::PgLogLevel::FATAL, $code, $message $(, $detail)?);
        ::core::unreachable!("ereport!(FATAL) returned")
    }};
    (PANIC, $code:expr, $message:expr $(, $detail:expr)? $(,)?) => {{
        $crate::ereport!($crate::log::PgLogLevel::PANIC, $code, $message $(, $detail)?);
        ::core::unreachable!("ereport!(PANIC) returned")
    }};
    (WARNING, $code:expr, $message:expr $(, $detail:expr)? $(,)?) => {
        $crate::ereport!($crate::log::PgLogLevel::WARNING, $code, $message $(, $detail)?)
    };
    (NOTICE, $code:expr, $message:expr $(, $detail:expr)? $(,)?) => {
        $crate::ereport!($crate::log::PgLogLevel::NOTICE, $code, $message $(, $detail)?)
    };
    (INFO, $code:expr, $message:expr $(, $detail:expr)? $(,)?) => {
        $crate::ereport!($crate::log::PgLogLevel::INFO, $code, $message $(, $detail)?)
    };
    (LOG, $code:expr, $message:expr $(, $detail:expr)? $(,)?) => {
        $crate::ereport!($crate::log::PgLogLevel::LOG, $code, $message $(, $detail)?)
    };
    (DEBUG1, $code:expr, $message:expr $(, $detail:expr)? $(,)?) => {
        $crate::ereport!($crate::log::PgLogLevel::DEBUG1, $code, $message $(, $detail)?)
    };
    (DEBUG2, $code:expr, $message:expr $(, $detail:expr)? $(,)?) => {
        $crate::ereport!($crate::log::PgLogLevel::DEBUG2, $code, $message $(, $detail)?)
    };
    (DEBUG3, $code:expr, $message:expr $(, $detail:expr)? $(,)?) => {
        $crate::ereport!($crate::log::PgLogLevel::DEBUG3, $code, $message $(, $detail)?)
    };
    (DEBUG4, $code:expr, $message:expr $(, $detail:expr)? $(,)?) => {
        $crate::ereport!($crate::log::PgLogLevel::DEBUG4, $code, $message $(, $detail)?)
    };
    (DEBUG5, $code:expr, $message:expr $(, $detail:expr)? $(,)?) => {
        $crate::ereport!($crate::log::PgLogLevel::DEBUG5, $code, $message $(, $detail)?)
    };
    ($level:expr, $code:expr, $message:expr $(,)?) => {
        $crate::log::ereport(
            $level,
            $code,
            &$crate::__private::ToString::to_string(&$message),
            None,
        )
    };
    ($level:expr, $code:expr, $message:expr, $detail:expr $(,)?) => {
        $crate::log::ereport(
            $level,
            $code,
            &$crate::__private::ToString::to_string(&$message),
            Some(&$crate::__private::ToString::to_string(&$detail)),
        )
    };
}

#[cfg(test)]
mod tests {
    use super::PgLogLevel;

    #[test]
    fn levels_have_elogs_values_and_order() {
        assert_eq!(PgLogLevel::from(21), PgLogLevel::ERROR);
        assert_eq!(PgLogLevel::from(18isize), PgLogLevel::NOTICE);
        assert_eq!(PgLogLevel::from(99), PgLogLevel::ERROR);
        assert!(PgLogLevel::WARNING < PgLogLevel::ERROR);
        assert!(PgLogLevel::DEBUG5 < PgLogLevel::DEBUG1);
    }
}
