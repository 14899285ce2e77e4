//! The fields of date/time values: DateTimeParts, EXTRACT
//! (HasExtractableParts), date_trunc (`truncate`) and the ISO 8601 text
//! of to_json (ToIsoString).

use super::super::AnyNumeric;
use super::session;
use super::*;

/// A field of a date/time value, as EXTRACT and date_trunc name them.
#[derive(Debug, Copy, Clone, Eq, PartialEq)]
pub enum DateTimeParts {
    /// The century; the first starts at 0001-01-01 (no century 0).
    Century,
    /// The day of the month (1-31); an interval's days.
    Day,
    /// The year divided by 10.
    Decade,
    /// Sunday (0) to Saturday (6).
    DayOfWeek,
    /// 1-366.
    DayOfYear,
    /// Seconds since 1970-01-01 00:00:00 (UTC for timestamptz); an
    /// interval's total seconds.
    Epoch,
    /// 0-23.
    Hour,
    /// Monday (1) to Sunday (7).
    ISODayOfWeek,
    /// The ISO 8601 week-numbering year.
    ISOYear,
    /// The Julian date.
    Julian,
    /// The seconds field times 1 000 000, whole seconds included.
    Microseconds,
    Millennium,
    /// The seconds field times 1000, whole seconds included.
    Milliseconds,
    Minute,
    /// 1-12; an interval's months modulo 12.
    Month,
    Quarter,
    /// The seconds field, with its fraction.
    Second,
    /// The offset from UTC in seconds, east positive.
    Timezone,
    TimezoneHour,
    TimezoneMinute,
    /// The ISO 8601 week number.
    Week,
    /// The year (negative for BC, no year 0).
    Year,
}

/// The field's name in SQL.  ISOYear is `isoyear`, the name PostgreSQL
/// knows (pgrx 0.11 says `isodoy`, which every PostgreSQL refuses).
impl From<DateTimeParts> for &'static str {
    fn from(part: DateTimeParts) -> &'static str {
        match part {
            DateTimeParts::Century => "century",
            DateTimeParts::Day => "day",
            DateTimeParts::Decade => "decade",
            DateTimeParts::DayOfWeek => "dow",
            DateTimeParts::DayOfYear => "doy",
            DateTimeParts::Epoch => "epoch",
            DateTimeParts::Hour => "hour",
            DateTimeParts::ISODayOfWeek => "isodow",
            DateTimeParts::ISOYear => "isoyear",
            DateTimeParts::Julian => "julian",
            DateTimeParts::Microseconds => "microseconds",
            DateTimeParts::Millennium => "millennium",
            DateTimeParts::Milliseconds => "milliseconds",
            DateTimeParts::Minute => "minute",
            DateTimeParts::Month => "month",
            DateTimeParts::Quarter => "quarter",
            DateTimeParts::Second => "second",
            DateTimeParts::Timezone => "timezone",
            DateTimeParts::TimezoneHour => "timezone_hour",
            DateTimeParts::TimezoneMinute => "timezone_minute",
            DateTimeParts::Week => "week",
            DateTimeParts::Year => "year",
        }
    }
}

impl fmt::Display for DateTimeParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name: &'static str = (*self).into();
        f.write_str(name)
    }
}

/// The name, as `text`.
impl IntoDatum for DateTimeParts {
    fn into_datum(self) -> Option<Datum> {
        let name: &'static str = self.into();
        name.into_datum()
    }
    fn type_oid() -> TypeOid {
        <&str as IntoDatum>::type_oid()
    }
}

mod seal {
    /// The date/time types, and how each writes its ISO 8601 text.
    pub trait DateTimeType {
        #[doc(hidden)]
        fn iso_text(self) -> String;
    }
}

/// A date/time type whose fields EXTRACT can read.
pub trait HasExtractableParts: Clone + IntoDatum + seal::DateTimeType {
    /// EXTRACT(field FROM self), as numeric.  Computed by the calling
    /// backend (session.rs): the result's scale (`7.500000` seconds) is
    /// PostgreSQL's, and timestamptz fields are read in the session's
    /// time zone.  A field the type has not (`timezone` of a date) is an
    /// ERROR, as in SQL.
    fn extract_part(&self, field: DateTimeParts) -> Option<AnyNumeric> {
        session::extract(field, self.clone())
    }
}

/// The ISO 8601 text to_json gives the value (`2024-02-29T13:45:00.5`).
pub trait ToIsoString: IntoDatum + Sized + fmt::Display + seal::DateTimeType {
    /// Types with a time zone: timestamptz is shown in the session's zone
    /// (as in pgrx), timetz in its own.  An interval is its text.
    fn to_iso_string(self) -> String {
        seal::DateTimeType::iso_text(self)
    }
}

