//! The glue between a compiled body and its executor: decode the
//! arguments, run the body, contain its panics, encode the reply.  The
//! path by which the body reaches its backend mid-call (log messages, SPI,
//! rows of a set) is upcall.rs.
//!
//! `run` is generic, so it is instantiated inside each function's shared
//! object; what it calls (and std) is in this crate's dylib, which every
//! function of an executor shares (so the call in progress and the panic
//! hook below exist once per executor).  The executor itself only ever
//! sees the C ABI `plrust_entry(host, args, args_len, reply, reply_cap) ->
//! reply_len`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

use plrust_ipc::args::ArgReader;
pub use plrust_ipc::message::ErrorOrigin;
use plrust_ipc::message::{bounded, ErrorReport};
pub use plrust_ipc::Host;
use plrust_ipc::{wire, Reply};

use crate::datum::{Encoded, FromDatum, IntoDatum};
pub use crate::upcall::Body;
use crate::upcall::{body_line, CallScope};

/// The error type of a body's `Result`, as in PL/Rust.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

static QUIET: Once = Once::new();

/// The body's line of the last panic (0: not in the body).
static PANIC_LINE: AtomicU32 = AtomicU32::new(0);

/// The default panic hook prints to stderr, which the executor does not
/// have (and seccomp would kill it for trying).  The message is taken from
/// the payload instead; the hook only notes where in the body the panic
/// was (an `unwrap`, an index, an overflow, `error!`: all `#[track_caller]`
/// down to the body's line), for the CONTEXT line.
fn quiet_panics() {
    QUIET.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let line = info.location().map_or(0, body_line);
            PANIC_LINE.store(line, Ordering::Relaxed);
        }))
    });
}

/// An ERROR a body raised on purpose (`error!`, `ereport!`): unwound as a
/// panic, so it ends the call from any depth, and reported with its code.
#[derive(Debug, Clone)]
pub struct RaisedError {
    pub sqlstate: Option<[u8; 5]>,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// Where it arose, if it is an SPI error raised again (`fn_call`).
    pub origin: Option<Box<ErrorOrigin>>,
}

fn panic_reply(payload: &(dyn std::any::Any + Send)) -> Result<RaisedError, String> {
    if let Some(e) = payload.downcast_ref::<RaisedError>() {
        Ok(e.clone())
    } else if let Some(s) = payload.downcast_ref::<&'static str>() {
        arithmetic(s).ok_or_else(|| (*s).to_string())
    } else if let Some(s) = payload.downcast_ref::<String>() {
        arithmetic(s).ok_or_else(|| s.clone())
    } else {
        Err("panic with a non-string payload".to_string())
    }
}

/// Bodies are compiled with overflow checks (rustc.rs): integer overflow
/// and division by zero are ERRORs with SQL's SQLSTATEs, as in SQL and
/// PL/pgSQL, not a silent wrap or an internal error.  The panic messages
/// are core's own (`attempt to add with overflow`, `attempt to divide by
/// zero`, ...).
fn arithmetic(message: &str) -> Option<RaisedError> {
    let code = if message.starts_with("attempt to ") && message.ends_with(" with overflow") {
        *b"22003" // numeric_value_out_of_range
    } else if message == "attempt to divide by zero"
        || message == "attempt to calculate the remainder with a divisor of zero"
    {
        *b"22012" // division_by_zero
    } else {
        return None;
    };
    Some(RaisedError {
        sqlstate: Some(code),
        message: message.to_string(),
        detail: None,
        hint: Some(
            "Use the wrapping_*, checked_* or saturating_* methods for other behaviour.".into(),
        ),
        origin: None,
    })
}

/// The call's arguments, decoded in order by the generated code.
pub struct Args<'a> {
    reader: ArgReader<'a>,
}

impl<'a> Args<'a> {
    /// The next argument, of SQL type `oid`; None for NULL.
    pub fn next<T: FromDatum>(&mut self, oid: u32) -> Result<Option<T>, BoxError> {
        match self.reader.next() {
            Ok(Some(bytes)) => Ok(Some(T::from_binary(bytes, oid)?)),
            Ok(None) => Ok(None),
            Err(_) => Err("plrust: malformed arguments: too few".into()),
        }
    }

