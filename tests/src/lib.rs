//! Shared helpers for the integration tests: they talk to a real cluster
//! with plrust preloaded, started by scripts/test.sh, which passes where it
//! is through the environment:
//!
//! - PLRUST_TEST_HOST: the socket directory; PLRUST_TEST_PORT: the port;
//! - PLRUST_TEST_DATADIR: its data directory (to find the postmaster);
//! - PLRUST_TEST_KIT: the compiler kit that server uses;
//! - PLRUST_TEST_NOPRELOAD_PORT: a second cluster without plrust preloaded;
//! - PLRUST_TEST_MAJOR: the major they run; PLRUST_TEST_SCRATCH: where a
//!   test may make clusters of its own (cluster.rs).
//!
//! Tests run in parallel, so every test names its functions after itself.

use plrust_compiler::rustc::{compile, CompileError, Limits, Toolchain};
use postgres::error::DbError;
use postgres::{Client, NoTls};

pub mod cluster;
pub mod kinds;

pub const DATABASE: &str = "plrust_test";

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the tests through scripts/test.sh"))
}

pub fn connect_to(host: &str, port: &str, dbname: &str) -> Client {
    connect_as(host, port, dbname, "postgres")
}

/// A new session on the test database as `role` (trust authentication).
pub fn client_as(role: &str) -> Client {
    connect_as(
        &env("PLRUST_TEST_HOST"),
        &env("PLRUST_TEST_PORT"),
        DATABASE,
        role,
    )
}

pub fn connect_as(host: &str, port: &str, dbname: &str, role: &str) -> Client {
    postgres::Config::new()
        .host(host)
        .port(port.parse().expect("port"))
        .user(role)
        .dbname(dbname)
        .connect(NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to {host}:{port}: {e}"))
}

/// The messages (NOTICE, WARNING, ...) a session received.
pub type Notices = std::sync::Arc<std::sync::Mutex<Vec<DbError>>>;

/// The texts of the messages received so far, emptying the list.
pub fn take_messages(notices: &Notices) -> Vec<String> {
    std::mem::take(&mut *notices.lock().unwrap())
        .iter()
        .map(|n| n.message().to_string())
        .collect()
}

/// A new session on the test database that keeps the messages it receives.
pub fn client_with_notices() -> (Client, Notices) {
    let notices = Notices::default();
    let keep = notices.clone();
    let c = postgres::Config::new()
        .host(&env("PLRUST_TEST_HOST"))
        .port(env("PLRUST_TEST_PORT").parse().expect("port"))
        .user("postgres")
        .dbname(DATABASE)
        .notice_callback(move |n| keep.lock().unwrap().push(n))
        .connect(NoTls)
        .unwrap_or_else(|e| panic!("cannot connect: {e}"));
    (c, notices)
}

/// A new session on the test database.
pub fn client() -> Client {
    connect_to(&env("PLRUST_TEST_HOST"), &env("PLRUST_TEST_PORT"), DATABASE)
}

pub fn datadir() -> String {
    env("PLRUST_TEST_DATADIR")
}

/// A session on the cluster started without plrust preloaded.
pub fn client_without_preload() -> Client {
    connect_to(
        &env("PLRUST_TEST_NOPRELOAD_HOST"),
        &env("PLRUST_TEST_NOPRELOAD_PORT"),
        "postgres",
    )
}

/// The error a statement raised; panics if it succeeded.
pub fn error_of(c: &mut Client, sql: &str) -> DbError {
    match c.batch_execute(sql) {
        Ok(()) => panic!("statement succeeded but should have failed: {sql}"),
        Err(e) => e
            .as_db_error()
            .cloned()
            .unwrap_or_else(|| panic!("not a server error: {e}")),
    }
}

pub fn one<T: for<'a> postgres::types::FromSql<'a>>(c: &mut Client, sql: &str) -> T {
    c.query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}: {:?}", e.as_db_error()))
        .get(0)
}

/// The postmaster's pid, from postmaster.pid.
pub fn postmaster_pid() -> i32 {
    let text =
        std::fs::read_to_string(format!("{}/postmaster.pid", datadir())).expect("postmaster.pid");
    text.lines().next().unwrap().trim().parse().unwrap()
}

/// The cluster's health: a crash-restart changes the start time and drops
/// every session, so tests check both around anything that kills a process.
pub struct Health {
    start: String,
    bystander: Client,
}

impl Health {
    pub fn before() -> Health {
        let mut bystander = client();
        let start = one::<String>(&mut bystander, "SELECT pg_postmaster_start_time()::text");
        Health { start, bystander }
    }

