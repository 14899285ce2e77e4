//! compile_function: a definition from pg_proc → a checked body → a
//! generated crate → rustc in its box → a shared object in plrust.artifacts.
//! Runs at CREATE FUNCTION (the validator) or, for functions created with
//! check_function_bodies off, at their first call.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pgrx::prelude::*;
use plrust_compiler::rustc::{self, CompileError, Limits, Toolchain};
use plrust_compiler::{codegen, diagnostics};

use crate::errors::raise;
use crate::function::Function;
use crate::{catalog, gucs, interrupts};

/// The longest body accepted.  A body is a function, not a program: 1 MiB
/// is far beyond any hand-written one, and the check, rustc and
/// plrust.artifacts would otherwise spend time and memory on a body that can
/// only be an accident or an attack.
const MAX_BODY_BYTES: usize = 1 << 20;

/// A private build directory under the data directory, removed afterwards.
struct BuildDir(PathBuf);

impl BuildDir {
    fn new(oid: pg_sys::Oid) -> BuildDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        // SAFETY: DataDir is set at startup to a NUL-terminated path.
        let data = unsafe { std::ffi::CStr::from_ptr(pg_sys::DataDir) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: MyProcPid is set at process start.
        let pid = unsafe { pg_sys::MyProcPid };
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let root = PathBuf::from(data).join("pg_plrust").join("build");
        let dir = root.join(format!("{}-{pid}-{n}", oid.to_u32()));
        let made = std::fs::create_dir_all(&root).and_then(|_| {
            use std::os::unix::fs::DirBuilderExt;
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::DirBuilder::new().mode(0o700).create(&dir)
        });
        if let Err(e) = made {
            raise(
                PgSqlErrorCode::ERRCODE_IO_ERROR,
                format!(
                    "plrust: cannot create build directory {}: {e}",
                    dir.display()
                ),
                None,
                None,
            );
        }
        BuildDir(dir)
    }
}

impl Drop for BuildDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Make sure plrust.artifacts holds code for exactly this definition.
/// Code is named by the definition's hash, so a function finds code built
/// for it under another oid (before pg_upgrade), on another major, or for
/// another function of the same owner with the same body and signature.
pub fn ensure_compiled(f: &Function) {
    if catalog::has_code(&f.hash) {
        return;
    }
    let object = compile_function(f);
    catalog::store(&f.hash, f.key(), object);
}

pub fn compile_function(f: &Function) -> Vec<u8> {
    let name = &f.name;
    if f.source.len() > MAX_BODY_BYTES {
        raise(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!("plrust function \"{name}\" is too long"),
            Some(format!(
                "The body has {} bytes; plrust accepts at most {MAX_BODY_BYTES}.",
                f.source.len()
            )),
            Some("Split the function into several functions.".into()),
        );
    }
    let generated = codegen::generate(&f.sig, &f.source);
    let dir = BuildDir::new(f.oid);
    let timeout = Duration::from_millis(gucs::COMPILE_TIMEOUT.get() as u64);
    let limits = Limits {
        timeout,
        memory_bytes: gucs::megabytes(&gucs::COMPILE_MEMORY_LIMIT),
        cpu_seconds: timeout.as_secs() + 1,
    };
    let toolchain = Toolchain::in_kit(&gucs::kit_dir());
    // Named by the hash, like the code: nothing in it depends on the oid.
    let crate_name = format!("plrust_fn_{:016x}", f.key());
    let result = rustc::compile(
        &toolchain,
        limits,
        &dir.0,
        &crate_name,
        &f.source,
        &generated.source,
        || {
            if interrupts::pending() {
                Err(())
            } else {
                Ok(())
            }
        },
    );
    match result {
        Ok(object) => object,
        Err(CompileError::BodyRejected(r)) => {
            let syntax = r.construct == "syntax error";
            let (code, message) = if syntax {
                (
                    PgSqlErrorCode::ERRCODE_SYNTAX_ERROR,
                    format!("plrust function \"{name}\": syntax error: {}", r.reason),
                )
            } else {
                (
                    PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                    format!("plrust function \"{name}\": {} is not allowed", r.construct),
                )
            };
            raise(
                code,
                message,
                Some(format!(
                    "At line {}, column {} of the function body.",
                    r.line, r.column
                )),
                Some(r.reason),
            )
        }
        Err(CompileError::Rejected { diagnostics }) => {
            let body_lines = f.source.lines().count().max(1);
            let errors = diagnostics::errors(&diagnostics, generated.body_first_line, body_lines);
            let detail = if errors.is_empty() {
                diagnostics.lines().take(20).collect::<Vec<_>>().join("\n")
            } else {
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            raise(
                PgSqlErrorCode::ERRCODE_INVALID_FUNCTION_DEFINITION,
                format!("plrust function \"{name}\" does not compile"),
                Some(detail),
                None,
            )
        }
        Err(CompileError::Timeout(d)) => raise(
            PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
            format!(
                "compiling plrust function \"{name}\" took longer than {} ms",
                d.as_millis()
            ),
            None,
            Some(
                "Simplify the function, or ask a superuser to raise plrust.compile_timeout.".into(),
            ),
        ),
        Err(CompileError::Crashed {
            status,
            diagnostics,
        }) => {
            // The last lines say why when the loader or the driver failed.
            let said: Vec<&str> = diagnostics.lines().rev().take(3).collect();
            let said: Vec<&str> = said.into_iter().rev().collect();
            raise(
                PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                format!("compiling plrust function \"{name}\" exceeded a resource limit"),
                Some(format!(
                    "The compiler {}.{}{}",
                    plrust_bgworker::spawn::describe(status),
                    if said.is_empty() { "" } else { "\n" },
                    said.join("\n")
                )),
                Some(
                    "Simplify the function, or ask a superuser to raise plrust.compile_memory_limit."
                        .into(),
                ),
            )
        }
        Err(CompileError::Cancelled(())) => {
            pgrx::check_for_interrupts!();
            raise(
                PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
                "canceling plrust compilation".into(),
                None,
                None,
            )
        }
        Err(CompileError::Io(m)) => raise(
            PgSqlErrorCode::ERRCODE_SYSTEM_ERROR,
            format!("plrust function \"{name}\" cannot be compiled: {m}"),
            None,
            Some(format!(
                "Is plrust's compiler kit installed in {}?",
                gucs::kit_dir().display()
            )),
        ),
    }
}
