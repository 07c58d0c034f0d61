//! Splitting residuals into an entropy-coded token and raw low bits.
//!
//! A residual `r` maps to `u = zigzag(r)`, of bit width `w`. The token alphabet (64 tokens) of
//! format minor version 3 on, [`Alphabet::SmallExact`]:
//!
//! - `u < 16`: the token is `u`, with no raw bits;
//! - `5 <= w <= 24`: the token is `16 + 2(w - 5) + b`, where `b` is the bit just below the top
//!   one, and the `w - 2` bits below `b` follow raw;
//! - `w >= 25`: the token is `56 + (w - 25)`, and the `w - 1` bits below the top one follow raw.
//!
//! Before minor version 3, [`Alphabet::Widths`]: the token is `w` for `w < 2`, else `2w - 2 + b`,
//! with the `w - 2` bits below `b` raw.
//!
//! Splitting off the second bit brings the order-0 cost within a few hundredths of a bit of the
//! residuals' entropy on wide distributions. Raw bits cost a full bit each, and for the smallest
//! magnitudes the values a token would pair (`+m` and `-(m+1)`) are far from equally likely, so
//! the values below 16 get tokens of their own: narrow residuals, where that matters most, then
//! cost 0.04 to 0.07 bits fewer per element (`docs/format.md`).

use crate::bits::{bit_width, zigzag_encode};
use std::marker::PhantomData;

use crate::dispatch::{simd_op, Kernels};

/// Number of distinct tokens in either alphabet.
pub const TOKEN_COUNT: usize = 64;

/// Which meaning tokens have in a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alphabet {
    /// Format minor versions 0 to 2: width and one more bit.
    Widths,
    /// Format minor version 3 on: values below 16 exactly, then width and one more bit.
    SmallExact,
}

/// Values below this are their own tokens in [`Alphabet::SmallExact`].
const EXACT_BELOW: u32 = 16;
/// The first token of [`Alphabet::SmallExact`] that keeps no bit besides the width.
const WIDTH_ONLY_FROM: u32 = 56;
/// The narrowest width with a [`WIDTH_ONLY_FROM`] token.
const WIDTH_ONLY_WIDTH: u32 = 25;

/// The token (of [`Alphabet::SmallExact`], the one writers use) of one residual.
#[inline(always)]
pub fn token_of(residual: i32) -> u8 {
    token_and_raw_bits(residual).0
}

/// The token of one residual and the count of raw bits after it, computed from the width alone
/// and without branches, so that the tokens kernel vectorizes.
#[inline(always)]
fn token_and_raw_bits(residual: i32) -> (u8, u32) {
    let u = zigzag_encode(residual);
    let w = bit_width(u);
    // The bit below the top one; any value for u < 2, which the first case covers.
    let b = (u >> w.saturating_sub(2)) & 1;
    if u < EXACT_BELOW {
        (u as u8, 0)
    } else if w < WIDTH_ONLY_WIDTH {
        ((EXACT_BELOW + 2 * (w - 5) + b) as u8, w - 2)
    } else {
        ((WIDTH_ONLY_FROM + w - WIDTH_ONLY_WIDTH) as u8, w - 1)
    }
}

/// Number of raw bits that follow a token (of [`Alphabet::SmallExact`]).
#[inline(always)]
pub fn raw_bits_of_token(token: u8) -> u32 {
    raw_bits(Alphabet::SmallExact, token)
}

/// Number of raw bits that follow `token` of `alphabet` (any `token` below [`TOKEN_COUNT`]).
#[inline(always)]
pub const fn raw_bits(alphabet: Alphabet, token: u8) -> u32 {
    let t = token as u32;
    match alphabet {
        Alphabet::Widths => {
            if t < 4 {
                0
            } else {
                t / 2 - 1
            }
        }
        Alphabet::SmallExact => {
            if t < EXACT_BELOW {
                0
            } else if t < WIDTH_ONLY_FROM {
                // Width w = 5 + (t - 16) / 2, raw bits w - 2.
                3 + (t - EXACT_BELOW) / 2
            } else {
                t - WIDTH_ONLY_FROM + WIDTH_ONLY_WIDTH - 1
            }
        }
    }
}

/// The zigzag value coded by `token` of `alphabet` and raw bits `raw`.
#[inline(always)]
pub const fn value_of(alphabet: Alphabet, token: u8, raw: u32) -> u32 {
    let t = token as u32;
    let top = match alphabet {
        Alphabet::Widths => {
            if t < 2 {
                return t;
            }
            let w = t / 2 + 1;
            (2 | (t & 1)) << (w - 2)
        }
        Alphabet::SmallExact => {
            if t < EXACT_BELOW {
                return t;
            }
            if t < WIDTH_ONLY_FROM {
                let w = 5 + (t - EXACT_BELOW) / 2;
                (2 | (t & 1)) << (w - 2)
            } else {
                1 << (t - WIDTH_ONLY_FROM + WIDTH_ONLY_WIDTH - 1)
            }
        }
    };
    top | raw
}

