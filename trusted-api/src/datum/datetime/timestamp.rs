//! SQL `timestamp` and `timestamptz`: fields, and interval arithmetic.

use super::*;

pub(super) fn valid_timestamp(t: i64) -> bool {
    t == i64::MAX || t == i64::MIN || (TIMESTAMP_MIN..TIMESTAMP_END).contains(&t)
}

/// (days since 2000-01-01, microseconds into that day), as timestamp2tm.
pub(super) fn split_timestamp(t: i64) -> (i64, i64) {
    (t.div_euclid(USECS_PER_DAY), t.rem_euclid(USECS_PER_DAY))
}

pub(super) fn make_timestamp(
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

pub(super) fn valid_finite(t: i64) -> bool {
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
        pub struct $t(pub(super) i64);

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

            /// PostgreSQL's representation, as `to_pg_epoch_micros`.
            pub const fn into_inner(self) -> i64 {
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
