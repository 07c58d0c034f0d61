//! The decoder of lilcom's adaptive bit-width integer code; see `adaptive_writer` for the code.

use crate::bitio::{low_mask, BitReader};
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

#[derive(Clone, Copy)]
pub(crate) struct AdaptiveReader<'a> {
    bits: BitReader<'a>,
    prev_width: i32,
    cur_width: i32,
    /// Zero-width values still to come in the current run, minus one; negative outside a run.
    /// It wraps like the original's `int` so that corrupt run lengths are judged as it judges
    /// them.
    zero_run: i32,
}

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

    /// Reads one signed value, checking every bound (for the header and for dry runs).
    pub(crate) fn read_signed(&mut self) -> Result<i32, ReadFailure> {
        let value = self.read_signed_unchecked::<false>()?;
        self.check_overrun()?;
        Ok(value)
    }

    /// Reads and discards `count` values, validating their codes. The inside of a zero run is
    /// skipped at once, so this costs time in proportion to the stream's bits, not its elements.
    pub(crate) fn skip(&mut self, mut count: usize) -> Result<(), ReadFailure> {
        while count > 0 {
            if self.cur_width == 0 && self.zero_run > 0 {
                // Each value inside a run only counts the run down; the width stays 0.
                let n = count.min(self.zero_run as usize);
                self.zero_run -= n as i32;
                self.prev_width = 0;
                count -= n;
                continue;
            }
            self.read_signed()?;
            count -= 1;
        }
        Ok(())
    }

    /// True when the next `count` values can be read with `read_signed_unchecked::<true>`: at
    /// most 64 bits each (a zero-run code is the longest) plus a full refill stay in bounds.
    #[inline(always)]
    pub(crate) fn fast_path_allowed(&self, count: usize) -> bool {
        self.bits.bytes_ahead() >= count * 8 + 16
    }

    /// Reads one signed value without checking for the end of the stream (bits past it read as
    /// zero; call [`AdaptiveReader::check_overrun`] after a block). With `FAST`, the bit buffer
    /// is refilled without a branch and [`AdaptiveReader::fast_path_allowed`] must hold.
    #[inline(always)]
    pub(crate) fn read_signed_unchecked<const FAST: bool>(&mut self) -> Result<i32, ReadFailure> {
        let cur = self.cur_width;
        if cur == 0 {
            // By value, so that the caller's reader never has its address taken and can live in
            // registers through the hot loop.
            let (after, result) = self.in_zero_run();
            *self = after;
            return result.map(zigzag_decode);
        }
        // Up to two bits of width change and up to 32 value bits.
        let window = if FAST { self.bits.refill_in_bounds() } else { self.bits.peek(34) };
        // `0`: same width; `1,0`: one less; `1,1`: one more.
        let changed = (window & 1) as u32;
        let up = changed & (window >> 1) as u32;
        let next = cur + (up * 2) as i32 - changed as i32;
        if next > 32 {
            return Err(ReadFailure::Invalid);
        }
        // A width that is a local maximum implies its top bit.
        let implied = (self.prev_width <= cur) as u32 & (up ^ 1);
        let len = cur as u32 - implied;
        let value = ((window >> (1 + changed)) & low_mask(len)) as u32 | (implied << (cur - 1));
        self.bits.consume(1 + changed + len);
        self.prev_width = cur;
        self.cur_width = next;
        Ok(zigzag_decode(value))
    }

    /// Fails if more bits were read than the stream holds.
    #[inline(always)]
    pub(crate) fn check_overrun(&self) -> Result<(), ReadFailure> {
        if self.bits.overran() {
            Err(ReadFailure::Truncated)
        } else {
            Ok(())
        }
    }

    #[cold]
    #[inline(never)]
    fn in_zero_run(mut self) -> (Self, Result<u32, ReadFailure>) {
        let result = self.read_in_zero_run();
        (self, result)
    }

    fn read_in_zero_run(&mut self) -> Result<u32, ReadFailure> {
        let next = if self.zero_run >= 0 {
            let next = if self.zero_run == 0 { 1 } else { 0 };
            self.zero_run -= 1;
            next
        } else {
            // A new run: `k` zeros, a one, then `k` low bits of the run length.
            let k = self.bits.peek(33).trailing_zeros();
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
