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
/// [`interpolate_residuals_reference`], with the choice of formula taken out of the inner loops,
/// the coarser levels run on a dense copy of the codes at even coordinates, and the finest
/// level's steps computed a row at a time: in i32 lanes on AVX-512 (with VBMI, where the other
/// AVX-512 kernels run), else compiled for the instruction set.
pub fn interpolate_residuals(kernels: Kernels, codes: &mut [i32], shape: Shape3, edges: Edges) {
    assert_eq!(codes.len(), shape.len(), "codes do not match the shape");
    #[cfg(target_arch = "x86_64")]
    if kernels.has_vbmi() {
        // SAFETY: the CPU has AVX-512 F, BW, VL and VBMI (`has_vbmi`).
        return unsafe { avx512::interpolate::<false>(codes, shape, edges) };
    }
    simd_op!(Op<'a> { codes: &'a mut [i32], shape: Shape3, edges: Edges } -> () => {
        levels::<false>(codes, shape, edges, &mut Compiled::<false> { scratch: Vec::new() })
    });
    kernels.run(Op { codes, shape, edges, _borrows: PhantomData })
}

/// Replaces residuals by codes (the decoder's direction): the inverse of
/// [`interpolate_residuals`], the same result as [`interpolate_codes_reference`].
pub fn interpolate_codes(kernels: Kernels, codes: &mut [i32], shape: Shape3, edges: Edges) {
    assert_eq!(codes.len(), shape.len(), "codes do not match the shape");
    #[cfg(target_arch = "x86_64")]
    if kernels.has_vbmi() {
        // SAFETY: the CPU has AVX-512 F, BW, VL and VBMI (`has_vbmi`).
        return unsafe { avx512::interpolate::<true>(codes, shape, edges) };
    }
    simd_op!(Op<'a> { codes: &'a mut [i32], shape: Shape3, edges: Edges } -> () => {
        levels::<true>(codes, shape, edges, &mut Compiled::<true> { scratch: Vec::new() })
    });
    kernels.run(Op { codes, shape, edges, _borrows: PhantomData })
}

/// Tiles at least this long have their coarser levels interpolated on a copy of the codes at
/// even coordinates; smaller ones, and the copies once this small, step by step in place.
const SUBGRID_FROM: usize = 1 << 10;

/// Every step of the interpolation, in order (`DECODE`) or in reverse, with `finest` doing the
/// finest level's work. Level `s` of a tile is level `s / 2` of its codes at even coordinates
/// (each coordinate halved, each length halved and rounded up: the formulas depend only on
/// whether neighbours fall inside, which halving keeps), so the coarser levels run on a dense
/// copy of those codes, where their runs are contiguous, rather than on strided codes in place.
///
/// The copies live in one buffer per thread, kept from call to call: every element of a copy is
/// written before it is read, and a fresh one per tile cost a zeroed allocation and its page
/// faults.
/// The levels run one copy after another, in a loop rather than by recursion, so that all of
/// them are compiled inside the dispatched function, for its instruction set.
#[inline(always)]
fn levels<const DECODE: bool>(codes: &mut [i32], shape: Shape3, edges: Edges, finest: &mut impl Finest) {
    thread_local! {
        static COPIES: std::cell::Cell<Vec<i32>> = const { std::cell::Cell::new(Vec::new()) };
    }
    // The tile and its copies, each at even coordinates of the one before, down to one small
    // enough to run step by step.
    let mut shapes = vec![shape];
    while shapes[shapes.len() - 1].len() >= SUBGRID_FROM {
        shapes.push(halved(shapes[shapes.len() - 1]));
    }
    let coarsest = shapes.len() - 1;
    let mut copies = COPIES.take();
    let needed: usize = shapes[1..].iter().map(Shape3::len).sum();
    if copies.len() < needed {
        copies.resize(needed, 0);
    }
    // Level `k`'s codes (the tile's for 0) and the next level's copy.
    let mut starts = vec![0; shapes.len()];
    for k in 2..shapes.len() {
        starts[k] = starts[k - 1] + shapes[k - 1].len();
    }
    let finest_steps = [Axis::Outer, Axis::Middle, Axis::Inner].map(|axis| Step { stride: 1, axis });
    // Whether every code the next step reads is within ±2^26 (see `Finest::pairs`): known
    // from the values each step wrote (decoding) or the inner step read (encoding: the others
    // read only codes it read).
    // Down the levels: encoding, each level's finest steps first (they read only codes at even
    // coordinates along some axis, which no later step has changed yet); then the copy.
    for k in 0..coarsest {
        let (level, coarse) = level_and_copy(codes, &mut copies, &starts, &shapes, k);
        if !DECODE {
            let mut small = false;
            for step in finest_steps.into_iter().rev() {
                let read_small = run_step::<false>(level, shapes[k], step, edges, finest, small);
                small = small || read_small;
            }
        }
        even_coordinates(level, shapes[k], coarse, shapes[k + 1], false, finest);
    }
    let coarsest_codes = if coarsest == 0 {
        &mut codes[..]
    } else {
        level_and_copy(codes, &mut copies, &starts, &shapes, coarsest - 1).1
    };
    every_step::<DECODE>(shapes[coarsest], edges, finest, coarsest_codes);
    // Up the levels: each copy back; decoding, then the level's finest steps.
    for k in (0..coarsest).rev() {
        let (level, coarse) = level_and_copy(codes, &mut copies, &starts, &shapes, k);
        let mut small = even_coordinates(level, shapes[k], coarse, shapes[k + 1], true, finest);
        if DECODE {
            for step in finest_steps {
                small &= run_step::<true>(level, shapes[k], step, edges, finest, small);
            }
        }
    }
    COPIES.set(copies);
}

