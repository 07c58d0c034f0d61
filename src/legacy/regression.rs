//! The original's estimate of one regression coefficient per axis, in numpy's float32 arithmetic.
//!
//! lilcom 1.8.2 estimates the coefficients in Python (`regress_array`), so the bytes it writes
//! depend on numpy's summation order. This module reproduces that order: numpy's pairwise sum over
//! each product array in memory order, with numpy ≥ 2 promotion rules (every step in float32).

/// numpy's `add.reduce` of a contiguous float32 array: identity `0.0` plus numpy's pairwise sum
/// (blocks of up to 128 values summed in 8 interleaved accumulators, larger ranges split in two
/// at a multiple of 8).
pub fn numpy_sum(values: &[f32]) -> f32 {
    0.0 + pairwise_sum(values)
}

fn pairwise_sum(a: &[f32]) -> f32 {
    let n = a.len();
    if n < 8 {
        a.iter().fold(-0.0f32, |acc, &x| acc + x)
    } else if n <= 128 {
        let mut r = [0.0f32; 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        for block in a[8..whole].chunks_exact(8) {
            for (acc, &x) in r.iter_mut().zip(block) {
                *acc += x;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[whole..] {
            res += x;
        }
        res
    } else {
        let mut half = n / 2;
        half -= half % 8;
        pairwise_sum(&a[..half]) + pairwise_sum(&a[half..])
    }
}

/// The regression coefficient per axis that lilcom 1.8.2's `regress_array` computes for `data`,
/// a C-order array of shape `dims`, before rounding to multiples of 1/256.
///
/// For each axis in turn (skipping axes of length 1) it takes the least-squares coefficient of
/// each element on its predecessor along that axis, sets it to 0 when its magnitude is below
/// 0.02, clamps it to [-1, 1], and subtracts the prediction before moving on to the next axis.
/// Where the original would fail (a NaN estimate, from overflowing sums), this gives 0.
pub fn regression_coefficients(data: &[f32], dims: &[usize]) -> Vec<f32> {
    let mut work = data.to_vec();
    let mut scratch = Vec::new();
    let mut coeffs = vec![0.0f32; dims.len()];
    for axis in 0..dims.len() {
        let len = dims[axis];
        if len <= 1 {
            continue;
        }
        let outer: usize = dims[..axis].iter().product();
        let inner: usize = dims[axis + 1..].iter().product();

        collect_pairs(&work, outer, len, inner, &mut scratch, |prev, next| prev * next);
        let cross = numpy_sum(&scratch);
        collect_pairs(&work, outer, len, inner, &mut scratch, |prev, _| prev * prev);
        let energy = numpy_sum(&scratch) + 1.0e-20f32;

        let estimate = cross / energy;
        // NaN fails the original's comparisons too, and then fails its rounding; we store 0.
        let coeff = if estimate.is_nan() || estimate.abs() < 0.02 { 0.0 } else { estimate.clamp(-1.0, 1.0) };
        coeffs[axis] = coeff;
        subtract_prediction(&mut work, outer, len, inner, coeff);
    }
    coeffs
}

/// Fills `out` with `f(x[.., j, ..], x[.., j + 1, ..])` for `j < len - 1`, in C order: the memory
/// order numpy gives the product `x[:-1] * x[1:]` along that axis.
fn collect_pairs(
    data: &[f32],
    outer: usize,
    len: usize,
    inner: usize,
    out: &mut Vec<f32>,
    f: impl Fn(f32, f32) -> f32,
) {
    out.clear();
    for block in data.chunks_exact(len * inner).take(outer) {
        for (prev, next) in block[..(len - 1) * inner].iter().zip(&block[inner..]) {
            out.push(f(*prev, *next));
        }
    }
}

/// `x[1:] -= x[:-1] * coeff` along the axis, using the values from before the update.
fn subtract_prediction(data: &mut [f32], outer: usize, len: usize, inner: usize, coeff: f32) {
    for block in data.chunks_exact_mut(len * inner).take(outer) {
        for j in (1..len).rev() {
            let (before, at) = block.split_at_mut(j * inner);
            for (x, prev) in at[..inner].iter_mut().zip(&before[(j - 1) * inner..]) {
                *x -= *prev * coeff;
            }
        }
    }
}

/// Rounds coefficients to the integers k (meaning k/256) stored in the header, as Python's
/// `round(x * 256)` does: half to even.
pub fn quantize_coefficients(coeffs: &[f32]) -> Vec<i32> {
    coeffs.iter().map(|&c| (c * 256.0).round_ties_even() as i32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_differs_from_a_serial_sum_where_numpy_does() {
        // 1e8 + many ones: a serial float32 sum loses every one, the pairwise sum keeps them.
        let mut v = vec![1.0f32; 1024];
        v[0] = 1.0e8;
        let serial = v.iter().fold(0.0f32, |a, &x| a + x);
        assert_eq!(serial, 1.0e8);
        assert!(numpy_sum(&v) > 1.0e8);
    }

    #[test]
    fn perfect_ramp_clamps_to_one_and_constant_axis_is_skipped() {
        let data: Vec<f32> = (0..20).map(|i| i as f32 + 1.0).collect();
        let c = regression_coefficients(&data, &[1, 20]);
        assert_eq!(c[0], 0.0);
        assert!(c[1] > 0.8 && c[1] <= 1.0, "{c:?}");
        assert_eq!(quantize_coefficients(&[0.5 / 256.0, 1.5 / 256.0, -1.0]), vec![0, 2, -256]);
    }
}
