//! The executor pool's shared state.
//!
//! Two kinds of shared memory, on purpose:
//! - `PoolShared`, in PostgreSQL's shared memory: who holds each slot,
//!   which executor runs in it, which principal it is bound to and what it
//!   has loaded, and the queue of calls waiting for a slot.  Executors
//!   never see this memory, so backends can trust it.
//! - one channel memfd per slot (`plrust_ipc`), created here in the
//!   postmaster and inherited by every child; the supervisor hands a slot's
//!   memfd, and nothing else, to the executor it starts there.  Backends
//!   trust nothing read from it.
//!
//! There are `plrust.max_executors` slots.  A slot may be empty: the
//! supervisor (supervisor.rs) starts executors when calls need them and
//! retires them when idle.  A slot is taken by compare-and-swap of `owner`
//! (0 → the backend's pid), so the common case, a backend calling again
//! into the slot it used last, costs one atomic operation and no lock.
//! Only when no slot is ready for it does a call go through the pool lock
//! and, if it must wait, the queue (queue.rs), which serves waiting calls
//! in arrival order.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

use pgrx::prelude::*;
use plrust_ipc::{memfd, Channel};

use crate::gucs;

/// Most functions one executor loads; more force a fresh executor.
pub const MAX_LOADED: usize = 64;

/// Most calls that can wait for a slot at once (a backend waits for at
/// most one).  A call that finds the queue full waits outside it, polling.
pub const MAX_WAITERS: usize = 1024;

/// `owner` of a slot that the supervisor is retiring.
pub const RETIRING: i32 = -1;

/// The principal an executor serves: one database and one function owner.
/// The limits the executor applied when it was bound are part of it, so an
/// executor never serves a session whose `plrust.executor_memory_limit`
/// (set per role by a superuser, say) differs from the one it runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub database: u32,
    pub role: u32,
    pub memory_mb: u32,
}

impl Principal {
    /// This principal under the calling session's limits.
    pub fn in_this_session(self) -> Principal {
        Principal {
            memory_mb: gucs::EXECUTOR_MEMORY_LIMIT.get() as u32,
            ..self
        }
    }

    /// Whom the fairness rules count: the database and the owner, whatever
    /// the limits.
    pub fn tenant(self) -> (u32, u32) {
        (self.database, self.role)
    }

    /// The tenant as one word (`Slot::taken_for`).
    pub fn tenant_word(self) -> u64 {
        (u64::from(self.database) << 32) | u64::from(self.role)
    }
}

#[repr(C)]
pub struct Slot {
    /// The running executor, 0 while there is none (set by the supervisor).
    pub executor_pid: AtomicI32,
    /// Bumped by the supervisor each time it starts an executor here.
    pub generation: AtomicU64,
    /// Raw wait status of the previous executor (-1: none yet).
    pub last_exit: AtomicI32,
    /// pid of the backend using the slot; 0 when free; RETIRING while the
    /// supervisor retires its executor.
    pub owner: AtomicI32,
    /// The generation a backend wants killed (a recycle, a cancel, a
    /// broken call): the supervisor kills it through its pidfd.  Backends
    /// never signal executors themselves: a pid read from shared memory may
    /// already belong to another process.
    pub kill_generation: AtomicU64,
    /// The binding below holds only while this equals `generation`.  It is
    /// set when a backend starts preparing the executor: from then on the
    /// executor is no longer fresh.
    pub bound_generation: AtomicU64,
    /// Equals `generation` once the executor is loaded and sealed: only then
    /// may calls be sent to it.
    pub sealed_generation: AtomicU64,
    pub bound_database: AtomicU32,
    pub bound_role: AtomicU32,
    pub bound_memory_mb: AtomicU32,
    pub loaded_len: AtomicU32,
    pub loaded: [AtomicU64; MAX_LOADED],
    /// The tenant (database << 32 | role) the backend holding the slot took
    /// it for, until it is bound: a slot being prepared counts toward its
    /// tenant's share from the moment it is taken.  0 when free.
    pub taken_for: AtomicU64,
    /// When the slot was last given back, in ms of CLOCK_MONOTONIC_COARSE:
    /// for retiring idle executors and choosing which one to replace.
    pub last_used: AtomicU64,
}

/// A call waiting for a slot; `ticket` 0 marks an unused entry.  Written
/// only under the pool lock.
#[repr(C)]
pub struct Waiter {
    pub ticket: AtomicU64,
    pub pid: AtomicI32,
    /// The waiting backend's latch (PGPROC is in shared memory).
    pub latch: AtomicUsize,
    pub database: AtomicU32,
    pub role: AtomicU32,
    pub memory_mb: AtomicU32,
    pub ceiling: AtomicU32,
    pub key: AtomicU64,
    /// The slot given to it (owner already set to its pid), or -1.
    pub granted: AtomicI32,
    /// How it may use the slot (placement::Pick as a number).
    pub pick: AtomicU32,
}