/// Scalar reference: the tokens of all `values` (residuals), each value replaced by its raw
/// bits (the low bits of its zigzag value that follow its token, as the lane writer takes
/// them), and the total count of raw bits. Doing this here, where it vectorizes, takes work off
/// the lane writer's serial chains.
#[inline(always)]
pub fn split_scalar(values: &mut [i32], tokens: &mut [u8]) -> u64 {
    assert_eq!(values.len(), tokens.len());
    let mut raw = 0u64;
    for (t, v) in tokens.iter_mut().zip(values.iter_mut()) {
        let (token, raw_bits) = token_and_raw_bits(*v);
        *t = token;
        *v = (zigzag_encode(*v) & ((1u32 << raw_bits) - 1)) as i32;
        raw += u64::from(raw_bits);
    }
    raw
}

/// The dispatched [`split_scalar`].
pub fn split(kernels: Kernels, values: &mut [i32], tokens: &mut [u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if kernels.has_vbmi() {
        // SAFETY: the CPU has AVX-512 F, BW, CD and VL (`has_vbmi`).
        return unsafe { avx512::split(values, tokens) };
    }
    simd_op!(Op<'a> { values: &'a mut [i32], tokens: &'a mut [u8] } -> u64 => split_scalar(values, tokens));
    kernels.run(Op { values, tokens, _borrows: PhantomData })
}

/// [`split_scalar`] sixteen residuals at a time on 512-bit registers, each residual's raw-bit
/// count and token offset looked up by its leading-zero count instead of [`token_and_raw_bits`]'
/// three cases. (Compiled from the scalar loop, it ran on 256-bit registers at about twice the
/// instructions per element.)
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512 {
    use super::*;
    use std::arch::x86_64::*;

    /// [`split_scalar`] on AVX-512.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F, BW, CD and VL.
    #[target_feature(enable = "avx512f,avx512bw,avx512cd,avx512vl")]
    pub(super) unsafe fn split(values: &mut [i32], tokens: &mut [u8]) -> u64 {
        assert_eq!(values.len(), tokens.len());
        let whole = values.len() / 64 * 64;
        let mut raw_total = _mm512_setzero_si512();
        // Sixty-four at a time, so that their tokens go out packed in one store: narrowing each
        // sixteen to bytes with their own store ran at a third of the speed on Zen 4.
        for (chunk, out) in values[..whole].chunks_exact_mut(64).zip(tokens[..whole].chunks_exact_mut(64)) {
            let mut token = [_mm512_setzero_si512(); 4];
            for (k, token) in token.iter_mut().enumerate() {
                // SAFETY: sixteen i32 from `16 * k`, inside the chunk of 64; read and written.
                let (v, raw) = unsafe { sixteen(_mm512_loadu_si512(chunk[16 * k..].as_ptr().cast())) };
                // SAFETY: as above.
                unsafe { _mm512_storeu_si512(chunk[16 * k..].as_mut_ptr().cast(), v) };
                *token = raw.0;
                raw_total = _mm512_add_epi64(raw_total, _mm512_sad_epu8(raw.1, _mm512_setzero_si512()));
            }
            // SAFETY: 64 bytes, the whole of `out`.
            unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), packed_bytes(token)) };
        }
        _mm512_reduce_add_epi64(raw_total) as u64 + split_scalar(&mut values[whole..], &mut tokens[whole..])
    }

    /// Sixty-four tokens (each below 64, in 32-bit lanes) as 64 bytes in order.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(crate) fn packed_bytes(token: [__m512i; 4]) -> __m512i {
        // The saturating packs keep them, interleaved by 128-bit lanes; the permute undoes that.
        let order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        let bytes =
            _mm512_packus_epi16(_mm512_packus_epi32(token[0], token[1]), _mm512_packus_epi32(token[2], token[3]));
        _mm512_permutexvar_epi32(order, bytes)
    }

    /// Per leading-zero count of `u | 1` (so that 0 counts as 1, both of width 0 or 1): the
    /// raw-bit count of [`token_and_raw_bits`], what the token adds to `u` shifted right by that
    /// count (the value's top bits: `u` itself below 16, its top two bits up to width 24, its
    /// top bit from width 25), and the mask of the raw bits.
    const RAW_BITS_OFFSETS_MASKS: [[i32; 32]; 3] = {
        let (mut raw, mut offset, mut mask) = ([0i32; 32], [0i32; 32], [0i32; 32]);
        let mut zeros = 0;
        while zeros < 32 {
            let width = 32 - zeros as u32;
            let (r, o) = if width < 5 {
                (0, 0)
            } else if width < WIDTH_ONLY_WIDTH {
                // Top two bits 2 + b: token 16 + 2 (w - 5) + b.
                (width - 2, EXACT_BELOW + 2 * (width - 5) - 2)
            } else {
                // Top bit 1: token 56 + w - 25.
                (width - 1, WIDTH_ONLY_FROM + width - WIDTH_ONLY_WIDTH - 1)
            };
            raw[zeros] = r as i32;
            offset[zeros] = o as i32;
            mask[zeros] = ((1u32 << r) - 1) as i32;
            zeros += 1;
        }
        [raw, offset, mask]
    };

    /// The raw bits of sixteen residuals, and their tokens and raw-bit counts: each token is
    /// its value's top bits plus an offset, and the raw bits are under a mask, all three given
    /// by the value's width, looked up. (A mask made by shifting by the raw-bit count cost a
    /// compare more: LLVM guards variable shifts whose count may pass 31.)
    ///
    /// # Safety
    /// The CPU must have AVX-512 F and CD.
    #[inline(always)]
    pub(crate) unsafe fn sixteen(v: __m512i) -> (__m512i, (__m512i, __m512i)) {
        let [raw, offset, mask] = &RAW_BITS_OFFSETS_MASKS;
        let table = |t: &[i32; 32], k: usize| {
            // SAFETY: sixteen of the table's 32 entries, from 0 or 16.
            unsafe { _mm512_loadu_si512(t[16 * k..].as_ptr().cast()) }
        };
        let look_up = |t: &[i32; 32], zeros: __m512i| _mm512_permutex2var_epi32(table(t, 0), zeros, table(t, 1));
        let u = _mm512_xor_si512(_mm512_add_epi32(v, v), _mm512_srai_epi32::<31>(v));
        let zeros = _mm512_lzcnt_epi32(_mm512_or_si512(u, _mm512_set1_epi32(1)));
        let raw_bits = look_up(raw, zeros);
        let token = _mm512_add_epi32(_mm512_srlv_epi32(u, raw_bits), look_up(offset, zeros));
        let low = _mm512_and_si512(u, look_up(mask, zeros));
        (low, (token, raw_bits))
    }
}

