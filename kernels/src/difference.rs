//! Integer prediction by differences along axes, and its inverse.
//!
//! A tile is viewed as `outer x middle x inner` codes in C order. Differencing along a set of
//! those axes is exact in wrapping `i32` arithmetic, the operators for different axes commute,
//! and differencing along all three is the Lorenzo predictor. The inverse is a prefix sum along
//! each axis: across whole rows for the outer and middle axes (vectorizable), within a row for
//! the inner one.

use std::marker::PhantomData;

use crate::dispatch::{simd_op, Kernels};

/// A tile's shape as three axes, in C order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape3 {
    /// Slowest axis (rows of the array inside the tile).
    pub outer: usize,
    /// The axes between the first and the last, flattened.
    pub middle: usize,
    /// The last axis.
    pub inner: usize,
}

impl Shape3 {
    /// Number of codes.
    pub fn len(&self) -> usize {
        self.outer * self.middle * self.inner
    }

    /// True when there are no codes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Which axes to difference along: a set of [`Axes::OUTER`], [`Axes::MIDDLE`], [`Axes::INNER`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Axes(pub u8);

impl Axes {
    /// No prediction.
    pub const NONE: Axes = Axes(0);
    /// The previous element along the outer axis.
    pub const OUTER: Axes = Axes(1);
    /// The previous element along the middle axis.
    pub const MIDDLE: Axes = Axes(2);
    /// The previous element along the inner axis.
    pub const INNER: Axes = Axes(4);
    /// All three: the Lorenzo predictor.
    pub const ALL: Axes = Axes(7);

    /// True when `other`'s axes are all in this set.
    pub fn contains(self, other: Axes) -> bool {
        self.0 & other.0 == other.0
    }
}

#[inline(always)]
fn rows_minus_previous(block: &mut [i32], row: usize) {
    if row == 1 {
        // Rows of one element (1-d arrays): a plain running difference.
        let mut prev = 0i32;
        for x in block {
            let cur = *x;
            *x = cur.wrapping_sub(prev);
            prev = cur;
        }
        return;
    }
    let count = block.len() / row;
    for j in (1..count).rev() {
        let (before, at) = block.split_at_mut(j * row);
        for (x, &p) in at[..row].iter_mut().zip(&before[(j - 1) * row..]) {
            *x = x.wrapping_sub(p);
        }
    }
}

/// Replaces `values` by their running sums, in wrapping arithmetic.
#[inline(always)]
fn running_sums_scalar(values: &mut [i32]) {
    let mut acc = 0i32;
    for x in values {
        acc = acc.wrapping_add(*x);
        *x = acc;
    }
}

#[inline(always)]
fn rows_plus_previous(block: &mut [i32], row: usize, running_sums: impl Fn(&mut [i32])) {
    if row == 1 {
        running_sums(block);
        return;
    }
    let count = block.len() / row;
    for j in 1..count {
        let (before, at) = block.split_at_mut(j * row);
        for (x, &p) in at[..row].iter_mut().zip(&before[(j - 1) * row..]) {
            *x = x.wrapping_add(p);
        }
    }
}

/// Scalar reference: replaces codes by their differences along `axes`, in place.
#[inline(always)]
pub fn difference_scalar(codes: &mut [i32], shape: Shape3, axes: Axes) {
    assert_eq!(codes.len(), shape.len());
    if shape.is_empty() {
        return;
    }
    let plane = shape.middle * shape.inner;
    if axes.contains(Axes::OUTER) {
        rows_minus_previous(codes, plane);
    }
    if axes.contains(Axes::MIDDLE) {
        for block in codes.chunks_exact_mut(plane) {
            rows_minus_previous(block, shape.inner);
        }
    }
    if axes.contains(Axes::INNER) {
        for row in codes.chunks_exact_mut(shape.inner) {
            let mut prev = 0i32;
            for x in row {
                let cur = *x;
                *x = cur.wrapping_sub(prev);
                prev = cur;
            }
        }
    }
}

/// Scalar reference: the inverse of [`difference_scalar`], in place.
#[inline(always)]
pub fn integrate_scalar(codes: &mut [i32], shape: Shape3, axes: Axes) {
    integrate_with(codes, shape, axes, running_sums_scalar);
}

/// [`integrate_scalar`], with `running_sums` for the sums along a row (or along a whole 1-d
/// block), the one part that is a recurrence. Plane by plane along the outer axis, so that the
/// plane before is still in the nearest cache when it is added; the sums along different axes
/// commute, so the order changes nothing.
#[inline(always)]
fn integrate_with(codes: &mut [i32], shape: Shape3, axes: Axes, running_sums: impl Fn(&mut [i32]) + Copy) {
    assert_eq!(codes.len(), shape.len());
    if shape.is_empty() {
        return;
    }
    let plane = shape.middle * shape.inner;
    if plane == 1 {
        // One element per row: only the outer axis has neighbours.
        if axes.contains(Axes::OUTER) {
            running_sums(codes);
        }
        return;
    }
    for o in 0..shape.outer {
        let (before, at) = codes.split_at_mut(o * plane);
        let current = &mut at[..plane];
        if axes.contains(Axes::INNER) && shape.inner > 1 {
            for row in current.chunks_exact_mut(shape.inner) {
                running_sums(row);
            }
        }
        if axes.contains(Axes::MIDDLE) {
            rows_plus_previous(current, shape.inner, running_sums);
        }
        if axes.contains(Axes::OUTER) && o > 0 {
            for (x, &p) in current.iter_mut().zip(&before[(o - 1) * plane..]) {
                *x = x.wrapping_add(p);
            }
        }
    }
}

/// One axis of the tile view, for the scaled predictor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Axis {
    /// The rows of the tile.
    Outer,
    /// The flattened middle axes.
    Middle,
    /// The last axis.
    Inner,
}

