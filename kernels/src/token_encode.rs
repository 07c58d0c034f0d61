//! Writing the tiled format's four interleaved lanes: per element, its token's code, then the
//! token's raw bits, least significant bit first. The tokens and raw bits come from
//! [`crate::tokens::split`].
//!
//! All four lanes are written in one pass into one buffer, each lane's state a bit position and
//! a word of pending bits, flushed with one unaligned word store per element. The four lanes'
//! chains are independent, so they overlap. (ORing into the buffer instead would read back each
//! word just stored at an overlapping address, which store forwarding cannot serve.)

use std::marker::PhantomData;

use crate::dispatch::{simd_op, Kernels};
use crate::token_decode::{LANES, MAX_ELEMENT_BITS};
use crate::tokens::TOKEN_COUNT;

/// How a token is written: its code (bits 0..32, least significant first as it goes into the
/// lane), the code's length (bits 32..40) and the count of raw bits after it (bits 40..48).
pub fn merged_code(code: u32, code_len: u32, raw_bits: u32) -> u64 {
    u64::from(code) | u64::from(code_len) << 32 | u64::from(raw_bits) << 40
}

/// Appends the element's code and raw bits at bit `*position` of `buffer`: `*pending` holds the
/// bits already written to the byte at that position, below it. `FAST` promises that the eight
/// bytes from that byte are inside `buffer`.
#[inline(always)]
fn put<const FAST: bool>(buffer: &mut [u8], position: &mut usize, pending: &mut u64, merged: u64, raw: i32) {
    let code_len = (merged >> 32 & 0xff) as u32;
    let raw_len = (merged >> 40 & 0xff) as u32;
    let raw = u64::from(raw as u32);
    // A 12-bit code and 31 raw bits, after up to 7 pending bits: within one word.
    let bits = (merged & 0xffff_ffff) | (raw << (code_len & 63));
    let byte = *position / 8;
    *pending |= bits << (*position % 8);
    if FAST {
        debug_assert!(byte + 8 <= buffer.len());
        // SAFETY: `FAST` is only chosen by `encode_lanes_scalar`, after checking that every lane
        // starts at least `reach` bytes before the end of `buffer`; each element moves a lane by
        // at most MAX_ELEMENT_BITS bits, which `reach` allows for every element of the block
        // plus the eight bytes of this store. The write is unaligned-safe.
        unsafe { buffer.as_mut_ptr().add(byte).cast::<u64>().write_unaligned(pending.to_le()) };
    } else {
        buffer[byte..byte + 8].copy_from_slice(&pending.to_le_bytes());
    }
    let next = *position + ((code_len + raw_len) & 63) as usize;
    *pending >>= 8 * (next / 8 - byte);
    *position = next;
}

/// Writes whole groups of `tokens` and `raw` to the lanes at `positions`.
#[inline(always)]
fn put_groups<const FAST: bool>(
    merged: &[u64; TOKEN_COUNT],
    tokens: &[u8],
    raw: &[i32],
    buffer: &mut [u8],
    positions: &mut [usize; LANES],
    pending: &mut [u64; LANES],
) {
    let [mut p0, mut p1, mut p2, mut p3] = *positions;
    let [mut a0, mut a1, mut a2, mut a3] = *pending;
    for (t, r) in tokens.chunks_exact(LANES).zip(raw.chunks_exact(LANES)) {
        let m = |t: u8| merged[usize::from(t) % TOKEN_COUNT];
        put::<FAST>(buffer, &mut p0, &mut a0, m(t[0]), r[0]);
        put::<FAST>(buffer, &mut p1, &mut a1, m(t[1]), r[1]);
        put::<FAST>(buffer, &mut p2, &mut a2, m(t[2]), r[2]);
        put::<FAST>(buffer, &mut p3, &mut a3, m(t[3]), r[3]);
    }
    *positions = [p0, p1, p2, p3];
    *pending = [a0, a1, a2, a3];
}

/// Groups written between checks of the lanes' room.
const BLOCK_GROUPS: usize = 64;

/// Scalar reference: writes element `4g + l` (token `tokens[i]` and its raw bits `raw[i]`, as
/// [`crate::tokens::split`] gives them) to lane `l`, which starts at byte `starts[l]` of
/// `buffer`, and returns each lane's length in bits. Raw bits wider than their token allows
/// spoil the lane, never memory. Each lane must have at least eight bytes more room than its
/// bits need before the next lane starts or the buffer ends (the caller knows the lengths from
/// the token counts); the bytes past a lane's last bit are overwritten with zeros. Too little
/// room spoils the next lane; a lane that would run past the buffer's end panics.
#[inline(always)]
pub fn encode_lanes_scalar(
    merged: &[u64; TOKEN_COUNT],
    tokens: &[u8],
    raw: &[i32],
    buffer: &mut [u8],
    starts: [usize; LANES],
) -> [usize; LANES] {
    assert_eq!(tokens.len(), raw.len());
    let mut positions = starts.map(|s| s * 8);
    let mut pending = [0u64; LANES];
    let whole = tokens.len() / LANES * LANES;
    let reach = (BLOCK_GROUPS * MAX_ELEMENT_BITS).div_ceil(8) + 16;
    for (t, r) in tokens[..whole].chunks(BLOCK_GROUPS * LANES).zip(raw[..whole].chunks(BLOCK_GROUPS * LANES)) {
        if positions.iter().all(|&p| p / 8 + reach <= buffer.len()) {
            put_groups::<true>(merged, t, r, buffer, &mut positions, &mut pending);
        } else {
            put_groups::<false>(merged, t, r, buffer, &mut positions, &mut pending);
        }
    }
    for (lane, (&t, &r)) in tokens[whole..].iter().zip(&raw[whole..]).enumerate() {
        put::<false>(buffer, &mut positions[lane], &mut pending[lane], merged[usize::from(t) % TOKEN_COUNT], r);
    }
    // An empty lane has written nothing yet: clear its first byte as the others were.
    for (lane, &position) in positions.iter().enumerate() {
        if position == starts[lane] * 8 {
            buffer[starts[lane]] = 0;
        }
    }
    std::array::from_fn(|lane| positions[lane] - starts[lane] * 8)
}

