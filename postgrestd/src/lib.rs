//! The `std` that plrust function bodies see.
//!
//! A body is compiled as a `#![no_std]` crate whose root says
//! `extern crate plrust_std as std;`, against a sysroot that holds only
//! `core` and `alloc` (see handler/compiler/README.md).  So `std::x` means
//! whatever this crate re-exports, and nothing else: pure computation
//! (collections, strings, formatting, iterators, math, errors), no file
//! system, network, processes, environment, threads, standard streams or
//! clocks.  Leaving a module out is the first, compile-time layer; the
//! executor's seccomp filter is the one that holds if this layer leaks.

pub use std::{
    any, array, ascii, borrow, boxed, cell, char, clone, cmp, collections, convert, default, error,
    f32, f64, fmt, hash, hint, iter, marker, num, ops, option, primitive, rc, result, slice, str,
    string, vec,
};

// Macros that allocate (`format!`, `vec!`); `panic!`, `assert!`, `write!`
// and friends come from `core`.  No `println!`/`eprintln!`/`dbg!`: an
// executor has no standard streams.
pub use std::format;

/// `std::mem` without the functions that only matter to unsafe code.
pub mod mem {
    pub use std::mem::{
        align_of, align_of_val, discriminant, drop, forget, replace, size_of, size_of_val, swap,
        take,
    };
}

/// Shared ownership and interior mutability; no threads to share with.
pub mod sync {
    pub use std::sync::{atomic, Arc, Mutex, MutexGuard, OnceLock, RwLock, Weak};
}

/// Unwinding support a body may use to contain its own panics.  Not
/// `set_hook`: the panic hook belongs to plrust.
pub mod panic {
    pub use std::panic::{
        catch_unwind, resume_unwind, AssertUnwindSafe, Location, RefUnwindSafe, UnwindSafe,
    };
}

/// What a `#![no_std]` crate lacks from the std prelude: the allocating
/// types.  The rest (Option, Result, Iterator, the core macros, ...) comes
/// from core's prelude, which every crate has; re-exporting it again would
/// make names like `panic!` ambiguous.
pub mod prelude {
    pub mod rust_2021 {
        pub use std::borrow::ToOwned;
        pub use std::boxed::Box;
        pub use std::string::{String, ToString};
        pub use std::vec::Vec;
    }
    pub use rust_2021 as v1;
}
