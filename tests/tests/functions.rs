//! Functions compile at CREATE FUNCTION and their calls return the right
//! values: every supported type, NULLs, extremes, STRICT and not.

use plrust_tests::{client, error_of, one};

#[test]
fn integers_round_trip_with_extremes_and_null() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_i2(x smallint) RETURNS smallint LANGUAGE plrust AS $$ Ok(x) $$;
         CREATE OR REPLACE FUNCTION fn_i4(x integer) RETURNS integer LANGUAGE plrust AS $$ Ok(x) $$;
         CREATE OR REPLACE FUNCTION fn_i8(x bigint) RETURNS bigint LANGUAGE plrust AS $$ Ok(x) $$;",
    )
    .unwrap();
    for v in [i16::MIN, -1, 0, 1, i16::MAX] {
        let got: i16 = c.query_one("SELECT fn_i2($1)", &[&v]).unwrap().get(0);
        assert_eq!(got, v);
    }
    for v in [i32::MIN, -1, 0, 1, i32::MAX] {
        let got: i32 = c.query_one("SELECT fn_i4($1)", &[&v]).unwrap().get(0);
        assert_eq!(got, v);
    }
    for v in [i64::MIN, -1, 0, 1, i64::MAX] {
        let got: i64 = c.query_one("SELECT fn_i8($1)", &[&v]).unwrap().get(0);
        assert_eq!(got, v);
    }
    assert_eq!(one::<Option<i16>>(&mut c, "SELECT fn_i2(NULL)"), None);
    assert_eq!(one::<Option<i32>>(&mut c, "SELECT fn_i4(NULL)"), None);
    assert_eq!(one::<Option<i64>>(&mut c, "SELECT fn_i8(NULL)"), None);
}

#[test]
fn floats_round_trip_including_nan_and_infinities() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_f4(x real) RETURNS real LANGUAGE plrust AS $$ Ok(x) $$;
         CREATE OR REPLACE FUNCTION fn_f8(x double precision) RETURNS double precision LANGUAGE plrust AS $$ Ok(x) $$;",
    )
    .unwrap();
    for v in [
        f32::MIN,
        f32::MIN_POSITIVE,
        -0.0,
        1.5,
        f32::MAX,
        f32::INFINITY,
        f32::NEG_INFINITY,
    ] {
        let got: f32 = c.query_one("SELECT fn_f4($1)", &[&v]).unwrap().get(0);
        assert_eq!(got.to_bits(), v.to_bits());
    }
    for v in [
        f64::MIN,
        f64::MIN_POSITIVE,
        -0.0,
        2.5e300,
        f64::MAX,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ] {
        let got: f64 = c.query_one("SELECT fn_f8($1)", &[&v]).unwrap().get(0);
        assert_eq!(got.to_bits(), v.to_bits());
    }
    assert!(one::<f32>(&mut c, "SELECT fn_f4('NaN')").is_nan());
    assert!(one::<f64>(&mut c, "SELECT fn_f8('NaN')").is_nan());
    assert_eq!(one::<Option<f64>>(&mut c, "SELECT fn_f8(NULL)"), None);
}

#[test]
fn bool_text_varchar_bytea_round_trip() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_b(x boolean) RETURNS boolean LANGUAGE plrust AS $$ Ok(x.map(|b| !b)) $$;
         CREATE OR REPLACE FUNCTION fn_t(x text) RETURNS text LANGUAGE plrust AS $$ Ok(x.map(|s| s.to_string())) $$;
         CREATE OR REPLACE FUNCTION fn_vc(x varchar) RETURNS varchar LANGUAGE plrust AS $$ Ok(x.map(String::from)) $$;
         CREATE OR REPLACE FUNCTION fn_by(x bytea) RETURNS bytea LANGUAGE plrust AS $$ Ok(x.map(|b| b.to_vec())) $$;",
    )
    .unwrap();
    assert!(!one::<bool>(&mut c, "SELECT fn_b(true)"));
    assert!(one::<bool>(&mut c, "SELECT fn_b(false)"));
    assert_eq!(one::<Option<bool>>(&mut c, "SELECT fn_b(NULL)"), None);

    // Every Unicode plane, the empty string, and a 1 MB string.
    let texts = [
        "".to_string(),
        "plain".into(),
        "é 中 𝄞 😀 \u{10FFFF}".into(),
        "x".repeat(1 << 20),
    ];
    for t in &texts {
        let got: String = c.query_one("SELECT fn_t($1)", &[t]).unwrap().get(0);
        assert_eq!(&got, t);
        let got: String = c
            .query_one("SELECT fn_vc($1::varchar)", &[t])
            .unwrap()
            .get(0);
        assert_eq!(&got, t);
    }
    assert_eq!(one::<Option<String>>(&mut c, "SELECT fn_t(NULL)"), None);

    let all_bytes: Vec<u8> = (0..=255u8).collect();
    for b in [vec![], all_bytes, vec![0u8; 3 << 20]] {
        let got: Vec<u8> = c.query_one("SELECT fn_by($1)", &[&b]).unwrap().get(0);
        assert_eq!(got, b);
    }
    assert_eq!(one::<Option<Vec<u8>>>(&mut c, "SELECT fn_by(NULL)"), None);
}

