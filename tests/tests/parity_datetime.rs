//! The date/time items of PL/Rust 1.2.8's surface, called from plrust
//! functions written as PL/Rust bodies, give what PostgreSQL itself gives:
//! each result is compared, as text, with the equivalent SQL expression in
//! the same SELECT (so a field, a sign or a numeric scale that differs
//! fails).  Timestamptz items are run under a time zone with daylight
//! saving, since they read the session's.

use plrust_tests::{client, error_of, one};
use postgres::Client;

fn create(c: &mut Client, sql: &str) {
    c.batch_execute(sql)
        .unwrap_or_else(|e| panic!("{e}: {:?}\n{sql}", e.as_db_error()));
}

/// `ours` and `theirs` (SQL expressions) are equal as text.
fn same(c: &mut Client, ours: &str, theirs: &str) {
    let sql = format!("SELECT ({ours})::text, ({theirs})::text");
    let row = c
        .query_one(&sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}: {:?}", e.as_db_error()));
    let (a, b): (Option<String>, Option<String>) = (row.get(0), row.get(1));
    assert_eq!(a, b, "{ours} against {theirs}");
}

/// `ours` fails with the SQLSTATE `theirs` fails with.
fn same_error(c: &mut Client, ours: &str, theirs: &str) {
    let a = error_of(c, &format!("SELECT {ours}"));
    let b = error_of(c, &format!("SELECT {theirs}"));
    assert_eq!(
        a.code().code(),
        b.code().code(),
        "{ours}: {} against {theirs}: {}",
        a.message(),
        b.message()
    );
}

/// A unit's name (`unit`, a `&str`) as DateTimeParts, for the bodies.
const PART_OF_UNIT: &str = r#"
    let part = match unit {
        "century" => DateTimeParts::Century,
        "day" => DateTimeParts::Day,
        "decade" => DateTimeParts::Decade,
        "dow" => DateTimeParts::DayOfWeek,
        "doy" => DateTimeParts::DayOfYear,
        "epoch" => DateTimeParts::Epoch,
        "hour" => DateTimeParts::Hour,
        "isodow" => DateTimeParts::ISODayOfWeek,
        "isoyear" => DateTimeParts::ISOYear,
        "julian" => DateTimeParts::Julian,
        "microseconds" => DateTimeParts::Microseconds,
        "millennium" => DateTimeParts::Millennium,
        "milliseconds" => DateTimeParts::Milliseconds,
        "minute" => DateTimeParts::Minute,
        "month" => DateTimeParts::Month,
        "quarter" => DateTimeParts::Quarter,
        "second" => DateTimeParts::Second,
        "timezone" => DateTimeParts::Timezone,
        "timezone_hour" => DateTimeParts::TimezoneHour,
        "timezone_minute" => DateTimeParts::TimezoneMinute,
        "week" => DateTimeParts::Week,
        "year" => DateTimeParts::Year,
        other => panic!("no part {other}"),
    };
"#;

const TRUNC_UNITS: &[&str] = &[
    "millennium",
    "century",
    "decade",
    "year",
    "quarter",
    "month",
    "week",
    "day",
    "hour",
    "minute",
    "second",
    "milliseconds",
    "microseconds",
];

#[test]
fn interval_constructors_are_make_interval() {
    let mut c = client();
    create(
        &mut c,
        r#"
CREATE OR REPLACE FUNCTION parity_datetime_make_interval(y int, mo int, w int, d int, h int, mi int, s float8)
RETURNS interval STRICT LANGUAGE plrust AS $$
    Ok(Some(Interval::from(Some(y), Some(mo), Some(w), Some(d), Some(h), Some(mi), Some(s))?))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_from_unit(unit text, n int) RETURNS interval STRICT LANGUAGE plrust AS $$
    Ok(Some(match unit {
        "years" => Interval::from_years(n),
        "months" => Interval::from_months(n),
        "weeks" => Interval::from_weeks(n),
        "days" => Interval::from_days(n),
        "hours" => Interval::from_hours(n),
        "mins" => Interval::from_minutes(n),
        "secs" => Interval::from_seconds(n as f64 / 8.0),
        other => panic!("{other}"),
    }))
$$;
"#,
    );
    for args in [
        "1, 2, 3, 4, 5, 6, 7.5",
        "0, 0, 0, 0, 0, 0, 0",
        "-1, -2, 0, -3, -4, -5, -6.25",
        "0, 0, 0, 0, 0, 0, 0.0000005",
        "0, 0, 0, 0, 0, 0, 1.0000015",
        "100, 11, 52, 6, 23, 59, 59.999999",
    ] {
        same(
            &mut c,
            &format!("parity_datetime_make_interval({args})"),
            &format!("make_interval({args})"),
        );
    }
    for unit in ["years", "months", "weeks", "days", "hours", "mins"] {
        for n in [0, 3, -7, 100000] {
            same(
                &mut c,
                &format!("parity_datetime_from_unit('{unit}', {n})"),
                &format!("make_interval({unit} => {n})"),
            );
        }
    }
    for n in [0, 3, -7, 100000] {
        same(
            &mut c,
            &format!("parity_datetime_from_unit('secs', {n})"),
            &format!("make_interval(secs => {n} / 8.0)"),
        );
    }
    // Parts of opposite signs are refused (pgrx's MismatchedSigns).
    let e = error_of(
        &mut c,
        "SELECT parity_datetime_make_interval(1, -1, 0, 0, 0, 0, 0)",
    );
    assert!(e.message().contains("same sign"), "{}", e.message());
}

