//! A call never compiles and never writes: code is stored, committed, by
//! CREATE FUNCTION (whatever check_function_bodies says) and kept by every
//! ALTER that renames it.  So a first call runs in a read-only transaction,
//! after a rolled-back one, and as a new owner; code that is genuinely
//! missing is one error that names the fix.

use std::time::Duration;

use plrust_tests::{client, client_as, ensure_role, error_of, one, wait_for};
use postgres::Client;

/// A body no other test (or earlier run) compiled: its code is new.
fn fresh(expr: &str) -> String {
    let salt = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("let _salt = {salt}u128; Ok(Some({expr}))")
}

/// Create `name(x int) RETURNS int` with bodies unchecked, as a restore
/// (pg_restore, psql -f, Citus) does.
fn create_unchecked(c: &mut Client, name: &str, expr: &str) {
    c.batch_execute(&format!(
        "SET check_function_bodies = off;
         CREATE OR REPLACE FUNCTION {name}(x int) RETURNS int STRICT LANGUAGE plrust AS $$ {} $$;
         RESET check_function_bodies;",
        fresh(expr)
    ))
    .unwrap();
}

fn built_at(c: &mut Client, signature: &str) -> Option<String> {
    one(
        c,
        &format!("SELECT built_at::text FROM plrust.functions WHERE function = '{signature}'::regprocedure"),
    )
}

#[test]
fn a_first_call_in_a_read_only_transaction_just_runs() {
    let mut c = client();
    create_unchecked(&mut c, "sc_read_only", "x + 1");
    let mut reader = client();
    reader
        .batch_execute("SET default_transaction_read_only = on")
        .unwrap();
    assert_eq!(one::<i32>(&mut reader, "SELECT sc_read_only(1)"), 2);
    reader.batch_execute("BEGIN READ ONLY").unwrap();
    assert_eq!(one::<i32>(&mut reader, "SELECT sc_read_only(2)"), 3);
    reader.batch_execute("COMMIT").unwrap();
}

#[test]
fn a_rolled_back_first_call_then_a_fresh_executor_still_runs() {
    // An owner of its own, so a principal of its own: the test kills every
    // executor of that principal, which must not be one that a test running
    // beside it is calling into.
    let mut c = client();
    ensure_role(&mut c, "sc_rollback_owner");
    c.batch_execute("DROP FUNCTION IF EXISTS sc_rolled_back(int); SET ROLE sc_rollback_owner")
        .unwrap();
    create_unchecked(&mut c, "sc_rolled_back", "x * 3");
    let mut s = client_as("sc_rollback_owner");
    s.batch_execute("BEGIN").unwrap();
    assert_eq!(one::<i32>(&mut s, "SELECT sc_rolled_back(2)"), 6);
    s.batch_execute("ROLLBACK").unwrap();
    // The session's executor goes; its next call needs a fresh one, which
    // loads the code from plrust.artifacts again.
    let backend: i32 = one(&mut s, "SELECT pg_backend_pid()");
    let executors: Vec<i32> = c
        .query(
            "SELECT executor_pid FROM plrust.workers
             WHERE function_owner = current_user AND database = current_database()
             AND executor_pid IS NOT NULL",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(!executors.is_empty(), "no executor served {backend}");
    for pid in &executors {
        // SAFETY: kill(2) on a pid; we run as root, executors as postgres.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    wait_for("the executors to die", Duration::from_secs(5), || {
        executors
            .iter()
            .all(|p| {
                std::fs::read_to_string(format!("/proc/{p}/stat"))
                    .map_or(true, |st| st.contains(") Z "))
            })
            .then_some(())
    });
    // The first call after may still see the dead executor and fail; the
    // session must recover and run, not lose the code for good.
    let mut ran = None;
    for _ in 0..3 {
        if let Ok(r) = s.query_one("SELECT sc_rolled_back(5)", &[]) {
            ran = Some(r.get::<_, i32>(0));
            break;
        }
    }
    assert_eq!(ran, Some(15));
}