#[test]
fn void_and_no_arguments() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_void(x int) RETURNS void LANGUAGE plrust AS $$ Ok(Some(())) $$;
         CREATE OR REPLACE FUNCTION fn_noargs() RETURNS bigint LANGUAGE plrust AS $$ Ok(Some(7)) $$;",
    )
    .unwrap();
    assert_eq!(one::<String>(&mut c, "SELECT fn_void(1)::text"), "");
    assert_eq!(one::<i64>(&mut c, "SELECT fn_noargs()"), 7);
}

#[test]
fn strict_gets_plain_values_and_non_strict_gets_options() {
    let mut c = client();
    // These bodies only compile if the argument types are T and Option<T>.
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_strict(a int, b text) RETURNS text STRICT LANGUAGE plrust AS $$
             let s: &str = b; let n: i32 = a;
             Ok(Some(format!(\"{s}{n}\")))
         $$;
         CREATE OR REPLACE FUNCTION fn_lax(a int, b text) RETURNS text LANGUAGE plrust AS $$
             let s: Option<&str> = b; let n: Option<i32> = a;
             Ok(Some(format!(\"{:?}{:?}\", s, n)))
         $$;",
    )
    .unwrap();
    assert_eq!(one::<String>(&mut c, "SELECT fn_strict(1, 'x')"), "x1");
    assert_eq!(
        one::<Option<String>>(&mut c, "SELECT fn_strict(NULL, 'x')"),
        None
    );
    assert_eq!(
        one::<String>(&mut c, "SELECT fn_lax(NULL, 'x')"),
        "Some(\"x\")None"
    );
    assert_eq!(
        one::<String>(&mut c, "SELECT fn_lax(2, NULL)"),
        "NoneSome(2)"
    );
    // STRICT with the wrong expectation does not compile.
    let e = error_of(
        &mut c,
        "CREATE OR REPLACE FUNCTION fn_strict_bad(a int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(a) $$",
    );
    assert_eq!(e.code().code(), "42P13");
    assert!(e.detail().unwrap().contains("mismatched types"), "{e:?}");
}

#[test]
fn many_rows_and_many_functions_per_executor() {
    let mut c = client();
    for i in 0..5 {
        c.batch_execute(&format!(
            "CREATE OR REPLACE FUNCTION fn_many_{i}(x bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$ Ok(Some(x * {i})) $$;"
        ))
        .unwrap();
    }
    let sum: i64 = one(
        &mut c,
        "SELECT sum(fn_many_0(i) + fn_many_1(i) + fn_many_2(i) + fn_many_3(i) + fn_many_4(i))::bigint
         FROM generate_series(1, 20000) i",
    );
    assert_eq!(sum, 10 * (20000 * 20001 / 2));
}

#[test]
fn std_collections_fmt_and_error_trait_work() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_std(s text) RETURNS text STRICT LANGUAGE plrust AS $$
             use std::collections::{BTreeMap, HashMap, HashSet};
             let mut counts: BTreeMap<char, usize> = BTreeMap::new();
             for ch in s.chars() { *counts.entry(ch).or_default() += 1; }
             let set: HashSet<char> = s.chars().collect();
             let mut h = HashMap::new();
             h.insert(\"len\", s.len());
             let n: i64 = \"42\".parse()?;
             Ok(Some(format!(\"{:?} {} {} {}\", counts, set.len(), h[\"len\"], n)))
         $$;",
    )
    .unwrap();
    assert_eq!(
        one::<String>(&mut c, "SELECT fn_std('abca')"),
        "{'a': 2, 'b': 1, 'c': 1} 3 4 42"
    );
}

#[test]
fn many_fixed_width_arguments_overflowing_the_inline_buffer() {
    // Six nullable bigints take 54 bytes: more than travel inline.
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_six(a bigint, b bigint, c bigint, d bigint, e bigint, f bigint)
         RETURNS bigint LANGUAGE plrust AS $$
             Ok(Some([a, b, c, d, e, f].iter().map(|v| v.unwrap_or(0)).sum()))
         $$;",
    )
    .unwrap();
    assert_eq!(one::<i64>(&mut c, "SELECT fn_six(1, 2, 3, 4, 5, 6)"), 21);
    assert_eq!(
        one::<i64>(&mut c, "SELECT fn_six(i64, NULL, 1, 1, 1, 1) FROM (SELECT 9223372036854775000::bigint AS i64) s"),
        9223372036854775004
    );
}
