//! Datums to and from PostgreSQL's binary format, the form in which values
//! travel to and from executors.
//!
//! Any type is converted with its own send and receive functions, which
//! PostgreSQL already hardens against hostile input (they serve binary COPY
//! and the extended protocol): a value an executor returns gets exactly
//! the checks a value from a client gets, domain constraints included.
//! The types most calls use are converted here directly, with the same
//! checks, because calling a send function costs more than the rest of a
//! small call.

use std::cell::OnceCell;

use pgrx::prelude::*;
use plrust_ipc::types::{Scalar, SqlType};

use crate::errors::raise;

/// How one argument or result type is converted.
pub struct Conv {
    /// The declared type (a domain stays a domain: its receive function
    /// checks the constraints).
    pub type_oid: pg_sys::Oid,
    pub sql: SqlType,
    /// Converted here rather than by send/receive.
    fast: Option<Scalar>,
    send: OnceCell<Box<pg_sys::FmgrInfo>>,
    recv: OnceCell<(Box<pg_sys::FmgrInfo>, pg_sys::Oid)>,
}

fn fmgr_info(func: pg_sys::Oid) -> Box<pg_sys::FmgrInfo> {
    // SAFETY: FmgrInfo is plain data, all-zero is a valid "empty" value.
    let mut info: Box<pg_sys::FmgrInfo> = Box::new(unsafe { std::mem::zeroed() });
    // SAFETY: fmgr_info_cxt fills the struct; TopMemoryContext outlives the
    // leaked Function that owns this Conv.
    unsafe { pg_sys::fmgr_info_cxt(func, info.as_mut(), pg_sys::TopMemoryContext) };
    info
}

/// A fixed-width value that must be exactly `N` bytes.
fn fixed<const N: usize>(
    bytes: &[u8],
    what: &str,
    datum: impl FnOnce([u8; N]) -> pg_sys::Datum,
) -> pg_sys::Datum {
    match bytes.try_into() {
        Ok(b) => datum(b),
        Err(_) => invalid(what, "wrong length"),
    }
}

fn invalid(what: &str, why: &str) -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_INVALID_BINARY_REPRESENTATION,
        format!("invalid {what} value returned by a plrust function: {why}"),
        None,
        None,
    )
}

/// Text from an executor: valid UTF-8 (the database's encoding) and no NUL.
pub fn text_datum(bytes: &[u8]) -> pg_sys::Datum {
    if std::str::from_utf8(bytes).is_err() {
        invalid("text", "not valid UTF-8");
    }
    if bytes.contains(&0) {
        invalid("text", "it contains a NUL character");
    }
    varlena_datum(bytes)
}

fn varlena_datum(bytes: &[u8]) -> pg_sys::Datum {
    // SAFETY: cstring_to_text_with_len copies `len` bytes into a new palloc'd
    // varlena; it does not need a terminator.  bytea has the same layout.
    unsafe {
        pg_sys::Datum::from(pg_sys::cstring_to_text_with_len(
            bytes.as_ptr().cast(),
            bytes.len() as i32,
        ))
    }
}

/// The types whose binary form is a few bytes, converted here directly.
fn is_fixed_width(t: Scalar) -> bool {
    matches!(
        t,
        Scalar::Bool | Scalar::Int2 | Scalar::Int4 | Scalar::Int8 | Scalar::Float4 | Scalar::Float8
    )
}

impl Conv {
    pub fn new(type_oid: pg_sys::Oid, sql: SqlType) -> Conv {
        let fast = match &sql {
            SqlType::Scalar { ty, oid } if *oid == type_oid.to_u32() => match ty {
                t if is_fixed_width(*t) => Some(*t),
                Scalar::Bytea => Some(*ty),
                // text, varchar and bpchar, not name (a fixed 64 bytes).
                Scalar::Text if [25, 1043, 1042].contains(oid) => Some(*ty),
                _ => None,
            },
            _ => None,
        };
        Conv {
            type_oid,
            sql,
            fast,
            send: OnceCell::new(),
            recv: OnceCell::new(),
        }
    }

    /// Whether an argument of this type is a few bytes at most.
    pub fn fixed_width(&self) -> bool {
        self.fast.is_some_and(is_fixed_width)
    }