/// The dispatched [`encode_lanes_scalar`].
pub fn encode_lanes(
    kernels: Kernels,
    merged: &[u64; TOKEN_COUNT],
    tokens: &[u8],
    raw: &[i32],
    buffer: &mut [u8],
    starts: [usize; LANES],
) -> [usize; LANES] {
    simd_op!(Op<'a> {
        merged: &'a [u64; TOKEN_COUNT],
        tokens: &'a [u8],
        raw: &'a [i32],
        buffer: &'a mut [u8],
        starts: [usize; LANES],
    } -> [usize; LANES] => encode_lanes_scalar(merged, tokens, raw, buffer, starts));
    kernels.run(Op { merged, tokens, raw, buffer, starts, _borrows: PhantomData })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token_decode::{decode_groups, decode_one, table_entry, DecodeEntries, NO_CODE, TABLE_BITS};
    use crate::tokens::{raw_bits_of_token, split_scalar, Alphabet};

    #[test]
    fn lanes_decode_back_on_both_paths_for_every_width_and_ragged_tails() {
        // Token t gets the 6-bit code t (bit-reversed, most significant bit first).
        let mut merged = [0u64; TOKEN_COUNT];
        let mut table: Box<DecodeEntries> = Box::new([NO_CODE; 1 << TABLE_BITS]);
        for t in 0..TOKEN_COUNT as u8 {
            let code = u32::from(t).reverse_bits() >> 26;
            merged[usize::from(t)] = merged_code(code, 6, raw_bits_of_token(t));
            for i in (code as usize..table.len()).step_by(64) {
                table[i] = table_entry(Alphabet::SmallExact, t, 6);
            }
        }
        let mut base: Vec<i32> = (0..32).flat_map(|w| [(1i64 << w) - 1, -(1i64 << w)]).map(|v| v as i32).collect();
        base.extend([0, 1, -1, i32::MAX, i32::MIN, 77, -5]);
        // 5000 elements reach the unchecked stores, the shorter ones only the checked ones.
        for len in [0, 1, 2, 3, 4, 5, 7, 64, 71, 5000] {
            let values: Vec<i32> = base.iter().cycle().take(len).copied().collect();
            let mut raw = values.clone();
            let mut tokens = vec![0u8; len];
            split_scalar(&mut raw, &mut tokens);
            let mut results = Vec::new();
            for kernels in [Kernels::detect(), Kernels::scalar()] {
                // Lanes of len / 4 elements of 6 + 31 bits at most, each with eight spare
                // bytes; the buffer starts dirty, as a reused one would.
                let room = len.div_ceil(4) * 37 / 8 + 1 + 8;
                let starts = [0, room, 2 * room, 3 * room];
                let mut buffer = vec![0xa5u8; 4 * room];
                let bits = encode_lanes(kernels, &merged, &tokens, &raw, &mut buffer, starts);
                let lanes: Vec<Vec<u8>> =
                    (0..LANES).map(|l| buffer[starts[l]..starts[l] + bits[l].div_ceil(8)].to_vec()).collect();
                for (lane, bytes) in lanes.iter().enumerate() {
                    if bits[lane] % 8 != 0 {
                        let last = bytes[bytes.len() - 1];
                        assert_eq!(last >> (bits[lane] % 8), 0, "lane {lane}: bits past the end are not zero");
                    }
                }
                results.push((bits, lanes.clone()));
                // Decode the lanes laid back to back.
                let starts: Vec<usize> =
                    lanes.iter().scan(0, |at, lane| Some(std::mem::replace(at, *at + lane.len()) * 8)).collect();
                let body: Vec<u8> = lanes.concat();
                let mut positions = [starts[0], starts[1], starts[2], starts[3]];
                let whole = len / LANES * LANES;
                let mut out = vec![0i32; len];
                assert!(!decode_groups(kernels, &table, &body, &mut positions, &mut out[..whole], true));
                for (lane, value) in out[whole..].iter_mut().enumerate() {
                    *value = decode_one(&table, &body, &mut positions[lane]).0;
                }
                assert_eq!(out, values, "length {len}");
                for lane in 0..LANES {
                    assert_eq!(positions[lane] - starts[lane], bits[lane], "lane {lane} bit count");
                }
            }
            assert_eq!(results[0], results[1], "dispatched and scalar wrote different lanes");
        }
    }
}
