//! The encoder of lilcom's adaptive bit-width integer code (its `UintStream`/`IntStream`).
//!
//! Each value is written in `w` bits, where the widths of neighbouring values differ by at most
//! one. Before each value's bits come one or two bits that give the *next* value's width
//! (`0`: same, `1,0`: one less, `1,1`: one more), so the top bit of a value whose width is a
//! local maximum is implied and left out. Runs of zero-width values cost nothing per value; the
//! run length is written once, in an Elias-gamma-like code, when the run ends.
//!
//! Widths are chosen over a look-ahead buffer of 64 values, 32 of which are written at a time.
//! That buffering decides the bytes, so it is reproduced exactly.

use crate::bitio::BitWriter;
use lilcom_kernels::bits::{bit_width, zigzag_encode};

const BUFFER_LEN: usize = 64;
const FLUSH_LEN: usize = 32;

pub(crate) struct AdaptiveWriter {
    buffer: Vec<u32>,
    widths: Vec<i32>,
    /// Width of the last value written to `bits` (or of the first value, before any).
    last_width: i32,
    started: bool,
    pending_zeros: u32,
    bits: BitWriter,
}

impl AdaptiveWriter {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        AdaptiveWriter {
            buffer: Vec::with_capacity(BUFFER_LEN),
            widths: Vec::with_capacity(BUFFER_LEN + 1),
            last_width: 0,
            started: false,
            pending_zeros: 0,
            bits: BitWriter::with_capacity(bytes),
        }
    }

    /// Appends a signed value.
    #[inline]
    pub(crate) fn write_signed(&mut self, value: i32) {
        self.write(zigzag_encode(value));
    }

    #[inline]
    fn write(&mut self, value: u32) {
        self.buffer.push(value);
        if self.buffer.len() >= BUFFER_LEN {
            self.flush_some(FLUSH_LEN);
        }
    }

    /// Writes what is buffered and returns the bytes. At least one value must have been written.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        debug_assert!(!self.buffer.is_empty());
        self.flush_some(self.buffer.len());
        if self.pending_zeros > 0 {
            self.flush_pending_zeros();
        }
        self.bits.finish()
    }

    /// The smallest widths that cover every buffered value and change by at most one per step,
    /// starting no lower than one below the last width written.
    fn compute_widths(&mut self) {
        self.widths.clear();
        let mut prev = self.last_width;
        for &v in &self.buffer {
            prev = (bit_width(v) as i32).max(prev - 1);
            self.widths.push(prev);
        }
        let mut next = 0;
        for w in self.widths.iter_mut().rev() {
            next = (*w).max(next - 1);
            *w = next;
        }
    }

    fn flush_some(&mut self, count: usize) {
        let size = self.buffer.len();
        if size == 0 {
            return;
        }
        self.compute_widths();
        if count == size {
            // End of stream: the value after the last has, notionally, the same width.
            let last = *self.widths.last().expect("non-empty buffer");
            self.widths.push(last);
        }
        if !self.started {
            let first = self.widths[0];
            self.bits.write(5, first.min(31) as u32);
            if first >= 31 {
                self.bits.write(1, (first - 31) as u32);
            }
            self.started = true;
            self.last_width = first;
        }
        let mut prev = self.last_width;
        let mut cur = self.widths[0];
        for i in 0..count {
            let next = self.widths[i + 1];
            self.write_code(prev, cur, next, self.buffer[i]);
            prev = cur;
            cur = next;
        }
        self.last_width = self.widths[count - 1];
        self.buffer.drain(..count);
    }

    #[inline]
    fn write_code(&mut self, prev: i32, cur: i32, next: i32, value: u32) {
        if cur == 0 {
            self.pending_zeros += 1;
            return;
        }
        if self.pending_zeros > 0 {
            self.flush_pending_zeros();
        }
        match next - cur {
            1 => self.bits.write(2, 3),
            -1 => self.bits.write(2, 1),
            _ => self.bits.write(1, 0),
        }
        let top_bit_implied = prev <= cur && next <= cur;
        if top_bit_implied {
            self.bits.write(cur as u32 - 1, value ^ (1 << (cur - 1)));
        } else {
            self.bits.write(cur as u32, value);
        }
    }

    /// Run of `n` zeros: `k` zero bits, a one, then the low `k` bits of `n`, where `n` has `k + 1`
    /// significant bits.
    fn flush_pending_zeros(&mut self) {
        let n = self.pending_zeros;
        let k = bit_width(n) - 1;
        self.bits.write(k + 1, 1 << k);
        self.bits.write(k, n & ((1u32 << k) - 1));
        self.pending_zeros = 0;
    }
}
