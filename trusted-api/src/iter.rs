//! Set-returning functions: `SetOfIterator` (RETURNS SETOF t) and
//! `TableIterator` (RETURNS TABLE (...)).  The rows are sent to the backend
//! in batches while the iterator runs, so neither the channel nor this
//! process ever holds the whole set.

use plrust_ipc::message::{Answer, Upcall};

use crate::datum::{Encoded, IntoDatum};
use crate::entry::BoxError;
use crate::upcall::upcall;

/// The rows of a `RETURNS SETOF` function; each item is one row (None = NULL).
pub struct SetOfIterator<'a, T> {
    iter: Box<dyn Iterator<Item = T> + 'a>,
}

impl<'a, T: 'a> SetOfIterator<'a, T> {
    pub fn new(iter: impl IntoIterator<Item = T> + 'a) -> Self {
        SetOfIterator {
            iter: Box::new(iter.into_iter()),
        }
    }

    pub fn empty() -> Self {
        Self::new(std::iter::empty())
    }

    pub fn once(value: T) -> Self {
        Self::new(std::iter::once(value))
    }
}

impl<T> Iterator for SetOfIterator<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.iter.next()
    }
}

/// The rows of a `RETURNS TABLE (...)` function: tuples of `Option`s, one
/// per column (`name!(col, Option<T>)` is just `Option<T>`).
pub struct TableIterator<'a, T> {
    iter: Box<dyn Iterator<Item = T> + 'a>,
}

impl<'a, T: 'a> TableIterator<'a, T> {
    pub fn new(iter: impl IntoIterator<Item = T> + 'a) -> Self {
        TableIterator {
            iter: Box::new(iter.into_iter()),
        }
    }

    pub fn empty() -> Self {
        Self::new(std::iter::empty())
    }

    pub fn once(value: T) -> Self {
        Self::new(std::iter::once(value))
    }
}

impl<T> Iterator for TableIterator<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.iter.next()
    }
}

/// `name!(column, Type)`: pgrx names TABLE columns in the type; the type is
/// all that matters here.
#[macro_export]
macro_rules! name {
    ($name:tt, $ty:ty) => {
        $ty
    };
}
/// By the path pgrx gives it too (`pgrx::iter::name!`).
pub use crate::name;

/// One row of a TABLE function: its columns' values.
pub trait TableRow {
    fn into_columns(self) -> Vec<Option<Vec<u8>>>;
}

macro_rules! table_row {
    ($($t:ident),+) => {
        impl<$($t: IntoDatum),+> TableRow for ($($t,)+) {
            #[allow(non_snake_case)]
            fn into_columns(self) -> Vec<Option<Vec<u8>>> {
                let ($($t,)+) = self;
                vec![$($t.into_datum().map(|d| d.bytes)),+]
            }
        }
    };
}

table_row!(A);
table_row!(A, B);
table_row!(A, B, C);
table_row!(A, B, C, D);
table_row!(A, B, C, D, E);
table_row!(A, B, C, D, E, F);
table_row!(A, B, C, D, E, F, G);
table_row!(A, B, C, D, E, F, G, H);
table_row!(A, B, C, D, E, F, G, H, I);
table_row!(A, B, C, D, E, F, G, H, I, J);
table_row!(A, B, C, D, E, F, G, H, I, J, K);
table_row!(A, B, C, D, E, F, G, H, I, J, K, L);

/// A batch is sent once it holds this many rows or bytes.
const BATCH_ROWS: usize = 1000;
const BATCH_BYTES: usize = 1 << 20;

fn send(rows: &mut Vec<Vec<Option<Vec<u8>>>>) -> Result<(), BoxError> {
    if rows.is_empty() {
        return Ok(());
    }
    let batch: Vec<Vec<Option<&[u8]>>> = rows
        .iter()
        .map(|r| r.iter().map(|v| v.as_deref()).collect())
        .collect();
    let answer = upcall(&Upcall::Rows { rows: batch });
    rows.clear();
    match answer {
        Answer::Done => Ok(()),
        _ => Err("plrust: the backend refused the rows".into()),
    }
}

/// Stream a set's rows to the backend; the call's reply then ends the set.
pub fn stream(rows: impl Iterator<Item = Vec<Option<Vec<u8>>>>) -> Result<Encoded, BoxError> {
    let mut batch = Vec::new();
    let mut bytes = 0usize;
    for row in rows {
        bytes += row
            .iter()
            .map(|v| v.as_ref().map_or(0, Vec::len) + 16)
            .sum::<usize>();
        batch.push(row);
        if batch.len() >= BATCH_ROWS || bytes >= BATCH_BYTES {
            send(&mut batch)?;
            bytes = 0;
        }
    }
    send(&mut batch)?;
    Ok(Encoded::Null)
}

/// What the generated entry of a SETOF function calls.
pub fn setof<T: IntoDatum>(set: Option<SetOfIterator<'_, T>>) -> Result<Encoded, BoxError> {
    match set {
        Some(rows) => stream(rows.map(|v| vec![v.into_datum().map(|d| d.bytes)])),
        None => Ok(Encoded::Null),
    }
}

/// What the generated entry of a TABLE function calls.
pub fn table<T: TableRow>(set: Option<TableIterator<'_, T>>) -> Result<Encoded, BoxError> {
    match set {
        Some(rows) => stream(rows.map(TableRow::into_columns)),
        None => Ok(Encoded::Null),
    }
}

/// What the generated entry of a function with OUT parameters calls: the
/// row's columns, framed like a call's arguments (plrust_ipc::args).
pub fn record<T: TableRow>(row: Option<T>) -> Encoded {
    let Some(row) = row else {
        return Encoded::Null;
    };
    let columns = row.into_columns();
    let size = columns
        .iter()
        .map(|c| 4 + c.as_ref().map_or(0, Vec::len))
        .sum();
    let mut out = vec![0u8; size];
    let mut w = plrust_ipc::args::ArgWriter::new(&mut out);
    for c in &columns {
        match c {
            Some(v) => w.value(v),
            None => w.null(),
        }
        .expect("sized above");
    }
    Encoded::Heap(out)
}
