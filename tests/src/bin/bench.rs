//! plrust-bench: per-row cost of a trivial function, plrust against the
//! built-in operator, a native (C) function, SQL and PL/pgSQL, in one run on
//! one cluster; the same for values that take the generic (send/receive)
//! path, for SPI and for a set-returning function; and the wall time of
//! CREATE FUNCTION for a 20-line body, without and with `[dependencies]`
//! (regex and serde_json, prepared by set-up).
//!
//!     bash scripts/bench.sh        (sets up, starts a cluster, runs this)

use std::time::{Duration, Instant};

use plrust_tests::client;

const ROWS: i64 = 1_000_000;
const RUNS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ns_per_row(c: &mut postgres::Client, expr: &str) -> f64 {
    let sql = format!("SELECT sum({expr}) FROM generate_series(1, {ROWS}) i");
    c.batch_execute(&sql).unwrap(); // warm up: compile, load, caches
    let times = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            c.batch_execute(&sql).unwrap();
            t.elapsed()
        })
        .collect();
    median(times).as_nanos() as f64 / ROWS as f64
}

/// Median time of `sql` over RUNS runs after a warm-up, per row.
fn ns_per(c: &mut postgres::Client, sql: &str, rows: i64) -> f64 {
    c.batch_execute(sql).unwrap();
    let times = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            c.batch_execute(sql).unwrap();
            t.elapsed()
        })
        .collect();
    median(times).as_nanos() as f64 / rows as f64
}

/// One comparison: each case is (name, statement over `rows` rows); the
/// ratios are against the case named "PL/pgSQL ...".
fn table(c: &mut postgres::Client, title: &str, rows: i64, cases: &[(&str, String)]) {
    let results: Vec<(&str, f64)> = cases
        .iter()
        .map(|(name, sql)| (*name, ns_per(c, sql, rows)))
        .collect();
    let base = results
        .iter()
        .find(|(n, _)| n.starts_with("PL/pgSQL"))
        .map(|r| r.1)
        .expect("a PL/pgSQL case");
    println!("{title}, {rows} rows, median of {RUNS} runs:");
    for (name, ns) in &results {
        println!("  {name:<40} {ns:>10.0} ns/row {:>8.2}x", ns / base);
    }
}

