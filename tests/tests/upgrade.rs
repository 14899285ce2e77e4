//! pg_upgrade from PostgreSQL 15 to 18 of a cluster holding plrust
//! functions of every kind: afterwards each one runs, with no step of the
//! user's, from the very code compiled on 15 (no compile runs on 18).
//!
//! It needs both majors, so it is ignored in the per-major runs;
//! scripts/test.sh runs it with `--ignored`, passing
//! PLRUST_TEST_UPGRADE_DIR (a directory of its own) and
//! PLRUST_TEST_UPGRADE_{OLD,NEW}_BIN (the two majors' bin directories).

use std::path::{Path, PathBuf};
use std::process::Command;

use plrust_tests::cluster::Cluster;
use postgres::Client;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run through scripts/test.sh"))
}

const FUNCTIONS: &str = r#"
CREATE EXTENSION plrust;
CREATE FUNCTION up_scalar(x int) RETURNS int STRICT LANGUAGE plrust AS $$
    Ok(Some(x * 2 + 1))
$$;
CREATE FUNCTION up_series(n int) RETURNS SETOF text STRICT LANGUAGE plrust AS $$
    Ok(Some(SetOfIterator::new((1..=n).map(|i| Some(format!("row {i}"))))))
$$;
CREATE TABLE up_item (name text, loud text);
CREATE FUNCTION up_shout() RETURNS trigger LANGUAGE plrust AS $$
    let mut row = trigger.new().unwrap().into_owned();
    let name = row.get_by_name::<String>("name")?.unwrap_or_default();
    row.set_by_name("loud", name.to_uppercase())?;
    Ok(Some(row))
$$;
CREATE TRIGGER up_shout BEFORE INSERT ON up_item FOR EACH ROW EXECUTE FUNCTION up_shout();
CREATE FUNCTION up_longest_step(best text, v text) RETURNS text LANGUAGE plrust AS $$
    Ok(match (best, v) {
        (Some(b), Some(v)) if v.len() > b.len() => Some(v.to_string()),
        (Some(b), _) => Some(b.to_string()),
        (None, v) => v.map(str::to_string),
    })
$$;
CREATE FUNCTION up_longest_final(best text) RETURNS text LANGUAGE plrust AS $$
    Ok(best.map(|b| format!("<{b}>")))
$$;
CREATE AGGREGATE up_longest(text) (sfunc = up_longest_step, stype = text, finalfunc = up_longest_final);
CREATE TABLE up_log (v int);
CREATE PROCEDURE up_record(v int) LANGUAGE plrust AS $$
    Spi::run_with_args("INSERT INTO up_log VALUES ($1)",
        Some(vec![(PgBuiltInOids::INT4OID.oid(), v.into_datum())]))?;
    Ok(Some(()))
$$;
"#;

/// Calls every function (the trigger through an INSERT, the procedure
/// through CALL) and returns what they gave, as text.
fn call_everything(c: &mut Client, round: i32) -> Vec<String> {
    c.batch_execute(&format!(
        "INSERT INTO up_item (name) VALUES ('round {round}'); CALL up_record({round});"
    ))
    .unwrap();
    let queries = [
        "SELECT up_scalar(20)::text".to_string(),
        "SELECT string_agg(s, ',') FROM up_series(3) s".to_string(),
        format!("SELECT loud FROM up_item WHERE name = 'round {round}'"),
        "SELECT up_longest(w) FROM unnest(ARRAY['a', 'plrust', 'abc']) w".to_string(),
        format!("SELECT count(*)::text FROM up_log WHERE v = {round}"),
    ];
    queries
        .iter()
        .map(|q| {
            c.query_one(q.as_str(), &[])
                .unwrap_or_else(|e| panic!("{q}: {e}: {:?}", e.as_db_error()))
                .get(0)
        })
        .collect()
}

