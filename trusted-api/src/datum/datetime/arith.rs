//! Operators between the date/time types (date + time, time + interval,
//! interval * float8, ...) and `age`, computed as PostgreSQL's date.c and
//! timestamp.c compute them.  What overflows is an ERROR with
//! PostgreSQL's SQLSTATE and message, as in SQL.

use super::interval::interval_out_of_range;
use super::*;
use crate::errcodes::PgSqlErrorCode;
use core::ops::{AddAssign, Div, DivAssign, Mul, MulAssign, SubAssign};

/// Days from 2000-01-01 to 294277-01-01, where timestamps end.
const TIMESTAMP_END_DAYS: i64 = TIMESTAMP_END / USECS_PER_DAY;

#[track_caller]
fn date_out_of_range_for_timestamp() -> ! {
    sql_error(
        PgSqlErrorCode::ERRCODE_DATETIME_VALUE_OUT_OF_RANGE,
        "date out of range for timestamp",
    )
}

/// date2timestamp: midnight of the date; the infinities map to the
/// timestamp infinities, and dates past 294276 AD are an ERROR.
pub(super) fn date_to_timestamp(d: Date) -> i64 {
    if d.is_neg_infinity() {
        i64::MIN
    } else if d.is_infinity() {
        i64::MAX
    } else if i64::from(d.0) >= TIMESTAMP_END_DAYS {
        date_out_of_range_for_timestamp()
    } else {
        // Julian day 0 is TIMESTAMP_MIN exactly, so this fits.
        i64::from(d.0) * USECS_PER_DAY
    }
}

/// `a + b` where PostgreSQL defines `b + a` (date_pli's `integer + date`,
/// interval_pl_time's `interval + time`, ...): the same sum.
macro_rules! commuted_add {
    ($($lhs:ident + $rhs:ident => $out:ident),* $(,)?) => {$(
        impl Add<$rhs> for $lhs {
            type Output = $out;
            fn add(self, rhs: $rhs) -> $out {
                rhs + self
            }
        }
    )*};
}

commuted_add! {
    i32 + Date => Date,
    Interval + Date => Timestamp,
    Time + Date => Timestamp,
    TimeWithTimeZone + Date => TimestampWithTimeZone,
    Interval + Time => Time,
    Interval + TimeWithTimeZone => TimeWithTimeZone,
    Interval + Timestamp => Timestamp,
    Interval + TimestampWithTimeZone => TimestampWithTimeZone,
}

/// date + interval: the date's midnight plus the interval (date_pl_interval).
impl Add<Interval> for Date {
    type Output = Timestamp;
    fn add(self, span: Interval) -> Timestamp {
        Timestamp::from(self) + span
    }
}

impl Sub<Interval> for Date {
    type Output = Timestamp;
    fn sub(self, span: Interval) -> Timestamp {
        Timestamp::from(self) - span
    }
}

/// datetime_timestamp: the date at that time of day.
impl Add<Time> for Date {
    type Output = Timestamp;
    fn add(self, time: Time) -> Timestamp {
        let t = date_to_timestamp(self);
        if !valid_finite(t) {
            return Timestamp(t);
        }
        match t.checked_add(time.0) {
            Some(t) if (TIMESTAMP_MIN..TIMESTAMP_END).contains(&t) => Timestamp(t),
            _ => out_of_range("timestamp"),
        }
    }
}

/// datetimetz_timestamptz: the instant the date's reading at that time
/// and offset names.
impl Add<TimeWithTimeZone> for Date {
    type Output = TimestampWithTimeZone;
    fn add(self, time: TimeWithTimeZone) -> TimestampWithTimeZone {
        if self.is_neg_infinity() {
            return TimestampWithTimeZone::negative_infinity();
        }
        if self.is_infinity() {
            return TimestampWithTimeZone::positive_infinity();
        }
        if i64::from(self.0) >= TIMESTAMP_END_DAYS {
            date_out_of_range_for_timestamp()
        }
        let t =
            i64::from(self.0) * USECS_PER_DAY + time.time + i64::from(time.zone) * USECS_PER_SEC;
        if !(TIMESTAMP_MIN..TIMESTAMP_END).contains(&t) {
            date_out_of_range_for_timestamp()
        }
        TimestampWithTimeZone(t)
    }
}

/// The time of day `micros` after `time`, around the clock as
/// time_pl_interval goes (24:00:00 + 0 is 00:00:00).
fn wrap_time(time: i64, micros: i128) -> i64 {
    (i128::from(time) + micros).rem_euclid(i128::from(USECS_PER_DAY)) as i64
}

