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
    assert!(
        e.message().contains("fn_panic") && e.message().ends_with("panicked: custom panic 1"),
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