/// Each function's stored code: (signature, when it was built, digest).
/// A compile would change the build time; other code, the digest.
fn stored_code(c: &mut Client) -> Vec<(String, String, String)> {
    c.query(
        "SELECT p.oid::regprocedure::text, extract(epoch FROM a.built_at)::text, md5(a.object)
         FROM pg_proc p JOIN plrust.artifacts a ON a.hash = plrust.code_hash(p.oid) ORDER BY 1",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2)))
    .collect()
}

#[test]
#[ignore = "needs PostgreSQL 15 and 18; scripts/test.sh runs it with --ignored"]
fn pg_upgrade_from_15_to_18_keeps_every_function_and_its_compiled_code() {
    let base = PathBuf::from(env("PLRUST_TEST_UPGRADE_DIR"));
    let old_bin = env("PLRUST_TEST_UPGRADE_OLD_BIN");
    let new_bin = env("PLRUST_TEST_UPGRADE_NEW_BIN");
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();

    let old = Cluster::new(base.join("old"), 55470, "15");
    old.script("start");
    old.connect("postgres")
        .batch_execute("CREATE DATABASE upgrade_test")
        .unwrap();
    let mut c = old.connect("upgrade_test");
    c.batch_execute(FUNCTIONS).unwrap();
    let before = call_everything(&mut c, 1);
    assert_eq!(
        before,
        ["41", "row 1,row 2,row 3", "ROUND 1", "<plrust>", "1"],
        "on 15"
    );
    let code_before = stored_code(&mut c);
    assert_eq!(code_before.len(), 6, "{code_before:?}");
    // Debian's 15.20 stamps every column with an attribute option
    // (pg_attver) that the 16.15, 17.11 and 18.6 servers do not know, and
    // pg_upgrade's schema restore then fails on the first table, plrust or
    // not.  README.md ("pg_upgrade") tells DBAs to clear it the same way.
    for db in ["postgres", "template1", "upgrade_test"] {
        old.connect(db)
            .batch_execute(
                "UPDATE pg_catalog.pg_attribute
                 SET attoptions = NULLIF(ARRAY(SELECT o FROM unnest(attoptions) o
                                               WHERE o NOT LIKE 'pg\\_attver=%'), '{}')
                 WHERE attrelid >= 16384 AND attoptions::text LIKE '%pg\\_attver=%'",
            )
            .unwrap();
    }
    drop(c);
    old.script("stop");

    let new = Cluster::new(base.join("new"), 55471, "18");
    new.script("init");
    let upgrade = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(Path::new(&new_bin).join("pg_upgrade"))
        .args(["-b", &old_bin, "-B", &new_bin, "-p", "55472", "-P", "55473"])
        .arg("-d")
        .arg(old.data())
        .arg("-D")
        .arg(new.data())
        // pg_upgrade writes its sockets and scripts in its working directory.
        .current_dir(&new.dir)
        .output()
        .expect("pg_upgrade");
    assert!(
        upgrade.status.success(),
        "pg_upgrade failed:\n{}",
        String::from_utf8_lossy(&upgrade.stdout)
    );

    new.script("start");
    let mut c = new.connect("upgrade_test");
    let version: i32 = c
        .query_one("SELECT current_setting('server_version_num')::int", &[])
        .unwrap()
        .get(0);
    assert!(version / 10000 == 18, "the new cluster runs {version}");
    let after = call_everything(&mut c, 2);
    assert_eq!(
        after,
        ["41", "row 1,row 2,row 3", "ROUND 2", "<plrust>", "1"],
        "on 18"
    );
    // Functions have new oids after pg_upgrade; their code was found by
    // what determines it, and is the code built on 15, unchanged.
    assert_eq!(stored_code(&mut c), code_before, "code was rebuilt on 18");
    // Rows inserted on 15 went through the trigger there and came across.
    let loud: String = c
        .query_one("SELECT loud FROM up_item WHERE name = 'round 1'", &[])
        .unwrap()
        .get(0);
    assert_eq!(loud, "ROUND 1");
}