/// time + interval: the interval's time part only (months and days are
/// whole days, which leave a time of day as it is), wrapping at midnight.
impl Add<Interval> for Time {
    type Output = Time;
    fn add(self, span: Interval) -> Time {
        Time(wrap_time(self.0, i128::from(span.micros)))
    }
}

impl Sub<Interval> for Time {
    type Output = Time;
    fn sub(self, span: Interval) -> Time {
        Time(wrap_time(self.0, -i128::from(span.micros)))
    }
}

/// time - time: the difference as an interval of microseconds.
impl Sub for Time {
    type Output = Interval;
    fn sub(self, other: Time) -> Interval {
        Interval::from_micros(self.0 - other.0)
    }
}

/// timetz + interval: as time + interval, the offset kept.
impl Add<Interval> for TimeWithTimeZone {
    type Output = TimeWithTimeZone;
    fn add(self, span: Interval) -> TimeWithTimeZone {
        TimeWithTimeZone {
            time: wrap_time(self.time, i128::from(span.micros)),
            zone: self.zone,
        }
    }
}

impl Sub<Interval> for TimeWithTimeZone {
    type Output = TimeWithTimeZone;
    fn sub(self, span: Interval) -> TimeWithTimeZone {
        TimeWithTimeZone {
            time: wrap_time(self.time, -i128::from(span.micros)),
            zone: self.zone,
        }
    }
}

impl AddAssign for Interval {
    fn add_assign(&mut self, other: Interval) {
        *self = *self + other;
    }
}

impl SubAssign for Interval {
    fn sub_assign(&mut self, other: Interval) {
        *self = *self - other;
    }
}

/// TSROUND: to the nearest microsecond's worth of the unit, so that
/// products like 0.1 * 30 days come out whole.
fn ts_round(x: f64) -> f64 {
    (x * 1e6).round_ties_even() / 1e6
}

/// A float as an i32 field, truncated toward zero as C's cast; NaN and
/// what does not fit are "interval out of range".
fn to_field(x: f64) -> i32 {
    if x.is_nan() || x > f64::from(i32::MAX) || x < f64::from(i32::MIN) {
        interval_out_of_range()
    }
    x as i32
}

/// interval_mul and interval_div: each field scaled by `scale` (times
/// or divided by the factor), the fractions of months cascading down
/// into days (30 to a month) and of days into the time (24 hours to a
/// day), never up.  PostgreSQL 15 lets some of these overflow silently
/// (in C's undefined ways); here every overflow is "interval out of
/// range", as in PostgreSQL 16 and later.
fn scale_interval(span: Interval, scale: impl Fn(f64) -> f64) -> Interval {
    let months = to_field(scale(f64::from(span.months)));
    let mut days = to_field(scale(f64::from(span.days)));
    let month_remainder_days = ts_round((scale(f64::from(span.months)) - f64::from(months)) * 30.0);
    let mut sec_remainder = ts_round(
        (scale(f64::from(span.days)) - f64::from(days) + month_remainder_days
            - month_remainder_days.trunc())
            * 86400.0,
    );
    // Rounding may give 24:00:00, and the cascades more than a day.
    if sec_remainder.abs() >= 86400.0 {
        let whole_days = (sec_remainder / 86400.0).trunc();
        days = days
            .checked_add(whole_days as i32)
            .unwrap_or_else(|| interval_out_of_range());
        sec_remainder -= whole_days * 86400.0;
    }
    days = days
        .checked_add(month_remainder_days as i32)
        .unwrap_or_else(|| interval_out_of_range());
    let micros =
        (scale(span.micros as f64) + sec_remainder * USECS_PER_SEC as f64).round_ties_even();
    // -2^63 is exact as an f64; 2^63 is the first value past i64::MAX.
    if micros.is_nan() || micros < i64::MIN as f64 || micros >= -(i64::MIN as f64) {
        interval_out_of_range()
    }
    Interval {
        months,
        days,
        micros: micros as i64,
    }
}

/// interval * float8.
impl Mul<f64> for Interval {
    type Output = Interval;
    fn mul(self, factor: f64) -> Interval {
        scale_interval(self, |x| x * factor)
    }
}

impl Mul<Interval> for f64 {
    type Output = Interval;
    fn mul(self, span: Interval) -> Interval {
        span * self
    }
}

impl MulAssign<f64> for Interval {
    fn mul_assign(&mut self, factor: f64) {
        *self = *self * factor;
    }
}

/// interval / float8; dividing by zero is an ERROR.
impl Div<f64> for Interval {
    type Output = Interval;
    fn div(self, divisor: f64) -> Interval {
        if divisor == 0.0 {
            sql_error(PgSqlErrorCode::ERRCODE_DIVISION_BY_ZERO, "division by zero")
        }
        scale_interval(self, |x| x / divisor)
    }
}

