//! PL/Rust compatibility: function bodies from PL/Rust's documentation
//! (pgcentralfoundation/plrust, doc/src), run here unchanged.  Only SQL
//! names are changed, so the tests do not collide with each other.

use plrust_tests::{client, client_with_notices, error_of, one};

#[test]
fn arrays_chapter() {
    let mut c = client();
    c.batch_execute(
        r#"
CREATE OR REPLACE FUNCTION compat_sum_array(a INT[]) RETURNS BIGINT STRICT LANGUAGE plrust AS $$
    let sum = a.into_iter().map(|i| i.unwrap_or_default() as i64).sum();
    Ok(Some(sum))
$$;
CREATE OR REPLACE FUNCTION compat_sum_array_f(a float4[]) RETURNS float4 STRICT LANGUAGE plrust AS $$
    let sum = a.into_iter().map(|i| i.unwrap_or_default()).sum();
    Ok(Some(sum))
$$;
CREATE OR REPLACE FUNCTION compat_sum_array_no_nulls(a float4[]) RETURNS float4 STRICT LANGUAGE plrust AS $$
    let sum = a.iter_deny_null().sum();
    Ok(Some(sum))
$$;
CREATE OR REPLACE FUNCTION compat_sum_array_slice(a float4[]) RETURNS float4 STRICT LANGUAGE plrust AS $$
    let slice = a.as_slice()?;  // use the `?` operator as not all `Array<T>`s can be converted into a slice
    let sum = slice.iter().sum();
    Ok(Some(sum))
$$;
CREATE OR REPLACE FUNCTION compat_sum_array_simd(a float4[]) RETURNS float4 STRICT LANGUAGE plrust AS $$
    use std::convert::TryInto;

    const LANES: usize = 16;

    pub fn simd_sum(values: &[f32]) -> f32 {
        let chunks = values.chunks_exact(LANES);
        let remainder = chunks.remainder();

        let sum = chunks.fold([0.0f32; LANES], |mut acc, chunk| {
            let chunk: [f32; LANES] = chunk.try_into().unwrap();
            for i in 0..LANES {
                acc[i] += chunk[i];
            }
            acc
        });

        let remainder: f32 = remainder.iter().copied().sum();

        let mut reduced = 0.0f32;
        for i in 0..LANES {
            reduced += sum[i];
        }
        reduced + remainder
    }

    let slice = a.as_slice()?;
    let sum = simd_sum(slice);
    Ok(Some(sum))
$$;
"#,
    )
    .unwrap();
    assert_eq!(
        one::<i64>(&mut c, "SELECT compat_sum_array(ARRAY[1,2,3]::int[])"),
        6
    );
    assert_eq!(
        one::<i64>(&mut c, "SELECT compat_sum_array(ARRAY[1,NULL,3]::int[])"),
        4
    );
    let floats = "(SELECT array_agg(g::float4 / 4::float4) FROM generate_series(1, 100) g)";
    for f in [
        "compat_sum_array_f",
        "compat_sum_array_no_nulls",
        "compat_sum_array_slice",
        "compat_sum_array_simd",
    ] {
        assert_eq!(
            one::<f32>(&mut c, &format!("SELECT {f}({floats})")),
            1262.5,
            "{f}"
        );
    }
    let e = error_of(
        &mut c,
        "SELECT compat_sum_array_slice(ARRAY[1, NULL]::float4[])",
    );
    assert_eq!(e.code().code(), "22000");
}

