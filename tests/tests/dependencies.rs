//! Crate dependencies: PL/Rust's `[dependencies]` section on the crates of
//! the allow-list, prepared by set-up; refusals; an empty or another
//! allow-list; compiling without a network; and a crate this test builds
//! itself, which tries what the escape tests try, from dependency code.

use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::Duration;

use plrust_tests::cluster::{self, Cluster};
use plrust_tests::{
    client, client_with_notices, datadir, error_of, kit, one, outcome, take_messages, wait_for,
    Health,
};

/// Tests that change plrust.allowed_dependencies (server-wide) run alone;
/// the others share.
static SETTING: RwLock<()> = RwLock::new(());

fn shared() -> std::sync::RwLockReadGuard<'static, ()> {
    SETTING.read().unwrap_or_else(|e| e.into_inner())
}

/// Set plrust.allowed_dependencies (ALTER SYSTEM, reload) and wait until
/// new sessions see it; None resets it to its default.
fn set_allow_list(c: &mut postgres::Client, value: Option<&str>) {
    match value {
        Some(v) => c
            .batch_execute(&format!(
                "ALTER SYSTEM SET plrust.allowed_dependencies = '{v}'"
            ))
            .unwrap(),
        None => c
            .batch_execute("ALTER SYSTEM RESET plrust.allowed_dependencies")
            .unwrap(),
    }
    c.batch_execute("SELECT pg_reload_conf()").unwrap();
    let want = value.map(str::to_string).unwrap_or_else(|| {
        one::<String>(
            c,
            "SELECT boot_val FROM pg_settings WHERE name = 'plrust.allowed_dependencies'",
        )
    });
    wait_for("the new allow-list", Duration::from_secs(10), || {
        let now: String = one(&mut client(), "SHOW plrust.allowed_dependencies");
        (now == want).then_some(())
    });
}

/// `CREATE OR REPLACE FUNCTION name(args) RETURNS ret STRICT` with `body`.
fn create(c: &mut postgres::Client, name: &str, args: &str, ret: &str, body: &str) {
    c.batch_execute(&format!(
        "CREATE OR REPLACE FUNCTION {name}({args}) RETURNS {ret} STRICT LANGUAGE plrust AS $body${body}$body$"
    ))
    .unwrap_or_else(|e| panic!("{name}: {e:?}"));
}

fn create_error(c: &mut postgres::Client, name: &str, body: &str) -> postgres::error::DbError {
    error_of(
        c,
        &format!(
            "CREATE OR REPLACE FUNCTION {name}(t text) RETURNS text STRICT LANGUAGE plrust AS $body${body}$body$"
        ),
    )
}

