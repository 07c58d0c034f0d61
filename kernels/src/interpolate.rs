//! The interpolation predictor: codes predicted level by level from a coarser grid, with cubic
//! interpolation where four neighbours exist (the idea of SZ3's interpolation predictor, here on
//! integer codes, so it is exact and the same on every machine).
//!
//! Level `s` (a power of two, from the largest below the longest axis down to 1) predicts, axis
//! by axis in the order outer, middle, inner, the codes whose coordinate along that axis is an odd
//! multiple of `s`, whose coordinates along the axes before it are multiples of `s`, and along the
//! axes after it multiples of `2s`. Each is predicted from its neighbours at `-5s, -3s, -s, +s,
//! +3s` along the axis, all of which are known by then. With `z, a, b, c, d` for the codes at
//! `-5s, -3s, -s, +s, +3s`:
//!
//! - all of `a, b, c, d` inside the tile: cubic, `(-a + 9b + 9c - d + 8) >> 4`;
//! - otherwise it depends on the [`Edges`] rule. [`Edges::Linear`]: `(b + c) >> 1` when `b` and
//!   `c` are inside, else `b`. [`Edges::Quadratic`] fits a parabola through the three nearest
//!   neighbours inside, on one side or both, and falls back to a line, then to `b`:
//!   - `b, c, d` inside: `(3b + 6c - d + 4) >> 3`;
//!   - `a, b, c` inside: `(-a + 6b + 3c + 4) >> 3`;
//!   - `b, c` inside: `(b + c) >> 1`;
//!   - `z, a, b` inside (no `c`): `(3z - 10a + 15b + 4) >> 3`;
//!   - `a, b` inside: `(3b - a + 1) >> 1`;
//!   - else `b`.
//!
//! The code at the origin is predicted as 0. Arithmetic is in i64 and the prediction wraps to i32,
//! as do residuals, so that any codes invert exactly. A smooth field's residual is then its
//! noise, about `sqrt(1.64)` times the noise of one code, where differences along three axes
//! (Lorenzo) give `sqrt(8)` times; on rough data differences win, and the encoder picks per tile.
//! Near the edges of a tile the quadratic rule follows a smooth field's slope where the linear
//! one leaves it in the residual; on noise it amplifies more, so the encoder tries both.

use std::marker::PhantomData;

use crate::difference::{Axis, Shape3};
use crate::dispatch::{simd_op, Kernels};

/// How codes are predicted where the cubic's four neighbours are not all inside the tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Edges {
    /// The mean of the two neighbours, or the one before (the tiled format's minor version 1).
    Linear,
    /// A parabola through the three nearest neighbours, else a line, else the one before
    /// (minor version 2).
    Quadratic,
}

/// One step: the level's stride and the axis interpolated along.
#[derive(Clone, Copy, Debug)]
struct Step {
    stride: usize,
    axis: Axis,
}

/// The steps in decoding order: coarse levels first, and outer, middle, inner within a level.
fn steps(shape: Shape3) -> impl DoubleEndedIterator<Item = Step> {
    let longest = shape.outer.max(shape.middle).max(shape.inner);
    let mut levels = Vec::new();
    let mut stride = 1usize;
    while stride < longest {
        levels.push(stride);
        stride *= 2;
    }
    levels
        .into_iter()
        .rev()
        .flat_map(|stride| [Axis::Outer, Axis::Middle, Axis::Inner].map(|axis| Step { stride, axis }))
}

