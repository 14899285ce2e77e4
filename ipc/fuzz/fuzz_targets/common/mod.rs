//! Checks shared by the fuzz targets: an allocation meter, and the
//! properties every decoder of channel bytes must have on arbitrary input.
//!
//! For the decoders of untrusted bytes (a backend reading what an executor
//! wrote: `wire::decode_reply`, `wire::decode_upcall`, `wire::decode_message`,
//! `args::ArgReader`):
//!
//! - It never panics (a panic is a libFuzzer crash).
//! - It never allocates more than the decoder's byte limit (REPLY_AREA),
//!   whatever a length prefix claims; the global allocator below measures
//!   the peak of live heap bytes during each decode.  `ArgReader`
//!   allocates nothing at all.
//! - A value that decodes re-encodes to exactly the bytes it came from
//!   (fixed-width bincode is canonical; `encode_into` and `encode_to_vec`
//!   agree), decodes again to the same value, does not fit a buffer one byte
//!   shorter (`TooLarge`), and is refused when cut short or followed by a
//!   byte (`TrailingBytes(1)`).
//! - An error is consistent: `TrailingBytes(n)` means the first `len - n`
//!   bytes are a valid frame; a strict prefix of a valid frame is refused.
//! - `decode_reply` / `decode_upcall` agree with plain
//!   `decode_borrowed::<Reply>` / `decode_borrowed::<Upcall>`, except that
//!   they refuse, with the matching error, exactly the values carrying a
//!   message over MAX_MESSAGE (`MessageTooLong(len)`) or a SQLSTATE that is
//!   not five characters of [0-9A-Z] (`Malformed`); what they accept has
//!   neither, and an upcall's vectors take at most REPLY_AREA bytes of heap.
//!
//! The executor's decoders of what its (trusted) backend sent
//! (`decode_exact::<Answer>` and friends) get the same checks, with a heap
//! bound that allows for what the decoded value itself needs (see
//! `exact`).

#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};

use bincode::{Decode, Encode};
use plrust_ipc::args::{ArgReader, ArgWriter, Truncated, NULL_LEN};
use plrust_ipc::limits::{MAX_MESSAGE, REPLY_AREA};
use plrust_ipc::message::{ErrorReport, SpiArg, Upcall};
use plrust_ipc::wire::{self, WireError};
use plrust_ipc::Reply;

// ---- allocation meter ----------------------------------------------------

