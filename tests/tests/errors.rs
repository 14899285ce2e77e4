//! What a user sees when things go wrong: Err, panic, abort, segfault,
//! bad definitions, compile errors.  Every process death leaves the cluster
//! as it was.

use plrust_tests::{client, error_of, one, Health};

#[test]
fn err_is_an_error_with_its_message() {
    let health = Health::before();
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_err(x int) RETURNS int STRICT LANGUAGE plrust AS $$
             if x < 0 { return Err(format!(\"negative input: {x}\").into()); }
             let parsed: i32 = \"nope\".parse()?;
             Ok(Some(parsed))
         $$;",
    )
    .unwrap();
    let e = error_of(&mut c, "SELECT fn_err(-5)");
    assert_eq!(e.code().code(), "22000");
    assert_eq!(e.message(), "negative input: -5");
    let e = error_of(&mut c, "SELECT fn_err(1)");
    assert_eq!(e.message(), "invalid digit found in string");
    // The session and the executor are fine afterwards.
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_err_ok() RETURNS int LANGUAGE plrust AS $$ Ok(Some(1)) $$",
    )
    .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT fn_err_ok()"), 1);
    health.assert_unharmed();
}

#[test]
fn panic_is_an_error_with_the_panic_message() {
    let health = Health::before();
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_panic(x int) RETURNS int STRICT LANGUAGE plrust AS $$
             let v: Vec<i32> = Vec::new();
             if x == 1 { panic!(\"custom panic {}\", x); }
             Ok(Some(v[x as usize]))
         $$;",
    )
    .unwrap();
    let e = error_of(&mut c, "SELECT fn_panic(1)");
    assert_eq!(e.code().code(), "XX000");
    // The panic's own words; CONTEXT names the function and the body's
    // line, as PL/pgSQL's (line 1 is what follows `$$` on its line).
    assert_eq!(e.message(), "custom panic 1", "{e:?}");
    assert_eq!(
        e.where_(),
        Some("plrust function fn_panic(integer) line 3"),
        "{e:?}"
    );
    let e = error_of(&mut c, "SELECT fn_panic(3)");
    assert!(e.message().contains("index out of bounds"), "{e:?}");
    assert_eq!(
        e.where_(),
        Some("plrust function fn_panic(integer) line 4"),
        "{e:?}"
    );
    // A panic is contained inside the executor: the same one serves on.
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_panic_ok() RETURNS int LANGUAGE plrust AS $$ Ok(Some(2)) $$",
    )
    .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT fn_panic_ok()"), 2);
    health.assert_unharmed();
}

fn assert_death_is_contained(name: &str, body: &str, signal: &str) {
    let health = Health::before();
    let mut c = client();
    c.batch_execute(&format!(
        "CREATE OR REPLACE FUNCTION {name}(x int) RETURNS int STRICT LANGUAGE plrust AS $${body}$$;
         CREATE OR REPLACE FUNCTION {name}_ok(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x)) $$;"
    ))
    .unwrap();
    let e = error_of(&mut c, &format!("SELECT {name}(1)"));
    assert_eq!(e.code().code(), "38000", "{e:?}");
    assert!(e.message().contains("its executor process died"), "{e:?}");
    assert!(
        e.detail()
            .unwrap()
            .starts_with("The executor was terminated by signal"),
        "{e:?}"
    );
    // The real cause, not the seccomp filter tripping on the way down.
    assert!(e.detail().unwrap().contains(signal), "{e:?}");
    // Same session, next call: a fresh executor.
    assert_eq!(one::<i32>(&mut c, &format!("SELECT {name}_ok(5)")), 5);
    health.assert_unharmed();
}

