//! The one function a compiled body's exported symbol calls: decode the
//! arguments, run the body, contain its panics, encode the reply.
//!
//! It is generic, so it is instantiated inside each function's shared
//! object, with that object's own copy of std; the executor only ever sees
//! the C ABI `plrust_entry(args, args_len, reply, reply_cap) -> reply_len`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

use plrust_ipc::wire;
use plrust_ipc::Reply;

/// The error type of a body's `Result`, as in PL/Rust.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

static QUIET: Once = Once::new();

/// The default panic hook prints to stderr, which the executor does not
/// have (and seccomp would kill it for trying).  The message is taken from
/// the payload instead.
fn quiet_panics() {
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

fn encode_reply<R: bincode::Encode>(reply: &Reply<R>, out: &mut [u8]) -> usize {
    match wire::encode_into(reply, out) {
        Ok(n) => n,
        Err(e) => {
            let msg = Reply::<R>::Error(format!(
                "plrust: the function's result cannot be returned: {e}"
            ));
            wire::encode_into(&msg, out).unwrap_or(0)
        }
    }
}

/// Run one call.
///
/// # Safety
/// `args` must be valid for reads of `args_len` bytes and `out` for writes
/// of `out_cap` bytes, the two ranges must not overlap, and nothing else may
/// write them during the call.  The executor guarantees this for the
/// channel's request and reply areas.
pub unsafe fn run<A, R>(
    args: *const u8,
    args_len: usize,
    out: *mut u8,
    out_cap: usize,
    body: impl FnOnce(A) -> Result<Option<R>, BoxError>,
) -> usize
where
    A: bincode::Decode<()>,
    R: bincode::Encode,
{
    quiet_panics();
    // SAFETY: the caller guarantees `args` is readable for `args_len` bytes.
    let input = unsafe { std::slice::from_raw_parts(args, args_len) };
    let decoded: Result<A, _> = wire::decode_exact(input);
    // SAFETY: the caller guarantees `out` is writable for `out_cap` bytes and
    // does not overlap `input`, which is not used past this point anyway.
    let out = unsafe { std::slice::from_raw_parts_mut(out, out_cap) };
    let args = match decoded {
        Ok(a) => a,
        Err(e) => {
            return encode_reply(
                &Reply::<R>::Error(format!("plrust: malformed arguments: {e}")),
                out,
            )
        }
    };
    let reply = match catch_unwind(AssertUnwindSafe(|| body(args))) {
        Ok(Ok(v)) => Reply::Value(v),
        Ok(Err(e)) => Reply::Error(e.to_string()),
        Err(payload) => Reply::Panic(panic_message(payload)),
    };
    encode_reply(&reply, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call<
        A: bincode::Encode,
        D: bincode::Decode<()>,
        R: bincode::Encode + bincode::Decode<()>,
    >(
        args: &A,
        body: impl FnOnce(D) -> Result<Option<R>, BoxError>,
    ) -> Reply<R> {
        let mut input = vec![0u8; 1024];
        let n = wire::encode_into(args, &mut input).unwrap();
        let mut out = vec![0u8; 1024];
        // SAFETY: both buffers are live, distinct and large enough.
        let m = unsafe { run(input.as_ptr(), n, out.as_mut_ptr(), out.len(), body) };
        wire::decode_reply(&out[..m]).unwrap()
    }

    #[test]
    fn value_error_and_panic() {
        assert_eq!(
            call(&(Some(41i32),), |(a,): (Option<i32>,)| Ok(a.map(|x| x + 1))),
            Reply::Value(Some(42))
        );
        assert_eq!(
            call(&(1i32,), |(_,): (i32,)| Ok::<Option<i32>, _>(None)),
            Reply::Value(None)
        );
        assert_eq!(
            call(&(1i32,), |(_,): (i32,)| Err::<Option<i32>, BoxError>(
                "nope".into()
            )),
            Reply::Error("nope".into())
        );
        assert_eq!(
            call(&(1i32,), |(_,): (i32,)| -> Result<Option<i32>, BoxError> {
                panic!("boom {}", 7)
            }),
            Reply::Panic("boom 7".into())
        );
    }

    #[test]
    fn malformed_arguments_are_an_error_reply() {
        let r = call(&(1u8,), |(a,): (String,)| Ok(Some(a)));
        assert!(matches!(r, Reply::Error(m) if m.contains("malformed")));
    }
}
