//! Readying a leased slot for a principal: get a fresh executor (the
//! supervisor starts one, or replaces the one bound to someone else), bind
//! it, send its limits, load the principal's functions and seal it.
//!
//! An executor that anyone has bound, even half-way, is never reused for
//! another binding: it is killed and the next one taken.

use std::cell::Cell;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pgrx::prelude::*;
use plrust_ipc::channel::{Outcome, WaitPolicy};
use plrust_ipc::message::{op, status};
use plrust_ipc::wire;

use crate::backend_local::BackendLocal;
use crate::errors::raise;
use crate::lease::Lease;
use crate::pool::{self, Principal, Slot, MAX_LOADED};
use crate::request::{self, check_between_slices, executor_failed, failure_message};
use crate::{catalog, gucs, interrupts};

/// Functions this backend called recently (keys, newest last): when an
/// executor is prepared and its principal has more than MAX_LOADED
/// functions, these are loaded first.  Without this, a statement that
/// alternates between functions that do not all fit could find each one
/// missing from the executor prepared for the previous one, and replace an
/// executor on every row.
static RECENT: BackendLocal<Cell<[u64; RECENT_LEN]>> =
    BackendLocal::new(Cell::new([0; RECENT_LEN]));
const RECENT_LEN: usize = 32;

pub fn remember(key: u64) {
    let mut recent = RECENT.get();
    if recent[RECENT_LEN - 1] == key {
        return;
    }
    match recent.iter().position(|&k| k == key) {
        Some(i) => recent[i..].rotate_left(1),
        None => recent.rotate_left(1),
    }
    recent[RECENT_LEN - 1] = key;
    RECENT.set(recent);
}

/// Load order: the function being called, then the recently called ones
/// (newest first), then the rest.
fn load_rank(k: u64, called: u64) -> usize {
    if k == called {
        return 0;
    }
    let recent = RECENT.get();
    match recent.iter().rposition(|&r| r == k && r != 0) {
        Some(i) => RECENT_LEN - i,
        None => RECENT_LEN + 1,
    }
}

const MAX_LOAD_RETRIES: usize = 4;

/// Functions (keys) that broke an executor loading them, in this backend:
/// not loaded again except to be called themselves.
static SKIP_ON_LOAD: BackendLocal<Cell<[u64; 8]>> = BackendLocal::new(Cell::new([0; 8]));

fn skip_on_load(key: u64) {
    let mut keys = SKIP_ON_LOAD.get();
    keys.rotate_left(1);
    keys[keys.len() - 1] = key;
    SKIP_ON_LOAD.set(keys);
}

fn skipped_on_load(key: u64) -> bool {
    key != 0 && SKIP_ON_LOAD.get().contains(&key)
}

/// Setting up waits for the executor; it does not run user code, so the
/// usual spin is fine.
const SETUP_POLICY: WaitPolicy = WaitPolicy {
    spin: Duration::from_micros(200),
    yield_for: Duration::ZERO,
    slice: Duration::from_millis(10),
};

/// The lease holds its slot but the slot is not ready for `principal`/`key`:
/// ready it, loading the code `owners_code` names (or `object` alone, for a
/// DO block).
pub fn prepare(
    lease: &mut Lease,
    principal: Principal,
    key: u64,
    fn_name: &str,
    object: Option<&[u8]>,
    owners_code: &[[u8; 32]],
) {
    // The owner's compiled functions, read once for all attempts, the
    // called one first so it is loaded even past MAX_LOADED.
    let mut objects = match object {
        Some(o) => vec![(key, o.to_vec())],
        None => catalog::objects(owners_code),
    };
    objects.sort_by_key(|(k, _)| load_rank(*k, key));
    // Another function of the owner that breaks the executor loading it
    // (its load-time code crashes, say) must not take this call down: it is
    // left out, and a fresh executor loads the rest.  A few tries at most,
    // each costing one executor.
    for _ in 0..MAX_LOAD_RETRIES {
        match prepare_once(lease, principal, &objects, key, fn_name) {
            Ok(()) => return,
            Err(broken) => skip_on_load(broken),
        }
    }
    executor_failed(
        lease,
        fn_name,
        "other functions of the same owner kept breaking the executors loading them",
    )
}

