//! SQL values as plrust bodies see them, and their conversion to and from
//! PostgreSQL's binary send/receive format.
//!
//! The backend runs each type's `typsend`/`typreceive`; the executor only
//! ever sees those bytes.  So every decoder here treats its input as
//! possibly malformed: it returns an error rather than panicking, checks
//! each count against the bytes actually left before allocating for it,
//! and insists on consuming its input exactly.

use core::fmt;

mod array;
mod clock;
mod datetime;
mod geo;
mod json;
mod numeric;
pub mod oids;
mod range;
mod reader;
mod record;
mod scalar;
mod uuid;

pub use core::ffi::CStr;
pub use serde_json;
/// `alloc::ffi::CString`, which std re-exports under this path.
pub use std::ffi::CString;

pub use array::{
    Array, ArrayIntoIterator, ArrayIterator, ArrayShapeError, ArraySliceError, ArrayTypedIterator,
};
pub use clock::{
    clock_timestamp, current_date, current_time, current_timestamp, get_timezone_offset,
    local_timestamp, now, statement_timestamp, time_of_day, to_timestamp, transaction_timestamp,
    TimestampPrecision,
};
pub use datetime::{
    Date, DateTimeConversionError, Interval, IntervalConversionError, Time, TimeWithTimeZone,
    Timestamp, TimestampWithTimeZone,
};
pub use datetime::{DateTimeParts, HasExtractableParts, ToIsoString};
pub use geo::{Point, BOX};
pub use json::{Json, JsonB, JsonString};
pub use numeric::{AnyNumeric, NumericError, Sign};
pub use oids::{array_of, element_of, Oid, PgBuiltInOids, PgOid};
pub use range::{Range, RangeBound, RangeSubType};
pub use scalar::ItemPointerData;
pub use uuid::Uuid;

pub(crate) use record::{read_record, write_record};

/// A raw type oid, as the channel carries it.
pub type TypeOid = u32;

/// One non-NULL value in binary format, with its SQL type oid (what SPI
/// arguments and returns carry).
#[derive(Debug, Clone, PartialEq)]
pub struct Datum {
    pub oid: TypeOid,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TryFromDatumError {
    /// The SQL type is not one the Rust type can represent.
    IncompatibleTypes {
        rust_type: &'static str,
        sql_oid: u32,
    },
    /// The bytes are not a valid binary value of the SQL type.
    Malformed {
        rust_type: &'static str,
        why: String,
    },
    NoSuchAttributeName(String),
    NoSuchAttributeNumber(usize),
}

impl fmt::Display for TryFromDatumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryFromDatumError::IncompatibleTypes { rust_type, sql_oid } => write!(
                f,
                "The specified type `{rust_type}` is not compatible with the datum type (oid: {sql_oid})"
            ),
            TryFromDatumError::Malformed { rust_type, why } => write!(
                f,
                "The datum is not a valid binary value for type `{rust_type}`: {why}"
            ),
            TryFromDatumError::NoSuchAttributeName(name) => {
                write!(f, "The specified attribute name `{name}` is not present")
            }
            TryFromDatumError::NoSuchAttributeNumber(n) => {
                write!(f, "The specified attribute number `{n}` is not present")
            }
        }
    }
}

impl std::error::Error for TryFromDatumError {}

pub trait FromDatum: Sized {
    /// Decode a non-NULL value of SQL type `oid` from its binary format.
    /// Must return IncompatibleTypes when `oid` is not a type this Rust
    /// type can represent (before looking at `bytes`: the array decoder
    /// relies on that to check element types of empty arrays).
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError>;
}

pub trait IntoDatum {
    /// The binary format of the value, None for SQL NULL (Option::None).
    fn into_datum(self) -> Option<Datum>;
    /// The same bytes without a heap allocation where the type allows: a
    /// function's result is encoded on every call.
    fn into_encoded(self) -> Encoded
    where
        Self: Sized,
    {
        match self.into_datum() {
            Some(d) => Encoded::Heap(d.bytes),
            None => Encoded::Null,
        }
    }
    /// The SQL type this Rust type maps to by default.
    fn type_oid() -> TypeOid
    where
        Self: Sized;
}

/// A value's binary format, or NULL, as a call returns it.
#[derive(Debug, Clone, PartialEq)]
pub enum Encoded {
    Null,
    /// Up to 16 bytes (the fixed-width types), kept off the heap.
    Inline([u8; 16], u8),
    Heap(Vec<u8>),
}

impl Encoded {
    /// The bytes; None for NULL.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Encoded::Null => None,
            Encoded::Inline(b, n) => Some(&b[..usize::from(*n)]),
            Encoded::Heap(v) => Some(v),
        }
    }

    /// `bytes` kept inline (at most 16).
    pub fn inline(bytes: &[u8]) -> Encoded {
        let mut b = [0u8; 16];
        b[..bytes.len()].copy_from_slice(bytes);
        Encoded::Inline(b, bytes.len() as u8)
    }
}

