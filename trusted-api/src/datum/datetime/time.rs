//! SQL `time` and `timetz`.

use super::*;

/// SQL `time`: microseconds since midnight, 0 to 24:00:00 inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Time(pub(super) i64);

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

    /// PostgreSQL's representation (TimeADT), as `to_micros`.
    pub const fn into_inner(self) -> i64 {
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
    pub(super) time: i64,
    /// Seconds WEST of UTC, as PostgreSQL stores it.
    pub(super) zone: i32,
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