#[repr(C)]
pub struct PoolShared {
    pub slots: [Slot; gucs::MAX_EXECUTORS as usize],
    pub waiters: [Waiter; MAX_WAITERS],
    /// Entries of `waiters` in use.  Read without the lock on every
    /// release: only when it is non-zero does a release take the lock.
    pub waiting: AtomicU32,
    pub next_ticket: AtomicU64,
    /// plrust calls between lease and release, for the spin policy.
    pub in_flight: AtomicU32,
    /// Runnable processes on the machine, sampled from /proc/loadavg, and
    /// when (ms of CLOCK_MONOTONIC_COARSE).
    pub runnable: AtomicU32,
    pub runnable_at: AtomicU64,
    /// The supervisor's latch, set to ask it to start or kill executors.
    pub supervisor_latch: AtomicUsize,
}

static mut SHARED: *mut PoolShared = std::ptr::null_mut();
static mut LOCK: *mut pg_sys::LWLock = std::ptr::null_mut();
static mut PREV_SHMEM_STARTUP: Option<unsafe extern "C-unwind" fn()> = None;
static mut PREV_SHMEM_REQUEST: Option<unsafe extern "C-unwind" fn()> = None;

const TRANCHE: &std::ffi::CStr = c"plrust pool";

/// Channel memfds and their mappings, made in the postmaster.
static CHANNELS: OnceLock<Vec<(OwnedFd, Channel)>> = OnceLock::new();

/// Shared memory is asked for in shmem_request_hook, which PostgreSQL 15
/// introduced (and every later major keeps): asking from _PG_init, as
/// before 15, is an error from 15 on.
#[pg_guard]
unsafe extern "C-unwind" fn shmem_request() {
    // SAFETY: postmaster-only hook chain, set once in _PG_init.
    unsafe {
        if let Some(prev) = PREV_SHMEM_REQUEST {
            prev();
        }
        pg_sys::RequestAddinShmemSpace(std::mem::size_of::<PoolShared>());
        pg_sys::RequestNamedLWLockTranche(TRANCHE.as_ptr(), 1);
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn shmem_startup() {
    // SAFETY: runs in the postmaster (at start and after a crash restart)
    // before any child that uses SHARED is forked.  ShmemInitStruct returns
    // a region of the requested size; when it is new we zero it, which is a
    // valid PoolShared (atomics only).  The tranche was requested in
    // shmem_request, so GetNamedLWLockTranche finds it.
    unsafe {
        if let Some(prev) = PREV_SHMEM_STARTUP {
            prev();
        }
        let mut found = false;
        let size = std::mem::size_of::<PoolShared>();
        let p = pg_sys::ShmemInitStruct(c"plrust executor pool".as_ptr(), size, &mut found);
        if !found {
            std::ptr::write_bytes(p.cast::<u8>(), 0, size);
            let shared = &*p.cast::<PoolShared>();
            for slot in shared.slots.iter() {
                slot.last_exit.store(-1, Ordering::Relaxed);
            }
            for w in shared.waiters.iter() {
                w.granted.store(-1, Ordering::Relaxed);
            }
        }
        SHARED = p.cast();
        LOCK = std::ptr::addr_of_mut!((*pg_sys::GetNamedLWLockTranche(TRANCHE.as_ptr())).lock);
    }
}

/// From _PG_init, in the postmaster: ask for shared memory, make channels.
pub fn init() {
    // SAFETY: _PG_init runs single-threaded in the postmaster during
    // shared_preload_libraries; the hook variables are ours to chain.
    unsafe {
        PREV_SHMEM_REQUEST = pg_sys::shmem_request_hook;
        pg_sys::shmem_request_hook = Some(shmem_request);
        PREV_SHMEM_STARTUP = pg_sys::shmem_startup_hook;
        pg_sys::shmem_startup_hook = Some(shmem_startup);
    }
    let n = gucs::max_executors();
    let mut channels = Vec::with_capacity(n);
    for _ in 0..n {
        let fd = memfd::create(c"plrust-channel")
            .unwrap_or_else(|e| pgrx::error!("plrust: cannot create a channel memfd: {e}"));
        let map = memfd::map(fd.as_raw_fd())
            .unwrap_or_else(|e| pgrx::error!("plrust: cannot map a channel: {e}"));
        channels.push((fd, Channel::new(map)));
    }
    let _ = CHANNELS.set(channels);
}

pub fn is_initialized() -> bool {
    CHANNELS.get().is_some()
}

pub fn slot_count() -> usize {
    CHANNELS.get().map_or(0, |c| c.len())
}

pub fn shared() -> &'static PoolShared {
    // SAFETY: set in the postmaster before any backend or worker is forked;
    // callers only run in such children after checking is_initialized().
    unsafe {
        let p = SHARED;
        assert!(
            !p.is_null(),
            "plrust pool used before shared memory was initialized"
        );
        &*p
    }
}

pub fn slot(i: usize) -> &'static Slot {
    &shared().slots[i]
}