impl Axis {
    /// Distance between neighbours along this axis, and the length of the blocks within which
    /// an element's predecessor along it lies.
    #[inline(always)]
    pub fn stride_and_run(self, shape: Shape3) -> (usize, usize) {
        match self {
            Axis::Outer => (shape.middle * shape.inner, shape.len()),
            Axis::Middle => (shape.inner, shape.middle * shape.inner),
            Axis::Inner => (1, shape.inner),
        }
    }
}

/// `(coeff * v + 128) >> 8`: the prediction `coeff/256 * v`, rounded, in integers.
#[inline(always)]
fn scaled(coeff: i32, v: i32) -> i32 {
    ((i64::from(coeff) * i64::from(v) + 128) >> 8) as i32
}

/// Scalar reference: replaces each code by its difference from `coeff/256` times the previous
/// code along `axis` (rounded as `scaled` rounds: `(coeff * v + 128) >> 8`), in place; codes first along the axis stay.
#[inline(always)]
pub fn scaled_difference_scalar(codes: &mut [i32], shape: Shape3, axis: Axis, coeff: i32) {
    assert_eq!(codes.len(), shape.len());
    if shape.is_empty() {
        return;
    }
    let (stride, run) = axis.stride_and_run(shape);
    for block in codes.chunks_exact_mut(run) {
        // Descending, so every prediction reads a code not yet replaced.
        for i in (stride..run).rev() {
            let prev = block[i - stride];
            block[i] = block[i].wrapping_sub(scaled(coeff, prev));
        }
    }
}

/// Scalar reference: the inverse of [`scaled_difference_scalar`], in place.
#[inline(always)]
pub fn scaled_integrate_scalar(codes: &mut [i32], shape: Shape3, axis: Axis, coeff: i32) {
    assert_eq!(codes.len(), shape.len());
    if shape.is_empty() {
        return;
    }
    let (stride, run) = axis.stride_and_run(shape);
    for block in codes.chunks_exact_mut(run) {
        for i in stride..run {
            let prev = block[i - stride];
            block[i] = block[i].wrapping_add(scaled(coeff, prev));
        }
    }
}

/// The dispatched [`scaled_difference_scalar`].
pub fn scaled_difference(kernels: Kernels, codes: &mut [i32], shape: Shape3, axis: Axis, coeff: i32) {
    simd_op!(Op<'a> { codes: &'a mut [i32], shape: Shape3, axis: Axis, coeff: i32 } -> ()
        => scaled_difference_scalar(codes, shape, axis, coeff));
    kernels.run(Op { codes, shape, axis, coeff, _borrows: PhantomData })
}

/// The dispatched [`scaled_integrate_scalar`].
pub fn scaled_integrate(kernels: Kernels, codes: &mut [i32], shape: Shape3, axis: Axis, coeff: i32) {
    simd_op!(Op<'a> { codes: &'a mut [i32], shape: Shape3, axis: Axis, coeff: i32 } -> ()
        => scaled_integrate_scalar(codes, shape, axis, coeff));
    kernels.run(Op { codes, shape, axis, coeff, _borrows: PhantomData })
}

/// The dispatched [`difference_scalar`].
pub fn difference(kernels: Kernels, codes: &mut [i32], shape: Shape3, axes: Axes) {
    simd_op!(Op<'a> { codes: &'a mut [i32], shape: Shape3, axes: Axes } -> () => difference_scalar(codes, shape, axes));
    kernels.run(Op { codes, shape, axes, _borrows: PhantomData })
}

