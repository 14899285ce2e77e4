//! What a backend knows about a plrust function: its definition (from
//! pg_proc), the hash that names its compiled code, and its principal.
//!
//! A definition is looked up once per FmgrInfo (once per query that calls
//! the function), so CREATE OR REPLACE in another session is seen at the
//! next query; the per-call path only follows fn_extra.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use pgrx::pg_catalog::pg_proc::{PgProc, ProArgMode, ProKind, ProVolatile};
use pgrx::prelude::*;
use plrust_compiler::codegen::{self, Arg, Return, Signature};
use plrust_ipc::types::SqlType;
use sha2::{Digest, Sha256};

use crate::backend_local::BackendLocal;
use crate::conv::{self, Conv};
use crate::errors::raise;
use crate::pool::Principal;
use crate::{catalog, gucs};

/// What the call handler does with the body's result.
pub enum Output {
    /// One value (void included).
    Value(Conv),
    /// A set of single values (RETURNS SETOF t).
    SetOf(Conv),
    /// A row of OUT parameters.
    Record(Vec<Conv>),
    /// A set of rows (RETURNS TABLE, SETOF with OUT parameters).
    Table(Vec<Conv>),
    /// A trigger's row (RETURNS trigger).
    Trigger,
}

pub struct Function {
    pub oid: pg_sys::Oid,
    pub name: String,
    pub sig: Signature,
    pub principal: Principal,
    /// What the code is: the hash of everything that determines it.
    pub code: [u8; 32],
    /// The stored row of that code for this owner (plrust.artifacts.hash).
    pub hash: [u8; 32],
    pub source: String,
    pub args: Vec<Conv>,
    pub output: Output,
    /// SPI runs read-only in STABLE and IMMUTABLE functions, as in PL/pgSQL.
    pub read_only: bool,
    /// Every argument has a small, fixed-width encoding.
    pub fixed_width_args: bool,
    /// How an error's CONTEXT names it: its signature, `f(integer)`
    /// (errors.rs: CallContext).
    pub context: std::ffi::CString,
}

impl Function {
    /// The name executors know the compiled code by (and its crate's).
    /// It is the code's, not the owner's copy's: an executor serves one
    /// owner, and a copied row's object must match its new owner's key.
    pub fn key(&self) -> u64 {
        u64::from_le_bytes(self.code[..8].try_into().expect("8 bytes"))
    }
}

/// Why a pg_proc row is not a function plrust can compile: an ERROR's
/// parts, raised by `definition` and left unraised where a function that
/// cannot be defined just has no code (`code_hash`).
pub struct Refusal {
    code: PgSqlErrorCode,
    message: String,
    detail: Option<String>,
    hint: Option<String>,
}

impl Refusal {
    fn new(code: PgSqlErrorCode, message: String) -> Refusal {
        Refusal {
            code,
            message,
            detail: None,
            hint: None,
        }
    }

    fn detail(self, detail: &str) -> Refusal {
        Refusal {
            detail: Some(detail.into()),
            ..self
        }
    }

    fn hint(self, hint: &str) -> Refusal {
        Refusal {
            hint: Some(hint.into()),
            ..self
        }
    }

    pub fn raise(self) -> ! {
        raise(self.code, self.message, self.detail, self.hint)
    }
}

/// PL/Rust's DETAIL for an argument name that cannot be used.
const ARG_NAMES_DETAIL: &str = "PL/Rust argument names must also be valid Rust identifiers.  Rust's identifier specification can be found at https://doc.rust-lang.org/reference/identifiers.html";

fn unsupported(name: &str, what: String) -> Refusal {
    Refusal::new(
        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        format!("plrust function \"{name}\": {what}"),
    )
    .hint("See the type table in plrust's README for the SQL types plrust functions can use.")
}

/// The compiler kit's identity, part of every hash: code built by another
/// rustc or another plrust is never reused.
fn toolchain_id() -> &'static str {
    thread_local! {
        static ID: &'static str = Box::leak(
            std::fs::read_to_string(gucs::kit_dir().join("VERSION")).unwrap_or_default().into_boxed_str(),
        );
    }
    ID.with(|id| *id)
}

