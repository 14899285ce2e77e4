//! The fault suite: a function that loops, eats memory, exits, crashes or
//! lies to the backend costs its own call an ERROR and nothing else.  After
//! each, the postmaster has not restarted, a bystander session is still
//! connected, and the next call works.

use std::time::{Duration, Instant};

use plrust_tests::{
    client, error_of, install_unchecked, install_unchecked_crate, one, wait_for, Health,
};
use postgres::Client;

/// Create `name(x bigint)` from `body` and `{name}_ok`, which returns x.
fn create(c: &mut Client, name: &str, body: &str) {
    c.batch_execute(&format!(
        "CREATE OR REPLACE FUNCTION {name}(x bigint) RETURNS bigint STRICT LANGUAGE plrust AS $${body}$$;
         CREATE OR REPLACE FUNCTION {name}_ok(x bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$ Ok(Some(x)) $$;"
    ))
    .unwrap();
}

/// Calling `name(1)` fails with `code`; the next call in the same session
/// works; the cluster is unharmed.  Returns the error.
fn assert_costs_one_call(
    c: &mut Client,
    health: Health,
    name: &str,
    code: &str,
) -> postgres::error::DbError {
    let e = error_of(c, &format!("SELECT {name}(1)"));
    assert_eq!(e.code().code(), code, "{e:?}");
    c.batch_execute(&format!(
        "CREATE OR REPLACE FUNCTION {name}_next(x bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$ Ok(Some(x + 1)) $$"
    ))
    .unwrap();
    assert_eq!(one::<i64>(c, &format!("SELECT {name}_next(41)")), 42);
    health.assert_unharmed();
    e
}

fn executor_of_backend(observer: &mut Client, backend: i32) -> Option<i32> {
    observer
        .query_opt(
            "SELECT executor_pid FROM plrust.workers WHERE busy_backend_pid = $1",
            &[&backend],
        )
        .unwrap()
        .and_then(|r| r.get(0)) // NULL while the slot waits for its executor
}

fn process_exists(pid: i32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Wait until `pid` is gone (it may be a zombie for a moment).
fn assert_dies(pid: i32) {
    wait_for(
        &format!("executor {pid} to die"),
        Duration::from_secs(2),
        || {
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            (!process_exists(pid) || state.contains(") Z ")).then_some(())
        },
    );
}

/// Tests that keep an executor spinning take turns: two cores shared by
/// several spinning executors would measure the machine, not the cancel.
static SPINNING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn spin_alone() -> std::sync::MutexGuard<'static, ()> {
    SPINNING.lock().unwrap_or_else(|e| e.into_inner())
}

const SPIN: &str = "
    let mut n = x;
    loop { n = n.wrapping_mul(6364136223846793005).wrapping_add(1); if n == 0 { break; } }
    Ok(Some(n))";

/// Start `SELECT name(1)` in its own session; returns the session's backend
/// pid, the executor running the call (once it is running) and the thread.
fn start_spinning(
    name: &str,
    setup: &str,
) -> (
    i32,
    i32,
    std::thread::JoinHandle<(postgres::error::DbError, Instant)>,
) {
    let mut c = client();
    let backend: i32 = one(&mut c, "SELECT pg_backend_pid()");
    c.batch_execute(setup).unwrap();
    let sql = format!("SELECT {name}(1)");
    let t = std::thread::spawn(move || {
        let e = error_of(&mut c, &sql);
        (e, Instant::now())
    });
    let mut observer = client();
    // Running the body: sealed (so past loading), and still on a CPU a
    // moment later (an executor only spins for its next request for well
    // under a millisecond).  A process merely running just then could be
    // one still starting, before the call has even sent its request.
    let executor = wait_for("the call to start", Duration::from_secs(20), || {
        let pid = sealed_executor_of_backend(&mut observer, backend).filter(|&p| running(p))?;
        std::thread::sleep(Duration::from_millis(20));
        (sealed_executor_of_backend(&mut observer, backend) == Some(pid) && running(pid))
            .then_some(pid)
    });
    (backend, executor, t)
}

fn sealed_executor_of_backend(observer: &mut Client, backend: i32) -> Option<i32> {
    observer
        .query_opt(
            "SELECT executor_pid FROM plrust.workers WHERE busy_backend_pid = $1 AND sealed",
            &[&backend],
        )
        .unwrap()
        .and_then(|r| r.get(0))
}

/// The process is on a CPU or ready for one (state R): an executor with a call.
fn running(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.contains(") R ")
}

#[test]
fn a_tight_loop_ends_within_100_ms_of_statement_timeout() {
    let _turn = spin_alone();
    let health = Health::before();
    let mut c = client();
    create(&mut c, "fn_f_timeout", SPIN);
    let start = Instant::now();
    let e = error_of(
        &mut c,
        "SET statement_timeout = '500ms'; SELECT fn_f_timeout(1)",
    );
    let late = start.elapsed().saturating_sub(Duration::from_millis(500));
    assert_eq!(e.code().code(), "57014", "{e:?}");
    assert!(
        late < Duration::from_millis(150),
        "ended {late:?} after the timeout"
    );
    c.batch_execute("RESET statement_timeout").unwrap();
    assert_eq!(one::<i64>(&mut c, "SELECT fn_f_timeout_ok(3)"), 3);
    health.assert_unharmed();
}

#[test]
fn pg_cancel_backend_ends_a_tight_loop_within_100_ms_and_replaces_its_executor() {
    let _turn = spin_alone();
    let health = Health::before();
    let mut c = client();
    create(&mut c, "fn_f_cancel", SPIN);
    let (backend, executor, t) = start_spinning("fn_f_cancel", "SELECT 1");
    let cancelled_at = Instant::now();
    assert!(one::<bool>(
        &mut c,
        &format!("SELECT pg_cancel_backend({backend})")
    ));
    let (e, ended_at) = t.join().unwrap();
    assert_eq!(e.code().code(), "57014", "{e:?}");
    let took = ended_at - cancelled_at;
    assert!(took < Duration::from_millis(150), "cancel took {took:?}");
    assert_dies(executor);
    assert_eq!(one::<i64>(&mut c, "SELECT fn_f_cancel_ok(4)"), 4);
    health.assert_unharmed();
}

#[test]
fn one_huge_allocation_costs_one_call() {
    let health = Health::before();
    let mut c = client();
    create(
        &mut c,
        "fn_f_huge",
        "let v: Vec<u8> = Vec::with_capacity((x as usize) << 40);
         let v = std::hint::black_box(v);
         Ok(Some(v.capacity() as i64))",
    );
    let e = assert_costs_one_call(&mut c, health, "fn_f_huge", "38000");
    assert!(e.message().contains("executor process died"), "{e:?}");
    assert!(e.detail().unwrap().contains("SIGABRT"), "{e:?}");
}

#[test]
fn gradual_growth_until_the_memory_limit_costs_one_call() {
    let health = Health::before();
    let mut c = client();
    create(
        &mut c,
        "fn_f_grow",
        "let mut chunks: Vec<Vec<u8>> = Vec::new();
         loop { chunks.push(vec![x as u8; 1 << 20]); if chunks.len() == usize::MAX { break; } }
         Ok(Some(chunks.len() as i64))",
    );
    assert_costs_one_call(&mut c, health, "fn_f_grow", "38000");
}

#[test]
fn exit_in_the_middle_of_a_call_costs_one_call() {
    // std::process is not in plrust's std; with the check bypassed, libc's
    // exit is what std::process::exit(0) would call.
    let health = Health::before();
    let mut c = client();
    install_unchecked(
        &mut c,
        "fn_f_exit",
        "#[allow(unsafe_code)]
         fn quit() -> ! {
             extern \"C\" { fn exit(code: i32) -> !; }
             unsafe { exit(0) }
         }
         if x > 0 { quit() }
         Ok(Some(x))",
    );
    let e = assert_costs_one_call(&mut c, health, "fn_f_exit", "38000");
    assert!(e.message().contains("executor process died"), "{e:?}");
}

#[test]
fn a_segfault_from_safe_code_costs_one_call_even_past_the_check() {
    // rust-lang/rust#25860 (the cve-rs pattern): safe code that forges a
    // reference from an integer and dereferences it.  The source check
    // refuses this shape (see sandbox.rs), so it is installed past the check.
    let health = Health::before();
    let mut c = client();
    install_unchecked(
        &mut c,
        "fn_f_segv",
        "fn translate<'a, 'b, T: ?Sized>(_: &'a &'b (), v: &'b mut T) -> &'a mut T { v }
         fn expand<'a, 'b, T: ?Sized>(x: &'a mut T) -> &'b mut T {
             let f: for<'x> fn(_, &'x mut T) -> &'b mut T = translate;
             f(&&(), x)
         }
         enum Dummy<A, B> { A(Option<Box<A>>), B(Option<Box<B>>) }
         fn transmute_inner<A, B>(d: &mut Dummy<A, B>, obj: A) -> B {
             let Dummy::B(b) = d else { unreachable!() };
             let b = expand(b);
             *d = Dummy::A(Some(Box::new(obj)));
             *b.take().unwrap()
         }
         fn transmute<A, B>(obj: A) -> B { transmute_inner(&mut Dummy::B(None), obj) }
         let p: &'static i64 = transmute::<usize, &'static i64>(x as usize * 8);
         Ok(Some(*p))",
    );
    let e = assert_costs_one_call(&mut c, health, "fn_f_segv", "38000");
    assert!(e.detail().unwrap().contains("SIGSEGV"), "{e:?}");
}

/// `name` (spinning) and `{name}_ok` (returns x), owned by `owner`, a
/// principal of its own, with definitions new to this run: until one of
/// them is called, no executor has either loaded.
fn create_owned_fresh(c: &mut Client, owner: &str, name: &str) {
    plrust_tests::ensure_role(c, owner);
    let salt = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    c.batch_execute(&format!(
        "DROP FUNCTION IF EXISTS {name}(bigint);
         DROP FUNCTION IF EXISTS {name}_ok(bigint);
         SET ROLE {owner};
         CREATE OR REPLACE FUNCTION {name}(x bigint) RETURNS bigint STRICT LANGUAGE plrust
         AS $$ let _salt = {salt}u128; {SPIN} $$;
         CREATE OR REPLACE FUNCTION {name}_ok(x bigint) RETURNS bigint STRICT LANGUAGE plrust
         AS $$ let _salt = {salt}u128; Ok(Some(x)) $$;
         RESET ROLE;"
    ))
    .unwrap();
}

/// Have an idle executor of `owner` ready with `name` loaded (one prepared
/// for `{name}_ok` loads all of its owner's functions), so that a session's
/// first call of `name` takes it without preparing one; returns the idle
/// executors of `owner`.
fn warm_up(c: &mut Client, owner: &str, name: &str) -> Vec<i32> {
    assert_eq!(one::<i64>(c, &format!("SELECT {name}_ok(0)")), 0);
    c.query(
        "SELECT executor_pid FROM plrust.workers
         WHERE function_owner = $1 AND sealed AND busy_backend_pid IS NULL
         AND executor_pid IS NOT NULL",
        &[&owner],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// Kills a spinning executor if the test fails before it is gone: a slot
/// left held by a dead backend would otherwise spin on a CPU for good.
struct StopIfFailed(i32);

impl Drop for StopIfFailed {
    fn drop(&mut self) {
        if std::thread::panicking() && process_exists(self.0) {
            // SAFETY: kill(2) of an executor pid read from plrust.workers.
            unsafe { libc::kill(self.0, libc::SIGKILL) };
        }
    }
}

// A backend that dies mid-call (FATAL skips Rust destructors) gives its
// slot back however it got it: by preparing an executor for its call
// (cold), or by taking an idle one that already had the function loaded,
// as a session's first call does when it can (warm).

#[test]
fn a_terminated_client_leaves_no_slot_or_executor_stuck() {
    let _turn = spin_alone();
    let health = Health::before();
    let mut c = client();
    let owner = "plrust_f_term";
    create_owned_fresh(&mut c, owner, "fn_f_term");
    for warm in [false, true] {
        eprintln!("{}", if warm { "warm" } else { "cold" });
        let idle = if warm {
            warm_up(&mut c, owner, "fn_f_term")
        } else {
            Vec::new()
        };
        let (backend, executor, t) = start_spinning("fn_f_term", "SELECT 1");
        let _stop = StopIfFailed(executor);
        if warm {
            assert!(
                idle.contains(&executor),
                "the call ran in {executor}, not in an idle executor that had it loaded ({idle:?})"
            );
        }
        assert!(one::<bool>(
            &mut c,
            &format!("SELECT pg_terminate_backend({backend})")
        ));
        let _ = t.join();
        assert_dies(executor);
        wait_until_released(&mut c, backend);
    }
    assert_eq!(one::<i64>(&mut c, "SELECT fn_f_term_ok(6)"), 6);
    health.assert_unharmed();
}

#[test]
fn a_client_that_disconnects_mid_call_leaves_no_slot_or_executor_stuck() {
    let _turn = spin_alone();
    // The backend notices a vanished client at client_connection_check_interval
    // (it must be set: PostgreSQL does not look at the socket otherwise).
    let health = Health::before();
    let mut c = client();
    let owner = "plrust_f_disc";
    create_owned_fresh(&mut c, owner, "fn_f_disc");
    let host = std::env::var("PLRUST_TEST_HOST").unwrap();
    let port = std::env::var("PLRUST_TEST_PORT").unwrap();
    for warm in [false, true] {
        eprintln!("{}", if warm { "warm" } else { "cold" });
        let idle = if warm {
            warm_up(&mut c, owner, "fn_f_disc")
        } else {
            Vec::new()
        };
        let mut psql = std::process::Command::new("psql")
            .args(["-X", "-q", "-h", &host, "-p", &port, "-U", "postgres"])
            .args(["-d", plrust_tests::DATABASE, "-c"])
            .arg("SET client_connection_check_interval = '100ms'; SELECT fn_f_disc(1)")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let (backend, executor) = wait_for("the call to start", Duration::from_secs(20), || {
            let row = c
                .query_opt(
                    "SELECT w.busy_backend_pid, w.executor_pid FROM plrust.workers w
                     JOIN pg_stat_activity a ON a.pid = w.busy_backend_pid
                     WHERE a.query LIKE '%fn_f_disc(1)%'",
                    &[],
                )
                .unwrap()?;
            let executor: Option<i32> = row.get(1);
            Some((row.get::<_, i32>(0), executor?)).filter(|&(_, e)| running(e))
        });
        let _stop = StopIfFailed(executor);
        if warm {
            assert!(
                idle.contains(&executor),
                "the call ran in {executor}, not in an idle executor that had it loaded ({idle:?})"
            );
        }
        psql.kill().unwrap();
        psql.wait().unwrap();
        assert_dies(executor);
        wait_until_released(&mut c, backend);
        // It releases its slot on the way out, so it may need a moment more.
        wait_for(
            "the backend to end with its client",
            Duration::from_secs(2),
            || (!process_exists(backend)).then_some(()),
        );
    }
    assert_eq!(one::<i64>(&mut c, "SELECT fn_f_disc_ok(7)"), 7);
    health.assert_unharmed();
}

fn wait_until_released(c: &mut Client, backend: i32) {
    let what = format!("backend {backend} to give its slot back");
    wait_for(&what, Duration::from_secs(3), || {
        let held: i64 = c
            .query_one(
                "SELECT count(*) FROM plrust.workers WHERE busy_backend_pid = $1",
                &[&backend],
            )
            .unwrap()
            .get(0);
        (held == 0).then_some(())
    });
}

/// A crate whose plrust_entry does `action` (statements using `host`,
/// `args`, `args_len`, `out`, `out_cap`, returning a length).
fn rogue_crate(action: &str) -> String {
    format!(
        "extern crate plrust_api as pgrx;
         #[no_mangle]
         pub unsafe extern \"C\" fn plrust_entry(host: *const pgrx::entry::Host, args: *const u8, args_len: usize, out: *mut u8, out_cap: usize) -> usize {{
             let _ = (host, args, args_len, out, out_cap);
             {action}
         }}"
    )
}

/// Statements that send `bytes` (a byte-string expression) as an upcall
/// and return the length of an empty Reply::Value(None) afterwards.
fn rogue_upcall(bytes: &str) -> String {
    format!(
        "let req: &[u8] = {bytes};
         let mut len = 0usize;
         ((*host).upcall)((*host).ctx, req.as_ptr(), req.len(), &mut len);
         *out = 0; *out.add(1) = 0; *out.add(2) = 0; *out.add(3) = 0; *out.add(4) = 0;
         5"
    )
}

#[test]
fn a_malformed_upcall_is_an_error() {
    assert_rogue_reply_is_an_error("fn_f_upcall_garbage", &rogue_upcall("&[0xff; 40]"));
}

#[test]
fn rows_from_a_function_that_returns_no_set_are_an_error() {
    // Upcall::Rows (tag 4) with one row of one NULL column.
    assert_rogue_reply_is_an_error(
        "fn_f_upcall_rows",
        &rogue_upcall("&[4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]"),
    );
}

#[test]
fn a_log_upcall_above_warning_does_not_decode() {
    // Upcall::Log (tag 0) with level 9 (there is none above Warning = 8).
    assert_rogue_reply_is_an_error(
        "fn_f_upcall_fatal",
        &rogue_upcall("&[0, 0, 0, 0, 9, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 120, 0, 0]"),
    );
}

/// A rogue `plrust_entry` doing `action` makes its call fail as a
/// misbehaving executor, and costs nothing else.
fn assert_rogue_reply_is_an_error(name: &str, action: &str) {
    let health = Health::before();
    let mut c = client();
    install_unchecked_crate(&mut c, name, &rogue_crate(action));
    let e = assert_costs_one_call(&mut c, health, name, "38000");
    assert!(e.message().contains("misbehaved"), "{e:?}");
}

#[test]
fn a_malformed_reply_is_an_error() {
    assert_rogue_reply_is_an_error(
        "fn_f_garbage",
        "for i in 0..100 { *out.add(i) = 0xff; } 100",
    );
}

#[test]
fn an_oversized_reply_is_an_error() {
    assert_rogue_reply_is_an_error(
        "fn_f_oversized",
        "for i in 0..64 { *out.add(i) = 7; } usize::MAX",
    );
}

/// User code can find the channel: the host it is given points at the
/// executor's Channel, whose one field is the mapping's base.  These
/// statements point `header` at its u32 words (0 state, 5 status, 6 reply
/// length); the rogue then keeps running, so the executor never replies
/// itself.
const HEADER: &str = "let header = *((*host).ctx as *const *mut u32);
    let state = &*(header as *const core::sync::atomic::AtomicU32);";

#[test]
fn a_reply_forged_in_the_channel_header_is_an_error() {
    // A reply with an impossible length.
    assert_rogue_reply_is_an_error(
        "fn_f_forged",
        &format!(
            "{HEADER}
             core::ptr::write_volatile(header.add(6), u32::MAX);
             core::ptr::write_volatile(header.add(5), 0);
             state.store(3, core::sync::atomic::Ordering::Release);
             loop {{ core::hint::spin_loop(); }}"
        ),
    );
}

#[test]
fn an_out_of_order_channel_state_is_an_error() {
    // The executor claims to be starting again in the middle of a call.
    assert_rogue_reply_is_an_error(
        "fn_f_state",
        &format!(
            "{HEADER}
             state.store(0, core::sync::atomic::Ordering::Release);
             loop {{ core::hint::spin_loop(); }}"
        ),
    );
}

#[test]
fn a_cpu_limit_stops_a_call_that_statement_timeout_would_not() {
    let _turn = spin_alone();
    let health = Health::before();
    let mut c = client();
    create(&mut c, "fn_f_cpu", SPIN);
    let start = Instant::now();
    let e = error_of(
        &mut c,
        "SET statement_timeout = 0; SET plrust.call_cpu_limit = '300ms'; SELECT fn_f_cpu(1)",
    );
    let took = start.elapsed();
    assert_eq!(e.code().code(), "54000", "{e:?}");
    assert!(
        e.detail().unwrap().contains("plrust.call_cpu_limit"),
        "{e:?}"
    );
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1000),
        "took {took:?}"
    );
    // Calls within the limit still run.
    assert_eq!(one::<i64>(&mut c, "SELECT fn_f_cpu_ok(8)"), 8);
    c.batch_execute("RESET plrust.call_cpu_limit").unwrap();
    health.assert_unharmed();
}

