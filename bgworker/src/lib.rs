//! The executor pool's process management, and the executor itself.
//!
//! `spawn` is used by the pool's background workers (in handler/, which
//! owns everything that touches PostgreSQL) to start and reap executors.
//! `cpu_time` lets a waiting backend measure an executor's CPU time.
//! `executor` is the sandboxed process that runs compiled function bodies;
//! the `plrust-executor` binary is a thin `main` around it.  See README.md.

pub mod cpu_time;
pub mod executor;
pub mod spawn;
