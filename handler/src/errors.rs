//! Raising errors the way PostgreSQL users expect: SQLSTATE, message,
//! DETAIL and HINT.

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;

pub fn raise(
    code: PgSqlErrorCode,
    message: String,
    detail: Option<String>,
    hint: Option<String>,
) -> ! {
    let mut report = ErrorReport::new(code, message, "plrust");
    if let Some(d) = detail {
        report = report.set_detail(d);
    }
    if let Some(h) = hint {
        report = report.set_hint(h);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ERROR returned")
}

/// Keep Rust backtraces out of error reports.
///
/// pgrx's panic hook captures a backtrace at every ERROR that crosses Rust
/// code, and when `RUST_BACKTRACE` (or `RUST_LIB_BACKTRACE`) is in the
/// server's environment it appends it to the DETAIL: the server's
/// internals in a tenant's client, and, through calls nested in SPI, a
/// DETAIL that grows by a backtrace per level (144 KiB at 270 levels) and
/// takes a capture per level.  std reads `RUST_LIB_BACKTRACE` before
/// `RUST_BACKTRACE`, once per process, when it first captures one; set
/// here, in `_PG_init`, before any capture and while the process has one
/// thread, every backend forked later inherits it.  Panics still print
/// their backtraces where `RUST_BACKTRACE` says (the panic message, not a
/// captured `Backtrace`).
pub fn no_backtraces_in_reports() {
    std::env::set_var("RUST_LIB_BACKTRACE", "0");
}
