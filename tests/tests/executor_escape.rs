//! Attacks from inside an executor, with the source check bypassed (see
//! install_unchecked): what the process sandbox alone stops.

use std::time::Duration;

use plrust_tests::{
    client, datadir, error_of, install_unchecked, install_unchecked_as, one, wait_for, Health,
};

/// A body that calls one C function: `decl` declares it, `call` calls it
/// (its result converted to i64 is added to the argument and returned).
fn calling(decl: &str, call: &str) -> String {
    format!(
        "#[allow(unsafe_code)]
         fn act() -> i64 {{
             extern \"C\" {{ {decl} }}
             unsafe {{ {call} as i64 }}
         }}
         Ok(Some(act() + x))"
    )
}

/// A body whose `at_load` statements run when an executor loads it, as a
/// constructor (.init_array), before SEAL; it returns `ret`.
fn at_load(statements: &str, ret: &str) -> String {
    format!(
        "#[allow(unsafe_code)]
         extern \"C\" fn at_load() {{ {statements} }}
         #[allow(unsafe_code)]
         #[used]
         #[link_section = \".init_array\"]
         static AT_LOAD: extern \"C\" fn() = at_load;
         Ok(Some({ret}))"
    )
}

/// Calling `decl`'s function from a sealed executor kills it (SIGSYS); the
/// call fails, nothing else.
fn assert_call_is_killed(name: &str, decl: &str, call: &str) {
    let health = Health::before();
    let mut c = client();
    install_unchecked(&mut c, name, &calling(decl, call));
    assert_killed_by_seccomp(&mut c, name);
    health.assert_unharmed();
}

/// The call fails because seccomp killed its executor (SIGSYS).
fn assert_killed_by_seccomp(c: &mut postgres::Client, name: &str) {
    let e = error_of(c, &format!("SELECT {name}(1)"));
    assert_eq!(e.code().code(), "38000", "{e:?}");
    assert!(e.detail().unwrap().contains("SIGSYS"), "{e:?}");
}

#[test]
fn user_code_cannot_write_to_the_server_log_or_stderr() {
    let health = Health::before();
    let mut c = client();
    let marker = format!("PLRUST-ESCAPE-MARKER-{}", std::process::id());
    for fd in [1, 2] {
        let name = format!("fn_x_write_{fd}");
        let line = format!("{marker}\n");
        install_unchecked(
            &mut c,
            &name,
            &calling(
                "fn write(fd: i32, buf: *const u8, n: usize) -> isize;",
                &format!("write({fd}, {line:?}.as_ptr(), {})", line.len()),
            ),
        );
        // write fails (EBADF) rather than killing, so that std's own
        // messages on the way to an abort do not hide the cause of death.
        assert_eq!(one::<i64>(&mut c, &format!("SELECT {name}(1)")), 0);
    }
    let log = std::fs::read_to_string(format!("{}/../server.log", datadir())).unwrap();
    assert!(!log.contains(&marker), "user code wrote to the server log");
    health.assert_unharmed();
}

#[test]
fn user_code_cannot_open_files() {
    assert_call_is_killed(
        "fn_x_open",
        "fn open(path: *const u8, flags: i32) -> i32;",
        "open(b\"/etc/passwd\\0\".as_ptr(), 0)",
    );
}

#[test]
fn user_code_cannot_start_processes() {
    assert_call_is_killed("fn_x_fork", "fn fork() -> i32;", "fork()");
}

#[test]
fn user_code_cannot_map_new_executable_code() {
    // PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS
    assert_call_is_killed(
        "fn_x_exec_map",
        "fn mmap(a: usize, len: usize, prot: i32, flags: i32, fd: i32, off: i64) -> usize;",
        "mmap(0, 4096, 1 | 4, 0x02 | 0x20, -1, 0)",
    );
}

