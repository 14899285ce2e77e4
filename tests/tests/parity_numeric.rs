//! `AnyNumeric`'s pgrx 0.11 surface against PostgreSQL itself: each body
//! computes with the Rust API, and the same query computes the SQL
//! expression pgrx calls underneath (numeric_add, numeric_sqrt, ...), so
//! the two texts must be equal digit for digit and scale for scale.

use postgres::Client;

use plrust_tests::{client, error_of, one};

/// The two text columns of a `SELECT plrust_result, sql_result`.
fn both(c: &mut Client, sql: &str) -> (String, String) {
    let row = c
        .query_one(sql, &[])
        .unwrap_or_else(|e| panic!("{sql}: {e}: {:?}", e.as_db_error()));
    (row.get(0), row.get(1))
}

/// Compare `plrust_fn(args)` with `sql_expr` (written with `$1`, `$2` for
/// the arguments), as text, for each row of arguments.
fn compare(c: &mut Client, plrust_fn: &str, sql_expr: &str, rows: &[&[&str]]) {
    for args in rows {
        let mut expr = sql_expr.to_string();
        // Highest first, so $1 does not eat the start of $10.
        for (i, a) in args.iter().enumerate().rev() {
            expr = expr.replace(&format!("${}", i + 1), &format!("({a})"));
        }
        let call = format!("{plrust_fn}({})", args.join(", "));
        let (got, want) = both(c, &format!("SELECT ({call})::text, ({expr})::text"));
        assert_eq!(got, want, "{call} against {expr}");
    }
}

/// `compare` for a one-argument function, each value cast to numeric.
fn compare_numeric(c: &mut Client, plrust_fn: &str, sql_expr: &str, values: &[&str]) {
    for v in values {
        compare(c, plrust_fn, sql_expr, &[&[&format!("{v}::numeric")]]);
    }
}

#[test]
fn parity_numeric_primitives_on_the_left_give_postgres_results() {
    let mut c = client();
    c.batch_execute(
        r#"
CREATE OR REPLACE FUNCTION parity_numeric_lhs_i32(a int, b numeric) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(format!("{}|{}|{}|{}|{}", a + b.clone(), a - b.clone(), a * b.clone(), a / b.clone(), a % b)))
$$;
CREATE OR REPLACE FUNCTION parity_numeric_lhs_i64(a bigint, b numeric) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(format!("{}|{}|{}|{}|{}", a + b.clone(), a - b.clone(), a * b.clone(), a / b.clone(), a % b)))
$$;
CREATE OR REPLACE FUNCTION parity_numeric_lhs_small(a smallint, b numeric) RETURNS text STRICT LANGUAGE plrust AS $$
    // u8, u16, i8, isize, usize, u32, u64, i128 and u128 on the left.
    let u = a.unsigned_abs();
    Ok(Some(format!(
        "{}|{}|{}|{}|{}|{}|{}|{}|{}",
        (u as u8) + b.clone(),
        (u as u16) - b.clone(),
        (a as i8) * b.clone(),
        (a as isize) / b.clone(),
        (u as usize) % b.clone(),
        (u as u32) + b.clone(),
        (u as u64) * b.clone(),
        (a as i128) - b.clone(),
        (u as u128) / b
    )))
$$;
CREATE OR REPLACE FUNCTION parity_numeric_lhs_f64(a float8, b numeric) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(format!("{}|{}|{}|{}", a + b.clone(), a - b.clone(), a * b.clone(), (a as f32) * b)))
$$;
"#,
    )
    .unwrap();
    let numerics = [
        "3",
        "-7",
        "2.50",
        "0.000007",
        "123456789.123456789",
        "'Infinity'",
        "'-Infinity'",
        "'NaN'",
    ];
    for b in numerics {
        let b = format!("{b}::numeric");
        for (f, a) in [
            ("parity_numeric_lhs_i32", "7"),
            ("parity_numeric_lhs_i32", "(-2147483648)"),
            ("parity_numeric_lhs_i64", "9223372036854775807"),
            ("parity_numeric_lhs_i64", "-1"),
        ] {
            let t = if f.ends_with("i32") { "int" } else { "bigint" };
            compare(
                &mut c,
                f,
                "concat_ws('|', $1::numeric + $2, $1::numeric - $2, $1::numeric * $2, $1::numeric / $2, $1::numeric % $2)",
                &[&[&format!("{a}::{t}"), &b]],
            );
        }
        compare(
            &mut c,
            "parity_numeric_lhs_small",
            "concat_ws('|', abs($1)::numeric + $2, abs($1)::numeric - $2, $1::numeric * $2, \
             $1::numeric / $2, abs($1)::numeric % $2, abs($1)::numeric + $2, abs($1)::numeric * $2, \
             $1::numeric - $2, abs($1)::numeric / $2)",
            &[&["5::smallint", &b], &["-100::smallint", &b]],
        );
        // Floats that float8_numeric and float4_numeric read exactly.
        compare(
            &mut c,
            "parity_numeric_lhs_f64",
            "concat_ws('|', $1::numeric + $2, $1::numeric - $2, $1::numeric * $2, $1::float4::numeric * $2)",
            &[&["1.5::float8", &b], &["-0.25::float8", &b]],
        );
    }
    let e = error_of(&mut c, "SELECT parity_numeric_lhs_i32(1, 0.00)");
    assert!(e.message().contains("division by zero"), "{}", e.message());
}

