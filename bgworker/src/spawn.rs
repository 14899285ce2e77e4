//! Starting, killing and reaping an executor, from the pool's supervisor.
//!
//! A background worker is a PostgreSQL process: it has the whole shared
//! memory mapped and PostgreSQL's fds open, and a worker that dies of a
//! signal makes the postmaster restart the cluster (FINDINGS.md).  So user
//! code never runs in it, nor in a plain fork of it: the executor is a
//! fork that immediately execs a separate small binary, keeping nothing but
//! its channel.  Between fork and exec the child:
//! - puts the channel memfd at fd 3 and closes every other fd above 2
//!   (0-2 are /dev/null, and the executor closes those too),
//! - leaves PostgreSQL's process group (`setsid`), because the postmaster
//!   signals its children's groups: a config reload's SIGHUP would
//!   otherwise kill every executor,
//! - asks for SIGKILL when its worker dies (`PR_SET_PDEATHSIG`).
//!
//! exec drops every mapping, so no PostgreSQL shared memory survives.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};

/// Where the executor finds its channel.
pub const CHANNEL_FD: RawFd = 3;

#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    pub program: PathBuf,
}

/// A running executor.
pub struct ExecutorProcess {
    child: Child,
    /// Readable once the executor has exited: the worker waits on it
    /// together with its latch.
    pub pidfd: OwnedFd,
}

impl ExecutorProcess {
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The exit status, if the executor has exited (reaps it).
    pub fn try_reap(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Send SIGKILL through the pidfd.  Race-free: the pidfd names this
    /// process and no other, even after it has died, and it cannot have been
    /// reaped (only the supervisor, its parent, reaps it).  The process is
    /// reaped later, by `try_reap`.
    pub fn signal_kill(&self) -> io::Result<()> {
        // SAFETY: pidfd_send_signal takes an fd we own, a signal number, a
        // NULL siginfo and no flags; it touches no memory of ours.
        let r = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.pidfd.as_raw_fd(),
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0u32,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Kill and reap.
    pub fn kill(&mut self) {
        let _ = self.signal_kill();
        let _ = self.child.wait();
    }
}

fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just gave us this fd; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Start an executor on the channel whose memfd is `channel_fd`.
pub fn spawn(cfg: &ExecutorConfig, channel_fd: RawFd) -> io::Result<ExecutorProcess> {
    let mut cmd = Command::new(&cfg.program);
    cmd.env_clear()
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .arg(format!("--parent={}", std::process::id()));
    // SAFETY: runs in the child between fork and exec and makes only
    // async-signal-safe syscalls (dup2, fcntl, close_range, setsid, prctl);
    // it allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(move || {
            if channel_fd == CHANNEL_FD {
                // dup2 onto itself would keep close-on-exec set.
                if libc::fcntl(CHANNEL_FD, libc::F_SETFD, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
            } else if libc::dup2(channel_fd, CHANNEL_FD) != CHANNEL_FD {
                return Err(io::Error::last_os_error());
            }
            if libc::syscall(libc::SYS_close_range, CHANNEL_FD as u32 + 1, u32::MAX, 0u32) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    match pidfd_open(child.id() as i32) {
        Ok(pidfd) => Ok(ExecutorProcess { child, pidfd }),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(e)
        }
    }
}

/// How an executor ended, for the server log.
pub fn describe(status: ExitStatus) -> String {
    if let Some(sig) = status.signal() {
        let name = match sig {
            libc::SIGSYS => " (SIGSYS: a system call outside the seccomp allowlist)",
            libc::SIGKILL => " (SIGKILL)",
            libc::SIGSEGV => " (SIGSEGV)",
            libc::SIGABRT => " (SIGABRT)",
            libc::SIGXCPU => " (SIGXCPU: CPU time limit)",
            libc::SIGXFSZ => " (SIGXFSZ: file size limit)",
            libc::SIGBUS => " (SIGBUS)",
            _ => "",
        };
        format!("was terminated by signal {sig}{name}")
    } else {
        format!("exited with code {}", status.code().unwrap_or(-1))
    }
}
