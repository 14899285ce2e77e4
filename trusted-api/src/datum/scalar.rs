//! Fixed-width scalars, strings, bytea, cstring, oid, tid and void.

use super::oids::*;
use super::reader::Reader;
use super::{
    datum, expect_oid, CStr, CString, Datum, FromDatum, IntoDatum, Oid, TryFromDatumError, TypeOid,
};

macro_rules! fixed {
    ($t:ty, $oid:expr, $read:ident, $to_bytes:expr) => {
        impl FromDatum for $t {
            fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
                expect_oid::<$t>(oid, &[$oid])?;
                let mut r = Reader::new(bytes, core::any::type_name::<$t>());
                let v = r.$read()?;
                r.finish()?;
                Ok(v)
            }
        }

        impl IntoDatum for $t {
            fn into_datum(self) -> Option<Datum> {
                let f: fn($t) -> Vec<u8> = $to_bytes;
                datum($oid, f(self))
            }
            /// Floats' to_be_bytes are their bits: every NaN payload and
            /// -0.0 survive, as in into_datum.
            fn into_encoded(self) -> super::Encoded {
                super::Encoded::inline(&self.to_be_bytes())
            }
            fn type_oid() -> TypeOid {
                $oid
            }
        }
    };
}

fixed!(i16, INT2OID, i16, |v| v.to_be_bytes().to_vec());
fixed!(i32, INT4OID, i32, |v| v.to_be_bytes().to_vec());
fixed!(i64, INT8OID, i64, |v| v.to_be_bytes().to_vec());
// Bits, not values, so that every NaN payload and -0.0 survive.
fixed!(f32, FLOAT4OID, f32, |v| v.to_bits().to_be_bytes().to_vec());
fixed!(f64, FLOAT8OID, f64, |v| v.to_bits().to_be_bytes().to_vec());

impl FromDatum for bool {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<bool>(oid, &[BOOLOID])?;
        let mut r = Reader::new(bytes, "bool");
        // boolrecv takes any nonzero byte as true; so do we.
        let v = r.u8()? != 0;
        r.finish()?;
        Ok(v)
    }
}

impl IntoDatum for bool {
    fn into_datum(self) -> Option<Datum> {
        datum(BOOLOID, vec![u8::from(self)])
    }
    fn into_encoded(self) -> super::Encoded {
        super::Encoded::inline(&[u8::from(self)])
    }
    fn type_oid() -> TypeOid {
        BOOLOID
    }
}

/// SQL `"char"`, a single signed byte as in pgrx.
impl FromDatum for i8 {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<i8>(oid, &[CHAROID])?;
        let mut r = Reader::new(bytes, "i8");
        let v = i8::from_be_bytes([r.u8()?]);
        r.finish()?;
        Ok(v)
    }
}

impl IntoDatum for i8 {
    fn into_datum(self) -> Option<Datum> {
        datum(CHAROID, self.to_be_bytes().to_vec())
    }
    fn type_oid() -> TypeOid {
        CHAROID
    }
}

impl FromDatum for Oid {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<Oid>(oid, &[OIDOID])?;
        let mut r = Reader::new(bytes, "Oid");
        let v = Oid::from_u32(r.u32()?);
        r.finish()?;
        Ok(v)
    }
}

impl IntoDatum for Oid {
    fn into_datum(self) -> Option<Datum> {
        datum(OIDOID, self.as_u32().to_be_bytes().to_vec())
    }
    fn type_oid() -> TypeOid {
        OIDOID
    }
}

/// The SQL types whose send format is their text as raw UTF-8 bytes.
///
/// Any oid at or above `FIRST_NORMAL_OBJECT_ID` is accepted too: those are
/// user-created types, and the only ones a body can meet as a `String` are
/// enums, whose send format (`enum_send`) is the label's text.  A user
/// type with some other format would fail elsewhere, not here.
fn is_text_like(oid: TypeOid) -> bool {
    matches!(
        oid,
        TEXTOID | VARCHAROID | BPCHAROID | NAMEOID | UNKNOWNOID | CSTRINGOID
    ) || oid >= FIRST_NORMAL_OBJECT_ID
}

impl FromDatum for String {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        if !is_text_like(oid) {
            return Err(super::incompatible::<String>(oid));
        }
        String::from_utf8(bytes.to_vec()).map_err(|e| TryFromDatumError::Malformed {
            rust_type: "String",
            why: e.to_string(),
        })
    }
}

