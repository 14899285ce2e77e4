//! plrust functions behind PL/Proxy (scripts/plproxy.sh installs it into
//! every major): a proxy database whose PL/Proxy functions call plrust
//! functions of the same name in two partition databases, routed by a hash
//! of an argument or run on all partitions, and the errors the plrust
//! functions raise coming back through the proxy.
//!
//! Each test makes a cluster of its own (the proxy and both partitions are
//! databases of it), so that the tests run in parallel and none depends on
//! another's data.  PL/Proxy connects to the partitions over the cluster's
//! socket with libpq, as any client would: the plrust functions run in
//! ordinary backends of the partition databases, in their own executors.

use plrust_tests::cluster::{bindir, major, scratch, Cluster};
use plrust_tests::error_of;
use postgres::Client;

/// The partition databases, in partition order: PL/Proxy numbers the
/// connection strings p0, p1, ... of its cluster and picks partition
/// `hash & (count - 1)`.
const PARTS: [&str; 2] = ["pp_part0", "pp_part1"];

struct Proxied {
    /// The proxy database's session; dropped before the cluster stops.
    proxy: Client,
    cluster: Cluster,
}

impl Proxied {
    /// A cluster on `port` with a proxy database holding `proxy_functions`
    /// (PL/Proxy functions of cluster 'pp') and the partition databases,
    /// each with plrust, a table `kv (k text, v int)` and
    /// `partition_functions` (plrust functions).
    fn new(name: &str, port: u16, partition_functions: &str, proxy_functions: &str) -> Proxied {
        let major = major();
        assert_plproxy_installed(&major);
        let cluster = Cluster::new(scratch(name).join("node"), port, &major);
        cluster.script("start");
        let mut admin = cluster.connect("postgres");
        for db in ["pp_proxy", PARTS[0], PARTS[1]] {
            admin
                .batch_execute(&format!("CREATE DATABASE {db}"))
                .unwrap();
        }
        for db in PARTS {
            let mut part = cluster.connect(db);
            part.batch_execute(
                "CREATE EXTENSION plrust; CREATE TABLE kv (k text PRIMARY KEY, v int);",
            )
            .unwrap();
            part.batch_execute(partition_functions).unwrap_or_else(|e| {
                panic!("partition functions in {db}: {e}: {:?}", e.as_db_error())
            });
        }
        let socket = cluster.dir.to_str().unwrap();
        assert!(
            !socket.contains(['\'', ' ']),
            "socket directory {socket:?} needs quoting"
        );
        let conn = |db: &str| format!("dbname={db} host={socket} port={port}");
        let mut proxy = cluster.connect("pp_proxy");
        proxy
            .batch_execute(&format!(
                "CREATE EXTENSION plproxy;
                 CREATE SERVER pp FOREIGN DATA WRAPPER plproxy
                   OPTIONS (p0 '{}', p1 '{}');
                 CREATE USER MAPPING FOR PUBLIC SERVER pp;
                 {proxy_functions}",
                conn(PARTS[0]),
                conn(PARTS[1])
            ))
            .unwrap_or_else(|e| panic!("proxy functions: {e}: {:?}", e.as_db_error()));
        Proxied { proxy, cluster }
    }

    /// A session on partition database `db`, bypassing the proxy.
    fn part(&self, db: &str) -> Client {
        self.cluster.connect(db)
    }
}

/// The test cannot run without PL/Proxy; say how to get it rather than
/// fail on CREATE EXTENSION.
fn assert_plproxy_installed(major: &str) {
    let out = std::process::Command::new(bindir(major).join("pg_config"))
        .arg("--sharedir")
        .output()
        .expect("pg_config");
    let share = String::from_utf8(out.stdout).unwrap();
    let control = std::path::Path::new(share.trim()).join("extension/plproxy.control");
    assert!(
        control.exists(),
        "PL/Proxy is not installed in PostgreSQL {major} (no {control:?}): run `bash scripts/plproxy.sh {major}`"
    );
}

