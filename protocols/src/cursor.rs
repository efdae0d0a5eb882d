//! The one bounds-checked cursor every parser reads through.
//!
//! Panic contract: no method of [`Reader`] panics, whatever the input; a read
//! past the end returns [`Error::Incomplete`] with the offset and the shortfall.

use crate::error::{Error, Layer};

/// A read cursor over a borrowed byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf` within the outermost buffer, so errors name absolute offsets.
    base: usize,
    layer: Layer,
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `buf`, reporting errors against `layer`.
    pub fn new(buf: &'a [u8], layer: Layer) -> Self {
        Reader {
            buf,
            pos: 0,
            base: 0,
            layer,
        }
    }

    /// The same cursor reporting errors against another layer.
    pub fn with_layer(mut self, layer: Layer) -> Self {
        self.layer = layer;
        self
    }

    /// Absolute offset of the next byte to read.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// True when every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// The error for a read of `n` bytes that does not fit.
    pub fn incomplete(&self, n: usize) -> Error {
        Error::Incomplete {
            layer: self.layer,
            offset: self.base + self.buf.len(),
            needed: n.saturating_sub(self.remaining()),
        }
    }

    /// An [`Error::Invalid`] for `field` holding `value`, at the offset just read.
    pub fn invalid(&self, field: &'static str, value: u32, width: usize) -> Error {
        Error::Invalid {
            layer: self.layer,
            offset: self.offset().saturating_sub(width),
            field,
            value,
        }
    }

    /// Consumes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.incomplete(n))?;
        match self.buf.get(self.pos..end) {
            Some(bytes) => {
                self.pos = end;
                Ok(bytes)
            }
            None => Err(self.incomplete(n)),
        }
    }

    /// Consumes the rest of the buffer.
    pub fn take_rest(&mut self) -> &'a [u8] {
        let rest = self.rest();
        self.pos = self.buf.len();
        rest
    }

    /// Consumes the next `n` bytes as a cursor of their own, whose offsets stay absolute.
    pub fn sub(&mut self, n: usize) -> Result<Reader<'a>, Error> {
        let base = self.offset();
        let buf = self.take(n)?;
        Ok(Reader {
            buf,
            pos: 0,
            base,
            layer: self.layer,
        })
    }

    /// Succeeds only if every byte was read.
    pub fn finish(&self) -> Result<(), Error> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(Error::TrailingBytes {
                layer: self.layer,
                offset: self.offset(),
                count,
            }),
        }
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize) -> Result<(), Error> {
        self.take(n).map(|_| ())
    }

    /// Reads the next byte without consuming it.
    pub fn peek_u8(&self) -> Result<u8, Error> {
        self.buf
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.incomplete(1))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, Error> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    /// Reads a big-endian `u16`.
    pub fn be_u16(&mut self) -> Result<u16, Error> {
        self.array().map(u16::from_be_bytes)
    }

    /// Reads a big-endian `u32`.
    pub fn be_u32(&mut self) -> Result<u32, Error> {
        self.array().map(u32::from_be_bytes)
    }

    /// Reads a little-endian `u16`.
    pub fn le_u16(&mut self) -> Result<u16, Error> {
        self.array().map(u16::from_le_bytes)
    }

    /// Reads a little-endian `u32`.
    pub fn le_u32(&mut self) -> Result<u32, Error> {
        self.array().map(u32::from_le_bytes)
    }

    /// Reads a little-endian `i32`.
    pub fn le_i32(&mut self) -> Result<i32, Error> {
        self.array().map(i32::from_le_bytes)
    }

    /// Reads a little-endian `u64`.
    pub fn le_u64(&mut self) -> Result<u64, Error> {
        self.array().map(u64::from_le_bytes)
    }

    /// Reads a little-endian `i64`.
    pub fn le_i64(&mut self) -> Result<i64, Error> {
        self.array().map(i64::from_le_bytes)
    }

    /// Reads a little-endian IEEE 754 `f64` (OPC UA `Double`, e.g. session timeouts).
    pub fn le_f64(&mut self) -> Result<f64, Error> {
        self.array().map(f64::from_le_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_order_and_reports_shortfall() {
        let mut r = Reader::new(&[0x12, 0x34, 0x56], Layer::Mbap);
        assert_eq!(r.be_u16(), Ok(0x1234));
        assert_eq!(
            r.be_u16(),
            Err(Error::Incomplete {
                layer: Layer::Mbap,
                offset: 3,
                needed: 1
            })
        );
        assert_eq!(r.u8(), Ok(0x56));
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn sub_cursor_keeps_absolute_offsets() {
        let mut r = Reader::new(&[1, 2, 3, 4, 5], Layer::Modbus);
        r.skip(1).unwrap();
        let mut s = r.sub(2).unwrap();
        assert_eq!(s.offset(), 1);
        s.u8().unwrap();
        assert_eq!(
            s.finish(),
            Err(Error::TrailingBytes {
                layer: Layer::Modbus,
                offset: 2,
                count: 1
            })
        );
        assert_eq!(r.rest(), &[4, 5]);
    }

    #[test]
    fn take_of_huge_length_does_not_overflow() {
        let mut r = Reader::new(&[1], Layer::Modbus);
        assert!(r.take(usize::MAX).is_err());
        assert_eq!(r.remaining(), 1);
    }
}
