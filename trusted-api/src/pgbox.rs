//! pgrx's allocation markers: `PgHeapTuple<'a, AllocatedByRust>` and
//! `PgHeapTuple<'a, impl WhoAllocated>`, as PL/Rust bodies spell them
//! (plrust-trusted-pgrx re-exports `pgbox::*` at its root, so
//! `pgrx::AllocatedByRust` and the prelude's glob both reach them).
//!
//! In pgrx the marker says whose memory a value lives in, and so who frees
//! it: a tuple PostgreSQL handed over (`AllocatedByPostgres`, a trigger's
//! NEW row) or one Rust made (`AllocatedByRust`).  In the executor nothing
//! is PostgreSQL's memory: every value arrived as bytes over the channel
//! and is owned by the body.  So the two names are one type.  That is what
//! lets a trigger body return what `trigger.new()` gave it as well as a
//! tuple it built, under one concrete result type, and lets `into_owned`
//! be the identity it is here.
//!
//! `PgBox` itself is not here: it is a pointer into a backend's memory,
//! which a body never has.

/// What pgrx bounds its allocation markers by.  pgrx's trait frees memory
/// through an `unsafe fn` on a raw pointer; nothing here is freed that way,
/// so the trait only names the markers (`impl WhoAllocated`).
pub trait WhoAllocated {}

/// The one allocation marker: every value a body holds is Rust's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AllocatedByRust;

/// pgrx's marker for values in PostgreSQL's memory, of which the executor
/// has none: the same type as `AllocatedByRust` (see the module's comment).
pub type AllocatedByPostgres = AllocatedByRust;

impl WhoAllocated for AllocatedByRust {}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker_of<W: WhoAllocated>(_: W) -> &'static str {
        core::any::type_name::<W>()
    }

    #[test]
    fn both_names_are_one_marker() {
        let postgres: AllocatedByPostgres = AllocatedByRust;
        assert_eq!(marker_of(postgres), marker_of(AllocatedByRust));
    }
}
