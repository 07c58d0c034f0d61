//! f16 and bf16 tensors go through the codec as f32.
//!
//! Widening is exact. Narrowing a decoded value is exact too: the codec returns `k * 2^tick_power`
//! within half a tick of a value `x` that the narrow type holds. If the tick is at most `x`'s ulp,
//! `k * tick` is `x` itself; otherwise it is a multiple of a power of two at least `x`'s ulp and at
//! most half a tick beyond `x`, which the narrow type holds unless it passes the type's largest
//! finite value, and clamping it there only moves it closer to `x`. So the bound survives narrowing.
//! NaN payloads are moved by hand, because conversion routines may set the quiet bit.

use half::{bf16, f16};

const F32_SIGN: u32 = 0x8000_0000;
const F32_EXPONENT: u32 = 0x7f80_0000;
const F32_MANTISSA: u32 = 0x007f_ffff;

/// Widens f16 bit patterns to f32, exactly, NaN payloads included.
pub fn f16_to_f32(bits: &[u16]) -> Vec<f32> {
    bits.iter()
        .map(|&b| {
            let value = f16::from_bits(b);
            if value.is_nan() {
                let sign = u32::from(b & 0x8000) << 16;
                let payload = u32::from(b & 0x03ff) << 13;
                f32::from_bits(sign | F32_EXPONENT | payload)
            } else {
                value.to_f32()
            }
        })
        .collect()
}

/// Narrows decoded f32 values to f16 bit patterns (see the module note for why it is exact).
pub fn f32_to_f16(values: &[f32]) -> Vec<u16> {
    values
        .iter()
        .map(|&v| {
            if v.is_nan() {
                let bits = v.to_bits();
                let sign = ((bits & F32_SIGN) >> 16) as u16;
                let payload = ((bits & F32_MANTISSA) >> 13) as u16;
                // A NaN whose payload lives only in the low bits would become infinity.
                sign | 0x7c00 | if payload == 0 { 0x0200 } else { payload }
            } else {
                let narrow = f16::from_f32(v);
                if narrow.is_infinite() && v.is_finite() {
                    if v < 0.0 { f16::MIN } else { f16::MAX }.to_bits()
                } else {
                    narrow.to_bits()
                }
            }
        })
        .collect()
}

/// Widens bf16 bit patterns to f32 (a bf16 is the top half of an f32), exactly.
pub fn bf16_to_f32(bits: &[u16]) -> Vec<f32> {
    bits.iter().map(|&b| f32::from_bits(u32::from(b) << 16)).collect()
}

/// Narrows decoded f32 values to bf16 bit patterns (see the module note for why it is exact).
pub fn f32_to_bf16(values: &[f32]) -> Vec<u16> {
    values
        .iter()
        .map(|&v| {
            if v.is_nan() {
                let top = (v.to_bits() >> 16) as u16;
                if top & 0x007f == 0 {
                    top | 0x0040
                } else {
                    top
                }
            } else {
                let narrow = bf16::from_f32(v);
                if narrow.is_infinite() && v.is_finite() {
                    if v < 0.0 { bf16::MIN } else { bf16::MAX }.to_bits()
                } else {
                    narrow.to_bits()
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_f16_pattern_survives_widening_and_narrowing() {
        let all: Vec<u16> = (0..=u16::MAX).collect();
        assert_eq!(f32_to_f16(&f16_to_f32(&all)), all);
    }

    #[test]
    fn every_bf16_pattern_survives_widening_and_narrowing() {
        let all: Vec<u16> = (0..=u16::MAX).collect();
        assert_eq!(f32_to_bf16(&bf16_to_f32(&all)), all);
    }

    #[test]
    fn values_past_the_largest_finite_clamp_instead_of_overflowing() {
        assert_eq!(f32_to_f16(&[65536.0, -65536.0]), vec![f16::MAX.to_bits(), f16::MIN.to_bits()]);
        assert_eq!(f32_to_f16(&[f32::INFINITY]), vec![f16::INFINITY.to_bits()]);
        let beyond = f32::from_bits(bf16::MAX.to_bits() as u32 * 65536 + 0xffff);
        assert_eq!(f32_to_bf16(&[beyond]), vec![bf16::MAX.to_bits()]);
    }

    /// Quantizes every finite pattern of a 16-bit float type at several ticks, as the codec does,
    /// and checks that narrowing keeps the bound and is exact below the type's largest value.
    fn check_quantized_narrowing(widen: fn(&[u16]) -> Vec<f32>, narrow: fn(&[f32]) -> Vec<u16>, largest: f64) {
        for tick_power in [-30, -12, -4, 0, 3, 10, 16, 17, 120] {
            let tick = 2f64.powi(tick_power);
            for b in 0..=u16::MAX {
                let x = f64::from(widen(&[b])[0]);
                if !x.is_finite() {
                    continue;
                }
                let decoded = ((x / tick).round_ties_even() * tick) as f32;
                let narrowed = f64::from(widen(&narrow(&[decoded]))[0]);
                assert!((narrowed - x).abs() <= tick / 2.0, "{x} at 2^{tick_power} became {narrowed}");
                assert!(f64::from(decoded).abs() > largest || narrowed == f64::from(decoded));
            }
        }
    }

    #[test]
    fn quantized_f16_values_narrow_within_half_a_tick() {
        check_quantized_narrowing(f16_to_f32, f32_to_f16, 65504.0);
    }

    #[test]
    fn quantized_bf16_values_narrow_within_half_a_tick() {
        check_quantized_narrowing(bf16_to_f32, f32_to_bf16, f64::from(bf16::MAX.to_f32()));
    }
}
