//! PL/Rust parity of the clock functions, Range and Uuid's conveniences,
//! fn_call's errors and collation, ErrorReportable and PgTryBuilder:
//! each checked against what PostgreSQL itself says in the same query or
//! transaction.

use plrust_tests::{client, error_of, one};

#[test]
fn clock_functions_agree_with_the_backend_in_one_transaction() {
    let mut c = client();
    c.batch_execute(
        r#"
CREATE OR REPLACE FUNCTION parity_misc_now() RETURNS timestamptz LANGUAGE plrust AS $$
    Ok(Some(pgrx::datum::now()))
$$;
CREATE OR REPLACE FUNCTION parity_misc_transaction_ts() RETURNS timestamptz LANGUAGE plrust AS $$
    Ok(Some(transaction_timestamp()))
$$;
CREATE OR REPLACE FUNCTION parity_misc_statement_ts() RETURNS timestamptz LANGUAGE plrust AS $$
    Ok(Some(statement_timestamp()))
$$;
CREATE OR REPLACE FUNCTION parity_misc_clock_ts() RETURNS timestamptz LANGUAGE plrust AS $$
    Ok(Some(clock_timestamp()))
$$;
CREATE OR REPLACE FUNCTION parity_misc_current_ts(p int) RETURNS timestamptz STRICT LANGUAGE plrust AS $$
    let precision = if p < 0 { TimestampPrecision::Full } else { TimestampPrecision::Rounded(p) };
    Ok(Some(current_timestamp(precision)))
$$;
CREATE OR REPLACE FUNCTION parity_misc_local_ts(p int) RETURNS timestamp STRICT LANGUAGE plrust AS $$
    let precision = if p < 0 { TimestampPrecision::Full } else { TimestampPrecision::Rounded(p) };
    Ok(Some(local_timestamp(precision)))
$$;
CREATE OR REPLACE FUNCTION parity_misc_current_date() RETURNS date LANGUAGE plrust AS $$
    Ok(Some(current_date()))
$$;
CREATE OR REPLACE FUNCTION parity_misc_current_time() RETURNS date LANGUAGE plrust AS $$
    let d: Date = current_time();
    Ok(Some(d))
$$;
CREATE OR REPLACE FUNCTION parity_misc_time_of_day() RETURNS text LANGUAGE plrust AS $$
    Ok(Some(time_of_day()))
$$;
CREATE OR REPLACE FUNCTION parity_misc_to_timestamp(x float8) RETURNS timestamptz STRICT LANGUAGE plrust AS $$
    Ok(Some(to_timestamp(x)))
$$;
CREATE OR REPLACE FUNCTION parity_misc_tz_offset(zone text) RETURNS int STRICT LANGUAGE plrust AS $$
    match get_timezone_offset(zone) {
        Ok(secs) => Ok(Some(secs)),
        Err(DateTimeConversionError::UnknownTimezone(z)) => Ok(Some(if z == zone { -1 } else { -2 })),
        Err(e) => Err(e.into()),
    }
$$;
"#,
    )
    .unwrap();
    // A zone of its own (a half-hour offset) for the session-dependent ones.
    c.batch_execute("BEGIN; SET LOCAL TimeZone = 'Asia/Kolkata'; SELECT pg_sleep(0.01)")
        .unwrap();
    for check in [
        "SELECT parity_misc_now() = now()",
        "SELECT parity_misc_transaction_ts() = transaction_timestamp()",
        "SELECT parity_misc_statement_ts() = statement_timestamp()",
        "SELECT parity_misc_clock_ts() > now()",
        "SELECT parity_misc_clock_ts() <= clock_timestamp()",
        "SELECT parity_misc_current_ts(-1) = CURRENT_TIMESTAMP",
        "SELECT parity_misc_current_ts(0) = CURRENT_TIMESTAMP(0)",
        "SELECT parity_misc_current_ts(2) = CURRENT_TIMESTAMP(2)",
        "SELECT parity_misc_local_ts(-1) = LOCALTIMESTAMP",
        "SELECT parity_misc_local_ts(3) = LOCALTIMESTAMP(3)",
        "SELECT parity_misc_current_date() = CURRENT_DATE",
        "SELECT parity_misc_current_time() = CURRENT_DATE",
        "SELECT parity_misc_time_of_day() IS NOT NULL AND length(parity_misc_time_of_day()) > 20",
        "SELECT parity_misc_to_timestamp(1234567890.123457) = to_timestamp(1234567890.123457)",
        "SELECT parity_misc_to_timestamp(-1.5) = to_timestamp(-1.5)",
        "SELECT parity_misc_to_timestamp('infinity') = to_timestamp('infinity')",
        "SELECT parity_misc_to_timestamp('-infinity') = to_timestamp('-infinity')",
        "SELECT parity_misc_tz_offset('UTC') = 0",
        "SELECT parity_misc_tz_offset('CEST') = 7200",
        "SELECT parity_misc_tz_offset('America/New_York') = extract(epoch FROM \
            (now() AT TIME ZONE 'America/New_York') - (now() AT TIME ZONE 'UTC'))::int",
        "SELECT parity_misc_tz_offset('Asia/Kolkata') = 19800",
        "SELECT parity_misc_tz_offset('Not/AZone') = -1",
    ] {
        assert!(one::<bool>(&mut c, check), "{check}");
    }
    c.batch_execute("COMMIT").unwrap();
    // The ERRORs PostgreSQL raises for the same arguments.
    let e = error_of(&mut c, "SELECT parity_misc_to_timestamp('NaN')");
    assert_eq!(
        (e.code().code(), e.message()),
        ("22008", "timestamp cannot be NaN")
    );
    let e = error_of(&mut c, "SELECT parity_misc_to_timestamp(1e20)");
    let pg = error_of(&mut c, "SELECT to_timestamp(1e20)");
    assert_eq!(
        (e.code().code(), e.message()),
        (pg.code().code(), pg.message())
    );
    let e = error_of(&mut c, "SELECT parity_misc_current_ts(7)");
    assert_eq!(
        (e.code().code(), e.message()),
        ("22023", "timestamp(7) precision must be between 0 and 6")
    );
}

