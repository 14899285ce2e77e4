//! date, time, timetz, timestamp, timestamptz and interval.
//!
//! Each keeps PostgreSQL's own integer representation (days or
//! microseconds since 2000-01-01), so every value round-trips bit for bit,
//! infinities included.  The calendar arithmetic is PostgreSQL's own
//! (date2j/j2date, proleptic Gregorian over Julian day numbers): it is what
//! decides the text PostgreSQL prints, and it covers the whole range
//! PostgreSQL does (4714-11-24 BC to 5874897 AD for dates), which the
//! `time` crate's calendar (at most ±999999 years) does not.

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

// ---------------------------------------------------------------- date

/// SQL `date`: days since 2000-01-01; `i32::MAX`/`MIN` are ±infinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(i32);

scalar_datum!(Date, DATEOID, i32, |d| d == i64::from(i32::MAX)
    || d == i64::from(i32::MIN)
    || (DATE_MIN..DATE_END).contains(&d));

impl Date {
    /// `year` as SQL counts it: negative for BC, no year 0.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Date, DateTimeConversionError> {
        let days = pg_days(year, month, day)?;
        i32::try_from(days)
            .map(Date)
            .map_err(|_| DateTimeConversionError::OutOfRange)
    }

    pub const fn from_pg_epoch_days(days: i32) -> Date {
        Date(days)
    }

    pub const fn to_pg_epoch_days(&self) -> i32 {
        self.0
    }

    pub fn from_unix_epoch_days(days: i32) -> Result<Date, DateTimeConversionError> {
        let d = i64::from(days) - UNIX_EPOCH_OFFSET_DAYS;
        if (DATE_MIN..DATE_END).contains(&d) {
            i32::try_from(d)
                .map(Date)
                .map_err(|_| DateTimeConversionError::OutOfRange)
        } else {
            Err(DateTimeConversionError::OutOfRange)
        }
    }

    /// As `new`, but an ERROR (as make_date's) for an invalid date, so no
    /// invalid `Date` can come of it.
    pub fn new_unchecked(year: isize, month: u8, day: u8) -> Date {
        let year = i32::try_from(year)
            .unwrap_or_else(|_| out_of_range(&format!("date field value {year}")));
        Date::new(year, month, day).unwrap_or_else(|e| date_error(e, "date"))
    }

    /// Days since 1970-01-01.  pgrx adds the offset even to the
    /// infinities (overflowing); here they stay `i32::MAX`/`MIN`.
    pub fn to_unix_epoch_days(&self) -> i32 {
        self.shifted(UNIX_EPOCH_OFFSET_DAYS)
    }

    /// The Julian day number (0 is 4714-11-24 BC); the infinities stay
    /// `i32::MAX`/`MIN`.
    pub fn to_julian_days(&self) -> i32 {
        self.shifted(POSTGRES_EPOCH_JDATE)
    }

    /// Finite dates lie within Julian days 0..2147483494, so any of
    /// these shifts fits in an i32.
    fn shifted(&self, by: i64) -> i32 {
        if self.is_finite() {
            (i64::from(self.0) + by) as i32
        } else {
            self.0
        }
    }

    pub const fn positive_infinity() -> Date {
        Date(i32::MAX)
    }

    pub const fn negative_infinity() -> Date {
        Date(i32::MIN)
    }

    pub const fn is_infinity(&self) -> bool {
        self.0 == i32::MAX
    }

    pub const fn is_neg_infinity(&self) -> bool {
        self.0 == i32::MIN
    }

    pub const fn is_finite(&self) -> bool {
        !self.is_infinity() && !self.is_neg_infinity()
    }

    fn ymd(&self) -> (i32, u8, u8) {
        j2date(i64::from(self.0) + POSTGRES_EPOCH_JDATE)
    }

    /// Negative for BC (as extract(year)); `i32::MAX`/`MIN` for ±infinity.
    pub fn year(&self) -> i32 {
        match (self.is_infinity(), self.is_neg_infinity()) {
            (true, _) => i32::MAX,
            (_, true) => i32::MIN,
            _ => sql_year(self.ymd().0),
        }
    }

    /// 0 for the infinities.
    pub fn month(&self) -> u8 {
        if self.is_finite() {
            self.ymd().1
        } else {
            0
        }
    }

    /// 0 for the infinities.
    pub fn day(&self) -> u8 {
        if self.is_finite() {
            self.ymd().2
        } else {
            0
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_infinity() {
            return f.write_str("infinity");
        }
        if self.is_neg_infinity() {
            return f.write_str("-infinity");
        }
        let ymd = self.ymd();
        write_ymd(f, ymd)?;
        write_bc(f, ymd.0)
    }
}

/// date + integer, as PostgreSQL: infinities stay put, and leaving the
/// supported range is an ERROR (a panic here).
impl Add<i32> for Date {
    type Output = Date;
    fn add(self, days: i32) -> Date {
        if !self.is_finite() {
            return self;
        }
        let d = i64::from(self.0) + i64::from(days);
        match i32::try_from(d) {
            Ok(d) if (DATE_MIN..DATE_END).contains(&i64::from(d)) => Date(d),
            _ => out_of_range("date"),
        }
    }
}

impl Sub<i32> for Date {
    type Output = Date;
    fn sub(self, days: i32) -> Date {
        if !self.is_finite() {
            return self;
        }
        self + i32::try_from(-i64::from(days)).unwrap_or_else(|_| out_of_range("date"))
    }
}

