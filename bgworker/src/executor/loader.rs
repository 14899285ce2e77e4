//! Loading compiled functions, before the executor is sealed.
//!
//! First, at startup and before Landlock, the one file the executor ever
//! opens: the kit's shared library (`load_kit`), plrust-api built as a Rust
//! dylib with std and its other dependencies inside.  Every compiled
//! function links against it rather than carrying its own copy (~340 KB a
//! function then, a few KB now), so it is loaded once, from the kit
//! directory next to this binary, never from PostgreSQL's data directory.
//! A function names it as a dependency by its DT_SONAME, which holds a hash
//! of its content (trusted-api/build.rs): the dynamic loader finds it
//! already loaded and opens nothing, and code linked against another build
//! of it does not load at all (the dependency is not found, and no file can
//! be opened to look for it).
//!
//! Then the functions: the backend sends each compiled shared object
//! through the channel; the executor writes it to a memfd and dlopens it
//! through /proc/self/fd, so it never needs a path into PostgreSQL's data
//! directory.  Nothing is loaded after SEAL: seccomp forbids executable
//! mappings from then on.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

pub use plrust_ipc::message::EntryFn;

/// Where the kit's shared library lies, relative to the kit directory,
/// which holds this executable (the name rustc.rs's `API_DYLIB` links).
pub const KIT_LIBRARY: &str = "deps/libplrust_api.so";

/// The kit's shared library of the executable at `exe` (the kit's
/// `plrust-executor`).
pub fn kit_library(exe: &Path) -> Option<PathBuf> {
    Some(exe.parent()?.join(KIT_LIBRARY))
}

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

/// Load the kit's shared library, for good (the handle is never closed).
/// RTLD_GLOBAL: its symbols are there for every function loaded after it,
/// whose own dependency on it the loader then finds by its soname.  It must
/// run before Landlock, which forbids opening any path; the descriptor
/// dlopen uses is closed again before dlopen returns.
pub fn load_kit(path: &Path) -> Result<(), String> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("{}: a NUL in the path", path.display()))?;
    // SAFETY: dlopen of the kit's own library, built with this executor by
    // scripts/setup.sh (plrust-api, std and their dependencies: no user
    // code); its initialisers are std's.  The handle is never closed.
    let handle = unsafe { libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
    if handle.is_null() {
        return Err(format!("dlopen {}: {}", path.display(), dlerror()));
    }
    Ok(())
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