impl DivAssign<f64> for Interval {
    fn div_assign(&mut self, divisor: f64) {
        *self = *self / divisor;
    }
}

/// A finite timestamp's fields as timestamp2tm gives them: (astronomical
/// year, month, day, hour, minute, second, microsecond).
fn fields(t: i64) -> [i64; 7] {
    let (days, time) = split_timestamp(t);
    let (y, m, d) = j2date(days + POSTGRES_EPOCH_JDATE);
    [
        i64::from(y),
        i64::from(m),
        i64::from(d),
        time / USECS_PER_HOUR,
        time / USECS_PER_MINUTE % 60,
        time / USECS_PER_SEC % 60,
        time % USECS_PER_SEC,
    ]
}

/// timestamp_age: field-by-field differences (of the later minus the
/// earlier), made non-negative by borrowing from the next larger field,
/// then given the sign of a - b.  A day borrowed from the months is the
/// length of `a`'s month when a < b, else of `b`'s, as in PostgreSQL.
pub(super) fn age(a: i64, b: i64) -> Interval {
    if !(valid_finite(a) && valid_finite(b)) {
        out_of_range("timestamp")
    }
    let (fa, fb) = (fields(a), fields(b));
    let flip = if a < b { -1 } else { 1 };
    let mut d: [i64; 7] = core::array::from_fn(|i| (fa[i] - fb[i]) * flip);
    // d = [year, mon, mday, hour, min, sec, usec]
    while d[6] < 0 {
        d[6] += USECS_PER_SEC;
        d[5] -= 1;
    }
    while d[5] < 0 {
        d[5] += 60;
        d[4] -= 1;
    }
    while d[4] < 0 {
        d[4] += 60;
        d[3] -= 1;
    }
    while d[3] < 0 {
        d[3] += 24;
        d[2] -= 1;
    }
    let borrow_from = if a < b { &fa } else { &fb };
    while d[2] < 0 {
        d[2] += days_in_month(borrow_from[0], borrow_from[1]);
        d[1] -= 1;
    }
    while d[1] < 0 {
        d[1] += 12;
        d[0] -= 1;
    }
    let d = d.map(|v| v * flip);
    // itm2interval
    let months = d[0] * 12 + d[1];
    let micros = ((d[3] * 60 + d[4]) * 60 + d[5]) * USECS_PER_SEC + d[6];
    match (i32::try_from(months), i32::try_from(d[2])) {
        (Ok(months), Ok(days)) => Interval {
            months,
            days,
            micros,
        },
        _ => interval_out_of_range(),
    }
}

impl Timestamp {
    /// age(self, other): the difference in years, months and days, as
    /// PostgreSQL's age: age('2001-04-10', '1957-06-13') is 43 years 9
    /// mons 27 days.
    pub fn age(&self, other: &Timestamp) -> Interval {
        age(self.0, other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }
    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }
    fn time(s: &str) -> Time {
        s.parse().unwrap()
    }
    fn hours(h: i64) -> Interval {
        Interval::from_micros(h * USECS_PER_HOUR)
    }

    #[test]
    fn dates_with_times_and_intervals() {
        let d = date("2024-02-29");
        assert_eq!(1 + d, date("2024-03-01"));
        assert_eq!(
            (d + time("13:45:00.5")).to_string(),
            "2024-02-29 13:45:00.5"
        );
        assert_eq!((time("24:00") + d).to_string(), "2024-03-01 00:00:00");
        // date '2024-01-31' + interval '1 mon' = '2024-02-29 00:00:00'
        assert_eq!(
            (date("2024-01-31") + Interval::from_months(1)).to_string(),
            "2024-02-29 00:00:00"
        );
        assert_eq!((d - hours(1)).to_string(), "2024-02-28 23:00:00");
        assert_eq!(
            (Interval::from_days(1) + d).to_string(),
            "2024-03-01 00:00:00"
        );
        assert_eq!(
            Date::positive_infinity() + time("12:00"),
            Timestamp::positive_infinity()
        );
        let tz: TimeWithTimeZone = "13:45:00+05:30".parse().unwrap();
        // date '2024-02-29' + timetz '13:45+05:30' = '2024-02-29 08:15:00+00'
        assert_eq!((d + tz).to_string(), "2024-02-29 08:15:00+00");
        assert_eq!((tz + d).to_string(), "2024-02-29 08:15:00+00");
        assert!(std::panic::catch_unwind(|| date("294277-01-01") + time("00:00")).is_err());
        assert!(std::panic::catch_unwind(|| Timestamp::from(date("5874897-01-01"))).is_err());
    }

