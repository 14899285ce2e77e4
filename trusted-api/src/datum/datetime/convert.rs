//! Conversions between the date/time types, and from their raw integers
//! and binary values, as PostgreSQL's casts convert (timestamp::date
//! truncates to the day, interval::time keeps the time of day, ...).
//! Those that read a timestamptz in the session's time zone are in
//! session.rs.
//!
//! pgrx makes some of these from raw integers without a check ("this impl
//! currently allows creating a `Time` that cannot be constructed by
//! SQL").  Here a value outside its type's range is an ERROR where it is
//! made (as the backend would raise when it received it), so no invalid
//! value exists to misbehave later.

use super::*;
use crate::errcodes::PgSqlErrorCode;

#[track_caller]
fn infinite_to_time() -> ! {
    sql_error(
        PgSqlErrorCode::ERRCODE_DATETIME_VALUE_OUT_OF_RANGE,
        "cannot convert infinite timestamp to time",
    )
}

/// timestamp::date: the day the timestamp falls on; infinities stay.
impl From<Timestamp> for Date {
    fn from(t: Timestamp) -> Date {
        if !valid_timestamp(t.0) {
            out_of_range("timestamp")
        }
        t.date()
    }
}

/// Days since 2000-01-01 (`i32::MAX`/`MIN` for ±infinity), refused
/// outside the dates PostgreSQL has.
impl TryFrom<i32> for Date {
    type Error = DateTimeConversionError;
    fn try_from(days: i32) -> Result<Date, DateTimeConversionError> {
        if days == i32::MAX || days == i32::MIN || (DATE_MIN..DATE_END).contains(&i64::from(days)) {
            Ok(Date(days))
        } else {
            Err(DateTimeConversionError::OutOfRange)
        }
    }
}

macro_rules! try_from_datum {
    ($($t:ty),*) => {$(
        /// The value of a `Datum` of this type (its binary format).
        impl TryFrom<Datum> for $t {
            type Error = TryFromDatumError;
            fn try_from(d: Datum) -> Result<$t, TryFromDatumError> {
                <$t as FromDatum>::from_binary(&d.bytes, d.oid)
            }
        }
    )*};
}

try_from_datum!(Date, Time, Timestamp, TimestampWithTimeZone);

/// Microseconds since midnight, 0 to 24:00:00; anything else is an ERROR.
impl From<i64> for Time {
    fn from(micros: i64) -> Time {
        Time::from_micros(micros).unwrap_or_else(|_| out_of_range("time"))
    }
}

/// timestamp::time: the time of day; an ERROR for the infinities (for
/// which PostgreSQL's cast gives NULL, and pgrx panics).
impl From<Timestamp> for Time {
    fn from(t: Timestamp) -> Time {
        if !t.is_finite() {
            infinite_to_time()
        }
        Time(split_timestamp(t.0).1)
    }
}

/// interval::time: the time part, around the clock (months and days
/// dropped): '27 hours' is 03:00:00, '-1 hour' 23:00:00.
impl From<Interval> for Time {
    fn from(i: Interval) -> Time {
        Time(i.micros.rem_euclid(USECS_PER_DAY))
    }
}

/// timetz::time: the local time, the offset dropped.
impl From<TimeWithTimeZone> for Time {
    fn from(t: TimeWithTimeZone) -> Time {
        Time(t.time)
    }
}

/// time::interval.
impl From<Time> for Interval {
    fn from(t: Time) -> Interval {
        Interval::from_micros(t.0)
    }
}

/// The time at UTC, as pgrx (SQL's time::timetz would take the session's
/// offset instead).
impl From<Time> for TimeWithTimeZone {
    fn from(t: Time) -> TimeWithTimeZone {
        TimeWithTimeZone { time: t.0, zone: 0 }
    }
}

/// (microseconds since midnight, seconds WEST of UTC), as PostgreSQL
/// stores a timetz; an ERROR outside timetz's ranges.
impl From<(i64, i32)> for TimeWithTimeZone {
    fn from((time, zone): (i64, i32)) -> TimeWithTimeZone {
        if !(0..=USECS_PER_DAY).contains(&time) {
            out_of_range("time")
        }
        if zone <= -TZDISP_LIMIT || zone >= TZDISP_LIMIT {
            out_of_range("time zone displacement")
        }
        TimeWithTimeZone { time, zone }
    }
}

/// The date at that time of day (date + time).
impl From<(Date, Time)> for Timestamp {
    fn from((date, time): (Date, Time)) -> Timestamp {
        date + time
    }
}

