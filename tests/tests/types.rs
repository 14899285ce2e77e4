//! Every SQL type plrust maps to Rust, as argument, result and array
//! element: each value goes into a plrust function and must come back
//! exactly as it went in (compared by PostgreSQL, as text or with the
//! type's own equality), edge values and NULL included.

use plrust_tests::{client, error_of, one};
use postgres::Client;

/// Create `name(x sqltype) RETURNS sqltype` returning its argument, and
/// check that each value (an SQL expression) round-trips, and NULL too.
fn round_trip(c: &mut Client, name: &str, sqltype: &str, borrowed: bool, values: &[&str]) {
    let body = if borrowed {
        "Ok(x.map(|v| v.to_owned()))"
    } else {
        "Ok(x)"
    };
    c.batch_execute(&format!(
        "CREATE OR REPLACE FUNCTION {name}(x {sqltype}) RETURNS {sqltype} LANGUAGE plrust AS $$ {body} $$;"
    ))
    .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    for v in values {
        let same: bool = one(
            c,
            &format!("SELECT {name}(({v})::{sqltype})::text IS NOT DISTINCT FROM (({v})::{sqltype})::text"),
        );
        let got: Option<String> = one(c, &format!("SELECT {name}(({v})::{sqltype})::text"));
        assert!(same, "{sqltype} {v} came back as {got:?}");
    }
    let null: bool = one(c, &format!("SELECT {name}(NULL::{sqltype}) IS NULL"));
    assert!(null, "{sqltype}: NULL did not come back as NULL");
}

#[test]
fn booleans_and_char() {
    let mut c = client();
    round_trip(&mut c, "ty_bool", "boolean", false, &["true", "false"]);
    round_trip(
        &mut c,
        "ty_char",
        "\"char\"",
        false,
        &["'a'", "'\\001'", "'\\377'"],
    );
}

#[test]
fn numeric_keeps_every_digit_and_the_special_values() {
    let mut c = client();
    round_trip(
        &mut c,
        "ty_numeric",
        "numeric",
        false,
        &[
            "'0'",
            "'1.50'",
            "'-0.000000000000000000000000000001'",
            "'123456789012345678901234567890.123456789'",
            "'NaN'",
            "'Infinity'",
            "'-Infinity'",
            "repeat('9', 1000) || '.' || repeat('1', 1000)",
            "'-' || repeat('1', 1000)",
        ],
    );
}

