//! CREATE OR REPLACE is seen by other sessions at their next call, and
//! compiled code is stored, not rebuilt per session.

use plrust_tests::{client, ensure_role, one};

#[test]
fn replace_is_seen_by_another_session() {
    let mut a = client();
    let mut b = client();
    a.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_repl() RETURNS int LANGUAGE plrust AS $$ Ok(Some(1)) $$",
    )
    .unwrap();
    assert_eq!(one::<i32>(&mut b, "SELECT fn_repl()"), 1);
    a.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_repl() RETURNS int LANGUAGE plrust AS $$ Ok(Some(2)) $$",
    )
    .unwrap();
    assert_eq!(one::<i32>(&mut b, "SELECT fn_repl()"), 2);
    assert_eq!(one::<i32>(&mut a, "SELECT fn_repl()"), 2);
}

#[test]
fn compiled_code_is_stored_once() {
    let mut a = client();
    a.batch_execute(
        "CREATE OR REPLACE FUNCTION fn_stored() RETURNS int LANGUAGE plrust AS $$ Ok(Some(3)) $$",
    )
    .unwrap();
    let built: String = one(
        &mut a,
        "SELECT built_at::text FROM plrust.functions WHERE function = 'fn_stored()'::regprocedure",
    );
    let mut b = client();
    assert_eq!(one::<i32>(&mut b, "SELECT fn_stored()"), 3);
    let again: String = one(
        &mut b,
        "SELECT built_at::text FROM plrust.functions WHERE function = 'fn_stored()'::regprocedure",
    );
    assert_eq!(built, again, "a second session recompiled the function");
}

#[test]
fn functions_created_without_body_checks_are_compiled_at_create() {
    // pg_dump restores with check_function_bodies = off.
    let mut c = client();
    c.batch_execute(
        "SET check_function_bodies = off;
         CREATE OR REPLACE FUNCTION fn_lazy(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x * 3)) $$;
         RESET check_function_bodies;",
    )
    .unwrap();
    assert!(one::<bool>(
        &mut c,
        "SELECT built_at IS NOT NULL FROM plrust.functions WHERE function = 'fn_lazy(int)'::regprocedure"
    ));
    assert_eq!(one::<i32>(&mut c, "SELECT fn_lazy(5)"), 15);
}

/// A body no earlier run or other test compiled, so that this test sees
/// its first compile.
fn fresh_body(expr: &str) -> String {
    let salt = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("let _salt = {salt}u128; Ok(Some({expr}))")
}

#[test]
fn functions_with_the_same_definition_share_their_code() {
    let mut c = client();
    let body = fresh_body("x + 7");
    c.batch_execute(&format!(
        "CREATE OR REPLACE FUNCTION fn_twin_a(x int) RETURNS int STRICT LANGUAGE plrust AS $$ {body} $$"
    ))
    .unwrap();
    // With a compiler limit no compile fits in, the twin can only be made
    // from the stored code.
    c.batch_execute(&format!(
        "SET plrust.compile_memory_limit = 256;
         CREATE OR REPLACE FUNCTION fn_twin_b(x int) RETURNS int STRICT LANGUAGE plrust AS $$ {body} $$;
         RESET plrust.compile_memory_limit;"
    ))
    .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT fn_twin_a(1) + fn_twin_b(2)"), 17);
    assert!(one::<bool>(
        &mut c,
        "SELECT plrust.code_hash('fn_twin_a'::regproc) = plrust.code_hash('fn_twin_b'::regproc)"
    ));
    // The same body of another owner is another owner's code.
    ensure_role(&mut c, "fn_twin_owner");
    c.batch_execute(&format!(
        "SET ROLE fn_twin_owner;
         CREATE OR REPLACE FUNCTION fn_twin_c(x int) RETURNS int STRICT LANGUAGE plrust AS $$ {body} $$;
         RESET ROLE;"
    ))
    .unwrap();
    assert!(one::<bool>(
        &mut c,
        "SELECT plrust.code_hash('fn_twin_a'::regproc) <> plrust.code_hash('fn_twin_c'::regproc)"
    ));
    assert_eq!(one::<i32>(&mut c, "SELECT fn_twin_c(3)"), 10);
}

#[test]
fn plrust_functions_shows_whether_the_current_definition_has_code() {
    let mut c = client();
    let built = |c: &mut postgres::Client| -> Option<String> {
        one(
            c,
            "SELECT built_at::text FROM plrust.functions WHERE function = 'fn_shown(int)'::regprocedure",
        )
    };
    // With bodies unchecked, as every restore runs: compiled all the same.
    c.batch_execute(&format!(
        "SET check_function_bodies = off;
         CREATE OR REPLACE FUNCTION fn_shown(x int) RETURNS int STRICT LANGUAGE plrust AS $$ {} $$;
         RESET check_function_bodies;",
        fresh_body("x")
    ))
    .unwrap();
    let first = built(&mut c).expect("no code shown after CREATE FUNCTION");
    assert_eq!(one::<i32>(&mut c, "SELECT fn_shown(4)"), 4);
    assert_eq!(built(&mut c), Some(first.clone()), "the call built code");
    let first_hash: Vec<u8> = one(&mut c, "SELECT plrust.code_hash('fn_shown'::regproc)");
    c.batch_execute(&format!(
        "CREATE OR REPLACE FUNCTION fn_shown(x int) RETURNS int STRICT LANGUAGE plrust AS $$ {} $$",
        fresh_body("x * 10")
    ))
    .unwrap();
    let second = built(&mut c).expect("no code shown after CREATE OR REPLACE");
    assert_ne!(first, second, "the replaced definition shows the old code");
    assert_eq!(one::<i32>(&mut c, "SELECT fn_shown(4)"), 40);
    // Storing the new code removed the old, which nothing names any more.
    let left = c
        .query_one(
            "SELECT count(*) FROM plrust.artifacts WHERE hash = $1",
            &[&first_hash],
        )
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(left, 0, "the replaced definition's code is still stored");
}
