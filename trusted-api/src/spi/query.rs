//! pgrx's `Query`: what `SpiClient::select`, `update` and `open_cursor`
//! take, a query's text or a statement prepared from it
//! (`SpiClient::prepare`).
//!
//! The backend keeps the plan of every query a body runs, by text and
//! argument types (handler/src/spi.rs), so a prepared statement here is
//! that text and those types: preparing costs nothing, and its plan is
//! made, and kept, at its first execution.  One consequence: a syntax
//! error comes back when the statement first runs, not from `prepare`
//! (both are a `Result`).

use std::marker::PhantomData;
use std::ops::Deref;

use super::{execute, Result, SpiArgs, SpiClient, SpiCursor, SpiError, SpiTupleTable};
use crate::datum::{Datum, PgOid};

pub trait Query<'conn>: Sized {
    type Arguments;

    /// Run it as a statement (as `SpiClient::update`).
    #[track_caller]
    fn execute(
        self,
        _client: &SpiClient<'conn>,
        limit: Option<i64>,
        arguments: Self::Arguments,
    ) -> Result<SpiTupleTable<'conn>> {
        let (query, args) = self.into_parts(arguments)?;
        execute(&query, &args, false, limit)
    }

    /// A cursor over its rows (as `SpiClient::open_cursor`).
    #[track_caller]
    fn open_cursor(self, _client: &SpiClient<'conn>, args: Self::Arguments) -> SpiCursor<'conn> {
        match self.into_parts(args) {
            Ok((query, args)) => SpiCursor::open(&query, &args),
            Err(e) => SpiCursor::failed(e),
        }
    }

    /// The query's text and its arguments with their types.
    #[doc(hidden)]
    fn into_parts(self, arguments: Self::Arguments) -> Result<(String, SpiArgs)>;
}

impl<'conn> Query<'conn> for &str {
    type Arguments = Option<SpiArgs>;

    fn into_parts(self, arguments: Option<SpiArgs>) -> Result<(String, SpiArgs)> {
        Ok((self.to_string(), arguments.unwrap_or_default()))
    }
}

impl<'conn> Query<'conn> for &String {
    type Arguments = Option<SpiArgs>;

    fn into_parts(self, arguments: Option<SpiArgs>) -> Result<(String, SpiArgs)> {
        self.as_str().into_parts(arguments)
    }
}

/// A query and its arguments' types (`SpiClient::prepare`).
#[derive(Debug, Clone)]
pub struct PreparedStatement<'conn> {
    query: String,
    types: Vec<PgOid>,
    _connection: PhantomData<&'conn ()>,
}

impl<'conn> PreparedStatement<'conn> {
    pub(super) fn new(query: &str, types: Vec<PgOid>) -> PreparedStatement<'conn> {
        PreparedStatement {
            query: query.to_string(),
            types,
            _connection: PhantomData,
        }
    }

    /// The statement, kept past its connection, as pgrx's `SPI_keepplan`.
    pub fn keep(self) -> OwnedPreparedStatement {
        OwnedPreparedStatement(PreparedStatement {
            query: self.query,
            types: self.types,
            _connection: PhantomData,
        })
    }

    fn with(&self, arguments: Option<Vec<Option<Datum>>>) -> Result<(String, SpiArgs)> {
        let values = arguments.unwrap_or_default();
        if values.len() != self.types.len() {
            return Err(SpiError::PreparedStatementArgumentMismatch {
                expected: self.types.len(),
                got: values.len(),
            });
        }
        Ok((
            self.query.clone(),
            self.types.iter().copied().zip(values).collect(),
        ))
    }
}

/// A prepared statement not tied to a connection (`PreparedStatement::keep`).
#[derive(Debug, Clone)]
pub struct OwnedPreparedStatement(PreparedStatement<'static>);

impl Deref for OwnedPreparedStatement {
    type Target = PreparedStatement<'static>;

    fn deref(&self) -> &PreparedStatement<'static> {
        &self.0
    }
}

impl<'conn> Query<'conn> for &PreparedStatement<'_> {
    type Arguments = Option<Vec<Option<Datum>>>;

    fn into_parts(self, arguments: Self::Arguments) -> Result<(String, SpiArgs)> {
        self.with(arguments)
    }
}

impl<'conn> Query<'conn> for PreparedStatement<'_> {
    type Arguments = Option<Vec<Option<Datum>>>;

    fn into_parts(self, arguments: Self::Arguments) -> Result<(String, SpiArgs)> {
        self.with(arguments)
    }
}

impl<'conn> Query<'conn> for &OwnedPreparedStatement {
    type Arguments = Option<Vec<Option<Datum>>>;

    fn into_parts(self, arguments: Self::Arguments) -> Result<(String, SpiArgs)> {
        self.0.with(arguments)
    }
}

impl<'conn> Query<'conn> for OwnedPreparedStatement {
    type Arguments = Option<Vec<Option<Datum>>>;

    fn into_parts(self, arguments: Self::Arguments) -> Result<(String, SpiArgs)> {
        self.0.with(arguments)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datum::{IntoDatum, PgBuiltInOids};

    #[test]
    fn a_prepared_statement_pairs_its_types_with_the_values() {
        let p = PreparedStatement::new(
            "SELECT $1 + $2",
            vec![PgBuiltInOids::INT4OID.oid(), PgBuiltInOids::INT8OID.oid()],
        );
        let (q, args) = (&p).into_parts(Some(vec![1.into_datum(), None])).unwrap();
        assert_eq!(q, "SELECT $1 + $2");
        assert_eq!(args[0].0, PgBuiltInOids::INT4OID.oid());
        assert_eq!(args[1], (PgBuiltInOids::INT8OID.oid(), None));
        let kept = p.keep();
        assert_eq!(
            (&kept).into_parts(None).err(),
            Some(SpiError::PreparedStatementArgumentMismatch {
                expected: 2,
                got: 0
            })
        );
        let (q, args) = "SELECT 1".into_parts(None).unwrap();
        assert_eq!((q.as_str(), args.len()), ("SELECT 1", 0));
    }
}
