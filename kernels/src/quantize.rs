//! Quantization: `code = round_half_even(x * 2^-tick_power)`, and its inverse.
//!
//! Scaling by a power of two is exact for normal results, so the only rounding is to the integer,
//! and each element's error is at most half a tick. Elements that are not finite or whose scaled
//! magnitude reaches [`CODE_LIMIT`] get code 0 and are reported as exceptions, to be stored
//! verbatim by the caller.

use std::marker::PhantomData;

use crate::dispatch::{simd_op, Kernels};

/// Scaled magnitudes at or above this are exceptions, so that codes and their differences along
/// up to three axes stay far from `i32` overflow in the common case (differences wrap anyway).
pub const CODE_LIMIT: f64 = (1u64 << 30) as f64;

macro_rules! quantize_kernels {
    ($float:ty, $is_regular:ident, $scalar_fn:ident, $fn:ident, $deq_scalar:ident, $deq:ident) => {
        /// True when `x` quantizes to a code (it is finite and its scaled magnitude is below
        /// [`CODE_LIMIT`]); false for exceptions. The kernels use exactly this test.
        #[inline(always)]
        pub fn $is_regular(x: $float, inv_tick: $float) -> bool {
            (x * inv_tick).abs() < CODE_LIMIT as $float
        }

        /// Scalar reference: writes each element's code and returns how many are exceptions.
        #[inline(always)]
        pub fn $scalar_fn(values: &[$float], inv_tick: $float, codes: &mut [i32]) -> usize {
            assert_eq!(values.len(), codes.len());
            // Exceptions become 0.0 before the conversion, so every converted value is an
            // integer below 2^30 in magnitude; and they are counted per chunk in 32 bits. Both
            // keep the loop in vector registers (a saturating conversion of arbitrary values and
            // a 64-bit count made the compiler fall back to one element at a time).
            let mut exceptions = 0usize;
            for (codes, values) in codes.chunks_mut(1 << 16).zip(values.chunks(1 << 16)) {
                let mut in_chunk = 0u32;
                for (code, &x) in codes.iter_mut().zip(values) {
                    let scaled = x * inv_tick;
                    let regular = scaled.abs() < CODE_LIMIT as $float;
                    let rounded = if regular { scaled.round_ties_even() } else { 0.0 };
                    // SAFETY: `rounded` is finite and below 2^30 in magnitude (or 0.0), so it
                    // fits an i32.
                    *code = unsafe { rounded.to_int_unchecked::<i32>() };
                    in_chunk += u32::from(!regular);
                }
                exceptions += in_chunk as usize;
            }
            exceptions
        }

        /// The dispatched kernel; identical results to the scalar reference.
        pub fn $fn(kernels: Kernels, values: &[$float], inv_tick: $float, codes: &mut [i32]) -> usize {
            simd_op!(Op<'a> { values: &'a [$float], inv_tick: $float, codes: &'a mut [i32] } -> usize
                => $scalar_fn(values, inv_tick, codes));
            kernels.run(Op { values, inv_tick, codes, _borrows: PhantomData })
        }

        /// Scalar reference: `value = code * tick`, exact for codes that came from
        /// quantization.
        #[inline(always)]
        pub fn $deq_scalar(codes: &[i32], tick: $float, values: &mut [$float]) {
            assert_eq!(values.len(), codes.len());
            for (x, &code) in values.iter_mut().zip(codes) {
                *x = code as $float * tick;
            }
        }

        /// The dispatched kernel; identical results to the scalar reference.
        pub fn $deq(kernels: Kernels, codes: &[i32], tick: $float, values: &mut [$float]) {
            simd_op!(Op<'a> { codes: &'a [i32], tick: $float, values: &'a mut [$float] } -> ()
                => $deq_scalar(codes, tick, values));
            kernels.run(Op { codes, tick, values, _borrows: PhantomData })
        }
    };
}

/// Scalar reference: each element's bits, read as an `i32` code, become `code * tick`; decoders
/// that write codes straight into the output then need no buffer of their own.
#[inline(always)]
pub fn dequantize_f32_in_place_scalar(values: &mut [f32], tick: f32) {
    for x in values.iter_mut() {
        *x = (x.to_bits() as i32) as f32 * tick;
    }
}

