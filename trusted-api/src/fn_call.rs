//! `fn_call`: call any SQL function by name, as the calling role, with
//! PostgreSQL choosing the overload from the arguments' types (as in
//! PL/Rust).  It runs as one SPI query in the calling backend.

use crate::datum::{Datum, FromDatum, IntoDatum, Oid, PgOid, TryFromDatumError};
use crate::entry::RaisedError;
use crate::spi::{Spi, SpiError};

/// The kinds of `fn_call` arguments.
pub enum Arg<T> {
    /// SQL NULL.
    Null,
    /// The parameter's DEFAULT (only trailing arguments may use it).
    Default,
    /// This value.
    Value(T),
}

/// An argument of any type: what `&Arg::Value(x)` becomes.
pub trait FnCallArg {
    /// (type oid, value); None for `Default`.
    fn as_argument(&self) -> Option<(u32, Option<Datum>)>;
}

impl<T: IntoDatum + Clone> FnCallArg for Arg<T> {
    fn as_argument(&self) -> Option<(u32, Option<Datum>)> {
        match self {
            Arg::Null => Some((T::type_oid(), None)),
            Arg::Default => None,
            Arg::Value(v) => Some((T::type_oid(), v.clone().into_datum())),
        }
    }
}

/// Why `fn_call` did not call the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FnCallError {
    InvalidIdentifier(String),
    UndefinedFunction,
    AmbiguousFunction,
    NotDefaultArgument(usize),
    IncompatibleReturnType(TryFromDatumError),
}

impl std::fmt::Display for FnCallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FnCallError::InvalidIdentifier(s) => write!(f, "Invalid identifier: `{s}`"),
            FnCallError::UndefinedFunction => write!(f, "The specified function does not exist"),
            FnCallError::AmbiguousFunction => write!(f, "The specified function exists, but has overloaded versions which are ambiguous given the argument types provided"),
            FnCallError::NotDefaultArgument(i) => write!(f, "Argument #{i} does not have a DEFAULT value"),
            FnCallError::IncompatibleReturnType(e) => write!(f, "The requested return type is not compatible with the actual return type: {e}"),
        }
    }
}

impl std::error::Error for FnCallError {}

/// A (possibly schema-qualified) function name, quoted so that it is only
/// ever a name in the query.
fn quoted_name(fname: &str) -> Result<String, FnCallError> {
    let parts: Vec<&str> = fname.split('.').collect();
    let ok = |p: &&str| {
        let mut c = p.chars();
        matches!(c.next(), Some(f) if f == '_' || f.is_alphabetic())
            && c.all(|c| c == '_' || c == '$' || c.is_alphanumeric())
    };
    if parts.len() > 2 || !parts.iter().all(ok) {
        return Err(FnCallError::InvalidIdentifier(fname.to_string()));
    }
    Ok(parts
        .iter()
        .map(|p| format!("\"{}\"", p.to_lowercase()))
        .collect::<Vec<_>>()
        .join("."))
}

/// Call `fname` with `args`.  An ERROR raised by the function ends this
/// call too, as in PL/Rust.
pub fn fn_call<R: FromDatum>(
    fname: &str,
    args: &[&dyn FnCallArg],
) -> Result<Option<R>, FnCallError> {
    let name = quoted_name(fname)?;
    let mut spi_args = Vec::new();
    let mut defaults_from = None;
    for (i, a) in args.iter().enumerate() {
        match a.as_argument() {
            Some(_) if defaults_from.is_some() => return Err(FnCallError::NotDefaultArgument(i)),
            Some((oid, d)) => spi_args.push((PgOid::Custom(Oid::from_u32(oid)), d)),
            None => defaults_from = Some(i),
        }
    }
    let params: Vec<String> = (1..=spi_args.len()).map(|i| format!("${i}")).collect();
    let query = format!("SELECT {name}({})", params.join(", "));
    match Spi::get_one_with_args::<R>(&query, spi_args) {
        Ok(v) => Ok(v),
        Err(SpiError::Datum(e)) => Err(FnCallError::IncompatibleReturnType(e)),
        Err(SpiError::Sql { sqlstate, .. }) if &sqlstate == b"42883" => {
            Err(FnCallError::UndefinedFunction)
        }
        Err(SpiError::Sql { sqlstate, .. }) if &sqlstate == b"42725" => {
            Err(FnCallError::AmbiguousFunction)
        }
        Err(SpiError::Sql {
            sqlstate,
            message,
            detail,
            hint,
            origin,
        }) => std::panic::panic_any(RaisedError {
            sqlstate: Some(sqlstate),
            message,
            detail,
            hint,
            origin,
        }),
        Err(other) => panic!("fn_call: {other}"),
    }
}
