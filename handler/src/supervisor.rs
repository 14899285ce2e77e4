//! The pool's supervisor: one background worker that starts, kills, reaps
//! and retires every executor.
//!
//! Executors are its children (fork+exec, spawn.rs), not the postmaster's,
//! so the number of PostgreSQL background workers does not limit them.  It
//! never runs user code and never dies of an executor's death: it waits on
//! its latch, which backends set when they want an executor started or
//! killed and which a SIGCHLD handler sets when an executor exits.  It
//! leaves only by returning from main on SIGTERM (proc_exit(0)), or by
//! proc_exit when the postmaster dies: dying any other way would make the
//! postmaster restart the whole cluster (FINDINGS.md).
//!
//! Only the supervisor signals executors, and only through their pidfds:
//! a pidfd names one process even after it exits, and as the parent that
//! reaps it the supervisor knows the process has not been reaped yet.  A
//! backend that wants an executor gone sets the slot's `kill_generation`.
//!
//! Per slot, each round:
//! - reap a dead executor: record its exit, zero the pid, mark the channel
//!   dead (which wakes a backend waiting on it);
//! - kill the executor whose generation a backend asked to kill;
//! - retire a bound executor idle for plrust.executor_idle_timeout;
//! - start an executor in an empty slot that a backend holds, and keep
//!   SPARES fresh ones started ahead of need.

use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pgrx::bgworkers::{
    BackgroundWorker, BackgroundWorkerBuilder, BgWorkerStartTime, SignalWakeFlags,
};
use pgrx::prelude::*;
use plrust_bgworker::spawn::{self, ExecutorConfig, ExecutorProcess};

use crate::pool::{self, RETIRING};
use crate::{gucs, queue};

/// Fresh executors kept started ahead of need, so that a first call does
/// not wait for a process to start.
const SPARES: usize = 2;

/// An executor that dies this soon after starting, before it ever said it
/// was ready, is not restarted at once: a broken binary or kit must not
/// become a fork loop.
const QUICK_DEATH: Duration = Duration::from_secs(1);

pub fn register() {
    BackgroundWorkerBuilder::new("plrust pool supervisor")
        .set_type("plrust pool supervisor")
        .set_library("plrust")
        .set_function("plrust_pool_supervisor_main")
        .enable_shmem_access(None)
        .enable_spi_access()
        // The earliest a worker with a (database-less) connection may
        // start; calls on a standby cannot come before it either.
        .set_start_time(BgWorkerStartTime::ConsistentState)
        .set_restart_time(Some(Duration::from_secs(1)))
        .load();
}

struct Running {
    process: ExecutorProcess,
    started: Instant,
    signalled: bool,
}

extern "C" fn on_sigchld(_signo: libc::c_int) {
    // SAFETY: SetLatch is async-signal-safe (PostgreSQL's own handlers use
    // it); MyLatch is set before the handler is installed.  errno is
    // restored for the interrupted code.
    unsafe {
        let saved = *libc::__errno_location();
        pg_sys::SetLatch(pg_sys::MyLatch);
        *libc::__errno_location() = saved;
    }
}

fn install_sigchld() {
    // SAFETY: a plain sigaction with a handler that only sets our latch.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigchld as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = libc::SA_RESTART | libc::SA_NOCLDSTOP;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGCHLD, &sa, std::ptr::null_mut());
    }
}

