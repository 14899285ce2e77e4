//! `ALTER FUNCTION ... STRICT` (or `CALLED ON NULL INPUT`) on a plrust
//! function is refused: whether the body's arguments are `T` or
//! `Option<T>` depends on it, so the compiled code would no longer match.
//! The user is told to CREATE OR REPLACE, which recompiles.  A
//! ProcessUtility hook sees the statement before it changes anything.

use std::ffi::CStr;

use pgrx::prelude::*;

use crate::errors::raise;
use crate::function::is_plrust;

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

/// Whether an ALTER FUNCTION's actions change strictness.
///
/// # Safety
/// `actions` is the statement's list of DefElem nodes.
unsafe fn changes_strictness(actions: *mut pg_sys::List) -> bool {
    if actions.is_null() {
        return false;
    }
    // SAFETY: the caller's contract: a List of `length` DefElem pointers.
    unsafe {
        let cells = std::slice::from_raw_parts((*actions).elements, (*actions).length as usize);
        cells.iter().any(|c| {
            let d = c.ptr_value as *mut pg_sys::DefElem;
            !d.is_null() && CStr::from_ptr((*d).defname).to_bytes() == b"strict"
        })
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
            if changes_strictness((*alter).actions) {
                let func = pg_sys::LookupFuncWithArgs((*alter).objtype, (*alter).func, false);
                if is_plrust(func) {
                    raise(
                        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                        "plrust functions cannot have their STRICT property altered".into(),
                        Some("Whether a plrust function is STRICT decides whether its arguments are T or Option<T>: its compiled code depends on it.".into()),
                        Some("Use CREATE OR REPLACE FUNCTION to change the STRICT-ness of a plrust function.".into()),
                    );
                }
            }
        }
        match PREVIOUS {
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
        }
    }
}
