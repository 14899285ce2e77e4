//! Trigger functions: BEFORE/AFTER/INSTEAD OF, ROW/STATEMENT,
//! INSERT/UPDATE/DELETE/TRUNCATE, modifying NEW, skipping with None,
//! arguments, transition tables and SPI inside triggers.

use plrust_tests::{client, client_with_notices, error_of, one, take_messages};

#[test]
fn before_row_triggers_modify_and_skip() {
    let mut c = client();
    c.batch_execute(
        "DROP TABLE IF EXISTS trg_dog CASCADE;
         CREATE TABLE trg_dog (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text, scritches int NOT NULL DEFAULT 0);
         CREATE OR REPLACE FUNCTION trg_dog_trigger() RETURNS trigger LANGUAGE plrust AS $$
            let my_row = match trigger.op()? {
                PgTriggerOperation::Insert => trigger.new().unwrap(),
                _ => trigger.new().unwrap(),
            };
            let mut my_row = my_row.into_owned();
            if my_row.get_by_name::<String>(\"name\")?.as_deref() == Some(\"skip me\") {
                return Ok(None);
            }
            let counter_field = trigger.extra_args()?.pop().unwrap();
            match my_row.get_by_name::<i32>(&counter_field)? {
                Some(val) => my_row.set_by_name(&counter_field, val + 1)?,
                None => (),
            }
            Ok(Some(my_row))
         $$;
         CREATE TRIGGER trg_dog_trigger BEFORE INSERT OR UPDATE ON trg_dog
            FOR EACH ROW EXECUTE FUNCTION trg_dog_trigger('scritches');
         INSERT INTO trg_dog (name) VALUES ('Nami'), ('skip me');
         UPDATE trg_dog SET name = 'Nami!';",
    )
    .unwrap();
    let rows = c.query("SELECT name, scritches FROM trg_dog", &[]).unwrap();
    let got: Vec<(String, i32)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, vec![("Nami!".to_string(), 2)]);
}

#[test]
fn after_and_statement_triggers_see_everything() {
    let (mut c, notices) = client_with_notices();
    c.batch_execute(
        "DROP TABLE IF EXISTS trg_t CASCADE;
         CREATE TABLE trg_t (v int);
         CREATE OR REPLACE FUNCTION trg_report() RETURNS trigger LANGUAGE plrust AS $$
            let row = |t: Option<PgHeapTuple>| t.map(|t| t.get_by_name::<i32>(\"v\").unwrap());
            notice!(\"{} {} {} {} on {}.{} new={:?} old={:?}\",
                trigger.name()?, trigger.when()?, trigger.level(), trigger.op()?,
                trigger.table_schema()?, trigger.table_name()?,
                row(trigger.new()), row(trigger.old()));
            Ok(None)
         $$;
         CREATE TRIGGER a_row AFTER INSERT OR UPDATE OR DELETE ON trg_t FOR EACH ROW EXECUTE FUNCTION trg_report();
         CREATE TRIGGER b_stmt BEFORE TRUNCATE ON trg_t FOR EACH STATEMENT EXECUTE FUNCTION trg_report();",
    )
    .unwrap();
    notices.lock().unwrap().clear();
    c.batch_execute(
        "INSERT INTO trg_t VALUES (1); UPDATE trg_t SET v = 2; DELETE FROM trg_t; TRUNCATE trg_t;",
    )
    .unwrap();
    let seen = take_messages(&notices);
    assert_eq!(
        seen,
        vec![
            "a_row AFTER ROW INSERT on public.trg_t new=Some(Some(1)) old=None",
            "a_row AFTER ROW UPDATE on public.trg_t new=Some(Some(2)) old=Some(Some(1))",
            "a_row AFTER ROW DELETE on public.trg_t new=None old=Some(Some(2))",
            "b_stmt BEFORE STATEMENT TRUNCATE on public.trg_t new=None old=None",
        ]
    );
}

#[test]
fn instead_of_triggers_on_views() {
    let mut c = client();
    c.batch_execute(
        "DROP TABLE IF EXISTS trg_base CASCADE;
         CREATE TABLE trg_base (v int);
         CREATE VIEW trg_view AS SELECT v FROM trg_base;
         CREATE OR REPLACE FUNCTION trg_instead() RETURNS trigger LANGUAGE plrust AS $$
            let new = trigger.new().unwrap();
            let v: i32 = new.get_by_name(\"v\")?.unwrap_or(0);
            Spi::run_with_args(\"INSERT INTO trg_base VALUES ($1)\",
                Some(vec![(PgBuiltInOids::INT4OID.oid(), (v * 100).into_datum())]))?;
            Ok(Some(new))
         $$;
         CREATE TRIGGER trg_instead INSTEAD OF INSERT ON trg_view FOR EACH ROW EXECUTE FUNCTION trg_instead();
         INSERT INTO trg_view VALUES (3);",
    )
    .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT v FROM trg_base"), 300);
}

#[test]
fn transition_tables_through_spi() {
    let mut c = client();
    c.batch_execute(
        "DROP TABLE IF EXISTS trg_items, trg_audit CASCADE;
         CREATE TABLE trg_items (v int);
         CREATE TABLE trg_audit (rows_added bigint, total bigint, via text);
         CREATE OR REPLACE FUNCTION trg_summarize() RETURNS trigger LANGUAGE plrust AS $$
            let table = trigger.new_transition_table_name()?.unwrap();
            let (n, total) = Spi::get_two::<i64, i64>(&format!(\"SELECT count(*), sum(v) FROM {table}\"))?;
            Spi::run_with_args(\"INSERT INTO trg_audit VALUES ($1, $2, $3)\", Some(vec![
                (PgBuiltInOids::INT8OID.oid(), n.into_datum()),
                (PgBuiltInOids::INT8OID.oid(), total.into_datum()),
                (PgBuiltInOids::TEXTOID.oid(), table.into_datum()),
            ]))?;
            Ok(None)
         $$;
         CREATE TRIGGER trg_summarize AFTER INSERT ON trg_items REFERENCING NEW TABLE AS fresh
            FOR EACH STATEMENT EXECUTE FUNCTION trg_summarize();
         INSERT INTO trg_items SELECT generate_series(1, 10);",
    )
    .unwrap();
    let row = c
        .query_one("SELECT rows_added, total, via FROM trg_audit", &[])
        .unwrap();
    assert_eq!(
        (
            row.get::<_, i64>(0),
            row.get::<_, i64>(1),
            row.get::<_, String>(2)
        ),
        (10, 55, "fresh".into())
    );
}

#[test]
fn a_trigger_function_called_directly_is_an_error() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION trg_direct() RETURNS trigger LANGUAGE plrust AS $$ Ok(None) $$;",
    )
    .unwrap();
    // PostgreSQL itself refuses a direct call of a trigger function.
    let e = error_of(&mut c, "SELECT trg_direct()");
    assert_eq!(e.code().code(), "0A000", "{}", e.message());
}
