//! Resource limits, in three steps, each before anything that needs it:
//!
//! 1. at start (`at_start`): no core dumps, no new processes, bounded files
//!    and descriptors, and an address-space cap for the loading phase whose
//!    hard limit stays open, so that binding can set any value;
//! 2. when bound (`bind`): the principal's address-space limit
//!    (`plrust.executor_memory_limit` of the binding session), soft = hard,
//!    so nothing can raise it again;
//! 3. when sealed (`seal`), just before seccomp: no descriptor may be opened
//!    and no byte written to a file, ever again.
//!
//! There is no RLIMIT_CPU: it counts a process's whole life, and an executor
//! serves many calls (and spins between them), so it would kill a busy
//! executor in the middle of some innocent call.  A call's CPU time is
//! bounded by the backend that waits for it (`plrust.call_cpu_limit`).

use std::io;

pub use plrust_ipc::message::Limits;

/// Files of compiled code are written to memfds while loading; nothing
/// else is written, ever.
const MAX_FILE_SIZE: u64 = 64 << 20;

/// Address space while loading, before the principal's limit is known: our
/// own code, the channel and the functions' shared objects.
const LOADING_ADDRESS_SPACE: u64 = 1 << 30;

/// The channel, one memfd per loaded function (open until SEAL, see
/// loader.rs) and what dlopen opens while loading.
const MAX_OPEN_FILES: u64 = 80;

fn set(resource: libc::__rlimit_resource_t, value: u64) -> io::Result<()> {
    set_soft_hard(resource, value, value)
}

fn set_soft_hard(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: setrlimit only reads the struct we pass.
    if unsafe { libc::setrlimit(resource, &lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub fn at_start() -> io::Result<()> {
    set_soft_hard(libc::RLIMIT_AS, LOADING_ADDRESS_SPACE, libc::RLIM_INFINITY)?;
    set(libc::RLIMIT_CORE, 0)?;
    set(libc::RLIMIT_FSIZE, MAX_FILE_SIZE)?;
    set(libc::RLIMIT_NOFILE, MAX_OPEN_FILES)?;
    // No new processes or threads: RLIMIT_NPROC counts the user's processes,
    // which already exceed 0, so every fork/clone fails (seccomp also
    // forbids them once sealed).
    set(libc::RLIMIT_NPROC, 0)?;
    Ok(())
}

/// The principal's limits, for good: soft = hard.
pub fn bind(limits: Limits) -> io::Result<()> {
    set(libc::RLIMIT_AS, limits.address_space)
}

/// Loading is over: no descriptor can be opened and no file written.
pub fn seal() -> io::Result<()> {
    set(libc::RLIMIT_NOFILE, 0)?;
    set(libc::RLIMIT_FSIZE, 0)
}

/// Ask for SIGKILL when the supervising worker dies, and fail if it already
/// has (we would have been reparented before the request took effect).
pub fn die_with_parent(expected_parent: i32) -> io::Result<()> {
    // SAFETY: prctl with constant arguments.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: getppid cannot fail.
    if unsafe { libc::getppid() } != expected_parent {
        return Err(io::Error::other("the supervising worker is gone"));
    }
    Ok(())
}

/// Never gain privileges through exec (seccomp also requires it).
pub fn no_new_privs() -> io::Result<()> {
    // SAFETY: prctl with constant arguments.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
