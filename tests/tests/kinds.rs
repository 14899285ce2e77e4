//! Kinds of routine beyond plain functions: procedures, aggregates built
//! from plrust functions, and why ALTER FUNCTION cannot change STRICT.

use plrust_tests::{client, error_of, one};

#[test]
fn procedures_are_called_with_call() {
    let mut c = client();
    c.batch_execute(
        "DROP TABLE IF EXISTS kind_audit; CREATE TABLE kind_audit (v int);
         CREATE OR REPLACE PROCEDURE kind_record(v int) LANGUAGE plrust AS $$
            Spi::run_with_args(\"INSERT INTO kind_audit VALUES ($1)\",
                Some(vec![(PgBuiltInOids::INT4OID.oid(), v.into_datum())]))?;
            Ok(Some(()))
         $$;
         CREATE OR REPLACE PROCEDURE kind_double(INOUT v int) LANGUAGE plrust AS $$
            Ok(Some((v.map(|v| v * 2),)))
         $$;
         CALL kind_record(7);
         CALL kind_record(NULL);",
    )
    .unwrap();
    assert_eq!(
        one::<i64>(&mut c, "SELECT count(*) FROM kind_audit WHERE v = 7"),
        1
    );
    assert_eq!(
        one::<i64>(&mut c, "SELECT count(*) FROM kind_audit WHERE v IS NULL"),
        1
    );
    let row = c.query_one("CALL kind_double(21)", &[]).unwrap();
    assert_eq!(row.get::<_, i32>(0), 42);
}

#[test]
fn aggregates_with_plrust_state_and_final_functions() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION kind_stats_step(state float8[], v float8) RETURNS float8[] STRICT LANGUAGE plrust AS $$
            let s: Vec<f64> = state.into_iter().map(|x| x.unwrap_or(0.0)).collect();
            Ok(Some(vec![Some(s[0] + 1.0), Some(s[1] + v), Some(s[2] + v * v)]))
         $$;
         CREATE OR REPLACE FUNCTION kind_stats_final(state float8[]) RETURNS float8 STRICT LANGUAGE plrust AS $$
            let s: Vec<f64> = state.into_iter().map(|x| x.unwrap_or(0.0)).collect();
            if s[0] < 2.0 { return Ok(None); }
            let mean = s[1] / s[0];
            Ok(Some((s[2] - s[0] * mean * mean) / (s[0] - 1.0)))
         $$;
         DROP AGGREGATE IF EXISTS kind_variance(float8);
         CREATE AGGREGATE kind_variance(float8) (
            sfunc = kind_stats_step, stype = float8[], finalfunc = kind_stats_final, initcond = '{0,0,0}');",
    )
    .unwrap();
    let (ours, theirs): (f64, f64) = {
        let row = c
            .query_one(
                "SELECT kind_variance(g::float8), var_samp(g::float8) FROM generate_series(1, 1000) g",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert!((ours - theirs).abs() < 1e-6, "{ours} vs {theirs}");
    let by_group = c
        .query(
            "SELECT g % 3, kind_variance(g::float8) = var_samp(g::float8) FROM generate_series(1, 30) g GROUP BY 1 ORDER BY 1",
            &[],
        )
        .unwrap();
    assert_eq!(by_group.len(), 3);
    assert!(by_group.iter().all(|r| r.get::<_, bool>(1)));
}

#[test]
fn strictness_cannot_be_altered_but_may_be_restated() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION kind_lcase(s text) RETURNS text STRICT LANGUAGE plrust AS $$
            Ok(Some(s.to_lowercase()))
         $$;",
    )
    .unwrap();
    for alter in [
        "ALTER FUNCTION kind_lcase(text) CALLED ON NULL INPUT",
        "ALTER FUNCTION kind_lcase(text) STRICT CALLED ON NULL INPUT",
    ] {
        let e = error_of(&mut c, alter);
        assert_eq!(e.code().code(), "0A000", "{alter}");
        assert_eq!(
            e.message(),
            "plrust functions cannot have their STRICT property altered"
        );
        // PL/Rust's words (its hooks.rs).
        assert_eq!(
            e.detail(),
            Some("Use 'CREATE OR REPLACE FUNCTION' to alter the STRICT-ness of an existing plrust function")
        );
    }
    // Saying again that it is STRICT is no change, and not an error.
    c.batch_execute(
        "ALTER FUNCTION kind_lcase(text) RETURNS NULL ON NULL INPUT;
         ALTER FUNCTION kind_lcase STRICT IMMUTABLE;",
    )
    .unwrap();
    // Other changes are fine, and the function still works.
    c.batch_execute("ALTER FUNCTION kind_lcase(text) IMMUTABLE")
        .unwrap();
    assert_eq!(one::<String>(&mut c, "SELECT kind_lcase('HeLLo')"), "hello");
    // Other languages are not affected.
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION kind_sql(i int) RETURNS int LANGUAGE sql AS 'SELECT i';
         ALTER FUNCTION kind_sql(int) STRICT;",
    )
    .unwrap();
}
