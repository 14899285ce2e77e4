//! plrust's settings (all visible in pg_settings; documented in README.md).

use std::ffi::{CStr, CString};

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};

/// Pool slots: background workers, each supervising one executor.
pub static WORKERS: GucSetting<i32> = GucSetting::<i32>::new(4);
pub const MAX_WORKERS: i32 = 64;

/// Wall-clock limit for one rustc run (ms).
pub static COMPILE_TIMEOUT: GucSetting<i32> = GucSetting::<i32>::new(30_000);
/// Address-space limit for rustc (MB).
pub static COMPILE_MEMORY_LIMIT: GucSetting<i32> = GucSetting::<i32>::new(4096);
/// Address-space limit for an executor (MB), applied when it starts.
pub static EXECUTOR_MEMORY_LIMIT: GucSetting<i32> = GucSetting::<i32>::new(512);
/// CPU time one call may use in its executor (ms, 0: no limit).
pub static CALL_CPU_LIMIT: GucSetting<i32> = GucSetting::<i32>::new(0);
/// How long a call waits for a free executor (ms).
pub static POOL_WAIT_TIMEOUT: GucSetting<i32> = GucSetting::<i32>::new(10_000);
/// Read from a function's own settings (CREATE FUNCTION ... SET): array
/// results as pgrx::Array<T>.
pub static SHAPED_ARRAYS: GucSetting<bool> = GucSetting::<bool>::new(false);
/// The compiler kit and executor binary.
pub static KIT_DIR: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"$libdir/plrust"));

/// Define the settings.  PGC_POSTMASTER ones can only be defined while
/// libraries are preloaded (PostgreSQL raises FATAL otherwise), so a
/// backend that loads plrust without preloading it skips them.
pub fn define(preloading: bool) {
    if preloading {
        GucRegistry::define_int_guc(
            c"plrust.workers",
            c"Number of plrust executor processes (one background worker each).",
            c"Each executor serves one function owner in one database at a time; calls wait when all are busy.",
            &WORKERS,
            1,
            MAX_WORKERS,
            GucContext::Postmaster,
            GucFlags::default(),
        );
        GucRegistry::define_string_guc(
            c"plrust.toolchain_dir",
            c"Directory of plrust's compiler kit and executor binary.",
            c"$libdir expands to PostgreSQL's package library directory.",
            &KIT_DIR,
            GucContext::Postmaster,
            GucFlags::SUPERUSER_ONLY,
        );
    }
    GucRegistry::define_int_guc(
        c"plrust.compile_timeout",
        c"Longest time rustc may take to compile one plrust function.",
        c"CREATE FUNCTION fails when compilation takes longer.",
        &COMPILE_TIMEOUT,
        100,
        3_600_000,
        GucContext::Suset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_int_guc(
        c"plrust.compile_memory_limit",
        c"Address-space limit of the rustc process compiling a plrust function.",
        c"",
        &COMPILE_MEMORY_LIMIT,
        256,
        1 << 20,
        GucContext::Suset,
        GucFlags::UNIT_MB,
    );
    GucRegistry::define_int_guc(
        c"plrust.executor_memory_limit",
        c"Address-space limit of each plrust executor process.",
        c"An executor applies the limit of the session that binds it; sessions with different limits use different executors. A call that exceeds it fails and its executor is replaced.",
        &EXECUTOR_MEMORY_LIMIT,
        64,
        1 << 20,
        GucContext::Suset,
        GucFlags::UNIT_MB,
    );
    GucRegistry::define_int_guc(
        c"plrust.call_cpu_limit",
        c"CPU time one call of a plrust function may use; 0 means no limit.",
        c"A call that exceeds it fails with SQLSTATE 54000 and its executor is replaced. Unlike statement_timeout, only a superuser can change it.",
        &CALL_CPU_LIMIT,
        0,
        i32::MAX,
        GucContext::Suset,
        GucFlags::UNIT_MS,
    );
    GucRegistry::define_bool_guc(
        c"plrust.shaped_arrays",
        c"Whether a plrust function's array results keep their dimensions and lower bounds.",
        c"Set it on a function (CREATE FUNCTION ... SET plrust.shaped_arrays = on) to return pgrx::Array<T> instead of PL/Rust's Vec<Option<T>>. The function's own setting is what counts: it decides how the function compiles.",
        &SHAPED_ARRAYS,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"plrust.pool_wait_timeout",
        c"How long a call waits for a free plrust executor.",
        c"",
        &POOL_WAIT_TIMEOUT,
        0,
        3_600_000,
        GucContext::Suset,
        GucFlags::UNIT_MS,
    );
}

/// plrust.toolchain_dir with $libdir expanded.
pub fn kit_dir() -> std::path::PathBuf {
    let raw = KIT_DIR
        .get()
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_default();
    let raw = if raw.is_empty() {
        "$libdir/plrust".to_string()
    } else {
        raw
    };
    if let Some(rest) = raw.strip_prefix("$libdir") {
        // SAFETY: pkglib_path is a NUL-terminated buffer set at startup.
        let libdir =
            unsafe { CStr::from_ptr(std::ptr::addr_of!(pgrx::pg_sys::pkglib_path).cast()) };
        return std::path::PathBuf::from(format!("{}{}", libdir.to_string_lossy(), rest));
    }
    std::path::PathBuf::from(raw)
}

pub fn megabytes(setting: &GucSetting<i32>) -> u64 {
    (setting.get().max(0) as u64) << 20
}
