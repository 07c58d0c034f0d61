//! Packs variable-width codes into bytes, least significant bit first, as lilcom's `BitStream`.

/// Appends codes of 0..=32 bits; the first bit written becomes the lowest bit of the first byte.
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    /// Pending bits, lowest first; fewer than 32 between calls.
    pending: u64,
    pending_len: u32,
}

impl BitWriter {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        BitWriter { bytes: Vec::with_capacity(bytes), pending: 0, pending_len: 0 }
    }

    /// Writes the low `len` bits of `bits`; the bits above `len` must be zero.
    #[inline]
    pub(crate) fn write(&mut self, len: u32, bits: u32) {
        debug_assert!(len <= 32);
        debug_assert!(len == 32 || bits >> len == 0);
        self.pending |= u64::from(bits) << self.pending_len;
        self.pending_len += len;
        if self.pending_len >= 32 {
            self.bytes.extend_from_slice(&(self.pending as u32).to_le_bytes());
            self.pending >>= 32;
            self.pending_len -= 32;
        }
    }

    /// Flushes the last partial byte (zero-padded above) and returns the bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        let tail = self.pending_len.div_ceil(8) as usize;
        self.bytes.extend_from_slice(&self.pending.to_le_bytes()[..tail]);
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_written_bits_are_lowest() {
        let mut w = BitWriter::with_capacity(0);
        w.write(4, 3);
        w.write(4, 0);
        w.write(1, 1);
        assert_eq!(w.finish(), vec![3, 1]);
    }

    #[test]
    fn widths_up_to_32_cross_word_boundaries() {
        let mut w = BitWriter::with_capacity(0);
        w.write(3, 0b101);
        w.write(32, 0xDEAD_BEEF);
        w.write(0, 0);
        w.write(5, 0b10001);
        let bytes = w.finish();
        assert_eq!(bytes.len(), 5);
        let v = u64::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], 0, 0, 0]);
        assert_eq!(v & 0b111, 0b101);
        assert_eq!((v >> 3) & 0xFFFF_FFFF, 0xDEAD_BEEF);
        assert_eq!(v >> 35, 0b10001);
    }
}
