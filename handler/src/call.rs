//! The language's call handler and validator.
//!
//! A call: find the function (fn_extra caches it per FmgrInfo), lease an
//! executor, encode the arguments straight into the channel's request
//! area, wait for the reply, copy and decode it (wire.rs: the executor is
//! not trusted), give the executor back, then return the value or raise the
//! body's error.

use std::cell::RefCell;

use pgrx::prelude::*;
use plrust_ipc::channel::INLINE;
use plrust_ipc::message::{op, status};
use plrust_ipc::wire::{self, WireError};
use plrust_ipc::{Reply, SqlType};

use crate::backend_local::BackendLocal;
use crate::dispatch::{self, Lease};
use crate::errors::raise;
use crate::function::{self, Function};
use crate::{compile, pool};

pub static V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };

#[no_mangle]
pub extern "C" fn pg_finfo_plrust_call_handler() -> &'static pg_sys::Pg_finfo_record {
    &V1
}

#[no_mangle]
pub extern "C" fn pg_finfo_plrust_validator() -> &'static pg_sys::Pg_finfo_record {
    &V1
}

/// The call's encoded arguments, built in private memory and then copied
/// into the channel in one piece; and the reply, copied out of the channel
/// before it is decoded.
static ARGS: BackendLocal<RefCell<Vec<u8>>> = BackendLocal::new(RefCell::new(Vec::new()));
static REPLY: BackendLocal<RefCell<Vec<u8>>> = BackendLocal::new(RefCell::new(Vec::new()));

/// What came back, converted while the executor is still leased (so a
/// malformed reply can still recycle it), acted on after it is released.
enum Returned {
    Null,
    Value(pg_sys::Datum),
    Error(String),
    Panic(String),
}

/// Encode one value at the start of `out`; None when it does not fit.
fn put<T: bincode::Encode>(v: &T, out: &mut [u8]) -> Option<usize> {
    match wire::encode_into(v, out) {
        Ok(n) => Some(n),
        Err(WireError::TooLarge) => None,
        Err(e) => raise(
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            format!("plrust: encoding arguments: {e}"),
            None,
            None,
        ),
    }
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
    let mut pos = 0;
    for (arg, d) in f.sig.args.iter().zip(args) {
        let out = &mut out[pos..];
        if d.isnull {
            // A STRICT function is never called with NULL arguments.
            pos += put(&None::<()>, out)?;
            continue;
        }
        let v = d.value;
        macro_rules! enc {
            ($x:expr) => {
                if f.sig.strict {
                    put(&$x, out)?
                } else {
                    put(&Some($x), out)?
                }
            };
        }
        pos += match arg.ty {
            SqlType::Bool => enc!(v.value() as u8 != 0),
            SqlType::Int2 => enc!(v.value() as i16),
            SqlType::Int4 => enc!(v.value() as i32),
            SqlType::Int8 => enc!(v.value() as i64),
            SqlType::Float4 => enc!(f32::from_bits(v.value() as u32)),
            SqlType::Float8 => enc!(f64::from_bits(v.value() as u64)),
            SqlType::Text | SqlType::Varchar | SqlType::Bytea => {
                // Text goes as bytes; the executor decodes it as a String,
                // which validates the UTF-8 (the database is UTF8, checked
                // when the function is defined).
                // SAFETY: a non-NULL varlena argument; detoasting returns a
                // palloc'd (or the original) contiguous varlena.
                let bytes: &[u8] = unsafe {
                    let p = pg_sys::pg_detoast_datum_packed(v.cast_mut_ptr());
                    pgrx::varlena::varlena_to_byte_slice(p)
                };
                enc!(bytes)
            }
            SqlType::Void => 0,
        };
    }
    Some(pos)
}

