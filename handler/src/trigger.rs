//! Trigger calls: what the firing looks like, sent to the body as its
//! first argument (plrust_ipc::message::TriggerInfo) followed by the new
//! and old rows as records; and the row the body returns, turned back into
//! a HeapTuple of the table's shape.

use std::ffi::CStr;

use pgrx::prelude::*;
use plrust_ipc::message::TriggerInfo;
use plrust_ipc::types::SqlType;

use std::cell::RefCell;

use crate::backend_local::BackendLocal;
use crate::conv::{self, Conv};
use crate::errors::raise;

/// One firing of a trigger.
pub struct Firing {
    pub data: *mut pg_sys::TriggerData,
    pub info: TriggerInfo,
    /// Converts the table's rows (record_send / record_recv).
    pub row: &'static Conv,
}

/// The converter of a table's rows, one per row type for the life of the
/// backend: its send and receive functions cache per-call state in their
/// FmgrInfo (record_send's column I/O), which lives in TopMemoryContext, so
/// a converter made per firing would leak that much on every row.
/// record_send and record_recv notice a changed row type themselves.
fn row_conv(row_type: pg_sys::Oid) -> &'static Conv {
    static ROWS: BackendLocal<RefCell<Vec<(pg_sys::Oid, &'static Conv)>>> =
        BackendLocal::new(RefCell::new(Vec::new()));
    if let Some((_, c)) = ROWS.borrow().iter().find(|(t, _)| *t == row_type) {
        return c;
    }
    let c: &'static Conv = Box::leak(Box::new(Conv::new(
        row_type,
        SqlType::Composite {
            oid: row_type.to_u32(),
            attributes: Vec::new(),
        },
    )));
    ROWS.borrow_mut().push((row_type, c));
    c
}

// Event bits of commands/trigger.h.
const OPMASK: u32 = 0x3;
const ROW: u32 = 0x4;
const BEFORE: u32 = 0x8;
const INSTEAD: u32 = 0x10;

fn cstr(p: *const std::ffi::c_char) -> String {
    // SAFETY: callers pass NUL-terminated strings from the catalog.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

impl Firing {
    /// The firing this call is for; an ERROR when the function was not
    /// called by the trigger manager.
    ///
    /// # Safety
    /// `fcinfo` is the live call's.
    pub unsafe fn of(fcinfo: pg_sys::FunctionCallInfo, fn_name: &str) -> Firing {
        // SAFETY: the caller's contract; context is a Node when set.
        let data = unsafe { (*fcinfo).context } as *mut pg_sys::TriggerData;
        // SAFETY: as above.
        if data.is_null() || unsafe { (*data).type_ } != pg_sys::NodeTag::T_TriggerData {
            raise(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                format!("trigger function \"{fn_name}\" can only be called as a trigger"),
                None,
                None,
            );
        }
        // SAFETY: a TriggerData from the trigger manager: its relation and
        // trigger are valid for the call.
        unsafe {
            let event = (*data).tg_event;
            let rel = (*data).tg_relation;
            let trigger = (*data).tg_trigger;
            let form = (*rel).rd_rel;
            let nargs = (*trigger).tgnargs as usize;
            let args = if nargs == 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts((*trigger).tgargs, nargs)
                    .iter()
                    .map(|a| cstr(*a))
                    .collect()
            };
            let optional = |p: *mut std::ffi::c_char| (!p.is_null()).then(|| cstr(p));
            let row_type = (*form).reltype;
            let attributes = conv::attributes_of(row_type);
            let info = TriggerInfo {
                name: cstr((*trigger).tgname),
                when: if event & INSTEAD != 0 {
                    b'I'
                } else if event & BEFORE != 0 {
                    b'B'
                } else {
                    b'A'
                },
                level: if event & ROW != 0 { b'R' } else { b'S' },
                op: match event & OPMASK {
                    0 => b'I',
                    1 => b'D',
                    2 => b'U',
                    _ => b'T',
                },
                relid: (*rel).rd_id.to_u32(),
                table_name: cstr((*form).relname.data.as_ptr()),
                table_schema: cstr(pg_sys::get_namespace_name((*form).relnamespace)),
                args,
                old_transition_table: optional((*trigger).tgoldtable),
                new_transition_table: optional((*trigger).tgnewtable),
                row_type: row_type.to_u32(),
                attributes,
            };
            let row = row_conv(row_type);
            Firing { data, info, row }
        }
    }

    fn is_row(&self) -> bool {
        self.info.level == b'R'
    }

    /// (new, old) rows as they arrive in a trigger of this kind.
    pub fn rows(&self) -> (pg_sys::HeapTuple, pg_sys::HeapTuple) {
        if !self.is_row() {
            return (std::ptr::null_mut(), std::ptr::null_mut());
        }
        // SAFETY: a row-level firing's tuples, as trigger.h documents them.
        unsafe {
            match self.info.op {
                b'I' => ((*self.data).tg_trigtuple, std::ptr::null_mut()),
                b'D' => (std::ptr::null_mut(), (*self.data).tg_trigtuple),
                _ => ((*self.data).tg_newtuple, (*self.data).tg_trigtuple),
            }
        }
    }

    /// Send a row's binary form (record format) to `put`.
    pub fn send_row<R>(&self, tuple: pg_sys::HeapTuple, put: impl FnOnce(&[u8]) -> R) -> R {
        // SAFETY: a valid tuple of the trigger's relation, whose descriptor
        // describes it; the datum is a fresh copy.
        unsafe {
            let d = pg_sys::heap_copy_tuple_as_datum(tuple, (*(*self.data).tg_relation).rd_att);
            self.row.send(d, put)
        }
    }

    /// What the call returns to the trigger manager for the body's row
    /// (None: skip the operation, in a BEFORE or INSTEAD OF row trigger).
    pub fn returned(&self, row: Option<&[u8]>) -> pg_sys::Datum {
        let matters = self.is_row() && self.info.when != b'A';
        let (Some(bytes), true) = (row, matters) else {
            return pg_sys::Datum::from(0);
        };
        let d = self.row.receive(bytes);
        // SAFETY: record_recv of the table's row type returned a plain
        // HeapTupleHeader of the table's shape (dropped columns as NULL);
        // the copy is made in the caller's memory, as the trigger manager
        // expects.
        unsafe {
            let mut tuple = conv::tuple_of_record(d);
            tuple.t_tableOid = (*(*self.data).tg_relation).rd_id;
            let (new, old) = self.rows();
            let original = if new.is_null() { old } else { new };
            if !original.is_null() {
                tuple.t_self = (*original).t_self;
            }
            pg_sys::Datum::from(pg_sys::heap_copytuple(&mut tuple))
        }
    }
}
