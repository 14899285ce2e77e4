//! SQL `interval`: the type, its comparison, text form and binary format.

use super::*;

/// SQL `interval`: months, days and microseconds, kept apart as
/// PostgreSQL keeps them.  Compared (and hashed) as PostgreSQL compares
/// them, with a month as 30 days and a day as 24 hours, so `1 mon` equals
/// `30 days`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Interval {
    pub(super) months: i32,
    pub(super) days: i32,
    pub(super) micros: i64,
}

impl Interval {
    /// Never fails (any combination is a valid interval); the `Result`
    /// is kept for pgrx compatibility.
    pub fn new(months: i32, days: i32, micros: i64) -> Result<Interval, IntervalConversionError> {
        Ok(Interval {
            months,
            days,
            micros,
        })
    }

    pub const fn from_micros(micros: i64) -> Interval {
        Interval {
            months: 0,
            days: 0,
            micros,
        }
    }

    pub const fn from_days(days: i32) -> Interval {
        Interval {
            months: 0,
            days,
            micros: 0,
        }
    }

    pub const fn from_months(months: i32) -> Interval {
        Interval {
            months,
            days: 0,
            micros: 0,
        }
    }

    pub const fn months(&self) -> i32 {
        self.months
    }

    pub const fn days(&self) -> i32 {
        self.days
    }

    pub const fn micros(&self) -> i64 {
        self.micros
    }

    /// PostgreSQL's interval_cmp_value.
    fn span(&self) -> i128 {
        i128::from(self.micros)
            + (i128::from(self.months) * 30 + i128::from(self.days)) * i128::from(USECS_PER_DAY)
    }

    pub fn checked_add(&self, other: &Interval) -> Option<Interval> {
        Some(Interval {
            months: self.months.checked_add(other.months)?,
            days: self.days.checked_add(other.days)?,
            micros: self.micros.checked_add(other.micros)?,
        })
    }

    pub fn checked_neg(&self) -> Option<Interval> {
        Some(Interval {
            months: self.months.checked_neg()?,
            days: self.days.checked_neg()?,
            micros: self.micros.checked_neg()?,
        })
    }
}

impl PartialEq for Interval {
    fn eq(&self, other: &Interval) -> bool {
        self.span() == other.span()
    }
}

impl Eq for Interval {}

impl Ord for Interval {
    fn cmp(&self, other: &Interval) -> Ordering {
        self.span().cmp(&other.span())
    }
}

impl PartialOrd for Interval {
    fn partial_cmp(&self, other: &Interval) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Hash for Interval {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.span().hash(state);
    }
}

impl Add for Interval {
    type Output = Interval;
    fn add(self, other: Interval) -> Interval {
        self.checked_add(&other)
            .unwrap_or_else(|| interval_out_of_range())
    }
}

impl Sub for Interval {
    type Output = Interval;
    fn sub(self, other: Interval) -> Interval {
        self + -other
    }
}

impl Neg for Interval {
    type Output = Interval;
    fn neg(self) -> Interval {
        self.checked_neg()
            .unwrap_or_else(|| interval_out_of_range())
    }
}

/// PostgreSQL's default IntervalStyle (`postgres`):
/// `1 year 2 mons 3 days 04:05:06.5`.
impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let year = self.months / 12;
        let mon = self.months % 12;
        let mday = self.days;
        let hour = self.micros / USECS_PER_HOUR;
        let rest = self.micros - hour * USECS_PER_HOUR;
        let min = rest / USECS_PER_MINUTE;
        let sec_micros = rest - min * USECS_PER_MINUTE;

        let mut is_zero = true;
        let mut is_before = false;
        for (value, unit) in [(year, "year"), (mon, "mon"), (mday, "day")] {
            if value == 0 {
                continue;
            }
            write!(
                f,
                "{}{}{} {}{}",
                if is_zero { "" } else { " " },
                if is_before && value > 0 { "+" } else { "" },
                value,
                unit,
                if value != 1 { "s" } else { "" }
            )?;
            is_before = value < 0;
            is_zero = false;
        }
        if is_zero || hour != 0 || min != 0 || sec_micros != 0 {
            let minus = hour < 0 || min < 0 || sec_micros < 0;
            write!(
                f,
                "{}{}{:02}:{:02}:",
                if is_zero { "" } else { " " },
                if minus {
                    "-"
                } else if is_before {
                    "+"
                } else {
                    ""
                },
                hour.unsigned_abs(),
                min.unsigned_abs()
            )?;
            write_seconds(f, sec_micros)?;
        }
        Ok(())
    }
}