struct Metered;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to System with the same arguments; the
// counters are only bookkeeping.
unsafe impl GlobalAlloc for Metered {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded; `ptr` came from this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's arguments.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static METERED: Metered = Metered;

/// Room for an error's message on top of a decoder's limit.
pub const SLACK: usize = 64 << 10;

/// Run `f` and return, with its result, the most heap it held at once
/// beyond what was live before it.
pub fn peak<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = f();
    (r, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

/// Run `f` (one decode) and check that the heap it used at its peak stays
/// within `limit` (plus an error message).
pub fn metered_within<R>(what: &str, limit: usize, f: impl FnOnce() -> R) -> R {
    let (r, used) = peak(f);
    assert!(
        used <= limit.saturating_add(SLACK),
        "{what}: decoding allocated {used} bytes, more than the limit {limit}"
    );
    r
}

/// `metered_within` the decoder's own limit, REPLY_AREA.
pub fn metered<R>(what: &str, f: impl FnOnce() -> R) -> R {
    metered_within(what, REPLY_AREA, f)
}

// ---- properties of any frame -----------------------------------------------

/// `v` was decoded from all of `original`: it must re-encode to exactly
/// those bytes, with both encoders, and refuse a buffer one byte short.
pub fn encodes_to<T: Encode + Debug>(v: &T, original: &[u8]) {
    let mut buf = vec![0u8; original.len() + 16];
    let n = wire::encode_into(v, &mut buf).expect("a decoded value re-encodes");
    assert!(
        buf[..n] == *original,
        "re-encoding differs from the decoded bytes ({n} vs {} bytes)",
        original.len()
    );
    assert!(
        wire::encode_to_vec(v) == original,
        "encode_to_vec and encode_into differ"
    );
    if n > 0 {
        assert_eq!(
            wire::encode_into(v, &mut buf[..n - 1]),
            Err(WireError::TooLarge),
            "a value encoded into a buffer one byte short"
        );
    }
}

/// A frame that decodes is refused one byte shorter, cut at `hint`, and
/// followed by one more byte (`TrailingBytes(1)`).  `error_of` decodes and
/// returns the error, if any.
pub fn frame_bounds(bytes: &[u8], hint: usize, error_of: impl Fn(&[u8]) -> Option<WireError>) {
    if let Some((_, short)) = bytes.split_last() {
        assert!(
            error_of(short).is_some(),
            "a frame one byte short of a valid frame decoded"
        );
        let cut = hint % bytes.len();
        assert!(
            error_of(&bytes[..cut]).is_some(),
            "a strict prefix ({cut} of {} bytes) of a valid frame decoded",
            bytes.len()
        );
    }
    let mut longer = Vec::with_capacity(bytes.len() + 1);
    longer.extend_from_slice(bytes);
    longer.push(hint as u8);
    assert_eq!(
        error_of(&longer),
        Some(WireError::TrailingBytes(1)),
        "a valid frame followed by a byte"
    );
}

/// A plain decode error must be consistent with the bytes; `frame_ok` says
/// whether bytes are a valid frame.
fn check_error(e: &WireError, bytes: &[u8], frame_ok: impl Fn(&[u8]) -> bool) {
    match e {
        WireError::TrailingBytes(n) => {
            assert!(
                *n > 0 && *n <= bytes.len(),
                "TrailingBytes({n}) of {}",
                bytes.len()
            );
            // The frame ended where the error says it did.
            assert!(
                frame_ok(&bytes[..bytes.len() - n]),
                "TrailingBytes({n}) but the frame before them does not decode"
            );
        }
        WireError::Malformed(m) => assert!(!m.is_empty(), "Malformed without a reason"),
        WireError::TooLarge | WireError::MessageTooLong(_) => {
            panic!("a plain decode returned {e:?}")
        }
    }
    // Displaying an error never panics either (the backend formats it).
    let _ = e.to_string();
}

// ---- the executor's decoders (trusted input) -----------------------------------

/// `wire::decode_exact::<T>` on arbitrary bytes.  `per_byte`: the most heap
/// the decoded value may need per input byte (the size of the largest
/// vector element over its smallest encoding): bincode claims a vector's
/// heap against its limit before allocating it, and releases the claim as
/// the elements are read, so a decode holds at most its limit plus that.
pub fn exact<T: Encode + Decode<()> + PartialEq + Debug>(
    bytes: &[u8],
    per_byte: usize,
) -> Option<T> {
    let what = std::any::type_name::<T>();
    let limit = REPLY_AREA + per_byte * bytes.len();
    let error_of = |b: &[u8]| wire::decode_exact::<T>(b).err();
    match metered_within(what, limit, || wire::decode_exact::<T>(bytes)) {
        Ok(v) => {
            encodes_to(&v, bytes);
            assert_eq!(
                wire::decode_exact::<T>(bytes).as_ref(),
                Ok(&v),
                "{what}: decoded twice"
            );
            frame_bounds(bytes, v_hint(bytes), error_of);
            Some(v)
        }
        Err(e) => {
            check_error(&e, bytes, |b| error_of(b).is_none());
            None
        }
    }
}

/// A cut point that depends on the input (O(1): frames reach 200 KB).
fn v_hint(bytes: &[u8]) -> usize {
    bytes.len() / 2
        + bytes.first().map_or(0, |b| usize::from(*b)) * 257
        + bytes.last().map_or(0, |b| usize::from(*b))
}

// ---- the backend's decoders (untrusted input) ----------------------------------

/// A type the backend decodes from executor bytes: its checked decoder,
/// the plain bincode decode, and what the checks must refuse.
pub trait Untrusted<'a>: Encode + PartialEq + Debug + Sized {
    const WHAT: &'static str;
    /// `wire::decode_reply` or `wire::decode_upcall`.
    fn checked(bytes: &'a [u8]) -> Result<Self, WireError>;
    /// `wire::decode_borrowed`.
    fn plain(bytes: &'a [u8]) -> Result<Self, WireError>;
    /// The same two for bytes of any lifetime, error only.
    fn checked_error(bytes: &[u8]) -> Option<WireError>;
    fn plain_error(bytes: &[u8]) -> Option<WireError>;
    /// The errors the checked decoder may return for this value (which
    /// plain decoding accepts); empty if it must accept it.
    fn refusals(&self) -> Vec<WireError>;
    /// Heap the decoded value holds.
    fn heap(&self) -> usize;
}

/// The errors `check_report` may return for `r`.
pub fn report_refusals(r: &ErrorReport<'_>) -> Vec<WireError> {
    let mut v = Vec::new();
    let passed_on = r.passed_on.as_ref();
    for m in [Some(r.message), r.detail, r.hint]
        .into_iter()
        .flatten()
        .chain(passed_on.into_iter().flat_map(|p| p.texts()))
    {
        if m.len() > MAX_MESSAGE {
            v.push(WireError::MessageTooLong(m.len()));
        }
    }
    if let Some(p) = passed_on {
        if p.position as usize > p.query.map_or(0, |q| q.chars().count()) + 1 {
            v.push(WireError::Malformed(String::new()));
        }
        let o = &p.objects;
        let names = p.source.iter().flat_map(|s| [s.function, s.file]);
        if names
            .chain([o.schema, o.table, o.column, o.datatype, o.constraint].into_iter().flatten())
            .any(|t| t.chars().any(char::is_control))
        {
            v.push(WireError::Malformed(String::new()));
        }
    }
    if let Some(code) = r.sqlstate {
        if !code.iter().all(|c| matches!(c, b'0'..=b'9' | b'A'..=b'Z')) {
            v.push(WireError::Malformed(String::new()));
        }
    }
    v
}

/// `e` is one of `allowed` (any reason for `Malformed`).
fn allowed(e: &WireError, allowed: &[WireError]) -> bool {
    allowed.iter().any(|a| match (a, e) {
        (WireError::Malformed(_), WireError::Malformed(m)) => !m.is_empty(),
        _ => a == e,
    })
}

impl<'a> Untrusted<'a> for Reply<'a> {
    const WHAT: &'static str = "decode_reply";
    fn checked(bytes: &'a [u8]) -> Result<Self, WireError> {
        wire::decode_reply(bytes)
    }
    fn plain(bytes: &'a [u8]) -> Result<Self, WireError> {
        wire::decode_borrowed(bytes)
    }
    fn checked_error(bytes: &[u8]) -> Option<WireError> {
        wire::decode_reply(bytes).err()
    }
    fn plain_error(bytes: &[u8]) -> Option<WireError> {
        wire::decode_borrowed::<Reply<'_>>(bytes).err()
    }
    fn refusals(&self) -> Vec<WireError> {
        match self {
            Reply::Value(_) => Vec::new(),
            Reply::Error(r) => report_refusals(r),
            Reply::Panic { message, .. } if message.len() > MAX_MESSAGE => {
                vec![WireError::MessageTooLong(message.len())]
            }
            Reply::Panic { .. } => Vec::new(),
        }
    }
    fn heap(&self) -> usize {
        0
    }
}

/// Heap of an upcall's vectors.
pub fn upcall_heap(u: &Upcall<'_>) -> usize {
    match u {
        Upcall::Execute { args, .. } | Upcall::Open { args, .. } => {
            args.capacity() * size_of::<SpiArg<'_>>()
        }
        Upcall::Rows { rows } => {
            rows.capacity() * size_of::<Vec<Option<&[u8]>>>()
                + rows
                    .iter()
                    .map(|r| r.capacity() * size_of::<Option<&[u8]>>())
                    .sum::<usize>()
        }
        _ => 0,
    }
}

impl<'a> Untrusted<'a> for Upcall<'a> {
    const WHAT: &'static str = "decode_upcall";
    fn checked(bytes: &'a [u8]) -> Result<Self, WireError> {
        wire::decode_upcall(bytes)
    }
    fn plain(bytes: &'a [u8]) -> Result<Self, WireError> {
        wire::decode_borrowed(bytes)
    }
    fn checked_error(bytes: &[u8]) -> Option<WireError> {
        wire::decode_upcall(bytes).err()
    }
    fn plain_error(bytes: &[u8]) -> Option<WireError> {
        wire::decode_borrowed::<Upcall<'_>>(bytes).err()
    }
    fn refusals(&self) -> Vec<WireError> {
        match self {
            Upcall::Log { report, .. } => report_refusals(report),
            _ => Vec::new(),
        }
    }
    fn heap(&self) -> usize {
        upcall_heap(self)
    }
}

/// The checked decoder of `T` on arbitrary bytes, cross-checked against
/// plain decoding; returns what the backend would go on with.
pub fn untrusted<'a, T: Untrusted<'a>>(bytes: &'a [u8]) -> Option<T> {
    let what = T::WHAT;
    let got = metered(what, || T::checked(bytes));
    let plain = metered(what, || T::plain(bytes));
    match (&got, &plain) {
        (Ok(v), Ok(p)) => {
            assert_eq!(v, p, "{what} and decode_borrowed disagree");
            let refusals = v.refusals();
            assert!(
                refusals.is_empty(),
                "{what} accepted {v:?}; expected {refusals:?}"
            );
            assert!(
                v.heap() <= REPLY_AREA,
                "{what}: a value holding {} bytes of heap",
                v.heap()
            );
            encodes_to(v, bytes);
            assert_eq!(T::checked(bytes).as_ref(), Ok(v), "{what}: decoded twice");
            frame_bounds(bytes, v_hint(bytes), T::checked_error);
            frame_bounds(bytes, v_hint(bytes) / 3, T::plain_error);
        }
        (Err(e), Ok(p)) => {
            // Only the checks on top of bincode refuse it.
            let refusals = p.refusals();
            assert!(
                allowed(e, &refusals),
                "{what} refused {p:?} with {e:?}; expected one of {refusals:?}"
            );
            let _ = e.to_string();
            // Still a well-formed frame.
            encodes_to(p, bytes);
            frame_bounds(bytes, v_hint(bytes), T::plain_error);
        }
        (Err(e), Err(p)) => {
            assert_eq!(e, p, "{what} and decode_borrowed fail differently");
            check_error(e, bytes, |b| T::plain_error(b).is_none());
        }
        (Ok(v), Err(p)) => panic!("{what} accepted {v:?}; decode_borrowed refused: {p:?}"),
    }
    got.ok()
}

/// `wire::decode_reply` on arbitrary bytes, as handler/src/call.rs calls it.
pub fn reply(bytes: &[u8]) -> Option<Reply<'_>> {
    untrusted(bytes)
}

