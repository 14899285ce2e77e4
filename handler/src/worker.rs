//! The pool's background workers: one per slot, each supervising one
//! executor.
//!
//! A worker never runs user code and never dies of its executor's death: it
//! waits on its latch and on a pidfd of the executor, reaps it, logs how it
//! ended, marks the channel dead (which wakes a backend waiting on it) and
//! starts a fresh one.  It leaves only by returning from main on SIGTERM
//! (proc_exit(0)), or by proc_exit when the postmaster dies.  Dying any
//! other way would make the postmaster restart the whole cluster
//! (FINDINGS.md).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pgrx::bgworkers::{
    BackgroundWorker, BackgroundWorkerBuilder, BgWorkerStartTime, SignalWakeFlags,
};
use pgrx::prelude::*;
use plrust_bgworker::spawn::{self, ExecutorConfig, ExecutorProcess};
use std::os::fd::AsRawFd;
use std::os::unix::process::ExitStatusExt;

use crate::{gucs, pool};

pub fn register_all() {
    for i in 0..gucs::WORKERS.get() {
        BackgroundWorkerBuilder::new(&format!("plrust pool worker {i}"))
            .set_type("plrust pool worker")
            .set_library("plrust")
            .set_function("plrust_pool_worker_main")
            .set_argument(Some(pg_sys::Datum::from(i as usize)))
            .enable_shmem_access(None)
            .set_start_time(BgWorkerStartTime::PostmasterStart)
            .set_restart_time(Some(Duration::from_secs(1)))
            .load();
    }
}

/// An executor that dies this soon after starting, before it ever said it
/// was ready, is not restarted at once: a broken binary or kit must not
/// become a fork loop.
const QUICK_DEATH: Duration = Duration::from_secs(1);

#[pg_guard]
#[no_mangle]
pub extern "C-unwind" fn plrust_pool_worker_main(arg: pg_sys::Datum) {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGHUP | SignalWakeFlags::SIGTERM);
    let index = arg.value();
    let slot = pool::slot(index);
    let channel = pool::channel(index);
    let channel_fd = pool::channel_fd(index);
    let mut executor: Option<ExecutorProcess> = None;
    let mut started = Instant::now();
    let mut next_start = Instant::now();

    loop {
        if BackgroundWorker::sigterm_received() {
            if let Some(mut e) = executor.take() {
                e.kill();
            }
            slot.executor_pid.store(0, Ordering::Release);
            channel.mark_dead();
            return;
        }
        if BackgroundWorker::sighup_received() {
            // SAFETY: the documented way for a background worker to reload
            // its configuration.
            unsafe { pg_sys::ProcessConfigFile(pg_sys::GucContext::PGC_SIGHUP) };
        }
        if executor.is_none() && Instant::now() >= next_start {
            let cfg = ExecutorConfig {
                program: gucs::kit_dir().join("plrust-executor"),
            };
            channel.reset();
            match spawn::spawn(&cfg, channel_fd) {
                Ok(p) => {
                    // Generation first, then pid: a backend that sees the new
                    // pid (Acquire) is sure to see the new generation too.
                    slot.generation.fetch_add(1, Ordering::AcqRel);
                    slot.executor_pid.store(p.pid(), Ordering::Release);
                    started = Instant::now();
                    executor = Some(p);
                }
                Err(e) => {
                    pgrx::warning!(
                        "plrust: cannot start executor {}: {e}",
                        cfg.program.display()
                    );
                    next_start = Instant::now() + Duration::from_secs(5);
                }
            }
        }

        let mut events = pg_sys::WL_LATCH_SET | pg_sys::WL_TIMEOUT | pg_sys::WL_EXIT_ON_PM_DEATH;
        let mut sock: pg_sys::pgsocket = pg_sys::PGINVALID_SOCKET;
        if let Some(e) = &executor {
            events |= pg_sys::WL_SOCKET_READABLE;
            sock = e.pidfd.as_raw_fd();
        }
        // SAFETY: MyLatch is this process's latch; the pidfd stays open
        // for the duration of the wait.
        unsafe {
            pg_sys::WaitLatchOrSocket(
                pg_sys::MyLatch,
                events as i32,
                sock,
                1000,
                pg_sys::PG_WAIT_EXTENSION,
            );
            pg_sys::ResetLatch(pg_sys::MyLatch);
        }

        let Some(e) = executor.as_mut() else { continue };
        let status = match e.try_reap() {
            Ok(Some(status)) => status,
            Ok(None) => continue,
            Err(err) => {
                pgrx::warning!("plrust: cannot wait for executor {}: {err}", e.pid());
                continue;
            }
        };
        let pid = e.pid();
        executor = None;
        let recycled = slot.recycling.swap(0, Ordering::AcqRel) != 0;
        let never_ready = channel.state() == plrust_ipc::channel::STARTING;
        slot.last_exit.store(status.into_raw(), Ordering::Release);
        slot.executor_pid.store(0, Ordering::Release);
        channel.mark_dead();
        let how = spawn::describe(status);
        if recycled {
            pgrx::debug1!("plrust: executor {pid} of worker {index} {how} (recycled)");
            next_start = Instant::now();
        } else {
            pgrx::log!("plrust: executor {pid} of worker {index} {how}");
            next_start = if never_ready && started.elapsed() < QUICK_DEATH {
                Instant::now() + QUICK_DEATH
            } else {
                Instant::now()
            };
        }
    }
}