/// The dispatched [`dequantize_f32_in_place_scalar`].
pub fn dequantize_f32_in_place(kernels: Kernels, values: &mut [f32], tick: f32) {
    simd_op!(Op<'a> { values: &'a mut [f32], tick: f32 } -> () => dequantize_f32_in_place_scalar(values, tick));
    kernels.run(Op { values, tick, _borrows: PhantomData })
}

quantize_kernels!(f32, is_regular_f32, quantize_f32_scalar, quantize_f32, dequantize_f32_scalar, dequantize_f32);
quantize_kernels!(f64, is_regular_f64, quantize_f64_scalar, quantize_f64, dequantize_f64_scalar, dequantize_f64);

#[cfg(test)]
mod tests {
    use super::*;

    fn awkward_f32() -> Vec<f32> {
        let mut v: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.37 + 0.5).collect();
        v.extend([0.5, 1.5, 2.5, -0.5, -1.5, f32::NAN, f32::INFINITY, -f32::INFINITY, -0.0, 1e-45, 3.0e38]);
        v.extend((0..37).map(|i| (i as f32) * 1.0e7));
        v
    }

    #[test]
    fn dispatched_quantize_matches_the_scalar_reference_with_ragged_tails() {
        let values = awkward_f32();
        for len in [0, 1, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, values.len()] {
            for tick_power in [-10, -1, 0, 3] {
                let inv = 2f32.powi(-tick_power);
                let (mut a, mut b) = (vec![7; len], vec![9; len]);
                let na = quantize_f32_scalar(&values[..len], inv, &mut a);
                let nb = quantize_f32(Kernels::detect(), &values[..len], inv, &mut b);
                assert_eq!((na, &a), (nb, &b), "len {len} tick {tick_power}");
            }
        }
    }

    #[test]
    fn quantization_error_is_at_most_half_a_tick_and_exceptions_are_counted() {
        let values = awkward_f32();
        let tick = 2f32.powi(-6);
        let mut codes = vec![0; values.len()];
        let n = quantize_f32(Kernels::detect(), &values, 1.0 / tick, &mut codes);
        let mut back = vec![0.0; values.len()];
        dequantize_f32(Kernels::detect(), &codes, tick, &mut back);
        let mut exceptions = 0;
        for (&x, &y) in values.iter().zip(&back) {
            if (x / tick).abs() < CODE_LIMIT as f32 {
                assert!((x - y).abs() <= tick / 2.0, "{x} -> {y}");
            } else {
                exceptions += 1;
            }
        }
        assert_eq!(n, exceptions);
        assert!(n >= 4);
    }

    #[test]
    fn in_place_dequantization_matches_the_out_of_place_one_on_both_paths() {
        let codes: Vec<i32> = (0..1031).map(|i: i32| i.wrapping_mul(2_654_435_761u32 as i32) >> (i % 31)).collect();
        for len in [0, 1, 15, 16, 17, 63, 64, 65, codes.len()] {
            let tick = 2f32.powi(-7);
            let mut expected = vec![0.0f32; len];
            dequantize_f32_scalar(&codes[..len], tick, &mut expected);
            for kernels in [Kernels::detect(), Kernels::scalar()] {
                let mut slots: Vec<f32> = codes[..len].iter().map(|&c| f32::from_bits(c as u32)).collect();
                dequantize_f32_in_place(kernels, &mut slots, tick);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&slots), bits(&expected), "len {len}, {}", kernels.instruction_set());
            }
        }
    }

    #[test]
    fn f64_kernels_match_their_reference() {
        let values: Vec<f64> = (0..999).map(|i| (i as f64 * 0.731).sin() * 1.0e3).chain([f64::NAN, 1e300]).collect();
        let (mut a, mut b) = (vec![0; values.len()], vec![0; values.len()]);
        assert_eq!(
            quantize_f64_scalar(&values, 256.0, &mut a),
            quantize_f64(Kernels::detect(), &values, 256.0, &mut b)
        );
        assert_eq!(a, b);
        let (mut x, mut y) = (vec![0.0; a.len()], vec![0.0; a.len()]);
        dequantize_f64_scalar(&a, 1.0 / 256.0, &mut x);
        dequantize_f64(Kernels::detect(), &a, 1.0 / 256.0, &mut y);
        assert_eq!(
            x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            y.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
}