    /// The binary form of a non-NULL `datum` of this type, passed to `put`
    /// (which writes it into the request).
    ///
    /// # Safety
    /// `datum` is a valid, non-NULL value of `self.type_oid`.
    pub unsafe fn send<R>(&self, datum: pg_sys::Datum, put: impl FnOnce(&[u8]) -> R) -> R {
        let v = datum.value();
        match self.fast {
            Some(Scalar::Bool) => put(&[u8::from(v as u8 != 0)]),
            Some(Scalar::Int2) => put(&(v as i16).to_be_bytes()),
            Some(Scalar::Int4) => put(&(v as i32).to_be_bytes()),
            Some(Scalar::Int8) => put(&(v as i64).to_be_bytes()),
            Some(Scalar::Float4) => put(&(v as u32).to_be_bytes()),
            Some(Scalar::Float8) => put(&(v as u64).to_be_bytes()),
            Some(_) => {
                // SAFETY: a non-NULL varlena of a text-like type or bytea;
                // detoasting returns a palloc'd (or the original) contiguous
                // varlena.  Text is sent as its bytes: the database is UTF8.
                let bytes: &[u8] = unsafe {
                    let p = pg_sys::pg_detoast_datum_packed(datum.cast_mut_ptr());
                    pgrx::varlena::varlena_to_byte_slice(p)
                };
                put(bytes)
            }
            None => {
                let info = self.send.get_or_init(|| {
                    let mut func = pg_sys::InvalidOid;
                    let mut varlena = false;
                    // SAFETY: a valid type oid; out-pointers to locals.
                    unsafe {
                        pg_sys::getTypeBinaryOutputInfo(self.type_oid, &mut func, &mut varlena)
                    };
                    fmgr_info(func)
                });
                let _utf8 = ClientEncodingIsUtf8::new();
                // SAFETY: the type's send function on a valid value; it
                // returns a palloc'd bytea.
                let bytes: &[u8] = unsafe {
                    let b = pg_sys::SendFunctionCall(
                        (info.as_ref() as *const pg_sys::FmgrInfo).cast_mut(),
                        datum,
                    );
                    pgrx::varlena::varlena_to_byte_slice(b.cast())
                };
                put(bytes)
            }
        }
    }

    /// A Datum of this type from its binary form (from an executor:
    /// untrusted).  Raises an ERROR on anything the type would refuse.
    pub fn receive(&self, bytes: &[u8]) -> pg_sys::Datum {
        match self.fast {
            Some(Scalar::Bool) => match bytes {
                [b] => pg_sys::Datum::from(*b != 0),
                _ => invalid("boolean", "wrong length"),
            },
            Some(Scalar::Int2) => fixed(bytes, "smallint", |b| i16::from_be_bytes(b).into()),
            Some(Scalar::Int4) => fixed(bytes, "integer", |b| i32::from_be_bytes(b).into()),
            Some(Scalar::Int8) => fixed(bytes, "bigint", |b| i64::from_be_bytes(b).into()),
            Some(Scalar::Float4) => fixed(bytes, "real", |b| u32::from_be_bytes(b).into()),
            Some(Scalar::Float8) => {
                fixed(bytes, "double precision", |b| u64::from_be_bytes(b).into())
            }
            Some(Scalar::Bytea) => varlena_datum(bytes),
            Some(_) => text_datum(bytes),
            None => {
                let (info, ioparam) = self.recv.get_or_init(|| {
                    let mut func = pg_sys::InvalidOid;
                    let mut ioparam = pg_sys::InvalidOid;
                    // SAFETY: a valid type oid; out-pointers to locals.
                    unsafe {
                        pg_sys::getTypeBinaryInputInfo(self.type_oid, &mut func, &mut ioparam)
                    };
                    (fmgr_info(func), ioparam)
                });
                let _utf8 = ClientEncodingIsUtf8::new();
                receive_with(info, *ioparam, bytes)
            }
        }
    }
}