pub fn channel(i: usize) -> Channel {
    CHANNELS.get().expect("plrust pool not initialized")[i].1
}

pub fn channel_fd(i: usize) -> RawFd {
    CHANNELS.get().expect("plrust pool not initialized")[i]
        .0
        .as_raw_fd()
}

/// The pool lock, held while the queue or a slot's placement is decided.
/// Released however the holder leaves: never held across anything that can
/// raise an ERROR (and PostgreSQL releases LWLocks at abort anyway).
pub struct PoolLock(());

impl PoolLock {
    pub fn acquire() -> PoolLock {
        // SAFETY: LOCK points at our tranche's LWLock in shared memory, set
        // in shmem_startup before any child was forked.
        unsafe { pg_sys::LWLockAcquire(LOCK, pg_sys::LWLockMode::LW_EXCLUSIVE) };
        PoolLock(())
    }
}

impl Drop for PoolLock {
    fn drop(&mut self) {
        // SAFETY: we hold it (acquired in PoolLock::acquire).
        unsafe { pg_sys::LWLockRelease(LOCK) };
    }
}

/// Milliseconds of CLOCK_MONOTONIC_COARSE: the same clock in every process,
/// read in a few nanoseconds (vDSO, no cache line of anyone else's).
pub fn now_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we pass and nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

/// Ask the supervisor to look at the slots (start, kill).
pub fn wake_supervisor() {
    let latch = shared().supervisor_latch.load(Ordering::Acquire);
    if latch != 0 {
        // SAFETY: the supervisor published a pointer to its PGPROC latch,
        // which lives in shared memory for the life of the cluster.
        unsafe { pg_sys::SetLatch(latch as *mut pg_sys::Latch) };
    }
}

impl Slot {
    /// Ready to serve `p`: a live executor (the supervisor zeroes the pid
    /// before it announces a death, so a backend that saw one never picks
    /// the corpse), bound to `p`, loaded and sealed.
    pub fn is_bound_to(&self, p: Principal) -> bool {
        let alive = self.executor_pid.load(Ordering::Acquire) != 0;
        let g = self.generation.load(Ordering::Acquire);
        alive
            && g != 0
            && self.sealed_generation.load(Ordering::Acquire) == g
            && self.bound_generation.load(Ordering::Acquire) == g
            && self.bound_database.load(Ordering::Relaxed) == p.database
            && self.bound_role.load(Ordering::Relaxed) == p.role
            && self.bound_memory_mb.load(Ordering::Relaxed) == p.memory_mb
    }

    pub fn is_bound(&self) -> bool {
        let g = self.generation.load(Ordering::Acquire);
        g != 0 && self.bound_generation.load(Ordering::Acquire) == g
    }

    pub fn has_loaded(&self, key: u64) -> bool {
        let n = (self.loaded_len.load(Ordering::Acquire) as usize).min(MAX_LOADED);
        self.loaded[..n]
            .iter()
            .any(|k| k.load(Ordering::Relaxed) == key)
    }

    /// Bound to `principal` with `key` loaded: a call can run here now.
    pub fn is_ready_for(&self, principal: Principal, key: u64) -> bool {
        self.is_bound_to(principal) && self.has_loaded(key)
    }

    /// Have executor `generation` killed (the supervisor starts a fresh one
    /// if the slot is wanted).  Unsealed first: until the supervisor has
    /// reaped it, its pid and generation still look alive, and a call sent
    /// to it (the same session's next call, say) would meet a dying process.
    pub fn kill(&self, generation: u64) {
        if generation == 0 {
            return;
        }
        let _ = self.sealed_generation.compare_exchange(
            generation,
            0,
            Ordering::AcqRel,
            Ordering::Relaxed,
        );
        self.kill_generation.store(generation, Ordering::Release);
        wake_supervisor();
    }

    /// Kill whatever executor runs now.
    pub fn kill_current(&self) {
        self.kill(self.generation.load(Ordering::Acquire));
    }
}