/// The row name of `owner`'s copy of `code`.
fn owned_hash(code: &[u8; 32], owner: u32) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"plrust owner\0");
    h.update(code);
    h.update(owner.to_le_bytes());
    h.finalize().into()
}

fn resolve(name: &str, what: &str, oid: pg_sys::Oid) -> Result<Conv, Refusal> {
    match conv::resolve(oid) {
        Ok(t) => Ok(Conv::new(oid, t)),
        // The DETAIL is PL/Rust's words for the same refusal.
        Err(why) => Err(unsupported(name, format!("{what}: {why}")).detail(&format!(
            "Oid `{}` was not mappable to a Rust type",
            oid.to_u32()
        ))),
    }
}

/// Whether the function says `SET plrust.shaped_arrays = on`: its own
/// setting, not the session's, so that how it compiles never depends on
/// who calls it first.
fn shaped_arrays(proc: &PgProc) -> bool {
    proc.proconfig().unwrap_or_default().iter().any(|setting| {
        setting.split_once('=').is_some_and(|(name, value)| {
            name == "plrust.shaped_arrays"
                && ["on", "true", "yes", "1"].contains(&value.to_ascii_lowercase().as_str())
        })
    })
}

/// Whether `oid` is a function in language plrust.
pub fn is_plrust(oid: pg_sys::Oid) -> bool {
    // SAFETY: a catalog lookup by name, missing_ok.
    let lang = unsafe { pg_sys::get_language_oid(c"plrust".as_ptr(), true) };
    lang != pg_sys::InvalidOid && PgProc::new(oid).is_some_and(|p| p.prolang() == lang)
}

/// The hash naming the compiled code of `oid`'s current definition, if it
/// is a plrust function plrust can compile.
pub fn code_hash(oid: pg_sys::Oid) -> Option<[u8; 32]> {
    if !is_plrust(oid) {
        return None;
    }
    try_definition(oid).ok().map(|f| f.hash)
}

/// What `oid`'s current definition's code is and the row its owner's copy
/// is stored under (code, hash), if it is a plrust function plrust can
/// compile.
pub fn identity(oid: pg_sys::Oid) -> Option<([u8; 32], [u8; 32])> {
    if !is_plrust(oid) {
        return None;
    }
    try_definition(oid).ok().map(|f| (f.code, f.hash))
}

