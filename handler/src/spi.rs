//! SPI on behalf of a running body: queries run here, in the calling
//! backend, as the current role (so privileges, RLS, search_path and
//! SECURITY DEFINER apply as PostgreSQL defines them).
//!
//! Each request runs in an internal subtransaction, as PL/Python's SPI
//! calls do: an ERROR is rolled back and becomes the body's `Err`, and
//! the transaction goes on.  A cancel or a timeout is not the body's to
//! catch: it is rethrown after the rollback.
//!
//! A `select` opens a cursor and answers with the first batch; the body
//! fetches the rest one batch at a time, so neither the channel nor the
//! executor ever holds the whole result.

use std::ffi::{CStr, CString};

use pgrx::pg_sys::panic::CaughtError;
use pgrx::prelude::*;
use pgrx::PgTupleDesc;
use plrust_ipc::message::{bounded, Answer, Column, ErrorOrigin, SpiArg};

use std::cell::RefCell;

use crate::backend_local::BackendLocal;
use crate::conv;
use crate::errors::raise;

/// A batch ends after this many rows or (about) this many bytes.
const BATCH_ROWS: usize = 1000;
const BATCH_BYTES: usize = 1 << 20;
/// An answer must fit in the request area with room to spare.
const MAX_ANSWER: usize = plrust_ipc::limits::REQUEST_AREA - (64 << 10);

/// The SPI state of one call: connected on first use, and the cursors the
/// body has open, closed when the call ends.
pub struct CallSpi {
    connected: bool,
    /// A trigger's firing: registered with SPI so that queries can read
    /// its transition tables.
    trigger: Option<*mut pg_sys::TriggerData>,
    cursors: Vec<Cursor>,
    next_cursor: u32,
}

/// An open cursor of the body's: its portal, and how many rows its
/// select's limit still allows.
struct Cursor {
    id: u32,
    name: CString,
    left: u64,
}

fn sqlstate_of(code: PgSqlErrorCode) -> [u8; 5] {
    let code = code as isize as u32;
    let mut out = [0u8; 5];
    for (i, c) in out.iter_mut().enumerate() {
        *c = (((code >> (6 * i)) & 0x3F) as u8) + b'0';
    }
    out
}

/// Errors the body gets to see; anything else (a cancel, a timeout, a
/// shutdown) goes on unwinding.
fn catchable(code: PgSqlErrorCode) -> bool {
    !matches!(
        code,
        PgSqlErrorCode::ERRCODE_QUERY_CANCELED
            | PgSqlErrorCode::ERRCODE_ADMIN_SHUTDOWN
            | PgSqlErrorCode::ERRCODE_CRASH_SHUTDOWN
            | PgSqlErrorCode::ERRCODE_CANNOT_CONNECT_NOW
    )
}

