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
        $(#[allow(non_upper_case_globals)] pub const $name: TypeOid = $value;)*

        /// The built-in objects pgrx 0.11 names (its `BuiltinOid`, PostgreSQL
        /// 15's: types, catalogs, operator classes and families), with their
        /// oids as the discriminants, so that they order as pgrx's do.
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u32)]
        pub enum PgBuiltInOids {
            $($name = $value,)*
        }

        impl PgBuiltInOids {
            pub const fn value(self) -> Oid {
                Oid(self as u32)
            }

            pub const fn from_u32(oid: u32) -> Result<PgBuiltInOids, NotBuiltinOid> {
                match oid {
                    0 => Err(NotBuiltinOid::Invalid),
                    $($value => Ok(PgBuiltInOids::$name),)*
                    _ => Err(NotBuiltinOid::Ambiguous),
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
    // The rest of pgrx's BuiltinOid (PostgreSQL 15's catalog/*_d.h):
    // operator classes and families, catalogs, the pseudo-types, ...
    ACLITEMARRAYOID = 1034,
    ACLITEMOID = 1033,
    ANYARRAYOID = 2277,
    ANYCOMPATIBLEARRAYOID = 5078,
    ANYCOMPATIBLEMULTIRANGEOID = 4538,
    ANYCOMPATIBLENONARRAYOID = 5079,
    ANYCOMPATIBLEOID = 5077,
    ANYCOMPATIBLERANGEOID = 5080,
    ANYELEMENTOID = 2283,
    ANYENUMOID = 3500,
    ANYMULTIRANGEOID = 4537,
    ANYNONARRAYOID = 2776,
    ANYOID = 2276,
    ANYRANGEOID = 3831,
    AccessMethodOperatorRelationId = 2602,
    AccessMethodProcedureRelationId = 2603,
    AccessMethodRelationId = 2601,
    AttributeRelationId = 1249,
    AuthIdRelationId = 1260,
    BITARRAYOID = 1561,
    BITOID = 1560,
    BOOL_BTREE_FAM_OID = 424,
    BOOL_HASH_FAM_OID = 2222,
    BPCHAR_BTREE_FAM_OID = 426,
    BPCHAR_BTREE_PATTERN_OPS_OID = 4219,
    BPCHAR_PATTERN_BTREE_FAM_OID = 2097,
    BRIN_AM_OID = 3580,
    BTREE_AM_OID = 403,
    BYTEA_BTREE_FAM_OID = 428,
    CIDARRAYOID = 1012,
    CIDOID = 29,
    CIDRARRAYOID = 651,
    CIDROID = 650,
    CIRCLEARRAYOID = 719,
    CIRCLEOID = 718,
    C_COLLATION_OID = 950,
    CollationRelationId = 3456,
    DATEMULTIRANGEARRAYOID = 6155,
    DATEMULTIRANGEOID = 4535,
    DATE_BTREE_OPS_OID = 3122,
    DEFAULTTABLESPACE_OID = 1663,
    DEFAULT_COLLATION_OID = 100,
    DatabaseRelationId = 1262,
    EVENT_TRIGGEROID = 3838,
    EnumRelationId = 3501,
    EventTriggerRelationId = 3466,
    ExtensionRelationId = 3079,
    FDW_HANDLEROID = 3115,
    FLOAT8_BTREE_OPS_OID = 3123,
    ForeignServerRelationId = 1417,
    ForeignTableRelationId = 3118,
    GIN_AM_OID = 2742,
    GIST_AM_OID = 783,
    GLOBALTABLESPACE_OID = 1664,
    GTSVECTORARRAYOID = 3644,
    GTSVECTOROID = 3642,
    HASH_AM_OID = 405,
    HEAP_TABLE_AM_OID = 2,
    INDEX_AM_HANDLEROID = 325,
    INETARRAYOID = 1041,
    INETOID = 869,
    INT2VECTORARRAYOID = 1006,
    INT2VECTOROID = 22,
    INT2_BTREE_OPS_OID = 1979,
    INT4MULTIRANGEARRAYOID = 6150,
    INT4MULTIRANGEOID = 4451,
    INT4_BTREE_OPS_OID = 1978,
    INT8MULTIRANGEARRAYOID = 6157,
    INT8MULTIRANGEOID = 4536,
    INT8_BTREE_OPS_OID = 3124,
    INTEGER_BTREE_FAM_OID = 1976,
    INTERNALOID = 2281,
    INTERVAL_BTREE_FAM_OID = 1982,
    IndexRelationId = 2610,
    JSONPATHARRAYOID = 4073,
    JSONPATHOID = 4072,
    LANGUAGE_HANDLEROID = 2280,
    LINEARRAYOID = 629,
    LINEOID = 628,
    LSEGARRAYOID = 1018,
    LSEGOID = 601,
    MACADDR8ARRAYOID = 775,
    MACADDR8OID = 774,
    MACADDRARRAYOID = 1040,
    MACADDROID = 829,
    MONEYARRAYOID = 791,
    MONEYOID = 790,
    NETWORK_BTREE_FAM_OID = 1974,
    NUMERIC_BTREE_OPS_OID = 3125,
    NUMMULTIRANGEARRAYOID = 6151,
    NUMMULTIRANGEOID = 4532,
    NamespaceRelationId = 2615,
    OIDVECTORARRAYOID = 1013,
    OIDVECTOROID = 30,
    OID_BTREE_FAM_OID = 1989,
    OID_BTREE_OPS_OID = 1981,
    OperatorClassRelationId = 2616,
    OperatorFamilyRelationId = 2753,
    OperatorRelationId = 2617,
    PATHARRAYOID = 1019,
    PATHOID = 602,
    PG_ATTRIBUTEARRAYOID = 270,
    PG_BRIN_BLOOM_SUMMARYOID = 4600,
    PG_BRIN_MINMAX_MULTI_SUMMARYOID = 4601,
    PG_CLASSARRAYOID = 273,
    PG_DDL_COMMANDOID = 32,
    PG_DEPENDENCIESOID = 3402,
    PG_LSNARRAYOID = 3221,
    PG_LSNOID = 3220,
    PG_MCV_LISTOID = 5017,
    PG_NDISTINCTOID = 3361,
    PG_NODE_TREEOID = 194,
    PG_PROCARRAYOID = 272,
    PG_SNAPSHOTARRAYOID = 5039,
    PG_SNAPSHOTOID = 5038,
    PG_TYPEARRAYOID = 210,
    POLYGONARRAYOID = 1027,
    POLYGONOID = 604,
    POSIX_COLLATION_OID = 951,
    ProcedureRelationId = 1255,
    PublicationRelationId = 6104,
    REFCURSORARRAYOID = 2201,
    REFCURSOROID = 1790,
    REGCLASSARRAYOID = 2210,
    REGCLASSOID = 2205,
    REGCOLLATIONARRAYOID = 4192,
    REGCOLLATIONOID = 4191,
    REGCONFIGARRAYOID = 3735,
    REGCONFIGOID = 3734,
    REGDICTIONARYARRAYOID = 3770,
    REGDICTIONARYOID = 3769,
    REGNAMESPACEARRAYOID = 4090,
    REGNAMESPACEOID = 4089,
    REGOPERARRAYOID = 2208,
    REGOPERATORARRAYOID = 2209,
    REGOPERATOROID = 2204,
    REGOPEROID = 2203,
    REGPROCARRAYOID = 1008,
    REGPROCEDUREARRAYOID = 2207,
    REGPROCEDUREOID = 2202,
    REGPROCOID = 24,
    REGROLEARRAYOID = 4097,
    REGROLEOID = 4096,
    REGTYPEARRAYOID = 2211,
    REGTYPEOID = 2206,
    RelationRelationId = 1259,
    SPGIST_AM_OID = 4000,
    StatisticRelationId = 2619,
    TABLE_AM_HANDLEROID = 269,
    TEXT_BTREE_FAM_OID = 1994,
    TEXT_BTREE_OPS_OID = 3126,
    TEXT_BTREE_PATTERN_OPS_OID = 4217,
    TEXT_PATTERN_BTREE_FAM_OID = 2095,
    TEXT_SPGIST_FAM_OID = 4017,
    TIMESTAMPTZ_BTREE_OPS_OID = 3127,
    TIMESTAMP_BTREE_OPS_OID = 3128,
    TRIGGEROID = 2279,
    TSMULTIRANGEARRAYOID = 6152,
    TSMULTIRANGEOID = 4533,
    TSM_HANDLEROID = 3310,
    TSQUERYARRAYOID = 3645,
    TSQUERYOID = 3615,
    TSTZMULTIRANGEARRAYOID = 6153,
    TSTZMULTIRANGEOID = 4534,
    TSVECTORARRAYOID = 3643,
    TSVECTOROID = 3614,
    TXID_SNAPSHOTARRAYOID = 2949,
    TXID_SNAPSHOTOID = 2970,
    TableSpaceRelationId = 1213,
    TriggerRelationId = 2620,
    TypeRelationId = 1247,
    VARBITARRAYOID = 1563,
    VARBITOID = 1562,
    VARCHAR_BTREE_PATTERN_OPS_OID = 4218,
    XID8ARRAYOID = 271,
    XID8OID = 5069,
    XIDARRAYOID = 1011,
    XIDOID = 28,
    XLOG_NEXTOID = 48,
    XMLARRAYOID = 143,
    XMLOID = 142,
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

    /// The oid of a built-in object pgrx names (`PgBuiltInOids`).
    pub const fn from_builtin(id: u32) -> Result<Oid, NotBuiltinOid> {
        match PgBuiltInOids::from_u32(id) {
            Ok(b) => Ok(b.value()),
            Err(e) => Err(e),
        }
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
    Invalid,
    Custom(Oid),
    BuiltIn(PgBuiltInOids),
}

impl PgOid {
    pub fn from_untagged(oid: Oid) -> PgOid {
        PgOid::from(oid.as_u32())
    }

    pub const fn value(self) -> Oid {
        match self {
            PgOid::Invalid => Oid::INVALID,
            PgOid::Custom(oid) => oid,
            PgOid::BuiltIn(b) => b.value(),
        }
    }
}

impl From<u32> for PgOid {
    fn from(oid: u32) -> PgOid {
        match oid {
            0 => PgOid::Invalid,
            _ => match PgBuiltInOids::from_u32(oid) {
                Ok(b) => PgOid::BuiltIn(b),
                Err(_) => PgOid::Custom(Oid(oid)),
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
        PgBuiltInOids::from_u32(oid)
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
        b.value()
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
            assert!(PgBuiltInOids::from_u32(e).is_ok());
            assert!(PgBuiltInOids::from_u32(a).is_ok());
        }
        assert_eq!(array_of(INT4OID), Some(1007));
        assert_eq!(element_of(TEXTARRAYOID), Some(TEXTOID));
        assert_eq!(array_of(VOIDOID), None);
    }

    #[test]
    fn pg_oid() {
        assert_eq!(PgBuiltInOids::INT4OID.value(), Oid::from(23));
        assert_eq!(PgBuiltInOids::INT4OID.oid().value(), Oid::from(23));
        assert_eq!(PgOid::from(23), PgOid::BuiltIn(PgBuiltInOids::INT4OID));
        assert_eq!(PgOid::from(0), PgOid::Invalid);
        assert_eq!(PgOid::from(20000).value(), Oid::from(20000));
        // pgrx's BuiltinOid has the catalogs and operator classes too,
        // ordered by oid.
        assert_eq!(BuiltinOid::RelationRelationId.value(), Oid::from(1259));
        assert!(BuiltinOid::BOOLOID < BuiltinOid::INT4OID);
        assert_eq!(Oid::from_builtin(25), Ok(Oid::from(25)));
        assert_eq!(Oid::from_builtin(20000), Err(NotBuiltinOid::Ambiguous));
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