impl From<Option<Vec<u8>>> for Encoded {
    fn from(v: Option<Vec<u8>>) -> Encoded {
        v.map_or(Encoded::Null, Encoded::Heap)
    }
}

impl<T: IntoDatum> IntoDatum for Option<T> {
    fn into_datum(self) -> Option<Datum> {
        self.and_then(IntoDatum::into_datum)
    }
    fn into_encoded(self) -> Encoded {
        self.map_or(Encoded::Null, IntoDatum::into_encoded)
    }
    fn type_oid() -> TypeOid {
        T::type_oid()
    }
}

/// The `IncompatibleTypes` error for `T`.
pub(crate) fn incompatible<T>(oid: TypeOid) -> TryFromDatumError {
    TryFromDatumError::IncompatibleTypes {
        rust_type: core::any::type_name::<T>(),
        sql_oid: oid,
    }
}

/// Fails with `IncompatibleTypes` unless `oid` is one of `accepted`.
pub(crate) fn expect_oid<T>(oid: TypeOid, accepted: &[TypeOid]) -> Result<(), TryFromDatumError> {
    if accepted.contains(&oid) {
        Ok(())
    } else {
        Err(incompatible::<T>(oid))
    }
}

pub(crate) fn datum(oid: TypeOid, bytes: Vec<u8>) -> Option<Datum> {
    Some(Datum { oid, bytes })
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;

    /// Encodes, decodes and checks the value came back and the bytes are
    /// what `IntoDatum` said.
    pub(crate) fn round_trip<T>(v: T) -> Vec<u8>
    where
        T: FromDatum + IntoDatum + Clone + PartialEq + fmt::Debug,
    {
        let d = v.clone().into_datum().expect("not NULL");
        assert_eq!(d.oid, T::type_oid());
        let back = T::from_binary(&d.bytes, d.oid).expect("decodes");
        assert_eq!(back, v);
        d.bytes
    }

    /// For formats with structure: every strict prefix and any extension
    /// is an error, and a wrong oid is `IncompatibleTypes`.
    pub(crate) fn strict<T: FromDatum + fmt::Debug>(
        bytes: &[u8],
        oid: TypeOid,
        wrong_oid: TypeOid,
    ) {
        T::from_binary(bytes, oid).expect("valid encoding");
        for n in 0..bytes.len() {
            assert!(
                T::from_binary(&bytes[..n], oid).is_err(),
                "prefix of {n} bytes of {bytes:?} accepted"
            );
        }
        let mut longer = bytes.to_vec();
        longer.push(0);
        assert!(
            T::from_binary(&longer, oid).is_err(),
            "trailing byte accepted"
        );
        assert!(matches!(
            T::from_binary(bytes, wrong_oid),
            Err(TryFromDatumError::IncompatibleTypes { .. })
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_is_null() {
        assert_eq!(None::<i32>.into_datum(), None);
        assert_eq!(
            Some(1i32).into_datum(),
            Some(Datum {
                oid: oids::INT4OID,
                bytes: vec![0, 0, 0, 1]
            })
        );
        assert_eq!(<Option<i32>>::type_oid(), oids::INT4OID);
    }

    #[test]
    fn error_messages() {
        let e = i32::from_binary(&[], oids::TEXTOID).unwrap_err();
        assert!(e.to_string().contains("i32"));
        assert!(e.to_string().contains("25"));
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
        assert!(!boxed.to_string().is_empty());
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Decodes `hex` as `T` (of SQL type `oid`), checks its text, and
    /// checks that encoding it again gives the same bytes.
    fn pg<T: FromDatum + IntoDatum + Clone + fmt::Display>(oid: TypeOid, hex: &str, text: &str) {
        let bytes = unhex(hex);
        let v = T::from_binary(&bytes, oid).unwrap();
        assert_eq!(v.to_string(), text);
        assert_eq!(v.into_datum().unwrap().bytes, bytes, "{text}");
    }

    fn pg_bytes<T: FromDatum + IntoDatum>(oid: TypeOid, hex: &str) {
        let bytes = unhex(hex);
        let v = T::from_binary(&bytes, oid).unwrap();
        assert_eq!(v.into_datum().unwrap().bytes, bytes);
    }

    /// Send-function output and text output of a PostgreSQL 15.20 server
    /// (TimeZone UTC, DateStyle ISO, IntervalStyle postgres).
    #[test]
    fn postgres_15_vectors() {
        use oids::*;
        pg::<AnyNumeric>(NUMERICOID, "000200000000000200011388", "1.50");
        pg::<AnyNumeric>(NUMERICOID, "0000000000000003", "0.000");
        pg::<AnyNumeric>(NUMERICOID, "00000000c0000000", "NaN");
        pg::<AnyNumeric>(NUMERICOID, "00000000d0000020", "Infinity");
        pg::<AnyNumeric>(NUMERICOID, "00000000f0000020", "-Infinity");
        pg::<AnyNumeric>(NUMERICOID, "0003000140000003000109291a7c", "-12345.678");
        pg::<AnyNumeric>(NUMERICOID, "0001fffd4000000903e8", "-0.000000001");
        pg::<AnyNumeric>(
            NUMERICOID,
            "000b000700000009000c0d801ed204d2162e23340d801ed204d2162e2328",
            "123456789012345678901234567890.123456789",
        );
        pg::<AnyNumeric>(NUMERICOID, "0002000100000000270f270f", "99999999");
        pg::<Date>(DATEOID, "fff49d7b", "0044-03-15 BC");
        pg::<Date>(DATEOID, "ffda97cd", "4713-01-01 BC");
        pg::<Date>(DATEOID, "7fda970c", "5874897-12-31");
        pg::<Date>(DATEOID, "065ce7ee", "294276-12-31");
        pg::<Date>(DATEOID, "80000000", "-infinity");
        pg::<Time>(TIMEOID, "000000141dd75fff", "23:59:59.999999");
        pg::<TimeWithTimeZone>(TIMETZOID, "0000000b8675b020ffffb2a8", "13:45:00.5+05:30");
        pg::<TimeWithTimeZone>(TIMETZOID, "00000000dde878c000003147", "01:02:03-03:30:15");
        pg::<TimeWithTimeZone>(TIMETZOID, "000000141dd760000000e0c4", "24:00:00-15:59");
        pg::<Timestamp>(TIMESTAMPOID, "ff1af9e8fb46d000", "0044-03-15 12:00:00 BC");
        pg::<Timestamp>(TIMESTAMPOID, "fd0f7cc1411fa000", "4714-11-24 00:00:00 BC");
        pg::<Timestamp>(
            TIMESTAMPOID,
            "7fffff5bb3b29fff",
            "294276-12-31 23:59:59.999999",
        );
        pg::<TimestampWithTimeZone>(
            TIMESTAMPTZOID,
            "0002b57f9fd60a20",
            "2024-02-29 08:15:00.5+00",
        );
        pg::<TimestampWithTimeZone>(
            TIMESTAMPTZOID,
            "ff1af9e8fb46d000",
            "0044-03-15 12:00:00+00 BC",
        );
        pg::<Interval>(
            INTERVALOID,
            "fffffffc93743f8000000003fffffff2",
            "-1 years -2 mons +3 days -04:05:06",
        );
        pg::<Interval>(
            INTERVALOID,
            "80000000000000008000000000000000",
            "-2147483648 days -2562047788:00:54.775808",
        );
        pg::<Interval>(
            INTERVALOID,
            "7fffffffffffffff7fffffff7fffffff",
            "178956970 years 7 mons 2147483647 days 2562047788:00:54.775807",
        );
        pg::<Interval>(
            INTERVALOID,
            "fffffffffff0bdc00000000100000000",
            "1 day -00:00:01",
        );
        pg::<Uuid>(
            UUIDOID,
            "a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        );
        pg_bytes::<Range<AnyNumeric>>(
            NUMRANGEOID,
            "040000000c0002000000000001000113880000000c0002000000000002000209c4",
        );
        // '[-infinity,2000-01-01]': infinite *values* as bounds, not LB_INF.
        pg_bytes::<Range<Timestamp>>(
            TSRANGEOID,
            "06000000088000000000000000000000080000000000000000",
        );
        pg_bytes::<Range<TimestampWithTimeZone>>(TSTZRANGEOID, "10000000080000000000000005");
        pg_bytes::<Range<i32>>(INT4RANGEOID, "080000000400000008");
        pg_bytes::<Array<i64>>(
            INT8ARRAYOID,
            "000000020000000100000014000000020000000000000003fffffffb000000080000000000000001ffffffff000000080000000000000003000000080000000000000004000000080000000000000005ffffffff",
        );
        pg_bytes::<Array<AnyNumeric>>(
            NUMERICARRAYOID,
            "0000000100000000000006a400000003000000010000000a000100000000000000010000000800000000c00000000000000c000200000000000200011388",
        );
        pg_bytes::<Array<Date>>(
            DATEARRAYOID,
            "00000001000000010000043a0000000200000001000000047fffffffffffffff",
        );
        pg_bytes::<Array<String>>(
            TEXTARRAYOID,
            "000000010000000000000019000000020000000000000001780000000179",
        );
        pg_bytes::<BOX>(
            BOXOID,
            "400800000000000040100000000000003ff0000000000000c004000000000000",
        );
        assert_eq!(
            JsonB::from_binary(
                &unhex("017b2261223a205b312c20322e352c206e756c6c5d7d"),
                JSONBOID
            )
            .unwrap(),
            JsonB(serde_json::json!({"a": [1, 2.5, null]}))
        );
    }
}
