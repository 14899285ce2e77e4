//! `ALTER FUNCTION ... STRICT` (or `CALLED ON NULL INPUT`) on a plrust
//! function is refused: whether the body's arguments are `T` or
//! `Option<T>` depends on it, so the compiled code would no longer match.
//! The user is told to CREATE OR REPLACE, which recompiles.  A
//! ProcessUtility hook sees the statement before it changes anything.
//!
//! Other ALTERs can change what names a function's code: a new owner
//! (ALTER ... OWNER TO, REASSIGN OWNED, as every superuser's restore runs
//! after CREATE FUNCTION) or a setting that shapes it (SET
//! plrust.shaped_arrays).  The hook notes the functions' code before and
//! makes sure each has code after, in the same transaction: the owner's
//! copy of the same code when only the owner changed, else a compile.  So
//! no call ever finds a function without code because of an ALTER.
//! After CREATE OR REPLACE it collects the code the old definition left.

use std::cell::Cell;
use std::ffi::CStr;

use pgrx::pg_sys::panic::CaughtError;
use pgrx::prelude::*;

use crate::backend_local::BackendLocal;
use crate::errors::raise;
use crate::function::{self, identity, is_plrust};
use crate::{catalog, compile};

static mut PREVIOUS: pg_sys::ProcessUtility_hook_type = None;

/// Install the hook (in _PG_init, once per process).
pub fn install() {
    // SAFETY: _PG_init runs once, on the only thread; the previous hook is
    // kept and called.
    unsafe {
        PREVIOUS = pg_sys::ProcessUtility_hook;
        pg_sys::ProcessUtility_hook = Some(process_utility);
    }
}

/// The strictness an ALTER FUNCTION's actions ask for (`STRICT`,
/// `RETURNS NULL ON NULL INPUT`: true; `CALLED ON NULL INPUT`: false), if
/// any; the last one wins, as in PostgreSQL.
///
/// # Safety
/// `actions` is the statement's list of DefElem nodes.
unsafe fn requested_strictness(actions: *mut pg_sys::List) -> Option<bool> {
    if actions.is_null() {
        return None;
    }
    // SAFETY: the caller's contract: a List of `length` DefElem pointers;
    // the grammar gives "strict" a Boolean argument, which defGetBoolean
    // reads (raising an ERROR for anything else).
    unsafe {
        let cells = std::slice::from_raw_parts((*actions).elements, (*actions).length as usize);
        cells
            .iter()
            .map(|c| c.ptr_value as *mut pg_sys::DefElem)
            .rfind(|d| !d.is_null() && CStr::from_ptr((**d).defname).to_bytes() == b"strict")
            .map(|d| pg_sys::defGetBoolean(d))
    }
}

