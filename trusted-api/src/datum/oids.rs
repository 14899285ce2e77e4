//! Built-in type oids, pgrx-style names for them, and the element/array
//! pairing the array code needs.
//!
//! The numbers are PostgreSQL's `pg_type.dat` values; they are stable
//! across major versions, which is why they can be compiled in here
//! instead of being asked of the backend.

use core::fmt;

use super::TypeOid;

macro_rules! builtin_oids {
    ($($name:ident = $value:expr),* $(,)?) => {
        $(pub const $name: TypeOid = $value;)*

        /// The built-in types this crate knows by name, spelled as pgrx's
        /// `PgBuiltInOids` spells them.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum PgBuiltInOids {
            $($name,)*
        }

        impl PgBuiltInOids {
            pub fn value(self) -> u32 {
                match self {
                    $(PgBuiltInOids::$name => $value,)*
                }
            }

            pub fn from_u32(oid: u32) -> Option<PgBuiltInOids> {
                match oid {
                    $($value => Some(PgBuiltInOids::$name),)*
                    _ => None,
                }
            }
        }
    };
}

builtin_oids! {
    BOOLOID = 16,
    BYTEAOID = 17,
    CHAROID = 18,
    NAMEOID = 19,
    INT8OID = 20,
    INT2OID = 21,
    INT4OID = 23,
    TEXTOID = 25,
    OIDOID = 26,
    TIDOID = 27,
    JSONOID = 114,
    POINTOID = 600,
    BOXOID = 603,
    FLOAT4OID = 700,
    FLOAT8OID = 701,
    UNKNOWNOID = 705,
    BPCHAROID = 1042,
    VARCHAROID = 1043,
    DATEOID = 1082,
    TIMEOID = 1083,
    TIMESTAMPOID = 1114,
    TIMESTAMPTZOID = 1184,
    INTERVALOID = 1186,
    TIMETZOID = 1266,
    NUMERICOID = 1700,
    CSTRINGOID = 2275,
    RECORDOID = 2249,
    VOIDOID = 2278,
    UUIDOID = 2950,
    JSONBOID = 3802,
    INT4RANGEOID = 3904,
    NUMRANGEOID = 3906,
    TSRANGEOID = 3908,
    TSTZRANGEOID = 3910,
    DATERANGEOID = 3912,
    INT8RANGEOID = 3926,
    BOOLARRAYOID = 1000,
    BYTEAARRAYOID = 1001,
    CHARARRAYOID = 1002,
    NAMEARRAYOID = 1003,
    INT2ARRAYOID = 1005,
    INT4ARRAYOID = 1007,
    TEXTARRAYOID = 1009,
    TIDARRAYOID = 1010,
    BPCHARARRAYOID = 1014,
    VARCHARARRAYOID = 1015,
    INT8ARRAYOID = 1016,
    POINTARRAYOID = 1017,
    BOXARRAYOID = 1020,
    FLOAT4ARRAYOID = 1021,
    FLOAT8ARRAYOID = 1022,
    OIDARRAYOID = 1028,
    CSTRINGARRAYOID = 1263,
    TIMESTAMPARRAYOID = 1115,
    DATEARRAYOID = 1182,
    TIMEARRAYOID = 1183,
    TIMESTAMPTZARRAYOID = 1185,
    INTERVALARRAYOID = 1187,
    NUMERICARRAYOID = 1231,
    TIMETZARRAYOID = 1270,
    UUIDARRAYOID = 2951,
    JSONARRAYOID = 199,
    JSONBARRAYOID = 3807,
    INT4RANGEARRAYOID = 3905,
    NUMRANGEARRAYOID = 3907,
    TSRANGEARRAYOID = 3909,
    TSTZRANGEARRAYOID = 3911,
    DATERANGEARRAYOID = 3913,
    INT8RANGEARRAYOID = 3927,
    RECORDARRAYOID = 2287,
}

/// PostgreSQL hands out oids below this to objects created by initdb;
/// anything at or above it was created by a user (an enum type, say).
pub const FIRST_NORMAL_OBJECT_ID: TypeOid = 16384;

