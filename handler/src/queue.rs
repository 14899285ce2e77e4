//! Getting a slot when none is ready: the pool lock, the placement rules
//! (plrust_bgworker::placement) and the queue of waiting calls.
//!
//! A call that finds no slot for it enqueues itself with a ticket and sleeps
//! on its latch.  Whoever frees a slot (a backend releasing one, the
//! supervisor reaping or starting an executor) runs `grant_locked`, which
//! serves the queue in ticket order: it sets the chosen slot's owner to the
//! waiter's pid, records the slot in the waiter's entry and sets its latch.
//! So a slot never goes to whoever wins a race, and no waiter polls.
//!
//! Releases stay lock-free while nobody waits: the releaser clears the
//! owner, then reads `waiting` (both SeqCst); a waiter increments `waiting`
//! under the lock before it looks at the owners.  One of the two always
//! sees the other, so no freed slot is missed.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pgrx::prelude::*;
use plrust_bgworker::placement::{self, Pick, Refusal, State};

use crate::errors::raise;
use crate::pool::{self, PoolLock, Principal, RETIRING};
use crate::{gucs, interrupts};

/// What a call needs: an executor of `principal` with `key` loaded, and at
/// most `ceiling` executors for the principal.
#[derive(Debug, Clone, Copy)]
pub struct Want {
    pub principal: Principal,
    pub key: u64,
    pub ceiling: usize,
}

type Tenant = (u32, u32);

pub fn my_pid() -> i32 {
    // SAFETY: MyProcPid is set at process start and never changes.
    unsafe { pg_sys::MyProcPid }
}

/// The slots as the placement rules see them.
fn snapshot() -> Vec<placement::Slot<Tenant>> {
    (0..pool::slot_count())
        .map(|i| {
            let s = pool::slot(i);
            let owner = s.owner.load(Ordering::Acquire);
            let pid = s.executor_pid.load(Ordering::Acquire);
            let g = s.generation.load(Ordering::Acquire);
            let taken_for = s.taken_for.load(Ordering::Acquire);
            let state = if owner != 0 && taken_for != 0 {
                // Taken to be prepared for a tenant: already its.
                State::Bound(((taken_for >> 32) as u32, taken_for as u32))
            } else if pid == 0 {
                State::Empty
            } else if s.kill_generation.load(Ordering::Acquire) == g {
                State::Dying
            } else if !s.is_bound() {
                State::Fresh
            } else if s.sealed_generation.load(Ordering::Acquire) != g && owner == 0 {
                // Bound but never sealed, and nobody preparing it: broken.
                State::Dying
            } else {
                State::Bound((
                    s.bound_database.load(Ordering::Relaxed),
                    s.bound_role.load(Ordering::Relaxed),
                ))
            };
            placement::Slot {
                free: owner == 0,
                state,
                last_used: s.last_used.load(Ordering::Relaxed),
            }
        })
        .collect()
}

fn ready(i: usize, want: &Want) -> bool {
    let s = pool::slot(i);
    s.is_bound_to(want.principal) && s.has_loaded(want.key)
}

fn waiter_of(want: &Want) -> placement::Waiter<Tenant> {
    placement::Waiter {
        tenant: want.principal.tenant(),
        ceiling: want.ceiling,
    }
}

fn take(i: usize, want: &Want) -> bool {
    let s = pool::slot(i);
    let taken = s
        .owner
        .compare_exchange(0, my_pid(), Ordering::AcqRel, Ordering::Relaxed)
        .is_ok();
    if taken {
        s.taken_for
            .store(want.principal.tenant_word(), Ordering::Release);
    }
    taken
}

fn pick_code(p: Pick) -> u32 {
    match p {
        Pick::Ready => 0,
        Pick::Fresh => 1,
        Pick::Start => 2,
        Pick::Replace => 3,
    }
}

fn pick_of(code: u32) -> Pick {
    match code {
        0 => Pick::Ready,
        1 => Pick::Fresh,
        2 => Pick::Start,
        _ => Pick::Replace,
    }
}

