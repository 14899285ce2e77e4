//! What fired a trigger: `TriggerEvent`, pgrx's wrapper of
//! `TriggerData.tg_event`, and the enums derived from it.
//!
//! The backend describes a firing with one byte each for timing, level and
//! operation (`TriggerInfo`); the event is rebuilt from them with
//! PostgreSQL's bit values (commands/trigger.h), so `fired_*()`, `when()`,
//! `level()` and `op()` all read one value, as in pgrx.

use std::fmt;

use super::PgTriggerError;

// PostgreSQL's TRIGGER_EVENT_* values: the operation in the low two bits,
// then the row bit, then the timing.
const EVENT_INSERT: u32 = 0x00;
const EVENT_DELETE: u32 = 0x01;
const EVENT_UPDATE: u32 = 0x02;
const EVENT_TRUNCATE: u32 = 0x03;
const EVENT_OPMASK: u32 = 0x03;
const EVENT_ROW: u32 = 0x04;
const EVENT_BEFORE: u32 = 0x08;
const EVENT_AFTER: u32 = 0x00;
const EVENT_INSTEAD: u32 = 0x10;
const EVENT_TIMINGMASK: u32 = 0x18;

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

/// A trigger's firing: timing, level and operation.
#[derive(Debug, Clone, Copy)]
pub struct TriggerEvent(u32);

impl TriggerEvent {
    /// From the backend's description (`TriggerInfo`'s bytes: b'B'/b'A'/b'I',
    /// b'R'/b'S', b'I'/b'U'/b'D'/b'T').  An unknown timing or operation is
    /// refused: the backend never sends one.  Any level but row is statement.
    pub(super) fn from_info(when: u8, level: u8, op: u8) -> Result<TriggerEvent, PgTriggerError> {
        let timing = match when {
            b'B' => EVENT_BEFORE,
            b'A' => EVENT_AFTER,
            b'I' => EVENT_INSTEAD,
            other => return Err(PgTriggerError::InvalidPgTriggerWhen(other.into())),
        };
        let operation = match op {
            b'I' => EVENT_INSERT,
            b'U' => EVENT_UPDATE,
            b'D' => EVENT_DELETE,
            b'T' => EVENT_TRUNCATE,
            other => return Err(PgTriggerError::InvalidPgTriggerOperation(other.into())),
        };
        let row = if level == b'R' { EVENT_ROW } else { 0 };
        Ok(TriggerEvent(timing | row | operation))
    }

    fn operation(&self) -> u32 {
        self.0 & EVENT_OPMASK
    }

    fn timing(&self) -> u32 {
        self.0 & EVENT_TIMINGMASK
    }

    pub fn fired_by_insert(&self) -> bool {
        self.operation() == EVENT_INSERT
    }

    pub fn fired_by_delete(&self) -> bool {
        self.operation() == EVENT_DELETE
    }

    pub fn fired_by_update(&self) -> bool {
        self.operation() == EVENT_UPDATE
    }

    pub fn fired_by_truncate(&self) -> bool {
        self.operation() == EVENT_TRUNCATE
    }

    pub fn fired_for_row(&self) -> bool {
        self.0 & EVENT_ROW != 0
    }

    pub fn fired_for_statement(&self) -> bool {
        !self.fired_for_row()
    }

    pub fn fired_before(&self) -> bool {
        self.timing() == EVENT_BEFORE
    }

    pub fn fired_after(&self) -> bool {
        self.timing() == EVENT_AFTER
    }

    pub fn fired_instead(&self) -> bool {
        self.timing() == EVENT_INSTEAD
    }
}

impl From<TriggerEvent> for PgTriggerLevel {
    fn from(event: TriggerEvent) -> PgTriggerLevel {
        if event.fired_for_row() {
            PgTriggerLevel::Row
        } else {
            PgTriggerLevel::Statement
        }
    }
}

impl TryFrom<TriggerEvent> for PgTriggerWhen {
    type Error = PgTriggerError;

    fn try_from(event: TriggerEvent) -> Result<PgTriggerWhen, PgTriggerError> {
        match event.timing() {
            EVENT_BEFORE => Ok(PgTriggerWhen::Before),
            EVENT_AFTER => Ok(PgTriggerWhen::After),
            EVENT_INSTEAD => Ok(PgTriggerWhen::InsteadOf),
            // Both timing bits: no firing has that.
            other => Err(PgTriggerError::InvalidPgTriggerWhen(other)),
        }
    }
}