#[test]
fn abort_costs_one_call() {
    // A panic while unwinding aborts the process.
    assert_death_is_contained(
        "fn_abort",
        "struct Bomb; impl Drop for Bomb { fn drop(&mut self) { panic!(\"again\") } }
         let _b = Bomb;
         if x > 0 { panic!(\"first\"); }
         Ok(Some(x))",
        "SIGABRT",
    );
}

#[test]
fn stack_overflow_costs_one_call() {
    assert_death_is_contained(
        "fn_overflow",
        "fn down(n: u64, pad: [u8; 1024]) -> u64 {
             let pad = std::hint::black_box(pad);
             if n == 0 { pad[0] as u64 } else { down(n - 1, pad).wrapping_add(pad[n as usize % 1024] as u64) }
         }
         Ok(Some(down(u64::MAX, [x as u8; 1024]) as i32))",
        "SIGABRT",
    );
}

/// PL/Rust's SQLSTATE, message and DETAIL (its pgproc.rs), with a HINT
/// that says which argument and why.
#[test]
fn unnamed_and_non_identifier_arguments_are_refused() {
    const DETAIL: &str = "PL/Rust argument names must also be valid Rust identifiers.  Rust's identifier specification can be found at https://doc.rust-lang.org/reference/identifiers.html";
    let mut c = client();
    let e = error_of(
        &mut c,
        "CREATE FUNCTION fn_unnamed(int) RETURNS int LANGUAGE plrust AS $$ Ok(None) $$",
    );
    assert_eq!(e.code().code(), "42602");
    assert_eq!(e.message(), "PL/Rust does not support unnamed arguments");
    assert_eq!(e.detail(), Some(DETAIL));
    assert!(
        e.hint()
            .unwrap()
            .contains("Argument 1 of plrust function \"fn_unnamed\""),
        "{e:?}"
    );
    for (sql, name, why) in [
        (
            "CREATE FUNCTION fn_badname(\"a-b\" int) RETURNS int LANGUAGE plrust AS $$ Ok(None) $$",
            "a-b",
            "is not a Rust identifier",
        ),
        (
            "CREATE FUNCTION fn_kw(fn int) RETURNS int LANGUAGE plrust AS $$ Ok(None) $$",
            "fn",
            "is a Rust keyword",
        ),
    ] {
        let e = error_of(&mut c, sql);
        assert_eq!(e.code().code(), "42602", "{e:?}");
        assert_eq!(
            e.message(),
            format!(
                "`{name}` is an invalid Rust identifier and cannot be used as an argument name"
            )
        );
        assert_eq!(e.detail(), Some(DETAIL));
        assert!(e.hint().unwrap().contains(why), "{e:?}");
    }
}

#[test]
fn unsupported_types_are_refused_clearly() {
    let mut c = client();
    let e = error_of(
        &mut c,
        "CREATE FUNCTION fn_money(t money) RETURNS int LANGUAGE plrust AS $$ Ok(None) $$",
    );
    assert_eq!(e.code().code(), "0A000");
    assert!(e.message().contains("type money is not supported"), "{e:?}");
    // PL/Rust's words for it, and where to look.
    assert_eq!(
        e.detail(),
        Some("Oid `790` was not mappable to a Rust type"),
        "{e:?}"
    );
    assert!(e.hint().unwrap().contains("README"), "{e:?}");
}

#[test]
fn compile_errors_point_at_the_body() {
    let mut c = client();
    let e = error_of(
        &mut c,
        "CREATE FUNCTION fn_typo(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    let y = x + 1;
    Ok(Some(z))
$$",
    );
    assert_eq!(e.code().code(), "42P13");
    assert_eq!(e.message(), "plrust function \"fn_typo\" does not compile");
    let detail = e.detail().unwrap();
    assert!(detail.contains("cannot find value `z`"), "{detail}");
    assert!(
        detail.contains("line 3, column 13 of the function body"),
        "{detail}"
    );
    // The failed CREATE left nothing behind.
    assert_eq!(
        one::<i64>(
            &mut c,
            "SELECT count(*) FROM pg_proc WHERE proname = 'fn_typo'"
        ),
        0
    );
}

#[test]
fn a_non_utf8_database_is_refused_at_create_function() {
    let mut c = client();
    // Only this test uses the database; a rerun finds it already there.
    let _ = c.batch_execute(
        "CREATE DATABASE plrust_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0",
    );
    let host = std::env::var("PLRUST_TEST_HOST").unwrap();
    let port = std::env::var("PLRUST_TEST_PORT").unwrap();
    let mut latin = plrust_tests::connect_to(&host, &port, "plrust_latin1");
    latin
        .batch_execute("CREATE EXTENSION IF NOT EXISTS plrust")
        .unwrap();
    let e = error_of(
        &mut latin,
        "CREATE FUNCTION fn_latin(x text) RETURNS text LANGUAGE plrust AS $$ Ok(None) $$",
    );
    assert_eq!(e.code().code(), "0A000");
    assert!(e.message().contains("requires a UTF8 database"), "{e:?}");
}

#[test]
fn a_call_cancelled_while_its_executor_is_prepared_gives_the_slot_back() {
    let mut c = client();
    // A body unique to this run, so that every run compiles new code.
    let salt = std::process::id();
    for i in 0..15 {
        // A function created now is loaded in no sealed executor, so its
        // first call recycles one and waits for the next: cancel it there.
        c.batch_execute(&format!(
            "CREATE OR REPLACE FUNCTION fn_cancel_prep_{i}() RETURNS int LANGUAGE plrust AS $$ let _salt = {salt}; Ok(Some({i})) $$"
        ))
        .unwrap();
        let _ = c.batch_execute(&format!(
            "SET statement_timeout = '2ms'; SELECT fn_cancel_prep_{i}()"
        ));
        c.batch_execute("RESET statement_timeout").unwrap();
        let held: i64 = one(
            &mut c,
            "SELECT count(*) FROM plrust.workers WHERE busy_backend_pid = pg_backend_pid()",
        );
        assert_eq!(
            held, 0,
            "iteration {i}: a slot is still held by this idle session"
        );
    }
    // And calls still work.
    assert_eq!(one::<i32>(&mut c, "SELECT fn_cancel_prep_3()"), 3);
}

#[test]
fn integer_overflow_and_division_by_zero_are_sql_errors() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_ovf_i32(a int, b int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(a + b)) $$;
         CREATE OR REPLACE FUNCTION fn_ovf_i64(a bigint, b bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$ Ok(Some(a * b)) $$;
         CREATE OR REPLACE FUNCTION fn_ovf_i16(a smallint, b smallint) RETURNS smallint STRICT LANGUAGE plrust AS $$ Ok(Some(a - b)) $$;
         CREATE OR REPLACE FUNCTION fn_div(a int, b int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(a / b)) $$;
         CREATE OR REPLACE FUNCTION fn_wrap(a int, b int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(a.wrapping_add(b))) $$;",
    )
    .unwrap();
    let got: Vec<String> = [
        "SELECT fn_ovf_i32(2147483647, 1)",
        "SELECT fn_ovf_i64(9223372036854775807, 2)",
        "SELECT fn_ovf_i16((-32768)::smallint, 1::smallint)",
        "SELECT fn_div(1, 0)",
    ]
    .iter()
    .map(|sql| {
        let e = error_of(&mut c, sql);
        format!(
            "{} {} | {}",
            e.code().code(),
            e.message(),
            e.where_().unwrap_or("")
        )
    })
    .collect();
    assert_eq!(
        got,
        [
            "22003 attempt to add with overflow | plrust function fn_ovf_i32(integer,integer) line 1",
            "22003 attempt to multiply with overflow | plrust function fn_ovf_i64(bigint,bigint) line 1",
            "22003 attempt to subtract with overflow | plrust function fn_ovf_i16(smallint,smallint) line 1",
            "22012 attempt to divide by zero | plrust function fn_div(integer,integer) line 1",
        ]
    );
    // The same as SQL's own arithmetic, and wrapping_* when asked for.
    assert_eq!(
        error_of(&mut c, "SELECT 2147483647 + 1").code().code(),
        "22003"
    );
    assert_eq!(
        one::<i32>(&mut c, "SELECT fn_wrap(2147483647, 1)"),
        i32::MIN
    );
}

