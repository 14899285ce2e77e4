//! What travels in the channel's areas.
//!
//! A call is one request and one reply, unless the body needs the backend
//! in between (a log message, an SPI query, a batch of rows of a set): then
//! the executor publishes an [`Upcall`] as a reply with status `UPCALL`, the
//! backend serves it and publishes the [`Answer`] as a `RESUME` request, and
//! the call goes on.  Upcalls come from user code, so the backend decodes
//! them in wire.rs like every other reply.

use bincode::{BorrowDecode, Decode, Encode};

/// Request operations (the header's `op` word).
pub mod op {
    /// The request area holds one compiled function (a shared object); the
    /// header's key names it.  Only before `SEAL`.
    pub const LOAD: u32 = 1;
    /// Install the sandbox: no more code can be loaded after this.
    pub const SEAL: u32 = 2;
    /// Call the function named by the key with the arguments, encoded by
    /// [`crate::args`].
    pub const CALL: u32 = 3;
    /// Set the principal's resource limits: the request is an encoded
    /// [`super::Limits`].  Only before `SEAL`, which requires it.
    pub const LIMITS: u32 = 4;
    /// The backend's [`super::Answer`] to the call's last upcall.
    pub const RESUME: u32 = 5;
}

/// Reply statuses (the header's `status` word).
pub mod status {
    /// LOAD and SEAL: done.  CALL: the reply area holds a bincode [`super::Reply`].
    pub const OK: u32 = 0;
    /// The executor could not do what was asked; the reply area holds a
    /// UTF-8 message.  The backend restarts the executor.
    pub const FAILED: u32 = 1;
    /// The call is not over: the reply area holds an [`super::Upcall`], and
    /// the executor waits for a `RESUME` request.
    pub const UPCALL: u32 = 2;
}

/// An ERROR as the body raised it: `Err(e)`, `error!`, `ereport!`.
#[derive(Debug, Clone, PartialEq, Eq, Encode, BorrowDecode)]
pub struct ErrorReport<'a> {
    /// Five characters [0-9A-Z]; None means the default for the case
    /// (22000 for `Err`).  The backend checks it.
    pub sqlstate: Option<[u8; 5]>,
    pub message: &'a str,
    pub detail: Option<&'a str>,
    pub hint: Option<&'a str>,
    /// The body's line (1-based) that raised it, 0 when not known: the
    /// CONTEXT line says it, as PL/pgSQL's says its statement's line.
    pub line: u32,
    /// An SPI error the body passed on (`?`): how it was reported where it
    /// arose, so that the error the body ends with reads as PostgreSQL
    /// would have reported it had nothing caught it.
    pub passed_on: Option<PassedOn<'a>>,
}

/// The parts of an SPI error that say where it arose (see spi.rs in the
/// handler): the CONTEXT lines of what ran inside the query (nested plrust
/// calls, `SQL statement "..."`), innermost first; for an error with a
/// position in the query (a syntax error), the query and the position;
/// where in PostgreSQL (or in a nested plrust body) it was raised, which
/// LOCATION says; and the objects it names (`\errverbose`'s SCHEMA NAME,
/// TABLE NAME, ...), which clients read to tell which constraint failed.
#[derive(Debug, Clone, PartialEq, Eq, Encode, BorrowDecode)]
pub struct PassedOn<'a> {
    pub context: Option<&'a str>,
    pub query: Option<&'a str>,
    /// 1-based character position in `query`; 0 for none.
    pub position: u32,
    pub source: Option<SourceLocation<'a>>,
    pub objects: ObjectNames<'a>,
}

/// LOCATION: the function, file and line that raised an error.
#[derive(Debug, Clone, PartialEq, Eq, Encode, BorrowDecode)]
pub struct SourceLocation<'a> {
    pub function: &'a str,
    pub file: &'a str,
    pub line: u32,
}

/// The names an error may carry of the objects it concerns (PostgreSQL's
/// `errtable()`, `errtablecol()`, `errdatatype()`, `errtableconstraint()`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, BorrowDecode)]
pub struct ObjectNames<'a> {
    pub schema: Option<&'a str>,
    pub table: Option<&'a str>,
    pub column: Option<&'a str>,
    pub datatype: Option<&'a str>,
    pub constraint: Option<&'a str>,
}