/// The dispatched [`integrate_scalar`].
pub fn integrate(kernels: Kernels, codes: &mut [i32], shape: Shape3, axes: Axes) {
    #[cfg(target_arch = "x86_64")]
    if kernels.has_vbmi() {
        // SAFETY: the CPU has AVX-512 F, BW, VL and VBMI (`has_vbmi`).
        return unsafe { avx512::integrate(codes, shape, axes) };
    }
    #[cfg(target_arch = "x86_64")]
    if kernels.has_avx2() {
        // SAFETY: the CPU has AVX2 (`has_avx2`).
        return unsafe { avx2::integrate(codes, shape, axes) };
    }
    simd_op!(Op<'a> { codes: &'a mut [i32], shape: Shape3, axes: Axes } -> () => integrate_scalar(codes, shape, axes));
    kernels.run(Op { codes, shape, axes, _borrows: PhantomData })
}

/// Scalar reference: [`integrate_scalar`], then each final code `c` replaced in place by the
/// bits of the float32 `c as f32 * tick`, as
/// [`crate::quantize::dequantize_f32_in_place_scalar`] gives them.
#[inline(always)]
pub fn integrate_dequantize_f32_scalar(codes: &mut [i32], shape: Shape3, axes: Axes, tick: f32) {
    integrate_scalar(codes, shape, axes);
    crate::quantize::dequantize_f32_in_place_scalar(bytemuck::cast_slice_mut(codes), tick);
}

/// The dispatched [`integrate_dequantize_f32_scalar`]: the same bits. On AVX-512, tiles of
/// whole rows (a middle axis of one) or of one axis, with differences along a row or across
/// rows (see `as_rows`), take one pass that sums, adds the row before and dequantizes each
/// sixteen codes while they are in registers, instead of three passes over the tile. Panics if
/// `codes` does not hold `shape.len()` codes.
pub fn integrate_dequantize_f32(kernels: Kernels, codes: &mut [i32], shape: Shape3, axes: Axes, tick: f32) {
    #[cfg(target_arch = "x86_64")]
    if let (true, Some((rows, axes))) = (kernels.has_vbmi(), as_rows(shape, axes)) {
        assert_eq!(codes.len(), shape.len());
        // SAFETY: the CPU has AVX-512 F (`has_vbmi`).
        return unsafe { avx512::integrate_dequantize_rows(codes, rows, axes, tick) };
    }
    integrate(kernels, codes, shape, axes);
    crate::quantize::dequantize_f32_in_place(kernels, bytemuck::cast_slice_mut(codes), tick);
}

/// The shape and axes under which a tile's differences are those along the rows of a tile
/// with a middle axis of one, which the one-pass kernels take: the tile's own, or, for a 1-d
/// tile (one element per row) with differences along its one axis, one row of all its elements.
/// `None` when the differences are not of that kind, or the rows are too short to pay.
#[cfg(target_arch = "x86_64")]
fn as_rows(shape: Shape3, axes: Axes) -> Option<(Shape3, Axes)> {
    let plane = shape.middle * shape.inner;
    let (shape, axes) = if plane == 1 && axes.contains(Axes::OUTER) {
        (Shape3 { outer: 1, middle: 1, inner: shape.outer }, Axes::INNER)
    } else {
        (shape, axes)
    };
    let differences = axes.contains(Axes::INNER) || axes.contains(Axes::OUTER);
    (differences && shape.middle == 1 && shape.inner >= 16).then_some((shape, axes))
}

macro_rules! quantize_difference_kernels {
    ($float:ty, $quantize_scalar:ident, $quantize:ident, $scalar_fn:ident, $fn:ident, $rows:ident) => {
        /// Scalar reference: quantization of `values` into `codes`
        #[doc = concat!("([`crate::quantize::", stringify!($quantize_scalar), "`]),")]
        /// then [`difference_scalar`] of the codes; returns the exception count.
        #[inline(always)]
        pub fn $scalar_fn(values: &[$float], inv_tick: $float, codes: &mut [i32], shape: Shape3, axes: Axes) -> usize {
            let exceptions = crate::quantize::$quantize_scalar(values, inv_tick, codes);
            difference_scalar(codes, shape, axes);
            exceptions
        }

        /// The dispatched scalar reference: the same codes and count. On AVX-512, tiles of whole
        /// rows (a middle axis of one) or of one axis, with differences along a row or across
        /// rows, take one pass that quantizes each sixteen values and takes their differences in
        /// registers, instead of two passes over the tile. Panics if `values` and `codes` do not
        /// each hold `shape.len()` elements.
        pub fn $fn(
            kernels: Kernels,
            values: &[$float],
            inv_tick: $float,
            codes: &mut [i32],
            shape: Shape3,
            axes: Axes,
        ) -> usize {
            #[cfg(target_arch = "x86_64")]
            if let (true, Some((rows, axes))) = (kernels.has_vbmi(), as_rows(shape, axes)) {
                assert!(values.len() == shape.len() && codes.len() == shape.len());
                // SAFETY: the CPU has AVX-512 F (`has_vbmi`).
                return unsafe { avx512::$rows(values, inv_tick, codes, rows, axes) };
            }
            let exceptions = crate::quantize::$quantize(kernels, values, inv_tick, codes);
            difference(kernels, codes, shape, axes);
            exceptions
        }
    };
}

