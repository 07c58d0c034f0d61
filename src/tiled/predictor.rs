//! A tile's predictor: what it is, how it is written, how the encoder picks it, and applying it
//! or its inverse to the codes.

use lilcom_kernels::difference::{self, Axes, Axis, Shape3};
use lilcom_kernels::interpolate::{self, Edges};
use lilcom_kernels::{tokens, Kernels};

use crate::error::{Error, Result};

/// Bytes a predictor takes in a tile.
pub(crate) const PREDICTOR_BYTES: usize = 4;

/// The predictor byte of [`Predictor::Interpolation`] with linear edges; quadratic edges add 1.
const INTERPOLATION_BIT: u8 = 0x20;

/// How a tile's codes are predicted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Predictor {
    /// Differences along a set of axes (none, one, two, or all three: Lorenzo).
    Differences(Axes),
    /// The previous code along one axis times `coeff / 256`, rounded.
    Scaled(Axis, i32),
    /// Level-by-level cubic interpolation over all three axes, with a rule for the edges (format
    /// minor version 1 for linear edges, 2 for quadratic ones).
    Interpolation(Edges),
}

impl Predictor {
    /// Replaces codes by residuals.
    pub(crate) fn apply(self, kernels: Kernels, codes: &mut [i32], view: Shape3) {
        match self {
            Predictor::Differences(axes) => difference::difference(kernels, codes, view, axes),
            Predictor::Scaled(axis, coeff) => difference::scaled_difference(kernels, codes, view, axis, coeff),
            Predictor::Interpolation(edges) => interpolate::interpolate_residuals(kernels, codes, view, edges),
        }
    }

    /// Replaces residuals by codes.
    pub(crate) fn invert(self, kernels: Kernels, codes: &mut [i32], view: Shape3) {
        match self {
            Predictor::Differences(axes) => difference::integrate(kernels, codes, view, axes),
            Predictor::Scaled(axis, coeff) => difference::scaled_integrate(kernels, codes, view, axis, coeff),
            Predictor::Interpolation(edges) => interpolate::interpolate_codes(kernels, codes, view, edges),
        }
    }

    /// [`Predictor::invert`], and where `f32_tick` is given and a kernel does both in one pass
    /// (the differences; interpolation on AVX-512, in most shapes), also each code `c` replaced
    /// by the float32 bits of `c as f32 * tick`; returns whether it did that.
    pub(crate) fn invert_then_dequantize(
        self,
        kernels: Kernels,
        codes: &mut [i32],
        view: Shape3,
        f32_tick: Option<f32>,
    ) -> bool {
        match (self, f32_tick) {
            (Predictor::Differences(axes), Some(tick)) => {
                difference::integrate_dequantize_f32(kernels, codes, view, axes, tick);
                true
            }
            (Predictor::Interpolation(edges), Some(tick)) => {
                interpolate::interpolate_codes_dequantize_f32(kernels, codes, view, edges, tick)
            }
            _ => {
                self.invert(kernels, codes, view);
                false
            }
        }
    }

    /// What the chooser multiplies this predictor's estimated bits by. The scaled predictor's
    /// inverse is a recurrence from one element to the next (several times slower to decode than
    /// differences), so it must save more than a trace of bits to be picked. On iid data its
    /// least-squares coefficient is near 0 and its bits within 0.01% of no prediction's.
    ///
    /// Interpolation is judged on a sample a few rows deep, which lacks the tile's coarse levels
    /// (rows 32 to 256 apart in a 500-row tile), whose residuals are the widest; on speech
    /// features its estimate came out up to 2% below Lorenzo's on tiles where it then cost 4-6%
    /// more (2 of the corpus's 22 lhotse-style chunks, 5% of their bytes). A 3% handicap picks
    /// Lorenzo there and changes no other choice on the corpus; where interpolation pays (the
    /// smooth field) it wins by 20% and more.
    fn cost_factor(self) -> f64 {
        match self {
            Predictor::Scaled(..) => 1.002,
            Predictor::Interpolation(_) => 1.03,
            _ => 1.0,
        }
    }

    /// The oldest minor version of the format that has this predictor.
    pub(crate) fn minor_version(self) -> u8 {
        match self {
            Predictor::Interpolation(Edges::Linear) => 1,
            Predictor::Interpolation(Edges::Quadratic) => 2,
            _ => 0,
        }
    }