const BODY_20_LINES: &str = "
    let mut words: Vec<String> = Vec::new();
    for (i, w) in s.split_whitespace().enumerate() {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric());
        if w.is_empty() {
            continue;
        }
        let mut owned = w.to_lowercase();
        if i % 2 == 1 {
            owned = owned.chars().rev().collect();
        }
        words.push(owned);
    }
    words.sort();
    words.dedup();
    let total: usize = words.iter().map(|w| w.len()).sum();
    let longest = words.iter().map(|w| w.len()).max().unwrap_or(0);
    let summary = format!(\"{} words, {} letters, longest {}\", words.len(), total, longest);
    if words.is_empty() {
        return Ok(None);
    }
    Ok(Some(summary))
";

/// A body of the same size that uses two prepared crates.
const BODY_WITH_DEPENDENCIES: &str = "
    let re = regex::Regex::new(r\"[A-Za-z]+\")?;
    let mut words: Vec<&str> = Vec::new();
    for m in re.find_iter(s) {
        let w = m.as_str();
        if w.is_empty() {
            continue;
        }
        words.push(w);
    }
    let total: usize = words.iter().map(|w| w.len()).sum();
    let longest = words.iter().map(|w| w.len()).max().unwrap_or(0);
    if words.is_empty() {
        return Ok(None);
    }
    let json = serde_json::to_string(&words)?;
    let value: serde_json::Value = serde_json::from_str(&json)?;
    if value.as_array().map_or(0, |a| a.len()) != words.len() {
        return Err(format!(\"{} words, {} letters, longest {}\", words.len(), total, longest).into());
    }
    Ok(Some(json))
";

fn main() {
    let mut c = client();
    c.batch_execute(
        "SET jit = off;
         CREATE OR REPLACE FUNCTION bench_sql(x int) RETURNS int LANGUAGE sql AS 'SELECT x + 1';
         CREATE OR REPLACE FUNCTION bench_plpgsql(x int) RETURNS int STRICT LANGUAGE plpgsql AS 'BEGIN RETURN x + 1; END';
         CREATE OR REPLACE FUNCTION bench_plrust(x int) RETURNS int STRICT LANGUAGE plrust AS 'Ok(Some(x + 1))';",
    )
    .unwrap();

    let cases = [
        ("built-in i + 1", "i + 1"),
        ("native C function int4pl(i, 1)", "int4pl(i, 1)"),
        ("SQL function x + 1 (inlined)", "bench_sql(i)"),
        ("PL/pgSQL RETURN x + 1", "bench_plpgsql(i)"),
        ("plrust STRICT Ok(Some(x + 1))", "bench_plrust(i)"),
    ];
    let mut results = Vec::new();
    for (name, expr) in cases {
        results.push((name, ns_per_row(&mut c, expr)));
    }
    let plpgsql = results[3].1;
    let plrust = results[4].1;
    println!("sum(f(i)) over {ROWS} rows, median of {RUNS} runs, jit off:");
    println!("{:<34} {:>10} {:>14}", "function", "ns/row", "vs PL/pgSQL");
    for (name, ns) in &results {
        println!("{name:<34} {ns:>10.0} {:>13.2}x", ns / plpgsql);
    }
    println!("ratio plrust / PL/pgSQL: {:.2}", plrust / plpgsql);

    c.batch_execute(
        "CREATE OR REPLACE FUNCTION bench_upper_plpgsql(s text) RETURNS text STRICT LANGUAGE plpgsql AS 'BEGIN RETURN upper(s); END';
         CREATE OR REPLACE FUNCTION bench_upper_plrust(s text) RETURNS text STRICT LANGUAGE plrust AS 'Ok(Some(s.to_uppercase()))';
         CREATE OR REPLACE FUNCTION bench_num_plpgsql(x numeric) RETURNS numeric STRICT LANGUAGE plpgsql AS 'BEGIN RETURN x * 2 + 1; END';
         CREATE OR REPLACE FUNCTION bench_num_plrust(x numeric) RETURNS numeric STRICT LANGUAGE plrust AS 'Ok(Some(x * 2 + 1))';
         CREATE OR REPLACE FUNCTION bench_arr_plpgsql(a int[]) RETURNS bigint STRICT LANGUAGE plpgsql AS
            'DECLARE s bigint := 0; e int; BEGIN FOREACH e IN ARRAY a LOOP s := s + e; END LOOP; RETURN s; END';
         CREATE OR REPLACE FUNCTION bench_arr_plrust(a int[]) RETURNS bigint STRICT LANGUAGE plrust AS
            'Ok(Some(a.iter().map(|e| e.unwrap_or(0) as i64).sum()))';
         CREATE OR REPLACE FUNCTION bench_spi_plpgsql(x int) RETURNS bigint STRICT LANGUAGE plpgsql AS
            'DECLARE r bigint; BEGIN SELECT x::bigint + 1 INTO r; RETURN r; END';
         CREATE OR REPLACE FUNCTION bench_spi_plrust(x int) RETURNS bigint STRICT LANGUAGE plrust AS $$
            Ok(Spi::get_one_with_args::<i64>(\"SELECT $1::bigint + 1\", vec![(PgBuiltInOids::INT4OID.oid(), x.into_datum())])?)
         $$;
         CREATE OR REPLACE FUNCTION bench_set_sql(n int) RETURNS SETOF int LANGUAGE sql AS 'SELECT generate_series(1, n)';
         CREATE OR REPLACE FUNCTION bench_set_plpgsql(n int) RETURNS SETOF int STRICT LANGUAGE plpgsql AS
            'BEGIN FOR i IN 1..n LOOP RETURN NEXT i; END LOOP; END';
         CREATE OR REPLACE FUNCTION bench_set_plrust(n int) RETURNS SETOF int STRICT LANGUAGE plrust AS
            'Ok(Some(SetOfIterator::new((1..=n).map(Some))))';",
    )
    .unwrap();
    let over = |expr: &str, n: i64| format!("SELECT sum({expr}) FROM generate_series(1, {n}) i");
    let text_rows = 200_000;
    table(
        &mut c,
        "\ntext in, text out: upper(s) of a 40-character string",
        text_rows,
        &[
            ("built-in upper(s)", format!("SELECT sum(length(upper(repeat('ab', 20) || i))) FROM generate_series(1, {text_rows}) i")),
            ("PL/pgSQL RETURN upper(s)", format!("SELECT sum(length(bench_upper_plpgsql(repeat('ab', 20) || i))) FROM generate_series(1, {text_rows}) i")),
            ("plrust s.to_uppercase()", format!("SELECT sum(length(bench_upper_plrust(repeat('ab', 20) || i))) FROM generate_series(1, {text_rows}) i")),
        ],
    );
    table(
        &mut c,
        "numeric (send/receive functions on both sides)",
        text_rows,
        &[
            (
                "built-in i::numeric * 2 + 1",
                over("i::numeric * 2 + 1", text_rows),
            ),
            (
                "PL/pgSQL RETURN x * 2 + 1",
                over("bench_num_plpgsql(i::numeric)", text_rows),
            ),
            (
                "plrust AnyNumeric x * 2 + 1",
                over("bench_num_plrust(i::numeric)", text_rows),
            ),
        ],
    );
    table(
        &mut c,
        "int[] of 100 elements, summed",
        text_rows,
        &[
            ("SQL (SELECT sum(e) FROM unnest(a))", format!("SELECT sum((SELECT sum(e) FROM unnest(a) e)) FROM (SELECT array_agg(g + i) a FROM generate_series(1, 100) g, generate_series(1, {text_rows}) i GROUP BY i) s")),
            ("PL/pgSQL FOREACH", format!("SELECT sum(bench_arr_plpgsql(a)) FROM (SELECT array_agg(g + i) a FROM generate_series(1, 100) g, generate_series(1, {text_rows}) i GROUP BY i) s")),
            ("plrust a.iter().sum()", format!("SELECT sum(bench_arr_plrust(a)) FROM (SELECT array_agg(g + i) a FROM generate_series(1, 100) g, generate_series(1, {text_rows}) i GROUP BY i) s")),
        ],
    );
    let spi_rows = 20_000;
    table(
        &mut c,
        "one SPI query per call (SELECT $1 + 1)",
        spi_rows,
        &[
            (
                "PL/pgSQL SELECT ... INTO",
                over("bench_spi_plpgsql(i)", spi_rows),
            ),
            (
                "plrust Spi::get_one_with_args",
                over("bench_spi_plrust(i)", spi_rows),
            ),
        ],
    );
    let set_rows = 1_000_000;
    table(
        &mut c,
        "a set of 1M integers, counted",
        set_rows,
        &[
            (
                "SQL generate_series",
                format!("SELECT count(*) FROM bench_set_sql({set_rows})"),
            ),
            (
                "PL/pgSQL RETURN NEXT",
                format!("SELECT count(*) FROM bench_set_plpgsql({set_rows})"),
            ),
            (
                "plrust SetOfIterator",
                format!("SELECT count(*) FROM bench_set_plrust({set_rows})"),
            ),
        ],
    );
    println!();

    // One call per statement: the executor has gone to sleep between
    // statements, so this is the cost of waking it (plus the round trip).
    let isolated = |c: &mut postgres::Client, f: &str| {
        let stmt = c.prepare(&format!("SELECT {f}($1)")).unwrap();
        let n = 2000;
        let t = Instant::now();
        for i in 0..n {
            let _: i32 = c.query_one(&stmt, &[&i]).unwrap().get(0);
        }
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    };
    let pl = isolated(&mut c, "bench_plpgsql");
    let rs = isolated(&mut c, "bench_plrust");
    println!("one call per statement (client round trip included): PL/pgSQL {pl:.0} us, plrust {rs:.0} us");

    // CREATE FUNCTION, alternating a body without dependencies and one
    // with regex and serde_json (prepared crates: only the body compiles).
    let create = |c: &mut postgres::Client, name: &str, head: &str, body: &str, i: usize| {
        let sql = format!(
            "CREATE OR REPLACE FUNCTION {name}(s text) RETURNS text STRICT LANGUAGE plrust AS $$ {head}{body} // run {i}\n$$"
        );
        let t = Instant::now();
        c.batch_execute(&sql).unwrap();
        t.elapsed()
    };
    let (mut plain, mut with_deps) = (Vec::new(), Vec::new());
    for i in 0..RUNS {
        plain.push(create(&mut c, "bench_create", "", BODY_20_LINES, i));
        with_deps.push(create(
            &mut c,
            "bench_create_deps",
            "\n[dependencies]\nregex = \"1\"\nserde_json = \"1\"\n[code]\n",
            BODY_WITH_DEPENDENCIES,
            i,
        ));
    }
    let (plain, with_deps) = (median(plain), median(with_deps));
    println!(
        "CREATE FUNCTION, 20-line body: median {:.0} ms over {RUNS} runs",
        plain.as_secs_f64() * 1000.0
    );
    println!(
        "CREATE FUNCTION with [dependencies] regex and serde_json: median {:.0} ms over {RUNS} runs, {:.2}x the body without (target: at most 1.5x)",
        with_deps.as_secs_f64() * 1000.0,
        with_deps.as_secs_f64() / plain.as_secs_f64()
    );
    let v: String = c
        .query_one("SELECT bench_create_deps('Hello brave new world')", &[])
        .unwrap()
        .get(0);
    assert_eq!(v, r#"["Hello","brave","new","world"]"#);

    let mut fresh = client();
    let t = Instant::now();
    let v: String = fresh
        .query_one("SELECT bench_create('Hello brave new world')", &[])
        .unwrap()
        .get(0);
    println!(
        "first call of that function in a new session (connection excluded): {:.1} ms ({v})",
        t.elapsed().as_secs_f64() * 1000.0
    );
}
