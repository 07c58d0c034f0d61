//! The decoder of lilcom's adaptive bit-width integer code; see `adaptive_writer` for the code.

use super::bit_reader::{low_mask, BitReader};
use lilcom_kernels::bits::zigzag_decode;

/// Why a value could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadFailure {
    /// The code ran past the end of the bytes.
    Truncated,
    /// The code is impossible: a width above 32, or a zero run announced with 32 or more
    /// leading zeros.
    Invalid,
}

#[derive(Clone)]
pub(crate) struct AdaptiveReader<'a> {
    bits: BitReader<'a>,
    prev_width: i32,
    cur_width: i32,
    /// Zero-width values still to come in the current run, minus one; negative outside a run.
    /// It wraps like the original's `int` so that corrupt run lengths are judged as it judges
    /// them.
    zero_run: i32,
}

/// Next-width code in the low two bits of the window: (bits used, width change).
const WIDTH_CHANGE: [(u32, i32); 4] = [(1, 0), (2, -1), (1, 0), (2, 1)];

impl<'a> AdaptiveReader<'a> {
    /// Starts reading; the stream must hold at least one byte.
    pub(crate) fn new(bytes: &'a [u8]) -> Result<Self, ReadFailure> {
        let mut bits = BitReader::new(bytes);
        let mut width = bits.read(5) as i32;
        if width >= 31 {
            width += bits.read(1) as i32;
        }
        if bits.overran() {
            return Err(ReadFailure::Truncated);
        }
        Ok(AdaptiveReader { bits, prev_width: width, cur_width: width, zero_run: -1 })
    }

    /// Reads one signed value.
    #[inline(always)]
    pub(crate) fn read_signed(&mut self) -> Result<i32, ReadFailure> {
        self.read().map(zigzag_decode)
    }

    /// Reads one unsigned value.
    #[inline(always)]
    pub(crate) fn read(&mut self) -> Result<u32, ReadFailure> {
        let cur = self.cur_width;
        if cur == 0 {
            return self.read_in_zero_run();
        }
        let window = self.bits.peek();
        let (change_len, change) = WIDTH_CHANGE[(window & 3) as usize];
        let next = cur + change;
        if next > 32 {
            return Err(ReadFailure::Invalid);
        }
        // A width that is a local maximum implies its top bit.
        let implied = (self.prev_width <= cur && next <= cur) as u32;
        let len = cur as u32 - implied;
        let value = ((window >> change_len) & low_mask(len)) as u32 | (implied << (cur - 1));
        self.bits.consume(change_len + len);
        if self.bits.overran() {
            return Err(ReadFailure::Truncated);
        }
        self.prev_width = cur;
        self.cur_width = next;
        Ok(value)
    }

    #[cold]
    fn read_in_zero_run(&mut self) -> Result<u32, ReadFailure> {
        let next = if self.zero_run >= 0 {
            let next = if self.zero_run == 0 { 1 } else { 0 };
            self.zero_run -= 1;
            next
        } else {
            // A new run: `k` zeros, a one, then `k` low bits of the run length.
            let k = self.bits.peek().trailing_zeros();
            if k >= 32 {
                // The original gives up once it has seen 32 zeros.
                return Err(if self.bits.bits_left() <= 32 { ReadFailure::Truncated } else { ReadFailure::Invalid });
            }
            self.bits.consume(k + 1);
            let low = self.bits.read(k);
            if self.bits.overran() {
                return Err(ReadFailure::Truncated);
            }
            let run = (1i32 << k).wrapping_add(low as i32);
            self.zero_run = run.wrapping_sub(2);
            if run == 1 {
                1
            } else {
                0
            }
        };
        self.prev_width = 0;
        self.cur_width = next;
        Ok(0)
    }

    /// Bytes touched so far.
    pub(crate) fn bytes_consumed(&self) -> usize {
        self.bits.bytes_consumed()
    }
}
