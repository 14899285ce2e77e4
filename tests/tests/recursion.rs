//! plrust calling plrust through SPI, and recursion that stops at a
//! clear limit.  Its own test binary: every nesting level holds one of the
//! pool's executors, so other tests running beside it would change where
//! the limit is hit.

use std::time::{Duration, Instant};

use plrust_tests::{client, error_of, one, Health};

#[test]
fn plrust_calls_plrust_and_recursion_stops_at_a_clear_limit() {
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
         $$;",
    )
    .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT spi_outer(4)"), 50);
    // Three levels fit in the test cluster's pool of four executors.
    assert_eq!(one::<i64>(&mut c, "SELECT spi_fact(3)"), 6);
    let start = Instant::now();
    let e = error_of(&mut c, "SELECT spi_fact(50)");
    assert_eq!(e.code().code(), "54001", "{}", e.message());
    assert!(e.message().contains("nested too deeply"), "{}", e.message());
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(one::<i64>(&mut c, "SELECT spi_fact(3)"), 6);
    health.assert_unharmed();
}
