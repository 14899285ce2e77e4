//! A bounded big-endian reader over one value's binary format.
//!
//! Every decoder goes through this so that running out of input is an
//! error instead of a panic, and so that no count read from the input is
//! trusted before it has been checked against what is actually left.

use super::TryFromDatumError;

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    rust_type: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], rust_type: &'static str) -> Self {
        Reader { buf, rust_type }
    }

    pub(crate) fn malformed(&self, why: impl Into<String>) -> TryFromDatumError {
        TryFromDatumError::Malformed {
            rust_type: self.rust_type,
            why: why.into(),
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], TryFromDatumError> {
        if n > self.buf.len() {
            return Err(self.malformed(format!(
                "needs {n} more bytes, only {} left",
                self.buf.len()
            )));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], TryFromDatumError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, TryFromDatumError> {
        Ok(self.array::<1>()?[0])
    }
    pub(crate) fn i16(&mut self) -> Result<i16, TryFromDatumError> {
        Ok(i16::from_be_bytes(self.array()?))
    }
    pub(crate) fn u16(&mut self) -> Result<u16, TryFromDatumError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    pub(crate) fn i32(&mut self) -> Result<i32, TryFromDatumError> {
        Ok(i32::from_be_bytes(self.array()?))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, TryFromDatumError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    pub(crate) fn i64(&mut self) -> Result<i64, TryFromDatumError> {
        Ok(i64::from_be_bytes(self.array()?))
    }
    pub(crate) fn f32(&mut self) -> Result<f32, TryFromDatumError> {
        Ok(f32::from_bits(self.u32()?))
    }
    pub(crate) fn f64(&mut self) -> Result<f64, TryFromDatumError> {
        Ok(f64::from_bits(u64::from_be_bytes(self.array()?)))
    }

    /// An `i32` length (-1 for NULL) followed by that many bytes, as
    /// arrays, ranges and records frame their members.
    pub(crate) fn framed(&mut self) -> Result<Option<&'a [u8]>, TryFromDatumError> {
        let len = self.i32()?;
        match len {
            -1 => Ok(None),
            n if n < -1 => Err(self.malformed(format!("invalid member length {n}"))),
            n => {
                // Non-negative i32 always fits in usize on supported targets;
                // `bytes` checks it against what is left.
                let n = usize::try_from(n).map_err(|_| self.malformed("member length"))?;
                self.bytes(n).map(Some)
            }
        }
    }

    /// Each decoder must account for every byte it was given: trailing
    /// bytes mean the value was not what the caller thought it was.
    pub(crate) fn finish(self) -> Result<(), TryFromDatumError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(TryFromDatumError::Malformed {
                rust_type: self.rust_type,
                why: format!("{} trailing bytes", self.buf.len()),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_an_error() {
        let mut r = Reader::new(&[0, 1, 2], "x");
        assert!(r.i32().is_err());
        let mut r = Reader::new(&[0, 0, 0, 2, 9], "x");
        assert!(r.framed().is_err());
        let mut r = Reader::new(&[0x7f, 0xff, 0xff, 0xff], "x");
        assert!(r.framed().is_err());
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xfe], "x");
        assert!(r.framed().is_err());
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff], "x");
        assert_eq!(r.framed().unwrap(), None);
        r.finish().unwrap();
        let r = Reader::new(&[1], "x");
        assert!(r.finish().is_err());
    }
}