/// `wire::decode_upcall` on arbitrary bytes, as handler/src/upcall.rs calls it.
pub fn upcall(bytes: &[u8]) -> Option<Upcall<'_>> {
    untrusted(bytes)
}

/// `wire::decode_message` (FAILED replies): bounded, lossless on valid
/// UTF-8 that fits, never a panic.
pub fn message(bytes: &[u8]) -> String {
    let m = metered("decode_message", || wire::decode_message(bytes));
    let kept = &bytes[..bytes.len().min(MAX_MESSAGE)];
    // Each byte becomes at most one char (U+FFFD is 3 bytes).
    assert!(m.chars().count() <= kept.len());
    assert!(m.len() <= 3 * MAX_MESSAGE);
    if let Ok(s) = std::str::from_utf8(kept) {
        assert_eq!(m, s);
    }
    m
}

// ---- args.rs ---------------------------------------------------------------

/// `ArgReader` on arbitrary bytes, read to the end: it allocates nothing,
/// every value lies in the frame right after its length, NULL is exactly
/// `NULL_LEN`, an error is sticky and leaves a truncated frame, `is_done`
/// says whether all bytes were read, and `ArgWriter` writes what was read
/// back to the same bytes.  Then as handler/src/call.rs `record_datum`
/// reads a row of `columns` OUT parameters: accepted exactly when the bytes
/// are `columns` whole values.  Returns the values.
pub fn args(bytes: &[u8], columns: usize) -> Vec<Option<&[u8]>> {
    let ((count, at), used) = peak(|| {
        let mut r = ArgReader::new(bytes);
        let mut at = 0usize;
        let mut count = 0usize;
        while let Ok(v) = r.next() {
            assert!(at + 4 <= bytes.len(), "a value past the frame");
            let prefix = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
            at += 4;
            match v {
                None => assert_eq!(prefix, NULL_LEN, "NULL read from a length"),
                Some(s) => {
                    assert_ne!(prefix, NULL_LEN, "a value read from NULL_LEN");
                    assert_eq!(s.len(), prefix as usize, "a value not of its length");
                    assert!(at + s.len() <= bytes.len(), "a value past the frame");
                    assert!(
                        std::ptr::eq(s.as_ptr(), bytes[at..].as_ptr()),
                        "a value not right after its length"
                    );
                    at += s.len();
                }
            }
            count += 1;
            assert_eq!(r.is_done(), at == bytes.len(), "is_done after {at} bytes");
        }
        // Errors are sticky.
        assert_eq!(r.next(), Err(Truncated));
        assert_eq!(r.is_done(), at == bytes.len(), "is_done at the end");
        (count, at)
    });
    assert_eq!(used, 0, "ArgReader allocated {used} bytes");
    // What is left is a truncated value: a partial length, or a length
    // (not NULL) beyond the bytes.
    let rest = &bytes[at..];
    if let Some((len, after)) = rest.split_first_chunk::<4>() {
        let len = u32::from_le_bytes(*len);
        assert!(
            len != NULL_LEN && len as usize > after.len(),
            "reading stopped before a whole value"
        );
    }

    // The values, and ArgWriter's encoding of them.
    let mut r = ArgReader::new(bytes);
    let values: Vec<Option<&[u8]>> = (0..count).map(|_| r.next().unwrap()).collect();
    let mut out = vec![0u8; at];
    let mut w = ArgWriter::new(&mut out);
    for v in &values {
        match v {
            Some(b) => w.value(b),
            None => w.null(),
        }
        .expect("a value read fits where it was read from");
    }
    assert_eq!(w.len(), at);
    assert_eq!(w.is_empty(), at == 0);
    assert!(out == bytes[..at], "ArgWriter re-encoding differs");
    if at > 0 {
        let mut short = vec![0u8; at - 1];
        let mut w = ArgWriter::new(&mut short);
        let fits = values.iter().all(|v| match v {
            Some(b) => w.value(b).is_some(),
            None => w.null().is_some(),
        });
        assert!(!fits, "the values fit a buffer one byte short");
    }

    // record_datum: too few columns, too many, or just right.
    let mut r = ArgReader::new(bytes);
    let enough = (0..columns).all(|_| r.next().is_ok());
    let accepted = enough && r.is_done();
    assert_eq!(
        accepted,
        rest.is_empty() && count == columns,
        "a row of {columns} columns from {count} values and {} more bytes",
        rest.len()
    );
    values
}