/// The hashes of the compiled code of every plrust function `role` owns
/// in this database (those plrust can compile), each once.
pub fn code_hashes_of(role: u32) -> Vec<[u8; 32]> {
    let mut hashes: Vec<[u8; 32]> = catalog::functions(Some(role))
        .into_iter()
        .filter_map(|oid| try_definition(oid).ok().map(|f| f.hash))
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// `plrust.code_hash(oid)`, for the plrust.functions view: which stored
/// code, if any, is the function's current definition's.
#[pg_extern]
fn plrust_code_hash(fn_oid: pg_sys::Oid) -> Option<Vec<u8>> {
    code_hash(fn_oid).map(|h| h.to_vec())
}

/// Read and check the definition of `oid` from pg_proc.
pub fn definition(oid: pg_sys::Oid) -> Function {
    try_definition(oid).unwrap_or_else(|refusal| refusal.raise())
}

fn try_definition(oid: pg_sys::Oid) -> Result<Function, Refusal> {
    let Some(proc) = PgProc::new(oid) else {
        return Err(Refusal::new(
            PgSqlErrorCode::ERRCODE_UNDEFINED_FUNCTION,
            format!("function with OID {oid:?} does not exist"),
        ));
    };
    // SAFETY: get_func_name returns a palloc'd copy of the name (or NULL).
    let name = unsafe {
        let p = pg_sys::get_func_name(oid);
        if p.is_null() {
            format!("{oid:?}")
        } else {
            std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    };
    // SAFETY: a plain getter of the database's encoding.
    if unsafe { pg_sys::GetDatabaseEncoding() } != pg_sys::pg_enc::PG_UTF8 as i32 {
        return Err(Refusal::new(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!("plrust function \"{name}\": plrust requires a UTF8 database"),
        )
        .detail("Rust strings are UTF-8; text arguments and results are passed as such.")
        .hint("Create the database with ENCODING 'UTF8'."));
    }
    let procedure = match proc.prokind() {
        ProKind::Function => false,
        ProKind::Procedure => true,
        _ => return Err(unsupported(
            &name,
            "aggregates and window functions cannot be written in plrust; write their support functions in plrust instead".into(),
        )),
    };
    if proc.prorettype() == pg_sys::EVENT_TRIGGEROID {
        return Err(unsupported(
            &name,
            "event trigger functions are not supported".into(),
        ));
    }
    let trigger = proc.prorettype() == pg_sys::TRIGGEROID;
    // Without OUT parameters, proallargtypes and proargmodes are empty and
    // every argument is IN.
    let modes = proc.proargmodes();
    let all_types = if modes.is_empty() {
        proc.proargtypes()
    } else {
        proc.proallargtypes()
    };
    let names = proc.proargnames();
    let mut args = Vec::new();
    let mut arg_convs = Vec::new();
    let mut outputs = Vec::new();
    for (i, ty) in all_types.into_iter().enumerate() {
        let mode = modes.get(i).copied().unwrap_or(ProArgMode::In);
        let arg_name = names.get(i).cloned().flatten().filter(|n| !n.is_empty());
        if matches!(
            mode,
            ProArgMode::Out | ProArgMode::InOut | ProArgMode::Table
        ) {
            outputs.push((
                arg_name
                    .clone()
                    .unwrap_or_else(|| format!("column{}", outputs.len() + 1)),
                ty,
            ));
        }
        if matches!(mode, ProArgMode::Out | ProArgMode::Table) {
            continue;
        }
        // PL/Rust's SQLSTATE, message and DETAIL for the same mistakes
        // (its pgproc.rs), so that what users searched for still matches;
        // the HINT says which argument and why.
        let Some(arg_name) = arg_name else {
            return Err(Refusal::new(
                PgSqlErrorCode::ERRCODE_INVALID_NAME,
                "PL/Rust does not support unnamed arguments".into(),
            )
            .detail(ARG_NAMES_DETAIL)
            .hint(&format!(
                "Argument {} of plrust function \"{name}\" has no name: the body refers to its arguments by name, e.g. (a integer, b text).",
                i + 1
            )));
        };
        if let Err(why) = codegen::check_arg_name(&arg_name) {
            return Err(Refusal::new(
                PgSqlErrorCode::ERRCODE_INVALID_NAME,
                format!("`{arg_name}` is an invalid Rust identifier and cannot be used as an argument name"),
            )
            .detail(ARG_NAMES_DETAIL)
            .hint(&format!("In plrust function \"{name}\", the {why}: use ASCII letters, digits and _, not a keyword.")));
        }
        let c = resolve(&name, &format!("argument \"{arg_name}\""), ty)?;
        if c.sql == SqlType::Void {
            return Err(unsupported(&name, "an argument cannot be void".into()));
        }
        args.push(Arg {
            name: arg_name,
            ty: c.sql.clone(),
        });
        arg_convs.push(c);
    }
    let retset = proc.proretset();
    // A procedure's output parameters come back to CALL as a row, even
    // just one; a function's single OUT parameter is its plain result.
    let (ret, output) = if trigger {
        (Return::Trigger, Output::Trigger)
    } else if outputs.len() > 1 || (procedure && !outputs.is_empty()) {
        let convs = outputs
            .iter()
            .map(|(n, t)| resolve(&name, &format!("OUT parameter \"{n}\""), *t))
            .collect::<Result<Vec<Conv>, Refusal>>()?;
        let cols: Vec<Arg> = outputs
            .iter()
            .zip(&convs)
            .map(|((n, _), c)| Arg {
                name: n.clone(),
                ty: c.sql.clone(),
            })
            .collect();
        if retset {
            (Return::Table(cols), Output::Table(convs))
        } else {
            (Return::Record(cols), Output::Record(convs))
        }
    } else {
        let ty = outputs.first().map_or(proc.prorettype(), |(_, t)| *t);
        if ty == pg_sys::RECORDOID {
            return Err(unsupported(
                &name,
                "functions returning an anonymous record need OUT parameters or RETURNS TABLE"
                    .into(),
            ));
        }
        let c = resolve(&name, "return type", ty)?;
        if retset {
            (Return::SetOf(c.sql.clone()), Output::SetOf(c))
        } else {
            (Return::Value(c.sql.clone()), Output::Value(c))
        }
    };
    let sig = Signature {
        args,
        ret,
        strict: proc.proisstrict(),
        shaped_arrays: shaped_arrays(&proc),
    };
    let source = proc.prosrc();

    // The code is named by what determines it, never by the function's
    // oid: pg_upgrade gives functions new oids, dump and restore and
    // Citus's copies on workers make new ones, and code built on one major
    // runs on every major its kit serves.
    let mut c = Sha256::new();
    c.update(b"plrust\0");
    c.update(env!("CARGO_PKG_VERSION").as_bytes());
    c.update(b"\0");
    c.update(toolchain_id().as_bytes());
    c.update(format!("{:?}", sig).as_bytes());
    c.update(source.as_bytes());
    let code: [u8; 32] = c.finalize().into();
    // The stored row is the owner's copy of that code (pg_upgrade keeps
    // role oids): functions of one owner share a row, but no tenant's
    // CREATE FUNCTION ever waits for another's uncommitted row, and no
    // object another tenant's compile produced is ever loaded into this
    // owner's executors.  ALTER ... OWNER TO copies the row (alter.rs).
    let owner = proc.proowner().to_u32();
    let hash = owned_hash(&code, owner);
    // SAFETY: MyDatabaseId is set once the backend is connected.
    let database = unsafe { pg_sys::MyDatabaseId }.to_u32();
    let fixed_width_args = !trigger && arg_convs.iter().all(Conv::fixed_width);
    // SAFETY: format_procedure returns a palloc'd string for any oid.
    let context = unsafe { std::ffi::CStr::from_ptr(pg_sys::format_procedure(oid)) }.to_owned();
    Ok(Function {
        fixed_width_args,
        context,
        oid,
        name,
        principal: Principal {
            database,
            role: owner,
            // Filled in per call (Principal::in_this_session).
            memory_mb: 0,
        },
        sig,
        code,
        hash,
        source,
        args: arg_convs,
        output,
        read_only: proc.provolatile() != ProVolatile::Volatile,
    })
}

/// A DO block as a function: no arguments, no result, owned by the
/// current role (it runs with the current role's principal).
pub fn inline_block(source: String) -> Function {
    let sig = Signature {
        args: vec![],
        ret: Return::Inline,
        strict: false,
        shaped_arrays: false,
    };
    // SAFETY: plain getters of the session's database and current role.
    let (database, role) = unsafe { (pg_sys::MyDatabaseId.to_u32(), pg_sys::GetUserId().to_u32()) };
    // The role is part of the hash: a block cached for one role must never
    // run in another role's executor.
    let mut h = Sha256::new();
    h.update(b"plrust DO\0");
    h.update(role.to_le_bytes());
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(b"\0");
    h.update(toolchain_id().as_bytes());
    h.update(source.as_bytes());
    let hash: [u8; 32] = h.finalize().into();
    Function {
        oid: pg_sys::InvalidOid,
        name: "DO block".into(),
        sig,
        principal: Principal {
            database,
            role,
            memory_mb: 0,
        },
        code: hash,
        hash,
        source,
        args: vec![],
        output: Output::Value(Conv::new(pg_sys::VOIDOID, SqlType::Void)),
        read_only: false,
        fixed_width_args: true,
        // PL/pgSQL's name for a DO block.
        context: c"inline_code_block".to_owned(),
    }
}

thread_local! {
    /// Definitions by function oid, each valid while `INVALIDATIONS` is
    /// what it was when the entry was made.
    static CACHE: RefCell<HashMap<u32, (&'static Function, u64)>> = RefCell::new(HashMap::new());
}

/// Bumped whenever PostgreSQL invalidates a function, a type or a
/// relation in this backend's caches (our callbacks below): a definition
/// depends on its pg_proc row and on the row types it passes, and any of
/// those changing, in any session, reaches every backend as a cache
/// invalidation.  Such changes are rare; a call otherwise finds its
/// definition without reading or hashing anything, as PL/pgSQL does.
static INVALIDATIONS: BackendLocal<Cell<u64>> = BackendLocal::new(Cell::new(1));
static CALLBACKS: BackendLocal<Cell<bool>> = BackendLocal::new(Cell::new(false));

#[pg_guard]
unsafe extern "C-unwind" fn syscache_changed(_arg: pg_sys::Datum, _cache: i32, _hash: u32) {
    INVALIDATIONS.set(INVALIDATIONS.get() + 1);
}

#[pg_guard]
unsafe extern "C-unwind" fn relcache_changed(_arg: pg_sys::Datum, _rel: pg_sys::Oid) {
    INVALIDATIONS.set(INVALIDATIONS.get() + 1);
}

fn ensure_callbacks() {
    if CALLBACKS.get() {
        return;
    }
    // SAFETY: registering plain callbacks for the life of the backend;
    // they only bump a counter.
    unsafe {
        for cache in [
            pg_sys::SysCacheIdentifier::PROCOID,
            pg_sys::SysCacheIdentifier::TYPEOID,
        ] {
            pg_sys::CacheRegisterSyscacheCallback(
                cache as i32,
                Some(syscache_changed),
                pg_sys::Datum::from(0),
            );
        }
        pg_sys::CacheRegisterRelcacheCallback(Some(relcache_changed), pg_sys::Datum::from(0));
    }
    CALLBACKS.set(true);
}

/// The current definition of `oid`, whose code must be stored: a call
/// never compiles and never writes (CREATE FUNCTION compiled it, see
/// call.rs's validator), so that it runs the same in a read-only
/// transaction, on a standby, in a transaction that rolls back, and in
/// many connections of one distributed transaction.  Entries are leaked on
/// purpose: an FmgrInfo of a running query may still point at a replaced
/// one.
pub fn get(oid: pg_sys::Oid) -> &'static Function {
    ensure_callbacks();
    let now = INVALIDATIONS.get();
    let cached = CACHE.with(|c| c.borrow().get(&oid.to_u32()).copied());
    if let Some((f, at)) = cached {
        if at == now {
            return f;
        }
    }
    let def = definition(oid);
    if let Some((f, _)) = cached {
        if f.hash == def.hash {
            CACHE.with(|c| c.borrow_mut().insert(oid.to_u32(), (f, now)));
            return f;
        }
    }
    if !catalog::has_code(&def.hash) {
        no_code(&def.name, oid);
    }
    let f: &'static Function = Box::leak(Box::new(def));
    CACHE.with(|c| c.borrow_mut().insert(oid.to_u32(), (f, now)));
    f
}

/// The one error for a function whose current definition has no stored
/// code, wherever a call finds that out.
pub fn no_code(name: &str, oid: pg_sys::Oid) -> ! {
    // SAFETY: format_procedure returns a palloc'd string for any oid.
    let signature = unsafe { std::ffi::CStr::from_ptr(pg_sys::format_procedure(oid)) }
        .to_string_lossy()
        .into_owned();
    raise(
        PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        format!("plrust function \"{name}\" has no compiled code"),
        Some(
            "Its definition was never compiled in this database: it dates from before plrust \
             compiled every function at CREATE FUNCTION, or from another plrust or compiler kit."
                .into(),
        ),
        Some(format!(
            "A superuser can run SELECT plrust.recompile('{}'::regprocedure), or SELECT plrust.recompile() for every function.",
            signature.replace('\'', "''")
        )),
    )
}
