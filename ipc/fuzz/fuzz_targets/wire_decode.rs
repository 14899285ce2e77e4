//! Fuzz every public decoding entry point of `plrust_ipc::wire` with
//! arbitrary bytes.
//!
//! The first byte chooses what the rest is decoded as (modulo the number of
//! cases, so every byte value means something):
//!
//! - `decode_reply::<T>` (cross-checked against `decode_exact::<Reply<T>>`)
//!   for the wire type of every SQL return type, exactly as the backend's
//!   call handler decodes a reply (handler/src/call.rs);
//! - `decode_exact::<A>` for argument tuples, as the executor's entry
//!   decodes them (trusted-api/src/entry.rs): no arguments, one argument of
//!   each type both STRICT (`(T,)`) and not (`(Option<T>,)`), all types at
//!   once, and a 16-argument mix;
//! - `decode_exact::<Limits>` (a LIMITS request, as the executor decodes it);
//! - `decode_message` (FAILED replies);
//! - replies whose error or panic message is just under or over the
//!   MAX_MESSAGE cap (built from the input: libFuzzer's inputs stay small);
//! - the backend's encoding of a text/bytea argument (`&[u8]`, plain and
//!   `Some`) decoded by the executor as `String`/`Vec<u8>`.
//!
//! The properties checked are in common/mod.rs.

#![no_main]

use libfuzzer_sys::fuzz_target;
use plrust_ipc::limits::MAX_MESSAGE;
use plrust_ipc::message::Limits;
use plrust_ipc::wire::{self, WireError};
use plrust_ipc::Reply;

mod common;
use common::{exact, message, reply};

type S = String;
type B = Vec<u8>;
type O<T> = Option<T>;

/// What the rest of the input is decoded as.
fn run(case: u8, bytes: &[u8]) {
    match case {
        // Replies: one per SqlType::wire_type().
        0 => drop(reply::<bool>(bytes)),
        1 => drop(reply::<i16>(bytes)),
        2 => drop(reply::<i32>(bytes)),
        3 => drop(reply::<i64>(bytes)),
        4 => drop(reply::<f32>(bytes)),
        5 => drop(reply::<f64>(bytes)),
        6 => drop(reply::<S>(bytes)),
        7 => drop(reply::<B>(bytes)),
        8 => drop(reply::<()>(bytes)),
        // Arguments: none.
        9 => exact::<()>(bytes),
        // One STRICT argument of each type.
        10 => exact::<(bool,)>(bytes),
        11 => exact::<(i16,)>(bytes),
        12 => exact::<(i32,)>(bytes),
        13 => exact::<(i64,)>(bytes),
        14 => exact::<(f32,)>(bytes),
        15 => exact::<(f64,)>(bytes),
        16 => exact::<(S,)>(bytes),
        17 => exact::<(B,)>(bytes),
        // One non-STRICT (nullable) argument of each type.
        18 => exact::<(O<bool>,)>(bytes),
        19 => exact::<(O<i16>,)>(bytes),
        20 => exact::<(O<i32>,)>(bytes),
        21 => exact::<(O<i64>,)>(bytes),
        22 => exact::<(O<f32>,)>(bytes),
        23 => exact::<(O<f64>,)>(bytes),
        24 => exact::<(O<S>,)>(bytes),
        25 => exact::<(O<B>,)>(bytes),
        // Several arguments: every type, STRICT and not, and the longest
        // tuple bincode decodes, heavy on length-prefixed values (the limit
        // is shared by all of them).
        26 => exact::<(bool, i16, i32, i64, f32, f64, S, B)>(bytes),
        27 => exact::<(O<bool>, O<i16>, O<i32>, O<i64>, O<f32>, O<f64>, O<S>, O<B>)>(bytes),
        28 => exact::<(O<i32>, O<S>)>(bytes),
        // (Sixteen arguments, nested because std has PartialEq and Debug
        // only up to 12-tuples; a tuple encodes as its fields in order, so
        // the bytes are those of the flat 16-tuple.)
        29 => exact::<(
            (S, B, S, B, S, B, S, B, O<S>, O<B>, O<S>, O<B>),
            (i64, O<f64>, bool, S),
        )>(bytes),
        // FAILED replies.
        30 => drop(message(bytes)),
        // Error and panic messages around the MAX_MESSAGE cap (too long
        // to reach from libFuzzer's default input sizes).
        31 => long_message(bytes),
        // A LIMITS request, as the executor decodes it
        // (bgworker/src/executor/serve.rs).
        32 => exact::<Limits>(bytes),
        // What the backend sends for a text or bytea argument.
        _ => text_argument(bytes),
    }
}

const CASES: u8 = 34;

/// A reply carrying an error or panic message of MAX_MESSAGE - 2 ..=
/// MAX_MESSAGE + 2 bytes made from the input: accepted exactly when it fits
/// the cap; the rest of the checks are `reply`'s.
fn long_message(bytes: &[u8]) {
    let Some((&how, text)) = bytes.split_first() else {
        return;
    };
    let want = MAX_MESSAGE - 2 + usize::from(how % 5);
    let piece = String::from_utf8_lossy(text);
    let mut m = if piece.is_empty() {
        String::new()
    } else {
        piece.repeat(want / piece.len() + 1)
    };
    let mut cut = want.min(m.len());
    while !m.is_char_boundary(cut) {
        cut -= 1;
    }
    m.truncate(cut);
    let pad = want - m.len();
    m.extend(std::iter::repeat_n('x', pad));
    let len = m.len();
    let r = if how & 8 == 0 {
        Reply::<String>::Error(m)
    } else {
        Reply::<String>::Panic(m)
    };
    let mut buf = vec![0u8; len + 64];
    let n = wire::encode_into(&r, &mut buf).expect("the buffer fits");
    let decoded = reply::<String>(&buf[..n]);
    assert_eq!(
        decoded.is_some(),
        len <= MAX_MESSAGE,
        "message of {len} bytes"
    );
    if let Some(d) = decoded {
        assert_eq!(d, r);
    }
}

/// The backend encodes a text/bytea argument as `&[u8]` (plain for STRICT
/// functions, `Some` otherwise); the executor decodes it as `String` (which
/// validates UTF-8) or `Vec<u8>`.
fn text_argument(bytes: &[u8]) {
    let mut buf = vec![0u8; bytes.len() + 9];
    let n = wire::encode_into(&(bytes,), &mut buf).expect("the buffer fits");
    assert_eq!(n, 8 + bytes.len());
    assert_eq!(
        wire::encode_into(&(bytes,), &mut buf[..n - 1]),
        Err(WireError::TooLarge)
    );
    let text: Result<(String,), _> = wire::decode_exact(&buf[..n]);
    assert_eq!(
        text.ok().map(|(s,)| s),
        std::str::from_utf8(bytes).ok().map(str::to_owned)
    );
    let raw: (Vec<u8>,) = wire::decode_exact(&buf[..n]).expect("bytea decodes");
    assert_eq!(raw.0, bytes);
    exact::<(String,)>(&buf[..n]);

    let n = wire::encode_into(&(Some(bytes),), &mut buf).expect("the buffer fits");
    assert_eq!(n, 9 + bytes.len());
    let text: Result<(Option<String>,), _> = wire::decode_exact(&buf[..n]);
    assert_eq!(
        text.ok().map(|(s,)| s),
        std::str::from_utf8(bytes).ok().map(|s| Some(s.to_owned()))
    );
    exact::<(Option<Vec<u8>>,)>(&buf[..n]);
}

fuzz_target!(|data: &[u8]| {
    if let Some((&first, rest)) = data.split_first() {
        run(first % CASES, rest);
    }
});