impl<'a> ObjectNames<'a> {
    fn texts(&self) -> [Option<&'a str>; 5] {
        [
            self.schema,
            self.table,
            self.column,
            self.datatype,
            self.constraint,
        ]
    }
}

impl<'a> PassedOn<'a> {
    /// Every text it carries, for bounding and checking.
    pub fn texts(&self) -> impl Iterator<Item = &'a str> {
        [self.context, self.query]
            .into_iter()
            .flatten()
            .chain(self.names())
    }

    /// The LOCATION's function and file and the object names: the texts
    /// the server log writes as they are (it escapes only the messages).
    pub fn names(&self) -> impl Iterator<Item = &'a str> {
        let source = self.source.as_ref().map(|s| (s.function, s.file));
        [source.map(|s| s.0), source.map(|s| s.1)]
            .into_iter()
            .chain(self.objects.texts())
            .flatten()
    }

    fn bounded(self) -> PassedOn<'a> {
        let names = self.objects;
        PassedOn {
            context: self.context.map(bounded),
            query: self.query.map(bounded),
            position: self.position,
            source: self.source.map(|s| SourceLocation {
                function: bounded(s.function),
                file: bounded(s.file),
                line: s.line,
            }),
            objects: ObjectNames {
                schema: names.schema.map(bounded),
                table: names.table.map(bounded),
                column: names.column.map(bounded),
                datatype: names.datatype.map(bounded),
                constraint: names.constraint.map(bounded),
            },
        }
    }
}

/// Where an SPI error arose, as the backend caught it (the owned
/// [`PassedOn`], in an [`Answer::Error`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct ErrorOrigin {
    pub context: Option<String>,
    pub query: Option<String>,
    pub position: u32,
    /// function, file, line.
    pub source: Option<(String, String, u32)>,
    /// schema, table, column, data type, constraint.
    pub objects: [Option<String>; 5],
}

impl From<&PassedOn<'_>> for ErrorOrigin {
    fn from(p: &PassedOn<'_>) -> ErrorOrigin {
        let o = &p.objects;
        ErrorOrigin {
            context: p.context.map(str::to_string),
            query: p.query.map(str::to_string),
            position: p.position,
            source: p
                .source
                .as_ref()
                .map(|s| (s.function.to_string(), s.file.to_string(), s.line)),
            objects: [o.schema, o.table, o.column, o.datatype, o.constraint]
                .map(|n| n.map(str::to_string)),
        }
    }
}

impl ErrorOrigin {
    /// What a body that passes the error on sends back.
    pub fn passed_on(&self) -> PassedOn<'_> {
        let name = |i: usize| self.objects[i].as_deref();
        PassedOn {
            context: self.context.as_deref(),
            query: self.query.as_deref(),
            position: self.position,
            source: self
                .source
                .as_ref()
                .map(|(function, file, line)| SourceLocation {
                    function,
                    file,
                    line: *line,
                }),
            objects: ObjectNames {
                schema: name(0),
                table: name(1),
                column: name(2),
                datatype: name(3),
                constraint: name(4),
            },
        }
    }
}

impl<'a> ErrorReport<'a> {
    /// A report of `message` alone.
    pub fn new(sqlstate: Option<[u8; 5]>, message: &'a str) -> ErrorReport<'a> {
        ErrorReport {
            sqlstate,
            message,
            detail: None,
            hint: None,
            line: 0,
            passed_on: None,
        }
    }

    /// The report with each text cut to what the receiver accepts
    /// (`limits::MAX_MESSAGE`): a long message is the sender's to shorten,
    /// not a broken protocol.
    pub fn bounded(self) -> ErrorReport<'a> {
        ErrorReport {
            sqlstate: self.sqlstate,
            message: bounded(self.message),
            detail: self.detail.map(bounded),
            hint: self.hint.map(bounded),
            line: self.line,
            passed_on: self.passed_on.map(PassedOn::bounded),
        }
    }
}