#[pg_guard]
#[allow(clippy::too_many_arguments)]
unsafe extern "C-unwind" fn process_utility(
    pstmt: *mut pg_sys::PlannedStmt,
    query: *const std::ffi::c_char,
    read_only_tree: bool,
    context: pg_sys::ProcessUtilityContext::Type,
    params: pg_sys::ParamListInfo,
    query_env: *mut pg_sys::QueryEnvironment,
    dest: *mut pg_sys::DestReceiver,
    qc: *mut pg_sys::QueryCompletion,
) {
    // SAFETY: PostgreSQL passes a valid PlannedStmt whose utilityStmt is a
    // Node; the node tag tells its type.
    unsafe {
        let stmt = (*pstmt).utilityStmt;
        if !stmt.is_null() && (*stmt).type_ == pg_sys::NodeTag::T_AlterFunctionStmt {
            let alter = stmt as *mut pg_sys::AlterFunctionStmt;
            if let Some(strict) = requested_strictness((*alter).actions) {
                let func = pg_sys::LookupFuncWithArgs((*alter).objtype, (*alter).func, false);
                // Saying again what the function already is changes nothing.
                if is_plrust(func) && pg_sys::func_strict(func) != strict {
                    raise(
                        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                        "plrust functions cannot have their STRICT property altered".into(),
                        // PL/Rust's words (its hooks.rs).  Why: whether a
                        // plrust function is STRICT decides whether its
                        // arguments are T or Option<T>, and its compiled
                        // code depends on it.
                        Some("Use 'CREATE OR REPLACE FUNCTION' to alter the STRICT-ness of an existing plrust function".into()),
                        None,
                    );
                }
            }
        }
        // Catalog work only in a live transaction: a ROLLBACK of an
        // aborted one comes through here too, and must not touch a cache.
        let tag = if stmt.is_null() || !pg_sys::IsTransactionState() || pg_sys::IsBinaryUpgrade {
            None
        } else {
            Some((*stmt).type_)
        };
        let before = match tag {
            Some(t) if renames_code(t) => targets(stmt),
            _ => Vec::new(),
        };
        let replacing = tag == Some(pg_sys::NodeTag::T_CreateFunctionStmt)
            && (*(stmt as *mut pg_sys::CreateFunctionStmt)).replace;
        if replacing {
            VALIDATED.set(false);
        }
        let types_change = tag.is_some_and(changes_types);
        // pgrx turns an ERROR from inside the statement into a Rust panic
        // that keeps only its message, DETAIL, HINT and LOCATION: without
        // the note, every utility statement (a PL/pgSQL DO block, CREATE
        // FUNCTION of a SQL body, CREATE TABLE AS ...) would lose its
        // CONTEXT lines and positions whenever plrust is loaded.
        let note = crate::errors::OriginNote::new();
        let noted = std::panic::AssertUnwindSafe(&note);
        let for_catch = std::panic::AssertUnwindSafe(&note);
        PgTryBuilder::new(move || {
            noted.around(|| match PREVIOUS {
                Some(previous) => previous(
                    pstmt,
                    query,
                    read_only_tree,
                    context,
                    params,
                    query_env,
                    dest,
                    qc,
                ),
                None => pg_sys::standard_ProcessUtility(
                    pstmt,
                    query,
                    read_only_tree,
                    context,
                    params,
                    query_env,
                    dest,
                    qc,
                ),
            })
        })
        .catch_others(move |e| {
            let (CaughtError::PostgresError(r)
            | CaughtError::ErrorReport(r)
            | CaughtError::RustPanic { ereport: r, .. }) = &e;
            if let Some(origin) = for_catch.take(r.sql_error_code(), r.message()) {
                crate::errors::report_again_with(&origin);
            }
            e.rethrow()
        })
        .execute();
        keep_code(before);
        // The replaced definition's code, if nothing else names it; only
        // when the statement replaced a plrust function (its validator ran),
        // so that replacing other functions costs nothing.
        if replacing && VALIDATED.replace(false) {
            catalog::collect_garbage();
        }
        if types_change && plrust_installed() && catalog::extension_is_current() {
            rebuild_for_new_row_types();
        }
    }
}

/// Statements that may rename a function's code: a new owner, a setting.
fn renames_code(tag: pg_sys::NodeTag) -> bool {
    matches!(
        tag,
        pg_sys::NodeTag::T_AlterFunctionStmt
            | pg_sys::NodeTag::T_AlterOwnerStmt
            | pg_sys::NodeTag::T_ReassignOwnedStmt
    )
}

/// Statements that may change a row type (ALTER TABLE, ALTER TYPE ... ADD
/// ATTRIBUTE, RENAME COLUMN, SET SCHEMA): a function whose arguments or
/// result are of that type decodes its attributes as they were when it was
/// compiled, so the type's layout is part of its code's name.
fn changes_types(tag: pg_sys::NodeTag) -> bool {
    matches!(
        tag,
        pg_sys::NodeTag::T_AlterTableStmt
            | pg_sys::NodeTag::T_RenameStmt
            | pg_sys::NodeTag::T_AlterObjectSchemaStmt
    )
}

