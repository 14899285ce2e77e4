//! Encoding and decoding of channel payloads.
//!
//! This is the one module that turns bytes from shared memory into values in
//! a backend.  Those bytes come from an executor that may be running hostile
//! code, so decoding is bounded (a length prefix cannot make us allocate
//! more than the area holds), total (every byte must be consumed), and
//! validating (UTF-8, enum tags, message sizes).  It never panics on bad
//! input: it returns `WireError`.

use bincode::config::{self, Configuration, Fixint, Limit, LittleEndian};
use bincode::{Decode, Encode};

use crate::limits::{MAX_MESSAGE, REPLY_AREA};
use crate::message::Reply;

/// Fixed-width integers: arguments are mostly small numbers whose encoding
/// cost matters more than their size, and fixed width is simpler to bound.
type Config = Configuration<LittleEndian, Fixint, Limit<REPLY_AREA>>;

fn config() -> Config {
    config::standard()
        .with_fixed_int_encoding()
        .with_limit::<REPLY_AREA>()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The value does not fit the area.
    TooLarge,
    /// The bytes are not a valid encoding of the expected type.
    Malformed(String),
    /// The bytes decode, but bytes are left over.
    TrailingBytes(usize),
    /// An error or panic message longer than MAX_MESSAGE.
    MessageTooLong(usize),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::TooLarge => write!(f, "value does not fit in the channel"),
            WireError::Malformed(e) => write!(f, "malformed frame: {e}"),
            WireError::TrailingBytes(n) => write!(f, "{n} unexpected bytes after the frame"),
            WireError::MessageTooLong(n) => write!(f, "message of {n} bytes exceeds {MAX_MESSAGE}"),
        }
    }
}

impl std::error::Error for WireError {}

/// Encode `value` at the start of `out`; returns the length written.
pub fn encode_into<T: Encode>(value: &T, out: &mut [u8]) -> Result<usize, WireError> {
    bincode::encode_into_slice(value, out, config()).map_err(|e| match e {
        bincode::error::EncodeError::UnexpectedEnd => WireError::TooLarge,
        other => WireError::Malformed(other.to_string()),
    })
}

/// Decode exactly one `T` from all of `bytes`.
pub fn decode_exact<T: Decode<()>>(bytes: &[u8]) -> Result<T, WireError> {
    let (value, used) = bincode::decode_from_slice(bytes, config())
        .map_err(|e| WireError::Malformed(e.to_string()))?;
    if used != bytes.len() {
        return Err(WireError::TrailingBytes(bytes.len() - used));
    }
    Ok(value)
}

/// Decode a call's reply from an executor: `decode_exact` plus a bound on
/// the messages it may carry.
pub fn decode_reply<T: Decode<()>>(bytes: &[u8]) -> Result<Reply<T>, WireError> {
    let reply: Reply<T> = decode_exact(bytes)?;
    if let Reply::Error(m) | Reply::Panic(m) = &reply {
        if m.len() > MAX_MESSAGE {
            return Err(WireError::MessageTooLong(m.len()));
        }
    }
    Ok(reply)
}

/// A plain UTF-8 message (FAILED replies), bounded and validated; invalid
/// bytes are replaced rather than trusted.
pub fn decode_message(bytes: &[u8]) -> String {
    let bytes = &bytes[..bytes.len().min(MAX_MESSAGE)];
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut buf = [0u8; 256];
        let v: (Option<i32>, String, Vec<u8>) = (Some(-5), "héllo".into(), vec![0, 255]);
        let n = encode_into(&v, &mut buf).unwrap();
        assert_eq!(
            decode_exact::<(Option<i32>, String, Vec<u8>)>(&buf[..n]).unwrap(),
            v
        );
        let r = Reply::<i64>::Value(Some(i64::MIN));
        let n = encode_into(&r, &mut buf).unwrap();
        assert_eq!(decode_reply::<i64>(&buf[..n]).unwrap(), r);
    }

    #[test]
    fn too_large_for_area() {
        let mut buf = [0u8; 4];
        assert_eq!(
            encode_into(&String::from("too long"), &mut buf),
            Err(WireError::TooLarge)
        );
    }

    #[test]
    fn hostile_bytes_are_errors() {
        // A length prefix claiming 2^60 bytes must not allocate.
        let mut bytes = vec![0u8]; // Reply::Value tag
        bytes.push(1); // Some
        bytes.extend_from_slice(&(1u64 << 60).to_le_bytes());
        assert!(decode_reply::<String>(&bytes).is_err());
        // Invalid UTF-8.
        let mut buf = [0u8; 64];
        let n = encode_into(&Reply::<Vec<u8>>::Value(Some(vec![0xff, 0xfe])), &mut buf).unwrap();
        assert!(matches!(
            decode_reply::<String>(&buf[..n]),
            Err(WireError::Malformed(_))
        ));
        // Unknown enum tag.
        assert!(decode_reply::<i32>(&[9, 0, 0, 0]).is_err());
        // Truncated and trailing.
        let n = encode_into(&Reply::<i32>::Value(Some(7)), &mut buf).unwrap();
        assert!(decode_reply::<i32>(&buf[..n - 1]).is_err());
        assert_eq!(
            decode_reply::<i32>(&buf[..n + 1]),
            Err(WireError::TrailingBytes(1))
        );
        // An oversized message.
        let big = "x".repeat(MAX_MESSAGE + 1);
        let mut big_buf = vec![0u8; MAX_MESSAGE + 64];
        let n = encode_into(&Reply::<i32>::Error(big), &mut big_buf).unwrap();
        assert!(matches!(
            decode_reply::<i32>(&big_buf[..n]),
            Err(WireError::MessageTooLong(_))
        ));
    }

    #[test]
    fn every_prefix_of_a_valid_frame_is_refused() {
        let mut buf = [0u8; 64];
        let n = encode_into(&Reply::<String>::Value(Some("abc".into())), &mut buf).unwrap();
        for cut in 0..n {
            assert!(
                decode_reply::<String>(&buf[..cut]).is_err(),
                "prefix {cut} accepted"
            );
        }
    }
}