#[test]
fn missing_code_is_one_error_that_names_the_fix() {
    let mut c = client();
    ensure_role(&mut c, "sc_owner");
    c.batch_execute(&format!(
        "DROP FUNCTION IF EXISTS sc_missing(int);
         SET ROLE sc_owner;
         CREATE FUNCTION sc_missing(x int) RETURNS int STRICT LANGUAGE plrust AS $$ {} $$;
         RESET ROLE;",
        fresh("x - 1")
    ))
    .unwrap();
    // A catalog from before code was compiled at CREATE FUNCTION.
    c.batch_execute(
        "DELETE FROM plrust.artifacts WHERE hash = plrust.code_hash('sc_missing'::regproc)",
    )
    .unwrap();
    assert_eq!(built_at(&mut c, "sc_missing(int)"), None);
    let mut owner = client_as("sc_owner");
    for sql in [
        "SELECT sc_missing(1)",
        "BEGIN READ ONLY; SELECT sc_missing(1)",
    ] {
        let e = error_of(&mut owner, sql);
        assert_eq!(e.code().code(), "55000", "{sql}: {e:?}");
        assert_eq!(
            e.message(),
            "plrust function \"sc_missing\" has no compiled code"
        );
        assert!(
            e.hint().is_some_and(
                |h| h.contains("plrust.recompile('sc_missing(integer)'::regprocedure)")
            ),
            "{e:?}"
        );
        owner.batch_execute("ROLLBACK").unwrap();
    }
    // Only a superuser rebuilds everything; an owner, its own function.
    let e = error_of(&mut owner, "SELECT plrust.recompile()");
    assert_eq!(e.code().code(), "42501");
    // Nor another owner's.
    c.batch_execute("CREATE OR REPLACE FUNCTION sc_not_yours(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x)) $$").unwrap();
    let e = error_of(
        &mut owner,
        "SELECT plrust.recompile('sc_not_yours(int)'::regprocedure)",
    );
    assert_eq!(e.code().code(), "42501", "{e:?}");
    assert_eq!(
        one::<i32>(
            &mut owner,
            "SELECT plrust.recompile('sc_missing(int)'::regprocedure)"
        ),
        1
    );
    assert!(built_at(&mut c, "sc_missing(int)").is_some());
    assert_eq!(one::<i32>(&mut owner, "SELECT sc_missing(10)"), 9);
    // Nothing left to build: a second run builds nothing.
    assert_eq!(
        one::<i32>(
            &mut owner,
            "SELECT plrust.recompile('sc_missing(int)'::regprocedure)"
        ),
        0
    );
}

