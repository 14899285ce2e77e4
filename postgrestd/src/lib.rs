//! The `std` that plrust function bodies, and the crates they depend on,
//! are compiled against.
//!
//! This crate's name is `std`, and the kit's sysroot holds it where the
//! real std would be: a body, or a crate from the allow-list, that names
//! `std` (as every crate without `#![no_std]` does implicitly) gets this
//! facade, and the real std is reachable only as this crate's own
//! dependency (`-L dependency=`), which no source can name.  So `std::x`
//! means whatever is re-exported here, and nothing else: std's pure
//! computation, unchanged, so that popular crates compile unmodified; no
//! file system, processes, environment, standard streams or clocks; of
//! threads and the network only what is data (a thread-local key, an IP
//! address).  The table of what each module becomes is in README.md.
//!
//! Leaving a module out is the first, compile-time layer.  What a crate
//! can still reach through what is here (a `Path`'s `exists()` is a system
//! call) meets the executor's seccomp filter, which holds when this layer
//! leaks, for dependency code exactly as for body code.

#![no_std]

extern crate std as real;

// Pure computation, whole.
pub use real::{
    alloc, any, arch, array, ascii, borrow, boxed, cell, char, clone, cmp, collections, convert,
    default, error, f32, f64, ffi, fmt, future, hash, hint, iter, marker, mem, num, ops, option,
    pin, primitive, ptr, rc, result, slice, str, string, sync, task, vec,
};
// The integer modules older crates still name (`std::u32::MAX`).
#[allow(deprecated, clippy::legacy_numeric_constants)]
pub use real::{i128, i16, i32, i64, i8, isize, u128, u16, u32, u64, u8, usize};

// std's own macros that compute (`vec!` comes with its module above).  No
// `println!`, `eprintln!`, `print!`, `eprint!` or `dbg!`: an executor has
// no standard streams.
#[allow(deprecated)]
pub use real::{
    assert_eq, assert_ne, debug_assert, debug_assert_eq, debug_assert_ne, format,
    is_x86_feature_detected, matches, r#try, thread_local, todo, unimplemented, unreachable, write,
    writeln,
};
// The compiler's built-in macros, as std offers them at its root.
// (`include*!` and `env!` run when a crate compiles: a body's check
// refuses them, and the compile sandbox cannot read the server's files.)
pub use core::{
    assert, cfg, column, compile_error, concat, env, file, format_args, include, include_bytes,
    include_str, line, module_path, option_env, stringify,
};

/// Unwinding a body may use to contain its own panics.  Not the hooks
/// (`set_hook`, `take_hook`): the panic hook belongs to plrust.
pub mod panic {
    pub use real::panic::{
        catch_unwind, panic_any, resume_unwind, AssertUnwindSafe, Location, PanicHookInfo,
        RefUnwindSafe, UnwindSafe,
    };
}

// The `panic!` macro: through a glob, which the `panic` module above
// shadows in the type namespace, so only the macro comes from it.
mod panic_macro {
    pub use real::panic;
}
#[allow(unused_imports)]
pub use panic_macro::*;

/// Reading and writing in memory (a `Vec<u8>`, a `Cursor`, `fmt` adapters):
/// the traits and the buffer types.  Not the standard streams.
pub mod io {
    pub use real::io::{
        copy, empty, read_to_string, repeat, sink, BufRead, BufReader, BufWriter, Bytes, Chain,
        Cursor, Empty, Error, ErrorKind, IntoInnerError, IoSlice, IoSliceMut, LineWriter, Lines,
        Read, Repeat, Result, Seek, SeekFrom, Sink, Split, Take, Write, WriterPanicked,
    };
    pub mod prelude {
        pub use real::io::prelude::*;
    }
}

/// Durations, and points in time as data; no clock.
pub mod time {
    pub use real::time::{Duration, SystemTimeError, TryFromFloatSecsError};

    /// std's `SystemTime` without `now()` and `elapsed()`: a point in time
    /// that a crate can convert, compare and serialize (serde and chrono
    /// implement their traits for it), but not read from a clock.  No
    /// `Instant` at all: it is nothing but a clock reading.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub struct SystemTime(real::time::SystemTime);