#[test]
fn justify_is_postgres_justify() {
    let mut c = client();
    create(
        &mut c,
        r#"
CREATE OR REPLACE FUNCTION parity_datetime_justify(i interval, which text) RETURNS interval STRICT LANGUAGE plrust AS $$
    Ok(Some(match which {
        "days" => i.justify_days(),
        "hours" => i.justify_hours(),
        _ => i.justify(),
    }))
$$;
"#,
    );
    for i in [
        "35 days",
        "-35 days",
        "1 mon -5 days",
        "27 hours",
        "-27 hours",
        "1 day -1 hour",
        "1 mon -1 hour",
        "-1 mon 1 hour",
        "1 mon 33 days 25 hours",
        "-1 year 400 days -1000 hours",
        "0",
        "6 mons 29 days 23:59:59.999999",
        "-2 mons 95 days -3000:00:01",
    ] {
        for (which, sql) in [
            ("days", "justify_days"),
            ("hours", "justify_hours"),
            ("interval", "justify_interval"),
        ] {
            same(
                &mut c,
                &format!("parity_datetime_justify('{i}', '{which}')"),
                &format!("{sql}('{i}'::interval)"),
            );
        }
    }
}

#[test]
fn interval_times_and_divided_by_a_float_as_in_sql() {
    let mut c = client();
    create(
        &mut c,
        r#"
CREATE OR REPLACE FUNCTION parity_datetime_scale(i interval, f float8, divide bool) RETURNS interval STRICT LANGUAGE plrust AS $$
    Ok(Some(if divide { i / f } else { f * i }))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_scale_assign(i interval, f float8) RETURNS interval STRICT LANGUAGE plrust AS $$
    let mut j = i;
    j *= f;
    j /= 2.0;
    j += i;
    j -= Interval::from_days(1);
    Ok(Some(j))
$$;
"#,
    );
    for i in [
        "1 mon",
        "1 day",
        "1 year 1 day",
        "-1 mon 3 days",
        "1 mon 1 day 01:02:03.456789",
        "2 hours",
        "-7 years -11 mons -29 days -23:59:59.999999",
    ] {
        for f in ["0.5", "1.5", "3", "-2.25", "0.1", "7", "0.001"] {
            same(
                &mut c,
                &format!("parity_datetime_scale('{i}', {f}, false)"),
                &format!("'{i}'::interval * {f}::float8"),
            );
            same(
                &mut c,
                &format!("parity_datetime_scale('{i}', {f}, true)"),
                &format!("'{i}'::interval / {f}::float8"),
            );
        }
        same(
            &mut c,
            &format!("parity_datetime_scale_assign('{i}', 3)"),
            &format!(
                "'{i}'::interval * 3::float8 / 2::float8 + '{i}'::interval - '1 day'::interval"
            ),
        );
    }
    same_error(
        &mut c,
        "parity_datetime_scale('1 day', 0, true)",
        "'1 day'::interval / 0::float8",
    );
    same_error(
        &mut c,
        "parity_datetime_scale('2147483647 mons', 2, false)",
        "'2147483647 mons'::interval * 2::float8",
    );
}