/// `s` cut to at most `limits::MAX_MESSAGE` bytes, on a character boundary.
pub fn bounded(s: &str) -> &str {
    let max = crate::limits::MAX_MESSAGE;
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The outcome of one call.  Values are in PostgreSQL's binary format for
/// the function's return type; the backend converts them with the type's
/// receive function (or a check of its own for the fixed-width types).
// An error's report is the large variant (~230 bytes of borrowed texts);
// a Reply lives on the stack for the moment it is decoded, once per call,
// so boxing it would only add an allocation to every error.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Encode, BorrowDecode)]
pub enum Reply<'a> {
    /// `Ok(Some(v))`, or `Ok(None)` (SQL NULL).  For a set-returning
    /// function, the end of the set (its rows came as `Upcall::Rows`).
    Value(Option<&'a [u8]>),
    /// `Err(e)`, `error!`, `ereport!(ERROR, ...)`.
    Error(ErrorReport<'a>),
    /// The body panicked: the panic message, and the body's line where it
    /// panicked (0 when not known: in a dependency's code, say).
    Panic { message: &'a str, line: u32 },
}

/// Message levels a body may use (`notice!` and friends).  Levels at or
/// above ERROR are not messages: they end the call, as `Reply::Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum LogLevel {
    Debug5,
    Debug4,
    Debug3,
    Debug2,
    Debug1,
    Log,
    Info,
    Notice,
    Warning,
}

/// One SPI argument: a type oid and the value in that type's binary format.
#[derive(Debug, Clone, PartialEq, Eq, Encode, BorrowDecode)]
pub struct SpiArg<'a> {
    pub type_oid: u32,
    pub value: Option<&'a [u8]>,
}

/// What a running call asks of its backend.
///
/// Its `BorrowDecode` is written out in wire.rs: it bounds the heap its
/// vectors take once decoded, which bincode's limit does not.  A new
/// variant or field goes there too.
#[derive(Debug, Clone, PartialEq, Encode)]
pub enum Upcall<'a> {
    /// Emit a message at `level`.
    Log {
        level: LogLevel,
        report: ErrorReport<'a>,
    },
    /// Run a query in the calling backend, as the calling role.  `select`
    /// opens a cursor whose rows come `batch` at a time; otherwise the
    /// statement runs to completion (`limit` rows at most, 0 = all).
    Execute {
        query: &'a str,
        args: Vec<SpiArg<'a>>,
        select: bool,
        limit: u64,
    },
    /// The next rows of an open cursor.
    Fetch { cursor: u32 },
    /// The body is done with a cursor.
    Close { cursor: u32 },
    /// Rows of a set-returning function: each row is its columns' values.
    Rows { rows: Vec<Vec<Option<&'a [u8]>>> },
    /// The attributes of a composite type, by name (`PgHeapTuple::new_composite_type`).
    DescribeType { name: &'a str },
    /// Open a cursor on a query without reading it (`SpiClient::open_cursor`):
    /// its rows come as the body asks for them (`FetchRows`), none read
    /// ahead, so that it can be left open for someone else (`Detach`).
    /// Answered with a `Table` of no rows.
    Open {
        query: &'a str,
        args: Vec<SpiArg<'a>>,
    },
    /// Up to `count` more rows of a cursor (fewer at its end, or where a
    /// batch's bytes run out: the answer's `cursor` is None only at the
    /// end).  The cursor stays open either way, until `Close` or `Detach`.
    FetchRows { cursor: u32, count: u32 },
    /// Leave a cursor open past the call (`SpiCursor::detach_into_name`):
    /// answered with its portal's name.
    Detach { cursor: u32 },
    /// Read from an open portal of the backend, by name
    /// (`SpiClient::find_cursor`): answered as `Open` is.
    Find { name: &'a str },
}

/// A result column: its name and type.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Column {
    pub name: String,
    pub type_oid: u32,
}

/// The backend's answer to an upcall.  The backend is trusted; the
/// executor still decodes it with bounds.
#[derive(Debug, Clone, PartialEq, Encode, Decode)]
pub enum Answer {
    /// Log, Rows, Close: done.
    Done,
    /// The query (or its arguments) raised an ERROR, which was rolled back:
    /// the body gets it as `Err`.
    Error {
        sqlstate: [u8; 5],
        message: String,
        detail: Option<String>,
        hint: Option<String>,
        /// Where it arose; a body that passes the error on sends it back.
        origin: Option<Box<ErrorOrigin>>,
    },
    /// Rows of a query.  `cursor` is set while more rows remain to be fetched.
    Table {
        columns: Vec<Column>,
        rows: Vec<Vec<Option<Vec<u8>>>>,
        processed: u64,
        cursor: Option<u32>,
    },
    /// The name of a portal left open (`Detach`).
    Name { name: String },
    /// A composite type's oid and attributes.
    Type {
        type_oid: u32,
        attributes: Vec<Attribute>,
    },
}

/// An attribute of a composite type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Encode, Decode)]
pub struct Attribute {
    pub name: String,
    /// The declared type (a domain stays a domain).
    pub type_oid: u32,
    /// The type whose binary format the value has (a domain's base type).
    pub base_oid: u32,
}

/// What a trigger function learns about its firing: the first argument
/// of a trigger call; the new and old rows (records, or NULL) follow.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct TriggerInfo {
    pub name: String,
    /// b'B'efore, b'A'fter, b'I'nstead of.
    pub when: u8,
    /// b'R'ow or b'S'tatement.
    pub level: u8,
    /// b'I'nsert, b'U'pdate, b'D'elete, b'T'runcate.
    pub op: u8,
    pub relid: u32,
    pub table_name: String,
    pub table_schema: String,
    pub args: Vec<String>,
    pub old_transition_table: Option<String>,
    pub new_transition_table: Option<String>,
    /// The table's row type and its attributes.
    pub row_type: u32,
    pub attributes: Vec<Attribute>,
}

/// Resource limits an executor applies to itself when it is bound, before
/// any user code is loaded: they are the binding backend's settings, so
/// `ALTER ROLE ... SET` applies per role (see handler/src/dispatch.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct Limits {
    /// RLIMIT_AS, bytes.
    pub address_space: u64,
}

