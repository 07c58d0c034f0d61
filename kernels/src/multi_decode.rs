//! Decoding the tiled format's lanes up to three elements per table lookup, for tiles whose
//! elements mostly cost a few bits (smooth fields, where most residuals are within 16 values of
//! zero and carry no raw bits).
//!
//! [`crate::token_decode`] moves each lane by one element per lookup, so a lane's chain (load a
//! word, look up, advance) runs once per element even when the element costs two bits. Here an
//! entry also holds the values of up to two further elements whose codes lie wholly inside the
//! same 12 bits, so the chain runs once per up to three elements. The lanes then advance at
//! different rates: each keeps its own place in the output.
//!
//! The values and positions are exactly those of [`crate::token_decode::decode_groups_scalar`]
//! for tables of complete prefix codes, which are the only tables this decoder is given.

use std::marker::PhantomData;

use crate::bits::zigzag_decode;
use crate::dispatch::{simd_op, Kernels};
use crate::token_decode::{
    decode_at, symbol_base, word_at, DecodeEntries, LANES, MAX_ELEMENT_BITS, NO_CODE, TABLE_BITS,
};

/// The most elements one entry gives.
pub const MAX_PER_LOOKUP: usize = 3;

/// Builds the multi-element table from a one-element table `single` (as
/// [`crate::token_decode::table_entry`] fills it) of a complete prefix code. An entry whose
/// element has no raw bits and leaves room in the 12 bits for the next elements' codes, when
/// those have no raw bits either and values below 16, records them too: the element count less
/// one in bits 6..8, their values in bits 8..12 and 12..16 (where a one-element entry keeps its
/// code length, which an element without raw bits does not need), and the total length of all
/// of them in bits 0..6. Other entries are copied.
///
/// Also returns the mean element count per entry: every 12-bit pattern is equally likely under
/// an optimal code, so this is the expected number of elements per lookup.
pub fn multi_entries(single: &DecodeEntries) -> (Box<DecodeEntries>, f64) {
    let mut multi = Box::new(*single);
    let mut elements = 0usize;
    for (i, entry) in multi.iter_mut().enumerate() {
        let first = single[i];
        let mut count = 1;
        let mut used = first & 63;
        let mut extras = 0u32;
        if first & NO_CODE == 0 && raw_len(first) == 0 {
            while count < MAX_PER_LOOKUP && used < TABLE_BITS {
                let next = single[i >> used];
                let len = next & 63;
                let value = symbol_base(next);
                if next & NO_CODE != 0 || raw_len(next) != 0 || value >= 16 || used + len > TABLE_BITS {
                    break;
                }
                extras |= value << (4 * (count - 1));
                used += len;
                count += 1;
            }
        }
        if count > 1 {
            *entry = (first & !0xffff) | (extras << 8) | ((count as u32 - 1) << 6) | used;
        }
        elements += count;
    }
    (multi, elements as f64 / (1 << TABLE_BITS) as f64)
}

fn raw_len(entry: u32) -> u32 {
    (entry >> 16) & 63
}

/// Decodes one lookup's elements of a lane at bit `*position` into `out[0]`, `out[4]` and
/// `out[8]` (as zigzag values; the slots past the lookup's count get values that later lookups
/// overwrite), and returns how many it decoded.
#[inline(always)]
fn decode_step<const FAST: bool>(table: &DecodeEntries, body: &[u8], position: &mut usize, out: &mut [i32]) -> usize {
    let window = word_at::<FAST>(body, *position / 8) >> (*position % 8);
    let entry = table[window as usize & ((1 << TABLE_BITS) - 1)];
    *position += (entry & 63) as usize;
    let raw = (window >> ((entry >> 8) & 63)) & ((1u64 << raw_len(entry)) - 1);
    let slots = &mut out[..2 * LANES + 1];
    slots[0] = (symbol_base(entry) | raw as u32) as i32;
    slots[LANES] = ((entry >> 8) & 15) as i32;
    slots[2 * LANES] = ((entry >> 12) & 15) as i32;
    1 + ((entry >> 6) & 3) as usize
}

/// Lookups per lane between checks of the lanes' reach and the output's room.
const BLOCK_STEPS: usize = 32;

