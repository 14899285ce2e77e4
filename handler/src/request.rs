//! One request to a leased executor and the wait for its reply, and every
//! way that can fail turned into an ERROR.
//!
//! A wait spins only as long as the lease's spin budget allows (spin.rs),
//! then sleeps on the channel's futex in slices; between slices it serves
//! interrupts (an ERROR there unwinds, and the lease, in flight, has its
//! executor killed), notices an executor that died or was replaced, and
//! checks the call's CPU budget.

use std::sync::atomic::Ordering;
use std::time::Duration;

use pgrx::prelude::*;
use plrust_bgworker::cpu_budget::CpuBudget;
use plrust_bgworker::cpu_time;
use plrust_ipc::channel::{Advice, Outcome, WaitPolicy};
use plrust_ipc::message::op;
use plrust_ipc::wire;

use crate::errors::raise;
use crate::lease::{Lease, LeaseState};
use crate::pool::Slot;
use crate::{gucs, interrupts};

/// How long one futex sleep lasts before the checks run again.
const SLICE: Duration = Duration::from_millis(10);

/// How a request can fail without a reply (also why a wait stops early).
pub enum Failure {
    /// The call used more CPU time than plrust.call_cpu_limit.
    CpuLimit(Duration),
    /// The executor died (or was replaced) before replying.
    Died,
    /// The executor left the channel in a state the protocol does not allow.
    Invalid(&'static str),
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

fn budget_for_call(slot: &Slot) -> Option<CpuBudget> {
    let limit = gucs::CALL_CPU_LIMIT.get();
    (limit > 0).then(|| {
        CpuBudget::new(
            Duration::from_millis(limit as u64),
            slot.executor_pid.load(Ordering::Relaxed),
            cpu_time::of_process,
        )
    })
}

/// The CPU this backend runs on now (vDSO; no system call).
fn this_cpu() -> Option<u16> {
    // SAFETY: sched_getcpu takes no arguments and only reads.
    let cpu = unsafe { libc::sched_getcpu() };
    u16::try_from(cpu).ok()
}

/// `request` without raising: the caller decides what a failure means.
/// Interrupts are still served (an ERROR from them unwinds as usual).
pub fn try_request(
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
        op::CALL => lease.budget = budget_for_call(slot),
        op::RESUME => {}
        _ => lease.budget = None,
    }
    // An executor that is to be killed, or already replaced, gets nothing:
    // a request to the next executor in the slot would be answered by a
    // process that never saw the call (a RESUME it cannot place).
    if lease.condemned() {
        return Err(Failure::Died);
    }
    lease.state = LeaseState::Requested;
    ch.advise_executor(Advice {
        spin: lease.spin.executor,
        cpu: lease.spin.colocate().then(this_cpu).flatten(),
    });
    ch.publish_request(opcode, key, payload);
    let policy = WaitPolicy {
        spin: lease.spin.backend,
        yield_for: lease.spin.backend_yield,
        slice: SLICE,
    };
    let budget = &mut lease.budget;
    let outcome = ch.wait_reply(policy, || {
        check_between_slices(slot, generation).map_err(|()| Failure::Died)?;
        match budget.as_mut().map(|b| (b.exceeded(), b.limit)) {
            Some((true, limit)) => Err(Failure::CpuLimit(limit)),
            _ => Ok(()),
        }
    });
    // The check above and the publication are not atomic: if the executor
    // was replaced in between, whatever replied is not the one asked.
    if slot.generation.load(Ordering::Acquire) != generation {
        return Err(Failure::Died);
    }
    match outcome {
        Ok(Outcome::Reply { status, len }) => {
            lease.state = LeaseState::Idle;
            Ok((status, len))
        }
        Err(stopped) => Err(stopped),
        Ok(Outcome::Dead) => Err(Failure::Died),
        // The supervisor may already have reset the channel for the next
        // executor when we look: that is a death, not a protocol violation.
        Ok(Outcome::Invalid(_)) if executor_gone(slot, generation) => Err(Failure::Died),
        Ok(Outcome::Invalid(why)) => Err(Failure::Invalid(why)),
    }
}

/// Between futex slices: serve interrupts (an ERROR here unwinds and the
/// in-flight lease has its executor killed) and notice a replaced executor.
pub fn check_between_slices(slot: &Slot, generation: u64) -> Result<(), ()> {
    if interrupts::pending() {
        pgrx::check_for_interrupts!();
    }
    if slot.generation.load(Ordering::Acquire) != generation {
        return Err(());
    }
    Ok(())
}

fn executor_gone(slot: &Slot, generation: u64) -> bool {
    slot.generation.load(Ordering::Acquire) != generation
        || slot.executor_pid.load(Ordering::Acquire) == 0
}

pub fn failure_message(lease: &Lease, len: usize) -> String {
    let mut buf = Vec::new();
    lease.channel().copy_reply(len, &mut buf);
    wire::decode_message(&buf)
}

pub fn cpu_limit_exceeded(lease: &mut Lease, fn_name: &str, limit: Duration) -> ! {
    lease.state = LeaseState::Broken;
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

pub fn executor_died(lease: &mut Lease, fn_name: &str) -> ! {
    let slot = lease.slot();
    // The supervisor records the exit status before it marks the channel
    // dead.
    let raw = slot.last_exit.load(Ordering::Acquire);
    let how = if raw >= 0 {
        use std::os::unix::process::ExitStatusExt;
        plrust_bgworker::spawn::describe(std::process::ExitStatus::from_raw(raw))
    } else {
        "ended".to_string()
    };
    lease.state = LeaseState::Broken;
    raise(
        PgSqlErrorCode::ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
        format!("plrust function \"{fn_name}\" failed: its executor process died"),
        Some(format!("The executor {how}.")),
        Some("The function crashed or exceeded a limit such as plrust.executor_memory_limit; the next call runs in a new executor.".into()),
    )
}

pub fn executor_failed(lease: &mut Lease, fn_name: &str, why: &str) -> ! {
    lease.state = LeaseState::Broken;
    raise(
        PgSqlErrorCode::ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
        format!("plrust function \"{fn_name}\" failed: its executor misbehaved"),
        Some(why.to_string()),
        Some("The executor was replaced; the next call runs in a new one.".into()),
    )
}