fn want_of(w: &pool::Waiter) -> Want {
    Want {
        principal: Principal {
            database: w.database.load(Ordering::Relaxed),
            role: w.role.load(Ordering::Relaxed),
            memory_mb: w.memory_mb.load(Ordering::Relaxed),
        },
        key: w.key.load(Ordering::Relaxed),
        ceiling: w.ceiling.load(Ordering::Relaxed) as usize,
    }
}

/// Serve the queue in arrival order.  Caller holds the pool lock.
pub fn grant_locked() {
    let shared = pool::shared();
    if shared.waiting.load(Ordering::SeqCst) == 0 {
        return;
    }
    let mut queued: Vec<(u64, usize)> = shared
        .waiters
        .iter()
        .enumerate()
        .filter(|(_, w)| {
            w.ticket.load(Ordering::Relaxed) != 0 && w.granted.load(Ordering::Relaxed) < 0
        })
        .map(|(k, w)| (w.ticket.load(Ordering::Relaxed), k))
        .collect();
    if queued.is_empty() {
        return;
    }
    queued.sort_unstable();
    let wants: Vec<Want> = queued
        .iter()
        .map(|&(_, k)| want_of(&shared.waiters[k]))
        .collect();
    let waiters: Vec<_> = wants.iter().map(waiter_of).collect();
    let mut slots = snapshot();
    let granted = placement::grant(&mut slots, &waiters, |i, k| ready(i, &wants[k]));
    for ((&(_, k), want), g) in queued.iter().zip(&wants).zip(granted) {
        let Some((i, pick)) = g else { continue };
        let w = &shared.waiters[k];
        let pid = w.pid.load(Ordering::Relaxed);
        // A lock-free taker may have got there first; the next release
        // serves this waiter then.
        let slot = pool::slot(i);
        if slot
            .owner
            .compare_exchange(0, pid, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            continue;
        }
        slot.taken_for
            .store(want.principal.tenant_word(), Ordering::Release);
        w.pick.store(pick_code(pick), Ordering::Relaxed);
        w.granted.store(i as i32, Ordering::Release);
        let latch = w.latch.load(Ordering::Relaxed);
        if latch != 0 {
            // SAFETY: the waiter's PGPROC latch, in shared memory; it stays
            // valid while the waiter's entry exists (we hold the lock that
            // its removal needs).
            unsafe { pg_sys::SetLatch(latch as *mut pg_sys::Latch) };
        }
    }
}

/// Give slot `i` back and pass it on to a waiting call, if any.
pub fn release(i: usize) {
    let s = pool::slot(i);
    s.last_used.store(pool::now_ms(), Ordering::Relaxed);
    s.taken_for.store(0, Ordering::Relaxed);
    s.owner.store(0, Ordering::SeqCst);
    if pool::shared().waiting.load(Ordering::SeqCst) > 0 {
        let _lock = PoolLock::acquire();
        grant_locked();
    }
}

/// A queue entry of this backend, removed however the wait ends.
struct Entry {
    k: usize,
    /// The granted slot was handed to the caller.
    consumed: bool,
}

impl Entry {
    fn granted(&self) -> Option<(usize, Pick)> {
        let w = &pool::shared().waiters[self.k];
        let i = w.granted.load(Ordering::Acquire);
        (i >= 0).then(|| (i as usize, pick_of(w.pick.load(Ordering::Relaxed))))
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        let shared = pool::shared();
        let _lock = PoolLock::acquire();
        let w = &shared.waiters[self.k];
        let granted = w.granted.swap(-1, Ordering::AcqRel);
        w.ticket.store(0, Ordering::Relaxed);
        w.latch.store(0, Ordering::Relaxed);
        shared.waiting.fetch_sub(1, Ordering::SeqCst);
        if granted >= 0 && !self.consumed {
            // Given to us after we stopped waiting: pass it on.
            let s = pool::slot(granted as usize);
            s.taken_for.store(0, Ordering::Relaxed);
            s.owner.store(0, Ordering::SeqCst);
            grant_locked();
        }
    }
}