/// Run `f` in an internal subtransaction; an ERROR it raises is rolled
/// back and returned as `Answer::Error`.
pub fn in_subtransaction<R>(f: impl FnOnce() -> R) -> Result<R, Answer> {
    // SAFETY: the usual internal-subtransaction dance (see PL/Python's
    // PLy_spi_subtransaction_begin/commit/abort): remember the memory
    // context and resource owner, start, work in the caller's context.
    let (oldcontext, oldowner) = unsafe {
        let cx = pg_sys::CurrentMemoryContext;
        let owner = pg_sys::CurrentResourceOwner;
        pg_sys::BeginInternalSubTransaction(std::ptr::null());
        pg_sys::MemoryContextSwitchTo(cx);
        (cx, owner)
    };
    // Both closures restore the same state; raw pointers are not
    // UnwindSafe, but these are only copied back into globals.
    let saved = std::panic::AssertUnwindSafe((oldcontext, oldowner));
    let saved_for_catch = std::panic::AssertUnwindSafe((oldcontext, oldowner));
    // Made in the caller's context, which outlives the subtransaction.
    let note = crate::errors::OriginNote::new();
    // Read only through `take`, after the try's unwinding is over.
    let note_for_catch = std::panic::AssertUnwindSafe(&note);
    let note = std::panic::AssertUnwindSafe(&note);
    PgTryBuilder::new(std::panic::AssertUnwindSafe(move || {
        let answer = note.around(f);
        // SAFETY: commit the subtransaction begun above and go back to the
        // caller's context and resource owner.
        unsafe {
            pg_sys::ReleaseCurrentSubTransaction();
            pg_sys::MemoryContextSwitchTo(saved.0 .0);
            pg_sys::CurrentResourceOwner = saved.0 .1;
        }
        Ok(answer)
    }))
    .catch_others(|e| {
        // SAFETY: abort the subtransaction begun above (pgrx has already
        // copied and flushed the error) and restore the caller's state.
        unsafe {
            pg_sys::MemoryContextSwitchTo(saved_for_catch.0 .0);
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
            pg_sys::MemoryContextSwitchTo(saved_for_catch.0 .0);
            pg_sys::CurrentResourceOwner = saved_for_catch.0 .1;
        }
        let report = match &e {
            CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) => r,
            CaughtError::RustPanic { ereport, .. } => ereport,
        };
        let origin = note_for_catch.take(report.sql_error_code(), report.message());
        if !catchable(report.sql_error_code()) {
            e.rethrow();
        }
        // An ERROR's texts can be longer than the executor accepts (a
        // message built from data): cut, not a broken protocol.
        let cut = |s: String| bounded(&s).to_string();
        Err(Answer::Error {
            sqlstate: sqlstate_of(report.sql_error_code()),
            message: bounded(report.message()).to_string(),
            detail: report.detail().map(|d| bounded(d).to_string()),
            hint: report.hint().map(|h| bounded(h).to_string()),
            origin: origin.map(|o| {
                let o = o.at;
                Box::new(ErrorOrigin {
                    context: o.context.map(cut),
                    query: o.query.map(cut),
                    position: o.position,
                    source: o
                        .source
                        .map(|(function, file, line)| (cut(function), cut(file), line)),
                    objects: o.objects.map(|n| n.map(cut)),
                })
            }),
        })
    })
    .execute()
}

/// Prepared statements of this backend, by query text and argument types,
/// newest last.  Bodies run the same few statements on every call; parsing
/// and planning each time cost more than running them.  A kept plan is a
/// cached plan like PL/pgSQL's: PostgreSQL replans it when what it depends
/// on changes (tables, search_path, the role for row-level security), and
/// privileges are checked when it runs.
static PLANS: BackendLocal<RefCell<Vec<KeptPlan>>> = BackendLocal::new(RefCell::new(Vec::new()));
type KeptPlan = (CString, Vec<pg_sys::Oid>, pg_sys::SPIPlanPtr);
const PLANS_KEPT: usize = 64;

/// The prepared plan of `query` with arguments of `types`; an ERROR if it
/// does not parse (the caller's subtransaction turns that into `Err`).
fn prepared(query: &CStr, types: &[pg_sys::Oid]) -> pg_sys::SPIPlanPtr {
    if let Some(plan) = PLANS
        .borrow()
        .iter()
        .find(|(q, t, _)| q.as_c_str() == query && t == types)
        .map(|(_, _, p)| *p)
    {
        return plan;
    }
    let mut types = types.to_vec();
    // SAFETY: a NUL-terminated query and `types.len()` argument types; SPI
    // is connected.  SPI_keepplan moves the plan out of SPI's memory, so
    // it outlives the call; it is freed when evicted.
    let plan = unsafe {
        let plan = pg_sys::SPI_prepare(query.as_ptr(), types.len() as i32, types.as_mut_ptr());
        if plan.is_null() {
            let code = pg_sys::SPI_result;
            raise(
                PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                format!("SPI_prepare failed: {code}"),
                None,
                None,
            );
        }
        pg_sys::SPI_keepplan(plan);
        plan
    };
    let mut plans = PLANS.borrow_mut();
    if plans.len() >= PLANS_KEPT {
        let (_, _, old) = plans.remove(0);
        // SAFETY: a plan kept above and no longer referenced: nothing holds
        // a plan across upcalls.
        unsafe { pg_sys::SPI_freeplan(old) };
    }
    plans.push((query.to_owned(), types, plan));
    plan
}

