//! CREATE OR REPLACE is seen by other sessions at their next call, and
//! compiled code is stored, not rebuilt per session.

use plrust_tests::{client, one};

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
fn functions_created_without_body_checks_compile_at_first_call() {
    // pg_dump restores with check_function_bodies = off.
    let mut c = client();
    c.batch_execute(
        "SET check_function_bodies = off;
         CREATE OR REPLACE FUNCTION fn_lazy(x int) RETURNS int STRICT LANGUAGE plrust AS $$ Ok(Some(x * 3)) $$;
         RESET check_function_bodies;",
    )
    .unwrap();
    assert_eq!(one::<i32>(&mut c, "SELECT fn_lazy(5)"), 15);
}
