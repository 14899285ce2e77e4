//! File descriptors: an executor keeps its channel and nothing else.

use std::io;
use std::os::fd::RawFd;

fn close_range(first: u32, last: u32) -> io::Result<()> {
    if first > last {
        return Ok(());
    }
    // SAFETY: close_range only closes descriptors; this process owns them
    // all and nothing in it uses the ones being closed.
    if unsafe { libc::syscall(libc::SYS_close_range, first, last, 0u32) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Close every descriptor except `keep`, including stdin/stdout/stderr.
pub fn close_all_except(keep: RawFd) -> io::Result<()> {
    let keep = keep as u32;
    if keep > 0 {
        close_range(0, keep - 1)?;
    }
    close_range(keep + 1, u32::MAX)
}

/// The descriptors this process has open, read from /proc/self/fd.
pub fn open_fds() -> io::Result<Vec<RawFd>> {
    let mut fds: Vec<RawFd> = std::fs::read_dir("/proc/self/fd")?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    fds.sort_unstable();
    Ok(fds)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_fds() {
        let fds = super::open_fds().unwrap();
        assert!(fds.contains(&0) || fds.contains(&1) || fds.contains(&2) || !fds.is_empty());
    }
}
