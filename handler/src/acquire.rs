//! Finding an executor for a call: the slot this backend used last (one
//! compare-and-swap), any ready one (a scan), or one the queue gives it
//! (queue.rs), which prepare.rs then readies; a nested call of the same
//! principal borrows its outer call's (lease.rs).

use std::cell::Cell;
use std::sync::atomic::Ordering;

use plrust_bgworker::placement::Pick;

use crate::backend_local::BackendLocal;
use crate::lease::{self, Lease};
use crate::pool::{self, Principal};
use crate::queue::{self, Want};
use crate::{function, gucs, prepare};

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

fn try_take(i: usize) -> bool {
    pool::slot(i)
        .owner
        .compare_exchange(0, queue::my_pid(), Ordering::AcqRel, Ordering::Relaxed)
        .is_ok()
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
    lease::ensure_exit_hook();
    if let Some(lease) = lease::borrow_outer(principal, key) {
        return lease;
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
            if s.owner.load(Ordering::Relaxed) == 0 && s.is_ready_for(principal, key) && try_take(i)
            {
                if s.is_ready_for(principal, key) {
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
    if lease::holds_any() {
        if let Some(held) = queue::waits_for_itself(&want) {
            queue::refuse_waiting_for_itself(&want, fn_name, held);
        }
    }
    // Which code a fresh executor loads is read only when one must be
    // prepared, and then with no slot held: reading the owner's definitions
    // can wait on a lock (of a composite type's table), and other calls
    // must not wait for this one meanwhile.
    // Read up front unless an executor of the principal already has the
    // function (then the call most likely waits for one of those): giving a
    // slot back to read it would lose the call's place in the queue.
    let likely_ready = (0..pool::slot_count()).any(|i| pool::slot(i).is_ready_for(principal, key));
    let mut owners_code: Option<Vec<[u8; 32]>> = match object {
        Some(_) => Some(Vec::new()),
        None if likely_ready => None,
        None => Some(function::code_hashes_of(principal.role)),
    };
    let i = loop {
        let (i, pick) = queue::obtain(&want, fn_name);
        if pick == Pick::Ready && pool::slot(i).is_ready_for(principal, key) {
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
