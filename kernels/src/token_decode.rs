//! Decoding the tiled format's four interleaved lanes: per element, a canonical Huffman code
//! for its token, looked up in a table, then the token's raw bits.
//!
//! Each lane's whole state is one bit position, so the four lanes' dependency chains (load a
//! word, look up the code, advance) stay in registers and overlap. The dispatched variant is the
//! same code compiled for the machine's instruction set, where BMI2's shifts by a register
//! spare the `cl` shuffling that baseline x86-64 needs; the bytes decoded are identical.

use crate::bits::zigzag_decode;
use std::marker::PhantomData;

use crate::dispatch::{simd_op, Kernels};
use crate::tokens::{raw_bits, value_of, Alphabet, TOKEN_COUNT};

/// Lanes per tile.
pub const LANES: usize = 4;
/// Bits of a lane a table lookup looks at: the longest code.
pub const TABLE_BITS: u32 = 12;
/// Most bits the decoder moves a lane past per element, whatever the table holds: the length
/// field of an entry has six bits (a valid table stays within 12 + 31).
pub const MAX_ELEMENT_BITS: usize = 63;

/// A decode table: entry `i` describes the code that the low [`TABLE_BITS`] bits `i` of a lane
/// begin with (see [`table_entry`]); bits that begin no code hold [`NO_CODE`].
pub type DecodeEntries = [u32; 1 << TABLE_BITS];

/// The entry of bits that begin no code: the decoder reports it, and it moves no lane.
pub const NO_CODE: u32 = 1 << 31;

/// The table entry of a code of length `code_len` (1..=12) for `token` of `alphabet`. Its
/// fields sit where the decoder uses them with the fewest operations: bits 0..6 the code's and
/// the raw bits' total length, bits 8..12 the code length, bits 16..21 the raw-bit count, bits
/// 24..31 the symbol, `token + 64 * alphabet` (0 for [`Alphabet::Widths`], 1 for
/// [`Alphabet::SmallExact`]).
pub fn table_entry(alphabet: Alphabet, token: u8, code_len: u32) -> u32 {
    debug_assert!((1..=TABLE_BITS).contains(&code_len) && usize::from(token) < TOKEN_COUNT);
    let symbol = u32::from(token) + if alphabet == Alphabet::SmallExact { TOKEN_COUNT as u32 } else { 0 };
    let raw_len = raw_bits(alphabet, token);
    (symbol << 24) | (raw_len << 16) | (code_len << 8) | (code_len + raw_len)
}

/// The zigzag value each symbol (see [`table_entry`]) stands for before its raw bits are added;
/// indexed by an entry's top byte, so that entries with [`NO_CODE`]'s bit (256 indices) need no
/// check.
const SYMBOL_BASE: [u32; 256] = {
    let mut base = [0u32; 256];
    let mut t = 0;
    while t < TOKEN_COUNT {
        base[t] = value_of(Alphabet::Widths, t as u8, 0);
        base[TOKEN_COUNT + t] = value_of(Alphabet::SmallExact, t as u8, 0);
        t += 1;
    }
    base
};

/// The zigzag value that `entry`'s symbol stands for before its raw bits are added.
#[inline(always)]
pub(crate) fn symbol_base(entry: u32) -> u32 {
    SYMBOL_BASE[(entry >> 24) as usize]
}

/// The eight bytes of `body` from `byte`, little-endian; bytes past the end read as zeros.
/// `FAST` promises that all eight are inside `body`.
#[inline(always)]
pub(crate) fn word_at<const FAST: bool>(body: &[u8], byte: usize) -> u64 {
    if FAST {
        debug_assert!(byte + 8 <= body.len());
        // SAFETY: `FAST` is only chosen by `decode_groups_scalar`,
        // `multi_decode::decode_lanes_with`, `token_lanes::decode_scalar` and
        // `raw_segments::unpack_block`, after checking that every lane starts at least `reach`
        // bytes before the end of `body`; each lookup moves a lane by at most MAX_ELEMENT_BITS
        // bits (an entry's six-bit length, 63 bits in `token_lanes` too; 31 in `raw_segments`),
        // which `reach` allows for every lookup of the block plus the eight bytes of this load.
        // The read is unaligned-safe.
        u64::from_le(unsafe { body.as_ptr().add(byte).cast::<u64>().read_unaligned() })
    } else if let Some(word) = body.get(byte..byte.saturating_add(8)) {
        // Eight whole bytes: one load (the padded copy below is a call to memcpy, which had
        // taken a twentieth of a 500x80 chunk's decoding in the lanes' last lookups).
        u64::from_le_bytes(word.try_into().expect("eight bytes"))
    } else {
        let mut padded = [0u8; 8];
        let available = body.get(byte..).unwrap_or(&[]);
        padded[..available.len()].copy_from_slice(available);
        u64::from_le_bytes(padded)
    }
}

