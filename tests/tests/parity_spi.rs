//! PL/Rust 1.2.8's SPI and trigger surface, called as PL/Rust bodies call
//! it: `Spi::run_with_args` with `x.into_datum()` (a `pg_sys::Datum`),
//! `Spi::explain`, the tuple table's pgrx position (`first()`, `next()`,
//! `rewind()`, `len(&self)`, `get_heap_tuple()`), `SpiCursor`, and the
//! trigger's `TriggerEvent` with pgrx's lifetimes spelled out.

use plrust_tests::{client, client_with_notices, error_of, one, take_messages};

#[test]
fn run_with_args_takes_into_datum_and_explain_returns_the_plan() {
    let mut c = client();
    c.batch_execute(
        r#"DROP TABLE IF EXISTS parity_spi_t;
         CREATE TABLE parity_spi_t (v int);
         CREATE OR REPLACE FUNCTION parity_spi_run_explain() RETURNS text LANGUAGE plrust AS $$
            let five: Option<pg_sys::Datum> = 5.into_datum();
            Spi::run_with_args("INSERT INTO parity_spi_t VALUES ($1)",
                Some(vec![(PgBuiltInOids::INT4OID.oid(), five)]))?;
            Spi::run_with_args("INSERT INTO parity_spi_t VALUES (6)", None)?;
            let sum = Spi::get_one::<i64>("SELECT sum(v) FROM parity_spi_t")?;
            let plan: pgrx::Json = Spi::explain("SELECT v FROM parity_spi_t")?;
            let node = plan.0[0]["Plan"]["Node Type"].as_str().unwrap_or("?").to_string();
            let with_args = Spi::explain_with_args("SELECT $1::int + 1",
                Some(vec![(PgBuiltInOids::INT4OID.oid(), 1.into_datum())]))?;
            let node2 = with_args.0[0]["Plan"]["Node Type"].as_str().unwrap_or("?").to_string();
            Ok(Some(format!("{sum:?} {node} {node2}")))
         $$;"#,
    )
    .unwrap();
    assert_eq!(
        one::<String>(&mut c, "SELECT parity_spi_run_explain()"),
        "Some(11) Seq Scan Result"
    );
}

#[test]
fn a_tuple_table_has_pgrx_positions() {
    let mut c = client();
    c.batch_execute(
        r#"CREATE OR REPLACE FUNCTION parity_spi_positions() RETURNS text LANGUAGE plrust AS $$
            // PL/Rust's spellings, elided and explicit.
            fn count(t: &SpiTupleTable) -> usize { t.len() }
            fn numbers<'a>(c: &SpiClient<'a>) -> spi::Result<SpiTupleTable<'a>> {
                c.select("SELECT g, g::text AS s FROM generate_series(1, 3) g", None, None)
            }
            let mut out = Vec::new();
            Spi::connect(|client| {
                let t = numbers(&client)?;
                out.push(format!("len={} empty={} cols={} name2={} oid1={:?}",
                    count(&t), t.is_empty(), t.columns()?, t.column_name(2)?,
                    t.column_type_oid(1)? == PgBuiltInOids::INT4OID.oid()));
                // Before the first row there is no current row.
                out.push(format!("before={:?}", t.get_one::<i32>().is_err()));
                let mut t = t.first();
                out.push(format!("first={:?} datum={}", t.get_two::<i32, String>()?,
                    t.get_datum_by_ordinal(1)?.is_some()));
                // As in pgrx: first() is row 1, so next() is row 2, and the
                // table's getters follow the iterator.
                let second = t.next().unwrap();
                let heap = t.get_heap_tuple()?.unwrap();
                out.push(format!("next={:?} current={:?} heap={:?} cols={} oid={}",
                    second.get::<i32>(1)?, t.get_one::<i32>()?, heap.get_by_name::<String>("s")?,
                    heap.columns(), heap.get_datum_by_ordinal(2)?.oid().as_u32()));
                let rest: Vec<i32> = t.by_ref().map(|r| r["g"].value::<i32>().unwrap().unwrap()).collect();
                out.push(format!("rest={rest:?} after={:?}", t.get_one::<i32>().is_err()));
                let again: Vec<i32> = t.rewind().map(|r| r[1].value::<i32>().unwrap().unwrap()).collect();
                out.push(format!("rewound={again:?}"));
                Ok::<_, spi::Error>(())
            })?;
            Ok(Some(out.join("; ")))
         $$;"#,
    )
    .unwrap();
    assert_eq!(
        one::<String>(&mut c, "SELECT parity_spi_positions()"),
        "len=3 empty=false cols=2 name2=s oid1=true; before=true; \
         first=(Some(1), Some(\"1\")) datum=true; \
         next=Some(2) current=Some(2) heap=Some(\"2\") cols=2 oid=25; \
         rest=[3] after=true; rewound=[1, 2, 3]"
    );
}