#[test]
fn set_returning_functions_chapter() {
    let mut c = client();
    c.batch_execute(
        r#"
CREATE OR REPLACE FUNCTION compat_split_whitespace(s text) RETURNS SETOF text STRICT LANGUAGE plrust AS $$
    let by_whitespace = s.split_whitespace();   // borrows from `s` which is a `&str`
    let mapped = by_whitespace.map(|token| {
        if token == "this" { None }     // just to demonstrate returning a NULL
        else { Some(token.to_string()) }
    });
    let iter = SetOfIterator::new(mapped);
    Ok(Some(iter))
$$;
CREATE OR REPLACE FUNCTION compat_count_words(s text) RETURNS TABLE (count int, word text) STRICT LANGUAGE plrust AS $$
    use std::collections::HashMap;
    let mut buckets: HashMap<&str, i32> = Default::default();

    for word in s.split_whitespace() {
        buckets.entry(word).and_modify(|cnt| *cnt += 1).or_insert(1);
    }

    let as_tuples = buckets.into_iter().map(|(word, cnt)| {
        ( Some(cnt), Some(word.to_string()) )
    });
    Ok(Some(TableIterator::new(as_tuples)))
$$;
DROP FUNCTION IF EXISTS compat_spi_srf();
CREATE FUNCTION compat_spi_srf()
    RETURNS SETOF BIGINT
    LANGUAGE plrust
AS
$$
    let query = "SELECT id::BIGINT FROM generate_series(1, 3) id;";

    Spi::connect(|client| {
        let mut results = Vec::new();
        let mut tup_table = client.select(query, None, None)?;

        while let Some(row) = tup_table.next() {
            let id = row["id"].value::<i64>()?;
            results.push(id);
        }
        Ok(Some(SetOfIterator::new(results)))
    })

$$;
"#,
    )
    .unwrap();
    let rows = c
        .query("SELECT * FROM compat_split_whitespace('hello world, this is a plrust set returning function')", &[])
        .unwrap();
    assert_eq!(rows.len(), 9);
    assert_eq!(rows[2].get::<_, Option<String>>(0), None);
    let rows = c
        .query("SELECT * FROM compat_count_words('this is a test that is testing plrust''s SRF support') ORDER BY word", &[])
        .unwrap();
    let got: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got[0], (1, "SRF".to_string()));
    assert!(got.contains(&(2, "is".to_string())));
    assert_eq!(got.len(), 9);
    let ids: Vec<i64> = c
        .query("SELECT * FROM compat_spi_srf()", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, vec![1, 2, 3]);
}

#[test]
fn arguments_and_strictness_chapter() {
    let mut c = client();
    c.batch_execute(
        r#"
CREATE OR REPLACE FUNCTION compat_lcase_strict(s TEXT) RETURNS TEXT STRICT LANGUAGE plrust AS $$
    let lcase = s.to_lowercase();   // `s` is a `&str`
    Ok(Some(lcase))
$$;
CREATE OR REPLACE FUNCTION compat_lcase(s TEXT) RETURNS TEXT LANGUAGE plrust AS $$
    let unwrapped_s = s.unwrap();     // `s` is an `Option<&str>` and will panic if `s` IS NULL
    let lcase = unwrapped_s.to_lowercase();
    Ok(Some(lcase))
$$;
CREATE OR REPLACE FUNCTION compat_lots_of_args(a TEXT, b INT, c BOOL[], d JSON) RETURNS INT STRICT LANGUAGE plrust AS $$
    let trues = c.into_iter().filter(|v| *v == Some(true)).count() as i32;
    let keys = match d { Json(serde_json::Value::Object(m)) => m.len() as i32, _ => 0 };
    Ok(Some(a.len() as i32 + b + trues + keys))
$$;
"#,
    )
    .unwrap();
    assert_eq!(
        one::<String>(&mut c, "SELECT compat_lcase_strict('HELLO WORLD')"),
        "hello world"
    );
    assert!(one::<bool>(
        &mut c,
        "SELECT compat_lcase_strict(NULL) IS NULL"
    ));
    assert_eq!(
        one::<String>(&mut c, "SELECT compat_lcase('HELLO WORLD')"),
        "hello world"
    );
    let e = error_of(&mut c, "SELECT compat_lcase(NULL)");
    assert!(
        e.message()
            .contains("called `Option::unwrap()` on a `None` value"),
        "{}",
        e.message()
    );
    assert_eq!(
        one::<i32>(
            &mut c,
            r#"SELECT compat_lots_of_args('abc', 10, '{t,f,t,NULL}', '{"x": 1, "y": 2}')"#
        ),
        3 + 10 + 2 + 2
    );
    let e = error_of(&mut c, "ALTER FUNCTION compat_lcase STRICT");
    assert_eq!(
        e.message(),
        "plrust functions cannot have their STRICT property altered"
    );
}

