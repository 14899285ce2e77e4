//! The executor's seccomp filters: allowlists of what pure computation
//! needs.  Any other system call kills the process
//! (SECCOMP_RET_KILL_PROCESS), which its worker reports and replaces.
//!
//! After SEAL (`install`), the strict allowlist:
//!
//! | syscall | why the executor needs it |
//! |---|---|
//! | futex | waiting on and waking the channel; std's Once/Mutex |
//! | mmap, mprotect (never with PROT_EXEC) | the allocator's large blocks and arenas |
//! | munmap, mremap, brk, madvise | the allocator giving memory back or growing |
//! | clock_gettime, gettimeofday | bounding spins with Instant::now (vDSO fallback) |
//! | getrandom | seeding HashMap's RandomState |
//! | sched_yield | std's spin loops |
//! | rt_sigreturn | returning from std's stack-overflow handler |
//! | restart_syscall | the kernel resumes a futex wait that a stop signal interrupted (SIGSTOP/SIGCONT, a debugger detaching, a cgroup freeze): without it, stopping a sealed executor would kill it |
//! | rt_sigaction, rt_sigprocmask, getpid, gettid | abort() and std's SIGSEGV handler resetting a handler and raising a signal, so that a crash is reported as SIGABRT or SIGSEGV rather than as a forbidden system call |
//! | tgkill, only to this process | the same raise(); no other process can be signalled |
//! | exit, exit_group | leaving |
//! | write: fails with EBADF | std's panic and stack-overflow messages: there is nothing to write to, and killing the process for trying would hide the real cause of death (a second filter returns the error) |
//!
//! Not allowed, among others: read or open of any file (the channel is
//! shared memory), socket, fork/clone/exec, kill, ptrace, prctl, and
//! executable mappings (no new code after SEAL).
//!
//! Loading happens before SEAL, under a looser filter installed as soon as
//! the executor starts (`install_loading`).  It allows the above, mmap and
//! mprotect with any protection, and what loading needs besides:
//!
//! | syscall | why loading needs it |
//! |---|---|
//! | memfd_create, write | a function's code is written to a memfd |
//! | openat | dlopen opens that memfd through /proc/self/fd (Landlock admits no path, see landlock.rs) |
//! | read, pread64, newfstatat, fstat, lseek | dlopen reading the object's headers |
//! | close | closing the memfds at SEAL |
//! | prlimit64 | LIMITS and SEAL set rlimits |
//! | prctl, seccomp | installing the strict filter (seccompiler sets no_new_privs again first) |
//!
//! Filters stack: once the strict ones are installed, a call must pass all,
//! and the strictest answer wins.  So no socket, process, foreign signal or
//! ptrace is possible at any point after startup, and after SEAL only the
//! first table remains.

use std::collections::BTreeMap;
use std::convert::TryInto;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};

/// Every system call the strict filter allows, by name (for tests that
/// compare a trace with this list) and number.  mmap and mprotect are
/// allowed only without PROT_EXEC, tgkill only towards this process,
/// sched_setaffinity only on itself, and write only to fail (see
/// `program`).
pub const ALLOWED: &[(&str, i64)] = &[
    ("futex", libc::SYS_futex),
    ("mmap", libc::SYS_mmap),
    ("mprotect", libc::SYS_mprotect),
    ("munmap", libc::SYS_munmap),
    ("mremap", libc::SYS_mremap),
    ("brk", libc::SYS_brk),
    ("madvise", libc::SYS_madvise),
    ("clock_gettime", libc::SYS_clock_gettime),
    ("gettimeofday", libc::SYS_gettimeofday),
    ("getrandom", libc::SYS_getrandom),
    ("sched_yield", libc::SYS_sched_yield),
    ("sched_setaffinity", libc::SYS_sched_setaffinity),
    ("rt_sigreturn", libc::SYS_rt_sigreturn),
    ("restart_syscall", libc::SYS_restart_syscall),
    ("rt_sigaction", libc::SYS_rt_sigaction),
    ("rt_sigprocmask", libc::SYS_rt_sigprocmask),
    ("getpid", libc::SYS_getpid),
    ("gettid", libc::SYS_gettid),
    ("tgkill", libc::SYS_tgkill),
    ("write", libc::SYS_write),
    ("exit", libc::SYS_exit),
    ("exit_group", libc::SYS_exit_group),
];