impl IntoDatum for String {
    fn into_datum(self) -> Option<Datum> {
        datum(TEXTOID, self.into_bytes())
    }
    fn type_oid() -> TypeOid {
        TEXTOID
    }
}

impl IntoDatum for &str {
    fn into_datum(self) -> Option<Datum> {
        datum(TEXTOID, self.as_bytes().to_vec())
    }
    fn type_oid() -> TypeOid {
        TEXTOID
    }
}

impl IntoDatum for &String {
    fn into_datum(self) -> Option<Datum> {
        self.as_str().into_datum()
    }
    fn type_oid() -> TypeOid {
        TEXTOID
    }
}

impl FromDatum for Vec<u8> {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<Vec<u8>>(oid, &[BYTEAOID])?;
        Ok(bytes.to_vec())
    }
}

impl IntoDatum for Vec<u8> {
    fn into_datum(self) -> Option<Datum> {
        datum(BYTEAOID, self)
    }
    fn type_oid() -> TypeOid {
        BYTEAOID
    }
}

impl IntoDatum for &[u8] {
    fn into_datum(self) -> Option<Datum> {
        datum(BYTEAOID, self.to_vec())
    }
    fn type_oid() -> TypeOid {
        BYTEAOID
    }
}

impl FromDatum for CString {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<CString>(oid, &[CSTRINGOID])?;
        CString::new(bytes.to_vec()).map_err(|e| TryFromDatumError::Malformed {
            rust_type: "CString",
            why: e.to_string(),
        })
    }
}

impl IntoDatum for CString {
    fn into_datum(self) -> Option<Datum> {
        datum(CSTRINGOID, self.into_bytes())
    }
    fn type_oid() -> TypeOid {
        CSTRINGOID
    }
}

impl IntoDatum for &CStr {
    fn into_datum(self) -> Option<Datum> {
        datum(CSTRINGOID, self.to_bytes().to_vec())
    }
    fn type_oid() -> TypeOid {
        CSTRINGOID
    }
}

impl FromDatum for () {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<()>(oid, &[VOIDOID])?;
        Reader::new(bytes, "()").finish()
    }
}

impl IntoDatum for () {
    fn into_datum(self) -> Option<Datum> {
        datum(VOIDOID, Vec::new())
    }
    fn type_oid() -> TypeOid {
        VOIDOID
    }
}

/// A row's physical location (`tid`).  The block number is one `u32`
/// here, unlike pg_sys's split `BlockIdData`, because that is how
/// `tidsend` puts it on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ItemPointerData {
    pub ip_blkid: u32,
    pub ip_posid: u16,
}

impl FromDatum for ItemPointerData {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<ItemPointerData>(oid, &[TIDOID])?;
        let mut r = Reader::new(bytes, "ItemPointerData");
        let v = ItemPointerData {
            ip_blkid: r.u32()?,
            ip_posid: r.u16()?,
        };
        r.finish()?;
        Ok(v)
    }
}

