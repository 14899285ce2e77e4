//! date, time, timetz, timestamp, timestamptz and interval.
//!
//! Each keeps PostgreSQL's own integer representation (days or
//! microseconds since 2000-01-01), so every value round-trips bit for bit,
//! infinities included.  The calendar arithmetic is PostgreSQL's own
//! (date2j/j2date, proleptic Gregorian over Julian day numbers): it is what
//! decides the text PostgreSQL prints, and it covers the whole range
//! PostgreSQL does (4714-11-24 BC to 5874897 AD for dates), which the
//! `time` crate's calendar (at most ±999999 years) does not.
//!
//! One file per concern: `date.rs`, `time.rs` (time, timetz),
//! `timestamp.rs`, `interval.rs` (the types); `arith.rs` (operators across
//! them, interval * float8, age), `convert.rs` (casts), `parts.rs`
//! (DateTimeParts, date_trunc, ISO text), `parse.rs` (ISO input) and
//! `session.rs`: what reads the session's TimeZone or IntervalStyle
//! (timestamptz casts, truncation and age, EXTRACT, interval input) runs
//! as SQL in the calling backend, which has them.

use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::ops::{Add, Neg, Sub};
use core::str::FromStr;

use super::oids::{DATEOID, INTERVALOID, TIMEOID, TIMESTAMPOID, TIMESTAMPTZOID, TIMETZOID};
use super::reader::Reader;
use super::{datum, expect_oid, Datum, FromDatum, IntoDatum, TryFromDatumError, TypeOid};

mod arith;
mod convert;
mod interval;
mod parse;
mod parts;
mod session;

pub use interval::Interval;
pub use parts::{DateTimeParts, HasExtractableParts, ToIsoString};

const POSTGRES_EPOCH_JDATE: i64 = 2_451_545;
const UNIX_EPOCH_JDATE: i64 = 2_440_588;
const USECS_PER_SEC: i64 = 1_000_000;
const USECS_PER_MINUTE: i64 = 60 * USECS_PER_SEC;
const USECS_PER_HOUR: i64 = 60 * USECS_PER_MINUTE;
const USECS_PER_DAY: i64 = 24 * USECS_PER_HOUR;
/// Dates PostgreSQL accepts: Julian day 0 up to (excluding) DATE_END_JULIAN.
const DATE_MIN: i64 = -POSTGRES_EPOCH_JDATE;
const DATE_END: i64 = 2_147_483_494 - POSTGRES_EPOCH_JDATE;
const TIMESTAMP_MIN: i64 = -211_813_488_000_000_000;
const TIMESTAMP_END: i64 = 9_223_371_331_200_000_000;
/// timetz zones must lie strictly within ±(15+1) hours.
const TZDISP_LIMIT: i32 = 16 * 3600;
const UNIX_EPOCH_OFFSET_DAYS: i64 = POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateTimeConversionError {
    /// A field (month 13, minute 60, year 0) is not valid.
    FieldOverflow,
    InvalidFormat,
    UnknownTimezone(String),
    /// An interval that is not a time zone offset (months or days in it,
    /// or beyond ±15:59:59).
    InvalidTimezoneOffset(Interval),
    CannotParseTimezone,
    /// The value is outside the range PostgreSQL supports.
    OutOfRange,
}

impl fmt::Display for DateTimeConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateTimeConversionError::FieldOverflow => {
                f.write_str("date/time field value out of range")
            }
            DateTimeConversionError::InvalidFormat => {
                f.write_str("invalid input syntax for date/time")
            }
            DateTimeConversionError::UnknownTimezone(tz) => {
                write!(f, "time zone \"{tz}\" not recognized")
            }
            DateTimeConversionError::InvalidTimezoneOffset(offset) => {
                write!(
                    f,
                    "interval time zone \"{offset}\" is not a valid time zone offset"
                )
            }
            DateTimeConversionError::CannotParseTimezone => f.write_str("cannot parse time zone"),
            DateTimeConversionError::OutOfRange => f.write_str("date/time value out of range"),
        }
    }
}

impl std::error::Error for DateTimeConversionError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntervalConversionError {
    /// A `Duration` of more than `i32::MAX` months of 30 days.
    DurationMonthsOutOfBounds,
    /// Parts of one interval with opposite signs (`Interval::from`).
    MismatchedSigns,
    /// A negative interval asked for as a `Duration`.
    NegativeInterval,
    /// An interval longer than a `Duration` of `u64` microseconds.
    IntervalTooLarge,
    /// The fields overflow PostgreSQL's interval ("interval out of range").
    OutOfRange,
}

