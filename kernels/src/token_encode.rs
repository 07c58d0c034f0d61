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

/// The bits an element adds to its lane, its code and then its raw bits, least significant
/// first, and how many they are.
#[inline(always)]
fn element_bits(merged: u64, raw: i32) -> (u64, usize) {
    let code_len = (merged >> 32 & 0xff) as u32;
    let raw_len = (merged >> 40 & 0xff) as u32;
    // A 12-bit code and 31 raw bits: within one word.
    let bits = (merged & 0xffff_ffff) | (u64::from(raw as u32) << (code_len & 63));
    (bits, ((code_len + raw_len) & 63) as usize)
}

/// Appends `len` bits (at most 57) at bit `*position` of `buffer`: `*pending` holds the bits
/// already written to the byte at that position, below it. `FAST` promises that the eight bytes
/// from that byte are inside `buffer`.
#[inline(always)]
pub(crate) fn put<const FAST: bool>(buffer: &mut [u8], position: &mut usize, pending: &mut u64, bits: u64, len: usize) {
    let byte = *position / 8;
    *pending |= bits << (*position % 8);
    if FAST {
        debug_assert!(byte + 8 <= buffer.len());
        // SAFETY: `FAST` is only chosen by `encode_lanes_scalar`, `token_lanes::encode_scalar`
        // and `raw_segments::pack_scalar`, after checking that every lane starts at least `reach`
        // bytes before the end of `buffer`; each store moves a lane by at most MAX_ELEMENT_BITS
        // bits (60 for `token_lanes`' groups of four codes of a 4-bit length field, 56 for `raw_segments`), which `reach` allows for every store of the block
        // plus the eight bytes of this store. The write is unaligned-safe.
        unsafe { buffer.as_mut_ptr().add(byte).cast::<u64>().write_unaligned(pending.to_le()) };
    } else {
        buffer[byte..byte + 8].copy_from_slice(&pending.to_le_bytes());
    }
    let next = *position + len;
    // Up to eight whole bytes (for 57 bits or more, which only a table of overlong codes gives):
    // in two halves, so that eight bytes shift everything out instead of overflowing.
    let half = 4 * (next / 8 - byte);
    *pending = *pending >> half >> half;
    *position = next;
}

/// Finishes lanes (or segments) written from byte `starts[l]` of `buffer` up to bit
/// `positions[l]`: a lane that got no bits has its first byte cleared, as every written lane's
/// bytes past its last bit are; returns each lane's length in bits.
#[inline(always)]
pub(crate) fn lanes_written(buffer: &mut [u8], positions: [usize; LANES], starts: [usize; LANES]) -> [usize; LANES] {
    for l in 0..LANES {
        if positions[l] == starts[l] * 8 {
            if let Some(first) = buffer.get_mut(starts[l]) {
                *first = 0;
            }
        }
    }
    std::array::from_fn(|l| positions[l] - starts[l] * 8)
}

/// Writes whole groups of `tokens` and `raw` to the lanes at `positions`; with `PAIRS` (an even
/// number of groups, elements of at most 28 bits), two elements of a lane per store.
#[inline(always)]
fn put_groups<const FAST: bool, const PAIRS: bool>(
    merged: &[u64; TOKEN_COUNT],
    tokens: &[u8],
    raw: &[i32],
    buffer: &mut [u8],
    positions: &mut [usize; LANES],
    pending: &mut [u64; LANES],
) {
    let [mut p0, mut p1, mut p2, mut p3] = *positions;
    let [mut a0, mut a1, mut a2, mut a3] = *pending;
    let m = |t: u8| merged[usize::from(t) % TOKEN_COUNT];
    if PAIRS {
        for (t, r) in tokens.chunks_exact(2 * LANES).zip(raw.chunks_exact(2 * LANES)) {
            let pair = |l: usize| {
                let (first, first_len) = element_bits(m(t[l]), r[l]);
                let (second, second_len) = element_bits(m(t[l + LANES]), r[l + LANES]);
                (first | second << first_len, first_len + second_len)
            };
            let (b, len) = pair(0);
            put::<FAST>(buffer, &mut p0, &mut a0, b, len);
            let (b, len) = pair(1);
            put::<FAST>(buffer, &mut p1, &mut a1, b, len);
            let (b, len) = pair(2);
            put::<FAST>(buffer, &mut p2, &mut a2, b, len);
            let (b, len) = pair(3);
            put::<FAST>(buffer, &mut p3, &mut a3, b, len);
        }
    } else {
        for (t, r) in tokens.chunks_exact(LANES).zip(raw.chunks_exact(LANES)) {
            let (b, len) = element_bits(m(t[0]), r[0]);
            put::<FAST>(buffer, &mut p0, &mut a0, b, len);
            let (b, len) = element_bits(m(t[1]), r[1]);
            put::<FAST>(buffer, &mut p1, &mut a1, b, len);
            let (b, len) = element_bits(m(t[2]), r[2]);
            put::<FAST>(buffer, &mut p2, &mut a2, b, len);
            let (b, len) = element_bits(m(t[3]), r[3]);
            put::<FAST>(buffer, &mut p3, &mut a3, b, len);
        }
    }
    *positions = [p0, p1, p2, p3];
    *pending = [a0, a1, a2, a3];
}

