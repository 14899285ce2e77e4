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
    // The panic's own words; CONTEXT names the function, as PL/pgSQL's.
    assert_eq!(e.message(), "custom panic 1", "{e:?}");
    assert_eq!(
        e.where_(),
        Some("plrust function fn_panic(integer)"),
        "{e:?}"
    );
    let e = error_of(&mut c, "SELECT fn_panic(3)");
    assert!(e.message().contains("index out of bounds"), "{e:?}");
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

#[test]
fn unnamed_and_non_identifier_arguments_are_refused() {
    let mut c = client();
    let e = error_of(
        &mut c,
        "CREATE FUNCTION fn_unnamed(int) RETURNS int LANGUAGE plrust AS $$ Ok(None) $$",
    );
    assert_eq!(e.code().code(), "42P13");
    assert!(e.message().contains("argument 1 has no name"), "{e:?}");
    assert!(e.hint().is_some());
    let e = error_of(
        &mut c,
        "CREATE FUNCTION fn_badname(\"a-b\" int) RETURNS int LANGUAGE plrust AS $$ Ok(None) $$",
    );
    assert!(
        e.message().contains("\"a-b\" is not a Rust identifier"),
        "{e:?}"
    );
    let e = error_of(
        &mut c,
        "CREATE FUNCTION fn_kw(fn int) RETURNS int LANGUAGE plrust AS $$ Ok(None) $$",
    );
    assert!(e.message().contains("is a Rust keyword"), "{e:?}");
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
            "22003 attempt to add with overflow | plrust function fn_ovf_i32(integer,integer)",
            "22003 attempt to multiply with overflow | plrust function fn_ovf_i64(bigint,bigint)",
            "22003 attempt to subtract with overflow | plrust function fn_ovf_i16(smallint,smallint)",
            "22012 attempt to divide by zero | plrust function fn_div(integer,integer)",
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
    // A compile error keeps its form.
    let e = error_of(
        &mut c,
        "CREATE OR REPLACE FUNCTION fn_ctx_bad(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(y)) $$",
    );
    assert_eq!(e.code().code(), "42P13", "{e:?}");
    // A call that succeeds leaves no context behind for the next error.
    assert_eq!(
        one::<i32>(&mut c, "SELECT coalesce(fn_ctx_err(NULL), 1)"),
        1
    );
    let e = error_of(&mut c, "SELECT 1/0");
    assert_eq!(e.where_(), None, "{e:?}");
}