#[test]
fn truncate_is_date_trunc() {
    let mut c = client();
    create(
        &mut c,
        &r#"
CREATE OR REPLACE FUNCTION parity_datetime_trunc_ts(unit text, t timestamp) RETURNS timestamp STRICT LANGUAGE plrust AS $$
    PART_OF_UNIT
    Ok(Some(t.truncate(part)))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_trunc_tstz(unit text, t timestamptz) RETURNS timestamptz STRICT LANGUAGE plrust AS $$
    PART_OF_UNIT
    Ok(Some(t.truncate(part)))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_trunc_interval(unit text, i interval) RETURNS interval STRICT LANGUAGE plrust AS $$
    PART_OF_UNIT
    Ok(Some(i.truncate(part)))
$$;
"#
        .replace("PART_OF_UNIT", PART_OF_UNIT),
    );
    c.batch_execute("SET TimeZone = 'America/New_York'")
        .unwrap();
    for unit in TRUNC_UNITS {
        for t in [
            "2024-08-15 13:45:07.123456",
            "2021-01-01 10:00",
            "2000-12-31 23:59:59.999",
            "0005-06-01 12:00 BC",
            "0001-06-01 BC",
            "1999-01-03",
            "2020-12-31 23:59:59",
            "infinity",
        ] {
            same(
                &mut c,
                &format!("parity_datetime_trunc_ts('{unit}', '{t}')"),
                &format!("date_trunc('{unit}', '{t}'::timestamp)"),
            );
        }
        for t in [
            "2024-03-10 12:00:00+00",
            "2024-11-03 05:30:00+00",
            "2024-08-15 13:45:07.123456+02",
            "-infinity",
        ] {
            same(
                &mut c,
                &format!("parity_datetime_trunc_tstz('{unit}', '{t}')"),
                &format!("date_trunc('{unit}', '{t}'::timestamptz)"),
            );
        }
        if *unit == "week" {
            continue;
        }
        for i in [
            "1234 years 5 mons 17 days 13:45:07.123456",
            "-1 day -25:30:00",
            "-1234 years -5 mons",
            "0",
            "7 mons 00:00:00.0015",
        ] {
            same(
                &mut c,
                &format!("parity_datetime_trunc_interval('{unit}', '{i}')"),
                &format!("date_trunc('{unit}', '{i}'::interval)"),
            );
        }
    }
    for unit in ["dow", "epoch", "julian", "timezone"] {
        same_error(
            &mut c,
            &format!("parity_datetime_trunc_ts('{unit}', '2024-01-01')"),
            &format!("date_trunc('{unit}', '2024-01-01'::timestamp)"),
        );
    }
    same_error(
        &mut c,
        "parity_datetime_trunc_interval('week', '1 day')",
        "date_trunc('week', '1 day'::interval)",
    );
}

#[test]
fn extract_part_is_extract() {
    let mut c = client();
    let date_fields = [
        "century",
        "day",
        "decade",
        "dow",
        "doy",
        "epoch",
        "isodow",
        "isoyear",
        "julian",
        "millennium",
        "month",
        "quarter",
        "week",
        "year",
    ];
    let time_fields = ["hour", "minute", "second", "milliseconds", "microseconds"];
    let zone_fields = ["timezone", "timezone_hour", "timezone_minute"];
    let interval_fields = [
        "century",
        "day",
        "decade",
        "epoch",
        "hour",
        "microseconds",
        "millennium",
        "milliseconds",
        "minute",
        "month",
        "quarter",
        "second",
        "year",
    ];
    let cases: [(&str, Vec<&str>, &[&str]); 6] = [
        (
            "date",
            date_fields.to_vec(),
            &["2024-02-29", "0044-03-15 BC", "2021-01-01"],
        ),
        (
            "time",
            [&time_fields[..], &["epoch"]].concat(),
            &["13:45:07.5", "24:00"],
        ),
        (
            "timetz",
            [&time_fields[..], &zone_fields[..], &["epoch"]].concat(),
            &["13:45:07.5-03:30", "01:02:03+05:45"],
        ),
        (
            "timestamp",
            [&date_fields[..], &time_fields[..]].concat(),
            &["2024-02-29 13:45:07.5", "0044-03-15 12:00 BC"],
        ),
        (
            "timestamptz",
            [&date_fields[..], &time_fields[..], &zone_fields[..]].concat(),
            &["2024-03-10 06:59:59.5+00", "2024-07-01 12:00+00"],
        ),
        (
            "interval",
            interval_fields.to_vec(),
            &[
                "1234 years 5 mons 17 days 13:45:07.123456",
                "-1 day -25:30:00",
            ],
        ),
    ];
    c.batch_execute("SET TimeZone = 'America/New_York'")
        .unwrap();
    for (ty, fields, values) in cases {
        create(
            &mut c,
            &r#"
CREATE OR REPLACE FUNCTION parity_datetime_extract_TY(unit text, x TY) RETURNS numeric STRICT LANGUAGE plrust AS $$
    PART_OF_UNIT
    Ok(x.extract_part(part))
$$;
"#
            .replace("PART_OF_UNIT", PART_OF_UNIT)
            .replace("TY", ty),
        );
        for field in fields {
            for v in values {
                same(
                    &mut c,
                    &format!("parity_datetime_extract_{ty}('{field}', '{v}')"),
                    &format!("(EXTRACT({field} FROM '{v}'::{ty}))::numeric"),
                );
            }
        }
    }
    same_error(
        &mut c,
        "parity_datetime_extract_date('timezone', '2024-01-01')",
        "EXTRACT(timezone FROM '2024-01-01'::date)",
    );
}

