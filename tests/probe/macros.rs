// Every form pgrx 0.11's macros accept, as a PL/Rust 1.2.8 body writes
// them (hand-written: rustdoc lists macros, not their forms; README.md).
// tests/tests/surface.rs compiles it as a function and calls it: the forms
// that only compile are in closures it never calls, those that only emit
// a message run.
use pgrx::prelude::*;
let code = PgSqlErrorCode::ERRCODE_WARNING;
let v = 7;
// The message macros take format!'s forms.
debug5!("a"); debug4!("{}", 1); debug3!("{v}"); debug2!("{} {}", 1, 2); debug1!("{v:?}");
log!("a"); info!("b {}", v); notice!("c {v}"); warning!("d {0}", v);
// ereport!: a PgLogLevel expression, with or without a detail...
ereport!(PgLogLevel::NOTICE, code, "m");
ereport!(PgLogLevel::NOTICE, code, "m", "detail");
ereport!(pgrx::pg_sys::PgLogLevel::DEBUG1, code, format!("m {v}"));
// ...or pgrx's bare names.
ereport!(WARNING, code, "m"); ereport!(NOTICE, code, "m"); ereport!(INFO, code, "m");
ereport!(WARNING, code, "m", "with a detail"); ereport!(NOTICE, code, format!("m {v}"), "d");
ereport!(LOG, code, "m"); ereport!(DEBUG1, code, "m"); ereport!(DEBUG2, code, "m");
ereport!(DEBUG3, code, "m"); ereport!(DEBUG4, code, "m"); ereport!(DEBUG5, code, "m");
let _never_called = || -> i32 {
    if v > 100 { error!("e {}", v) }
    if v > 101 { pgrx::error!("e") }
    if v > 102 { ereport!(PgLogLevel::ERROR, code, "m") }
    if v > 103 { ereport!(PgLogLevel::ERROR, code, "m", "d") }
    if v > 104 { ereport!(FATAL, code, "refused at run time") }
    if v > 105 { ereport!(PANIC, code, "refused at run time") }
    if v > 106 { ereport!(ERROR, code, "m", "with a detail") }
    ereport!(ERROR, code, "diverges, so this closure returns i32")
};
// name! in a TABLE function's row type, by an identifier or a string.
fn rows() -> TableIterator<'static, (name!(a, i32), name!("b", Option<String>), pgrx::iter::name!(c, bool))> {
    TableIterator::new(vec![(1, None, true)])
}
let _ = rows;
// composite_type! with and without a lifetime, and by its module's path.
fn composites<'a>(
    x: composite_type!("t"),
    y: composite_type!('a, "t"),
    z: Option<pgrx::heap_tuple::composite_type!("t")>,
) -> Vec<composite_type!('a, "t")> {
    let _ = z;
    vec![x, y]
}
let _ = composites;
Ok(Some(true))