/// One attempt; Err(key) when loading function `key` (not the one being
/// called) broke the executor.
fn prepare_once(
    lease: &mut Lease,
    principal: Principal,
    objects: &[(u64, Vec<u8>)],
    key: u64,
    fn_name: &str,
) -> Result<(), u64> {
    let slot = lease.slot();
    let g = slot.generation.load(Ordering::Acquire);
    let alive = slot.executor_pid.load(Ordering::Acquire) != 0;
    let dying = slot.kill_generation.load(Ordering::Acquire) == g;
    let stale = if alive && (slot.is_bound() || dying) {
        slot.kill(g);
        Some(g)
    } else {
        None
    };
    lease.state = crate::lease::LeaseState::Idle;
    let generation = wait_for_executor(slot, stale, fn_name);
    lease.set_generation(generation);
    let ch = lease.channel();
    // An executor that never says it is ready must not hang the call.
    let deadline =
        Instant::now() + Duration::from_millis(gucs::POOL_WAIT_TIMEOUT.get().max(1000) as u64);
    let ready = ch.wait_ready(SETUP_POLICY, || {
        check_between_slices(slot, generation)?;
        if Instant::now() > deadline {
            Err(())
        } else {
            Ok(())
        }
    });
    match ready {
        Ok(Outcome::Reply { .. }) => {}
        _ => executor_failed(lease, fn_name, "it did not become ready"),
    }

    slot.loaded_len.store(0, Ordering::Release);
    slot.bound_database
        .store(principal.database, Ordering::Relaxed);
    slot.bound_role.store(principal.role, Ordering::Relaxed);
    slot.bound_memory_mb
        .store(principal.memory_mb, Ordering::Relaxed);
    slot.bound_generation.store(generation, Ordering::Release);

    // The limits come first: the executor refuses to seal without them.
    let limits = plrust_ipc::message::Limits {
        address_space: u64::from(principal.memory_mb) << 20,
    };
    let mut buf = [0u8; 64];
    let n = wire::encode_into(&limits, &mut buf).expect("Limits fit in 64 bytes");
    setup_request(lease, op::LIMITS, 0, &buf[..n], fn_name, "setting limits");

    let mut loaded = 0usize;
    let candidates = objects
        .iter()
        .filter(|(k, o)| {
            o.len() <= plrust_ipc::limits::REQUEST_AREA && (*k == key || !skipped_on_load(*k))
        })
        .take(MAX_LOADED);
    for (k, object) in candidates {
        if *k == key {
            setup_request(lease, op::LOAD, *k, object, fn_name, "loading the function");
        } else {
            match request::try_request(lease, op::LOAD, *k, object) {
                Ok((status::OK, _)) => {}
                // The executor is dead or unusable: the slot is still bound
                // to it, so the next attempt replaces it.
                _ => return Err(*k),
            }
        }
        slot.loaded[loaded].store(*k, Ordering::Relaxed);
        loaded += 1;
        slot.loaded_len.store(loaded as u32, Ordering::Release);
    }
    setup_request(lease, op::SEAL, 0, &[], fn_name, "sealing");
    slot.sealed_generation.store(generation, Ordering::Release);
    if !slot.has_loaded(key) {
        // function::get saw the code stored; it went since (a concurrent
        // replace or recompile).  The same error as there, so a caller sees
        // one error for one cause.
        raise(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("plrust function \"{fn_name}\" has no compiled code"),
            Some(
                "Its stored code was removed by a concurrent CREATE OR REPLACE or recompile."
                    .into(),
            ),
            Some("A superuser can run SELECT plrust.recompile() for every function.".into()),
        );
    }
    Ok(())
}

/// A request of the executor's set-up (LIMITS, LOAD, SEAL): any failure
/// means the executor cannot be used, so it is replaced and the call fails.
fn setup_request(
    lease: &mut Lease,
    opcode: u32,
    key: u64,
    payload: &[u8],
    fn_name: &str,
    what: &str,
) {
    let (status, len) = request::request(lease, opcode, key, payload, fn_name);
    if status != status::OK {
        let msg = failure_message(lease, len);
        executor_failed(lease, fn_name, &format!("{what} failed: {msg}"));
    }
}

/// Wait until the slot has a running executor of a generation other than
/// `stale`; returns its generation.  The pid is read before the generation
/// (the supervisor publishes them in the opposite order), so the generation
/// returned is never older than the executor seen.
fn wait_for_executor(slot: &Slot, stale: Option<u64>, fn_name: &str) -> u64 {
    let deadline =
        Instant::now() + Duration::from_millis(gucs::POOL_WAIT_TIMEOUT.get().max(1000) as u64);
    let mut asked = false;
    loop {
        let pid = slot.executor_pid.load(Ordering::Acquire);
        let generation = slot.generation.load(Ordering::Acquire);
        if pid != 0 && Some(generation) != stale {
            return generation;
        }
        if !asked {
            // The supervisor starts an executor in an empty slot that a
            // backend holds.
            pool::wake_supervisor();
            asked = true;
        }
        if Instant::now() >= deadline {
            raise(
                PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES,
                format!("no plrust executor could be started to run function \"{fn_name}\""),
                Some("The pool's supervisor did not start a new executor in time.".into()),
                Some(
                    "See the server log for why executors fail to start (plrust.toolchain_dir)."
                        .into(),
                ),
            );
        }
        interrupts::nap();
    }
}