#[test]
fn a_new_owner_gets_the_same_code_without_a_compile() {
    let mut c = client();
    ensure_role(&mut c, "sc_old_owner");
    ensure_role(&mut c, "sc_new_owner");
    c.batch_execute(&format!(
        "DROP FUNCTION IF EXISTS sc_moved(int), sc_reassigned(int);
         CREATE FUNCTION sc_moved(x int) RETURNS int STRICT LANGUAGE plrust AS $$ {} $$;
         SET ROLE sc_old_owner;
         CREATE FUNCTION sc_reassigned(x int) RETURNS int STRICT LANGUAGE plrust AS $$ {} $$;
         RESET ROLE;",
        fresh("x + 100"),
        fresh("x + 200"),
    ))
    .unwrap();
    let old_hash: Vec<u8> = one(&mut c, "SELECT plrust.code_hash('sc_moved'::regproc)");
    let built = built_at(&mut c, "sc_moved(int)").expect("compiled at CREATE");
    // What every superuser's restore does after CREATE FUNCTION.
    c.batch_execute("ALTER FUNCTION sc_moved(int) OWNER TO sc_new_owner")
        .unwrap();
    assert_eq!(
        built_at(&mut c, "sc_moved(int)"),
        Some(built),
        "the new owner's code was compiled again, or is missing"
    );
    let left: i64 = c
        .query_one(
            "SELECT count(*) FROM plrust.artifacts WHERE hash = $1",
            &[&old_hash],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the old owner's copy is still stored");
    assert_eq!(
        one::<i32>(&mut client_as("sc_new_owner"), "SELECT sc_moved(1)"),
        101
    );

    let built = built_at(&mut c, "sc_reassigned(int)").expect("compiled at CREATE");
    c.batch_execute("REASSIGN OWNED BY sc_old_owner TO sc_new_owner")
        .unwrap();
    assert_eq!(built_at(&mut c, "sc_reassigned(int)"), Some(built));
    assert_eq!(one::<i32>(&mut c, "SELECT sc_reassigned(1)"), 201);
    assert_eq!(
        one::<String>(&mut c, "SELECT owner::text FROM plrust.functions WHERE function = 'sc_reassigned(int)'::regprocedure"),
        "sc_new_owner"
    );
}

#[test]
fn a_setting_that_shapes_the_code_compiles_it_at_alter() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION sc_shaped(a int[]) RETURNS int STRICT LANGUAGE plrust
         AS $$ Ok(Some(a.len() as i32)) $$",
    )
    .unwrap();
    c.batch_execute("ALTER FUNCTION sc_shaped(int[]) SET plrust.shaped_arrays = on")
        .unwrap();
    assert!(
        built_at(&mut c, "sc_shaped(int[])").is_some(),
        "no code after ALTER ... SET"
    );
    c.batch_execute("ALTER FUNCTION sc_shaped(int[]) RESET plrust.shaped_arrays")
        .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT sc_shaped(ARRAY[1,2,3])"), 3);
}

#[test]
fn drop_function_removes_code_a_twin_does_not_name() {
    let mut c = client();
    let body = fresh("x");
    c.batch_execute(&format!(
        "CREATE OR REPLACE FUNCTION sc_drop_a(x int) RETURNS int STRICT LANGUAGE plrust AS $$ {body} $$;
         CREATE OR REPLACE FUNCTION sc_drop_b(x int) RETURNS int STRICT LANGUAGE plrust AS $$ {body} $$;"
    ))
    .unwrap();
    let hash: Vec<u8> = one(&mut c, "SELECT plrust.code_hash('sc_drop_a'::regproc)");
    let stored = |c: &mut Client| -> i64 {
        c.query_one(
            "SELECT count(*) FROM plrust.artifacts WHERE hash = $1",
            &[&hash],
        )
        .unwrap()
        .get(0)
    };
    assert_eq!(stored(&mut c), 1, "twins share one row");
    c.batch_execute("DROP FUNCTION sc_drop_a(int)").unwrap();
    assert_eq!(stored(&mut c), 1, "the twin's code went with the other");
    assert_eq!(one::<i32>(&mut c, "SELECT sc_drop_b(7)"), 7);
    c.batch_execute("DROP FUNCTION sc_drop_b(int)").unwrap();
    assert_eq!(stored(&mut c), 0, "DROP left unused code behind");
}