impl TryFrom<TriggerEvent> for PgTriggerOperation {
    type Error = PgTriggerError;

    fn try_from(event: TriggerEvent) -> Result<PgTriggerOperation, PgTriggerError> {
        // The two operation bits have four values, all operations.
        Ok(match event.operation() {
            EVENT_INSERT => PgTriggerOperation::Insert,
            EVENT_DELETE => PgTriggerOperation::Delete,
            EVENT_UPDATE => PgTriggerOperation::Update,
            _ => PgTriggerOperation::Truncate,
        })
    }
}

impl fmt::Display for PgTriggerWhen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PgTriggerWhen::Before => "BEFORE",
            PgTriggerWhen::After => "AFTER",
            PgTriggerWhen::InsteadOf => "INSTEAD OF",
        })
    }
}

impl fmt::Display for PgTriggerLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PgTriggerLevel::Row => "ROW",
            PgTriggerLevel::Statement => "STATEMENT",
        })
    }
}

impl fmt::Display for PgTriggerOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PgTriggerOperation::Insert => "INSERT",
            PgTriggerOperation::Update => "UPDATE",
            PgTriggerOperation::Delete => "DELETE",
            PgTriggerOperation::Truncate => "TRUNCATE",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(when: u8, level: u8, op: u8) -> TriggerEvent {
        TriggerEvent::from_info(when, level, op).unwrap()
    }

    #[test]
    fn each_firing_reads_back_as_described() {
        for (w, when) in [
            (b'B', PgTriggerWhen::Before),
            (b'A', PgTriggerWhen::After),
            (b'I', PgTriggerWhen::InsteadOf),
        ] {
            for (l, level) in [
                (b'R', PgTriggerLevel::Row),
                (b'S', PgTriggerLevel::Statement),
            ] {
                for (o, op) in [
                    (b'I', PgTriggerOperation::Insert),
                    (b'U', PgTriggerOperation::Update),
                    (b'D', PgTriggerOperation::Delete),
                    (b'T', PgTriggerOperation::Truncate),
                ] {
                    let e = event(w, l, o);
                    assert_eq!(PgTriggerWhen::try_from(e), Ok(when));
                    assert_eq!(PgTriggerLevel::from(e), level);
                    assert_eq!(PgTriggerOperation::try_from(e), Ok(op));
                    assert_eq!(e.fired_before(), when == PgTriggerWhen::Before);
                    assert_eq!(e.fired_after(), when == PgTriggerWhen::After);
                    assert_eq!(e.fired_instead(), when == PgTriggerWhen::InsteadOf);
                    assert_eq!(e.fired_for_row(), level == PgTriggerLevel::Row);
                    assert_eq!(e.fired_for_statement(), level == PgTriggerLevel::Statement);
                    assert_eq!(e.fired_by_insert(), op == PgTriggerOperation::Insert);
                    assert_eq!(e.fired_by_update(), op == PgTriggerOperation::Update);
                    assert_eq!(e.fired_by_delete(), op == PgTriggerOperation::Delete);
                    assert_eq!(e.fired_by_truncate(), op == PgTriggerOperation::Truncate);
                }
            }
        }
    }

    #[test]
    fn postgres_bit_values() {
        // BEFORE ROW UPDATE is 0x08 | 0x04 | 0x02 in commands/trigger.h.
        assert_eq!(event(b'B', b'R', b'U').0, 0x0e);
        assert_eq!(event(b'A', b'S', b'I').0, 0);
        assert_eq!(event(b'I', b'R', b'D').0, 0x15);
    }

    #[test]
    fn an_unknown_description_is_refused() {
        assert_eq!(
            TriggerEvent::from_info(b'X', b'R', b'I').unwrap_err(),
            PgTriggerError::InvalidPgTriggerWhen(u32::from(b'X'))
        );
        assert_eq!(
            TriggerEvent::from_info(b'B', b'R', b'X').unwrap_err(),
            PgTriggerError::InvalidPgTriggerOperation(u32::from(b'X'))
        );
        assert_eq!(
            PgTriggerWhen::try_from(TriggerEvent(EVENT_TIMINGMASK)),
            Err(PgTriggerError::InvalidPgTriggerWhen(0x18))
        );
    }
}
