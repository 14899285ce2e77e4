//! Running the source check and rustc on a generated crate, in a box.
//!
//! The backend that runs CREATE FUNCTION must never hang, never parse an
//! untrusted body on its own stack (a deeply nested body would overflow it
//! and take the cluster through crash recovery) and never hand rustc more
//! than it needs.  So the backend writes the body and the generated crate to
//! a private directory and starts the compile driver (`plrust-compile`, in
//! the kit), which confines itself with Landlock (see landlock.rs), checks
//! the body (check.rs) and then execs rustc.  Driver and rustc run:
//! - with an empty environment (a linker path is passed explicitly; TMPDIR
//!   points into the private directory for the linker's temporary files),
//! - in that private directory, which holds only this function's files,
//! - under rlimits on address space, CPU time, file size and core dumps,
//! - with a parent-death signal, so a backend that dies takes rustc along,
//! - in their own process group, so that killing it also kills the linker,
//! - under a wall-clock timeout, and with a `check` callback polled every
//!   few milliseconds so the backend can cancel (statement_timeout,
//!   pg_cancel_backend): either way the group is killed and reaped.
//!
//! Diagnostics are written to a file, not a pipe, so a flood of errors
//! cannot block rustc on a full pipe.

use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::check::Rejection;
use crate::dependencies::{self, Refusal, Resolved};

/// Files in the build directory, shared by the backend and the driver.
pub const BODY_FILE: &str = "body.rs";
pub const CRATE_FILE: &str = "lib.rs";
pub const OUTPUT_FILE: &str = "function.so";
pub const DIAGNOSTICS_FILE: &str = "rustc.json";
pub const REJECTION_FILE: &str = "rejection.json";

/// plrust-api in the kit's `deps`: a Rust dylib with std and every other
/// dependency of plrust-api inside.  Given to rustc as the only form of
/// `plrust_api`, it makes rustc link the function dynamically against it
/// (and so against its std: the kit has no other std dylib, see
/// scripts/install-kit.py), so a compiled function holds only its own code,
/// a few KB, not another copy of std, the channel's encoding and the value
/// types (~340 KB).  The executor loads this library before any function
/// (bgworker/src/executor/loader.rs).
pub const API_DYLIB: &str = "libplrust_api.so";

/// The driver's second argument for a resolution without a compile.
pub const RESOLVE_ONLY: &str = "--resolve-only";

/// Exit codes of the driver before it execs rustc (rustc itself exits with
/// 0, 1 or 101).
pub const EXIT_REJECTED: i32 = 3;
pub const EXIT_SANDBOX: i32 = 4;
pub const EXIT_USAGE: i32 = 5;
/// The driver could not get the memory for its parser's stack.
pub const EXIT_RESOURCE: i32 = 6;
/// The body's `[dependencies]` were refused (dependencies::REFUSAL_FILE).
pub const EXIT_REFUSED: i32 = 7;

/// Where the compiler kit lives (laid out by scripts/install-kit.py).
#[derive(Debug, Clone)]
pub struct Toolchain {
    /// `bin/rustc` of the kit.
    pub rustc: PathBuf,
    /// A sysroot holding core, alloc and what they need, and, as `std`, the
    /// postgrestd facade: the real std cannot be named against it.
    pub sysroot: PathBuf,
    /// The real target libraries (std and its dependencies), reachable only
    /// as indirect dependencies of the facade.
    pub std_libs: PathBuf,
    /// plrust-api's dylib (`API_DYLIB`) and the rlibs of its
    /// dependencies (for their metadata: their code is in the dylib).
    pub deps: PathBuf,
    /// The linker driver.
    pub linker: PathBuf,
    /// The kit itself (what the compile driver may read).
    pub kit: PathBuf,
    /// The compile driver: check, confine, exec rustc.
    pub driver: PathBuf,
    /// The crates prepared for the allow-list (scripts/prepare-crates.py):
    /// their rlibs, proc-macro libraries and `manifest.json`.
    pub crates: PathBuf,
}

