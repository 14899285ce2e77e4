//! Dumps and restores compile every plrust function at restore time, so
//! that the restored functions run at once, even in a read-only
//! transaction; calls never compile.  A database owner who is not a
//! superuser creates the extension and restores her own dump.  Dropped
//! functions take their code with them; a catalog without code is
//! repaired by plrust.recompile().
//!
//! On the main test cluster (a database per test, named after it), except
//! for pg_dumpall, which gets two clusters of its own (ports 55452, 55453).

use std::path::Path;
use std::time::Duration;

use plrust_tests::cluster::{bindir, major, run_as_postgres, scratch, Cluster};
use plrust_tests::kinds::every_kind;
use plrust_tests::outcome;
use plrust_tests::{connect_to, ensure_role, error_of, one, wait_for};
use postgres::{Client, NoTls};

const DUMPALL_SOURCE_PORT: u16 = 55452;
const DUMPALL_TARGET_PORT: u16 = 55453;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run through scripts/test.sh"))
}

fn main_host() -> (String, String) {
    (env("PLRUST_TEST_HOST"), env("PLRUST_TEST_PORT"))
}

fn connect(db: &str) -> Client {
    let (host, port) = main_host();
    connect_to(&host, &port, db)
}

fn connect_as(db: &str, role: &str) -> Client {
    let (host, port) = main_host();
    postgres::Config::new()
        .host(&host)
        .port(port.parse().unwrap())
        .user(role)
        .dbname(db)
        .connect(NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to {db} as {role}: {e}"))
}

/// Fresh, empty databases on the main cluster (left over from an earlier
/// run, they are dropped first).
fn fresh_databases(names: &[&str]) {
    let mut c = connect("postgres");
    for db in names {
        // One statement each: neither may run in a transaction block.
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {db} TEMPLATE template0"))
            .unwrap();
    }
}

/// A function of a role that is not a superuser: a dump creates it as the
/// restoring user and then gives it away with ALTER FUNCTION ... OWNER TO,
/// and its code depends on its owner.
fn owned_function(owner: &str) -> String {
    format!(
        "SET ROLE {owner};
         CREATE FUNCTION rs_owned(s text) RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some(s.repeat(2))) $$;
         RESET ROLE;"
    )
}

