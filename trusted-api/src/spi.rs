//! SPI, proxied: every query runs in the calling backend, as the calling
//! role, inside a subtransaction there, so an SQL error comes back as
//! `Err(SpiError::Sql)` and leaves the transaction usable.  `select` reads
//! through a cursor a batch at a time, so a large result never has to fit
//! in the channel or in this process.
//!
//! The names follow pgrx 0.11, which PL/Rust 1.2 bodies use:
//! `Spi::get_one`, `Spi::get_one_with_args`, `Spi::run`,
//! `Spi::connect(|client| client.select(...))`, `row["col"].value::<T>()`.
//! The lifetimes pgrx gives its SPI types (`SpiClient<'conn>` and what it
//! returns) are markers here: every value is owned, but a table still
//! cannot outlive the `Spi::connect` closure, as in pgrx, so a body that
//! compiles here compiles under PL/Rust.

mod cursor;
mod query;
mod tuple;

use std::marker::PhantomData;

use plrust_ipc::message::{Answer, SpiArg, Upcall};

use crate::datum::{Datum, FromDatum, Json, PgOid, TryFromDatumError};
pub use crate::spi_codes::{SpiErrorCodes, SpiOkCodes, UnknownVariant};
use crate::upcall::upcall;
pub use cursor::SpiCursor;
pub use plrust_ipc::message::ErrorOrigin;
pub use query::{OwnedPreparedStatement, PreparedStatement, Query};
pub use tuple::{SpiHeapTupleData, SpiHeapTupleDataEntry, SpiTupleTable};

/// Why an SPI call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpiError {
    /// The query raised an ERROR in the backend (rolled back to before it).
    Sql {
        sqlstate: [u8; 5],
        message: String,
        detail: Option<String>,
        hint: Option<String>,
        /// Where it arose; sent back if the body passes the error on.
        origin: Option<Box<ErrorOrigin>>,
        /// The body's line of the SPI call that failed (0: not known), the
        /// CONTEXT line's when the body passes the error on with `?`, as
        /// PL/pgSQL's says its statement's line.
        line: u32,
    },
    /// A value could not be converted to the Rust type asked for.
    Datum(TryFromDatumError),
    /// No current row (an empty result, or `get_*` before `first()`).
    InvalidPosition,
    /// No column by that name or ordinal.
    NoSuchColumn(String),
    /// The backend answered something other than what was asked.
    Protocol,
    /// An SPI status code that is an error (`Spi::check_status`).
    SpiError(SpiErrorCodes),
    /// A prepared statement run with another number of arguments than it
    /// was prepared with.
    PreparedStatementArgumentMismatch { expected: usize, got: usize },
}

pub type Error = SpiError;
pub type Result<T> = std::result::Result<T, SpiError>;

impl std::fmt::Display for SpiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpiError::Sql { message, .. } => write!(f, "{message}"),
            SpiError::Datum(e) => write!(f, "{e}"),
            SpiError::InvalidPosition => write!(
                f,
                "SpiTupleTable positioned before the start or after the end"
            ),
            SpiError::NoSuchColumn(c) => write!(f, "no such column: {c}"),
            SpiError::Protocol => write!(f, "plrust: unexpected answer from the backend"),
            SpiError::SpiError(code) => write!(f, "SPI error: {code}"),
            SpiError::PreparedStatementArgumentMismatch { expected, got } => write!(
                f,
                "argument count mismatch: the statement takes {expected} arguments, {got} were given"
            ),
        }
    }
}

impl std::error::Error for SpiError {}

impl From<TryFromDatumError> for SpiError {
    fn from(e: TryFromDatumError) -> SpiError {
        SpiError::Datum(e)
    }
}

/// Arguments as PL/Rust bodies write them: `(PgBuiltInOids::INT4OID.oid(), 1.into_datum())`.
pub type SpiArgs = Vec<(PgOid, Option<Datum>)>;