/// Runs `visit(index, element stride along the axis, coordinate along the axis, axis length)` for
/// every code the step predicts.
fn for_each_target(shape: Shape3, step: Step, mut visit: impl FnMut(usize, usize, usize, usize)) {
    let s = step.stride;
    // (first coordinate, stride) per axis: before the step's axis, multiples of s; the axis itself,
    // odd multiples of s; after it, multiples of 2s.
    let range = |axis: Axis| -> (usize, usize) {
        let order = |a: Axis| match a {
            Axis::Outer => 0,
            Axis::Middle => 1,
            Axis::Inner => 2,
        };
        match order(axis).cmp(&order(step.axis)) {
            std::cmp::Ordering::Less => (0, s),
            std::cmp::Ordering::Equal => (s, 2 * s),
            std::cmp::Ordering::Greater => (0, 2 * s),
        }
    };
    let (o0, os) = range(Axis::Outer);
    let (m0, ms) = range(Axis::Middle);
    let (i0, is) = range(Axis::Inner);
    let (axis_stride, axis_len) = match step.axis {
        Axis::Outer => (shape.middle * shape.inner, shape.outer),
        Axis::Middle => (shape.inner, shape.middle),
        Axis::Inner => (1, shape.inner),
    };
    for o in (o0..shape.outer).step_by(os) {
        for m in (m0..shape.middle).step_by(ms) {
            let row = (o * shape.middle + m) * shape.inner;
            for i in (i0..shape.inner).step_by(is) {
                let coordinate = match step.axis {
                    Axis::Outer => o,
                    Axis::Middle => m,
                    Axis::Inner => i,
                };
                visit(row + i, axis_stride, coordinate, axis_len);
            }
        }
    }
}

/// The prediction of the code at `index` (coordinate `c` along an axis of length `n` whose
/// neighbours are `stride` elements apart, `s` coordinates away), from codes already known.
#[inline(always)]
fn predict(codes: &[i32], index: usize, stride: usize, c: usize, n: usize, s: usize, edges: Edges) -> i32 {
    let at = |k: usize| i64::from(codes[k]);
    let has_after = c + s < n;
    let (has_far_before, has_far_after) = (c >= 3 * s, c + 3 * s < n);
    let before = at(index - s * stride);
    let prediction = if has_after && has_far_before && has_far_after {
        let (a, c, d) = (at(index - 3 * s * stride), at(index + s * stride), at(index + 3 * s * stride));
        (9 * (before + c) - a - d + 8) >> 4
    } else if edges == Edges::Linear {
        if has_after {
            (before + at(index + s * stride)) >> 1
        } else {
            before
        }
    } else if has_after {
        let after = at(index + s * stride);
        if has_far_after {
            (3 * before + 6 * after - at(index + 3 * s * stride) + 4) >> 3
        } else if has_far_before {
            (6 * before + 3 * after - at(index - 3 * s * stride) + 4) >> 3
        } else {
            (before + after) >> 1
        }
    } else if c >= 5 * s {
        (3 * at(index - 5 * s * stride) - 10 * at(index - 3 * s * stride) + 15 * before + 4) >> 3
    } else if has_far_before {
        (3 * before - at(index - 3 * s * stride) + 1) >> 1
    } else {
        before
    };
    prediction as i32
}

/// Scalar reference of [`interpolate_residuals`]: one prediction per code, straight from the
/// definition.
pub fn interpolate_residuals_reference(codes: &mut [i32], shape: Shape3, edges: Edges) {
    assert_eq!(codes.len(), shape.len(), "codes do not match the shape");
    // Later steps read codes that earlier steps predict, so undo them from the last: every
    // neighbour a step reads still holds its code.
    for step in steps(shape).rev() {
        for_each_target(shape, step, |index, stride, c, n| {
            let prediction = predict(codes, index, stride, c, n, step.stride, edges);
            codes[index] = codes[index].wrapping_sub(prediction);
        });
    }
}

/// Scalar reference of [`interpolate_codes`].
pub fn interpolate_codes_reference(codes: &mut [i32], shape: Shape3, edges: Edges) {
    assert_eq!(codes.len(), shape.len(), "codes do not match the shape");
    for step in steps(shape) {
        for_each_target(shape, step, |index, stride, c, n| {
            let prediction = predict(codes, index, stride, c, n, step.stride, edges);
            codes[index] = codes[index].wrapping_add(prediction);
        });
    }
}

/// Replaces codes by their residuals (the encoder's direction); the same result as
/// [`interpolate_residuals_reference`], with the choice of formula taken out of the inner loops
/// and the finest level's steps computed a row at a time, compiled for the instruction set.
pub fn interpolate_residuals(kernels: Kernels, codes: &mut [i32], shape: Shape3, edges: Edges) {
    assert_eq!(codes.len(), shape.len(), "codes do not match the shape");
    simd_op!(Op<'a> { codes: &'a mut [i32], shape: Shape3, edges: Edges } -> () => {
        for step in steps(shape).rev() {
            run_step::<false>(codes, shape, step, edges);
        }
    });
    kernels.run(Op { codes, shape, edges, _borrows: PhantomData })
}