#[test]
fn dynamic_function_calling_chapter() {
    let mut c = client();
    c.batch_execute(
        r#"
CREATE OR REPLACE FUNCTION compat_sum_array_sql(a int[]) RETURNS int STRICT LANGUAGE sql AS $$ SELECT sum(e) FROM unnest(a) e $$;
CREATE OR REPLACE FUNCTION compat_transform_array(a int[]) RETURNS int STRICT LANGUAGE plrust AS $$
    let a = a.into_iter().map(|e| e.unwrap_or(0) + 1).collect::<Vec<_>>();  // add one to every element of the array
    Ok(fn_call("compat_sum_array_sql", &[&Arg::Value(a)])?)
$$;
CREATE OR REPLACE FUNCTION compat_debug_format_args(a text, b bigint, c float4 DEFAULT 0.99) RETURNS text LANGUAGE plrust AS $$
    Ok(Some(format!("{:?}, {:?}, {:?}", a, b, c)))
$$;
CREATE OR REPLACE FUNCTION compat_complex_example() RETURNS text LANGUAGE plrust AS $$
    let result = fn_call("compat_debug_format_args", &[&Arg::Value("hi"), &Arg::<i64>::Null, &Arg::<f32>::Default])?;
    Ok(result)
$$;
CREATE OR REPLACE FUNCTION compat_missing() RETURNS text LANGUAGE plrust AS $$
    match fn_call::<String>("compat_no_such_function", &[&Arg::Value(1i32)]) {
        Err(FnCallError::UndefinedFunction) => Ok(Some("undefined".into())),
        other => Ok(Some(format!("{other:?}"))),
    }
$$;
"#,
    )
    .unwrap();
    assert_eq!(
        one::<i32>(&mut c, "SELECT compat_transform_array(ARRAY[1,2,3])"),
        9
    );
    assert_eq!(
        one::<String>(&mut c, "SELECT compat_debug_format_args('hi', NULL)"),
        "Some(\"hi\"), None, Some(0.99)"
    );
    assert_eq!(
        one::<String>(&mut c, "SELECT compat_complex_example()"),
        "Some(\"hi\"), None, Some(0.99)"
    );
    assert_eq!(
        one::<String>(&mut c, "SELECT compat_missing()"),
        "undefined"
    );
}

#[test]
fn logging_chapter() {
    let (mut c, notices) = client_with_notices();
    c.batch_execute(
        r#"
SET client_min_messages = log;
CREATE OR REPLACE FUNCTION compat_one_log()
    RETURNS INT
    LANGUAGE plrust
AS
$$
    let one_val = 1_i32;
    log!("The plrust.one() function is returning: {one_val}");
    Ok(Some(one_val))
$$
;
CREATE OR REPLACE FUNCTION compat_one_warning()
    RETURNS INT
    LANGUAGE plrust
AS
$$
    let expected_val = 1_i32;
    let one_val = 2_i32;

    if expected_val != one_val {
        warning!("The value for plrust.one() is unexpected. Found {one_val}")
    } else {
        log!("The plrust.one() function is returning: {one_val}");
    }

    Ok(Some(one_val))
$$
;
CREATE OR REPLACE FUNCTION compat_one_error()
    RETURNS INT
    LANGUAGE plrust
AS
$$
    let expected_val = 1_i32;
    let one_val = 2_i32;
    let one_val_str = one_val.to_string();

    if expected_val != one_val {
        error!("Invalid for plrust.one(). Found {one_val_str}")
    } else {
        log!("The plrust.one() function is returning: {one_val_str}");
    }

    Ok(Some(one_val))
$$
;
CREATE OR REPLACE FUNCTION compat_one_notice()
    RETURNS INT
    LANGUAGE plrust
AS
$$
    notice!("Hello, this is a notice");
    Ok(Some(1))
$$
;
DROP FUNCTION IF EXISTS compat_one_ereport();
CREATE FUNCTION compat_one_ereport()
    RETURNS INT
    LANGUAGE plrust
AS
$$
    ereport!(PgLogLevel::LOG,
        PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
        "A user ran the one() function");
    Ok(Some(1))
$$
;
"#,
    )
    .unwrap();
    notices.lock().unwrap().clear();
    assert_eq!(one::<i32>(&mut c, "SELECT compat_one_log()"), 1);
    assert_eq!(one::<i32>(&mut c, "SELECT compat_one_warning()"), 2);
    assert_eq!(one::<i32>(&mut c, "SELECT compat_one_notice()"), 1);
    assert_eq!(one::<i32>(&mut c, "SELECT compat_one_ereport()"), 1);
    let seen: Vec<(String, String)> = notices
        .lock()
        .unwrap()
        .iter()
        .map(|n| (n.severity().to_string(), n.message().to_string()))
        .collect();
    for expected in [
        ("LOG", "The plrust.one() function is returning: 1"),
        (
            "WARNING",
            "The value for plrust.one() is unexpected. Found 2",
        ),
        ("NOTICE", "Hello, this is a notice"),
        ("LOG", "A user ran the one() function"),
    ] {
        assert!(
            seen.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} not in {seen:?}"
        );
    }
    let e = error_of(&mut c, "SELECT compat_one_error()");
    assert_eq!(e.message(), "Invalid for plrust.one(). Found 2");
}

