//! What a plrust function body may call.
//!
//! Bodies written for PL/Rust say `use pgrx::prelude::*;`; the generated
//! crate aliases this crate as `pgrx`, so those names resolve here.  This
//! crate runs in the executor, outside PostgreSQL, and so has no pgrx and
//! no pg_sys: everything PostgreSQL-side travels through the channel.

pub mod entry;

/// Names PL/Rust bodies bring in with `use pgrx::prelude::*`.
pub mod prelude {
    pub use crate::entry::BoxError;
}
