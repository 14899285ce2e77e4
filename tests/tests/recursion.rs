//! plrust calling plrust through SPI, and recursion that goes as deep as
//! the stack allows: a nested call of the same principal runs in the
//! executor serving the outer call, so the depth does not depend on the
//! pool's size (the test cluster has four executors), and endless recursion
//! ends in PostgreSQL's stack depth error for that call only.  Its own test
//! binary, so that no other test's calls share the pool while it recurses.

use std::time::{Duration, Instant};

use plrust_tests::{client, error_of, one, Health};

#[test]
fn plrust_calls_plrust_and_recursion_goes_as_deep_as_the_stack_allows() {
    let health = Health::before();
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION spi_inner(n int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(n + 1)) $$;
         CREATE OR REPLACE FUNCTION spi_outer(n int) RETURNS int STRICT LANGUAGE plrust AS $$
            Ok(Spi::get_one::<i32>(&format!(\"SELECT spi_inner({n}) * 10\"))?)
         $$;
         CREATE OR REPLACE FUNCTION spi_fact(n bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$
            if n <= 1 { return Ok(Some(1)); }
            let below = Spi::get_one_with_args::<i64>(\"SELECT spi_fact($1)\",
                vec![(PgBuiltInOids::INT8OID.oid(), (n - 1).into_datum())])?;
            Ok(below.map(|b| b * n))
         $$;
         CREATE OR REPLACE FUNCTION spi_endless(n bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$
            Ok(Spi::get_one_with_args::<i64>(\"SELECT spi_endless($1)\",
                vec![(PgBuiltInOids::INT8OID.oid(), (n + 1).into_datum())])?)
         $$;",
    )
    .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT spi_outer(4)"), 50);
    assert_eq!(one::<i64>(&mut c, "SELECT spi_fact(3)"), 6);
    // Twenty levels, five times the pool's four executors.
    assert_eq!(
        one::<i64>(&mut c, "SELECT spi_fact(20)"),
        (1..=20).product::<i64>()
    );
    // Endless recursion stops at a stack's limit (the backend's
    // max_stack_depth or the executor's own stack), soon.
    let start = Instant::now();
    let e = error_of(&mut c, "SELECT spi_endless(0)");
    let took = start.elapsed();
    assert_eq!(e.code().code(), "54001", "{e:?}");
    assert!(e.message().contains("stack depth"), "{e:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(e.detail(), None, "{e:?}");
    // Wherever in a level the limit strikes (in SQL, in plrust's call
    // handler, while a result is converted; one level is a few KiB of
    // stack, so 1 kB steps reach every part of it), the error is the same
    // and only that call fails.
    for kb in 2000..2016 {
        c.batch_execute(&format!("SET max_stack_depth = '{kb}kB'"))
            .unwrap();
        let e = error_of(&mut c, "SELECT spi_endless(0)");
        assert_eq!(e.code().code(), "54001", "at {kb} kB: {e:?}");
        assert_eq!(e.detail(), None, "at {kb} kB: {e:?}");
    }
    c.batch_execute("RESET max_stack_depth").unwrap();
    // The session goes on.
    assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
    assert_eq!(one::<i64>(&mut c, "SELECT spi_fact(3)"), 6);
    assert_eq!(one::<i32>(&mut c, "SELECT spi_outer(1)"), 20);
    health.assert_unharmed();
}

#[test]
fn a_nested_call_that_breaks_the_shared_executor_fails_the_statement_with_its_error() {
    // The nested call runs in the outer call's executor and exceeds its
    // CPU limit: its executor is to be killed, so the outer call, whose
    // query catches the nested ERROR, must not resume in it (it would wait
    // for an executor still spinning in the nested body, or for the next
    // one in the slot, which never saw the call) and fails with the nested
    // call's error instead.
    let health = Health::before();
    let mut c = client();
    c.batch_execute(
        "CREATE OR REPLACE FUNCTION rec_spinner(n bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$
            let mut x = n;
            loop { x = x.wrapping_mul(6364136223846793005).wrapping_add(1); if x == 0 { break; } }
            Ok(Some(x))
         $$;
         CREATE OR REPLACE FUNCTION rec_calls_spinner(n bigint) RETURNS bigint STRICT LANGUAGE plrust AS $$
            Ok(Spi::get_one_with_args::<i64>(\"SELECT rec_spinner($1)\",
                vec![(PgBuiltInOids::INT8OID.oid(), n.into_datum())])?)
         $$;
         SET plrust.call_cpu_limit = '300ms';",
    )
    .unwrap();
    let start = Instant::now();
    let e = error_of(&mut c, "SELECT rec_calls_spinner(1)");
    assert_eq!(e.code().code(), "54000", "{e:?}");
    assert!(
        e.message().contains("rec_spinner") && e.message().contains("CPU time limit"),
        "{e:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    c.batch_execute("RESET plrust.call_cpu_limit").unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT 1"), 1);
    health.assert_unharmed();
}
