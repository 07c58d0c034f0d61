//! Reads codes written by [`super::bit_writer::BitWriter`] through a 64-bit window.

/// A cursor over a bit stream. Peeking loads 64 bits at the current byte with one unaligned
/// read, so a caller can decode a whole code (up to 57 bits) from one window without a branch per
/// bit. Bits past the end read as zero; callers check [`BitReader::overran`] to reject them.
#[derive(Clone)]
pub(crate) struct BitReader<'a> {
    bytes: &'a [u8],
    /// Position of the next unread bit.
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        BitReader { bytes, pos: 0 }
    }

    /// The next bits of the stream, lowest first; at least 57 of them (64 less the offset in the byte) are stream bits
    /// (or zero past its end).
    #[inline(always)]
    pub(crate) fn peek(&self) -> u64 {
        let byte = self.pos >> 3;
        let word = match self.bytes.get(byte..byte + 8) {
            Some(chunk) => u64::from_le_bytes(chunk.try_into().expect("8-byte slice")),
            None => self.peek_tail(byte),
        };
        word >> (self.pos & 7)
    }

    #[cold]
    fn peek_tail(&self, byte: usize) -> u64 {
        let mut padded = [0u8; 8];
        if byte < self.bytes.len() {
            let rest = &self.bytes[byte..];
            padded[..rest.len()].copy_from_slice(rest);
        }
        u64::from_le_bytes(padded)
    }

    #[inline(always)]
    pub(crate) fn consume(&mut self, bits: u32) {
        self.pos += bits as usize;
    }

    /// Reads `len` (0..=32) bits as a number.
    #[inline]
    pub(crate) fn read(&mut self, len: u32) -> u32 {
        let value = (self.peek() & low_mask(len)) as u32;
        self.consume(len);
        value
    }

    /// True once more bits have been consumed than the stream holds.
    #[inline(always)]
    pub(crate) fn overran(&self) -> bool {
        self.pos > self.bytes.len() * 8
    }

    /// Stream bits not yet consumed.
    pub(crate) fn bits_left(&self) -> usize {
        (self.bytes.len() * 8).saturating_sub(self.pos)
    }

    /// Bytes touched so far: every byte that holds a consumed bit.
    pub(crate) fn bytes_consumed(&self) -> usize {
        self.pos.div_ceil(8)
    }
}

/// A mask of the low `len` bits, for `len` in 0..=63.
#[inline(always)]
pub(crate) fn low_mask(len: u32) -> u64 {
    (1u64 << len) - 1
}

#[cfg(test)]
mod tests {
    use super::super::bit_writer::BitWriter;
    use super::*;

    #[test]
    fn reads_back_what_was_written_including_tail_and_overrun() {
        let widths: Vec<u32> = (0..200).map(|i| (i * 7 + 3) % 33).collect();
        let mut w = BitWriter::with_capacity(0);
        for (i, &len) in widths.iter().enumerate() {
            let v = (i as u32).wrapping_mul(2_654_435_761) & (low_mask(len) as u32);
            w.write(len, v);
        }
        let bytes = w.finish();
        let mut r = BitReader::new(&bytes);
        for (i, &len) in widths.iter().enumerate() {
            let v = (i as u32).wrapping_mul(2_654_435_761) & (low_mask(len) as u32);
            assert_eq!(r.read(len), v, "value {i}");
            assert!(!r.overran());
        }
        assert_eq!(r.bytes_consumed(), bytes.len());
        r.read(9);
        assert!(r.overran());
    }
}
