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
/// Most bits the decoder moves past per element, whatever the table holds: a code length field
/// of at most 15 and a raw-bit count of at most 31 (a valid table stays within 12 and 31).
pub const MAX_ELEMENT_BITS: usize = 46;

/// A decode table: entry `i` describes the code that the low [`TABLE_BITS`] bits `i` of a lane
/// begin with (see [`table_entry`]); the entries say which alphabet the tokens are of.
pub type DecodeEntries = [u16; 1 << TABLE_BITS];

/// The table entry of a code of length `code_len` (1..=12) for `token` of `alphabet`: the
/// symbol `token + 64 * alphabet` (bits 9..16; 0 for [`Alphabet::Widths`], 1 for
/// [`Alphabet::SmallExact`]), the token's raw-bit count (bits 4..9) and the code length (bits
/// 0..4). An entry of 0 (length 0) marks bits that begin no code.
pub fn table_entry(alphabet: Alphabet, token: u8, code_len: u32) -> u16 {
    debug_assert!((1..=TABLE_BITS).contains(&code_len) && usize::from(token) < TOKEN_COUNT);
    let symbol = u16::from(token) + if alphabet == Alphabet::SmallExact { TOKEN_COUNT as u16 } else { 0 };
    (symbol << 9) | ((raw_bits(alphabet, token) as u16) << 4) | code_len as u16
}

/// The zigzag value each symbol (see [`table_entry`]) stands for before its raw bits are added.
const SYMBOL_BASE: [u32; 2 * TOKEN_COUNT] = {
    let mut base = [0u32; 2 * TOKEN_COUNT];
    let mut t = 0;
    while t < TOKEN_COUNT {
        base[t] = value_of(Alphabet::Widths, t as u8, 0);
        base[TOKEN_COUNT + t] = value_of(Alphabet::SmallExact, t as u8, 0);
        t += 1;
    }
    base
};

/// Decodes the element at bit `position` of `body` and moves past it: its residual, and whether
/// its bits began no code. Bits past `body`'s end read as zeros. With `FAST`, the caller has
/// made sure that eight bytes from the position are inside `body`.
#[inline(always)]
fn decode_at<const FAST: bool>(table: &DecodeEntries, body: &[u8], position: &mut usize) -> (i32, bool) {
    let byte = *position / 8;
    let word = if FAST {
        u64::from_le_bytes(body[byte..byte + 8].try_into().expect("8 bytes"))
    } else {
        let mut padded = [0u8; 8];
        let available = body.get(byte..).unwrap_or(&[]);
        let take = available.len().min(8);
        padded[..take].copy_from_slice(&available[..take]);
        u64::from_le_bytes(padded)
    };
    // At least 57 valid bits: more than MAX_ELEMENT_BITS.
    let window = word >> (*position % 8);
    let entry = table[(window & ((1 << TABLE_BITS) - 1)) as usize];
    let code_len = u32::from(entry & 15);
    let raw_len = u32::from((entry >> 4) & 31);
    let raw = ((window >> code_len) & ((1u64 << raw_len) - 1)) as u32;
    *position += (code_len + raw_len) as usize;
    (zigzag_decode(SYMBOL_BASE[usize::from(entry >> 9)] | raw), code_len == 0)
}

/// Decodes one element of one lane (for a tile's last, incomplete group).
pub fn decode_one(table: &DecodeEntries, body: &[u8], position: &mut usize) -> (i32, bool) {
    decode_at::<false>(table, body, position)
}

#[inline(always)]
fn decode_groups_with<const FAST: bool>(
    table: &DecodeEntries,
    body: &[u8],
    positions: &mut [usize; LANES],
    out: &mut [i32],
) -> bool {
    let [mut p0, mut p1, mut p2, mut p3] = *positions;
    let mut bad = false;
    for group in out.chunks_exact_mut(LANES) {
        let (a, bad_a) = decode_at::<FAST>(table, body, &mut p0);
        let (b, bad_b) = decode_at::<FAST>(table, body, &mut p1);
        let (c, bad_c) = decode_at::<FAST>(table, body, &mut p2);
        let (d, bad_d) = decode_at::<FAST>(table, body, &mut p3);
        group.copy_from_slice(&[a, b, c, d]);
        bad |= bad_a | bad_b | bad_c | bad_d;
    }
    *positions = [p0, p1, p2, p3];
    bad
}

/// Scalar reference: decodes `out.len() / 4` whole groups, element `4g + l` from lane `l` at bit
/// `positions[l]` of `body`, advancing the positions. Returns true if some bits began no code.
/// Bits past `body`'s end read as zeros, so any input is safe; the caller checks where the
/// lanes ended.
#[inline(always)]
pub fn decode_groups_scalar(
    table: &DecodeEntries,
    body: &[u8],
    positions: &mut [usize; LANES],
    out: &mut [i32],
) -> bool {
    // Whole-word loads need no check per element while every lane is this far from the end.
    let reach = out.len() / LANES * MAX_ELEMENT_BITS / 8 + 16;
    if positions.iter().all(|&p| p / 8 + reach <= body.len()) {
        decode_groups_with::<true>(table, body, positions, out)
    } else {
        decode_groups_with::<false>(table, body, positions, out)
    }
}

/// The dispatched [`decode_groups_scalar`].
pub fn decode_groups(
    kernels: Kernels,
    table: &DecodeEntries,
    body: &[u8],
    positions: &mut [usize; LANES],
    out: &mut [i32],
) -> bool {
    simd_op!(Op<'a> {
        table: &'a DecodeEntries,
        body: &'a [u8],
        positions: &'a mut [usize; LANES],
        out: &'a mut [i32],
    } -> bool => decode_groups_scalar(table, body, positions, out));
    kernels.run(Op { table, body, positions, out, _borrows: PhantomData })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bits::zigzag_encode;
    use crate::tokens::token_of;

    /// A table where token `t` has the 6-bit code `t` (bit-reversed into the stream), and the
    /// lanes that code `values` with it.
    fn fixture(values: &[i32]) -> (Box<DecodeEntries>, Vec<u8>, [usize; LANES]) {
        let mut table = Box::new([0u16; 1 << TABLE_BITS]);
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
            assert!(!decode_groups(kernels, &table, &body, &mut positions, &mut out));
            assert_eq!(out, values, "{}", kernels.instruction_set());
        }
        // Near the end of `body` the zero-padded path decodes the same.
        let mut positions = starts;
        let mut out = vec![0i32; values.len()];
        decode_groups_with::<false>(&table, &body, &mut positions, &mut out);
        assert_eq!(out, values);
    }

    #[test]
    fn any_bytes_decode_without_panicking() {
        let (table, _, _) = fixture(&[0; 4]);
        let body: Vec<u8> = (0..300u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for start in [0usize, 7, 1000, 2399, 5000] {
            let mut positions = [start; LANES];
            let mut out = vec![0i32; 256];
            let _ = decode_groups(Kernels::detect(), &table, &body, &mut positions, &mut out);
            let _ = decode_one(&table, &body, &mut positions[0]);
        }
    }
}