/// (element, array) pairs: `typarray` of each element type.
const ARRAY_TYPES: &[(TypeOid, TypeOid)] = &[
    (BOOLOID, BOOLARRAYOID),
    (BYTEAOID, BYTEAARRAYOID),
    (CHAROID, CHARARRAYOID),
    (NAMEOID, NAMEARRAYOID),
    (INT2OID, INT2ARRAYOID),
    (INT4OID, INT4ARRAYOID),
    (TEXTOID, TEXTARRAYOID),
    (TIDOID, TIDARRAYOID),
    (BPCHAROID, BPCHARARRAYOID),
    (VARCHAROID, VARCHARARRAYOID),
    (INT8OID, INT8ARRAYOID),
    (POINTOID, POINTARRAYOID),
    (BOXOID, BOXARRAYOID),
    (FLOAT4OID, FLOAT4ARRAYOID),
    (FLOAT8OID, FLOAT8ARRAYOID),
    (OIDOID, OIDARRAYOID),
    (CSTRINGOID, CSTRINGARRAYOID),
    (TIMESTAMPOID, TIMESTAMPARRAYOID),
    (DATEOID, DATEARRAYOID),
    (TIMEOID, TIMEARRAYOID),
    (TIMESTAMPTZOID, TIMESTAMPTZARRAYOID),
    (INTERVALOID, INTERVALARRAYOID),
    (NUMERICOID, NUMERICARRAYOID),
    (TIMETZOID, TIMETZARRAYOID),
    (UUIDOID, UUIDARRAYOID),
    (JSONOID, JSONARRAYOID),
    (JSONBOID, JSONBARRAYOID),
    (INT4RANGEOID, INT4RANGEARRAYOID),
    (NUMRANGEOID, NUMRANGEARRAYOID),
    (TSRANGEOID, TSRANGEARRAYOID),
    (TSTZRANGEOID, TSTZRANGEARRAYOID),
    (DATERANGEOID, DATERANGEARRAYOID),
    (INT8RANGEOID, INT8RANGEARRAYOID),
    (RECORDOID, RECORDARRAYOID),
];

/// The array type whose elements are `elem`, for the built-in types above.
pub fn array_of(elem: TypeOid) -> Option<TypeOid> {
    ARRAY_TYPES
        .iter()
        .find(|(e, _)| *e == elem)
        .map(|(_, a)| *a)
}

/// The element type of the built-in array type `array`.
pub fn element_of(array: TypeOid) -> Option<TypeOid> {
    ARRAY_TYPES
        .iter()
        .find(|(_, a)| *a == array)
        .map(|(e, _)| *e)
}

/// An object identifier, as pgrx's `pg_sys::Oid`; also the Rust type of
/// SQL `oid` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Oid(u32);

impl Oid {
    pub const INVALID: Oid = Oid(0);

    pub const fn from_u32(oid: u32) -> Oid {
        Oid(oid)
    }

    pub const fn as_u32(self) -> u32 {
        self.0
    }
}

impl From<u32> for Oid {
    fn from(oid: u32) -> Oid {
        Oid(oid)
    }
}

impl From<Oid> for u32 {
    fn from(oid: Oid) -> u32 {
        oid.0
    }
}

impl fmt::Display for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A type oid classified as pgrx classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PgOid {
    InvalidOid,
    Custom(Oid),
    BuiltIn(PgBuiltInOids),
}

impl PgOid {
    pub fn from_untagged(oid: Oid) -> PgOid {
        PgOid::from(oid.as_u32())
    }

    pub fn value(&self) -> u32 {
        match self {
            PgOid::InvalidOid => 0,
            PgOid::Custom(oid) => oid.as_u32(),
            PgOid::BuiltIn(b) => b.value(),
        }
    }
}

impl From<u32> for PgOid {
    fn from(oid: u32) -> PgOid {
        match oid {
            0 => PgOid::InvalidOid,
            _ => match PgBuiltInOids::from_u32(oid) {
                Some(b) => PgOid::BuiltIn(b),
                None => PgOid::Custom(Oid(oid)),
            },
        }
    }
}