#[test]
fn parity_numeric_ceil_floor_normalize_gcd() {
    let mut c = client();
    c.batch_execute(
        r#"
CREATE OR REPLACE FUNCTION parity_numeric_rounding(x numeric) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(format!("{}|{}|{}", x.ceil(), x.floor(), x.normalize())))
$$;
CREATE OR REPLACE FUNCTION parity_numeric_gcd(a numeric, b numeric) RETURNS numeric STRICT LANGUAGE plrust AS $$
    Ok(Some(a.gcd(&b)))
$$;
"#,
    )
    .unwrap();
    // numeric_normalize is not callable from SQL; trim_scale's text is the
    // same string for every value.
    compare_numeric(
        &mut c,
        "parity_numeric_rounding",
        "concat_ws('|', ceil($1), floor($1), trim_scale($1))",
        &[
            "1.50",
            "-1.5",
            "-0.5",
            "0.000",
            "7",
            "-7.000",
            "100.00",
            "-0.0500",
            "1e-20",
            "99999999999999999999.9",
            "-123456789.000000001",
            "'NaN'",
            "'Infinity'",
            "'-Infinity'",
        ],
    );
    compare(
        &mut c,
        "parity_numeric_gcd",
        "gcd($1, $2)",
        &[
            &["12::numeric", "18::numeric"],
            &["-12::numeric", "-18::numeric"],
            &["0::numeric", "-5::numeric"],
            &["0::numeric", "0.00::numeric"],
            &["0.5::numeric", "0.75::numeric"],
            &["1.50::numeric", "1::numeric"],
            &[
                "132560717806043136::numeric",
                "7423400264784150528::numeric",
            ],
            &["'NaN'::numeric", "4::numeric"],
            &["4::numeric", "'Infinity'::numeric"],
        ],
    );
}

#[test]
fn parity_numeric_sqrt_exp_log() {
    let mut c = client();
    c.batch_execute(
        r#"
CREATE OR REPLACE FUNCTION parity_numeric_sqrt(x numeric) RETURNS numeric STRICT LANGUAGE plrust AS $$
    Ok(Some(x.sqrt()))
$$;
CREATE OR REPLACE FUNCTION parity_numeric_exp(x numeric) RETURNS numeric STRICT LANGUAGE plrust AS $$
    Ok(Some(AnyNumeric::exp(&x)))
$$;
CREATE OR REPLACE FUNCTION parity_numeric_log(a numeric, b numeric) RETURNS numeric STRICT LANGUAGE plrust AS $$
    Ok(Some(a.log(b)))
$$;
"#,
    )
    .unwrap();
    assert_eq!(
        one::<String>(&mut c, "SELECT parity_numeric_sqrt(2)::text"),
        "1.414213562373095"
    );
    assert_eq!(
        one::<String>(&mut c, "SELECT parity_numeric_exp(1)::text"),
        "2.7182818284590452"
    );
    // pgrx passes self as numeric_log's base: 2.log(8) is log(2, 8).
    assert_eq!(
        one::<String>(&mut c, "SELECT parity_numeric_log(2, 8)::text"),
        "3.0000000000000000"
    );
    compare_numeric(
        &mut c,
        "parity_numeric_sqrt",
        "sqrt($1)",
        &[
            "2",
            "2.0",
            "4",
            "0",
            "0.00",
            "100",
            "10000",
            "0.0001",
            "0.5",
            "0.01",
            "1e20",
            "1e-20",
            "123456789.123",
            "2.00000000000000000000",
            "2e100",
            "1e-1000",
            "'Infinity'",
            "'NaN'",
        ],
    );
    compare_numeric(
        &mut c,
        "parity_numeric_exp",
        "exp($1)",
        &[
            "1",
            "0",
            "-1",
            "2.5",
            "100",
            "-100",
            "0.000001",
            "1.00000000000000000000",
            "-5000",
            "'Infinity'",
            "'-Infinity'",
            "'NaN'",
        ],
    );
    compare(
        &mut c,
        "parity_numeric_log",
        "log($1, $2)",
        &[
            &["2::numeric", "8::numeric"],
            &["10::numeric", "1000::numeric"],
            &["2.5::numeric", "0.001::numeric"],
            &["8::numeric", "2::numeric"],
            &["1.0001::numeric", "123456789::numeric"],
            &["'NaN'::numeric", "2::numeric"],
            &["2::numeric", "'Infinity'::numeric"],
        ],
    );
    // The errors are PostgreSQL's, with its SQLSTATEs.
    for (call, sql) in [
        ("parity_numeric_sqrt(-1)", "sqrt(-1::numeric)"),
        (
            "parity_numeric_sqrt('-Infinity')",
            "sqrt('-Infinity'::numeric)",
        ),
        ("parity_numeric_exp(1e10)", "exp(1e10::numeric)"),
        ("parity_numeric_log(0, 2)", "log(0::numeric, 2::numeric)"),
        ("parity_numeric_log(-2, 2)", "log(-2::numeric, 2::numeric)"),
        ("parity_numeric_log(1, 2)", "log(1::numeric, 2::numeric)"),
    ] {
        let got = error_of(&mut c, &format!("SELECT {call}"));
        let want = error_of(&mut c, &format!("SELECT {sql}"));
        assert_eq!(got.code(), want.code(), "{call}: {}", got.message());
        assert_eq!(got.message(), want.message(), "{call}");
    }
}

