//! uuid: sixteen bytes, sent as they are.

use core::fmt;
use core::ops::{Deref, DerefMut};
use core::str::FromStr;

use super::oids::UUIDOID;
use super::reader::Reader;
use super::{datum, expect_oid, Datum, FromDatum, IntoDatum, TryFromDatumError, TypeOid};

/// SQL `uuid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Uuid([u8; 16]);

impl Uuid {
    pub const fn from_bytes(bytes: [u8; 16]) -> Uuid {
        Uuid(bytes)
    }

    pub fn from_slice(bytes: &[u8]) -> Result<Uuid, String> {
        <[u8; 16]>::try_from(bytes)
            .map(Uuid)
            .map_err(|_| format!("a uuid is 16 bytes, not {}", bytes.len()))
    }

    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

/// The bytes, as pgrx's `Uuid` derefs to them (`u[0]`, `u.iter()`).
impl Deref for Uuid {
    type Target = [u8; 16];
    fn deref(&self) -> &[u8; 16] {
        &self.0
    }
}

impl DerefMut for Uuid {
    fn deref_mut(&mut self) -> &mut [u8; 16] {
        &mut self.0
    }
}

impl Uuid {
    /// Thirty-two hex digits; with the `-` flag (`{:-x}`), hyphenated as
    /// uuid_out writes them.  pgrx's hex formats read the flag so.
    fn write_hex(&self, f: &mut fmt::Formatter<'_>, upper: bool) -> fmt::Result {
        let hyphenated = f.sign_minus();
        for (i, b) in self.0.iter().enumerate() {
            if hyphenated && matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            if upper {
                write!(f, "{b:02X}")?;
            } else {
                write!(f, "{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl fmt::LowerHex for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_hex(f, false)
    }
}

impl fmt::UpperHex for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_hex(f, true)
    }
}

/// uuid_out's form: lower case, hyphenated.
impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:-x}")
    }
}

/// What uuid_in accepts: 32 hex digits, optionally in braces, with an
/// optional hyphen after any group of four digits.
impl FromStr for Uuid {
    type Err = String;
    fn from_str(s: &str) -> Result<Uuid, String> {
        let bad = || format!("invalid input syntax for type uuid: \"{s}\"");
        let mut b = s.as_bytes();
        let braced = b.first() == Some(&b'{');
        if braced {
            b = &b[1..];
        }
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            let hex = |c: u8| (c as char).to_digit(16).ok_or_else(bad);
            if b.len() < 2 {
                return Err(bad());
            }
            *byte = u8::try_from(hex(b[0])? * 16 + hex(b[1])?).map_err(|_| bad())?;
            b = &b[2..];
            if i % 2 == 1 && i < 15 && b.first() == Some(&b'-') {
                b = &b[1..];
            }
        }
        if braced {
            if b.first() != Some(&b'}') {
                return Err(bad());
            }
            b = &b[1..];
        }
        if b.is_empty() {
            Ok(Uuid(out))
        } else {
            Err(bad())
        }
    }
}

impl FromDatum for Uuid {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<Uuid>(oid, &[UUIDOID])?;
        let mut r = Reader::new(bytes, "Uuid");
        let raw = r.bytes(16)?;
        r.finish()?;
        Uuid::from_slice(raw).map_err(|why| TryFromDatumError::Malformed {
            rust_type: "Uuid",
            why,
        })
    }
}

impl IntoDatum for Uuid {
    fn into_datum(self) -> Option<Datum> {
        datum(UUIDOID, self.0.to_vec())
    }
    fn type_oid() -> TypeOid {
        UUIDOID
    }
}

#[cfg(test)]
mod tests {
    use super::super::oids::TEXTOID;
    use super::super::testutil::{round_trip, strict};
    use super::*;

    #[test]
    fn uuids() {
        let u: Uuid = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".parse().unwrap();
        assert_eq!(u.to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        let b = round_trip(u);
        assert_eq!(b[0], 0xa0);
        assert_eq!(b[15], 0x11);
        strict::<Uuid>(&b, UUIDOID, TEXTOID);
        for s in [
            "A0EEBC999C0B4EF8BB6D6BB9BD380A11",
            "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}",
            "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
        ] {
            assert_eq!(s.parse::<Uuid>().unwrap(), u, "{s}");
        }
        for s in [
            "",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
            "{a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
            "-a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "g0eebc999c0b4ef8bb6d6bb9bd380a11",
            "é0eebc999c0b4ef8bb6d6bb9bd380a1",
        ] {
            assert!(s.parse::<Uuid>().is_err(), "{s}");
        }
        assert_eq!(
            Uuid::from_bytes([0; 16]).to_string(),
            "00000000-0000-0000-0000-000000000000"
        );
    }

    #[test]
    fn hex_and_bytes() {
        let mut u: Uuid = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".parse().unwrap();
        assert_eq!(format!("{u:x}"), "a0eebc999c0b4ef8bb6d6bb9bd380a11");
        assert_eq!(format!("{u:X}"), "A0EEBC999C0B4EF8BB6D6BB9BD380A11");
        assert_eq!(format!("{u:-X}"), "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11");
        assert_eq!(format!("{u:-x}"), u.to_string());
        assert_eq!(u[0], 0xa0);
        assert_eq!(u.len(), 16);
        u[15] = 0x12;
        assert_eq!(u.as_bytes()[15], 0x12);
    }
}
