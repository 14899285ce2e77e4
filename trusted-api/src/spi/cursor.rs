//! `SpiCursor`: a query's rows, fetched as many at a time as the body
//! asks, from a portal in the calling backend.
//!
//! Unlike `select`, which streams through a cursor a batch ahead, nothing
//! is read before it is asked for: a cursor can be left open for someone
//! else (`detach_into_name`, as pgrx's, for a caller to FETCH from or a
//! later call to `find_cursor`) with every row not yet fetched still in
//! it.  The backend closes the call's cursors when the call ends, except
//! those detached, which live until the transaction ends.

use std::marker::PhantomData;

use plrust_ipc::message::{Answer, Column, Upcall};

use super::{sql_error, tuple, Result, SpiError, SpiTupleTable};
use crate::datum::{Datum, PgOid};
use crate::upcall::upcall;

/// An open cursor (`SpiClient::open_cursor`, `find_cursor`); closed when
/// dropped, unless detached.
pub struct SpiCursor<'client> {
    /// The backend's cursor and the rows' columns, or why it could not be
    /// opened (reported by `fetch`, since `open_cursor` returns no
    /// `Result`).
    opened: Result<Open>,
    _client: PhantomData<&'client ()>,
}

struct Open {
    /// None once detached.
    cursor: Option<u32>,
    columns: Vec<Column>,
    /// The end was reached: further fetches return no rows.
    at_end: bool,
}

impl<'client> SpiCursor<'client> {
    /// A cursor on `query` (`SpiClient::open_cursor`).
    #[track_caller]
    pub(super) fn open(query: &str, args: &[(PgOid, Option<Datum>)]) -> SpiCursor<'client> {
        let args = super::wire_args(args);
        SpiCursor::from_answer(upcall(&Upcall::Open { query, args }))
    }

    /// A cursor that could not be opened: its first fetch says why.
    pub(super) fn failed(e: SpiError) -> SpiCursor<'client> {
        SpiCursor {
            opened: Err(e),
            _client: PhantomData,
        }
    }

    /// The open portal `name` (`SpiClient::find_cursor`).
    #[track_caller]
    pub(super) fn find(name: &str) -> Result<SpiCursor<'client>> {
        let cursor = SpiCursor::from_answer(upcall(&Upcall::Find { name }));
        match &cursor.opened {
            Ok(_) => Ok(cursor),
            Err(e) => Err(e.clone()),
        }
    }

    #[track_caller]
    fn from_answer(answer: Answer) -> SpiCursor<'client> {
        let opened = match answer {
            Answer::Table {
                columns,
                cursor: Some(cursor),
                ..
            } => Ok(Open {
                cursor: Some(cursor),
                columns,
                at_end: false,
            }),
            other => Err(sql_error(other)),
        };
        SpiCursor {
            opened,
            _client: PhantomData,
        }
    }

    /// The next `count` rows (fewer at the end; none past it, or for a
    /// `count` below 1), as a table positioned before its first row.  Rows
    /// come in batches of about 1 MiB: if a later batch fails, the error
    /// is returned and the rows of the earlier ones are lost with it.
    #[track_caller]
    pub fn fetch(&mut self, count: i64) -> Result<SpiTupleTable<'_>> {
        let open = match &mut self.opened {
            Ok(open) => open,
            Err(e) => return Err(e.clone()),
        };
        let mut want = u32::try_from(count.max(0)).unwrap_or(u32::MAX);
        let mut rows = Vec::new();
        while want > 0 && !open.at_end {
            let Some(cursor) = open.cursor else {
                return Err(SpiError::Protocol);
            };
            match upcall(&Upcall::FetchRows {
                cursor,
                count: want,
            }) {
                Answer::Table {
                    rows: got, cursor, ..
                } => {
                    open.at_end = cursor.is_none();
                    want = want.saturating_sub(u32::try_from(got.len()).unwrap_or(u32::MAX));
                    rows.extend(got);
                }
                other => return Err(sql_error(other)),
            }
        }
        SpiTupleTable::from_answer(
            Answer::Table {
                columns: open.columns.clone(),
                processed: rows.len() as u64,
                rows,
                cursor: None,
            },
            tuple::BACKEND,
        )
    }

    /// Leave the cursor open in the backend and give its portal's name:
    /// SQL's `FETCH ... FROM "name"`, or a later `find_cursor(name)` in the
    /// same transaction, reads the rows not fetched yet.
    pub fn detach_into_name(mut self) -> String {
        let cursor = match &mut self.opened {
            Ok(open) => open.cursor.take(),
            Err(e) => panic!("plrust: the cursor could not be opened: {e}"),
        };
        let Some(cursor) = cursor else {
            panic!("plrust: the cursor is already detached");
        };
        match upcall(&Upcall::Detach { cursor }) {
            Answer::Name { name } => name,
            other => panic!("plrust: detaching the cursor failed: {}", sql_error(other)),
        }
    }
}

impl Drop for SpiCursor<'_> {
    fn drop(&mut self) {
        if let Ok(Open {
            cursor: Some(cursor),
            ..
        }) = &self.opened
        {
            let _ = upcall(&Upcall::Close { cursor: *cursor });
        }
    }
}
