//! Serving a running call's upcalls: messages, SPI, rows of a set.
//!
//! The executor publishes an upcall and waits; the backend serves it here
//! (as the calling role, in the calling transaction) and resumes the call
//! with the answer.  Everything in an upcall came from user code: it is
//! decoded by wire.rs, and each kind is checked against what this call may
//! do (rows only for a set-returning function, levels below ERROR only).

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::PgMemoryContexts;
use plrust_ipc::message::{Answer, LogLevel, Upcall};
use plrust_ipc::wire;

use plrust_ipc::types::SqlType;

use crate::conv::{self, Conv};
use crate::errors::ContextLine;
use crate::function::{Function, Output};
use crate::spi::in_subtransaction;
use crate::spi::CallSpi;

/// One call's backend-side state.
pub struct CallState {
    f: &'static Function,
    spi: CallSpi,
    set: Option<SetSink>,
    /// Scratch memory for one upcall, reset after it.  Made at the first
    /// upcall (most calls make none, and a memory context costs as much as
    /// the rest of a small call), before SPI_connect: a child of the
    /// caller's context, not of SPI's, which SPI_finish deletes.
    scratch: Option<PgMemoryContexts>,
    /// The call's CONTEXT line, which a message gives its body line.
    context: ContextLine,
}

/// Where a set-returning function's rows go.
pub struct SetSink {
    pub store: *mut pg_sys::Tuplestorestate,
    pub desc: pg_sys::TupleDesc,
}

impl SetSink {
    /// Store one row: `values` and `nulls` as wide as the descriptor.
    fn put(&self, values: &mut [pg_sys::Datum], nulls: &mut [bool]) {
        // SAFETY: the descriptor's natts is the number of columns callers
        // size the slices to.
        let natts = unsafe { (*self.desc).natts } as usize;
        assert!(values.len() == natts && nulls.len() == natts);
        // SAFETY: a tuplestore and descriptor made for this call, values
        // and nulls of its width; the store copies the row into its own
        // memory.
        unsafe {
            pg_sys::tuplestore_putvalues(
                self.store,
                self.desc,
                values.as_mut_ptr(),
                nulls.as_mut_ptr(),
            )
        };
    }
}

/// Decode the SQLSTATE an executor sent (wire.rs checked its characters).
pub fn error_code(sqlstate: [u8; 5]) -> PgSqlErrorCode {
    let mut code = 0i32;
    for (i, c) in sqlstate.iter().enumerate() {
        code += (((*c - b'0') & 0x3F) as i32) << (6 * i);
    }
    PgSqlErrorCode::from(code)
}

impl CallState {
    pub fn new(
        f: &'static Function,
        set: Option<SetSink>,
        trigger: Option<*mut pg_sys::TriggerData>,
        context: ContextLine,
    ) -> CallState {
        CallState {
            f,
            spi: CallSpi::new(trigger),
            set,
            scratch: None,
            context,
        }
    }

    /// Serve one upcall; Err when it is malformed or not allowed here
    /// (the executor misbehaved).
    pub fn serve(&mut self, bytes: &[u8]) -> Result<Answer, String> {
        let upcall = wire::decode_upcall(bytes).map_err(|e| format!("invalid upcall: {e}"))?;
        let scratch = self
            .scratch
            .get_or_insert_with(|| PgMemoryContexts::new("plrust upcall"));
        let scratch_cx = scratch.value();
        if matches!(
            upcall,
            Upcall::Execute { .. }
                | Upcall::Fetch { .. }
                | Upcall::Close { .. }
                | Upcall::Open { .. }
                | Upcall::FetchRows { .. }
                | Upcall::Detach { .. }
                | Upcall::Find { .. }
        ) {
            // Before switching to scratch memory: SPI_finish returns to
            // the context SPI_connect was called in.
            self.spi.connect();
        }
        let scratch = self.scratch.as_mut().expect("made above");
        // SAFETY: the scratch context lives in self until the call ends;
        // nothing allocated in it survives the upcall (answers are Rust
        // values).
        let answer = unsafe {
            scratch.switch_to(|_| match upcall {
                Upcall::Log { level, report } => {
                    let code = report.sqlstate.map(error_code).unwrap_or(match level {
                        LogLevel::Warning => PgSqlErrorCode::ERRCODE_WARNING,
                        _ => PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
                    });
                    let mut r = ErrorReport::new(code, report.message.to_string(), "plrust");
                    if let Some(d) = report.detail {
                        r = r.set_detail(d);
                    }
                    if let Some(h) = report.hint {
                        r = r.set_hint(h);
                    }
                    let level = match level {
                        LogLevel::Debug5 => PgLogLevel::DEBUG5,
                        LogLevel::Debug4 => PgLogLevel::DEBUG4,
                        LogLevel::Debug3 => PgLogLevel::DEBUG3,
                        LogLevel::Debug2 => PgLogLevel::DEBUG2,
                        LogLevel::Debug1 => PgLogLevel::DEBUG1,
                        LogLevel::Log => PgLogLevel::LOG,
                        LogLevel::Info => PgLogLevel::INFO,
                        LogLevel::Notice => PgLogLevel::NOTICE,
                        LogLevel::Warning => PgLogLevel::WARNING,
                    };
                    self.context.at(report.line);
                    emit(r, level);
                    self.context.at(0);
                    Ok(Answer::Done)
                }
                Upcall::Execute {
                    query,
                    args,
                    select,
                    limit,
                } => Ok(self
                    .spi
                    .execute(query, &args, select, limit, self.f.read_only)),
                Upcall::Fetch { cursor } => Ok(self.spi.fetch(cursor)),
                Upcall::Close { cursor } => Ok(self.spi.close(cursor)),
                Upcall::Open { query, args } => Ok(self.spi.open(query, &args, self.f.read_only)),
                Upcall::FetchRows { cursor, count } => Ok(self.spi.fetch_rows(cursor, count)),
                Upcall::Detach { cursor } => Ok(self.spi.detach(cursor)),
                Upcall::Find { name } => Ok(self.spi.find(name)),
                Upcall::Rows { rows } => {
                    let (Some(sink), Output::SetOf(_) | Output::Table(_)) =
                        (&self.set, &self.f.output)
                    else {
                        return Err("rows from a function that does not return a set".to_string());
                    };
                    if let Output::SetOf(c) = &self.f.output {
                        if matches!(c.sql, SqlType::Composite { .. }) {
                            return put_records(sink, c, rows);
                        }
                    }
                    let convs: Vec<&Conv> = match &self.f.output {
                        Output::SetOf(c) => vec![c],
                        Output::Table(cs) => cs.iter().collect(),
                        _ => unreachable!("checked above"),
                    };
                    let mut values = vec![pg_sys::Datum::from(0); convs.len()];
                    let mut nulls = vec![false; convs.len()];
                    for row in rows {
                        if row.len() != convs.len() {
                            return Err(format!(
                                "a row of {} columns for a result of {}",
                                row.len(),
                                convs.len()
                            ));
                        }
                        for (i, (v, c)) in row.iter().zip(&convs).enumerate() {
                            nulls[i] = v.is_none();
                            values[i] = v.map_or(pg_sys::Datum::from(0), |b| c.receive(b));
                        }
                        sink.put(&mut values, &mut nulls);
                    }
                    Ok(Answer::Done)
                }
                Upcall::DescribeType { name } => Ok(describe_type(name)),
            })
        };
        // SAFETY: nothing allocated in the scratch context is referenced
        // any more.
        unsafe { pg_sys::MemoryContextReset(scratch_cx) };
        answer
    }

