//! Sizes of the channel.  Every length read from shared memory is checked
//! against these before it is used.

/// The header page: the atomics both sides use to hand the channel over.
pub const HEADER_SIZE: usize = 4096;

/// Bytes the backend may write for one request (call arguments, or one
/// compiled function while an executor is being loaded).
pub const REQUEST_AREA: usize = 16 << 20;

/// Bytes the executor may write for one reply.
pub const REPLY_AREA: usize = 16 << 20;

/// Size of the memfd behind one channel.  Pages are only allocated when
/// touched, so an idle channel costs a few pages, not 32 MiB.
pub const CHANNEL_SIZE: usize = HEADER_SIZE + REQUEST_AREA + REPLY_AREA;

/// Longest error or panic message accepted from an executor; longer ones are
/// an invalid reply rather than a way to make the backend allocate.
pub const MAX_MESSAGE: usize = 64 << 10;