#[test]
fn ranges_and_uuids_as_in_pgrx() {
    let mut c = client();
    c.batch_execute(
        r#"
CREATE OR REPLACE FUNCTION parity_misc_range_of(kind text) RETURNS int4range STRICT LANGUAGE plrust AS $$
    let r: Range<i32> = match kind {
        "a..b" => (1..4).into(),
        "a..=b" => (1..=4).into(),
        "a.." => (1..).into(),
        "..b" => (..4).into(),
        "..=b" => (..=4).into(),
        ".." => (..).into(),
        _ => Range::empty(),
    };
    Ok(Some(r))
$$;
CREATE OR REPLACE FUNCTION parity_misc_range_text(r int4range) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(r.to_string()))
$$;
CREATE OR REPLACE FUNCTION parity_misc_range_edit(r int4range) RETURNS int4range STRICT LANGUAGE plrust AS $$
    let mut r = r;
    // Deref to the bounds; DerefMut to change them in place.
    if let Some((_, upper)) = &mut *r {
        *upper = RangeBound::Infinite;
    }
    let before = r.replace(None);
    assert!(r.is_empty() && r.take().is_none());
    r.replace(before);
    Ok(Some(r))
$$;
CREATE OR REPLACE FUNCTION parity_misc_uuid_forms(u uuid) RETURNS text[] STRICT LANGUAGE plrust AS $$
    let forms = [format!("{u:x}"), format!("{u:X}"), format!("{u:-x}"), u[0].to_string(), u.len().to_string()];
    Ok(Some(forms.into_iter().map(Some).collect()))
$$;
"#,
    )
    .unwrap();
    for check in [
        "SELECT parity_misc_range_of('a..b') = int4range(1, 4, '[)')",
        "SELECT parity_misc_range_of('a..=b') = int4range(1, 4, '[]')",
        "SELECT parity_misc_range_of('a..') = int4range(1, NULL, '[)')",
        "SELECT parity_misc_range_of('..b') = int4range(NULL, 4, '()')",
        "SELECT parity_misc_range_of('..=b') = int4range(NULL, 4, '(]')",
        "SELECT parity_misc_range_of('..') = int4range(NULL, NULL)",
        "SELECT parity_misc_range_of('') = 'empty'::int4range",
        // The backend's ranges are canonical, so Display reads as range_out.
        "SELECT bool_and(parity_misc_range_text(r) = r::text) FROM (VALUES \
            (int4range(1, 5)), ('empty'::int4range), (int4range(NULL, 3)), \
            (int4range(2, NULL)), (int4range(NULL, NULL)), (int4range(-7, -2, '[]'))) v(r)",
        "SELECT parity_misc_range_edit(int4range(3, 9)) = int4range(3, NULL)",
        "SELECT parity_misc_uuid_forms(u) = ARRAY[replace(u::text, '-', ''), \
            upper(replace(u::text, '-', '')), u::text, get_byte(uuid_send(u), 0)::text, '16'] \
            FROM (VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid)) v(u)",
    ] {
        assert!(one::<bool>(&mut c, check), "{check}");
    }
}