/// date - date: days between them (an ERROR for infinite dates).
impl Sub<Date> for Date {
    type Output = i32;
    fn sub(self, other: Date) -> i32 {
        if !self.is_finite() || !other.is_finite() {
            panic!("cannot subtract infinite dates");
        }
        // Both finite and in range, so the difference fits.
        i32::try_from(i64::from(self.0) - i64::from(other.0))
            .unwrap_or_else(|_| out_of_range("date"))
    }
}

// ---------------------------------------------------------------- time

/// SQL `time`: microseconds since midnight, 0 to 24:00:00 inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Time(i64);

scalar_datum!(Time, TIMEOID, i64, |t| (0..=USECS_PER_DAY).contains(&t));

macro_rules! hms_accessors {
    ($($field:tt)?) => {
        pub fn hour(&self) -> u8 {
            (self.micros_of_day() / USECS_PER_HOUR) as u8
        }
        pub fn minute(&self) -> u8 {
            (self.micros_of_day() / USECS_PER_MINUTE % 60) as u8
        }
        /// Seconds, with the fraction.
        pub fn second(&self) -> f64 {
            self.microseconds() as f64 / USECS_PER_SEC as f64
        }
        /// The seconds field in microseconds, whole seconds included
        /// (0 to 59999999), as pgrx.
        pub fn microseconds(&self) -> u32 {
            (self.micros_of_day() % USECS_PER_MINUTE) as u32
        }
        /// (hour, minute, whole seconds, `microseconds()`): the last is
        /// pgrx's, whole seconds included (13:45:07.5 gives 7500000).
        pub fn to_hms_micro(&self) -> (u8, u8, u8, u32) {
            let micros = self.microseconds();
            (
                self.hour(),
                self.minute(),
                (i64::from(micros) / USECS_PER_SEC) as u8,
                micros,
            )
        }
    };
}

impl Time {
    pub fn new(hour: u8, minute: u8, second: f64) -> Result<Time, DateTimeConversionError> {
        time_micros(hour, minute, second).map(Time)
    }

    /// As `new`, but an ERROR for invalid parts.
    pub fn new_unchecked(hour: u8, minute: u8, second: f64) -> Time {
        Time::new(hour, minute, second).unwrap_or_else(|e| date_error(e, "time"))
    }

    /// 00:00:00
    pub const ALLBALLS: Time = Time(0);

    pub fn from_micros(micros: i64) -> Result<Time, DateTimeConversionError> {
        if (0..=USECS_PER_DAY).contains(&micros) {
            Ok(Time(micros))
        } else {
            Err(DateTimeConversionError::OutOfRange)
        }
    }

    pub const fn to_micros(&self) -> i64 {
        self.0
    }

    fn micros_of_day(&self) -> i64 {
        self.0.clamp(0, USECS_PER_DAY)
    }

    hms_accessors!();
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hms(f, self.micros_of_day())
    }
}

/// SQL `timetz`: a time of day and a fixed zone offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeWithTimeZone {
    time: i64,
    /// Seconds WEST of UTC, as PostgreSQL stores it.
    zone: i32,
}

impl TimeWithTimeZone {
    /// A time in UTC.
    pub fn new(
        hour: u8,
        minute: u8,
        second: f64,
    ) -> Result<TimeWithTimeZone, DateTimeConversionError> {
        Ok(TimeWithTimeZone {
            time: time_micros(hour, minute, second)?,
            zone: 0,
        })
    }

    /// As `new`, but an ERROR for invalid parts.
    pub fn new_unchecked(hour: u8, minute: u8, second: f64) -> TimeWithTimeZone {
        TimeWithTimeZone::new(hour, minute, second).unwrap_or_else(|e| date_error(e, "time"))
    }

    /// pgrx's: the time `hour:minute:second` of `new` (UTC here, the
    /// session's zone in pgrx) moved to the zone `timezone_offset` east
    /// of UTC, as `AT TIME ZONE interval` (timetz_izone) moves it: (12, 0,
    /// 0, 2 hours) is 14:00:00+02.  The offset may hold neither months nor
    /// days, and must lie within ±15:59:59 (timetz's own limit).
    pub fn with_timezone_offset(
        hour: u8,
        minute: u8,
        second: f64,
        timezone_offset: Interval,
    ) -> Result<TimeWithTimeZone, DateTimeConversionError> {
        let utc = TimeWithTimeZone::new(hour, minute, second)?;
        let invalid = || DateTimeConversionError::InvalidTimezoneOffset(timezone_offset);
        if timezone_offset.months != 0 || timezone_offset.days != 0 {
            return Err(invalid());
        }
        // timetz_izone: whole seconds, truncated toward zero; west positive.
        let zone = i32::try_from(-(timezone_offset.micros / USECS_PER_SEC))
            .ok()
            .filter(|z| -TZDISP_LIMIT < *z && *z < TZDISP_LIMIT)
            .ok_or_else(invalid)?;
        Ok(utc.at_zone_west(zone))
    }

    /// The same instant at `zone` seconds west of UTC.
    pub(super) fn at_zone_west(&self, zone: i32) -> TimeWithTimeZone {
        let shifted = self.time + i64::from(self.zone - zone) * USECS_PER_SEC;
        TimeWithTimeZone {
            time: shifted.rem_euclid(USECS_PER_DAY),
            zone,
        }
    }