#[test]
fn numeric_arithmetic_matches_postgresql() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION ty_num_ops(a numeric, b numeric) RETURNS text STRICT LANGUAGE plrust AS $$
            Ok(Some(format!(\"{}|{}|{}|{}\", a.clone() + b.clone(), a.clone() - b.clone(), a.clone() * b.clone(), a / b)))
         $$;",
    )
    .unwrap();
    for (a, b) in [
        ("1", "3"),
        ("10", "4"),
        ("1.5", "2.25"),
        ("123456789.123456789", "0.000007"),
        ("-7", "2"),
        ("1e-20", "3"),
        ("'Infinity'", "2"),
        ("'NaN'", "1"),
    ] {
        let expected: String = one(
            &mut c,
            &format!("SELECT concat_ws('|', {a}::numeric + {b}, {a}::numeric - {b}, {a}::numeric * {b}, {a}::numeric / {b})"),
        );
        let got: String = one(&mut c, &format!("SELECT ty_num_ops({a}, {b})"));
        assert_eq!(got, expected, "{a} op {b}");
    }
    let e = error_of(&mut c, "SELECT ty_num_ops(1, 0)");
    assert!(e.message().contains("division by zero"), "{}", e.message());
}

#[test]
fn text_of_every_unicode_plane_and_bytes() {
    let mut c = client();
    let every_plane =
        "(SELECT string_agg(chr(p * 65536 + 256 + p), '') FROM generate_series(0, 16) p)";
    round_trip(
        &mut c,
        "ty_text",
        "text",
        true,
        &["''", "'héllo wörld'", every_plane],
    );
    round_trip(
        &mut c,
        "ty_varchar",
        "varchar",
        true,
        &["'abc'", every_plane],
    );
    round_trip(&mut c, "ty_bpchar", "character(4)", true, &["'ab'"]);
    round_trip(&mut c, "ty_name", "name", true, &["'pg_class'"]);
    round_trip(&mut c, "ty_cstring", "cstring", true, &["'plain'", "'ünï'"]);
    round_trip(
        &mut c,
        "ty_bytea",
        "bytea",
        true,
        &["''", "'\\x00ff7f80'", "decode(repeat('ab', 100000), 'hex')"],
    );
    let plane: String = one(&mut c, &format!("SELECT ty_text({every_plane})"));
    assert_eq!(plane.chars().count(), 17);
}

#[test]
fn dates_times_and_their_infinities() {
    let mut c = client();
    c.batch_execute("SET TimeZone = 'Asia/Kolkata'").unwrap();
    round_trip(
        &mut c,
        "ty_date",
        "date",
        false,
        &[
            "'2024-02-29'",
            "'infinity'",
            "'-infinity'",
            "'4713-01-01 BC'",
            "'5874897-12-31'",
            "'2000-01-01'",
        ],
    );
    round_trip(
        &mut c,
        "ty_time",
        "time",
        false,
        &["'00:00'", "'23:59:59.999999'", "'24:00:00'", "'12:34:56.5'"],
    );
    round_trip(
        &mut c,
        "ty_timetz",
        "timetz",
        false,
        &["'12:34:56+05:30'", "'00:00:00-12'", "'23:59:59.999999+14'"],
    );
    round_trip(
        &mut c,
        "ty_ts",
        "timestamp",
        false,
        &[
            "'2000-01-01 00:00:00'",
            "'infinity'",
            "'-infinity'",
            "'294276-12-31 23:59:59.999999'",
            "'4713-01-01 00:00:00 BC'",
            "'1999-12-31 23:59:59.5'",
        ],
    );
    round_trip(
        &mut c,
        "ty_tstz",
        "timestamptz",
        false,
        &[
            "'2000-01-01 00:00:00+00'",
            "'infinity'",
            "'-infinity'",
            "'2024-06-30 12:00:00.000001-07'",
        ],
    );
    round_trip(
        &mut c,
        "ty_interval",
        "interval",
        false,
        &[
            "'1 year 2 mons 3 days 04:05:06.789'",
            "'-178000000 years'",
            "'0'",
            "'-1 day +2 hours'",
            "'1 microsecond'",
        ],
    );
}

#[test]
fn uuid_json_oid_tid_and_geometry() {
    let mut c = client();
    round_trip(
        &mut c,
        "ty_uuid",
        "uuid",
        false,
        &[
            "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
            "'00000000-0000-0000-0000-000000000000'",
        ],
    );
    round_trip(&mut c, "ty_oid", "oid", false, &["'0'", "'4294967295'"]);
    round_trip(
        &mut c,
        "ty_tid",
        "tid",
        false,
        &["'(0,1)'", "'(4294967295,65535)'"],
    );
    round_trip(
        &mut c,
        "ty_point",
        "point",
        false,
        &["'(1.5,-2)'", "'(0,0)'"],
    );
    round_trip(&mut c, "ty_box", "box", false, &["'(1,2),(3,4)'"]);
    round_trip(
        &mut c,
        "ty_jsonb",
        "jsonb",
        false,
        &[
            "'{\"a\": [1, 2.5, null, \"x\"], \"b\": {}}'",
            "'null'",
            "'\"ü\"'",
        ],
    );
    // json keeps its text; through serde_json it is re-serialized, so it is
    // compared as jsonb.
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION ty_json(x json) RETURNS json LANGUAGE plrust AS $$ Ok(x) $$;",
    )
    .unwrap();
    let same: bool = one(
        &mut c,
        "SELECT ty_json('{\"a\": [1, 2.5, null]}')::jsonb = '{\"a\": [1, 2.5, null]}'::jsonb",
    );
    assert!(same);
}

#[test]
fn the_six_range_types() {
    let mut c = client();
    round_trip(
        &mut c,
        "ty_int4range",
        "int4range",
        false,
        &["'[1,5)'", "'empty'", "'(,3]'", "'(,)'"],
    );
    round_trip(
        &mut c,
        "ty_int8range",
        "int8range",
        false,
        &["'[-9223372036854775808,0)'", "'[7,)'"],
    );
    round_trip(
        &mut c,
        "ty_numrange",
        "numrange",
        false,
        &["'[1.5,2.25]'", "'(,NaN)'".replace("NaN", "0").as_str()],
    );
    round_trip(
        &mut c,
        "ty_daterange",
        "daterange",
        false,
        &["'[2024-01-01,infinity)'", "'empty'"],
    );
    round_trip(
        &mut c,
        "ty_tsrange",
        "tsrange",
        false,
        &["'[2024-01-01 10:00,2024-01-02)'"],
    );
    round_trip(
        &mut c,
        "ty_tstzrange",
        "tstzrange",
        false,
        &["'(2024-01-01 10:00+00,)'"],
    );
}

