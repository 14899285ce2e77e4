//! `fn_call`: call any SQL function by name, as the calling role, with
//! PostgreSQL choosing the overload from the arguments' types (as in
//! PL/Rust).  It runs as one SPI query in the calling backend.

use crate::datum::{Datum, FromDatum, IntoDatum, Oid, PgBuiltInOids, PgOid, TryFromDatumError};
use crate::log::raise;
use crate::report::as_raised;
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

/// Why `fn_call` did not call the function (pgrx's variants; see
/// `fn_call` for which of them this one can tell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FnCallError {
    InvalidIdentifier(String),
    UndefinedFunction,
    AmbiguousFunction,
    UnsupportedFunctionType,
    UnsupportedArgumentModes,
    InternalTypeNotSupported,
    IncompatibleReturnType(TryFromDatumError),
    TooManyArguments,
    NotEnoughArguments,
    NoDefaultArguments,
    NotDefaultArgument(usize),
    DefaultNotConstantExpression,
}

impl std::fmt::Display for FnCallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FnCallError::InvalidIdentifier(s) => write!(f, "Invalid identifier: `{s}`"),
            FnCallError::UndefinedFunction => write!(f, "The specified function does not exist"),
            FnCallError::AmbiguousFunction => write!(f, "The specified function exists, but has overloaded versions which are ambiguous given the argument types provided"),
            FnCallError::UnsupportedFunctionType => write!(f, "Can only dymamically call plain functions"),
            FnCallError::UnsupportedArgumentModes => write!(f, "Functions with OUT/IN_OUT/TABLE arguments are not supported"),
            FnCallError::InternalTypeNotSupported => write!(f, "Functions with argument or return types of `internal` are not supported"),
            FnCallError::IncompatibleReturnType(e) => write!(f, "The requested return type is not compatible with the actual return type: {e}"),
            FnCallError::TooManyArguments => write!(f, "Function call has more arguments than are supported"),
            FnCallError::NotEnoughArguments => write!(f, "Did not provide enough non-default arguments"),
            FnCallError::NoDefaultArguments => write!(f, "Function has no default arguments"),
            FnCallError::NotDefaultArgument(i) => write!(f, "Argument #{i} does not have a DEFAULT value"),
            FnCallError::DefaultNotConstantExpression => write!(f, "Argument's default value is not a constant expression"),
        }
    }
}

impl std::error::Error for FnCallError {}

/// `internal`: no SQL value has it, so no argument may claim it.
const INTERNALOID: u32 = 2281;
/// The database's default collation ("default").
const DEFAULT_COLLATION_OID: u32 = 100;

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

/// Call `fname` with `args`, as `VALUES (fname($1, ...))`: PostgreSQL
/// chooses the overload from the arguments' types (implicit casts
/// included) and fills in trailing DEFAULTs.  An ERROR raised by the
/// function ends this call too, as in PL/Rust.
///
/// Of pgrx's errors, those PostgreSQL reports while it analyses this
/// query (and not from inside the function) are told apart by where the
/// error is: in this query's text, at a position.  `UndefinedFunction`,
/// `AmbiguousFunction`, `TooManyArguments` (more than the server's
/// max_function_args) and `UnsupportedFunctionType` (an aggregate, which
/// VALUES refuses, a window function or a procedure).
/// `InternalTypeNotSupported` is an argument of type `internal`.  The
/// rest are pgrx's own lookup: PostgreSQL resolves defaults itself (any
/// expression), so `NotEnoughArguments` and `NoDefaultArguments` are
/// `UndefinedFunction` here and `DefaultNotConstantExpression` never
/// happens; and a function with OUT or VARIADIC parameters is called
/// (the query cannot say which overload it chose, so
/// `UnsupportedArgumentModes` is never returned).
#[track_caller]
pub fn fn_call<R: FromDatum>(
    fname: &str,
    args: &[&dyn FnCallArg],
) -> Result<Option<R>, FnCallError> {
    call(fname, None, args)
}