#[test]
fn to_iso_string_is_to_json() {
    let mut c = client();
    c.batch_execute("SET TimeZone = 'America/New_York'")
        .unwrap();
    for (ty, values) in [
        ("date", &["2024-02-29", "0044-03-15 BC", "infinity"][..]),
        ("time", &["13:45:00.5", "24:00", "00:00"][..]),
        (
            "timestamp",
            &["2024-02-29 13:45:00.5", "0044-03-15 12:00 BC", "-infinity"][..],
        ),
        (
            "timestamptz",
            &[
                "2024-02-29 13:45:00.5+00",
                "2024-07-01 00:00+00",
                "infinity",
            ][..],
        ),
    ] {
        create(
            &mut c,
            &format!(
                "CREATE OR REPLACE FUNCTION parity_datetime_iso_{ty}(x {ty}) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(x.to_iso_string()))
$$;"
            ),
        );
        for v in values {
            same(
                &mut c,
                &format!("parity_datetime_iso_{ty}('{v}')"),
                &format!("to_json('{v}'::{ty}) #>> '{{}}'"),
            );
        }
    }
    // to_json gives a timetz as timetz_out prints it; pgrx's to_iso_string
    // is JsonEncodeDateTime's XSD form, which always has the zone's minutes
    // (as jsonpath's .datetime() values print).
    create(
        &mut c,
        "CREATE OR REPLACE FUNCTION parity_datetime_iso_timetz(x timetz) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(x.to_iso_string()))
$$;",
    );
    for (v, iso) in [
        ("13:45:00+05:30", "13:45:00+05:30"),
        ("01:02:03-03:30:15", "01:02:03-03:30:15"),
        ("00:00+00", "00:00:00+00:00"),
    ] {
        same(
            &mut c,
            &format!("parity_datetime_iso_timetz('{v}')"),
            &format!("'{iso}'"),
        );
    }
    create(
        &mut c,
        "CREATE OR REPLACE FUNCTION parity_datetime_iso_interval(x interval) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(x.to_iso_string()))
$$;",
    );
    same(
        &mut c,
        "parity_datetime_iso_interval('1 year 2 mons -3 days 04:05:06.5')",
        "'1 year 2 mons -3 days 04:05:06.5'::interval::text",
    );
}

#[test]
fn age_is_age() {
    let mut c = client();
    create(
        &mut c,
        r#"
CREATE OR REPLACE FUNCTION parity_datetime_age(a timestamp, b timestamp) RETURNS interval STRICT LANGUAGE plrust AS $$
    Ok(Some(a.age(&b)))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_age_tz(a timestamptz, b timestamptz) RETURNS interval STRICT LANGUAGE plrust AS $$
    Ok(Some(a.age(&b)))
$$;
"#,
    );
    for (a, b) in [
        ("2001-04-10", "1957-06-13"),
        ("2024-03-01", "2024-01-31"),
        ("2024-03-01 00:00", "2024-02-28 23:59:59.5"),
        ("2000-02-29", "1999-03-31 12:00"),
        ("0044-03-15 12:00 BC", "2024-01-01"),
        ("2024-05-31 23:00", "2024-02-29 23:30"),
        ("2024-01-01", "2024-01-01"),
    ] {
        same(
            &mut c,
            &format!("parity_datetime_age('{a}', '{b}')"),
            &format!("age('{a}'::timestamp, '{b}'::timestamp)"),
        );
        same(
            &mut c,
            &format!("parity_datetime_age('{b}', '{a}')"),
            &format!("age('{b}'::timestamp, '{a}'::timestamp)"),
        );
    }
    c.batch_execute("SET TimeZone = 'America/New_York'")
        .unwrap();
    for (a, b) in [
        ("2024-03-10 12:00+00", "2024-01-31 23:00+00"),
        ("2024-11-03 06:30+00", "2024-03-10 06:30+00"),
    ] {
        same(
            &mut c,
            &format!("parity_datetime_age_tz('{a}', '{b}')"),
            &format!("age('{a}'::timestamptz, '{b}'::timestamptz)"),
        );
    }
}

