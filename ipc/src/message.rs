//! What travels in the channel's areas.

use bincode::{Decode, Encode};

/// Request operations (the header's `op` word).
pub mod op {
    /// The request area holds one compiled function (a shared object); the
    /// header's key names it.  Only before `SEAL`.
    pub const LOAD: u32 = 1;
    /// Install the sandbox: no more code can be loaded after this.
    pub const SEAL: u32 = 2;
    /// Call the function named by the key with the encoded arguments.
    pub const CALL: u32 = 3;
    /// Set the principal's resource limits: the request is an encoded
    /// [`super::Limits`].  Only before `SEAL`, which requires it.
    pub const LIMITS: u32 = 4;
}

/// Reply statuses (the header's `status` word).
pub mod status {
    /// LOAD and SEAL: done.  CALL: the reply area holds a bincode `Reply<T>`.
    pub const OK: u32 = 0;
    /// The executor could not do what was asked; the reply area holds a
    /// UTF-8 message.  The backend restarts the executor.
    pub const FAILED: u32 = 1;
}

/// The outcome of one call, as the function's shared object encodes it.
/// `T` is the wire type of the SQL return type (see [`crate::SqlType`]).
#[derive(Debug, Clone, PartialEq, Encode, Decode)]
pub enum Reply<T> {
    /// `Ok(Some(v))` or `Ok(None)` (SQL NULL).
    Value(Option<T>),
    /// `Err(e)`: e's Display text.
    Error(String),
    /// The body panicked; the panic message.
    Panic(String),
}

/// Resource limits an executor applies to itself when it is bound, before
/// any user code is loaded: they are the binding backend's settings, so
/// `ALTER ROLE ... SET` applies per role (see handler/src/dispatch.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct Limits {
    /// RLIMIT_AS, bytes.
    pub address_space: u64,
}
