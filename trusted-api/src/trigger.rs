//! Trigger functions: `PgTrigger`, which a body sees as `trigger`, with
//! pgrx's accessors.  The backend sends what the firing looks like (a
//! `TriggerInfo`) and the rows; the body returns the row to use (a
//! `PgHeapTuple`), or None to skip the operation in a BEFORE ROW trigger.

use std::rc::Rc;

use plrust_ipc::message::{Attribute, TriggerInfo};
use plrust_ipc::wire;

use crate::datum::Oid;
use crate::entry::{Args, BoxError};
use crate::heap_tuple::PgHeapTuple;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgTriggerWhen {
    Before,
    After,
    InsteadOf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgTriggerLevel {
    Row,
    Statement,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgTriggerOperation {
    Insert,
    Update,
    Delete,
    Truncate,
}

impl std::fmt::Display for PgTriggerWhen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PgTriggerWhen::Before => "BEFORE",
            PgTriggerWhen::After => "AFTER",
            PgTriggerWhen::InsteadOf => "INSTEAD OF",
        })
    }
}

impl std::fmt::Display for PgTriggerLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PgTriggerLevel::Row => "ROW",
            PgTriggerLevel::Statement => "STATEMENT",
        })
    }
}

impl std::fmt::Display for PgTriggerOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PgTriggerOperation::Insert => "INSERT",
            PgTriggerOperation::Update => "UPDATE",
            PgTriggerOperation::Delete => "DELETE",
            PgTriggerOperation::Truncate => "TRUNCATE",
        })
    }
}

/// pgrx's trigger errors; here only a firing the backend described
/// wrongly can produce one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PgTriggerError {
    InvalidPgTriggerWhen(u8),
    InvalidPgTriggerOperation(u8),
}

impl std::fmt::Display for PgTriggerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PgTriggerError::InvalidPgTriggerWhen(w) => write!(f, "invalid trigger timing {w}"),
            PgTriggerError::InvalidPgTriggerOperation(o) => {
                write!(f, "invalid trigger operation {o}")
            }
        }
    }
}

impl std::error::Error for PgTriggerError {}

/// The trigger firing a trigger function runs for.
pub struct PgTrigger {
    info: TriggerInfo,
    new: Option<PgHeapTuple<'static>>,
    old: Option<PgHeapTuple<'static>>,
}

impl PgTrigger {
    /// The new row (INSERT, UPDATE; row-level only).  pgrx's name.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(&self) -> Option<PgHeapTuple<'_>> {
        self.new.clone()
    }

    /// The old row (UPDATE, DELETE; row-level only).
    pub fn old(&self) -> Option<PgHeapTuple<'_>> {
        self.old.clone()
    }

    pub fn name(&self) -> Result<&str, PgTriggerError> {
        Ok(&self.info.name)
    }

    pub fn when(&self) -> Result<PgTriggerWhen, PgTriggerError> {
        match self.info.when {
            b'B' => Ok(PgTriggerWhen::Before),
            b'A' => Ok(PgTriggerWhen::After),
            b'I' => Ok(PgTriggerWhen::InsteadOf),
            other => Err(PgTriggerError::InvalidPgTriggerWhen(other)),
        }
    }

    pub fn level(&self) -> PgTriggerLevel {
        if self.info.level == b'R' {
            PgTriggerLevel::Row
        } else {
            PgTriggerLevel::Statement
        }
    }

    pub fn op(&self) -> Result<PgTriggerOperation, PgTriggerError> {
        match self.info.op {
            b'I' => Ok(PgTriggerOperation::Insert),
            b'U' => Ok(PgTriggerOperation::Update),
            b'D' => Ok(PgTriggerOperation::Delete),
            b'T' => Ok(PgTriggerOperation::Truncate),
            other => Err(PgTriggerError::InvalidPgTriggerOperation(other)),
        }
    }

    pub fn relid(&self) -> Result<Oid, PgTriggerError> {
        Ok(Oid::from_u32(self.info.relid))
    }

    pub fn table_name(&self) -> Result<String, PgTriggerError> {
        Ok(self.info.table_name.clone())
    }

    pub fn table_schema(&self) -> Result<String, PgTriggerError> {
        Ok(self.info.table_schema.clone())
    }

    /// The arguments of CREATE TRIGGER ... EXECUTE FUNCTION f(args).
    pub fn extra_args(&self) -> Result<Vec<String>, PgTriggerError> {
        Ok(self.info.args.clone())
    }

    /// REFERENCING OLD TABLE AS name (query it with Spi).
    pub fn old_transition_table_name(&self) -> Result<Option<&str>, PgTriggerError> {
        Ok(self.info.old_transition_table.as_deref())
    }

    /// REFERENCING NEW TABLE AS name.
    pub fn new_transition_table_name(&self) -> Result<Option<&str>, PgTriggerError> {
        Ok(self.info.new_transition_table.as_deref())
    }
}

impl Args<'_> {
    /// A trigger call's arguments: the firing, then the new and old rows.
    pub fn trigger(&mut self) -> Result<PgTrigger, BoxError> {
        let info = self
            .raw()?
            .ok_or("plrust: trigger call without its description")?;
        let info: TriggerInfo = wire::decode_exact(info)?;
        let attributes: Rc<[Attribute]> = info.attributes.clone().into();
        let row = |a: &mut Self| -> Result<Option<PgHeapTuple>, BoxError> {
            match a.raw()? {
                Some(bytes) => Ok(Some(PgHeapTuple::from_record(
                    bytes,
                    info.row_type,
                    Rc::clone(&attributes),
                )?)),
                None => Ok(None),
            }
        };
        let new = row(self)?;
        let old = row(self)?;
        Ok(PgTrigger { info, new, old })
    }
}