#[test]
fn len_of_a_statement_is_what_it_processed() {
    let mut c = client();
    c.batch_execute(
        r#"DROP TABLE IF EXISTS parity_spi_len;
         CREATE TABLE parity_spi_len (v int);
         CREATE OR REPLACE FUNCTION parity_spi_lens() RETURNS text LANGUAGE plrust AS $$
            Spi::connect(|mut client| {
                let inserted = client.update("INSERT INTO parity_spi_len SELECT generate_series(1, 4)", None, None)?;
                let returned = client.update("UPDATE parity_spi_len SET v = v + 1 WHERE v > 2 RETURNING v", None, None)?;
                let none = client.select("SELECT v FROM parity_spi_len WHERE false", None, None)?;
                let big = client.select("SELECT g FROM generate_series(1, 5000) g", None, None)?;
                Ok(Some(format!("{} {} {} {} {} {:?} {} {}",
                    inserted.len(), inserted.is_empty(), returned.len(),
                    none.is_empty(), none.get_heap_tuple()?.is_none(),
                    none.first().get_one::<i32>().is_err(), big.len(), big.is_empty())))
            })
         $$;"#,
    )
    .unwrap();
    assert_eq!(
        one::<String>(&mut c, "SELECT parity_spi_lens()"),
        "4 false 2 true true true 5000 false"
    );
}

#[test]
fn rewind_after_a_large_stream_says_why_not() {
    let mut c = client();
    c.batch_execute(
        r#"CREATE OR REPLACE FUNCTION parity_spi_rewind_big() RETURNS bigint LANGUAGE plrust AS $$
            Spi::connect(|client| {
                let mut t = client.select(
                    "SELECT repeat('x', 1000) FROM generate_series(1, 30000)", None, None)?;
                let n = t.by_ref().count() as i64;
                let again = t.rewind().count() as i64;
                Ok(Some(n + again))
            })
         $$;"#,
    )
    .unwrap();
    let e = error_of(&mut c, "SELECT parity_spi_rewind_big()");
    assert_eq!(e.code().code(), "XX000", "{e:?}");
    assert!(e.message().contains("no longer kept"), "{e:?}");
    assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
}

#[test]
fn a_cursor_fetches_as_many_rows_as_asked() {
    let mut c = client();
    c.batch_execute(
        r#"CREATE OR REPLACE FUNCTION parity_spi_cursor() RETURNS text LANGUAGE plrust AS $$
            Spi::connect(|client| {
                let mut cursor: spi::SpiCursor = client.open_cursor(
                    "SELECT g FROM generate_series(1, 2500) g", None);
                let first = cursor.fetch(1)?.first().get_one::<i32>()?;
                let middle = cursor.fetch(1500)?.len();
                let next = cursor.fetch(1)?.first().get_one::<i32>()?;
                let rest = cursor.fetch(5000)?.map(|r| r.get::<i32>(1).unwrap().unwrap()).max();
                let after = cursor.fetch(1)?.is_empty();
                let mut bad = client.open_cursor("SELECT parity_spi_no_such_column", None);
                let err = match bad.fetch(1) {
                    Ok(_) => "no error".to_string(),
                    Err(e) => e.to_string(),
                };
                Ok(Some(format!("{first:?} {middle} {next:?} {rest:?} {after} {err}")))
            })
         $$;"#,
    )
    .unwrap();
    assert_eq!(
        one::<String>(&mut c, "SELECT parity_spi_cursor()"),
        "Some(1) 1500 Some(1502) Some(2500) true \
         column \"parity_spi_no_such_column\" does not exist"
    );
}