impl FromDatum for Interval {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<Interval>(oid, &[INTERVALOID])?;
        let mut r = Reader::new(bytes, "Interval");
        let micros = r.i64()?;
        let days = r.i32()?;
        let months = r.i32()?;
        r.finish()?;
        Ok(Interval {
            months,
            days,
            micros,
        })
    }
}

impl IntoDatum for Interval {
    fn into_datum(self) -> Option<Datum> {
        let mut b = Vec::with_capacity(16);
        b.extend_from_slice(&self.micros.to_be_bytes());
        b.extend_from_slice(&self.days.to_be_bytes());
        b.extend_from_slice(&self.months.to_be_bytes());
        datum(INTERVALOID, b)
    }
    fn type_oid() -> TypeOid {
        INTERVALOID
    }
}

const DAYS_PER_MONTH: i32 = 30;

/// make_interval's arithmetic: `years * 12 + months` months, `weeks * 7 +
/// days` days, and the time part with the seconds rounded to the
/// microsecond (rint, ties to even).  PostgreSQL 15 lets the integer
/// products wrap; 16 and later call it "interval out of range", as here.
fn make_interval(
    years: i32,
    months: i32,
    weeks: i32,
    days: i32,
    hours: i32,
    minutes: i32,
    seconds: f64,
) -> Result<Interval, IntervalConversionError> {
    let overflow = IntervalConversionError::OutOfRange;
    let months = years
        .checked_mul(12)
        .and_then(|m| m.checked_add(months))
        .ok_or(overflow)?;
    let days = weeks
        .checked_mul(7)
        .and_then(|d| d.checked_add(days))
        .ok_or(overflow)?;
    let usecs = (seconds * USECS_PER_SEC as f64).round_ties_even();
    // -2^63 is exact as an f64, 2^63 is the first value past i64::MAX.
    if !usecs.is_finite() || usecs < i64::MIN as f64 || usecs >= -(i64::MIN as f64) {
        return Err(overflow);
    }
    let micros = i64::from(hours)
        .checked_mul(USECS_PER_HOUR)
        .and_then(|t| t.checked_add(i64::from(minutes) * USECS_PER_MINUTE))
        .and_then(|t| t.checked_add(usecs as i64))
        .ok_or(overflow)?;
    Ok(Interval {
        months,
        days,
        micros,
    })
}

/// The ERROR of an interval operator that overflows.
#[track_caller]
pub(super) fn interval_out_of_range() -> ! {
    out_of_range("interval")
}

impl Interval {
    /// `years` years (12 months each); an ERROR past `i32::MAX` months.
    pub fn from_years(years: i32) -> Interval {
        Interval::from(Some(years), None, None, None, None, None, None)
            .unwrap_or_else(|_| interval_out_of_range())
    }

    /// `weeks` weeks of 7 days.
    pub fn from_weeks(weeks: i32) -> Interval {
        Interval::from(None, None, Some(weeks), None, None, None, None)
            .unwrap_or_else(|_| interval_out_of_range())
    }

    pub fn from_hours(hours: i32) -> Interval {
        Interval::from_micros(i64::from(hours) * USECS_PER_HOUR)
    }

    pub fn from_minutes(minutes: i32) -> Interval {
        Interval::from_micros(i64::from(minutes) * USECS_PER_MINUTE)
    }

    /// Rounded to the microsecond; an ERROR for NaN, infinities and more
    /// than 2^63 microseconds.
    pub fn from_seconds(seconds: f64) -> Interval {
        Interval::from(None, None, None, None, None, None, Some(seconds))
            .unwrap_or_else(|_| interval_out_of_range())
    }