#[test]
fn preparing_many_executors_in_one_transaction_keeps_the_backend_small() {
    // Each new function forces a fresh executor, which loads the owner's
    // compiled functions (hundreds of KB each) through the backend. Those
    // copies must not pile up until the transaction ends.
    let health = Health::before();
    let mut c = client();
    let salt = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut calls = Vec::new();
    for i in 0..12 {
        c.batch_execute(&format!(
            "CREATE OR REPLACE FUNCTION fn_f_prep_{i}(x bigint) RETURNS bigint STRICT LANGUAGE plrust
             AS $$ let _salt = {salt}u128; Ok(Some(x + {i})) $$"
        ))
        .unwrap();
        calls.push(format!("fn_f_prep_{i}(0)"));
    }
    let mut tx = c.transaction().unwrap();
    let row = tx
        .query_one(&format!("SELECT {}", calls.join(" + ")), &[])
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), (0..12).sum::<i64>());
    let top: i64 = tx
        .query_one(
            "SELECT total_bytes FROM pg_backend_memory_contexts WHERE name = 'TopTransactionContext'",
            &[],
        )
        .unwrap()
        .get(0);
    tx.commit().unwrap();
    assert!(top < 8 << 20, "TopTransactionContext holds {top} bytes");
    health.assert_unharmed();
}