/// EncodeTimezone in USE_XSD_DATES style: `+hh:mm`, `+hh:mm:ss` when
/// there are seconds; `zone` is seconds WEST of UTC.
fn xsd_zone(zone: i32) -> String {
    let secs = zone.unsigned_abs();
    let (hour, min, sec) = (secs / 3600, secs / 60 % 60, secs % 60);
    let sign = if zone <= 0 { '+' } else { '-' };
    if sec != 0 {
        format!("{sign}{hour:02}:{min:02}:{sec:02}")
    } else {
        format!("{sign}{hour:02}:{min:02}")
    }
}

macro_rules! date_time_type {
    ($t:ty, |$v:ident| $iso:expr) => {
        impl seal::DateTimeType for $t {
            fn iso_text(self) -> String {
                let $v = self;
                $iso
            }
        }
        impl HasExtractableParts for $t {}
        impl ToIsoString for $t {}
    };
}

// JsonEncodeDateTime: dates and times as they print (ISO style), a
// timestamp with `T` for the space between date and time (the first
// space: infinities have none, BC comes after the time).
date_time_type!(Date, |d| d.to_string());
date_time_type!(Time, |t| t.to_string());
date_time_type!(TimeWithTimeZone, |t| format!(
    "{}{}",
    t.time(),
    xsd_zone(t.zone)
));
date_time_type!(Timestamp, |t| t.to_string().replacen(' ', "T", 1));
date_time_type!(TimestampWithTimeZone, |t| session::iso_string(t));
date_time_type!(Interval, |i| i.to_string());

/// j2day: 0 for Sunday.
fn day_of_week(julian: i64) -> i64 {
    (julian + 1).rem_euclid(7)
}

/// The hours, minutes, seconds and microseconds of `micros` (a time of
/// day, or an interval's time, negative or past 24 hours) with those below
/// the unit of `rank` cleared, as timestamp_trunc and interval_trunc clear
/// their struct pg_tm's fields; milliseconds keep the whole ones.
fn truncate_clock(micros: i64, rank: u8) -> i64 {
    let hour = micros / USECS_PER_HOUR;
    let min = micros / USECS_PER_MINUTE % 60;
    let sec = micros / USECS_PER_SEC % 60;
    let usec = micros % USECS_PER_SEC;
    let keep = |field: i64, cleared_from: u8| if rank >= cleared_from { 0 } else { field };
    let usec = if rank == 2 {
        usec / 1000 * 1000
    } else {
        keep(usec, 3)
    };
    keep(hour, 6) * USECS_PER_HOUR
        + keep(min, 5) * USECS_PER_MINUTE
        + keep(sec, 4) * USECS_PER_SEC
        + usec
}

/// Where a unit stands among those date_trunc truncates to, largest
/// first (12, millennium, to 1, microseconds): each truncation clears its
/// own field and every smaller one, as PostgreSQL's switch falls through.
fn truncation_rank(units: DateTimeParts) -> Option<u8> {
    use DateTimeParts as P;
    Some(match units {
        P::Millennium => 12,
        P::Century => 11,
        P::Decade => 10,
        P::Year => 9,
        P::Quarter => 8,
        P::Month => 7,
        P::Day => 6,
        P::Hour => 5,
        P::Minute => 4,
        P::Second => 3,
        P::Milliseconds => 2,
        P::Microseconds => 1,
        _ => return None,
    })
}

/// timestamp_trunc of a finite timestamp; None for the units it does
/// not truncate to (dow, epoch, ...), whose ERROR is PostgreSQL's to give
/// (`truncate`).  Years are astronomical here
/// (1 BC is 0), as in PostgreSQL's struct pg_tm, and the formulas for
/// millennium, century and decade are PostgreSQL's, falling through from
/// the larger unit to the smaller as its switch does.
fn truncate_timestamp(t: i64, units: DateTimeParts) -> Option<i64> {
    use DateTimeParts as P;
    let (days, time) = split_timestamp(t);
    let julian = days + POSTGRES_EPOCH_JDATE;
    let (y, m, d) = j2date(julian);
    let (mut year, mut mon, mut mday) = (i64::from(y), i64::from(m), i64::from(d));
    let rank = match units {
        P::Week => {
            // The Monday on or before the day: what PostgreSQL's
            // isoweek2date(date2isoweek()) comes to, year ends included.
            let monday = days - (day_of_week(julian) + 6) % 7;
            return Some(checked_timestamp(monday.checked_mul(USECS_PER_DAY)));
        }
        units => truncation_rank(units)?,
    };
    if rank == 12 {
        year = if year > 0 {
            (year + 999) / 1000 * 1000 - 999
        } else {
            -((999 - (year - 1)) / 1000) * 1000 + 1
        };
    }
    if rank >= 11 {
        year = if year > 0 {
            (year + 99) / 100 * 100 - 99
        } else {
            -((99 - (year - 1)) / 100) * 100 + 1
        };
    }
    if rank == 10 {
        year = if year > 0 {
            year / 10 * 10
        } else {
            -((8 - (year - 1)) / 10) * 10
        };
    }
    if rank >= 9 {
        mon = 1;
    }
    if rank >= 8 {
        mon = 3 * ((mon - 1) / 3) + 1;
    }
    if rank >= 7 {
        mday = 1;
    }
    // tm2timestamp: the new date must be a Julian day PostgreSQL has.
    let days = date2j(year, mon, mday) - POSTGRES_EPOCH_JDATE;
    if !(DATE_MIN..DATE_END).contains(&days) {
        out_of_range("timestamp")
    }
    let time = truncate_clock(time, rank);
    Some(checked_timestamp(
        days.checked_mul(USECS_PER_DAY).map(|d| d + time),
    ))
}