/// Every step of a tile of `shape`, in order (`DECODE`) or in reverse, in place.
#[inline(always)]
fn every_step<const DECODE: bool>(shape: Shape3, edges: Edges, finest: &mut impl Finest, codes: &mut [i32]) {
    if DECODE {
        for step in steps(shape) {
            run_step::<true>(codes, shape, step, edges, finest, false);
        }
    } else {
        for step in steps(shape).rev() {
            run_step::<false>(codes, shape, step, edges, finest, false);
        }
    }
}

/// Level `k`'s codes (`codes` for 0, else a copy in `copies` from `starts[k]`) and the next
/// level's copy, of the lengths `shapes` gives.
fn level_and_copy<'a>(
    codes: &'a mut [i32],
    copies: &'a mut [i32],
    starts: &[usize],
    shapes: &[Shape3],
    k: usize,
) -> (&'a mut [i32], &'a mut [i32]) {
    let next = starts[k + 1]..starts[k + 1] + shapes[k + 1].len();
    if k == 0 {
        (codes, &mut copies[next])
    } else {
        let (before, after) = copies.split_at_mut(next.start);
        (&mut before[starts[k]..starts[k] + shapes[k].len()], &mut after[..next.len()])
    }
}

/// A shape's codes at even coordinates: each length halved, rounded up.
fn halved(shape: Shape3) -> Shape3 {
    Shape3 { outer: shape.outer.div_ceil(2), middle: shape.middle.div_ceil(2), inner: shape.inner.div_ceil(2) }
}

/// Copies the codes at even coordinates of a tile of `shape` into `coarse` (of shape `half`), or
/// back when `back`, a row at a time. Returns whether every code copied is within ±2^26, when
/// `finest` checks it (false otherwise).
#[inline(always)]
fn even_coordinates(
    codes: &mut [i32],
    shape: Shape3,
    coarse: &mut [i32],
    half: Shape3,
    back: bool,
    finest: &mut impl Finest,
) -> bool {
    let plane = shape.middle * shape.inner;
    if plane == 1 {
        // One element per row (a 1-d tile): the even ones of the whole tile, as one row.
        return finest.copy_row(codes, coarse, back);
    }
    let mut copies = coarse.chunks_exact_mut(half.inner);
    let mut small = true;
    for o in (0..shape.outer).step_by(2) {
        for m in (0..shape.middle).step_by(2) {
            let row = &mut codes[o * plane + m * shape.inner..][..shape.inner];
            let Some(copy) = copies.next() else { return small };
            small &= finest.copy_row(row, copy, back);
        }
    }
    small
}

/// The finest level's work, done either by the AVX-512 kernels or by code compiled for the
/// dispatched instruction set ([`Compiled`]).
trait Finest {
    /// Predicts runs of targets two apart that share formula `f`, one run per row, and adds
    /// (decoding) or subtracts the predictions. `small` says that every code read is within
    /// ±2^26, where a cubic needs no check that it cannot wrap. Returns whether every code
    /// written is (when it checks; else false).
    fn pairs(&mut self, codes: &mut [i32], rows: Rows, f: Formula, small: bool) -> bool;
    /// Copies a row's elements at even places into `copy` (half its length, rounded up), or
    /// back when `back`; returns whether every code copied is within ±2^26 (when it checks;
    /// else false).
    fn copy_row(&mut self, row: &mut [i32], copy: &mut [i32], back: bool) -> bool;
    /// The inner axis's step of the finest level, for every row of a tile whose last axis is
    /// `inner` long and whose rows' targets form `runs`, in one pass, `small` when every code it
    /// reads is known to be within ±2^26: then whether every code it read is; `None` if it
    /// cannot.
    fn inner_rows(
        &mut self,
        codes: &mut [i32],
        inner: usize,
        runs: &[(usize, usize, Formula)],
        small: bool,
    ) -> Option<bool>;
}

/// The finest level's work compiled for the dispatched instruction set, by the compiler.
struct Compiled<const DECODE: bool> {
    scratch: Vec<i32>,
}

impl<const DECODE: bool> Finest for Compiled<DECODE> {
    #[inline(always)]
    fn pairs(&mut self, codes: &mut [i32], rows: Rows, f: Formula, _: bool) -> bool {
        for r in 0..rows.rows {
            run_pairs::<DECODE>(codes, rows.first + r * rows.row_stride, rows.count, rows.d, f, &mut self.scratch)
        }
        false
    }

    #[inline(always)]
    fn copy_row(&mut self, row: &mut [i32], copy: &mut [i32], back: bool) -> bool {
        copy_even(row, copy, back);
        false
    }

    #[inline(always)]
    fn inner_rows(&mut self, _: &mut [i32], _: usize, _: &[(usize, usize, Formula)], _: bool) -> Option<bool> {
        None
    }
}

/// Copies a row's elements at even places into `copy` (half its length, rounded up), or back
/// when `back`.
#[inline(always)]
fn copy_even(row: &mut [i32], copy: &mut [i32], back: bool) {
    if back {
        for (x, &c) in row.iter_mut().step_by(2).zip(copy.iter()) {
            *x = c;
        }
    } else {
        for (c, &x) in copy.iter_mut().zip(row.iter().step_by(2)) {
            *c = x;
        }
    }
}