/// The keys stored in partition database `db`, read from it directly.
fn keys_on(p: &Proxied, db: &str) -> Vec<String> {
    p.part(db)
        .query("SELECT k FROM kv ORDER BY k", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn run_on_hash_routes_each_call_to_its_partition() {
    let mut p = Proxied::new(
        "plproxy_hash",
        55455,
        // The partition's answer names the database it ran in, so a result
        // shows where the call went as well as that it came back.
        "CREATE FUNCTION kv_put(k text, v int) RETURNS text STRICT LANGUAGE plrust AS $$
             Spi::run_with_args(
                 \"INSERT INTO kv VALUES ($1, $2)\",
                 Some(vec![(PgBuiltInOids::TEXTOID.oid(), k.into_datum()), (PgBuiltInOids::INT4OID.oid(), v.into_datum())]),
             )?;
             let db = Spi::get_one::<String>(\"SELECT current_database()::text\")?.unwrap();
             Ok(Some(format!(\"{k}={} on {db}\", v * 10)))
         $$;",
        "CREATE FUNCTION kv_put(k text, v int) RETURNS text LANGUAGE plproxy AS $$
             CLUSTER 'pp';
             RUN ON hashtext(k);
         $$;",
    );
    let mut expected: [Vec<String>; 2] = Default::default();
    for i in 0..16i32 {
        let key = format!("key-{i:02}");
        // The partition PL/Proxy must pick, computed independently of it.
        let part: i32 = p
            .proxy
            .query_one("SELECT hashtext($1) & 1", &[&key])
            .unwrap()
            .get(0);
        let got: String = p
            .proxy
            .query_one("SELECT kv_put($1, $2)", &[&key, &i])
            .unwrap_or_else(|e| panic!("kv_put({key}): {e}: {:?}", e.as_db_error()))
            .get(0);
        assert_eq!(got, format!("{key}={} on {}", i * 10, PARTS[part as usize]));
        expected[part as usize].push(key);
    }
    // With every key on one partition the routing would not be shown.
    assert!(expected.iter().all(|keys| !keys.is_empty()), "{expected:?}");
    // The rows the plrust function wrote are on that partition only.
    for (db, keys) in PARTS.iter().zip(&expected) {
        assert_eq!(&keys_on(&p, db), keys, "rows in {db}");
    }
}

#[test]
fn run_on_all_merges_the_sets_of_every_partition() {
    let mut p = Proxied::new(
        "plproxy_all",
        55456,
        "CREATE FUNCTION kv_rows(min_v int) RETURNS SETOF text STRICT LANGUAGE plrust AS $$
             let db = Spi::get_one::<String>(\"SELECT current_database()::text\")?.unwrap();
             let mut rows = Vec::new();
             Spi::connect(|client| {
                 let table = client.select(\"SELECT k, v FROM kv WHERE v >= $1 ORDER BY k\", None,
                     Some(vec![(PgBuiltInOids::INT4OID.oid(), min_v.into_datum())]))?;
                 for row in table {
                     let k = row[\"k\"].value::<String>()?.unwrap();
                     let v = row[\"v\"].value::<i32>()?.unwrap();
                     rows.push(Some(format!(\"{k}={v}@{db}\")));
                 }
                 Ok::<_, spi::Error>(())
             })?;
             Ok(Some(SetOfIterator::new(rows)))
         $$;",
        "CREATE FUNCTION kv_rows(min_v int) RETURNS SETOF text LANGUAGE plproxy AS $$
             CLUSTER 'pp';
             RUN ON ALL;
         $$;",
    );
    // Data written straight into the partitions, so that this test shows
    // only the fan-out and the merge.
    p.part(PARTS[0])
        .batch_execute("INSERT INTO kv VALUES ('a', 1), ('b', 2), ('c', 30)")
        .unwrap();
    p.part(PARTS[1])
        .batch_execute("INSERT INTO kv VALUES ('d', 4), ('e', 50)")
        .unwrap();
    let rows = |proxy: &mut Client, min_v: i32| -> Vec<String> {
        proxy
            .query("SELECT r FROM kv_rows($1) r ORDER BY r", &[&min_v])
            .unwrap_or_else(|e| panic!("kv_rows({min_v}): {e}: {:?}", e.as_db_error()))
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert_eq!(
        rows(&mut p.proxy, 0),
        [
            "a=1@pp_part0",
            "b=2@pp_part0",
            "c=30@pp_part0",
            "d=4@pp_part1",
            "e=50@pp_part1"
        ]
    );
    // The argument reaches every partition.
    assert_eq!(rows(&mut p.proxy, 10), ["c=30@pp_part0", "e=50@pp_part1"]);
    // A partition with no rows adds none.
    assert_eq!(rows(&mut p.proxy, 40), ["e=50@pp_part1"]);
    assert!(rows(&mut p.proxy, 100).is_empty());
}

#[test]
fn partition_errors_come_back_through_the_proxy() {
    let mut p = Proxied::new(
        "plproxy_errors",
        55457,
        "CREATE FUNCTION kv_fail(how text) RETURNS int STRICT LANGUAGE plrust AS $$
             let db = Spi::get_one::<String>(\"SELECT current_database()::text\")?.unwrap();
             match how {
                 \"err\" => Err(format!(\"refused on {db}\").into()),
                 \"panic\" => panic!(\"gave up on {db}\"),
                 \"ereport\" => {
                     ereport!(PgLogLevel::ERROR, PgSqlErrorCode::ERRCODE_CHECK_VIOLATION,
                         format!(\"checked on {db}\"), \"the partition's detail\");
                     Ok(None)
                 }
                 _ => Ok(Some(7)),
             }
         $$;",
        // A fixed partition, so that the message names a known database.
        "CREATE FUNCTION kv_fail(how text) RETURNS int LANGUAGE plproxy AS $$
             CLUSTER 'pp';
             RUN ON 1;
         $$;",
    );
    // PL/Proxy raises the remote error as its own, keeping the SQLSTATE and
    // prefixing the message with the function and the partition database;
    // the remote detail is kept too.
    let prefix = "public.kv_fail(1): [pp_part1] REMOTE ERROR: ";

    let e = error_of(&mut p.proxy, "SELECT kv_fail('err')");
    assert_eq!(
        (e.code().code(), e.message()),
        ("22000", format!("{prefix}refused on pp_part1").as_str()),
        "{e:?}"
    );

    let e = error_of(&mut p.proxy, "SELECT kv_fail('panic')");
    assert_eq!(e.code().code(), "XX000", "{e:?}");
    assert!(
        e.message() == format!("{prefix}gave up on pp_part1"),
        "{e:?}"
    );

    let e = error_of(&mut p.proxy, "SELECT kv_fail('ereport')");
    assert_eq!(
        (e.code().code(), e.message(), e.detail()),
        (
            "23514",
            format!("{prefix}checked on pp_part1").as_str(),
            Some("Remote detail: the partition's detail")
        ),
        "{e:?}"
    );

    // After three remote errors the proxy session and its connection to
    // the partition still serve.
    let ok: i32 = p
        .proxy
        .query_one("SELECT kv_fail('none')", &[])
        .unwrap_or_else(|e| panic!("{e}: {:?}", e.as_db_error()))
        .get(0);
    assert_eq!(ok, 7);
}
