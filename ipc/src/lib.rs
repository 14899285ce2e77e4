//! The channel between a PostgreSQL backend and a plrust executor.
//!
//! One channel is one memfd: a header of atomics, a request area the backend
//! writes and a reply area the executor writes.  Nothing in it is a pointer,
//! and everything the backend reads from it is decoded by [`wire`], the one
//! module that turns untrusted bytes into values.
//!
//! This crate knows nothing about PostgreSQL; it builds and tests in seconds.

pub mod args;
pub mod channel;
pub mod futex;
pub mod limits;
pub mod memfd;
pub mod message;
pub mod types;
pub mod wire;

pub use channel::{Channel, Side};
pub use message::{Host, Reply};
pub use types::SqlType;
