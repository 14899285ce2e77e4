//! The language's call handler and validator.
//!
//! A call: find the function (fn_extra caches it per FmgrInfo), lease an
//! executor, encode the arguments straight into the channel's request
//! area, wait for the reply, copy and decode it (wire.rs: the executor is
//! not trusted), give the executor back, then return the value or raise the
//! body's error.

use std::cell::RefCell;

use pgrx::prelude::*;
use plrust_compiler::codegen::Return;
use plrust_ipc::args::{ArgReader, ArgWriter};
use plrust_ipc::channel::INLINE;
use plrust_ipc::message::ErrorOrigin;
use plrust_ipc::wire;
use plrust_ipc::Reply;

use crate::backend_local::BackendLocal;
use crate::errors::raise;
use crate::exchange::Exchange;
use crate::function::{self, Function, Output};
use crate::trigger::Firing;
use crate::upcall::{error_code, CallState, SetSink};
use crate::{catalog, compile, pool};

pub static V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };

#[no_mangle]
pub extern "C" fn pg_finfo_plrust_call_handler() -> &'static pg_sys::Pg_finfo_record {
    &V1
}

#[no_mangle]
pub extern "C" fn pg_finfo_plrust_validator() -> &'static pg_sys::Pg_finfo_record {
    &V1
}

/// Calls need the pool, which only a preloaded library has.
fn require_pool() {
    if !pool::is_initialized() {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "plrust must be loaded via shared_preload_libraries".into(),
            None,
            Some("Add 'plrust' to shared_preload_libraries in postgresql.conf and restart the server.".into()),
        );
    }
}

/// The call's encoded arguments, built in private memory and then copied
/// into the channel in one piece.  A nested call (through SPI) takes the
/// buffer while the outer call no longer needs it.
static ARGS: BackendLocal<RefCell<Vec<u8>>> = BackendLocal::new(RefCell::new(Vec::new()));

/// What came back, converted while the executor is still leased (so a
/// malformed reply can still recycle it), acted on after it is released.
enum Returned {
    Null,
    Value(pg_sys::Datum),
    Error {
        sqlstate: Option<[u8; 5]>,
        message: String,
        detail: Option<String>,
        hint: Option<String>,
        line: u32,
        /// An SPI error the body passed on: where it arose (message.rs).
        passed_on: Option<Box<ErrorOrigin>>,
    },
    Panic {
        message: String,
        line: u32,
    },
}

fn too_large(f: &Function) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        format!("arguments of plrust function \"{}\" are too large", f.name),
        Some(format!(
            "At most {} bytes of arguments fit in one call.",
            plrust_ipc::limits::REQUEST_AREA
        )),
        None,
    )
}

/// Encode the call's arguments into `out`; None when they do not fit.
///
/// # Safety
/// `fcinfo` is the live call's; the function's signature matches its args.
unsafe fn encode_args(
    fcinfo: pg_sys::FunctionCallInfo,
    f: &Function,
    out: &mut [u8],
) -> Option<usize> {
    // SAFETY: fcinfo holds nargs initialised NullableDatums.
    let args = unsafe { (*fcinfo).args.as_slice((*fcinfo).nargs as usize) };
    let mut w = ArgWriter::new(out);
    for (conv, d) in f.args.iter().zip(args) {
        if d.isnull {
            w.null()?;
        } else {
            // SAFETY: a non-NULL argument of the declared type.
            unsafe { conv.send(d.value, |bytes| w.value(bytes))? };
        }
    }
    Some(w.len())
}

/// Encode a trigger call's arguments: the firing, the new row, the old row.
fn encode_trigger(firing: &Firing, out: &mut [u8]) -> Option<usize> {
    let info = wire::encode_to_vec(&firing.info);
    let mut w = ArgWriter::new(out);
    w.value(&info)?;
    let (new, old) = firing.rows();
    for row in [new, old] {
        if row.is_null() {
            w.null()?;
        } else {
            firing.send_row(row, |bytes| w.value(bytes))?;
        }
    }
    Some(w.len())
}

