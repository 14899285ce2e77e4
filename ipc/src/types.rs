//! The SQL types plrust functions take and return, and how each looks in
//! Rust.  Values travel in PostgreSQL's binary send/receive format, so
//! this table only says which Rust type (trusted-api/src/datum) a body
//! sees for a SQL type; the code generator and the backend both read it.

/// Types with a fixed Rust mapping, by their (base) type oid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scalar {
    Bool,
    Char,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    /// text, varchar, bpchar, name, and enum labels.
    Text,
    Bytea,
    CString,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    Json,
    JsonB,
    Oid,
    Tid,
    Point,
    Box,
    Int4Range,
    Int8Range,
    NumRange,
    DateRange,
    TsRange,
    TstzRange,
}

/// (oid, scalar) for PostgreSQL's built-in types.
const BUILTIN: &[(u32, Scalar)] = &[
    (16, Scalar::Bool),
    (18, Scalar::Char),
    (21, Scalar::Int2),
    (23, Scalar::Int4),
    (20, Scalar::Int8),
    (700, Scalar::Float4),
    (701, Scalar::Float8),
    (1700, Scalar::Numeric),
    (25, Scalar::Text),
    (1043, Scalar::Text),
    (1042, Scalar::Text),
    (19, Scalar::Text),
    (17, Scalar::Bytea),
    (2275, Scalar::CString),
    (1082, Scalar::Date),
    (1083, Scalar::Time),
    (1266, Scalar::TimeTz),
    (1114, Scalar::Timestamp),
    (1184, Scalar::TimestampTz),
    (1186, Scalar::Interval),
    (2950, Scalar::Uuid),
    (114, Scalar::Json),
    (3802, Scalar::JsonB),
    (26, Scalar::Oid),
    (27, Scalar::Tid),
    (600, Scalar::Point),
    (603, Scalar::Box),
    (3904, Scalar::Int4Range),
    (3926, Scalar::Int8Range),
    (3906, Scalar::NumRange),
    (3912, Scalar::DateRange),
    (3908, Scalar::TsRange),
    (3910, Scalar::TstzRange),
];

impl Scalar {
    pub fn of_builtin(oid: u32) -> Option<Scalar> {
        BUILTIN.iter().find(|(o, _)| *o == oid).map(|(_, s)| *s)
    }

    /// The owned Rust type: what a body returns, and an array element.
    pub fn owned(self) -> &'static str {
        match self {
            Scalar::Bool => "bool",
            Scalar::Char => "i8",
            Scalar::Int2 => "i16",
            Scalar::Int4 => "i32",
            Scalar::Int8 => "i64",
            Scalar::Float4 => "f32",
            Scalar::Float8 => "f64",
            Scalar::Numeric => "pgrx::AnyNumeric",
            Scalar::Text => "String",
            Scalar::Bytea => "Vec<u8>",
            Scalar::CString => "pgrx::CString",
            Scalar::Date => "pgrx::Date",
            Scalar::Time => "pgrx::Time",
            Scalar::TimeTz => "pgrx::TimeWithTimeZone",
            Scalar::Timestamp => "pgrx::Timestamp",
            Scalar::TimestampTz => "pgrx::TimestampWithTimeZone",
            Scalar::Interval => "pgrx::Interval",
            Scalar::Uuid => "pgrx::Uuid",
            Scalar::Json => "pgrx::Json",
            Scalar::JsonB => "pgrx::JsonB",
            Scalar::Oid => "pgrx::Oid",
            Scalar::Tid => "pgrx::ItemPointerData",
            Scalar::Point => "pgrx::Point",
            Scalar::Box => "pgrx::BOX",
            Scalar::Int4Range => "pgrx::Range<i32>",
            Scalar::Int8Range => "pgrx::Range<i64>",
            Scalar::NumRange => "pgrx::Range<pgrx::AnyNumeric>",
            Scalar::DateRange => "pgrx::Range<pgrx::Date>",
            Scalar::TsRange => "pgrx::Range<pgrx::Timestamp>",
            Scalar::TstzRange => "pgrx::Range<pgrx::TimestampWithTimeZone>",
        }
    }

    /// The type a body sees for an argument: borrowed where PL/Rust
    /// borrows (text, bytea, cstring), owned otherwise.
    pub fn borrowed(self) -> Option<&'static str> {
        match self {
            Scalar::Text => Some("&'a str"),
            Scalar::Bytea => Some("&'a [u8]"),
            Scalar::CString => Some("&'a pgrx::CStr"),
            _ => None,
        }
    }
}

/// A function's argument or result type, resolved from the catalog
/// (domains to their base type).  `oid` is the type whose binary format
/// travels: for an enum, the enum; for an array, the array type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SqlType {
    Scalar {
        ty: Scalar,
        oid: u32,
    },
    Array {
        elem: Scalar,
        oid: u32,
    },
    /// A composite type (a table's row type, CREATE TYPE ... AS): PgHeapTuple.
    /// Its attributes: (name, type, base type), dropped ones left out.
    Composite {
        oid: u32,
        attributes: Vec<(String, u32, u32)>,
    },
    Void,
}

impl SqlType {
    /// The owned Rust type (what a body returns).
    pub fn owned(&self) -> String {
        match self {
            SqlType::Scalar { ty, .. } => ty.owned().to_string(),
            SqlType::Array { elem, .. } => format!("Vec<Option<{}>>", elem.owned()),
            SqlType::Composite { .. } => "pgrx::PgHeapTuple".to_string(),
            SqlType::Void => "()".to_string(),
        }
    }

    /// The type an argument has in the body, borrowing for lifetime `'a`.
    pub fn argument(&self) -> String {
        match self {
            SqlType::Scalar { ty, .. } => ty.borrowed().unwrap_or(ty.owned()).to_string(),
            SqlType::Array { elem, .. } => format!("pgrx::Array<{}>", elem.owned()),
            other => other.owned(),
        }
    }

    /// The type decoded from the wire for an argument (then borrowed from).
    pub fn decoded(&self) -> String {
        match self {
            SqlType::Array { elem, .. } => format!("pgrx::Array<{}>", elem.owned()),
            other => other.owned(),
        }
    }

    /// Whether the body gets a borrow of the decoded value.
    pub fn borrows(&self) -> bool {
        matches!(self, SqlType::Scalar { ty, .. } if ty.borrowed().is_some())
    }

    /// The oid a decoder checks the value against.
    pub fn wire_oid(&self) -> u32 {
        match self {
            SqlType::Scalar { oid, .. }
            | SqlType::Array { oid, .. }
            | SqlType::Composite { oid, .. } => *oid,
            SqlType::Void => 2278,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_map_to_rust_types() {
        assert_eq!(Scalar::of_builtin(23), Some(Scalar::Int4));
        assert_eq!(Scalar::of_builtin(1043), Some(Scalar::Text));
        assert_eq!(Scalar::of_builtin(2249), None);
        let text = SqlType::Scalar {
            ty: Scalar::Text,
            oid: 25,
        };
        assert_eq!(text.argument(), "&'a str");
        assert_eq!(text.owned(), "String");
        let arr = SqlType::Array {
            elem: Scalar::Int4,
            oid: 1007,
        };
        assert_eq!(arr.argument(), "pgrx::Array<i32>");
        assert_eq!(arr.owned(), "Vec<Option<i32>>");
    }
}