quantize_difference_kernels!(
    f32,
    quantize_f32_scalar,
    quantize_f32,
    quantize_difference_f32_scalar,
    quantize_difference_f32,
    quantize_difference_rows_f32
);
quantize_difference_kernels!(
    f64,
    quantize_f64_scalar,
    quantize_f64,
    quantize_difference_f64_scalar,
    quantize_difference_f64,
    quantize_difference_rows_f64
);

/// The running sums on AVX-512, where the other AVX-512 kernels run.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::*;
    use std::arch::x86_64::*;

    /// [`integrate_scalar`], on AVX-512.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn integrate(codes: &mut [i32], shape: Shape3, axes: Axes) {
        integrate_with(codes, shape, axes, |values| {
            // SAFETY: this closure runs inside a function compiled for, and only called on, a CPU
            // with AVX-512 F.
            unsafe { running_sums(values) }
        });
    }

    /// [`integrate_dequantize_f32_scalar`] of a tile whose middle axis has length one (where
    /// differences along it change nothing), one row at a time: each sixteen codes' running sum
    /// along the row, plus the previous row's final codes (kept as integers in a buffer of one
    /// row, since the row itself now holds floats), converted and scaled before they are
    /// stored.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn integrate_dequantize_rows(codes: &mut [i32], shape: Shape3, axes: Axes, tick: f32) {
        assert!(shape.middle == 1 && codes.len() == shape.len());
        if shape.is_empty() {
            return;
        }
        let inner = shape.inner;
        let (along_rows, across_rows) = (axes.contains(Axes::INNER), axes.contains(Axes::OUTER));
        // The row before's final codes; zeros before the first row, which has no neighbour.
        // Padded to whole sixteens so that only the row's own loads and stores need masks
        // (masked stores are slow on Zen 4); the padding's lanes are never stored to the row.
        let mut previous = if across_rows { vec![0i32; inner.next_multiple_of(16)] } else { Vec::new() };
        let zero = _mm512_setzero_si512();
        let last = _mm512_set1_epi32(15);
        let scale = _mm512_set1_ps(tick);
        let whole = inner / 16 * 16;
        let tail_mask = (1u16 << (inner - whole)) - 1;
        for row in codes.chunks_exact_mut(inner) {
            let mut before = zero;
            // The final codes of the sixteen from `start`, given their residuals, as floats.
            let mut step = |residuals: __m512i, start: usize| {
                let mut x = residuals;
                if along_rows {
                    let sums = running_sums_of_sixteen(residuals);
                    x = _mm512_add_epi32(sums, before);
                    before = _mm512_add_epi32(before, _mm512_permutexvar_epi32(last, sums));
                }
                if across_rows {
                    let above = &mut previous[start..start + 16];
                    // SAFETY: sixteen i32 of `previous`, whose length is a multiple of sixteen.
                    unsafe {
                        x = _mm512_add_epi32(x, _mm512_loadu_si512(above.as_ptr().cast()));
                        _mm512_storeu_si512(above.as_mut_ptr().cast(), x);
                    }
                }
                _mm512_castps_si512(_mm512_mul_ps(_mm512_cvtepi32_ps(x), scale))
            };
            for start in (0..whole).step_by(16) {
                let sixteen = &mut row[start..start + 16];
                // SAFETY: sixteen i32, inside the row.
                unsafe {
                    let value = step(_mm512_loadu_si512(sixteen.as_ptr().cast()), start);
                    _mm512_storeu_si512(sixteen.as_mut_ptr().cast(), value);
                }
            }
            if tail_mask != 0 {
                let rest = &mut row[whole..];
                // SAFETY: the mask covers the `inner - whole` elements of `rest` and no more.
                unsafe {
                    let value = step(_mm512_maskz_loadu_epi32(tail_mask, rest.as_ptr()), whole);
                    _mm512_mask_storeu_epi32(rest.as_mut_ptr(), tail_mask, value);
                }
            }
        }
    }

    /// [`quantize_difference_f32_scalar`] of a tile whose middle axis has length one: see
    /// [`quantize_difference_rows`].
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn quantize_difference_rows_f32(
        values: &[f32],
        inv_tick: f32,
        codes: &mut [i32],
        shape: Shape3,
        axes: Axes,
    ) -> usize {
        assert_eq!(values.len(), shape.len());
        let scale = _mm512_set1_ps(inv_tick);
        let limit = _mm512_set1_ps(crate::quantize::CODE_LIMIT as f32);
        quantize_difference_rows(codes, shape, axes, |start, valid| {
            // SAFETY: the mask covers only elements from `start` inside `values`.
            let x = unsafe { _mm512_maskz_loadu_ps(valid, values.as_ptr().add(start)) };
            let scaled = _mm512_mul_ps(x, scale);
            let regular = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(_mm512_abs_ps(scaled), limit);
            (_mm512_maskz_cvtps_epi32(regular, scaled), regular)
        })
    }

    /// [`quantize_difference_f64_scalar`] of a tile whose middle axis has length one: see
    /// [`quantize_difference_rows`]; each sixteen values converted eight at a time.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn quantize_difference_rows_f64(
        values: &[f64],
        inv_tick: f64,
        codes: &mut [i32],
        shape: Shape3,
        axes: Axes,
    ) -> usize {
        assert_eq!(values.len(), shape.len());
        let scale = _mm512_set1_pd(inv_tick);
        let limit = _mm512_set1_pd(crate::quantize::CODE_LIMIT);
        let eight = |at: usize, valid: u8| {
            // SAFETY: the mask covers only elements from `at` inside `values` (none past a tail,
            // where `at` may lie beyond the end: hence the wrapping address).
            let x = unsafe { _mm512_maskz_loadu_pd(valid, values.as_ptr().wrapping_add(at)) };
            let scaled = _mm512_mul_pd(x, scale);
            let regular = _mm512_cmp_pd_mask::<_CMP_LT_OQ>(_mm512_abs_pd(scaled), limit);
            (_mm512_maskz_cvtpd_epi32(regular, scaled), regular)
        };
        quantize_difference_rows(codes, shape, axes, |start, valid| {
            let (low, low_regular) = eight(start, valid as u8);
            let (high, high_regular) = eight(start + 8, (valid >> 8) as u8);
            let codes = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(low), high);
            (codes, u16::from(low_regular) | u16::from(high_regular) << 8)
        })
    }

    /// Quantization and differences of a tile whose middle axis has length one, one row at a
    /// time: `quantize(start, valid)` gives the codes of the sixteen values from element `start`
    /// of the tile of which `valid` are the row's (the reference's test and rounding: the
    /// conversions round half to even, as the CPU's default mode does), with the mask of those
    /// that are regular; less the previous row's codes (kept in a buffer of one row), less their
    /// left neighbours' such differences. Returns the exception count.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F. (Compiled for it, so that the closures in it are too: as a
    /// plain generic function its steps had been calls to out-of-line intrinsics, 0.4x.)
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn quantize_difference_rows(
        codes: &mut [i32],
        shape: Shape3,
        axes: Axes,
        mut quantize: impl FnMut(usize, u16) -> (__m512i, u16),
    ) -> usize {
        assert!(shape.middle == 1 && codes.len() == shape.len());
        if shape.is_empty() {
            return 0;
        }
        let inner = shape.inner;
        let (along_rows, across_rows) = (axes.contains(Axes::INNER), axes.contains(Axes::OUTER));
        // The row before's codes (zeros before the first row), padded to whole sixteens.
        let mut previous = if across_rows { vec![0i32; inner.next_multiple_of(16)] } else { Vec::new() };
        let whole = inner / 16 * 16;
        let tail_mask = (1u16 << (inner - whole)) - 1;
        // Exceptions counted per lane, in at most 2^31 per lane (a tile has fewer elements).
        let mut exceptions = _mm512_setzero_si512();
        let one = _mm512_set1_epi32(1);
        for (row, row_codes) in codes.chunks_exact_mut(inner).enumerate() {
            // The sixteen before's differences across rows; zeros at a row's start, whose first
            // element has no left neighbour.
            let mut left = _mm512_setzero_si512();
            // The residuals of the sixteen values from `start` in the row, of which `valid` are
            // the row's own.
            let mut step = |start: usize, valid: u16| {
                let (mut d, regular) = quantize(row * inner + start, valid);
                exceptions = _mm512_mask_add_epi32(exceptions, valid & !regular, exceptions, one);
                if across_rows {
                    let above = &mut previous[start..start + 16];
                    // SAFETY: sixteen i32 of `previous`, whose length is a multiple of sixteen.
                    unsafe {
                        let up = _mm512_loadu_si512(above.as_ptr().cast());
                        _mm512_storeu_si512(above.as_mut_ptr().cast(), d);
                        d = _mm512_sub_epi32(d, up);
                    }
                }
                if along_rows {
                    let shifted = _mm512_alignr_epi32::<15>(d, left);
                    left = d;
                    d = _mm512_sub_epi32(d, shifted);
                }
                d
            };
            for start in (0..whole).step_by(16) {
                let d = step(start, u16::MAX);
                // SAFETY: sixteen i32 from `start`, inside the row.
                unsafe { _mm512_storeu_si512(row_codes[start..start + 16].as_mut_ptr().cast(), d) };
            }
            if tail_mask != 0 {
                let d = step(whole, tail_mask);
                // SAFETY: the mask covers the `inner - whole` elements from `whole` and no more.
                unsafe { _mm512_mask_storeu_epi32(row_codes[whole..].as_mut_ptr(), tail_mask, d) };
            }
        }
        _mm512_reduce_add_epi32(exceptions) as u32 as usize
    }

    /// The inclusive running sums of the sixteen lanes of `x` (wrapping), in four shifted
    /// additions.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn running_sums_of_sixteen(x: __m512i) -> __m512i {
        let zero = _mm512_setzero_si512();
        let x = _mm512_add_epi32(x, _mm512_alignr_epi32::<15>(x, zero));
        let x = _mm512_add_epi32(x, _mm512_alignr_epi32::<14>(x, zero));
        let x = _mm512_add_epi32(x, _mm512_alignr_epi32::<12>(x, zero));
        _mm512_add_epi32(x, _mm512_alignr_epi32::<8>(x, zero))
    }

    /// [`running_sums_scalar`], sixteen at a time: each sixteen's own running sums in four
    /// shifted additions, plus the total of those before. The total is carried by one addition
    /// per sixteen, so the recurrence costs a cycle per sixteen instead of one per element.
    #[target_feature(enable = "avx512f")]
    unsafe fn running_sums(values: &mut [i32]) {
        let zero = _mm512_setzero_si512();
        let last = _mm512_set1_epi32(15);
        let mut before = zero;
        let mut sixteens = values.chunks_exact_mut(16);
        for chunk in &mut sixteens {
            // SAFETY: sixteen i32, inside the chunk.
            let sums = running_sums_of_sixteen(unsafe { _mm512_loadu_si512(chunk.as_ptr().cast()) });
            // SAFETY: as above.
            unsafe { _mm512_storeu_si512(chunk.as_mut_ptr().cast(), _mm512_add_epi32(sums, before)) };
            before = _mm512_add_epi32(before, _mm512_permutexvar_epi32(last, sums));
        }
        let rest = sixteens.into_remainder();
        if !rest.is_empty() {
            let mask = (1u16 << rest.len()) - 1;
            // SAFETY: the masked load and store touch only the `rest.len()` elements of `rest`.
            unsafe {
                let sums = running_sums_of_sixteen(_mm512_maskz_loadu_epi32(mask, rest.as_ptr()));
                _mm512_mask_storeu_epi32(rest.as_mut_ptr(), mask, _mm512_add_epi32(sums, before));
            }
        }
    }
}

