//! plrust: the PostgreSQL side of the trusted Rust language.
//!
//! Loaded with `shared_preload_libraries`, `_PG_init` (in the postmaster)
//! defines the GUCs, creates one channel memfd per pool slot, asks for the
//! pool's shared state and registers the pool's supervisor, the background
//! worker that starts and stops executors.  In a
//! backend, `call::plrust_call_handler` and `validate::plrust_validator`
//! are the language's handler and validator.  No user code ever runs in
//! this library: it compiles bodies (with rustc, in a box) and hands calls
//! to executor processes.  See README.md.

use pgrx::prelude::*;

mod acquire;
mod alter;
mod backend_local;
mod call;
mod catalog;
mod compile;
mod conv;
mod dependencies;
mod drop;
mod errors;
mod exchange;
mod function;
mod gucs;
mod interrupts;
mod lease;
mod pool;
mod prepare;
mod queue;
mod request;
mod spi;
mod spin;
mod status;
mod supervisor;
mod trigger;
mod upcall;

pgrx::pg_module_magic!();

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    errors::no_backtraces_in_reports();
    // SAFETY: reading a postmaster global that is only written before
    // libraries are preloaded.
    let preloading = unsafe { pg_sys::process_shared_preload_libraries_in_progress };
    gucs::define(preloading);
    if !preloading {
        // Loaded into one backend only (CREATE EXTENSION without preload):
        // plrust_ensure_preloaded reports what to set.
        return;
    }
    gucs::resolve_pool_size();
    pool::init();
    supervisor::register();
    alter::install();
}

/// Called from the extension script: refuses to create the language when
/// the library is not preloaded, because then there is no pool.
#[no_mangle]
pub extern "C" fn pg_finfo_plrust_ensure_preloaded() -> &'static pg_sys::Pg_finfo_record {
    &call::V1
}

#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn plrust_ensure_preloaded(
    _fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    if !pool::is_initialized() {
        errors::raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "plrust must be loaded via shared_preload_libraries".into(),
            Some("plrust runs functions in a pool of executors whose supervisor, a background worker, only a preloaded library can start.".into()),
            Some("Add 'plrust' to shared_preload_libraries in postgresql.conf and restart the server.".into()),
        );
    }
    pg_sys::Datum::from(0)
}