    /// Four bytes: the difference axes (bits 0..3), the scaled axis (bits 3..5: 0 none,
    /// 1 outer, 2 middle, 3 inner) and interpolation (bit 5, with bit 0 for quadratic edges), a
    /// zero byte, then the coefficient as i16.
    pub(crate) fn write(self, out: &mut Vec<u8>) {
        let (byte, coeff) = match self {
            Predictor::Differences(axes) => (axes.0, 0i16),
            Predictor::Scaled(axis, coeff) => {
                let code = match axis {
                    Axis::Outer => 1u8,
                    Axis::Middle => 2,
                    Axis::Inner => 3,
                };
                (code << 3, coeff as i16)
            }
            Predictor::Interpolation(Edges::Linear) => (INTERPOLATION_BIT, 0),
            Predictor::Interpolation(Edges::Quadratic) => (INTERPOLATION_BIT | 1, 0),
        };
        out.extend_from_slice(&[byte, 0]);
        out.extend_from_slice(&coeff.to_le_bytes());
    }

    /// Reads what [`Predictor::write`] wrote in a stream of format minor version `minor`,
    /// rejecting values reserved in that version.
    pub(crate) fn read(bytes: [u8; PREDICTOR_BYTES], minor: u8) -> Result<Predictor> {
        let [byte, reserved, lo, hi] = bytes;
        let coeff = i32::from(i16::from_le_bytes([lo, hi]));
        if reserved == 0 && coeff == 0 {
            if byte == INTERPOLATION_BIT && minor >= 1 {
                return Ok(Predictor::Interpolation(Edges::Linear));
            }
            if byte == INTERPOLATION_BIT | 1 && minor >= 2 {
                return Ok(Predictor::Interpolation(Edges::Quadratic));
            }
        }
        if reserved != 0 || byte >> 5 != 0 {
            return Err(Error::corruption(format!("predictor bytes {bytes:02x?} use reserved values")));
        }
        let axes = Axes(byte & Axes::ALL.0);
        let scaled = match byte >> 3 {
            0 => None,
            1 => Some(Axis::Outer),
            2 => Some(Axis::Middle),
            _ => Some(Axis::Inner),
        };
        match scaled {
            None if coeff == 0 => Ok(Predictor::Differences(axes)),
            Some(axis) if axes == Axes::NONE && (-256..=256).contains(&coeff) => Ok(Predictor::Scaled(axis, coeff)),
            _ => Err(Error::corruption(format!("predictor bytes {bytes:02x?} are not a valid combination"))),
        }
    }
}

/// Picks the predictor with the smallest sum of residual bit widths on a corner of the tile:
/// every set of difference axes, and per axis the scaled predictor with its least-squares
/// coefficient. Reads only the codes in [`sample_regions`], so that the encoder can quantize
/// those first and the rest of the tile with the chosen predictor's differences.
pub(crate) fn choose(kernels: Kernels, codes: &[i32], view: Shape3) -> Predictor {
    let sample_shape = sample_shape(view);
    let Shape3 { outer, middle, inner } = sample_shape;
    let mut sample = Vec::with_capacity(sample_shape.len());
    for region in sample_regions(view) {
        sample.extend_from_slice(&codes[region]);
    }
    let long_enough = |axis: Axis| match axis {
        Axis::Outer => outer >= 2,
        Axis::Middle => middle >= 2,
        Axis::Inner => inner >= 2,
    };
    let mut candidates: Vec<Predictor> = (0..8u8)
        .map(Axes)
        .filter(|&axes| {
            (!axes.contains(Axes::OUTER) || long_enough(Axis::Outer))
                && (!axes.contains(Axes::MIDDLE) || long_enough(Axis::Middle))
                && (!axes.contains(Axes::INNER) || long_enough(Axis::Inner))
        })
        .map(Predictor::Differences)
        .collect();
    for axis in [Axis::Outer, Axis::Middle, Axis::Inner] {
        if long_enough(axis) {
            let coeff = least_squares_coefficient(&sample, sample_shape, axis);
            // 0 is no prediction and 256 a plain difference: both are candidates already.
            if coeff != 0 && coeff != 256 {
                candidates.push(Predictor::Scaled(axis, coeff));
            }
        }
    }
    candidates.extend([Edges::Quadratic, Edges::Linear].map(Predictor::Interpolation));
    let mut best = (f64::INFINITY, Predictor::Differences(Axes::NONE));
    let mut quadratic_cost = f64::INFINITY;
    let mut scratch = vec![0i32; sample.len()];
    let mut token_of = vec![0u8; sample.len()];
    for candidate in candidates {
        if candidate == Predictor::Interpolation(Edges::Linear) && quadratic_cost > LINEAR_EDGES_WITHIN * best.0 {
            continue;
        }
        scratch.copy_from_slice(&sample);
        candidate.apply(kernels, &mut scratch, sample_shape);
        let cost = coded_bits(kernels, &mut scratch, &mut token_of) * candidate.cost_factor();
        if candidate == Predictor::Interpolation(Edges::Quadratic) {
            quadratic_cost = cost;
        }
        if cost < best.0 {
            best = (cost, candidate);
        }
    }
    best.1
}