/// The set-returning machinery of this call: a tuplestore for the rows,
/// in the query's memory, as the executor expects for materialize mode.
///
/// # Safety
/// `fcinfo` is the live call's.
unsafe fn set_sink(fcinfo: pg_sys::FunctionCallInfo, f: &Function) -> Option<SetSink> {
    let conv = match &f.output {
        Output::SetOf(c) => Some(c),
        Output::Table(_) => None,
        _ => return None,
    };
    // SAFETY: the caller's contract; resultinfo is a ReturnSetInfo when the
    // node tag says so.
    unsafe {
        let rsinfo = (*fcinfo).resultinfo as *mut pg_sys::ReturnSetInfo;
        if rsinfo.is_null()
            || (*rsinfo).type_ != pg_sys::NodeTag::T_ReturnSetInfo
            || (*rsinfo).allowedModes & pg_sys::SetFunctionReturnMode::SFRM_Materialize as i32 == 0
        {
            raise(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!("set-valued plrust function \"{}\" called in a context that cannot accept a set", f.name),
                None,
                None,
            );
        }
        let per_query = (*(*rsinfo).econtext).ecxt_per_query_memory;
        let old = pg_sys::MemoryContextSwitchTo(per_query);
        let mut desc: pg_sys::TupleDesc = std::ptr::null_mut();
        let class = pg_sys::get_call_result_type(fcinfo, std::ptr::null_mut(), &mut desc);
        let desc = if class == pg_sys::TypeFuncClass::TYPEFUNC_COMPOSITE
            || class == pg_sys::TypeFuncClass::TYPEFUNC_COMPOSITE_DOMAIN
        {
            pg_sys::CreateTupleDescCopy(desc)
        } else {
            let conv = conv.expect("a scalar set");
            let d = pg_sys::CreateTemplateTupleDesc(1);
            pg_sys::TupleDescInitEntry(d, 1, c"plrust".as_ptr(), conv.type_oid, -1, 0);
            d
        };
        let random = (*rsinfo).allowedModes
            & pg_sys::SetFunctionReturnMode::SFRM_Materialize_Random as i32
            != 0;
        let store = pg_sys::tuplestore_begin_heap(random, false, pg_sys::work_mem);
        pg_sys::MemoryContextSwitchTo(old);
        (*rsinfo).returnMode = pg_sys::SetFunctionReturnMode::SFRM_Materialize;
        (*rsinfo).setResult = store;
        (*rsinfo).setDesc = desc;
        Some(SetSink { store, desc })
    }
}

/// The row of a function with OUT parameters, from its columns.
///
/// # Safety
/// `fcinfo` is the live call's.
unsafe fn record_datum(
    fcinfo: pg_sys::FunctionCallInfo,
    ex: &mut Exchange,
    f: &Function,
    convs: &[crate::conv::Conv],
    bytes: &[u8],
) -> pg_sys::Datum {
    let mut reader = ArgReader::new(bytes);
    let mut values = Vec::with_capacity(convs.len());
    let mut nulls = Vec::with_capacity(convs.len());
    for c in convs {
        match reader.next() {
            Ok(Some(b)) => {
                values.push(c.receive(b));
                nulls.push(false);
            }
            Ok(None) => {
                values.push(pg_sys::Datum::from(0));
                nulls.push(true);
            }
            Err(_) => ex.protocol_error("a row with too few columns"),
        }
    }
    if !reader.is_done() {
        ex.protocol_error("a row with too many columns");
    }
    // SAFETY: the caller's contract; the descriptor describes the OUT
    // parameters, whose values we built above.
    unsafe {
        let mut desc: pg_sys::TupleDesc = std::ptr::null_mut();
        if pg_sys::get_call_result_type(fcinfo, std::ptr::null_mut(), &mut desc)
            != pg_sys::TypeFuncClass::TYPEFUNC_COMPOSITE
        {
            raise(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!(
                    "plrust function \"{}\": cannot determine its result row type",
                    f.name
                ),
                None,
                None,
            );
        }
        let desc = pg_sys::BlessTupleDesc(desc);
        let tuple = pg_sys::heap_form_tuple(desc, values.as_mut_ptr(), nulls.as_mut_ptr());
        pg_sys::heap_copy_tuple_as_datum(tuple, desc)
    }
}

#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn plrust_call_handler(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    require_pool();
    // SAFETY: PostgreSQL passes a valid fcinfo with a valid flinfo;
    // fn_extra is ours, and only ever holds a leaked &'static Function.
    let f: &'static Function = unsafe {
        let flinfo = (*fcinfo).flinfo;
        if (*flinfo).fn_extra.is_null() {
            let f = function::get((*flinfo).fn_oid);
            (*flinfo).fn_extra = f as *const Function as *mut std::ffi::c_void;
            f
        } else {
            &*((*flinfo).fn_extra as *const Function)
        }
    };
    // SAFETY: fcinfo is this call's.
    unsafe { call(fcinfo, f, None) }
}

/// DO blocks compiled in this backend, by hash: running the same block
/// again (a script in a loop) does not recompile it.  Bounded: the
/// compiled code is dropped past INLINE_CACHE entries.
static INLINE_CACHE: BackendLocal<RefCell<Vec<CompiledBlock>>> =
    BackendLocal::new(RefCell::new(Vec::new()));