    /// A time at `offset_seconds` EAST of UTC (+05:30 is 19800), the
    /// reading kept as given.
    pub(super) fn at_offset(
        hour: u8,
        minute: u8,
        second: f64,
        offset_seconds: i32,
    ) -> Result<TimeWithTimeZone, DateTimeConversionError> {
        let zone = offset_seconds
            .checked_neg()
            .ok_or(DateTimeConversionError::CannotParseTimezone)?;
        if zone <= -TZDISP_LIMIT || zone >= TZDISP_LIMIT {
            return Err(DateTimeConversionError::CannotParseTimezone);
        }
        Ok(TimeWithTimeZone {
            time: time_micros(hour, minute, second)?,
            zone,
        })
    }

    /// Seconds EAST of UTC, as extract(timezone).
    pub fn timezone_offset(&self) -> i32 {
        -self.zone
    }

    /// The offset's hours, as extract(timezone_hour): -3 for -03:30.
    pub fn timezone_hour(&self) -> i32 {
        -self.zone / 3600
    }

    /// The offset's minutes within its hour, signed as the offset, as
    /// extract(timezone_minute): -30 for -03:30.
    pub fn timezone_minute(&self) -> i32 {
        (-self.zone / 60) % 60
    }

    /// The local time of day, without the zone.
    pub fn time(&self) -> Time {
        Time(self.time)
    }

    /// The same instant's time of day in UTC (wrapping around midnight).
    pub fn to_utc(&self) -> Time {
        Time((self.time + i64::from(self.zone) * USECS_PER_SEC).rem_euclid(USECS_PER_DAY))
    }

    fn micros_of_day(&self) -> i64 {
        self.time.clamp(0, USECS_PER_DAY)
    }

    hms_accessors!();
}

/// timetz_cmp: by the UTC instant first, then by zone, so values equal as
/// instants but in different zones are still distinct.
impl Ord for TimeWithTimeZone {
    fn cmp(&self, other: &Self) -> Ordering {
        let key = |t: &TimeWithTimeZone| (t.time + i64::from(t.zone) * USECS_PER_SEC, t.zone);
        key(self).cmp(&key(other))
    }
}

impl PartialOrd for TimeWithTimeZone {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for TimeWithTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_hms(f, self.micros_of_day())?;
        write_zone(f, self.zone)
    }
}

impl FromDatum for TimeWithTimeZone {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<TimeWithTimeZone>(oid, &[TIMETZOID])?;
        let mut r = Reader::new(bytes, "TimeWithTimeZone");
        let time = r.i64()?;
        let zone = r.i32()?;
        r.finish()?;
        if !(0..=USECS_PER_DAY).contains(&time) {
            return Err(TryFromDatumError::Malformed {
                rust_type: "TimeWithTimeZone",
                why: format!("time {time} out of range"),
            });
        }
        if zone <= -TZDISP_LIMIT || zone >= TZDISP_LIMIT {
            return Err(TryFromDatumError::Malformed {
                rust_type: "TimeWithTimeZone",
                why: format!("time zone displacement {zone} out of range"),
            });
        }
        Ok(TimeWithTimeZone { time, zone })
    }
}

impl IntoDatum for TimeWithTimeZone {
    fn into_datum(self) -> Option<Datum> {
        let mut b = Vec::with_capacity(12);
        b.extend_from_slice(&self.time.to_be_bytes());
        b.extend_from_slice(&self.zone.to_be_bytes());
        datum(TIMETZOID, b)
    }
    fn type_oid() -> TypeOid {
        TIMETZOID
    }
}

// ----------------------------------------------------------- timestamps

fn valid_timestamp(t: i64) -> bool {
    t == i64::MAX || t == i64::MIN || (TIMESTAMP_MIN..TIMESTAMP_END).contains(&t)
}

/// (days since 2000-01-01, microseconds into that day), as timestamp2tm.
fn split_timestamp(t: i64) -> (i64, i64) {
    (t.div_euclid(USECS_PER_DAY), t.rem_euclid(USECS_PER_DAY))
}

fn make_timestamp(
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: f64,
) -> Result<i64, DateTimeConversionError> {
    let days = pg_days(year, month, day)?;
    let time = time_micros(hour, minute, second)?;
    let t = days * USECS_PER_DAY + time;
    if (TIMESTAMP_MIN..TIMESTAMP_END).contains(&t) {
        Ok(t)
    } else {
        Err(DateTimeConversionError::OutOfRange)
    }
}

/// timestamp + interval: months by calendar (clamping the day to the
/// month's end), then days by Julian day, then the time part.
fn timestamp_plus_interval(t: i64, span: &Interval) -> i64 {
    if t == i64::MAX || t == i64::MIN {
        return t;
    }
    let overflow = || -> ! { out_of_range("timestamp") };
    let mut t = t;
    if span.months != 0 {
        let (days, time) = split_timestamp(t);
        let (y, m, d) = j2date(days + POSTGRES_EPOCH_JDATE);
        let months = i64::from(y) * 12 + i64::from(m) - 1 + i64::from(span.months);
        let (y, m) = (months.div_euclid(12), months.rem_euclid(12) + 1);
        let d = i64::from(d).min(days_in_month(y, m));
        let days = date2j(y, m, d) - POSTGRES_EPOCH_JDATE;
        t = days
            .checked_mul(USECS_PER_DAY)
            .and_then(|x| x.checked_add(time))
            .unwrap_or_else(|| overflow());
        if !(TIMESTAMP_MIN..TIMESTAMP_END).contains(&t) {
            overflow();
        }
    }
    if span.days != 0 {
        t = i64::from(span.days)
            .checked_mul(USECS_PER_DAY)
            .and_then(|x| x.checked_add(t))
            .unwrap_or_else(|| overflow());
        if !(TIMESTAMP_MIN..TIMESTAMP_END).contains(&t) {
            overflow();
        }
    }
    t = t.checked_add(span.micros).unwrap_or_else(|| overflow());
    if !(TIMESTAMP_MIN..TIMESTAMP_END).contains(&t) {
        overflow();
    }
    t
}

