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