#[test]
fn conversions_are_casts() {
    let mut c = client();
    create(
        &mut c,
        r#"
CREATE OR REPLACE FUNCTION parity_datetime_tz_date(t timestamptz) RETURNS date STRICT LANGUAGE plrust AS $$
    Ok(Some(Date::from(t)))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_tz_time(t timestamptz) RETURNS time STRICT LANGUAGE plrust AS $$
    Ok(Some(Time::from(t)))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_tz_timetz(t timestamptz) RETURNS timetz STRICT LANGUAGE plrust AS $$
    Ok(Some(TimeWithTimeZone::from(t)))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_ts_date(t timestamp) RETURNS date STRICT LANGUAGE plrust AS $$
    Ok(Some(Date::from(t)))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_ts_time(t timestamp) RETURNS time STRICT LANGUAGE plrust AS $$
    Ok(Some(Time::from(t)))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_interval_time(i interval) RETURNS time STRICT LANGUAGE plrust AS $$
    Ok(Some(Time::from(i)))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_time_interval(t time) RETURNS interval STRICT LANGUAGE plrust AS $$
    let i: Interval = t.into();
    Ok(Some(i))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_timetz_time(t timetz) RETURNS time STRICT LANGUAGE plrust AS $$
    Ok(Some(Time::from(t)))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_date_ts(d date) RETURNS timestamp STRICT LANGUAGE plrust AS $$
    Ok(Some(Timestamp::from(d)))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_date_time_pair(d date, t time) RETURNS timestamp STRICT LANGUAGE plrust AS $$
    Ok(Some(Timestamp::from((d, t))))
$$;
"#,
    );
    for zone in ["Asia/Kolkata", "America/New_York"] {
        c.batch_execute(&format!("SET TimeZone = '{zone}'"))
            .unwrap();
        for t in [
            "2024-02-29 20:00+00",
            "2024-02-29 03:00+00",
            "2024-03-10 06:30+00",
        ] {
            for (f, ty) in [("date", "date"), ("time", "time"), ("timetz", "timetz")] {
                same(
                    &mut c,
                    &format!("parity_datetime_tz_{f}('{t}')"),
                    &format!("'{t}'::timestamptz::{ty}"),
                );
            }
        }
        same(
            &mut c,
            "parity_datetime_tz_date('infinity')",
            "'infinity'::timestamptz::date",
        );
    }
    for t in [
        "2024-02-29 13:45:00.5",
        "1999-12-31 23:59:59.999999",
        "0044-03-15 12:00 BC",
    ] {
        same(
            &mut c,
            &format!("parity_datetime_ts_date('{t}')"),
            &format!("'{t}'::timestamp::date"),
        );
        same(
            &mut c,
            &format!("parity_datetime_ts_time('{t}')"),
            &format!("'{t}'::timestamp::time"),
        );
    }
    same(
        &mut c,
        "parity_datetime_ts_date('-infinity')",
        "'-infinity'::timestamp::date",
    );
    for i in [
        "27 hours",
        "-1 hour",
        "1 mon 2 days 03:04:05",
        "-25:00:00.5",
        "0",
    ] {
        same(
            &mut c,
            &format!("parity_datetime_interval_time('{i}')"),
            &format!("'{i}'::interval::time"),
        );
    }
    for t in ["00:00", "13:45:00.5", "24:00"] {
        same(
            &mut c,
            &format!("parity_datetime_time_interval('{t}')"),
            &format!("'{t}'::time::interval"),
        );
    }
    for t in ["13:45:00.5+05:30", "23:59:59-11"] {
        same(
            &mut c,
            &format!("parity_datetime_timetz_time('{t}')"),
            &format!("'{t}'::timetz::time"),
        );
    }
    for d in ["2024-02-29", "0044-03-15 BC", "infinity", "-infinity"] {
        same(
            &mut c,
            &format!("parity_datetime_date_ts('{d}')"),
            &format!("'{d}'::date::timestamp"),
        );
        same(
            &mut c,
            &format!("parity_datetime_date_time_pair('{d}', '13:45:00.5')"),
            &format!("'{d}'::date + '13:45:00.5'::time"),
        );
    }
    same_error(
        &mut c,
        "parity_datetime_date_ts('5874897-12-31')",
        "'5874897-12-31'::date::timestamp",
    );
}

