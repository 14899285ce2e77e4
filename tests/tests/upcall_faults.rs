//! Faults around upcalls: a body that calls back faster than the backend
//! waits, messages the client cannot receive, time the backend spends
//! serving the body, memory a trigger could leak per row, and a DO block
//! shared by two roles.

use std::time::{Duration, Instant};

use plrust_tests::{
    client, client_with_notices, ensure_role, error_of, one, take_messages, Health,
};

#[test]
fn endless_upcalls_are_cancelled_by_statement_timeout() {
    let health = Health::before();
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION upf_chatty() RETURNS int LANGUAGE plrust AS $$
            loop { debug5!(\"unseen\"); }
         $$;
         CREATE OR REPLACE FUNCTION upf_endless_set() RETURNS SETOF int LANGUAGE plrust AS $$
            Ok(Some(SetOfIterator::new((0..).map(Some))))
         $$;",
    )
    .unwrap();
    for f in ["upf_chatty()", "count(*) FROM upf_endless_set()"] {
        let start = Instant::now();
        let e = error_of(
            &mut c,
            &format!("SET statement_timeout = '300ms'; SELECT {f}"),
        );
        assert_eq!(e.code().code(), "57014", "{f}: {}", e.message());
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{f}: {:?}",
            start.elapsed()
        );
        c.batch_execute("RESET statement_timeout").unwrap();
    }
    health.assert_unharmed();
}

#[test]
fn a_message_the_client_encoding_cannot_hold_costs_one_call() {
    let health = Health::before();
    let (mut c, _notices) = client_with_notices();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION upf_kanji() RETURNS int LANGUAGE plrust AS $$
            notice!(\"日本\");
            Ok(Some(1))
         $$;
         CREATE OR REPLACE FUNCTION upf_fine() RETURNS int LANGUAGE plrust AS $$ Ok(Some(2)) $$;
         SET client_encoding = 'LATIN1';",
    )
    .unwrap();
    let backend: i32 = one(&mut c, "SELECT pg_backend_pid()");
    // More times than there are executors: none may stay held.
    for _ in 0..6 {
        let e = error_of(&mut c, "SELECT upf_kanji()");
        assert_eq!(e.code().code(), "22P05", "{}", e.message());
    }
    let held: i64 = one(
        &mut c,
        &format!("SELECT count(*) FROM plrust.workers WHERE busy_backend_pid = {backend}"),
    );
    assert_eq!(held, 0);
    assert_eq!(one::<i32>(&mut c, "SELECT upf_fine()"), 2);
    c.batch_execute("RESET client_encoding").unwrap();
    health.assert_unharmed();
}

#[test]
fn time_spent_in_spi_is_not_the_executors_cpu_time() {
    let mut c = client();
    c.batch_execute(
        "SET plrust.call_cpu_limit = '500ms';
         CREATE OR REPLACE FUNCTION upf_sleeper() RETURNS int LANGUAGE plrust AS $$
            Spi::run(\"SELECT pg_sleep(1.2)\")?;
            let mut x = 0u64;
            for i in 0..3_000_000u64 { x = x.wrapping_add(i * i); }
            Ok(Some((x % 7) as i32))
         $$;
         CREATE OR REPLACE FUNCTION upf_spinner() RETURNS int LANGUAGE plrust AS $$
            let mut n = 0u64;
            loop { n = n.wrapping_add(1); if n == u64::MAX { break; } if n % 1_000_000 == 0 { debug5!(\"tick\"); } }
            Ok(Some(1))
         $$;",
    )
    .unwrap();
    one::<i32>(&mut c, "SELECT upf_sleeper()");
    // A body that keeps calling back still meets the limit.
    let start = Instant::now();
    let e = error_of(&mut c, "SELECT upf_spinner()");
    assert_eq!(e.code().code(), "54000", "{}", e.message());
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn row_triggers_do_not_grow_the_backends_memory() {
    let mut c = client();
    c.batch_execute(
        "DROP TABLE IF EXISTS upf_rows;
         CREATE TABLE upf_rows (a int, b text, c float8, d date, e numeric, f text, g int, h int);
         CREATE OR REPLACE FUNCTION upf_touch() RETURNS trigger LANGUAGE plrust AS $$
            let mut row = trigger.new().unwrap();
            row.set_by_name(\"g\", 7)?;
            Ok(Some(row))
         $$;
         CREATE TRIGGER upf_touch BEFORE INSERT ON upf_rows FOR EACH ROW EXECUTE FUNCTION upf_touch();",
    )
    .unwrap();
    let top = |c: &mut postgres::Client| -> i64 {
        one(
            c,
            "SELECT sum(total_bytes)::bigint FROM pg_backend_memory_contexts WHERE level <= 1",
        )
    };
    let insert = "INSERT INTO upf_rows SELECT i, 'x', i, '2024-01-01', i, 'y', 0, i FROM generate_series(1, 20000) i";
    c.batch_execute(insert).unwrap();
    let before = top(&mut c);
    c.batch_execute(insert).unwrap();
    c.batch_execute(insert).unwrap();
    let after = top(&mut c);
    assert_eq!(
        one::<i64>(&mut c, "SELECT count(*) FROM upf_rows WHERE g = 7"),
        60000
    );
    assert!(
        after - before < (2 << 20),
        "the backend grew by {} bytes over 40000 rows",
        after - before
    );
}

#[test]
fn a_do_block_run_by_two_roles_runs_in_two_executors() {
    let mut c = client();
    ensure_role(&mut c, "upf_a");
    ensure_role(&mut c, "upf_b");
    c.batch_execute("GRANT USAGE ON LANGUAGE plrust TO upf_a, upf_b")
        .unwrap();
    let block = "DO $$
        use std::sync::Mutex;
        static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let me = Spi::get_one::<String>(\"SELECT current_user::text\")?.unwrap();
        let mut seen = SEEN.lock().unwrap();
        seen.push(me);
        notice!(\"{}\", seen.join(\",\"));
        Ok(())
     $$ LANGUAGE plrust";
    let (mut s, notices) = client_with_notices();
    s.batch_execute(&format!("SET ROLE upf_a; {block}; {block}"))
        .unwrap();
    s.batch_execute(&format!("SET ROLE upf_b; {block}"))
        .unwrap();
    let seen = take_messages(&notices);
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen[1].ends_with("upf_a,upf_a"), "{seen:?}");
    assert_eq!(seen[2], "upf_b", "{seen:?}");
}