/// Replaces residuals by codes (the decoder's direction): the inverse of
/// [`interpolate_residuals`], the same result as [`interpolate_codes_reference`].
pub fn interpolate_codes(kernels: Kernels, codes: &mut [i32], shape: Shape3, edges: Edges) {
    assert_eq!(codes.len(), shape.len(), "codes do not match the shape");
    simd_op!(Op<'a> { codes: &'a mut [i32], shape: Shape3, edges: Edges } -> () => {
        for step in steps(shape) {
            run_step::<true>(codes, shape, step, edges);
        }
    });
    kernels.run(Op { codes, shape, edges, _borrows: PhantomData })
}

/// Which formula predicts a target: it depends only on the target's coordinate along the axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Formula {
    Cubic,
    Linear,
    Copy,
    /// Parabola through the neighbours at `-s, +s, +3s`.
    QuadraticAhead,
    /// Parabola through the neighbours at `-3s, -s, +s`.
    QuadraticAround,
    /// Parabola through `-5s, -3s, -s`, extended.
    QuadraticBehind,
    /// Line through `-3s, -s`, extended.
    LinearBehind,
}

fn formula(c: usize, n: usize, s: usize, edges: Edges) -> Formula {
    let has_after = c + s < n;
    let (has_far_before, has_far_after) = (c >= 3 * s, c + 3 * s < n);
    match (edges, has_after, has_far_before, has_far_after) {
        (_, true, true, true) => Formula::Cubic,
        (Edges::Linear, true, _, _) => Formula::Linear,
        (Edges::Linear, false, _, _) => Formula::Copy,
        (Edges::Quadratic, true, _, true) => Formula::QuadraticAhead,
        (Edges::Quadratic, true, true, false) => Formula::QuadraticAround,
        (Edges::Quadratic, true, false, false) => Formula::Linear,
        (Edges::Quadratic, false, _, _) if c >= 5 * s => Formula::QuadraticBehind,
        (Edges::Quadratic, false, true, _) => Formula::LinearBehind,
        (Edges::Quadratic, false, false, _) => Formula::Copy,
    }
}

/// The formulas, on the neighbours at `-5s, -3s, -s, +s, +3s` (`z, a, b, c, d`) that each uses;
/// the fast paths below share them. Wrapping to i32 as the format says.
mod weights {
    #[inline(always)]
    pub fn cubic(a: i32, b: i32, c: i32, d: i32) -> i32 {
        let [a, b, c, d] = [a, b, c, d].map(i64::from);
        ((9 * (b + c) - a - d + 8) >> 4) as i32
    }
    #[inline(always)]
    pub fn linear(b: i32, c: i32) -> i32 {
        ((i64::from(b) + i64::from(c)) >> 1) as i32
    }
    #[inline(always)]
    pub fn quadratic_ahead(b: i32, c: i32, d: i32) -> i32 {
        let [b, c, d] = [b, c, d].map(i64::from);
        ((3 * b + 6 * c - d + 4) >> 3) as i32
    }
    #[inline(always)]
    pub fn quadratic_around(a: i32, b: i32, c: i32) -> i32 {
        let [a, b, c] = [a, b, c].map(i64::from);
        ((6 * b + 3 * c - a + 4) >> 3) as i32
    }
    #[inline(always)]
    pub fn quadratic_behind(z: i32, a: i32, b: i32) -> i32 {
        let [z, a, b] = [z, a, b].map(i64::from);
        ((3 * z - 10 * a + 15 * b + 4) >> 3) as i32
    }
    #[inline(always)]
    pub fn linear_behind(a: i32, b: i32) -> i32 {
        ((3 * i64::from(b) - i64::from(a) + 1) >> 1) as i32
    }
}