#[inline(always)]
fn decode_lanes_with(
    table: &DecodeEntries,
    single: &DecodeEntries,
    body: &[u8],
    positions: &mut [usize; LANES],
    out: &mut [i32],
) {
    let n = out.len();
    let mut next: [usize; LANES] = std::array::from_fn(|lane| lane);
    // A lookup writes three slots of its lane from `next`, and moves `next` by as many of the
    // lane's elements as its entry's two-bit count field says: three from `multi_entries`, up
    // to four from any table, which must not take the writes past `out`.
    let span = (MAX_PER_LOOKUP - 1) * LANES + 1;
    let most_per_lookup = 4;
    let reach = (BLOCK_STEPS * MAX_ELEMENT_BITS).div_ceil(8) + 16;
    loop {
        let furthest = next.iter().copied().max().unwrap_or(n);
        if furthest + span > n {
            break;
        }
        let steps = ((n - furthest - span) / (most_per_lookup * LANES) + 1).min(BLOCK_STEPS);
        let [mut p0, mut p1, mut p2, mut p3] = *positions;
        let [mut o0, mut o1, mut o2, mut o3] = next;
        if positions.iter().all(|&p| p / 8 + reach <= body.len()) {
            for _ in 0..steps {
                o0 += LANES * decode_step::<true>(table, body, &mut p0, &mut out[o0..]);
                o1 += LANES * decode_step::<true>(table, body, &mut p1, &mut out[o1..]);
                o2 += LANES * decode_step::<true>(table, body, &mut p2, &mut out[o2..]);
                o3 += LANES * decode_step::<true>(table, body, &mut p3, &mut out[o3..]);
            }
        } else {
            for _ in 0..steps {
                o0 += LANES * decode_step::<false>(table, body, &mut p0, &mut out[o0..]);
                o1 += LANES * decode_step::<false>(table, body, &mut p1, &mut out[o1..]);
                o2 += LANES * decode_step::<false>(table, body, &mut p2, &mut out[o2..]);
                o3 += LANES * decode_step::<false>(table, body, &mut p3, &mut out[o3..]);
            }
        }
        *positions = [p0, p1, p2, p3];
        next = [o0, o1, o2, o3];
    }
    // The last few elements of each lane, one per lookup of the one-element table (a lookup of
    // several elements could run past the lane's last).
    for (lane, position) in positions.iter_mut().enumerate() {
        for slot in out.iter_mut().skip(next[lane]).step_by(LANES) {
            *slot = decode_at::<false>(single, body, position, &mut 0) as i32;
        }
    }
}

/// Scalar reference: decodes all of `out`, element `i` from lane `i % 4` at bit `positions[l]`
/// of `body`, with `table` made by [`multi_entries`] from `single`, advancing the positions. Bits past
/// `body`'s end read as zeros, so any input is memory-safe, and any tables decode without
/// panicking (to meaningless values if they are not such a pair); the caller checks where the
/// lanes ended. Bits that begin no code (a table of an incomplete code) are not reported.
#[inline(always)]
pub fn decode_lanes_scalar(
    table: &DecodeEntries,
    single: &DecodeEntries,
    body: &[u8],
    positions: &mut [usize; LANES],
    out: &mut [i32],
) {
    decode_lanes_with(table, single, body, positions, out);
    // Apart from the lanes' chains, so that it vectorizes.
    for value in out.iter_mut() {
        *value = zigzag_decode(*value as u32);
    }
}

/// The dispatched [`decode_lanes_scalar`].
pub fn decode_lanes(
    kernels: Kernels,
    table: &DecodeEntries,
    single: &DecodeEntries,
    body: &[u8],
    positions: &mut [usize; LANES],
    out: &mut [i32],
) {
    simd_op!(Op<'a> {
        table: &'a DecodeEntries,
        single: &'a DecodeEntries,
        body: &'a [u8],
        positions: &'a mut [usize; LANES],
        out: &'a mut [i32],
    } -> () => decode_lanes_scalar(table, single, body, positions, out));
    kernels.run(Op { table, single, body, positions, out, _borrows: PhantomData })
}