/// The running sums on AVX2, eight at a time, as [`avx512`] does sixteen.
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    use super::*;
    use std::arch::x86_64::*;

    /// [`integrate_scalar`], on AVX2.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn integrate(codes: &mut [i32], shape: Shape3, axes: Axes) {
        if shape.middle * shape.inner == 1 {
            // One running sum over the whole tile (a 1-d array): the scalar chain of one addition
            // per element was 5% faster here than eight at a time (random walk, AVX2 forced).
            return integrate_with(codes, shape, axes, running_sums_scalar);
        }
        integrate_with(codes, shape, axes, |values| {
            // SAFETY: this closure runs inside a function compiled for, and only called on, a CPU
            // with AVX2.
            unsafe { running_sums(values) }
        });
    }

    /// The inclusive running sums of the eight lanes of `x` (wrapping): within each half, then
    /// the low half's total added to the high half. The raw-segment reader's positions use it too.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn within(x: __m256i) -> __m256i {
        let x = _mm256_add_epi32(x, _mm256_slli_si256::<4>(x));
        let x = _mm256_add_epi32(x, _mm256_slli_si256::<8>(x));
        let low_total = _mm256_permutevar8x32_epi32(x, _mm256_set1_epi32(3));
        _mm256_add_epi32(x, _mm256_blend_epi32::<0b1111_0000>(_mm256_setzero_si256(), low_total))
    }

    /// [`running_sums_scalar`], eight at a time: [`within`] each eight, plus the total of those
    /// before.
    #[target_feature(enable = "avx2")]
    unsafe fn running_sums(values: &mut [i32]) {
        let mut before = _mm256_setzero_si256();
        let mut eights = values.chunks_exact_mut(8);
        for chunk in &mut eights {
            // SAFETY: eight i32, inside the chunk.
            let sums = within(unsafe { _mm256_loadu_si256(chunk.as_ptr().cast()) });
            // SAFETY: as above.
            unsafe { _mm256_storeu_si256(chunk.as_mut_ptr().cast(), _mm256_add_epi32(sums, before)) };
            before = _mm256_add_epi32(before, _mm256_permutevar8x32_epi32(sums, _mm256_set1_epi32(7)));
        }
        let rest = eights.into_remainder();
        let mut acc = _mm256_extract_epi32::<0>(before);
        for x in rest {
            acc = acc.wrapping_add(*x);
            *x = acc;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(shape: Shape3) -> Vec<i32> {
        (0..shape.len() as i32).map(|i| i.wrapping_mul(1_103_515_245).wrapping_add(12345) >> 3).collect()
    }

    #[test]
    fn every_axis_set_inverts_exactly_and_matches_the_reference() {
        for shape in [
            Shape3 { outer: 1, middle: 1, inner: 1 },
            Shape3 { outer: 5, middle: 1, inner: 1 },
            Shape3 { outer: 3, middle: 4, inner: 17 },
            Shape3 { outer: 2, middle: 7, inner: 33 },
            // Running sums of whole sixteens, with and without a ragged tail, along each axis.
            Shape3 { outer: 100, middle: 1, inner: 1 },
            Shape3 { outer: 2, middle: 1, inner: 16 },
            Shape3 { outer: 3, middle: 1, inner: 80 },
            Shape3 { outer: 1, middle: 37, inner: 1 },
        ] {
            for axes in 0..8 {
                let axes = Axes(axes);
                let original = sample(shape);
                let mut a = original.clone();
                let mut b = original.clone();
                difference_scalar(&mut a, shape, axes);
                difference(Kernels::detect(), &mut b, shape, axes);
                assert_eq!(a, b, "{shape:?} {axes:?}");
                let residuals = b.clone();
                integrate(Kernels::detect(), &mut b, shape, axes);
                assert_eq!(b, original, "{shape:?} {axes:?}");
                let mut c = residuals.clone();
                integrate(Kernels::detect().without_vbmi(), &mut c, shape, axes);
                assert_eq!(c, original, "{shape:?} {axes:?} (AVX2)");
                integrate_scalar(&mut a, shape, axes);
                assert_eq!(a, original, "{shape:?} {axes:?}");
            }
        }
    }

    /// Shapes for the one-pass kernels: rows of whole sixteens, with ragged tails, shorter than
    /// sixteen (the two passes), with a middle axis (the two passes), empty, and one axis (one
    /// row of all the elements, long and too short).
    const ONE_PASS_SHAPES: [Shape3; 9] = [
        Shape3 { outer: 3, middle: 1, inner: 80 },
        Shape3 { outer: 5, middle: 1, inner: 16 },
        Shape3 { outer: 4, middle: 1, inner: 37 },
        Shape3 { outer: 1, middle: 1, inner: 129 },
        Shape3 { outer: 6, middle: 1, inner: 5 },
        Shape3 { outer: 2, middle: 3, inner: 40 },
        Shape3 { outer: 0, middle: 1, inner: 80 },
        Shape3 { outer: 133, middle: 1, inner: 1 },
        Shape3 { outer: 9, middle: 1, inner: 1 },
    ];

    #[test]
    fn integrating_and_dequantizing_in_one_pass_gives_the_two_passes_bits() {
        // On every shape of ONE_PASS_SHAPES, with codes near the i32 limits (wrapping sums,
        // floats that round).
        for shape in ONE_PASS_SHAPES {
            for (scale, tick) in [(1, 0.25f32), (1 << 8, 1.0 / 1024.0), (i32::MAX / 3, 3.0e-5)] {
                for axes in 0..8 {
                    let axes = Axes(axes);
                    let residuals: Vec<i32> = sample(shape).iter().map(|&r| r.wrapping_mul(scale)).collect();
                    let mut expected = residuals.clone();
                    integrate_dequantize_f32_scalar(&mut expected, shape, axes, tick);
                    let mut two_passes = residuals.clone();
                    integrate_scalar(&mut two_passes, shape, axes);
                    for c in &mut two_passes {
                        *c = (*c as f32 * tick).to_bits() as i32;
                    }
                    assert_eq!(expected, two_passes, "{shape:?} {axes:?}");
                    for kernels in [Kernels::detect(), Kernels::detect().without_vbmi(), Kernels::scalar()] {
                        let mut got = residuals.clone();
                        integrate_dequantize_f32(kernels, &mut got, shape, axes, tick);
                        assert_eq!(got, expected, "{shape:?} {axes:?} {tick} {}", kernels.instruction_set());
                    }
                }
            }
        }
    }

    #[test]
    fn quantizing_and_differencing_in_one_pass_gives_the_two_passes_codes() {
        // Values that round half to even, exceptions (NaN, infinities, past the code limit) in
        // whole sixteens and in tails, on every shape of ONE_PASS_SHAPES.
        let awkward = [0.5f32, 1.5, 2.5, -0.5, -2.5, f32::NAN, f32::INFINITY, -f32::INFINITY, 3.0e38, -0.0, 1e-45];
        for shape in ONE_PASS_SHAPES {
            let values: Vec<f32> = (0..shape.len())
                .map(|i| if i % 7 == 3 { awkward[i / 7 % awkward.len()] } else { (i as f32 * 0.731).sin() * 900.0 })
                .collect();
            for inv_tick in [1.0f32, 0.5, 1024.0] {
                for axes in 0..8 {
                    let axes = Axes(axes);
                    let mut expected = vec![0; shape.len()];
                    let expected_exceptions =
                        quantize_difference_f32_scalar(&values, inv_tick, &mut expected, shape, axes);
                    let mut two_passes = vec![0; shape.len()];
                    let two_pass_exceptions = crate::quantize::quantize_f32_scalar(&values, inv_tick, &mut two_passes);
                    difference_scalar(&mut two_passes, shape, axes);
                    assert_eq!((expected_exceptions, &expected), (two_pass_exceptions, &two_passes));
                    // The same values as f64 (exact), with their own reference.
                    let wide: Vec<f64> = values.iter().map(|&x| f64::from(x)).collect();
                    let mut expected_wide = vec![0; shape.len()];
                    let expected_wide_exceptions =
                        quantize_difference_f64_scalar(&wide, f64::from(inv_tick), &mut expected_wide, shape, axes);
                    let mut two_passes = vec![0; shape.len()];
                    let two_pass_exceptions =
                        crate::quantize::quantize_f64_scalar(&wide, f64::from(inv_tick), &mut two_passes);
                    difference_scalar(&mut two_passes, shape, axes);
                    assert_eq!((expected_wide_exceptions, &expected_wide), (two_pass_exceptions, &two_passes));
                    for kernels in [Kernels::detect(), Kernels::detect().without_vbmi(), Kernels::scalar()] {
                        let mut got = vec![7; shape.len()];
                        let exceptions = quantize_difference_f32(kernels, &values, inv_tick, &mut got, shape, axes);
                        assert_eq!(
                            (exceptions, &got),
                            (expected_exceptions, &expected),
                            "{shape:?} {axes:?} {inv_tick} {}",
                            kernels.instruction_set()
                        );
                        let mut got = vec![7; shape.len()];
                        let exceptions =
                            quantize_difference_f64(kernels, &wide, f64::from(inv_tick), &mut got, shape, axes);
                        assert_eq!(
                            (exceptions, &got),
                            (expected_wide_exceptions, &expected_wide),
                            "f64 {shape:?} {axes:?} {inv_tick} {}",
                            kernels.instruction_set()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn scaled_predictor_inverts_exactly_on_every_axis_and_matches_the_reference() {
        let shape = Shape3 { outer: 4, middle: 3, inner: 21 };
        let original = sample(shape);
        for axis in [Axis::Outer, Axis::Middle, Axis::Inner] {
            for coeff in [-256, -77, 0, 1, 128, 200, 256] {
                let mut a = original.clone();
                let mut b = original.clone();
                scaled_difference_scalar(&mut a, shape, axis, coeff);
                scaled_difference(Kernels::detect(), &mut b, shape, axis, coeff);
                assert_eq!(a, b, "{axis:?} {coeff}");
                scaled_integrate(Kernels::detect(), &mut b, shape, axis, coeff);
                assert_eq!(b, original, "{axis:?} {coeff}");
            }
        }
        let mut extremes = vec![i32::MAX, i32::MIN, i32::MAX, -1, i32::MIN];
        let line = Shape3 { outer: 1, middle: 1, inner: 5 };
        let copy = extremes.clone();
        scaled_difference_scalar(&mut extremes, line, Axis::Inner, 256);
        scaled_integrate_scalar(&mut extremes, line, Axis::Inner, 256);
        assert_eq!(extremes, copy);
    }

    #[test]
    fn lorenzo_of_a_bilinear_ramp_is_zero_inside() {
        let shape = Shape3 { outer: 1, middle: 4, inner: 5 };
        let mut codes: Vec<i32> = (0..4).flat_map(|i| (0..5).map(move |j| 3 * i + 7 * j + 11)).collect();
        difference_scalar(&mut codes, shape, Axes::ALL);
        assert_eq!(codes[0], 11);
        assert!(codes[6..].iter().enumerate().all(|(k, &c)| (k + 6) % 5 == 0 || c == 0), "{codes:?}");
    }
}