/// What the loading filter allows besides ALLOWED (see the table above).
pub const LOADING_EXTRA: &[(&str, i64)] = &[
    ("memfd_create", libc::SYS_memfd_create),
    ("write", libc::SYS_write),
    ("openat", libc::SYS_openat),
    ("read", libc::SYS_read),
    ("pread64", libc::SYS_pread64),
    ("newfstatat", libc::SYS_newfstatat),
    ("fstat", libc::SYS_fstat),
    ("lseek", libc::SYS_lseek),
    ("close", libc::SYS_close),
    ("prlimit64", libc::SYS_prlimit64),
    ("prctl", libc::SYS_prctl),
    ("seccomp", libc::SYS_seccomp),
];

fn rule(arg: u8, op: SeccompCmpOp, value: u64) -> Result<Vec<SeccompRule>, seccompiler::Error> {
    let cond = SeccompCondition::new(arg, SeccompCmpArgLen::Dword, op, value)?;
    Ok(vec![SeccompRule::new(vec![cond])?])
}

/// mmap and mprotect: argument 2 is `prot`.
fn without_prot_exec() -> Result<Vec<SeccompRule>, seccompiler::Error> {
    rule(2, SeccompCmpOp::MaskedEq(libc::PROT_EXEC as u64), 0)
}

/// sched_setaffinity(pid, ...): only pid 0, this thread (affinity.rs).
fn on_itself() -> Result<Vec<SeccompRule>, seccompiler::Error> {
    rule(0, SeccompCmpOp::Eq, 0)
}

/// tgkill(tgid, tid, sig): only this process's own threads.
fn to_this_process() -> Result<Vec<SeccompRule>, seccompiler::Error> {
    rule(0, SeccompCmpOp::Eq, std::process::id() as u64)
}

fn compile(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    mismatch: SeccompAction,
    matched: SeccompAction,
) -> Result<BpfProgram, seccompiler::Error> {
    let filter = SeccompFilter::new(rules, mismatch, matched, std::env::consts::ARCH.try_into()?)?;
    filter.try_into().map_err(seccompiler::Error::Backend)
}

/// The loading filter, compiled to BPF.
pub fn loading_program() -> Result<BpfProgram, seccompiler::Error> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = ALLOWED
        .iter()
        .chain(LOADING_EXTRA)
        .map(|&(_, nr)| (nr, vec![]))
        .collect();
    rules.insert(libc::SYS_tgkill, to_this_process()?);
    rules.insert(libc::SYS_sched_setaffinity, on_itself()?);
    compile(rules, SeccompAction::KillProcess, SeccompAction::Allow)
}

/// Install the loading filter, at startup.
pub fn install_loading() -> Result<(), seccompiler::Error> {
    seccompiler::apply_filter(&loading_program()?)
}

/// The strict filter, compiled to BPF.
pub fn program() -> Result<BpfProgram, seccompiler::Error> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for &(_, nr) in ALLOWED {
        rules.insert(nr, vec![]);
    }
    rules.insert(libc::SYS_mmap, without_prot_exec()?);
    rules.insert(libc::SYS_mprotect, without_prot_exec()?);
    rules.insert(libc::SYS_tgkill, to_this_process()?);
    rules.insert(libc::SYS_sched_setaffinity, on_itself()?);
    compile(rules, SeccompAction::KillProcess, SeccompAction::Allow)
}

/// The filter that makes `write` fail instead of succeeding: stacked on the
/// strict one, which allows it.
pub fn write_fails_program() -> Result<BpfProgram, seccompiler::Error> {
    let rules = BTreeMap::from([(libc::SYS_write, vec![])]);
    compile(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EBADF as u32),
    )
}

/// Install the strict filters on this (single-threaded) process.
/// seccompiler sets no_new_privs first, as the kernel requires.
pub fn install() -> Result<(), seccompiler::Error> {
    let strict = program()?;
    let write_fails = write_fails_program()?;
    seccompiler::apply_filter(&write_fails)?;
    seccompiler::apply_filter(&strict)
}

#[cfg(test)]
mod tests {
    #[test]
    fn filters_compile() {
        assert!(!super::program().unwrap().is_empty());
        assert!(!super::loading_program().unwrap().is_empty());
        assert!(!super::write_fails_program().unwrap().is_empty());
    }
}
