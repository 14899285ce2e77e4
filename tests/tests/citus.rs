//! plrust on Citus 13.2.2 (PostgreSQL 15): a coordinator and two workers
//! on this machine, each with `shared_preload_libraries = 'citus,plrust'`.
//! What Citus does to plrust functions: it replays CREATE FUNCTION (with
//! check_function_bodies off) on every worker, pushes calls down into the
//! shard queries, delegates distributed function calls, runs triggers on
//! the shards and runs all of it inside distributed (and read-only)
//! transactions; plrust must behave there as on one server.
//!
//! It needs Citus (scripts/citus.sh builds it) and three clusters of its
//! own on ports 55460-55462, so it is ignored in the per-major runs;
//! scripts/test.sh runs it with `--ignored` on 15, passing
//! PLRUST_TEST_CITUS_DIR (a directory of its own).
//!
//! The three clusters are shared by the tests (starting them and creating
//! Citus takes seconds, and the ports are fixed), and each test works in a
//! database of its own: Citus's metadata is per database, so no test sees
//! another's tables, functions or executors.  The tests take turns: they
//! look at the executor pool, which all databases share.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, Once};

use plrust_tests::cluster::{chown_postgres, Cluster};
use plrust_tests::one;
use postgres::error::DbError;
use postgres::Client;

const PORTS: [u16; 3] = [55460, 55461, 55462];

/// Every node: Citus first, as it requires; plrust after it.  Citus commits
/// multi-shard writes with two-phase commit, which needs prepared
/// transactions; its statistics collection would try the network.
const CONF: &str = "shared_preload_libraries = 'citus,plrust'
max_prepared_transactions = 20
citus.enable_statistics_collection = off";

struct Nodes {
    coordinator: Cluster,
    workers: Vec<Cluster>,
}

enum State {
    Down,
    Up(Nodes),
    Failed,
}

static STATE: Mutex<State> = Mutex::new(State::Down);

/// Statics are never dropped, so the clusters are stopped (by dropping
/// them) when the test binary exits, passed or failed.
extern "C" fn stop_clusters() {
    let _ = std::panic::catch_unwind(|| {
        *STATE.lock().unwrap_or_else(|e| e.into_inner()) = State::Down;
    });
}

fn start() -> Nodes {
    let base = PathBuf::from(std::env::var("PLRUST_TEST_CITUS_DIR").unwrap_or_else(|_| {
        panic!("PLRUST_TEST_CITUS_DIR is not set: run through scripts/test.sh")
    }));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    chown_postgres(&base);
    let node = |name: &str, port: u16| {
        let mut c = Cluster::new(base.join(name), port, "15");
        // A node connects to itself (the rebalancer, for one) by
        // citus.local_hostname, localhost by default: over TCP, which no
        // node listens on.
        c.conf = format!("{CONF}\ncitus.local_hostname = '{}'", c.dir.display());
        c.script("start");
        c
    };
    let coordinator = node("coordinator", PORTS[0]);
    let workers = vec![node("worker1", PORTS[1]), node("worker2", PORTS[2])];
    Nodes {
        coordinator,
        workers,
    }
}

/// The clusters, started by the first test that asks; held for the whole
/// test so that tests take turns.
fn citus() -> MutexGuard<'static, State> {
    static AT_EXIT: Once = Once::new();
    let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if let State::Down = *state {
        // A failed start leaves no half-made state for the next test to
        // trip over: the clusters made so far are stopped by unwinding.
        *state = match std::panic::catch_unwind(start) {
            Ok(nodes) => State::Up(nodes),
            Err(_) => State::Failed,
        };
        // SAFETY: atexit only records a plain function to call at exit;
        // stop_clusters catches its own panics, which must not unwind into C.
        AT_EXIT.call_once(|| unsafe {
            libc::atexit(stop_clusters);
        });
    }
    if let State::Failed = *state {
        panic!("the Citus clusters did not start: see the first test's output");
    }
    state
}

