//! The executor pool's process management and policies, and the executor
//! itself.
//!
//! `spawn` is used by the pool's supervisor (in handler/, which owns
//! everything that touches PostgreSQL) to start, kill and reap executors.
//! `placement` decides which slot a call gets (the fairness rules),
//! `spin` whether a waiting side may spin, `cpu_budget` when a call has
//! used up its CPU time (`cpu_time` reads it).  `executor` is the
//! sandboxed process that runs compiled function bodies; the
//! `plrust-executor` binary is a thin `main` around it.  See README.md.

pub mod cpu_budget;
pub mod cpu_time;
pub mod executor;
pub mod placement;
pub mod spawn;
pub mod spin;
