//! Writing the tiled format's four interleaved lanes: per element, its token's code, then the
//! token's raw bits, least significant bit first.
//!
//! All four lanes are written in one pass, each lane's state one bit position: an element's bits
//! are ORed into the (zeroed) lane at that position with one unaligned word store. The four
//! lanes' chains are independent, so they overlap, where writing one lane after another would
//! run one chain at a time.

use crate::bits::zigzag_encode;
use std::marker::PhantomData;

use crate::dispatch::{simd_op, Kernels};
use crate::token_decode::LANES;
use crate::tokens::TOKEN_COUNT;

/// How a token is written: its code (bits 0..32, least significant first as it goes into the
/// lane), the code's length (bits 32..40) and the count of raw bits after it (bits 40..48).
pub fn merged_code(code: u32, code_len: u32, raw_bits: u32) -> u64 {
    u64::from(code) | u64::from(code_len) << 32 | u64::from(raw_bits) << 40
}

/// ORs the element's code and raw bits into `lane` at `*position` and moves past them.
#[inline(always)]
fn put(lane: &mut [u8], position: &mut usize, merged: u64, residual: i32) {
    let code_len = (merged >> 32 & 0xff) as u32;
    let raw_len = (merged >> 40 & 0xff) as u32;
    let raw = u64::from(zigzag_encode(residual)) & ((1u64 << raw_len) - 1);
    // A 12-bit code and 30 raw bits, shifted by up to 7: within one word.
    let bits = (merged & 0xffff_ffff) | (raw << code_len);
    let byte = *position / 8;
    let slot: &mut [u8; 8] = (&mut lane[byte..byte + 8]).try_into().expect("8 bytes");
    *slot = (u64::from_le_bytes(*slot) | (bits << (*position % 8))).to_le_bytes();
    *position += (code_len + raw_len) as usize;
}

/// Scalar reference: writes element `4g + l` (token `tokens[i]`, residual `residuals[i]`) to
/// lane `l`, each lane from bit 0, and returns each lane's length in bits. Each lane must be
/// zeroed and at least eight bytes longer than its bits need (the caller knows the lengths from
/// the token counts); a shorter lane panics.
#[inline(always)]
pub fn encode_lanes_scalar(
    merged: &[u64; TOKEN_COUNT],
    tokens: &[u8],
    residuals: &[i32],
    lanes: [&mut [u8]; LANES],
) -> [usize; LANES] {
    assert_eq!(tokens.len(), residuals.len());
    let [l0, l1, l2, l3] = lanes;
    let mut positions = [0usize; LANES];
    let [mut p0, mut p1, mut p2, mut p3] = positions;
    let mut token_groups = tokens.chunks_exact(LANES);
    let mut residual_groups = residuals.chunks_exact(LANES);
    for (t, r) in (&mut token_groups).zip(&mut residual_groups) {
        put(l0, &mut p0, merged[usize::from(t[0])], r[0]);
        put(l1, &mut p1, merged[usize::from(t[1])], r[1]);
        put(l2, &mut p2, merged[usize::from(t[2])], r[2]);
        put(l3, &mut p3, merged[usize::from(t[3])], r[3]);
    }
    positions = [p0, p1, p2, p3];
    let lanes = [l0, l1, l2, l3];
    for (lane, (&t, &r)) in token_groups.remainder().iter().zip(residual_groups.remainder()).enumerate() {
        put(lanes[lane], &mut positions[lane], merged[usize::from(t)], r);
    }
    positions
}

/// The dispatched [`encode_lanes_scalar`].
pub fn encode_lanes(
    kernels: Kernels,
    merged: &[u64; TOKEN_COUNT],
    tokens: &[u8],
    residuals: &[i32],
    lanes: [&mut [u8]; LANES],
) -> [usize; LANES] {
    simd_op!(Op<'a> {
        merged: &'a [u64; TOKEN_COUNT],
        tokens: &'a [u8],
        residuals: &'a [i32],
        lanes: [&'a mut [u8]; LANES],
    } -> [usize; LANES] => encode_lanes_scalar(merged, tokens, residuals, lanes));
    kernels.run(Op { merged, tokens, residuals, lanes, _borrows: PhantomData })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token_decode::{decode_groups, decode_one, table_entry, DecodeEntries, TABLE_BITS};
    use crate::tokens::{raw_bits_of_token, token_of};

    #[test]
    fn lanes_decode_back_on_both_paths_for_every_width_and_ragged_tails() {
        // Token t gets the 6-bit code t (bit-reversed, most significant bit first).
        let mut merged = [0u64; TOKEN_COUNT];
        let mut table: Box<DecodeEntries> = Box::new([0u16; 1 << TABLE_BITS]);
        for t in 0..TOKEN_COUNT as u8 {
            let code = u32::from(t).reverse_bits() >> 26;
            merged[usize::from(t)] = merged_code(code, 6, raw_bits_of_token(t));
            for i in (code as usize..table.len()).step_by(64) {
                table[i] = table_entry(t, 6);
            }
        }
        let mut base: Vec<i32> = (0..32).flat_map(|w| [(1i64 << w) - 1, -(1i64 << w)]).map(|v| v as i32).collect();
        base.extend([0, 1, -1, i32::MAX, i32::MIN, 77, -5]);
        for len in [0, 1, 2, 3, 4, 5, 7, 64, 71] {
            let residuals: Vec<i32> = base.iter().cycle().take(len).copied().collect();
            let tokens: Vec<u8> = residuals.iter().map(|&r| token_of(r)).collect();
            let mut results = Vec::new();
            for kernels in [Kernels::detect(), Kernels::scalar()] {
                let mut lanes = vec![vec![0u8; len * 6 + 8]; LANES];
                let [a, b, c, d] = &mut lanes[..] else { unreachable!() };
                let bits = encode_lanes(kernels, &merged, &tokens, &residuals, [a, b, c, d]);
                results.push((bits, lanes.clone()));
                // Decode the lanes laid back to back.
                let starts: Vec<usize> =
                    lanes.iter().scan(0, |at, lane| Some(std::mem::replace(at, *at + lane.len()) * 8)).collect();
                let body: Vec<u8> = lanes.concat();
                let mut positions = [starts[0], starts[1], starts[2], starts[3]];
                let whole = len / LANES * LANES;
                let mut out = vec![0i32; len];
                assert!(!decode_groups(kernels, &table, &body, &mut positions, &mut out[..whole]));
                for (lane, value) in out[whole..].iter_mut().enumerate() {
                    *value = decode_one(&table, &body, &mut positions[lane]).0;
                }
                assert_eq!(out, residuals, "length {len}");
                for lane in 0..LANES {
                    assert_eq!(positions[lane] - starts[lane], bits[lane], "lane {lane} bit count");
                }
            }
            assert_eq!(results[0], results[1], "dispatched and scalar wrote different lanes");
        }
    }
}
