//! PL/Rust parity for arrays and composite values: bodies that spell
//! PL/Rust's types out (`Array<'a, i32>`, `PgHeapTuple<'_, AllocatedByRust>`,
//! `AllocatedByPostgres`, `impl WhoAllocated`, the iterator types) compile
//! beside the short forms (`Array<i32>`, `PgHeapTuple`), and the methods
//! behave as pgrx 0.11's.

use plrust_tests::{client, error_of, one};

#[test]
fn arrays_spelled_as_in_pl_rust() {
    let mut c = client();
    c.batch_execute(
        r#"
CREATE OR REPLACE FUNCTION parity_array_sum(a int[]) RETURNS bigint STRICT LANGUAGE plrust AS $$
    // PL/Rust's spelling, in a helper's signature.
    fn total<'a>(a: &Array<'a, i32>) -> i64 {
        a.iter().map(|e| e.unwrap_or_default() as i64).sum()
    }
    // The short spelling, in a helper and in a let.
    fn count(a: &Array<i32>) -> usize {
        a.len()
    }
    let same: &Array<i32> = &a;
    assert_eq!(count(same), a.len());
    Ok(Some(total(&a)))
$$;
CREATE OR REPLACE FUNCTION parity_array_shape(a int[]) RETURNS text STRICT LANGUAGE plrust AS $$
    let it: ArrayIterator<'_, i32> = a.iter();
    let left = it.len();
    Ok(Some(format!(
        "len={} empty={} nulls={} left={} first={:?} last={:?} past={:?} debug={:?}",
        a.len(),
        a.is_empty(),
        a.contains_nulls(),
        left,
        a.get(0),
        a.len().checked_sub(1).and_then(|i| a.get(i)),
        a.get(a.len()),
        a,
    )))
$$;
CREATE OR REPLACE FUNCTION parity_array_deny_null(a float8[]) RETURNS float8 STRICT LANGUAGE plrust AS $$
    let it: ArrayTypedIterator<'_, f64> = a.iter_deny_null();
    Ok(Some(it.sum()))
$$;
CREATE OR REPLACE FUNCTION parity_array_into_iter(a text[]) RETURNS text STRICT LANGUAGE plrust AS $$
    fn owned<'a>(a: Array<'a, String>) -> ArrayIntoIterator<'a, String> {
        a.into_iter()
    }
    let words: Vec<String> = owned(a)
        .rev()
        .map(|w| w.unwrap_or_else(|| "NULL".to_string()))
        .collect();
    Ok(Some(words.join(" ")))
$$;
CREATE OR REPLACE FUNCTION parity_array_borrowed(a int[]) RETURNS int STRICT LANGUAGE plrust AS $$
    let mut n = 0;
    for e in &a {
        if let Some(v) = e {
            n += *v;
        }
    }
    Ok(Some(n))
$$;
"#,
    )
    .unwrap();
    assert_eq!(
        one::<i64>(&mut c, "SELECT parity_array_sum('{1,NULL,3}')"),
        4
    );
    assert_eq!(one::<i64>(&mut c, "SELECT parity_array_sum('{}')"), 0);
    assert_eq!(
        one::<String>(&mut c, "SELECT parity_array_shape('{1,NULL,3}')"),
        "len=3 empty=false nulls=true left=3 first=Some(Some(1)) \
         last=Some(Some(3)) past=None debug=[Some(1), None, Some(3)]"
    );
    assert_eq!(
        one::<String>(&mut c, "SELECT parity_array_shape('{}')"),
        "len=0 empty=true nulls=false left=0 first=None last=None past=None debug=[]"
    );
    // Elements in row-major order, whatever the shape.
    assert_eq!(
        one::<String>(
            &mut c,
            "SELECT parity_array_shape('[0:1][5:6]={{1,2},{3,4}}')"
        ),
        "len=4 empty=false nulls=false left=4 first=Some(Some(1)) \
         last=Some(Some(4)) past=None debug=[Some(1), Some(2), Some(3), Some(4)]"
    );
    assert_eq!(
        one::<f64>(&mut c, "SELECT parity_array_deny_null('{1.5,2.5}')"),
        4.0
    );
    let e = error_of(&mut c, "SELECT parity_array_deny_null('{1.5,NULL}')");
    assert_eq!(
        (e.code().code(), e.message()),
        ("XX000", "array contains NULL"),
        "{e:?}"
    );
    assert_eq!(
        one::<String>(&mut c, "SELECT parity_array_into_iter('{a,NULL,c}')"),
        "c NULL a"
    );
    assert_eq!(
        one::<i32>(&mut c, "SELECT parity_array_borrowed('{5,NULL,6}')"),
        11
    );
}