/// timestamp - timestamp, then justify_hours, as PostgreSQL.
fn timestamp_minus(a: i64, b: i64) -> Interval {
    if !(valid_finite(a) && valid_finite(b)) {
        panic!("cannot subtract infinite timestamps");
    }
    let diff = a.checked_sub(b).unwrap_or_else(|| out_of_range("interval"));
    let mut days = diff / USECS_PER_DAY;
    let mut time = diff - days * USECS_PER_DAY;
    if days > 0 && time < 0 {
        time += USECS_PER_DAY;
        days -= 1;
    } else if days < 0 && time > 0 {
        time -= USECS_PER_DAY;
        days += 1;
    }
    Interval {
        months: 0,
        days: i32::try_from(days).unwrap_or_else(|_| out_of_range("interval")),
        micros: time,
    }
}

fn valid_finite(t: i64) -> bool {
    t != i64::MAX && t != i64::MIN
}

fn write_timestamp(f: &mut fmt::Formatter<'_>, t: i64, utc: bool) -> fmt::Result {
    if t == i64::MAX {
        return f.write_str("infinity");
    }
    if t == i64::MIN {
        return f.write_str("-infinity");
    }
    let (days, time) = split_timestamp(t);
    let ymd = j2date(days + POSTGRES_EPOCH_JDATE);
    write_ymd(f, ymd)?;
    f.write_str(" ")?;
    write_hms(f, time)?;
    if utc {
        write_zone(f, 0)?;
    }
    write_bc(f, ymd.0)
}

