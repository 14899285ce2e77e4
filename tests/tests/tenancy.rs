//! Tenancy, pool saturation, per-role ceilings and the executor's system
//! calls.  These tests need the pool to themselves (they fill it, count its
//! executors or trace its supervisor and the executors it starts), so they
//! live in their own test binary, which cargo runs after the others, and
//! take a lock to run one at a time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use plrust_tests::{client, client_as, ensure_role, error_of, one, wait_for, Health};

static ALONE: Mutex<()> = Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ALONE.lock().unwrap_or_else(|e| e.into_inner())
}

const SECRET_BODY: &str = "
    use core::sync::atomic::{AtomicI64, Ordering};
    static SECRET: AtomicI64 = AtomicI64::new(0);
    if let Some(v) = x { SECRET.store(v, Ordering::Relaxed); }
    Ok(Some(SECRET.load(Ordering::Relaxed)))";

#[test]
fn principals_never_share_an_executor() {
    let _alone = alone();
    let health = Health::before();
    let mut admin = client();
    let tenants: Vec<String> = (0..6).map(|i| format!("plrust_tenant_{i}")).collect();
    for t in &tenants {
        ensure_role(&mut admin, t);
        admin
            .batch_execute(&format!(
                "SET ROLE {t};
                 CREATE OR REPLACE FUNCTION {t}_secret(x bigint) RETURNS bigint LANGUAGE plrust AS $${SECRET_BODY}$$;
                 RESET ROLE;"
            ))
            .unwrap();
    }
    let (a, b) = (&tenants[0], &tenants[1]);
    // A keeps a secret in a static; its executor keeps it between calls.
    assert_eq!(
        one::<i64>(&mut admin, &format!("SELECT {a}_secret(4242)")),
        4242
    );
    assert_eq!(
        one::<i64>(&mut admin, &format!("SELECT {a}_secret(NULL)")),
        4242
    );
    // B's identical function never sees it.
    assert_eq!(
        one::<i64>(&mut admin, &format!("SELECT {b}_secret(NULL)")),
        0
    );

    // Six principals on four executors, round after round: every executor
    // process that ever ran a tenant's code ran only that tenant's.
    let mut owner_of: HashMap<i32, String> = HashMap::new();
    for round in 0..3 {
        for t in &tenants {
            let got: i64 = one(&mut admin, &format!("SELECT {t}_secret(NULL)"));
            if t != a {
                assert_eq!(got, 0, "round {round}: {t} observed a secret");
            }
            let pids: Vec<i32> = admin
                .query(
                    "SELECT executor_pid FROM plrust.workers
                     WHERE function_owner = $1 AND executor_pid IS NOT NULL",
                    &[t],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            assert!(!pids.is_empty(), "round {round}: no executor bound to {t}");
            for pid in pids {
                let first = owner_of.entry(pid).or_insert_with(|| t.clone());
                assert_eq!(first, t, "executor {pid} served {first} and then {t}");
            }
        }
    }
    // Four slots, six principals: executors were replaced, not reused.
    assert!(owner_of.len() > 4, "{owner_of:?}");
    health.assert_unharmed();
}

const SPIN: &str = "
    let mut n = x;
    loop { n = n.wrapping_mul(6364136223846793005).wrapping_add(1); if n == 0 { break; } }
    Ok(Some(n))";

/// Cancels the calls of these backends if the test fails while they run,
/// so that they do not hold the pool for the tests after it.
struct CancelIfFailed(Vec<i32>);

impl Drop for CancelIfFailed {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut c = client();
            for pid in &self.0 {
                let _ = c.batch_execute(&format!("SELECT pg_cancel_backend({pid})"));
            }
        }
    }
}

