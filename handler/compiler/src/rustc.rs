//! Running rustc on a generated crate, in a box.
//!
//! The backend that runs CREATE FUNCTION must never hang and never hand
//! rustc more than it needs, so rustc runs:
//! - with an empty environment (a linker path is passed explicitly),
//! - in a private directory that holds only its own source and output,
//! - under rlimits on address space, CPU time, file size and core dumps,
//! - with a parent-death signal, so a backend that dies takes rustc along,
//! - under a wall-clock timeout, and with a `check` callback polled every
//!   few milliseconds so the backend can cancel (statement_timeout,
//!   pg_cancel_backend): either way rustc is killed and reaped.
//!
//! Its diagnostics are written to a file, not a pipe, so a flood of errors
//! cannot block it on a full pipe.

use std::fs;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where the compiler kit lives (laid out by scripts/install-kit.sh).
#[derive(Debug, Clone)]
pub struct Toolchain {
    /// `bin/rustc` of the kit.
    pub rustc: PathBuf,
    /// A sysroot holding only core, alloc and what they need: `extern crate
    /// std` cannot resolve against it.
    pub sysroot: PathBuf,
    /// The real target libraries (std and its dependencies), reachable only
    /// as indirect dependencies of the facade.
    pub std_libs: PathBuf,
    /// plrust-std, plrust-api and their dependencies.
    pub deps: PathBuf,
    /// The linker driver.
    pub linker: PathBuf,
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
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub memory_bytes: u64,
    pub cpu_seconds: u64,
}

#[derive(Debug)]
pub enum CompileError<E> {
    /// rustc ran and refused the crate: its diagnostics, JSON lines.
    Rejected { diagnostics: String },
    /// rustc was killed after the wall-clock timeout.
    Timeout(Duration),
    /// rustc died of a signal (an rlimit, usually).
    Killed { signal: i32, diagnostics: String },
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

/// Compile `source` as crate `crate_name` into a shared object, in `dir`
/// (which must exist, be private to the caller and empty).  Returns the
/// shared object's bytes.
pub fn compile<E>(
    tc: &Toolchain,
    limits: Limits,
    dir: &Path,
    crate_name: &str,
    source: &str,
    mut check: impl FnMut() -> Result<(), E>,
) -> Result<Vec<u8>, CompileError<E>> {
    let src = dir.join("lib.rs");
    let out = dir.join("function.so");
    let diag = dir.join("rustc.json");
    fs::write(&src, source).map_err(|e| io_err("writing the generated crate", e))?;
    let diag_file =
        fs::File::create(&diag).map_err(|e| io_err("creating the diagnostics file", e))?;

    let mut cmd = Command::new(&tc.rustc);
    cmd.env_clear()
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(diag_file)
        .arg("--edition=2021")
        .arg("--crate-type=cdylib")
        .arg(format!("--crate-name={crate_name}"))
        .args([
            "-C",
            "opt-level=2",
            "-C",
            "panic=unwind",
            "-C",
            "debuginfo=0",
            "-C",
            "strip=symbols",
        ])
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
        .arg(format!(
            "plrust_std={}",
            tc.deps.join("libplrust_std.rlib").display()
        ))
        .arg("--extern")
        .arg(format!(
            "plrust_api={}",
            tc.deps.join("libplrust_api.rlib").display()
        ))
        .arg("--error-format=json")
        .arg("-o")
        .arg(&out)
        .arg(&src);
    let (mem, cpu) = (limits.memory_bytes, limits.cpu_seconds);
    // SAFETY: the closure runs in the forked child before exec and only
    // makes async-signal-safe syscalls (setrlimit, prctl); it allocates
    // nothing and touches no lock.
    unsafe {
        cmd.pre_exec(move || {
            set_rlimit(libc::RLIMIT_AS, mem)?;
            set_rlimit(libc::RLIMIT_CPU, cpu)?;
            set_rlimit(libc::RLIMIT_FSIZE, 512 << 20)?;
            set_rlimit(libc::RLIMIT_CORE, 0)?;
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| io_err(&format!("starting {}", tc.rustc.display()), e))?;

    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(io_err("waiting for rustc", e)),
        }
        if start.elapsed() >= limits.timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(CompileError::Timeout(limits.timeout));
        }
        if let Err(e) = check() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(CompileError::Cancelled(e));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let diagnostics = fs::read_to_string(&diag).unwrap_or_default();
    if !status.success() {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return Err(CompileError::Killed {
                signal,
                diagnostics,
            });
        }
        return Err(CompileError::Rejected { diagnostics });
    }
    fs::read(&out).map_err(|e| io_err("reading the compiled function", e))
}
