//! The types' values, text and binary formats against PostgreSQL's.

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
    assert_eq!(
        Date::saturating_from_raw(-2_451_546),
        Date::negative_infinity()
    );
    assert_eq!(
        Date::saturating_from_raw(2_145_031_949),
        Date::positive_infinity()
    );
    assert_eq!(Date::saturating_from_raw(0).into_inner(), 0);
    assert_eq!(Date::new(1970, 1, 2).unwrap().to_posix_time(), 86_400);
    assert_eq!(Date::new(1969, 12, 31).unwrap().to_posix_time(), -86_400);
    assert_eq!(Time::ALLBALLS.into_inner(), 0);
    assert_eq!(Timestamp::from_pg_epoch_micros(5).into_inner(), 5);
    assert_eq!(
        TimestampWithTimeZone::negative_infinity().into_inner(),
        i64::MIN
    );
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
    let i = Interval::new(14, 3, 4 * USECS_PER_HOUR + 5 * USECS_PER_MINUTE + 6_500_000).unwrap();
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