    pub fn assert_unharmed(mut self) {
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

/// Field `key` of /proc/PID/status.
pub fn proc_status(pid: i32, key: &str) -> String {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    text.lines()
        .find_map(|l| {
            l.strip_prefix(key)?
                .strip_prefix(':')
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
}

/// The compiler kit of the server under test (setup.sh installs one into
/// every major's library directory).
pub fn kit() -> std::path::PathBuf {
    env("PLRUST_TEST_KIT").into()
}

/// Compile `crate_src` with the installed kit the way CREATE FUNCTION does
/// (the compile driver, Landlock, rlimits, empty environment, a private
/// directory), except that the source check is shown a harmless body: what
/// the next layers do when the check misses something.  `extra` files are
/// written into the build directory first.
pub fn compile_bypassing_check(
    name: &str,
    crate_src: &str,
    extra: &[(&str, &str)],
) -> Result<Vec<u8>, CompileError<()>> {
    let tc = Toolchain::in_kit(&kit());
    let dir = std::env::temp_dir().join(format!("plrust-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in extra {
        std::fs::write(dir.join(file), text).unwrap();
    }
    let limits = Limits {
        timeout: std::time::Duration::from_secs(60),
        memory_bytes: 4 << 30,
        cpu_seconds: 60,
    };
    let result = compile(&tc, limits, &dir, name, "Ok(None)", crate_src, None, || {
        Ok::<(), ()>(())
    })
    .map(|compiled| compiled.object);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Create `name(x bigint) RETURNS bigint STRICT` with a harmless body, then
/// swap its compiled code for `body` built without the source check: the
/// state an attacker would reach if the check missed something, so that the
/// executor's own defences can be attacked directly.  The function is new,
/// so no executor has loaded the harmless version: its first call loads
/// this code in a fresh executor.
pub fn install_unchecked(c: &mut Client, name: &str, body: &str) {
    install_unchecked_as(c, None, name, body)
}

/// install_unchecked, with the function owned by `owner` (a principal of
/// its own): for code that breaks every executor that loads it, which
/// would otherwise be every executor of the tests' common principal.
pub fn install_unchecked_as(c: &mut Client, owner: Option<&str>, name: &str, body: &str) {
    use plrust_compiler::codegen::{generate, Arg, Return, Signature};
    use plrust_ipc::types::{Scalar, SqlType};
    let bigint = SqlType::Scalar {
        ty: Scalar::Int8,
        oid: 20,
    };
    let sig = Signature {
        args: vec![Arg {
            name: "x".into(),
            ty: bigint.clone(),
        }],
        ret: Return::Value(bigint),
        strict: true,
        shaped_arrays: false,
    };
    install_unchecked_crate_as(c, owner, name, &generate(&sig, body, false).source);
}

/// Like install_unchecked, with a whole crate (which must export
/// `plrust_entry`).
pub fn install_unchecked_crate(c: &mut Client, name: &str, crate_src: &str) {
    install_unchecked_crate_as(c, None, name, crate_src)
}

fn install_unchecked_crate_as(c: &mut Client, owner: Option<&str>, name: &str, crate_src: &str) {
    let object = compile_bypassing_check(name, crate_src, &[])
        .unwrap_or_else(|e| panic!("{name} does not compile: {e:?}"));
    // A unique harmless body, so that every run creates new code.
    let salt = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    if let Some(role) = owner {
        ensure_role(c, role);
        c.batch_execute(&format!("DROP FUNCTION IF EXISTS {name}(bigint)"))
            .unwrap();
        c.batch_execute(&format!("SET ROLE {role}")).unwrap();
    }
    c.batch_execute(&format!(
        "CREATE OR REPLACE FUNCTION {name}(x bigint) RETURNS bigint STRICT LANGUAGE plrust
         AS $$ let _salt = {salt}u128; Ok(Some(x)) $$;
         RESET ROLE;"
    ))
    .unwrap();
    let n = c
        .execute(
            "UPDATE plrust.artifacts SET object = $1 WHERE hash = plrust.code_hash($2::text::regproc::oid)",
            &[&object, &name],
        )
        .unwrap();
    assert_eq!(n, 1, "no artifact for {name}");
}

/// Create login role `name` (if missing) that may create functions in
/// schema public.
pub fn ensure_role(c: &mut Client, name: &str) {
    // Tests run in parallel threads, and two concurrent GRANTs on the same
    // schema fail with "tuple concurrently updated".
    static CATALOG_CHANGES: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = CATALOG_CHANGES.lock().unwrap_or_else(|e| e.into_inner());
    c.batch_execute(&format!(
        "DO $$ BEGIN
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN
             CREATE ROLE {name} LOGIN;
           END IF;
         END $$;
         GRANT CREATE ON SCHEMA public TO {name};"
    ))
    .unwrap();
}

/// Poll `ready` every 5 ms until it gives a value; panic after `timeout`,
/// saying what never happened.  For what another process does in its own
/// time: a death, a release, a replacement.
pub fn wait_for<T>(
    what: &str,
    timeout: std::time::Duration,
    mut ready: impl FnMut() -> Option<T>,
) -> T {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// The first column of the first row `sql` returns, as text, or the error
/// it raised: a list of these shows every call that went wrong at once.
pub fn outcome(c: &mut Client, sql: &str) -> String {
    match c.simple_query(sql) {
        Ok(messages) => messages
            .iter()
            .find_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => {
                    Some(r.get(0).unwrap_or("NULL").to_string())
                }
                _ => None,
            })
            .unwrap_or_else(|| "no row".to_string()),
        Err(e) => match e.as_db_error() {
            Some(d) => format!("ERROR {}: {}", d.code().code(), d.message()),
            None => format!("ERROR {e}"),
        },
    }
}