#[test]
fn every_role_reads_the_views_and_sees_its_own_rows() {
    let mut c = client();
    ensure_role(&mut c, "sc_tenant_a");
    ensure_role(&mut c, "sc_tenant_b");
    c.batch_execute(
        "DROP FUNCTION IF EXISTS sc_mine(int);
         SET ROLE sc_tenant_a;
         CREATE FUNCTION sc_mine(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x)) $$;
         RESET ROLE;",
    )
    .unwrap();
    let mut a = client_as("sc_tenant_a");
    assert_eq!(one::<i32>(&mut a, "SELECT sc_mine(1)"), 1);
    let owners = |s: &mut Client, view: &str, column: &str| -> Vec<String> {
        s.query(
            &format!(
                "SELECT DISTINCT {column}::text FROM plrust.{view} WHERE {column} IS NOT NULL"
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
    };
    assert_eq!(owners(&mut a, "functions", "owner"), ["sc_tenant_a"]);
    // Its executor may be busy or idle, but it is its own and bound.
    assert_eq!(owners(&mut a, "workers", "function_owner"), ["sc_tenant_a"]);
    let mut b = client_as("sc_tenant_b");
    assert!(owners(&mut b, "functions", "owner")
        .iter()
        .all(|o| o == "sc_tenant_b"));
    assert!(owners(&mut b, "workers", "function_owner")
        .iter()
        .all(|o| o == "sc_tenant_b"));
    // A superuser sees everyone's, and pg_read_all_stats every slot.
    assert!(owners(&mut c, "functions", "owner").contains(&"sc_tenant_a".to_string()));
    ensure_role(&mut c, "sc_monitor");
    c.batch_execute("GRANT pg_read_all_stats TO sc_monitor")
        .unwrap();
    let mut monitor = client_as("sc_monitor");
    assert!(owners(&mut monitor, "workers", "function_owner").contains(&"sc_tenant_a".to_string()));
    assert!(
        owners(&mut monitor, "functions", "owner").is_empty(),
        "functions are owners' only"
    );
    // The artifacts themselves stay private.
    assert_eq!(
        error_of(&mut b, "SELECT count(*) FROM plrust.artifacts")
            .code()
            .code(),
        "42501"
    );
    // And the views say what they are.
    assert!(one::<Option<String>>(
        &mut b,
        "SELECT obj_description('plrust.functions'::regclass)"
    )
    .is_some());
    assert!(one::<Option<String>>(
        &mut b,
        "SELECT col_description('plrust.workers'::regclass, 2)"
    )
    .is_some());
}

#[test]
fn a_row_type_change_compiles_its_functions_at_the_alter() {
    let mut c = client();
    c.batch_execute(
        "DROP TABLE IF EXISTS sc_row CASCADE;
         CREATE TABLE sc_row (a int);
         INSERT INTO sc_row VALUES (7);
         CREATE FUNCTION sc_row_a(r sc_row) RETURNS int STRICT LANGUAGE plrust AS $$
             Ok(r.get_by_name::<i32>(\"a\")?)
         $$;",
    )
    .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT sc_row_a(sc_row) FROM sc_row"), 7);
    // The function decodes the row's attributes as the type had them.
    for alter in [
        "ALTER TABLE sc_row ADD COLUMN b text",
        "ALTER TABLE sc_row RENAME COLUMN b TO c",
        "ALTER TABLE sc_row DROP COLUMN c",
    ] {
        c.batch_execute(alter).unwrap();
        assert!(
            built_at(&mut c, "sc_row_a(sc_row)").is_some(),
            "no code after {alter}"
        );
        assert_eq!(
            one::<i32>(&mut c, "SELECT sc_row_a(sc_row) FROM sc_row"),
            7,
            "after {alter}"
        );
    }
    // A type of its own (ALTER TYPE), and one moved to another schema.
    c.batch_execute(
        "DROP TYPE IF EXISTS sc_pair CASCADE;
         DROP SCHEMA IF EXISTS sc_elsewhere CASCADE;
         CREATE SCHEMA sc_elsewhere;
         CREATE TYPE sc_pair AS (x int);
         CREATE FUNCTION sc_pair_x(p sc_pair) RETURNS int STRICT LANGUAGE plrust AS $$
             Ok(p.get_by_name::<i32>(\"x\")?)
         $$;",
    )
    .unwrap();
    for (alter, call) in [
        (
            "ALTER TYPE sc_pair ADD ATTRIBUTE y text",
            "SELECT sc_pair_x(ROW(3, 'y')::sc_pair)",
        ),
        (
            "ALTER TYPE sc_pair SET SCHEMA sc_elsewhere",
            "SELECT sc_pair_x(ROW(3, 'y')::sc_elsewhere.sc_pair)",
        ),
    ] {
        c.batch_execute(alter).unwrap();
        assert!(
            one::<bool>(
                &mut c,
                "SELECT bool_and(built_at IS NOT NULL) FROM plrust.functions
                 WHERE function::text LIKE 'sc_pair_x(%'"
            ),
            "no code after {alter}"
        );
        assert_eq!(one::<i32>(&mut c, call), 3, "after {alter}");
    }
}

#[test]
fn a_rollback_of_an_aborted_transaction_is_not_plrusts_business() {
    let mut c = client();
    ensure_role(&mut c, "sc_grantee");
    // Utility statements of an aborted transaction (ROLLBACK, ROLLBACK TO)
    // pass through plrust's hook; touching a catalog there would fail them.
    for sql in [
        "BEGIN; SELECT 1/0",
        "BEGIN; GRANT USAGE ON LANGUAGE plrust TO sc_grantee; SELECT 1/0",
        "BEGIN; CREATE FUNCTION sc_aborted() RETURNS int LANGUAGE plrust AS $$ not rust $$",
    ] {
        assert!(c.batch_execute(sql).is_err(), "{sql} did not fail");
        c.batch_execute("ROLLBACK").unwrap();
    }
    c.batch_execute("BEGIN; SAVEPOINT s; SELECT 1/0")
        .unwrap_err();
    c.batch_execute("ROLLBACK TO SAVEPOINT s; COMMIT").unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
}

#[test]
fn a_restored_body_that_does_not_compile_warns_and_the_restore_goes_on() {
    let mut c = client();
    c.batch_execute("DROP FUNCTION IF EXISTS sc_broken(int)")
        .unwrap();
    // With bodies unchecked, as pg_restore runs: the function is created,
    // without code, and says so.
    c.batch_execute(
        "SET check_function_bodies = off;
         CREATE FUNCTION sc_broken(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(y)) $$;
         RESET check_function_bodies;",
    )
    .unwrap();
    assert_eq!(built_at(&mut c, "sc_broken(int)"), None);
    let e = error_of(&mut c, "SELECT sc_broken(1)");
    assert_eq!(e.code().code(), "55000", "{e:?}");
    // Checked, the same body is refused.
    let e = error_of(
        &mut c,
        "CREATE OR REPLACE FUNCTION sc_broken(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(y)) $$",
    );
    assert_eq!(e.code().code(), "42P13", "{e:?}");
}

#[test]
fn nothing_compiles_in_a_read_only_transaction() {
    let mut c = client();
    create_unchecked(&mut c, "sc_ro_recompile", "x");
    c.batch_execute("BEGIN READ ONLY").unwrap();
    let e = error_of(
        &mut c,
        "SELECT plrust.recompile('sc_ro_recompile(int)'::regprocedure, true)",
    );
    c.batch_execute("ROLLBACK").unwrap();
    assert_eq!(e.code().code(), "25006", "{e:?}");
    assert!(
        built_at(&mut c, "sc_ro_recompile(int)").is_some(),
        "the code went"
    );
}

#[test]
fn a_twin_created_while_its_code_is_collected_gets_code() {
    let mut c = client();
    let body = fresh("x + 5");
    c.batch_execute(&format!(
        "DROP FUNCTION IF EXISTS sc_race_a(int), sc_race_b(int);
         CREATE FUNCTION sc_race_a(x int) RETURNS int STRICT LANGUAGE plrust AS $$ {body} $$;"
    ))
    .unwrap();
    // The drop collects the code (its DELETE is not yet committed) while
    // a twin that would reuse it is created.
    c.batch_execute("BEGIN; DROP FUNCTION sc_race_a(int)")
        .unwrap();
    let twin = std::thread::spawn(move || {
        let mut d = client();
        d.batch_execute(&format!(
            "CREATE FUNCTION sc_race_b(x int) RETURNS int STRICT LANGUAGE plrust AS $$ {body} $$"
        ))
        .unwrap();
        one::<i32>(&mut d, "SELECT sc_race_b(1)")
    });
    std::thread::sleep(Duration::from_millis(300));
    c.batch_execute("COMMIT").unwrap();
    assert_eq!(twin.join().unwrap(), 6);
    assert!(built_at(&mut c, "sc_race_b(int)").is_some());
}
