//! The current time as the calling backend sees it (pgrx's
//! `datetime_support::ctor`): `now()`, `CURRENT_TIMESTAMP`,
//! `LOCALTIMESTAMP` and the others, and a zone's offset now.
//!
//! They depend on the caller's transaction (its start time), statement
//! and session (TimeZone), which only the backend knows, so each asks it
//! with one SPI query; every name in those queries is a keyword or
//! schema-qualified, so the caller's search_path cannot redirect them.
//! `to_timestamp(f64)` depends on nothing and is computed here, as
//! float8_timestamptz does.

use super::{Date, DateTimeConversionError, FromDatum, IntoDatum, PgBuiltInOids};
use super::{Timestamp, TimestampWithTimeZone};
use crate::log::raise;
use crate::report::as_raised;
use crate::spi::{Spi, SpiError};

/// The precision of `current_timestamp`/`local_timestamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampPrecision {
    /// All six fractional digits.
    Full,
    /// Rounded to this many fractional digits (0 to 6).
    Rounded(i32),
}

/// The typmod PostgreSQL's GetSQLCurrentTimestamp takes: -1 for full.
impl From<TimestampPrecision> for i32 {
    fn from(value: TimestampPrecision) -> i32 {
        match value {
            TimestampPrecision::Full => -1,
            TimestampPrecision::Rounded(p) => p,
        }
    }
}

/// The one value `query` returns.  An SQL error (a cancel never comes
/// back: the backend ends the call) ends the call as the ERROR it was.
#[track_caller]
fn ask<T: FromDatum>(query: &str) -> T {
    match Spi::get_one::<T>(query) {
        Ok(Some(v)) => v,
        Ok(None) => panic!("plrust: `{query}` returned NULL"),
        Err(e) => raise_again(query, e),
    }
}

#[track_caller]
fn raise_again(query: &str, e: SpiError) -> ! {
    match as_raised(&e) {
        Some(raised) => std::panic::panic_any(raised),
        None => panic!("plrust: `{query}`: {e}"),
    }
}

/// SQL for `keyword` (CURRENT_TIMESTAMP, LOCALTIMESTAMP) at `precision`,
/// or the ERROR PostgreSQL raises for it.  A typmod below 0 is full
/// precision (GetSQLCurrentTimestamp rounds only for typmod >= 0); above
/// 6, AdjustTimestampForTypmod refuses it.  (The SQL form itself would
/// only warn and use 6, so that case is checked here.)
#[track_caller]
fn with_precision(keyword: &str, precision: TimestampPrecision) -> String {
    match i32::from(precision) {
        p if p < 0 => format!("SELECT {keyword}"),
        p @ 0..=6 => format!("SELECT {keyword}({p})"),
        p => raise(
            Some(*b"22023"),
            format!("timestamp({p}) precision must be between 0 and 6"),
            None,
        ),
    }
}

/// The start of the current transaction (`now()`).
#[track_caller]
pub fn now() -> TimestampWithTimeZone {
    ask("SELECT pg_catalog.now()")
}

/// The same as `now()`.
#[track_caller]
pub fn transaction_timestamp() -> TimestampWithTimeZone {
    ask("SELECT pg_catalog.transaction_timestamp()")
}

/// The start of the client's current statement (SPI queries a body runs
/// are not statements of their own: their backend's clock says so too).
#[track_caller]
pub fn statement_timestamp() -> TimestampWithTimeZone {
    ask("SELECT pg_catalog.statement_timestamp()")
}

/// The backend's clock now (changes during a statement).
#[track_caller]
pub fn clock_timestamp() -> TimestampWithTimeZone {
    ask("SELECT pg_catalog.clock_timestamp()")
}

/// `CURRENT_DATE`: the transaction's start, as a date in the session's
/// TimeZone.
#[track_caller]
pub fn current_date() -> Date {
    ask("SELECT CURRENT_DATE")
}

/// pgrx 0.11 declares this returning `Date`, and computes the same as
/// `current_date()` (its `current_timestamp(Full).into()`): so does this,
/// for bodies written against it.  `CURRENT_TIME` itself is a `timetz`;
/// ask `Spi` for it when that is what is meant.
#[track_caller]
pub fn current_time() -> Date {
    current_date()
}