    /// SQL's make_interval(years, months, weeks, days, hours, mins, secs),
    /// missing parts being 0.  As pgrx, parts of opposite signs are
    /// refused (`MismatchedSigns`); unlike pgrx, a missing or zero part
    /// goes with either sign (pgrx refuses `from(Some(-1), None, ..)`,
    /// taking the missing seconds for +0.0).
    #[allow(clippy::too_many_arguments)]
    pub fn from(
        years: Option<i32>,
        months: Option<i32>,
        weeks: Option<i32>,
        days: Option<i32>,
        hours: Option<i32>,
        minutes: Option<i32>,
        seconds: Option<f64>,
    ) -> Result<Interval, IntervalConversionError> {
        let ints = [years, months, weeks, days, hours, minutes].map(Option::unwrap_or_default);
        let seconds = seconds.unwrap_or_default();
        let negative = ints.iter().any(|v| *v < 0) || seconds < 0.0;
        let positive = ints.iter().any(|v| *v > 0) || seconds > 0.0;
        if negative && positive {
            return Err(IntervalConversionError::MismatchedSigns);
        }
        let [y, mo, w, d, h, mi] = ints;
        make_interval(y, mo, w, d, h, mi, seconds)
    }

    /// The whole span in microseconds, a month as 30 days and a day as 24
    /// hours (what comparisons use).
    pub fn as_micros(&self) -> i128 {
        self.span()
    }

    /// Each field's absolute value (an ERROR for a field at its minimum).
    pub fn abs(self) -> Interval {
        let (Some(months), Some(days), Some(micros)) = (
            self.months.checked_abs(),
            self.days.checked_abs(),
            self.micros.checked_abs(),
        ) else {
            interval_out_of_range()
        };
        Interval {
            months,
            days,
            micros,
        }
    }

    /// pgrx's: 0, or 1 or -1 microsecond, by `is_negative`.
    pub fn signum(self) -> Interval {
        if self.months == 0 && self.days == 0 && self.micros == 0 {
            Interval::from_micros(0)
        } else if self.is_positive() {
            Interval::from_micros(1)
        } else {
            Interval::from_micros(-1)
        }
    }

    /// pgrx's: not `is_negative` (so a zero interval is positive).
    pub fn is_positive(self) -> bool {
        !self.is_negative()
    }

    /// pgrx's: any field negative.
    pub fn is_negative(self) -> bool {
        self.months < 0 || self.days < 0 || self.micros < 0
    }

    /// Always true: PostgreSQL up to 16 has no infinite intervals.
    pub fn is_finite(&self) -> bool {
        true
    }

    /// justify_days: whole 30-day groups into months, then the day field
    /// given the months' sign.
    pub fn justify_days(self) -> Interval {
        let mut r = self;
        let whole_months = r.days / DAYS_PER_MONTH;
        r.days -= whole_months * DAYS_PER_MONTH;
        r.months = r
            .months
            .checked_add(whole_months)
            .unwrap_or_else(|| interval_out_of_range());
        if r.months > 0 && r.days < 0 {
            r.days += DAYS_PER_MONTH;
            r.months -= 1;
        } else if r.months < 0 && r.days > 0 {
            r.days -= DAYS_PER_MONTH;
            r.months += 1;
        }
        r
    }

    /// justify_hours: whole 24-hour groups into days, then the time field
    /// given the days' sign.
    pub fn justify_hours(self) -> Interval {
        let mut r = self;
        let whole_days = r.micros / USECS_PER_DAY;
        r.micros -= whole_days * USECS_PER_DAY;
        // |whole_days| < 2^63 / 86400e6, about 1.07e8: fits in an i32.
        r.days = r
            .days
            .checked_add(whole_days as i32)
            .unwrap_or_else(|| interval_out_of_range());
        if r.days > 0 && r.micros < 0 {
            r.micros += USECS_PER_DAY;
            r.days -= 1;
        } else if r.days < 0 && r.micros > 0 {
            r.micros -= USECS_PER_DAY;
            r.days += 1;
        }
        r
    }

