//! plrust-bench: per-row cost of a trivial function, plrust against the
//! built-in operator, a native (C) function, SQL and PL/pgSQL, in one run on
//! one cluster; and the wall time of CREATE FUNCTION for a 20-line body.
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

    let mut creates = Vec::new();
    for i in 0..RUNS {
        let sql = format!(
            "CREATE OR REPLACE FUNCTION bench_create(s text) RETURNS text STRICT LANGUAGE plrust AS $$ {BODY_20_LINES} // run {i}\n$$"
        );
        let t = Instant::now();
        c.batch_execute(&sql).unwrap();
        creates.push(t.elapsed());
    }
    println!(
        "CREATE FUNCTION, 20-line body: median {:.0} ms over {RUNS} runs",
        median(creates).as_secs_f64() * 1000.0
    );

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
