//! Attacks on CREATE FUNCTION: bodies that try to make the compiler read
//! server files, run forever, eat memory or crash the backend.  Each asserts
//! the error and that the cluster is unharmed.

use std::time::{Duration, Instant};

use plrust_compiler::rustc::CompileError;
use plrust_tests::{client, compile_bypassing_check, datadir, error_of, one, wait_for, Health};

/// No process (driver, rustc, linker) is still working in a build
/// directory of this backend.
fn assert_no_compiler_left(backend: i32) {
    // Killing is asynchronous for the group's other members: allow a moment.
    let pattern = format!("pg_plrust/build/[0-9]+-{backend}-");
    wait_for(
        "the compiler processes to end",
        Duration::from_secs(1),
        || {
            let left = std::process::Command::new("pgrep")
                .args(["-f", &pattern])
                .output()
                .unwrap();
            left.stdout.is_empty().then_some(())
        },
    );
}

/// 2^48 macro expansions, each level far below the recursion limit: rustc
/// would work on it for ever.
const MACRO_BOMB: &str = "
    macro_rules! bomb {
        () => {};
        (x $($rest:tt)*) => { bomb!($($rest)*); bomb!($($rest)*); };
    }
    bomb!(x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x x);
    Ok(Some(1))";

/// Compiling MACRO_BOMB as `name` after `setup`, in a session that
/// `interrupt` may cancel (it gets the backend pid), fails with `code`
/// within `limit`, leaves no compiler process, and costs nothing else.
fn assert_endless_compile_is_stopped(
    name: &str,
    setup: &str,
    interrupt: Option<fn(i32)>,
    code: &str,
    limit: Duration,
) {
    let health = Health::before();
    let mut c = client();
    let backend: i32 = one(&mut c, "SELECT pg_backend_pid()");
    c.batch_execute(setup).unwrap();
    let interrupter = interrupt.map(|f| std::thread::spawn(move || f(backend)));
    let start = Instant::now();
    let e = error_of(
        &mut c,
        &format!(
            "CREATE OR REPLACE FUNCTION {name}() RETURNS int LANGUAGE plrust AS $${MACRO_BOMB}$$"
        ),
    );
    let took = start.elapsed();
    if let Some(t) = interrupter {
        t.join().unwrap();
    }
    assert_eq!(e.code().code(), code, "{e:?}");
    assert!(took < limit, "took {took:?}");
    assert_no_compiler_left(backend);
    c.batch_execute("RESET ALL").unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
    health.assert_unharmed();
}

#[test]
fn rustc_cannot_read_server_files_even_if_the_check_is_bypassed() {
    let conf = format!("{}/postgresql.conf", datadir());
    assert!(
        std::fs::read_to_string(&conf)
            .unwrap()
            .contains("shared_preload_libraries"),
        "the test itself can read {conf}"
    );
    for (what, item) in [
        (
            "server config",
            format!("pub const C: &str = include_str!({conf:?});"),
        ),
        (
            "passwd",
            "pub const C: &[u8] = include_bytes!(\"/etc/passwd\");".into(),
        ),
        ("module path", format!("#[path = {conf:?}] mod m;")),
        (
            "another build",
            format!(
                "pub const C: &str = include_str!(\"{}/pg_plrust\");",
                datadir()
            ),
        ),
    ] {
        let src = format!("{item}\n");
        match compile_bypassing_check("read_probe", &src, &[]) {
            Err(CompileError::Rejected { diagnostics }) => {
                assert!(
                    diagnostics.contains("Permission denied"),
                    "{what}: {diagnostics}"
                );
                assert!(
                    !diagnostics.contains("shared_preload") && !diagnostics.contains("root:"),
                    "{what}: the file's content leaked into diagnostics"
                );
            }
            other => panic!("{what}: rustc read a server file: {other:?}"),
        }
    }
    // The same include of a file inside the build directory works, so the
    // denial above is the sandbox and not a broken include.
    let src = "pub const C: &str = include_str!(\"mine.txt\");\n";
    let so = compile_bypassing_check("read_probe_ok", src, &[("mine.txt", "hello")]);
    assert!(so.is_ok(), "{so:?}");
}

#[test]
fn an_exponential_macro_fails_within_the_compile_timeout() {
    assert_endless_compile_is_stopped(
        "fn_macro_bomb",
        "SET plrust.compile_timeout = '3s'",
        None,
        "54000",
        Duration::from_secs(8),
    );
}

#[test]
fn a_50_mb_body_is_refused_quickly() {
    let health = Health::before();
    let mut c = client();
    let filler = "// padding padding padding padding padding padding padding padding\n";
    let body = format!(
        "Ok(Some(1))\n{}",
        filler.repeat(50 * 1024 * 1024 / filler.len())
    );
    assert!(body.len() >= 50 * 1000 * 1000);
    let start = Instant::now();
    let e = error_of(
        &mut c,
        &format!("CREATE OR REPLACE FUNCTION fn_huge_body() RETURNS int LANGUAGE plrust AS $body${body}$body$"),
    );
    let took = start.elapsed();
    assert_eq!(e.code().code(), "54000", "{e:?}");
    assert!(e.message().contains("too long"), "{e:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
    health.assert_unharmed();
}

#[test]
fn a_deeply_nested_body_cannot_overflow_the_backend_stack() {
    // Parsing this recursively needs far more stack than a backend has; the
    // parser runs in the compile driver, so it costs that process only.
    let health = Health::before();
    let mut c = client();
    let depth = 400_000;
    let body = format!("Ok(Some({}1{}))", "(".repeat(depth), ")".repeat(depth));
    let e = error_of(
        &mut c,
        &format!("CREATE OR REPLACE FUNCTION fn_deep() RETURNS int LANGUAGE plrust AS $body${body}$body$"),
    );
    assert_eq!(e.code().code(), "54000", "{e:?}");
    assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
    health.assert_unharmed();
}

#[test]
fn statement_timeout_during_compilation_cancels_and_kills_rustc() {
    assert_endless_compile_is_stopped(
        "fn_compile_timeout",
        "SET statement_timeout = '1s'",
        None,
        "57014",
        Duration::from_secs(3),
    );
}

#[test]
fn pg_cancel_backend_during_compilation_cancels_and_kills_rustc() {
    fn cancel(backend: i32) {
        let mut other = client();
        std::thread::sleep(Duration::from_millis(700));
        let sql = format!("SELECT pg_cancel_backend({backend})");
        assert!(one::<bool>(&mut other, &sql));
    }
    assert_endless_compile_is_stopped(
        "fn_compile_cancel",
        "SELECT 1",
        Some(cancel),
        "57014",
        Duration::from_secs(3),
    );
}

#[test]
fn the_compiler_runs_under_plrust_compile_memory_limit() {
    let health = Health::before();
    let mut c = client();
    let salt = std::process::id();
    let create = format!(
        "CREATE OR REPLACE FUNCTION fn_compile_mem() RETURNS int LANGUAGE plrust AS $$
             let _salt = {salt}; let v = vec![1, 2, 3]; Ok(Some(v.len() as i32))
         $$"
    );
    // rustc alone maps more than this (its driver and LLVM libraries).
    let e = error_of(
        &mut c,
        &format!("SET plrust.compile_memory_limit = '256MB'; {create}"),
    );
    assert_eq!(e.code().code(), "54000", "{e:?}");
    assert!(
        e.hint().unwrap().contains("plrust.compile_memory_limit"),
        "{e:?}"
    );
    c.batch_execute(&format!("RESET plrust.compile_memory_limit; {create}"))
        .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT fn_compile_mem()"), 3);
    health.assert_unharmed();
}
