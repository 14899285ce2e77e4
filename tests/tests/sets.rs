//! Set-returning functions: RETURNS SETOF and RETURNS TABLE, streamed to
//! the backend in batches, so a set larger than the executor's memory is
//! fine.

use plrust_tests::{client, error_of, one};

#[test]
fn setof_with_null_rows() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION set_words(s text) RETURNS SETOF text STRICT LANGUAGE plrust AS $$
            let mapped = s.split_whitespace().map(|t| if t == \"this\" { None } else { Some(t.to_string()) });
            Ok(Some(SetOfIterator::new(mapped)))
         $$;
         CREATE OR REPLACE FUNCTION set_none() RETURNS SETOF int LANGUAGE plrust AS $$ Ok(None) $$;
         CREATE OR REPLACE FUNCTION set_empty() RETURNS SETOF int LANGUAGE plrust AS $$ Ok(Some(SetOfIterator::empty())) $$;",
    )
    .unwrap();
    let rows = c
        .query("SELECT * FROM set_words('hello world, this is a set')", &[])
        .unwrap();
    let got: Vec<Option<String>> = rows.iter().map(|r| r.get(0)).collect();
    let want: Vec<Option<String>> = ["hello", "world,", "", "is", "a", "set"]
        .iter()
        .map(|w| (!w.is_empty()).then(|| w.to_string()))
        .collect();
    assert_eq!(got, want);
    // In a target list too.
    assert_eq!(
        one::<i64>(&mut c, "SELECT count(*) FROM (SELECT set_words('a b c')) s"),
        3
    );
    assert_eq!(one::<i64>(&mut c, "SELECT count(*) FROM set_none()"), 0);
    assert_eq!(one::<i64>(&mut c, "SELECT count(*) FROM set_empty()"), 0);
}

#[test]
fn returns_table_and_setof_with_out_parameters() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION set_count_words(s text) RETURNS TABLE (count int, word text) STRICT LANGUAGE plrust AS $$
            use std::collections::BTreeMap;
            let mut buckets: BTreeMap<&str, i32> = BTreeMap::new();
            for word in s.split_whitespace() {
                *buckets.entry(word).or_insert(0) += 1;
            }
            Ok(Some(TableIterator::new(buckets.into_iter().map(|(w, n)| (Some(n), Some(w.to_string()))))))
         $$;
         CREATE OR REPLACE FUNCTION set_pairs(n int, OUT i int, OUT sq bigint) RETURNS SETOF record STRICT LANGUAGE plrust AS $$
            Ok(Some(TableIterator::new((1..=n).map(|i| (Some(i), if i == 2 { None } else { Some(i as i64 * i as i64) })))))
         $$;",
    )
    .unwrap();
    let rows = c
        .query("SELECT count, word FROM set_count_words('b a b c b')", &[])
        .unwrap();
    let got: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, vec![(1, "a".into()), (3, "b".into()), (1, "c".into())]);
    let rows = c.query("SELECT i, sq FROM set_pairs(3)", &[]).unwrap();
    let got: Vec<(i32, Option<i64>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got, vec![(1, Some(1)), (2, None), (3, Some(9))]);
}

#[test]
fn a_set_larger_than_the_executor_streams() {
    let mut c = client();
    // 3 million rows of 100 bytes (300 MB) from an executor limited to
    // 128 MB, and from a lazy iterator.
    c.batch_execute(
        "SET plrust.executor_memory_limit = '128MB';
         CREATE OR REPLACE FUNCTION set_big(n bigint) RETURNS TABLE (i bigint, pad text) STRICT LANGUAGE plrust AS $$
            Ok(Some(TableIterator::new((1..=n).map(|i| (Some(i), Some(format!(\"{:0>100}\", i)))))))
         $$;",
    )
    .unwrap();
    let n = 3_000_000i64;
    let row = c
        .query_one(
            &format!("SELECT count(*), sum(i)::text, sum(length(pad)) FROM set_big({n})"),
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), n);
    assert_eq!(row.get::<_, String>(1), (n * (n + 1) / 2).to_string());
    assert_eq!(row.get::<_, i64>(2), n * 100);
}

#[test]
fn an_error_in_the_middle_of_a_set_is_an_error() {
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION set_fails(n int) RETURNS SETOF int STRICT LANGUAGE plrust AS $$
            Ok(Some(SetOfIterator::new((1..=n).map(|i| if i == 5000 { panic!(\"row {i}\") } else { Some(i) }))))
         $$;",
    )
    .unwrap();
    let e = error_of(&mut c, "SELECT count(*) FROM set_fails(10000)");
    assert_eq!(e.code().code(), "XX000");
    assert!(e.message().contains("row 5000"), "{}", e.message());
    assert_eq!(
        one::<i64>(&mut c, "SELECT count(*) FROM set_fails(100)"),
        100
    );
}