/// Interpolation with linear edges is judged only where the quadratic edges come within this
/// factor of the best: it differs from them only near the edges, and where interpolation came
/// within 5% of winning, on the corpus's 351 tiles (the lhotse-style chunks among them), its
/// cost was 0.99-1.21 times theirs; it never won. Judging it was about a twentieth of encoding
/// a 500x80 chunk.
const LINEAR_EDGES_WITHIN: f64 = 1.03;

/// The corner of a tile that [`choose`] judges the predictors on: about 2048 codes, spread over
/// the outer and middle axes alike so that predictors along either (interpolation above all)
/// are judged on a few steps of each. Judging every candidate was a quarter of encoding; with
/// 4096 codes, the corpus's tiles chose the same predictors (the streams are identical), and
/// encoding took 13-17% longer.
fn sample_shape(view: Shape3) -> Shape3 {
    let inner = view.inner.min(512);
    let across = 2048 / inner.max(1);
    let (outer, middle) = if view.middle == 1 {
        (view.outer.min(across.max(2)), 1)
    } else {
        let outer = view.outer.min(((across as f64).sqrt() as usize).max(2));
        (outer, view.middle.min((across / outer).max(2)))
    };
    Shape3 { outer, middle, inner }
}

/// Where in a tile (of shape `view`) [`choose`] reads its codes, in order: as few ranges as the
/// sample's shape allows (one for a 1-d tile's sample, not 2048 of one code each).
pub(crate) fn sample_regions(view: Shape3) -> Vec<std::ops::Range<usize>> {
    let sample = sample_shape(view);
    let plane = view.middle * view.inner;
    if sample.inner < view.inner {
        // Part of each row.
        let rows = (0..sample.outer).flat_map(|o| (0..sample.middle).map(move |m| o * plane + m * view.inner));
        rows.map(|start| start..start + sample.inner).collect()
    } else if sample.middle < view.middle {
        // Whole rows: the first few of each plane.
        (0..sample.outer).map(|o| o * plane..o * plane + sample.middle * view.inner).collect()
    } else {
        // Whole planes.
        std::iter::once(0..sample.outer * plane).collect()
    }
}

/// What the tile's code would spend on `residuals`: the order-0 entropy of their tokens plus
/// their raw bits. (A plain sum of bit widths misjudges predictors whose residuals mix scales,
/// such as interpolation's levels: one Huffman table codes their tokens less tightly.) Leaves
/// the raw bits in `residuals`.
fn coded_bits(kernels: Kernels, residuals: &mut [i32], token_of: &mut [u8]) -> f64 {
    let raw_bits = tokens::split(kernels, residuals, token_of);
    let counts = tokens::histogram(token_of);
    let n = residuals.len() as f64;
    let token_bits: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let c = f64::from(c);
            -c * (c / n).log2()
        })
        .sum();
    token_bits + raw_bits as f64
}