/// `fn_call` with the function's input collation `collation` (a
/// `pg_collation` oid), as `COLLATE` on each argument of a collatable
/// type: PostgreSQL gives a function the collation of its arguments.  A
/// function with no collatable argument gets none, and 0 (none) or 100
/// are the default collation, as in `fn_call` (SQL cannot ask for
/// "none" on a collatable argument).  An oid that is no collation is an
/// ERROR (42704).
#[track_caller]
pub fn fn_call_with_collation<R: FromDatum>(
    fname: &str,
    collation: Oid,
    args: &[&dyn FnCallArg],
) -> Result<Option<R>, FnCallError> {
    call(fname, Some(collation), args)
}

#[track_caller]
fn call<R: FromDatum>(
    fname: &str,
    collation: Option<Oid>,
    args: &[&dyn FnCallArg],
) -> Result<Option<R>, FnCallError> {
    let name = quoted_name(fname)?;
    let mut spi_args = Vec::new();
    let mut defaults_from = None;
    for (i, a) in args.iter().enumerate() {
        match a.as_argument() {
            Some(_) if defaults_from.is_some() => return Err(FnCallError::NotDefaultArgument(i)),
            Some((INTERNALOID, _)) => return Err(FnCallError::InternalTypeNotSupported),
            Some((oid, d)) => spi_args.push((oid, d)),
            None => defaults_from = Some(i),
        }
    }
    let types: Vec<u32> = spi_args.iter().map(|(oid, _)| *oid).collect();
    let collate = match collation.map(Oid::as_u32) {
        None | Some(0 | DEFAULT_COLLATION_OID) => vec![None; types.len()],
        Some(oid) => collate_clauses(oid, &types),
    };
    let params: Vec<String> = collate
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            Some(c) => format!("${} COLLATE {c}", i + 1),
            None => format!("${}", i + 1),
        })
        .collect();
    let query = format!("VALUES ({name}({}))", params.join(", "));
    let spi_args = spi_args
        .into_iter()
        .map(|(oid, d)| (PgOid::Custom(Oid::from_u32(oid)), d))
        .collect();
    match Spi::get_one_with_args::<R>(&query, spi_args) {
        Ok(v) => Ok(v),
        Err(SpiError::Datum(e)) => Err(FnCallError::IncompatibleReturnType(e)),
        Err(e) => match analysis_error(&e, &query) {
            Some(refused) => Err(refused),
            None => match as_raised(&e) {
                Some(raised) => std::panic::panic_any(raised),
                None => panic!("fn_call: {e}"),
            },
        },
    }
}

/// What PostgreSQL said about the query itself, while analysing it: an
/// error at a position in its text (one from inside the function is
/// reported at the function's own query, or as CONTEXT without one).
fn analysis_error(e: &SpiError, query: &str) -> Option<FnCallError> {
    let SpiError::Sql {
        sqlstate, origin, ..
    } = e
    else {
        return None;
    };
    let origin = origin.as_deref()?;
    if origin.query.as_deref() != Some(query) || origin.position == 0 {
        return None;
    }
    match sqlstate {
        b"42883" => Some(FnCallError::UndefinedFunction),
        b"42725" => Some(FnCallError::AmbiguousFunction),
        b"54023" => Some(FnCallError::TooManyArguments),
        // grouping_error: "aggregate functions are not allowed in VALUES";
        // wrong_object_type: a procedure, or a window or ordered-set
        // aggregate called without OVER / WITHIN GROUP.
        b"42803" | b"42809" => Some(FnCallError::UnsupportedFunctionType),
        _ => None,
    }
}