impl fmt::Display for IntervalConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IntervalConversionError::DurationMonthsOutOfBounds => {
                "duration's total month count outside of valid i32::MIN..=i32::MAX range"
            }
            IntervalConversionError::MismatchedSigns => {
                "Interval parts must all have the same sign"
            }
            IntervalConversionError::NegativeInterval => {
                "Negative Intervals cannot be converted into Durations"
            }
            IntervalConversionError::IntervalTooLarge => {
                "Interval overflows Duration's u64 micros constructor"
            }
            IntervalConversionError::OutOfRange => "interval out of range",
        })
    }
}

impl std::error::Error for IntervalConversionError {}

/// Ends the call with an ERROR of PostgreSQL's own SQLSTATE and message,
/// as the backend function would have: these operators and conversions
/// return plain values (pgrx's signatures), so an ERROR is their only way
/// to fail.
#[track_caller]
fn sql_error(code: crate::errcodes::PgSqlErrorCode, message: &str) -> ! {
    crate::log::raise(Some(code.sqlstate()), message.to_string(), None)
}

#[track_caller]
fn out_of_range(what: &str) -> ! {
    sql_error(
        crate::errcodes::PgSqlErrorCode::ERRCODE_DATETIME_VALUE_OUT_OF_RANGE,
        &format!("{what} out of range"),
    )
}

/// PostgreSQL's date2j, widened so that no input can overflow.
fn date2j(y: i64, m: i64, d: i64) -> i64 {
    let (m, y) = if m > 2 {
        (m + 1, y + 4800)
    } else {
        (m + 13, y + 4799)
    };
    let century = y.div_euclid(100);
    let mut julian = y * 365 - 32167;
    julian += y.div_euclid(4) - century + century.div_euclid(4);
    julian + 7834 * m / 256 + d
}

/// PostgreSQL's j2date, in its unsigned arithmetic so that it gives the
/// same answer for every input (and never panics): (astronomical year,
/// month, day).
fn j2date(jd: i64) -> (i32, u8, u8) {
    let mut julian = jd as u32;
    julian = julian.wrapping_add(32044);
    let mut quad = julian / 146_097;
    let extra = julian
        .wrapping_sub(quad.wrapping_mul(146_097))
        .wrapping_mul(4)
        .wrapping_add(3);
    julian = julian
        .wrapping_add(60)
        .wrapping_add(quad.wrapping_mul(3))
        .wrapping_add(extra / 146_097);
    quad = julian / 1461;
    julian = julian.wrapping_sub(quad.wrapping_mul(1461));
    let mut y = julian.wrapping_mul(4) / 1461;
    julian = if y != 0 {
        (julian + 305) % 365
    } else {
        (julian + 306) % 366
    } + 123;
    y = y.wrapping_add(quad.wrapping_mul(4));
    let year = (y as i32).wrapping_sub(4800);
    let quad = julian.wrapping_mul(2141) / 65536;
    let day = julian.wrapping_sub(7834u32.wrapping_mul(quad) / 256);
    let month = (quad + 10) % 12 + 1;
    (year, month as u8, day as u8)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A SQL year (negative for BC, no year 0) as the astronomical year the
/// calendar code counts in (1 BC = 0).
fn astronomical(year: i32) -> Result<i64, DateTimeConversionError> {
    match year {
        0 => Err(DateTimeConversionError::FieldOverflow),
        y if y < 0 => Ok(i64::from(y) + 1),
        y => Ok(i64::from(y)),
    }
}

/// Astronomical back to SQL's: extract(year) gives -44 for 44 BC.
fn sql_year(astro: i32) -> i32 {
    if astro > 0 {
        astro
    } else {
        astro - 1
    }
}

/// Days since 2000-01-01 of a validated calendar date.
fn pg_days(year: i32, month: u8, day: u8) -> Result<i64, DateTimeConversionError> {
    let y = astronomical(year)?;
    let (m, d) = (i64::from(month), i64::from(day));
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return Err(DateTimeConversionError::FieldOverflow);
    }
    let days = date2j(y, m, d) - POSTGRES_EPOCH_JDATE;
    if (DATE_MIN..DATE_END).contains(&days) {
        Ok(days)
    } else {
        Err(DateTimeConversionError::OutOfRange)
    }
}

/// The ERROR PostgreSQL's make_date/make_time/make_timestamp raise for
/// what `new` refuses.
#[track_caller]
fn date_error(e: DateTimeConversionError, what: &str) -> ! {
    use crate::errcodes::PgSqlErrorCode as C;
    match e {
        DateTimeConversionError::FieldOverflow => sql_error(
            C::ERRCODE_DATETIME_FIELD_OVERFLOW,
            "date/time field value out of range",
        ),
        _ => out_of_range(what),
    }
}

