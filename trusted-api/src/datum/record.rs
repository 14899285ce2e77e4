//! The binary format of composite values (record_send), for the
//! composite type built on top of it.

use super::reader::Reader;
use super::{TryFromDatumError, TypeOid};

/// One column: its type and its value's bytes (None for NULL).
pub(crate) type RecordField<'a> = (TypeOid, Option<&'a [u8]>);

/// Splits a record into its columns: (column type oid, bytes or NULL).
pub(crate) fn read_record(bytes: &[u8]) -> Result<Vec<RecordField<'_>>, TryFromDatumError> {
    let mut r = Reader::new(bytes, "record");
    let ncols = r.i32()?;
    let ncols = usize::try_from(ncols)
        .map_err(|_| r.malformed(format!("invalid number of columns {ncols}")))?;
    // Each column takes at least 8 bytes (type and length).
    if ncols > r.remaining() / 8 {
        return Err(r.malformed(format!(
            "{ncols} columns cannot fit in {} bytes",
            r.remaining()
        )));
    }
    let mut cols = Vec::with_capacity(ncols);
    for _ in 0..ncols {
        let oid = r.u32()?;
        cols.push((oid, r.framed()?));
    }
    r.finish()?;
    Ok(cols)
}

/// Appends a record of these columns.
pub(crate) fn write_record(fields: &[RecordField<'_>], out: &mut Vec<u8>) {
    let n = i32::try_from(fields.len()).unwrap_or(i32::MAX);
    out.extend_from_slice(&n.to_be_bytes());
    for (oid, value) in fields {
        out.extend_from_slice(&oid.to_be_bytes());
        match value {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(b) => {
                let len = i32::try_from(b.len()).unwrap_or(i32::MAX);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records() {
        let fields: Vec<(TypeOid, Option<&[u8]>)> =
            vec![(23, Some(&[0, 0, 0, 7])), (25, None), (25, Some(b""))];
        let mut b = Vec::new();
        write_record(&fields, &mut b);
        assert_eq!(
            b,
            [
                0, 0, 0, 3, 0, 0, 0, 23, 0, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 25, 0xff, 0xff, 0xff,
                0xff, 0, 0, 0, 25, 0, 0, 0, 0
            ]
        );
        assert_eq!(read_record(&b).unwrap(), fields);
        for n in 0..b.len() {
            assert!(read_record(&b[..n]).is_err());
        }
        let mut longer = b.clone();
        longer.push(0);
        assert!(read_record(&longer).is_err());
        assert!(read_record(&[0x7f, 0xff, 0xff, 0xff]).is_err());
        assert!(read_record(&[0xff, 0xff, 0xff, 0xff]).is_err());
        let mut empty = Vec::new();
        write_record(&[], &mut empty);
        assert_eq!(read_record(&empty).unwrap(), vec![]);
    }
}