/// [`interpolate_codes`], then each code `c` replaced by the float32 bits of `c as f32 * tick`
/// where the last step can do that in its own pass (on AVX-512, tiles whose rows are of even
/// length, at least 8); returns whether it did (if not, the codes are as [`interpolate_codes`]
/// leaves them).
pub fn interpolate_codes_dequantize_f32(
    kernels: Kernels,
    codes: &mut [i32],
    shape: Shape3,
    edges: Edges,
    tick: f32,
) -> bool {
    assert_eq!(codes.len(), shape.len(), "codes do not match the shape");
    #[cfg(target_arch = "x86_64")]
    if kernels.has_vbmi() {
        // SAFETY: the CPU has AVX-512 F, BW, VL and VBMI (`has_vbmi`).
        return unsafe { avx512::interpolate_dequantize(codes, shape, edges, tick) };
    }
    let _ = tick;
    interpolate_codes(kernels, codes, shape, edges);
    false
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
/// the fast paths below share them (the AVX-512 one computes them in i32 lanes). Wrapping to
/// i32 as the format says.
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

/// One step over all its targets, in runs that share a formula, `small` when every code it reads
/// is within ±2^26. Returns, decoding, whether every code it wrote is, and encoding, whether
/// every code it read is (as far as it checked; false when it did not). (Inlined so that it is
/// compiled for the dispatched instruction set.)
#[inline(always)]
fn run_step<const DECODE: bool>(
    codes: &mut [i32],
    shape: Shape3,
    step: Step,
    edges: Edges,
    finest: &mut impl Finest,
    small: bool,
) -> bool {
    let s = step.stride;
    let plane = shape.middle * shape.inner;
    let axis_len = match step.axis {
        Axis::Outer => shape.outer,
        Axis::Middle => shape.middle,
        Axis::Inner => shape.inner,
    };
    if axis_len <= s {
        // No coordinate along the axis is an odd multiple of s: nothing to visit (so nothing
        // written, and nothing read that later steps could rely on).
        return DECODE;
    }
    let mut written_small = true;
    // Coordinates visited along the axes other than the step's: multiples of s before it,
    // multiples of 2s after it.
    let count = |len: usize, every: usize| len.div_ceil(every);
    let rows = |first: usize, count: usize, d: usize, rows: usize, row_stride: usize| Rows {
        first,
        count,
        d,
        rows,
        row_stride,
    };
    match step.axis {
        Axis::Outer if plane == 1 => {
            // One element per row (a 1-d tile): the targets along the outer axis are one strided
            // run per formula, as along a row.
            for (c, len, f) in runs_along(shape.outer, s, edges) {
                run_rows::<DECODE>(codes, finest, s, small, &mut written_small, rows(c, len, s, 1, 0), f);
            }
        }
        Axis::Inner => {
            let runs = runs_along(shape.inner, s, edges);
            if s == 1 {
                if let Some(read_small) = finest.inner_rows(codes, shape.inner, &runs, small) {
                    return !DECODE && read_small;
                }
            }
            let row_count = count(shape.middle, s);
            for o in (0..shape.outer).step_by(s) {
                for &(c, len, f) in &runs {
                    let first = o * plane + c;
                    if s == 1 && len >= 8 {
                        finest.pairs(codes, rows(first, len, s, row_count, s * shape.inner), f, small);
                    } else {
                        // A few targets per row (those near the ends): each one's column down the
                        // rows in one loop, rather than a call per row.
                        written_small = false;
                        for k in 0..len {
                            run::<DECODE>(codes, first + 2 * s * k, s * shape.inner, row_count, s, f);
                        }
                    }
                }
            }
        }
        Axis::Middle => {
            let targets_per_row = count(shape.inner, 2 * s);
            let runs = runs_along(shape.middle, s, edges);
            for o in (0..shape.outer).step_by(s) {
                for &(c, len, f) in &runs {
                    let first = o * plane + c * shape.inner;
                    run_rows::<DECODE>(
                        codes,
                        finest,
                        s,
                        small,
                        &mut written_small,
                        rows(first, targets_per_row, s * shape.inner, len, 2 * s * shape.inner),
                        f,
                    );
                }
            }
        }
        Axis::Outer => {
            let targets_per_row = count(shape.inner, 2 * s);
            let row_count = count(shape.middle, 2 * s);
            for (c, len, f) in runs_along(shape.outer, s, edges) {
                for o in (c..).step_by(2 * s).take(len) {
                    run_rows::<DECODE>(
                        codes,
                        finest,
                        s,
                        small,
                        &mut written_small,
                        rows(o * plane, targets_per_row, s * plane, row_count, 2 * s * shape.inner),
                        f,
                    );
                }
            }
        }
    }
    DECODE && written_small
}

/// One [`Rows`] of a step at level `s` with formula `f`: by `finest` when the runs are long
/// (short runs, rows of a few elements or one element per row for one axis, cost more to set
/// up than they save), else target by target. Clears `written_small` when the codes written
/// were not checked. (A function, not a closure in `run_step`: a closure that the compiler does
/// not inline is compiled for the baseline instruction set, not the dispatched one.)
#[inline(always)]
fn run_rows<const DECODE: bool>(
    codes: &mut [i32],
    finest: &mut impl Finest,
    s: usize,
    small: bool,
    written_small: &mut bool,
    rows: Rows,
    f: Formula,
) {
    if s == 1 && rows.count >= 8 {
        *written_small &= finest.pairs(codes, rows, f, small);
    } else {
        *written_small = false;
        for r in 0..rows.rows {
            run::<DECODE>(codes, rows.first + r * rows.row_stride, 2 * s, rows.count, rows.d, f);
        }
    }
}

/// Runs of targets that share a formula, one per row: in each, `count` targets two strides
/// apart from the row's first, their neighbours `d` apart; the rows' first targets are
/// `first`, `first + row_stride`, and so on, `rows` of them.
#[derive(Clone, Copy, Debug)]
struct Rows {
    first: usize,
    count: usize,
    d: usize,
    rows: usize,
    row_stride: usize,
}

/// The finest level's runs on AVX-512: predictions in i32 lanes, sixteen elements at a time, added
/// in place at the targets.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::*;
    use std::arch::x86_64::*;

    /// The steps of [`interpolate_codes`] (`DECODE`) or [`interpolate_residuals`], with the
    /// finest level's runs on AVX-512.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn interpolate<const DECODE: bool>(codes: &mut [i32], shape: Shape3, edges: Edges) {
        levels::<DECODE>(codes, shape, edges, &mut Avx512::<DECODE> { dequantize: None, dequantized: false });
    }

    /// [`super::interpolate_codes_dequantize_f32`] on AVX-512: the inner step of the finest level
    /// of the tile itself, its last, dequantizes in its pass.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn interpolate_dequantize(codes: &mut [i32], shape: Shape3, edges: Edges, tick: f32) -> bool {
        let mut finest = Avx512::<true> { dequantize: Some((codes.len(), tick)), dequantized: false };
        levels::<true>(codes, shape, edges, &mut finest);
        finest.dequantized
    }

    /// The finest level's work on AVX-512. Made only by [`interpolate`] and
    /// [`interpolate_dequantize`], which run only on CPUs with AVX-512 F.
    struct Avx512<const DECODE: bool> {
        /// The tile's length and the tick, when its last step (the only inner step on codes of
        /// the tile's length: the copies are shorter) is to dequantize.
        dequantize: Option<(usize, f32)>,
        /// Whether that step did.
        dequantized: bool,
    }

    impl<const DECODE: bool> Finest for Avx512<DECODE> {
        fn pairs(&mut self, codes: &mut [i32], rows: Rows, f: Formula, small: bool) -> bool {
            // SAFETY: an `Avx512` exists only on a CPU with AVX-512 F.
            unsafe { run_pairs::<DECODE>(codes, rows, f, small) }
        }

        fn copy_row(&mut self, row: &mut [i32], copy: &mut [i32], back: bool) -> bool {
            // SAFETY: as above.
            unsafe { copy_even(row, copy, back) }
        }

        fn inner_rows(
            &mut self,
            codes: &mut [i32],
            inner: usize,
            runs: &[(usize, usize, Formula)],
            small: bool,
        ) -> Option<bool> {
            let tick = self.dequantize.filter(|&(len, _)| DECODE && codes.len() == len).map(|(_, tick)| tick);
            // SAFETY: as above.
            let read_small = unsafe { inner_rows::<DECODE>(codes, inner, runs, small, tick) }?;
            self.dequantized |= tick.is_some();
            Some(read_small)
        }
    }

    /// [`super::copy_even`], sixteen copies at a time, picked from (or merged into) 32 elements
    /// of the row by a two-register permute. Returns whether every code copied back is within
    /// ±2^26 (false when copying the other way).
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn copy_even(row: &mut [i32], copy: &mut [i32], back: bool) -> bool {
        assert_eq!(copy.len(), row.len().div_ceil(2));
        let mut magnitudes = _mm512_setzero_si512();
        let evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        // Index 16 and up picks from the second register (the copies), below from the first.
        let merge_low = _mm512_setr_epi32(16, 1, 17, 3, 18, 5, 19, 7, 20, 9, 21, 11, 22, 13, 23, 15);
        let merge_high = _mm512_setr_epi32(24, 1, 25, 3, 26, 5, 27, 7, 28, 9, 29, 11, 30, 13, 31, 15);
        let (n, row_at, copy_at) = (row.len(), row.as_mut_ptr(), copy.as_mut_ptr());
        for start in (0..n).step_by(32) {
            let lanes = |from: usize, len: usize| -> u16 {
                if from >= len {
                    0
                } else if len - from >= 16 {
                    u16::MAX
                } else {
                    ((1u32 << (len - from)) - 1) as u16
                }
            };
            let (low_lanes, high_lanes) = (lanes(start, n), lanes(start + 16, n));
            let copy_lanes = lanes(start / 2, copy.len());
            // SAFETY: each access reads or writes only the lanes inside `row` or `copy`.
            unsafe {
                let low = _mm512_maskz_loadu_epi32(low_lanes, row_at.add(start).cast());
                let high = _mm512_maskz_loadu_epi32(high_lanes, row_at.wrapping_add(start + 16).cast());
                if back {
                    let c = _mm512_maskz_loadu_epi32(copy_lanes, copy_at.add(start / 2).cast());
                    magnitudes = _mm512_or_si512(magnitudes, _mm512_abs_epi32(c));
                    let low = _mm512_permutex2var_epi32(low, merge_low, c);
                    let high = _mm512_permutex2var_epi32(high, merge_high, c);
                    _mm512_mask_storeu_epi32(row_at.add(start).cast(), low_lanes, low);
                    _mm512_mask_storeu_epi32(row_at.wrapping_add(start + 16).cast(), high_lanes, high);
                } else {
                    let c = _mm512_permutex2var_epi32(low, evens, high);
                    _mm512_mask_storeu_epi32(copy_at.add(start / 2).cast(), copy_lanes, c);
                }
            }
        }
        back && small(magnitudes)
    }

    /// `floor((sum of w * x + r) / 2^K)` modulo 2^32, as [`weights`] defines it in i64, from two
    /// i32 sums that wrap: `quotient`, the sum of `w * (x >> K)`, and `whole`, the sum of `w * x`
    /// plus `r`. With `x = 2^K * (x >> K) + (x mod 2^K)`, the result is `quotient` plus the
    /// floor of `(sum of w * (x mod 2^K) + r) / 2^K`, whose numerator, `whole - 2^K * quotient`,
    /// is at most a few hundred and so exact although both sums wrapped.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn divided<const K: u32>(quotient: __m512i, whole: __m512i) -> __m512i {
        let remainder = _mm512_sub_epi32(whole, _mm512_slli_epi32::<K>(quotient));
        _mm512_add_epi32(quotient, _mm512_srai_epi32::<K>(remainder))
    }

    /// A weighted sum of neighbours plus `r`, divided by 2^K as [`weights`] says: for the
    /// formulas near the edges, which few rows use.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn weighted<const N: usize, const K: u32>(w: [i32; N], x: [__m512i; N], r: i32) -> __m512i {
        let (mut quotient, mut whole) = (_mm512_setzero_si512(), _mm512_set1_epi32(r));
        for j in 0..N {
            let weight = _mm512_set1_epi32(w[j]);
            quotient = _mm512_add_epi32(quotient, _mm512_mullo_epi32(weight, _mm512_srai_epi32::<K>(x[j])));
            whole = _mm512_add_epi32(whole, _mm512_mullo_epi32(weight, x[j]));
        }
        divided::<K>(quotient, whole)
    }

    /// Whether every lane of `magnitudes` (absolute values, or several or-ed together) is below
    /// 2^26: a cubic of neighbours so small cannot wrap. (The absolute value of i32::MIN has the
    /// top bit set.)
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn small(magnitudes: __m512i) -> bool {
        _mm512_test_epi32_mask(magnitudes, _mm512_set1_epi32(!((1 << 26) - 1))) == 0
    }

    /// [`weights::cubic`], sixteen at a time. While every neighbour is within ±2^26 (`known_small`,
    /// or checked here), the sum cannot wrap and one shift divides it; otherwise the quotient is
    /// taken apart as [`weights`] does.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn cubic(a: __m512i, b: __m512i, c: __m512i, d: __m512i, known_small: bool) -> __m512i {
        let nine = |x: __m512i| _mm512_add_epi32(_mm512_slli_epi32::<3>(x), x);
        let whole = _mm512_add_epi32(
            _mm512_sub_epi32(nine(_mm512_add_epi32(b, c)), _mm512_add_epi32(a, d)),
            _mm512_set1_epi32(8),
        );
        let magnitudes = [a, b, c, d].map(|x| _mm512_abs_epi32(x));
        if known_small
            || small(_mm512_ternarylogic_epi32::<0xfe>(
                magnitudes[0],
                magnitudes[1],
                _mm512_or_si512(magnitudes[2], magnitudes[3]),
            ))
        {
            return _mm512_srai_epi32::<4>(whole);
        }
        let high = |x: __m512i| _mm512_srai_epi32::<4>(x);
        let quotient = _mm512_sub_epi32(nine(_mm512_add_epi32(high(b), high(c))), _mm512_add_epi32(high(a), high(d)));
        divided::<4>(quotient, whole)
    }

    /// The formulas as numbers, for a const parameter.
    const CUBIC: u8 = 0;
    const LINEAR: u8 = 1;
    const COPY: u8 = 2;
    const QUADRATIC_AHEAD: u8 = 3;
    const QUADRATIC_AROUND: u8 = 4;
    const QUADRATIC_BEHIND: u8 = 5;
    const LINEAR_BEHIND: u8 = 6;

    /// Formula `F`'s prediction of sixteen elements, from `n(k)`, the sixteen elements `k`
    /// neighbour distances away; `known_small` when all of them are within ±2^26.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn predict<const F: u8>(n: impl Fn(isize) -> __m512i, known_small: bool) -> __m512i {
        match F {
            CUBIC => cubic(n(-3), n(-1), n(1), n(3), known_small),
            LINEAR => weighted::<2, 1>([1, 1], [n(-1), n(1)], 0),
            COPY => n(-1),
            QUADRATIC_AHEAD => weighted::<3, 3>([3, 6, -1], [n(-1), n(1), n(3)], 4),
            QUADRATIC_AROUND => weighted::<3, 3>([-1, 6, 3], [n(-3), n(-1), n(1)], 4),
            QUADRATIC_BEHIND => weighted::<3, 3>([3, -10, 15], [n(-5), n(-3), n(-1)], 4),
            _ => weighted::<2, 1>([-1, 3], [n(-3), n(-1)], 1),
        }
    }

    /// How many neighbours before and after, in steps of the neighbour distance, a formula reads.
    fn reach(f: Formula) -> (usize, usize) {
        match f {
            Formula::Cubic => (3, 3),
            Formula::Linear => (1, 1),
            Formula::Copy => (1, 0),
            Formula::QuadraticAhead => (1, 3),
            Formula::QuadraticAround => (3, 1),
            Formula::QuadraticBehind => (5, 0),
            Formula::LinearBehind => (3, 0),
        }
    }

    /// [`Finest::pairs`] on AVX-512: in each row, the targets `first, first + 2, ...` (`count`
    /// of them), neighbours `d` apart, all with formula `f`.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn run_pairs<const DECODE: bool>(codes: &mut [i32], rows: Rows, f: Formula, small: bool) -> bool {
        let Rows { first, count, d, rows, row_stride } = rows;
        if count == 0 || rows == 0 {
            return true;
        }
        let span = 2 * count - 1;
        let (before, after) = reach(f);
        // Every element of a span lies between two targets, so this puts the neighbours of
        // every element of every row's span inside `codes`.
        let last = first + (rows - 1) * row_stride;
        assert!(first >= before * d && last + span - 1 + after * d < codes.len());
        let run =
            Span { base: codes.as_mut_ptr(), first, span, d, before: before * d, after: after * d, rows, row_stride };
        // SAFETY (each call): `run` describes spans whose neighbours, by the formula's reach,
        // lie inside `codes` (the assertion above).
        unsafe {
            match (f, d == 1) {
                (Formula::Cubic, true) => run.along_row::<DECODE, CUBIC>(small),
                (Formula::Cubic, false) => run.across_rows::<DECODE, CUBIC>(small),
                (Formula::Linear, true) => run.along_row::<DECODE, LINEAR>(small),
                (Formula::Linear, false) => run.across_rows::<DECODE, LINEAR>(small),
                (Formula::Copy, true) => run.along_row::<DECODE, COPY>(small),
                (Formula::Copy, false) => run.across_rows::<DECODE, COPY>(small),
                (Formula::QuadraticAhead, true) => run.along_row::<DECODE, QUADRATIC_AHEAD>(small),
                (Formula::QuadraticAhead, false) => run.across_rows::<DECODE, QUADRATIC_AHEAD>(small),
                (Formula::QuadraticAround, true) => run.along_row::<DECODE, QUADRATIC_AROUND>(small),
                (Formula::QuadraticAround, false) => run.across_rows::<DECODE, QUADRATIC_AROUND>(small),
                (Formula::QuadraticBehind, true) => run.along_row::<DECODE, QUADRATIC_BEHIND>(small),
                (Formula::QuadraticBehind, false) => run.across_rows::<DECODE, QUADRATIC_BEHIND>(small),
                (Formula::LinearBehind, true) => run.along_row::<DECODE, LINEAR_BEHIND>(small),
                (Formula::LinearBehind, false) => run.across_rows::<DECODE, LINEAR_BEHIND>(small),
            }
        }
    }

    /// Runs of targets, a row each: `first, first + 2, ...`, `span` elements from `first` of
    /// the codes at `base`, their neighbours `d` apart; the formula reads from `before` elements
    /// before the span to `after` after it. The next row's first is `row_stride` further.
    #[derive(Clone, Copy)]
    struct Span {
        base: *mut i32,
        first: usize,
        span: usize,
        d: usize,
        before: usize,
        after: usize,
        rows: usize,
        row_stride: usize,
    }

    /// The targets among sixteen elements from a run's first or sixteen after: the even lanes.
    const TARGETS: u16 = 0x5555;

    /// Eight bits spread to the even ones of sixteen (bit `j` to bit `2j`): which of sixteen
    /// elements are the targets that eight bits keep.
    const SPREAD: [u16; 256] = {
        let mut table = [0u16; 256];
        let mut bits = 0;
        while bits < 256 {
            let mut j = 0;
            while j < 8 {
                table[bits] |= (((bits >> j) & 1) << (2 * j)) as u16;
                j += 1;
            }
            bits += 1;
        }
        table
    };

    /// The lanes of the sixteen from `offset` of a span of `span` elements that lie in it.
    fn in_span(offset: usize, span: usize) -> u16 {
        if span - offset >= 16 {
            u16::MAX
        } else {
            ((1u32 << (span - offset)) - 1) as u16
        }
    }

    /// Targets `first, first + 2, ...` of the `span` elements from `first` of the codes at
    /// `base`, neighbours along the row: sixteen to a step, the elements between them gathered
    /// into one register, whose shifts are each target's neighbours, and the predictions
    /// spread back to the targets' places. `targets()` says, step by step, which of the 32
    /// elements from `first + offset` are targets to change (a bit each in the low and the high
    /// sixteen; lanes past the span are dropped here). Each step's loads come before
    /// the step before it is written: a load waiting on a store it overlaps costs more than the
    /// step. Reads only elements in `reach`. `known_small` when every code read is within
    /// ±2^26; returns whether they all were (the elements between targets, and the sixteen
    /// before the first).
    ///
    /// # Safety
    /// The CPU must have AVX-512 F; `reach` lies in the codes and holds the span and every
    /// neighbour formula `F` asks for.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn along<const DECODE: bool, const F: u8>(
        base: *mut i32,
        first: usize,
        span: usize,
        reach: std::ops::Range<usize>,
        known_small: bool,
        tick: Option<f32>,
        mut targets: impl FnMut() -> (u16, u16),
    ) -> bool {
        let odd_lanes = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        let spread_low = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
        let spread_high = _mm512_setr_epi32(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
        let (low, high) = (reach.start as isize, reach.end as isize);
        let load = |at: isize| {
            // SAFETY: only the lanes in `reach` are read, and they lie in the codes.
            unsafe {
                if at >= low && at + 16 <= high {
                    _mm512_loadu_si512(base.wrapping_offset(at).cast())
                } else {
                    let from = (low - at).clamp(0, 16);
                    let to = (high - at).clamp(0, 16);
                    let lanes = (((1u32 << to) - 1) & !((1u32 << from) - 1)) as u16;
                    _mm512_maskz_loadu_epi32(lanes, base.wrapping_offset(at).cast())
                }
            }
        };
        // The elements between targets of the 32 from `at`: `at + 1, at + 3, ...`.
        let between = |at: isize| -> (__m512i, __m512i, __m512i) {
            let (low_half, high_half) = (load(at), load(at + 16));
            (low_half, high_half, _mm512_permutex2var_epi32(low_half, odd_lanes, high_half))
        };
        let (_, _, mut before) = between(first as isize - 32);
        let (mut low_half, mut high_half, mut here) = between(first as isize);
        let mut all_small = known_small || small(_mm512_or_si512(_mm512_abs_epi32(before), _mm512_abs_epi32(here)));
        for offset in (0..span).step_by(32) {
            let at = (first + offset) as isize;
            let (next_low, next_high, after) = between(at + 32);
            all_small = known_small || (all_small && small(_mm512_abs_epi32(after)));
            let prediction = predict::<F>(|k| neighbours(k, before, here, after), all_small);
            // Every step but the last is whole, and so are its masks.
            let (mut low_targets, mut high_targets) = targets();
            let (mut low_span, mut high_span) = (u16::MAX, u16::MAX);
            if span - offset < 32 {
                (low_span, high_span) = (in_span(offset, span), in_span(offset + 16, span.max(offset + 16)));
                (low_targets, high_targets) = (low_targets & low_span, high_targets & high_span);
            }
            let (low_p, high_p) =
                (_mm512_permutexvar_epi32(spread_low, prediction), _mm512_permutexvar_epi32(spread_high, prediction));
            let (low_x, high_x) = if DECODE {
                (
                    _mm512_mask_add_epi32(low_half, low_targets, low_half, low_p),
                    _mm512_mask_add_epi32(high_half, high_targets, high_half, high_p),
                )
            } else {
                (
                    _mm512_mask_sub_epi32(low_half, low_targets, low_half, low_p),
                    _mm512_mask_sub_epi32(high_half, high_targets, high_half, high_p),
                )
            };
            // Dequantizing, every element of the span is final here: all are stored, as floats.
            let (low_x, high_x) = match tick {
                Some(tick) => {
                    let tick = _mm512_set1_ps(tick);
                    let float = |x: __m512i| _mm512_castps_si512(_mm512_mul_ps(_mm512_cvtepi32_ps(x), tick));
                    (float(low_x), float(high_x))
                }
                None => (low_x, high_x),
            };
            // SAFETY: the lanes in `low_span` and `high_span` lie in the span, inside the codes.
            // Elements other than targets are written back as they were read (or as floats).
            unsafe {
                _mm512_mask_storeu_epi32(base.wrapping_offset(at).cast(), low_span, low_x);
                _mm512_mask_storeu_epi32(base.wrapping_offset(at + 16).cast(), high_span, high_x);
            }
            // The elements other than targets are the same in `here` as in the stored halves,
            // and the next sixteen's targets read only those: no chain from step to step.
            (before, here, low_half, high_half) = (here, after, next_low, next_high);
        }
        all_small
    }

    /// The greatest common divisor of `a` and `b`.
    fn gcd(mut a: usize, mut b: usize) -> usize {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    }

    /// The sixteen targets' neighbours `k` steps away (-5, -3, -1, 1 or 3) when the elements
    /// between targets are `here`, after `before` and before `after`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    fn neighbours(k: isize, before: __m512i, here: __m512i, after: __m512i) -> __m512i {
        match k {
            -5 => _mm512_alignr_epi32::<13>(here, before),
            -3 => _mm512_alignr_epi32::<14>(here, before),
            -1 => _mm512_alignr_epi32::<15>(here, before),
            1 => here,
            _ => _mm512_alignr_epi32::<1>(after, here),
        }
    }

    /// [`Finest::inner_rows`]: when the rows are of even length (so that targets, at odd
    /// coordinates, are at odd places of the whole tile) and at least 8 long, the few targets
    /// near each row's ends, each coordinate's down the rows in one loop, then the cubic targets
    /// of every row in one [`along`] over the whole tile. (No target reads another of the same
    /// step, so the order is free; this one leaves every code final in the pass over the tile.)
    /// With a `tick`, that pass also dequantizes every code (see
    /// [`super::interpolate_codes_dequantize_f32`]). `small` when every code the step reads is
    /// known to be within ±2^26 (decoding, from the checks of the steps that wrote them), so
    /// that the pass need not check.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[target_feature(enable = "avx512f")]
    unsafe fn inner_rows<const DECODE: bool>(
        codes: &mut [i32],
        inner: usize,
        runs: &[(usize, usize, Formula)],
        small: bool,
        tick: Option<f32>,
    ) -> Option<bool> {
        if !inner.is_multiple_of(2) || inner < 8 || codes.len() < 2 || !codes.len().is_multiple_of(inner) {
            return None;
        }
        let &(cubic_start, len, _) = runs.iter().find(|run| run.2 == Formula::Cubic)?;
        let cubic_end = cubic_start + 2 * len;
        let (n, rows) = (codes.len(), codes.len() / inner);
        let width = _mm512_set1_epi32(inner as i32);
        let (start, end) = (_mm512_set1_epi32(cubic_start as i32), _mm512_set1_epi32(cubic_end as i32));
        // Each lane's coordinate along the row.
        let mut coordinates = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        let wrap = |mut x: __m512i| {
            // Rows of fewer than 32 wrap more than once a step.
            loop {
                let over = _mm512_cmpge_epi32_mask(x, width);
                if over == 0 {
                    return x;
                }
                x = _mm512_mask_sub_epi32(x, over, x, width);
            }
        };
        coordinates = wrap(coordinates);
        // Which of each step's sixteen targets are cubic: a pattern that repeats every
        // `inner / gcd(inner, 32)` steps, so made once for that many (or for every step, if
        // fewer) and then read in turn, rather than worked out at every step.
        let steps = (n - 1).div_ceil(32);
        let period = (inner / gcd(inner, 32)).min(steps);
        // Each step's cubic targets as lanes of its low and high sixteen elements.
        let kept: Vec<(u16, u16)> = (0..period)
            .map(|_| {
                let kept = _mm512_cmpge_epi32_mask(coordinates, start) & _mm512_cmplt_epi32_mask(coordinates, end);
                coordinates = wrap(_mm512_add_epi32(coordinates, _mm512_set1_epi32(32)));
                (SPREAD[usize::from(kept as u8)], SPREAD[usize::from(kept >> 8)])
            })
            .collect();
        let mut next = 0;
        let keep_cubic = || {
            let step_kept = kept[next];
            next = if next + 1 == period { 0 } else { next + 1 };
            step_kept
        };
        for &(c, len, f) in runs.iter().filter(|run| run.2 != Formula::Cubic) {
            for k in 0..len {
                run::<DECODE>(codes, c + 2 * k, inner, rows, 1, f);
            }
        }
        // SAFETY: the CPU has AVX-512 F; the span is the tile from its second element, and the
        // reach the whole tile (neighbours across a row's end, read only for targets not kept,
        // lie in it too: the loads are masked to it).
        let read_small = unsafe { along::<DECODE, CUBIC>(codes.as_mut_ptr(), 1, n - 1, 0..n, small, tick, keep_cubic) };
        if let Some(tick) = tick {
            // The one element before the span.
            codes[0] = ((codes[0] as f32) * tick).to_bits() as i32;
        }
        Some(read_small)
    }

    impl Span {
        /// Targets along a row (`d = 1`): [`along`] for each row. Returns false (the codes
        /// written are not checked).
        ///
        /// # Safety
        /// The CPU must have AVX-512 F; `d` is 1, and every row's span, with `before` elements
        /// before it and `after` after it, lies in the codes.
        #[target_feature(enable = "avx512f")]
        #[inline]
        unsafe fn along_row<const DECODE: bool, const F: u8>(self, known_small: bool) -> bool {
            let Span { base, span, before, after, rows, row_stride, .. } = self;
            for row in 0..rows {
                let first = self.first + row * row_stride;
                let reach = first - before..first + span + after;
                // SAFETY: the CPU has AVX-512 F, and the span with its reach lies in the codes.
                unsafe { along::<DECODE, F>(base, first, span, reach, known_small, None, || (TARGETS, TARGETS)) };
            }
            // Targets along rows are the last a level predicts: no later step reads them.
            false
        }

        /// Targets whose neighbours lie in other rows (`d > 1`), which no target of the run is
        /// in: sixteen elements to a step, predicted all, kept at the targets (picking the
        /// targets' neighbours out with permutes costs more on Zen 4 than predicting twice as
        /// many). `known_small` when every code read is within ±2^26; returns, decoding,
        /// whether every code written is (else false).
        ///
        /// # Safety
        /// The CPU must have AVX-512 F, and every row's span, with `before` elements before it
        /// and `after` after it, lies in the codes.
        #[target_feature(enable = "avx512f")]
        #[inline]
        unsafe fn across_rows<const DECODE: bool, const F: u8>(self, known_small: bool) -> bool {
            let Span { base, span, d, rows, row_stride, .. } = self;
            let mut written = _mm512_setzero_si512();
            // The sixteen elements from `at`, of which `lanes` lie in the span.
            let mut step = |at: usize, lanes: u16| {
                // Whole sixteens read the neighbours of span elements; the last only its
                // targets'.
                let read = if lanes == u16::MAX { lanes } else { lanes & TARGETS };
                let prediction = predict::<F>(
                    |k| {
                        let from = (at as isize + k * d as isize) as usize;
                        // SAFETY: the lanes read are neighbours of elements of the span, in
                        // the codes.
                        unsafe { _mm512_maskz_loadu_epi32(read, base.wrapping_add(from).cast()) }
                    },
                    known_small,
                );
                // SAFETY: the lanes in `lanes` lie in the span, inside the codes.
                unsafe {
                    let x = _mm512_maskz_loadu_epi32(lanes & TARGETS, base.wrapping_add(at).cast());
                    let x = if DECODE { _mm512_add_epi32(x, prediction) } else { _mm512_sub_epi32(x, prediction) };
                    if DECODE {
                        written = _mm512_or_si512(written, _mm512_maskz_abs_epi32(lanes & TARGETS, x));
                    }
                    _mm512_mask_storeu_epi32(base.wrapping_add(at).cast(), lanes & TARGETS, x);
                }
            };
            // Whole sixteens apart from the last, so that their masks are constants.
            let whole = span / 16 * 16;
            for row in 0..rows {
                let first = self.first + row * row_stride;
                for offset in (0..whole).step_by(16) {
                    step(first + offset, u16::MAX);
                }
                if whole < span {
                    step(first + whole, in_span(whole, span));
                }
            }
            DECODE && small(written)
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
        // Rows of many sixteens with ragged ends, and tiles big enough for several coarser
        // copies.
        for (outer, middle, inner) in [(3, 2, 131), (2, 1, 300), (9, 10, 70), (33, 5, 47), (40, 1, 1), (2000, 1, 1)] {
            all.push(Shape3 { outer, middle, inner });
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

    /// Codes of a few kinds: small; only the extremes; any i32; and around ±2^26, where the
    /// AVX-512 cubic changes from one shift to taking the quotient apart.
    fn codes_of_kind(kind: usize, n: usize, state: &mut u64) -> Vec<i32> {
        (0..n)
            .map(|_| {
                *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let r = (*state >> 32) as u32;
                match kind {
                    0 => (r % 2001) as i32 - 1000,
                    1 => [i32::MIN, i32::MAX, 0, -1][(r % 4) as usize],
                    2 => r as i32,
                    _ => [1 << 26, -(1 << 26), (1 << 26) - 1, 1 - (1 << 26)][(r % 4) as usize] + (r >> 28) as i32 - 8,
                }
            })
            .collect()
    }

    #[test]
    fn codes_come_back_exactly_even_at_the_extremes() {
        let mut state = 12345u64;
        for shape in shapes() {
            for kind in 0..4 {
                let codes = codes_of_kind(kind, shape.len(), &mut state);
                let kernels = [Kernels::detect(), Kernels::detect().without_vbmi(), Kernels::scalar()];
                for (edges, kernels) in
                    [Edges::Linear, Edges::Quadratic].into_iter().flat_map(|e| kernels.map(|k| (e, k)))
                {
                    let mut work = codes.clone();
                    interpolate_residuals(kernels, &mut work, shape, edges);
                    let mut reference = codes.clone();
                    interpolate_residuals_reference(&mut reference, shape, edges);
                    assert_eq!(work, reference, "{shape:?} {edges:?} kind {kind}: residuals differ from the reference");
                    interpolate_codes(kernels, &mut work, shape, edges);
                    assert_eq!(work, codes, "{shape:?} {edges:?} kind {kind}");
                    interpolate_codes_reference(&mut reference, shape, edges);
                    assert_eq!(reference, codes, "{shape:?} {edges:?} kind {kind}");
                }
            }
        }
    }

    #[test]
    fn dequantizing_in_the_last_step_gives_the_floats_of_the_codes() {
        // On AVX-512 the tiles with rows of an even length of at least 8 (inner 8 here, and
        // 70) take the one pass; the others must say they did not.
        let mut state = 777u64;
        let mut fused = 0;
        for shape in shapes() {
            for kind in 0..4 {
                let codes = codes_of_kind(kind, shape.len(), &mut state);
                for (edges, kernels) in [Edges::Linear, Edges::Quadratic]
                    .into_iter()
                    .flat_map(|e| [Kernels::detect(), Kernels::scalar()].map(|k| (e, k)))
                {
                    let mut residuals = codes.clone();
                    interpolate_residuals_reference(&mut residuals, shape, edges);
                    for tick in [1.0f32, 2f32.powi(-10), 3.0e-39] {
                        let mut work = residuals.clone();
                        let expected: Vec<i32> =
                            if interpolate_codes_dequantize_f32(kernels, &mut work, shape, edges, tick) {
                                fused += 1;
                                codes.iter().map(|&c| ((c as f32) * tick).to_bits() as i32).collect()
                            } else {
                                codes.clone()
                            };
                        assert_eq!(work, expected, "{shape:?} {edges:?} kind {kind} tick {tick}");
                    }
                }
            }
        }
        if Kernels::detect().has_vbmi() {
            assert!(fused > 0, "no tile was dequantized in the interpolation's pass");
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