fn nodes(state: &State) -> &Nodes {
    match state {
        State::Up(n) => n,
        _ => unreachable!(),
    }
}

/// A session that gives up instead of hanging: a distributed deadlock or
/// a call waiting for the pool should fail the test, not stall the run.
fn session(cluster: &Cluster, db: &str) -> Client {
    let mut c = cluster.connect(db);
    c.batch_execute("SET statement_timeout = '120s'").unwrap();
    c
}

/// Database `name` on every node, with Citus, the coordinator registered
/// and the first `workers` workers added, and plrust created on the
/// coordinator only (Citus creates it on the workers).  Returns a session
/// on the coordinator.
fn database_with(n: &Nodes, name: &str, workers: usize) -> Client {
    // citus_add_node needs Citus already in the worker's database.
    for w in &n.workers {
        w.connect("postgres")
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        w.connect(name)
            .batch_execute("CREATE EXTENSION citus")
            .unwrap();
    }
    n.coordinator
        .connect("postgres")
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let mut c = session(&n.coordinator, name);
    c.batch_execute("CREATE EXTENSION citus").unwrap();
    c.execute(
        "SELECT citus_set_coordinator_host($1, $2)",
        &[
            &n.coordinator.dir.to_str().unwrap(),
            &i32::from(n.coordinator.port),
        ],
    )
    .unwrap();
    for w in &n.workers[..workers] {
        add_node(&mut c, w);
    }
    c.batch_execute("CREATE EXTENSION plrust").unwrap();
    c
}

fn database(n: &Nodes, name: &str) -> Client {
    database_with(n, name, n.workers.len())
}

/// A worker is known by its socket directory: every node listens on a
/// Unix socket only.
fn add_node(c: &mut Client, w: &Cluster) {
    c.execute(
        "SELECT citus_add_node($1, $2)",
        &[&w.dir.to_str().unwrap(), &i32::from(w.port)],
    )
    .unwrap();
}

/// Each statement on its own, as psql -c would run them: Citus refuses
/// some DDL after a multi-shard operation in the same transaction, and a
/// simple query of several statements is one transaction.
fn run(c: &mut Client, statements: &[&str]) {
    for sql in statements {
        if let Err(e) = c.batch_execute(sql) {
            panic!("{sql}: {:?}", db_error(e));
        }
    }
}

/// When the stored code of `signature`'s current definition was built,
/// as text; None if it has none.  Panics if there is no such function.
fn built_at(c: &mut Client, signature: &str) -> Option<String> {
    c.query_opt(
        "SELECT built_at::text FROM plrust.functions WHERE fn_oid = to_regprocedure($1)::oid",
        &[&signature],
    )
    .unwrap()
    .unwrap_or_else(|| panic!("{signature} is not a plrust function on this node"))
    .get(0)
}

/// The server error of a failed statement.
fn db_error(e: postgres::Error) -> DbError {
    e.as_db_error()
        .cloned()
        .unwrap_or_else(|| panic!("not a server error: {e}"))
}