/// Predicts (and adds, when decoding, or subtracts) `count` targets `first, first + step, ...`
/// whose neighbours along the axis are `d` elements apart, all with formula `F`.
#[inline(always)]
fn run<const DECODE: bool>(codes: &mut [i32], first: usize, step: usize, count: usize, d: usize, f: Formula) {
    #[inline(always)]
    fn each<const DECODE: bool>(
        codes: &mut [i32],
        first: usize,
        step: usize,
        count: usize,
        predict: impl Fn(&[i32], usize) -> i32,
    ) {
        let mut k = first;
        for _ in 0..count {
            let p = predict(codes, k);
            codes[k] = if DECODE { codes[k].wrapping_add(p) } else { codes[k].wrapping_sub(p) };
            k += step;
        }
    }
    use weights::*;
    match f {
        Formula::Cubic => {
            each::<DECODE>(codes, first, step, count, |c, k| cubic(c[k - 3 * d], c[k - d], c[k + d], c[k + 3 * d]))
        }
        Formula::Linear => each::<DECODE>(codes, first, step, count, |c, k| linear(c[k - d], c[k + d])),
        Formula::Copy => each::<DECODE>(codes, first, step, count, |c, k| c[k - d]),
        Formula::QuadraticAhead => {
            each::<DECODE>(codes, first, step, count, |c, k| quadratic_ahead(c[k - d], c[k + d], c[k + 3 * d]))
        }
        Formula::QuadraticAround => {
            each::<DECODE>(codes, first, step, count, |c, k| quadratic_around(c[k - 3 * d], c[k - d], c[k + d]))
        }
        Formula::QuadraticBehind => {
            each::<DECODE>(codes, first, step, count, |c, k| quadratic_behind(c[k - 5 * d], c[k - 3 * d], c[k - d]))
        }
        Formula::LinearBehind => {
            each::<DECODE>(codes, first, step, count, |c, k| linear_behind(c[k - 3 * d], c[k - d]))
        }
    }
}

/// [`run`] for targets two elements apart (every step of the finest level): predicts every
/// element of the span from the first target to the last into `scratch`, reading only, then
/// applies the predictions at the targets. Twice the arithmetic, but over whole contiguous rows,
/// which the compiler turns into vector code; in place, reading neighbours while writing
/// targets, it could not.
#[inline(always)]
fn run_pairs<const DECODE: bool>(
    codes: &mut [i32],
    first: usize,
    count: usize,
    d: usize,
    f: Formula,
    scratch: &mut Vec<i32>,
) {
    if count == 0 {
        return;
    }
    let span = 2 * count - 1;
    scratch.clear();
    scratch.resize(span, 0);
    // Every element of the span lies between two targets, so its neighbours are inside the
    // range the formula allows for the targets.
    let at = |k: isize| &codes[(first as isize + k * d as isize) as usize..][..span];
    use weights::*;
    let out = scratch.iter_mut();
    match f {
        Formula::Cubic => {
            for (p, (((&a, &b), &c), &d)) in out.zip(at(-3).iter().zip(at(-1)).zip(at(1)).zip(at(3))) {
                *p = cubic(a, b, c, d);
            }
        }
        Formula::Linear => {
            for (p, (&b, &c)) in out.zip(at(-1).iter().zip(at(1))) {
                *p = linear(b, c);
            }
        }
        Formula::Copy => scratch.copy_from_slice(at(-1)),
        Formula::QuadraticAhead => {
            for (p, ((&b, &c), &d)) in out.zip(at(-1).iter().zip(at(1)).zip(at(3))) {
                *p = quadratic_ahead(b, c, d);
            }
        }
        Formula::QuadraticAround => {
            for (p, ((&a, &b), &c)) in out.zip(at(-3).iter().zip(at(-1)).zip(at(1))) {
                *p = quadratic_around(a, b, c);
            }
        }
        Formula::QuadraticBehind => {
            for (p, ((&z, &a), &b)) in out.zip(at(-5).iter().zip(at(-3)).zip(at(-1))) {
                *p = quadratic_behind(z, a, b);
            }
        }
        Formula::LinearBehind => {
            for (p, (&a, &b)) in out.zip(at(-3).iter().zip(at(-1))) {
                *p = linear_behind(a, b);
            }
        }
    }
    for (i, (x, &p)) in codes[first..first + span].iter_mut().zip(scratch.iter()).enumerate() {
        // All ones at the targets (even offsets), zero between them.
        let p = p & (((i & 1) as i32) - 1);
        *x = if DECODE { x.wrapping_add(p) } else { x.wrapping_sub(p) };
    }
}

