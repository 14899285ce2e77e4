//! A backend's hold on an executor for one call.
//!
//! A call leases a slot bound to its function's principal with the
//! function loaded: the slot this backend used last (one compare-and-swap),
//! any ready one (a scan), or one the queue gives it (queue.rs), which
//! prepare.rs then readies.  A nested call of the same principal (the body
//! called back through SPI, and the query calls plrust again) borrows the
//! executor of the outer call, which is waiting for the answer to its
//! upcall and serves the nested call meanwhile: recursion needs no
//! executor per level.
//!
//! A lease that ends while its executor is in the middle of something (a
//! request in flight, an upcall unanswered, a broken reply) has the
//! executor killed: a reply that nobody waits for must never be read by
//! the next call.  A backend that exits holding a lease (FATAL skips Rust
//! destructors) is cleaned up by an on_shmem_exit callback.

use std::cell::{Cell, RefCell};
use std::sync::atomic::Ordering;

use pgrx::prelude::*;
use plrust_bgworker::cpu_budget::CpuBudget;
use plrust_bgworker::placement::Pick;
use plrust_bgworker::spin::Budget;
use plrust_ipc::Channel;

use crate::backend_local::BackendLocal;
use crate::pool::{self, Principal, Slot};
use crate::queue::{self, Want};
use crate::{function, gucs, prepare, spin};

/// Where the executor is in the protocol, from the lease's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// Waiting for a request: the lease may end, or send one.
    Idle,
    /// A request is published and its reply not yet read.
    Requested,
    /// The body waits for the answer to an upcall (and may serve nested
    /// calls meanwhile).
    AwaitingAnswer,
    /// The executor broke the protocol, died or was stopped: it must not
    /// serve anything again.
    Broken,
}

/// Whether the lease holds the slot or borrows it from an outer call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hold {
    Own,
    Borrowed,
}

pub struct Lease {
    pub index: usize,
    pub generation: u64,
    hold: Hold,
    pub state: LeaseState,
    /// The CPU budget of the call in progress: one for the whole call,
    /// across its upcalls, so a body cannot reset it by logging.
    pub budget: Option<CpuBudget>,
    /// How long each side may spin while this call goes on.
    pub spin: Budget,
}

/// A slot this backend holds for a call in progress (outermost first).
#[derive(Clone, Copy)]
struct Held {
    index: usize,
    generation: u64,
    principal: Principal,
}

static HELD: BackendLocal<RefCell<Vec<Held>>> = BackendLocal::new(RefCell::new(Vec::new()));

/// The slot this backend called into last, and what it verified there: an
/// executor generation is bound to one principal and loaded once, so while
/// the slot's generation and seal are unchanged the check need not be
/// repeated.
#[derive(Clone, Copy)]
struct Verified {
    index: usize,
    generation: u64,
    key: u64,
    principal: Principal,
}

static LAST: BackendLocal<Cell<Option<Verified>>> = BackendLocal::new(Cell::new(None));
static EXIT_HOOK: BackendLocal<Cell<bool>> = BackendLocal::new(Cell::new(false));