/// Arguments as the channel carries them: each one's type and bytes.
fn wire_args(args: &[(PgOid, Option<Datum>)]) -> Vec<SpiArg<'_>> {
    args.iter()
        .map(|(oid, d)| SpiArg {
            type_oid: oid.value().as_u32(),
            value: d.as_ref().map(|d| d.bytes.as_slice()),
        })
        .collect()
}

/// Run `query` in the backend.  `select` reads through a cursor (the
/// backend decides whether one is needed); otherwise the statement runs to
/// completion and its rows, if any, come back at once.
#[track_caller]
fn execute<'conn>(
    query: &str,
    args: &[(PgOid, Option<Datum>)],
    select: bool,
    limit: Option<i64>,
) -> Result<SpiTupleTable<'conn>> {
    let args = wire_args(args);
    let answer = upcall(&Upcall::Execute {
        query,
        args,
        select,
        limit: limit.filter(|l| *l > 0).map_or(0, |l| l as u64),
    });
    SpiTupleTable::from_answer(answer, tuple::BACKEND)
}

/// The error an answer carries, at the body's line of the SPI call it
/// answers: every function between the body and here is
/// `#[track_caller]`, so the caller's location is the body's call.
#[track_caller]
fn sql_error(answer: Answer) -> SpiError {
    match answer {
        Answer::Error {
            sqlstate,
            message,
            detail,
            hint,
            origin,
        } => SpiError::Sql {
            sqlstate,
            message,
            detail,
            hint,
            origin,
            line: crate::upcall::body_line(std::panic::Location::caller()),
        },
        _ => SpiError::Protocol,
    }
}

/// The entry point PL/Rust bodies use.
pub struct Spi;

impl Spi {
    /// pgrx's check of an SPI status code: an `SpiOkCodes`, or the
    /// `SpiErrorCodes` as an error.
    pub fn check_status(status_code: i32) -> Result<SpiOkCodes> {
        match SpiOkCodes::try_from(status_code) {
            Ok(ok) => Ok(ok),
            Err(_) => {
                Err(SpiErrorCodes::try_from(status_code)
                    .map_or(SpiError::Protocol, SpiError::SpiError))
            }
        }
    }

    #[track_caller]
    pub fn get_one<A: FromDatum>(query: &str) -> Result<Option<A>> {
        execute(query, &[], true, Some(1))?.first().get_one()
    }

    #[track_caller]
    pub fn get_two<A: FromDatum, B: FromDatum>(query: &str) -> Result<(Option<A>, Option<B>)> {
        execute(query, &[], true, Some(1))?.first().get_two()
    }

    #[track_caller]
    pub fn get_three<A: FromDatum, B: FromDatum, C: FromDatum>(
        query: &str,
    ) -> Result<(Option<A>, Option<B>, Option<C>)> {
        execute(query, &[], true, Some(1))?.first().get_three()
    }

    #[track_caller]
    pub fn get_one_with_args<A: FromDatum>(query: &str, args: SpiArgs) -> Result<Option<A>> {
        execute(query, &args, true, Some(1))?.first().get_one()
    }

    #[track_caller]
    pub fn get_two_with_args<A: FromDatum, B: FromDatum>(
        query: &str,
        args: SpiArgs,
    ) -> Result<(Option<A>, Option<B>)> {
        execute(query, &args, true, Some(1))?.first().get_two()
    }

    #[track_caller]
    pub fn get_three_with_args<A: FromDatum, B: FromDatum, C: FromDatum>(
        query: &str,
        args: SpiArgs,
    ) -> Result<(Option<A>, Option<B>, Option<C>)> {
        execute(query, &args, true, Some(1))?.first().get_three()
    }

    /// Run a statement for its effects.
    #[track_caller]
    pub fn run(query: &str) -> Result<()> {
        execute(query, &[], false, None).map(drop)
    }