type CompiledBlock = (&'static Function, std::rc::Rc<Vec<u8>>);
const INLINE_CACHE_LEN: usize = 16;

#[no_mangle]
pub extern "C" fn pg_finfo_plrust_inline_handler() -> &'static pg_sys::Pg_finfo_record {
    &V1
}

/// `DO $$ ... $$ LANGUAGE plrust`: compile the block (in the same box as
/// any function) and run it once in an executor of the current role's
/// own, which loads nothing else.
#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn plrust_inline_handler(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    require_pool();
    // SAFETY: the inline handler's one argument is an InlineCodeBlock.
    let source = unsafe {
        let block = (*fcinfo).args.as_slice(1)[0]
            .value
            .cast_mut_ptr::<pg_sys::InlineCodeBlock>();
        std::ffi::CStr::from_ptr((*block).source_text)
            .to_string_lossy()
            .into_owned()
    };
    let def = function::inline_block(source);
    let cached = INLINE_CACHE
        .borrow()
        .iter()
        .find(|(f, _)| f.hash == def.hash)
        .map(|(f, o)| (*f, std::rc::Rc::clone(o)));
    let (f, object) = match cached {
        // Built earlier in this session: resolved again, like a definition
        // whose code exists (compile.rs: verify_dependencies).
        Some(hit) => {
            compile::verify_dependencies(hit.0);
            hit
        }
        None => {
            let object = std::rc::Rc::new(compile::compile_function(&def).object);
            let f: &'static Function = Box::leak(Box::new(def));
            let mut cache = INLINE_CACHE.borrow_mut();
            if cache.len() >= INLINE_CACHE_LEN {
                cache.remove(0);
            }
            cache.push((f, std::rc::Rc::clone(&object)));
            (f, object)
        }
    };
    // SAFETY: fcinfo is this call's; a DO block takes no arguments.
    unsafe { call(fcinfo, f, Some(&object)) }
}

/// Run one call of `f`; `object` is its code when it is not in
/// plrust.artifacts (a DO block).
///
/// # Safety
/// `fcinfo` is the live call's, and `f` describes what it calls.
unsafe fn call(
    fcinfo: pg_sys::FunctionCallInfo,
    f: &'static Function,
    object: Option<&[u8]>,
) -> pg_sys::Datum {
    // Nested calls (a body calling back through SPI into plrust) use the
    // backend's stack at every level: PostgreSQL's own limit applies, as
    // for any recursion through SQL (54001, max_stack_depth).
    // SAFETY: a plain check of this backend's stack depth; it raises an
    // ERROR when too deep.
    unsafe { pg_sys::check_stack_depth() };
    // Every error from here on says which function it came from.
    let context = crate::errors::CallContext::push(&f.context);
    let key = f.key();
    // SAFETY: fcinfo is this call's.
    let set = unsafe { set_sink(fcinfo, f) };
    let firing = matches!(f.output, Output::Trigger).then(|| {
        // SAFETY: fcinfo is this call's.
        unsafe { Firing::of(fcinfo, &f.name) }
    });
    let mut state = CallState::new(f, set, firing.as_ref().map(|t| t.data), context.line());
    let mut ex = Exchange::begin(f.principal.in_this_session(), key, &f.name, object);
    // Small arguments (most calls) are encoded on the stack; larger ones in
    // a private buffer as big as the request area.
    // Only functions whose arguments are all fixed-width try the stack
    // first: for them a retry re-encodes a few numbers, whereas a text or
    // bytea argument would be detoasted (maybe decompressed) twice.
    let mut small = [0u8; INLINE];
    let first_try = if f.fixed_width_args {
        // SAFETY: fcinfo is this call's, and f was built from this
        // function's pg_proc entry.
        unsafe { encode_args(fcinfo, f, &mut small) }
    } else {
        None
    };
    match first_try {
        Some(len) => ex.send_call(&small[..len]),
        None => {
            let mut args = std::mem::take(&mut *ARGS.borrow_mut());
            if args.len() < plrust_ipc::limits::REQUEST_AREA {
                // Zeroed on demand by the kernel: only touched pages cost memory.
                args = vec![0u8; plrust_ipc::limits::REQUEST_AREA];
            }
            let len = match &firing {
                Some(t) => encode_trigger(t, &mut args),
                // SAFETY: as above.
                None => unsafe { encode_args(fcinfo, f, &mut args) },
            }
            .unwrap_or_else(|| too_large(f));
            ex.send_call(&args[..len]);
            // Given back before the upcalls, which may nest calls that
            // need it.
            *ARGS.borrow_mut() = args;
        }
    }
    let reply_len = ex.serve_upcalls(&mut state);
    state.finish();
    let mut buf = Vec::new();
    let mut inline = [0u8; INLINE];
    let bytes = ex.reply_bytes(reply_len, &mut inline, &mut buf);
    let returned = match wire::decode_reply(bytes) {
        // A trigger returns a row or a NULL pointer, never SQL NULL.
        Ok(Reply::Value(v)) if firing.is_some() => {
            Returned::Value(firing.as_ref().expect("a trigger").returned(v))
        }
        // A DO block's handler must not return NULL.
        Ok(Reply::Value(None)) if f.sig.ret == Return::Inline => {
            Returned::Value(pg_sys::Datum::from(0))
        }
        Ok(Reply::Value(None)) => Returned::Null,
        Ok(Reply::Value(Some(v))) => Returned::Value(match &f.output {
            Output::Value(c) if c.sql == plrust_ipc::types::SqlType::Void => pg_sys::Datum::from(0),
            Output::Value(c) => c.receive(v),
            // SAFETY: fcinfo is this call's.
            Output::Record(cs) => unsafe { record_datum(fcinfo, &mut ex, f, cs, v) },
            Output::SetOf(_) | Output::Table(_) | Output::Trigger => {
                ex.protocol_error("a value from a set-returning function")
            }
        }),
        Ok(Reply::Error(e)) => Returned::Error {
            sqlstate: e.sqlstate,
            message: e.message.to_string(),
            detail: e.detail.map(str::to_string),
            hint: e.hint.map(str::to_string),
            line: e.line,
            passed_on: e.passed_on.as_ref().map(|p| Box::new(ErrorOrigin::from(p))),
        },
        Ok(Reply::Panic { message, line }) => Returned::Panic {
            message: message.to_string(),
            line,
        },
        Err(e) => ex.protocol_error(&format!("invalid reply: {e}")),
    };
    ex.finish();
    match returned {
        Returned::Value(d) => d,
        Returned::Null => {
            // SAFETY: fcinfo is this call's.
            unsafe { (*fcinfo).isnull = true };
            pg_sys::Datum::from(0)
        }
        Returned::Error {
            sqlstate,
            message,
            detail,
            hint,
            line,
            passed_on,
        } => {
            context.line().at(line);
            if let Some(p) = &passed_on {
                context.line().passing_on(p);
            }
            context.line().raise(
                sqlstate.map_or(PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, error_code),
                message,
                detail,
                hint,
            )
        }
        // The panic's own words; CONTEXT names the function and the line.
        Returned::Panic { message, line } => {
            context.line().at(line);
            context
                .line()
                .raise(PgSqlErrorCode::ERRCODE_INTERNAL_ERROR, message, None, None)
        }
    }
}