#[test]
fn a_full_pool_makes_a_call_wait_then_fail_clearly() {
    let _alone = alone();
    let health = Health::before();
    let mut c = client();
    let slots: i64 = one(&mut c, "SELECT count(*) FROM plrust.workers");
    let share: i64 = one(
        &mut c,
        "SELECT setting::bigint FROM pg_settings WHERE name = 'plrust.max_executors_per_principal'",
    );
    assert!(share >= 1 && share < slots, "{share} of {slots}");
    // Every slot can be had: none is held for good by a backend that is
    // gone (it gives its slots back as it exits).
    wait_for(
        "no slot held by a backend that has exited",
        Duration::from_secs(5),
        || {
            let stuck: i64 = one(
                &mut c,
                "SELECT count(*) FROM plrust.workers
                 WHERE busy_backend_pid > 0
                 AND busy_backend_pid NOT IN (SELECT pid FROM pg_stat_activity)",
            );
            (stuck == 0).then_some(())
        },
    );
    // One principal holds at most its share: enough principals, each at
    // its share, fill the pool.
    let fillers: Vec<String> = (0..(slots + share - 1) / share)
        .map(|k| format!("plrust_filler_{k}"))
        .collect();
    for (k, owner) in fillers.iter().enumerate() {
        ensure_role(&mut c, owner);
        c.batch_execute(&format!(
            "DROP FUNCTION IF EXISTS fn_t_fill_{k}(bigint);
             SET ROLE {owner};
             CREATE OR REPLACE FUNCTION fn_t_fill_{k}(x bigint) RETURNS bigint STRICT LANGUAGE plrust AS $${SPIN}$$;
             RESET ROLE;"
        ))
        .unwrap();
    }
    // The waiting call is of yet another principal, below its own share:
    // what it waits for is the whole pool.
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_t_quick(x bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$ Ok(Some(x)) $$;",
    )
    .unwrap();
    let mut holders = Vec::new();
    let mut pids = CancelIfFailed(Vec::new());
    for j in 0..slots {
        let k = j / share;
        let mut h = client();
        pids.0.push(one::<i32>(&mut h, "SELECT pg_backend_pid()"));
        holders.push(std::thread::spawn(move || {
            h.batch_execute(&format!(
                "SET statement_timeout = '60s'; SELECT fn_t_fill_{k}(1)"
            ))
        }));
    }
    wait_for("the pool to fill", Duration::from_secs(30), || {
        let busy: i64 = one(
            &mut c,
            "SELECT count(*) FROM plrust.workers WHERE busy_backend_pid IS NOT NULL AND sealed",
        );
        (busy == slots).then_some(())
    });
    let start = Instant::now();
    let e = error_of(
        &mut c,
        "SET plrust.pool_wait_timeout = '500ms'; SELECT fn_t_quick(1)",
    );
    let took = start.elapsed();
    assert_eq!(e.code().code(), "53000", "{e:?}");
    assert!(e.message().contains("\"fn_t_quick\""), "{e:?}");
    assert!(e.message().contains("plrust.pool_wait_timeout"), "{e:?}");
    let detail = e.detail().unwrap();
    assert!(
        detail.contains(&format!("All {slots} executors"))
            && detail.contains("plrust.max_executors")
            && !detail.contains("plrust.max_executors_per_principal"),
        "{e:?}"
    );
    let hint = e.hint().unwrap();
    assert!(
        hint.contains("plrust.max_executors") && hint.contains("plrust.pool_wait_timeout"),
        "{e:?}"
    );
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(3),
        "took {took:?}"
    );
    for pid in &pids.0 {
        c.batch_execute(&format!("SELECT pg_cancel_backend({pid})"))
            .unwrap();
    }
    for h in holders {
        let r = h.join().unwrap();
        assert!(r.is_err(), "a holder finished instead of being cancelled");
    }
    c.batch_execute("RESET plrust.pool_wait_timeout").unwrap();
    assert_eq!(one::<i64>(&mut c, "SELECT fn_t_quick(2)"), 2);
    health.assert_unharmed();
}