macro_rules! timestamp_type {
    ($(#[$doc:meta])* $t:ident, $oid:expr, $utc:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $t(i64);

        scalar_datum!($t, $oid, i64, valid_timestamp);

        impl $t {
            /// `year` as SQL counts it: negative for BC, no year 0.
            pub fn new(
                year: i32,
                month: u8,
                day: u8,
                hour: u8,
                minute: u8,
                second: f64,
            ) -> Result<$t, DateTimeConversionError> {
                make_timestamp(year, month, day, hour, minute, second).map($t)
            }

            /// As `new`, but an ERROR for invalid parts.
            pub fn new_unchecked(
                year: isize,
                month: u8,
                day: u8,
                hour: u8,
                minute: u8,
                second: f64,
            ) -> $t {
                let year = i32::try_from(year)
                    .unwrap_or_else(|_| out_of_range(&format!("date field value {year}")));
                $t::new(year, month, day, hour, minute, second)
                    .unwrap_or_else(|e| date_error(e, "timestamp"))
            }

            /// Microseconds since 2000-01-01 00:00:00, unchecked.
            pub const fn from_pg_epoch_micros(micros: i64) -> $t {
                $t(micros)
            }

            pub const fn to_pg_epoch_micros(&self) -> i64 {
                self.0
            }

            pub fn from_unix_micros(micros: i64) -> Result<$t, DateTimeConversionError> {
                let t = i128::from(micros) - i128::from(UNIX_EPOCH_OFFSET_DAYS * USECS_PER_DAY);
                match i64::try_from(t) {
                    Ok(t) if (TIMESTAMP_MIN..TIMESTAMP_END).contains(&t) => Ok($t(t)),
                    _ => Err(DateTimeConversionError::OutOfRange),
                }
            }

            /// None for the infinities.
            pub fn to_unix_micros(&self) -> Option<i64> {
                if self.is_finite() {
                    self.0.checked_add(UNIX_EPOCH_OFFSET_DAYS * USECS_PER_DAY)
                } else {
                    None
                }
            }

            pub const fn positive_infinity() -> $t {
                $t(i64::MAX)
            }

            pub const fn negative_infinity() -> $t {
                $t(i64::MIN)
            }

            pub const fn is_infinity(&self) -> bool {
                self.0 == i64::MAX
            }

            pub const fn is_neg_infinity(&self) -> bool {
                self.0 == i64::MIN
            }

            pub const fn is_finite(&self) -> bool {
                !self.is_infinity() && !self.is_neg_infinity()
            }

            /// The calendar date (infinite for infinite timestamps).
            pub fn date(&self) -> Date {
                match (self.is_infinity(), self.is_neg_infinity()) {
                    (true, _) => Date::positive_infinity(),
                    (_, true) => Date::negative_infinity(),
                    _ => Date(split_timestamp(self.0).0 as i32),
                }
            }

            /// The time of day (midnight for infinite timestamps).
            pub fn time(&self) -> Time {
                if self.is_finite() {
                    Time(split_timestamp(self.0).1)
                } else {
                    Time(0)
                }
            }

            pub fn year(&self) -> i32 {
                self.date().year()
            }
            pub fn month(&self) -> u8 {
                self.date().month()
            }
            pub fn day(&self) -> u8 {
                self.date().day()
            }
            pub fn hour(&self) -> u8 {
                self.time().hour()
            }
            pub fn minute(&self) -> u8 {
                self.time().minute()
            }
            /// Seconds, with the fraction.
            pub fn second(&self) -> f64 {
                self.time().second()
            }
            /// The seconds field in microseconds, whole seconds included.
            pub fn microseconds(&self) -> u32 {
                self.time().microseconds()
            }
            /// (hour, minute, whole seconds, `microseconds()`), as `Time`'s.
            pub fn to_hms_micro(&self) -> (u8, u8, u8, u32) {
                self.time().to_hms_micro()
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_timestamp(f, self.0, $utc)
            }
        }

        impl Add<Interval> for $t {
            type Output = $t;
            fn add(self, span: Interval) -> $t {
                $t(timestamp_plus_interval(self.0, &span))
            }
        }

        impl Sub<Interval> for $t {
            type Output = $t;
            fn sub(self, span: Interval) -> $t {
                $t(timestamp_plus_interval(self.0, &-span))
            }
        }

        impl Sub<$t> for $t {
            type Output = Interval;
            fn sub(self, other: $t) -> Interval {
                timestamp_minus(self.0, other.0)
            }
        }

        impl From<Date> for $t {
            /// Midnight (UTC for timestamptz) of the date.
            fn from(d: Date) -> $t {
                $t(arith::date_to_timestamp(d))
            }
        }
    };
}

timestamp_type!(
    /// SQL `timestamp`: microseconds since 2000-01-01 00:00:00;
    /// `i64::MAX`/`MIN` are ±infinity.
    Timestamp,
    TIMESTAMPOID,
    false
);

timestamp_type!(
    /// SQL `timestamptz`: microseconds since 2000-01-01 00:00:00 UTC.
    /// Displayed, constructed and broken into fields in UTC: the
    /// executor has no session time zone.
    TimestampWithTimeZone,
    TIMESTAMPTZOID,
    true
);

/// The same wall-clock reading taken as UTC.
impl From<Timestamp> for TimestampWithTimeZone {
    fn from(t: Timestamp) -> TimestampWithTimeZone {
        TimestampWithTimeZone(t.0)
    }
}

/// The UTC wall-clock reading.
impl From<TimestampWithTimeZone> for Timestamp {
    fn from(t: TimestampWithTimeZone) -> Timestamp {
        Timestamp(t.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::oids::INT4OID;
    use super::super::testutil::{round_trip, strict};
    use super::*;

    #[test]
    fn calendar_matches_postgres() {
        // 2000-01-01 is day 0; Julian day 0 is 4714-11-24 BC.
        assert_eq!(Date::new(2000, 1, 1).unwrap().to_pg_epoch_days(), 0);
        assert_eq!(
            Date::new(-4714, 11, 24).unwrap().to_pg_epoch_days(),
            -2_451_545
        );
        assert_eq!(
            Date::new(-4714, 11, 23),
            Err(DateTimeConversionError::OutOfRange)
        );
        assert_eq!(Date::new(1970, 1, 1).unwrap().to_pg_epoch_days(), -10957);
        assert_eq!(
            Date::new(5874897, 12, 31).unwrap().to_pg_epoch_days(),
            2_145_031_948
        );
        assert!(Date::new(5874898, 1, 1).is_err());
        assert_eq!(
            Date::new(0, 1, 1),
            Err(DateTimeConversionError::FieldOverflow)
        );
        assert!(Date::new(2023, 2, 29).is_err());
        assert!(Date::new(2024, 2, 29).is_ok());
        assert!(Date::new(1900, 2, 29).is_err());
        assert!(Date::new(2024, 13, 1).is_err());
        assert!(Date::new(2024, 4, 31).is_err());
        // Every day for a few centuries either side of year 1 comes back.
        for days in (-800_000..800_000).step_by(97) {
            let d = Date::from_pg_epoch_days(days);
            assert_eq!(Date::new(d.year(), d.month(), d.day()).unwrap(), d, "{d}");
        }
    }

    #[test]
    fn dates() {
        let d = Date::new(2024, 2, 29).unwrap();
        assert_eq!(d.to_string(), "2024-02-29");
        assert_eq!(round_trip(d), 8825i32.to_be_bytes());
        assert_eq!((d.year(), d.month(), d.day()), (2024, 2, 29));
        let bc = Date::new(-44, 3, 15).unwrap();
        assert_eq!(bc.to_string(), "0044-03-15 BC");
        assert_eq!(bc.year(), -44);
        assert_eq!(
            Date::new(-1, 12, 31).unwrap() + 1,
            Date::new(1, 1, 1).unwrap()
        );
        assert_eq!(Date::new(-4713, 1, 1).unwrap().to_string(), "4713-01-01 BC");
        assert_eq!(
            Date::new(294276, 12, 31).unwrap().to_string(),
            "294276-12-31"
        );
        assert_eq!(Date::new(12, 1, 1).unwrap().to_string(), "0012-01-01");
        assert_eq!(Date::positive_infinity().to_string(), "infinity");
        assert_eq!(Date::negative_infinity().to_string(), "-infinity");
        for d in [
            Date::positive_infinity(),
            Date::negative_infinity(),
            Date::new(-4714, 11, 24).unwrap(),
            Date::new(5874897, 12, 31).unwrap(),
            Date::new(-4713, 1, 1).unwrap(),
            Date::new(294276, 12, 31).unwrap(),
        ] {
            let b = round_trip(d);
            strict::<Date>(&b, DATEOID, TIMESTAMPOID);
        }
        assert_eq!(
            round_trip(Date::positive_infinity()),
            [0x7f, 0xff, 0xff, 0xff]
        );
        // Out-of-range raw values are refused, as date_recv does.
        assert!(Date::from_binary(&(-2_451_546i32).to_be_bytes(), DATEOID).is_err());
        assert!(Date::from_binary(&2_145_031_949i32.to_be_bytes(), DATEOID).is_err());
        assert_eq!(d - Date::new(2024, 1, 1).unwrap(), 59);
        assert_eq!(d + 1, Date::new(2024, 3, 1).unwrap());
        assert_eq!(d - 60, Date::new(2023, 12, 31).unwrap());
        assert_eq!(Date::positive_infinity() + 5, Date::positive_infinity());
        assert!(Date::negative_infinity() < d && d < Date::positive_infinity());
        assert_eq!(
            Date::from_unix_epoch_days(0).unwrap(),
            Date::new(1970, 1, 1).unwrap()
        );
        assert_eq!(d.to_unix_epoch_days(), 19782);
    }

    #[test]
    #[should_panic(expected = "cannot subtract infinite dates")]
    fn infinite_date_difference() {
        let _ = Date::positive_infinity() - Date::new(2000, 1, 1).unwrap();
    }

    #[test]
    fn times() {
        let t = Time::new(13, 45, 0.5).unwrap();
        assert_eq!(t.to_string(), "13:45:00.5");
        assert_eq!(
            (t.hour(), t.minute(), t.second(), t.microseconds()),
            (13, 45, 0.5, 500_000)
        );
        assert_eq!(round_trip(t), 49_500_500_000i64.to_be_bytes());
        assert_eq!(Time::new(24, 0, 0.0).unwrap().to_string(), "24:00:00");
        assert!(Time::new(24, 0, 0.000001).is_err());
        assert!(Time::new(23, 60, 0.0).is_err());
        assert!(Time::new(23, 59, 60.5).is_err());
        assert_eq!(
            Time::new(23, 59, 59.9999994).unwrap().to_string(),
            "23:59:59.999999"
        );
        assert_eq!(
            Time::new(23, 59, 59.9999996).unwrap().to_string(),
            "24:00:00"
        );
        assert_eq!(
            Time::new(0, 0, 1.000001).unwrap().to_string(),
            "00:00:01.000001"
        );
        for t in [Time::ALLBALLS, Time::from_micros(USECS_PER_DAY).unwrap()] {
            strict::<Time>(&round_trip(t), TIMEOID, TIMETZOID);
        }
        assert!(Time::from_binary(&(-1i64).to_be_bytes(), TIMEOID).is_err());
        assert!(Time::from_binary(&(USECS_PER_DAY + 1).to_be_bytes(), TIMEOID).is_err());

        let tz = TimeWithTimeZone::at_offset(13, 45, 0.5, 19800).unwrap();
        assert_eq!(tz.to_string(), "13:45:00.5+05:30");
        assert_eq!(tz.timezone_offset(), 19800);
        assert_eq!(tz.to_utc().to_string(), "08:15:00.5");
        let b = round_trip(tz);
        assert_eq!(&b[8..], (-19800i32).to_be_bytes());
        strict::<TimeWithTimeZone>(&b, TIMETZOID, TIMEOID);
        assert_eq!(
            TimeWithTimeZone::new(1, 2, 3.0).unwrap().to_string(),
            "01:02:03+00"
        );
        let west = TimeWithTimeZone::at_offset(1, 2, 3.0, -(3 * 3600 + 30 * 60 + 15)).unwrap();
        assert_eq!(west.to_string(), "01:02:03-03:30:15");
        round_trip(west);
        let mut bad = b.clone();
        bad[8..].copy_from_slice(&57600i32.to_be_bytes());
        assert!(TimeWithTimeZone::from_binary(&bad, TIMETZOID).is_err());
        // Same instant, different zones: distinct, ordered by zone.
        let a = TimeWithTimeZone::at_offset(12, 0, 0.0, 3600).unwrap();
        let c = TimeWithTimeZone::new(11, 0, 0.0).unwrap();
        assert_ne!(a, c);
        assert!(a < c, "timetz_cmp orders by the stored (west) zone");
    }

    #[test]
    fn pgrx_accessors_and_constructors() {
        let d = Date::new_unchecked(2024, 2, 29);
        assert_eq!(d.to_julian_days(), 2_460_370);
        assert_eq!(Date::new_unchecked(-4714, 11, 24).to_julian_days(), 0);
        assert_eq!(Date::positive_infinity().to_unix_epoch_days(), i32::MAX);
        assert!(std::panic::catch_unwind(|| Date::new_unchecked(2024, 2, 30)).is_err());
        assert!(std::panic::catch_unwind(|| Date::new_unchecked(1 << 40, 1, 1)).is_err());
        let t = Time::new_unchecked(13, 45, 7.5);
        // pgrx's to_hms_micro: the last is extract(microseconds).
        assert_eq!(t.to_hms_micro(), (13, 45, 7, 7_500_000));
        assert!(std::panic::catch_unwind(|| Time::new_unchecked(25, 0, 0.0)).is_err());
        let ts = Timestamp::new_unchecked(2024, 2, 29, 13, 45, 7.5);
        assert_eq!(ts.to_hms_micro(), (13, 45, 7, 7_500_000));
        assert_eq!(
            TimestampWithTimeZone::new_unchecked(2024, 2, 29, 13, 45, 7.5).to_string(),
            "2024-02-29 13:45:07.5+00"
        );
        // with_timezone_offset moves the (UTC) time to the offset, as
        // timetz_izone: SELECT timetz '12:00+00' AT TIME ZONE interval
        // '02:00' = '14:00:00+02'.
        let two_hours = Interval::from_micros(2 * USECS_PER_HOUR);
        let tz = TimeWithTimeZone::with_timezone_offset(12, 0, 0.0, two_hours).unwrap();
        assert_eq!(tz.to_string(), "14:00:00+02");
        let west = Interval::from_micros(-(3 * USECS_PER_HOUR + 30 * USECS_PER_MINUTE));
        let tz = TimeWithTimeZone::with_timezone_offset(1, 0, 0.0, west).unwrap();
        assert_eq!(tz.to_string(), "21:30:00-03:30");
        assert_eq!((tz.timezone_hour(), tz.timezone_minute()), (-3, -30));
        assert_eq!(tz.timezone_offset(), -12600);
        assert_eq!(tz.to_hms_micro(), (21, 30, 0, 0));
        let day = Interval::from_days(1);
        assert_eq!(
            TimeWithTimeZone::with_timezone_offset(1, 0, 0.0, day),
            Err(DateTimeConversionError::InvalidTimezoneOffset(day))
        );
        let far = Interval::from_micros(16 * USECS_PER_HOUR);
        assert!(TimeWithTimeZone::with_timezone_offset(1, 0, 0.0, far).is_err());
        assert_eq!(
            TimeWithTimeZone::new_unchecked(1, 2, 3.0).to_string(),
            "01:02:03+00"
        );
    }

    #[test]
    fn timestamps() {
        let t = Timestamp::new(2024, 2, 29, 13, 45, 0.5).unwrap();
        assert_eq!(t.to_string(), "2024-02-29 13:45:00.5");
        assert_eq!(
            round_trip(t),
            (8825 * USECS_PER_DAY + 49_500_500_000).to_be_bytes()
        );
        assert_eq!(
            (
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            (2024, 2, 29, 13, 45, 0.5)
        );
        let tz = TimestampWithTimeZone::new(2024, 2, 29, 13, 45, 0.5).unwrap();
        assert_eq!(tz.to_string(), "2024-02-29 13:45:00.5+00");
        round_trip(tz);
        let bc = Timestamp::new(-44, 3, 15, 12, 0, 0.0).unwrap();
        assert_eq!(bc.to_string(), "0044-03-15 12:00:00 BC");
        assert_eq!(
            TimestampWithTimeZone::from(bc).to_string(),
            "0044-03-15 12:00:00+00 BC"
        );
        let max = Timestamp::new(294276, 12, 31, 23, 59, 59.999999).unwrap();
        assert_eq!(max.to_pg_epoch_micros(), TIMESTAMP_END - 1);
        assert_eq!(max.to_string(), "294276-12-31 23:59:59.999999");
        assert!(Timestamp::new(294277, 1, 1, 0, 0, 0.0).is_err());
        let min = Timestamp::new(-4714, 11, 24, 0, 0, 0.0).unwrap();
        assert_eq!(min.to_pg_epoch_micros(), TIMESTAMP_MIN);
        assert_eq!(min.to_string(), "4714-11-24 00:00:00 BC");
        for v in [
            max,
            min,
            Timestamp::positive_infinity(),
            Timestamp::negative_infinity(),
            Timestamp::from_pg_epoch_micros(-1),
        ] {
            let b = round_trip(v);
            strict::<Timestamp>(&b, TIMESTAMPOID, TIMESTAMPTZOID);
            let tz = TimestampWithTimeZone::from(v);
            let b = round_trip(tz);
            strict::<TimestampWithTimeZone>(&b, TIMESTAMPTZOID, TIMESTAMPOID);
        }
        assert_eq!(
            Timestamp::from_pg_epoch_micros(-1).to_string(),
            "1999-12-31 23:59:59.999999"
        );
        assert_eq!(Timestamp::positive_infinity().to_string(), "infinity");
        assert_eq!(
            TimestampWithTimeZone::negative_infinity().to_string(),
            "-infinity"
        );
        assert!(Timestamp::from_binary(&TIMESTAMP_END.to_be_bytes(), TIMESTAMPOID).is_err());
        assert_eq!(
            Timestamp::from_unix_micros(0).unwrap().to_string(),
            "1970-01-01 00:00:00"
        );
        assert_eq!(t.to_unix_micros(), Some(1_709_214_300_500_000));
        assert_eq!(Timestamp::positive_infinity().to_unix_micros(), None);
        assert_eq!(
            Timestamp::from(Date::new(2024, 1, 1).unwrap()).to_string(),
            "2024-01-01 00:00:00"
        );
    }

    #[test]
    fn timestamp_arithmetic() {
        let t = Timestamp::new(2024, 1, 31, 10, 0, 0.0).unwrap();
        let month = Interval::from_months(1);
        assert_eq!((t + month).to_string(), "2024-02-29 10:00:00");
        assert_eq!((t - month).to_string(), "2023-12-31 10:00:00");
        assert_eq!(
            (t + Interval::new(13, 1, USECS_PER_HOUR).unwrap()).to_string(),
            "2025-03-01 11:00:00"
        );
        assert_eq!(
            (t + Interval::from_months(-25)).to_string(),
            "2021-12-31 10:00:00"
        );
        let a = Timestamp::new(2024, 3, 1, 0, 0, 0.0).unwrap();
        let d = a - t;
        assert_eq!(
            (d.months(), d.days(), d.micros()),
            (0, 29, 14 * USECS_PER_HOUR)
        );
        assert_eq!(d.to_string(), "29 days 14:00:00");
        assert_eq!((t - a).to_string(), "-29 days -14:00:00");
        assert_eq!(
            Timestamp::positive_infinity() + month,
            Timestamp::positive_infinity()
        );
    }

    #[test]
    fn intervals() {
        let i =
            Interval::new(14, 3, 4 * USECS_PER_HOUR + 5 * USECS_PER_MINUTE + 6_500_000).unwrap();
        assert_eq!(i.to_string(), "1 year 2 mons 3 days 04:05:06.5");
        let b = round_trip(i);
        let mut want = (4 * USECS_PER_HOUR + 5 * USECS_PER_MINUTE + 6_500_000)
            .to_be_bytes()
            .to_vec();
        want.extend_from_slice(&3i32.to_be_bytes());
        want.extend_from_slice(&14i32.to_be_bytes());
        assert_eq!(b, want);
        strict::<Interval>(&b, INTERVALOID, INT4OID);
        let back = Interval::from_binary(&b, INTERVALOID).unwrap();
        assert_eq!(
            (back.months(), back.days(), back.micros()),
            (14, 3, i.micros())
        );
        let extreme = Interval::new(i32::MIN, i32::MAX, i64::MIN).unwrap();
        let back = Interval::from_binary(&round_trip(extreme), INTERVALOID).unwrap();
        assert_eq!(
            (back.months(), back.days(), back.micros()),
            (i32::MIN, i32::MAX, i64::MIN)
        );
        let _ = extreme.to_string();
        let s = |m, d, u| Interval::new(m, d, u).unwrap().to_string();
        assert_eq!(s(0, 0, 0), "00:00:00");
        assert_eq!(s(1, 1, 0), "1 mon 1 day");
        assert_eq!(s(-1, 0, 0), "-1 mons");
        assert_eq!(s(-1, 2, 0), "-1 mons +2 days");
        assert_eq!(s(0, -1, USECS_PER_HOUR), "-1 days +01:00:00");
        assert_eq!(s(0, 0, -1), "-00:00:00.000001");
        assert_eq!(s(0, 0, 100 * USECS_PER_HOUR), "100:00:00");
        assert_eq!(s(-12, 0, 0), "-1 years");
        assert_eq!(Interval::from_months(1), Interval::from_days(30));
        assert!(Interval::from_days(1) < Interval::from_micros(USECS_PER_DAY + 1));
        assert_eq!(
            (Interval::from_days(1) - Interval::from_micros(5)).micros(),
            -5
        );
    }

    #[test]
    fn parsing() {
        for s in [
            "2024-02-29",
            "0044-03-15 BC",
            "294276-12-31",
            "4714-11-24 BC",
            "infinity",
            "-infinity",
        ] {
            assert_eq!(s.parse::<Date>().unwrap().to_string(), s);
        }
        assert!("2024-02-30".parse::<Date>().is_err());
        assert!("0000-01-01".parse::<Date>().is_err());
        assert!("2024-02-29x".parse::<Date>().is_err());
        assert!("".parse::<Date>().is_err());
        for s in ["13:45:00.5", "24:00:00", "00:00:00.000001"] {
            assert_eq!(s.parse::<Time>().unwrap().to_string(), s);
        }
        assert_eq!("13:45".parse::<Time>().unwrap().to_string(), "13:45:00");
        assert_eq!(
            "13:45:00.0000004".parse::<Time>().unwrap().to_string(),
            "13:45:00"
        );
        assert!("13:60".parse::<Time>().is_err());
        for s in ["13:45:00.5+05:30", "01:02:03-03:30:15", "00:00:00+00"] {
            assert_eq!(s.parse::<TimeWithTimeZone>().unwrap().to_string(), s);
        }
        for s in [
            "2024-02-29 13:45:00.5",
            "0044-03-15 12:00:00 BC",
            "294276-12-31 23:59:59.999999",
            "infinity",
        ] {
            assert_eq!(s.parse::<Timestamp>().unwrap().to_string(), s);
        }
        assert_eq!(
            "2024-02-29T13:45".parse::<Timestamp>().unwrap().to_string(),
            "2024-02-29 13:45:00"
        );
        assert_eq!(
            "2024-02-29".parse::<Timestamp>().unwrap().to_string(),
            "2024-02-29 00:00:00"
        );
        assert!("2024-02-29 13:45+01".parse::<Timestamp>().is_err());
        let tz: TimestampWithTimeZone = "2024-02-29 13:45:00.5+05:30".parse().unwrap();
        assert_eq!(tz.to_string(), "2024-02-29 08:15:00.5+00");
        assert_eq!(
            "2024-02-29T13:45:00Z"
                .parse::<TimestampWithTimeZone>()
                .unwrap()
                .to_string(),
            "2024-02-29 13:45:00+00"
        );
        assert_eq!(
            "0044-03-15 12:00:00+00 BC"
                .parse::<TimestampWithTimeZone>()
                .unwrap()
                .to_string(),
            "0044-03-15 12:00:00+00 BC"
        );
        assert!("294276-12-31 23:59:59-01"
            .parse::<TimestampWithTimeZone>()
            .is_err());
    }
}
