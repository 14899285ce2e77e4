//! compile_function: a definition from pg_proc → a checked body → a
//! generated crate → rustc in its box → a shared object in plrust.artifacts.
//! Runs at CREATE FUNCTION (the validator, whatever check_function_bodies
//! says), ALTER ... OWNER TO when there is no code to copy, and
//! plrust.recompile(); never at a call.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pgrx::prelude::*;
use plrust_compiler::dependencies::split_sections;
use plrust_compiler::rustc::{self, CompileError, Compiled, Dependencies, Limits, Toolchain};
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
    if catalog::has_code_locked(&f.hash) {
        verify_dependencies(f);
        return;
    }
    let compiled = compile_function(f);
    let dependencies = crate::dependencies::record(&compiled.dependencies);
    catalog::store(&f.hash, f.key(), compiled.object, &dependencies);
}

/// ensure_compiled, where a body that does not compile must not fail the
/// statement (a restore, an ALTER that renamed the code, a row type's
/// change, plrust.recompile): its error becomes a WARNING that says the
/// function has no code, and the statement goes on.  Whether it built (or
/// found) code.
pub fn ensure_compiled_or_warn(f: &Function) -> bool {
    compile_or_warn(f, false)
}

/// ensure_compiled_or_warn; with `again`, the stored code is replaced by a
/// new build (kept if the build fails).
fn compile_or_warn(f: &Function, again: bool) -> bool {
    let attempt = crate::spi::in_subtransaction(|| {
        if again {
            catalog::forget(&f.hash);
        }
        ensure_compiled(f)
    });
    match attempt {
        Ok(()) => true,
        Err(answer) => {
            let message = match answer {
                plrust_ipc::message::Answer::Error { message, .. } => message,
                _ => "it does not compile".into(),
            };
            pgrx::warning!(
                "plrust function \"{}\" has no compiled code: {message}",
                f.name
            );
            false
        }
    }
}

/// `plrust.recompile(fn regprocedure DEFAULT NULL, force bool DEFAULT false)`:
/// build the code of every plrust function in this database whose current
/// definition has none (a catalog from before plrust compiled at CREATE
/// FUNCTION, a new compiler kit), or of one function; with `force`, build it
/// again even if it has code.  Returns how many objects it built.  Every
/// function needs a superuser; one function, its owner or a superuser.  A
/// function that does not compile is reported (WARNING) and the others go
/// on: one broken body must not stop an extension update.
#[pg_extern]
fn plrust_recompile(function: Option<pg_sys::Oid>, force: bool) -> i32 {
    refuse_read_only("plrust functions");
    // SAFETY: a global the backend sets while it runs an extension script.
    if unsafe { pg_sys::creating_extension } && !catalog::extension_is_current() {
        // An older version's update script, run by ALTER EXTENSION UPDATE
        // on its way to this library's version: the catalog is not yet the
        // one this library writes, and the last script compiles.
        return 0;
    }
    // SAFETY: plain getters of the current user.
    let user = unsafe { pg_sys::GetUserId() };
    // SAFETY: as above.
    let superuser = unsafe { pg_sys::superuser_arg(user) };
    let oids = match function {
        Some(oid) => {
            if !crate::function::is_plrust(oid) {
                raise(
                    PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
                    format!(
                        "function with OID {} is not a plrust function",
                        oid.to_u32()
                    ),
                    None,
                    None,
                );
            }
            vec![oid]
        }
        None if superuser => catalog::functions(None),
        None => raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            "permission denied to recompile every plrust function".into(),
            Some("Only a superuser can recompile every function.".into()),
            Some(
                "Name one of your own functions: SELECT plrust.recompile('f(int)'::regprocedure)."
                    .into(),
            ),
        ),
    };
    let mut built: Vec<[u8; 32]> = Vec::new();
    for oid in oids {
        if function.is_none() && crate::function::code_hash(oid).is_none() {
            // SAFETY: format_procedure returns a palloc'd string for any oid.
            let name = unsafe { std::ffi::CStr::from_ptr(pg_sys::format_procedure(oid)) };
            pgrx::warning!(
                "plrust.recompile: {} cannot be compiled",
                name.to_string_lossy()
            );
            continue;
        }
        let f = crate::function::definition(oid);
        let owner = pg_sys::Oid::from(f.principal.role);
        // SAFETY: a catalog check on two valid role oids.
        let owns = superuser || unsafe { pg_sys::has_privs_of_role(user, owner) };
        if !owns {
            raise(
                PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("must be owner of function {}", f.name),
                None,
                None,
            );
        }
        if built.contains(&f.hash) || (!force && catalog::has_code(&f.hash)) {
            continue;
        }
        if compile_or_warn(&f, force) {
            built.push(f.hash);
        }
    }
    catalog::collect_garbage();
    built.len() as i32
}