#[test]
fn limits_are_for_superusers_to_set_per_role() {
    let _alone = alone();
    let health = Health::before();
    let mut admin = client();
    ensure_role(&mut admin, "plrust_guest");
    ensure_role(&mut admin, "plrust_small");
    let mut guest = client_as("plrust_guest");
    for (setting, value) in [
        ("plrust.executor_memory_limit", "'4GB'"),
        ("plrust.call_cpu_limit", "0"),
        ("plrust.compile_timeout", "'1h'"),
        ("plrust.compile_memory_limit", "'64GB'"),
        ("plrust.pool_wait_timeout", "'1h'"),
    ] {
        let e = error_of(&mut guest, &format!("SET {setting} = {value}"));
        assert_eq!(e.code().code(), "42501", "{setting}: {e:?}");
    }

    // A superuser gives one role smaller limits; they follow its sessions
    // into the executors they use, while other roles keep theirs.
    admin
        .batch_execute(
            "ALTER ROLE plrust_small SET plrust.executor_memory_limit = '128MB';
             ALTER ROLE plrust_small SET plrust.call_cpu_limit = '300ms';
             CREATE OR REPLACE FUNCTION fn_t_alloc(mb bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$
                 let v = vec![1u8; (mb as usize) << 20];
                 Ok(Some(std::hint::black_box(v).iter().map(|b| *b as i64).sum::<i64>() >> 20))
             $$;
             GRANT EXECUTE ON FUNCTION fn_t_alloc(bigint) TO PUBLIC;",
        )
        .unwrap();
    admin
        .batch_execute(&format!(
            "CREATE OR REPLACE FUNCTION fn_t_spin(x bigint) RETURNS bigint STRICT LANGUAGE plrust AS $${SPIN}$$"
        ))
        .unwrap();
    let mut small = client_as("plrust_small");
    assert_eq!(
        one::<String>(&mut small, "SHOW plrust.executor_memory_limit"),
        "128MB"
    );
    assert_eq!(one::<i64>(&mut admin, "SELECT fn_t_alloc(200)"), 200);
    let e = error_of(&mut small, "SELECT fn_t_alloc(200)");
    assert_eq!(e.code().code(), "38000", "{e:?}");
    assert_eq!(one::<i64>(&mut small, "SELECT fn_t_alloc(20)"), 20);
    assert_eq!(one::<i64>(&mut admin, "SELECT fn_t_alloc(200)"), 200);
    // And the CPU ceiling, which the role cannot lift with statement_timeout.
    let e = error_of(&mut small, "SET statement_timeout = 0; SELECT fn_t_spin(1)");
    assert_eq!(e.code().code(), "54000", "{e:?}");
    health.assert_unharmed();
}

#[test]
fn the_executors_system_calls_match_the_allowlist_under_strace() {
    let _alone = alone();
    let health = Health::before();
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_t_work(x bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$
             let mut m = std::collections::HashMap::new();
             for i in 0..x { m.insert(i, vec![0u8; 1 << 16]); }
             let big = std::hint::black_box(vec![1u8; 64 << 20]);
             if x == 3 { panic!(\"three\"); }
             Ok(Some(m.len() as i64 + big[12345] as i64))
         $$",
    )
    .unwrap();
    // Every executor is a child of the pool's one supervisor: tracing it
    // with -f traces every executor it starts from then on.
    let supervisor: i32 = one(
        &mut c,
        "SELECT pid FROM pg_stat_activity WHERE backend_type = 'plrust pool supervisor'",
    );
    let running = |c: &mut postgres::Client| -> Vec<i32> {
        c.query(
            "SELECT executor_pid FROM plrust.workers WHERE executor_pid IS NOT NULL",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
    };
    let executors = running(&mut c);
    for e in &executors {
        let parent: i32 = plrust_tests::proc_status(*e, "PPid").parse().unwrap();
        assert_eq!(parent, supervisor, "executor {e}");
    }
    let trace = std::env::temp_dir().join(format!("plrust-strace-{}", std::process::id()));
    let mut strace = std::process::Command::new("strace");
    strace.args(["-f", "-qq", "-o"]).arg(&trace);
    strace.arg("-p").arg(supervisor.to_string());
    let strace = Tracer(strace.spawn().expect("strace (installed by setup.sh)"));
    wait_for("strace to attach", Duration::from_secs(10), || {
        (plrust_tests::proc_status(supervisor, "TracerPid") != "0").then_some(())
    });
    // Fresh executors, born under the trace: those started before it are
    // killed, and the supervisor's next ones are its traced children.
    let untraced = running(&mut c);
    for e in &untraced {
        // SAFETY: kill(2) of an executor pid read from plrust.workers.
        unsafe { libc::kill(*e, libc::SIGKILL) };
    }
    // (An executor that exits meanwhile is neither.)
    let traced = |pid: i32| {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("TracerPid:"))
            .is_some_and(|v| v.trim() != "0")
    };
    wait_for(
        "only traced executors in plrust.workers",
        Duration::from_secs(20),
        || {
            let now = running(&mut c);
            let fresh = !now.iter().any(|p| untraced.contains(p));
            (fresh && now.iter().all(|&p| traced(p))).then_some(())
        },
    );
    for x in [1, 2, 5, 3, 4, 1] {
        let r = c.query_one(&format!("SELECT fn_t_work({x})"), &[]);
        assert_eq!(r.is_err(), x == 3, "x = {x}: {r:?}");
    }
    drop(strace);
    let text = std::fs::read_to_string(&trace).unwrap();
    if std::env::var_os("PLRUST_KEEP_TRACE").is_none() {
        let _ = std::fs::remove_file(&trace);
    }

    // Per process, by stage.
    let names = |table: &[(&'static str, i64)]| -> Vec<&'static str> {
        table.iter().map(|(name, _)| *name).collect()
    };
    use plrust_bgworker::executor::seccomp::{ALLOWED, LOADING_EXTRA};
    let allowed_sealed = names(ALLOWED);
    let allowed_loading: Vec<&str> = names(ALLOWED)
        .into_iter()
        .chain(names(LOADING_EXTRA))
        .collect();
    let mut lines_of: HashMap<&str, Vec<(&str, bool)>> = HashMap::new();
    for line in text.lines() {
        let Some((pid, rest)) = line.split_once(' ') else {
            continue;
        };
        let rest = rest.trim_start();
        if rest.starts_with("+++") || rest.starts_with("---") {
            continue;
        }
        let name = match rest.strip_prefix("<... ") {
            Some(r) => r.split(' ').next().unwrap_or(""),
            None => rest.split('(').next().unwrap_or(""),
        };
        let installs_filter = rest.starts_with("seccomp(") && !rest.contains("resumed");
        lines_of
            .entry(pid)
            .or_default()
            .push((name, installs_filter));
    }
    // The first seccomp() installs the loading filter, the last (at SEAL)
    // the strict one.
    let mut sealed: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut loading: HashMap<&str, Vec<&str>> = HashMap::new();
    for (pid, lines) in &lines_of {
        let filters: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].1).collect();
        let (Some(&first), Some(&last)) = (filters.first(), filters.last()) else {
            continue;
        };
        if first == last {
            continue; // traced before it was sealed
        }
        loading.insert(pid, lines[first + 1..last].iter().map(|l| l.0).collect());
        sealed.insert(pid, lines[last + 1..].iter().map(|l| l.0).collect());
    }
    assert!(
        !sealed.is_empty(),
        "no sealed executor in the trace:\n{text}"
    );
    for (stage, seen, allowed) in [
        ("loading", &loading, &allowed_loading),
        ("sealed", &sealed, &allowed_sealed),
    ] {
        for (pid, calls) in seen {
            for name in calls {
                // The seccomp() call itself ends the loading stage.
                if stage == "loading" && *name == "seccomp" {
                    continue;
                }
                assert!(
                    allowed.contains(name),
                    "{stage} executor {pid} made {name}, which is not on its allowlist"
                );
            }
        }
    }
    let during_load: std::collections::BTreeSet<&str> =
        loading.values().flatten().copied().collect();
    assert!(during_load.contains("memfd_create"), "{during_load:?}");
    eprintln!("system calls while loading: {during_load:?}");
    let all: std::collections::BTreeSet<&str> = sealed.values().flatten().copied().collect();
    assert!(all.contains("futex") && all.contains("mmap"), "{all:?}");
    eprintln!("system calls of sealed executors: {all:?}");
    health.assert_unharmed();
}

/// strace, stopped (it detaches on SIGINT) even when the test fails.
struct Tracer(std::process::Child);

impl Drop for Tracer {
    fn drop(&mut self) {
        // SAFETY: kill(2) of our own child; no memory effects.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGINT) };
        let _ = self.0.wait();
    }
}
