//! SQL `date`: its calendar fields and day arithmetic.

use super::*;

/// SQL `date`: days since 2000-01-01; `i32::MAX`/`MIN` are ±infinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date(pub(super) i32);

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

    /// PostgreSQL's representation (DateADT), as `to_pg_epoch_days`.
    pub const fn into_inner(self) -> i32 {
        self.0
    }

    /// Days since 2000-01-01, beyond the supported range taken as the
    /// infinity on that side.
    pub fn saturating_from_raw(days: i32) -> Date {
        match i64::from(days) {
            d if d < DATE_MIN => Date::negative_infinity(),
            d if d >= DATE_END => Date::positive_infinity(),
            _ => Date(days),
        }
    }

    /// Seconds since 1970-01-01 00:00:00 of the date's midnight (a
    /// `time_t`); the infinities give `i64::MAX`/`MIN`.
    pub fn to_posix_time(&self) -> i64 {
        match (self.is_infinity(), self.is_neg_infinity()) {
            (true, _) => i64::MAX,
            (_, true) => i64::MIN,
            _ => i64::from(self.to_unix_epoch_days()) * 86_400,
        }
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
