//! The extension's versions: `ALTER EXTENSION plrust UPDATE` from every
//! released version keeps functions working, and a library newer than a
//! database's extension says what to run instead of failing obscurely.

use plrust_tests::{client, connect_to, error_of, one};

/// A new database of the test cluster, with plrust at `version`.
fn database_with(name: &str, version: &str) -> postgres::Client {
    let mut admin = client();
    // One statement each: neither may run in a transaction block.
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let mut c = connect_to(
        &std::env::var("PLRUST_TEST_HOST").unwrap(),
        &std::env::var("PLRUST_TEST_PORT").unwrap(),
        name,
    );
    c.batch_execute(&format!("CREATE EXTENSION plrust VERSION '{version}'"))
        .unwrap();
    c
}

#[test]
fn update_from_0_1_0_keeps_functions_working() {
    let mut c = database_with("plrust_ext_update", "0.1.0");
    // Made under 0.1.0 without compiling (as a restore does).
    c.batch_execute(
        "SET check_function_bodies = off;
         CREATE FUNCTION ext_double(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x * 2)) $$;
         RESET check_function_bodies;",
    )
    .unwrap();
    // This library's tables are 0.2.0's: it says so.
    let e = error_of(&mut c, "SELECT ext_double(21)");
    assert_eq!(e.code().code(), "55000");
    assert_eq!(
        e.message(),
        format!(
            "the plrust extension in this database is version 0.1.0, its library is version {}",
            env!("CARGO_PKG_VERSION")
        )
    );
    assert_eq!(
        e.hint(),
        Some("Run ALTER EXTENSION plrust UPDATE in this database.")
    );
    c.batch_execute("ALTER EXTENSION plrust UPDATE").unwrap();
    assert_eq!(
        one::<String>(
            &mut c,
            "SELECT extversion FROM pg_extension WHERE extname = 'plrust'"
        ),
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(one::<i32>(&mut c, "SELECT ext_double(21)"), 42);
    c.batch_execute(
        "CREATE FUNCTION ext_triple(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x * 3)) $$",
    )
    .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT ext_triple(ext_double(7))"), 42);
    assert_eq!(
        one::<i64>(&mut c, "SELECT count(built_at) FROM plrust.functions"),
        2
    );
}

#[test]
fn the_control_file_installs_the_librarys_version() {
    // The library checks the database's extension against its own
    // version; a control file that installs another one would make every
    // new database refuse its functions.
    let control = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sql/plrust.control"),
    )
    .unwrap();
    assert!(
        control.contains(&format!(
            "default_version = '{}'",
            env!("CARGO_PKG_VERSION")
        )),
        "{control}"
    );
}

/// The extension's members, described, in order.
fn members(c: &mut postgres::Client) -> Vec<String> {
    c.query(
        "SELECT pg_describe_object(d.classid, d.objid, d.objsubid) FROM pg_depend d
         JOIN pg_extension e ON e.oid = d.refobjid
         WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname = 'plrust'
         ORDER BY 1",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| r.get(0))
    .collect()
}

#[test]
fn update_from_0_2_0_gives_what_a_fresh_install_has_and_keeps_functions_working() {
    let mut c = database_with("plrust_ext_from_020", "0.2.0");
    assert_eq!(
        one::<String>(
            &mut c,
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'plrust'"
        ),
        "plrust"
    );
    // Made under 0.2.0 (a restore, bodies unchecked): this library
    // compiles them when the extension is updated, not before.
    c.batch_execute(
        "SET check_function_bodies = off;
         CREATE FUNCTION ext2_double(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x * 2)) $$;
         CREATE FUNCTION ext2_rows(n int) RETURNS SETOF int STRICT LANGUAGE plrust AS $$
             Ok(Some(SetOfIterator::new((1..=n).map(Some))))
         $$;
         RESET check_function_bodies;",
    )
    .unwrap();
    c.batch_execute("ALTER EXTENSION plrust UPDATE").unwrap();
    // No call compiles: the update built every function's code.
    assert_eq!(
        one::<i64>(&mut c, "SELECT count(built_at) FROM plrust.functions"),
        2
    );
    let mut reader = c;
    reader.batch_execute("BEGIN READ ONLY").unwrap();
    assert_eq!(one::<i32>(&mut reader, "SELECT ext2_double(21)"), 42);
    assert_eq!(
        one::<i64>(&mut reader, "SELECT sum(r) FROM ext2_rows(4) r"),
        10
    );
    reader.batch_execute("COMMIT").unwrap();

    // The same objects as a fresh install, the schema among them.
    let mut fresh = database_with("plrust_ext_fresh", env!("CARGO_PKG_VERSION"));
    let updated = members(&mut reader);
    assert!(
        updated.contains(&"schema plrust".to_string()),
        "{updated:?}"
    );
    assert_eq!(updated, members(&mut fresh));
    for c in [&mut reader, &mut fresh] {
        assert_eq!(
            one::<String>(c, "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'plrust'"),
            "pg_catalog"
        );
    }
}

