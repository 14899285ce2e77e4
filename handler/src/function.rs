//! What a backend knows about a plrust function: its definition (from
//! pg_proc), the hash that names its compiled code, and its principal.
//!
//! A definition is looked up once per FmgrInfo (once per query that calls
//! the function), so CREATE OR REPLACE in another session is seen at the
//! next query; the per-call path only follows fn_extra.

use std::cell::RefCell;
use std::collections::HashMap;

use pgrx::pg_catalog::pg_proc::{PgProc, ProArgMode, ProKind};
use pgrx::prelude::*;
use plrust_compiler::codegen::{self, Arg, Signature};
use plrust_ipc::SqlType;
use sha2::{Digest, Sha256};

use crate::errors::raise;
use crate::pool::Principal;
use crate::{compile, gucs};

pub struct Function {
    pub oid: pg_sys::Oid,
    pub name: String,
    pub sig: Signature,
    pub principal: Principal,
    pub hash: [u8; 32],
    pub source: String,
    /// No text, varchar or bytea argument: every argument has a small,
    /// fixed-width encoding.
    pub fixed_width_args: bool,
}

impl Function {
    /// The name executors know the compiled code by.
    pub fn key(&self) -> u64 {
        u64::from_le_bytes(self.hash[..8].try_into().expect("8 bytes"))
    }
}

pub fn sql_type(oid: pg_sys::Oid) -> Option<SqlType> {
    Some(match oid {
        pg_sys::BOOLOID => SqlType::Bool,
        pg_sys::INT2OID => SqlType::Int2,
        pg_sys::INT4OID => SqlType::Int4,
        pg_sys::INT8OID => SqlType::Int8,
        pg_sys::FLOAT4OID => SqlType::Float4,
        pg_sys::FLOAT8OID => SqlType::Float8,
        pg_sys::TEXTOID => SqlType::Text,
        pg_sys::VARCHAROID => SqlType::Varchar,
        pg_sys::BYTEAOID => SqlType::Bytea,
        pg_sys::VOIDOID => SqlType::Void,
        _ => return None,
    })
}

fn type_name(oid: pg_sys::Oid) -> String {
    // SAFETY: format_type_be returns a palloc'd C string for any type oid.
    unsafe { std::ffi::CStr::from_ptr(pg_sys::format_type_be(oid)) }
        .to_string_lossy()
        .into_owned()
}

fn unsupported(name: &str, what: String) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        format!("plrust function \"{name}\": {what}"),
        None,
        Some("plrust supports boolean, smallint, integer, bigint, real, double precision, text, varchar, bytea and void.".into()),
    )
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

/// Read and check the definition of `oid` from pg_proc.
pub fn definition(oid: pg_sys::Oid) -> Function {
    let Some(proc) = PgProc::new(oid) else {
        raise(
            PgSqlErrorCode::ERRCODE_UNDEFINED_FUNCTION,
            format!("function with OID {oid:?} does not exist"),
            None,
            None,
        );
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
        raise(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            format!("plrust function \"{name}\": plrust requires a UTF8 database"),
            Some("Rust strings are UTF-8; text arguments and results are passed as such.".into()),
            Some("Create the database with ENCODING 'UTF8'.".into()),
        );
    }
    if proc.prokind() != ProKind::Function {
        unsupported(
            &name,
            "only plain functions are supported (not procedures, aggregates or window functions)"
                .into(),
        );
    }
    if proc.proretset() {
        unsupported(
            &name,
            "set-returning functions are not supported yet".into(),
        );
    }
    if proc.proargmodes().iter().any(|m| *m != ProArgMode::In) {
        unsupported(
            &name,
            "OUT, INOUT and VARIADIC arguments are not supported yet".into(),
        );
    }
    let names = proc.proargnames();
    let mut args = Vec::new();
    for (i, ty) in proc.proargtypes().into_iter().enumerate() {
        let Some(arg_name) = names.get(i).cloned().flatten().filter(|n| !n.is_empty()) else {
            raise(
                PgSqlErrorCode::ERRCODE_INVALID_FUNCTION_DEFINITION,
                format!("plrust function \"{name}\": argument {} has no name", i + 1),
                Some("The function body refers to its arguments by name.".into()),
                Some("Give every argument a name that is a Rust identifier, e.g. (a integer, b text).".into()),
            );
        };
        if let Err(why) = codegen::check_arg_name(&arg_name) {
            raise(
                PgSqlErrorCode::ERRCODE_INVALID_FUNCTION_DEFINITION,
                format!("plrust function \"{name}\": {why}"),
                None,
                Some("Argument names must be Rust identifiers: ASCII letters, digits and _, not a keyword.".into()),
            );
        }
        let Some(t) = sql_type(ty).filter(|t| t.can_be_argument()) else {
            unsupported(
                &name,
                format!("argument type {} is not supported yet", type_name(ty)),
            );
        };
        args.push(Arg {
            name: arg_name,
            ty: t,
        });
    }
    let Some(ret) = sql_type(proc.prorettype()) else {
        unsupported(
            &name,
            format!(
                "return type {} is not supported yet",
                type_name(proc.prorettype())
            ),
        );
    };
    let sig = Signature {
        args,
        ret,
        strict: proc.proisstrict(),
    };
    let source = proc.prosrc();

    let mut h = Sha256::new();
    h.update(b"plrust\0");
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(b"\0");
    h.update(toolchain_id().as_bytes());
    h.update(oid.to_u32().to_le_bytes());
    h.update(format!("{:?}", sig).as_bytes());
    h.update(source.as_bytes());
    // SAFETY: MyDatabaseId is set once the backend is connected.
    let database = unsafe { pg_sys::MyDatabaseId }.to_u32();
    let fixed_width_args = sig.args.iter().all(|a| !a.ty.borrows());
    Function {
        fixed_width_args,
        oid,
        name,
        principal: Principal {
            database,
            role: proc.proowner().to_u32(),
            // Filled in per call (Principal::in_this_session).
            memory_mb: 0,
        },
        sig,
        hash: h.finalize().into(),
        source,
    }
}

thread_local! {
    static CACHE: RefCell<HashMap<u32, &'static Function>> = RefCell::new(HashMap::new());
}

/// The current definition of `oid`, compiled (compiling it now if it was
/// created with check_function_bodies off, or its code was built by
/// another toolchain).  Entries are leaked on purpose: an FmgrInfo of a
/// running query may still point at a replaced one.
pub fn get(oid: pg_sys::Oid) -> &'static Function {
    let def = definition(oid);
    if let Some(f) = CACHE.with(|c| c.borrow().get(&oid.to_u32()).copied()) {
        if f.hash == def.hash {
            return f;
        }
    }
    compile::ensure_compiled(&def);
    let f: &'static Function = Box::leak(Box::new(def));
    CACHE.with(|c| c.borrow_mut().insert(oid.to_u32(), f));
    f
}
