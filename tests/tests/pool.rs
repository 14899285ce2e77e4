//! The executor pool: one supervisor starting executors on demand into
//! plrust.max_executors slots, a share per principal (database, function
//! owner) with its own waits and errors, first come first served when the
//! whole pool is busy, idle executors retired, an idle pool that uses no
//! CPU, re-entrant nested calls (recursion as deep as the stack allows, also
//! across principals), and cancelled calls whose executors are replaced
//! while connections come and go, with no harm to any other process.
//!
//! Its own cluster of the major under test (PLRUST_TEST_MAJOR), in
//! PLRUST_TEST_SCRATCH, on port 55465, with a small pool: four executors,
//! two per principal, retired after two idle seconds.  The sizing test
//! makes one more on port 55466.  The tests count and fill the pool, so
//! they take turns, and each starts from an idle pool.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use plrust_tests::cluster::{major, scratch, Cluster};
use plrust_tests::{connect_as, ensure_role, error_of, one, proc_status, wait_for};
use postgres::error::DbError;
use postgres::Client;

const PORT: u16 = 55465;
const SIZING_PORT: u16 = 55466;
const DATABASE: &str = "plrust_pool";
/// The function owners: five principals of the pool's database.
const OWNERS: [&str; 5] = ["t1", "t2", "t3", "t4", "t5"];
const MAX_EXECUTORS: i64 = 4;
const SHARE: i64 = 2;
const SPARES: i64 = 2;
const POOL_CONF: &str = "plrust.max_executors = 4
plrust.max_executors_per_principal = 2
plrust.executor_idle_timeout = '2s'";

// ---------------------------------------------------------------------------
// The shared cluster.

/// Where the pool cluster listens.
struct Pool {
    host: String,
}

/// Started once for the whole file by the first test; `Err` says why it
/// could not be, to every test.
static POOL: OnceLock<Result<Pool, String>> = OnceLock::new();
/// The running cluster, stopped when the test binary exits (a static is
/// never dropped).
static CLUSTER: Mutex<Option<Cluster>> = Mutex::new(None);

extern "C" fn stop_pool_cluster() {
    let cluster = CLUSTER.lock().ok().and_then(|mut c| c.take());
    drop(cluster); // Cluster's Drop runs `cluster.sh stop`
}

fn pool() -> &'static Pool {
    let started = POOL.get_or_init(|| {
        std::panic::catch_unwind(start_pool).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into())
        })
    });
    match started {
        Ok(p) => p,
        Err(why) => panic!("the pool cluster did not start: {why}"),
    }
}