#[test]
fn drop_extension_takes_its_schema_and_a_database_owner_can_create_it() {
    let mut c = database_with("plrust_ext_drop", env!("CARGO_PKG_VERSION"));
    c.batch_execute("DROP EXTENSION plrust").unwrap();
    assert!(!one::<bool>(
        &mut c,
        "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = 'plrust')"
    ));
    // Trusted: the database's owner, no superuser, creates it.
    c.batch_execute(
        "DO $$ BEGIN
           IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ext_db_owner') THEN
             CREATE ROLE ext_db_owner LOGIN;
           END IF;
         END $$;
         ALTER DATABASE plrust_ext_drop OWNER TO ext_db_owner;",
    )
    .unwrap();
    let mut owner = plrust_tests::connect_as(
        &std::env::var("PLRUST_TEST_HOST").unwrap(),
        &std::env::var("PLRUST_TEST_PORT").unwrap(),
        "plrust_ext_drop",
        "ext_db_owner",
    );
    assert!(!one::<bool>(
        &mut owner,
        "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
    ));
    owner
        .batch_execute(
            "CREATE EXTENSION plrust;
             CREATE FUNCTION ext_own(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x + 1)) $$;",
        )
        .unwrap();
    assert_eq!(one::<i32>(&mut owner, "SELECT ext_own(1)"), 2);
    // It owns the extension; the objects stay the bootstrap superuser's.
    assert_eq!(
        one::<String>(
            &mut owner,
            "SELECT extowner::regrole::text FROM pg_extension WHERE extname = 'plrust'"
        ),
        "ext_db_owner"
    );
    let e = error_of(&mut owner, "SELECT count(*) FROM plrust.artifacts");
    assert_eq!(e.code().code(), "42501");
}

#[test]
fn drop_database_does_not_wait_for_an_idle_pool() {
    // DROP DATABASE waits until every process attached to shared memory
    // has absorbed a ProcSignalBarrier; the pool's supervisor is one of
    // them, and must absorb it while it has nothing else to do (a hang
    // here shows in the server log as "still waiting for backend with PID
    // ... to accept ProcSignalBarrier").
    let name = "plrust_ext_dropdb";
    let mut c = database_with(name, env!("CARGO_PKG_VERSION"));
    c.batch_execute(
        "CREATE FUNCTION ext_dropdb(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x)) $$",
    )
    .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT ext_dropdb(7)"), 7);
    drop(c);
    // Let the supervisor settle: nothing for it to start, reap or log.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let mut admin = client();
    admin
        .batch_execute("SET statement_timeout = '30s'")
        .unwrap();
    let start = std::time::Instant::now();
    let dropped = admin.batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"));
    let took = start.elapsed();
    assert!(
        dropped.is_ok(),
        "DROP DATABASE after {took:?}: {:?}",
        dropped.unwrap_err().as_db_error()
    );
    assert!(
        took < std::time::Duration::from_secs(10),
        "DROP DATABASE took {took:?}"
    );
}
