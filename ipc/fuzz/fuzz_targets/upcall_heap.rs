//! Fuzz the heap bound of `wire::decode_upcall`: Rows and Execute upcalls
//! whose vectors need about REPLY_AREA bytes of heap once decoded.
//!
//! bincode's limit counts bytes read, and a vector's heap only while its
//! elements are being read, so nested vectors of elements that decode
//! larger than they are encoded got past it: a NULL column is one byte of
//! frame and an `Option<&[u8]>` of 16 bytes of heap, and a 16 MiB Rows
//! upcall of NULLs made the backend hold 240 MiB.  `decode_upcall` now
//! charges every vector against `wire::UPCALL_HEAP` (REPLY_AREA).  Getting
//! there takes about a million decoded elements (some 30 ms), hence a
//! target of its own rather than a case of wire_decode.
//!
//! Layout of an input (encoded by hand: building the value would take as
//! much memory as decoding it):
//! - byte 0, `kind`: bit 0 set for Execute (its arguments take the heap),
//!   clear for Rows; bit 3 doubles the target heap; bits 4-5: 1 cuts the
//!   frame at `cut` (mod its length), 2 adds a byte, else the whole frame;
//! - bytes 1-2: the target heap, REPLY_AREA + 128 * i16 (± 4 MiB: a frame
//!   of NULL columns is 1/16 of its heap, of arguments 5/24, and a frame
//!   must be accepted when the two fit together);
//! - bytes 3-4: columns per row, 64 + u16 % 4096 (Rows); the low bit of
//!   byte 3 is `select` and byte 4 `limit` (Execute);
//! - bytes 5-7: `cut`, a u24;
//! - the rest: the leading columns of every row (the others are NULL), or
//!   the arguments' values and type oids (then NULLs): a byte `p` is
//!   `Some` of `(p >> 2) % 8` bytes when `p % 4 == 0`, else NULL.
//!
//! Checked: the decode stays within its heap limit (common::metered)
//! whatever happens; a whole frame is accepted when its vectors' heap and
//! its length together fit REPLY_AREA (bincode's claims never exceed that
//! sum); what is accepted holds at most REPLY_AREA bytes of heap and has
//! the rows, columns and values sent; a cut frame, or one followed by a
//! byte, is refused (`TrailingBytes(1)` when it would otherwise decode).
//! Plain `decode_borrowed::<Upcall>` agrees (also within the meter);
//! wire_decode checks the rest on small frames.

#![no_main]

use libfuzzer_sys::fuzz_target;
use plrust_ipc::limits::REPLY_AREA;
use plrust_ipc::message::{SpiArg, Upcall};
use plrust_ipc::wire::{self, WireError};

mod common;

/// Upcall variant indexes (the derive numbers them in declaration order).
const EXECUTE: u32 = 1;
const ROWS: u32 = 4;

fn put_len(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&(n as u64).to_le_bytes());
}

/// A value (a column, or an argument's): NULL, or a few bytes.
fn put_value(out: &mut Vec<u8>, p: u8) {
    if p.is_multiple_of(4) {
        let n = usize::from(p >> 2) % 8;
        out.push(1);
        put_len(out, n);
        out.extend(std::iter::repeat_n(p, n));
    } else {
        out.push(0);
    }
}