/// For each argument type, ` COLLATE schema.name` of collation `oid` if
/// the type is collatable.  One catalog query; its names are quoted by
/// the backend (`%I`), and every name in it is schema-qualified.
#[track_caller]
fn collate_clauses(oid: u32, types: &[u32]) -> Vec<Option<String>> {
    const QUERY: &str = "SELECT pg_catalog.format('%I.%I', n.nspname, c.collname), \
        (SELECT pg_catalog.array_agg(t.typcollation OPERATOR(pg_catalog.<>) 0::pg_catalog.oid ORDER BY a.n) \
           FROM pg_catalog.unnest($2::pg_catalog.oid[]) WITH ORDINALITY AS a(typ, n) \
           LEFT JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) a.typ) \
        FROM pg_catalog.pg_collation c \
        JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.collnamespace \
        WHERE c.oid OPERATOR(pg_catalog.=) $1";
    let type_oids: Vec<Oid> = types.iter().map(|t| Oid::from_u32(*t)).collect();
    let args = vec![
        (PgBuiltInOids::OIDOID.oid(), Oid::from_u32(oid).into_datum()),
        (PgBuiltInOids::OIDARRAYOID.oid(), type_oids.into_datum()),
    ];
    match Spi::get_two_with_args::<String, Vec<Option<bool>>>(QUERY, args) {
        Ok((Some(collation), collatable)) => {
            let collatable = collatable.unwrap_or_default();
            (0..types.len())
                .map(|i| matches!(collatable.get(i), Some(Some(true))).then(|| collation.clone()))
                .collect()
        }
        Ok((None, _)) | Err(SpiError::InvalidPosition) => raise(
            Some(*b"42704"),
            format!("collation with OID {oid} does not exist"),
            None,
        ),
        Err(e) => match as_raised(&e) {
            Some(raised) => std::panic::panic_any(raised),
            None => panic!("fn_call_with_collation: {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::ErrorOrigin;

    fn sql(code: &[u8; 5], query: Option<&str>, position: u32) -> SpiError {
        SpiError::Sql {
            sqlstate: *code,
            message: "m".into(),
            detail: None,
            hint: None,
            origin: Some(Box::new(ErrorOrigin {
                context: None,
                query: query.map(str::to_string),
                position,
                ..ErrorOrigin::default()
            })),
            line: 0,
        }
    }

    #[test]
    fn errors_in_the_query_itself_are_told_apart() {
        let q = "VALUES (\"f\"($1))";
        assert_eq!(
            analysis_error(&sql(b"42883", Some(q), 9), q),
            Some(FnCallError::UndefinedFunction)
        );
        assert_eq!(
            analysis_error(&sql(b"42725", Some(q), 9), q),
            Some(FnCallError::AmbiguousFunction)
        );
        assert_eq!(
            analysis_error(&sql(b"54023", Some(q), 9), q),
            Some(FnCallError::TooManyArguments)
        );
        for code in [b"42803", b"42809"] {
            assert_eq!(
                analysis_error(&sql(code, Some(q), 9), q),
                Some(FnCallError::UnsupportedFunctionType)
            );
        }
        // From inside the function: another query, or no position.
        assert_eq!(
            analysis_error(&sql(b"42883", Some("SELECT g()"), 8), q),
            None
        );
        assert_eq!(analysis_error(&sql(b"42883", None, 0), q), None);
        assert_eq!(analysis_error(&sql(b"42883", Some(q), 0), q), None);
        assert_eq!(analysis_error(&sql(b"22012", Some(q), 9), q), None);
    }

    #[test]
    fn refused_before_asking() {
        struct Internal;
        impl FnCallArg for Internal {
            fn as_argument(&self) -> Option<(u32, Option<Datum>)> {
                Some((INTERNALOID, None))
            }
        }
        assert_eq!(
            fn_call::<i32>("f", &[&Internal]),
            Err(FnCallError::InternalTypeNotSupported)
        );
        assert_eq!(
            fn_call::<i32>("f", &[&Arg::<i32>::Default, &Arg::Value(1)]),
            Err(FnCallError::NotDefaultArgument(1))
        );
        assert_eq!(
            fn_call::<i32>("a.b.c", &[]),
            Err(FnCallError::InvalidIdentifier("a.b.c".into()))
        );
    }
}
