//! The layers of defence, each attacked on its own: the source check, the
//! std facade and stripped sysroot, and the executor process.

use plrust_compiler::rustc::CompileError;
use plrust_tests::{
    client, client_without_preload, compile_bypassing_check, error_of, one, postmaster_pid,
    proc_status,
};

/// Executors currently loaded and sealed, after calling a function so that
/// at least one is.
fn sealed_executors(probe: &str) -> Vec<i32> {
    let mut c = client();
    c.batch_execute(&format!(
        "CREATE OR REPLACE FUNCTION {probe}() RETURNS int LANGUAGE plrust AS $$ Ok(Some(1)) $$"
    ))
    .unwrap();
    assert_eq!(one::<i32>(&mut c, &format!("SELECT {probe}()")), 1);
    let rows = c
        .query(
            "SELECT executor_pid FROM plrust.workers WHERE sealed AND executor_pid IS NOT NULL",
            &[],
        )
        .unwrap();
    let pids: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert!(!pids.is_empty());
    pids
}

/// The pool's one supervisor, as pg_stat_activity shows it.
fn supervisor_pid() -> i32 {
    let mut c = client();
    let rows = c
        .query(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'plrust pool supervisor'",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 1, "not one pool supervisor");
    rows[0].get(0)
}

#[test]
fn executor_is_sealed_and_not_a_postmaster_child() {
    let postmaster = postmaster_pid();
    let supervisor = supervisor_pid();
    for pid in sealed_executors("fn_probe_status") {
        assert_eq!(
            proc_status(pid, "Seccomp"),
            "2",
            "executor {pid} is not under a seccomp filter"
        );
        assert_eq!(proc_status(pid, "NoNewPrivs"), "1");
        let parent: i32 = proc_status(pid, "PPid").parse().unwrap();
        assert_ne!(
            parent, postmaster,
            "executor {pid} is a child of the postmaster"
        );
        // Every executor is a child of the one supervisor.
        let cmdline = std::fs::read_to_string(format!("/proc/{parent}/cmdline")).unwrap();
        assert!(
            cmdline.contains("plrust pool supervisor"),
            "parent of {pid} is {cmdline:?}"
        );
        assert_eq!(parent, supervisor, "executor {pid}");
        let grandparent: i32 = proc_status(parent, "PPid").parse().unwrap();
        assert_eq!(grandparent, postmaster);
        // It left PostgreSQL's process group, which the postmaster signals
        // as a whole (a config reload's SIGHUP would kill it otherwise).
        assert_eq!(
            process_group(pid),
            pid,
            "executor {pid} does not lead its own process group"
        );
        assert_ne!(process_group(parent), pid);
    }
}

/// Field 5 of /proc/PID/stat (after the parenthesised command name).
fn process_group(pid: i32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    rest.split(' ').nth(2).unwrap().parse().unwrap()
}

/// What PostgreSQL's shared memory looks like in /proc/PID/maps: the main
/// segment (anonymous shared mapping and its SysV stub) and DSM segments.
fn postgres_shared_memory(maps: &str) -> Vec<&str> {
    maps.lines()
        .filter(|l| {
            l.contains("/dev/zero") || l.contains("SYSV") || l.contains("/dev/shm/PostgreSQL")
        })
        .collect()
}

#[test]
fn executor_maps_no_postgres_shared_memory_and_holds_only_its_channel() {
    for pid in sealed_executors("fn_probe_maps") {
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
        assert_eq!(
            postgres_shared_memory(&maps),
            Vec::<&str>::new(),
            "executor {pid} maps PostgreSQL memory"
        );
        // The check above is not vacuous: its parent, a PostgreSQL process, has it.
        let parent: i32 = proc_status(pid, "PPid").parse().unwrap();
        let parent_maps = std::fs::read_to_string(format!("/proc/{parent}/maps")).unwrap();
        assert!(!postgres_shared_memory(&parent_maps).is_empty());

        let fds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            fds,
            vec!["3".to_string()],
            "executor {pid} has other descriptors"
        );
        let channel = std::fs::read_link(format!("/proc/{pid}/fd/3")).unwrap();
        assert!(channel.to_string_lossy().contains("plrust-channel"));
    }
}