    /// The call is over (or failed): close cursors, disconnect SPI.
    pub fn finish(&mut self) {
        self.spi.finish();
    }
}

/// Rows of `RETURNS SETOF` a composite type: each row is one record,
/// stored as the tuple it is (all NULL for a NULL row).
fn put_records(sink: &SetSink, c: &Conv, rows: Vec<Vec<Option<&[u8]>>>) -> Result<Answer, String> {
    // SAFETY: the call's descriptor.
    let natts = unsafe { (*sink.desc).natts } as usize;
    for row in rows {
        let [value] = row[..] else {
            return Err(format!(
                "a row of {} columns for a set of records",
                row.len()
            ));
        };
        match value {
            Some(bytes) => {
                // SAFETY: record_recv returned a composite datum of the
                // set's row type; the store copies the tuple.
                unsafe {
                    let mut tuple = conv::tuple_of_record(c.receive(bytes));
                    pg_sys::tuplestore_puttuple(sink.store, &mut tuple);
                }
            }
            None => {
                sink.put(
                    &mut vec![pg_sys::Datum::from(0); natts],
                    &mut vec![true; natts],
                );
            }
        }
    }
    Ok(Answer::Done)
}

/// The attributes of a composite type named as SQL would name it.
fn describe_type(name: &str) -> Answer {
    in_subtransaction(|| {
        let oid = pgrx::regtypein(name);
        // SAFETY: a catalog lookup of an existing type.
        if unsafe { pg_sys::get_typtype(oid) } as u8 != b'c' {
            crate::errors::raise(
                PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
                format!("type \"{name}\" is not a composite type"),
                None,
                None,
            );
        }
        Answer::Type {
            type_oid: oid.to_u32(),
            attributes: conv::attributes_of(oid),
        }
    })
    .unwrap_or_else(|e| e)
}

/// Emit a message below ERROR.  pgrx reports those by calling errfinish
/// directly, and errfinish can raise an ERROR of its own (a message the
/// client encoding cannot hold) or serve a pending cancel at its end: a
/// longjmp that would skip this call's cleanup (the lease, the nesting
/// count).  So the report runs behind an FFI boundary, which turns such an
/// ERROR into an unwinding panic, with interrupts held; a pending cancel
/// is served just after, the usual way.
fn emit(report: ErrorReport, level: PgLogLevel) {
    // SAFETY: a single-threaded backend; the holdoff is undone below on
    // every path (the boundary turns an ERROR into a panic, which the
    // guard's drop sees).
    unsafe { pg_sys::InterruptHoldoffCount += 1 };
    struct Resume;
    impl Drop for Resume {
        fn drop(&mut self) {
            // SAFETY: undoes the increment above.
            unsafe { pg_sys::InterruptHoldoffCount -= 1 };
        }
    }
    let resume = Resume;
    // SAFETY: the closure only reports; an ERROR inside comes back as a
    // panic carrying it.
    unsafe { pg_sys::ffi::pg_guard_ffi_boundary(|| report.report(level)) };
    drop(resume);
    pgrx::check_for_interrupts!();
}