/// A complete prefix code for tests and fuzzing: `tokens[k]` gets the code of `k` one bits and
/// a zero (in stream order) for `k` below `tokens.len() - 2` (at most 11), and the last two get
/// the two codes of as many ones as there are earlier tokens, then a zero or a one. Any bits
/// decode under it, so decoders can be compared on arbitrary bodies.
///
/// # Panics
///
/// If `tokens` holds fewer than 2 or more than 13 tokens (codes would pass 12 bits).
pub fn unary_table(alphabet: crate::tokens::Alphabet, tokens: &[u8]) -> Box<DecodeEntries> {
    use crate::token_decode::table_entry;
    use crate::tokens::TOKEN_COUNT;
    assert!((2..=13).contains(&tokens.len()), "2 to 13 tokens");
    let short = tokens.len() - 2;
    Box::new(std::array::from_fn(|i| {
        let ones = (i as u32).trailing_ones() as usize;
        let (token, len) =
            if ones < short { (tokens[ones], ones + 1) } else { (tokens[short + (i >> short & 1)], short + 1) };
        table_entry(alphabet, (usize::from(token) % TOKEN_COUNT) as u8, len as u32)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token_decode::{decode_groups, decode_one};
    use crate::tokens::Alphabet;

    /// The one-element decoder's values and end positions for `n` elements from `starts`.
    fn one_by_one(table: &DecodeEntries, body: &[u8], starts: [usize; LANES], n: usize) -> (Vec<i32>, [usize; LANES]) {
        let mut positions = starts;
        let mut out = vec![0i32; n];
        let whole = n / LANES * LANES;
        decode_groups(Kernels::scalar(), table, body, &mut positions, &mut out[..whole], false);
        for (lane, value) in out[whole..].iter_mut().enumerate() {
            *value = decode_one(table, body, &mut positions[lane]).0;
        }
        (out, positions)
    }

    #[test]
    fn multi_element_lookups_decode_what_one_element_lookups_do() {
        let body: Vec<u8> = (0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
        // Short codes for values without raw bits, longer ones with raw bits (token 16 on).
        for tokens in [&[0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 40][..], &[3, 0, 15, 20, 7], &[1, 2], &[0, 30, 5, 63]]
        {
            for alphabet in [Alphabet::SmallExact, Alphabet::Widths] {
                let single = unary_table(alphabet, tokens);
                let (multi, per_lookup) = multi_entries(&single);
                assert!((1.0..=MAX_PER_LOOKUP as f64).contains(&per_lookup));
                if tokens.len() > 5 && alphabet == Alphabet::SmallExact {
                    assert!(per_lookup > 2.0, "{per_lookup}");
                }
                for n in (0..40).chain([1000, 4099, 10_001]) {
                    let starts: [usize; LANES] = std::array::from_fn(|l| l * 4000 * 8 + l * 3);
                    let expected = one_by_one(&single, &body, starts, n);
                    for kernels in [Kernels::detect(), Kernels::scalar()] {
                        let mut positions = starts;
                        let mut out = vec![0i32; n];
                        decode_lanes(kernels, &multi, &single, &body, &mut positions, &mut out);
                        assert_eq!((out, positions), expected, "{tokens:?} {alphabet:?} n = {n}");
                    }
                }
            }
        }
    }

    #[test]
    fn any_tables_and_bytes_decode_without_panicking() {
        let body: Vec<u8> = (0..3000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        // Entries that claim four elements of one bit each: the most a count field can say.
        let greedy: Box<DecodeEntries> = Box::new([(3 << 6) | 1; 1 << TABLE_BITS]);
        let single = unary_table(Alphabet::SmallExact, &[0, 1]);
        for n in [0, 5, 13, 16, 17, 100, 1001] {
            for kernels in [Kernels::detect(), Kernels::scalar()] {
                let mut positions = [0, 5000, 10_000, 23_999];
                let mut out = vec![0i32; n];
                decode_lanes(kernels, &greedy, &single, &body, &mut positions, &mut out);
            }
        }
    }

    #[test]
    fn entries_hold_up_to_three_elements_that_fit() {
        // Token 0 has the code `0`: twelve zero bits are three lookups' worth of zeros at most.
        let single = unary_table(Alphabet::SmallExact, &[0, 1, 2, 3, 20]);
        let (multi, _) = multi_entries(&single);
        assert_eq!(multi[0] & 63, 3);
        assert_eq!((multi[0] >> 6) & 3, 2);
        // `1 0 | 1 1 0 | 0 ...`: tokens 1, 2, 0 (value 1, 2, 0).
        let bits = 0b00_1101;
        assert_eq!(multi[bits] & 63, 6);
        assert_eq!(((multi[bits] >> 6) & 3, (multi[bits] >> 8) & 15, (multi[bits] >> 12) & 15), (2, 2, 0));
        // Token 20 has raw bits: an entry beginning with it holds it alone.
        let long = 0b1111;
        assert_eq!(multi[long], single[long]);
    }
}
