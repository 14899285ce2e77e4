//! SPI, proxied: every query runs in the calling backend, as the calling
//! role, inside a subtransaction there, so an SQL error comes back as
//! `Err(SpiError::Sql)` and leaves the transaction usable.  `select` reads
//! through a cursor a batch at a time, so a large result never has to fit
//! in the channel or in this process.
//!
//! The names follow pgrx 0.11, which PL/Rust 1.2 bodies use:
//! `Spi::get_one`, `Spi::get_one_with_args`, `Spi::run`,
//! `Spi::connect(|client| client.select(...))`, `row["col"].value::<T>()`.

use std::collections::VecDeque;
use std::rc::Rc;

use plrust_ipc::message::{Answer, Column, SpiArg, Upcall};

use crate::datum::{Datum, FromDatum, PgOid, TryFromDatumError};
use crate::entry::upcall;
pub use crate::entry::ErrorOrigin;
pub use crate::spi_codes::{SpiErrorCodes, SpiOkCodes, UnknownVariant};

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
        }
    }
}

impl std::error::Error for SpiError {}

impl From<TryFromDatumError> for SpiError {
    fn from(e: TryFromDatumError) -> SpiError {
        SpiError::Datum(e)
    }
}

type Row = Vec<Option<Vec<u8>>>;

/// Arguments as PL/Rust bodies write them: `(PgBuiltInOids::INT4OID.oid(), 1.into_datum())`.
pub type SpiArgs = Vec<(PgOid, Option<Datum>)>;

fn execute(
    query: &str,
    args: &[(PgOid, Option<Datum>)],
    select: bool,
    limit: Option<i64>,
) -> Result<SpiTupleTable> {
    let args: Vec<SpiArg<'_>> = args
        .iter()
        .map(|(oid, d)| SpiArg {
            type_oid: oid.value(),
            value: d.as_ref().map(|d| d.bytes.as_slice()),
        })
        .collect();
    let answer = upcall(&Upcall::Execute {
        query,
        args,
        select,
        limit: limit.filter(|l| *l > 0).map_or(0, |l| l as u64),
    });
    SpiTupleTable::from_answer(answer)
}

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

    pub fn get_one<A: FromDatum>(query: &str) -> Result<Option<A>> {
        execute(query, &[], true, Some(1))?.first().get_one()
    }

    pub fn get_two<A: FromDatum, B: FromDatum>(query: &str) -> Result<(Option<A>, Option<B>)> {
        execute(query, &[], true, Some(1))?.first().get_two()
    }

    pub fn get_three<A: FromDatum, B: FromDatum, C: FromDatum>(
        query: &str,
    ) -> Result<(Option<A>, Option<B>, Option<C>)> {
        execute(query, &[], true, Some(1))?.first().get_three()
    }

    pub fn get_one_with_args<A: FromDatum>(query: &str, args: SpiArgs) -> Result<Option<A>> {
        execute(query, &args, true, Some(1))?.first().get_one()
    }

    pub fn get_two_with_args<A: FromDatum, B: FromDatum>(
        query: &str,
        args: SpiArgs,
    ) -> Result<(Option<A>, Option<B>)> {
        execute(query, &args, true, Some(1))?.first().get_two()
    }

    /// Run a statement for its effects.
    pub fn run(query: &str) -> Result<()> {
        execute(query, &[], false, None).map(drop)
    }

    pub fn run_with_args(query: &str, args: Option<SpiArgs>) -> Result<()> {
        execute(query, args.as_deref().unwrap_or(&[]), false, None).map(drop)
    }

    /// Run `f` with a client; pgrx's SPI connection scope.  The backend
    /// connects to SPI for the whole call, so this only hands out the client.
    pub fn connect<R, F: FnOnce(SpiClient) -> R>(f: F) -> R {
        f(SpiClient { _private: () })
    }
}

/// What `Spi::connect` gives its closure.
pub struct SpiClient {
    _private: (),
}

impl SpiClient {
    /// A query's rows, read through a cursor.  `limit` caps the rows.
    pub fn select(
        &self,
        query: &str,
        limit: Option<i64>,
        args: Option<SpiArgs>,
    ) -> Result<SpiTupleTable> {
        execute(query, args.as_deref().unwrap_or(&[]), true, limit)
    }

    /// A statement that may write; its RETURNING rows, if any.
    pub fn update(
        &mut self,
        query: &str,
        limit: Option<i64>,
        args: Option<SpiArgs>,
    ) -> Result<SpiTupleTable> {
        execute(query, args.as_deref().unwrap_or(&[]), false, limit)
    }
}

/// A query's result: an iterator of rows, which also has a current row
/// (`first()`, then `get_one()` and friends).
pub struct SpiTupleTable {
    columns: Rc<Vec<Column>>,
    pending: VecDeque<Row>,
    cursor: Option<u32>,
    processed: u64,
    current: Option<SpiHeapTupleData>,
}

impl SpiTupleTable {
    fn from_answer(answer: Answer) -> Result<SpiTupleTable> {
        match answer {
            Answer::Table {
                columns,
                rows,
                processed,
                cursor,
            } => Ok(SpiTupleTable {
                columns: Rc::new(columns),
                pending: rows.into(),
                cursor,
                processed,
                current: None,
            }),
            other => Err(sql_error(other)),
        }
    }

