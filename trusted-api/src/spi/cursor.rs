//! `SpiCursor`: a query's rows, fetched as many at a time as the body
//! asks.  It is the same backend cursor `select` streams through, read in
//! the body's own steps; rows the backend sent in a larger batch wait here.
//!
//! What pgrx has and this has not: `detach_into_name` and
//! `SpiClient::find_cursor`, which leave a portal open in the backend past
//! the SPI connection and find it again by name.  The backend closes this
//! call's cursors when the call ends, and the channel has no way to name
//! one (tests/probe/gaps.txt).

use super::{Result, SpiTupleTable};

/// An open cursor (`SpiClient::open_cursor`); closed when dropped.
pub struct SpiCursor<'client> {
    /// The opened query, or why it could not be opened (reported by
    /// `fetch`, since `open_cursor` returns no `Result`).
    rows: Result<SpiTupleTable<'client>>,
}

impl<'client> SpiCursor<'client> {
    pub(super) fn open(rows: Result<SpiTupleTable<'client>>) -> SpiCursor<'client> {
        SpiCursor { rows }
    }

    /// The next `count` rows (fewer at the end; none past it, or for a
    /// `count` below 1), as a table positioned before its first row.
    pub fn fetch(&mut self, count: i64) -> Result<SpiTupleTable<'_>> {
        let count = usize::try_from(count).unwrap_or(0);
        match &mut self.rows {
            Ok(rows) => Ok(rows.take_front(count)),
            Err(e) => Err(e.clone()),
        }
    }
}