    #[track_caller]
    pub fn run_with_args(query: &str, args: Option<SpiArgs>) -> Result<()> {
        execute(query, args.as_deref().unwrap_or(&[]), false, None).map(drop)
    }

    /// The plan of `query`, as `EXPLAIN (FORMAT JSON)` gives it.
    #[track_caller]
    pub fn explain(query: &str) -> Result<Json> {
        Spi::explain_with_args(query, None)
    }

    /// The plan of `query` with parameters of the given types (and values,
    /// which only `EXPLAIN ANALYZE` would use).  Run as a statement, not
    /// read-only, because `EXPLAIN ANALYZE` of a write really writes.
    #[track_caller]
    pub fn explain_with_args(query: &str, args: Option<SpiArgs>) -> Result<Json> {
        let plan = execute(
            &format!("EXPLAIN (FORMAT JSON) {query}"),
            args.as_deref().unwrap_or(&[]),
            false,
            None,
        )?
        .first()
        .get_one::<Json>()?;
        // EXPLAIN always returns its plan: a missing one means the backend
        // answered something other than what was asked.
        plan.ok_or(SpiError::Protocol)
    }

    /// Run `f` with a client; pgrx's SPI connection scope.  The backend
    /// connects to SPI for the whole call, so this only hands out the
    /// client; its lifetime keeps what it returns inside `f`, as in pgrx.
    pub fn connect<R, F: FnOnce(SpiClient<'_>) -> R>(f: F) -> R {
        f(SpiClient {
            _connection: PhantomData,
        })
    }
}

/// What `Spi::connect` gives its closure.
pub struct SpiClient<'conn> {
    _connection: PhantomData<&'conn ()>,
}

impl<'conn> SpiClient<'conn> {
    /// A statement to run with arguments of `args`' types (pgrx's
    /// `SPI_prepare`; here the backend prepares and keeps its plan at the
    /// first run, query.rs).
    pub fn prepare(
        &self,
        query: &str,
        args: Option<Vec<PgOid>>,
    ) -> Result<PreparedStatement<'conn>> {
        Ok(PreparedStatement::new(query, args.unwrap_or_default()))
    }

    /// A query's rows, read through a cursor.  `limit` caps the rows.
    #[track_caller]
    pub fn select<Q: Query<'conn>>(
        &self,
        query: Q,
        limit: Option<i64>,
        args: Q::Arguments,
    ) -> Result<SpiTupleTable<'conn>> {
        let (query, args) = query.into_parts(args)?;
        execute(&query, &args, true, limit)
    }

    /// A statement that may write; its RETURNING rows, if any.
    #[track_caller]
    pub fn update<Q: Query<'conn>>(
        &mut self,
        query: Q,
        limit: Option<i64>,
        args: Q::Arguments,
    ) -> Result<SpiTupleTable<'conn>> {
        query.execute(self, limit, args)
    }

    /// A cursor over a query's rows, fetched `count` at a time
    /// (`SpiCursor::fetch`).  An error opening it comes back from its
    /// first fetch: pgrx's `open_cursor` has no `Result`, and here an SQL
    /// error is a value, not an abort of the call.
    #[track_caller]
    pub fn open_cursor<Q: Query<'conn>>(&self, query: Q, args: Q::Arguments) -> SpiCursor<'conn> {
        query.open_cursor(self, args)
    }

    /// `open_cursor` for a query that writes (pgrx marks the transaction
    /// as writing first; here the backend runs every cursor the same way).
    #[track_caller]
    pub fn open_cursor_mut<Q: Query<'conn>>(
        &mut self,
        query: Q,
        args: Q::Arguments,
    ) -> SpiCursor<'conn> {
        query.open_cursor(self, args)
    }

    /// A portal left open by name (`SpiCursor::detach_into_name`, or any
    /// cursor the session has open), to fetch its remaining rows.
    #[track_caller]
    pub fn find_cursor(&self, name: &str) -> Result<SpiCursor<'conn>> {
        SpiCursor::find(name)
    }
}