/// pgrx's detach_into_name leaves the cursor open with the rows not
/// fetched yet, for SQL's FETCH or a later call's find_cursor in the same
/// transaction; nothing was read ahead of what the body fetched.
#[test]
fn a_detached_cursor_is_found_again_with_its_remaining_rows() {
    let mut c = client();
    c.batch_execute(
        r#"CREATE OR REPLACE FUNCTION parity_spi_detach(n int) RETURNS text STRICT LANGUAGE plrust AS $$
            Spi::connect(|client| {
                let mut cursor = client.open_cursor(
                    "SELECT g FROM generate_series(1, $1) g",
                    Some(vec![(PgBuiltInOids::INT4OID.oid(), n.into_datum())]),
                );
                let first = cursor.fetch(2)?.len();
                assert_eq!(first, 2);
                Ok(Some(cursor.detach_into_name()))
            })
         $$;
         CREATE OR REPLACE FUNCTION parity_spi_find(name text) RETURNS bigint STRICT LANGUAGE plrust AS $$
            Spi::connect(|client| {
                let mut cursor: spi::SpiCursor<'_> = client.find_cursor(&name)?;
                let rows = cursor.fetch(1000)?;
                Ok(Some(rows.map(|r| r.get::<i32>(1).unwrap().unwrap() as i64).sum()))
            })
         $$;"#,
    )
    .unwrap();
    // By SQL's FETCH, in the transaction the cursor was detached in.
    let mut t = c.transaction().unwrap();
    let name: String = t
        .query_one("SELECT parity_spi_detach(5)", &[])
        .unwrap()
        .get(0);
    let rest: Vec<i32> = t
        .query(&format!("FETCH ALL FROM \"{name}\""), &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(rest, [3, 4, 5]);
    t.commit().unwrap();
    // By another plrust call's find_cursor.
    let mut t = c.transaction().unwrap();
    let name: String = t
        .query_one("SELECT parity_spi_detach(10)", &[])
        .unwrap()
        .get(0);
    let sum: i64 = t
        .query_one("SELECT parity_spi_find($1)", &[&name])
        .unwrap()
        .get(0);
    assert_eq!(sum, (3..=10).sum::<i64>());
    t.commit().unwrap();
    // A name that is no open cursor is an SPI error, 34000.
    let e = error_of(
        &mut c,
        "SELECT parity_spi_find('parity_spi_no_such_cursor')",
    );
    assert_eq!(e.code().code(), "34000", "{e:?}");
    assert!(e.message().contains("does not exist"), "{e:?}");
}

#[test]
fn builtin_oids_and_trigger_errors_as_pgrx_names_them() {
    let mut c = client();
    c.batch_execute(
        r#"CREATE OR REPLACE FUNCTION parity_spi_oids_errors() RETURNS text LANGUAGE plrust AS $$
            let text: pg_sys::BuiltinOid = pg_sys::BuiltinOid::try_from(25u32).unwrap();
            let why = |n: u32| match pg_sys::BuiltinOid::try_from(n) {
                Ok(b) => format!("{b:?}"),
                Err(pg_sys::oids::NotBuiltinOid::Invalid) => "invalid".to_string(),
                Err(pg_sys::oids::NotBuiltinOid::Ambiguous) => "ambiguous".to_string(),
                Err(pg_sys::oids::NotBuiltinOid::TooBig) => "too big".to_string(),
            };
            let not_utf8 = vec![0xffu8];
            let e: PgTriggerError = std::str::from_utf8(&not_utf8).unwrap_err().into();
            let copy = e;
            let kind = |e: PgTriggerError| match e {
                PgTriggerError::CoreUtf8(_) => "utf8",
                PgTriggerError::TryFromInt(_) => "int",
                PgTriggerError::NotTrigger | PgTriggerError::NullFunctionCallInfo
                | PgTriggerError::NullTrigger | PgTriggerError::NullTriggerData
                | PgTriggerError::NullRelation => "null",
                PgTriggerError::InvalidPgTriggerWhen(_) | PgTriggerError::InvalidPgTriggerOperation(_) => "invalid",
            };
            let int: PgTriggerError = u8::try_from(300i32).unwrap_err().into();
            Ok(Some(format!("{text:?} {} {} {} {} {}", why(0), why(1007), why(4_000_000_000),
                kind(e), kind(copy).len() + kind(int).len())))
         $$;"#,
    )
    .unwrap();
    assert_eq!(
        one::<String>(&mut c, "SELECT parity_spi_oids_errors()"),
        "TEXTOID invalid INT4ARRAYOID ambiguous utf8 7"
    );
}

#[test]
fn triggers_see_their_event_as_pgrx_describes_it() {
    let (mut c, notices) = client_with_notices();
    c.batch_execute(
        r#"DROP TABLE IF EXISTS parity_spi_tr CASCADE;
         CREATE TABLE parity_spi_tr (v int);
         CREATE VIEW parity_spi_tr_view AS SELECT v FROM parity_spi_tr;
         CREATE OR REPLACE FUNCTION parity_spi_trg_report() RETURNS trigger LANGUAGE plrust AS $$
            fn name_of<'a>(t: &'a PgTrigger<'a>) -> Result<&'a str, PgTriggerError> { t.name() }
            let e: TriggerEvent = trigger.event();
            let copy = e;
            let flags = [e.fired_by_insert(), e.fired_by_update(), e.fired_by_delete(),
                e.fired_by_truncate(), e.fired_for_row(), e.fired_for_statement(),
                e.fired_before(), e.fired_after(), e.fired_instead()];
            let bits: String = flags.iter().map(|f| if *f { '1' } else { '0' }).collect();
            let relid = Spi::get_one::<pg_sys::Oid>(&format!("SELECT '{}.{}'::regclass::oid",
                trigger.table_schema()?, trigger.table_name()?))?;
            notice!("{} {} {} {} {} {}.{} {:?} relid={} same={}",
                name_of(trigger)?, PgTriggerWhen::try_from(e)?, PgTriggerLevel::from(copy),
                PgTriggerOperation::try_from(e)?, bits,
                trigger.table_schema()?, trigger.table_name()?, trigger.extra_args()?,
                relid == Some(trigger.relid()?),
                trigger.when()? == PgTriggerWhen::try_from(e)? && trigger.level() == PgTriggerLevel::from(e));
            let _which = (TriggerTuple::New, TriggerTuple::Old);
            Ok(trigger.new())
         $$;
         CREATE TRIGGER parity_spi_b BEFORE INSERT OR UPDATE ON parity_spi_tr
            FOR EACH ROW EXECUTE FUNCTION parity_spi_trg_report('x', 'y');
         CREATE TRIGGER parity_spi_c AFTER DELETE ON parity_spi_tr
            FOR EACH ROW EXECUTE FUNCTION parity_spi_trg_report();
         CREATE TRIGGER parity_spi_d AFTER TRUNCATE ON parity_spi_tr
            FOR EACH STATEMENT EXECUTE FUNCTION parity_spi_trg_report('t');
         CREATE TRIGGER parity_spi_e INSTEAD OF INSERT ON parity_spi_tr_view
            FOR EACH ROW EXECUTE FUNCTION parity_spi_trg_report();"#,
    )
    .unwrap();
    notices.lock().unwrap().clear();
    c.batch_execute(
        "INSERT INTO parity_spi_tr VALUES (1);
         UPDATE parity_spi_tr SET v = 2;
         DELETE FROM parity_spi_tr;
         TRUNCATE parity_spi_tr;
         INSERT INTO parity_spi_tr_view VALUES (4);",
    )
    .unwrap();
    // Flags: insert update delete truncate row statement before after instead.
    assert_eq!(
        take_messages(&notices),
        vec![
            r#"parity_spi_b BEFORE ROW INSERT 100010100 public.parity_spi_tr ["x", "y"] relid=true same=true"#,
            r#"parity_spi_b BEFORE ROW UPDATE 010010100 public.parity_spi_tr ["x", "y"] relid=true same=true"#,
            r#"parity_spi_c AFTER ROW DELETE 001010010 public.parity_spi_tr [] relid=true same=true"#,
            r#"parity_spi_d AFTER STATEMENT TRUNCATE 000101010 public.parity_spi_tr ["t"] relid=true same=true"#,
            r#"parity_spi_e INSTEAD OF ROW INSERT 100010001 public.parity_spi_tr_view [] relid=true same=true"#,
        ]
    );
}

/// pgrx's prepared statements: `prepare` with argument types, then
/// `select`/`update`/`open_cursor` with the statement and its values only,
/// `keep()` for one that outlives the connection; the wrong number of
/// values is an error, as in pgrx.
#[test]
fn prepared_statements_run_with_their_values() {
    let mut c = client();
    c.batch_execute(
        r#"DROP TABLE IF EXISTS parity_spi_prep;
         CREATE TABLE parity_spi_prep (n int);
         CREATE OR REPLACE FUNCTION parity_spi_prepared() RETURNS text LANGUAGE plrust AS $$
            let kept = Spi::connect(|mut client| {
                let add = client.prepare(
                    "INSERT INTO parity_spi_prep VALUES ($1)",
                    Some(vec![PgBuiltInOids::INT4OID.oid()]),
                )?;
                for n in 1..=3 {
                    client.update(&add, None, Some(vec![n.into_datum()]))?;
                }
                let wrong = match client.update(&add, None, None) {
                    Err(e) => e.to_string(),
                    Ok(_) => "no error".to_string(),
                };
                let sum = client.prepare("SELECT sum(n)::int FROM parity_spi_prep WHERE n > $1",
                    Some(vec![PgBuiltInOids::INT4OID.oid()]))?;
                let above_one = client.select(&sum, None, Some(vec![1.into_datum()]))?.first().get_one::<i32>()?;
                let mut cursor = client.open_cursor(&sum, Some(vec![0.into_datum()]));
                let all = cursor.fetch(1)?.first().get_one::<i32>()?;
                Ok::<_, pgrx::spi::Error>((sum.keep(), format!("{above_one:?} {all:?} {wrong}")))
            })?;
            let (kept, text) = kept;
            let again = Spi::connect(|client| {
                client.select(&kept, None, Some(vec![2.into_datum()]))?.first().get_one::<i32>()
            })?;
            Ok(Some(format!("{text} {again:?}")))
         $$;"#,
    )
    .unwrap();
    assert_eq!(
        one::<String>(&mut c, "SELECT parity_spi_prepared()"),
        "Some(5) Some(6) argument count mismatch: the statement takes 1 arguments, 0 were given Some(3)"
    );
}