#[test]
fn errors_say_which_function_and_where_in_plrust_they_arose() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_ctx_err(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Err(format!(\"no {x}\").into()) $$;
         CREATE TABLE IF NOT EXISTS fn_ctx_t (v int);
         CREATE OR REPLACE FUNCTION fn_ctx_trigger() RETURNS trigger LANGUAGE plrust AS $$ Err(\"refused by the trigger\".into()) $$;
         DROP TRIGGER IF EXISTS fn_ctx_trigger ON fn_ctx_t;
         CREATE TRIGGER fn_ctx_trigger BEFORE INSERT ON fn_ctx_t FOR EACH ROW EXECUTE FUNCTION fn_ctx_trigger();",
    )
    .unwrap();
    let e = error_of(&mut c, "SELECT fn_ctx_err(7)");
    assert_eq!(
        (e.code().code(), e.message(), e.where_()),
        ("22000", "no 7", Some("plrust function fn_ctx_err(integer)"))
    );
    // LOCATION is where plrust raised it, not one helper's line.
    assert_ne!(e.file(), Some("errors.rs"), "{e:?}");
    let e = error_of(&mut c, "INSERT INTO fn_ctx_t VALUES (1)");
    assert_eq!(
        (e.message(), e.where_()),
        (
            "refused by the trigger",
            Some("plrust function fn_ctx_trigger()")
        )
    );
    // A compile error keeps its form, and CONTEXT says what was being
    // compiled, as PL/pgSQL's `compilation of PL/pgSQL function "f" near
    // line 1`.
    let e = error_of(
        &mut c,
        "CREATE OR REPLACE FUNCTION fn_ctx_bad(x int) RETURNS int STRICT LANGUAGE plrust AS $$
            let x = 1;
            Ok(Some(y)) $$",
    );
    assert_eq!(e.code().code(), "42P13", "{e:?}");
    assert!(
        e.detail().unwrap().contains("cannot find value `y`"),
        "{e:?}"
    );
    assert_eq!(
        e.where_(),
        Some("compilation of plrust function \"fn_ctx_bad\" near line 3"),
        "{e:?}"
    );
    let e = error_of(&mut c, "DO LANGUAGE plrust $$ unsafe { } $$");
    assert_eq!(e.code().code(), "42501", "{e:?}");
    assert_eq!(
        e.where_(),
        Some("compilation of plrust function \"DO block\" near line 1"),
        "{e:?}"
    );
    // A call that succeeds leaves no context behind for the next error.
    assert_eq!(
        one::<i32>(&mut c, "SELECT coalesce(fn_ctx_err(NULL), 1)"),
        1
    );
    let e = error_of(&mut c, "SELECT 1/0");
    assert_eq!(e.where_(), None, "{e:?}");
}

/// CONTEXT, QUERY and position as PostgreSQL gives them for PL/pgSQL:
/// the body's line where it is known (a panic, `error!`, `ereport!`, a
/// message), one line per plrust call an error passed through (nested
/// through SPI, passed on with `?`), with SPI's own `SQL statement` lines
/// between; an SPI error keeps its SQLSTATE, and a syntax error its query
/// and position.
#[test]
fn errors_through_nested_calls_and_spi_read_like_plpgsql() {
    let (mut c, notices) = plrust_tests::client_with_notices();
    c.batch_execute(
        r#"
CREATE OR REPLACE FUNCTION fn_nest_g(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    notice!("g got {x}");
    if x == 1 {
        error!("boom in g");
    }
    if x == 2 {
        ereport!(PgLogLevel::ERROR, PgSqlErrorCode::ERRCODE_CHECK_VIOLATION, "g refuses 2", "as it should");
    }
    Ok(Some(x))
$$;
CREATE OR REPLACE FUNCTION fn_nest_f(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Spi::get_one_with_args::<i32>("SELECT fn_nest_g($1)", vec![(PgBuiltInOids::INT4OID.oid(), x.into_datum())])?)
$$;
CREATE OR REPLACE FUNCTION fn_nest_h(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Spi::get_one_with_args::<i32>("SELECT fn_nest_f($1)", vec![(PgBuiltInOids::INT4OID.oid(), x.into_datum())])?)
$$;
CREATE OR REPLACE FUNCTION fn_nest_spi(q text) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Spi::get_one::<i32>(q)?)
$$;
"#,
    )
    .unwrap();
    // Three different functions nested: a nested call borrows its outer
    // call's executor only where that executor has the function loaded, so
    // on first calls each level takes an executor of its own, and with the
    // owner's default ceiling (2 of the test cluster's 4) the third would
    // find the session holding them all and fail (pool.rs tests that).
    // The other tests here run in parallel under the same owner: wait for
    // them.
    c.batch_execute(
        "SET plrust.max_executors_per_principal = 4; SET plrust.pool_wait_timeout = '60s'",
    )
    .unwrap();
    // Three plrust calls deep.
    let e = error_of(&mut c, "SELECT fn_nest_h(1)");
    assert_eq!((e.code().code(), e.message()), ("XX000", "boom in g"));
    assert_eq!(
        e.where_(),
        Some(
            "plrust function fn_nest_g(integer) line 4\n\
             SQL statement \"SELECT fn_nest_g($1)\"\n\
             plrust function fn_nest_f(integer) line 2\n\
             SQL statement \"SELECT fn_nest_f($1)\"\n\
             plrust function fn_nest_h(integer) line 2"
        ),
        "{e:?}"
    );
    let e = error_of(&mut c, "SELECT fn_nest_h(2)");
    assert_eq!(
        (e.code().code(), e.message(), e.detail()),
        ("23514", "g refuses 2", Some("as it should"))
    );
    assert!(
        e.where_()
            .unwrap()
            .starts_with("plrust function fn_nest_g(integer) line 7\n"),
        "{e:?}"
    );
    // A message says its line too (psql shows it with SHOW_CONTEXT always).
    plrust_tests::take_messages(&notices);
    assert_eq!(one::<i32>(&mut c, "SELECT fn_nest_g(5)"), 5);
    let n = notices.lock().unwrap().pop().expect("a notice");
    assert_eq!(
        (n.message(), n.where_()),
        ("g got 5", Some("plrust function fn_nest_g(integer) line 2"))
    );
    // A query's error passed on keeps its SQLSTATE and SPI's context line,
    // and says the body's line of the SPI call (as PL/pgSQL's `line 2 at
    // SQL statement`).
    let e = error_of(&mut c, "SELECT fn_nest_spi('SELECT 1/0')");
    assert_eq!(
        (e.code().code(), e.message(), e.where_()),
        (
            "22012",
            "division by zero",
            Some("SQL statement \"SELECT 1/0\"\nplrust function fn_nest_spi(text) line 2")
        ),
        "{e:?}"
    );
    // A syntax error keeps its QUERY and position, as PL/pgSQL's EXECUTE.
    let e = error_of(&mut c, "SELECT fn_nest_spi('SELECT 1 FROM nowhere_at_all')");
    assert_eq!(e.code().code(), "42P01", "{e:?}");
    assert_eq!(
        e.position(),
        Some(&postgres::error::ErrorPosition::Internal {
            position: 15,
            query: "SELECT 1 FROM nowhere_at_all".into()
        }),
        "{e:?}"
    );
    assert_eq!(
        e.where_(),
        Some("plrust function fn_nest_spi(text) line 2"),
        "{e:?}"
    );
    // An error the body makes of its own carries none of it.
    c.batch_execute(
        r#"CREATE OR REPLACE FUNCTION fn_nest_own() RETURNS int LANGUAGE plrust AS $$
    match Spi::get_one::<i32>("SELECT 1/0") {
        Err(e) => Err(format!("mine: {e}").into()),
        Ok(v) => Ok(v),
    }
$$;"#,
    )
    .unwrap();
    let e = error_of(&mut c, "SELECT fn_nest_own()");
    assert_eq!(
        (e.code().code(), e.message(), e.where_()),
        (
            "22000",
            "mine: division by zero",
            Some("plrust function fn_nest_own()")
        )
    );
}

/// plrust's ProcessUtility hook sees every utility statement, plrust's or
/// not: an error from inside one keeps its CONTEXT lines and positions,
/// as without plrust (pgrx alone would drop them when it passes the error
/// on).  And a compile error caught for a WARNING (bodies unchecked, as in
/// a restore) leaves nothing behind on the error context stack.
#[test]
fn utility_statements_keep_their_context_and_positions() {
    let mut c = client();
    let e = error_of(&mut c, "DO $$ BEGIN RAISE EXCEPTION 'from plpgsql'; END $$");
    assert_eq!(
        (e.message(), e.where_()),
        (
            "from plpgsql",
            Some("PL/pgSQL function inline_code_block line 1 at RAISE")
        )
    );
    let sql =
        "CREATE OR REPLACE FUNCTION fn_util_sql() RETURNS int LANGUAGE sql AS $q$ SELEC 1 $q$";
    let e = error_of(&mut c, sql);
    assert_eq!(e.code().code(), "42601");
    assert_eq!(
        e.position(),
        Some(&postgres::error::ErrorPosition::Original(
            sql.find("SELEC").unwrap() as u32 + 1
        )),
        "{e:?}"
    );
    let e = error_of(
        &mut c,
        "DO LANGUAGE plrust $$ panic!(\"from a DO block\"); $$",
    );
    assert_eq!(
        e.where_(),
        Some("plrust function inline_code_block line 1"),
        "{e:?}"
    );
    c.batch_execute(
        "SET check_function_bodies = off;
         CREATE OR REPLACE FUNCTION fn_util_bad() RETURNS int LANGUAGE plrust AS $$ Ok(Some(y)) $$;
         RESET check_function_bodies;",
    )
    .unwrap();
    let e = error_of(&mut c, "DO $$ BEGIN RAISE EXCEPTION 'after'; END $$");
    assert_eq!(
        e.where_(),
        Some("PL/pgSQL function inline_code_block line 1 at RAISE")
    );
    assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
}

/// LOCATION says where an error arose, as PostgreSQL's does: the C
/// function and file of an SPI error the body passed on (as for PL/pgSQL's
/// statements), the body's line of a panic or `ereport!` (`f(), body.rs:N`),
/// even through nested calls; and an error about a table keeps the schema,
/// table and constraint names clients read, through plrust and through a
/// DO block alike.
#[test]
fn errors_keep_where_they_arose_and_the_objects_they_name() {
    let mut c = client();
    c.batch_execute(
        "CREATE TABLE IF NOT EXISTS fn_loc_t (id int CONSTRAINT fn_loc_t_positive CHECK (id > 0));
         CREATE OR REPLACE FUNCTION fn_loc_panic() RETURNS int LANGUAGE plrust AS $$
            let n: Option<i32> = None;
            Ok(Some(n.expect(\"no n\")))
         $$;
         CREATE OR REPLACE FUNCTION fn_loc_div() RETURNS int LANGUAGE plrust AS $$
            Ok(Spi::get_one::<i32>(\"SELECT 1/0\")?)
         $$;
         CREATE OR REPLACE FUNCTION fn_loc_nested() RETURNS int LANGUAGE plrust AS $$
            Ok(Spi::get_one::<i32>(\"SELECT fn_loc_panic()\")?)
         $$;
         CREATE OR REPLACE FUNCTION fn_loc_insert() RETURNS int LANGUAGE plrust AS $$
            Spi::run(\"INSERT INTO fn_loc_t VALUES (-1)\")?;
            Ok(Some(1))
         $$;",
    )
    .unwrap();
    let e = error_of(&mut c, "SELECT fn_loc_panic()");
    assert_eq!(
        (e.routine(), e.file(), e.line()),
        (Some("fn_loc_panic()"), Some("body.rs"), Some(3)),
        "{e:?}"
    );
    let e = error_of(&mut c, "SELECT fn_loc_div()");
    assert_eq!(
        (e.code().code(), e.routine(), e.file()),
        ("22012", Some("int4div"), Some("int.c")),
        "{e:?}"
    );
    let e = error_of(&mut c, "SELECT fn_loc_nested()");
    assert_eq!(
        (e.routine(), e.file(), e.line()),
        (Some("fn_loc_panic()"), Some("body.rs"), Some(3)),
        "{e:?}"
    );
    for sql in [
        "SELECT fn_loc_insert()",
        "DO $$ BEGIN INSERT INTO fn_loc_t VALUES (-1); END $$",
    ] {
        let e = error_of(&mut c, sql);
        assert_eq!(
            (e.code().code(), e.schema(), e.table(), e.constraint()),
            (
                "23514",
                Some("public"),
                Some("fn_loc_t"),
                Some("fn_loc_t_positive")
            ),
            "{sql}: {e:?}"
        );
        assert_eq!(e.routine(), Some("ExecConstraints"), "{sql}: {e:?}");
    }
}