#[test]
fn arrays_as_arguments_keep_their_shape() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION ty_shape(a int[]) RETURNS text STRICT LANGUAGE plrust AS $$
            Ok(Some(format!(\"{:?} {:?} {:?}\", a.dims(), a.lower_bounds(), a.iter().collect::<Vec<_>>())))
         $$;",
    )
    .unwrap();
    let cases = [
        ("'{1,NULL,3}'", "[3] [1] [Some(1), None, Some(3)]"),
        ("'{}'", "[] [] []"),
        ("'[0:2]={7,8,9}'", "[3] [0] [Some(7), Some(8), Some(9)]"),
        (
            "'{{1,2},{3,NULL}}'",
            "[2, 2] [1, 1] [Some(1), Some(2), Some(3), None]",
        ),
    ];
    for (v, expected) in cases {
        let got: String = one(&mut c, &format!("SELECT ty_shape({v}::int[])"));
        assert_eq!(got, expected, "{v}");
    }
}

#[test]
fn arrays_of_every_element_type_round_trip() {
    let mut c = client();
    // Results are 1-D Vec<Option<T>>, as in PL/Rust.
    let body = "Ok(x.map(|a| a.into_iter().collect()))";
    for (name, ty, v) in [
        ("ty_a_bool", "boolean[]", "'{t,NULL,f}'"),
        ("ty_a_i2", "smallint[]", "'{1,NULL,-32768}'"),
        ("ty_a_i8", "bigint[]", "'{9223372036854775807}'"),
        ("ty_a_f8", "float8[]", "'{NaN,Infinity,-0,1.5}'"),
        ("ty_a_num", "numeric[]", "'{1.50,NaN,NULL}'"),
        ("ty_a_text", "text[]", "'{\"a b\",NULL,\"\",ü}'"),
        ("ty_a_bytea", "bytea[]", "'{\"\\\\x00\",NULL}'"),
        ("ty_a_date", "date[]", "'{2024-01-01,infinity}'"),
        (
            "ty_a_ts",
            "timestamptz[]",
            "'{2024-01-01 00:00+00,-infinity}'",
        ),
        (
            "ty_a_uuid",
            "uuid[]",
            "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'",
        ),
        ("ty_a_jsonb", "jsonb[]", "'{\"[1]\",NULL}'"),
        ("ty_a_range", "int4range[]", "'{\"[1,2)\",empty}'"),
        ("ty_a_empty", "int[]", "'{}'"),
    ] {
        c.batch_execute(&format!(
            "CREATE OR REPLACE FUNCTION {name}(x {ty}) RETURNS {ty} LANGUAGE plrust AS $$ {body} $$;"
        ))
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let same: bool = one(
            &mut c,
            &format!("SELECT {name}({v}::{ty})::text = ({v}::{ty})::text"),
        );
        assert!(same, "{ty} {v}");
    }
}

#[test]
fn shaped_arrays_keep_dimensions_and_lower_bounds() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION ty_shaped(x int[]) RETURNS int[] LANGUAGE plrust
            SET plrust.shaped_arrays = on AS $$ Ok(x) $$;
         CREATE OR REPLACE FUNCTION ty_shaped_text(x text[]) RETURNS text[] STRICT LANGUAGE plrust
            SET plrust.shaped_arrays = on AS $$
            Ok(Some(x.iter().map(|s| s.map(|s| s.to_uppercase())).collect()))
         $$;
         CREATE OR REPLACE FUNCTION ty_grid(n int) RETURNS int[] STRICT LANGUAGE plrust
            SET plrust.shaped_arrays = on AS $$
            let cells = (0..n * n).map(|i| if i == 0 { None } else { Some(i) }).collect();
            Ok(Some(Array::with_shape(cells, vec![n, n], vec![0, -1])?))
         $$;",
    )
    .unwrap();
    for v in [
        "'{1,NULL,3}'",
        "'{}'",
        "'[0:2]={7,8,9}'",
        "'[-5:-4]={1,2}'",
        "'{{1,2},{3,NULL}}'",
        "'[2:3][7:8]={{1,2},{3,4}}'",
        "'{{{1},{2}},{{3},{4}}}'",
    ] {
        let same: bool = one(
            &mut c,
            &format!("SELECT ty_shaped({v}::int[])::text = ({v}::int[])::text"),
        );
        assert!(same, "{v}");
    }
    assert!(one::<bool>(&mut c, "SELECT ty_shaped(NULL) IS NULL"));
    assert_eq!(
        one::<String>(&mut c, "SELECT ty_shaped_text('{a,NULL}')::text"),
        "{A,NULL}"
    );
    assert_eq!(
        one::<String>(&mut c, "SELECT ty_grid(2)::text"),
        "[0:1][-1:0]={{NULL,1},{2,3}}"
    );
}

