//! A hot standby made with `pg_basebackup -R` runs the plrust functions it
//! replays, in its read-only state, from the code the primary stored: the
//! ones made before the base backup, the ones made, replaced and restored
//! (pg_restore) after it.  No compiler runs on the standby, nor after its
//! promotion for the functions it already had; a function created on the
//! promoted server compiles and runs.
//!
//! Its own two clusters of the major under test (PLRUST_TEST_MAJOR), in
//! PLRUST_TEST_SCRATCH, on ports 55450 (primary) and 55451 (standby).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use plrust_tests::cluster::{chown_postgres, major, run_as_postgres, scratch, Cluster};
use plrust_tests::kinds::every_kind;
use plrust_tests::outcome;
use plrust_tests::{one, wait_for};
use postgres::Client;

const PRIMARY_PORT: u16 = 55450;
const STANDBY_PORT: u16 = 55451;

/// What can run on a hot standby: everything but the trigger, which only
/// a write can fire, and a standby refuses every write.
const READ_ONLY_CALLS: [(&str, &str); 5] = [
    ("SELECT sb_scalar(20)", "41"),
    (
        "SELECT string_agg(s, ',') FROM sb_series(3) s",
        "row 1,row 2,row 3",
    ),
    (
        "SELECT sb_longest(w) FROM unnest(ARRAY['a', 'plrust', 'abc']) w",
        "<plrust>",
    ),
    ("CALL sb_double(21)", "42"),
    ("SELECT sb_words('two words')", r#"["two","words"]"#),
];

/// What went wrong, gathered rather than asserted one at a time, so that
/// one run shows every call that failed on the standby and after its
/// promotion, not only the first.  The test fails at its end if any did.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    /// Run each statement and compare what it gave with what it should.
    fn calls(&mut self, c: &mut Client, calls: &[(&str, &str)], where_: &str) {
        for (sql, want) in calls {
            let got = outcome(c, sql);
            self.check(got == *want, || {
                format!("{where_}: {sql}\n    gave {got}\n    not  {want}")
            });
        }
    }

    fn assert_none(mut self) {
        let failures = std::mem::take(&mut self.0);
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

impl Drop for Failures {
    /// A hard assertion that fails later would otherwise hide these.
    fn drop(&mut self) {
        if !self.0.is_empty() {
            eprintln!("failures before the panic:\n{}", self.0.join("\n"));
        }
    }
}

/// Each plrust function's code as plrust.functions shows it: a compile
/// would change the build time (or fill in a NULL).
fn code_shown(c: &mut Client) -> Vec<(String, Option<String>, Option<i32>)> {
    c.query(
        "SELECT function::text, built_at::text, object_bytes FROM plrust.functions ORDER BY 1",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

fn wait_for_replay(primary: &mut Client, standby: &mut Client) {
    let lsn: String = one(primary, "SELECT pg_current_wal_lsn()::text");
    wait_for(
        &format!("the standby to replay up to {lsn}"),
        Duration::from_secs(60),
        || {
            one::<bool>(
                standby,
                &format!("SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"),
            )
            .then_some(())
        },
    );
}

/// compile.rs makes every compile's build directory under
/// `<datadir>/pg_plrust/build`, creating that directory first; nothing else
/// does.  So a server whose build directory is absent has not compiled.
fn build_root(data: &Path) -> PathBuf {
    data.join("pg_plrust").join("build")
}

fn run(cwd: &Path, program: &Path, args: &[&str]) -> String {
    run_as_postgres(cwd, program, args).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_hot_standby_runs_every_replicated_function_without_compiling_and_after_promotion() {
    let base = scratch("standby");
    let mut primary = Cluster::new(base.join("primary"), PRIMARY_PORT, &major());
    primary.conf = "wal_level = replica\nmax_wal_senders = 4\nmax_replication_slots = 4\n\
                    hot_standby = on\n"
        .to_string();
    primary.script("start");
    // pg_basebackup and the standby's walreceiver connect through the
    // socket; initdb's pg_hba.conf (-A trust) lets them, say so if not.
    let hba = std::fs::read_to_string(primary.data().join("pg_hba.conf")).unwrap();
    assert!(
        hba.lines().any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words.len() >= 4 && words[0] == "local" && words[1] == "replication"
        }),
        "pg_hba.conf allows no local replication connection:\n{hba}"
    );
    primary
        .connect("postgres")
        .batch_execute("CREATE DATABASE sb_app")
        .unwrap();
    let mut p = primary.connect("sb_app");
    p.batch_execute(&format!("CREATE EXTENSION plrust; {}", every_kind("sb")))
        .unwrap();
    p.batch_execute(
        "CREATE FUNCTION sb_replaced() RETURNS text LANGUAGE plrust AS $$ Ok(Some(\"first\".into())) $$",
    )
    .unwrap();
    let mut failures = Failures::default();
    failures.calls(&mut p, &READ_ONLY_CALLS, "on the primary");

    let standby_dir = base.join("standby");
    std::fs::create_dir_all(&standby_dir).unwrap();
    chown_postgres(&standby_dir);
    let standby = Cluster::new(standby_dir.clone(), STANDBY_PORT, &major());
    let primary_host = primary.dir.to_str().unwrap().to_string();
    let standby_data = standby.data();
    // A slot keeps the primary's WAL until the standby has streamed it.
    run(
        &base,
        &primary.bin("pg_basebackup"),
        &[
            "-h",
            &primary_host,
            "-p",
            &PRIMARY_PORT.to_string(),
            "-U",
            "postgres",
            "-D",
            standby_data.to_str().unwrap(),
            "-R",
            "-X",
            "stream",
            "-C",
            "-S",
            "plrust_standby",
            "-c",
            "fast",
        ],
    );
    // The copied postgresql.conf names the primary's port and socket
    // directory; later lines win.
    std::fs::OpenOptions::new()
        .append(true)
        .open(standby_data.join("postgresql.conf"))
        .unwrap()
        .write_all(
            format!(
                "\nport = {STANDBY_PORT}\nunix_socket_directories = '{}'\n",
                standby_dir.display()
            )
            .as_bytes(),
        )
        .unwrap();
    // -R writes every connection option the major's pg_basebackup knows
    // (18: sslnegotiation), but the PyPI servers' walreceiver uses
    // Debian's libpq 15, which refuses options it does not know, and the
    // standby would never stream.  Only the socket, port and user matter
    // here; postgresql.auto.conf is read last, so its last line wins.
    std::fs::OpenOptions::new()
        .append(true)
        .open(standby_data.join("postgresql.auto.conf"))
        .unwrap()
        .write_all(
            format!("primary_conninfo = 'host={primary_host} port={PRIMARY_PORT} user=postgres'\n")
                .as_bytes(),
        )
        .unwrap();
    // The primary compiled, so the base backup brought its (empty) build
    // directory along; without it, its reappearance means a compile here.
    let standby_builds = build_root(&standby_data);
    assert!(
        standby_builds.exists(),
        "the primary compiled, yet no {standby_builds:?} came with the base backup: \
         has compile.rs moved its build directories?"
    );
    std::fs::remove_dir_all(&standby_builds).unwrap();
    standby.script("start");

    let mut s = standby.connect("sb_app");
    assert!(one::<bool>(&mut s, "SELECT pg_is_in_recovery()"));
    assert_eq!(one::<String>(&mut s, "SHOW transaction_read_only"), "on");
    wait_for_replay(&mut p, &mut s);
    // This session's executor loads the first body, so that the replace
    // below has something to replace on the standby too.
    failures.calls(
        &mut s,
        &[("SELECT sb_replaced()", "first")],
        "on the standby, before the replace",
    );
    failures.calls(
        &mut s,
        &READ_ONLY_CALLS,
        "on the standby, functions made before the base backup",
    );

    // After the standby started: a new function, a replaced one, and a
    // database restored from another's dump.
    p.batch_execute(
        "CREATE FUNCTION sb_late(s text) RETURNS text STRICT LANGUAGE plrust AS $$ Ok(Some(s.repeat(2))) $$;
         CREATE OR REPLACE FUNCTION sb_replaced() RETURNS text LANGUAGE plrust AS $$ Ok(Some(\"second\".into())) $$;",
    )
    .unwrap();
    {
        let mut admin = primary.connect("postgres");
        admin.batch_execute("CREATE DATABASE sb_source").unwrap();
        admin
            .batch_execute("CREATE DATABASE sb_restored TEMPLATE template0")
            .unwrap();
    }
    primary
        .connect("sb_source")
        .batch_execute(&format!("CREATE EXTENSION plrust; {}", every_kind("sb")))
        .unwrap();
    let dump = base.join("sb_source.dump");
    let port = PRIMARY_PORT.to_string();
    run(
        &base,
        &primary.bin("pg_dump"),
        &[
            "-h",
            &primary_host,
            "-p",
            &port,
            "-U",
            "postgres",
            "-Fc",
            "-d",
            "sb_source",
            "-f",
            dump.to_str().unwrap(),
        ],
    );
    let said = run(
        &base,
        &primary.bin("pg_restore"),
        &[
            "-h",
            &primary_host,
            "-p",
            &port,
            "-U",
            "postgres",
            "-d",
            "sb_restored",
            dump.to_str().unwrap(),
        ],
    );
    assert_eq!(said.trim(), "", "pg_restore said something");
    let mut p_restored = primary.connect("sb_restored");
    let code_app = code_shown(&mut p);
    let code_restored = code_shown(&mut p_restored);
    assert_eq!(code_app.len(), 9, "{code_app:?}");
    assert_eq!(code_restored.len(), 7, "{code_restored:?}");

    wait_for_replay(&mut p, &mut s);
    let mut after_replace = READ_ONLY_CALLS.to_vec();
    after_replace.push(("SELECT sb_replaced()", "second"));
    after_replace.push(("SELECT sb_late('ab')", "abab"));
    failures.calls(
        &mut s,
        &after_replace,
        "on the standby, the session that ran the first body",
    );
    let mut s_new = standby.connect("sb_app");
    failures.calls(&mut s_new, &after_replace, "on the standby, a new session");
    let mut s_restored = standby.connect("sb_restored");
    assert_eq!(
        one::<String>(&mut s_restored, "SHOW transaction_read_only"),
        "on"
    );
    failures.calls(
        &mut s_restored,
        &READ_ONLY_CALLS,
        "on the standby, the database pg_restore made after the base backup",
    );
    failures.check(!standby_builds.exists(), || {
        format!("a call compiled on the standby: {standby_builds:?} exists")
    });

    // Failover: the primary goes away, the standby takes over.
    drop(p);
    drop(p_restored);
    primary.script("stop");
    assert!(one::<bool>(&mut s_new, "SELECT pg_promote()"));
    assert!(!one::<bool>(&mut s_new, "SELECT pg_is_in_recovery()"));
    // Now the trigger can fire too.
    let insert = (
        "INSERT INTO sb_item (name) VALUES ('promoted') RETURNING loud",
        "PROMOTED",
    );
    let mut app_calls = after_replace.clone();
    app_calls.push(insert);
    let mut restored_calls = READ_ONLY_CALLS.to_vec();
    restored_calls.push(insert);
    for (db, calls, before) in [
        ("sb_app", &app_calls, &code_app),
        ("sb_restored", &restored_calls, &code_restored),
    ] {
        let mut c = standby.connect(db);
        failures.calls(&mut c, calls, &format!("promoted, in {db}"));
        let after = code_shown(&mut c);
        failures.check(&after == before, || {
            format!("promoted, in {db}: code rebuilt:\n    {after:?}\n    was {before:?}")
        });
    }
    failures.check(!standby_builds.exists(), || {
        format!("a call compiled on the promoted server: {standby_builds:?} exists")
    });

    let mut c = standby.connect("sb_app");
    c.batch_execute(
        "CREATE FUNCTION sb_after_promotion(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x - 1)) $$",
    )
    .unwrap();
    failures.calls(
        &mut c,
        &[("SELECT sb_after_promotion(43)", "42")],
        "promoted, a new function",
    );
    // The compile just made must have left its trace, or the absence
    // checks above could not have failed.
    failures.check(standby_builds.exists(), || {
        format!("CREATE FUNCTION compiled without making {standby_builds:?}: the checks above prove nothing")
    });
    failures.assert_none();
}