/// Call a receive function on a copy of `bytes`, requiring it to consume
/// them all (as the protocol does).
fn receive_with(info: &pg_sys::FmgrInfo, ioparam: pg_sys::Oid, bytes: &[u8]) -> pg_sys::Datum {
    // SAFETY: a fresh StringInfo holding a copy of the bytes (receive
    // functions may scribble on their buffer); the receive function is the
    // type's own, given its I/O parameter and no typmod.
    unsafe {
        let buf = pg_sys::makeStringInfo();
        pg_sys::appendBinaryStringInfo(buf, bytes.as_ptr().cast(), bytes.len() as i32);
        let d = pg_sys::ReceiveFunctionCall(
            (info as *const pg_sys::FmgrInfo).cast_mut(),
            buf,
            ioparam,
            -1,
        );
        if (*buf).cursor != (*buf).len {
            raise(
                PgSqlErrorCode::ERRCODE_INVALID_BINARY_REPRESENTATION,
                "incorrect binary data format in a value returned by a plrust function".into(),
                None,
                None,
            );
        }
        d
    }
}

/// A value of any type `type_oid` from its binary form (SPI arguments,
/// whose types the body names at run time).
pub fn receive_any(type_oid: pg_sys::Oid, bytes: &[u8]) -> pg_sys::Datum {
    let mut func = pg_sys::InvalidOid;
    let mut ioparam = pg_sys::InvalidOid;
    // SAFETY: out-pointers to locals; an unknown type is an ERROR.
    unsafe { pg_sys::getTypeBinaryInputInfo(type_oid, &mut func, &mut ioparam) };
    let info = fmgr_info_here(func);
    let _utf8 = ClientEncodingIsUtf8::new();
    receive_with(&info, ioparam, bytes)
}

/// An FmgrInfo for one use, in the current memory context.
pub fn fmgr_info_here(func: pg_sys::Oid) -> pg_sys::FmgrInfo {
    // SAFETY: as fmgr_info, for a short-lived lookup.
    unsafe {
        let mut info: pg_sys::FmgrInfo = std::mem::zeroed();
        pg_sys::fmgr_info(func, &mut info);
        info
    }
}

/// The binary form of a value of any type `type_oid` (SPI result columns).
///
/// # Safety
/// `datum` is a valid, non-NULL value of `type_oid`.
pub unsafe fn send_with(info: &pg_sys::FmgrInfo, datum: pg_sys::Datum) -> Vec<u8> {
    // SAFETY: the caller's contract; the result is a palloc'd bytea copied
    // out at once.
    unsafe {
        let b = pg_sys::SendFunctionCall((info as *const pg_sys::FmgrInfo).cast_mut(), datum);
        pgrx::varlena::varlena_to_byte_slice(b.cast()).to_vec()
    }
}

/// Send and receive functions of text-bearing types convert between the
/// server's and the client's encoding, but executors always speak UTF-8
/// (the database's encoding).  While this guard lives, the client encoding
/// is UTF8, so they convert nothing.
pub struct ClientEncodingIsUtf8 {
    previous: Option<i32>,
}

impl ClientEncodingIsUtf8 {
    pub fn new() -> ClientEncodingIsUtf8 {
        // SAFETY: plain getter.
        let current = unsafe { pg_sys::pg_get_client_encoding() };
        let utf8 = pg_sys::pg_enc::PG_UTF8 as i32;
        if current == utf8 {
            return ClientEncodingIsUtf8 { previous: None };
        }
        // SAFETY: UTF8 to UTF8 needs no conversion function, so this cannot
        // fail in a UTF8 database.
        unsafe { pg_sys::SetClientEncoding(utf8) };
        ClientEncodingIsUtf8 {
            previous: Some(current),
        }
    }
}

impl Drop for ClientEncodingIsUtf8 {
    fn drop(&mut self) {
        if let Some(previous) = self.previous {
            // SAFETY: restoring the encoding that was in use (its conversion
            // functions are already looked up).
            unsafe { pg_sys::SetClientEncoding(previous) };
        }
    }
}

