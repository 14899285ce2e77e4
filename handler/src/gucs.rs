//! plrust's settings (all visible in pg_settings; documented in README.md).

use std::ffi::{CStr, CString};

use pgrx::guc::{GucContext, GucFlags, GucRegistry, GucSetting};

/// Pool slots: the most executors that run at once (0 until _PG_init
/// sizes it for the machine).
pub static MAX_EXECUTORS_SETTING: GucSetting<i32> = GucSetting::<i32>::new(0);
pub const MAX_EXECUTORS: i32 = 128;
/// Obsolete name of the pool size (each slot used to be a worker).
pub static WORKERS: GucSetting<i32> = GucSetting::<i32>::new(0);
/// Most executors one principal holds (0 until _PG_init sets it to half
/// the pool).
pub static MAX_EXECUTORS_PER_PRINCIPAL: GucSetting<i32> = GucSetting::<i32>::new(0);
/// How long a bound executor may sit idle before it is retired (ms).
pub static EXECUTOR_IDLE_TIMEOUT: GucSetting<i32> = GucSetting::<i32>::new(60_000);

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

/// The allow-list of crates bodies may name in `[dependencies]`: a TOML
/// file in PL/Rust's format.  Empty: no crate is allowed.
pub static ALLOWED_DEPENDENCIES: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"$libdir/plrust/allowed-dependencies.toml"));

/// Define the settings.  PGC_POSTMASTER ones can only be defined while
/// libraries are preloaded (PostgreSQL raises FATAL otherwise), so a
/// backend that loads plrust without preloading it skips them.
pub fn define(preloading: bool) {
    if preloading {
        GucRegistry::define_int_guc(
            c"plrust.max_executors",
            c"Most plrust executor processes that run at once.",
            c"Executors start when calls need them and retire when idle (plrust.executor_idle_timeout). 0 sizes the pool for the machine: 16 per CPU, at least 32, at most 128.",
            &MAX_EXECUTORS_SETTING,
            0,
            MAX_EXECUTORS,
            GucContext::Postmaster,
            GucFlags::default(),
        );
        GucRegistry::define_int_guc(
            c"plrust.workers",
            c"Obsolete: the pool's size is plrust.max_executors.",
            c"When set and plrust.max_executors is not, it is used as plrust.max_executors. Rename it in postgresql.conf.",
            &WORKERS,
            0,
            MAX_EXECUTORS,
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
    GucRegistry::define_string_guc(
        c"plrust.allowed_dependencies",
        c"File naming the crates plrust function bodies may depend on (PL/Rust's allow-list format).",
        c"$libdir expands to PostgreSQL's package library directory; empty allows no crates. The crates must also be prepared: bash scripts/setup.sh --allowed-dependencies FILE.",
        &ALLOWED_DEPENDENCIES,
        GucContext::Sighup,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"plrust.max_executors_per_principal",
        c"Most plrust executors that the functions of one owner in one database hold at once.",
        c"A call whose owner holds that many, all busy, waits for one of them; other owners' calls do not wait for it. The calling session's value counts; a superuser sets it per role with ALTER ROLE ... SET. 0 means half of plrust.max_executors.",
        &MAX_EXECUTORS_PER_PRINCIPAL,
        0,
        MAX_EXECUTORS,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"plrust.executor_idle_timeout",
        c"How long a plrust executor bound to a function owner may stay idle before it is retired.",
        c"",
        &EXECUTOR_IDLE_TIMEOUT,
        100,
        i32::MAX,
        GucContext::Sighup,
        GucFlags::UNIT_MS,
    );
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

/// CPUs this process may run on.
pub fn cpus() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

/// In the postmaster, after the settings are read: give the pool size and
/// the per-principal ceiling their machine-sized values where they are 0,
/// as PostgreSQL does for wal_buffers, so pg_settings shows what is used.
pub fn resolve_pool_size() {
    let mut n = MAX_EXECUTORS_SETTING.get();
    if n == 0 {
        n = match WORKERS.get() {
            0 => (16 * cpus() as i32).clamp(32, MAX_EXECUTORS),
            w => w,
        };
        set_dynamic_default(c"plrust.max_executors", n);
    }
    if MAX_EXECUTORS_PER_PRINCIPAL.get() == 0 {
        set_dynamic_default(c"plrust.max_executors_per_principal", (n / 2).max(1));
    }
}

fn set_dynamic_default(name: &CStr, value: i32) {
    let v = CString::new(value.to_string()).expect("a number has no NUL");
    // SAFETY: setting a GUC we defined, in the postmaster while libraries
    // are preloaded; both strings are NUL-terminated.  A value set
    // explicitly to 0 outranks a dynamic default, so it is overridden.
    unsafe {
        pgrx::pg_sys::SetConfigOption(
            name.as_ptr(),
            v.as_ptr(),
            pgrx::pg_sys::GucContext::PGC_POSTMASTER,
            pgrx::pg_sys::GucSource::PGC_S_DYNAMIC_DEFAULT,
        );
        if get_int(name) == 0 {
            pgrx::pg_sys::SetConfigOption(
                name.as_ptr(),
                v.as_ptr(),
                pgrx::pg_sys::GucContext::PGC_POSTMASTER,
                pgrx::pg_sys::GucSource::PGC_S_OVERRIDE,
            );
        }
    }
}

fn get_int(name: &CStr) -> i32 {
    // SAFETY: GetConfigOption returns a NUL-terminated string owned by the
    // GUC machinery (or NULL when missing_ok and unknown).
    unsafe {
        let p = pgrx::pg_sys::GetConfigOption(name.as_ptr(), true, false);
        if p.is_null() {
            return 0;
        }
        CStr::from_ptr(p)
            .to_str()
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}

/// The pool's size: plrust.max_executors as resolved at start.
pub fn max_executors() -> usize {
    MAX_EXECUTORS_SETTING.get().clamp(1, MAX_EXECUTORS) as usize
}

/// This session's ceiling for one principal.
pub fn executors_per_principal() -> usize {
    let n = match MAX_EXECUTORS_PER_PRINCIPAL.get() {
        0 => max_executors() / 2,
        n => n as usize,
    };
    n.clamp(1, max_executors())
}

/// plrust.toolchain_dir with $libdir expanded.
pub fn kit_dir() -> std::path::PathBuf {
    let raw = KIT_DIR
        .get()
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_default();
    if raw.is_empty() {
        expand_libdir("$libdir/plrust")
    } else {
        expand_libdir(&raw)
    }
}

/// plrust.allowed_dependencies with $libdir expanded; None when empty.
pub fn allowed_dependencies_file() -> Option<std::path::PathBuf> {
    let raw = ALLOWED_DEPENDENCIES
        .get()
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_default();
    (!raw.trim().is_empty()).then(|| expand_libdir(raw.trim()))
}

/// A path setting, with a leading `$libdir` as PostgreSQL's package
/// library directory.
fn expand_libdir(raw: &str) -> std::path::PathBuf {
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
