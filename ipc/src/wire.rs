//! Encoding and decoding of channel payloads.
//!
//! This is the one module that turns bytes from shared memory into values in
//! a backend.  Those bytes come from an executor that may be running hostile
//! code, so decoding is bounded (a length prefix cannot make us allocate
//! more than the area holds), total (every byte must be consumed), and
//! validating (UTF-8, enum tags, message sizes).  It never panics on bad
//! input: it returns `WireError`.

use bincode::config::{self, Configuration, Fixint, Limit, LittleEndian};
use bincode::de::BorrowDecoder;
use bincode::error::{AllowedEnumVariants, DecodeError};
use bincode::{BorrowDecode, Decode, Encode};

use crate::limits::{MAX_MESSAGE, REPLY_AREA};
use crate::message::{ErrorReport, LogLevel, Reply, SpiArg, Upcall};
#[cfg(test)]
use crate::message::{ObjectNames, PassedOn, SourceLocation};

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
    if let Some(p) = &r.passed_on {
        p.texts().try_for_each(check_message)?;
        // LOCATION and the object names are written to the server log as
        // they are (PostgreSQL escapes only the message texts): no line
        // breaks or other control characters, which could forge log lines.
        if p.names().any(|t| t.chars().any(char::is_control)) {
            return Err(WireError::Malformed(
                "a control character in an error's location or object names".into(),
            ));
        }
        // A position past the query's end would point the client's
        // caret at nothing.
        let chars = p.query.map_or(0, |q| q.chars().count());
        if p.position as usize > chars + 1 {
            return Err(WireError::Malformed(
                "position past the end of the query".into(),
            ));
        }
    }
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
        Reply::Panic { message, .. } => check_message(message)?,
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

/// Heap the vectors of one decoded upcall may take, in all.
///
/// bincode's limit does not bound it: it counts bytes read, and a vector's
/// heap only until its elements are read, so nested vectors of small
/// elements that decode into larger ones (a NULL column is one byte and
/// an `Option<&[u8]>` of 16) hold up to 16 times the frame: 240 MiB for a
/// 16 MiB Rows upcall of NULLs.  A legitimate upcall needs far less
/// (trusted-api sends rows in batches of about 1 MiB of `Option<&[u8]>`s).
pub const UPCALL_HEAP: usize = REPLY_AREA;

/// What is left of [`UPCALL_HEAP`] while an upcall is decoded: each
/// vector's heap is charged when it is allocated and never given back.
struct HeapBudget(usize);

impl HeapBudget {
    /// A `Vec<T>` as bincode encodes it (a u64 length, then the elements),
    /// each element decoded by `element`.
    fn vec<'de, T, D: BorrowDecoder<'de>>(
        &mut self,
        decoder: &mut D,
        mut element: impl FnMut(&mut D, &mut HeapBudget) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let len = u64::decode(decoder)?;
        let len = usize::try_from(len).map_err(|_| DecodeError::OutsideUsizeRange(len))?;
        // bincode's own check first (the same errors as a derived decode).
        decoder.claim_container_read::<T>(len)?;
        self.0 = len
            .checked_mul(size_of::<T>())
            .and_then(|bytes| self.0.checked_sub(bytes))
            .ok_or(DecodeError::Other(
                "the upcall's vectors take more than UPCALL_HEAP bytes",
            ))?;
        let mut v = Vec::with_capacity(len);
        for _ in 0..len {
            // As bincode's Vec does: the element's bytes are claimed as it
            // is read.
            decoder.unclaim_bytes_read(size_of::<T>());
            v.push(element(decoder, self)?);
        }
        Ok(v)
    }
}

