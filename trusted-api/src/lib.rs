//! What a plrust function body may call.
//!
//! Bodies written for PL/Rust say `use pgrx::prelude::*;`; the generated
//! crate aliases this crate as `pgrx`, so those names resolve here.  This
//! crate runs in the executor, outside PostgreSQL, and so has no pgrx and
//! no pg_sys: everything PostgreSQL-side travels through the channel, as
//! values in PostgreSQL's binary format (datum/) and upcalls (entry.rs).

pub mod datum;
pub mod entry;
pub mod errcodes;
pub mod fn_call;
pub mod heap_tuple;
pub mod iter;
pub mod log;
mod pg_try;
pub mod pgbox;
mod report;
pub mod spi;
pub mod spi_codes;
pub mod trigger;
mod upcall;

pub use datum::oids::BuiltinOid;
pub use datum::*;
pub use errcodes::PgSqlErrorCode;
pub use fn_call::{fn_call, Arg, FnCallArg, FnCallError};
pub use heap_tuple::{PgHeapTuple, PgHeapTupleError};
pub use iter::{SetOfIterator, TableIterator};
pub use log::PgLogLevel;
pub use pg_try::PgTryBuilder;
pub use pgbox::{AllocatedByPostgres, AllocatedByRust, WhoAllocated};
pub use report::ErrorReportable;
pub use spi::{Spi, SpiClient, SpiError, SpiHeapTupleData, SpiHeapTupleDataEntry, SpiTupleTable};
pub use trigger::{
    PgTrigger, PgTriggerError, PgTriggerLevel, PgTriggerOperation, PgTriggerWhen, TriggerEvent,
    TriggerTuple,
};

/// The few `pg_sys` names PL/Rust bodies use.
/// The paths plrust-trusted-pgrx 1.2.8 gives these names (`pgrx::pg_sys::…`,
/// `pgrx::trigger_support::…`, `pgrx::heap_tuple::…`): bodies written for
/// PL/Rust name them so (tests/probe).
pub mod pg_sys {
    pub use crate::datum::oids::BuiltinOid;
    /// A value as PL/Rust bodies pass one to SPI (`x.into_datum()`): here its
    /// binary format and type, not a word of backend memory.
    pub use crate::datum::Datum;
    pub use crate::datum::{ItemPointerData, Oid, PgBuiltInOids, Point, BOX};
    pub use crate::errcodes::PgSqlErrorCode;
    pub use crate::log::PgLogLevel;
    pub use crate::pg_try::PgTryBuilder;

    pub mod panic {
        pub use crate::pg_try::{CaughtError, ErrorReportWithLevel};
        pub use crate::report::ErrorReportable;
    }

    pub mod oids {
        pub use crate::datum::oids::NotBuiltinOid;
        pub use crate::datum::{PgBuiltInOids, PgOid};
    }
    pub mod elog {
        pub use crate::log::PgLogLevel;
    }
    pub mod errcodes {
        pub use crate::errcodes::PgSqlErrorCode;
    }
    pub mod submodules {
        pub use super::{elog, errcodes, panic};
    }
}

pub mod trigger_support {
    pub use crate::trigger::{
        PgTrigger, PgTriggerError, PgTriggerLevel, PgTriggerOperation, PgTriggerWhen, TriggerEvent,
        TriggerTuple,
    };
}

#[doc(hidden)]
pub mod __private {
    pub use plrust_ipc::message::LogLevel;
    pub use std::format;
    pub use std::string::ToString;
}

/// Names PL/Rust bodies bring in with `use pgrx::prelude::*`.
pub mod prelude {
    pub use crate::datum::*;
    pub use crate::entry::BoxError;
    pub use crate::errcodes::PgSqlErrorCode;
    pub use crate::fn_call::{fn_call, Arg, FnCallError};
    pub use crate::heap_tuple::{PgHeapTuple, PgHeapTupleError};
    pub use crate::iter::{SetOfIterator, TableIterator};
    pub use crate::log::PgLogLevel;
    pub use crate::pg_sys;
    pub use crate::pg_sys::BuiltinOid;
    pub use crate::pg_try::PgTryBuilder;
    pub use crate::pgbox::{AllocatedByPostgres, AllocatedByRust, WhoAllocated};
    pub use crate::report::ErrorReportable;
    pub use crate::spi::{self, Spi, SpiClient, SpiHeapTupleData, SpiTupleTable};
    pub use crate::trigger::{
        PgTrigger, PgTriggerError, PgTriggerLevel, PgTriggerOperation, PgTriggerWhen, TriggerEvent,
        TriggerTuple,
    };
    pub use crate::{
        composite_type, debug1, debug2, debug3, debug4, debug5, ereport, error, info, log, name,
        notice, warning,
    };
    /// `thread_local!` unqualified, as PL/Rust's std lets a body write
    /// it: the std facade's re-export reaches `std::thread_local!` but not
    /// the macro prelude, where the built-in `#[thread_local]` attribute
    /// shadows it.
    pub use std::thread_local;
}