/// Which tokens occur in `tokens`: bit `t % 64` is set when token `t` does. Eight masks are kept
/// apart so that the compiler can give each a vector lane.
#[inline(always)]
pub fn presence_scalar(tokens: &[u8]) -> u64 {
    const _: () = assert!(TOKEN_COUNT == 64, "one bit per token in a u64");
    let mut masks = [0u64; 8];
    let mut octets = tokens.chunks_exact(8);
    for octet in &mut octets {
        for (mask, &t) in masks.iter_mut().zip(octet) {
            *mask |= 1 << (t % 64);
        }
    }
    for &t in octets.remainder() {
        masks[0] |= 1 << (t % 64);
    }
    masks.iter().fold(0, |all, mask| all | mask)
}

/// The dispatched [`presence_scalar`].
pub fn presence(kernels: Kernels, tokens: &[u8]) -> u64 {
    simd_op!(Op<'a> { tokens: &'a [u8] } -> u64 => presence_scalar(tokens));
    kernels.run(Op { tokens, _borrows: PhantomData })
}

/// How often each token occurs in `tokens` (taken modulo [`TOKEN_COUNT`]), counted in four
/// interleaved tables so that a run of one token does not make every increment wait for the one
/// before.
#[inline(always)]
pub fn histogram(tokens: &[u8]) -> [u32; TOKEN_COUNT] {
    let mut partial = [[0u32; TOKEN_COUNT]; 4];
    count_into(&mut partial, tokens);
    sum_partial(&partial)
}

/// Adds the occurrences of each token in `tokens` (modulo [`TOKEN_COUNT`]) to four interleaved
/// tables, as [`histogram`] does; to count many short runs without summing tables after each.
#[inline(always)]
pub fn count_into(partial: &mut [[u32; TOKEN_COUNT]; 4], tokens: &[u8]) {
    let mut quads = tokens.chunks_exact(4);
    for quad in &mut quads {
        for (counts, &t) in partial.iter_mut().zip(quad) {
            counts[usize::from(t) % TOKEN_COUNT] += 1;
        }
    }
    for &t in quads.remainder() {
        partial[0][usize::from(t) % TOKEN_COUNT] += 1;
    }
}