/// `round(256 * Σ q[i] q[i-s] / Σ q[i-s]^2)` along `axis`, clamped to [-256, 256].
fn least_squares_coefficient(codes: &[i32], shape: Shape3, axis: Axis) -> i32 {
    let (stride, run) = axis.stride_and_run(shape);
    let (mut cross, mut energy) = (0.0f64, 0.0f64);
    for block in codes.chunks_exact(run) {
        for (&prev, &cur) in block.iter().zip(&block[stride..]) {
            cross += f64::from(prev) * f64::from(cur);
            energy += f64::from(prev) * f64::from(prev);
        }
    }
    if energy == 0.0 {
        return 0;
    }
    (256.0 * cross / energy).round().clamp(-256.0, 256.0) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_predictor_writes_and_reads_back_and_reserved_values_are_rejected() {
        let mut all: Vec<Predictor> = (0..8).map(|a| Predictor::Differences(Axes(a))).collect();
        for axis in [Axis::Outer, Axis::Middle, Axis::Inner] {
            all.extend([-256, -3, 77, 256].map(|c| Predictor::Scaled(axis, c)));
        }
        all.extend([Edges::Linear, Edges::Quadratic].map(Predictor::Interpolation));
        for p in all {
            let mut bytes = Vec::new();
            p.write(&mut bytes);
            assert_eq!(Predictor::read(bytes.clone().try_into().unwrap(), 2).unwrap(), p);
            // Each interpolation is reserved before the minor version that added it.
            for minor in 0..2 {
                let read = Predictor::read(bytes.clone().try_into().unwrap(), minor);
                assert_eq!(read.is_ok(), p.minor_version() <= minor, "{p:?} in minor version {minor}");
            }
        }
        assert!(Predictor::read([0x21, 0, 0, 0], 1).is_err());
        let bad_values = [
            [0x22, 0, 0, 0],
            [0x23, 0, 0, 0],
            [0x20, 1, 0, 0],
            [0x21, 1, 0, 0],
            [0x20, 0, 1, 0],
            [0x21, 0, 0, 1],
            [0x40, 0, 0, 0],
            [0, 1, 0, 0],
            [1, 0, 5, 0],
        ];
        for bad in bad_values.into_iter().chain([[0x09, 0, 5, 0], [0x08, 0, 0x01, 0x01]]) {
            assert!(Predictor::read(bad, 2).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_sample_is_read_from_few_merged_regions_that_hold_it_all() {
        let cases = [
            (Shape3 { outer: 65536, middle: 1, inner: 1 }, 1),
            (Shape3 { outer: 819, middle: 1, inner: 80 }, 1),
            (Shape3 { outer: 16, middle: 1, inner: 4096 }, 4),
            (Shape3 { outer: 32, middle: 96, inner: 96 }, 4),
            (Shape3 { outer: 1, middle: 1, inner: 7 }, 1),
        ];
        for (view, count) in cases {
            let regions = sample_regions(view);
            assert_eq!(regions.len(), count, "{view:?}");
            assert_eq!(regions.iter().map(|r| r.len()).sum::<usize>(), sample_shape(view).len(), "{view:?}");
            assert!(regions.windows(2).all(|w| w[0].end < w[1].start), "{view:?}");
            assert!(regions.last().unwrap().end <= view.len());
        }
    }

    #[test]
    fn a_smooth_noisy_cube_picks_interpolation() {
        let view = Shape3 { outer: 16, middle: 32, inner: 32 };
        let mut state = 99u64;
        let codes: Vec<i32> = (0..view.len())
            .map(|k| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let noise = ((state >> 40) % 3) as f64 - 1.0;
                let (o, m, i) = ((k / 1024) as f64, ((k / 32) % 32) as f64, (k % 32) as f64);
                (2000.0 * (o * 0.15 + m * 0.1).sin() * (i * 0.2).cos() + noise).round() as i32
            })
            .collect();
        assert!(matches!(choose(Kernels::detect(), &codes, view), Predictor::Interpolation(_)));
    }

    #[test]
    fn independent_noise_is_left_unpredicted_rather_than_scaled_by_a_trace() {
        // Without the scaled predictor's handicap, a coefficient of a few 256ths wins by a hair
        // on some tiles of noise, and those tiles then decode through a recurrence.
        let mut state = 2024u64;
        let mut wins = 0;
        for _ in 0..20 {
            let codes: Vec<i32> = (0..8 * 512)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((state >> 33) % 1001) as i32 - 500
                })
                .collect();
            let view = Shape3 { outer: 8, middle: 1, inner: 512 };
            if choose(Kernels::detect(), &codes, view) == Predictor::Differences(Axes::NONE) {
                wins += 1;
            }
        }
        assert_eq!(wins, 20);
    }

    #[test]
    fn a_moderately_correlated_series_picks_the_scaled_predictor() {
        // x[i] = -0.5 x[i-1] + noise: minus half the previous value predicts better than 0 or 1
        // times it, and better than interpolating between neighbours, which anticorrelate.
        let mut state = 12345u64;
        let mut codes = vec![0i32; 4096];
        for i in 1..codes.len() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let noise = ((state >> 40) as i32 % 2001) - 1000;
            codes[i] = -codes[i - 1] / 2 + noise;
        }
        let view = Shape3 { outer: 1, middle: 1, inner: codes.len() };
        match choose(Kernels::detect(), &codes, view) {
            Predictor::Scaled(Axis::Inner, c) => assert!((-160..-100).contains(&c), "coefficient {c}"),
            other => panic!("picked {other:?}"),
        }
    }
}