#[test]
fn date_and_time_operators_are_sqls() {
    let mut c = client();
    create(
        &mut c,
        r#"
CREATE OR REPLACE FUNCTION parity_datetime_date_time(d date, t time) RETURNS timestamp STRICT LANGUAGE plrust AS $$
    Ok(Some(d + t))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_time_date(t time, d date) RETURNS timestamp STRICT LANGUAGE plrust AS $$
    Ok(Some(t + d))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_date_timetz(d date, t timetz) RETURNS timestamptz STRICT LANGUAGE plrust AS $$
    Ok(Some(d + t))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_date_plus_interval(d date, i interval) RETURNS timestamp STRICT LANGUAGE plrust AS $$
    Ok(Some(d + i))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_interval_plus_date(i interval, d date) RETURNS timestamp STRICT LANGUAGE plrust AS $$
    Ok(Some(i + d))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_date_minus_interval(d date, i interval) RETURNS timestamp STRICT LANGUAGE plrust AS $$
    Ok(Some(d - i))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_int_plus_date(n int, d date) RETURNS date STRICT LANGUAGE plrust AS $$
    Ok(Some(n + d))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_interval_plus_ts(i interval, t timestamp) RETURNS timestamp STRICT LANGUAGE plrust AS $$
    Ok(Some(i + t))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_time_plus(t time, i interval) RETURNS time STRICT LANGUAGE plrust AS $$
    Ok(Some(t + i))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_interval_plus_time(i interval, t time) RETURNS time STRICT LANGUAGE plrust AS $$
    Ok(Some(i + t))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_time_minus(t time, i interval) RETURNS time STRICT LANGUAGE plrust AS $$
    Ok(Some(t - i))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_time_minus_time(a time, b time) RETURNS interval STRICT LANGUAGE plrust AS $$
    Ok(Some(a - b))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_timetz_plus(t timetz, i interval) RETURNS timetz STRICT LANGUAGE plrust AS $$
    Ok(Some(t + i))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_interval_plus_timetz(i interval, t timetz) RETURNS timetz STRICT LANGUAGE plrust AS $$
    Ok(Some(i + t))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_timetz_minus(t timetz, i interval) RETURNS timetz STRICT LANGUAGE plrust AS $$
    Ok(Some(t - i))
$$;
"#,
    );
    c.batch_execute("SET TimeZone = 'UTC'").unwrap();
    let dates = [
        "2024-01-31",
        "2024-02-29",
        "0044-03-15 BC",
        "infinity",
        "-infinity",
    ];
    let times = ["00:00", "13:45:00.5", "24:00", "23:30", "12:34:56.789"];
    let timetzs = ["13:45:00+05:30", "00:00-11", "24:00+00"];
    let intervals = [
        "1 mon",
        "-1 mon 3 days 04:00",
        "1 year -1 day",
        "36 hours",
        "-49 hours",
        "1 mon 1 day 00:00:01",
        "-00:00:00.000001",
    ];
    for d in dates {
        for t in times {
            same(
                &mut c,
                &format!("parity_datetime_date_time('{d}', '{t}')"),
                &format!("'{d}'::date + '{t}'::time"),
            );
            same(
                &mut c,
                &format!("parity_datetime_time_date('{t}', '{d}')"),
                &format!("'{t}'::time + '{d}'::date"),
            );
        }
        for t in timetzs {
            same(
                &mut c,
                &format!("parity_datetime_date_timetz('{d}', '{t}')"),
                &format!("'{d}'::date + '{t}'::timetz"),
            );
        }
        for i in intervals {
            same(
                &mut c,
                &format!("parity_datetime_date_plus_interval('{d}', '{i}')"),
                &format!("'{d}'::date + '{i}'::interval"),
            );
            same(
                &mut c,
                &format!("parity_datetime_interval_plus_date('{i}', '{d}')"),
                &format!("'{i}'::interval + '{d}'::date"),
            );
            same(
                &mut c,
                &format!("parity_datetime_date_minus_interval('{d}', '{i}')"),
                &format!("'{d}'::date - '{i}'::interval"),
            );
            same(
                &mut c,
                &format!("parity_datetime_interval_plus_ts('{i}', '{d}')"),
                &format!("'{i}'::interval + '{d}'::timestamp"),
            );
        }
        same(
            &mut c,
            &format!("parity_datetime_int_plus_date(-60, '{d}')"),
            &format!("-60 + '{d}'::date"),
        );
    }
    for t in times {
        for i in intervals {
            for (f, op) in [("time_plus", "+"), ("time_minus", "-")] {
                same(
                    &mut c,
                    &format!("parity_datetime_{f}('{t}', '{i}')"),
                    &format!("'{t}'::time {op} '{i}'::interval"),
                );
            }
            same(
                &mut c,
                &format!("parity_datetime_interval_plus_time('{i}', '{t}')"),
                &format!("'{i}'::interval + '{t}'::time"),
            );
        }
        for u in times {
            same(
                &mut c,
                &format!("parity_datetime_time_minus_time('{t}', '{u}')"),
                &format!("'{t}'::time - '{u}'::time"),
            );
        }
    }
    for t in timetzs {
        for i in intervals {
            for (f, op) in [("timetz_plus", "+"), ("timetz_minus", "-")] {
                same(
                    &mut c,
                    &format!("parity_datetime_{f}('{t}', '{i}')"),
                    &format!("'{t}'::timetz {op} '{i}'::interval"),
                );
            }
            same(
                &mut c,
                &format!("parity_datetime_interval_plus_timetz('{i}', '{t}')"),
                &format!("'{i}'::interval + '{t}'::timetz"),
            );
        }
    }
    same_error(
        &mut c,
        "parity_datetime_date_time('294277-01-01', '00:00')",
        "'294277-01-01'::date + '00:00'::time",
    );
    same_error(
        &mut c,
        "parity_datetime_date_timetz('294277-01-01', '00:00+00')",
        "'294277-01-01'::date + '00:00+00'::timetz",
    );
}