fn run(bytes: &[u8]) {
    let Some((head, pattern)) = bytes.split_first_chunk::<8>() else {
        return;
    };
    let [kind, d0, d1, c0, c1, x0, x1, x2] = *head;
    let delta = isize::from(i16::from_le_bytes([d0, d1])) * 128;
    let mut target = REPLY_AREA.saturating_add_signed(delta);
    if kind & 8 != 0 {
        target *= 2;
    }
    let mut out = Vec::new();
    let (heap, shape);
    if kind & 1 == 0 {
        // At least 64 columns: fewer rows, fewer allocations to wait for.
        let columns = 64 + usize::from(u16::from_le_bytes([c0, c1])) % 4096;
        let lead = pattern.len().min(columns);
        let row_heap = size_of::<Vec<Option<&[u8]>>>() + columns * size_of::<Option<&[u8]>>();
        let rows = (target / row_heap).max(1);
        heap = rows * row_heap;
        shape = (rows, columns);
        out.extend_from_slice(&ROWS.to_le_bytes());
        put_len(&mut out, rows);
        for _ in 0..rows {
            put_len(&mut out, columns);
            for &p in &pattern[..lead] {
                put_value(&mut out, p);
            }
            out.resize(out.len() + columns - lead, 0);
        }
    } else {
        let query = "SELECT $1";
        let n = (target / size_of::<SpiArg<'_>>()).max(1);
        heap = n * size_of::<SpiArg<'_>>();
        shape = (n, 0);
        out.extend_from_slice(&EXECUTE.to_le_bytes());
        put_len(&mut out, query.len());
        out.extend_from_slice(query.as_bytes());
        put_len(&mut out, n);
        let mut p = pattern.iter().chain(std::iter::repeat(&1u8));
        for _ in 0..n {
            let b = *p.next().unwrap();
            out.extend_from_slice(&u32::from(b).to_le_bytes());
            put_value(&mut out, b);
        }
        out.push(c0 & 1);
        out.extend_from_slice(&u64::from(c1).to_le_bytes());
    }
    if out.len() > REPLY_AREA {
        // Could not travel in the channel.
        return;
    }
    let whole = out.len();
    let cut = usize::from_le_bytes([x0, x1, x2, 0, 0, 0, 0, 0]);
    let how = kind >> 4 & 3;
    match how {
        1 => out.truncate(cut % whole),
        2 => out.push(x0),
        _ => {}
    }
    let got = common::metered("decode_upcall", || wire::decode_upcall(&out));
    let plain = common::metered("decode_borrowed", || {
        wire::decode_borrowed::<Upcall<'_>>(&out)
    });
    // No Log here: the checks on top of bincode have nothing to refuse.
    assert!(got == plain, "decode_upcall and decode_borrowed disagree");
    let fits = heap + whole <= REPLY_AREA;
    match (how, &got) {
        (1, r) => assert!(r.is_err(), "a cut frame decoded"),
        (2, r) => {
            assert!(r.is_err(), "a frame with a byte after it decoded");
            if fits {
                assert_eq!(r.as_ref().err(), Some(&WireError::TrailingBytes(1)));
            }
        }
        (_, Ok(u)) => {
            assert_eq!(common::upcall_heap(u), heap, "decoded heap");
            assert!(
                heap <= REPLY_AREA,
                "accepted an upcall holding {heap} bytes of heap"
            );
            let (n, columns) = shape;
            match u {
                Upcall::Rows { rows } => {
                    assert_eq!(rows.len(), n);
                    assert!(rows.iter().all(|r| r.len() == columns), "row widths");
                    let lead = pattern.len().min(columns);
                    let decoded: Vec<Option<&[u8]>> = rows[0][..lead].to_vec();
                    let sent: Vec<Option<Vec<u8>>> = pattern[..lead]
                        .iter()
                        .map(|&p| {
                            p.is_multiple_of(4)
                                .then(|| vec![p; usize::from(p >> 2) % 8])
                        })
                        .collect();
                    assert!(
                        decoded.iter().map(|v| v.map(<[u8]>::to_vec)).eq(sent),
                        "leading columns"
                    );
                    assert!(
                        rows.iter().all(|r| r[lead..].iter().all(Option::is_none)),
                        "NULL columns"
                    );
                }
                Upcall::Execute {
                    query,
                    args,
                    select,
                    limit,
                } => {
                    assert_eq!(
                        (*query, *select, *limit),
                        ("SELECT $1", c0 & 1 == 1, u64::from(c1))
                    );
                    assert_eq!(args.len(), n);
                    let mut p = pattern.iter().chain(std::iter::repeat(&1u8));
                    assert!(
                        args.iter().all(|a| {
                            let b = *p.next().unwrap();
                            let value = b
                                .is_multiple_of(4)
                                .then(|| vec![b; usize::from(b >> 2) % 8]);
                            a.type_oid == u32::from(b) && a.value.map(<[u8]>::to_vec) == value
                        }),
                        "arguments"
                    );
                }
                other => panic!("decoded as {other:?}"),
            }
        }
        (_, Err(e)) => assert!(
            !fits,
            "refused an upcall of {whole} bytes and {heap} bytes of heap: {e}"
        ),
    }
}

fuzz_target!(|data: &[u8]| run(data));