impl Lease {
    pub fn slot(&self) -> &'static Slot {
        pool::slot(self.index)
    }

    pub fn channel(&self) -> Channel {
        pool::channel(self.index)
    }

    /// A lease of slot `index`, which this backend has just taken.
    pub(crate) fn own(index: usize, generation: u64, principal: Principal) -> Lease {
        pool::shared().in_flight.fetch_add(1, Ordering::Relaxed);
        HELD.borrow_mut().push(Held {
            index,
            generation,
            principal,
        });
        Lease {
            index,
            generation,
            hold: Hold::Own,
            state: LeaseState::Idle,
            budget: None,
            spin: spin::budget(),
        }
    }

    /// The slot's executor was replaced while this lease prepares it.
    pub(crate) fn set_generation(&mut self, generation: u64) {
        self.generation = generation;
        if let Some(h) = HELD
            .borrow_mut()
            .iter_mut()
            .rev()
            .find(|h| h.index == self.index)
        {
            h.generation = generation;
        }
    }

    /// The executor is not the one this lease began with any more, or is
    /// to be killed (a call nested in this one's upcall broke it): nothing
    /// may be sent to it.
    pub fn condemned(&self) -> bool {
        let slot = self.slot();
        slot.generation.load(Ordering::Acquire) != self.generation
            || slot.kill_generation.load(Ordering::Acquire) == self.generation
    }

    /// The body is waiting for the answer to an upcall.
    pub fn awaiting_answer(&mut self) {
        self.state = LeaseState::AwaitingAnswer;
        // From here the backend's own work (SPI, messages) passes between
        // checks of the CPU budget: take its baseline now, so that this
        // time is not counted as the executor's.
        if let Some(b) = self.budget.as_mut() {
            b.take_baseline();
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let slot = self.slot();
        if self.state != LeaseState::Idle {
            slot.kill(self.generation);
        }
        if self.hold == Hold::Own {
            let mut held = HELD.borrow_mut();
            if let Some(pos) = held.iter().rposition(|h| h.index == self.index) {
                held.remove(pos);
            }
            drop(held);
            pool::shared().in_flight.fetch_sub(1, Ordering::Relaxed);
            queue::release(self.index);
        }
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn release_at_exit(_code: i32, _arg: pg_sys::Datum) {
    queue::leave_at_exit();
}

fn ensure_exit_hook() {
    if !EXIT_HOOK.get() {
        // SAFETY: registering a plain callback; it runs at backend exit.
        unsafe { pg_sys::on_shmem_exit(Some(release_at_exit), pg_sys::Datum::from(0)) };
        EXIT_HOOK.set(true);
    }
}

fn try_take(i: usize) -> bool {
    pool::slot(i)
        .owner
        .compare_exchange(0, queue::my_pid(), Ordering::AcqRel, Ordering::Relaxed)
        .is_ok()
}

fn ready_for(s: &Slot, principal: Principal, key: u64) -> bool {
    s.is_bound_to(principal) && s.has_loaded(key)
}

/// A slot this backend holds for an outer call of `principal`, whose
/// executor has `key` loaded: the nested call runs there.
fn borrowable(principal: Principal, key: u64) -> Option<(usize, u64)> {
    HELD.borrow()
        .iter()
        .rev()
        .find(|h| {
            let s = pool::slot(h.index);
            h.principal == principal
                && s.generation.load(Ordering::Acquire) == h.generation
                && ready_for(s, principal, key)
        })
        .map(|h| (h.index, h.generation))
}

fn verified(index: usize, key: u64, principal: Principal) -> Lease {
    let generation = pool::slot(index).generation.load(Ordering::Acquire);
    LAST.set(Some(Verified {
        index,
        generation,
        key,
        principal,
    }));
    Lease::own(index, generation, principal)
}

/// Lease an executor for `principal` that has `key` loaded, preparing one
/// if needed.  Waits up to plrust.pool_wait_timeout for a slot.
///
/// `object` is the code for `key` when it is not in plrust.artifacts (a DO
/// block): an executor prepared for it loads that alone.
pub fn acquire(principal: Principal, key: u64, fn_name: &str, object: Option<&[u8]>) -> Lease {
    // Before any slot is taken, on every path: a FATAL skips destructors,
    // and a slot held by a dead backend would never come back.
    ensure_exit_hook();
    if let Some((index, generation)) = borrowable(principal, key) {
        return Lease {
            index,
            generation,
            hold: Hold::Borrowed,
            state: LeaseState::Idle,
            budget: None,
            spin: spin::budget(),
        };
    }
    let shared = pool::shared();
    // Lock-free only while nobody waits: a waiting call comes first.
    if shared.waiting.load(Ordering::SeqCst) == 0 {
        // The slot this backend used last, still as verified.
        if let Some(v) = LAST.get() {
            if v.key == key && v.principal == principal && try_take(v.index) {
                let s = pool::slot(v.index);
                let alive = s.executor_pid.load(Ordering::Acquire) != 0;
                let g = s.generation.load(Ordering::Acquire);
                if alive && g == v.generation && s.sealed_generation.load(Ordering::Acquire) == g {
                    return Lease::own(v.index, g, principal);
                }
                queue::release(v.index);
            }
        }
        // Any ready slot.
        for i in 0..pool::slot_count() {
            let s = pool::slot(i);
            if s.owner.load(Ordering::Relaxed) == 0 && ready_for(s, principal, key) && try_take(i) {
                if ready_for(s, principal, key) {
                    return verified(i, key, principal);
                }
                queue::release(i);
            }
        }
    }
    prepare::remember(key);
    let want = Want {
        principal,
        key,
        ceiling: gucs::executors_per_principal(),
    };
    // Which code a fresh executor loads is read only when one must be
    // prepared, and then with no slot held: reading the owner's definitions
    // can wait on a lock (of a composite type's table), and other calls
    // must not wait for this one meanwhile.
    // Read up front unless an executor of the principal already has the
    // function (then the call most likely waits for one of those): giving a
    // slot back to read it would lose the call's place in the queue.
    let likely_ready = (0..pool::slot_count()).any(|i| ready_for(pool::slot(i), principal, key));
    let mut owners_code: Option<Vec<[u8; 32]>> = match object {
        Some(_) => Some(Vec::new()),
        None if likely_ready => None,
        None => Some(function::code_hashes_of(principal.role)),
    };
    let i = loop {
        let (i, pick) = queue::obtain(&want, fn_name);
        if pick == Pick::Ready && ready_for(pool::slot(i), principal, key) {
            return verified(i, key, principal);
        }
        if owners_code.is_some() {
            break i;
        }
        queue::release(i);
        owners_code = Some(function::code_hashes_of(principal.role));
    };
    let owners_code = owners_code.unwrap_or_default();
    let generation = pool::slot(i).generation.load(Ordering::Acquire);
    let mut lease = Lease::own(i, generation, principal);
    prepare::prepare(&mut lease, principal, key, fn_name, object, &owners_code);
    LAST.set(Some(Verified {
        index: i,
        generation: lease.generation,
        key,
        principal,
    }));
    lease
}