/// Decodes the element at bit `position` of `body` and moves past it: returns its zigzag
/// value, and ORs its table entry into `seen`, whose [`NO_CODE`] bit then tells whether some
/// bits began no code.
#[inline(always)]
pub(crate) fn decode_at<const FAST: bool>(
    table: &DecodeEntries,
    body: &[u8],
    position: &mut usize,
    seen: &mut u32,
) -> u32 {
    // At least 57 valid bits: more than a valid entry's 43.
    let window = word_at::<FAST>(body, *position / 8) >> (*position % 8);
    let entry = table[window as usize & ((1 << TABLE_BITS) - 1)];
    *seen |= entry;
    *position += (entry & 63) as usize;
    let raw = (window >> ((entry >> 8) & 63)) & ((1u64 << ((entry >> 16) & 63)) - 1);
    symbol_base(entry) | raw as u32
}

/// Decodes one element of one lane (for a tile's last, incomplete group): its residual, and
/// whether its bits began no code.
pub fn decode_one(table: &DecodeEntries, body: &[u8], position: &mut usize) -> (i32, bool) {
    let mut seen = 0;
    let value = decode_at::<false>(table, body, position, &mut seen);
    (zigzag_decode(value), seen & NO_CODE != 0)
}

#[inline(always)]
fn decode_groups_with<const FAST: bool, const CHECK: bool>(
    table: &DecodeEntries,
    body: &[u8],
    positions: &mut [usize; LANES],
    out: &mut [i32],
) -> bool {
    let [mut p0, mut p1, mut p2, mut p3] = *positions;
    let mut seen = 0;
    // Without CHECK, `seen` is dead and the compiler drops it: one register and one operation
    // per element fewer, which keeps every lane's position in a register.
    for group in out.chunks_exact_mut(LANES) {
        group[0] = decode_at::<FAST>(table, body, &mut p0, &mut seen) as i32;
        group[1] = decode_at::<FAST>(table, body, &mut p1, &mut seen) as i32;
        group[2] = decode_at::<FAST>(table, body, &mut p2, &mut seen) as i32;
        group[3] = decode_at::<FAST>(table, body, &mut p3, &mut seen) as i32;
    }
    *positions = [p0, p1, p2, p3];
    // Apart from the lanes' chains, so that it vectorizes.
    for value in out.iter_mut() {
        *value = zigzag_decode(*value as u32);
    }
    CHECK && seen & NO_CODE != 0
}

/// Scalar reference: decodes `out.len() / 4` whole groups, element `4g + l` from lane `l` at bit
/// `positions[l]` of `body`, advancing the positions. With `check`, returns true if some bits
/// began no code; without, returns false, and such bits decode as a value without moving the
/// lane (for tables of complete codes, where no bits do). Bits past `body`'s end read as zeros,
/// so any input is safe; the caller checks where the lanes ended. Works in blocks of
/// [`BLOCK_GROUPS`] groups, each checking once whether its lanes are far enough from the end
/// for unchecked loads, so that only the last blocks of a tile take the checked ones.
#[inline(always)]
pub fn decode_groups_scalar(
    table: &DecodeEntries,
    body: &[u8],
    positions: &mut [usize; LANES],
    out: &mut [i32],
    check: bool,
) -> bool {
    out.chunks_mut(BLOCK_GROUPS * LANES)
        .fold(false, |bad, block| bad | decode_block(table, body, positions, block, check))
}

/// Groups per block of [`decode_groups_scalar`].
pub const BLOCK_GROUPS: usize = 64;

/// [`decode_groups_scalar`] on one block.
#[inline(always)]
fn decode_block(
    table: &DecodeEntries,
    body: &[u8],
    positions: &mut [usize; LANES],
    out: &mut [i32],
    check: bool,
) -> bool {
    // Whole-word loads need no check per element while every lane is this far from the end.
    let reach = (out.len() / LANES * MAX_ELEMENT_BITS).div_ceil(8) + 16;
    let fast = positions.iter().all(|&p| p / 8 + reach <= body.len());
    match (fast, check) {
        (true, true) => decode_groups_with::<true, true>(table, body, positions, out),
        (true, false) => decode_groups_with::<true, false>(table, body, positions, out),
        (false, true) => decode_groups_with::<false, true>(table, body, positions, out),
        (false, false) => decode_groups_with::<false, false>(table, body, positions, out),
    }
}

