//! A call's arguments as they travel in the request area: for each
//! argument, a u32 length (little-endian; `NULL_LEN` for SQL NULL) and that
//! many bytes of the value in its type's binary format.
//!
//! Not bincode: the backend writes this on every call, a few bytes for
//! the common fixed-width arguments, and a hand-rolled length prefix is
//! the cheapest thing to write.  The executor trusts its backend, but the
//! reader still never reads past the frame.

/// The length that marks SQL NULL.
pub const NULL_LEN: u32 = u32::MAX;

/// Writes arguments into a caller-provided buffer; `None` when they do not fit.
pub struct ArgWriter<'a> {
    out: &'a mut [u8],
    pos: usize,
}

impl<'a> ArgWriter<'a> {
    pub fn new(out: &'a mut [u8]) -> ArgWriter<'a> {
        ArgWriter { out, pos: 0 }
    }

    pub fn len(&self) -> usize {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    fn header(&mut self, len: u32) -> Option<()> {
        let end = self.pos.checked_add(4)?;
        self.out
            .get_mut(self.pos..end)?
            .copy_from_slice(&len.to_le_bytes());
        self.pos = end;
        Some(())
    }

    pub fn null(&mut self) -> Option<()> {
        self.header(NULL_LEN)
    }

    pub fn value(&mut self, bytes: &[u8]) -> Option<()> {
        let len = u32::try_from(bytes.len()).ok().filter(|l| *l != NULL_LEN)?;
        self.header(len)?;
        let end = self.pos.checked_add(bytes.len())?;
        self.out.get_mut(self.pos..end)?.copy_from_slice(bytes);
        self.pos = end;
        Some(())
    }
}

/// Reads arguments back, in order.
pub struct ArgReader<'a> {
    input: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated;

impl<'a> ArgReader<'a> {
    pub fn new(input: &'a [u8]) -> ArgReader<'a> {
        ArgReader { input }
    }

    /// The next argument: Some(bytes), or None for NULL.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<&'a [u8]>, Truncated> {
        let (len, rest) = self.input.split_first_chunk::<4>().ok_or(Truncated)?;
        let len = u32::from_le_bytes(*len);
        if len == NULL_LEN {
            self.input = rest;
            return Ok(None);
        }
        let len = len as usize;
        if rest.len() < len {
            return Err(Truncated);
        }
        let (value, rest) = rest.split_at(len);
        self.input = rest;
        Ok(Some(value))
    }

    /// Whether every argument was read.
    pub fn is_done(&self) -> bool {
        self.input.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut buf = [0u8; 64];
        let mut w = ArgWriter::new(&mut buf);
        w.value(&7i32.to_be_bytes()).unwrap();
        w.null().unwrap();
        w.value(b"").unwrap();
        w.value("héllo".as_bytes()).unwrap();
        let n = w.len();
        let mut r = ArgReader::new(&buf[..n]);
        assert_eq!(r.next(), Ok(Some(&7i32.to_be_bytes()[..])));
        assert_eq!(r.next(), Ok(None));
        assert_eq!(r.next(), Ok(Some(&b""[..])));
        assert_eq!(r.next(), Ok(Some("héllo".as_bytes())));
        assert!(r.is_done());
        assert_eq!(r.next(), Err(Truncated));
    }

    #[test]
    fn does_not_fit() {
        let mut buf = [0u8; 7];
        let mut w = ArgWriter::new(&mut buf);
        assert!(w.value(&[1, 2, 3, 4]).is_none());
    }

    #[test]
    fn truncated_frames() {
        let mut buf = [0u8; 16];
        let mut w = ArgWriter::new(&mut buf);
        w.value(&[1, 2, 3, 4]).unwrap();
        let n = w.len();
        for cut in 1..n {
            let mut r = ArgReader::new(&buf[..cut]);
            assert_eq!(r.next(), Err(Truncated), "cut {cut}");
        }
    }
}