#[test]
fn interval_text_input_is_interval_in() {
    let mut c = client();
    create(
        &mut c,
        r#"
CREATE OR REPLACE FUNCTION parity_datetime_parse_interval(s text) RETURNS interval STRICT LANGUAGE plrust AS $$
    Ok(Some(s.parse::<Interval>()?))
$$;
"#,
    );
    for s in [
        "1 day 02:03",
        "P1Y2M3DT4H5M6S",
        "1-2",
        "@ 1 hour ago",
        "1.5 weeks",
        "-1 mons +2 days",
        "3 4:05:06",
    ] {
        same(
            &mut c,
            &format!("parity_datetime_parse_interval('{s}')"),
            &format!("'{s}'::interval"),
        );
    }
    let e = error_of(&mut c, "SELECT parity_datetime_parse_interval('bogus')");
    assert!(!e.message().is_empty());
}

#[test]
fn time_zones_are_the_backends() {
    let mut c = client();
    create(
        &mut c,
        &r#"
CREATE OR REPLACE FUNCTION parity_datetime_timetz_offset(h int, m int, s float8, off interval) RETURNS timetz STRICT LANGUAGE plrust AS $$
    Ok(Some(TimeWithTimeZone::with_timezone_offset(h as u8, m as u8, s, off)?))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_timetz_zone_parts(t timetz) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(format!("{} {} {}", t.timezone_offset(), t.timezone_hour(), t.timezone_minute())))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_with_timezone(y int, mo int, d int, h int, mi int, s float8, zone text)
RETURNS timestamptz STRICT LANGUAGE plrust AS $$
    Ok(Some(TimestampWithTimeZone::with_timezone(y, mo as u8, d as u8, h as u8, mi as u8, s, zone)?))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_ts_in_zone(t timestamp, zone text) RETURNS timestamptz STRICT LANGUAGE plrust AS $$
    Ok(Some(TimestampWithTimeZone::try_from((t, zone))?))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_at_timezone(t timestamptz, zone text) RETURNS timestamp STRICT LANGUAGE plrust AS $$
    Ok(Some(t.at_timezone(zone)?))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_to_utc(t timestamptz) RETURNS timestamp STRICT LANGUAGE plrust AS $$
    Ok(Some(t.to_utc()))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_trunc_in_zone(unit text, t timestamptz, zone text) RETURNS timestamptz STRICT LANGUAGE plrust AS $$
    PART_OF_UNIT
    Ok(Some(t.truncate_with_time_zone(part, zone)))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_timetz_at(t timetz, zone text) RETURNS timetz STRICT LANGUAGE plrust AS $$
    Ok(Some(t.at_timezone(zone)?))
$$;
CREATE OR REPLACE FUNCTION parity_datetime_timetz_with_tz(h int, m int, s float8, zone text) RETURNS timetz STRICT LANGUAGE plrust AS $$
    Ok(Some(TimeWithTimeZone::with_timezone(h as u8, m as u8, s, zone)?))
$$;
"#
        .replace("PART_OF_UNIT", PART_OF_UNIT),
    );
    // pgrx makes the time in the session's zone, then moves it to the
    // offset (timetz_izone); in UTC that is this.
    c.batch_execute("SET TimeZone = 'UTC'").unwrap();
    for (h, m, s, off) in [
        (12, 0, "0", "02:00"),
        (1, 0, "0", "-03:30"),
        (23, 59, "59.5", "05:45"),
        (0, 0, "0", "00:00"),
    ] {
        same(
            &mut c,
            &format!("parity_datetime_timetz_offset({h}, {m}, {s}, '{off}')"),
            &format!("make_time({h}, {m}, {s})::timetz AT TIME ZONE '{off}'::interval"),
        );
    }
    let e = error_of(
        &mut c,
        "SELECT parity_datetime_timetz_offset(1, 0, 0, '1 day')",
    );
    assert!(e.message().contains("1 day"), "{}", e.message());
    for t in ["13:45:00-03:30", "13:45:00+05:45", "00:00+00"] {
        same(
            &mut c,
            &format!("parity_datetime_timetz_zone_parts('{t}')"),
            &format!(
                "concat_ws(' ', EXTRACT(timezone FROM '{t}'::timetz)::int, EXTRACT(timezone_hour FROM '{t}'::timetz)::int, EXTRACT(timezone_minute FROM '{t}'::timetz)::int)"
            ),
        );
    }
    c.batch_execute("SET TimeZone = 'America/New_York'")
        .unwrap();
    for zone in ["Europe/Paris", "Asia/Kolkata", "UTC", "America/Sao_Paulo"] {
        same(
            &mut c,
            &format!("parity_datetime_with_timezone(2024, 3, 31, 2, 30, 15.5, '{zone}')"),
            &format!("make_timestamptz(2024, 3, 31, 2, 30, 15.5, '{zone}')"),
        );
        same(
            &mut c,
            &format!("parity_datetime_ts_in_zone('2024-07-01 12:00', '{zone}')"),
            &format!("'2024-07-01 12:00'::timestamp AT TIME ZONE '{zone}'"),
        );
        same(
            &mut c,
            &format!("parity_datetime_at_timezone('2024-07-01 12:00+00', '{zone}')"),
            &format!("'2024-07-01 12:00+00'::timestamptz AT TIME ZONE '{zone}'"),
        );
    }
    same(
        &mut c,
        "parity_datetime_to_utc('2024-07-01 12:00-04')",
        "'2024-07-01 12:00-04'::timestamptz AT TIME ZONE 'UTC'",
    );
    for unit in ["day", "month", "hour"] {
        for zone in ["Europe/Paris", "Asia/Kolkata"] {
            same(
                &mut c,
                &format!(
                    "parity_datetime_trunc_in_zone('{unit}', '2024-03-31 01:30+00', '{zone}')"
                ),
                &format!("date_trunc('{unit}', '2024-03-31 01:30+00'::timestamptz, '{zone}')"),
            );
        }
    }
    for zone in ["Europe/Paris", "Asia/Kolkata", "UTC"] {
        same(
            &mut c,
            &format!("parity_datetime_timetz_at('13:45:00+05:30', '{zone}')"),
            &format!("'13:45:00+05:30'::timetz AT TIME ZONE '{zone}'"),
        );
    }
    // with_timezone keeps the reading and takes the zone's offset.
    same(
        &mut c,
        "parity_datetime_timetz_with_tz(12, 0, 0, 'Asia/Kolkata')",
        "'12:00:00+05:30'::timetz",
    );
    same(
        &mut c,
        "parity_datetime_timetz_with_tz(23, 59, 59.5, 'UTC')",
        "'23:59:59.5+00'::timetz",
    );
    let e = error_of(
        &mut c,
        "SELECT parity_datetime_at_timezone('2024-07-01 12:00+00', 'Mars/Olympus')",
    );
    assert!(e.message().contains("Mars/Olympus"), "{}", e.message());
    // The session's TimeZone is what SPI ran under: nothing changed it.
    let zone: String = one(&mut c, "SHOW TimeZone");
    assert_eq!(zone, "America/New_York");
}