    /// justify_interval: both, with every field given one sign at the end
    /// (PostgreSQL's order of steps, which matters for mixed signs).
    pub fn justify(self) -> Interval {
        let mut r = self;
        // Pre-justify the days when they share the time's sign, so that
        // adding the time's whole days to them cannot overflow.
        if (r.days > 0 && r.micros > 0) || (r.days < 0 && r.micros < 0) {
            let whole_months = r.days / DAYS_PER_MONTH;
            r.days -= whole_months * DAYS_PER_MONTH;
            r.months = r
                .months
                .checked_add(whole_months)
                .unwrap_or_else(|| interval_out_of_range());
        }
        let whole_days = r.micros / USECS_PER_DAY;
        r.micros -= whole_days * USECS_PER_DAY;
        r.days = r
            .days
            .checked_add(whole_days as i32)
            .unwrap_or_else(|| interval_out_of_range());
        let whole_months = r.days / DAYS_PER_MONTH;
        r.days -= whole_months * DAYS_PER_MONTH;
        r.months = r
            .months
            .checked_add(whole_months)
            .unwrap_or_else(|| interval_out_of_range());
        if r.months > 0 && (r.days < 0 || (r.days == 0 && r.micros < 0)) {
            r.days += DAYS_PER_MONTH;
            r.months -= 1;
        } else if r.months < 0 && (r.days > 0 || (r.days == 0 && r.micros > 0)) {
            r.days -= DAYS_PER_MONTH;
            r.months += 1;
        }
        if r.days > 0 && r.micros < 0 {
            r.micros += USECS_PER_DAY;
            r.days -= 1;
        } else if r.days < 0 && r.micros > 0 {
            r.micros -= USECS_PER_DAY;
            r.days += 1;
        }
        r
    }
}

/// pgrx's: as many whole months of 30 days as fit, then whole days, then
/// microseconds (sub-microsecond parts dropped).
impl TryFrom<std::time::Duration> for Interval {
    type Error = IntervalConversionError;
    fn try_from(d: std::time::Duration) -> Result<Interval, IntervalConversionError> {
        let micros = d.as_micros();
        let day = USECS_PER_DAY as u128;
        let month = day * DAYS_PER_MONTH as u128;
        let months = i32::try_from(micros / month)
            .map_err(|_| IntervalConversionError::DurationMonthsOutOfBounds)?;
        let rest = micros % month;
        // Below 30 days, so both fit.
        Ok(Interval {
            months,
            days: (rest / day) as i32,
            micros: (rest % day) as i64,
        })
    }
}

