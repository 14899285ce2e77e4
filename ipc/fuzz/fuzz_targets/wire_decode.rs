//! Fuzz every decoder of channel bytes (`plrust_ipc::wire`,
//! `plrust_ipc::args`) with arbitrary input.
//!
//! The first byte chooses what the rest is decoded as (modulo 64, so every
//! byte value means something; most values go to the untrusted decoders).  What a backend decodes
//! from its executor, which may run hostile code:
//!
//! - `decode_reply`, a call's reply (handler/src/call.rs), cross-checked
//!   against plain `decode_borrowed::<Reply>`;
//! - `decode_upcall`, what a running body asks of its backend: Log,
//!   Execute, Fetch, Close, Rows, DescribeType (handler/src/upcall.rs),
//!   cross-checked against `decode_borrowed::<Upcall>`;
//! - `ArgReader` over arbitrary bytes, as `record_datum` (call.rs) reads the
//!   columns of a row of OUT parameters (the first byte after the case is
//!   the number of columns);
//! - `decode_message` (FAILED replies);
//! - error reports (replies, panics and Log upcalls) built from the input
//!   whose message, detail and hint are just under or over MAX_MESSAGE
//!   (too long to reach from libFuzzer's default input sizes) and whose
//!   SQLSTATE is any five bytes.
//!
//! Upcalls whose vectors need about REPLY_AREA bytes of heap are the
//! upcall_heap target's (each takes tens of milliseconds).
//!
//! What an executor decodes from its backend (trusted, but it must still
//! not panic or over-allocate): `decode_exact::<Limits>` (a LIMITS request,
//! bgworker/src/executor/serve.rs), `decode_exact::<Answer>` (the answer to
//! an upcall, trusted-api/src/entry.rs), `decode_exact::<TriggerInfo>`
//! (trusted-api/src/trigger.rs), and `ArgWriter`'s frames read back with
//! `ArgReader` (the call's arguments, trusted-api/src/entry.rs).
//!
//! The properties checked are in common/mod.rs.

#![no_main]

use libfuzzer_sys::fuzz_target;
use plrust_ipc::args::{ArgReader, ArgWriter, Truncated};
use plrust_ipc::limits::MAX_MESSAGE;
use plrust_ipc::message::{Answer, ErrorReport, Limits, LogLevel, TriggerInfo, Upcall};
use plrust_ipc::wire;
use plrust_ipc::Reply;

mod common;

/// The most heap per input byte a decoded executor-side value needs: an
/// `Option<Vec<u8>>` column (24 bytes) of an `Answer::Table` row is one
/// byte when NULL.
const ANSWER_PER_BYTE: usize = 24;
/// `TriggerInfo`: an argument `String` (24 bytes) is 8 bytes when empty.
const TRIGGER_PER_BYTE: usize = 3;

/// What the rest of the input is decoded as: the first byte modulo 64,
/// most values for the untrusted decoders.
fn run(first: u8, bytes: &[u8]) {
    match first % CASES {
        0..=14 => drop(common::reply(bytes)),
        15..=29 | 63 => drop(common::upcall(bytes)),
        30..=37 => {
            if let Some((&columns, frame)) = bytes.split_first() {
                common::args(frame, usize::from(columns % 32));
            }
        }
        38..=40 => drop(common::message(bytes)),
        41..=42 => drop(common::exact::<Limits>(bytes, 0)),
        43..=50 => drop(common::exact::<Answer>(bytes, ANSWER_PER_BYTE)),
        51..=54 => drop(common::exact::<TriggerInfo>(bytes, TRIGGER_PER_BYTE)),
        55..=60 => arguments(bytes),
        // Slower: frames of up to 200 KB.
        _ => report(bytes),
    }
}

const CASES: u8 = 64;

// ---- arguments, as the backend writes them ----------------------------------

/// Values made from the input (a control byte each: 0xFF is NULL, else
/// that many bytes mod 64), written with `ArgWriter` as the backend's
/// encode_args does and read back with `ArgReader` as the executor's Args
/// does: the same values, nothing left, and no room in a buffer one byte
/// short.
fn arguments(bytes: &[u8]) {
    let mut values: Vec<Option<&[u8]>> = Vec::new();
    let mut rest = bytes;
    while let Some((&c, tail)) = rest.split_first() {
        if c == 0xFF {
            values.push(None);
            rest = tail;
        } else {
            let n = usize::from(c % 64).min(tail.len());
            values.push(Some(&tail[..n]));
            rest = &tail[n..];
        }
    }
    let size: usize = values.iter().map(|v| 4 + v.map_or(0, <[u8]>::len)).sum();
    let mut buf = vec![0u8; size + 1];
    for room in [size, size + 1] {
        let mut w = ArgWriter::new(&mut buf[..room]);
        for v in &values {
            match v {
                Some(b) => w.value(b),
                None => w.null(),
            }
            .expect("the values fit");
        }
        assert_eq!(w.len(), size);
    }
    let frame = &buf[..size];
    let mut r = ArgReader::new(frame);
    for v in &values {
        assert_eq!(r.next().as_ref(), Ok(v));
    }
    assert!(r.is_done());
    assert_eq!(r.next(), Err(Truncated));
    let read = common::args(frame, values.len());
    assert_eq!(read, values);
    if size > 0 {
        let mut short = vec![0u8; size - 1];
        let mut w = ArgWriter::new(&mut short);
        assert!(
            !values.iter().all(|v| match v {
                Some(b) => w.value(b).is_some(),
                None => w.null().is_some(),
            }),
            "the values fit a buffer one byte short"
        );
    }
}

