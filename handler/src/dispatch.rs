//! A backend's use of the pool: lease a slot bound to the function's
//! principal, make sure the function is loaded and the executor sealed,
//! send requests and wait for replies.
//!
//! A lease that is dropped while a request is in flight (an ERROR raised by
//! CHECK_FOR_INTERRUPTS, a protocol violation) kills its executor: a reply
//! that nobody waits for must never be read by the next call.  A backend
//! that exits holding a lease (FATAL skips Rust destructors) is cleaned up
//! by an on_shmem_exit callback.

use std::cell::Cell;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pgrx::prelude::*;
use plrust_ipc::channel::{Outcome, WaitPolicy};
use plrust_ipc::message::{op, status};
use plrust_ipc::{wire, Channel};

use crate::backend_local::BackendLocal;
use crate::errors::raise;
use crate::pool::{self, Principal, Slot, MAX_LOADED};
use crate::{catalog, function, gucs, interrupts};
use plrust_bgworker::cpu_time;

/// The backend spins this long for a reply while the executor runs, then
/// sleeps on the futex in slices, handling interrupts in between.
const CALL_POLICY: WaitPolicy = WaitPolicy {
    spin: Duration::from_micros(200),
    slice: Duration::from_millis(10),
};

pub struct Lease {
    pub index: usize,
    generation: u64,
    in_flight: bool,
    /// The CPU budget of the call in progress: one for the whole call,
    /// across its upcalls, so a body cannot reset it by logging.
    budget: Option<CpuBudget>,
}

/// The slot this backend last called into, and what it verified there: an
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

fn my_pid() -> i32 {
    // SAFETY: MyProcPid is set at process start and never changes.
    unsafe { pg_sys::MyProcPid }
}

impl Lease {
    pub fn slot(&self) -> &'static Slot {
        pool::slot(self.index)
    }

    pub fn channel(&self) -> Channel {
        pool::channel(self.index)
    }

    /// The executor is in the middle of a call, waiting for an answer to
    /// an upcall: if this lease is dropped before the call ends (an ERROR
    /// while serving the upcall), the executor must be killed.
    pub fn mid_call(&mut self) {
        self.in_flight = true;
        // From here the backend's own work (SPI, messages) passes between
        // checks of the CPU budget: take its baseline now, so that this
        // time is not counted as the executor's.
        if let Some(b) = self.budget.as_mut() {
            b.take_baseline();
        }
    }

    /// Between upcalls: serve interrupts and check the call's CPU budget.
    /// A body that makes upcalls faster than a wait slice would otherwise
    /// never reach the checks that the waits make.
    pub fn check_between_upcalls(&mut self, fn_name: &str) {
        pgrx::check_for_interrupts!();
        if let Some(limit) = self.budget.as_mut().and_then(CpuBudget::due_and_exceeded) {
            cpu_limit_exceeded(self, fn_name, limit);
        }
    }
}

/// Releases since this backend last stamped a slot's `last_used`.
static UNSTAMPED: BackendLocal<Cell<u32>> = BackendLocal::new(Cell::new(0));

