//! The channel protocol: who owns the shared buffers, and how each side
//! waits for the other.
//!
//! The header's `state` word hands the channel back and forth:
//!
//! ```text
//!   supervisor: reset() ──> STARTING
//!   executor:   ready()  ──> IDLE ──(backend: publish_request)──> REQUEST
//!   executor:   publish_reply() ──> REPLY ──(backend: publish_request)──> REQUEST ...
//!   supervisor: mark_dead() ──> DEAD   (the executor is gone; wakes a waiting backend)
//! ```
//!
//! Waiting follows what FINDINGS.md measured on this hardware: a futex
//! wake-up costs 40-55 µs, a spinning peer sees a store in ~0.1 µs, and a
//! spinner that keeps spinning while its peer sleeps steals the peer's CPU.
//! So a side spins only while the peer is known to be awake (its `sleeping`
//! flag is clear), for a bounded time, and otherwise sleeps on the futex in
//! short slices, running the caller's `check` between slices (the backend
//! handles interrupts and notices a dead executor there).
//!
//! The executor can write anything anywhere in this memory.  Everything the
//! backend takes from it (state, status, lengths, reply bytes) is checked:
//! lengths against the limits, bytes by [`crate::wire`].

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::futex;
use crate::limits::{HEADER_SIZE, REPLY_AREA, REQUEST_AREA};
use crate::memfd::Mapping;

pub const STARTING: u32 = 0;
pub const IDLE: u32 = 1;
pub const REQUEST: u32 = 2;
pub const REPLY: u32 = 3;
pub const DEAD: u32 = 4;

/// Payloads up to this size travel inside the header's cache line.
pub const INLINE: usize = 32;

/// The words both sides share.  The first cache line holds everything a
/// call moves, small payloads included, so a typical call moves that one
/// line to the executor and back and nothing else (each extra line costs a
/// cross-core transfer, which on this hardware is most of a call's cost).
/// The sleeping flags live on their own line: they change only when a side
/// goes to sleep, so both sides keep them cached.
#[repr(C, align(64))]
struct Header {
    state: AtomicU32,
    op: AtomicU32,
    key: AtomicU64,
    request_len: AtomicU32,
    status: AtomicU32,
    reply_len: AtomicU32,
    /// The backend's advice for the executor's next wait (`Advice`,
    /// packed): the backend sees how busy the machine is, the sandboxed
    /// executor cannot.
    advice: AtomicU32,
    inline: UnsafeCell<[u8; INLINE]>,
    flags: Flags,
}

#[repr(C, align(64))]
struct Flags {
    backend_sleeping: AtomicU32,
    executor_sleeping: AtomicU32,
}

const _: () = assert!(std::mem::offset_of!(Header, flags) == 64);
const _: () = assert!(std::mem::size_of::<Header>() <= HEADER_SIZE);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Backend,
    Executor,
}

/// How long to spin before sleeping, how long to yield the CPU between
/// polls after that, and how long one sleep may last.
///
/// Yielding is the spin for a loaded machine: `sched_yield` gives the CPU
/// to any runnable process (the peer, if it waits on this CPU) and comes
/// straight back when there is none, so it never takes a CPU from a
/// runnable process, and the peer, seeing this side awake, need not wake
/// it through the futex when it answers.
#[derive(Debug, Clone, Copy)]
pub struct WaitPolicy {
    pub spin: Duration,
    pub yield_for: Duration,
    pub slice: Duration,
}

/// How the executor should wait for its next request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advice {
    /// Spin at most this long (whole µs, at most `Advice::MAX_SPIN`).
    pub spin: Duration,
    /// Run on this CPU (the backend's, which is about to sleep: a wake-up
    /// on its own CPU needs no interrupt of another), or anywhere.
    pub cpu: Option<u16>,
}

impl Advice {
    pub const MAX_SPIN: Duration = Duration::from_micros(0xFFFF);
    /// Before any advice: spin as the executor's own policy says, anywhere.
    pub const NONE: Advice = Advice {
        spin: Advice::MAX_SPIN,
        cpu: None,
    };

    fn pack(self) -> u32 {
        let us = self.spin.as_micros().min(0xFFFF) as u32;
        let cpu = self.cpu.map_or(0, |c| u32::from(c.min(0xFFFE)) + 1);
        us | (cpu << 16)
    }