/// Each plrust function and when the code of its current definition was
/// built (NULL: it has none).
fn code_shown(c: &mut Client) -> Vec<(String, Option<String>)> {
    c.query(
        "SELECT function::text, built_at::text FROM plrust.functions ORDER BY 1",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

/// In a restored database, before anything called its functions: each has
/// code, and the first call of each, in a read-only transaction of its
/// own, works.  A call that had to compile would have to write
/// plrust.artifacts, which a read-only transaction refuses; and afterwards
/// no build time has changed.
fn assert_restored(c: &mut Client, expected_functions: usize, owned: bool, where_: &str) {
    let code = code_shown(c);
    assert_eq!(code.len(), expected_functions, "{where_}: {code:?}");
    let missing: Vec<&String> = code
        .iter()
        .filter(|(_, built)| built.is_none())
        .map(|(f, _)| f)
        .collect();
    assert!(
        missing.is_empty(),
        "{where_}: the restore left these without code: {missing:?}"
    );
    // A temporary table may be written in a read-only transaction, so the
    // trigger's first call can be one too.
    c.batch_execute(
        "CREATE TEMP TABLE rs_item_ro (LIKE rs_item);
         CREATE TRIGGER rs_shout BEFORE INSERT ON rs_item_ro FOR EACH ROW EXECUTE FUNCTION rs_shout();",
    )
    .unwrap();
    let mut calls = vec![
        ("SELECT rs_scalar(20)", "41"),
        (
            "SELECT string_agg(s, ',') FROM rs_series(3) s",
            "row 1,row 2,row 3",
        ),
        (
            "INSERT INTO rs_item_ro (name) VALUES ('restored') RETURNING loud",
            "RESTORED",
        ),
        (
            "SELECT rs_longest(w) FROM unnest(ARRAY['a', 'plrust', 'abc']) w",
            "<plrust>",
        ),
        ("CALL rs_double(21)", "42"),
        ("SELECT rs_words('two words')", r#"["two","words"]"#),
    ];
    if owned {
        calls.push(("SELECT rs_owned('ab')", "abab"));
    }
    let got: Vec<(&str, String)> = calls
        .iter()
        .map(|(sql, _)| {
            c.batch_execute("BEGIN READ ONLY").unwrap();
            let result = outcome(c, sql);
            c.batch_execute("COMMIT").unwrap();
            (*sql, result)
        })
        .collect();
    let want: Vec<(&str, String)> = calls.iter().map(|(s, r)| (*s, r.to_string())).collect();
    assert_eq!(got, want, "{where_}: first calls, read-only");
    assert_eq!(code_shown(c), code, "{where_}: a call rebuilt code");
}

/// Run a server program as the postgres OS user; what it printed.
fn run(cwd: &Path, program: &str, args: &[&str]) -> String {
    run_as_postgres(cwd, &bindir(&major()).join(program), args).unwrap_or_else(|e| panic!("{e}"))
}

/// pg_restore that must say nothing: anything it prints (errors it went
/// past, warnings) is something a DBA would have to deal with.
fn pg_restore_quietly(cwd: &Path, args: &[&str]) {
    let said = run(cwd, "pg_restore", args);
    assert_eq!(said.trim(), "", "pg_restore {args:?} said something");
}

/// The source database of a dump test: the extension, every kind of
/// function, one of them owned by `owner`.
fn make_source(db: &str, owner: &str) {
    let mut c = connect(db);
    c.batch_execute("CREATE EXTENSION plrust").unwrap();
    c.batch_execute(&every_kind("rs")).unwrap();
    ensure_role(&mut c, owner);
    c.batch_execute(&owned_function(owner)).unwrap();
}

#[test]
fn pg_restore_of_a_custom_dump_compiles_so_the_first_calls_work_read_only() {
    let dir = scratch("restore_custom");
    fresh_databases(&["restore_custom_src", "restore_custom_dst"]);
    make_source("restore_custom_src", "restore_custom_owner");
    let (host, port) = main_host();
    let dump = dir.join("src.dump");
    let dump = dump.to_str().unwrap();
    let conn = ["-h", &host, "-p", &port, "-U", "postgres"];
    run(
        &dir,
        "pg_dump",
        &[&conn[..], &["-Fc", "-d", "restore_custom_src", "-f", dump]].concat(),
    );
    pg_restore_quietly(
        &dir,
        &[&conn[..], &["-d", "restore_custom_dst", dump]].concat(),
    );
    let mut c = connect("restore_custom_dst");
    assert_restored(&mut c, 8, true, "pg_restore");
}

#[test]
fn psql_f_of_a_plain_dump_compiles_so_the_first_calls_work_read_only() {
    let dir = scratch("restore_plain");
    fresh_databases(&["restore_plain_src", "restore_plain_dst"]);
    make_source("restore_plain_src", "restore_plain_owner");
    let (host, port) = main_host();
    let dump = dir.join("src.sql");
    let dump = dump.to_str().unwrap();
    let conn = ["-h", &host, "-p", &port, "-U", "postgres"];
    run(
        &dir,
        "pg_dump",
        &[&conn[..], &["-d", "restore_plain_src", "-f", dump]].concat(),
    );
    // A plain dump turns check_function_bodies off at its top.
    assert!(std::fs::read_to_string(dump)
        .unwrap()
        .contains("SET check_function_bodies = false;"));
    let said = run(
        &dir,
        "psql",
        &[
            &conn[..],
            &[
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                "restore_plain_dst",
                "-f",
                dump,
            ],
        ]
        .concat(),
    );
    assert!(!said.contains("ERROR"), "psql -f: {said}");
    let mut c = connect("restore_plain_dst");
    assert_restored(&mut c, 8, true, "psql -f");
}

#[test]
fn pg_dumpall_restored_into_a_fresh_cluster_runs_every_function() {
    let dir = scratch("restore_dumpall");
    let source = Cluster::new(dir.join("source"), DUMPALL_SOURCE_PORT, &major());
    source.script("start");
    source
        .connect("postgres")
        .batch_execute("CREATE DATABASE dumpall_app")
        .unwrap();
    source
        .connect("postgres")
        .batch_execute("CREATE ROLE dumpall_owner LOGIN")
        .unwrap();
    let mut c = source.connect("dumpall_app");
    c.batch_execute("CREATE EXTENSION plrust").unwrap();
    c.batch_execute(&every_kind("rs")).unwrap();
    c.batch_execute("GRANT CREATE ON SCHEMA public TO dumpall_owner")
        .unwrap();
    c.batch_execute(&owned_function("dumpall_owner")).unwrap();
    drop(c);
    let dump = dir.join("all.sql");
    let dump = dump.to_str().unwrap();
    let source_host = source.dir.to_str().unwrap().to_string();
    run(
        &dir,
        "pg_dumpall",
        &[
            "-h",
            &source_host,
            "-p",
            &DUMPALL_SOURCE_PORT.to_string(),
            "-U",
            "postgres",
            "-f",
            dump,
        ],
    );
    source.script("stop");

    let target = Cluster::new(dir.join("target"), DUMPALL_TARGET_PORT, &major());
    target.script("start");
    let target_host = target.dir.to_str().unwrap().to_string();
    // Run as pg_dumpall's documentation says, without ON_ERROR_STOP: its
    // CREATE ROLE of the restoring superuser fails in any cluster, and
    // that error is the only one allowed.
    let said = run(
        &dir,
        "psql",
        &[
            "-h",
            &target_host,
            "-p",
            &DUMPALL_TARGET_PORT.to_string(),
            "-U",
            "postgres",
            "-X",
            "-q",
            "-d",
            "postgres",
            "-f",
            dump,
        ],
    );
    let errors: Vec<&str> = said.lines().filter(|l| l.contains("ERROR")).collect();
    assert!(
        errors.len() == 1 && errors[0].ends_with("ERROR:  role \"postgres\" already exists"),
        "psql -f of pg_dumpall's output:\n{said}"
    );
    let mut c = target.connect("dumpall_app");
    assert_restored(&mut c, 8, true, "pg_dumpall into a fresh cluster");
}

#[test]
fn a_first_call_rolled_back_leaves_the_code_for_a_fresh_executor() {
    // A database of its own: its executor serves only this test, which
    // kills it.
    fresh_databases(&["restore_rollback"]);
    let mut c = connect("restore_rollback");
    // As a restore creates functions.  Were the code stored by the first
    // call, the rollback would take it away from the next executor.
    c.batch_execute(
        "CREATE EXTENSION plrust;
         SET check_function_bodies = off;
         CREATE FUNCTION rs_rollback(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x + 100)) $$;
         RESET check_function_bodies;",
    )
    .unwrap();
    let built = built_at(&mut c, "rs_rollback(int)");
    assert!(built.is_some(), "CREATE FUNCTION stored no code");
    c.batch_execute("BEGIN").unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT rs_rollback(1)"), 101);
    c.batch_execute("ROLLBACK").unwrap();
    let executor: i32 = one(
        &mut c,
        "SELECT executor_pid FROM plrust.workers
         WHERE database = 'restore_rollback' AND executor_pid IS NOT NULL",
    );
    // The executor is not a backend, so pg_terminate_backend cannot end
    // it; the tests run as root.
    // SAFETY: kill(2) with a pid read from plrust.workers.
    assert_eq!(unsafe { libc::kill(executor, libc::SIGKILL) }, 0);
    let mut observer = connect("restore_rollback");
    wait_for(
        &format!("executor {executor} to be gone from plrust.workers"),
        Duration::from_secs(10),
        || {
            let left: i64 = one(
                &mut observer,
                &format!("SELECT count(*) FROM plrust.workers WHERE executor_pid = {executor}"),
            );
            (left == 0).then_some(())
        },
    );
    assert_eq!(one::<i32>(&mut c, "SELECT rs_rollback(2)"), 102);
    let now: i32 = one(
        &mut c,
        "SELECT executor_pid FROM plrust.workers
         WHERE database = 'restore_rollback' AND executor_pid IS NOT NULL",
    );
    assert_ne!(now, executor, "the call was not served by a fresh executor");
    // Both calls ran the code CREATE FUNCTION stored: neither compiled.
    assert_eq!(built_at(&mut c, "rs_rollback(int)"), built);
}

#[test]
fn a_database_owner_creates_the_extension_and_restores_her_own_dump() {
    let dir = scratch("restore_alice");
    let mut admin = connect("postgres");
    for db in ["restore_alice_db", "restore_alice_copy"] {
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .unwrap();
    }
    admin
        .batch_execute(
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'restore_alice') THEN
                 CREATE ROLE restore_alice LOGIN CREATEDB;
               END IF;
             END $$;",
        )
        .unwrap();
    assert!(!one::<bool>(
        &mut admin,
        "SELECT rolsuper FROM pg_roles WHERE rolname = 'restore_alice'"
    ));
    connect_as("postgres", "restore_alice")
        .batch_execute("CREATE DATABASE restore_alice_db")
        .unwrap();
    let mut alice = connect_as("restore_alice_db", "restore_alice");
    alice
        .batch_execute("CREATE EXTENSION plrust")
        .unwrap_or_else(|e| panic!("CREATE EXTENSION plrust as a database owner: {e:?}"));
    alice.batch_execute(&every_kind("rs")).unwrap();
    let owners: Vec<String> = alice
        .query("SELECT DISTINCT owner::text FROM plrust.functions", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(owners, ["restore_alice"]);
    assert_eq!(one::<i32>(&mut alice, "SELECT rs_scalar(1)"), 3);
    drop(alice);

    let (host, port) = main_host();
    let conn = ["-h", &host, "-p", &port, "-U", "restore_alice"];
    let dump = dir.join("alice.dump");
    let dump = dump.to_str().unwrap();
    run(
        &dir,
        "pg_dump",
        &[&conn[..], &["-Fc", "-d", "restore_alice_db", "-f", dump]].concat(),
    );
    connect_as("postgres", "restore_alice")
        .batch_execute("CREATE DATABASE restore_alice_copy TEMPLATE template0")
        .unwrap();
    pg_restore_quietly(
        &dir,
        &[&conn[..], &["-d", "restore_alice_copy", dump]].concat(),
    );
    let mut copy = connect_as("restore_alice_copy", "restore_alice");
    assert_restored(&mut copy, 7, false, "restored by the database owner");
}

fn stored_bytes(c: &mut Client) -> i64 {
    one(
        c,
        "SELECT coalesce(sum(length(object)), 0)::bigint FROM plrust.artifacts",
    )
}

#[test]
fn drop_function_removes_code_that_nothing_else_uses() {
    fresh_databases(&["restore_drop"]);
    let mut c = connect("restore_drop");
    c.batch_execute("CREATE EXTENSION plrust").unwrap();
    let before = stored_bytes(&mut c);
    c.batch_execute(
        "CREATE FUNCTION rs_dropped(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x + 5)) $$",
    )
    .unwrap();
    let with_one = stored_bytes(&mut c);
    assert!(with_one > before, "no code stored: {before} -> {with_one}");
    c.batch_execute("DROP FUNCTION rs_dropped(int)").unwrap();
    assert_eq!(stored_bytes(&mut c), before, "DROP FUNCTION left its code");

    // Twins (same body, signature and owner) share one stored object,
    // which must stay as long as either of them exists.
    let twin = |name: &str| {
        format!(
            "CREATE FUNCTION {name}(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x * 7)) $$"
        )
    };
    c.batch_execute(&twin("rs_twin_a")).unwrap();
    let with_a = stored_bytes(&mut c);
    c.batch_execute(&twin("rs_twin_b")).unwrap();
    assert_eq!(stored_bytes(&mut c), with_a, "twins do not share code");
    c.batch_execute("DROP FUNCTION rs_twin_a(int)").unwrap();
    assert_eq!(
        stored_bytes(&mut c),
        with_a,
        "dropping one twin took the other's code"
    );
    // A new session, and so an executor loading the owner's functions from
    // the catalog afresh, still runs the remaining twin.
    let mut other = connect("restore_drop");
    assert_eq!(one::<i32>(&mut other, "SELECT rs_twin_b(6)"), 42);
    c.batch_execute("DROP FUNCTION rs_twin_b(int)").unwrap();
    assert_eq!(
        stored_bytes(&mut c),
        before,
        "dropping both twins left their code"
    );
}

/// SQLSTATE 55000 with a HINT naming plrust.recompile().
fn assert_needs_recompile(c: &mut Client, sql: &str) {
    let e = error_of(c, sql);
    assert_eq!(e.code().code(), "55000", "{sql}: {e:?}");
    assert!(
        e.hint().is_some_and(|h| h.contains("plrust.recompile")),
        "{sql}: no HINT naming plrust.recompile: {e:?}"
    );
}

fn built_at(c: &mut Client, function: &str) -> Option<String> {
    one(
        c,
        &format!(
            "SELECT built_at::text FROM plrust.functions WHERE function = '{function}'::regprocedure"
        ),
    )
}

#[test]
fn without_stored_code_calls_fail_with_a_hint_until_the_superuser_recompiles() {
    fresh_databases(&["restore_recompile"]);
    let mut c = connect("restore_recompile");
    c.batch_execute(
        "CREATE EXTENSION plrust;
         CREATE FUNCTION rs_first(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x + 1)) $$;
         CREATE FUNCTION rs_second(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x + 2)) $$;",
    )
    .unwrap();
    // What a catalog from before restores compiled looks like: functions
    // that have never been compiled (nor called: no executor has them).
    c.batch_execute("DELETE FROM plrust.artifacts").unwrap();
    let mut s = connect("restore_recompile");
    assert_needs_recompile(&mut s, "SELECT rs_first(1)");
    assert_needs_recompile(&mut s, "SELECT rs_second(1)");
    assert_eq!(
        built_at(&mut s, "rs_first(int)"),
        None,
        "the failed call compiled"
    );

    c.batch_execute("SELECT plrust.recompile('rs_first(int)'::regprocedure)")
        .unwrap();
    assert!(built_at(&mut s, "rs_first(int)").is_some());
    assert_eq!(one::<i32>(&mut s, "SELECT rs_first(1)"), 2);
    assert_needs_recompile(&mut s, "SELECT rs_second(1)");

    c.batch_execute("SELECT plrust.recompile()").unwrap();
    assert!(built_at(&mut s, "rs_second(int)").is_some());
    assert_eq!(one::<i32>(&mut s, "SELECT rs_second(1)"), 3);
    let mut fresh = connect("restore_recompile");
    assert_eq!(
        one::<i32>(&mut fresh, "SELECT rs_first(10) + rs_second(10)"),
        23
    );
}