fn decode<T: bincode::Decode<()>>(
    lease: &mut Lease,
    f: &Function,
    bytes: &[u8],
    to_datum: impl FnOnce(T) -> pg_sys::Datum,
) -> Returned {
    match wire::decode_reply::<T>(bytes) {
        Ok(Reply::Value(Some(v))) => Returned::Value(to_datum(v)),
        Ok(Reply::Value(None)) => Returned::Null,
        Ok(Reply::Error(m)) => Returned::Error(m),
        Ok(Reply::Panic(m)) => Returned::Panic(m),
        Err(e) => dispatch::protocol_error(lease, &f.name, &format!("invalid reply: {e}")),
    }
}

fn datum<T: IntoDatum>(v: T) -> pg_sys::Datum {
    v.into_datum().expect("a non-NULL value has a datum")
}

#[pg_guard]
#[no_mangle]
pub unsafe extern "C-unwind" fn plrust_call_handler(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    if !pool::is_initialized() {
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            "plrust must be loaded via shared_preload_libraries".into(),
            None,
            Some("Add 'plrust' to shared_preload_libraries in postgresql.conf and restart the server.".into()),
        );
    }
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
    let key = f.key();
    let mut lease = dispatch::lease(f.principal.in_this_session(), key, &f.name);
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
    let (st, reply_len) = match first_try {
        Some(len) => dispatch::request(&mut lease, op::CALL, key, &small[..len], &f.name),
        None => {
            let mut args = ARGS.borrow_mut();
            if args.len() < plrust_ipc::limits::REQUEST_AREA {
                // Zeroed on demand by the kernel: only touched pages cost memory.
                *args = vec![0u8; plrust_ipc::limits::REQUEST_AREA];
            }
            // SAFETY: as above.
            let len = unsafe { encode_args(fcinfo, f, &mut args) }.unwrap_or_else(|| too_large(f));
            dispatch::request(&mut lease, op::CALL, key, &args[..len], &f.name)
        }
    };
    let returned = {
        let mut buf = REPLY.borrow_mut();
        let inline;
        let bytes: &[u8] = if reply_len <= INLINE && st == status::OK {
            inline = lease.channel().copy_inline_reply();
            &inline[..reply_len]
        } else {
            lease.channel().copy_reply(reply_len, &mut buf);
            &buf[..]
        };
        if st != status::OK {
            let msg = wire::decode_message(bytes);
            dispatch::protocol_error(&mut lease, &f.name, &msg);
        }
        match f.sig.ret {
            SqlType::Bool => decode::<bool>(&mut lease, f, bytes, datum),
            SqlType::Int2 => decode::<i16>(&mut lease, f, bytes, datum),
            SqlType::Int4 => decode::<i32>(&mut lease, f, bytes, datum),
            SqlType::Int8 => decode::<i64>(&mut lease, f, bytes, datum),
            SqlType::Float4 => decode::<f32>(&mut lease, f, bytes, datum),
            SqlType::Float8 => decode::<f64>(&mut lease, f, bytes, datum),
            SqlType::Text | SqlType::Varchar => decode::<String>(&mut lease, f, bytes, datum),
            SqlType::Bytea => decode::<Vec<u8>>(&mut lease, f, bytes, datum),
            SqlType::Void => decode::<()>(&mut lease, f, bytes, |()| pg_sys::Datum::from(0)),
        }
    };
    drop(lease);
    match returned {
        Returned::Value(d) => d,
        Returned::Null => {
            // SAFETY: fcinfo is this call's.
            unsafe { (*fcinfo).isnull = true };
            pg_sys::Datum::from(0)
        }
        Returned::Error(m) => raise(PgSqlErrorCode::ERRCODE_DATA_EXCEPTION, m, None, None),
        Returned::Panic(m) => raise(
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            format!("plrust function \"{}\" panicked: {m}", f.name),
            None,
            None,
        ),
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
    // SAFETY: a GUC variable, read on the backend's only thread.
    if unsafe { pg_sys::check_function_bodies } {
        compile::ensure_compiled(&f);
    }
    pg_sys::Datum::from(0)
}