/// `#[derive(BorrowDecode)]`, the same bytes and errors, but the heap of the
/// vectors is bounded by [`UPCALL_HEAP`].  Field values are decoded in the
/// order they are written, which is the order `#[derive(Encode)]` writes them.
impl<'de: 'a, 'a, C> BorrowDecode<'de, C> for Upcall<'a> {
    fn borrow_decode<D: BorrowDecoder<'de, Context = C>>(d: &mut D) -> Result<Self, DecodeError> {
        let mut heap = HeapBudget(UPCALL_HEAP);
        Ok(match u32::decode(d)? {
            0 => Upcall::Log {
                level: LogLevel::decode(d)?,
                report: ErrorReport::borrow_decode(d)?,
            },
            1 => Upcall::Execute {
                query: <&str>::borrow_decode(d)?,
                args: heap.vec(d, |d, _| SpiArg::borrow_decode(d))?,
                select: bool::decode(d)?,
                limit: u64::decode(d)?,
            },
            2 => Upcall::Fetch {
                cursor: u32::decode(d)?,
            },
            3 => Upcall::Close {
                cursor: u32::decode(d)?,
            },
            4 => Upcall::Rows {
                rows: heap.vec(d, |d, heap| {
                    heap.vec(d, |d, _| Option::<&[u8]>::borrow_decode(d))
                })?,
            },
            5 => Upcall::DescribeType {
                name: <&str>::borrow_decode(d)?,
            },
            6 => Upcall::Open {
                query: <&str>::borrow_decode(d)?,
                args: heap.vec(d, |d, _| SpiArg::borrow_decode(d))?,
            },
            7 => Upcall::FetchRows {
                cursor: u32::decode(d)?,
                count: u32::decode(d)?,
            },
            8 => Upcall::Detach {
                cursor: u32::decode(d)?,
            },
            9 => Upcall::Find {
                name: <&str>::borrow_decode(d)?,
            },
            found => {
                return Err(DecodeError::UnexpectedVariant {
                    found,
                    type_name: "Upcall",
                    allowed: &AllowedEnumVariants::Range { min: 0, max: 9 },
                })
            }
        })
    }
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
        Reply::Error(ErrorReport::new(sqlstate, message))
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
        let n = encode_into(
            &Reply::Panic {
                message: "ab",
                line: 0,
            },
            &mut buf,
        )
        .unwrap();
        // The message's last byte: after it comes the line (a u32).
        buf[n - 5] = 0xff;
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
                detail: Some(&big),
                ..ErrorReport::new(None, "m")
            },
        };
        let n = encode_into(&log, &mut big_buf).unwrap();
        assert!(decode_upcall(&big_buf[..n]).is_err());
        // Where an error passed on arose: bounded texts, a position
        // inside the query.
        let passed_on = |context, query, position| {
            Reply::Error(ErrorReport {
                passed_on: Some(PassedOn {
                    context,
                    query,
                    position,
                    source: None,
                    objects: ObjectNames::default(),
                }),
                ..ErrorReport::new(None, "m")
            })
        };
        let n = encode_into(&passed_on(Some(&big), None, 0), &mut big_buf).unwrap();
        assert!(decode_reply(&big_buf[..n]).is_err());
        let n = encode_into(&passed_on(None, Some("selec 1"), 9), &mut buf).unwrap();
        assert!(decode_reply(&buf[..n]).is_err());
        let n = encode_into(&passed_on(None, Some("selec 1"), 1), &mut buf).unwrap();
        assert!(decode_reply(&buf[..n]).is_ok());
        // Its LOCATION and object names are bounded too, and free of line
        // breaks (they reach the server log unescaped).
        let n = encode_into(
            &Reply::Error(ErrorReport {
                passed_on: Some(PassedOn {
                    context: None,
                    query: None,
                    position: 0,
                    source: Some(SourceLocation {
                        function: "f\nLOG:  forged",
                        file: "x.c",
                        line: 1,
                    }),
                    objects: ObjectNames::default(),
                }),
                ..ErrorReport::new(None, "m")
            }),
            &mut big_buf,
        )
        .unwrap();
        assert!(decode_reply(&big_buf[..n]).is_err());
        let n = encode_into(
            &Reply::Error(ErrorReport {
                passed_on: Some(PassedOn {
                    context: None,
                    query: None,
                    position: 0,
                    source: Some(SourceLocation {
                        function: "int4div",
                        file: &big,
                        line: 869,
                    }),
                    objects: ObjectNames::default(),
                }),
                ..ErrorReport::new(None, "m")
            }),
            &mut big_buf,
        )
        .unwrap();
        assert!(decode_reply(&big_buf[..n]).is_err());
        let n = encode_into(
            &Reply::Error(ErrorReport {
                passed_on: Some(PassedOn {
                    context: None,
                    query: None,
                    position: 0,
                    source: None,
                    objects: ObjectNames {
                        constraint: Some(&big),
                        ..ObjectNames::default()
                    },
                }),
                ..ErrorReport::new(None, "m")
            }),
            &mut big_buf,
        )
        .unwrap();
        assert!(decode_reply(&big_buf[..n]).is_err());
    }

    /// Every variant and field of Upcall, as the hand-written decoder in
    /// this module must know them: a new one does not compile here.
    fn every_upcall() -> Vec<Upcall<'static>> {
        let all = vec![
            Upcall::Log {
                level: LogLevel::Warning,
                report: ErrorReport {
                    sqlstate: Some(*b"01000"),
                    message: "m",
                    detail: Some("d"),
                    hint: None,
                    line: 3,
                    passed_on: None,
                },
            },
            Upcall::Execute {
                query: "SELECT $1, $2",
                args: vec![
                    SpiArg {
                        type_oid: 25,
                        value: Some(b"x"),
                    },
                    SpiArg {
                        type_oid: 23,
                        value: None,
                    },
                ],
                select: false,
                limit: 7,
            },
            Upcall::Fetch { cursor: 3 },
            Upcall::Close { cursor: 4 },
            Upcall::Rows {
                rows: vec![vec![Some(&b"ab"[..]), None], vec![], vec![None]],
            },
            Upcall::DescribeType { name: "pg_class" },
            Upcall::Open {
                query: "SELECT $1",
                args: vec![SpiArg {
                    type_oid: 23,
                    value: Some(b"\0\0\0\x01"),
                }],
            },
            Upcall::FetchRows {
                cursor: 5,
                count: 10,
            },
            Upcall::Detach { cursor: 6 },
            Upcall::Find {
                name: "<unnamed portal 1>",
            },
        ];
        for u in &all {
            match u {
                Upcall::Log {
                    level: _,
                    report: _,
                }
                | Upcall::Execute {
                    query: _,
                    args: _,
                    select: _,
                    limit: _,
                }
                | Upcall::Fetch { cursor: _ }
                | Upcall::Close { cursor: _ }
                | Upcall::Rows { rows: _ }
                | Upcall::DescribeType { name: _ }
                | Upcall::Open { query: _, args: _ }
                | Upcall::FetchRows {
                    cursor: _,
                    count: _,
                }
                | Upcall::Detach { cursor: _ }
                | Upcall::Find { name: _ } => {}
            }
        }
        all
    }

    #[test]
    fn upcalls_decode_as_they_are_encoded() {
        for u in every_upcall() {
            let bytes = encode_to_vec(&u);
            assert_eq!(decode_upcall(&bytes), Ok(u.clone()));
            assert_eq!(decode_borrowed::<Upcall<'_>>(&bytes), Ok(u.clone()));
            for cut in 0..bytes.len() {
                assert!(decode_upcall(&bytes[..cut]).is_err(), "{u:?} cut at {cut}");
            }
        }
        // An unknown variant, as the derive would refuse it.
        let e = decode_upcall(&10u32.to_le_bytes()).unwrap_err();
        assert!(
            matches!(&e, WireError::Malformed(m) if m.contains("UnexpectedVariant")),
            "{e}"
        );
    }

    /// A Rows upcall of `rows` rows of `columns` NULLs, encoded by hand.
    fn null_rows(rows: usize, columns: usize) -> Vec<u8> {
        let mut out = 4u32.to_le_bytes().to_vec();
        out.extend_from_slice(&(rows as u64).to_le_bytes());
        for _ in 0..rows {
            out.extend_from_slice(&(columns as u64).to_le_bytes());
            out.resize(out.len() + columns, 0);
        }
        out
    }

    #[test]
    fn upcall_heap_is_bounded() {
        // 65536 NULLs are 64 KiB of frame and 1 MiB of Option<&[u8]>: 16
        // such rows pass bincode's limit (about 2 MiB claimed at most) but
        // take more than UPCALL_HEAP.
        let columns = 1 << 16;
        let row_heap = size_of::<Vec<Option<&[u8]>>>() + columns * size_of::<Option<&[u8]>>();
        let fits = UPCALL_HEAP / row_heap;
        assert_eq!(fits, 15);
        let ok = null_rows(fits, columns);
        match decode_upcall(&ok) {
            Ok(Upcall::Rows { rows }) => {
                assert_eq!(rows.len(), fits);
                assert!(rows
                    .iter()
                    .all(|r| r.len() == columns && r.iter().all(Option::is_none)));
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
        let over = null_rows(fits + 1, columns);
        assert!(over.len() < REPLY_AREA / 8);
        for bytes in [&over[..], &over[..over.len() - 1]] {
            let Err(e) = decode_upcall(bytes) else {
                panic!("{} rows of {columns} NULLs accepted", fits + 1);
            };
            assert!(
                matches!(&e, WireError::Malformed(m) if m.contains("UPCALL_HEAP")),
                "{e}"
            );
            assert_eq!(decode_borrowed::<Upcall<'_>>(bytes), Err(e));
        }
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