/// The dispatched [`decode_groups_scalar`].
pub fn decode_groups(
    kernels: Kernels,
    table: &DecodeEntries,
    body: &[u8],
    positions: &mut [usize; LANES],
    out: &mut [i32],
    check: bool,
) -> bool {
    simd_op!(Op<'a> {
        table: &'a DecodeEntries,
        body: &'a [u8],
        positions: &'a mut [usize; LANES],
        out: &'a mut [i32],
        check: bool,
    } -> bool => decode_block(table, body, positions, out, check));
    out.chunks_mut(BLOCK_GROUPS * LANES).fold(false, |bad, out| {
        bad | kernels.run(Op { table, body, positions: &mut *positions, out, check, _borrows: PhantomData })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bits::zigzag_encode;
    use crate::tokens::token_of;

    /// A table where token `t` has the 6-bit code `t` (bit-reversed into the stream), and the
    /// lanes that code `values` with it.
    fn fixture(values: &[i32]) -> (Box<DecodeEntries>, Vec<u8>, [usize; LANES]) {
        let mut table = Box::new([NO_CODE; 1 << TABLE_BITS]);
        for token in 0..TOKEN_COUNT as u8 {
            let code = u32::from(token).reverse_bits() >> 26;
            let mut i = code as usize;
            while i < table.len() {
                table[i] = table_entry(Alphabet::SmallExact, token, 6);
                i += 64;
            }
        }
        let mut body = Vec::new();
        let mut starts = [0usize; LANES];
        for (lane, start) in starts.iter_mut().enumerate() {
            *start = body.len() * 8;
            let (mut acc, mut bits) = (0u128, 0u32);
            for &v in values.iter().skip(lane).step_by(LANES) {
                let token = token_of(v);
                let code = u32::from(token).reverse_bits() >> 26;
                let raw_len = raw_bits(Alphabet::SmallExact, token);
                let raw = u128::from(zigzag_encode(v)) & ((1u128 << raw_len) - 1);
                acc |= (u128::from(code) | (raw << 6)) << bits;
                bits += 6 + raw_len;
                while bits >= 8 {
                    body.push(acc as u8);
                    acc >>= 8;
                    bits -= 8;
                }
            }
            if bits > 0 {
                body.push(acc as u8);
            }
        }
        (table, body, starts)
    }

    #[test]
    fn dispatched_and_scalar_decode_every_width_alike() {
        let mut values: Vec<i32> = (0..32).flat_map(|w| [(1i64 << w) - 1, -(1i64 << w)]).map(|v| v as i32).collect();
        values.extend([0, 1, -1, i32::MAX, i32::MIN, 12345, -999]);
        values.truncate(values.len() / LANES * LANES);
        let (table, body, starts) = fixture(&values);
        for kernels in [Kernels::detect(), Kernels::scalar()] {
            let mut positions = starts;
            let mut out = vec![0i32; values.len()];
            assert!(!decode_groups(kernels, &table, &body, &mut positions, &mut out, true));
            let mut positions = starts;
            let mut unchecked = vec![0i32; values.len()];
            assert!(!decode_groups(kernels, &table, &body, &mut positions, &mut unchecked, false));
            assert_eq!(unchecked, out);
            assert_eq!(out, values, "{}", kernels.instruction_set());
        }
        // Near the end of `body` the zero-padded path decodes the same.
        let mut positions = starts;
        let mut out = vec![0i32; values.len()];
        decode_groups_with::<false, true>(&table, &body, &mut positions, &mut out);
        assert_eq!(out, values);
    }

    #[test]
    fn any_bytes_decode_without_panicking() {
        let (table, _, _) = fixture(&[0; 4]);
        let body: Vec<u8> = (0..300u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for start in [0usize, 7, 1000, 2399, 5000] {
            let mut positions = [start; LANES];
            let mut out = vec![0i32; 256];
            let _ = decode_groups(Kernels::detect(), &table, &body, &mut positions, &mut out, start % 2 == 0);
            let _ = decode_one(&table, &body, &mut positions[0]);
        }
    }
}
