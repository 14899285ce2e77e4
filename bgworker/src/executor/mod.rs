//! The executor: the only process that runs user code.
//!
//! Life of an executor (see README.md):
//! 1. `fds::close_all_except(3)`: the channel is all it keeps.
//! 2. map the channel; `rlimits::at_start`; parent-death signal;
//!    no_new_privs; `loader::load_kit` (the kit's shared library, which
//!    every compiled function links; the only file it ever opens);
//!    `landlock::confine` (no path can be opened any more);
//!    `seccomp::install_loading` (no socket, process or signal any more).
//! 3. announce IDLE; take LIMITS (`rlimits::bind`) and LOAD requests (each
//!    a compiled function, loaded with `loader`) until SEAL.
//! 4. SEAL: `rlimits::seal`, `seccomp::install`.  From here on the process
//!    can compute, allocate and wait on its channel's futex, and nothing
//!    else.
//! 5. serve CALL requests until it is killed.  A call nested inside a
//!    call (the backend's SQL for an upcall called a function of the same
//!    principal) comes as a CALL while the outer call waits for its
//!    answer, and runs at once on the same stack (`serve`), if `stack`
//!    says enough of it is left.
//!
//! Any failure before SEAL makes it exit with a code the worker logs.

pub mod affinity;
pub mod fds;
pub mod landlock;
pub mod loader;
pub mod rlimits;
pub mod seccomp;
pub mod serve;
pub mod stack;
