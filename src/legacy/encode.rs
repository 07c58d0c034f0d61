//! The original's closed-loop encoder: predict each element from already *reconstructed*
//! neighbours in float32, store the difference in whole ticks.

use super::adaptive_writer::AdaptiveWriter;
use super::header::{MAGIC, MAX_AXES, TICK_POWER_RANGE};
use super::regression::{quantize_coefficients, regression_coefficients};
use super::rows::{for_each_row, Neighbour};
use crate::element::Element;
use crate::error::{Error, Result};

/// Encodes `data`, a C-order array of shape `dims` already converted to float32, into an
/// `L\x00` stream identical to what `lilcom.compress(data, tick_power, do_regression)` (1.8.2)
/// returns. `data` is the caller's private copy: it ends up holding the reconstruction.
pub(crate) fn encode(mut data: Vec<f32>, dims: &[usize], tick_power: i32, do_regression: bool) -> Result<Vec<u8>> {
    check_arguments(&data, dims, tick_power)?;
    let coeffs =
        if do_regression { quantize_coefficients(&regression_coefficients(&data, dims)) } else { vec![0; dims.len()] };

    let mut writer = AdaptiveWriter::with_capacity(data.len() + 16);
    writer.write_signed(dims.len() as i32);
    writer.write_signed(tick_power);
    for (&dim, &coeff) in dims.iter().zip(&coeffs) {
        writer.write_signed(dim as i32);
        writer.write_signed(coeff);
    }

    // Trailing axes of length 1 are dropped before prediction, as the original does; that changes
    // the order of float additions, so it must be reproduced.
    let mut axes = dims.len();
    while axes > 1 && dims[axes - 1] == 1 {
        axes -= 1;
    }
    let dims = &dims[..axes];
    let coeffs: Vec<f32> = coeffs[..axes].iter().map(|&k| k as f32 * (1.0 / 256.0)).collect();
    let tick = f32::pow2(tick_power);
    let inv_tick = f32::pow2(-tick_power);
    let along_row = coeffs[axes - 1];
    let row_len = dims[axes - 1];

    for_each_row::<()>(dims, &coeffs, |start, neighbours| {
        let (done, rest) = data.split_at_mut(start);
        let row = &mut rest[..row_len];
        let mut carried = 0.0f32;
        for (j, element) in row.iter_mut().enumerate() {
            let predicted = predict(carried, neighbours, done, start + j);
            let offset = *element - predicted;
            let code = quantize(offset, tick, inv_tick);
            writer.write_signed(code);
            let reconstructed = predicted + code as f32 * tick;
            *element = reconstructed;
            carried = reconstructed * along_row;
        }
        Ok(())
    })
    .expect("encoding rows cannot fail");

    let stream = writer.finish();
    let mut out = Vec::with_capacity(MAGIC.len() + stream.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&stream);
    Ok(out)
}

/// The prediction for element `at`: the carried term along the row plus each neighbour's term,
/// added in the original's order.
#[inline(always)]
fn predict(carried: f32, neighbours: &[Neighbour], done: &[f32], at: usize) -> f32 {
    let mut predicted = carried;
    for n in neighbours {
        predicted += done[at - n.stride] * n.coeff;
    }
    predicted
}

/// The original's `round(offset * inv_tick)` into int32, with its handling of codes that do not
/// fit: x86's conversion gives `i32::MIN` for them, and the original then pins values beyond
/// the int32 range to its ends.
#[inline(always)]
fn quantize(offset: f32, tick: f32, inv_tick: f32) -> i32 {
    let scaled = offset * inv_tick;
    let mut code = round_half_away_to_i32(scaled);
    if (offset - code as f32 * tick).abs() > tick {
        if scaled < i32::MIN as f32 {
            code = i32::MIN;
        } else if scaled > i32::MAX as f32 {
            code = i32::MAX;
        }
    }
    code
}

/// C's `round()` followed by x86's float-to-int32 conversion, which gives `i32::MIN` for NaN
/// and for results outside the int32 range. Written without `f32::round`, which is a libm call
/// on baseline x86-64.
#[inline(always)]
fn round_half_away_to_i32(x: f32) -> i32 {
    if x.abs() < 2_147_483_648.0 {
        let truncated = x as i32;
        // Exact: below 2^23 the fraction is representable, above it `x` is an integer.
        let fraction = x - truncated as f32;
        truncated + (fraction >= 0.5) as i32 - (fraction <= -0.5) as i32
    } else {
        i32::MIN
    }
}

fn check_arguments(data: &[f32], dims: &[usize], tick_power: i32) -> Result<()> {
    if dims.is_empty() || dims.len() > MAX_AXES {
        return Err(Error::invalid_argument(format!(
            "the L\\x00 format holds arrays of 1 to {MAX_AXES} axes; this one has {}",
            dims.len()
        )));
    }
    if let Some(axis) = dims.iter().position(|&d| d == 0) {
        return Err(Error::invalid_argument(format!(
            "the L\\x00 format cannot hold empty arrays (axis {axis} of shape {dims:?} has length 0)"
        )));
    }
    if let Some(axis) = dims.iter().position(|&d| d > i32::MAX as usize) {
        return Err(Error::invalid_argument(format!(
            "the L\\x00 format holds axis lengths up to {}; axis {axis} has {}",
            i32::MAX,
            dims[axis]
        )));
    }
    if !TICK_POWER_RANGE.contains(&tick_power) {
        return Err(Error::invalid_argument(format!(
            "the L\\x00 format takes tick_power from -20 to 20; got {tick_power}"
        )));
    }
    if let Some(at) = data.iter().position(|x| !x.is_finite()) {
        return Err(Error::invalid_argument(format!(
            "the L\\x00 format cannot store NaN or infinity (element {at} in C order is {})",
            data[at]
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_matches_libm_round_on_hard_cases() {
        let below_half = f32::from_bits(0.5f32.to_bits() - 1);
        let cases =
            [0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, below_half, -below_half, 8_388_607.5, 8_388_609.0, 2.0e9, -2.0e9];
        for x in cases {
            assert_eq!(round_half_away_to_i32(x), x.round() as i32, "{x}");
        }
        for bits in (0..u32::MAX).step_by(9973) {
            let x = f32::from_bits(bits);
            let want = if x.round().abs() < 2_147_483_648.0 { x.round() as i32 } else { i32::MIN };
            assert_eq!(round_half_away_to_i32(x), want, "{x}");
        }
        assert_eq!(round_half_away_to_i32(f32::NAN), i32::MIN);
        assert_eq!(round_half_away_to_i32(-2_147_483_648.0), i32::MIN);
    }

    #[test]
    fn quantize_rounds_half_away_and_pins_out_of_range() {
        assert_eq!(quantize(0.5, 1.0, 1.0), 1);
        assert_eq!(quantize(-0.5, 1.0, 1.0), -1);
        assert_eq!(quantize(1e10, 1.0, 1.0), i32::MAX);
        assert_eq!(quantize(-1e10, 1.0, 1.0), i32::MIN);
        // Exactly 2^31 converts to i32::MIN on x86 and is not pinned by the original's check.
        assert_eq!(quantize(2_147_483_648.0, 1.0, 1.0), i32::MIN);
    }
}