/// The four tables of [`count_into`] summed.
#[inline(always)]
pub fn sum_partial(partial: &[[u32; TOKEN_COUNT]; 4]) -> [u32; TOKEN_COUNT] {
    std::array::from_fn(|t| partial.iter().map(|counts| counts[t]).sum())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bits::zigzag_decode;

    fn residuals() -> Vec<i32> {
        let mut residuals = vec![0, 1, -1, 2, -2, 3, -3, 7, -7, 8, -8, i32::MAX, i32::MIN];
        for w in 0..32 {
            let base = 1i64 << w;
            for v in [base - 1, base, base + 1, 2 * base - 1, base + base / 2] {
                if let Ok(v) = i32::try_from(v) {
                    residuals.extend([v, -v]);
                }
            }
        }
        residuals
    }

    /// The older alphabet's token, as its definition states it.
    fn widths_token(r: i32) -> u8 {
        let u = zigzag_encode(r);
        let w = bit_width(u);
        if w < 2 {
            w as u8
        } else {
            (2 * w - 2 + ((u >> (w - 2)) & 1)) as u8
        }
    }

    #[test]
    fn every_width_round_trips_through_token_and_raw_bits_in_both_alphabets() {
        for &r in &residuals() {
            let u = zigzag_encode(r);
            for (alphabet, t) in [(Alphabet::SmallExact, token_of(r)), (Alphabet::Widths, widths_token(r))] {
                assert!((t as usize) < TOKEN_COUNT);
                let raw_len = raw_bits(alphabet, t);
                let raw = u & ((1u64 << raw_len) - 1) as u32;
                assert_eq!(value_of(alphabet, t, 0) & raw, 0, "raw bits overlap the token's value");
                assert_eq!(zigzag_decode(value_of(alphabet, t, raw)), r, "{alphabet:?} residual {r} token {t}");
            }
        }
    }

    #[test]
    fn small_values_have_tokens_of_their_own_and_every_token_is_used() {
        for u in 0..16u32 {
            assert_eq!(token_of(zigzag_decode(u)), u as u8);
            assert_eq!(raw_bits_of_token(u as u8), 0);
        }
        let mut seen = [false; TOKEN_COUNT];
        for &r in &residuals() {
            let (token, raw) = token_and_raw_bits(r);
            assert_eq!(raw, raw_bits_of_token(token), "residual {r}");
            seen[usize::from(token)] = true;
        }
        assert!(seen.iter().all(|&s| s), "unused tokens: {seen:?}");
        assert_eq!(token_of(i32::MIN), 63);
        assert_eq!(raw_bits_of_token(63), 31);
    }

    #[test]
    fn split_gives_the_tokens_and_the_raw_bits_that_value_of_takes() {
        let mut values = residuals();
        values.extend((0..1031).map(|i: i32| i.wrapping_mul(2_654_435_761u32 as i32) >> (i % 31)));
        for len in [0, 1, 15, 16, 17, 63, 64, 65, values.len()] {
            let mut outputs = Vec::new();
            for kernels in [Kernels::detect(), Kernels::scalar()] {
                let mut raw = values[..len].to_vec();
                let mut toks = vec![0u8; len];
                let raw_total = split(kernels, &mut raw, &mut toks);
                let expected: Vec<(u8, u32)> = values[..len].iter().map(|&v| token_and_raw_bits(v)).collect();
                assert_eq!(raw_total, expected.iter().map(|&(_, r)| u64::from(r)).sum::<u64>());
                assert_eq!(toks, expected.iter().map(|&(t, _)| t).collect::<Vec<u8>>());
                for ((&r, &t), &v) in raw.iter().zip(&toks).zip(&values) {
                    assert!((r as u32) < 1 << raw_bits_of_token(t), "raw bits {r:#x} wider than token {t} allows");
                    assert_eq!(zigzag_decode(value_of(Alphabet::SmallExact, t, r as u32)), v);
                }
                outputs.push((raw, toks));
            }
            assert_eq!(outputs[0], outputs[1], "len {len}: dispatched and scalar differ");
        }
    }

    #[test]
    fn presence_marks_exactly_the_tokens_that_occur_on_both_paths() {
        let mut tokens: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 27) as u8).collect();
        tokens.extend([63, 0, 17]);
        for len in [0, 1, 7, 8, 9, 100, 4999, tokens.len()] {
            let part = &tokens[..len];
            let counts = histogram(part);
            let expected = (0..TOKEN_COUNT).filter(|&t| counts[t] > 0).fold(0u64, |m, t| m | 1 << t);
            assert_eq!(presence_scalar(part), expected, "len {len}");
            assert_eq!(presence(Kernels::detect(), part), expected, "len {len}");
        }
        // Tokens of 64 and up count modulo 64, as in the histogram.
        assert_eq!(presence_scalar(&[64 + 5, 200]), 1 << 5 | 1 << (200 % 64));
    }
}
