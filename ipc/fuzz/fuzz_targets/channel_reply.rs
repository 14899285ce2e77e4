//! Fuzz the backend's whole reply path with a hostile executor: the
//! executor can write anything anywhere in the channel, so the input is
//! the bytes it leaves there, turn after turn.
//!
//! Layout of an input:
//! - byte 0: whether the backend is waiting for a fresh executor to say it
//!   is ready (`wait_ready`, odd) or calls a function (`wait_reply`), and
//!   what the function returns: `(byte0 >> 1) % 17` columns of OUT
//!   parameters, or a single value for 0;
//! - then turns, one per reply the executor publishes.  A turn is 72 bytes
//!   (zero-padded) of channel header as the executor leaves it: state, op,
//!   key, request length, status, reply length, the 32 inline payload
//!   bytes, and the sleeping flags; a u16 (little-endian) count of
//!   reply-area bytes; and those bytes, the start of the reply area.
//!
//! The backend then does what handler/src/dispatch.rs and call.rs do: wait
//! (`Channel::outcome` validates state, status and length), copy the reply
//! out (inline or from the area, into a buffer reused from turn to turn)
//! and decode it by its status: `status::OK` with `wire::decode_reply` (and
//! a value of a function with OUT parameters with `ArgReader`, as
//! `record_datum` does), `status::UPCALL` with `wire::decode_upcall` (a
//! valid upcall is answered with a RESUME request and the next turn
//! follows), anything else (`status::FAILED`) with `wire::decode_message`.
//! Each step is checked against a model of what it must return, and each
//! decode against the properties in common/mod.rs.
//!
//! The header checks are private to `Channel` and read a mapping, so this
//! target uses one real memfd channel for the whole process (created once;
//! the header layout it writes is verified against the public API first).

#![no_main]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use plrust_ipc::channel::{Outcome, WaitPolicy, DEAD, IDLE, INLINE, REPLY, REQUEST, STARTING};
use plrust_ipc::limits::{HEADER_SIZE, REPLY_AREA, REQUEST_AREA};
use plrust_ipc::memfd::{self, Mapping};
use plrust_ipc::message::{op, status, Answer};
use plrust_ipc::{Channel, Reply};

mod common;

/// Byte offsets in the header (channel.rs `Header`), checked in `setup`.
const STATE: usize = 0;
const STATUS: usize = 20;
const REPLY_LEN: usize = 24;
const INLINE_AT: usize = 32;
const IMAGE: usize = 72;

const REPLY_AT: usize = HEADER_SIZE + REQUEST_AREA;

/// Never spin: with one thread nobody else will change the state.
const POLICY: WaitPolicy = WaitPolicy {
    spin: Duration::ZERO,
    yield_for: Duration::ZERO,
    slice: Duration::ZERO,
};

struct Fixture {
    ch: Channel,
    map: Mapping,
}

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

/// How many reply-area bytes the previous input wrote (zeroed before the
/// next, so every run sees the same memory).
static WRITTEN: AtomicUsize = AtomicUsize::new(0);

/// The backend's reply buffer (call.rs keeps one per backend).
static REPLY_BUF: Mutex<Vec<u8>> = Mutex::new(Vec::new());

static ZEROS: [u8; 4096] = [0; 4096];

fn base(map: &Mapping) -> *mut u8 {
    map.base().as_ptr()
}

fn read_u32(map: &Mapping, at: usize) -> u32 {
    let mut b = [0u8; 4];
    // SAFETY: `at + 4` lies within the header page of the mapping.
    unsafe { std::ptr::copy_nonoverlapping(base(map).add(at), b.as_mut_ptr(), 4) };
    u32::from_le_bytes(b)
}

fn setup() -> Fixture {
    let fd = memfd::create(c"plrust-fuzz").expect("memfd_create");
    let map = memfd::map(std::os::fd::AsRawFd::as_raw_fd(&fd)).expect("map the channel");
    // The mapping outlives the fd; keep the fd anyway, for the process.
    std::mem::forget(fd);
    let ch = Channel::new(map);
    // Check the offsets this target writes against what the public API
    // writes there.
    ch.reset();
    ch.publish_reply(0xA1B2_C3D4, &[7, 8, 9]);
    assert_eq!(read_u32(&map, STATE), REPLY, "state offset");
    assert_eq!(read_u32(&map, STATUS), 0xA1B2_C3D4, "status offset");
    assert_eq!(read_u32(&map, REPLY_LEN), 3, "reply_len offset");
    let inline = ch.copy_inline_reply();
    // SAFETY: INLINE bytes at INLINE_AT lie within the header page.
    let raw = unsafe { std::slice::from_raw_parts(base(&map).add(INLINE_AT), INLINE) };
    assert_eq!(&inline[..], raw, "inline offset");
    assert_eq!(&raw[..3], &[7, 8, 9]);
    ch.reset();
    Fixture { ch, map }
}

fn u32_at(image: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(image[at..at + 4].try_into().unwrap())
}

/// Columns of OUT parameters the called function returns (0: one value).
const SHAPES: u8 = 17;