#[test]
fn user_defined_types_chapter() {
    let mut c = client();
    c.batch_execute(
        r#"
DROP TABLE IF EXISTS compat_people;
DROP TYPE IF EXISTS compat_person CASCADE;
CREATE TYPE compat_person AS (
    name text,
    age  float8
);
create function compat_make_person(name text, age float8) returns compat_person
    strict parallel safe
    language plrust as
$$
    // create the Heap Tuple representation of the SQL type `person`
    let mut p = PgHeapTuple::new_composite_type("compat_person")?;

    // set a few of its attributes
    //
    // Runtime errors can occur if the attribute name is invalid or if the Rust type of the value
    // is not compatible with the backing SQL type for that attribute.  Hence the use of the `?` operator
    p.set_by_name("name", name)?;
    p.set_by_name("age", age)?;

    // return the `person`
    Ok(Some(p))
$$;
create function compat_get_person_name(p compat_person) returns text
    strict parallel safe
    language plrust as
$$
   // `p` is a `PgHeapTuple` over the underlying data for `person`
   Ok(p.get_by_name("name")?)
$$;
create function compat_get_person_age(p compat_person) returns float8
    strict parallel safe
    language plrust as
$$
   // `p` is a `PgHeapTuple` over the underlying data for `person`
   Ok(p.get_by_name("age")?)
$$;
create function compat_get_person_attribute(p compat_person, attname text) returns text
    strict parallel safe
    language plrust as
$$
   match attname.to_lowercase().as_str() {
    "age" => {
        let age:Option<f64> = p.get_by_name("age")?;
        Ok(age.map(|v| v.to_string()))
    },
    "name" => {
        Ok(p.get_by_name("name")?)
    },
    _ => panic!("unknown attribute: `{attname}`")
   }
$$;
create operator ->> (function = compat_get_person_attribute, leftarg = compat_person, rightarg = text);
create table compat_people
(
    id serial8 not null primary key,
    p  compat_person
);
insert into compat_people (p) values (compat_make_person('Johnny', 46.24));
insert into compat_people (p) values (compat_make_person('Joe', 99.09));
insert into compat_people (p) values (compat_make_person('Dr. Beverly Crusher of the Starship Enterprise', 32.0));
"#,
    )
    .unwrap();
    let rows = c
        .query("select p ->> 'name' as name, (p ->> 'age')::float8 as age from compat_people order by id", &[])
        .unwrap();
    let got: Vec<(String, f64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        got,
        vec![
            ("Johnny".to_string(), 46.24),
            ("Joe".to_string(), 99.09),
            (
                "Dr. Beverly Crusher of the Starship Enterprise".to_string(),
                32.0
            )
        ]
    );
    assert_eq!(one::<f64>(&mut c, "SELECT compat_get_person_age(p) FROM compat_people WHERE id = (SELECT min(id) FROM compat_people)"), 46.24);
    assert_eq!(
        one::<String>(
            &mut c,
            "SELECT compat_get_person_name(compat_make_person('Ann', 1))"
        ),
        "Ann"
    );
}

#[test]
fn triggers_chapter() {
    let mut c = client();
    c.batch_execute(
        r#"
DROP TABLE IF EXISTS compat_dog;
CREATE TABLE compat_dog (
    id BIGINT NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT,
    scritches INT NOT NULL DEFAULT 0,
    last_scritch TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE OR REPLACE FUNCTION compat_dog_trigger()
RETURNS trigger AS
$$
    let tg_op = trigger.op()?;

    let my_row = match tg_op {
        INSERT => trigger.new().unwrap(),
        _ => trigger.old().unwrap()
    };
    let mut my_row = my_row.into_owned();

    let counter_field = "scritches";
    match my_row.get_by_name::<i32>(counter_field)? {
        Some(val) => my_row.set_by_name(counter_field, val + 1)?,
        None => (),
    }

    Ok(Some(my_row))
$$
LANGUAGE plrust;
CREATE TRIGGER compat_dog_trigger
    BEFORE INSERT OR UPDATE ON compat_dog
    FOR EACH ROW
    EXECUTE FUNCTION compat_dog_trigger();
INSERT INTO compat_dog (name) VALUES ('Nami');
"#,
    )
    .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT scritches FROM compat_dog"), 1);
    c.batch_execute("UPDATE compat_dog SET last_scritch = NOW() WHERE id = 1")
        .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT scritches FROM compat_dog"), 2);
}