    #[test]
    fn times_wrap_around_midnight() {
        let t = time("23:30");
        assert_eq!((t + hours(1)).to_string(), "00:30:00");
        assert_eq!((hours(1) + t).to_string(), "00:30:00");
        assert_eq!((time("00:30") - hours(1)).to_string(), "23:30:00");
        // Months and days do not move a time of day.
        assert_eq!(
            (t + Interval::new(1, 1, 0).unwrap()).to_string(),
            "23:30:00"
        );
        assert_eq!(
            (time("24:00") + Interval::from_micros(0)).to_string(),
            "00:00:00"
        );
        assert_eq!((t + hours(-49)).to_string(), "22:30:00");
        // 2^63 microseconds after 23:30, around the clock.
        assert_eq!(
            (t - Interval::from_micros(i64::MIN)).to_string(),
            "03:30:54.775808"
        );
        assert_eq!((t - time("00:30")).to_string(), "23:00:00");
        assert_eq!((time("00:30") - t).to_string(), "-23:00:00");
        let tz: TimeWithTimeZone = "23:30:00-03".parse().unwrap();
        assert_eq!((tz + hours(1)).to_string(), "00:30:00-03");
        assert_eq!((hours(1) + tz).to_string(), "00:30:00-03");
        assert_eq!((tz - hours(24)).to_string(), "23:30:00-03");
    }

    #[test]
    fn interval_scaling_as_postgres() {
        let s = |i: Interval| i.to_string();
        // SELECT interval '1 mon' * 0.5 = '15 days'
        assert_eq!(s(Interval::from_months(1) * 0.5), "15 days");
        // interval '1 day' * 1.5 = '1 day 12:00:00'
        assert_eq!(s(1.5 * Interval::from_days(1)), "1 day 12:00:00");
        // interval '1 mon' / 3 = '10 days'
        assert_eq!(s(Interval::from_months(1) / 3.0), "10 days");
        // interval '1 hour' * 2.5 = '02:30:00'
        assert_eq!(s(hours(1) * 2.5), "02:30:00");
        // Followed through interval_div's steps in IEEE doubles:
        // 12/7 months is 1 month and 21.428571 days, whose fraction and
        // 1/7 day make 13:42:51.391543.
        assert_eq!(
            s(Interval::new(12, 1, 0).unwrap() / 7.0),
            "1 mon 21 days 13:42:51.391543"
        );
        // -1.5 months is -1 month and -15 days; 4.5 days is 4 days and
        // 12 hours; nothing cascades up, so the signs stay mixed.
        assert_eq!(
            s(Interval::new(-1, 3, 0).unwrap() * 1.5),
            "-1 mons -11 days +12:00:00"
        );
        let mut i = Interval::from_days(2);
        i *= 2.0;
        i /= 4.0;
        i += hours(1);
        i -= hours(2);
        assert_eq!(s(i), "1 day -01:00:00");
        assert!(std::panic::catch_unwind(|| Interval::from_days(1) / 0.0).is_err());
        assert!(std::panic::catch_unwind(|| Interval::from_months(i32::MAX) * 2.0).is_err());
        assert!(std::panic::catch_unwind(|| Interval::from_days(1) * f64::NAN).is_err());
    }

    #[test]
    fn age_as_postgres() {
        let age = |a: &str, b: &str| ts(a).age(&ts(b)).to_string();
        // SELECT age(timestamp '2001-04-10', timestamp '1957-06-13')
        assert_eq!(age("2001-04-10", "1957-06-13"), "43 years 9 mons 27 days");
        assert_eq!(
            age("1957-06-13", "2001-04-10"),
            "-43 years -9 mons -27 days"
        );
        // age('2024-03-01', '2024-01-31') = '1 mon 1 day'
        assert_eq!(age("2024-03-01", "2024-01-31"), "1 mon 1 day");
        // age('2024-01-31', '2024-03-01') = '-1 mons -1 days': the borrow
        // is January's 31 days (the earlier operand's month).
        assert_eq!(age("2024-01-31", "2024-03-01"), "-1 mons -1 days");
        // age('2024-03-01 00:00', '2024-02-28 23:59:59.5') = '1 day 00:00:00.5'
        assert_eq!(
            age("2024-03-01 00:00", "2024-02-28 23:59:59.5"),
            "1 day 00:00:00.5"
        );
        assert_eq!(age("2024-03-01", "2024-03-01"), "00:00:00");
        assert!(
            std::panic::catch_unwind(|| Timestamp::positive_infinity().age(&ts("2000-01-01")))
                .is_err()
        );
    }
}
