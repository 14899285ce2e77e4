//! Composite types: PgHeapTuple arguments and results, get_by_name and
//! set_by_name, new_composite_type, SETOF a composite type.

use plrust_tests::{client, error_of, one};

fn setup(c: &mut postgres::Client) {
    c.batch_execute(
        "DROP TYPE IF EXISTS comp_person CASCADE;
         CREATE TYPE comp_person AS (name text, age float8, tags text[], born date);",
    )
    .unwrap();
}

#[test]
fn make_read_and_change_composites() {
    let mut c = client();
    setup(&mut c);
    c.batch_execute(
        "CREATE FUNCTION comp_make(name text, age float8) RETURNS comp_person STRICT LANGUAGE plrust AS $$
            let mut p = PgHeapTuple::new_composite_type(\"comp_person\")?;
            p.set_by_name(\"name\", name)?;
            p.set_by_name(\"age\", age)?;
            p.set_by_name(\"tags\", vec![Some(\"new\".to_string())])?;
            Ok(Some(p))
         $$;
         CREATE FUNCTION comp_name(p comp_person) RETURNS text STRICT LANGUAGE plrust AS $$
            let p: composite_type!(\"comp_person\") = p;
            Ok(p.get_by_name(\"name\")?)
         $$;
         CREATE FUNCTION comp_older(p comp_person, years float8) RETURNS comp_person LANGUAGE plrust AS $$
            let Some(mut p) = p else { return Ok(None) };
            let age: Option<f64> = p.get_by_name(\"age\")?;
            p.set_by_name(\"age\", age.map(|a| a + years.unwrap_or(0.0)))?;
            Ok(Some(p))
         $$;
         CREATE FUNCTION comp_wrong_type() RETURNS comp_person LANGUAGE plrust AS $$
            let mut p = PgHeapTuple::new_composite_type(\"comp_person\")?;
            p.set_by_name(\"age\", \"old\")?;
            Ok(Some(p))
         $$;
         CREATE FUNCTION comp_no_such_type() RETURNS comp_person LANGUAGE plrust AS $$
            let p = PgHeapTuple::new_composite_type(\"comp_nobody\")?;
            Ok(Some(p))
         $$;",
    )
    .unwrap();
    let row = c
        .query_one(
            "SELECT (p).name, (p).age, (p).tags, (p).born IS NULL FROM comp_make('Ann', 41.5) p",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Ann");
    assert_eq!(row.get::<_, f64>(1), 41.5);
    assert_eq!(row.get::<_, Vec<String>>(2), vec!["new".to_string()]);
    assert!(row.get::<_, bool>(3));
    assert_eq!(
        one::<String>(
            &mut c,
            "SELECT comp_name(ROW('Bo', 3, NULL, '2020-01-01')::comp_person)"
        ),
        "Bo"
    );
    assert_eq!(
        one::<String>(
            &mut c,
            "SELECT comp_older(ROW('Cy', 30, '{a}', '2020-01-01'), 2.5)::text"
        ),
        "(Cy,32.5,{a},2020-01-01)"
    );
    let e = error_of(&mut c, "SELECT comp_wrong_type()");
    assert!(e.message().contains("not compatible"), "{}", e.message());
    let e = error_of(&mut c, "SELECT comp_no_such_type()");
    assert!(e.message().contains("comp_nobody"), "{}", e.message());
}

#[test]
fn setof_composites_and_table_rows() {
    let mut c = client();
    c.batch_execute(
        "DROP TYPE IF EXISTS comp_pair CASCADE;
         CREATE TYPE comp_pair AS (k text, v int);
         CREATE FUNCTION comp_pairs(n int) RETURNS SETOF comp_pair STRICT LANGUAGE plrust AS $$
            let mut rows = Vec::new();
            for i in 1..=n {
                if i == 2 { rows.push(None); continue; }
                let mut p = PgHeapTuple::new_composite_type(\"comp_pair\")?;
                p.set_by_name(\"k\", format!(\"k{i}\"))?;
                p.set_by_name(\"v\", i * 10)?;
                rows.push(Some(p));
            }
            Ok(Some(SetOfIterator::new(rows)))
         $$;",
    )
    .unwrap();
    let rows = c.query("SELECT k, v FROM comp_pairs(3)", &[]).unwrap();
    let got: Vec<(Option<String>, Option<i32>)> =
        rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        got,
        vec![
            (Some("k1".into()), Some(10)),
            (None, None),
            (Some("k3".into()), Some(30))
        ]
    );
}

#[test]
fn a_table_row_type_with_a_dropped_column() {
    let mut c = client();
    c.batch_execute(
        "DROP TABLE IF EXISTS comp_t CASCADE;
         CREATE TABLE comp_t (a int, gone text, b text);
         ALTER TABLE comp_t DROP COLUMN gone;
         INSERT INTO comp_t VALUES (1, 'one');
         CREATE FUNCTION comp_swap(r comp_t) RETURNS comp_t STRICT LANGUAGE plrust AS $$
            let mut r = r;
            let a: Option<i32> = r.get_by_name(\"a\")?;
            r.set_by_name(\"b\", a.map(|a| a.to_string()))?;
            r.set_by_name(\"a\", 99)?;
            Ok(Some(r))
         $$;",
    )
    .unwrap();
    assert_eq!(
        one::<String>(&mut c, "SELECT comp_swap(t)::text FROM comp_t t"),
        "(99,1)"
    );
}
