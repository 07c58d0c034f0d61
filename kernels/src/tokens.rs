//! Splitting residuals into an entropy-coded token and raw low bits.
//!
//! A residual `r` maps to `u = zigzag(r)` of bit width `w`. Its token (0..=63) is `w` for
//! `w < 2`, and otherwise `2w - 2 + b`, where `b` is the bit just below the top one. The `w - 2`
//! bits below `b` are stored raw. Splitting off that second bit brings the order-0 cost within a
//! few hundredths of a bit of the residuals' entropy on smooth distributions.

use crate::bits::{bit_width, zigzag_encode};
use std::marker::PhantomData;

use crate::dispatch::{simd_op, Kernels};

/// Number of distinct tokens.
pub const TOKEN_COUNT: usize = 64;

/// The token of one residual.
#[inline(always)]
pub fn token_of(residual: i32) -> u8 {
    let u = zigzag_encode(residual);
    let w = bit_width(u);
    if w < 2 {
        w as u8
    } else {
        (2 * w - 2 + ((u >> (w - 2)) & 1)) as u8
    }
}

/// Number of raw bits that follow a token.
#[inline(always)]
pub fn raw_bits_of_token(token: u8) -> u32 {
    (u32::from(token) / 2).saturating_sub(1)
}

/// The zigzag value of a residual whose token is `token` and raw bits `raw`.
#[inline(always)]
pub const fn value_of(token: u8, raw: u32) -> u32 {
    let token = token as u32;
    if token < 2 {
        token
    } else {
        let w = token / 2 + 1;
        let b = token & 1;
        (1 << (w - 1)) | (b << (w - 2)) | raw
    }
}

/// Scalar reference: tokens of all residuals, and the total count of raw bits.
#[inline(always)]
pub fn tokens_scalar(residuals: &[i32], tokens: &mut [u8]) -> u64 {
    assert_eq!(residuals.len(), tokens.len());
    let mut raw = 0u64;
    for (t, &r) in tokens.iter_mut().zip(residuals) {
        *t = token_of(r);
        raw += u64::from(raw_bits_of_token(*t));
    }
    raw
}

/// The dispatched [`tokens_scalar`].
pub fn tokens(kernels: Kernels, residuals: &[i32], tokens: &mut [u8]) -> u64 {
    simd_op!(Op<'a> { residuals: &'a [i32], tokens: &'a mut [u8] } -> u64 => tokens_scalar(residuals, tokens));
    kernels.run(Op { residuals, tokens, _borrows: PhantomData })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bits::zigzag_decode;

    #[test]
    fn every_width_round_trips_through_token_and_raw_bits() {
        let mut residuals = vec![0, 1, -1, 2, -2, 3, -3, i32::MAX, i32::MIN];
        for w in 0..32 {
            let base = 1i64 << w;
            for v in [base, base + 1, 2 * base - 1, base + base / 2] {
                if let Ok(v) = i32::try_from(v) {
                    residuals.extend([v, -v]);
                }
            }
        }
        for &r in &residuals {
            let t = token_of(r);
            assert!((t as usize) < TOKEN_COUNT);
            let u = zigzag_encode(r);
            let raw_len = raw_bits_of_token(t);
            let raw = u & ((1u64 << raw_len) - 1) as u32;
            assert_eq!(zigzag_decode(value_of(t, raw)), r, "residual {r} token {t}");
        }
    }

    #[test]
    fn dispatched_tokens_match_the_reference_with_ragged_tails() {
        let residuals: Vec<i32> = (0..1031).map(|i: i32| i.wrapping_mul(2_654_435_761u32 as i32) >> (i % 31)).collect();
        for len in [0, 1, 15, 16, 17, 63, 64, 65, residuals.len()] {
            let (mut a, mut b) = (vec![0u8; len], vec![0u8; len]);
            let ra = tokens_scalar(&residuals[..len], &mut a);
            let rb = tokens(Kernels::detect(), &residuals[..len], &mut b);
            assert_eq!((ra, a), (rb, b), "len {len}");
        }
    }
}