#[test]
fn parity_numeric_from_c_strings_and_to_sizes() {
    let mut c = client();
    c.batch_execute(
        r#"
CREATE OR REPLACE FUNCTION parity_numeric_from_cstr(t text) RETURNS numeric STRICT LANGUAGE plrust AS $$
    let s = std::ffi::CString::new(t)?;
    Ok(Some(AnyNumeric::try_from(s.as_c_str())?))
$$;
CREATE OR REPLACE FUNCTION parity_numeric_to_sizes(x numeric) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(format!("{:?}|{:?}", isize::try_from(x.clone()).ok(), usize::try_from(x).ok())))
$$;
"#,
    )
    .unwrap();
    compare(
        &mut c,
        "parity_numeric_from_cstr",
        "$1::numeric",
        &[
            &["' 1.50 '"],
            &["'-1.5e-3'"],
            &["'NaN'"],
            &["'-Infinity'"],
            &["repeat('9', 100) || '.5'"],
        ],
    );
    let e = error_of(&mut c, "SELECT parity_numeric_from_cstr('1.5x')");
    assert!(
        e.message()
            .contains("invalid input syntax for type numeric"),
        "{}",
        e.message()
    );
    for (x, want) in [
        ("42.000", "Some(42)|Some(42)"),
        ("-42", "Some(-42)|None"),
        (
            "9223372036854775807",
            "Some(9223372036854775807)|Some(9223372036854775807)",
        ),
        ("18446744073709551615", "None|Some(18446744073709551615)"),
        ("1e30", "None|None"),
        ("'NaN'", "None|None"),
    ] {
        let got: String = one(
            &mut c,
            &format!("SELECT parity_numeric_to_sizes({x}::numeric)"),
        );
        assert_eq!(got, want, "{x}");
    }
}

#[test]
fn parity_numeric_from_floats_as_float8_numeric() {
    let mut c = client();
    c.batch_execute(
        r#"
CREATE OR REPLACE FUNCTION parity_numeric_from_floats(a float8, b float4) RETURNS text STRICT LANGUAGE plrust AS $$
    Ok(Some(format!(
        "{}|{}|{}|{}",
        AnyNumeric::try_from(a)?,
        AnyNumeric::try_from(b)?,
        a * AnyNumeric::from(1),
        AnyNumeric::from(1) + b
    )))
$$;
"#,
    )
    .unwrap();
    for (a, b) in [
        ("1::float8 / 3", "1::float4 / 3"),
        ("0.1::float8 + 0.2", "0.1::float4 + 0.2::float4"),
        ("123456789.123456789", "16777217"),
        ("1e300", "3.4e38"),
        ("2.2250738585072014e-308", "1.5e-38"),
        ("'-0'", "'-0'"),
        ("'NaN'", "'Infinity'"),
        ("'-Infinity'", "'NaN'"),
    ] {
        compare(
            &mut c,
            "parity_numeric_from_floats",
            "concat_ws('|', $1::numeric, $2::numeric, $1::numeric * 1, 1 + $2::numeric)",
            &[&[&format!("({a})::float8"), &format!("({b})::float4")]],
        );
    }
}

#[test]
fn parity_numeric_sign_faces_as_pgrx_says() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION parity_numeric_sign(x numeric) RETURNS text STRICT LANGUAGE plrust AS $$
            Ok(Some(format!(\"{:?}\", x.sign())))
         $$;",
    )
    .unwrap();
    for (x, sign) in [
        ("-2.5", "Negative"),
        ("0.00", "Zero"),
        ("7", "Positive"),
        ("'NaN'", "NaN"),
        ("'-Infinity'", "Negative"),
    ] {
        assert_eq!(
            one::<String>(&mut c, &format!("SELECT parity_numeric_sign({x}::numeric)")),
            sign
        );
    }
}