#[test]
fn fn_call_tells_its_own_errors_from_the_functions() {
    let mut c = client();
    c.batch_execute(
        r#"
CREATE OR REPLACE PROCEDURE parity_misc_proc() LANGUAGE sql AS $$ SELECT 1 $$;
CREATE OR REPLACE FUNCTION parity_misc_calls_missing() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'SELECT parity_misc_no_such_function()';
    RETURN 1;
END $$;
CREATE OR REPLACE FUNCTION parity_misc_fn_call(what text) RETURNS text STRICT LANGUAGE plrust AS $$
    use pgrx::fn_call::FnCallArg;
    let many: Vec<Arg<i32>> = (0..101).map(Arg::Value).collect();
    let many: Vec<&dyn FnCallArg> = many.iter().map(|a| a as &dyn FnCallArg).collect();
    let r: Result<Option<i64>, FnCallError> = match what {
        "aggregate" => fn_call("sum", &[&Arg::Value(5i64)]),
        "procedure" => fn_call("parity_misc_proc", &[]),
        "window" => fn_call("row_number", &[]),
        "missing" => fn_call("parity_misc_no_such_function", &[&Arg::Value(1i32)]),
        "too many" => fn_call("parity_misc_no_such_function", &many),
        "inner" => fn_call::<i32>("parity_misc_calls_missing", &[]).map(|v| v.map(i64::from)),
        _ => fn_call("int8pl", &[&Arg::Value(40i64), &Arg::Value(2i64)]),
    };
    Ok(Some(match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("{e:?}"),
    }))
$$;
CREATE OR REPLACE FUNCTION parity_misc_text_lt(a text, b text, coll oid) RETURNS bool STRICT LANGUAGE plrust AS $$
    Ok(pgrx::fn_call::fn_call_with_collation::<bool>("text_lt", coll, &[&Arg::Value(a), &Arg::Value(b)])?)
$$;
"#,
    )
    .unwrap();
    for (what, want) in [
        ("plain", "Some(42)"),
        ("aggregate", "UnsupportedFunctionType"),
        ("procedure", "UnsupportedFunctionType"),
        ("window", "UnsupportedFunctionType"),
        ("missing", "UndefinedFunction"),
        ("too many", "TooManyArguments"),
    ] {
        let got: String = one(&mut c, &format!("SELECT parity_misc_fn_call('{what}')"));
        assert_eq!(got, want, "{what}");
    }
    // The function's own ERROR is raised, not taken for fn_call's.
    let e = error_of(&mut c, "SELECT parity_misc_fn_call('inner')");
    assert_eq!(e.code().code(), "42883", "{e:?}");
    // The collation is the function's: C orders 'B' before 'a'.
    for check in [
        "SELECT parity_misc_text_lt('a', 'B', (SELECT oid FROM pg_collation WHERE collname = 'C')) \
            = ('a' < 'B' COLLATE \"C\")",
        "SELECT parity_misc_text_lt('B', 'a', (SELECT oid FROM pg_collation WHERE collname = 'POSIX')) \
            = ('B' < 'a' COLLATE \"POSIX\")",
        "SELECT parity_misc_text_lt('a', 'B', (SELECT oid FROM pg_collation WHERE collname = 'default')) \
            = ('a' < 'B')",
    ] {
        assert!(one::<bool>(&mut c, check), "{check}");
    }
    let e = error_of(&mut c, "SELECT parity_misc_text_lt('a', 'b', 4294967295)");
    assert_eq!(e.code().code(), "42704", "{e:?}");
}