fn enqueue(want: &Want) -> Option<Entry> {
    let shared = pool::shared();
    let k = shared
        .waiters
        .iter()
        .position(|w| w.ticket.load(Ordering::Relaxed) == 0)?;
    let w = &shared.waiters[k];
    w.pid.store(my_pid(), Ordering::Relaxed);
    // SAFETY: MyLatch is this backend's PGPROC latch, in shared memory.
    w.latch
        .store(unsafe { pg_sys::MyLatch } as usize, Ordering::Relaxed);
    w.database.store(want.principal.database, Ordering::Relaxed);
    w.role.store(want.principal.role, Ordering::Relaxed);
    w.memory_mb
        .store(want.principal.memory_mb, Ordering::Relaxed);
    w.ceiling.store(want.ceiling as u32, Ordering::Relaxed);
    w.key.store(want.key, Ordering::Relaxed);
    w.granted.store(-1, Ordering::Relaxed);
    w.ticket.store(
        shared.next_ticket.fetch_add(1, Ordering::Relaxed) + 1,
        Ordering::Relaxed,
    );
    shared.waiting.fetch_add(1, Ordering::SeqCst);
    Some(Entry { k, consumed: false })
}

/// Get a slot for `want`, waiting (in arrival order) up to
/// plrust.pool_wait_timeout.  The slot's owner is this backend on return.
pub fn obtain(want: &Want, fn_name: &str) -> (usize, Pick) {
    let shared = pool::shared();
    let deadline = Instant::now() + Duration::from_millis(gucs::POOL_WAIT_TIMEOUT.get() as u64);
    let mut entry = {
        let _lock = PoolLock::acquire();
        if shared.waiting.load(Ordering::SeqCst) == 0 {
            if let Ok((i, pick)) =
                placement::pick(&snapshot(), &waiter_of(want), |i| ready(i, want))
            {
                if take(i, want) {
                    return (i, pick);
                }
            }
        }
        let entry = enqueue(want);
        grant_locked();
        entry
    };
    loop {
        match &mut entry {
            Some(e) => {
                if let Some(got) = e.granted() {
                    e.consumed = true;
                    return got;
                }
            }
            // The queue is full (a thousand calls waiting): poll outside it.
            None => {
                let _lock = PoolLock::acquire();
                if let Ok((i, pick)) =
                    placement::pick(&snapshot(), &waiter_of(want), |i| ready(i, want))
                {
                    if take(i, want) {
                        return (i, pick);
                    }
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            // Drop the entry first: a slot granted meanwhile is passed on.
            drop(entry.take());
            wait_timed_out(want, fn_name);
        }
        // SAFETY: waiting on this backend's own latch with a timeout; the
        // postmaster's death ends the process (WL_EXIT_ON_PM_DEATH).
        unsafe {
            pg_sys::WaitLatch(
                pg_sys::MyLatch,
                (pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH) as i32,
                left.as_millis()
                    .clamp(1, if entry.is_some() { 1000 } else { 1 })
                    as libc::c_long,
                pg_sys::PG_WAIT_EXTENSION,
            );
            pg_sys::ResetLatch(pg_sys::MyLatch);
        }
        // An ERROR here drops the entry, which passes on a granted slot.
        if interrupts::pending() {
            pgrx::check_for_interrupts!();
        }
    }
}

/// Whether waiting for an executor for `want` would wait only for this
/// backend: every executor the tenant holds at its ceiling, or every one
/// of the pool, is held by this backend's outer calls.  Read from the slot
/// table, not the session's own count: other sessions' settings may let
/// the tenant hold more than this session's ceiling.  Some(how many it
/// holds) when it would.
pub fn waits_for_itself(want: &Want) -> Option<usize> {
    let me = my_pid();
    let _lock = PoolLock::acquire();
    let tenant = want.principal.tenant();
    let slots = snapshot();
    let mine = |i: usize| pool::slot(i).owner.load(Ordering::Acquire) == me;
    let tenants: Vec<usize> = (0..slots.len())
        .filter(|&i| slots[i].state == State::Bound(tenant))
        .collect();
    let all_mine = (0..slots.len()).all(mine);
    let tenants_mine = tenants.len() >= want.ceiling && tenants.iter().all(|&i| mine(i));
    (all_mine || tenants_mine).then(|| (0..slots.len()).filter(|&i| mine(i)).count())
}

/// A nested call that would wait for an executor this very backend holds
/// for its outer calls: it would wait until plrust.pool_wait_timeout for
/// nothing, so it fails now.  (A nested call runs in its outer call's
/// executor only if that executor has the function loaded: executors load
/// their owner's functions when they start, and are sealed after, so a
/// function created since needs another executor.)
pub fn refuse_waiting_for_itself(want: &Want, fn_name: &str, held: usize) -> ! {
    let (owner, db) = names(want.principal);
    raise(
        PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES,
        format!(
            "no plrust executor can run function \"{fn_name}\": this session's outer plrust calls hold all {held} that its owner may have"
        ),
        Some(format!(
            "The functions of role \"{owner}\" in database \"{db}\" may hold {} executors (plrust.max_executors_per_principal); the outer calls hold them, and theirs do not have \"{fn_name}\" loaded (functions created after an executor started are loaded only by executors started later).",
            want.ceiling
        )),
        Some("Ask a superuser to raise plrust.max_executors_per_principal.".into()),
    )
}

fn wait_timed_out(want: &Want, fn_name: &str) -> ! {
    let refusal = {
        let _lock = PoolLock::acquire();
        placement::pick(&snapshot(), &waiter_of(want), |i| ready(i, want)).err()
    };
    let n = pool::slot_count();
    let message = format!(
        "no plrust executor became free within plrust.pool_wait_timeout to run function \"{fn_name}\""
    );
    match refusal {
        Some(Refusal::OwnShare { held }) => {
            let (owner, db) = names(want.principal);
            raise(
                PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES,
                message,
                Some(format!(
                    "The functions of role \"{owner}\" in database \"{db}\" already hold their whole share of {held} executors (plrust.max_executors_per_principal), and all are busy; other owners' calls do not wait for them."
                )),
                Some("Wait for the owner's other calls to end, or ask a superuser to raise plrust.max_executors_per_principal or plrust.pool_wait_timeout.".into()),
            )
        }
        _ => raise(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES,
            message,
            Some(format!(
                "All {n} executors of the pool (plrust.max_executors) are busy."
            )),
            Some("Increase plrust.max_executors or plrust.pool_wait_timeout.".into()),
        ),
    }
}

fn names(p: Principal) -> (String, String) {
    // SAFETY: catalog lookups by oid; both return palloc'd strings or NULL.
    unsafe {
        let role = pg_sys::GetUserNameFromId(pg_sys::Oid::from(p.role), true);
        let db = pg_sys::get_database_name(pg_sys::Oid::from(p.database));
        let s = |c: *const std::ffi::c_char| {
            if c.is_null() {
                "?".to_string()
            } else {
                std::ffi::CStr::from_ptr(c).to_string_lossy().into_owned()
            }
        };
        (s(role), s(db))
    }
}

/// At backend exit (FATAL skips Rust destructors): leave the queue and give
/// back every slot still held, killing its executor, which may be in the
/// middle of a call nobody will finish.
pub fn leave_at_exit() {
    let me = my_pid();
    let shared = pool::shared();
    let _lock = PoolLock::acquire();
    for w in shared.waiters.iter() {
        if w.ticket.load(Ordering::Relaxed) != 0 && w.pid.load(Ordering::Relaxed) == me {
            let g = w.granted.swap(-1, Ordering::AcqRel);
            if g >= 0 {
                let s = pool::slot(g as usize);
                s.taken_for.store(0, Ordering::Relaxed);
                s.owner.store(0, Ordering::SeqCst);
            }
            w.ticket.store(0, Ordering::Relaxed);
            shared.waiting.fetch_sub(1, Ordering::SeqCst);
        }
    }
    for i in 0..pool::slot_count() {
        let s = pool::slot(i);
        let owner = s.owner.load(Ordering::Acquire);
        if owner == me && owner != RETIRING {
            s.kill_current();
            s.taken_for.store(0, Ordering::Relaxed);
            s.owner.store(0, Ordering::SeqCst);
        }
    }
    grant_locked();
}