/// The targets along an axis of length `n` at level `s` (coordinates `s, 3s, 5s, ...`) as runs
/// that share a formula: `(first coordinate, count, formula)`. The formula changes only near
/// the ends.
fn runs_along(n: usize, s: usize, edges: Edges) -> Vec<(usize, usize, Formula)> {
    let mut runs: Vec<(usize, usize, Formula)> = Vec::new();
    let mut push = |c: usize, count: usize, f: Formula| match runs.last_mut() {
        Some((_, len, last)) if *last == f => *len += count,
        _ => runs.push((c, count, f)),
    };
    let targets = if n > s { (n - s).div_ceil(2 * s) } else { 0 };
    let coordinate = |k: usize| s + 2 * s * k;
    // Targets 2 to `targets - 3` have all four neighbours (from 5s before to 3s after the third
    // target, and so on to the third from last): one formula, without looking at each (which,
    // on 1-d tiles, was a twentieth of choosing their predictor).
    let middle = 2..targets.saturating_sub(2);
    for k in 0..targets {
        if middle.contains(&k) {
            if k == middle.start {
                push(coordinate(k), middle.len(), formula(coordinate(k), n, s, edges));
            }
            continue;
        }
        push(coordinate(k), 1, formula(coordinate(k), n, s, edges));
    }
    runs
}