/// Arguments of a query: (types, values, nulls) as SPI wants them.
fn arguments(args: &[SpiArg<'_>]) -> (Vec<pg_sys::Oid>, Vec<pg_sys::Datum>, Vec<std::ffi::c_char>) {
    let mut types = Vec::with_capacity(args.len());
    let mut values = Vec::with_capacity(args.len());
    let mut nulls = Vec::with_capacity(args.len());
    for a in args {
        let oid = pg_sys::Oid::from(a.type_oid);
        types.push(oid);
        match a.value {
            Some(bytes) => {
                values.push(conv::receive_any(oid, bytes));
                nulls.push(b' ' as std::ffi::c_char);
            }
            None => {
                values.push(pg_sys::Datum::from(0));
                nulls.push(b'n' as std::ffi::c_char);
            }
        }
    }
    (types, values, nulls)
}

/// Rows of a result, each its columns' values in binary format.
type Rows = Vec<Vec<Option<Vec<u8>>>>;

/// The columns of a result and how to send each.
struct Columns {
    columns: Vec<Column>,
    send: Vec<pg_sys::FmgrInfo>,
}

/// # Safety
/// `desc` is a valid tuple descriptor.
unsafe fn columns_of(desc: pg_sys::TupleDesc) -> Columns {
    // SAFETY: the caller's contract.  PgTupleDesc finds the attributes
    // where each major keeps them (PostgreSQL 18 moved them behind the new
    // compact attributes); it does not free a descriptor it did not make.
    let desc = unsafe { PgTupleDesc::from_pg_unchecked(desc) };
    let mut columns = Vec::new();
    let mut send = Vec::new();
    for a in desc.iter() {
        // SAFETY: NameData holds a NUL-terminated name.
        let name = unsafe { CStr::from_ptr(a.attname.data.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        // The body decodes by the type whose format travels: a domain's
        // base type.
        // SAFETY: plain catalog lookups of a valid type oid.
        let base = unsafe { pg_sys::getBaseType(a.atttypid) };
        let mut func = pg_sys::InvalidOid;
        let mut varlena = false;
        // SAFETY: out-pointers to locals; a type without a send function is an ERROR.
        unsafe { pg_sys::getTypeBinaryOutputInfo(a.atttypid, &mut func, &mut varlena) };
        columns.push(Column {
            name,
            type_oid: base.to_u32(),
        });
        send.push(conv::fmgr_info_here(func));
    }
    Columns { columns, send }
}

/// The rows of SPI_tuptable from `from` on, converted; (rows, bytes).
///
/// # Safety
/// SPI_tuptable is the result of the last SPI call, described by `cols`.
/// Stops with an ERROR as soon as the rows converted so far (`bytes`
/// before this call included) pass MAX_ANSWER: no answer that large can be
/// sent, and converting the rest would only cost the backend memory.
unsafe fn rows_of(cols: &Columns, rows: &mut Rows, mut bytes: usize) -> usize {
    let _utf8 = conv::ClientEncodingIsUtf8::new();
    // SAFETY: the caller's contract: SPI_tuptable holds SPI_processed rows.
    unsafe {
        let table = pg_sys::SPI_tuptable;
        if table.is_null() {
            return 0;
        }
        let n = pg_sys::SPI_processed as usize;
        let tuples = std::slice::from_raw_parts((*table).vals, n);
        for t in tuples {
            let mut row = Vec::with_capacity(cols.send.len());
            // What the row costs in the answer: a length prefix per row and
            // per value, a tag per value (rounded up).
            bytes += 16;
            for (i, info) in cols.send.iter().enumerate() {
                let mut isnull = false;
                let d = pg_sys::SPI_getbinval(*t, (*table).tupdesc, i as i32 + 1, &mut isnull);
                bytes += 16;
                if isnull {
                    row.push(None);
                } else {
                    let v = conv::send_with(info, d);
                    bytes += v.len();
                    row.push(Some(v));
                }
            }
            rows.push(row);
            if bytes > MAX_ANSWER {
                too_large();
            }
        }
        pg_sys::SPI_freetuptable(table);
    }
    bytes
}

fn too_large() -> ! {
    raise(
        PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        "plrust: a statement's result is too large to return at once".into(),
        Some(format!("At most {MAX_ANSWER} bytes fit in one answer.")),
        Some("Use select (a cursor) for large results, or LIMIT the rows.".into()),
    )
}

impl CallSpi {
    pub fn new(trigger: Option<*mut pg_sys::TriggerData>) -> CallSpi {
        CallSpi {
            connected: false,
            trigger,
            cursors: Vec::new(),
            next_cursor: 0,
        }
    }

    pub fn connect(&mut self) {
        if !self.connected {
            // SAFETY: SPI_connect from a PL handler; SPI_finish in finish().
            let rc = unsafe { pg_sys::SPI_connect() };
            if rc != pg_sys::SPI_OK_CONNECT as i32 {
                raise(
                    PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                    format!("SPI_connect failed: {rc}"),
                    None,
                    None,
                );
            }
            self.connected = true;
            if let Some(data) = self.trigger {
                // SAFETY: the trigger manager's TriggerData for this call.
                unsafe { pg_sys::SPI_register_trigger_data(data) };
            }
        }
    }

    /// Run a query (Upcall::Execute).
    pub fn execute(
        &mut self,
        query: &str,
        args: &[SpiArg<'_>],
        select: bool,
        limit: u64,
        read_only: bool,
    ) -> Answer {
        self.connect();
        let Ok(query) = CString::new(query) else {
            return nul_in_query();
        };
        let result = in_subtransaction(|| {
            let (types, mut values, nulls) = arguments(args);
            let plan = prepared(&query, &types);
            // A select of a few rows (get_one and friends) runs at once; a
            // larger or unbounded one through a cursor.
            if select && !(1..=BATCH_ROWS as u64).contains(&limit) {
                // SAFETY: a kept plan; argument arrays of its arity; SPI is
                // connected.
                let portal = unsafe {
                    pg_sys::SPI_cursor_open(
                        std::ptr::null(),
                        plan,
                        values.as_mut_ptr(),
                        nulls.as_ptr(),
                        read_only,
                    )
                };
                let limit = if limit == 0 { u64::MAX } else { limit };
                // SAFETY: the portal was just opened.
                let name = unsafe { CStr::from_ptr((*portal).name) }.to_owned();
                let (columns, rows, done) = fetch(portal, limit);
                let open = if done {
                    // SAFETY: our portal, no longer needed.
                    unsafe { pg_sys::SPI_cursor_close(portal) };
                    None
                } else {
                    Some(Cursor {
                        id: 0,
                        name,
                        left: limit.saturating_sub(rows.len() as u64),
                    })
                };
                (
                    Answer::Table {
                        columns,
                        processed: rows.len() as u64,
                        rows,
                        cursor: None,
                    },
                    open,
                )
            } else {
                // SAFETY: as above.
                let rc = unsafe {
                    pg_sys::SPI_execute_plan(
                        plan,
                        values.as_mut_ptr(),
                        nulls.as_ptr(),
                        read_only,
                        limit as std::ffi::c_long,
                    )
                };
                if rc < 0 {
                    raise(
                        PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
                        format!("SPI_execute_plan failed: {rc}"),
                        None,
                        None,
                    );
                }
                // SAFETY: the statement just ran; its tuptable (if any) is current.
                unsafe {
                    let processed = pg_sys::SPI_processed;
                    let table = pg_sys::SPI_tuptable;
                    let mut rows = Vec::new();
                    let mut columns = Vec::new();
                    if !table.is_null() {
                        let cols = columns_of((*table).tupdesc);
                        rows_of(&cols, &mut rows, 0);
                        columns = cols.columns;
                    }
                    (
                        Answer::Table {
                            columns,
                            rows,
                            processed,
                            cursor: None,
                        },
                        None,
                    )
                }
            }
        });
        match result {
            Ok((mut answer, Some(mut cursor))) => {
                cursor.id = self.next_cursor;
                self.next_cursor += 1;
                if let Answer::Table { cursor: c, .. } = &mut answer {
                    *c = Some(cursor.id);
                }
                self.cursors.push(cursor);
                answer
            }
            Ok((answer, None)) => answer,
            Err(error) => error,
        }
    }

    /// The next batch of an open cursor (Upcall::Fetch).
    pub fn fetch(&mut self, id: u32) -> Answer {
        let Some(pos) = self.cursors.iter().position(|c| c.id == id) else {
            return no_cursor(format!("plrust: cursor {id} is not open"));
        };
        let name = self.cursors[pos].name.clone();
        let left = self.cursors[pos].left;
        let result = in_subtransaction(|| {
            // SAFETY: a NUL-terminated portal name.
            let portal = unsafe { pg_sys::SPI_cursor_find(name.as_ptr()) };
            if portal.is_null() {
                return no_cursor("plrust: the cursor is gone".into());
            }
            let (columns, rows, done) = fetch(portal, left);
            if done {
                // SAFETY: our portal, read to the end.
                unsafe { pg_sys::SPI_cursor_close(portal) };
            }
            Answer::Table {
                columns,
                processed: rows.len() as u64,
                rows,
                cursor: (!done).then_some(id),
            }
        });
        let answer = result.unwrap_or_else(|e| e);
        match &answer {
            Answer::Table {
                cursor: Some(_),
                rows,
                ..
            } => {
                let c = &mut self.cursors[pos];
                c.left = c.left.saturating_sub(rows.len() as u64);
            }
            _ => {
                // Read to the end (closed already), or failed: a failed
                // portal would otherwise live until the transaction ends.
                let c = self.cursors.remove(pos);
                close_portal(&c.name);
            }
        }
        answer
    }

    /// Open a cursor without reading it (Upcall::Open): the body's
    /// `SpiCursor`, whose rows it asks for a number at a time.
    pub fn open(&mut self, query: &str, args: &[SpiArg<'_>], read_only: bool) -> Answer {
        self.connect();
        let Ok(query) = CString::new(query) else {
            return nul_in_query();
        };
        // The portal and its columns in one subtransaction: a column type
        // without a send function is an ERROR, rolled back (portal and
        // all) into the body's Err.
        let opened = in_subtransaction(|| {
            let (types, mut values, nulls) = arguments(args);
            let plan = prepared(&query, &types);
            // SAFETY: a kept plan; argument arrays of its arity; SPI is
            // connected; the portal just opened has its descriptor.
            unsafe {
                let portal = pg_sys::SPI_cursor_open(
                    std::ptr::null(),
                    plan,
                    values.as_mut_ptr(),
                    nulls.as_ptr(),
                    read_only,
                );
                let name = CStr::from_ptr((*portal).name).to_owned();
                if (*portal).tupDesc.is_null() {
                    pg_sys::SPI_cursor_close(portal);
                    return Err(no_cursor("the query of a cursor must return rows".into()));
                }
                Ok((name, columns_of((*portal).tupDesc).columns))
            }
        });
        match opened {
            Ok(Ok((name, columns))) => self.attach(name, columns),
            Ok(Err(refused)) | Err(refused) => refused,
        }
    }

    /// Read from an open portal found by name (Upcall::Find): one a body
    /// detached, or any the session has open, as SQL's FETCH could, but
    /// not one in use (pinned, as a PL/pgSQL FOR loop's, or running, as
    /// the statement that called this function): closing that when the
    /// call ends would be an ERROR nobody could catch.
    pub fn find(&mut self, name: &str) -> Answer {
        self.connect();
        let shown = bounded(name).to_string();
        let name = match CString::new(name) {
            Ok(n) if !n.is_empty() => n,
            _ => return no_cursor(format!("cursor \"{shown}\" does not exist")),
        };
        if self.cursors.iter().any(|c| c.name == name) {
            return no_cursor(format!("cursor \"{shown}\" is already open in this call"));
        }
        let found = in_subtransaction(|| {
            // SAFETY: a NUL-terminated name; a found portal and its
            // descriptor are valid while it is open.
            unsafe {
                let portal = pg_sys::SPI_cursor_find(name.as_ptr());
                if portal.is_null() {
                    return Err(no_cursor(format!("cursor \"{shown}\" does not exist")));
                }
                if (*portal).portalPinned || (*portal).status != pg_sys::PortalStatus::PORTAL_READY
                {
                    return Err(no_cursor(format!("cursor \"{shown}\" is in use")));
                }
                if (*portal).tupDesc.is_null() {
                    return Err(no_cursor(format!(
                        "cursor \"{shown}\" does not return rows"
                    )));
                }
                Ok(columns_of((*portal).tupDesc).columns)
            }
        });
        match found {
            Ok(Ok(columns)) => self.attach(name, columns),
            Ok(Err(refused)) | Err(refused) => refused,
        }
    }

    /// Register the portal `name` as one of the body's cursors: answered
    /// with its columns and no rows.
    fn attach(&mut self, name: CString, columns: Vec<Column>) -> Answer {
        let Some(next) = self.next_cursor.checked_add(1) else {
            close_portal(&name);
            return no_cursor("plrust: too many cursors in one call".into());
        };
        let id = self.next_cursor;
        self.next_cursor = next;
        self.cursors.push(Cursor {
            id,
            name,
            left: u64::MAX,
        });
        Answer::Table {
            columns,
            rows: Vec::new(),
            processed: 0,
            cursor: Some(id),
        }
    }

    /// Up to `count` rows of a cursor (Upcall::FetchRows), which stays
    /// open: `cursor` in the answer is None once its end is reached.  A
    /// cursor whose fetch failed is closed, as `fetch` does.
    pub fn fetch_rows(&mut self, id: u32, count: u32) -> Answer {
        let Some(pos) = self.cursors.iter().position(|c| c.id == id) else {
            return no_cursor(format!("plrust: cursor {id} is not open"));
        };
        let name = self.cursors[pos].name.clone();
        let result = in_subtransaction(|| {
            // SAFETY: a NUL-terminated portal name.
            let portal = unsafe { pg_sys::SPI_cursor_find(name.as_ptr()) };
            if portal.is_null() {
                return no_cursor("plrust: the cursor is gone".into());
            }
            let (columns, rows, done) = fetch(portal, u64::from(count));
            let at_end = done && (rows.len() as u64) < u64::from(count);
            Answer::Table {
                columns,
                processed: rows.len() as u64,
                rows,
                cursor: (!at_end).then_some(id),
            }
        });
        let answer = result.unwrap_or_else(|e| e);
        if !matches!(answer, Answer::Table { .. }) {
            let c = self.cursors.remove(pos);
            close_portal(&c.name);
        }
        answer
    }

    /// Leave a cursor open past the call (Upcall::Detach): the portal is
    /// no longer the call's to close, and lives until the transaction ends
    /// (or someone closes it by name).
    pub fn detach(&mut self, id: u32) -> Answer {
        let Some(pos) = self.cursors.iter().position(|c| c.id == id) else {
            return no_cursor(format!("plrust: cursor {id} is not open"));
        };
        let c = self.cursors.remove(pos);
        Answer::Name {
            name: c.name.to_string_lossy().into_owned(),
        }
    }

    /// Close a cursor the body dropped early (Upcall::Close).
    pub fn close(&mut self, id: u32) -> Answer {
        if let Some(pos) = self.cursors.iter().position(|c| c.id == id) {
            let c = self.cursors.remove(pos);
            close_portal(&c.name);
        }
        Answer::Done
    }

    /// The call is over: close its cursors and disconnect.
    pub fn finish(&mut self) {
        for c in std::mem::take(&mut self.cursors) {
            close_portal(&c.name);
        }
        if self.connected {
            self.connected = false;
            // SAFETY: connected by connect() in this call.
            unsafe { pg_sys::SPI_finish() };
        }
    }
}

/// 22021 character_not_in_repertoire: a query with a NUL in it.
fn nul_in_query() -> Answer {
    Answer::Error {
        sqlstate: *b"22021",
        message: "a query cannot contain a NUL character".into(),
        detail: None,
        hint: None,
        origin: None,
    }
}

/// 34000 invalid_cursor_name: the body asked for a cursor that is gone.
fn no_cursor(message: String) -> Answer {
    Answer::Error {
        sqlstate: *b"34000",
        message,
        detail: None,
        hint: None,
        origin: None,
    }
}

fn close_portal(name: &CStr) {
    // SAFETY: a NUL-terminated name; a portal that is gone is skipped, and
    // so is one in use (pinned or running), which PortalDrop would refuse
    // with an ERROR: it is its user's to close, or the transaction's.
    unsafe {
        let portal = pg_sys::SPI_cursor_find(name.as_ptr());
        if !portal.is_null()
            && !(*portal).portalPinned
            && (*portal).status != pg_sys::PortalStatus::PORTAL_ACTIVE
        {
            pg_sys::SPI_cursor_close(portal);
        }
    }
}

/// Read up to a batch (and at most `limit` rows) from `portal`:
/// (columns, rows, whether the cursor is exhausted).
fn fetch(portal: pg_sys::Portal, limit: u64) -> (Vec<Column>, Rows, bool) {
    let mut rows = Vec::new();
    let mut bytes = 0;
    let mut columns = Vec::new();
    let mut cols: Option<Columns> = None;
    loop {
        let remaining = limit.saturating_sub(rows.len() as u64);
        if remaining == 0 {
            return (columns, rows, true);
        }
        // Up to 64 rows a fetch, fewer when the rows so far were large: a
        // batch should end near BATCH_BYTES, not 64 large rows past it.
        let per_row = if rows.is_empty() {
            0
        } else {
            bytes / rows.len()
        };
        let room = BATCH_BYTES.saturating_sub(bytes) / per_row.max(1);
        let want = (BATCH_ROWS - rows.len())
            .min(64)
            .min(room.max(1))
            .min(remaining.min(64) as usize);
        // SAFETY: a live portal; SPI is connected.
        unsafe { pg_sys::SPI_cursor_fetch(portal, true, want as std::ffi::c_long) };
        // SAFETY: the fetch just set SPI_processed and SPI_tuptable.
        let got = unsafe { pg_sys::SPI_processed } as usize;
        if cols.is_none() {
            // SAFETY: as above; a fetch always returns a tuptable with the
            // portal's descriptor.
            let c = unsafe { columns_of((*pg_sys::SPI_tuptable).tupdesc) };
            columns = c.columns.clone();
            cols = Some(c);
        }
        // SAFETY: as above.
        bytes = unsafe { rows_of(cols.as_ref().expect("set above"), &mut rows, bytes) };
        if got < want {
            return (columns, rows, true);
        }
        if rows.len() >= BATCH_ROWS || bytes >= BATCH_BYTES {
            return (columns, rows, false);
        }
    }
}