impl Drop for Lease {
    fn drop(&mut self) {
        let slot = self.slot();
        if self.in_flight {
            slot.recycle();
        }
        // The LRU clock is a shared counter, and a locked increment on every
        // call costs more than the LRU needs: a slot in steady use is
        // stamped every 64th release, which keeps it far from the least
        // recently used.
        let n = UNSTAMPED.get();
        if n == 0 {
            slot.last_used.store(pool::tick(), Ordering::Relaxed);
        }
        UNSTAMPED.set((n + 1) % 64);
        slot.owner.store(0, Ordering::Release);
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn release_at_exit(_code: i32, _arg: pg_sys::Datum) {
    let me = my_pid();
    for i in 0..pool::slot_count() {
        let slot = pool::slot(i);
        if slot.owner.load(Ordering::Acquire) == me {
            slot.recycle();
            slot.owner.store(0, Ordering::Release);
        }
    }
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
        .compare_exchange(0, my_pid(), Ordering::AcqRel, Ordering::Relaxed)
        .is_ok()
}

/// Functions this backend called recently (keys, newest last): when an
/// executor is prepared and its principal has more than MAX_LOADED
/// functions, these are loaded first.  Without this, a statement that
/// alternates between functions that do not all fit could find each one
/// missing from the executor prepared for the previous one, and recycle an
/// executor on every row.
static RECENT: BackendLocal<Cell<[u64; RECENT_LEN]>> =
    BackendLocal::new(Cell::new([0; RECENT_LEN]));
const RECENT_LEN: usize = 32;

fn remember(key: u64) {
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

/// Lease a slot for `principal` that has `key` loaded, preparing one if
/// needed.  Waits up to plrust.pool_wait_timeout for a free slot.
///
/// `object` is the code for `key` when it is not in plrust.artifacts (a DO
/// block): an executor prepared for it loads that alone.
pub fn lease(principal: Principal, key: u64, fn_name: &str, object: Option<&[u8]>) -> Lease {
    // Fast path: the slot this backend used last, still as verified.
    if let Some(v) = LAST.get() {
        if v.key == key && v.principal == principal && try_take(v.index) {
            let s = pool::slot(v.index);
            let alive = s.executor_pid.load(Ordering::Acquire) != 0;
            let g = s.generation.load(Ordering::Acquire);
            if alive && g == v.generation && s.sealed_generation.load(Ordering::Acquire) == g {
                return Lease {
                    index: v.index,
                    generation: g,
                    in_flight: false,
                    budget: None,
                };
            }
            s.owner.store(0, Ordering::Release);
        }
    }
    ensure_exit_hook();
    remember(key);
    let n = pool::slot_count();

    let deadline = Instant::now() + Duration::from_millis(gucs::POOL_WAIT_TIMEOUT.get() as u64);
    // Which code a fresh executor loads: found before a slot is taken,
    // because reading the owner's definitions can wait on a lock (of a
    // composite type's table), and no slot is held while it waits.
    let mut owners_code: Option<Vec<[u8; 32]>> = None;
    loop {
        // Best: bound to this principal with the function loaded.  Then: a
        // fresh executor nobody is bound to.  Then: the least recently used
        // free slot, whose executor is recycled.
        let mut fresh = None;
        let mut lru: Option<(usize, u64)> = None;
        for i in 0..n {
            let s = pool::slot(i);
            if s.owner.load(Ordering::Relaxed) != 0 {
                continue;
            }
            if s.is_bound_to(principal) && s.has_loaded(key) {
                if try_take(i) {
                    // Re-check now that the slot is ours and cannot change.
                    if s.is_bound_to(principal) && s.has_loaded(key) {
                        let generation = s.generation.load(Ordering::Acquire);
                        LAST.set(Some(Verified {
                            index: i,
                            generation,
                            key,
                            principal,
                        }));
                        UNSTAMPED.set(0);
                        return Lease {
                            index: i,
                            generation,
                            in_flight: false,
                            budget: None,
                        };
                    }
                    s.owner.store(0, Ordering::Release);
                }
                continue;
            }
            if !s.is_bound() && s.executor_pid.load(Ordering::Acquire) != 0 && fresh.is_none() {
                fresh = Some(i);
            }
            let used = s.last_used.load(Ordering::Relaxed);
            if lru.is_none_or(|(_, u)| used < u) {
                lru = Some((i, used));
            }
        }
        let candidate = fresh.or(lru.map(|(i, _)| i));
        if let Some(i) = candidate {
            if object.is_none() && owners_code.is_none() {
                owners_code = Some(function::code_hashes_of(principal.role));
                continue;
            }
            if try_take(i) {
                let code = owners_code.as_deref().unwrap_or_default();
                let lease = prepare(i, principal, key, fn_name, object, code);
                LAST.set(Some(Verified {
                    index: i,
                    generation: lease.generation,
                    key,
                    principal,
                }));
                UNSTAMPED.set(0);
                return lease;
            }
            continue;
        }
        if Instant::now() >= deadline {
            raise(
                PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES,
                format!("no plrust executor became free within plrust.pool_wait_timeout to run function \"{fn_name}\""),
                Some(format!("All {n} executors are busy.")),
                Some("Increase plrust.workers or plrust.pool_wait_timeout.".into()),
            );
        }
        interrupts::nap();
    }
}

/// We own slot `i` but it is not ready for `principal`/`key`: get a fresh
/// executor if the current one is bound or sealed, wait until it is ready,
/// bind it, load the principal's functions (the code `owners_code` names)
/// and seal it.
fn prepare(
    i: usize,
    principal: Principal,
    key: u64,
    fn_name: &str,
    object: Option<&[u8]>,
    owners_code: &[[u8; 32]],
) -> Lease {
    // The guard exists from the start: any ERROR below (a cancel while
    // waiting, an SPI error) gives the slot back when it unwinds.
    let mut lease = Lease {
        index: i,
        generation: 0,
        in_flight: false,
        budget: None,
    };
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
        match prepare_once(&mut lease, principal, &objects, key, fn_name) {
            Ok(()) => return lease,
            Err(broken) => skip_on_load(broken),
        }
    }
    executor_failed(
        &mut lease,
        fn_name,
        "other functions of the same owner kept breaking the executors loading them",
    )
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

/// One attempt at preparing slot `lease.index`; Err(key) when loading
/// function `key` (not the one being called) broke the executor.
fn prepare_once(
    lease: &mut Lease,
    principal: Principal,
    objects: &[(u64, Vec<u8>)],
    key: u64,
    fn_name: &str,
) -> Result<(), u64> {
    let slot = lease.slot();
    // An executor that anyone has bound (even half-way) is never reused:
    // kill it and take the next one.
    let stale = if slot.is_bound() {
        let g = slot.generation.load(Ordering::Acquire);
        slot.recycle();
        Some(g)
    } else {
        None
    };
    lease.in_flight = false;
    lease.generation = wait_for_executor(slot, stale, fn_name);
    let ch = lease.channel();
    // An executor that never says it is ready must not hang the call.
    let deadline =
        Instant::now() + Duration::from_millis(gucs::POOL_WAIT_TIMEOUT.get().max(1000) as u64);
    let ready = ch.wait_ready(CALL_POLICY, || {
        check_between_slices(slot, lease.generation)?;
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
    slot.bound_generation
        .store(lease.generation, Ordering::Release);

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
            match try_request(lease, op::LOAD, *k, object) {
                Ok((status::OK, _)) => {}
                // The executor is dead or unusable: the slot is still bound
                // to it, so the next attempt recycles it.
                _ => return Err(*k),
            }
        }
        slot.loaded[loaded].store(*k, Ordering::Relaxed);
        loaded += 1;
        slot.loaded_len.store(loaded as u32, Ordering::Release);
    }
    setup_request(lease, op::SEAL, 0, &[], fn_name, "sealing");
    slot.sealed_generation
        .store(lease.generation, Ordering::Release);
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
    let (status, len) = request(lease, opcode, key, payload, fn_name);
    if status != status::OK {
        let msg = failure_message(lease, len);
        executor_failed(lease, fn_name, &format!("{what} failed: {msg}"));
    }
}

fn failure_message(lease: &Lease, len: usize) -> String {
    let mut buf = Vec::new();
    lease.channel().copy_reply(len, &mut buf);
    wire::decode_message(&buf)
}

/// Wait until the slot has a running executor of a generation other than
/// `stale`; returns its generation.  The pid is read before the generation
/// (the worker publishes them in the opposite order), so the generation
/// returned is never older than the executor seen.
fn wait_for_executor(slot: &Slot, stale: Option<u64>, fn_name: &str) -> u64 {
    let deadline =
        Instant::now() + Duration::from_millis(gucs::POOL_WAIT_TIMEOUT.get().max(1000) as u64);
    loop {
        let pid = slot.executor_pid.load(Ordering::Acquire);
        let generation = slot.generation.load(Ordering::Acquire);
        if pid != 0 && Some(generation) != stale {
            return generation;
        }
        if Instant::now() >= deadline {
            raise(
                PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES,
                format!("no plrust executor could be started to run function \"{fn_name}\""),
                Some("The pool worker did not start a new executor in time.".into()),
                Some(
                    "See the server log for why executors fail to start (plrust.toolchain_dir)."
                        .into(),
                ),
            );
        }
        interrupts::nap();
    }
}

/// Between futex slices: serve interrupts (an ERROR here unwinds and the
/// in-flight lease kills the executor) and notice a replaced executor.
fn check_between_slices(slot: &Slot, generation: u64) -> Result<(), ()> {
    if interrupts::pending() {
        pgrx::check_for_interrupts!();
    }
    if slot.generation.load(Ordering::Acquire) != generation {
        return Err(());
    }
    Ok(())
}

/// Send one request and wait for its reply: (status, reply length).  Every
/// way the executor can fail is turned into an ERROR here.
pub fn request(
    lease: &mut Lease,
    opcode: u32,
    key: u64,
    payload: &[u8],
    fn_name: &str,
) -> (u32, usize) {
    match try_request(lease, opcode, key, payload) {
        Ok(reply) => reply,
        Err(Failure::CpuLimit(limit)) => cpu_limit_exceeded(lease, fn_name, limit),
        Err(Failure::Died) => executor_died(lease, fn_name),
        Err(Failure::Invalid(why)) => executor_failed(lease, fn_name, why),
    }
}

/// How a request can fail without a reply (also why a wait stops early).
enum Failure {
    /// The call used more CPU time than plrust.call_cpu_limit.
    CpuLimit(Duration),
    /// The executor died (or was replaced) before replying.
    Died,
    /// The executor left the channel in a state the protocol does not allow.
    Invalid(&'static str),
}

/// `request` without raising: the caller decides what a failure means.
/// Interrupts are still served (an ERROR from them unwinds as usual).
fn try_request(
    lease: &mut Lease,
    opcode: u32,
    key: u64,
    payload: &[u8],
) -> Result<(u32, usize), Failure> {
    let slot = lease.slot();
    let ch = lease.channel();
    let generation = lease.generation;
    // Only calls run user code; loading is ours.
    match opcode {
        op::CALL => lease.budget = CpuBudget::for_call(slot),
        op::RESUME => {}
        _ => lease.budget = None,
    }
    lease.in_flight = true;
    ch.publish_request(opcode, key, payload);
    let budget = &mut lease.budget;
    let outcome = ch.wait_reply(CALL_POLICY, || {
        check_between_slices(slot, generation).map_err(|()| Failure::Died)?;
        match budget.as_mut().map(|b| (b.exceeded(), b.limit)) {
            Some((true, limit)) => Err(Failure::CpuLimit(limit)),
            _ => Ok(()),
        }
    });
    match outcome {
        Ok(Outcome::Reply { status, len }) => {
            lease.in_flight = false;
            Ok((status, len))
        }
        Err(stopped) => Err(stopped),
        Ok(Outcome::Dead) => Err(Failure::Died),
        // The worker may already have reset the channel for the next
        // executor when we look: that is a death, not a protocol violation.
        Ok(Outcome::Invalid(_)) if executor_gone(slot, generation) => Err(Failure::Died),
        Ok(Outcome::Invalid(why)) => Err(Failure::Invalid(why)),
    }
}

/// A call's CPU budget (`plrust.call_cpu_limit`), checked between wait
/// slices, i.e. only for calls that already took longer than a spin.
/// Reading the executor's CPU time costs a /proc read, so the first one
/// waits until the call has run for BASELINE_AFTER, counting that stretch as
/// if it were all CPU time: a call is stopped at most that much early, never
/// late.
struct CpuBudget {
    limit: Duration,
    pid: i32,
    first_check: Option<Instant>,
    /// When `due_and_exceeded` last read /proc.
    last_check: Option<Instant>,
    /// (wall time since first_check, executor CPU time) when measured.
    baseline: Option<(Duration, Duration)>,
}

const BASELINE_AFTER: Duration = Duration::from_millis(10);

impl CpuBudget {
    fn for_call(slot: &Slot) -> Option<CpuBudget> {
        let limit = gucs::CALL_CPU_LIMIT.get();
        (limit > 0).then(|| CpuBudget {
            limit: Duration::from_millis(limit as u64),
            pid: slot.executor_pid.load(Ordering::Relaxed),
            first_check: None,
            last_check: None,
            baseline: None,
        })
    }

    /// Take the baseline now if it is not taken yet.
    fn take_baseline(&mut self) {
        if self.baseline.is_none() {
            let now = Instant::now();
            let wall = now - *self.first_check.get_or_insert(now);
            self.baseline = cpu_time::of_process(self.pid).map(|cpu| (wall, cpu));
        }
    }

    /// `exceeded`, at most once per BASELINE_AFTER of wall time (each check
    /// reads /proc); the limit when it is exceeded.
    fn due_and_exceeded(&mut self) -> Option<Duration> {
        let now = Instant::now();
        if self.last_check.is_some_and(|t| now - t < BASELINE_AFTER) {
            return None;
        }
        self.last_check = Some(now);
        self.exceeded().then_some(self.limit)
    }

    fn exceeded(&mut self) -> bool {
        let now = Instant::now();
        let wall = now - *self.first_check.get_or_insert(now);
        let Some((wall0, cpu0)) = self.baseline else {
            if wall >= BASELINE_AFTER {
                self.baseline = cpu_time::of_process(self.pid).map(|cpu| (wall, cpu));
            }
            return false;
        };
        wall >= self.limit
            && cpu_time::of_process(self.pid)
                .is_some_and(|cpu| wall0 + cpu.saturating_sub(cpu0) >= self.limit)
    }
}

fn cpu_limit_exceeded(lease: &mut Lease, fn_name: &str, limit: Duration) -> ! {
    lease.in_flight = true; // dropping the lease kills the executor
    raise(
        PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        format!("plrust function \"{fn_name}\" exceeded its CPU time limit"),
        Some(format!(
            "The call used more than {} ms of CPU time (plrust.call_cpu_limit); its executor was stopped.",
            limit.as_millis()
        )),
        Some("Ask a superuser to raise plrust.call_cpu_limit for this role.".into()),
    )
}

fn executor_gone(slot: &Slot, generation: u64) -> bool {
    slot.generation.load(Ordering::Acquire) != generation
        || slot.executor_pid.load(Ordering::Acquire) == 0
}

fn executor_died(lease: &mut Lease, fn_name: &str) -> ! {
    let slot = lease.slot();
    // The worker records the exit status before it marks the channel dead.
    let raw = slot.last_exit.load(Ordering::Acquire);
    let how = if raw >= 0 {
        use std::os::unix::process::ExitStatusExt;
        plrust_bgworker::spawn::describe(std::process::ExitStatus::from_raw(raw))
    } else {
        "ended".to_string()
    };
    lease.in_flight = false;
    raise(
        PgSqlErrorCode::ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
        format!("plrust function \"{fn_name}\" failed: its executor process died"),
        Some(format!("The executor {how}.")),
        Some("The function crashed or exceeded a limit such as plrust.executor_memory_limit; the next call runs in a new executor.".into()),
    )
}

fn executor_failed(lease: &mut Lease, fn_name: &str, why: &str) -> ! {
    lease.in_flight = true; // dropping the lease kills the executor
    raise(
        PgSqlErrorCode::ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
        format!("plrust function \"{fn_name}\" failed: its executor misbehaved"),
        Some(why.to_string()),
        Some("The executor was replaced; the next call runs in a new one.".into()),
    )
}

pub fn protocol_error(lease: &mut Lease, fn_name: &str, why: &str) -> ! {
    executor_failed(lease, fn_name, why)
}