/// The longest element, in bits, that pairs of elements may have: two of them and up to seven
/// pending bits fit one 64-bit word.
const PAIRED_UP_TO: u64 = 28;

/// Groups written between checks of the lanes' room.
const BLOCK_GROUPS: usize = 64;

/// Scalar reference: writes element `4g + l` (token `tokens[i]` and its raw bits `raw[i]`, as
/// [`crate::tokens::split`] gives them) to lane `l`, which starts at byte `starts[l]` of
/// `buffer`, and returns each lane's length in bits. `merged` describes every token that occurs
/// (see [`merged_code`]); entries of tokens that do not occur should be 0, because when every
/// entry's code and raw bits total at most 28 bits the writer stores two elements of a lane at
/// a time. Raw bits wider than their token allows spoil the lane, never memory. Each lane must
/// have at least eight bytes more room than its bits need before the next lane starts or the
/// buffer ends (the caller knows the lengths from the token counts); the bytes past a lane's
/// last bit are overwritten with zeros. Too little room spoils the next lane; a lane that would
/// run past the buffer's end panics.
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
    let pairs = merged.iter().all(|&m| (m >> 32 & 0xff) + (m >> 40 & 0xff) <= PAIRED_UP_TO);
    for (t, r) in tokens[..whole].chunks(BLOCK_GROUPS * LANES).zip(raw[..whole].chunks(BLOCK_GROUPS * LANES)) {
        let fast = positions.iter().all(|&p| p / 8 + reach <= buffer.len());
        // Pairs take an even number of groups; a block's odd last group goes alone.
        let paired = if pairs { t.len() / (2 * LANES) * (2 * LANES) } else { 0 };
        let ((t_pairs, t_rest), (r_pairs, r_rest)) = (t.split_at(paired), r.split_at(paired));
        if fast {
            put_groups::<true, true>(merged, t_pairs, r_pairs, buffer, &mut positions, &mut pending);
            put_groups::<true, false>(merged, t_rest, r_rest, buffer, &mut positions, &mut pending);
        } else {
            put_groups::<false, true>(merged, t_pairs, r_pairs, buffer, &mut positions, &mut pending);
            put_groups::<false, false>(merged, t_rest, r_rest, buffer, &mut positions, &mut pending);
        }
    }
    for (lane, (&t, &r)) in tokens[whole..].iter().zip(&raw[whole..]).enumerate() {
        let (bits, len) = element_bits(merged[usize::from(t) % TOKEN_COUNT], r);
        put::<false>(buffer, &mut positions[lane], &mut pending[lane], bits, len);
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
    use crate::tokens::{raw_bits_of_token, split_scalar, token_of, Alphabet};

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
        // Every width, with elements of up to 37 bits: one element per store.
        let mut every: Vec<i32> = (0..32).flat_map(|w| [(1i64 << w) - 1, -(1i64 << w)]).map(|v| v as i32).collect();
        every.extend([0, 1, -1, i32::MAX, i32::MIN, 77, -5]);
        // Values whose tokens have at most 22 raw bits, with a table of only those tokens: the
        // elements have at most 28 bits, so the writer stores two at a time.
        let narrow: Vec<i32> = every.iter().copied().filter(|&v| raw_bits_of_token(token_of(v)) <= 22).collect();
        let mut narrow_merged = [0u64; TOKEN_COUNT];
        for &v in &narrow {
            narrow_merged[usize::from(token_of(v))] = merged[usize::from(token_of(v))];
        }
        let mut cases = Vec::new();
        // 5000 elements reach the unchecked stores, the shorter ones only the checked ones;
        // odd group counts leave a block's last group to go alone.
        for len in [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 64, 71, 260, 5000, 5004] {
            cases.push((every.iter().cycle().take(len).copied().collect::<Vec<i32>>(), merged));
            cases.push((narrow.iter().cycle().take(len).copied().collect(), narrow_merged));
        }
        for (values, merged) in cases {
            let len = values.len();
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
                // The same lanes one element per store: a long unused token forbids pairs.
                if merged[63] == 0 {
                    let mut unpaired = merged;
                    unpaired[63] = merged_code(0, 12, 31);
                    let mut single = vec![0x5au8; 4 * room];
                    assert_eq!(encode_lanes(kernels, &unpaired, &tokens, &raw, &mut single, starts), bits);
                    for l in 0..LANES {
                        let lane = starts[l]..starts[l] + bits[l].div_ceil(8);
                        assert_eq!(buffer[lane.clone()], single[lane], "length {len}, lane {l}");
                    }
                }
                let lanes: Vec<Vec<u8>> =
                    (0..LANES).map(|l| buffer[starts[l]..starts[l] + bits[l].div_ceil(8)].to_vec()).collect();
                for (lane, bytes) in lanes.iter().enumerate() {
                    if !bits[lane].is_multiple_of(8) {
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
