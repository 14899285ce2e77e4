//! The executor's seccomp filter: an allowlist of what pure computation
//! needs once the code is loaded.  Any other system call kills the process
//! (SECCOMP_RET_KILL_PROCESS), which its worker reports and replaces.
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
//! | exit, exit_group | leaving |
//!
//! Not allowed, among others: read/write/open of any file (the channel is
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
//! Filters stack: once the strict one is installed, a call must pass both.
//! So no socket, process, signal or ptrace is possible at any point after
//! startup, and after SEAL only the first table remains.

use std::collections::BTreeMap;
use std::convert::TryInto;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};

fn without_prot_exec() -> Result<Vec<SeccompRule>, seccompiler::Error> {
    // Argument 2 of mmap and mprotect is `prot`.
    let cond = SeccompCondition::new(
        2,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::MaskedEq(libc::PROT_EXEC as u64),
        0,
    )?;
    Ok(vec![SeccompRule::new(vec![cond])?])
}

/// Every system call the filter allows, by name (for tests that compare a
/// trace with this list) and number.  mmap and mprotect are allowed only
/// without PROT_EXEC (see `program`).
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
    ("rt_sigreturn", libc::SYS_rt_sigreturn),
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

fn compile(rules: BTreeMap<i64, Vec<SeccompRule>>) -> Result<BpfProgram, seccompiler::Error> {
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::KillProcess,
        SeccompAction::Allow,
        std::env::consts::ARCH.try_into()?,
    )?;
    filter.try_into().map_err(seccompiler::Error::Backend)
}

/// The loading filter, compiled to BPF.
pub fn loading_program() -> Result<BpfProgram, seccompiler::Error> {
    let rules = ALLOWED
        .iter()
        .chain(LOADING_EXTRA)
        .map(|&(_, nr)| (nr, vec![]))
        .collect();
    compile(rules)
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
    compile(rules)
}

/// Install the filter on this (single-threaded) process.  seccompiler sets
/// no_new_privs first, as the kernel requires.
pub fn install() -> Result<(), seccompiler::Error> {
    let prog = program()?;
    seccompiler::apply_filter(&prog)
}

#[cfg(test)]
mod tests {
    #[test]
    fn filters_compile() {
        assert!(!super::program().unwrap().is_empty());
        assert!(!super::loading_program().unwrap().is_empty());
    }
}