    /// Any word decodes to some advice: the executor trusts the backend,
    /// and a garbled word only changes how it waits.
    fn unpack(word: u32) -> Advice {
        let cpu = word >> 16;
        Advice {
            spin: Duration::from_micros(u64::from(word & 0xFFFF)),
            cpu: (cpu != 0).then(|| (cpu - 1) as u16),
        }
    }
}

/// A request as the executor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub op: u32,
    pub key: u64,
    pub len: usize,
    /// The executor slept on the futex before this request came.
    pub slept: bool,
    /// How to wait for the next one.
    pub advice: Advice,
}

/// What a backend's wait ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The executor published a reply: `status` and a length already checked
    /// against REPLY_AREA.
    Reply { status: u32, len: usize },
    /// The supervisor marked the executor dead.
    Dead,
    /// The executor wrote a state or length that the protocol does not allow.
    Invalid(&'static str),
}

/// One channel: a view of a mapped channel memfd.
#[derive(Debug, Clone, Copy)]
pub struct Channel {
    map: Mapping,
}

impl Channel {
    pub fn new(map: Mapping) -> Channel {
        Channel { map }
    }

    fn header(&self) -> &Header {
        // SAFETY: the mapping is CHANNEL_SIZE bytes, page aligned, lives as
        // long as the process, and starts with the header; Header is made
        // of atomics only, valid for any bit pattern.
        unsafe { &*self.map.base().as_ptr().cast::<Header>() }
    }

    fn area(&self, offset: usize) -> *mut u8 {
        // SAFETY: offset is HEADER_SIZE or HEADER_SIZE + REQUEST_AREA, both
        // inside the CHANNEL_SIZE mapping.
        unsafe { self.map.base().as_ptr().add(offset) }
    }

    /// Where a payload of `len` bytes lives: inline in the header, or in
    /// the area at `area_offset`.
    fn payload(&self, len: usize, area_offset: usize) -> *mut u8 {
        if len <= INLINE {
            self.header().inline.get().cast()
        } else {
            self.area(area_offset)
        }
    }

    pub fn state(&self) -> u32 {
        self.header().state.load(Ordering::Acquire)
    }

    fn flags(&self, me: Side) -> (&AtomicU32, &AtomicU32) {
        let f = &self.header().flags;
        match me {
            Side::Backend => (&f.backend_sleeping, &f.executor_sleeping),
            Side::Executor => (&f.executor_sleeping, &f.backend_sleeping),
        }
    }

    /// Move to `state` and wake the peer if it sleeps.  SeqCst pairs with
    /// the sleeper's SeqCst store of its flag and re-load of the state: one
    /// of the two always sees the other, so no wake-up is lost.
    fn publish(&self, me: Side, state: u32) {
        let (_, peer_sleeping) = self.flags(me);
        self.header().state.store(state, Ordering::SeqCst);
        if peer_sleeping.load(Ordering::SeqCst) != 0 {
            futex::wake(&self.header().state);
        }
    }

    /// Wait until `done(state)`.  `check` runs between futex slices and
    /// every few thousand spins; an `Err` from it ends the wait.
    fn wait_until<E>(
        &self,
        me: Side,
        policy: WaitPolicy,
        done: impl Fn(u32) -> bool,
        mut check: impl FnMut() -> Result<(), E>,
    ) -> Result<(u32, bool), E> {
        let (my_sleeping, peer_sleeping) = self.flags(me);
        let state = &self.header().state;
        // The clock is read only once a wait is not over at once: most
        // replies arrive within the first few spins, and a clock read costs
        // as much as a cache-line round trip.
        let mut start: Option<Instant> = None;
        let mut spins: u32 = 0;
        let mut spinning = true;
        let mut yielding = false;
        let mut yields: u32 = 0;
        loop {
            let s = state.load(Ordering::Acquire);
            if done(s) {
                return Ok((s, !spinning && !yielding));
            }
            if spinning {
                spins = spins.wrapping_add(1);
                if spins.is_multiple_of(64) {
                    // Spin only while the peer is running and the budget lasts.
                    let started = *start.get_or_insert_with(Instant::now);
                    if peer_sleeping.load(Ordering::Relaxed) != 0
                        || started.elapsed() >= policy.spin
                    {
                        spinning = false;
                        yielding = !policy.yield_for.is_zero();
                    }
                    if spins.is_multiple_of(4096) {
                        check()?;
                    }
                }
                // PAUSE between polls leaves the line alone long enough for
                // the peer to write it (measured: faster than tight polling).
                std::hint::spin_loop();
                continue;
            }
            if yielding {
                let started = *start.get_or_insert_with(Instant::now);
                if started.elapsed() >= policy.spin + policy.yield_for {
                    yielding = false;
                } else {
                    yields = yields.wrapping_add(1);
                    if yields.is_multiple_of(64) {
                        check()?;
                    }
                    // SAFETY: sched_yield takes no arguments.
                    unsafe { libc::sched_yield() };
                    continue;
                }
            }
            my_sleeping.store(1, Ordering::SeqCst);
            let s = state.load(Ordering::SeqCst);
            if !done(s) {
                futex::wait(state, s, policy.slice);
            }
            my_sleeping.store(0, Ordering::SeqCst);
            check()?;
        }
    }

