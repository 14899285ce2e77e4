//! The executor pool's shared state.
//!
//! Two kinds of shared memory, on purpose:
//! - `PoolShared`, in PostgreSQL's shared memory: who owns each slot, which
//!   executor runs in it, which principal it is bound to and what it has
//!   loaded.  Executors never see this memory, so backends can trust it.
//! - one channel memfd per slot (`plrust_ipc`), created here in the
//!   postmaster and inherited by every child; a worker hands its slot's
//!   memfd, and nothing else, to its executor.  Backends trust nothing read
//!   from it.
//!
//! A slot is taken by compare-and-swap of `owner` (0 → the backend's pid),
//! so the common case, a backend calling again into the slot it used last,
//! costs one atomic operation and no lock.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;

use pgrx::prelude::*;
use plrust_ipc::{memfd, Channel};

use crate::gucs;

/// Most functions one executor loads; more force a fresh executor.
pub const MAX_LOADED: usize = 64;

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
}

#[repr(C)]
pub struct Slot {
    /// The running executor, 0 while there is none (set by the worker).
    pub executor_pid: AtomicI32,
    /// Bumped by the worker each time it starts an executor.
    pub generation: AtomicU64,
    /// Raw wait status of the previous executor (-1: none yet).
    pub last_exit: AtomicI32,
    /// pid of the backend using the slot; 0 when free.
    pub owner: AtomicI32,
    /// A backend killed the executor on purpose (recycling, cancel): the
    /// worker logs its death quietly.
    pub recycling: AtomicU32,
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
    /// For choosing which idle slot to recycle (a counter, not a clock).
    pub last_used: AtomicU64,
}

#[repr(C)]
pub struct PoolShared {
    pub slots: [Slot; gucs::MAX_WORKERS as usize],
    pub clock: AtomicU64,
}

static mut SHARED: *mut PoolShared = std::ptr::null_mut();
static mut PREV_SHMEM_STARTUP: Option<unsafe extern "C-unwind" fn()> = None;
static mut PREV_SHMEM_REQUEST: Option<unsafe extern "C-unwind" fn()> = None;

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
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn shmem_startup() {
    // SAFETY: runs in the postmaster (at start and after a crash restart)
    // before any child that uses SHARED is forked.  ShmemInitStruct returns
    // a region of the requested size; when it is new we zero it, which is a
    // valid PoolShared (atomics only).
    unsafe {
        if let Some(prev) = PREV_SHMEM_STARTUP {
            prev();
        }
        let mut found = false;
        let size = std::mem::size_of::<PoolShared>();
        let p = pg_sys::ShmemInitStruct(c"plrust executor pool".as_ptr(), size, &mut found);
        if !found {
            std::ptr::write_bytes(p.cast::<u8>(), 0, size);
            for slot in (*p.cast::<PoolShared>()).slots.iter() {
                slot.last_exit.store(-1, Ordering::Relaxed);
            }
        }
        SHARED = p.cast();
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
    let n = gucs::WORKERS.get() as usize;
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

pub fn tick() -> u64 {
    shared().clock.fetch_add(1, Ordering::Relaxed)
}

impl Slot {
    /// Ready to serve `p`: a live executor (the worker zeroes the pid
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

    /// Kill the executor on purpose (the worker starts a fresh one).
    pub fn recycle(&self) {
        // Unseal first: until the worker has reaped the executor, its pid
        // and generation still look alive, and a call sent to it (the same
        // session's next call, say) would meet a dying process.
        self.sealed_generation.store(0, Ordering::Release);
        let pid = self.executor_pid.load(Ordering::Acquire);
        if pid > 0 {
            self.recycling.store(1, Ordering::Release);
            // SAFETY: plain kill(2) of a pid the worker published; at worst
            // it is already gone (ESRCH).
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
}