/// Microseconds since 2000-01-01 00:00:00, as `from_pg_epoch_micros`
/// (unchecked, as pgrx's: every operation here copes with any i64, and
/// the backend refuses an out-of-range value it is sent).
impl From<i64> for Timestamp {
    fn from(micros: i64) -> Timestamp {
        Timestamp(micros)
    }
}

/// Microseconds since 2000-01-01 00:00:00 UTC, refused outside
/// timestamptz's range (the infinities are `i64::MAX`/`MIN`).
impl TryFrom<i64> for TimestampWithTimeZone {
    type Error = DateTimeConversionError;
    fn try_from(micros: i64) -> Result<TimestampWithTimeZone, DateTimeConversionError> {
        if valid_timestamp(micros) {
            Ok(TimestampWithTimeZone(micros))
        } else {
            Err(DateTimeConversionError::OutOfRange)
        }
    }
}

impl TimestampWithTimeZone {
    /// The instant's reading in UTC (self AT TIME ZONE 'UTC').
    pub fn to_utc(&self) -> Timestamp {
        Timestamp(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datum::oids::{DATEOID, TIMEOID};

    #[test]
    fn casts_as_postgres() {
        let t: Timestamp = "2024-02-29 13:45:00.5".parse().unwrap();
        assert_eq!(Date::from(t).to_string(), "2024-02-29");
        let before: Timestamp = "1999-12-31 23:59:59.999999".parse().unwrap();
        assert_eq!(Date::from(before).to_string(), "1999-12-31");
        assert_eq!(
            Date::from(Timestamp::negative_infinity()),
            Date::negative_infinity()
        );
        assert_eq!(Time::from(t).to_string(), "13:45:00.5");
        assert!(std::panic::catch_unwind(|| Time::from(Timestamp::positive_infinity())).is_err());
        let hours = |h: i64| Interval::from_micros(h * USECS_PER_HOUR);
        assert_eq!(Time::from(hours(27)).to_string(), "03:00:00");
        assert_eq!(Time::from(hours(-1)).to_string(), "23:00:00");
        assert_eq!(
            Time::from(Interval::new(1, 2, 0).unwrap()).to_string(),
            "00:00:00"
        );
        let tz: TimeWithTimeZone = "13:45:00+05:30".parse().unwrap();
        assert_eq!(Time::from(tz).to_string(), "13:45:00");
        assert_eq!(
            <Interval as From<Time>>::from(Time::from(3_600_000_000)).to_string(),
            "01:00:00"
        );
        assert_eq!(
            TimeWithTimeZone::from(Time::new(1, 2, 3.0).unwrap()).to_string(),
            "01:02:03+00"
        );
        assert_eq!(
            TimeWithTimeZone::from((49_500_000_000, -19800)).to_string(),
            "13:45:00+05:30"
        );
        assert!(std::panic::catch_unwind(|| TimeWithTimeZone::from((0, 57600))).is_err());
        assert!(std::panic::catch_unwind(|| Time::from(-1)).is_err());
        let d = Date::new(2024, 2, 29).unwrap();
        assert_eq!(Timestamp::from((d, Time::new(13, 45, 0.5).unwrap())), t);
        assert_eq!(Timestamp::from(0).to_string(), "2000-01-01 00:00:00");
        assert_eq!(Date::try_from(0), Ok(Date::new(2000, 1, 1).unwrap()));
        assert_eq!(Date::try_from(i32::MAX), Ok(Date::positive_infinity()));
        assert_eq!(
            Date::try_from(-2_451_546),
            Err(DateTimeConversionError::OutOfRange)
        );
        assert_eq!(
            TimestampWithTimeZone::try_from(TIMESTAMP_END),
            Err(DateTimeConversionError::OutOfRange)
        );
        assert_eq!(
            TimestampWithTimeZone::try_from(0)
                .unwrap()
                .to_utc()
                .to_string(),
            "2000-01-01 00:00:00"
        );
        let datum = d.into_datum().unwrap();
        assert_eq!(Date::try_from(datum.clone()), Ok(d));
        assert!(matches!(
            Time::try_from(datum),
            Err(TryFromDatumError::IncompatibleTypes {
                sql_oid: DATEOID,
                ..
            })
        ));
        let datum = Time::ALLBALLS.into_datum().unwrap();
        assert_eq!(datum.oid, TIMEOID);
        assert_eq!(Time::try_from(datum), Ok(Time::ALLBALLS));
    }
}