    // ---- supervisor ---------------------------------------------------

    /// Before a new executor starts: forget the previous one's traffic.
    pub fn reset(&self) {
        let h = self.header();
        h.flags.backend_sleeping.store(0, Ordering::Relaxed);
        h.flags.executor_sleeping.store(0, Ordering::Relaxed);
        h.op.store(0, Ordering::Relaxed);
        h.request_len.store(0, Ordering::Relaxed);
        h.status.store(0, Ordering::Relaxed);
        h.reply_len.store(0, Ordering::Relaxed);
        h.key.store(0, Ordering::Relaxed);
        h.advice.store(Advice::NONE.pack(), Ordering::Relaxed);
        h.state.store(STARTING, Ordering::SeqCst);
    }

    /// The executor is gone: wake a backend that waits for it.
    pub fn mark_dead(&self) {
        self.header().state.store(DEAD, Ordering::SeqCst);
        futex::wake(&self.header().state);
    }

    // ---- backend ------------------------------------------------------

    /// Tell the executor how to wait for its next request (after this
    /// one's reply, or for the answer to an upcall).  A spin that would
    /// take a CPU from a runnable process is worse than the futex wake-up
    /// it saves.  Stored only when it changes: the word shares the line
    /// that every call moves.
    pub fn advise_executor(&self, advice: Advice) {
        let word = advice.pack();
        let a = &self.header().advice;
        if a.load(Ordering::Relaxed) != word {
            a.store(word, Ordering::Relaxed);
        }
    }

    /// Hand a request to the executor: `payload` is copied inline or into
    /// the request area.  Only the backend that owns the slot calls this,
    /// and only while the executor is idle; an executor scribbling on the
    /// bytes meanwhile can only garble its own request.
    pub fn publish_request(&self, op: u32, key: u64, payload: &[u8]) {
        let len = payload.len();
        assert!(len <= REQUEST_AREA);
        // SAFETY: the destination holds `len` bytes (INLINE in the header,
        // or REQUEST_AREA in the mapping) and is not our `payload`.
        unsafe {
            std::ptr::copy_nonoverlapping(payload.as_ptr(), self.payload(len, HEADER_SIZE), len)
        };
        let h = self.header();
        h.op.store(op, Ordering::Relaxed);
        h.key.store(key, Ordering::Relaxed);
        h.request_len.store(len as u32, Ordering::Relaxed);
        self.publish(Side::Backend, REQUEST);
    }

    /// Wait for the reply to the request just published, or for the
    /// executor's death.
    pub fn wait_reply<E>(
        &self,
        policy: WaitPolicy,
        check: impl FnMut() -> Result<(), E>,
    ) -> Result<Outcome, E> {
        let (s, _) = self.wait_until(Side::Backend, policy, |s| s != REQUEST, check)?;
        Ok(self.outcome(s))
    }

    /// Wait until a freshly started executor says it is ready.
    pub fn wait_ready<E>(
        &self,
        policy: WaitPolicy,
        check: impl FnMut() -> Result<(), E>,
    ) -> Result<Outcome, E> {
        let (s, _) = self.wait_until(Side::Backend, policy, |s| s != STARTING, check)?;
        Ok(match s {
            IDLE => Outcome::Reply { status: 0, len: 0 },
            _ => self.outcome(s),
        })
    }

