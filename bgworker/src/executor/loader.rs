//! Loading compiled functions, before the executor is sealed.
//!
//! The backend sends each compiled shared object through the channel; the
//! executor writes it to a memfd and dlopens it through /proc/self/fd, so it
//! never needs a path into PostgreSQL's data directory.  Nothing is loaded
//! after SEAL: seccomp forbids executable mappings from then on.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd};

pub use plrust_ipc::message::EntryFn;

fn dlerror() -> String {
    // SAFETY: dlerror returns NULL or a pointer to a NUL-terminated string
    // that stays valid until the next dl* call on this thread; we copy it.
    let p = unsafe { libc::dlerror() };
    if p.is_null() {
        "unknown dlopen error".to_string()
    } else {
        // SAFETY: non-NULL, NUL-terminated, see above.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// Load one shared object from its bytes and find its entry point.  The
/// memfd is returned to the caller, who must keep it open until every
/// function is loaded: glibc recognises an already-loaded object by its
/// path, so each load needs a /proc/self/fd/N that no earlier load used.
pub fn load(object: &[u8]) -> Result<(EntryFn, std::fs::File), String> {
    // SAFETY: constant name and flags.
    let fd = unsafe { libc::memfd_create(c"plrust-function".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(format!("memfd_create: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: the fd was just created and is owned by nobody else.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    file.write_all(object)
        .map_err(|e| format!("writing the function's code: {e}"))?;
    let path = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .expect("no NUL in a path of digits");
    // SAFETY: dlopen of a shared object built by plrust's code generator
    // from a body that passed the source check; its initialisers are the
    // standard library's own.  The handle is never closed, so the entry
    // point stays valid for the life of the process.
    let handle = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        return Err(format!("dlopen: {}", dlerror()));
    }
    // SAFETY: handle is a live dlopen handle; the name is a C string.
    let sym = unsafe { libc::dlsym(handle, c"plrust_entry".as_ptr()) };
    if sym.is_null() {
        return Err("the compiled function has no plrust_entry symbol".to_string());
    }
    // SAFETY: plrust_entry is generated with exactly this signature and ABI.
    Ok((
        unsafe { std::mem::transmute::<*mut libc::c_void, EntryFn>(sym) },
        file,
    ))
}

/// The functions this executor has loaded, by key.  Calls usually repeat
/// one function, so the last lookup is remembered.
#[derive(Default)]
pub struct Functions {
    by_key: HashMap<u64, EntryFn>,
    last: Option<(u64, EntryFn)>,
    /// The memfds of loaded objects, open until `seal_files`.
    files: Vec<std::fs::File>,
}

impl Functions {
    pub fn insert(&mut self, key: u64, f: EntryFn, file: std::fs::File) {
        self.by_key.insert(key, f);
        self.files.push(file);
    }

    /// Loading is over: close the memfds (the mappings stay), so the
    /// executor is left with its channel as its only descriptor.
    pub fn close_files(&mut self) {
        self.files.clear();
    }

    pub fn get(&mut self, key: u64) -> Option<EntryFn> {
        if let Some((k, f)) = self.last {
            if k == key {
                return Some(f);
            }
        }
        let f = *self.by_key.get(&key)?;
        self.last = Some((key, f));
        Some(f)
    }
}