#[test]
fn enums_and_domains() {
    let mut c = client();
    c.batch_execute(
        "DROP TYPE IF EXISTS ty_mood CASCADE;
         CREATE TYPE ty_mood AS ENUM ('sad', 'ok', 'happy');
         DROP DOMAIN IF EXISTS ty_positive CASCADE;
         CREATE DOMAIN ty_positive AS integer CHECK (VALUE > 0);
         CREATE OR REPLACE FUNCTION ty_cheer(m ty_mood) RETURNS ty_mood STRICT LANGUAGE plrust AS $$
            Ok(Some(if m == \"sad\" { \"ok\".to_string() } else { \"happy\".to_string() }))
         $$;
         CREATE OR REPLACE FUNCTION ty_bad_mood() RETURNS ty_mood LANGUAGE plrust AS $$
            Ok(Some(\"furious\".to_string()))
         $$;
         CREATE OR REPLACE FUNCTION ty_pred(n ty_positive) RETURNS ty_positive STRICT LANGUAGE plrust AS $$
            Ok(Some(n - 1))
         $$;",
    )
    .unwrap();
    assert_eq!(one::<String>(&mut c, "SELECT ty_cheer('sad')::text"), "ok");
    assert_eq!(
        one::<String>(&mut c, "SELECT ty_cheer('ok')::text"),
        "happy"
    );
    let e = error_of(&mut c, "SELECT ty_bad_mood()");
    assert_eq!(e.code().code(), "22P02", "{}", e.message());
    assert_eq!(one::<i32>(&mut c, "SELECT ty_pred(5)"), 4);
    // The domain's CHECK applies to the value the function returns.
    let e = error_of(&mut c, "SELECT ty_pred(1)");
    assert_eq!(e.code().code(), "23514", "{}", e.message());
}

#[test]
fn out_and_inout_parameters() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION ty_divmod(a int, b int, OUT q int, OUT r int) STRICT LANGUAGE plrust AS $$
            Ok(Some((Some(a / b), Some(a % b))))
         $$;
         CREATE OR REPLACE FUNCTION ty_twice(INOUT n bigint, OUT label text) LANGUAGE plrust AS $$
            Ok(Some((n.map(|n| n * 2), Some(format!(\"{n:?}\")))))
         $$;
         CREATE OR REPLACE FUNCTION ty_one_out(a int, OUT doubled int) LANGUAGE plrust AS $$
            Ok(a.map(|a| a * 2))
         $$;",
    )
    .unwrap();
    let row = c
        .query_one("SELECT q, r FROM ty_divmod(17, 5)", &[])
        .unwrap();
    assert_eq!((row.get::<_, i32>(0), row.get::<_, i32>(1)), (3, 2));
    let row = c
        .query_one("SELECT n, label FROM ty_twice(21)", &[])
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 42);
    assert_eq!(row.get::<_, String>(1), "Some(21)");
    assert_eq!(one::<i32>(&mut c, "SELECT ty_one_out(4)"), 8);
}

#[test]
fn text_with_a_nul_is_refused() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION ty_nul() RETURNS text LANGUAGE plrust AS $$ Ok(Some(\"a\\0b\".to_string())) $$;",
    )
    .unwrap();
    let e = error_of(&mut c, "SELECT ty_nul()");
    assert!(e.message().contains("NUL"), "{}", e.message());
}

#[test]
fn values_are_utf8_whatever_the_client_encoding() {
    let mut c = client();
    c.batch_execute(
        "SET client_encoding = 'LATIN1';
         CREATE OR REPLACE FUNCTION ty_latin(x text[]) RETURNS text[] LANGUAGE plrust AS $$
            Ok(x.map(|a| a.into_iter().map(|s| s.map(|s| format!(\"{s}!\"))).collect()))
         $$;",
    )
    .unwrap();
    let same: bool = one(&mut c, "SELECT ty_latin(ARRAY['é'])::text = '{é!}'");
    assert!(same);
}