    /// The next argument's bytes, undecoded; None for NULL.
    pub(crate) fn raw(&mut self) -> Result<Option<&'a [u8]>, BoxError> {
        self.reader
            .next()
            .map_err(|_| "plrust: malformed arguments: too few".into())
    }

    /// The next argument, of composite type `oid` with these attributes
    /// (name, type, base type: from the catalog when the function was made).
    pub fn next_record(
        &mut self,
        oid: u32,
        attributes: &[(&str, u32, u32)],
    ) -> Result<Option<crate::PgHeapTuple<'static>>, BoxError> {
        match self.reader.next() {
            Ok(Some(bytes)) => Ok(Some(crate::PgHeapTuple::from_record(
                bytes,
                oid,
                crate::PgHeapTuple::attributes_of(attributes),
            )?)),
            Ok(None) => Ok(None),
            Err(_) => Err("plrust: malformed arguments: too few".into()),
        }
    }

    /// `next_record` for a STRICT function.
    pub fn required_record(
        &mut self,
        oid: u32,
        attributes: &[(&str, u32, u32)],
    ) -> Result<crate::PgHeapTuple<'static>, BoxError> {
        self.next_record(oid, attributes)?
            .ok_or_else(|| "plrust: NULL argument to a STRICT function".into())
    }

    /// The next argument of a STRICT function, which PostgreSQL never calls
    /// with a NULL.
    pub fn required<T: FromDatum>(&mut self, oid: u32) -> Result<T, BoxError> {
        self.next(oid)?
            .ok_or_else(|| "plrust: NULL argument to a STRICT function".into())
    }
}

/// A DO block's result: nothing to send.
pub fn inline_done(_: ()) -> Encoded {
    Encoded::Null
}

/// What a body's value becomes on the wire.
pub fn value<T: IntoDatum>(v: Option<T>) -> Encoded {
    v.into_encoded()
}

fn error_reply(e: &BoxError, out: &mut [u8]) -> usize {
    if let Some(crate::spi::SpiError::Sql {
        sqlstate,
        message,
        detail,
        hint,
        origin,
        line,
    }) = e.downcast_ref::<crate::spi::SpiError>()
    {
        return encode_reply(
            &Reply::Error(ErrorReport {
                sqlstate: Some(*sqlstate),
                message,
                detail: detail.as_deref(),
                hint: hint.as_deref(),
                line: *line,
                passed_on: origin.as_deref().map(ErrorOrigin::passed_on),
            }),
            out,
        );
    }
    let message = e.to_string();
    encode_reply(&Reply::Error(ErrorReport::new(None, &message)), out)
}

fn encode_reply(reply: &Reply<'_>, out: &mut [u8]) -> usize {
    // The backend refuses texts longer than it accepts as a broken
    // protocol: a body's long message is cut here instead.
    let reply = match reply {
        Reply::Error(r) => Reply::Error(r.clone().bounded()),
        Reply::Panic { message, line } => Reply::Panic {
            message: bounded(message),
            line: *line,
        },
        Reply::Value(v) => Reply::Value(*v),
    };
    match wire::encode_into(&reply, out) {
        Ok(n) => n,
        Err(e) => {
            let message = format!("plrust: the function's result cannot be returned: {e}");
            let msg = Reply::Error(ErrorReport::new(Some(*b"54000"), &message));
            wire::encode_into(&msg, out).unwrap_or(0)
        }
    }
}

