//! The SQL types plrust functions take and return, and how each one looks in
//! Rust and on the wire.  The backend, the code generator and the generated
//! code all derive their encodings from this one table.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Text,
    Varchar,
    Bytea,
    Void,
}

impl SqlType {
    /// The PostgreSQL type name, for messages.
    pub fn sql_name(self) -> &'static str {
        match self {
            SqlType::Bool => "boolean",
            SqlType::Int2 => "smallint",
            SqlType::Int4 => "integer",
            SqlType::Int8 => "bigint",
            SqlType::Float4 => "real",
            SqlType::Float8 => "double precision",
            SqlType::Text => "text",
            SqlType::Varchar => "character varying",
            SqlType::Bytea => "bytea",
            SqlType::Void => "void",
        }
    }

    /// The owned Rust type that travels on the wire, and that a function
    /// returns (PL/Rust's "return type" column).
    pub fn wire_type(self) -> &'static str {
        match self {
            SqlType::Bool => "bool",
            SqlType::Int2 => "i16",
            SqlType::Int4 => "i32",
            SqlType::Int8 => "i64",
            SqlType::Float4 => "f32",
            SqlType::Float8 => "f64",
            SqlType::Text | SqlType::Varchar => "String",
            SqlType::Bytea => "Vec<u8>",
            SqlType::Void => "()",
        }
    }

    /// The type a function body sees for an argument (PL/Rust's "argument"
    /// column): borrowed for text and bytea, owned otherwise.
    pub fn arg_type(self) -> &'static str {
        match self {
            SqlType::Text | SqlType::Varchar => "&str",
            SqlType::Bytea => "&[u8]",
            other => other.wire_type(),
        }
    }

    /// Whether the argument is passed borrowed from its decoded owned value.
    pub fn borrows(self) -> bool {
        matches!(self, SqlType::Text | SqlType::Varchar | SqlType::Bytea)
    }

    /// Whether a column or argument of this type can exist (void cannot be
    /// an argument).
    pub fn can_be_argument(self) -> bool {
        self != SqlType::Void
    }
}
