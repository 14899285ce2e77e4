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
