//! A backend's hold on an executor for one call.
//!
//! A call leases a slot bound to its function's principal with the
//! function loaded (acquire.rs finds it).  A nested call of the same principal (the body
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
use plrust_bgworker::spin::Budget;
use plrust_ipc::Channel;

use crate::backend_local::BackendLocal;
use crate::pool::{self, Principal, Slot};
use crate::{queue, spin};

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

/// Before any slot is taken, on every path: a FATAL skips destructors,
/// and a slot held by a dead backend would never come back.
pub(crate) fn ensure_exit_hook() {
    if !EXIT_HOOK.get() {
        // SAFETY: registering a plain callback; it runs at backend exit.
        unsafe { pg_sys::on_shmem_exit(Some(release_at_exit), pg_sys::Datum::from(0)) };
        EXIT_HOOK.set(true);
    }
}

/// Whether this backend holds executors for outer calls (the call being
/// acquired is nested).
pub(crate) fn holds_any() -> bool {
    !HELD.borrow().is_empty()
}

/// A lease of the executor of an outer call of `principal` that this
/// backend holds, if that executor has `key` loaded: the nested call runs
/// there (see above).
pub(crate) fn borrow_outer(principal: Principal, key: u64) -> Option<Lease> {
    let (index, generation) = HELD
        .borrow()
        .iter()
        .rev()
        .find(|h| {
            let s = pool::slot(h.index);
            h.principal == principal
                && s.generation.load(Ordering::Acquire) == h.generation
                && s.is_ready_for(principal, key)
        })
        .map(|h| (h.index, h.generation))?;
    Some(Lease {
        index,
        generation,
        hold: Hold::Borrowed,
        state: LeaseState::Idle,
        budget: None,
        spin: spin::budget(),
    })
}