fn rejected(body: &str) -> postgres::error::DbError {
    let mut c = client();
    error_of(
        &mut c,
        &format!("CREATE OR REPLACE FUNCTION fn_rejected(x int) RETURNS int LANGUAGE plrust AS $$\n{body}\n$$"),
    )
}

#[test]
fn forbidden_constructs_are_rejected_before_rustc_with_their_line() {
    let cases: &[(&str, &str)] = &[
        ("let p = unsafe { *(0 as *const i32) };", "unsafe block"),
        ("unsafe fn f() {}", "unsafe fn"),
        ("struct S; unsafe impl Send for S {}", "unsafe impl"),
        ("extern \"C\" { fn abort(); }", "extern block"),
        ("extern crate std as real;", "extern crate"),
        ("core::arch::asm!(\"nop\");", "asm!"),
        ("core::arch::global_asm!(\"nop\");", "global_asm!"),
        ("let s = include_str!(\"/etc/passwd\");", "include_str!"),
        ("let s = include_bytes!(\"/etc/passwd\");", "include_bytes!"),
        ("include!(\"/etc/passwd\");", "include!"),
        ("let h = env!(\"HOME\");", "env!"),
        ("let h = option_env!(\"HOME\");", "option_env!"),
        ("mod m;", "out-of-line module"),
        ("#[path = \"/etc/passwd\"] mod m {}", "#[path]"),
        ("#[no_mangle] fn f() {}", "#[no_mangle]"),
        ("#[export_name = \"main\"] fn f() {}", "#[export_name]"),
        (
            "#[link_section = \".init_array\"] static X: u8 = 0;",
            "#[link_section]",
        ),
        ("#[link(name = \"c\")] fn f() {}", "#[link]"),
        ("#[used] static Y: u8 = 0;", "#[used]"),
        ("#![allow(unsafe_code)]", "inner attribute"),
        ("use core::include_str as x;", "include_str"),
        (
            "#[panic_handler] fn p(_: &core::panic::PanicInfo) -> ! { loop {} }",
            "#[panic_handler]",
        ),
        (
            "#[global_allocator] static A: u8 = 0;",
            "#[global_allocator]",
        ),
        ("#[naked] fn f() {}", "#[naked]"),
        (
            "macro_rules! m { () => { include_str!(\"/etc/passwd\") } }",
            "include_str!",
        ),
        (
            "fn translate<'a, 'b, T>(_: &'a &'b (), v: &'b T) -> &'a T { v }",
            "nested lifetimes in a parameter",
        ),
        (
            "let f: for<'x> fn(&'x &'static (), &'x i32) -> &'static i32 = g;",
            "fn pointer with nested references",
        ),
        ("struct F; impl FnOnce<()> for F {}", "impl FnOnce"),
        (
            "trait T {} impl T for &'static str {}",
            "impl for a &'static type",
        ),
        ("struct S; impl Unpin for S {}", "impl Unpin"),
        (
            "struct S<T: ?Sized = dyn core::any::Any>(Box<T>);",
            "trait object as a generic default",
        ),
    ];
    for (code, construct) in cases {
        let e = rejected(&format!("// line 1\n{code}\nOk(None)"));
        assert_eq!(e.code().code(), "42501", "{code}: {e:?}");
        assert!(
            e.message().contains(construct),
            "{code}: expected {construct:?} in {:?}",
            e.message()
        );
        assert!(
            e.detail().unwrap().starts_with("At line 3,"),
            "{code}: {:?}",
            e.detail()
        );
    }
}

