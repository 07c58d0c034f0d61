//! Reads codes written by [`super::BitWriter`] through a 64-bit register.

/// A cursor over a bit stream that keeps up to 64 unread bits in a register and refills it eight
/// bytes at a time, so decoding a code costs a shift, not a load. Past the end of the bytes it
/// reads zeros; callers check [`BitReader::overran`] to reject them.
#[derive(Clone, Copy)]
pub(crate) struct BitReader<'a> {
    bytes: &'a [u8],
    /// Next byte to load into `buffer` (may run past the end while padding with zeros).
    next_byte: usize,
    /// Unread bits, lowest first.
    buffer: u64,
    /// Number of valid bits in `buffer`.
    available: u32,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        BitReader { bytes, next_byte: 0, buffer: 0, available: 0 }
    }

    /// Makes at least 56 bits available.
    #[inline(always)]
    fn refill(&mut self) {
        match self.bytes.get(self.next_byte..self.next_byte + 8) {
            Some(chunk) => {
                let word = u64::from_le_bytes(chunk.try_into().expect("8-byte slice"));
                self.buffer |= word << self.available;
                let taken = (63 - self.available) >> 3;
                self.next_byte += taken as usize;
                self.available += taken * 8;
            }
            None => self.refill_tail(),
        }
    }

    /// Refills without a branch and returns the buffer (at least 56 valid bits). At least 8 bytes
    /// must remain from the next byte to load.
    #[inline(always)]
    pub(crate) fn refill_in_bounds(&mut self) -> u64 {
        let chunk = &self.bytes[self.next_byte..self.next_byte + 8];
        let word = u64::from_le_bytes(chunk.try_into().expect("8-byte slice"));
        self.buffer |= word << self.available;
        // Whole bytes that fit: the identity `a + 8 * ((63 - a) / 8) == a | 56` for a < 64.
        self.next_byte += ((63 - self.available) >> 3) as usize;
        self.available |= 56;
        self.buffer
    }

    /// Bytes not yet loaded into the buffer.
    #[inline(always)]
    pub(crate) fn bytes_ahead(&self) -> usize {
        self.bytes.len().saturating_sub(self.next_byte)
    }

    #[cold]
    fn refill_tail(&mut self) {
        while self.available <= 56 {
            let byte = self.bytes.get(self.next_byte).copied().unwrap_or(0);
            self.buffer |= u64::from(byte) << self.available;
            self.next_byte += 1;
            self.available += 8;
        }
    }

    /// The next `bits` (at most 56) unread bits, lowest first, and possibly more above them.
    #[inline(always)]
    pub(crate) fn peek(&mut self, bits: u32) -> u64 {
        debug_assert!(bits <= 56);
        if self.available < bits {
            self.refill();
        }
        self.buffer
    }

    /// Drops `bits` bits, which must have been peeked.
    #[inline(always)]
    pub(crate) fn consume(&mut self, bits: u32) {
        debug_assert!(bits <= self.available);
        self.buffer >>= bits;
        self.available -= bits;
    }

    /// Reads `len` (0..=32) bits as a number.
    #[inline]
    pub(crate) fn read(&mut self, len: u32) -> u32 {
        let value = (self.peek(len) & low_mask(len)) as u32;
        self.consume(len);
        value
    }

    /// Bits consumed so far.
    #[inline(always)]
    fn position(&self) -> usize {
        self.next_byte * 8 - self.available as usize
    }

    /// True once more bits have been consumed than the stream holds.
    #[inline(always)]
    pub(crate) fn overran(&self) -> bool {
        self.position() > self.bytes.len() * 8
    }

    /// Stream bits not yet consumed.
    pub(crate) fn bits_left(&self) -> usize {
        (self.bytes.len() * 8).saturating_sub(self.position())
    }

    /// Bytes touched so far: every byte that holds a consumed bit.
    pub(crate) fn bytes_consumed(&self) -> usize {
        self.position().div_ceil(8)
    }
}

/// A mask of the low `len` bits, for `len` in 0..=63.
#[inline(always)]
pub(crate) fn low_mask(len: u32) -> u64 {
    (1u64 << len) - 1
}

#[cfg(test)]
mod tests {
    use super::super::writer::BitWriter;
    use super::*;

    #[test]
    fn reads_back_what_was_written_including_tail_and_overrun() {
        let widths: Vec<u32> = (0..200).map(|i| (i * 7 + 3) % 33).collect();
        let value = |i: usize, len: u32| (i as u32).wrapping_mul(2_654_435_761) & (low_mask(len) as u32);
        let mut w = BitWriter::with_capacity(0);
        for (i, &len) in widths.iter().enumerate() {
            w.write(len, value(i, len));
        }
        let bytes = w.finish();
        let mut r = BitReader::new(&bytes);
        for (i, &len) in widths.iter().enumerate() {
            assert_eq!(r.read(len), value(i, len), "value {i}");
            assert!(!r.overran());
        }
        assert_eq!(r.bytes_consumed(), bytes.len());
        r.read(9);
        assert!(r.overran());
    }
}