#[test]
fn report_and_pg_try_builder() {
    let mut c = client();
    c.batch_execute(
        r#"
CREATE OR REPLACE FUNCTION parity_misc_report(what text) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(match what {
        "sql" => Spi::get_one::<i32>("SELECT 1/0").report(),
        "other" => Err::<Option<i32>, String>("not good".into()).report(),
        _ => Ok::<Option<i32>, String>(Some(7)).report(),
    })
$$;
CREATE OR REPLACE FUNCTION parity_misc_try(what text) RETURNS int STRICT LANGUAGE plrust AS $$
    let finally_ran = std::cell::Cell::new(false);
    let caught = PgTryBuilder::new(|| -> i32 {
        match what {
            "ereport" => {
                ereport!(PgLogLevel::ERROR, PgSqlErrorCode::ERRCODE_CHECK_VIOLATION, "from ereport");
                0
            }
            "sql" => Spi::get_one::<i32>("SELECT 1/0").report().unwrap_or(0),
            "panic" => panic!("a plain panic"),
            _ => 5,
        }
    })
    .catch_when(PgSqlErrorCode::ERRCODE_DIVISION_BY_ZERO, |_| 1)
    .catch_when(PgSqlErrorCode::ERRCODE_CHECK_VIOLATION, |_| 2)
    .catch_rust_panic(|_| 3)
    .finally(|| finally_ran.set(true))
    .execute();
    assert!(finally_ran.get());
    // The backend is as usable as after any SPI error.
    let after = Spi::get_one::<i32>("SELECT 40 + 2")?.unwrap_or(0);
    Ok(Some(caught * 100 + after))
$$;
CREATE OR REPLACE FUNCTION parity_misc_rethrow() RETURNS int LANGUAGE plrust AS $$
    Ok(PgTryBuilder::new(|| Spi::get_one::<i32>("SELECT 1/0").report())
        .catch_others(|e| e.rethrow())
        .execute())
$$;
"#,
    )
    .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT parity_misc_report('ok')"), 7);
    let e = error_of(&mut c, "SELECT parity_misc_report('sql')");
    assert_eq!(
        (e.code().code(), e.message()),
        ("22012", "division by zero")
    );
    let e = error_of(&mut c, "SELECT parity_misc_report('other')");
    assert_eq!((e.code().code(), e.message()), ("22000", "not good"));
    for (what, want) in [
        ("none", 542),
        ("sql", 142),
        ("ereport", 242),
        ("panic", 342),
    ] {
        let got: i32 = one(&mut c, &format!("SELECT parity_misc_try('{what}')"));
        assert_eq!(got, want, "{what}");
    }
    let e = error_of(&mut c, "SELECT parity_misc_rethrow()");
    assert_eq!(
        (e.code().code(), e.message()),
        ("22012", "division by zero")
    );
}