#[test]
fn user_code_sees_no_environment() {
    // The postmaster has an environment (PATH at least); the executor's is
    // empty, so nothing of the server's leaks through it.
    let postmaster = plrust_tests::postmaster_pid();
    let server_env = std::fs::read(format!("/proc/{postmaster}/environ")).unwrap();
    assert!(!server_env.is_empty(), "the postmaster has no environment");
    let mut c = client();
    install_unchecked(
        &mut c,
        "fn_x_environ",
        "#[allow(unsafe_code)]
         fn count() -> i64 {
             extern \"C\" { static environ: *const *const u8; }
             let mut n = 0;
             unsafe { while !(*environ.add(n)).is_null() { n += 1; } }
             n as i64
         }
         Ok(Some(count() + x - x))",
    );
    assert_eq!(one::<i64>(&mut c, "SELECT fn_x_environ(1)"), 0);
}

#[test]
fn code_that_runs_while_loading_cannot_read_files() {
    // A constructor (.init_array) runs when the executor loads the object,
    // before SEAL. The source check refuses #[link_section] and #[used];
    // past it, Landlock still denies every path: open() fails with EACCES
    // instead of returning a descriptor.
    let mut c = client();
    install_unchecked_as(
        &mut c,
        Some("plrust_ctor_reader"),
        "fn_x_ctor",
        &format!(
            "use core::sync::atomic::{{AtomicI64, Ordering}};
             static OPENED: AtomicI64 = AtomicI64::new(-100);
             {}",
            at_load(
                "extern \"C\" {
                     fn open(path: *const u8, flags: i32) -> i32;
                     fn __errno_location() -> *mut i32;
                 }
                 let fd = unsafe { open(b\"/etc/passwd\\0\".as_ptr(), 0) };
                 let result = if fd < 0 { -(unsafe { *__errno_location() }) } else { fd };
                 OPENED.store(result as i64, Ordering::Relaxed);",
                "OPENED.load(Ordering::Relaxed) + x - x",
            )
        ),
    );
    assert_eq!(
        one::<i64>(&mut c, "SELECT fn_x_ctor(1)"),
        -13,
        "open at load time should fail with EACCES"
    );
}

/// Load-time code that opens a UDP socket (AF_INET, SOCK_DGRAM).
const SOCKET_AT_LOAD: &str = "extern \"C\" { fn socket(domain: i32, ty: i32, proto: i32) -> i32; }
                              unsafe { socket(2, 2, 0) };";

#[test]
fn code_that_runs_while_loading_cannot_open_sockets() {
    let health = Health::before();
    let mut c = client();
    // Every executor that loads this dies, so it gets an owner (a principal)
    // of its own.
    install_unchecked_as(
        &mut c,
        Some("plrust_ctor_attacker"),
        "fn_x_ctor_socket",
        &at_load(SOCKET_AT_LOAD, "x"),
    );
    let e = error_of(&mut c, "SELECT fn_x_ctor_socket(1)");
    assert_eq!(e.code().code(), "38000", "{e:?}");
    health.assert_unharmed();
}

#[test]
fn user_code_cannot_open_sockets() {
    // AF_INET, SOCK_STREAM
    assert_call_is_killed(
        "fn_x_socket",
        "fn socket(domain: i32, ty: i32, proto: i32) -> i32;",
        "socket(2, 1, 0)",
    );
}

#[test]
fn a_function_that_breaks_its_executor_at_load_costs_only_its_own_calls() {
    // Executors load all of an owner's functions. One whose load-time code
    // gets the executor killed must not take the owner's other functions
    // down with it: it is left out of the next executor.
    let health = Health::before();
    let mut c = client();
    let owner = "plrust_ctor_neighbour";
    install_unchecked_as(
        &mut c,
        Some(owner),
        "fn_x_bad_neighbour",
        &at_load(SOCKET_AT_LOAD, "x"),
    );
    c.batch_execute(&format!(
        "SET ROLE {owner};
         CREATE OR REPLACE FUNCTION fn_x_good_neighbour(x bigint) RETURNS bigint STRICT LANGUAGE plrust
         AS $$ Ok(Some(x * 2)) $$;
         RESET ROLE;"
    ))
    .unwrap();
    for _ in 0..2 {
        assert_eq!(one::<i64>(&mut c, "SELECT fn_x_good_neighbour(21)"), 42);
        let e = error_of(&mut c, "SELECT fn_x_bad_neighbour(1)");
        assert_eq!(e.code().code(), "38000", "{e:?}");
    }
    // A new session learns the same on its own.
    let mut other = client();
    assert_eq!(one::<i64>(&mut other, "SELECT fn_x_good_neighbour(5)"), 10);
    health.assert_unharmed();
}

/// A harmless process of the executors' OS user (a `sleep 60`, through
/// runuser, which is killed on drop) and its pid: something for user code
/// to aim at.
struct Target(std::process::Child, i32);

impl Target {
    fn start() -> Target {
        let child = std::process::Command::new("runuser")
            .args(["-u", "postgres", "--", "sleep", "60"])
            .spawn()
            .unwrap();
        // runuser's child is the sleep.
        let children = format!("/proc/{0}/task/{0}/children", child.id());
        let pid: i32 = wait_for("runuser to start sleep", Duration::from_secs(2), || {
            let text = std::fs::read_to_string(&children).unwrap_or_default();
            text.trim().parse().ok()
        });
        Target(child, pid)
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn user_code_cannot_signal_other_processes() {
    // tgkill is allowed only towards the executor itself (abort() raises
    // SIGABRT that way); towards anyone else it kills the executor. The
    // target is a harmless process of the same OS user, and the signal is
    // 0, so even a failing sandbox would hurt nobody; kill() is not allowed
    // at all.
    let target = Target::start();
    let pid = target.1;
    assert_call_is_killed(
        "fn_x_tgkill",
        "fn syscall(n: i64, a: i64, b: i64, c: i64) -> i64;",
        &format!("syscall(234, {pid}, {pid}, 0)"), // SYS_tgkill
    );
    assert_call_is_killed(
        "fn_x_kill",
        "fn kill(pid: i32, sig: i32) -> i32;",
        &format!("kill({pid}, 0)"),
    );
    drop(target);
}

/// sched_setaffinity(pid, sizeof(cpu_set_t), every CPU), the call the
/// executor makes to follow its backend's CPU, here made by user code.
const SET_AFFINITY: &str = "fn syscall(n: i64, pid: i64, len: i64, mask: *const u8) -> i64;
                            fn getpid() -> i32;";

fn set_affinity_of(pid: &str) -> String {
    format!("syscall(203, {pid}, 128, [0xffu8; 128].as_ptr())") // SYS_sched_setaffinity
}

#[test]
fn user_code_may_move_its_executor_between_cpus_but_no_other_process() {
    // The seccomp filter allows sched_setaffinity for pid 0 (the executor
    // itself) only. Any other pid kills the executor: even its own pid
    // spelled out, and a harmless process of the same OS user (the mask is
    // every CPU, so even a failing sandbox would confine nothing).
    let health = Health::before();
    let mut c = client();
    install_unchecked(
        &mut c,
        "fn_x_affinity_self",
        &calling(SET_AFFINITY, &set_affinity_of("0")),
    );
    assert_eq!(one::<i64>(&mut c, "SELECT fn_x_affinity_self(1)"), 1);
    // And its executor goes on serving calls.
    assert_eq!(one::<i64>(&mut c, "SELECT fn_x_affinity_self(2)"), 2);
    health.assert_unharmed();
    let target = Target::start();
    assert_call_is_killed(
        "fn_x_affinity_other",
        SET_AFFINITY,
        &set_affinity_of(&target.1.to_string()),
    );
    assert_call_is_killed(
        "fn_x_affinity_own_pid",
        SET_AFFINITY,
        &set_affinity_of("getpid() as i64"),
    );
    drop(target);
}