#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn plrust_validator(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // SAFETY: the validator is called with one oid argument.
    let oid: pg_sys::Oid =
        unsafe { pgrx::fcinfo::pg_getarg(fcinfo, 0) }.expect("validator called with NULL");
    // SAFETY: fcinfo and flinfo are valid for this call.
    let allowed = unsafe { pg_sys::CheckFunctionValidatorAccess((*(*fcinfo).flinfo).fn_oid, oid) };
    if !allowed {
        return pg_sys::Datum::from(0);
    }
    let f = function::definition(oid);
    // Compiled here whatever check_function_bodies says, unlike PL/pgSQL:
    // a plrust body names no object but its own types, which exist by now,
    // so a restore (pg_restore, psql -f, Citus propagating CREATE FUNCTION
    // to workers) can compile it as well as CREATE FUNCTION can, and every
    // call then finds code committed with the function.  A call never
    // compiles: it could not write in a read-only transaction or on a
    // standby, and its store would vanish with a rolled-back transaction.
    //
    // pg_upgrade's schema restore is the exception: the old cluster's
    // plrust.artifacts arrives with its data files afterwards, code by
    // content hash that the new cluster's functions find as they are.
    // SAFETY: globals, read on the backend's only thread.
    let (binary_upgrade, checking) =
        unsafe { (pg_sys::IsBinaryUpgrade, pg_sys::check_function_bodies) };
    if binary_upgrade || (!checking && !catalog::extension_is_current()) {
        // (With bodies unchecked in a database whose extension is older
        // than the library, ALTER EXTENSION plrust UPDATE compiles it.)
        return pg_sys::Datum::from(0);
    }
    // (A replaced definition's old code is collected after the statement,
    // alter.rs: a restore's plain CREATEs make no code unused, and
    // collecting after each would hash every definition once per function.)
    // With bodies unchecked (a restore, Citus), a body that does not
    // compile here must not fail the restore: it warns, and the function
    // exists without code until it is fixed.
    if checking {
        compile::ensure_compiled(&f);
    } else {
        compile::ensure_compiled_or_warn(&f);
    }
    crate::alter::validated();
    pg_sys::Datum::from(0)
}
