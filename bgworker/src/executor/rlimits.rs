//! Resource limits, set before any user code is loaded.

use std::io;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Address space (RLIMIT_AS), bytes: `plrust.executor_memory_limit`.
    pub address_space: u64,
}

/// Files of compiled code are written to memfds while loading; nothing
/// else is written, ever.
const MAX_FILE_SIZE: u64 = 64 << 20;

/// The channel, one memfd per loaded function (open until SEAL, see
/// loader.rs) and what dlopen opens while loading.
const MAX_OPEN_FILES: u64 = 80;

fn set(resource: libc::__rlimit_resource_t, value: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: setrlimit only reads the struct we pass.
    if unsafe { libc::setrlimit(resource, &lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub fn apply(limits: Limits) -> io::Result<()> {
    set(libc::RLIMIT_AS, limits.address_space)?;
    set(libc::RLIMIT_CORE, 0)?;
    set(libc::RLIMIT_FSIZE, MAX_FILE_SIZE)?;
    set(libc::RLIMIT_NOFILE, MAX_OPEN_FILES)?;
    // No new processes or threads: RLIMIT_NPROC counts the user's processes,
    // which already exceed 0, so every fork/clone fails (seccomp also
    // forbids them once sealed).
    set(libc::RLIMIT_NPROC, 0)?;
    Ok(())
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