    fn outcome(&self, s: u32) -> Outcome {
        match s {
            REPLY => {
                let h = self.header();
                let status = h.status.load(Ordering::Acquire);
                let len = h.reply_len.load(Ordering::Acquire) as usize;
                if len > REPLY_AREA {
                    Outcome::Invalid("reply length exceeds the reply area")
                } else {
                    Outcome::Reply { status, len }
                }
            }
            DEAD => Outcome::Dead,
            _ => Outcome::Invalid("executor set an unexpected channel state"),
        }
    }

    /// A reply of at most INLINE bytes, copied out of the header in one
    /// fixed-size move (no allocation, no memmove call).
    pub fn copy_inline_reply(&self) -> [u8; INLINE] {
        // SAFETY: the inline buffer is INLINE bytes inside the mapping; any
        // bit pattern is a valid [u8; INLINE].
        unsafe { std::ptr::read_volatile(self.header().inline.get()) }
    }

    /// Copy `len` reply bytes out of shared memory, so that the executor
    /// cannot change them while they are decoded.
    pub fn copy_reply(&self, len: usize, into: &mut Vec<u8>) {
        assert!(len <= REPLY_AREA);
        into.clear();
        into.reserve(len);
        // SAFETY: the source is `len` bytes inline or of the reply area,
        // inside the mapping; the destination has capacity for `len` bytes
        // and u8 has no invalid values, so set_len after the copy is sound.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.payload(len, HEADER_SIZE + REQUEST_AREA),
                into.as_mut_ptr(),
                len,
            );
            into.set_len(len);
        }
    }

    // ---- executor -----------------------------------------------------

    /// The executor is attached and waits for requests.
    pub fn ready(&self) {
        self.publish(Side::Executor, IDLE);
    }

    /// Wait for the next request.  The executor trusts the backend, but it
    /// still never reads past its area.
    pub fn wait_request(&self, policy: WaitPolicy) -> Request {
        let advised = Advice::unpack(self.header().advice.load(Ordering::Relaxed));
        let policy = WaitPolicy {
            spin: policy.spin.min(advised.spin),
            yield_for: Duration::ZERO,
            ..policy
        };
        let waited: Result<(u32, bool), std::convert::Infallible> =
            self.wait_until(Side::Executor, policy, |s| s == REQUEST, || Ok(()));
        let Ok((_, slept)) = waited;
        let h = self.header();
        Request {
            op: h.op.load(Ordering::Acquire),
            key: h.key.load(Ordering::Acquire),
            len: (h.request_len.load(Ordering::Acquire) as usize).min(REQUEST_AREA),
            slept,
            advice: Advice::unpack(h.advice.load(Ordering::Relaxed)),
        }
    }

    /// The request bytes, for the executor (inline or in the request area).
    pub fn request_bytes(&self, len: usize) -> &[u8] {
        let len = len.min(REQUEST_AREA);
        // SAFETY: `len` bytes at the payload's place lie inside the mapping;
        // the backend does not write them while the executor handles them.
        unsafe { std::slice::from_raw_parts(self.payload(len, HEADER_SIZE), len) }
    }

    /// Hand a reply back to the backend: `payload` is copied inline or into
    /// the reply area.
    pub fn publish_reply(&self, status: u32, payload: &[u8]) {
        let len = payload.len().min(REPLY_AREA);
        // SAFETY: the destination holds `len` bytes (inline, or REPLY_AREA
        // bytes disjoint from the request area) and is not `payload`, which
        // is the executor's private memory.
        unsafe {
            std::ptr::copy_nonoverlapping(
                payload.as_ptr(),
                self.payload(len, HEADER_SIZE + REQUEST_AREA),
                len,
            )
        };
        let h = self.header();
        h.status.store(status, Ordering::Relaxed);
        h.reply_len.store(len as u32, Ordering::Relaxed);
        self.publish(Side::Executor, REPLY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memfd;

    fn channel() -> Channel {
        let fd = memfd::create(c"plrust-test").unwrap();
        Channel::new(memfd::map(std::os::fd::AsRawFd::as_raw_fd(&fd)).unwrap())
    }

    const POLICY: WaitPolicy = WaitPolicy {
        spin: Duration::from_micros(200),
        yield_for: Duration::ZERO,
        slice: Duration::from_millis(10),
    };

    fn echo_executor(ch: Channel, calls: usize) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            ch.ready();
            for _ in 0..calls {
                let req = ch.wait_request(POLICY);
                let bytes = ch.request_bytes(req.len).to_vec();
                ch.publish_reply(req.op, &bytes);
            }
        })
    }

    #[test]
    fn round_trips_in_order() {
        let ch = channel();
        ch.reset();
        let exec = echo_executor(ch, 2000);
        assert_eq!(
            ch.wait_ready(POLICY, || Ok::<(), ()>(())),
            Ok(Outcome::Reply { status: 0, len: 0 })
        );
        let mut buf = Vec::new();
        for i in 0..2000u32 {
            // Inline (small) and area (large) payloads alike.
            let msg: Vec<u8> = if i % 2 == 0 {
                i.to_le_bytes().to_vec()
            } else {
                vec![i as u8; 1000 + i as usize]
            };
            ch.publish_request(7, i as u64, &msg);
            let out = ch.wait_reply(POLICY, || Ok::<(), ()>(())).unwrap();
            assert_eq!(
                out,
                Outcome::Reply {
                    status: 7,
                    len: msg.len()
                }
            );
            ch.copy_reply(msg.len(), &mut buf);
            assert_eq!(buf, msg);
        }
        exec.join().unwrap();
    }

    #[test]
    fn sleeping_peer_is_woken() {
        // The executor waits long past its spin budget, so it must be asleep
        // on the futex when the request comes: the wake-up must not be lost.
        let ch = channel();
        ch.reset();
        let exec = echo_executor(ch, 1);
        ch.wait_ready(POLICY, || Ok::<(), ()>(())).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let t = Instant::now();
        ch.publish_request(1, 0, &[42]);
        let long_slice = WaitPolicy {
            spin: Duration::from_micros(10),
            yield_for: Duration::ZERO,
            slice: Duration::from_secs(5),
        };
        assert_eq!(
            ch.wait_reply(long_slice, || Ok::<(), ()>(())),
            Ok(Outcome::Reply { status: 1, len: 1 })
        );
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "wake-up was lost: {:?}",
            t.elapsed()
        );
        exec.join().unwrap();
    }

    #[test]
    fn dead_executor_ends_the_wait() {
        let ch = channel();
        ch.reset();
        ch.publish_request(1, 0, &[]);
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            ch.mark_dead();
        });
        assert_eq!(
            ch.wait_reply(POLICY, || Ok::<(), ()>(())),
            Ok(Outcome::Dead)
        );
        killer.join().unwrap();
    }

    #[test]
    fn check_can_abandon_the_wait() {
        let ch = channel();
        ch.reset();
        ch.publish_request(1, 0, &[]);
        let mut n = 0;
        let r = ch.wait_reply(POLICY, || {
            n += 1;
            if n == 3 {
                Err("cancelled")
            } else {
                Ok(())
            }
        });
        assert_eq!(r, Err("cancelled"));
    }

    #[test]
    fn advice_round_trips_through_its_word() {
        for a in [
            Advice::NONE,
            Advice {
                spin: Duration::ZERO,
                cpu: Some(0),
            },
            Advice {
                spin: Duration::from_micros(300),
                cpu: Some(17),
            },
        ] {
            assert_eq!(Advice::unpack(a.pack()), a);
        }
        // Longer spins are capped, not wrapped.
        let long = Advice {
            spin: Duration::from_secs(1),
            cpu: None,
        };
        assert_eq!(Advice::unpack(long.pack()).spin, Advice::MAX_SPIN);
    }

    #[test]
    fn hostile_reply_length_is_refused() {
        let ch = channel();
        ch.reset();
        ch.publish_request(1, 0, &[]);
        ch.header().reply_len.store(u32::MAX, Ordering::SeqCst);
        ch.header().state.store(REPLY, Ordering::SeqCst);
        assert!(matches!(
            ch.wait_reply(POLICY, || Ok::<(), ()>(())),
            Ok(Outcome::Invalid(_))
        ));
        ch.header().state.store(99, Ordering::SeqCst);
        assert!(matches!(
            ch.wait_reply(POLICY, || Ok::<(), ()>(())),
            Ok(Outcome::Invalid(_))
        ));
    }
}
