//! `DO $$ ... $$ LANGUAGE plrust`: compiled once per distinct block in a
//! session, run as the current role, with SPI and messages.

use plrust_tests::{client, client_as, client_with_notices, ensure_role, error_of, one};

#[test]
fn do_blocks_run_with_spi_and_messages() {
    let (mut c, notices) = client_with_notices();
    c.batch_execute(
        "DROP TABLE IF EXISTS do_t; CREATE TABLE do_t (v int);
         DO $$
            for i in 1..=3 {
                Spi::run_with_args(\"INSERT INTO do_t VALUES ($1)\", Some(vec![(PgBuiltInOids::INT4OID.oid(), i.into_datum())]))?;
            }
            notice!(\"inserted {}\", Spi::get_one::<i64>(\"SELECT count(*) FROM do_t\")?.unwrap());
            Ok(())
         $$ LANGUAGE plrust;",
    )
    .unwrap();
    assert_eq!(one::<i64>(&mut c, "SELECT sum(v) FROM do_t"), 6);
    assert!(notices
        .lock()
        .unwrap()
        .iter()
        .any(|n| n.message() == "inserted 3"));
    // The same block again is not compiled again.
    let start = std::time::Instant::now();
    c.batch_execute("DO $$ notice!(\"again\"); Ok(()) $$ LANGUAGE plrust")
        .unwrap();
    let first = start.elapsed();
    let start = std::time::Instant::now();
    c.batch_execute("DO $$ notice!(\"again\"); Ok(()) $$ LANGUAGE plrust")
        .unwrap();
    assert!(
        start.elapsed() * 3 < first,
        "{:?} then {:?}",
        first,
        start.elapsed()
    );
}

#[test]
fn do_blocks_report_errors_like_functions() {
    let mut c = client();
    let e = error_of(
        &mut c,
        "DO $$ if true { return Err(\"nope\".into()); } Ok(()) $$ LANGUAGE plrust",
    );
    assert_eq!((e.code().code(), e.message()), ("22000", "nope"));
    let e = error_of(
        &mut c,
        "DO $$ let x: i32 = \"s\"; Ok(()) $$ LANGUAGE plrust",
    );
    assert_eq!(e.code().code(), "42P13", "{}", e.message());
    let e = error_of(
        &mut c,
        "DO $$ std::env::var(\"HOME\"); Ok(()) $$ LANGUAGE plrust",
    );
    assert_eq!(e.code().code(), "42P13", "{}", e.message());
}

#[test]
fn do_blocks_run_as_the_current_role() {
    let mut c = client();
    ensure_role(&mut c, "do_guest");
    c.batch_execute(
        "DROP TABLE IF EXISTS do_private; CREATE TABLE do_private (v int);
         GRANT USAGE ON LANGUAGE plrust TO do_guest;",
    )
    .unwrap();
    let mut guest = client_as("do_guest");
    let e = error_of(
        &mut guest,
        "DO $$ Spi::run(\"SELECT * FROM do_private\")?; Ok(()) $$ LANGUAGE plrust",
    );
    assert_eq!(e.code().code(), "42501", "{}", e.message());
    let me: String = one(&mut guest, "SELECT current_user::text");
    assert_eq!(me, "do_guest");
}
