//! Log macros reach the client at their level; errors carry the SQLSTATE
//! the body chose (22000 for `Err`, XX000 for a panic or `error!`), and
//! levels above ERROR are refused without harming the session or cluster.

use plrust_tests::{
    client, client_with_notices, error_of, one, postmaster_pid, take_messages, Health,
};

#[test]
fn log_macros_reach_the_client_at_their_level() {
    let (mut c, notices) = client_with_notices();
    c.batch_execute(
        "SET client_min_messages = debug5;
         CREATE OR REPLACE FUNCTION msg_levels(n int) RETURNS int STRICT LANGUAGE plrust AS $$
            debug5!(\"d5 {n}\"); debug4!(\"d4\"); debug3!(\"d3\"); debug2!(\"d2\"); debug1!(\"d1\");
            log!(\"lg {}\", n + 1);
            info!(\"in\");
            notice!(\"no {n}\");
            warning!(\"wa\");
            Ok(Some(n))
         $$;",
    )
    .unwrap();
    notices.lock().unwrap().clear();
    assert_eq!(one::<i32>(&mut c, "SELECT msg_levels(7)"), 7);
    let got: Vec<(String, String)> = notices
        .lock()
        .unwrap()
        .iter()
        .filter(|n| {
            ["d5 7", "d4", "d3", "d2", "d1", "lg 8", "in", "no 7", "wa"].contains(&n.message())
        })
        .map(|n| (n.severity().to_string(), n.message().to_string()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("DEBUG", "d5 7"),
        ("DEBUG", "d4"),
        ("DEBUG", "d3"),
        ("DEBUG", "d2"),
        ("DEBUG", "d1"),
        ("LOG", "lg 8"),
        ("INFO", "in"),
        ("NOTICE", "no 7"),
        ("WARNING", "wa"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, expected);
    // client_min_messages filters as for any other message (INFO always
    // reaches the client, as in PostgreSQL).
    c.batch_execute("SET client_min_messages = warning")
        .unwrap();
    notices.lock().unwrap().clear();
    one::<i32>(&mut c, "SELECT msg_levels(1)");
    let seen = take_messages(&notices);
    assert_eq!(seen, vec!["in".to_string(), "wa".to_string()]);
}

#[test]
fn ereport_below_error_carries_code_and_detail() {
    let (mut c, notices) = client_with_notices();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION msg_ereport() RETURNS void LANGUAGE plrust AS $$
            ereport!(PgLogLevel::NOTICE, PgSqlErrorCode::ERRCODE_WARNING_DEPRECATED_FEATURE, \"old api\", \"use the new one\");
            Ok(Some(()))
         $$;",
    )
    .unwrap();
    notices.lock().unwrap().clear();
    c.batch_execute("SELECT msg_ereport()").unwrap();
    let n = notices.lock().unwrap();
    let n = n
        .iter()
        .find(|n| n.message() == "old api")
        .expect("the notice");
    assert_eq!(n.severity(), "NOTICE");
    assert_eq!(n.code().code(), "01P01");
    assert_eq!(n.detail(), Some("use the new one"));
}

#[test]
fn errors_have_the_sqlstate_the_body_chose() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION msg_err() RETURNS int LANGUAGE plrust AS $$
            Err(\"plain error\".into())
         $$;
         CREATE OR REPLACE FUNCTION msg_error_macro(n int) RETURNS int LANGUAGE plrust AS $$
            if n.unwrap_or(0) > 1 { error!(\"too big: {:?}\", n) }
            Ok(n)
         $$;
         CREATE OR REPLACE FUNCTION msg_ereport_error() RETURNS int LANGUAGE plrust AS $$
            ereport!(PgLogLevel::ERROR, PgSqlErrorCode::ERRCODE_CHECK_VIOLATION, \"not allowed\", \"because\");
            Ok(Some(1))
         $$;
         CREATE OR REPLACE FUNCTION msg_panic() RETURNS int LANGUAGE plrust AS $$
            let v: Vec<i32> = Vec::new();
            Ok(Some(v[3]))
         $$;",
    )
    .unwrap();
    let e = error_of(&mut c, "SELECT msg_err()");
    assert_eq!((e.code().code(), e.message()), ("22000", "plain error"));
    let e = error_of(&mut c, "SELECT msg_error_macro(5)");
    assert_eq!(
        (e.code().code(), e.message()),
        ("XX000", "too big: Some(5)")
    );
    assert_eq!(one::<i32>(&mut c, "SELECT msg_error_macro(1)"), 1);
    let e = error_of(&mut c, "SELECT msg_ereport_error()");
    assert_eq!(e.code().code(), "23514");
    assert_eq!(e.message(), "not allowed");
    assert_eq!(e.detail(), Some("because"));
    let e = error_of(&mut c, "SELECT msg_panic()");
    assert_eq!(e.code().code(), "XX000");
    assert!(
        e.message().starts_with("index out of bounds"),
        "{}",
        e.message()
    );
    assert_eq!(
        e.where_(),
        Some("plrust function msg_panic() line 3"),
        "{e:?}"
    );
}

/// pgrx's macro also takes the level as a bare name (`ereport!(ERROR,
/// code, message)`), the form most PL/Rust bodies use; at ERROR it never
/// returns, so it can end a branch of any type.
#[test]
fn ereport_takes_bare_level_names_as_pgrx_does() {
    let (mut c, notices) = client_with_notices();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION msg_bare(n int) RETURNS int STRICT LANGUAGE plrust AS $$
            ereport!(WARNING, PgSqlErrorCode::ERRCODE_WARNING, \"bare warning\");
            let v: i32 = if n > 0 { n } else {
                ereport!(ERROR, PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, format!(\"bad n {n}\"))
            };
            Ok(Some(v))
         $$;
         CREATE OR REPLACE FUNCTION msg_bare_fatal() RETURNS int LANGUAGE plrust AS $$
            ereport!(FATAL, PgSqlErrorCode::ERRCODE_ADMIN_SHUTDOWN, \"goodbye\");
         $$;",
    )
    .unwrap();
    notices.lock().unwrap().clear();
    assert_eq!(one::<i32>(&mut c, "SELECT msg_bare(4)"), 4);
    let n = notices.lock().unwrap();
    let w = n
        .iter()
        .find(|n| n.message() == "bare warning")
        .expect("the warning");
    assert_eq!((w.severity(), w.code().code()), ("WARNING", "01000"));
    drop(n);
    let e = error_of(&mut c, "SELECT msg_bare(-1)");
    assert_eq!((e.code().code(), e.message()), ("22023", "bad n -1"));
    assert_eq!(e.where_(), Some("plrust function msg_bare(integer) line 4"));
    let e = error_of(&mut c, "SELECT msg_bare_fatal()");
    assert_eq!((e.severity(), e.code().code()), ("ERROR", "42501"));
}

#[test]
fn levels_above_error_are_refused() {
    let health = Health::before();
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION msg_fatal() RETURNS int LANGUAGE plrust AS $$
            ereport!(PgLogLevel::FATAL, PgSqlErrorCode::ERRCODE_ADMIN_SHUTDOWN, \"goodbye\");
            Ok(Some(1))
         $$;
         CREATE OR REPLACE FUNCTION msg_panic_level() RETURNS int LANGUAGE plrust AS $$
            ereport!(PgLogLevel::PANIC, PgSqlErrorCode::ERRCODE_CRASH_SHUTDOWN, \"everyone out\");
            Ok(Some(1))
         $$;",
    )
    .unwrap();
    for (f, level) in [("msg_fatal", "FATAL"), ("msg_panic_level", "PANIC")] {
        let e = error_of(&mut c, &format!("SELECT {f}()"));
        assert_eq!(e.severity(), "ERROR");
        assert_eq!(e.code().code(), "42501");
        assert!(
            e.message().contains(&format!("cannot raise {level}")),
            "{}",
            e.message()
        );
        // The session is still there.
        assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
    }
    health.assert_unharmed();
}

/// Whether the server runs with `RUST_BACKTRACE` set (test.sh starts it so).
fn server_has_rust_backtrace() -> bool {
    let environ = std::fs::read(format!("/proc/{}/environ", postmaster_pid())).unwrap_or_default();
    environ
        .split(|&b| b == 0)
        .any(|kv| kv.starts_with(b"RUST_BACKTRACE=") && kv != b"RUST_BACKTRACE=0")
}

#[test]
fn errors_carry_no_rust_backtrace() {
    // pgrx captures a backtrace where a PostgreSQL ERROR crosses Rust code
    // and, with RUST_BACKTRACE set, appends it to the DETAIL: the server's
    // internals in a tenant's client.
    assert!(
        server_has_rust_backtrace(),
        "the test server must run with RUST_BACKTRACE set, or this test proves nothing"
    );
    let mut c = client();
    c.batch_execute(
        "DROP DOMAIN IF EXISTS msg_positive CASCADE;
         CREATE DOMAIN msg_positive AS int CHECK (VALUE > 0);
         CREATE OR REPLACE FUNCTION msg_domain(n int) RETURNS msg_positive STRICT LANGUAGE plrust AS $$
            Ok(Some(n))
         $$;
         CREATE OR REPLACE FUNCTION msg_domain_nested(n int) RETURNS int STRICT LANGUAGE plrust AS $$
            Ok(Spi::get_one::<i32>(&format!(\"SELECT msg_domain({n})::int\"))?)
         $$;",
    )
    .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT msg_domain(3)::int"), 3);
    // The domain's check runs in the backend, under the result's
    // conversion in Rust; then through a nested call and SPI.
    for sql in ["SELECT msg_domain(-1)", "SELECT msg_domain_nested(-1)"] {
        let e = error_of(&mut c, sql);
        assert_eq!(e.code().code(), "23514", "{sql}: {e:?}");
        assert!(e.message().contains("msg_positive"), "{sql}: {e:?}");
        assert_eq!(e.detail(), None, "{sql}");
    }
}

#[test]
fn long_error_texts_are_cut_and_the_call_fails_only_with_them() {
    // An error's texts can be longer than the channel takes for one (64
    // KiB): a body's own, or a query's whose message is built from data.
    // They are cut, and the call fails with its error, not as an executor
    // that broke the protocol (38000), nested or not.
    let health = Health::before();
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION msg_long_err(n int) RETURNS int STRICT LANGUAGE plrust AS $$
            Err(\"e\".repeat(n as usize).into())
         $$;
         CREATE OR REPLACE FUNCTION msg_long_sql_err(n int) RETURNS int STRICT LANGUAGE plrust AS $$
            Spi::run(&format!(\"DO $x$ BEGIN RAISE EXCEPTION '%', repeat('s', {n}) USING DETAIL = repeat('d', {n}); END $x$\"))?;
            Ok(Some(1))
         $$;
         CREATE OR REPLACE FUNCTION msg_long_nested(n int) RETURNS int STRICT LANGUAGE plrust AS $$
            Ok(Spi::get_one::<i32>(&format!(\"SELECT msg_long_err({n})\"))?)
         $$;",
    )
    .unwrap();
    const MAX: usize = 64 << 10;
    let n = 100_000;
    for (sql, code, ch) in [
        (format!("SELECT msg_long_err({n})"), "22000", 'e'),
        (format!("SELECT msg_long_nested({n})"), "22000", 'e'),
        (format!("SELECT msg_long_sql_err({n})"), "P0001", 's'),
    ] {
        let e = error_of(&mut c, &sql);
        assert_eq!(e.code().code(), code, "{sql}: {}", e.message());
        assert_eq!(e.message().len(), MAX, "{sql}");
        assert!(e.message().chars().all(|m| m == ch), "{sql}");
        if ch == 's' {
            assert_eq!(e.detail().map(str::len), Some(MAX), "{sql}");
        }
    }
    // Short ones are whole.
    let e = error_of(&mut c, "SELECT msg_long_nested(10)");
    assert_eq!(e.message(), "eeeeeeeeee");
    assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
    health.assert_unharmed();
}