/// pgrx's: the span with a month as 30 days; refused if any field is
/// negative.
impl TryFrom<Interval> for std::time::Duration {
    type Error = IntervalConversionError;
    fn try_from(i: Interval) -> Result<std::time::Duration, IntervalConversionError> {
        if i.is_negative() {
            return Err(IntervalConversionError::NegativeInterval);
        }
        u64::try_from(i.span())
            .map(std::time::Duration::from_micros)
            .map_err(|_| IntervalConversionError::IntervalTooLarge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(months: i32, days: i32, micros: i64) -> Interval {
        Interval::new(months, days, micros).unwrap()
    }

    fn fields(i: Interval) -> (i32, i32, i64) {
        (i.months, i.days, i.micros)
    }

    #[test]
    fn constructors_as_make_interval() {
        assert_eq!(fields(Interval::from_years(2)), (24, 0, 0));
        assert_eq!(fields(Interval::from_years(-1)), (-12, 0, 0));
        assert_eq!(fields(Interval::from_weeks(3)), (0, 21, 0));
        assert_eq!(
            fields(Interval::from_hours(-25)),
            (0, 0, -25 * USECS_PER_HOUR)
        );
        assert_eq!(
            fields(Interval::from_minutes(90)),
            (0, 0, 90 * USECS_PER_MINUTE)
        );
        // make_interval(secs => 1.5) is 00:00:01.5; rint's ties to even.
        assert_eq!(fields(Interval::from_seconds(1.5)), (0, 0, 1_500_000));
        assert_eq!(fields(Interval::from_seconds(0.0000025)), (0, 0, 2));
        assert_eq!(
            Interval::from(
                Some(1),
                Some(2),
                Some(1),
                Some(3),
                Some(4),
                Some(5),
                Some(6.5)
            )
            .unwrap()
            .to_string(),
            "1 year 2 mons 10 days 04:05:06.5"
        );
        assert_eq!(
            Interval::from(Some(1), Some(-2), None, None, None, None, None),
            Err(IntervalConversionError::MismatchedSigns)
        );
        assert_eq!(
            Interval::from(None, None, None, Some(-1), None, None, Some(-0.5))
                .unwrap()
                .to_string(),
            "-1 days -00:00:00.5"
        );
        assert_eq!(
            Interval::from(Some(i32::MAX), None, None, None, None, None, None),
            Err(IntervalConversionError::OutOfRange)
        );
        assert_eq!(
            Interval::from(None, None, None, None, None, None, Some(f64::NAN)),
            Err(IntervalConversionError::OutOfRange)
        );
    }

    #[test]
    fn signs_and_spans() {
        assert_eq!(iv(1, 2, 3).as_micros(), 32 * USECS_PER_DAY as i128 + 3);
        assert_eq!(fields(iv(-1, 2, -3).abs()), (1, 2, 3));
        assert_eq!(fields(iv(0, 0, 0).signum()), (0, 0, 0));
        assert_eq!(fields(iv(0, -1, 5).signum()), (0, 0, -1));
        assert_eq!(fields(iv(1, 0, 0).signum()), (0, 0, 1));
        assert!(iv(0, 0, 0).is_positive() && !iv(0, 0, 0).is_negative());
        assert!(iv(1, 0, -1).is_negative());
    }

    #[test]
    fn justify_as_postgres() {
        let s = |i: Interval| i.to_string();
        // SELECT justify_days('35 days') = '1 mon 5 days'
        assert_eq!(s(iv(0, 35, 0).justify_days()), "1 mon 5 days");
        // justify_days('1 mon -5 days') = '25 days'
        assert_eq!(s(iv(1, -5, 0).justify_days()), "25 days");
        // justify_days('-35 days') = '-1 mons -5 days'
        assert_eq!(s(iv(0, -35, 0).justify_days()), "-1 mons -5 days");
        // justify_hours('27 hours') = '1 day 03:00:00'
        assert_eq!(
            s(iv(0, 0, 27 * USECS_PER_HOUR).justify_hours()),
            "1 day 03:00:00"
        );
        // justify_hours('1 day -1 hour') = '23:00:00'
        assert_eq!(s(iv(0, 1, -USECS_PER_HOUR).justify_hours()), "23:00:00");
        // justify_hours('-27 hours') = '-1 days -03:00:00'
        assert_eq!(
            s(iv(0, 0, -27 * USECS_PER_HOUR).justify_hours()),
            "-1 days -03:00:00"
        );
        // justify_interval('1 mon -1 hour') = '29 days 23:00:00'
        assert_eq!(s(iv(1, 0, -USECS_PER_HOUR).justify()), "29 days 23:00:00");
        // justify_interval('-1 mon 1 hour') = '-29 days -23:00:00'
        assert_eq!(s(iv(-1, 0, USECS_PER_HOUR).justify()), "-29 days -23:00:00");
        // justify_interval('1 mon 33 days 25 hours') = '2 mons 4 days 01:00:00'
        assert_eq!(
            s(iv(1, 33, 25 * USECS_PER_HOUR).justify()),
            "2 mons 4 days 01:00:00"
        );
        // justify_interval('2147483647 mons 29 days 24 hours'): out of range
        assert!(std::panic::catch_unwind(|| iv(i32::MAX, 29, USECS_PER_DAY).justify()).is_err());
    }

    #[test]
    fn durations() {
        use std::time::Duration;
        let d = Duration::from_secs(31 * 86400 + 3600) + Duration::from_nanos(1500);
        assert_eq!(
            fields(Interval::try_from(d).unwrap()),
            (1, 1, 3_600_000_001)
        );
        assert_eq!(
            Duration::try_from(iv(1, 1, 3_600_000_001)).unwrap(),
            Duration::from_micros(31 * 86_400_000_000 + 3_600_000_001)
        );
        assert_eq!(
            Duration::try_from(iv(0, 0, -1)),
            Err(IntervalConversionError::NegativeInterval)
        );
        assert_eq!(
            Interval::try_from(Duration::MAX),
            Err(IntervalConversionError::DurationMonthsOutOfBounds)
        );
        assert_eq!(
            Duration::try_from(iv(i32::MAX, i32::MAX, i64::MAX)),
            Err(IntervalConversionError::IntervalTooLarge)
        );
    }
}