/// The process is asleep (state S): an executor waiting on its channel.
fn sleeping(pid: i32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.contains(") S ")
}

#[test]
fn stopping_and_continuing_a_waiting_executor_does_not_kill_it() {
    // A stop signal interrupts the executor's futex wait; on SIGCONT the
    // kernel resumes it through restart_syscall, which the sealed filter
    // must allow (a debugger detaching or a cgroup freeze does the same).
    let health = Health::before();
    let mut c = client();
    create(
        &mut c,
        "fn_f_stop",
        "Spi::run(\"SELECT pg_sleep(1.5)\")?; Ok(Some(x))",
    );
    let backend: i32 = one(&mut c, "SELECT pg_backend_pid()");
    let t = std::thread::spawn(move || one::<i64>(&mut c, "SELECT fn_f_stop(7)"));
    let mut observer = client();
    // The backend sleeps in the upcall's pg_sleep: the executor serving
    // the call is the slot's now (not one being replaced as the call
    // prepared its executor), and waits for the answer.
    let executor = wait_for(
        "the call to wait for its upcall",
        Duration::from_secs(20),
        || {
            let in_upcall = one::<bool>(
                &mut observer,
                &format!(
                    "SELECT coalesce(wait_event = 'PgSleep', false) FROM pg_stat_activity WHERE pid = {backend}"
                ),
            );
            in_upcall
                .then(|| executor_of_backend(&mut observer, backend))
                .flatten()
                .filter(|&pid| sleeping(pid))
        },
    );
    // SAFETY: kill(2) of an executor pid read from plrust.workers.
    assert_eq!(unsafe { libc::kill(executor, libc::SIGSTOP) }, 0);
    std::thread::sleep(Duration::from_millis(100));
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(executor, libc::SIGCONT) }, 0);
    assert_eq!(t.join().unwrap(), 7);
    let state = std::fs::read_to_string(format!("/proc/{executor}/stat")).unwrap_or_default();
    assert!(
        process_exists(executor) && !state.contains(") Z "),
        "executor {executor} died: {state}"
    );
    health.assert_unharmed();
}
