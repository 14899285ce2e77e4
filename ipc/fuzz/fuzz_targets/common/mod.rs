//! Checks shared by the fuzz targets: an allocation meter, and the
//! properties every `wire` decoding entry point must have on arbitrary
//! bytes.
//!
//! - It never panics (a panic is a libFuzzer crash).
//! - It never allocates more than the decoder's byte limit (REPLY_AREA),
//!   whatever a length prefix claims; the global allocator below measures
//!   the peak of live heap bytes during each decode.
//! - A value that decodes re-encodes to exactly the bytes it came from
//!   (fixed-width bincode is canonical), decodes again to the same value,
//!   and does not fit a buffer one byte shorter (`TooLarge`).
//! - An error is consistent: `TrailingBytes(n)` means the first
//!   `len - n` bytes are a valid frame; a strict prefix of a valid frame is
//!   refused; `decode_reply` agrees with `decode_exact::<Reply<T>>` except
//!   for the message-length cap.

#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Debug;
use std::sync::atomic::{AtomicUsize, Ordering};

use bincode::{Decode, Encode};
use plrust_ipc::limits::{MAX_MESSAGE, REPLY_AREA};
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

/// Room for an error's message on top of the decoder's limit.
const SLACK: usize = 64 << 10;

/// Run `f` (one decode) and check that the heap it used at its peak stays
/// within the decoder's limit.
pub fn metered<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = f();
    let used = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    assert!(
        used <= REPLY_AREA + SLACK,
        "{what}: decoding allocated {used} bytes, more than the limit {REPLY_AREA}"
    );
    r
}

// ---- properties ------------------------------------------------------------

/// Equality that tolerates NaN (not reflexive): the byte-exact re-encoding
/// check covers those values.
fn same<T: PartialEq>(a: &T, b: &T) -> bool {
    #[allow(clippy::eq_op)]
    let reflexive = a == a;
    !reflexive || a == b
}

/// `v` was decoded from all of `original`: it must re-encode to exactly
/// those bytes, decode again to the same value, and refuse a buffer one
/// byte too short.
pub fn round_trip<T: Encode + Decode<()> + PartialEq + Debug>(v: &T, original: &[u8]) {
    let mut buf = vec![0u8; original.len() + 16];
    let n = wire::encode_into(v, &mut buf).expect("a decoded value re-encodes");
    assert!(
        buf[..n] == *original,
        "re-encoding differs from the decoded bytes ({n} vs {} bytes)",
        original.len()
    );
    let again: T = wire::decode_exact(&buf[..n]).expect("a re-encoded value decodes");
    assert!(same(v, &again), "decode(encode(v)) != v");
    if n > 0 {
        assert_eq!(
            wire::encode_into(v, &mut buf[..n - 1]),
            Err(WireError::TooLarge),
            "a value encoded into a buffer one byte short"
        );
    }
}

/// A decode error must be consistent with the bytes.
fn check_error<T: Decode<()>>(e: &WireError, bytes: &[u8]) {
    match e {
        WireError::TrailingBytes(n) => {
            assert!(
                *n > 0 && *n <= bytes.len(),
                "TrailingBytes({n}) of {}",
                bytes.len()
            );
            // The frame ended where the error says it did.
            assert!(
                wire::decode_exact::<T>(&bytes[..bytes.len() - n]).is_ok(),
                "TrailingBytes({n}) but the frame before them does not decode"
            );
        }
        WireError::Malformed(_) => {}
        WireError::TooLarge | WireError::MessageTooLong(_) => {
            panic!("decode_exact returned {e:?}")
        }
    }
    // Displaying an error never panics either (the backend formats it).
    let _ = e.to_string();
}

/// A frame that decodes is not a frame one byte shorter.
fn prefix_refused<T: Decode<()>>(bytes: &[u8]) {
    if let Some((_, short)) = bytes.split_last() {
        assert!(
            wire::decode_exact::<T>(short).is_err(),
            "a strict prefix of a valid frame decoded"
        );
    }
}

/// `wire::decode_exact::<T>` on arbitrary bytes.
pub fn exact<T: Encode + Decode<()> + PartialEq + Debug>(bytes: &[u8]) {
    match metered(std::any::type_name::<T>(), || {
        wire::decode_exact::<T>(bytes)
    }) {
        Ok(v) => {
            round_trip(&v, bytes);
            prefix_refused::<T>(bytes);
        }
        Err(e) => check_error::<T>(&e, bytes),
    }
}

/// `wire::decode_reply::<T>` on arbitrary bytes, as the backend calls it for
/// a function returning `T`; cross-checked against `decode_exact`.
pub fn reply<T: Encode + Decode<()> + PartialEq + Debug>(bytes: &[u8]) -> Option<Reply<T>> {
    let name = std::any::type_name::<T>();
    let got = metered(name, || wire::decode_reply::<T>(bytes));
    let plain = metered(name, || wire::decode_exact::<Reply<T>>(bytes));
    match (&got, &plain) {
        (Ok(r), Ok(p)) => {
            assert!(same(r, p), "decode_reply and decode_exact disagree");
            if let Reply::Error(m) | Reply::Panic(m) = r {
                assert!(
                    m.len() <= MAX_MESSAGE,
                    "a message of {} bytes accepted",
                    m.len()
                );
            }
            round_trip(r, bytes);
            prefix_refused::<Reply<T>>(bytes);
        }
        (Err(WireError::MessageTooLong(n)), Ok(Reply::Error(m) | Reply::Panic(m))) => {
            assert!(
                *n == m.len() && *n > MAX_MESSAGE,
                "MessageTooLong({n}) for {}",
                m.len()
            );
        }
        (Err(e), Err(p)) => {
            assert_eq!(e, p, "decode_reply and decode_exact fail differently");
            check_error::<Reply<T>>(e, bytes);
        }
        _ => panic!("decode_reply {got:?} vs decode_exact {plain:?}"),
    }
    got.ok()
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