    /// Fetch the next batch if this one is used up; false at the end.
    fn refill(&mut self) -> bool {
        if !self.pending.is_empty() {
            return true;
        }
        let Some(cursor) = self.cursor.take() else {
            return false;
        };
        match upcall(&Upcall::Fetch { cursor }) {
            Answer::Table { rows, cursor, .. } => {
                self.pending = rows.into();
                self.cursor = cursor;
                !self.pending.is_empty()
            }
            other => panic!("plrust: fetching rows failed: {}", sql_error(other)),
        }
    }

    /// Rows the statement processed (for a select: rows read so far).
    pub fn processed(&self) -> u64 {
        self.processed
    }

    /// How many rows are left, reading the rest of a cursor to count them.
    pub fn len(&mut self) -> usize {
        while self.cursor.is_some() {
            let before = std::mem::take(&mut self.pending);
            self.refill();
            let mut all = before;
            all.extend(std::mem::take(&mut self.pending));
            self.pending = all;
        }
        self.pending.len() + usize::from(self.current.is_some())
    }

    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// Make the first row current.
    pub fn first(mut self) -> Self {
        self.current = self.next();
        self
    }

    fn current(&self) -> Result<&SpiHeapTupleData> {
        self.current.as_ref().ok_or(SpiError::InvalidPosition)
    }

    pub fn get<T: FromDatum>(&self, ordinal: usize) -> Result<Option<T>> {
        self.current()?.get(ordinal)
    }

    pub fn get_by_name<T: FromDatum>(&self, name: &str) -> Result<Option<T>> {
        self.current()?.get_by_name(name)
    }

    pub fn get_one<A: FromDatum>(&self) -> Result<Option<A>> {
        self.get(1)
    }

    pub fn get_two<A: FromDatum, B: FromDatum>(&self) -> Result<(Option<A>, Option<B>)> {
        Ok((self.get(1)?, self.get(2)?))
    }

    pub fn get_three<A: FromDatum, B: FromDatum, C: FromDatum>(
        &self,
    ) -> Result<(Option<A>, Option<B>, Option<C>)> {
        Ok((self.get(1)?, self.get(2)?, self.get(3)?))
    }

    /// Number of columns.
    pub fn columns(&self) -> Result<usize> {
        Ok(self.columns.len())
    }

    pub fn column_name(&self, ordinal: usize) -> Result<String> {
        ordinal
            .checked_sub(1)
            .and_then(|i| self.columns.get(i))
            .map(|c| c.name.clone())
            .ok_or_else(|| SpiError::NoSuchColumn(ordinal.to_string()))
    }
}

impl Iterator for SpiTupleTable {
    type Item = SpiHeapTupleData;

    fn next(&mut self) -> Option<SpiHeapTupleData> {
        if !self.refill() {
            return None;
        }
        let values = self.pending.pop_front()?;
        Some(SpiHeapTupleData {
            columns: Rc::clone(&self.columns),
            entries: values
                .into_iter()
                .zip(self.columns.iter())
                .map(|(value, c)| SpiHeapTupleDataEntry {
                    type_oid: c.type_oid,
                    value,
                })
                .collect(),
        })
    }
}

impl Drop for SpiTupleTable {
    fn drop(&mut self) {
        // A cursor read to the end is already closed; one dropped early is
        // closed now rather than at the end of the call.
        if let Some(cursor) = self.cursor.take() {
            let _ = upcall(&Upcall::Close { cursor });
        }
    }
}

/// One row of a result.
pub struct SpiHeapTupleData {
    columns: Rc<Vec<Column>>,
    entries: Vec<SpiHeapTupleDataEntry>,
}

/// One value of a row: `row["name"].value::<T>()`.
pub struct SpiHeapTupleDataEntry {
    type_oid: u32,
    value: Option<Vec<u8>>,
}

impl SpiHeapTupleDataEntry {
    pub fn value<T: FromDatum>(&self) -> Result<Option<T>> {
        match &self.value {
            None => Ok(None),
            Some(bytes) => Ok(Some(T::from_binary(bytes, self.type_oid)?)),
        }
    }

    /// The column's SQL type oid.
    pub fn oid(&self) -> u32 {
        self.type_oid
    }
}

impl SpiHeapTupleData {
    /// The value at `ordinal` (1-based).
    pub fn get<T: FromDatum>(&self, ordinal: usize) -> Result<Option<T>> {
        ordinal
            .checked_sub(1)
            .and_then(|i| self.entries.get(i))
            .ok_or_else(|| SpiError::NoSuchColumn(ordinal.to_string()))?
            .value()
    }

    pub fn get_by_name<T: FromDatum>(&self, name: &str) -> Result<Option<T>> {
        self.entry(name)
            .ok_or_else(|| SpiError::NoSuchColumn(name.to_string()))?
            .value()
    }

    fn entry(&self, name: &str) -> Option<&SpiHeapTupleDataEntry> {
        let i = self.columns.iter().position(|c| c.name == name)?;
        self.entries.get(i)
    }

    pub fn columns(&self) -> usize {
        self.entries.len()
    }
}

impl std::ops::Index<&str> for SpiHeapTupleData {
    type Output = SpiHeapTupleDataEntry;

    fn index(&self, name: &str) -> &SpiHeapTupleDataEntry {
        self.entry(name)
            .unwrap_or_else(|| panic!("no such column: {name}"))
    }
}

impl std::ops::Index<usize> for SpiHeapTupleData {
    type Output = SpiHeapTupleDataEntry;

    /// 1-based, like pgrx.
    fn index(&self, ordinal: usize) -> &SpiHeapTupleDataEntry {
        ordinal
            .checked_sub(1)
            .and_then(|i| self.entries.get(i))
            .unwrap_or_else(|| panic!("no such column: {ordinal}"))
    }
}
