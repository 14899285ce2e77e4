//! The memory behind a channel: an anonymous, size-sealed memfd mapped
//! shared.
//!
//! The size seals matter: if an executor could shrink the file, a backend
//! touching the vanished pages would die of SIGBUS and take the cluster with
//! it.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;

use crate::limits::CHANNEL_SIZE;

/// A mapping of one channel's memfd.  It is never unmapped: channels live as
/// long as the process (the postmaster maps them once; children inherit).
#[derive(Debug, Clone, Copy)]
pub struct Mapping {
    base: NonNull<u8>,
}

// SAFETY: the mapping is plain shared memory; all access to it goes through
// atomics or through copies whose ordering the channel protocol enforces.
unsafe impl Send for Mapping {}
// SAFETY: as above.
unsafe impl Sync for Mapping {}

impl Mapping {
    pub fn base(&self) -> NonNull<u8> {
        self.base
    }
}

/// Create a channel memfd of CHANNEL_SIZE bytes, sealed against resizing.
/// The fd is close-on-exec: the supervisor hands it to its executor
/// explicitly and no other child inherits it.
pub fn create(name: &std::ffi::CStr) -> io::Result<OwnedFd> {
    // SAFETY: `name` is a valid C string; the flags are constants.
    let fd =
        unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: memfd_create just returned this fd and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: plain syscall on an fd we own.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), CHANNEL_SIZE as libc::off_t) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let seals = libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_SEAL;
    // SAFETY: plain fcntl on an fd we own.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// Map a channel memfd read-write and shared.  Refuses an fd whose size is
/// not exactly CHANNEL_SIZE or that is not sealed against shrinking, so a
/// mapping can never outgrow its file.
pub fn map(fd: RawFd) -> io::Result<Mapping> {
    // SAFETY: fstat writes into a zeroed stat struct we own.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is valid for writes; a bad fd is reported as an error.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if st.st_size as usize != CHANNEL_SIZE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "channel memfd has the wrong size",
        ));
    }
    // SAFETY: plain fcntl query.
    let seals = unsafe { libc::fcntl(fd, libc::F_GET_SEALS) };
    if seals < 0 || seals & libc::F_SEAL_SHRINK == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "channel memfd is not sealed against shrinking",
        ));
    }
    // SAFETY: we ask for a fresh shared mapping of a file whose size we just
    // checked and which can no longer shrink; the kernel picks the address.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            CHANNEL_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            fd,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(Mapping {
        base: NonNull::new(p.cast()).expect("mmap returned NULL"),
    })
}