fn run(data: &[u8]) {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let fx = FIXTURE.get_or_init(setup);
    let ready = first & 1 == 1;
    let columns = usize::from((first >> 1) % SHAPES);
    for turn in 0.. {
        // The backend's side of the exchange: a CALL, then a RESUME with
        // the answer to each upcall (call.rs); or a fresh executor.
        if ready {
            fx.ch.reset();
        } else if turn == 0 {
            fx.ch.publish_request(op::CALL, 42, &[1, 2, 3]);
        } else {
            let answer = plrust_ipc::wire::encode_to_vec(&Answer::Done);
            fx.ch.publish_request(op::RESUME, 42, &answer);
        }
        // ...and what the executor leaves in the channel.
        let n = rest.len().min(IMAGE);
        let mut image = [0u8; IMAGE];
        image[..n].copy_from_slice(&rest[..n]);
        rest = &rest[n..];
        let (count, after) = match rest.split_first_chunk::<2>() {
            Some((c, after)) => (usize::from(u16::from_le_bytes(*c)), after),
            None => (0, &[][..]),
        };
        let count = count.min(after.len());
        let (area, after) = after.split_at(count);
        rest = after;
        if !step(fx, ready, columns, &image, area) {
            return;
        }
        if rest.is_empty() {
            // The executor said no more: the call would wait.
            return;
        }
    }
}

/// One turn: the executor's header `image` and reply-area bytes `area`,
/// then the backend's wait, copy and decode.  Returns whether the call goes
/// on (a valid upcall).
fn step(fx: &Fixture, ready: bool, columns: usize, image: &[u8; IMAGE], area: &[u8]) -> bool {
    let (ch, map) = (fx.ch, fx.map);
    // SAFETY: IMAGE bytes of the header page, and `area.len()` (< the
    // fuzzer's max_len) of the REPLY_AREA bytes at REPLY_AT; the previous
    // turn's area bytes are zeroed first.  One thread: no one else touches
    // the mapping.
    unsafe {
        let b = base(&map);
        std::ptr::write_bytes(b.add(REPLY_AT), 0, WRITTEN.load(Ordering::Relaxed));
        std::ptr::copy_nonoverlapping(image.as_ptr(), b, IMAGE);
        assert!(area.len() <= REPLY_AREA);
        std::ptr::copy_nonoverlapping(area.as_ptr(), b.add(REPLY_AT), area.len());
        WRITTEN.store(area.len(), Ordering::Relaxed);
    }

    let state = u32_at(image, STATE);
    let st = u32_at(image, STATUS);
    let len = u32_at(image, REPLY_LEN) as usize;
    let got = if ready {
        ch.wait_ready(POLICY, || Err(()))
    } else {
        ch.wait_reply(POLICY, || Err(()))
    };
    // What the header validation must say.
    let expected = match state {
        STARTING if ready => Err(()),
        REQUEST if !ready => Err(()),
        IDLE if ready => Ok(Outcome::Reply { status: 0, len: 0 }),
        REPLY if len > REPLY_AREA => Ok(Outcome::Invalid("")),
        REPLY => Ok(Outcome::Reply { status: st, len }),
        DEAD => Ok(Outcome::Dead),
        _ => Ok(Outcome::Invalid("")),
    };
    match (&got, &expected) {
        (Ok(Outcome::Invalid(_)), Ok(Outcome::Invalid(_))) => return false,
        _ => assert_eq!(got, expected, "state {state} status {st} len {len}"),
    }
    let Ok(Outcome::Reply { status: st, len }) = got else {
        return false;
    };
    if ready {
        return false;
    }

    // handler/src/call.rs: copy the reply out of shared memory (an upcall
    // or a failure always with copy_reply, into a buffer reused from turn
    // to turn), then decode.
    let mut buf = REPLY_BUF.lock().unwrap();
    let inline;
    let bytes: &[u8] = if len <= INLINE && st == status::OK {
        inline = ch.copy_inline_reply();
        &inline[..len]
    } else {
        ch.copy_reply(len, &mut buf);
        &buf[..]
    };
    assert_eq!(bytes.len(), len);
    if len <= INLINE {
        assert_eq!(bytes, &image[INLINE_AT..INLINE_AT + len], "inline copy");
    } else {
        let k = area.len().min(len);
        assert_eq!(&bytes[..k], &area[..k], "area copy");
        assert!(
            bytes[k..]
                .chunks(ZEROS.len())
                .all(|c| c == &ZEROS[..c.len()]),
            "area copy past the input"
        );
    }
    match st {
        status::OK => {
            // A function with OUT parameters: the value is its row.
            if let Some(Reply::Value(Some(row))) = common::reply(bytes) {
                if columns > 0 {
                    common::args(row, columns);
                }
            }
            false
        }
        status::UPCALL => common::upcall(bytes).is_some(),
        // status::FAILED, and any other status (call.rs: not OK).
        _ => {
            common::message(bytes);
            false
        }
    }
}

fuzz_target!(|data: &[u8]| run(data));