/// `CURRENT_TIMESTAMP` / `CURRENT_TIMESTAMP(p)`: the transaction's start,
/// rounded.
#[track_caller]
pub fn current_timestamp(precision: TimestampPrecision) -> TimestampWithTimeZone {
    ask(&with_precision("CURRENT_TIMESTAMP", precision))
}

/// `LOCALTIMESTAMP` / `LOCALTIMESTAMP(p)`: the transaction's start in the
/// session's TimeZone, without a zone, rounded.
#[track_caller]
pub fn local_timestamp(precision: TimestampPrecision) -> Timestamp {
    ask(&with_precision("LOCALTIMESTAMP", precision))
}

/// `timeofday()`: the backend's clock as text, in the session's TimeZone.
#[track_caller]
pub fn time_of_day() -> String {
    ask("SELECT pg_catalog.timeofday()")
}

/// The offset from UTC, in seconds east, that `zone` (an abbreviation
/// such as `CEST`, or a name such as `Europe/Paris`) has at the start of
/// the current transaction.  PostgreSQL resolves the zone exactly as for
/// `AT TIME ZONE`: abbreviations first (in the session's
/// timezone_abbreviations), then zone names.
pub fn get_timezone_offset<Tz: AsRef<str>>(zone: Tz) -> Result<i32, DateTimeConversionError> {
    let zone = zone.as_ref();
    const QUERY: &str = "SELECT pg_catalog.timezone($1, pg_catalog.now()), pg_catalog.now()";
    let args = vec![(PgBuiltInOids::TEXTOID.oid(), zone.into_datum())];
    match Spi::get_two_with_args::<Timestamp, TimestampWithTimeZone>(QUERY, args) {
        Ok((Some(local), Some(utc))) => {
            let east = (local.to_pg_epoch_micros() - utc.to_pg_epoch_micros()) / 1_000_000;
            i32::try_from(east).map_err(|_| DateTimeConversionError::FieldOverflow)
        }
        Ok(_) => panic!("plrust: `{QUERY}` returned NULL"),
        // invalid_parameter_value: `time zone "x" not recognized`.
        Err(SpiError::Sql { sqlstate, .. }) if &sqlstate == b"22023" => {
            Err(DateTimeConversionError::UnknownTimezone(zone.to_string()))
        }
        // datetime_field_overflow / datetime_value_out_of_range: the
        // zone's rules cannot place the time (timestamp2tm failed).
        Err(SpiError::Sql { sqlstate, .. }) if &sqlstate == b"22008" => {
            Err(DateTimeConversionError::FieldOverflow)
        }
        Err(e) => raise_again(QUERY, e),
    }
}

/// Days from the Julian day 0 to the Unix epoch and to PostgreSQL's.
const UNIX_EPOCH_JDATE: f64 = 2_440_588.0;
const POSTGRES_EPOCH_JDATE: f64 = 2_451_545.0;
/// Timestamps end before this Julian day (TIMESTAMP_END_JULIAN).
const TIMESTAMP_END_JULIAN: f64 = 109_203_528.0;
/// The valid microseconds since 2000-01-01 (MIN_TIMESTAMP..END_TIMESTAMP).
const MIN_TIMESTAMP: i64 = -211_813_488_000_000_000;
const END_TIMESTAMP: i64 = 9_223_371_331_200_000_000;
const SECS_PER_DAY: f64 = 86_400.0;

/// `to_timestamp(double precision)`: seconds since 1970-01-01 00:00:00+00,
/// as float8_timestamptz computes it (same bounds, same rounding to the
/// microsecond, half to even as rint does; ±infinity are the infinite
/// timestamps).  NaN and values out of range are the ERRORs it raises.
#[track_caller]
pub fn to_timestamp(epoch_seconds: f64) -> TimestampWithTimeZone {
    match epoch_micros(epoch_seconds) {
        Ok(t) => t,
        Err(message) => raise(Some(*b"22008"), message, None),
    }
}