fn start_pool() -> Pool {
    let major = major();
    // A server left running in the scratch directory (by a run that was
    // killed) would keep the port: stop it before its directory goes.
    if let Ok(base) = std::env::var("PLRUST_TEST_SCRATCH") {
        let left = std::path::Path::new(&base).join("pool/node");
        if left.join("data/postmaster.pid").exists() {
            drop(Cluster::new(left, PORT, &major)); // its Drop stops it
        }
    }
    let dir = scratch("pool").join("node");
    let mut cluster = Cluster::new(dir, PORT, &major);
    cluster.conf = POOL_CONF.into();
    cluster.script("start");
    let host = cluster.dir.to_str().unwrap().to_string();
    *CLUSTER.lock().unwrap_or_else(|e| e.into_inner()) = Some(cluster);
    // SAFETY: registers a plain extern "C" function with no arguments; it
    // runs once, at exit.
    let registered = unsafe { libc::atexit(stop_pool_cluster) };
    assert_eq!(registered, 0, "atexit");
    let mut admin = connect_as(&host, &PORT.to_string(), "postgres", "postgres");
    admin
        .batch_execute(&format!("CREATE DATABASE {DATABASE}"))
        .unwrap();
    let pool = Pool { host };
    let mut c = pool.superuser();
    c.batch_execute("CREATE EXTENSION plrust").unwrap();
    for owner in OWNERS {
        ensure_role(&mut c, owner);
        create_as(
            &mut c,
            owner,
            &format!(
                "CREATE FUNCTION {owner}_now() RETURNS bigint LANGUAGE plrust AS $$
                     Ok(Spi::get_one::<i64>({NOW_US})?)
                 $$;
                 CREATE FUNCTION {owner}_sleep(until_us bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$
                     let started = Spi::get_one::<i64>({NOW_US})?;
                     Spi::run_with_args(
                         \"SELECT pg_sleep($1::float8 / 1000000 - extract(epoch FROM clock_timestamp())::float8)\",
                         Some(vec![(PgBuiltInOids::INT8OID.oid(), until_us.into_datum())]),
                     )?;
                     Ok(started)
                 $$;"
            ),
        );
    }
    pool
}

/// The SQL (a Rust string literal) of the time now, in microseconds since
/// the epoch: the clock the tests read with SystemTime.
const NOW_US: &str = "\"SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint\"";

impl Pool {
    fn session(&self, role: &str) -> Client {
        connect_as(&self.host, &PORT.to_string(), DATABASE, role)
    }

    fn superuser(&self) -> Client {
        self.session("postgres")
    }
}

/// Run `sql` (CREATE FUNCTION statements) as `owner`, who then owns them.
fn create_as(c: &mut Client, owner: &str, sql: &str) {
    c.batch_execute(&format!("SET ROLE {owner}; {sql}; RESET ROLE"))
        .unwrap_or_else(|e| panic!("{sql}: {e}: {:?}", e.as_db_error()));
}

static ALONE: Mutex<()> = Mutex::new(());

/// The pool to this test alone, idle (no executor bound or busy), and a
/// superuser session on it.
fn alone() -> (MutexGuard<'static, ()>, &'static Pool, Client) {
    let guard = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let pool = pool();
    let mut c = pool.superuser();
    wait_for_idle_pool(&mut c, Duration::from_secs(20));
    (guard, pool, c)
}

// ---------------------------------------------------------------------------
// Helpers.

/// The cluster's health, as plrust_tests::Health for the main cluster: a
/// crash-restart changes the start time and drops every session.
struct Health {
    start: String,
    bystander: Client,
}

impl Health {
    fn before(pool: &Pool) -> Health {
        let mut bystander = pool.superuser();
        let start = one::<String>(&mut bystander, "SELECT pg_postmaster_start_time()::text");
        Health { start, bystander }
    }

    fn assert_unharmed(mut self) {
        let start = one::<String>(
            &mut self.bystander,
            "SELECT pg_postmaster_start_time()::text",
        );
        assert_eq!(start, self.start, "the cluster restarted");
        assert_eq!(
            one::<i32>(&mut self.bystander, "SELECT 1"),
            1,
            "the other session was disconnected"
        );
    }
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

fn count(c: &mut Client, sql: &str) -> i64 {
    one::<i64>(c, sql)
}

/// The pids of the executors that run now.
fn executor_pids(c: &mut Client) -> Vec<i32> {
    c.query(
        "SELECT executor_pid FROM plrust.workers WHERE executor_pid IS NOT NULL ORDER BY slot",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// The executors bound to `owner`.
fn executor_pids_of(c: &mut Client, owner: &str) -> Vec<i32> {
    c.query(
        "SELECT executor_pid FROM plrust.workers WHERE function_owner = $1 AND executor_pid IS NOT NULL",
        &[&owner],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// How many executors are busy with a call of `backends`, bound to `owner`.
fn busy_for(c: &mut Client, owner: &str, backends: &[i32]) -> i64 {
    c.query_one(
        "SELECT count(*) FROM plrust.workers
         WHERE function_owner = $1 AND busy_backend_pid = ANY($2) AND executor_pid IS NOT NULL",
        &[&owner, &backends],
    )
    .unwrap()
    .get(0)
}

/// How many executors are bound to `owner`, busy or not.
fn bound_to(c: &mut Client, owner: &str) -> i64 {
    c.query_one(
        "SELECT count(*) FROM plrust.workers WHERE function_owner = $1 AND executor_pid IS NOT NULL",
        &[&owner],
    )
    .unwrap()
    .get(0)
}

/// The state the pool returns to: nothing busy, nothing bound, at most the
/// spares running.  Returns their pids.
fn idle_pool(c: &mut Client) -> Option<Vec<i32>> {
    let (busy, bound, running): (i64, i64, i64) = {
        let r = c
            .query_one(
                "SELECT count(*) FILTER (WHERE busy_backend_pid IS NOT NULL),
                        count(*) FILTER (WHERE executor_pid IS NOT NULL
                                           AND (function_owner IS NOT NULL OR database IS NOT NULL)),
                        count(*) FILTER (WHERE executor_pid IS NOT NULL)
                 FROM plrust.workers",
                &[],
            )
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    (busy == 0 && bound == 0 && running <= SPARES).then(|| executor_pids(c))
}

fn wait_for_idle_pool(c: &mut Client, timeout: Duration) -> Vec<i32> {
    wait_for(
        "the pool to be idle (nothing busy or bound, at most the spares running)",
        timeout,
        || idle_pool(c),
    )
}

fn supervisor_pid(c: &mut Client) -> i32 {
    let rows = c
        .query(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'plrust pool supervisor'",
            &[],
        )
        .unwrap();
    assert_eq!(
        rows.len(),
        1,
        "one plrust pool supervisor in pg_stat_activity"
    );
    rows[0].get(0)
}

fn backend_pid(c: &mut Client) -> i32 {
    one(c, "SELECT pg_backend_pid()")
}

/// `text` names `setting` itself, not a longer name it begins
/// (plrust.max_executors, not plrust.max_executors_per_principal).
fn names(text: Option<&str>, setting: &str) -> bool {
    let Some(text) = text else { return false };
    text.match_indices(setting).any(|(i, _)| {
        !text[i + setting.len()..].starts_with(|c: char| c == '_' || c.is_ascii_alphanumeric())
    })
}

/// The error of a call that waited plrust.pool_wait_timeout in vain.
fn assert_pool_wait_error(e: &DbError, function: &str) {
    assert_eq!(e.code().code(), "53000", "{e:?}");
    assert_eq!(
        e.message(),
        format!(
            "no plrust executor became free within plrust.pool_wait_timeout to run function \"{function}\""
        ),
        "{e:?}"
    );
}

/// ... because the function's owner holds its whole share.
fn assert_share_error(e: &DbError, function: &str) {
    assert_pool_wait_error(e, function);
    assert!(
        names(e.detail(), "plrust.max_executors_per_principal"),
        "DETAIL should say the owner holds its whole share: {e:?}"
    );
    assert!(
        names(e.hint(), "plrust.max_executors_per_principal"),
        "{e:?}"
    );
}

/// ... because every executor of the pool is busy.
fn assert_full_pool_error(e: &DbError, function: &str) {
    assert_pool_wait_error(e, function);
    assert!(
        names(e.detail(), "plrust.max_executors")
            && !names(e.detail(), "plrust.max_executors_per_principal")
            && e.detail().unwrap().contains(&MAX_EXECUTORS.to_string()),
        "DETAIL should say all {MAX_EXECUTORS} executors (plrust.max_executors) are busy: {e:?}"
    );
    assert!(names(e.hint(), "plrust.max_executors"), "{e:?}");
}

/// A call running in its own session and thread.
struct Call {
    backend: i32,
    thread: JoinHandle<Result<i64, postgres::Error>>,
}

impl Call {
    /// `SELECT {sql}` (one bigint) in session `c`, after `setup`.
    fn start(mut c: Client, setup: &str, sql: &str) -> Call {
        let backend = backend_pid(&mut c);
        if !setup.is_empty() {
            c.batch_execute(setup).unwrap();
        }
        let sql = format!("SELECT {sql}");
        let thread = std::thread::spawn(move || c.query_one(&sql, &[]).map(|r| r.get(0)));
        Call { backend, thread }
    }

    fn join(self) -> Result<i64, postgres::Error> {
        self.thread.join().unwrap()
    }
}

/// Cancel calls still running and wait for them to end, however they end.
fn cancel_all(c: &mut Client, calls: Vec<Call>) {
    for call in &calls {
        c.execute("SELECT pg_cancel_backend($1)", &[&call.backend])
            .unwrap();
    }
    for call in calls {
        let _ = call.join();
    }
}

// ---------------------------------------------------------------------------
// Shares, waits and their errors.

#[test]
fn a_principal_at_its_share_waits_alone() {
    let (_alone, pool, mut c) = alone();
    let health = Health::before(pool);
    // t1 takes its whole share with two long calls.
    let until = now_us() + 8_000_000;
    let sleepers: Vec<Call> = (0..SHARE)
        .map(|_| Call::start(pool.superuser(), "", &format!("t1_sleep({until})")))
        .collect();
    let backends: Vec<i32> = sleepers.iter().map(|s| s.backend).collect();
    wait_for(
        "t1's two calls to run in two executors",
        Duration::from_secs(20),
        || (busy_for(&mut c, "t1", &backends) == SHARE).then_some(()),
    );
    let pids: Vec<i32> = c
        .query(
            "SELECT DISTINCT executor_pid FROM plrust.workers WHERE busy_backend_pid = ANY($1)",
            &[&backends],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(pids.len(), SHARE as usize, "two executors: {pids:?}");

    // A third t1 call waits, though the pool has room, and only for t1.
    let mut waiter = pool.superuser();
    waiter
        .batch_execute("SET plrust.pool_wait_timeout = '1500ms'")
        .unwrap();
    let waited = std::thread::spawn(move || {
        let start = Instant::now();
        let e = error_of(&mut waiter, "SELECT t1_now()");
        (e, start.elapsed(), Instant::now())
    });
    std::thread::sleep(Duration::from_millis(200));
    assert!(!waited.is_finished(), "the third t1 call did not wait");
    assert_eq!(
        bound_to(&mut c, "t1"),
        SHARE,
        "t1 holds more than its share while a call waits"
    );
    // Meanwhile another principal's first call (preparing its executor)
    // goes ahead.
    let mut other = pool.superuser();
    let start = Instant::now();
    let got: i64 = one(&mut other, "SELECT t2_now()");
    let t2_done = Instant::now();
    let took = t2_done - start;
    assert!(got > 0);
    assert!(took < Duration::from_secs(1), "t2's call took {took:?}");

    let (e, took, failed_at) = waited.join().unwrap();
    assert_share_error(&e, "t1_now");
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_millis(3500),
        "the waiting call failed after {took:?}"
    );
    assert!(t2_done < failed_at, "t2's call waited for t1's");
    // All the while, t1's calls were running.
    assert_eq!(busy_for(&mut c, "t1", &backends), SHARE);
    assert!(sleepers.iter().all(|s| !s.thread.is_finished()));
    cancel_all(&mut c, sleepers);
    assert!(one::<i64>(&mut c, "SELECT t1_now()") > 0);
    health.assert_unharmed();
}

#[test]
fn a_full_pool_serves_waiting_principals_in_arrival_order() {
    let (_alone, pool, mut c) = alone();
    let health = Health::before(pool);
    // Four calls fill the pool (t1 and t2 two each) and end 500 ms apart.
    let t0 = now_us();
    let ends: Vec<i64> = (0..4).map(|i| t0 + 3_000_000 + i * 500_000).collect();
    let holders: Vec<Call> = ends
        .iter()
        .zip(["t1", "t1", "t2", "t2"])
        .map(|(end, owner)| Call::start(pool.superuser(), "", &format!("{owner}_sleep({end})")))
        .collect();
    let backends: Vec<i32> = holders.iter().map(|h| h.backend).collect();
    wait_for("the pool to fill", Duration::from_secs(20), || {
        let busy = busy_for(&mut c, "t1", &backends) + busy_for(&mut c, "t2", &backends);
        (busy == MAX_EXECUTORS).then_some(())
    });

    // A call that cannot wait long enough says the whole pool is busy.
    let mut impatient = pool.superuser();
    impatient
        .batch_execute("SET plrust.pool_wait_timeout = '300ms'")
        .unwrap();
    let start = Instant::now();
    let e = error_of(&mut impatient, "SELECT t5_now()");
    assert_full_pool_error(&e, "t5_now");
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "took {took:?}"
    );

    // t3, t4, t5 arrive in that order, 150 ms apart, while it is full.
    let mut waiters = Vec::new();
    for owner in ["t3", "t4", "t5"] {
        let w = pool.superuser();
        waiters.push(Call::start(
            w,
            "SET plrust.pool_wait_timeout = '30s'",
            &format!("{owner}_now()"),
        ));
        std::thread::sleep(Duration::from_millis(150));
    }
    assert!(
        now_us() < ends[0] - 100_000,
        "the test was too slow: the first holder ends before all waiters arrived"
    );
    let served: Vec<i64> = waiters
        .into_iter()
        .map(|w| {
            w.join()
                .unwrap_or_else(|e| panic!("waiter: {e}: {:?}", e.as_db_error()))
        })
        .collect();
    for h in holders {
        h.join()
            .unwrap_or_else(|e| panic!("holder: {e}: {:?}", e.as_db_error()));
    }
    // First come, first served.
    let ms = |t: i64| (t - t0) as f64 / 1000.0;
    let report = format!(
        "holders ended at {:?} ms, t3, t4, t5 started at {:?} ms",
        ends.iter().map(|&t| ms(t)).collect::<Vec<_>>(),
        served.iter().map(|&t| ms(t)).collect::<Vec<_>>()
    );
    assert!(
        served[0] < served[1] && served[1] < served[2],
        "not served in arrival order: {report}"
    );
    // They all waited.  (Each is quick: the first executor to come free
    // may serve all three in turn.)
    assert!(
        served[0] >= ends[0],
        "a waiter ran before an executor was free: {report}"
    );
    health.assert_unharmed();
}

#[test]
fn the_per_principal_ceiling_is_set_by_alter_role_and_not_raised_by_a_guest() {
    let (_alone, pool, mut c) = alone();
    let health = Health::before(pool);
    /// The role settings go, however the test ends.
    struct Reset<'a>(&'a Pool);
    impl Drop for Reset<'_> {
        fn drop(&mut self) {
            let _ = self.0.superuser().batch_execute(
                "ALTER ROLE t3 RESET plrust.max_executors_per_principal;
                 ALTER ROLE t3 RESET plrust.pool_wait_timeout;",
            );
        }
    }
    let _reset = Reset(pool);
    c.batch_execute(
        "ALTER ROLE t3 SET plrust.max_executors_per_principal = 1;
         ALTER ROLE t3 SET plrust.pool_wait_timeout = '700ms';",
    )
    .unwrap();

    let mut s1 = pool.session("t3");
    assert_eq!(
        one::<String>(&mut s1, "SHOW plrust.max_executors_per_principal"),
        "1"
    );
    // One call of t3's session holds t3's whole share.
    let until = now_us() + 8_000_000;
    let sleeper = Call::start(s1, "", &format!("t3_sleep({until})"));
    wait_for("t3's call to run", Duration::from_secs(20), || {
        (busy_for(&mut c, "t3", &[sleeper.backend]) == 1).then_some(())
    });
    let mut s2 = pool.session("t3");
    let start = Instant::now();
    let e = error_of(&mut s2, "SELECT t3_now()");
    let took = start.elapsed();
    assert_share_error(&e, "t3_now");
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_millis(2500),
        "took {took:?}"
    );
    assert_eq!(bound_to(&mut c, "t3"), 1);
    // The ceiling is the calling session's: a superuser's session (2, from
    // postgresql.conf) calling t3's function gets t3 a second executor.
    let start = Instant::now();
    assert!(one::<i64>(&mut c, "SELECT t3_now()") > 0);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(bound_to(&mut c, "t3"), 2);

    // t3 can raise it neither for the session nor for the role.
    let e = error_of(&mut s2, "SET plrust.max_executors_per_principal = 4");
    assert_eq!(e.code().code(), "42501", "{e:?}");
    let e = error_of(
        &mut s2,
        "ALTER ROLE t3 SET plrust.max_executors_per_principal = 4",
    );
    assert_eq!(e.code().code(), "42501", "{e:?}");
    assert_eq!(
        one::<String>(&mut s2, "SHOW plrust.max_executors_per_principal"),
        "1"
    );
    let mut s3 = pool.session("t3");
    assert_eq!(
        one::<String>(&mut s3, "SHOW plrust.max_executors_per_principal"),
        "1"
    );
    cancel_all(&mut c, vec![sleeper]);
    health.assert_unharmed();
}

// ---------------------------------------------------------------------------
// Executors on demand, retired when idle, and an idle pool.

#[test]
fn executors_start_on_demand_and_retire_when_idle() {
    let (_alone, pool, mut c) = alone();
    let health = Health::before(pool);
    let setting = |c: &mut Client, name: &str| -> (String, String) {
        let r = c
            .query_opt(
                "SELECT setting, coalesce(unit, '') FROM pg_settings WHERE name = $1",
                &[&name],
            )
            .unwrap()
            .unwrap_or_else(|| panic!("{name} is not in pg_settings"));
        (r.get(0), r.get(1))
    };
    assert_eq!(setting(&mut c, "plrust.max_executors").0, "4");
    assert_eq!(
        setting(&mut c, "plrust.executor_idle_timeout"),
        ("2000".into(), "ms".into())
    );
    assert_eq!(setting(&mut c, "plrust.max_executors_per_principal").0, "2");
    let slots: String = one(
        &mut c,
        "SELECT string_agg(slot::text, ',' ORDER BY slot) FROM plrust.workers",
    );
    assert_eq!(slots, "0,1,2,3");

    // Idle: at most the spares, none bound, all children of the supervisor.
    let supervisor = supervisor_pid(&mut c);
    let spares = wait_for_idle_pool(&mut c, Duration::from_secs(10));
    for pid in &spares {
        assert_eq!(
            proc_status(*pid, "PPid"),
            supervisor.to_string(),
            "executor {pid}"
        );
    }

    // Four principals' calls at once: four executors.
    let until = now_us() + 3_000_000;
    let calls: Vec<(&str, Call)> = ["t1", "t2", "t3", "t4"]
        .into_iter()
        .map(|owner| {
            let call = Call::start(pool.superuser(), "", &format!("{owner}_sleep({until})"));
            (owner, call)
        })
        .collect();
    wait_for(
        "four executors to run a call each",
        Duration::from_secs(20),
        || {
            let all = calls
                .iter()
                .all(|(owner, call)| busy_for(&mut c, owner, &[call.backend]) == 1);
            all.then_some(())
        },
    );
    let bound = executor_pids(&mut c);
    assert_eq!(bound.len(), MAX_EXECUTORS as usize, "{bound:?}");
    for pid in &bound {
        assert_eq!(
            proc_status(*pid, "PPid"),
            supervisor.to_string(),
            "executor {pid}"
        );
    }
    for (owner, call) in calls {
        call.join()
            .unwrap_or_else(|e| panic!("{owner}: {e}: {:?}", e.as_db_error()));
    }
    let idle_since = Instant::now();
    // Idle but not yet for plrust.executor_idle_timeout: still there.
    let kept: i64 = count(
        &mut c,
        "SELECT count(*) FROM plrust.workers
         WHERE function_owner IN ('t1', 't2', 't3', 't4') AND executor_pid IS NOT NULL",
    );
    assert_eq!(kept, 4, "executors retired at once, not after 2 s idle");
    assert!(idle_since.elapsed() < Duration::from_millis(1000));

    // Retired after ~2 s, their processes gone, at most the spares left.
    wait_for(
        "the idle executors to retire",
        Duration::from_secs(6),
        || {
            let gone = bound
                .iter()
                .all(|p| !std::path::Path::new(&format!("/proc/{p}")).exists());
            (gone && idle_pool(&mut c).is_some()).then_some(())
        },
    );
    let after = idle_since.elapsed();
    assert!(
        after >= Duration::from_millis(1500),
        "retired after {after:?} idle"
    );
    let now = executor_pids(&mut c);
    assert!(now.iter().all(|p| !bound.contains(p)), "{now:?} {bound:?}");
    health.assert_unharmed();
}

/// The CPU time `pid` has run, in ns (the first field of its schedstat:
/// exact, where utime + stime come in 10 ms ticks, and a tick's edge
/// crossed by a few microseconds would count as a whole one).
fn cpu_ns(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/schedstat"))
        .unwrap_or_else(|e| panic!("/proc/{pid}/schedstat: {e}"));
    stat.split_whitespace().next().unwrap().parse().unwrap()
}

/// What "idle" may cost in 5 s: the supervisor wakes once a second to look
/// at the slots, and on this machine's virtual CPUs a wakeup costs about a
/// millisecond (as much as PostgreSQL's own walwriter's).  An executor that
/// spun, or a supervisor that polled, would use hundreds of times more.
const IDLE_BUDGET: Duration = Duration::from_millis(25);

#[test]
fn an_idle_pool_uses_no_cpu() {
    let (_alone, pool, mut c) = alone();
    let health = Health::before(pool);
    // Settled: idle, and for a second more.
    let mut pids = wait_for_idle_pool(&mut c, Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        wait_for_idle_pool(&mut c, Duration::from_secs(1)),
        pids,
        "the spares changed while idle"
    );
    let executors = pids.clone();
    pids.push(supervisor_pid(&mut c));
    drop(c); // no session of ours on the cluster while we measure
    let before: Vec<u64> = pids.iter().map(|p| cpu_ns(*p)).collect();
    std::thread::sleep(Duration::from_secs(5));
    let used: Vec<(i32, Duration)> = pids
        .iter()
        .zip(&before)
        .map(|(p, b)| (*p, Duration::from_nanos(cpu_ns(*p) - b)))
        .collect();
    let total: Duration = used.iter().map(|(_, d)| *d).sum();
    assert!(
        total <= IDLE_BUDGET,
        "the idle supervisor and executors used {total:?} of CPU in 5 s (pid, time: {used:?})"
    );
    let mut c = pool.superuser();
    assert_eq!(
        executor_pids(&mut c),
        executors,
        "the spares changed while idle"
    );
    health.assert_unharmed();
}

// ---------------------------------------------------------------------------
// Nested calls.

const INT8: &str = "PgBuiltInOids::INT8OID.oid()";

#[test]
fn recursion_is_bounded_by_the_stack_not_by_the_pool() {
    let (_alone, pool, mut c) = alone();
    let health = Health::before(pool);
    create_as(
        &mut c,
        "t1",
        &format!(
            "CREATE OR REPLACE FUNCTION t1_fact(n bigint) RETURNS float8 STRICT LANGUAGE plrust AS $$
                 if n <= 1 {{ return Ok(Some(1.0)); }}
                 let below = Spi::get_one_with_args::<f64>(\"SELECT t1_fact($1)\", vec![({INT8}, (n - 1).into_datum())])?;
                 Ok(below.map(|b| b * n as f64))
             $$;
             CREATE OR REPLACE FUNCTION t1_is_even(n bigint) RETURNS boolean STRICT LANGUAGE plrust AS $$
                 if n == 0 {{ return Ok(Some(true)); }}
                 Ok(Spi::get_one_with_args::<bool>(\"SELECT t1_is_odd($1)\", vec![({INT8}, (n - 1).into_datum())])?)
             $$;
             CREATE OR REPLACE FUNCTION t1_is_odd(n bigint) RETURNS boolean STRICT LANGUAGE plrust AS $$
                 if n == 0 {{ return Ok(Some(false)); }}
                 Ok(Spi::get_one_with_args::<bool>(\"SELECT t1_is_even($1)\", vec![({INT8}, (n - 1).into_datum())])?)
             $$;
             CREATE OR REPLACE FUNCTION t1_endless(n bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$
                 Ok(Spi::get_one_with_args::<i64>(\"SELECT t1_endless($1)\", vec![({INT8}, (n + 1).into_datum())])?)
             $$;
             CREATE OR REPLACE FUNCTION t1_f(n bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$
                 let g = Spi::get_one_with_args::<i64>(\"SELECT t2_g($1)\", vec![({INT8}, n.into_datum())])?;
                 Ok(g.map(|g| g * 10 + 1))
             $$;
             CREATE OR REPLACE FUNCTION t1_h(n bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$
                 Ok(Some(n + 3))
             $$;
             CREATE OR REPLACE FUNCTION t1_ping(n bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$
                 if n == 0 {{ return Ok(Some(0)); }}
                 let pong = Spi::get_one_with_args::<i64>(\"SELECT t2_pong($1)\", vec![({INT8}, (n - 1).into_datum())])?;
                 Ok(pong.map(|p| p + 1))
             $$;"
        ),
    );
    create_as(
        &mut c,
        "t2",
        &format!(
            "CREATE OR REPLACE FUNCTION t2_g(n bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$
                 let h = Spi::get_one_with_args::<i64>(\"SELECT t1_h($1)\", vec![({INT8}, n.into_datum())])?;
                 Ok(h.map(|h| h * 10 + 2))
             $$;
             CREATE OR REPLACE FUNCTION t2_pong(n bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$
                 if n == 0 {{ return Ok(Some(0)); }}
                 let ping = Spi::get_one_with_args::<i64>(\"SELECT t1_ping($1)\", vec![({INT8}, (n - 1).into_datum())])?;
                 Ok(ping.map(|p| p + 1))
             $$;"
        ),
    );
    // A deadlock would otherwise hang the test.
    c.batch_execute("SET statement_timeout = '60s'").unwrap();

    // 25 levels of one principal, in a pool of four executors.
    let fact25 = (1..=25).fold(1.0f64, |acc, k| acc * k as f64);
    assert_eq!(one::<f64>(&mut c, "SELECT t1_fact(25)"), fact25);
    // All in the executor that served the outermost call.
    assert_eq!(
        bound_to(&mut c, "t1"),
        1,
        "t1's nested calls took more executors"
    );
    // Mutual recursion, 100 deep.
    assert!(one::<bool>(&mut c, "SELECT t1_is_even(100)"));
    assert!(!one::<bool>(&mut c, "SELECT t1_is_even(99)"));

    // Endless recursion stops at the stack's limit, for this call only.
    let start = Instant::now();
    let e = error_of(&mut c, "SELECT t1_endless(0)");
    let took = start.elapsed();
    assert_eq!(e.code().code(), "54001", "{e:?}");
    assert!(e.message().contains("stack depth"), "{e:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
    assert_eq!(one::<f64>(&mut c, "SELECT t1_fact(5)"), 120.0);

    // Across principals: t1's f calls t2's g, which calls t1's h.
    assert_eq!(
        one::<i64>(&mut c, "SELECT t1_f(4)"),
        ((4 + 3) * 10 + 2) * 10 + 1
    );
    // And ping (t1) / pong (t2), 100 deep, in two sessions at once: each
    // principal's share (two) is one executor per session.
    let beside = Call::start(
        pool.superuser(),
        "SET statement_timeout = '60s'",
        "t1_ping(100)",
    );
    assert_eq!(one::<i64>(&mut c, "SELECT t1_ping(101)"), 101);
    let got = beside
        .join()
        .unwrap_or_else(|e| panic!("ping beside: {e}: {:?}", e.as_db_error()));
    assert_eq!(got, 100);
    health.assert_unharmed();
}

/// A nested call whose function its outer call's executor does not have
/// (created after that executor started) needs an executor of its own;
/// when the session's outer calls already hold all the owner may have, it
/// fails at once, saying why, rather than waiting out
/// plrust.pool_wait_timeout for executors its own session holds.
#[test]
fn a_nested_call_never_waits_for_its_own_sessions_executors() {
    let (_alone, pool, mut c) = alone();
    let health = Health::before(pool);
    create_as(
        &mut c,
        "t3",
        "CREATE OR REPLACE FUNCTION t3_outer(nest bool) RETURNS int STRICT LANGUAGE plrust AS $$
             if !nest { return Ok(Some(0)); }
             Ok(Spi::get_one::<i32>(\"SELECT t3_inner()\")?.map(|i| i + 1))
         $$",
    );
    c.batch_execute("SET plrust.max_executors_per_principal = 1")
        .unwrap();
    // t3's one executor starts with t3_outer, before t3_inner exists.
    assert_eq!(one::<i32>(&mut c, "SELECT t3_outer(false)"), 0);
    create_as(
        &mut c,
        "t3",
        "CREATE OR REPLACE FUNCTION t3_inner() RETURNS int LANGUAGE plrust AS $$ Ok(Some(41)) $$",
    );
    let start = Instant::now();
    let e = error_of(&mut c, "SELECT t3_outer(true)");
    let took = start.elapsed();
    assert_eq!(e.code().code(), "53000", "{e:?}");
    assert!(
        e.message().contains("outer plrust calls hold all 1"),
        "{e:?}"
    );
    assert!(
        names(e.hint(), "plrust.max_executors_per_principal"),
        "{e:?}"
    );
    // The pool's wait is 10 s: the refusal does not wait for it.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // With room for a second executor, the same call runs.
    c.batch_execute("SET plrust.max_executors_per_principal = 2")
        .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT t3_outer(true)"), 42);
    health.assert_unharmed();
}

// ---------------------------------------------------------------------------
// Recycling.

const SPIN: &str = "
    let mut n = x;
    loop { n = n.wrapping_mul(6364136223846793005).wrapping_add(1); if n == 0 { break; } }
    Ok(Some(n))";

#[test]
fn recycling_never_signals_a_reused_pid() {
    let (_alone, pool, mut c) = alone();
    let health = Health::before(pool);
    create_as(
        &mut c,
        "t5",
        &format!(
            "CREATE OR REPLACE FUNCTION t5_spin(x bigint) RETURNS bigint STRICT LANGUAGE plrust AS $${SPIN}$$"
        ),
    );
    let mut observer = pool.superuser();
    let observer_pid = backend_pid(&mut observer);

    // New backends, one after another, get pids the whole time.
    let stop = Arc::new(AtomicBool::new(false));
    let connections = Arc::new(AtomicUsize::new(0));
    let churn: Vec<JoinHandle<Result<(), String>>> = (0..2)
        .map(|_| {
            let (stop, connections) = (stop.clone(), connections.clone());
            let host = pool.host.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let client = postgres::Config::new()
                        .host(&host)
                        .port(PORT)
                        .user("postgres")
                        .dbname(DATABASE)
                        .connect(postgres::NoTls)
                        .map_err(|e| {
                            format!("connection {}: {e}", connections.load(Ordering::Relaxed))
                        })?;
                    drop(client);
                    connections.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();

    let mut victim = pool.superuser();
    let victim_pid = backend_pid(&mut victim);
    let start = Instant::now();
    let mut rounds = 0u32;
    let mut failures = Vec::new();
    let mut executors = std::collections::HashSet::new();
    while rounds < 200 && start.elapsed() < Duration::from_secs(15) {
        rounds += 1;
        match victim.batch_execute("SET statement_timeout = '20ms'; SELECT t5_spin(1)") {
            Ok(()) => failures.push(format!("round {rounds}: the spin returned")),
            Err(e) => {
                let code = e.as_db_error().map(|d| d.code().code().to_string());
                if code.as_deref() != Some("57014") {
                    failures.push(format!("round {rounds}: {e}: {:?}", e.as_db_error()));
                }
            }
        }
        // The next call in the same session works (in a fresh executor).
        victim.batch_execute("RESET statement_timeout").unwrap();
        if let Err(e) = victim.query_one("SELECT t5_now()", &[]) {
            failures.push(format!(
                "round {rounds}: the next call: {e}: {:?}",
                e.as_db_error()
            ));
        }
        executors.extend(executor_pids_of(&mut observer, "t5"));
        if failures.len() > 10 {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let churned: Vec<String> = churn
        .into_iter()
        .filter_map(|t| t.join().unwrap().err())
        .collect();
    assert!(
        failures.is_empty(),
        "after {rounds} rounds:\n{}",
        failures.join("\n")
    );
    assert!(churned.is_empty(), "new connections failed: {churned:?}");
    assert!(
        rounds >= 20,
        "only {rounds} rounds in {:?}",
        start.elapsed()
    );
    assert!(
        connections.load(Ordering::Relaxed) >= 100,
        "only {} connections came and went",
        connections.load(Ordering::Relaxed)
    );
    // Each cancel cost its executor: the next call ran in a fresh one.
    assert!(
        executors.len() as u32 >= rounds * 9 / 10,
        "{rounds} cancelled calls, but t5's calls ran in only {} executors",
        executors.len()
    );
    assert_eq!(backend_pid(&mut victim), victim_pid);
    assert_eq!(backend_pid(&mut observer), observer_pid);
    eprintln!(
        "{rounds} cancelled calls, {} connections in {:?}",
        connections.load(Ordering::Relaxed),
        start.elapsed()
    );
    health.assert_unharmed();
}

// ---------------------------------------------------------------------------
// Sizing.

/// postgresql.conf of `cluster` without cluster.sh's own pool size, plus
/// `lines`.
fn set_pool_conf(cluster: &Cluster, lines: &str) {
    let path = cluster.data().join("postgresql.conf");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            !l.starts_with("plrust.workers") && !l.starts_with("plrust.max_executors")
        })
        .collect();
    kept.push(lines);
    std::fs::write(&path, kept.join("\n") + "\n").unwrap();
}

#[test]
fn the_pool_is_sized_for_the_machine_and_the_old_plrust_workers_still_sizes_it() {
    // A cluster of its own, but the timing tests should not share the CPU.
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let cluster = Cluster::new(scratch("pool_sizing").join("node"), SIZING_PORT, &major());
    cluster.script("init");
    let settings = |c: &mut Client| -> Vec<(String, String, String)> {
        c.query(
            "SELECT name, setting, context FROM pg_settings
             WHERE name IN ('plrust.max_executors', 'plrust.max_executors_per_principal',
                            'plrust.executor_idle_timeout')
             ORDER BY name",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
    };
    let row = |name: &str, setting: String, context: &str| {
        (name.to_string(), setting, context.to_string())
    };

    // Neither set: min(128, max(32, 16 x CPUs)), half of it per principal.
    set_pool_conf(&cluster, "");
    cluster.script("start");
    let mut c = cluster.connect("postgres");
    c.batch_execute("CREATE EXTENSION plrust").unwrap();
    let got = settings(&mut c);
    let cpus = [
        std::thread::available_parallelism().map_or(1, |n| n.get() as i64),
        // SAFETY: sysconf(3) reads a system value.
        unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) } as i64,
    ];
    let expected = |cpus: i64| {
        let n = (16 * cpus).clamp(32, 128);
        vec![
            row("plrust.executor_idle_timeout", "60000".into(), "sighup"),
            row("plrust.max_executors", n.to_string(), "postmaster"),
            row(
                "plrust.max_executors_per_principal",
                (n / 2).max(1).to_string(),
                "superuser",
            ),
        ]
    };
    assert!(
        cpus.iter().any(|&n| got == expected(n)),
        "{got:?}, for {cpus:?} CPUs"
    );
    let n: i64 = got[1].1.parse().unwrap();
    assert_eq!(count(&mut c, "SELECT count(*) FROM plrust.workers"), n);
    drop(c);
    cluster.script("stop");

    // Only the obsolete plrust.workers: it is the pool size, silently.
    set_pool_conf(&cluster, "plrust.workers = 3");
    cluster.script("start");
    let mut c = cluster.connect("postgres");
    let got = settings(&mut c);
    assert_eq!(
        got[1..],
        [
            row("plrust.max_executors", "3".into(), "postmaster"),
            row(
                "plrust.max_executors_per_principal",
                "1".into(),
                "superuser"
            ),
        ],
        "{got:?}"
    );
    let slots: String = one(
        &mut c,
        "SELECT string_agg(slot::text, ',' ORDER BY slot) FROM plrust.workers",
    );
    assert_eq!(slots, "0,1,2");
    drop(c);
    cluster.script("stop");
    let log = std::fs::read_to_string(cluster.dir.join("server.log")).unwrap();
    let warned: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARNING") && l.contains("plrust.workers"))
        .collect();
    assert!(warned.is_empty(), "{warned:?}");
}