#[test]
fn shaped_array_results_may_be_the_argument() {
    let mut c = client();
    c.batch_execute(
        r#"
CREATE OR REPLACE FUNCTION parity_array_echo(a int[]) RETURNS int[] LANGUAGE plrust
    SET plrust.shaped_arrays = on AS $$
    fn keep<'a>(a: Option<Array<'a, i32>>) -> Option<Array<'a, i32>> {
        a
    }
    Ok(keep(a))
$$;
"#,
    )
    .unwrap();
    assert_eq!(
        one::<String>(&mut c, "SELECT parity_array_echo('[2:3]={7,NULL}')::text"),
        "[2:3]={7,NULL}"
    );
    assert!(one::<bool>(
        &mut c,
        "SELECT parity_array_echo(NULL) IS NULL"
    ));
}

#[test]
fn composites_spelled_as_in_pl_rust() {
    let mut c = client();
    c.batch_execute(
        r#"
DROP TYPE IF EXISTS parity_array_pair CASCADE;
CREATE TYPE parity_array_pair AS (a int, b text);
CREATE OR REPLACE FUNCTION parity_array_make(a int) RETURNS parity_array_pair STRICT LANGUAGE plrust AS $$
    type Error = Box<dyn std::error::Error + Send + Sync>;
    fn make<'a>(a: i32) -> Result<PgHeapTuple<'a, AllocatedByRust>, Error> {
        let mut p = PgHeapTuple::new_composite_type("parity_array_pair")?;
        p.set_by_name("a", a)?;
        p.set_by_name("b", format!("n{a}"))?;
        Ok(p)
    }
    fn width(p: &PgHeapTuple<'_, impl WhoAllocated>) -> usize {
        p.len()
    }
    let p = make(a)?;
    let short: &PgHeapTuple = &p;
    assert_eq!(width(short), 2);
    let p: composite_type!('static, "parity_array_pair") = p;
    Ok(Some(p))
$$;
CREATE OR REPLACE FUNCTION parity_array_b(p parity_array_pair) RETURNS text STRICT LANGUAGE plrust AS $$
    let p: pgrx::heap_tuple::PgHeapTuple<'static, pgrx::AllocatedByRust> = p;
    Ok(p.get_by_name("b")?)
$$;
"#,
    )
    .unwrap();
    assert_eq!(
        one::<String>(&mut c, "SELECT (parity_array_make(7)).b"),
        "n7"
    );
    assert_eq!(
        one::<String>(
            &mut c,
            "SELECT parity_array_b(ROW(1, 'x')::parity_array_pair)"
        ),
        "x"
    );
}

#[test]
fn triggers_return_either_kind_of_tuple() {
    let mut c = client();
    c.batch_execute(
        r#"
DROP TABLE IF EXISTS parity_array_t CASCADE;
CREATE TABLE parity_array_t (v int, note text);
CREATE OR REPLACE FUNCTION parity_array_trigger() RETURNS trigger LANGUAGE plrust AS $$
    // What pgrx calls a tuple PostgreSQL allocated, made owned as PL/Rust's
    // documentation does, and returned as PL/Rust's type.
    type Error = Box<dyn std::error::Error + Send + Sync>;
    fn bump<'a>(
        row: PgHeapTuple<'a, AllocatedByPostgres>,
    ) -> Result<PgHeapTuple<'a, AllocatedByRust>, Error> {
        let mut row = row.into_owned();
        let v: Option<i32> = row.get_by_name("v")?;
        row.set_by_name("v", v.map(|v| v + 1))?;
        Ok(row)
    }
    let new = trigger.new().unwrap();
    let note: Option<String> = new.get_by_name("note")?;
    match note.as_deref() {
        Some("skip") => Ok(None),
        Some("as is") => Ok(trigger.new()),
        _ => Ok(Some(bump(new)?)),
    }
$$;
CREATE TRIGGER parity_array_trigger BEFORE INSERT ON parity_array_t
    FOR EACH ROW EXECUTE FUNCTION parity_array_trigger();
INSERT INTO parity_array_t VALUES (1, 'bump'), (10, 'as is'), (100, 'skip');
"#,
    )
    .unwrap();
    let rows = c
        .query("SELECT v, note FROM parity_array_t ORDER BY v", &[])
        .unwrap();
    let got: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        got,
        vec![(2, "bump".to_string()), (10, "as is".to_string())]
    );
}