/// Compile the functions of a row type whose definitions now have no code
/// (the statement changed the type), so that no call finds them without.
/// A body that no longer compiles with the new type is a WARNING, as with
/// a PL/pgSQL function the change breaks: the ALTER goes on, and calls of
/// that function say it has no code.
fn rebuild_for_new_row_types() {
    let mut rebuilt = false;
    for oid in catalog::row_type_functions_without_code() {
        rebuilt |= compile::ensure_compiled_or_warn(&function::definition(oid));
    }
    if rebuilt {
        catalog::collect_garbage();
    }
}

/// Set by the validator once it has compiled (or found) a definition's
/// code: the CREATE OR REPLACE that ran it was a plrust function's.
static VALIDATED: BackendLocal<Cell<bool>> = BackendLocal::new(Cell::new(false));

/// The validator has stored (or found) the code of a definition.
pub fn validated() {
    VALIDATED.set(true);
}

/// (oid, code, hash) of each plrust function `stmt` may change the code
/// of.
///
/// # Safety
/// `stmt` is a valid utility statement node.
unsafe fn targets(stmt: *mut pg_sys::Node) -> Vec<(pg_sys::Oid, [u8; 32], [u8; 32])> {
    // (Not during pg_upgrade's restore, which sets owners before the old
    // code arrives: process_utility passes no statement then.)
    if !plrust_installed() {
        return Vec::new();
    }
    // SAFETY: the node tag says which statement struct `stmt` is.
    let oids = unsafe {
        match (*stmt).type_ {
            pg_sys::NodeTag::T_AlterFunctionStmt => {
                let alter = stmt as *mut pg_sys::AlterFunctionStmt;
                vec![pg_sys::LookupFuncWithArgs(
                    (*alter).objtype,
                    (*alter).func,
                    true,
                )]
            }
            pg_sys::NodeTag::T_AlterOwnerStmt => {
                let alter = stmt as *mut pg_sys::AlterOwnerStmt;
                match (*alter).objectType {
                    pg_sys::ObjectType::OBJECT_FUNCTION
                    | pg_sys::ObjectType::OBJECT_PROCEDURE
                    | pg_sys::ObjectType::OBJECT_ROUTINE => vec![pg_sys::LookupFuncWithArgs(
                        (*alter).objectType,
                        (*alter).object as *mut pg_sys::ObjectWithArgs,
                        true,
                    )],
                    _ => Vec::new(),
                }
            }
            pg_sys::NodeTag::T_ReassignOwnedStmt if catalog::extension_is_current() => {
                catalog::functions(None)
            }
            _ => Vec::new(),
        }
    };
    // Only plrust functions cost a query (of the extension's version).
    let plrust: Vec<_> = oids
        .into_iter()
        .filter_map(|oid| identity(oid).map(|(code, hash)| (oid, code, hash)))
        .collect();
    if plrust.is_empty() || !catalog::extension_is_current() {
        return Vec::new();
    }
    plrust
}

/// Whether the plrust language exists in this database.
fn plrust_installed() -> bool {
    // SAFETY: a catalog lookup by name, missing_ok.
    unsafe { pg_sys::get_language_oid(c"plrust".as_ptr(), true) != pg_sys::InvalidOid }
}

/// After the statement: every function in `before` whose code is now named
/// otherwise gets code under its new name.
fn keep_code(before: Vec<(pg_sys::Oid, [u8; 32], [u8; 32])>) {
    let mut changed = false;
    for (oid, code, hash) in before {
        let Some((new_code, new_hash)) = identity(oid) else {
            continue;
        };
        if new_hash == hash || catalog::has_code(&new_hash) {
            continue;
        }
        changed = true;
        if !(new_code == code && catalog::copy_code(&hash, &new_hash)) {
            // Nothing to copy (no code before either): compile, and let a
            // body that fails warn rather than fail REASSIGN OWNED.
            compile::ensure_compiled_or_warn(&function::definition(oid));
        }
    }
    if changed {
        catalog::collect_garbage();
    }
}