/// One step over all its targets, in runs that share a formula. (Inlined so that it is compiled
/// for the dispatched instruction set.)
#[inline(always)]
fn run_step<const DECODE: bool>(codes: &mut [i32], shape: Shape3, step: Step, edges: Edges) {
    let s = step.stride;
    let plane = shape.middle * shape.inner;
    let axis_len = match step.axis {
        Axis::Outer => shape.outer,
        Axis::Middle => shape.middle,
        Axis::Inner => shape.inner,
    };
    if axis_len <= s {
        // No coordinate along the axis is an odd multiple of s: nothing to visit.
        return;
    }
    // Coordinates visited along the axes other than the step's: multiples of s before it,
    // multiples of 2s after it.
    let count = |len: usize, every: usize| len.div_ceil(every);
    let mut scratch = Vec::new();
    let mut run_any = |codes: &mut [i32], first: usize, targets: usize, d: usize, f: Formula| {
        // Short runs (rows of a few elements, one element per row for one axis) cost more to
        // set up than they save.
        if s == 1 && targets >= 8 {
            run_pairs::<DECODE>(codes, first, targets, d, f, &mut scratch);
        } else {
            run::<DECODE>(codes, first, 2 * s, targets, d, f);
        }
    };
    match step.axis {
        Axis::Outer if plane == 1 => {
            // One element per row (a 1-d tile): the targets along the outer axis are one strided
            // run per formula, as along a row.
            for (c, len, f) in runs_along(shape.outer, s, edges) {
                run_any(codes, c, len, s, f);
            }
        }
        Axis::Inner => {
            let runs = runs_along(shape.inner, s, edges);
            for o in (0..shape.outer).step_by(s) {
                for m in (0..shape.middle).step_by(s) {
                    let row = o * plane + m * shape.inner;
                    for &(c, len, f) in &runs {
                        run_any(codes, row + c, len, s, f);
                    }
                }
            }
        }
        Axis::Middle => {
            let targets_per_row = count(shape.inner, 2 * s);
            for o in (0..shape.outer).step_by(s) {
                for m in (s..shape.middle).step_by(2 * s) {
                    let f = formula(m, shape.middle, s, edges);
                    run_any(codes, o * plane + m * shape.inner, targets_per_row, s * shape.inner, f);
                }
            }
        }
        Axis::Outer => {
            let targets_per_row = count(shape.inner, 2 * s);
            for o in (s..shape.outer).step_by(2 * s) {
                let f = formula(o, shape.outer, s, edges);
                for m in (0..shape.middle).step_by(2 * s) {
                    run_any(codes, o * plane + m * shape.inner, targets_per_row, s * plane, f);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shapes() -> Vec<Shape3> {
        let mut all = Vec::new();
        for outer in [1, 2, 3, 5, 7, 8, 9, 17] {
            for middle in [1, 2, 4, 6, 13] {
                for inner in [1, 2, 3, 8, 11, 33] {
                    all.push(Shape3 { outer, middle, inner });
                }
            }
        }
        all
    }

    #[test]
    fn runs_along_an_axis_give_each_target_its_own_formula() {
        for n in 0..80 {
            for s in [1, 2, 3, 4, 8, 16, 32] {
                for edges in [Edges::Linear, Edges::Quadratic] {
                    let each: Vec<(usize, Formula)> =
                        (s..n).step_by(2 * s).map(|c| (c, formula(c, n, s, edges))).collect();
                    let from_runs: Vec<(usize, Formula)> = runs_along(n, s, edges)
                        .into_iter()
                        .flat_map(|(c, len, f)| (0..len).map(move |k| (c + 2 * s * k, f)))
                        .collect();
                    assert_eq!(each, from_runs, "n {n} s {s} {edges:?}");
                    let runs = runs_along(n, s, edges);
                    assert!(runs.windows(2).all(|w| w[0].2 != w[1].2), "runs not merged: n {n} s {s}");
                }
            }
        }
    }

    #[test]
    fn every_code_is_predicted_exactly_once_or_is_the_origin() {
        for shape in shapes() {
            let mut seen = vec![0u32; shape.len()];
            for step in steps(shape) {
                for_each_target(shape, step, |index, _, _, _| seen[index] += 1);
            }
            assert_eq!(seen[0], 0, "{shape:?}");
            assert!(seen[1..].iter().all(|&n| n == 1), "{shape:?}: {seen:?}");
        }
    }

    #[test]
    fn codes_come_back_exactly_even_at_the_extremes() {
        let mut state = 12345u64;
        for shape in shapes() {
            for extreme in [false, true] {
                let codes: Vec<i32> = (0..shape.len())
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                        let r = (state >> 32) as u32;
                        if extreme {
                            [i32::MIN, i32::MAX, 0, -1][(r % 4) as usize]
                        } else {
                            (r % 2001) as i32 - 1000
                        }
                    })
                    .collect();
                for (edges, kernels) in [Edges::Linear, Edges::Quadratic]
                    .into_iter()
                    .flat_map(|e| [(e, Kernels::detect()), (e, Kernels::scalar())])
                {
                    let mut work = codes.clone();
                    interpolate_residuals(kernels, &mut work, shape, edges);
                    let mut reference = codes.clone();
                    interpolate_residuals_reference(&mut reference, shape, edges);
                    assert_eq!(work, reference, "{shape:?} {edges:?}: residuals differ from the reference");
                    interpolate_codes(kernels, &mut work, shape, edges);
                    assert_eq!(work, codes, "{shape:?} {edges:?}");
                    interpolate_codes_reference(&mut reference, shape, edges);
                    assert_eq!(reference, codes, "{shape:?} {edges:?}");
                }
            }
        }
    }

    #[test]
    fn a_smooth_cube_leaves_smaller_residuals_than_differences() {
        let shape = Shape3 { outer: 16, middle: 16, inner: 16 };
        let codes: Vec<i32> = (0..shape.len())
            .map(|k| {
                let (o, m, i) = ((k / 256) as f64, ((k / 16) % 16) as f64, (k % 16) as f64);
                (1000.0 * ((o * 0.2).sin() + (m * 0.15).cos() * (i * 0.1).sin())).round() as i32
            })
            .collect();
        let sum_of_residuals = |edges| {
            let mut residuals = codes.clone();
            interpolate_residuals(Kernels::detect(), &mut residuals, shape, edges);
            residuals[1..].iter().map(|&r| i64::from(r).abs()).sum::<i64>()
        };
        let (linear, quadratic) = (sum_of_residuals(Edges::Linear), sum_of_residuals(Edges::Quadratic));
        let differences: i64 = codes.windows(2).map(|w| i64::from(w[1] - w[0]).abs()).sum();
        assert!(linear * 4 < differences, "interpolation {linear}, differences {differences}");
        // On a smooth cube the parabolas at the edges follow the curve that lines miss.
        assert!(quadratic * 2 < linear, "quadratic edges {quadratic}, linear edges {linear}");
    }
}