    /// 1970-01-01 00:00:00 UTC, as std's.
    pub const UNIX_EPOCH: SystemTime = SystemTime(real::time::UNIX_EPOCH);

    impl SystemTime {
        pub const UNIX_EPOCH: SystemTime = UNIX_EPOCH;

        pub fn duration_since(&self, earlier: SystemTime) -> Result<Duration, SystemTimeError> {
            self.0.duration_since(earlier.0)
        }

        pub fn checked_add(&self, d: Duration) -> Option<SystemTime> {
            self.0.checked_add(d).map(SystemTime)
        }

        pub fn checked_sub(&self, d: Duration) -> Option<SystemTime> {
            self.0.checked_sub(d).map(SystemTime)
        }
    }

    impl core::ops::Add<Duration> for SystemTime {
        type Output = SystemTime;
        fn add(self, d: Duration) -> SystemTime {
            SystemTime(self.0 + d)
        }
    }

    impl core::ops::AddAssign<Duration> for SystemTime {
        fn add_assign(&mut self, d: Duration) {
            self.0 += d;
        }
    }

    impl core::ops::Sub<Duration> for SystemTime {
        type Output = SystemTime;
        fn sub(self, d: Duration) -> SystemTime {
            SystemTime(self.0 - d)
        }
    }

    impl core::ops::SubAssign<Duration> for SystemTime {
        fn sub_assign(&mut self, d: Duration) {
            self.0 -= d;
        }
    }
}

/// Thread-local values (a body runs on one thread; crates keep caches in
/// them), and no way to start, stop or name a thread.
pub mod thread {
    pub use real::thread::{panicking, AccessError, LocalKey};

    /// An executor runs one call at a time, on one thread.  (std's own
    /// asks the kernel and reads cgroup files, which the executor may not.)
    pub fn available_parallelism() -> real::io::Result<core::num::NonZeroUsize> {
        Ok(core::num::NonZeroUsize::MIN)
    }
}

/// Addresses as data (parsing, formatting, comparing); no sockets.
pub mod net {
    pub use real::net::{
        AddrParseError, IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, SocketAddrV4,
        SocketAddrV6,
    };
}

/// Paths as data (joining, splitting, comparing).  Methods that would look
/// at the file system (`exists`, `metadata`, ...) are system calls the
/// executor's filter refuses: the call fails, as any escape does.
pub mod path {
    pub use real::path::{
        is_separator, Ancestors, Component, Components, Display, Iter, Path, PathBuf, Prefix,
        PrefixComponent, StripPrefixError, MAIN_SEPARATOR, MAIN_SEPARATOR_STR,
    };
}

/// C types, and the byte views of `OsStr` that Unix code uses.
pub mod os {
    pub use real::os::raw;
    pub mod unix {
        pub mod ffi {
            pub use real::os::unix::ffi::{OsStrExt, OsStringExt};
        }
    }
}

/// The prelude every crate gets: std's, without the macros that print
/// (std's own prelude now carries `println!` and friends).  core's prelude
/// for the edition, and what std adds to it: the allocating types, their
/// macros, and std's `panic!` (which takes any payload in a 2015 or 2018
/// crate, where core's takes a `&str`): imported with the root's `panic`,
/// whose macro is std's and whose module is the trimmed one above, so it
/// shadows core's.
pub mod prelude {
    macro_rules! edition {
        ($name:ident) => {
            pub mod $name {
                pub use crate::panic;
                pub use core::prelude::$name::*;
                pub use real::borrow::ToOwned;
                pub use real::boxed::Box;
                pub use real::string::{String, ToString};
                pub use real::vec::Vec;
                pub use real::{format, vec};
                // SIMD crates call it unqualified (rand_chacha, through
                // ppv-lite86), as std's `macro_use` injection allows; a
                // facade's root re-export does not reach that scope.
                pub use real::is_x86_feature_detected;
            }
        };
    }
    edition!(v1);
    edition!(rust_2015);
    edition!(rust_2018);
    edition!(rust_2021);
    edition!(rust_2024);
}
