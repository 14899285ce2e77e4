//! json and jsonb.  Both travel as text: json as it is, jsonb behind a
//! one-byte format version (1, the only one PostgreSQL has defined).

use super::oids::{JSONBOID, JSONOID};
use super::{datum, expect_oid, Datum, FromDatum, IntoDatum, TryFromDatumError, TypeOid};

const JSONB_VERSION: u8 = 1;

/// SQL `json`, parsed.  Formatting, key order and duplicate keys of the
/// original text are not kept; `JsonString` keeps the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Json(pub serde_json::Value);

/// SQL `jsonb`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonB(pub serde_json::Value);

/// SQL `json` as its exact text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JsonString(pub String);

fn parse(text: &[u8], rust_type: &'static str) -> Result<serde_json::Value, TryFromDatumError> {
    serde_json::from_slice(text).map_err(|e| TryFromDatumError::Malformed {
        rust_type,
        why: e.to_string(),
    })
}

impl FromDatum for Json {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<Json>(oid, &[JSONOID])?;
        parse(bytes, "Json").map(Json)
    }
}

impl IntoDatum for Json {
    fn into_datum(self) -> Option<Datum> {
        datum(JSONOID, self.0.to_string().into_bytes())
    }
    fn type_oid() -> TypeOid {
        JSONOID
    }
}

impl FromDatum for JsonB {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<JsonB>(oid, &[JSONBOID])?;
        match bytes.split_first() {
            Some((&JSONB_VERSION, text)) => parse(text, "JsonB").map(JsonB),
            Some((v, _)) => Err(TryFromDatumError::Malformed {
                rust_type: "JsonB",
                why: format!("unsupported jsonb version number {v}"),
            }),
            None => Err(TryFromDatumError::Malformed {
                rust_type: "JsonB",
                why: "empty".into(),
            }),
        }
    }
}

impl IntoDatum for JsonB {
    fn into_datum(self) -> Option<Datum> {
        let mut b = vec![JSONB_VERSION];
        b.extend_from_slice(self.0.to_string().as_bytes());
        datum(JSONBOID, b)
    }
    fn type_oid() -> TypeOid {
        JSONBOID
    }
}

impl FromDatum for JsonString {
    fn from_binary(bytes: &[u8], oid: TypeOid) -> Result<Self, TryFromDatumError> {
        expect_oid::<JsonString>(oid, &[JSONOID])?;
        String::from_utf8(bytes.to_vec())
            .map(JsonString)
            .map_err(|e| TryFromDatumError::Malformed {
                rust_type: "JsonString",
                why: e.to_string(),
            })
    }
}

impl IntoDatum for JsonString {
    fn into_datum(self) -> Option<Datum> {
        datum(JSONOID, self.0.into_bytes())
    }
    fn type_oid() -> TypeOid {
        JSONOID
    }
}

#[cfg(test)]
mod tests {
    use super::super::oids::TEXTOID;
    use super::super::testutil::round_trip;
    use super::*;
    use serde_json::json;

    #[test]
    fn json_and_jsonb() {
        let v = json!({"a": [1, 2.5, "😀", null, true], "b": {"c": "\u{10ffff}"}});
        let b = round_trip(Json(v.clone()));
        assert_eq!(b, v.to_string().as_bytes());
        let b = round_trip(JsonB(v.clone()));
        assert_eq!(b[0], 1);
        assert_eq!(&b[1..], v.to_string().as_bytes());
        assert_eq!(
            JsonB::from_binary(b"\x01 [1, 2] ", JSONBOID).unwrap(),
            JsonB(json!([1, 2]))
        );
        assert!(JsonB::from_binary(b"\x02[]", JSONBOID).is_err());
        assert!(JsonB::from_binary(b"", JSONBOID).is_err());
        assert!(JsonB::from_binary(b"\x01", JSONBOID).is_err());
        assert!(Json::from_binary(b"[1,", JSONOID).is_err());
        assert!(Json::from_binary(b"[1] x", JSONOID).is_err());
        assert!(Json::from_binary(b"[]", JSONBOID).is_err());
        assert!(JsonB::from_binary(b"\x01[]", JSONOID).is_err());
        assert!(Json::from_binary(b"[]", TEXTOID).is_err());
        // Every strict prefix of a JSON document is an error.
        let text = br#"{"k": [1, "x"]}"#;
        for n in 0..text.len() {
            assert!(Json::from_binary(&text[..n], JSONOID).is_err());
        }
        let s = JsonString(" {\"a\" : 1} ".into());
        assert_eq!(round_trip(s.clone()), s.0.as_bytes());
    }
}
