//! SPI from a body runs in the calling backend, as the calling role:
//! reads, writes, arguments, every result type, SQL errors as `Err`,
//! plrust calling plrust, recursion to a clear limit, and results larger
//! than the channel and than the executor's memory.

use std::time::{Duration, Instant};

use plrust_tests::{client, client_as, ensure_role, error_of, one, Health};

#[test]
fn get_one_run_and_arguments() {
    let mut c = client();
    c.batch_execute(
        "DROP TABLE IF EXISTS spi_log;
         CREATE TABLE spi_log (n int, s text);
         CREATE OR REPLACE FUNCTION spi_basic(n int, s text) RETURNS bigint STRICT LANGUAGE plrust AS $$
            Spi::run_with_args(
                \"INSERT INTO spi_log VALUES ($1, $2)\",
                Some(vec![(PgBuiltInOids::INT4OID.oid(), n.into_datum()), (PgBuiltInOids::TEXTOID.oid(), s.into_datum())]),
            )?;
            Spi::run(\"INSERT INTO spi_log VALUES (0, 'plain')\")?;
            let forty_two = Spi::get_one::<i32>(\"SELECT 42\")?.unwrap();
            let doubled = Spi::get_one_with_args::<i64>(
                \"SELECT $1::bigint * 2\",
                vec![(PgBuiltInOids::INT4OID.oid(), n.into_datum())],
            )?;
            let none = Spi::get_one::<String>(\"SELECT NULL::text\")?;
            assert!(none.is_none());
            Ok(doubled.map(|d| d + forty_two as i64))
         $$;",
    )
    .unwrap();
    assert_eq!(one::<i64>(&mut c, "SELECT spi_basic(5, 'five')"), 52);
    let rows: i64 = one(
        &mut c,
        "SELECT count(*) FROM spi_log WHERE (n, s) IN ((5, 'five'), (0, 'plain'))",
    );
    assert_eq!(rows, 2);
}

#[test]
fn connect_select_and_update_with_typed_rows() {
    let mut c = client();
    c.batch_execute(
        "DROP TABLE IF EXISTS spi_items;
         CREATE TABLE spi_items (id bigint, name text, price numeric, tags text[], day date, seen timestamptz);
         INSERT INTO spi_items VALUES
           (1, 'apple', 1.50, '{red,fruit}', '2024-01-02', '2024-01-02 03:04:05+00'),
           (2, NULL, NULL, NULL, NULL, NULL);
         CREATE OR REPLACE FUNCTION spi_describe() RETURNS text LANGUAGE plrust AS $$
            let mut out = Vec::new();
            Spi::connect(|mut client| {
                let rows = client.select(\"SELECT * FROM spi_items ORDER BY id\", None, None)?;
                for row in rows {
                    let id = row[\"id\"].value::<i64>()?;
                    let name = row.get_by_name::<String>(\"name\")?;
                    let price = row.get::<AnyNumeric>(3)?;
                    let tags = row[\"tags\"].value::<Vec<Option<String>>>()?;
                    let day = row[\"day\"].value::<Date>()?;
                    let seen = row[\"seen\"].value::<TimestampWithTimeZone>()?;
                    out.push(format!(\"{id:?} {name:?} {} {tags:?} {} {}\",
                        price.map(|p| p.to_string()).unwrap_or_default(),
                        day.map(|d| d.to_string()).unwrap_or_default(),
                        seen.map(|s| s.to_string()).unwrap_or_default()));
                }
                let updated = client.update(\"UPDATE spi_items SET name = 'nameless' WHERE name IS NULL RETURNING id\", None, None)?;
                out.push(format!(\"updated {}\", updated.processed()));
                let first = client.select(\"SELECT name FROM spi_items WHERE id = $1\", None,
                    Some(vec![(PgBuiltInOids::INT8OID.oid(), 2i64.into_datum())]))?.first();
                out.push(format!(\"{:?}\", first.get_one::<String>()?));
                Ok::<_, spi::Error>(())
            })?;
            Ok(Some(out.join(\"; \")))
         $$;",
    )
    .unwrap();
    let got: String = one(&mut c, "SELECT spi_describe()");
    assert_eq!(
        got,
        "Some(1) Some(\"apple\") 1.50 Some([Some(\"red\"), Some(\"fruit\")]) 2024-01-02 2024-01-02 03:04:05+00; \
         Some(2) None  None  ; updated 1; Some(\"nameless\")"
    );
}

#[test]
fn sql_errors_are_err_and_the_transaction_goes_on() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION spi_caught() RETURNS text LANGUAGE plrust AS $$
            let e = Spi::get_one::<i32>(\"SELECT 1/0\").unwrap_err();
            let missing = Spi::run(\"SELECT * FROM no_such_table_anywhere\").unwrap_err();
            // The transaction is still usable after both.
            let after = Spi::get_one::<i32>(\"SELECT 7\")?.unwrap();
            Ok(Some(format!(\"{e} | {missing} | {after}\")))
         $$;
         CREATE OR REPLACE FUNCTION spi_propagated() RETURNS int LANGUAGE plrust AS $$
            Spi::run(\"SELECT 1/0\")?;
            Ok(Some(1))
         $$;",
    )
    .unwrap();
    let got: String = one(&mut c, "SELECT spi_caught()");
    assert_eq!(
        got,
        "division by zero | relation \"no_such_table_anywhere\" does not exist | 7"
    );
    // `?` keeps the query's SQLSTATE.
    let e = error_of(&mut c, "SELECT spi_propagated()");
    assert_eq!(
        (e.code().code(), e.message()),
        ("22012", "division by zero")
    );
    // A caught error inside an explicit transaction leaves it open.
    c.batch_execute("BEGIN; SELECT spi_caught();").unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
    c.batch_execute("COMMIT").unwrap();
}

#[test]
fn queries_run_with_the_callers_privileges() {
    let mut c = client();
    ensure_role(&mut c, "spi_alice");
    ensure_role(&mut c, "spi_bob");
    c.batch_execute(
        "DROP TABLE IF EXISTS spi_secret, spi_notes;
         CREATE TABLE spi_secret (v int);
         INSERT INTO spi_secret VALUES (1);
         CREATE TABLE spi_notes (owner name, note text);
         INSERT INTO spi_notes VALUES ('spi_alice', 'a1'), ('spi_alice', 'a2'), ('spi_bob', 'b1');
         ALTER TABLE spi_notes ENABLE ROW LEVEL SECURITY;
         CREATE POLICY mine ON spi_notes USING (owner = current_user);
         GRANT SELECT ON spi_notes TO spi_alice, spi_bob;
         CREATE OR REPLACE FUNCTION spi_read_secret() RETURNS int LANGUAGE plrust AS $$
            Spi::get_one::<i32>(\"SELECT v FROM spi_secret\").map_err(Into::into)
         $$;
         CREATE OR REPLACE FUNCTION spi_read_secret_definer() RETURNS int LANGUAGE plrust SECURITY DEFINER AS $$
            Spi::get_one::<i32>(\"SELECT v FROM spi_secret\").map_err(Into::into)
         $$;
         CREATE OR REPLACE FUNCTION spi_count_notes() RETURNS bigint LANGUAGE plrust AS $$
            Spi::get_one::<i64>(\"SELECT count(*) FROM spi_notes\").map_err(Into::into)
         $$;
         GRANT EXECUTE ON FUNCTION spi_read_secret(), spi_read_secret_definer(), spi_count_notes() TO spi_alice, spi_bob;",
    )
    .unwrap();
    let mut alice = client_as("spi_alice");
    let e = error_of(&mut alice, "SELECT spi_read_secret()");
    assert_eq!(e.code().code(), "42501", "{}", e.message());
    assert_eq!(
        one::<i32>(&mut alice, "SELECT spi_read_secret_definer()"),
        1
    );
    // Row-level security sees the caller.
    assert_eq!(one::<i64>(&mut alice, "SELECT spi_count_notes()"), 2);
    let mut bob = client_as("spi_bob");
    assert_eq!(one::<i64>(&mut bob, "SELECT spi_count_notes()"), 1);
    // Also when one session changes role between calls (statements are
    // prepared once per session: their plans must follow the role).
    c.batch_execute("SET ROLE spi_alice").unwrap();
    assert_eq!(one::<i64>(&mut c, "SELECT spi_count_notes()"), 2);
    c.batch_execute("SET ROLE spi_bob").unwrap();
    assert_eq!(one::<i64>(&mut c, "SELECT spi_count_notes()"), 1);
    let e = error_of(&mut c, "SELECT spi_read_secret()");
    assert_eq!(e.code().code(), "42501", "{}", e.message());
    c.batch_execute("RESET ROLE").unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT spi_read_secret()"), 1);
    // So does search_path.
    c.batch_execute(
        "DROP SCHEMA IF EXISTS spi_a CASCADE; DROP SCHEMA IF EXISTS spi_b CASCADE;
         CREATE SCHEMA spi_a; CREATE SCHEMA spi_b;
         CREATE TABLE spi_a.t AS SELECT 'from a'::text AS v;
         CREATE TABLE spi_b.t AS SELECT 'from b'::text AS v;
         CREATE OR REPLACE FUNCTION public.spi_which() RETURNS text LANGUAGE plrust AS $$
            Spi::get_one::<String>(\"SELECT v FROM t\").map_err(Into::into)
         $$;",
    )
    .unwrap();
    c.batch_execute("SET search_path = spi_a, public").unwrap();
    assert_eq!(one::<String>(&mut c, "SELECT spi_which()"), "from a");
    c.batch_execute("SET search_path = spi_b, public").unwrap();
    assert_eq!(one::<String>(&mut c, "SELECT spi_which()"), "from b");
}

#[test]
fn stable_functions_cannot_write() {
    let mut c = client();
    c.batch_execute(
        "DROP TABLE IF EXISTS spi_ro; CREATE TABLE spi_ro (v int);
         CREATE OR REPLACE FUNCTION spi_stable_write() RETURNS int STABLE LANGUAGE plrust AS $$
            Spi::run(\"INSERT INTO spi_ro VALUES (1)\")?;
            Ok(Some(1))
         $$;",
    )
    .unwrap();
    let e = error_of(&mut c, "SELECT spi_stable_write()");
    assert_eq!(e.code().code(), "0A000", "{}", e.message());
    assert_eq!(one::<i64>(&mut c, "SELECT count(*) FROM spi_ro"), 0);
}

#[test]
fn large_results_stream_through_a_small_executor() {
    let mut c = client();
    // 400 MB of rows, read by an executor limited to 128 MB: only a
    // stream of batches can do that.
    c.batch_execute(
        "SET plrust.executor_memory_limit = '128MB';
         CREATE OR REPLACE FUNCTION spi_stream(n int) RETURNS bigint STRICT LANGUAGE plrust AS $$
            let mut total = 0i64;
            let mut rows = 0i64;
            Spi::connect(|client| {
                let table = client.select(
                    \"SELECT g, repeat('x', 200) AS pad FROM generate_series(1, $1) g\", None,
                    Some(vec![(PgBuiltInOids::INT4OID.oid(), n.into_datum())]))?;
                for row in table {
                    total += row[\"g\"].value::<i32>()?.unwrap() as i64;
                    rows += row[\"pad\"].value::<String>()?.map_or(0, |p| p.len() as i64 / 200);
                }
                Ok::<_, spi::Error>(())
            })?;
            Ok(Some(total + rows))
         $$;",
    )
    .unwrap();
    let n = 2_000_000i64;
    assert_eq!(
        one::<i64>(&mut c, &format!("SELECT spi_stream({n})")),
        n * (n + 1) / 2 + n
    );
    // A limit applies to the rows streamed.
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION spi_limited() RETURNS bigint LANGUAGE plrust AS $$
            Spi::connect(|client| {
                let t = client.select(\"SELECT g FROM generate_series(1, 100000) g\", Some(2500), None)?;
                Ok(Some(t.count() as i64))
            })
         $$;",
    )
    .unwrap();
    assert_eq!(one::<i64>(&mut c, "SELECT spi_limited()"), 2500);
}

#[test]
fn a_cancel_during_spi_is_not_caught_by_the_body() {
    let health = Health::before();
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION spi_sleepy() RETURNS text LANGUAGE plrust AS $$
            match Spi::run(\"SELECT pg_sleep(30)\") {
                Ok(()) => Ok(Some(\"slept\".into())),
                Err(e) => Ok(Some(format!(\"caught {e}\"))),
            }
         $$;",
    )
    .unwrap();
    let start = Instant::now();
    let e = error_of(
        &mut c,
        "SET statement_timeout = '300ms'; SELECT spi_sleepy()",
    );
    assert_eq!(e.code().code(), "57014", "{}", e.message());
    assert!(start.elapsed() < Duration::from_secs(5));
    c.batch_execute("RESET statement_timeout").unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
    health.assert_unharmed();
}

#[test]
fn requests_and_answers_larger_than_the_channel_are_clear_errors() {
    let health = Health::before();
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION spi_huge_arg() RETURNS bigint LANGUAGE plrust AS $$
            let big = \"x\".repeat(20 << 20);
            Ok(Spi::get_one_with_args::<i64>(\"SELECT length($1)::bigint\",
                vec![(PgBuiltInOids::TEXTOID.oid(), big.into_datum())])?)
         $$;
         CREATE OR REPLACE FUNCTION spi_huge_answer() RETURNS bigint LANGUAGE plrust AS $$
            Spi::connect(|mut client| {
                let t = client.update(\"SELECT repeat('y', 1000) FROM generate_series(1, 20000)\", None, None)?;
                Ok(Some(t.processed() as i64))
            })
         $$;",
    )
    .unwrap();
    let e = error_of(&mut c, "SELECT spi_huge_arg()");
    assert_eq!(e.code().code(), "XX000");
    assert!(
        e.message().contains("does not fit the channel"),
        "{}",
        e.message()
    );
    let e = error_of(&mut c, "SELECT spi_huge_answer()");
    assert_eq!(e.code().code(), "54000", "{}", e.message());
    assert!(e.hint().unwrap().contains("select"), "{e:?}");
    assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
    health.assert_unharmed();
}