#[test]
fn escaping_the_wrapper_is_a_syntax_error() {
    let e = rejected("Ok(None) }\n#[no_mangle] pub extern \"C\" fn evil() {");
    assert_eq!(e.code().code(), "42601", "{e:?}");
}

#[test]
fn os_facilities_are_absent_from_std() {
    for (code, what) in [
        ("let _ = std::fs::read(\"/etc/passwd\");", "fs"),
        (
            "let _ = std::net::TcpStream::connect(\"127.0.0.1:5432\");",
            "net",
        ),
        ("std::process::exit(0);", "process"),
        ("let _ = std::thread::spawn(|| ());", "thread"),
        ("let _ = std::time::Instant::now();", "time"),
        ("let _ = std::io::stdout();", "io"),
        ("let _ = std::env::var(\"PATH\");", "env"),
        ("let _ = std::time::SystemTime::now();", "now"),
        ("std::panic::set_hook(Box::new(|_| {}));", "set_hook"),
        ("println!(\"hi\");", "println"),
    ] {
        let e = rejected(&format!("{code}\nOk(None)"));
        assert_eq!(e.code().code(), "42P13", "{code}: {e:?}");
        let d = e.detail().unwrap();
        assert!(d.contains(what), "{code}: {d}");
    }
}

#[test]
fn std_is_there_where_it_is_pure_computation() {
    // What crates and PL/Rust's documentation name from std, where it
    // computes in memory: an io::Write into a Vec, a Duration, a Path as
    // data, a CStr, thread-locals, an address parsed, the parallelism
    // crates size their caches by (one, in an executor).
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION sb_pure_std(n int) RETURNS text STRICT LANGUAGE plrust AS $$
            use std::collections::BTreeMap;
            use std::io::Write;
            std::thread_local! { static SEEN: std::cell::Cell<i32> = const { std::cell::Cell::new(0) }; }
            SEEN.with(|s| s.set(s.get() + n));
            let mut m = BTreeMap::new();
            m.insert(n, \"x\");
            let mut out: Vec<u8> = Vec::new();
            write!(out, \"{:?} {}\", m, std::time::Duration::from_millis(1500).as_secs_f64())?;
            let ext = std::path::Path::new(\"/a/b.txt\").extension().and_then(|e| e.to_str()).map(str::to_owned);
            let c = std::ffi::CStr::from_bytes_with_nul(b\"hi\\0\")?;
            let ip: std::net::IpAddr = \"10.1.2.3\".parse()?;
            Ok(Some(format!(\"{} {:?} {:?} {ip} {} {}\", String::from_utf8(out)?, ext, c,
                std::thread::available_parallelism()?, SEEN.with(|s| s.get()))))
         $$;",
    )
    .unwrap();
    assert_eq!(
        one::<String>(&mut c, "SELECT sb_pure_std(3)"),
        "{3: \"x\"} 1.5 Some(\"txt\") \"hi\" 10.1.2.3 1 3"
    );
}

#[test]
fn a_path_that_looks_at_the_file_system_costs_its_call() {
    // Path is data in the facade; its methods that stat the file system
    // are system calls the executor's filter refuses.
    let before = postmaster_pid();
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION sb_path_exists() RETURNS bool LANGUAGE plrust AS $$
            Ok(Some(std::path::Path::new(\"/etc/passwd\").exists()))
         $$;",
    )
    .unwrap();
    let e = error_of(&mut c, "SELECT sb_path_exists()");
    assert_eq!(e.code().code(), "38000", "{e:?}");
    assert!(e.detail().unwrap().contains("SIGSYS"), "{e:?}");
    assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
    assert_eq!(postmaster_pid(), before);
}

#[test]
fn the_kit_sysroot_has_only_the_facade_even_if_the_check_is_bypassed() {
    // Straight to rustc with the installed kit, as the postgres user would
    // run it, skipping the source check: whichever way a crate names std,
    // it gets the facade, which has no file system.
    for (what, src) in [
        ("the implicit std", "pub fn f() { let _ = std::fs::read(\"/etc/passwd\"); }\n"),
        (
            "extern crate std",
            "extern crate std as real;\npub fn f() { let _ = real::fs::read(\"/etc/passwd\"); }\n",
        ),
        (
            "a no_std crate's own extern crate std",
            "#![no_std]\nextern crate std;\npub fn f() { let _ = std::fs::read(\"/etc/passwd\"); }\n",
        ),
    ] {
        match compile_bypassing_check("sysroot_probe", src, &[]) {
            Err(CompileError::Rejected { diagnostics }) => {
                assert!(diagnostics.contains("`fs`"), "{what}: {diagnostics}");
            }
            Err(e) => panic!("{what}: unexpected failure: {e:?}"),
            Ok(_) => panic!("{what}: std::fs compiled against the kit's sysroot"),
        }
    }
    // And the facade compiles in the same setup (the test is not vacuous).
    let ok = "pub fn f() -> usize { std::vec::Vec::<u8>::new().len() }\n";
    let so = compile_bypassing_check("sysroot_probe_ok", ok, &[]);
    assert!(so.is_ok(), "{so:?}");
}

#[test]
fn settings_are_visible_in_pg_settings() {
    let mut c = client();
    for (name, context) in [
        ("plrust.max_executors", "postmaster"),
        ("plrust.max_executors_per_principal", "superuser"),
        ("plrust.executor_idle_timeout", "sighup"),
        // Obsolete, but still accepted.
        ("plrust.workers", "postmaster"),
        ("plrust.compile_timeout", "superuser"),
        ("plrust.compile_memory_limit", "superuser"),
        ("plrust.executor_memory_limit", "superuser"),
        ("plrust.call_cpu_limit", "superuser"),
        ("plrust.pool_wait_timeout", "superuser"),
        ("plrust.toolchain_dir", "postmaster"),
    ] {
        let got: String = c
            .query_one("SELECT context FROM pg_settings WHERE name = $1", &[&name])
            .unwrap()
            .get(0);
        assert_eq!(got, context, "{name}");
    }
    // As scripts/cluster.sh sets them: the ceiling is half the pool.
    assert_eq!(one::<String>(&mut c, "SHOW plrust.max_executors"), "4");
    assert_eq!(
        one::<String>(&mut c, "SHOW plrust.max_executors_per_principal"),
        "2"
    );
    let slots: i64 = one(&mut c, "SELECT count(*) FROM plrust.workers");
    assert_eq!(slots, 4, "one row of plrust.workers per slot");
}

#[test]
fn create_extension_without_preload_says_what_to_set() {
    let mut c = client_without_preload();
    let e = error_of(
        &mut c,
        "DROP EXTENSION IF EXISTS plrust; CREATE EXTENSION plrust",
    );
    assert_eq!(e.code().code(), "55000", "{e:?}");
    assert!(e.message().contains("shared_preload_libraries"));
    assert!(e.hint().unwrap().contains("shared_preload_libraries"));
}

#[test]
fn a_compile_that_never_ends_is_killed_at_the_timeout() {
    let mut c = client();
    let backend: i32 = one(&mut c, "SELECT pg_backend_pid()");
    c.batch_execute("SET plrust.compile_timeout = '2s'")
        .unwrap();
    let start = std::time::Instant::now();
    // Constant evaluation that never finishes: rustc itself loops (its own
    // long_running_const_eval lint would stop it, but a body may allow it).
    let e = error_of(
        &mut c,
        "CREATE OR REPLACE FUNCTION fn_const_loop() RETURNS bigint LANGUAGE plrust AS $$
             #[allow(long_running_const_eval)]
             const FOREVER: u64 = { let mut i: u64 = 1; while i != 0 { i = i.wrapping_mul(3) | 1; } i };
             Ok(Some(FOREVER as i64))
         $$",
    );
    let took = start.elapsed();
    assert_eq!(e.code().code(), "54000", "{e:?}");
    assert!(e.message().contains("took longer than 2000 ms"), "{e:?}");
    assert!(took < std::time::Duration::from_secs(6), "took {took:?}");
    // rustc was killed, not left running: its build directory is named
    // after this backend's pid.
    let pattern = format!("pg_plrust/build/[0-9]+-{backend}-");
    let left = std::process::Command::new("pgrep")
        .args(["-f", &pattern])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "rustc still running: {:?}",
        String::from_utf8_lossy(&left.stdout)
    );
    // The session is usable.
    assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
}

#[test]
fn build_directories_do_not_outlive_create_function() {
    let mut c = client();
    let backend: i32 = one(&mut c, "SELECT pg_backend_pid()");
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_builddir() RETURNS int LANGUAGE plrust AS $$ Ok(Some(1)) $$",
    )
    .unwrap();
    let _ = c.batch_execute("CREATE OR REPLACE FUNCTION fn_builddir_bad() RETURNS int LANGUAGE plrust AS $$ Ok(Some(z)) $$");
    let root = format!("{}/pg_plrust/build", plrust_tests::datadir());
    let mine: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(&format!("-{backend}-")))
        .collect();
    assert_eq!(mine, Vec::<String>::new(), "build directories left behind");
}

#[test]
fn rustc_runs_with_an_empty_environment() {
    // Bypassing the source check (which refuses env!): even then, rustc
    // sees no variable, not even HOME or PATH.
    assert!(
        std::env::var("PATH").is_ok(),
        "the test itself should have PATH"
    );
    let src = "pub const P: &str = env!(\"PATH\");\n";
    match compile_bypassing_check("env_probe", src, &[]) {
        Err(CompileError::Rejected { diagnostics }) => {
            assert!(
                diagnostics.contains("environment variable `PATH` not defined"),
                "{diagnostics}"
            );
        }
        other => panic!("expected rustc to find no PATH: {other:?}"),
    }
}

/// (soft, hard) of one line of /proc/PID/limits.
fn limit(pid: i32, name: &str) -> (String, String) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("/proc limits");
    let line = text
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/limits"));
    let mut fields = line[name.len()..].split_whitespace();
    (
        fields.next().unwrap().to_string(),
        fields.next().unwrap().to_string(),
    )
}

#[test]
fn a_sealed_executor_has_its_limits_an_empty_environment_and_cwd_root() {
    let mut c = client();
    let mb: i32 = one(
        &mut c,
        "SELECT setting::int FROM pg_settings WHERE name = 'plrust.executor_memory_limit'",
    );
    sealed_executors("fn_probe_limits");
    let rows = c
        .query(
            "SELECT executor_pid, memory_limit_mb FROM plrust.workers WHERE sealed",
            &[],
        )
        .unwrap();
    let executors: Vec<(i32, i32)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert!(
        executors.iter().any(|&(_, m)| m == mb),
        "no executor bound with this session's limit: {executors:?}"
    );
    let mut checked = 0;
    for (pid, limit_mb) in executors {
        let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue; // replaced meanwhile
        };
        assert!(environ.is_empty(), "executor {pid} has an environment");
        assert_eq!(
            std::fs::read_link(format!("/proc/{pid}/cwd")).unwrap(),
            std::path::Path::new("/")
        );
        for (name, want) in [
            ("Max open files", "0"),
            ("Max file size", "0"),
            ("Max processes", "0"),
            ("Max core file size", "0"),
        ] {
            assert_eq!(
                limit(pid, name),
                (want.into(), want.into()),
                "{name} of {pid}"
            );
        }
        // The limit of the session that bound it, for good (soft = hard).
        let bytes = (u64::from(limit_mb as u32) << 20).to_string();
        assert_eq!(
            limit(pid, "Max address space"),
            (bytes.clone(), bytes),
            "executor {pid}"
        );
        checked += 1;
    }
    assert!(checked > 0);
}