/// Run one call.  `body` decodes the arguments, runs the function and
/// encodes its result (see codegen.rs); `source` says where the body's
/// lines are in the function's source.
///
/// # Safety
/// `host` must be valid for the call; `args` must be valid for reads of
/// `args_len` bytes and `out` for writes of `out_cap` bytes, the two ranges
/// must not overlap, and nothing else may write `args` during the call.
/// `out` is written only after the body has returned, i.e. after its last
/// upcall, and no reference into it exists before: calls nested in the
/// body's upcalls may use the same `out` buffer (the executor's one reply
/// buffer serves every depth).
pub unsafe fn run(
    host: *const Host,
    args: *const u8,
    args_len: usize,
    out: *mut u8,
    out_cap: usize,
    source: &Body,
    body: impl FnOnce(&mut Args<'_>) -> Result<Encoded, BoxError>,
) -> usize {
    quiet_panics();
    let _scope = CallScope::enter(host, source);
    // SAFETY: the caller guarantees `args` is readable for `args_len` bytes.
    let input = unsafe { std::slice::from_raw_parts(args, args_len) };
    let mut decoder = Args {
        reader: ArgReader::new(input),
    };
    let result = catch_unwind(AssertUnwindSafe(|| body(&mut decoder)));
    // SAFETY: the caller guarantees `out` is writable for `out_cap` bytes and
    // does not overlap `input`; made only now, so that no reference into it
    // lives while nested calls write it.
    let out = unsafe { std::slice::from_raw_parts_mut(out, out_cap) };
    match result {
        Ok(Ok(v)) => encode_reply(&Reply::Value(v.as_bytes()), out),
        Ok(Err(e)) => error_reply(&e, out),
        Err(payload) => {
            let line = PANIC_LINE.swap(0, Ordering::Relaxed);
            match panic_reply(payload.as_ref()) {
                Ok(raised) => encode_reply(
                    &Reply::Error(ErrorReport {
                        sqlstate: raised.sqlstate,
                        message: &raised.message,
                        detail: raised.detail.as_deref(),
                        hint: raised.hint.as_deref(),
                        line,
                        passed_on: raised.origin.as_deref().map(ErrorOrigin::passed_on),
                    }),
                    out,
                ),
                Err(message) => encode_reply(
                    &Reply::Panic {
                        message: &message,
                        line,
                    },
                    out,
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plrust_ipc::args::ArgWriter;

    unsafe extern "C" fn no_upcalls(
        _: *mut std::ffi::c_void,
        _: *const u8,
        _: usize,
        _: *mut usize,
    ) -> *const u8 {
        panic!("no upcalls in these tests")
    }

    fn call(
        args: &[Option<&[u8]>],
        body: impl FnOnce(&mut Args<'_>) -> Result<Encoded, BoxError>,
    ) -> Vec<u8> {
        let mut input = vec![0u8; 1024];
        let mut w = ArgWriter::new(&mut input);
        for a in args {
            match a {
                Some(b) => w.value(b).unwrap(),
                None => w.null().unwrap(),
            }
        }
        let n = w.len();
        let mut out = vec![0u8; 1024];
        let host = Host {
            ctx: std::ptr::null_mut(),
            upcall: no_upcalls,
        };
        let source = Body {
            file: file!(),
            first_line: 1,
            lines: u32::MAX,
        };
        // SAFETY: all buffers are live, distinct and large enough.
        let m = unsafe {
            run(
                &host,
                input.as_ptr(),
                n,
                out.as_mut_ptr(),
                out.len(),
                &source,
                body,
            )
        };
        out.truncate(m);
        out
    }

    #[test]
    fn value_error_and_panic() {
        let four = 41i32.to_be_bytes();
        let r = call(&[Some(&four)], |a| {
            let x: Option<i32> = a.next(23)?;
            Ok(value(x.map(|x| x + 1)))
        });
        assert_eq!(
            wire::decode_reply(&r).unwrap(),
            Reply::Value(Some(&42i32.to_be_bytes()))
        );
        let r = call(&[None], |a| Ok(value(a.next::<i32>(23)?)));
        assert_eq!(wire::decode_reply(&r).unwrap(), Reply::Value(None));
        let r = call(&[], |_| Err("nope".into()));
        assert!(
            matches!(wire::decode_reply(&r).unwrap(), Reply::Error(e) if e.message == "nope" && e.sqlstate.is_none())
        );
        let line = line!() + 1;
        let r = call(&[], |_| panic!("boom {}", 7));
        assert_eq!(
            wire::decode_reply(&r).unwrap(),
            Reply::Panic {
                message: "boom 7",
                line
            }
        );
        let r = call(&[], |_| {
            std::panic::panic_any(RaisedError {
                sqlstate: Some(*b"P0001"),
                message: "raised".into(),
                detail: Some("d".into()),
                hint: None,
                origin: None,
            })
        });
        assert!(
            matches!(wire::decode_reply(&r).unwrap(), Reply::Error(e) if e.sqlstate == Some(*b"P0001") && e.detail == Some("d"))
        );
    }

    #[test]
    fn malformed_arguments_are_an_error_reply() {
        let r = call(&[], |a| Ok(value(a.next::<i32>(23)?)));
        assert!(
            matches!(wire::decode_reply(&r).unwrap(), Reply::Error(e) if e.message.contains("malformed"))
        );
    }
}