fn explain(c: &mut Client, sql: &str) -> String {
    c.query(&format!("EXPLAIN (VERBOSE) {sql}"), &[])
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The port of the worker that holds the shard of `table` where the
/// distribution column is `key`.
fn shard_port(c: &mut Client, table: &str, key: i32) -> i32 {
    c.query_one(
        "SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
         WHERE p.shardid = get_shard_id_for_distribution_column($1::text::regclass, $2::int)",
        &[&table, &key],
    )
    .unwrap()
    .get(0)
}

/// Every node's code for `signature`: it must have been compiled when
/// CREATE FUNCTION reached the node, before anything calls it.
fn code_on_every_node(n: &Nodes, db: &str, signature: &str) -> Vec<String> {
    std::iter::once(&n.coordinator)
        .chain(&n.workers)
        .map(|node| {
            built_at(&mut session(node, db), signature).unwrap_or_else(|| {
                panic!(
                    "{signature} has no compiled code on the node at port {}",
                    node.port
                )
            })
        })
        .collect()
}

#[test]
#[ignore = "needs Citus and clusters of its own; scripts/test.sh runs it with --ignored"]
fn create_extension_on_the_coordinator_reaches_the_workers() {
    let state = citus();
    let n = nodes(&state);
    // database() creates plrust on the coordinator only.
    let mut c = database(n, "cx_ext");
    let version: String = one(
        &mut c,
        "SELECT extversion FROM pg_extension WHERE extname = 'plrust'",
    );
    for w in &n.workers {
        let mut wc = session(w, "cx_ext");
        let on_worker: Option<String> = wc
            .query_opt(
                "SELECT extversion FROM pg_extension WHERE extname = 'plrust'",
                &[],
            )
            .unwrap()
            .map(|r| r.get(0));
        assert_eq!(
            on_worker.as_ref(),
            Some(&version),
            "plrust on the worker at port {}",
            w.port
        );
        // The worker's plrust works, not merely exists: the preload is there.
        let preload: String = one(
            &mut wc,
            "SELECT current_setting('shared_preload_libraries')",
        );
        assert_eq!(preload, "citus,plrust");
        let slots: i64 = one(&mut wc, "SELECT count(*) FROM plrust.workers");
        assert!(
            slots > 0,
            "no executor pool on the worker at port {}",
            w.port
        );
    }
}

#[test]
#[ignore = "needs Citus and clusters of its own; scripts/test.sh runs it with --ignored"]
fn create_replace_and_drop_function_reach_the_workers() {
    let state = citus();
    let n = nodes(&state);
    let db = "cx_ddl";
    let mut c = database(n, db);
    let sig = "cx_ddl_fn(integer)";
    let body_of = |wc: &mut Client| -> Option<String> {
        wc.query_one(
            "SELECT prosrc FROM pg_proc WHERE oid = to_regprocedure($1)::oid",
            &[&sig],
        )
        .map(|r| r.get(0))
        .ok()
    };

    run(
        &mut c,
        &[
            "CREATE FUNCTION cx_ddl_fn(x int) RETURNS int STRICT IMMUTABLE LANGUAGE plrust
             AS $$ Ok(Some(x + 100)) $$",
        ],
    );
    for w in &n.workers {
        let mut wc = session(w, db);
        let body =
            body_of(&mut wc).unwrap_or_else(|| panic!("no {sig} on the worker at port {}", w.port));
        assert!(body.contains("x + 100"), "{body}");
        // Checked before any call, which (if calls compiled) would hide a
        // create that stored nothing.
        assert!(
            built_at(&mut wc, sig).is_some(),
            "the propagated CREATE FUNCTION stored no code on the worker at port {}",
            w.port
        );
        assert_eq!(one::<i32>(&mut wc, "SELECT cx_ddl_fn(1)"), 101);
    }

    run(
        &mut c,
        &[
            "CREATE OR REPLACE FUNCTION cx_ddl_fn(x int) RETURNS int STRICT IMMUTABLE LANGUAGE plrust
             AS $$ Ok(Some(x + 200)) $$",
        ],
    );
    for w in &n.workers {
        let mut wc = session(w, db);
        let body = body_of(&mut wc).unwrap();
        assert!(
            body.contains("x + 200"),
            "the worker at port {} kept {body}",
            w.port
        );
        assert!(
            built_at(&mut wc, sig).is_some(),
            "the propagated CREATE OR REPLACE stored no code on the worker at port {}",
            w.port
        );
        // A session that had loaded the old code must not keep running it.
        assert_eq!(one::<i32>(&mut wc, "SELECT cx_ddl_fn(1)"), 201);
    }

    c.batch_execute("DROP FUNCTION cx_ddl_fn(int)").unwrap();
    for w in &n.workers {
        let mut wc = session(w, db);
        let left: i64 = one(&mut wc, "SELECT count(*) FROM plrust.functions");
        assert_eq!(
            left, 0,
            "the function is still on the worker at port {}",
            w.port
        );
        assert!(body_of(&mut wc).is_none());
    }
}

#[test]
#[ignore = "needs Citus and clusters of its own; scripts/test.sh runs it with --ignored"]
fn calls_in_a_distributed_query_run_on_the_workers() {
    let state = citus();
    let n = nodes(&state);
    let db = "cx_push";
    let mut c = database(n, db);
    // A role of its own, so that the executors it binds on the workers can
    // only come from this test's calls.  Citus connects to the workers as
    // the current role to replay its DDL there, hence LOGIN.
    run(
        &mut c,
        &[
            "CREATE ROLE cx_push_owner LOGIN",
            "GRANT CREATE ON SCHEMA public TO cx_push_owner",
            "CREATE TABLE cx_push_t (k int, v int)",
            "SELECT create_distributed_table('cx_push_t', 'k')",
            "CREATE TABLE cx_push_copy (k int, v int)",
            "SELECT create_distributed_table('cx_push_copy', 'k', colocate_with := 'cx_push_t')",
            "INSERT INTO cx_push_t SELECT i, i FROM generate_series(1, 1000) i",
            "SET ROLE cx_push_owner",
            "CREATE FUNCTION cx_triple(x int) RETURNS int STRICT IMMUTABLE LANGUAGE plrust
             AS $$ Ok(Some(x * 3)) $$",
            "RESET ROLE",
        ],
    );

    let plan = explain(&mut c, "SELECT sum(cx_triple(v)) FROM cx_push_t");
    assert!(plan.contains("Custom Scan (Citus Adaptive)"), "{plan}");
    // The shard query itself calls the function.
    assert!(
        plan.lines()
            .any(|l| l.contains("Query: SELECT sum(public.cx_triple(v))")
                && l.contains("cx_push_t_")),
        "the call is not in the shard query:\n{plan}"
    );
    let sum: i64 = one(&mut c, "SELECT sum(cx_triple(v)) FROM cx_push_t");
    assert_eq!(sum, 3 * 500_500);

    // Each worker bound executors to the function's owner in this
    // database: the calls ran there.  The coordinator holds no shards and
    // never ran it.
    let bound = "SELECT count(*) FROM plrust.workers
                 WHERE database = current_database() AND function_owner = 'cx_push_owner'";
    for w in &n.workers {
        let executors: i64 = one(&mut session(w, db), bound);
        assert!(
            executors >= 1,
            "no executor ran cx_triple on the worker at port {}",
            w.port
        );
    }
    assert_eq!(
        one::<i64>(&mut c, bound),
        0,
        "the coordinator ran cx_triple"
    );

    // IMMUTABLE is what lets Citus push INSERT ... SELECT down into
    // shard-to-shard inserts (otherwise it repartitions through the
    // coordinator's intermediate results).
    let plan = explain(
        &mut c,
        "INSERT INTO cx_push_copy SELECT k, cx_triple(v) FROM cx_push_t",
    );
    assert!(
        !plan.contains("INSERT/SELECT method"),
        "not pushed down:\n{plan}"
    );
    assert!(plan.contains("Insert on public.cx_push_copy_"), "{plan}");
    c.batch_execute("INSERT INTO cx_push_copy SELECT k, cx_triple(v) FROM cx_push_t")
        .unwrap();
    let copied: i64 = one(&mut c, "SELECT sum(v) FROM cx_push_copy");
    assert_eq!(copied, 3 * 500_500);
}

#[test]
#[ignore = "needs Citus and clusters of its own; scripts/test.sh runs it with --ignored"]
fn distributed_function_calls_are_delegated_to_the_shard_owner() {
    let state = citus();
    let n = nodes(&state);
    let db = "cx_deleg";
    let mut c = database(n, db);
    // VOLATILE (the default): an IMMUTABLE call with a constant argument
    // is folded to a constant on the coordinator, before Citus could
    // delegate it.  The port says which node ran the body.
    run(
        &mut c,
        &[
            "CREATE TABLE cx_deleg_t (k int, v int)",
            "SELECT create_distributed_table('cx_deleg_t', 'k')",
            "CREATE FUNCTION cx_where(k int) RETURNS text STRICT LANGUAGE plrust AS $$
                 let port = Spi::get_one::<String>(\"SELECT current_setting('port')\")?.unwrap();
                 Ok(Some(format!(\"{k}@{port}\")))
             $$",
            "SELECT create_distributed_function('cx_where(int)', '$1', colocate_with := 'cx_deleg_t')",
        ],
    );
    let mut ports = std::collections::BTreeSet::new();
    for key in 1..=10 {
        let port = shard_port(&mut c, "cx_deleg_t", key);
        ports.insert(port);
        let got: String = one(&mut c, &format!("SELECT cx_where({key})"));
        assert_eq!(
            got,
            format!("{key}@{port}"),
            "not run on the shard's worker"
        );
    }
    assert_eq!(
        ports.len(),
        2,
        "the keys did not reach both workers: {ports:?}"
    );
}

#[test]
#[ignore = "needs Citus and clusters of its own; scripts/test.sh runs it with --ignored"]
fn first_call_in_a_multi_shard_transaction_neither_compiles_nor_deadlocks() {
    let state = citus();
    let n = nodes(&state);
    let db = "cx_txn";
    let mut c = database(n, db);
    run(
        &mut c,
        &[
            "CREATE TABLE cx_txn_t (k int, v int)",
            "SELECT create_distributed_table('cx_txn_t', 'k')",
            "INSERT INTO cx_txn_t SELECT i, i FROM generate_series(1, 100) i",
            "CREATE FUNCTION cx_double(x int) RETURNS int STRICT IMMUTABLE LANGUAGE plrust
             AS $$ Ok(Some(x * 2)) $$",
        ],
    );
    let sig = "cx_double(integer)";
    let before = code_on_every_node(n, db, sig);
    // The function's first call anywhere: up to
    // citus.max_adaptive_executor_pool_size (16) connections per worker,
    // all in one distributed transaction that then writes every shard
    // through the same connections and commits with two-phase commit.  A call that wrote code would make those
    // connections wait on one another's uncommitted row: a distributed
    // deadlock.
    c.batch_execute("BEGIN").unwrap();
    assert_eq!(
        one::<i64>(&mut c, "SELECT sum(cx_double(v)) FROM cx_txn_t"),
        10_100
    );
    c.batch_execute("UPDATE cx_txn_t SET v = cx_double(v)")
        .map_err(db_error)
        .unwrap();
    assert_eq!(one::<i64>(&mut c, "SELECT sum(v) FROM cx_txn_t"), 10_100);
    c.batch_execute("COMMIT").unwrap();
    assert_eq!(one::<i64>(&mut c, "SELECT sum(v) FROM cx_txn_t"), 10_100);
    assert_eq!(code_on_every_node(n, db, sig), before, "a call compiled");
}

#[test]
#[ignore = "needs Citus and clusters of its own; scripts/test.sh runs it with --ignored"]
fn first_call_in_a_read_only_transaction_works() {
    let state = citus();
    let n = nodes(&state);
    let db = "cx_ro";
    let mut c = database(n, db);
    run(
        &mut c,
        &[
            "CREATE TABLE cx_ro_t (k int, v int)",
            "SELECT create_distributed_table('cx_ro_t', 'k')",
            "INSERT INTO cx_ro_t SELECT i, i FROM generate_series(1, 100) i",
            "CREATE FUNCTION cx_ro_a(x int) RETURNS int STRICT IMMUTABLE LANGUAGE plrust
             AS $$ Ok(Some(x + 1)) $$",
            "CREATE FUNCTION cx_ro_b(x int) RETURNS int STRICT IMMUTABLE LANGUAGE plrust
             AS $$ Ok(Some(x + 2)) $$",
        ],
    );
    let before_a = code_on_every_node(n, db, "cx_ro_a(integer)");
    let before_b = code_on_every_node(n, db, "cx_ro_b(integer)");

    c.batch_execute("BEGIN READ ONLY").unwrap();
    let sum = c
        .query_one("SELECT sum(cx_ro_a(v)) FROM cx_ro_t", &[])
        .map_err(db_error)
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(sum, 5_150);
    c.batch_execute("COMMIT").unwrap();

    // A hot standby's or a read-only role's sessions look like this.
    c.batch_execute("SET default_transaction_read_only = on")
        .unwrap();
    let sum = c
        .query_one("SELECT sum(cx_ro_b(v)) FROM cx_ro_t", &[])
        .map_err(db_error)
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(sum, 5_250);
    c.batch_execute("RESET default_transaction_read_only")
        .unwrap();

    assert_eq!(
        code_on_every_node(n, db, "cx_ro_a(integer)"),
        before_a,
        "a call compiled"
    );
    assert_eq!(
        code_on_every_node(n, db, "cx_ro_b(integer)"),
        before_b,
        "a call compiled"
    );
}

#[test]
#[ignore = "needs Citus and clusters of its own; scripts/test.sh runs it with --ignored"]
fn trigger_on_a_distributed_table_runs_on_the_shards() {
    let state = citus();
    let n = nodes(&state);
    let db = "cx_trg";
    let mut c = database(n, db);
    // Citus refuses triggers on distributed tables unless told that the
    // trigger only touches its own row (which this one does).
    run(
        &mut c,
        &[
            "CREATE TABLE cx_item (id int, name text, loud text, node int)",
            "SELECT create_distributed_table('cx_item', 'id')",
            "CREATE FUNCTION cx_shout() RETURNS trigger LANGUAGE plrust AS $$
                 let mut row = trigger.new().unwrap().into_owned();
                 let name = row.get_by_name::<String>(\"name\")?.unwrap_or_default();
                 row.set_by_name(\"loud\", name.to_uppercase())?;
                 let port = Spi::get_one::<String>(\"SELECT current_setting('port')\")?.unwrap();
                 row.set_by_name(\"node\", port.parse::<i32>().unwrap())?;
                 Ok(Some(row))
             $$",
            "SET citus.enable_unsafe_triggers = on",
            "CREATE TRIGGER cx_shout BEFORE INSERT OR UPDATE ON cx_item
             FOR EACH ROW EXECUTE FUNCTION cx_shout()",
            "INSERT INTO cx_item (id, name) SELECT i, 'item ' || i FROM generate_series(1, 20) i",
            "UPDATE cx_item SET name = 'renamed' WHERE id = 7",
        ],
    );
    let rows = c
        .query("SELECT id, name, loud, node FROM cx_item ORDER BY id", &[])
        .unwrap();
    assert_eq!(rows.len(), 20);
    let mut ports = std::collections::BTreeSet::new();
    for r in &rows {
        let (id, name, loud, node): (i32, String, Option<String>, Option<i32>) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        assert_eq!(loud, Some(name.to_uppercase()), "row {id}");
        // The trigger ran on the worker that stores the row.
        assert_eq!(node, Some(shard_port(&mut c, "cx_item", id)), "row {id}");
        ports.insert(node.unwrap());
    }
    assert_eq!(
        ports.len(),
        2,
        "the rows did not reach both workers: {ports:?}"
    );
    let renamed: String = one(&mut c, "SELECT loud FROM cx_item WHERE id = 7");
    assert_eq!(renamed, "RENAMED");
}

/// Distributes plrust.artifacts with `how`; then either Citus refused, or
/// plrust refuses to run: a call fails naming the table, on the
/// coordinator and on a worker (which has the same Citus metadata).
fn distributing_artifacts_is_refused(db: &str, how: &str) {
    let state = citus();
    let n = nodes(&state);
    let mut c = database(n, db);
    c.batch_execute(&format!(
        "CREATE FUNCTION {db}_fn(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x)) $$"
    ))
    .unwrap();
    let call = format!("SELECT {db}_fn(1)");
    assert_eq!(one::<i32>(&mut c, &call), 1);
    match c.batch_execute(&format!("SELECT {how}")) {
        Err(e) => {
            let e = db_error(e);
            let listed: i64 = one(
                &mut c,
                "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'plrust.artifacts'::regclass",
            );
            assert_eq!(
                listed,
                0,
                "Citus failed ({}) but distributed the table",
                e.message()
            );
            eprintln!("{how}: Citus refused: {}", e.message());
        }
        Ok(()) => {
            // A fresh session: nothing cached from before.
            for (node, mut s) in [
                ("coordinator", session(&n.coordinator, db)),
                ("worker", session(&n.workers[0], db)),
            ] {
                let e = db_error(s.batch_execute(&call).expect_err(&format!(
                    "plrust ran on the {node} with plrust.artifacts distributed by {how}"
                )));
                assert!(
                    e.message().contains("plrust.artifacts"),
                    "the {node}'s error does not name plrust.artifacts: {e:?}"
                );
                eprintln!("{how}: plrust on the {node} refused: {}", e.message());
            }
        }
    }
}

#[test]
#[ignore = "needs Citus and clusters of its own; scripts/test.sh runs it with --ignored"]
fn a_hash_distributed_artifacts_table_is_refused() {
    distributing_artifacts_is_refused(
        "cx_art_hash",
        "create_distributed_table('plrust.artifacts', 'hash')",
    );
}

#[test]
#[ignore = "needs Citus and clusters of its own; scripts/test.sh runs it with --ignored"]
fn a_reference_artifacts_table_is_refused() {
    distributing_artifacts_is_refused("cx_art_ref", "create_reference_table('plrust.artifacts')");
}

#[test]
#[ignore = "needs Citus and clusters of its own; scripts/test.sh runs it with --ignored"]
fn a_worker_added_later_compiles_the_existing_functions() {
    let state = citus();
    let n = nodes(&state);
    let db = "cx_late";
    let mut c = database_with(n, db, 1);
    run(
        &mut c,
        &[
            "CREATE TABLE cx_late_t (k int, v int)",
            "SELECT create_distributed_table('cx_late_t', 'k')",
            "INSERT INTO cx_late_t SELECT i, i FROM generate_series(1, 100) i",
            "CREATE FUNCTION cx_late_fn(x int) RETURNS int STRICT IMMUTABLE LANGUAGE plrust
             AS $$ Ok(Some(x * 5)) $$",
        ],
    );
    // Citus replays the extension and the function on the new node...
    let late = &n.workers[1];
    add_node(&mut c, late);
    let mut lc = session(late, db);
    assert!(
        built_at(&mut lc, "cx_late_fn(integer)").is_some(),
        "the function reached the new worker without compiled code"
    );
    // ...and shards moved there run it.
    // block_writes copies shards without logical replication (wal_level
    // is replica here).
    c.batch_execute("SELECT rebalance_table_shards(shard_transfer_mode := 'block_writes')")
        .map_err(db_error)
        .unwrap();
    let moved: i64 = one(
        &mut c,
        &format!(
            "SELECT count(*) FROM citus_shards WHERE nodeport = {}",
            late.port
        ),
    );
    assert!(moved > 0, "the rebalancer moved no shard to the new worker");
    assert_eq!(
        one::<i64>(&mut c, "SELECT sum(cx_late_fn(v)) FROM cx_late_t"),
        25_250
    );
}