#[pg_guard]
#[no_mangle]
pub extern "C-unwind" fn plrust_pool_supervisor_main(_arg: pg_sys::Datum) {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP | SignalWakeFlags::SIGTERM);
    // Connected to no database, as PostgreSQL's own launchers are: that is
    // what makes it a row of pg_stat_activity, where a DBA looks for it.
    BackgroundWorker::connect_worker_to_spi(None, None);
    install_sigchld();
    let n = pool::slot_count();
    let shared = pool::shared();
    // A previous supervisor's executors died with it (PR_SET_PDEATHSIG):
    // whatever the slots say about them is stale.
    for i in 0..n {
        forget_executor(i, None);
    }
    // SAFETY: MyLatch points at this process's PGPROC latch, in shared
    // memory for the life of the cluster.
    shared
        .supervisor_latch
        .store(unsafe { pg_sys::MyLatch } as usize, Ordering::Release);
    let mut running: Vec<Option<Running>> = (0..n).map(|_| None).collect();
    let mut next_start = vec![Instant::now(); n];

    loop {
        if BackgroundWorker::sigterm_received() {
            shared.supervisor_latch.store(0, Ordering::Release);
            for (i, r) in running.iter_mut().enumerate() {
                if let Some(mut r) = r.take() {
                    r.process.kill();
                    forget_executor(i, None);
                }
            }
            return;
        }
        if BackgroundWorker::sighup_received() {
            // SAFETY: the documented way for a background worker to reload
            // its configuration.
            unsafe { pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP) };
        }
        let now = Instant::now();
        let now_ms = pool::now_ms();
        let idle_timeout = gucs::EXECUTOR_IDLE_TIMEOUT.get().max(100) as u64;
        let mut freed = false;
        let mut wake_in = Duration::from_secs(1);
        for i in 0..n {
            let slot = pool::slot(i);
            if let Some(r) = running[i].as_mut() {
                match r.process.try_reap() {
                    Ok(Some(status)) => {
                        let r = running[i].take().expect("checked above");
                        let quick = r.started.elapsed() < QUICK_DEATH;
                        let never_ready = pool::channel(i).state() == plrust_ipc::channel::STARTING;
                        let on_purpose = forget_executor(i, Some(status));
                        let how = spawn::describe(status);
                        let pid = r.process.pid();
                        if on_purpose {
                            pgrx::debug1!("plrust: executor {pid} in slot {i} {how} (replaced)");
                        } else {
                            pgrx::log!("plrust: executor {pid} in slot {i} {how}");
                            if never_ready && quick {
                                next_start[i] = now + QUICK_DEATH;
                                wake_in = wake_in.min(QUICK_DEATH);
                            }
                        }
                        if slot
                            .owner
                            .compare_exchange(RETIRING, 0, Ordering::AcqRel, Ordering::Relaxed)
                            .is_ok()
                        {
                            pgrx::debug1!("plrust: retired the idle executor of slot {i}");
                        }
                        freed = true;
                    }
                    Ok(None) => {}
                    Err(err) => {
                        pgrx::warning!(
                            "plrust: cannot wait for executor {}: {err}",
                            r.process.pid()
                        )
                    }
                }
            }
            let Some(r) = running[i].as_mut() else {
                continue;
            };
            let g = slot.generation.load(Ordering::Acquire);
            if !r.signalled && slot.kill_generation.load(Ordering::Acquire) == g {
                signal(r, i);
                continue;
            }
            // Retire a bound, unheld executor that sat idle long enough.
            if !r.signalled && slot.is_bound() && slot.owner.load(Ordering::Acquire) == 0 {
                let idle = now_ms.saturating_sub(slot.last_used.load(Ordering::Relaxed));
                if idle >= idle_timeout {
                    if slot
                        .owner
                        .compare_exchange(0, RETIRING, Ordering::AcqRel, Ordering::Relaxed)
                        .is_ok()
                    {
                        slot.sealed_generation.store(0, Ordering::Release);
                        slot.kill_generation.store(g, Ordering::Release);
                        signal(r, i);
                    }
                } else {
                    wake_in = wake_in.min(Duration::from_millis(idle_timeout - idle));
                }
            }
        }
        // Start executors: where a backend waits for one, then spares.
        let mut spares = (0..n)
            .filter(|&i| {
                let s = pool::slot(i);
                running[i].as_ref().is_some_and(|r| !r.signalled)
                    && !s.is_bound()
                    && s.owner.load(Ordering::Acquire) == 0
            })
            .count();
        for i in 0..n {
            if running[i].is_some() {
                continue;
            }
            if now < next_start[i] {
                wake_in = wake_in.min(next_start[i] - now);
                continue;
            }
            let owner = pool::slot(i).owner.load(Ordering::Acquire);
            let wanted = owner > 0;
            if !wanted && (owner != 0 || spares >= SPARES) {
                continue;
            }
            match start(i) {
                Some(r) => {
                    running[i] = Some(r);
                    if !wanted {
                        spares += 1;
                        freed = true;
                    }
                }
                None => next_start[i] = now + Duration::from_secs(5),
            }
        }
        if freed && shared.waiting.load(Ordering::SeqCst) > 0 {
            let _lock = pool::PoolLock::acquire();
            queue::grant_locked();
        }

        let events = pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH;
        // SAFETY: MyLatch is this process's latch.
        unsafe {
            pg_sys::WaitLatch(
                pg_sys::MyLatch,
                events as i32,
                wake_in.as_millis().clamp(10, 1000) as libc::c_long,
                pg_sys::PG_WAIT_EXTENSION,
            );
            pg_sys::ResetLatch(pg_sys::MyLatch);
        }
        // Connected, the supervisor is one of the processes that DROP
        // DATABASE and other ProcSignalBarriers wait for: absorb them.
        pgrx::check_for_interrupts!();
    }
}

fn signal(r: &mut Running, i: usize) {
    r.signalled = true;
    if let Err(e) = r.process.signal_kill() {
        pgrx::warning!(
            "plrust: cannot kill executor {} in slot {i}: {e}",
            r.process.pid()
        );
    }
}

/// Start an executor in slot `i`.
fn start(i: usize) -> Option<Running> {
    let slot = pool::slot(i);
    let channel = pool::channel(i);
    let cfg = ExecutorConfig {
        program: gucs::kit_dir().join("plrust-executor"),
    };
    // The new generation before anything of the new executor exists: a
    // backend that still talks to the previous one and then sees the
    // generation unchanged knows that the channel was not reset under it
    // and that no reply came from the new executor.  And before the pid:
    // a backend that sees the new pid (Acquire) sees the new generation.
    slot.generation.fetch_add(1, Ordering::AcqRel);
    channel.reset();
    match spawn::spawn(&cfg, pool::channel_fd(i)) {
        Ok(p) => {
            slot.executor_pid.store(p.pid(), Ordering::Release);
            Some(Running {
                process: p,
                started: Instant::now(),
                signalled: false,
            })
        }
        Err(e) => {
            pgrx::warning!(
                "plrust: cannot start executor {}: {e}",
                cfg.program.display()
            );
            None
        }
    }
}

/// The executor of slot `i` is gone: say so to whoever waits on it.
/// Returns whether its death was asked for (a kill or a retirement).
fn forget_executor(i: usize, status: Option<std::process::ExitStatus>) -> bool {
    let slot = pool::slot(i);
    let g = slot.generation.load(Ordering::Acquire);
    let on_purpose = g != 0 && slot.kill_generation.load(Ordering::Acquire) == g;
    if let Some(s) = status {
        slot.last_exit.store(s.into_raw(), Ordering::Release);
    }
    slot.sealed_generation.store(0, Ordering::Release);
    slot.executor_pid.store(0, Ordering::Release);
    pool::channel(i).mark_dead();
    on_purpose
}