/// Compiled code could not be stored in a read-only transaction or on a
/// standby (which gets its code by WAL with the function; nothing
/// compiles there): refuse before rustc runs.
fn refuse_read_only(what: &str) {
    // SAFETY: a global of this backend and a shared-memory read.
    let (read_only, recovery) = unsafe { (pg_sys::XactReadOnly, pg_sys::RecoveryInProgress()) };
    if read_only || recovery {
        raise(
            PgSqlErrorCode::ERRCODE_READ_ONLY_SQL_TRANSACTION,
            format!("cannot compile {what} in a read-only transaction"),
            recovery.then(|| "The server is a standby: code arrives from the primary.".into()),
            Some("Compile on the primary, in a read-write transaction.".into()),
        );
    }
}

pub fn compile_function(f: &Function) -> Compiled {
    let name = &f.name;
    // Its code could not be stored: say so before rustc runs.
    refuse_read_only(&format!("plrust function \"{name}\""));
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
    // PL/Rust's `[dependencies]` and `[code]` sections; the code keeps its
    // lines, so every line number below is the body's as written.
    let sections = split_sections(&f.source);
    let allow_list = sections
        .dependencies
        .as_ref()
        .map(|_| crate::dependencies::allow_list_text());
    let dependencies = sections
        .dependencies
        .as_deref()
        .zip(allow_list.as_deref())
        .map(|(section, allow_list)| Dependencies {
            section,
            allow_list,
        });
    let generated = codegen::generate(&f.sig, &sections.code, dependencies.is_some());
    let dir = BuildDir::new(f.oid);
    let toolchain = Toolchain::in_kit(&gucs::kit_dir());
    // Named by the hash, like the code: nothing in it depends on the oid.
    let crate_name = format!("plrust_fn_{:016x}", f.key());
    let result = rustc::compile(
        &toolchain,
        limits(),
        &dir.0,
        &crate_name,
        &sections.code,
        &generated.source,
        dependencies,
        cancel_requested,
    );
    let body_lines = sections.code.lines().count().max(1);
    result.unwrap_or_else(|e| failed(name, e, generated.body_first_line, body_lines))
}

/// The compiler's limits from the settings.
fn limits() -> Limits {
    let timeout = Duration::from_millis(gucs::COMPILE_TIMEOUT.get() as u64);
    Limits {
        timeout,
        memory_bytes: gucs::megabytes(&gucs::COMPILE_MEMORY_LIMIT),
        cpu_seconds: timeout.as_secs() + 1,
    }
}

/// The compile's `check`: stop when the query is cancelled.
fn cancel_requested() -> Result<(), ()> {
    if interrupts::cancel_pending() {
        Err(())
    } else {
        Ok(())
    }
}

/// A definition with `[dependencies]` whose code exists (built earlier for
/// this owner, body and signature) is resolved again before it is defined
/// again: the allow-list in force decides, not the one the code was built
/// under.  A narrowed allow-list so refuses new definitions; functions
/// that exist keep their code and run.
pub fn verify_dependencies(f: &Function) {
    let sections = split_sections(&f.source);
    let Some(section) = sections.dependencies.as_deref() else {
        return;
    };
    let allow_list = crate::dependencies::allow_list_text();
    let dir = BuildDir::new(f.oid);
    let toolchain = Toolchain::in_kit(&gucs::kit_dir());
    let deps = Dependencies {
        section,
        allow_list: &allow_list,
    };
    if let Err(e) = rustc::resolve(&toolchain, limits(), &dir.0, deps, cancel_requested) {
        failed(&f.name, e, 0, 0)
    }
}

/// A failed compile (or resolution) as the ERROR the user sees.
fn failed(name: &str, error: CompileError<()>, body_first_line: usize, body_lines: usize) -> ! {
    let near = match &error {
        CompileError::BodyRejected(r) => Some(r.line),
        CompileError::Rejected { diagnostics } => {
            diagnostics::errors(diagnostics, body_first_line, body_lines)
                .iter()
                .find_map(|e| e.line)
        }
        _ => None,
    };
    crate::errors::compilation_context(name, near);
    match error {
        CompileError::DependenciesRefused(refusal) => crate::dependencies::refused(name, refusal),
        CompileError::BodyRejected(r) => {
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
        CompileError::Rejected { diagnostics } => {
            let errors = diagnostics::errors(&diagnostics, body_first_line, body_lines);
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
        CompileError::Timeout(d) => raise(
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
        CompileError::Crashed {
            status,
            diagnostics,
        } => {
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
        CompileError::Cancelled(()) => {
            pgrx::check_for_interrupts!();
            raise(
                PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
                "canceling plrust compilation".into(),
                None,
                None,
            )
        }
        CompileError::Io(m) => raise(
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