#[test]
fn every_crate_of_the_default_allow_list_works_in_a_body() {
    let _s = shared();
    let mut c = client();
    let cases: [(&str, &str, &str, &str, &str); 11] = [
        (
            "dep_regex",
            "regex = \"1\"",
            "let re = regex::Regex::new(r\"(\\d{4})-(\\d{2})-(\\d{2})\")?;
             let caps = re.captures(t).ok_or(\"no date\")?;
             Ok(Some(format!(\"{}/{}/{}\", &caps[3], &caps[2], &caps[1])))",
            "on 2026-12-02 at noon",
            "02/12/2026",
        ),
        (
            "dep_serde",
            "serde = { version = \"1\", features = [\"derive\"] }\nserde_json = \"1\"",
            "#[derive(serde::Serialize, serde::Deserialize)]
             struct Point { x: i32, y: i32, label: String }
             let p: Point = serde_json::from_str(t)?;
             Ok(Some(serde_json::to_string(&Point { x: p.x * 2, ..p })?))",
            r#"{"label": "a", "x": 1, "y": 2}"#,
            r#"{"x":2,"y":2,"label":"a"}"#,
        ),
        (
            "dep_sha256",
            "sha2 = \"0.10\"\nhex = \"0.4\"",
            "use sha2::{Digest, Sha256};
             Ok(Some(hex::encode(Sha256::digest(t.as_bytes()))))",
            "abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            "dep_base64",
            "base64 = \"0.22\"",
            "use base64::Engine;
             let e = base64::engine::general_purpose::STANDARD.encode(t);
             let d = base64::engine::general_purpose::STANDARD.decode(&e)?;
             Ok(Some(format!(\"{e} {}\", String::from_utf8(d)?)))",
            "hello",
            "aGVsbG8= hello",
        ),
        (
            "dep_uuid",
            "uuid = \"1\"",
            "let u = uuid::Uuid::parse_str(t)?;
             let v5 = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_DNS, b\"example.com\");
             Ok(Some(format!(\"{u} v{} {v5}\", u.get_version_num())))",
            "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11 v4 cfbff0d1-9375-5685-968c-48ce8b15ae17",
        ),
        (
            "dep_decimal",
            "rust_decimal = \"1\"",
            "use rust_decimal::Decimal;
             let sum: Decimal = t.split(',').map(|x| x.trim().parse::<Decimal>()).sum::<Result<Decimal, _>>()?;
             Ok(Some(sum.to_string()))",
            "0.1, 0.2, 0.3, 1e-2",
            "0.61",
        ),
        (
            "dep_graphemes",
            "unicode-segmentation = \"1\"",
            "use unicode_segmentation::UnicodeSegmentation;
             Ok(Some(format!(\"{} of {}\", t.graphemes(true).count(), t.chars().count())))",
            "e\u{301}a\u{308}\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}",
            "3 of 9",
        ),
        (
            "dep_rand",
            "rand = \"0.9\"",
            "use rand::{Rng, SeedableRng};
             let seed: u64 = t.parse()?;
             let draw = |seed| {
                 let mut r = rand::rngs::StdRng::seed_from_u64(seed);
                 (0..8).map(|_| r.random_range(0..1000).to_string()).collect::<Vec<_>>().join(\",\")
             };
             let (a, b, other) = (draw(seed), draw(seed), draw(seed + 1));
             Ok(Some(format!(\"{} {}\", a == b, a != other)))",
            "42",
            "true true",
        ),
        (
            "dep_itertools",
            "itertools = \"0.14\"",
            "use itertools::Itertools;
             Ok(Some(t.split(',').sorted().dedup().join(\"|\")))",
            "b,a,c,a,b",
            "a|b|c",
        ),
        (
            "dep_chrono",
            "chrono = \"0.4\"",
            "let d = chrono::NaiveDate::parse_from_str(t, \"%Y-%m-%d\")?;
             Ok(Some((d + chrono::Days::new(30)).format(\"%A %d %B %Y\").to_string()))",
            "2026-12-02",
            "Friday 01 January 2027",
        ),
        (
            "dep_hex",
            "hex = \"0.4\"",
            "Ok(Some(String::from_utf8(hex::decode(t)?)?))",
            "706c72757374",
            "plrust",
        ),
    ];
    let mut got = Vec::new();
    let mut want = Vec::new();
    for (name, deps, code, input, expected) in cases {
        create(
            &mut c,
            name,
            "t text",
            "text",
            &format!("\n[dependencies]\n{deps}\n[code]\n{code}\n"),
        );
        got.push(format!(
            "{name}: {}",
            outcome(&mut c, &format!("SELECT {name}($${input}$$)"))
        ));
        want.push(format!("{name}: {expected}"));
    }
    assert_eq!(got, want);
    // The seeded sequence is the same in every session and executor.
    let first = outcome(&mut c, "SELECT dep_rand('7')");
    assert_eq!(outcome(&mut client(), "SELECT dep_rand('7')"), first);
}

#[test]
fn plrust_functions_shows_the_exact_versions_a_function_was_built_with() {
    let _s = shared();
    let mut c = client();
    create(
        &mut c,
        "dep_versions",
        "t text",
        "int",
        "[dependencies]\nregex = \">=1.5\"\nserde_json = \"1\"\n[code]\n\
         let n = regex::Regex::new(r\"\\w+\")?.find_iter(t).count();\n\
         let v: serde_json::Value = serde_json::from_str(\"[1, 2]\")?;\n\
         Ok(Some((n + v.as_array().map_or(0, |a| a.len())) as i32))",
    );
    assert_eq!(one::<i32>(&mut c, "SELECT dep_versions('a b c')"), 5);
    let recorded: String = one(
        &mut c,
        "SELECT dependencies::text FROM plrust.functions WHERE function = 'dep_versions(text)'::regprocedure",
    );
    let prepared: String = one(
        &mut c,
        "SELECT jsonb_object_agg(name, prepared_version)::text FROM plrust.allowed_dependencies()
         WHERE name IN ('regex', 'serde_json')",
    );
    assert_eq!(recorded, prepared);
    assert!(recorded.contains("\"regex\": \"1."), "{recorded}");
    // A body without dependencies records none.
    create(&mut c, "dep_none", "x int", "int", "Ok(Some(x))");
    let none: String = one(
        &mut c,
        "SELECT dependencies::text FROM plrust.functions WHERE function = 'dep_none(int)'::regprocedure",
    );
    assert_eq!(none, "{}");
}

#[test]
fn a_do_block_may_have_dependencies_too() {
    let _s = shared();
    let (mut c, notices) = client_with_notices();
    c.batch_execute(
        "DO $$\n[dependencies]\nsha2 = \"0.10\"\nhex = \"0.4\"\n[code]\n\
         use sha2::Digest;\n\
         notice!(\"{}\", hex::encode(sha2::Sha256::digest(b\"plrust\")));\n\
         Ok(())\n$$ LANGUAGE plrust",
    )
    .unwrap();
    let said = take_messages(&notices);
    assert_eq!(said.len(), 1, "{said:?}");
    assert_eq!(said[0].len(), 64, "{said:?}");
    assert!(said[0].chars().all(|c| c.is_ascii_hexdigit()), "{said:?}");
}

#[test]
fn line_numbers_are_those_of_the_body_as_written() {
    let _s = shared();
    let mut c = client();
    let e = create_error(
        &mut c,
        "dep_lines",
        "[dependencies]\nregex = \"1\"\n[code]\nlet n: i32 = \"no\";\nOk(Some(n.to_string()))",
    );
    assert_eq!(e.code().code(), "42P13", "{e:?}");
    assert!(e.detail().unwrap().contains("line 4"), "{e:?}");
    let e = create_error(
        &mut c,
        "dep_lines",
        "[dependencies]\nregex = \"1\"\n[code]\nOk(Some(unsafe { t.get_unchecked(0..1) }.into()))",
    );
    assert_eq!(e.code().code(), "42501", "{e:?}");
    assert!(e.detail().unwrap().starts_with("At line 4,"), "{e:?}");
}

#[test]
fn crates_versions_and_features_the_allow_list_lacks_are_refused() {
    let _s = shared();
    let mut c = client();
    let refused = |c: &mut postgres::Client, deps: &str| {
        create_error(
            c,
            "dep_refused",
            &format!("[dependencies]\n{deps}\n[code]\nOk(None)"),
        )
    };
    let e = refused(&mut c, "reqwest = \"0.12\"");
    assert_eq!(e.code().code(), "42501", "{e:?}");
    assert_eq!(
        e.message(),
        "plrust function \"dep_refused\": dependency \"reqwest\" is not allowed"
    );
    let hint = e.hint().unwrap();
    assert!(
        hint.contains("regex") && hint.contains("serde_json"),
        "{hint}"
    );

    let e = refused(&mut c, "regex = \"0.2\"");
    assert_eq!(e.code().code(), "42501", "{e:?}");
    assert!(
        e.message()
            .contains("no allowed version of dependency \"regex\" matches \"0.2\""),
        "{e:?}"
    );
    assert!(e.hint().unwrap().starts_with("Allowed: 1."), "{e:?}");

    let e = refused(
        &mut c,
        "serde = { version = \"1\", features = [\"derive\", \"rc\"] }",
    );
    assert_eq!(e.code().code(), "42501", "{e:?}");
    assert!(
        e.message()
            .contains("not allowed with features = [\"derive\", \"rc\"]"),
        "{e:?}"
    );
    assert!(
        e.hint().unwrap().contains("features = [\"derive\"]"),
        "{e:?}"
    );
    let e = refused(
        &mut c,
        "regex = { version = \"1\", default-features = false }",
    );
    assert_eq!(e.code().code(), "42501", "{e:?}");

    for deps in [
        "regex = { git = \"https://github.com/rust-lang/regex\" }",
        "regex = { path = \"/etc\" }",
        "regex = 1",
        "regex = \"not a version\"",
        "this is not toml",
    ] {
        let e = refused(&mut c, deps);
        assert_eq!(e.code().code(), "42601", "{deps}: {e:?}");
        assert!(e.hint().is_some(), "{deps}: {e:?}");
    }

    // A crate that reaches for a clock does not compile: the allow-list's
    // chrono has no `clock`, and the facade's SystemTime no now().
    let e = create_error(
        &mut c,
        "dep_clock",
        "[dependencies]\nchrono = \"0.4\"\n[code]\nOk(Some(chrono::Utc::now().to_string()))",
    );
    assert_eq!(e.code().code(), "42P13", "{e:?}");
}

#[test]
fn an_empty_or_another_allow_list_is_what_bodies_get() {
    let _alone = SETTING.write().unwrap_or_else(|e| e.into_inner());
    let mut c = client();
    // A body new to this run, and one defined (with code) before the
    // allow-list narrows.
    let salt = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let body = format!(
        "[dependencies]\nhex = \"0.4\"\n[code]\nlet _salt = {salt}u128;\nOk(Some(hex::encode(t)))"
    );
    let body = body.as_str();
    let kept = "[dependencies]\nhex = \"0.4\"\n[code]\nOk(Some(hex::encode(t)))";
    create(&mut c, "dep_setting_kept", "t text", "text", kept);
    set_allow_list(&mut c, Some(""));
    let e = create_error(&mut c, "dep_setting", body);
    let state = (e.code().code().to_string(), e.hint().map(str::to_string));
    let rows: i64 = one(&mut c, "SELECT count(*) FROM plrust.allowed_dependencies()");
    // Its code exists, yet defining it again is resolved again, and refused;
    // the function that exists keeps its code and runs.
    let again = create_error(&mut c, "dep_setting_kept", kept);
    let still_runs = outcome(&mut c, "SELECT dep_setting_kept('ab')");

    // An allow-list naming a version nobody prepared.
    let dir = cluster::scratch("dep_setting");
    let list = dir.join("allow.toml");
    std::fs::write(&list, "hex = \"=0.4.2\"\n").unwrap();
    cluster::chown_postgres(&list);
    set_allow_list(&mut c, Some(list.to_str().unwrap()));
    let unprepared = create_error(&mut c, "dep_setting", body);
    let listed: String = one(
        &mut c,
        "SELECT format('%s %s %s', name, version, prepared_version IS NULL) FROM plrust.allowed_dependencies()",
    );
    // A file that is not there; bodies without dependencies never read it.
    set_allow_list(&mut c, Some("/nonexistent/allow.toml"));
    let missing = create_error(&mut c, "dep_setting", body);
    let without = outcome(
        &mut c,
        &format!(
            "CREATE OR REPLACE FUNCTION dep_setting_none(x int) RETURNS int STRICT LANGUAGE plrust
             AS $$ let _salt = {salt}u128; Ok(Some(x)) $$"
        ),
    );
    set_allow_list(&mut c, None);
    // Crates prepared for another kit (another std facade) are refused
    // before rustc would fail to load them.
    let manifest = kit().join("crates/manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let facade = text
        .split("\"facade\": \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let other_kit = {
        let _restore = RestoreFile(manifest.clone(), text.clone());
        replace_file(&manifest, &text.replace(&facade, &"0".repeat(facade.len())));
        create_error(&mut c, "dep_setting", body)
    };

    assert_eq!(other_kit.code().code(), "55000", "{other_kit:?}");
    assert!(
        other_kit
            .message()
            .ends_with("the prepared crates were built for another plrust compiler kit"),
        "{other_kit:?}"
    );
    assert_eq!(again.code().code(), "42501", "{again:?}");
    assert_eq!(still_runs, "6162");
    assert_eq!(
        without, "no row",
        "a body without dependencies read the allow-list"
    );
    assert_eq!(
        state,
        (
            "42501".into(),
            Some("No crates are allowed (plrust.allowed_dependencies).".into())
        )
    );
    assert_eq!(rows, 0);
    assert_eq!(unprepared.code().code(), "55000", "{unprepared:?}");
    assert!(
        unprepared
            .hint()
            .unwrap()
            .contains("--allowed-dependencies"),
        "{unprepared:?}"
    );
    assert_eq!(listed, "hex =0.4.2 t");
    assert_eq!(missing.code().code(), "F0000", "{missing:?}");
    assert!(
        missing.message().contains("/nonexistent/allow.toml"),
        "{missing:?}"
    );
    // Back to the default: the same body compiles.
    create(&mut c, "dep_setting", "t text", "text", body);
    assert_eq!(outcome(&mut c, "SELECT dep_setting('ab')"), "6162");
}

#[test]
fn functions_with_dependencies_compile_with_no_network() {
    let _s = shared();
    let mut node = Cluster::new(cluster::scratch("dep_no_network"), 55480, &cluster::major());
    node.no_network = true;
    node.script("start");
    // The server is in a network namespace of its own: only a loopback
    // interface, down, so no route to anywhere.
    let pid: String = std::fs::read_to_string(node.data().join("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .into();
    let ns = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/net")).unwrap();
    assert_ne!(ns(&pid), ns("self"));
    let devices = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap();
    let names: Vec<&str> = devices
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(names, ["lo"]);
    assert!(std::fs::read_to_string(format!("/proc/{pid}/net/route"))
        .unwrap()
        .lines()
        .nth(1)
        .is_none());

    let mut c = node.connect("postgres");
    c.batch_execute("CREATE EXTENSION plrust").unwrap();
    create(
        &mut c,
        "words",
        "t text",
        "text",
        "[dependencies]\nregex = \"1\"\nserde_json = \"1\"\n[code]\n\
         let words: Vec<&str> = regex::Regex::new(r\"\\w+\")?.find_iter(t).map(|m| m.as_str()).collect();\n\
         Ok(Some(serde_json::to_string(&words)?))",
    );
    assert_eq!(
        outcome(&mut c, "SELECT words('no network, no problem')"),
        r#"["no","network","no","problem"]"#
    );
}

/// A crate of this test's own, outside the allow-list's registry: what it
/// tries at run time is what the escape tests try from a body.
const ESCAPE_CRATE: &str = r#"
extern "C" {
    fn open(path: *const u8, flags: i32) -> i32;
    fn socket(domain: i32, ty: i32, protocol: i32) -> i32;
    fn fork() -> i32;
    static environ: *const *const u8;
}
pub fn open_file(path: &std::ffi::CStr) -> i32 {
    unsafe { open(path.as_ptr().cast(), 0) }
}
pub fn open_socket() -> i32 {
    unsafe { socket(2, 1, 0) }
}
pub fn start_process() -> i32 {
    unsafe { fork() }
}
pub fn environment_size() -> usize {
    let mut n = 0;
    unsafe {
        while !(*environ.add(n)).is_null() {
            n += 1;
        }
    }
    n
}
"#;

/// A proc-macro that reads the file it is given while the body compiles.
const SNOOP_CRATE: &str = r#"
extern crate proc_macro;
use proc_macro::TokenStream;
#[proc_macro]
pub fn server_file(input: TokenStream) -> TokenStream {
    let path = input.to_string();
    let path = path.trim_matches('"');
    match std::fs::read_to_string(path) {
        Ok(text) => format!("{:?}", text).parse().unwrap(),
        Err(e) => panic!("plrust-test-snoop cannot read {path}: {e}"),
    }
}
"#;

/// Writes a file back as it was, even when the test fails.
struct RestoreFile(PathBuf, String);

impl Drop for RestoreFile {
    fn drop(&mut self) {
        replace_file(&self.0, &self.1);
    }
}

/// Replace a kit file by rename, as set-up does: the kits of the majors
/// share their files by hard links, and only this one's may change.
fn replace_file(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp-test");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// scripts/prepare-crates.py for the kit under test, with `args`.
fn prepare(args: &[&std::ffi::OsStr]) {
    let status = std::process::Command::new("python3")
        .arg(cluster::scripts().join("prepare-crates.py"))
        .arg("--kit")
        .arg(kit())
        .arg("--work")
        .arg(cluster::scripts().join("../target/plrust-crates"))
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "prepare-crates.py {args:?}");
}

/// Prepares the kit's crates as set-up left them (its default list and
/// what it remembers), dropping this test's, even when the test fails.
struct RestoreKit;

impl Drop for RestoreKit {
    fn drop(&mut self) {
        let default = kit().join("allowed-dependencies.toml");
        prepare(&["--allow-list".as_ref(), default.as_os_str()]);
    }
}

fn write_crate(dir: &Path, name: &str, proc_macro: bool, src: &str) -> PathBuf {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[lib]\nproc-macro = {proc_macro}\n"
        ),
    )
    .unwrap();
    std::fs::write(root.join("src/lib.rs"), src).unwrap();
    root
}

#[test]
fn a_dependency_is_contained_like_a_body() {
    let _alone = SETTING.write().unwrap_or_else(|e| e.into_inner());
    let health = Health::before();
    let dir = cluster::scratch("dep_escape");
    let escape = write_crate(&dir, "plrust-test-escape", false, ESCAPE_CRATE);
    let snoop = write_crate(&dir, "plrust-test-snoop", true, SNOOP_CRATE);
    // The default list and this test's crates, prepared as set-up does.
    let default = std::fs::read_to_string(kit().join("allowed-dependencies.toml")).unwrap();
    let list = dir.join("allow.toml");
    std::fs::write(
        &list,
        format!("{default}\nplrust-test-escape = \"=0.1.0\"\nplrust-test-snoop = \"=0.1.0\"\n"),
    )
    .unwrap();
    cluster::chown_postgres(&dir);
    cluster::chown_postgres(&list);
    // The kit is prepared again without them afterwards.
    let _restore = RestoreKit;
    prepare(&[
        "--allow-list".as_ref(),
        list.as_os_str(),
        "--local-crate".as_ref(),
        escape.as_os_str(),
        "--local-crate".as_ref(),
        snoop.as_os_str(),
    ]);
    // A list the postgres OS user can rewrite, and local crates, are never
    // remembered: a later set-up, as root, would build what they name.
    let remembered = std::fs::read_to_string(kit().join("crates/prepared-from.json")).unwrap();
    let mut c = client();
    set_allow_list(&mut c, Some(list.to_str().unwrap()));

    let deps = "[dependencies]\nplrust-test-escape = \"0.1\"\n[code]\n";
    let attempts = [
        (
            "dep_x_open",
            "Ok(Some(plrust_test_escape::open_file(c\"/etc/passwd\") as i64 + x))",
        ),
        (
            "dep_x_socket",
            "Ok(Some(plrust_test_escape::open_socket() as i64 + x))",
        ),
        (
            "dep_x_fork",
            "Ok(Some(plrust_test_escape::start_process() as i64 + x))",
        ),
    ];
    let mut killed = Vec::new();
    for (name, code) in attempts {
        create(&mut c, name, "x bigint", "bigint", &format!("{deps}{code}"));
        let e = error_of(&mut c, &format!("SELECT {name}(1)"));
        killed.push(format!(
            "{name}: {} {}",
            e.code().code(),
            e.detail().unwrap_or("").contains("SIGSYS")
        ));
    }
    create(
        &mut c,
        "dep_x_environ",
        "x bigint",
        "bigint",
        &format!("{deps}Ok(Some(plrust_test_escape::environment_size() as i64 + x - x))"),
    );
    let environment = outcome(&mut c, "SELECT dep_x_environ(1)");

    // At compile time: the proc-macro runs inside the compile sandbox.
    let conf = format!("{}/postgresql.conf", datadir());
    let snooped = create_error(
        &mut c,
        "dep_x_snoop",
        &format!(
            "[dependencies]\nplrust-test-snoop = \"0.1\"\n[code]\n\
             let conf: &str = plrust_test_snoop::server_file!(\"{conf}\");\n\
             Ok(Some(conf.into()))"
        ),
    );
    set_allow_list(&mut c, None);

    assert_eq!(
        killed,
        [
            "dep_x_open: 38000 true",
            "dep_x_socket: 38000 true",
            "dep_x_fork: 38000 true"
        ]
    );
    assert_eq!(environment, "0");
    assert!(
        !remembered.contains("dep_escape") && remembered.contains("allowed-dependencies.toml"),
        "{remembered}"
    );
    assert_eq!(snooped.code().code(), "42P13", "{snooped:?}");
    let detail = snooped.detail().unwrap();
    assert!(
        detail.contains("cannot read") && detail.contains("Permission denied"),
        "{detail}"
    );
    health.assert_unharmed();
}