/// date_trunc in the backend, for the units computed nowhere here: it
/// raises PostgreSQL's own ERROR for them ("unit \"dow\" not supported
/// for type ...", or "not recognized"; the SQLSTATE and wording differ
/// between the units and between majors).
fn truncate_in_backend<T: IntoDatum + FromDatum>(units: DateTimeParts, value: T) -> Option<T> {
    let name: &'static str = units.into();
    session::backend_value(
        "SELECT pg_catalog.date_trunc($1, $2)",
        vec![session::arg(name), session::arg(value)],
    )
}

#[track_caller]
fn checked_timestamp(t: Option<i64>) -> i64 {
    match t {
        Some(t) if (TIMESTAMP_MIN..TIMESTAMP_END).contains(&t) => t,
        _ => out_of_range("timestamp"),
    }
}

impl Timestamp {
    /// date_trunc(units, self); infinities stay as they are.
    pub fn truncate(self, units: DateTimeParts) -> Timestamp {
        if !self.is_finite() {
            return self;
        }
        match truncate_timestamp(self.0, units) {
            Some(t) => Timestamp(t),
            None => truncate_in_backend(units, self).unwrap_or(self),
        }
    }
}

impl Interval {
    /// date_trunc(units, self): the fields below `units` zeroed, as
    /// interval_trunc splits them (years and months of the month count,
    /// days as they are, hours to microseconds of the time, each keeping
    /// the sign of what it came from).
    pub fn truncate(self, units: DateTimeParts) -> Interval {
        let mut year = self.months / 12;
        let mut mon = self.months % 12;
        let mut mday = self.days;
        let Some(rank) = truncation_rank(units) else {
            return truncate_in_backend(units, self).unwrap_or(self);
        };
        // C's division truncates toward zero, as Rust's does.
        if rank >= 12 {
            year = year / 1000 * 1000;
        }
        if rank >= 11 {
            year = year / 100 * 100;
        }
        if rank >= 10 {
            year = year / 10 * 10;
        }
        if rank >= 9 {
            mon = 0;
        }
        if rank >= 8 {
            mon = 3 * (mon / 3);
        }
        if rank >= 7 {
            mday = 0;
        }
        // itm2interval: the parts came from the fields, so they fit again.
        Interval {
            months: year * 12 + mon,
            days: mday,
            micros: truncate_clock(self.micros, rank),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn trunc(s: &str, units: DateTimeParts) -> String {
        ts(s).truncate(units).to_string()
    }

    #[test]
    fn names() {
        assert_eq!(DateTimeParts::DayOfWeek.to_string(), "dow");
        let name: &'static str = DateTimeParts::TimezoneMinute.into();
        assert_eq!(name, "timezone_minute");
        assert_eq!(
            DateTimeParts::Year.into_datum().unwrap().bytes,
            b"year".to_vec()
        );
    }

    #[test]
    fn timestamp_truncation_as_date_trunc() {
        use DateTimeParts as P;
        let t = "2024-08-15 13:45:07.123456";
        // SELECT date_trunc('<unit>', timestamp '2024-08-15 13:45:07.123456')
        for (units, want) in [
            (P::Millennium, "2001-01-01 00:00:00"),
            (P::Century, "2001-01-01 00:00:00"),
            (P::Decade, "2020-01-01 00:00:00"),
            (P::Year, "2024-01-01 00:00:00"),
            (P::Quarter, "2024-07-01 00:00:00"),
            (P::Month, "2024-08-01 00:00:00"),
            (P::Week, "2024-08-12 00:00:00"),
            (P::Day, "2024-08-15 00:00:00"),
            (P::Hour, "2024-08-15 13:00:00"),
            (P::Minute, "2024-08-15 13:45:00"),
            (P::Second, "2024-08-15 13:45:07"),
            (P::Milliseconds, "2024-08-15 13:45:07.123"),
            (P::Microseconds, "2024-08-15 13:45:07.123456"),
        ] {
            assert_eq!(trunc(t, units), want, "{units}");
        }
        // ISO weeks across a year end: 2021-01-01 is in week 53 of 2020,
        // which starts on Monday 2020-12-28.
        assert_eq!(trunc("2021-01-01 10:00", P::Week), "2020-12-28 00:00:00");
        assert_eq!(
            trunc("2000-01-01 00:00", P::Millennium),
            "1001-01-01 00:00:00"
        );
        assert_eq!(trunc("2000-12-31 00:00", P::Century), "1901-01-01 00:00:00");
        assert_eq!(trunc("2001-01-01 00:00", P::Century), "2001-01-01 00:00:00");
        // BC: the century of 1 BC starts in 100 BC; PostgreSQL's decades
        // BC run from 11 BC to 2 BC (its formula on astronomical years).
        assert_eq!(
            trunc("0001-06-01 00:00 BC", P::Century),
            "0100-01-01 00:00:00 BC"
        );
        assert_eq!(
            trunc("0005-06-01 00:00 BC", P::Decade),
            "0011-01-01 00:00:00 BC"
        );
        assert_eq!(
            trunc("0001-06-01 00:00 BC", P::Decade),
            "0001-01-01 00:00:00 BC"
        );
        assert_eq!(
            trunc("0044-03-15 12:00 BC", P::Year),
            "0044-01-01 00:00:00 BC"
        );
        assert_eq!(
            Timestamp::positive_infinity().truncate(P::Year),
            Timestamp::positive_infinity()
        );
        // The millennium of 4714 BC would start before Julian day 0.
        assert!(
            std::panic::catch_unwind(|| ts("4714-11-24 00:00 BC").truncate(P::Millennium)).is_err()
        );
    }

    #[test]
    fn interval_truncation_as_date_trunc() {
        use DateTimeParts as P;
        let i = Interval::new(
            1234 * 12 + 5,
            17,
            13 * USECS_PER_HOUR + 45 * USECS_PER_MINUTE + 7_123_456,
        )
        .unwrap();
        // SELECT date_trunc('<unit>', interval '1234 years 5 mons 17 days 13:45:07.123456')
        for (units, want) in [
            (P::Millennium, "1000 years"),
            (P::Century, "1200 years"),
            (P::Decade, "1230 years"),
            (P::Year, "1234 years"),
            (P::Quarter, "1234 years 3 mons"),
            (P::Month, "1234 years 5 mons"),
            (P::Day, "1234 years 5 mons 17 days"),
            (P::Hour, "1234 years 5 mons 17 days 13:00:00"),
            (P::Minute, "1234 years 5 mons 17 days 13:45:00"),
            (P::Second, "1234 years 5 mons 17 days 13:45:07"),
            (P::Milliseconds, "1234 years 5 mons 17 days 13:45:07.123"),
            (P::Microseconds, "1234 years 5 mons 17 days 13:45:07.123456"),
        ] {
            assert_eq!(i.truncate(units).to_string(), want, "{units}");
        }
        // Negative fields truncate toward zero:
        // date_trunc('hour', interval '-1 day -25:30:00') = '-1 days -25:00:00'
        let n = Interval::new(0, -1, -(25 * USECS_PER_HOUR + 30 * USECS_PER_MINUTE)).unwrap();
        assert_eq!(n.truncate(P::Hour).to_string(), "-1 days -25:00:00");
    }

    #[test]
    fn iso_strings_as_to_json() {
        assert_eq!(
            ts("2024-02-29 13:45:00.5").to_iso_string(),
            "2024-02-29T13:45:00.5"
        );
        assert_eq!(
            ts("0044-03-15 12:00 BC").to_iso_string(),
            "0044-03-15T12:00:00 BC"
        );
        assert_eq!(Timestamp::positive_infinity().to_iso_string(), "infinity");
        assert_eq!(
            "0044-03-15 BC".parse::<Date>().unwrap().to_iso_string(),
            "0044-03-15 BC"
        );
        assert_eq!(
            Time::new(13, 45, 0.5).unwrap().to_iso_string(),
            "13:45:00.5"
        );
        let tz: TimeWithTimeZone = "13:45:00+05:30".parse().unwrap();
        assert_eq!(tz.to_iso_string(), "13:45:00+05:30");
        let tz: TimeWithTimeZone = "13:45:00+00".parse().unwrap();
        assert_eq!(tz.to_iso_string(), "13:45:00+00:00");
        let tz: TimeWithTimeZone = "13:45:00-03:30:15".parse().unwrap();
        assert_eq!(tz.to_iso_string(), "13:45:00-03:30:15");
        assert_eq!(Interval::from_days(3).to_iso_string(), "3 days");
    }
}