/// How a type maps to Rust, if it does.
pub fn resolve(type_oid: pg_sys::Oid) -> Result<SqlType, String> {
    if type_oid == pg_sys::VOIDOID {
        return Ok(SqlType::Void);
    }
    // SAFETY: plain catalog lookups of a type oid.
    let base = unsafe { pg_sys::getBaseType(type_oid) };
    if let Some(ty) = Scalar::of_builtin(base.to_u32()) {
        return Ok(SqlType::Scalar {
            ty,
            oid: base.to_u32(),
        });
    }
    // SAFETY: as above.
    let typtype = unsafe { pg_sys::get_typtype(base) } as u8;
    match typtype {
        b'e' => {
            return Ok(SqlType::Scalar {
                ty: Scalar::Text,
                oid: base.to_u32(),
            })
        }
        b'c' => {
            return Ok(SqlType::Composite {
                oid: base.to_u32(),
                attributes: attributes_of(base)
                    .into_iter()
                    .map(|a| (a.name, a.type_oid, a.base_oid))
                    .collect(),
            })
        }
        _ => {}
    }
    // SAFETY: as above.
    let elem = unsafe { pg_sys::get_element_type(base) };
    if elem != pg_sys::InvalidOid {
        return match resolve(elem)? {
            SqlType::Scalar { ty, .. } => Ok(SqlType::Array {
                elem: ty,
                oid: base.to_u32(),
            }),
            _ => Err(format!("arrays of {} are not supported", type_name(elem))),
        };
    }
    Err(format!("type {} is not supported", type_name(type_oid)))
}

/// The tuple inside a composite datum (as record_recv returns one: a
/// plain, untoasted HeapTupleHeader with a 4-byte varlena header, whose
/// size is the tuple's length).
///
/// # Safety
/// `d` is such a datum, alive as long as the tuple is used.
pub unsafe fn tuple_of_record(d: pg_sys::Datum) -> pg_sys::HeapTupleData {
    // SAFETY: the caller's contract; HeapTupleData is plain data.
    unsafe {
        let header = d.cast_mut_ptr::<pg_sys::HeapTupleHeaderData>();
        let mut tuple: pg_sys::HeapTupleData = std::mem::zeroed();
        tuple.t_len = (*(header as *const u32) >> 2) & 0x3FFF_FFFF;
        tuple.t_data = header;
        tuple
    }
}

/// A composite type's attributes, dropped ones left out (record_send
/// leaves them out too).
///
/// Read from pg_attribute through the syscache, not from the type's tuple
/// descriptor: that opens and locks the relation, and every definition is
/// hashed whenever code is collected (DROP, CREATE OR REPLACE), so a
/// collection would wait on, or deadlock with, another session's ALTER or
/// DROP of any row type a plrust function uses; a type dropped meanwhile
/// failed the collection.  The syscache shows the committed catalog, with
/// no lock, and a type that is gone has no attributes.  Attribute numbers
/// are dense from 1 (dropped columns keep theirs).
pub fn attributes_of(type_oid: pg_sys::Oid) -> Vec<plrust_ipc::message::Attribute> {
    // SAFETY: catalog lookups by oid; each syscache tuple is read while
    // held and released at once.
    unsafe {
        let relid = pg_sys::get_typ_typrelid(type_oid);
        let mut out = Vec::new();
        if relid == pg_sys::InvalidOid {
            return out;
        }
        for attnum in 1i16.. {
            let tuple = pg_sys::SearchSysCache2(
                pg_sys::SysCacheIdentifier::ATTNUM as i32,
                pg_sys::Datum::from(relid),
                pg_sys::Datum::from(attnum),
            );
            if tuple.is_null() {
                break;
            }
            let a = &*pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_attribute>(tuple);
            if !a.attisdropped {
                out.push(plrust_ipc::message::Attribute {
                    name: std::ffi::CStr::from_ptr(a.attname.data.as_ptr())
                        .to_string_lossy()
                        .into_owned(),
                    type_oid: a.atttypid.to_u32(),
                    base_oid: pg_sys::getBaseType(a.atttypid).to_u32(),
                });
            }
            pg_sys::ReleaseSysCache(tuple);
        }
        out
    }
}

pub fn type_name(oid: pg_sys::Oid) -> String {
    // SAFETY: format_type_be returns a palloc'd C string for any type oid.
    unsafe { std::ffi::CStr::from_ptr(pg_sys::format_type_be(oid)) }
        .to_string_lossy()
        .into_owned()
}