/// How a compiled function reaches its executor during a call: the
/// executor passes this to `plrust_entry`, and trusted-api calls `upcall`
/// to send an [`Upcall`] and wait for the [`Answer`].
///
/// `upcall(ctx, req, req_len, answer_len)` returns the answer's bytes,
/// valid until the next upcall or the end of the call.
#[repr(C)]
pub struct Host {
    pub ctx: *mut std::ffi::c_void,
    pub upcall: unsafe extern "C" fn(
        ctx: *mut std::ffi::c_void,
        req: *const u8,
        req_len: usize,
        answer_len: *mut usize,
    ) -> *const u8,
}

/// `plrust_entry(host, args, args_len, reply, reply_cap) -> reply_len`, the
/// one symbol of a compiled function (handler/compiler/src/codegen.rs).
pub type EntryFn = unsafe extern "C" fn(*const Host, *const u8, usize, *mut u8, usize) -> usize;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::MAX_MESSAGE;

    #[test]
    fn bounded_cuts_long_texts_on_a_character_boundary() {
        assert_eq!(bounded("short"), "short");
        // 'é' is two bytes: a cut at MAX_MESSAGE would split one.
        let long = format!("x{}", "é".repeat(MAX_MESSAGE));
        let cut = bounded(&long);
        assert_eq!(cut.len(), MAX_MESSAGE - 1);
        assert!(long.starts_with(cut));
        let detail = "d".repeat(MAX_MESSAGE + 10);
        let r = ErrorReport {
            detail: Some(&detail),
            passed_on: Some(PassedOn {
                context: Some(&detail),
                query: None,
                position: 0,
                source: Some(SourceLocation {
                    function: "f",
                    file: &detail,
                    line: 1,
                }),
                objects: ObjectNames {
                    table: Some(&detail),
                    ..ObjectNames::default()
                },
            }),
            ..ErrorReport::new(None, "m")
        }
        .bounded();
        assert_eq!(r.message, "m");
        assert_eq!(r.detail.map(str::len), Some(MAX_MESSAGE));
        let p = r.passed_on.unwrap();
        assert_eq!(p.context.map(str::len), Some(MAX_MESSAGE));
        assert_eq!(p.source.map(|s| s.file.len()), Some(MAX_MESSAGE));
        assert_eq!(p.objects.table.map(str::len), Some(MAX_MESSAGE));
    }
}