impl IntoDatum for ItemPointerData {
    fn into_datum(self) -> Option<Datum> {
        let mut b = Vec::with_capacity(6);
        b.extend_from_slice(&self.ip_blkid.to_be_bytes());
        b.extend_from_slice(&self.ip_posid.to_be_bytes());
        datum(TIDOID, b)
    }
    fn type_oid() -> TypeOid {
        TIDOID
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{round_trip, strict};
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(round_trip(0x0102i16), [1, 2]);
        assert_eq!(round_trip(-2i32), [0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(round_trip(1i64), [0, 0, 0, 0, 0, 0, 0, 1]);
        for v in [i16::MIN, i16::MAX, 0] {
            strict::<i16>(&round_trip(v), INT2OID, INT4OID);
        }
        for v in [i32::MIN, i32::MAX, 0] {
            strict::<i32>(&round_trip(v), INT4OID, INT8OID);
        }
        for v in [i64::MIN, i64::MAX, 0] {
            strict::<i64>(&round_trip(v), INT8OID, INT4OID);
        }
        assert_eq!(round_trip(-1i8), [0xff]);
        strict::<i8>(&round_trip(i8::MIN), CHAROID, BOOLOID);
        strict::<Oid>(&round_trip(Oid::from_u32(u32::MAX)), OIDOID, INT4OID);
        assert_eq!(round_trip(Oid::from_u32(26)), [0, 0, 0, 26]);
    }

    #[test]
    fn floats_keep_their_bits() {
        let odd_nan = f64::from_bits(0x7ff8_0000_0000_1234);
        for v in [
            0.0,
            -0.0,
            1.5,
            f64::NAN,
            odd_nan,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            f64::MAX,
        ] {
            let d = v.into_datum().unwrap();
            assert_eq!(d.bytes, v.to_bits().to_be_bytes());
            let back = f64::from_binary(&d.bytes, FLOAT8OID).unwrap();
            assert_eq!(back.to_bits(), v.to_bits());
            strict::<f64>(&d.bytes, FLOAT8OID, FLOAT4OID);
        }
        for v in [
            0.0f32,
            -0.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::from_bits(0x7fc0_0001),
        ] {
            let d = v.into_datum().unwrap();
            let back = f32::from_binary(&d.bytes, FLOAT4OID).unwrap();
            assert_eq!(back.to_bits(), v.to_bits());
            strict::<f32>(&d.bytes, FLOAT4OID, FLOAT8OID);
        }
        assert_eq!(1.0f32.into_datum().unwrap().bytes, [0x3f, 0x80, 0, 0]);
    }

    #[test]
    fn bools() {
        assert_eq!(round_trip(true), [1]);
        assert_eq!(round_trip(false), [0]);
        assert!(bool::from_binary(&[7], BOOLOID).unwrap());
        strict::<bool>(&[1], BOOLOID, INT4OID);
    }

    #[test]
    fn text() {
        // One character from every Unicode plane that has assigned ones,
        // plus the edges of the encoding lengths.
        let s = "a\u{7f}\u{80}é\u{7ff}\u{800}中\u{ffff}\u{10000}😀\u{1f600}\u{20000}\u{2a6d6}\u{30000}\u{e0001}\u{f0000}\u{10fffd}\u{10ffff}";
        assert_eq!(round_trip(s.to_string()), s.as_bytes());
        assert_eq!(round_trip(String::new()), b"");
        assert_eq!(s.into_datum().unwrap().bytes, s.as_bytes());
        assert_eq!((&s.to_string()).into_datum().unwrap().oid, TEXTOID);
        for oid in [
            TEXTOID, VARCHAROID, BPCHAROID, NAMEOID, UNKNOWNOID, CSTRINGOID, 16384, 99999,
        ] {
            assert_eq!(String::from_binary(b"x", oid).unwrap(), "x");
        }
        assert!(matches!(
            String::from_binary(b"x", BYTEAOID),
            Err(TryFromDatumError::IncompatibleTypes { .. })
        ));
        assert!(matches!(
            String::from_binary(&[0xff, 0xfe], TEXTOID),
            Err(TryFromDatumError::Malformed { .. })
        ));
        // A strict prefix that cuts a character in half.
        assert!(String::from_binary(&"é".as_bytes()[..1], TEXTOID).is_err());
    }

    #[test]
    fn bytea_and_cstring() {
        let b = vec![0u8, 255, 1, 0];
        assert_eq!(round_trip(b.clone()), b);
        assert_eq!(b.as_slice().into_datum().unwrap().oid, BYTEAOID);
        assert!(Vec::<u8>::from_binary(&[], TEXTOID).is_err());
        let c = CString::new("hi").unwrap();
        assert_eq!(round_trip(c.clone()), b"hi");
        assert_eq!(c.as_c_str().into_datum().unwrap().bytes, b"hi");
        assert!(CString::from_binary(b"a\0b", CSTRINGOID).is_err());
        assert!(CString::from_binary(b"a", TEXTOID).is_err());
    }

    #[test]
    fn void_and_tid() {
        assert_eq!(
            ().into_datum().unwrap(),
            Datum {
                oid: VOIDOID,
                bytes: vec![]
            }
        );
        <()>::from_binary(&[], VOIDOID).unwrap();
        assert!(<()>::from_binary(&[0], VOIDOID).is_err());
        let t = ItemPointerData {
            ip_blkid: 0x01020304,
            ip_posid: 0x0506,
        };
        assert_eq!(round_trip(t), [1, 2, 3, 4, 5, 6]);
        strict::<ItemPointerData>(&[1, 2, 3, 4, 5, 6], TIDOID, INT8OID);
    }
}
