//! Encoding and decoding of channel payloads.
//!
//! This is the one module that turns bytes from shared memory into values in
//! a backend.  Those bytes come from an executor that may be running hostile
//! code, so decoding is bounded (a length prefix cannot make us allocate
//! more than the area holds), total (every byte must be consumed), and
//! validating (UTF-8, enum tags, message sizes).  It never panics on bad
//! input: it returns `WireError`.

use bincode::config::{self, Configuration, Fixint, Limit, LittleEndian};
use bincode::{BorrowDecode, Decode, Encode};

use crate::limits::{MAX_MESSAGE, REPLY_AREA};
use crate::message::{ErrorReport, Reply, Upcall};

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

/// Encode `value` into a new vector (the executor's upcalls, whose size
/// is not known in advance).
pub fn encode_to_vec<T: Encode>(value: &T) -> Vec<u8> {
    bincode::encode_to_vec(value, config()).unwrap_or_default()
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

/// Decode exactly one `T` that borrows from `bytes`.
pub fn decode_borrowed<'a, T: BorrowDecode<'a, ()>>(bytes: &'a [u8]) -> Result<T, WireError> {
    let (value, used) = bincode::borrow_decode_from_slice(bytes, config())
        .map_err(|e| WireError::Malformed(e.to_string()))?;
    if used != bytes.len() {
        return Err(WireError::TrailingBytes(bytes.len() - used));
    }
    Ok(value)
}

fn check_message(m: &str) -> Result<(), WireError> {
    if m.len() > MAX_MESSAGE {
        return Err(WireError::MessageTooLong(m.len()));
    }
    Ok(())
}

fn check_report(r: &ErrorReport<'_>) -> Result<(), WireError> {
    check_message(r.message)?;
    r.detail.map(check_message).transpose()?;
    r.hint.map(check_message).transpose()?;
    if let Some(code) = r.sqlstate {
        if !code
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        {
            return Err(WireError::Malformed(
                "SQLSTATE is not five digits or capitals".into(),
            ));
        }
    }
    Ok(())
}

/// Decode a call's reply from an executor: `decode_borrowed` plus a bound
/// on the messages it may carry and a check of its SQLSTATE.
pub fn decode_reply(bytes: &[u8]) -> Result<Reply<'_>, WireError> {
    let reply: Reply<'_> = decode_borrowed(bytes)?;
    match &reply {
        Reply::Error(r) => check_report(r)?,
        Reply::Panic(m) => check_message(m)?,
        Reply::Value(_) => {}
    }
    Ok(reply)
}

/// Decode an upcall from an executor, with the same checks.
pub fn decode_upcall(bytes: &[u8]) -> Result<Upcall<'_>, WireError> {
    let upcall: Upcall<'_> = decode_borrowed(bytes)?;
    if let Upcall::Log { report, .. } = &upcall {
        check_report(report)?;
    }
    Ok(upcall)
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
    use crate::message::{LogLevel, SpiArg};

    #[test]
    fn round_trip() {
        let mut buf = [0u8; 256];
        let v: (Option<i32>, String, Vec<u8>) = (Some(-5), "héllo".into(), vec![0, 255]);
        let n = encode_into(&v, &mut buf).unwrap();
        assert_eq!(
            decode_exact::<(Option<i32>, String, Vec<u8>)>(&buf[..n]).unwrap(),
            v
        );
        let r = Reply::Value(Some(&[1, 2, 3]));
        let n = encode_into(&r, &mut buf).unwrap();
        assert_eq!(decode_reply(&buf[..n]).unwrap(), r);
        let u = Upcall::Execute {
            query: "SELECT $1",
            args: vec![SpiArg {
                type_oid: 23,
                value: Some(&[0, 0, 0, 1]),
            }],
            select: true,
            limit: 0,
        };
        let n = encode_into(&u, &mut buf).unwrap();
        assert_eq!(decode_upcall(&buf[..n]).unwrap(), u);
    }

    #[test]
    fn too_large_for_area() {
        let mut buf = [0u8; 4];
        assert_eq!(
            encode_into(&String::from("too long"), &mut buf),
            Err(WireError::TooLarge)
        );
    }

    fn error(message: &str, sqlstate: Option<[u8; 5]>) -> Reply<'_> {
        Reply::Error(ErrorReport {
            sqlstate,
            message,
            detail: None,
            hint: None,
        })
    }

    #[test]
    fn hostile_bytes_are_errors() {
        // A length prefix claiming 2^60 bytes must not allocate.
        let mut bytes = vec![0u8, 0, 0, 0]; // Reply::Value tag
        bytes.push(1); // Some
        bytes.extend_from_slice(&(1u64 << 60).to_le_bytes());
        assert!(decode_reply(&bytes).is_err());
        // Invalid UTF-8 in a message.
        let mut buf = [0u8; 64];
        let n = encode_into(&Reply::Panic("ab"), &mut buf).unwrap();
        buf[n - 1] = 0xff;
        assert!(matches!(
            decode_reply(&buf[..n]),
            Err(WireError::Malformed(_))
        ));
        // Unknown enum tag.
        assert!(decode_reply(&[9, 0, 0, 0]).is_err());
        // Truncated and trailing.
        let n = encode_into(&Reply::Value(Some(&[7])), &mut buf).unwrap();
        assert!(decode_reply(&buf[..n - 1]).is_err());
        assert_eq!(
            decode_reply(&buf[..n + 1]),
            Err(WireError::TrailingBytes(1))
        );
        // An oversized message, and a forged SQLSTATE.
        let big = "x".repeat(MAX_MESSAGE + 1);
        let mut big_buf = vec![0u8; MAX_MESSAGE + 64];
        let n = encode_into(&error(&big, None), &mut big_buf).unwrap();
        assert!(matches!(
            decode_reply(&big_buf[..n]),
            Err(WireError::MessageTooLong(_))
        ));
        let n = encode_into(&error("x", Some(*b"2200\n")), &mut buf).unwrap();
        assert!(decode_reply(&buf[..n]).is_err());
        let n = encode_into(&error("x", Some(*b"P0001")), &mut buf).unwrap();
        assert!(decode_reply(&buf[..n]).is_ok());
        let log = Upcall::Log {
            level: LogLevel::Notice,
            report: ErrorReport {
                sqlstate: None,
                message: "m",
                detail: Some(&big),
                hint: None,
            },
        };
        let n = encode_into(&log, &mut big_buf).unwrap();
        assert!(decode_upcall(&big_buf[..n]).is_err());
    }

    #[test]
    fn every_prefix_of_a_valid_frame_is_refused() {
        let mut buf = [0u8; 64];
        let n = encode_into(&Reply::Value(Some(b"abc")), &mut buf).unwrap();
        for cut in 0..n {
            assert!(decode_reply(&buf[..cut]).is_err(), "prefix {cut} accepted");
        }
    }
}