impl From<Oid> for PgOid {
    fn from(oid: Oid) -> PgOid {
        PgOid::from(oid.as_u32())
    }
}

impl From<PgBuiltInOids> for PgOid {
    fn from(b: PgBuiltInOids) -> PgOid {
        PgOid::BuiltIn(b)
    }
}

impl PgBuiltInOids {
    pub fn oid(self) -> PgOid {
        PgOid::BuiltIn(self)
    }
}

/// pgrx's name for the enum of built-in type oids (`pg_sys::BuiltinOid`;
/// `PgBuiltInOids` is its alias there, the enum's name here).
pub type BuiltinOid = PgBuiltInOids;

/// Why a number is not a `BuiltinOid` (pgrx's `pg_sys::oids::NotBuiltinOid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotBuiltinOid {
    /// 0, `InvalidOid`.
    Invalid,
    /// Not a built-in type this crate knows by name: a user's type, or a
    /// built-in object that is not a type.
    Ambiguous,
    /// Larger than an oid (from a `Datum` that does not hold one).
    TooBig,
}

impl fmt::Display for NotBuiltinOid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotBuiltinOid::Invalid => "the invalid oid",
            NotBuiltinOid::Ambiguous => "not a built-in type oid",
            NotBuiltinOid::TooBig => "too large to be an oid",
        })
    }
}

impl std::error::Error for NotBuiltinOid {}

impl TryFrom<u32> for PgBuiltInOids {
    type Error = NotBuiltinOid;

    fn try_from(oid: u32) -> Result<PgBuiltInOids, NotBuiltinOid> {
        match oid {
            0 => Err(NotBuiltinOid::Invalid),
            _ => PgBuiltInOids::from_u32(oid).ok_or(NotBuiltinOid::Ambiguous),
        }
    }
}

impl TryFrom<Oid> for PgBuiltInOids {
    type Error = NotBuiltinOid;

    fn try_from(oid: Oid) -> Result<PgBuiltInOids, NotBuiltinOid> {
        PgBuiltInOids::try_from(oid.as_u32())
    }
}

impl From<PgBuiltInOids> for Oid {
    fn from(b: PgBuiltInOids) -> Oid {
        Oid(b.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_table_is_consistent() {
        for &(e, a) in ARRAY_TYPES {
            assert_eq!(array_of(e), Some(a));
            assert_eq!(element_of(a), Some(e));
            assert!(PgBuiltInOids::from_u32(e).is_some());
            assert!(PgBuiltInOids::from_u32(a).is_some());
        }
        assert_eq!(array_of(INT4OID), Some(1007));
        assert_eq!(element_of(TEXTARRAYOID), Some(TEXTOID));
        assert_eq!(array_of(VOIDOID), None);
    }

    #[test]
    fn pg_oid() {
        assert_eq!(PgBuiltInOids::INT4OID.value(), 23);
        assert_eq!(PgBuiltInOids::INT4OID.oid().value(), 23);
        assert_eq!(PgOid::from(23), PgOid::BuiltIn(PgBuiltInOids::INT4OID));
        assert_eq!(PgOid::from(0), PgOid::InvalidOid);
        assert_eq!(PgOid::from(20000).value(), 20000);
        assert_eq!(Oid::from(7).to_string(), "7");
        assert_eq!(Oid::INVALID.as_u32(), 0);
    }

    #[test]
    fn builtin_oid_or_why_not() {
        assert_eq!(BuiltinOid::try_from(25), Ok(BuiltinOid::TEXTOID));
        assert_eq!(
            BuiltinOid::try_from(Oid::from(1007)),
            Ok(PgBuiltInOids::INT4ARRAYOID)
        );
        assert_eq!(BuiltinOid::try_from(0), Err(NotBuiltinOid::Invalid));
        assert_eq!(BuiltinOid::try_from(20000), Err(NotBuiltinOid::Ambiguous));
        assert_eq!(Oid::from(BuiltinOid::BOOLOID).as_u32(), 16);
    }
}