impl Toolchain {
    /// The standard layout below a kit directory.
    pub fn in_kit(kit: &Path) -> Toolchain {
        Toolchain {
            rustc: kit.join("toolchain/bin/rustc"),
            sysroot: kit.join("sysroot"),
            std_libs: kit.join("toolchain/lib/rustlib/x86_64-unknown-linux-gnu/lib"),
            deps: kit.join("deps"),
            linker: PathBuf::from("/usr/bin/cc"),
            kit: kit.to_path_buf(),
            driver: kit.join("plrust-compile"),
            crates: kit.join(dependencies::CRATES_DIR),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub memory_bytes: u64,
    pub cpu_seconds: u64,
}

/// A body's `[dependencies]` section and the allow-list to resolve it
/// against (the backend read the file that plrust.allowed_dependencies
/// names: the driver cannot).
#[derive(Debug, Clone, Copy)]
pub struct Dependencies<'a> {
    pub section: &'a str,
    pub allow_list: &'a str,
}

/// A compiled function: its shared object, and the exact crates it was
/// built with.
#[derive(Debug)]
pub struct Compiled {
    pub object: Vec<u8>,
    pub dependencies: Vec<Resolved>,
}

#[derive(Debug)]
pub enum CompileError<E> {
    /// The source check refused the body.
    BodyRejected(Rejection),
    /// Its dependencies were refused (not allowed, not prepared, ...).
    DependenciesRefused(Refusal),
    /// rustc ran and refused the crate: its diagnostics, JSON lines.
    Rejected { diagnostics: String },
    /// rustc was killed after the wall-clock timeout.
    Timeout(Duration),
    /// The driver or rustc died of a signal or ended with an exit code
    /// that is not a verdict on the crate: an rlimit, usually.
    Crashed {
        status: std::process::ExitStatus,
        diagnostics: String,
    },
    /// The caller's check asked to stop (the query was cancelled).
    Cancelled(E),
    /// Something around rustc failed (missing kit, I/O).
    Io(String),
}

fn io_err<E>(what: &str, e: io::Error) -> CompileError<E> {
    CompileError::Io(format!("{what}: {e}"))
}

fn set_rlimit(resource: libc::__rlimit_resource_t, value: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: setrlimit reads the struct we pass; async-signal-safe.
    if unsafe { libc::setrlimit(resource, &lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A body's optimization level.  With dependencies, 1: rustc shares
/// generics below 2, so the body links the generic instances its crates
/// already compiled (scripts/prepare-crates.py builds them at 1 too)
/// instead of optimizing its own copies.  A body with regex and
/// serde_json then compiles in about the time of one without (0.23 s
/// against 0.57 s at 2, measured), and dependency code runs ~20% slower
/// than at 3.
fn opt_level(dependencies: &[Resolved]) -> u8 {
    if dependencies.is_empty() {
        2
    } else {
        1
    }
}

/// The rustc command line for the crate in `dir` (used by the driver),
/// with the prepared crates it depends on.
pub fn rustc_command(
    tc: &Toolchain,
    dir: &Path,
    crate_name: &str,
    dependencies: &[Resolved],
) -> Command {
    let mut cmd = Command::new(&tc.rustc);
    cmd.env_clear()
        .env("TMPDIR", dir)
        .current_dir(dir)
        .arg("--edition=2021")
        .arg("--crate-type=cdylib")
        .arg(format!("--crate-name={crate_name}"))
        .arg("-C")
        .arg(format!("opt-level={}", opt_level(dependencies)))
        .args(["-C", "panic=unwind"])
        // Integer overflow is an ERROR (22003), as in SQL, not a wrap.
        .args(["-C", "overflow-checks=on"])
        .args(["-C", "debuginfo=0", "-C", "strip=symbols"])
        .args(["-C", "codegen-units=1"])
        .arg("-C")
        .arg(format!("linker={}", tc.linker.display()))
        .arg("--sysroot")
        .arg(&tc.sysroot)
        .arg("-L")
        .arg(format!("dependency={}", tc.std_libs.display()))
        .arg("-L")
        .arg(format!("dependency={}", tc.deps.display()))
        .arg("--extern")
        .arg(format!("plrust_api={}", tc.deps.join(API_DYLIB).display()));
    if !dependencies.is_empty() {
        // Their own dependencies are found here by name and hash.
        cmd.arg("-L")
            .arg(format!("dependency={}", tc.crates.display()));
    }
    for d in dependencies {
        cmd.arg("--extern").arg(format!(
            "{}={}",
            d.lib_name,
            tc.crates.join(&d.file).display()
        ));
    }
    cmd.arg("--error-format=json")
        .arg("-o")
        .arg(dir.join(OUTPUT_FILE))
        .arg(dir.join(CRATE_FILE));
    cmd
}

/// Check `body` and compile `source` (the crate generated from it) as crate
/// `crate_name` into a shared object, in `dir` (which must exist, be private
/// to the caller and empty), with the crates `dependencies` asks for.
#[allow(clippy::too_many_arguments)]
pub fn compile<E>(
    tc: &Toolchain,
    limits: Limits,
    dir: &Path,
    crate_name: &str,
    body: &str,
    source: &str,
    dependencies: Option<Dependencies<'_>>,
    check: impl FnMut() -> Result<(), E>,
) -> Result<Compiled, CompileError<E>> {
    fs::write(dir.join(BODY_FILE), body).map_err(|e| io_err("writing the body", e))?;
    fs::write(dir.join(CRATE_FILE), source)
        .map_err(|e| io_err("writing the generated crate", e))?;
    if let Some(d) = dependencies {
        write_dependencies(dir, d)?;
    }
    let (status, diagnostics) = run_driver(tc, limits, dir, crate_name, check)?;
    match status.code() {
        Some(0) => {
            let object = fs::read(dir.join(OUTPUT_FILE))
                .map_err(|e| io_err("reading the compiled function", e))?;
            let dependencies = match dependencies {
                None => Vec::new(),
                Some(_) => read_resolved(dir)?,
            };
            Ok(Compiled {
                object,
                dependencies,
            })
        }
        Some(EXIT_REFUSED) => Err(read_refusal(dir)),
        Some(EXIT_REJECTED) => {
            let text = read_bounded(&dir.join(REJECTION_FILE), 64 << 10);
            serde_json::from_str(&text)
                .map(CompileError::BodyRejected)
                .map_err(|e| CompileError::Io(format!("unreadable rejection: {e}")))
                .and_then(Err)
        }
        Some(EXIT_SANDBOX | EXIT_USAGE) => Err(CompileError::Io(diagnostics)),
        // rustc's verdict: the crate has errors.
        Some(1) => Err(CompileError::Rejected { diagnostics }),
        _ => Err(CompileError::Crashed {
            status,
            diagnostics,
        }),
    }
}

/// Resolve `dependencies` as a compile would, without compiling: for a
/// definition whose code exists, so that the allow-list in force, not the
/// one its code was built under, decides whether it may be defined.
pub fn resolve<E>(
    tc: &Toolchain,
    limits: Limits,
    dir: &Path,
    dependencies: Dependencies<'_>,
    check: impl FnMut() -> Result<(), E>,
) -> Result<Vec<Resolved>, CompileError<E>> {
    fs::write(dir.join(BODY_FILE), "").map_err(|e| io_err("writing the body", e))?;
    write_dependencies(dir, dependencies)?;
    let (status, diagnostics) = run_driver(tc, limits, dir, RESOLVE_ONLY, check)?;
    match status.code() {
        Some(0) => read_resolved(dir),
        Some(EXIT_REFUSED) => Err(read_refusal(dir)),
        Some(EXIT_SANDBOX | EXIT_USAGE) => Err(CompileError::Io(diagnostics)),
        _ => Err(CompileError::Crashed {
            status,
            diagnostics,
        }),
    }
}

fn write_dependencies<E>(dir: &Path, d: Dependencies<'_>) -> Result<(), CompileError<E>> {
    fs::write(dir.join(dependencies::SECTION_FILE), d.section)
        .map_err(|e| io_err("writing the dependencies", e))?;
    fs::write(dir.join(dependencies::ALLOW_LIST_FILE), d.allow_list)
        .map_err(|e| io_err("writing the allow-list", e))
}

fn read_resolved<E>(dir: &Path) -> Result<Vec<Resolved>, CompileError<E>> {
    let text = read_bounded(&dir.join(dependencies::RESOLVED_FILE), 1 << 20);
    serde_json::from_str(&text).map_err(|e| CompileError::Io(format!("unreadable resolution: {e}")))
}

fn read_refusal<E>(dir: &Path) -> CompileError<E> {
    let text = read_bounded(&dir.join(dependencies::REFUSAL_FILE), 64 << 10);
    match serde_json::from_str(&text) {
        Ok(refusal) => CompileError::DependenciesRefused(refusal),
        Err(e) => CompileError::Io(format!("unreadable refusal: {e}")),
    }
}

/// Start the driver in `dir` (`plrust-compile KIT ARG`), boxed, and wait
/// for it: its exit status and what it (or rustc) wrote to stderr.
fn run_driver<E>(
    tc: &Toolchain,
    limits: Limits,
    dir: &Path,
    arg: &str,
    mut check: impl FnMut() -> Result<(), E>,
) -> Result<(std::process::ExitStatus, String), CompileError<E>> {
    let diag = dir.join(DIAGNOSTICS_FILE);
    let diag_file =
        fs::File::create(&diag).map_err(|e| io_err("creating the diagnostics file", e))?;

    let mut cmd = Command::new(&tc.driver);
    cmd.env_clear()
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(diag_file)
        .arg(&tc.kit)
        .arg(arg);
    let (mem, cpu) = (limits.memory_bytes, limits.cpu_seconds);
    // SAFETY: the closure runs in the forked child before exec and only
    // makes async-signal-safe syscalls (setrlimit, prctl, setpgid); it
    // allocates nothing and touches no lock.
    unsafe {
        cmd.pre_exec(move || {
            set_rlimit(libc::RLIMIT_AS, mem)?;
            set_rlimit(libc::RLIMIT_CPU, cpu)?;
            set_rlimit(libc::RLIMIT_FSIZE, 512 << 20)?;
            set_rlimit(libc::RLIMIT_CORE, 0)?;
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| io_err(&format!("starting {}", tc.driver.display()), e))?;
    let kill_group = |child: &mut std::process::Child| {
        let pgid = child.id() as libc::pid_t;
        // SAFETY: kill has no memory effects; the group is the child's own
        // (setpgid above), so this reaches rustc and the linker only.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = child.wait();
    };

    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(io_err("waiting for rustc", e)),
        }
        if start.elapsed() >= limits.timeout {
            kill_group(&mut child);
            return Err(CompileError::Timeout(limits.timeout));
        }
        if let Err(e) = check() {
            kill_group(&mut child);
            return Err(CompileError::Cancelled(e));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // The group may still hold a linker that outlived rustc.
    // SAFETY: as above.
    unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
    Ok((status, read_bounded(&diag, 1 << 20)))
}

/// At most `limit` bytes of a file the driver or rustc wrote (lossy UTF-8).
fn read_bounded(path: &Path, limit: u64) -> String {
    use std::io::Read;
    let mut bytes = Vec::new();
    if let Ok(f) = fs::File::open(path) {
        let _ = f.take(limit).read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