/// make_time's validation and rounding (seconds to the nearest
/// microsecond, ties to even as rint()); 24:00:00 is allowed.
fn time_micros(hour: u8, minute: u8, second: f64) -> Result<i64, DateTimeConversionError> {
    let usec = (second * USECS_PER_SEC as f64).round_ties_even();
    if hour > 24 || minute > 59 || !(0.0..=(60 * USECS_PER_SEC) as f64).contains(&usec) {
        return Err(DateTimeConversionError::FieldOverflow);
    }
    // In range, so exactly representable.
    let usec = usec as i64;
    let t = (i64::from(hour) * 60 + i64::from(minute)) * USECS_PER_MINUTE + usec;
    if t > USECS_PER_DAY {
        return Err(DateTimeConversionError::FieldOverflow);
    }
    Ok(t)
}

/// Appends `HH:MM:SS[.ffffff]` with trailing fraction zeros dropped, as
/// PostgreSQL's EncodeTimeOnly/AppendSeconds.
fn write_hms(f: &mut fmt::Formatter<'_>, micros_of_day: i64) -> fmt::Result {
    let hour = micros_of_day / USECS_PER_HOUR;
    let rest = micros_of_day - hour * USECS_PER_HOUR;
    let min = rest / USECS_PER_MINUTE;
    let rest = rest - min * USECS_PER_MINUTE;
    write!(f, "{hour:02}:{min:02}:")?;
    write_seconds(f, rest)
}

fn write_seconds(f: &mut fmt::Formatter<'_>, micros: i64) -> fmt::Result {
    let micros = micros.unsigned_abs();
    let sec = micros / 1_000_000;
    let frac = micros % 1_000_000;
    write!(f, "{sec:02}")?;
    if frac != 0 {
        let digits = format!("{frac:06}");
        write!(f, ".{}", digits.trim_end_matches('0'))?;
    }
    Ok(())
}

/// EncodeTimezone: `tz` is seconds WEST of UTC, shown as an offset east.
fn write_zone(f: &mut fmt::Formatter<'_>, tz: i32) -> fmt::Result {
    let secs = tz.unsigned_abs();
    let (hour, min, sec) = (secs / 3600, secs / 60 % 60, secs % 60);
    f.write_str(if tz <= 0 { "+" } else { "-" })?;
    if sec != 0 {
        write!(f, "{hour:02}:{min:02}:{sec:02}")
    } else if min != 0 {
        write!(f, "{hour:02}:{min:02}")
    } else {
        write!(f, "{hour:02}")
    }
}

/// `YYYY-MM-DD` (at least four year digits) of an astronomical year.
fn write_ymd(f: &mut fmt::Formatter<'_>, (y, m, d): (i32, u8, u8)) -> fmt::Result {
    let shown = if y > 0 {
        i64::from(y)
    } else {
        1 - i64::from(y)
    };
    write!(f, "{shown:04}-{m:02}-{d:02}")
}

fn write_bc(f: &mut fmt::Formatter<'_>, y: i32) -> fmt::Result {
    if y <= 0 {
        f.write_str(" BC")?;
    }
    Ok(())
}

macro_rules! scalar_datum {
    ($t:ident, $oid:expr, $read:ident, $valid:expr) => {
        impl FromDatum for $t {
            fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
                expect_oid::<$t>(oid, &[$oid])?;
                let mut r = Reader::new(bytes, stringify!($t));
                let raw = r.$read()?;
                r.finish()?;
                let valid: fn(i64) -> bool = $valid;
                if !valid(i64::from(raw)) {
                    return Err(TryFromDatumError::Malformed {
                        rust_type: stringify!($t),
                        why: format!("{raw} is out of range"),
                    });
                }
                Ok($t(raw))
            }
        }

        impl IntoDatum for $t {
            fn into_datum(self) -> Option<Datum> {
                datum($oid, self.0.to_be_bytes().to_vec())
            }
            fn type_oid() -> TypeOid {
                $oid
            }
        }
    };
}

// After the macro, which they use.
mod date;
mod time;
mod timestamp;

pub use date::Date;
pub use time::{Time, TimeWithTimeZone};
use timestamp::{make_timestamp, split_timestamp, valid_finite, valid_timestamp};
pub use timestamp::{Timestamp, TimestampWithTimeZone};

#[cfg(test)]
mod tests;