// ---- error reports around the limits --------------------------------------------

/// A text of `len` bytes made from `piece` (cut at a char boundary, padded
/// with 'x').
fn text_of(piece: &str, len: usize) -> String {
    let mut m = if piece.is_empty() {
        String::new()
    } else {
        piece.repeat(len / piece.len() + 1)
    };
    let mut cut = len.min(m.len());
    while !m.is_char_boundary(cut) {
        cut -= 1;
    }
    m.truncate(cut);
    let pad = len - m.len();
    m.extend(std::iter::repeat_n('x', pad));
    m
}

/// The length of a message field from a selector: none, short, or around
/// the cap.
fn field_len(sel: u8, short: usize) -> Option<usize> {
    match sel % 8 {
        0 => None,
        1 => Some(short),
        s => Some(MAX_MESSAGE - 4 + usize::from(s)), // MAX-2 ..= MAX+2
    }
}

/// An error report made from the input: a selector byte per field (message,
/// detail, hint), a SQLSTATE (or none) of any five bytes, the kind of
/// frame (Reply::Error, Reply::Panic, Upcall::Log at some level), and text.
/// Accepted exactly when every text is at most MAX_MESSAGE bytes and the
/// SQLSTATE is five of [0-9A-Z]; accepted as what was sent.
fn report(bytes: &[u8]) {
    let Some((head, text)) = bytes.split_first_chunk::<10>() else {
        return;
    };
    let [m, d, h, has_code, c0, c1, c2, c3, c4, kind] = *head;
    let piece = String::from_utf8_lossy(text);
    let short = text.len() % 64;
    // A message is never absent.
    let message = text_of(&piece, field_len(m, short).unwrap_or(0));
    let detail = field_len(d, short).map(|n| text_of(&piece, n));
    let hint = field_len(h, short).map(|n| text_of(&piece, n));
    let code = [c0, c1, c2, c3, c4];
    let sqlstate = (has_code & 1 == 1).then_some(code);
    let r = ErrorReport {
        sqlstate,
        message: &message,
        detail: detail.as_deref(),
        hint: hint.as_deref(),
        line: u32::from(kind),
        passed_on: None,
    };
    let texts_fit = [Some(&message), detail.as_ref(), hint.as_ref()]
        .into_iter()
        .flatten()
        .all(|t| t.len() <= MAX_MESSAGE);
    let code_ok = sqlstate.is_none_or(|c| {
        c.iter()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    });
    match kind % 3 {
        0 => {
            let sent = Reply::Error(r);
            let buf = wire::encode_to_vec(&sent);
            let got = common::reply(&buf);
            assert_eq!(
                got.is_some(),
                texts_fit && code_ok,
                "{:?}",
                wire::decode_reply(&buf)
            );
            if let Some(got) = got {
                assert_eq!(got, sent);
            }
        }
        1 => {
            let sent = Reply::Panic {
                message: &message,
                line: u32::from(m),
            };
            let buf = wire::encode_to_vec(&sent);
            let got = common::reply(&buf);
            assert_eq!(got.is_some(), message.len() <= MAX_MESSAGE);
            if let Some(got) = got {
                assert_eq!(got, sent);
            }
        }
        _ => {
            const LEVELS: [LogLevel; 9] = [
                LogLevel::Debug5,
                LogLevel::Debug4,
                LogLevel::Debug3,
                LogLevel::Debug2,
                LogLevel::Debug1,
                LogLevel::Log,
                LogLevel::Info,
                LogLevel::Notice,
                LogLevel::Warning,
            ];
            let sent = Upcall::Log {
                level: LEVELS[usize::from(kind / 3) % LEVELS.len()],
                report: r,
            };
            let buf = wire::encode_to_vec(&sent);
            let got = common::upcall(&buf);
            assert_eq!(
                got.is_some(),
                texts_fit && code_ok,
                "{:?}",
                wire::decode_upcall(&buf)
            );
            if let Some(got) = got {
                assert_eq!(got, sent);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Some((&first, rest)) = data.split_first() {
        run(first, rest);
    }
});