fn epoch_micros(seconds: f64) -> Result<TimestampWithTimeZone, String> {
    if seconds.is_nan() {
        return Err("timestamp cannot be NaN".into());
    }
    if seconds.is_infinite() {
        return Ok(if seconds < 0.0 {
            TimestampWithTimeZone::negative_infinity()
        } else {
            TimestampWithTimeZone::positive_infinity()
        });
    }
    let out_of_range = || format!("timestamp out of range: \"{}\"", c_format_g(seconds));
    // From Julian day 0 (DATETIME_MIN_JULIAN) to TIMESTAMP_END_JULIAN.
    let valid = SECS_PER_DAY * (0.0 - UNIX_EPOCH_JDATE)
        ..SECS_PER_DAY * (TIMESTAMP_END_JULIAN - UNIX_EPOCH_JDATE);
    if !valid.contains(&seconds) {
        return Err(out_of_range());
    }
    let pg_seconds = seconds - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
    // The bounds above keep this well inside i64 (the cast cannot saturate).
    let micros = (pg_seconds * 1_000_000.0).round_ties_even() as i64;
    if !(MIN_TIMESTAMP..END_TIMESTAMP).contains(&micros) {
        return Err(out_of_range());
    }
    Ok(TimestampWithTimeZone::from_pg_epoch_micros(micros))
}

/// C's `%g` of a finite value (six significant digits, trailing zeros
/// dropped, an exponent below 1e-4 and from 1e6 on), for PostgreSQL's
/// message texts.
fn c_format_g(x: f64) -> String {
    let sci = format!("{x:.5e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e}'s exponent is a number");
    let trim = |s: &str| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if (-4..6).contains(&exp) {
        let decimals = usize::try_from(5 - exp).unwrap_or(0);
        trim(&format!("{x:.decimals$}"))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mantissa), exp.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_is_a_typmod() {
        assert_eq!(i32::from(TimestampPrecision::Full), -1);
        assert_eq!(i32::from(TimestampPrecision::Rounded(3)), 3);
        assert_eq!(
            with_precision("CURRENT_TIMESTAMP", TimestampPrecision::Full),
            "SELECT CURRENT_TIMESTAMP"
        );
        assert_eq!(
            with_precision("LOCALTIMESTAMP", TimestampPrecision::Rounded(-5)),
            "SELECT LOCALTIMESTAMP"
        );
        assert_eq!(
            with_precision("LOCALTIMESTAMP", TimestampPrecision::Rounded(0)),
            "SELECT LOCALTIMESTAMP(0)"
        );
        let p = std::panic::catch_unwind(|| {
            with_precision("CURRENT_TIMESTAMP", TimestampPrecision::Rounded(7))
        })
        .unwrap_err();
        let e = p.downcast::<crate::entry::RaisedError>().unwrap();
        assert_eq!(
            (e.sqlstate, e.message.as_str()),
            (
                Some(*b"22023"),
                "timestamp(7) precision must be between 0 and 6"
            )
        );
    }

    /// Pinned against PostgreSQL 15: `SELECT to_timestamp(x)` with
    /// TimeZone UTC, and its errors.
    #[test]
    fn to_timestamp_as_float8_timestamptz() {
        let text = |x: f64| epoch_micros(x).map(|t| t.to_string());
        let utc = |x: f64| epoch_micros(x).unwrap().to_unix_micros().expect("finite");
        assert_eq!(utc(0.0), 0);
        assert_eq!(utc(1.5), 1_500_000);
        assert_eq!(utc(-1.5), -1_500_000);
        // 1234567890.123456789 rounds to the microsecond.
        assert_eq!(utc(1_234_567_890.123_456_7), 1_234_567_890_123_457);
        assert!(epoch_micros(f64::INFINITY).unwrap().is_infinity());
        assert!(epoch_micros(f64::NEG_INFINITY).unwrap().is_neg_infinity());
        assert_eq!(text(f64::NAN).unwrap_err(), "timestamp cannot be NaN");
        // The first second of 4714-11-24 BC and the last of 294276 AD.
        assert!(epoch_micros(-210_866_803_200.0).is_ok());
        assert_eq!(
            text(-210_866_803_200.5).unwrap_err(),
            "timestamp out of range: \"-2.10867e+11\""
        );
        assert!(epoch_micros(9_224_318_015_999.0).is_ok());
        assert_eq!(
            text(9_224_318_016_000.0).unwrap_err(),
            "timestamp out of range: \"9.22432e+12\""
        );
    }

    #[test]
    fn c_g_format() {
        for (x, g) in [
            (0.0, "0"),
            (1.5, "1.5"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (123456.7, "123457"),
            (0.0001, "0.0001"),
            (0.00001234, "1.234e-05"),
            (-2.5e300, "-2.5e+300"),
            (9_224_318_016_000.0, "9.22432e+12"),
        ] {
            assert_eq!(c_format_g(x), g, "{x}");
        }
    }
}
