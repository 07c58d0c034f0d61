//! Raw bits of format minor version 4: after the token lanes ([`crate::token_lanes`]), the raw
//! bits of each lane's elements, in element order, least significant bit first, as one segment
//! per lane, each ending at a byte boundary.
//!
//! Reading needs only the tokens: each element's raw-bit count follows from its token, so an
//! element's position is the sum of the counts before it, and no lookup sits on the chain from
//! one element to the next. Writing keeps one chain per segment; the four overlap.

use std::marker::PhantomData;

use crate::bits::zigzag_decode;
use crate::dispatch::{simd_op, Kernels};
use crate::token_decode::{word_at, LANES};
use crate::token_encode::{lanes_written, put};
use crate::token_lanes::lane_range;
use crate::tokens::{raw_bits, raw_bits_of_token, value_of, Alphabet, TOKEN_COUNT};

/// Per token: the zigzag value its token stands for before the raw bits (bits 0..32) and its
/// count of raw bits (bits 32..40).
const TOKEN_PARTS: [u64; TOKEN_COUNT] = {
    let mut parts = [0u64; TOKEN_COUNT];
    let mut t = 0;
    while t < TOKEN_COUNT {
        let raw = raw_bits(Alphabet::SmallExact, t as u8);
        parts[t] = value_of(Alphabet::SmallExact, t as u8, 0) as u64 | (raw as u64) << 32;
        t += 1;
    }
    parts
};

/// The longest raw-bit count that two elements of a segment may have to go in one store: two of
/// them and up to seven pending bits fit a 64-bit word.
const PAIRED_UP_TO: u32 = 28;
/// The same for four elements per store.
const QUADS_UP_TO: u32 = 14;
/// The same for eight elements per store (AVX-512's writer only).
#[cfg(target_arch = "x86_64")]
const OCTETS_UP_TO: u32 = 7;

/// Elements written or read between checks of the room left.
const BLOCK: usize = 64;

/// Bytes of room past the end of the last segment with which every block of [`pack`] takes the
/// path that checks the room once per block.
pub const PACK_SLACK: usize = REACH + 8;

/// The bits a segment gets for an element: its raw bits and their count.
#[inline(always)]
fn raw_of(t: u8, raw: i32) -> (u64, usize) {
    let width = (TOKEN_PARTS[usize::from(t) % TOKEN_COUNT] >> 32) as usize;
    (u64::from(raw as u32), width)
}

/// Writes the raw bits of `tokens[l]` and `raw[l]` (of equal lengths, multiples of `STEP`) to
/// segment `l`, `STEP` elements per store.
#[inline(always)]
fn put_raw<const FAST: bool, const STEP: usize>(
    tokens: [&[u8]; LANES],
    raw: [&[i32]; LANES],
    buffer: &mut [u8],
    positions: &mut [usize; LANES],
    pending: &mut [u64; LANES],
) {
    let [mut p0, mut p1, mut p2, mut p3] = *positions;
    let [mut a0, mut a1, mut a2, mut a3] = *pending;
    // Indexed rather than eight zipped iterators, whose bookkeeping took a third of this loop.
    let count = tokens[0].len() / STEP;
    let [t0, t1, t2, t3] = tokens.map(|t| &t[..count * STEP]);
    let [r0, r1, r2, r3] = raw.map(|r| &r[..count * STEP]);
    let bits = |t: &[u8], r: &[i32], at: usize| {
        let (mut bits, mut len) = raw_of(t[at], r[at]);
        for k in 1..STEP {
            let (next, next_len) = raw_of(t[at + k], r[at + k]);
            bits |= next << len;
            len += next_len;
        }
        (bits, len)
    };
    for at in (0..count * STEP).step_by(STEP) {
        let (b, len) = bits(t0, r0, at);
        put::<FAST>(buffer, &mut p0, &mut a0, b, len);
        let (b, len) = bits(t1, r1, at);
        put::<FAST>(buffer, &mut p1, &mut a1, b, len);
        let (b, len) = bits(t2, r2, at);
        put::<FAST>(buffer, &mut p2, &mut a2, b, len);
        let (b, len) = bits(t3, r3, at);
        put::<FAST>(buffer, &mut p3, &mut a3, b, len);
    }
    *positions = [p0, p1, p2, p3];
    *pending = [a0, a1, a2, a3];
}

/// Scalar reference: writes the raw bits `raw[i]` (as [`crate::tokens::split`] leaves them:
/// nothing above the count the token gives) of the elements of each lane [`lane_range`]`(n, l)`
/// as segment `l`, from byte `starts[l]` of `buffer`, and returns each segment's length in bits.
/// Each segment needs eight bytes more room than its bits before the next starts or the buffer
/// ends; the bytes past a segment's last bit are overwritten with zeros. Too little room spoils
/// the next segment; a segment that would run past the buffer's end panics. Raw bits wider than
/// their token allows spoil the segment, never memory. Panics if `tokens` and `raw` differ in
/// length.
#[inline(always)]
pub fn pack_scalar(tokens: &[u8], raw: &[i32], buffer: &mut [u8], starts: [usize; LANES]) -> [usize; LANES] {
    pack_with(tokens, raw, buffer, starts, |_, _, _, _| false)
}

/// Writes the first `N` precombined groups, `bits[l][q]` of `lens[l][q]` bits (at most 56), to
/// lane or segment `l`, one store per group.
#[inline(always)]
pub(crate) fn put_groups<const FAST: bool, const N: usize, const M: usize>(
    bits: &[[u64; M]; LANES],
    lens: &[[u32; M]; LANES],
    buffer: &mut [u8],
    positions: &mut [usize; LANES],
    pending: &mut [u64; LANES],
) {
    const { assert!(N <= M, "more groups than the arrays hold") };
    let [mut p0, mut p1, mut p2, mut p3] = *positions;
    let [mut a0, mut a1, mut a2, mut a3] = *pending;
    for q in 0..N {
        put::<FAST>(buffer, &mut p0, &mut a0, bits[0][q], lens[0][q] as usize);
        put::<FAST>(buffer, &mut p1, &mut a1, bits[1][q], lens[1][q] as usize);
        put::<FAST>(buffer, &mut p2, &mut a2, bits[2][q], lens[2][q] as usize);
        put::<FAST>(buffer, &mut p3, &mut a3, bits[3][q], lens[3][q] as usize);
    }
    *positions = [p0, p1, p2, p3];
    *pending = [a0, a1, a2, a3];
}

/// [`pack_scalar`], with `quads(tokens, raw, bits, lens)` combining a whole block of one segment's
/// elements, four per group, when it can (returning whether it did), for elements of at most 14
/// raw bits.
#[inline(always)]
fn pack_with(
    tokens: &[u8],
    raw: &[i32],
    buffer: &mut [u8],
    starts: [usize; LANES],
    quads: impl Fn(&[u8], &[i32], &mut [u64; BLOCK / 4], &mut [u32; BLOCK / 4]) -> bool,
) -> [usize; LANES] {
    assert_eq!(tokens.len(), raw.len());
    let n = tokens.len();
    let mut positions = starts.map(|s| s * 8);
    let mut pending = [0u64; LANES];
    let ranges: [_; LANES] = std::array::from_fn(|l| lane_range(n, l));
    // Raw-bit counts grow with the token, so the largest token has the longest.
    let widest = tokens.iter().map(|&t| t % TOKEN_COUNT as u8).max().map_or(0, raw_bits_of_token);
    let step = if widest <= QUADS_UP_TO {
        4
    } else if widest <= PAIRED_UP_TO {
        2
    } else {
        1
    };
    // Every segment holds at least n / 4 elements; blocks of those go first, `step` per store.
    let whole = n / LANES / step * step;
    let reach = PACK_SLACK;
    for first in (0..whole).step_by(BLOCK) {
        let block = |l: usize| ranges[l].start + first..ranges[l].start + whole.min(first + BLOCK);
        let t: [&[u8]; LANES] = std::array::from_fn(|l| &tokens[block(l)]);
        let r: [&[i32]; LANES] = std::array::from_fn(|l| &raw[block(l)]);
        let fast = positions.iter().all(|&p| p / 8 + reach <= buffer.len());
        let (p, a) = (&mut positions, &mut pending);
        if step == 4 && fast && t[0].len() == BLOCK {
            let mut bits = [[0u64; BLOCK / 4]; LANES];
            let mut lens = [[0u32; BLOCK / 4]; LANES];
            let mut combined = true;
            for l in 0..LANES {
                combined &= quads(t[l], r[l], &mut bits[l], &mut lens[l]);
            }
            if combined {
                put_groups::<true, { BLOCK / 4 }, _>(&bits, &lens, buffer, p, a);
                continue;
            }
        }
        match (fast, step) {
            (true, 4) => put_raw::<true, 4>(t, r, buffer, p, a),
            (true, 2) => put_raw::<true, 2>(t, r, buffer, p, a),
            (true, _) => put_raw::<true, 1>(t, r, buffer, p, a),
            (false, 4) => put_raw::<false, 4>(t, r, buffer, p, a),
            (false, 2) => put_raw::<false, 2>(t, r, buffer, p, a),
            (false, _) => put_raw::<false, 1>(t, r, buffer, p, a),
        }
    }
    for l in 0..LANES {
        for i in ranges[l].start + whole..ranges[l].end {
            let (bits, len) = raw_of(tokens[i], raw[i]);
            put::<false>(buffer, &mut positions[l], &mut pending[l], bits, len);
        }
    }
    lanes_written(buffer, positions, starts)
}

/// Scalar reference: [`crate::tokens::split_scalar`] of the residuals `values` into `tokens`,
/// then [`pack_scalar`] of their raw bits. Each segment's room is as [`pack_scalar`] needs, so
/// the caller must allow for raw bits it does not know yet (at most 31 per element). Leaves
/// `values` holding each element's residual or its raw bits (which, unspecified). Panics, as
/// [`pack_scalar`] does, if `values` and `tokens` differ in length or a segment would run past
/// the buffer's end.
#[inline(always)]
pub fn split_pack_scalar(values: &mut [i32], tokens: &mut [u8], buffer: &mut [u8], starts: [usize; LANES]) -> Split {
    crate::tokens::split_scalar(values, tokens);
    let raw_bits = pack_scalar(tokens, values, buffer, starts);
    Split { raw_bits, present: crate::tokens::presence_scalar(tokens) }
}

/// What [`split_pack`] reports besides the tokens and segments it writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// Each segment's length in bits, as [`pack_scalar`] returns it.
    pub raw_bits: [usize; LANES],
    /// Which tokens occur, as [`crate::tokens::presence_scalar`] gives it.
    pub present: u64,
}

/// The dispatched [`split_pack_scalar`]: the same tokens, bytes and report.
pub fn split_pack(
    kernels: Kernels,
    values: &mut [i32],
    tokens: &mut [u8],
    buffer: &mut [u8],
    starts: [usize; LANES],
) -> Split {
    #[cfg(target_arch = "x86_64")]
    if kernels.has_vbmi() {
        // SAFETY: the CPU has AVX-512 F, BW, CD, VL and VBMI (`has_vbmi`).
        return unsafe { vbmi::split_pack(values, tokens, buffer, starts) };
    }
    crate::tokens::split(kernels, values, tokens);
    let raw_bits = pack(kernels, tokens, values, buffer, starts);
    Split { raw_bits, present: crate::tokens::presence(kernels, tokens) }
}

/// The dispatched [`pack_scalar`].
pub fn pack(kernels: Kernels, tokens: &[u8], raw: &[i32], buffer: &mut [u8], starts: [usize; LANES]) -> [usize; LANES] {
    #[cfg(target_arch = "x86_64")]
    if kernels.has_vbmi() {
        // SAFETY: the CPU has AVX-512 F, BW and VBMI (`has_vbmi`).
        return unsafe { vbmi::pack(tokens, raw, buffer, starts) };
    }
    simd_op!(Op<'a> {
        tokens: &'a [u8],
        raw: &'a [i32],
        buffer: &'a mut [u8],
        starts: [usize; LANES],
    } -> [usize; LANES] => pack_scalar(tokens, raw, buffer, starts));
    kernels.run(Op { tokens, raw, buffer, starts, _borrows: PhantomData })
}

/// Reads elements of one segment from bit `position` of `stream`, which holds at least
/// [`REACH`] bytes from the position's byte when there are at most [`BLOCK`] elements: each
/// element's residual from its token and raw bits.
#[inline(always)]
fn unpack_segment(tokens: &[u8], stream: &[u8], position: &mut usize, out: &mut [i32]) {
    let mut p = *position;
    for (&t, o) in tokens.iter().zip(out.iter_mut()) {
        let parts = TOKEN_PARTS[usize::from(t) % TOKEN_COUNT];
        let width = (parts >> 32) as usize;
        let window = word_at::<true>(stream, p / 8) >> (p % 8);
        let bits = window & ((1u64 << width) - 1);
        *o = (parts as u32 | bits as u32) as i32;
        p += width;
    }
    *position = p;
}

/// Scalar reference: the residuals of a tile whose tokens are `tokens`, from the raw segments
/// that begin `stream`: segment `l`, for the elements [`lane_range`]`(n, l)`, starts at the byte
/// after segment `l - 1` ends. Returns the byte at which the last segment ends (it may pass
/// `stream`'s end, whose bits read as zeros: the caller checks). Tokens of 64 and above are
/// taken modulo 64. Panics if `tokens` and `out` differ in length.
#[inline(always)]
pub fn unpack_scalar(tokens: &[u8], stream: &[u8], out: &mut [i32]) -> usize {
    unpack_with(tokens, stream, out, |_, _, _, _| 0)
}

/// Bytes a block of [`BLOCK`] elements may read from its first byte: 31 raw bits each, and the
/// eight bytes of the last load.
const REACH: usize = (BLOCK * 31).div_ceil(8) + 8;

/// [`unpack_scalar`], with `vector(tokens, stream, position, out)` decoding as many elements of
/// each block as it can (returning how many, as final residuals) before the scalar loop.
#[inline(always)]
fn unpack_with(
    tokens: &[u8],
    stream: &[u8],
    out: &mut [i32],
    vector: impl Fn(&[u8], &[u8], &mut usize, &mut [i32]) -> usize,
) -> usize {
    assert_eq!(tokens.len(), out.len());
    let n = tokens.len();
    let mut position = 0;
    // Near the end (or past it, in a damaged tile), blocks read a zero-padded copy of the
    // stream from byte `tail.0` (fewer than REACH bytes are left there), so that the loads stay
    // unchecked. Made once and kept: tiles of mostly small residuals have only a few bytes of
    // raw bits, and all their blocks read them this way.
    let mut tail: Option<(usize, [u8; 2 * REACH])> = None;
    for l in 0..LANES {
        let range = lane_range(n, l);
        for (t, o) in tokens[range.clone()].chunks(BLOCK).zip(out[range].chunks_mut(BLOCK)) {
            let first = position / 8;
            if first + REACH <= stream.len() {
                unpack_block(t, stream, &mut position, o, &vector);
                continue;
            }
            let (start, padded) = match tail {
                Some((start, ref padded)) if first - start + REACH <= padded.len() => (start, padded),
                _ => {
                    let left = stream.get(first..).unwrap_or(&[]);
                    let mut padded = [0u8; 2 * REACH];
                    padded[..left.len().min(REACH)].copy_from_slice(&left[..left.len().min(REACH)]);
                    let (start, padded) = tail.insert((first, padded));
                    (*start, &*padded)
                }
            };
            let mut local = position - start * 8;
            unpack_block(t, padded, &mut local, o, &vector);
            position = start * 8 + local;
        }
        position = position.div_ceil(8) * 8;
    }
    position / 8
}

/// Decodes one block of at most [`BLOCK`] elements from bit `*position` of `stream`, which holds
/// at least [`REACH`] bytes from the position's byte.
#[inline(always)]
fn unpack_block(
    tokens: &[u8],
    stream: &[u8],
    position: &mut usize,
    out: &mut [i32],
    vector: &impl Fn(&[u8], &[u8], &mut usize, &mut [i32]) -> usize,
) {
    assert!(tokens.len() <= BLOCK && *position / 8 + REACH <= stream.len());
    let done = vector(tokens, stream, position, out);
    unpack_segment(&tokens[done..], stream, position, &mut out[done..]);
    for o in &mut out[done..] {
        *o = zigzag_decode(*o as u32);
    }
}

/// The dispatched [`unpack_scalar`].
pub fn unpack(kernels: Kernels, tokens: &[u8], stream: &[u8], out: &mut [i32]) -> usize {
    #[cfg(target_arch = "x86_64")]
    if kernels.has_vbmi() {
        // SAFETY: the CPU has AVX-512 F, BW, VL and VBMI (`has_vbmi`).
        return unsafe { vbmi::unpack(tokens, stream, out) };
    }
    #[cfg(target_arch = "x86_64")]
    if kernels.has_avx2() {
        // SAFETY: the CPU has AVX2 (`has_avx2`).
        return unsafe { avx2::unpack(tokens, stream, out) };
    }
    simd_op!(Op<'a> { tokens: &'a [u8], stream: &'a [u8], out: &'a mut [i32] } -> usize
        => unpack_scalar(tokens, stream, out));
    kernels.run(Op { tokens, stream, out, _borrows: PhantomData })
}

/// The unpacking written for AVX-512 with VBMI: 32 elements per step in 16-bit lanes when each
/// has at most nine raw bits, else sixteen in 32-bit lanes; their positions a prefix sum of their
/// raw-bit counts, their bits gathered from one 64-byte load by a byte permute.
#[cfg(target_arch = "x86_64")]
pub(crate) mod vbmi {
    use super::*;
    use std::arch::x86_64::*;

    /// Raw-bit counts up to this take the vector path: sixteen of them and a seven-bit start fit
    /// in the 64 bytes loaded, and each element's bits and shift fit the four bytes permuted to it.
    const VECTOR_UP_TO: u32 = 25;

    /// Per token, its raw-bit count in bits 0..8 and the bits its token stands for above the raw
    /// ones (the zigzag value's top, `value >> count`) in bits 8..16.
    const TOKEN_FIELDS: [u32; TOKEN_COUNT] = {
        let mut fields = [0u32; TOKEN_COUNT];
        let mut t = 0;
        while t < TOKEN_COUNT {
            let width = (TOKEN_PARTS[t] >> 32) as u32;
            let top = (TOKEN_PARTS[t] as u32) >> width;
            fields[t] = width | top << 8;
            t += 1;
        }
        fields
    };

    /// [`unpack_scalar`], on AVX-512 with VBMI.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F, BW, VL and VBMI.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vl")]
    pub(super) unsafe fn unpack(tokens: &[u8], stream: &[u8], out: &mut [i32]) -> usize {
        unpack_with(tokens, stream, out, |t, s, p, o| {
            // SAFETY: this closure runs inside a function compiled for, and only called on, a CPU
            // with AVX-512 F, BW, VL and VBMI.
            unsafe { segment(t, s, p, o) }
        })
    }

    /// [`pack_scalar`], on AVX-512: groups of four elements combined sixteen elements at a time.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F, BW and VBMI.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub(super) unsafe fn pack(tokens: &[u8], raw: &[i32], buffer: &mut [u8], starts: [usize; LANES]) -> [usize; LANES] {
        pack_with(tokens, raw, buffer, starts, |t, r, bits, lens| {
            // SAFETY: this closure runs inside a function compiled for, and only called on, a CPU
            // with AVX-512 F, BW and VBMI.
            unsafe { quads(t, r, bits, lens) }
        })
    }

    /// [`split_pack_scalar`] on AVX-512: each block of 64 elements of a segment is split and,
    /// when its raw bits are at most [`QUADS_UP_TO`] each, combined four to a store straight from
    /// the registers (split and written apart, each element's raw bits went to memory and came
    /// back, and its width was looked up again from its token).
    ///
    /// # Safety
    /// The CPU must have AVX-512 F, BW, CD, VL and VBMI.
    #[target_feature(enable = "avx512f,avx512bw,avx512cd,avx512vl,avx512vbmi")]
    pub(super) unsafe fn split_pack(
        values: &mut [i32],
        tokens: &mut [u8],
        buffer: &mut [u8],
        starts: [usize; LANES],
    ) -> Split {
        use crate::tokens::avx512::{packed_bytes, sixteen};
        assert_eq!(values.len(), tokens.len());
        let n = values.len();
        let mut positions = starts.map(|s| s * 8);
        let mut pending = [0u64; LANES];
        let ranges: [_; LANES] = std::array::from_fn(|l| lane_range(n, l));
        // Every segment holds at least n / 4 elements; whole blocks of those go first.
        let whole = n / LANES / BLOCK * BLOCK;
        let mut bits = [[0u64; BLOCK / 4]; LANES];
        let mut lens = [[0u32; BLOCK / 4]; LANES];
        // Bit `t` of a lane of `present_low` for each token `t` below 32 seen in it, of
        // `present_high` for each `t - 32`.
        let (mut present_low, mut present_high) = (_mm512_setzero_si512(), _mm512_setzero_si512());
        let ones = _mm512_set1_epi32(1);
        // `1 << t` for the low five bits of `t`.
        let powers: [i32; 32] = std::array::from_fn(|k| (1u32 << k) as i32);
        // SAFETY: sixteen of the 32 powers, from 0 and from 16.
        let (powers_low, powers_high) =
            unsafe { (_mm512_loadu_si512(powers.as_ptr().cast()), _mm512_loadu_si512(powers[16..].as_ptr().cast())) };
        for first in (0..whole).step_by(BLOCK) {
            let mut widest = _mm512_setzero_si512();
            for l in 0..LANES {
                let at = ranges[l].start + first;
                let mut token = [_mm512_setzero_si512(); 4];
                // The segment's 64 elements' widest raw bits, and `1 << t` for each token `t` taken
                // modulo 32: exact when no token reaches 32, which only those of 11 raw bits and
                // more do.
                let (mut segment_widest, mut segment_present) = (_mm512_setzero_si512(), _mm512_setzero_si512());
                for half in 0..2 {
                    let mut raw_and_width = [(_mm512_setzero_si512(), _mm512_setzero_si512()); 2];
                    for (j, (raw, w)) in raw_and_width.iter_mut().enumerate() {
                        let k = 2 * half + j;
                        // SAFETY: sixteen i32 from `at + 16 k`, inside the block of BLOCK (64)
                        // elements from `at`, inside `values`; the CPU has AVX-512 F and CD.
                        let (low, (t, width)) =
                            unsafe { sixteen(_mm512_loadu_si512(values[at + 16 * k..].as_ptr().cast())) };
                        // SAFETY: as above, written back.
                        unsafe { _mm512_storeu_si512(values[at + 16 * k..].as_mut_ptr().cast(), low) };
                        token[k] = t;
                        (*raw, *w) = (low, width);
                        segment_widest = _mm512_max_epu32(segment_widest, width);
                        segment_present =
                            _mm512_or_si512(segment_present, _mm512_permutex2var_epi32(powers_low, t, powers_high));
                    }
                    // Both sixteens in 16-bit lanes: the packs interleave their groups of four
                    // by 128-bit lane (first's, second's, ...), which the permute undoes. Raw bits
                    // wider than the groups take saturate or are combined wrongly, and are not
                    // used (below).
                    let [(raw0, width0), (raw1, width1)] = raw_and_width;
                    let (four, four_len) = fours(_mm512_packus_epi32(width0, width1), _mm512_packus_epi32(raw0, raw1));
                    let order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
                    // SAFETY: eight groups from `8 half`, inside `bits[l]` and `lens[l]` (16).
                    unsafe {
                        _mm512_storeu_si512(
                            bits[l][8 * half..].as_mut_ptr().cast(),
                            _mm512_permutexvar_epi64(order, four),
                        );
                        _mm256_storeu_si256(
                            lens[l][8 * half..].as_mut_ptr().cast(),
                            _mm512_cvtepi64_epi32(_mm512_permutexvar_epi64(order, four_len)),
                        );
                    }
                }
                // SAFETY: 64 bytes from `at`, the block's tokens, inside `tokens`.
                unsafe { _mm512_storeu_si512(tokens[at..].as_mut_ptr().cast(), packed_bytes(token)) };
                widest = _mm512_max_epu32(widest, segment_widest);
                if _mm512_cmpgt_epu32_mask(segment_widest, _mm512_set1_epi32(10)) == 0 {
                    present_low = _mm512_or_si512(present_low, segment_present);
                } else {
                    // Shift counts of 32 and up give 0, so each register sees only its half.
                    for t in token {
                        present_low = _mm512_or_si512(present_low, _mm512_sllv_epi32(ones, t));
                        present_high = _mm512_or_si512(
                            present_high,
                            _mm512_sllv_epi32(ones, _mm512_sub_epi32(t, _mm512_set1_epi32(32))),
                        );
                    }
                }
            }
            let widest = _mm512_reduce_max_epu32(widest);
            if widest == 0 {
                // No raw bits in the block: nothing to write (most blocks of smooth data).
                continue;
            }
            let fast = positions.iter().all(|&p| p / 8 + PACK_SLACK <= buffer.len());
            let block = |l: usize| ranges[l].start + first..ranges[l].start + first + BLOCK;
            if fast && widest <= OCTETS_UP_TO {
                // SAFETY: the CPU has AVX-512 F (this function's contract).
                let (octets, octet_lens) = unsafe { pairs_of_groups(&bits, &lens) };
                put_groups::<true, { BLOCK / 8 }, _>(&octets, &octet_lens, buffer, &mut positions, &mut pending);
            } else if fast && widest <= QUADS_UP_TO {
                put_groups::<true, { BLOCK / 4 }, _>(&bits, &lens, buffer, &mut positions, &mut pending);
            } else {
                // Rare (a wide residual, or the end of a small buffer): from the split's output.
                let t: [&[u8]; LANES] = std::array::from_fn(|l| &tokens[block(l)]);
                let r: [&[i32]; LANES] = std::array::from_fn(|l| &values[block(l)]);
                if fast {
                    put_raw::<true, 1>(t, r, buffer, &mut positions, &mut pending);
                } else {
                    put_raw::<false, 1>(t, r, buffer, &mut positions, &mut pending);
                }
            }
        }
        let mut present = u64::from(_mm512_reduce_or_epi32(present_low) as u32)
            | u64::from(_mm512_reduce_or_epi32(present_high) as u32) << 32;
        for l in 0..LANES {
            let rest = ranges[l].start + whole..ranges[l].end;
            crate::tokens::split_scalar(&mut values[rest.clone()], &mut tokens[rest.clone()]);
            present |= crate::tokens::presence_scalar(&tokens[rest.clone()]);
            for i in rest {
                let (bits, len) = raw_of(tokens[i], values[i]);
                put::<false>(buffer, &mut positions[l], &mut pending[l], bits, len);
            }
        }
        Split { raw_bits: lanes_written(buffer, positions, starts), present }
    }

    /// Merges each segment's groups of four pairwise: group `q` of the result holds groups `2q`
    /// and `2q + 1` back to back, so that a block of elements of at most [`OCTETS_UP_TO`] raw
    /// bits (at most 56 per pair) takes half the stores.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[target_feature(enable = "avx512f")]
    unsafe fn pairs_of_groups(
        bits: &[[u64; BLOCK / 4]; LANES],
        lens: &[[u32; BLOCK / 4]; LANES],
    ) -> ([[u64; BLOCK / 8]; LANES], [[u32; BLOCK / 8]; LANES]) {
        let mut octets = [[0u64; BLOCK / 8]; LANES];
        let mut octet_lens = [[0u32; BLOCK / 8]; LANES];
        let even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
        let odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
        let even_lens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
        let odd_lens = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0);
        for l in 0..LANES {
            // SAFETY: sixteen u64 and sixteen u32, the whole of `bits[l]` and `lens[l]`; eight of
            // each, the whole of `octets[l]` and `octet_lens[l]`.
            unsafe {
                let low = _mm512_loadu_si512(bits[l].as_ptr().cast());
                let high = _mm512_loadu_si512(bits[l][8..].as_ptr().cast());
                let counts = _mm512_loadu_si512(lens[l].as_ptr().cast());
                let first_len =
                    _mm512_cvtepu32_epi64(_mm512_castsi512_si256(_mm512_permutexvar_epi32(even_lens, counts)));
                let second_len =
                    _mm512_cvtepu32_epi64(_mm512_castsi512_si256(_mm512_permutexvar_epi32(odd_lens, counts)));
                let first = _mm512_permutex2var_epi64(low, even, high);
                let second = _mm512_permutex2var_epi64(low, odd, high);
                let merged = _mm512_or_si512(first, _mm512_sllv_epi64(second, first_len));
                _mm512_storeu_si512(octets[l].as_mut_ptr().cast(), merged);
                let total = _mm512_cvtepi64_epi32(_mm512_add_epi64(first_len, second_len));
                _mm256_storeu_si256(octet_lens[l].as_mut_ptr().cast(), total);
            }
        }
        (octets, octet_lens)
    }

    /// Combines a block of one segment's elements (of at most 14 raw bits, which the caller
    /// checked) four at a time: `bits[q]` holds elements `4q..4q + 4`'s raw bits back to back,
    /// `lens[q]` their count. Returns true.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    unsafe fn quads(tokens: &[u8], raw: &[i32], bits: &mut [u64; BLOCK / 4], lens: &mut [u32; BLOCK / 4]) -> bool {
        let table: [__m512i; 4] = std::array::from_fn(|k| {
            // SAFETY: 16 of the table's 64 entries, inside it.
            unsafe { _mm512_loadu_si512(TOKEN_FIELDS[16 * k..].as_ptr().cast()) }
        });
        let (tokens, raw) = (&tokens[..BLOCK], &raw[..BLOCK]);
        for step in 0..BLOCK / 16 {
            // SAFETY: sixteen bytes and sixteen i32 from `16 * step`, inside the block.
            let (t, r) = unsafe {
                (
                    _mm512_cvtepu8_epi32(_mm_loadu_si128(tokens[16 * step..].as_ptr().cast())),
                    _mm512_loadu_si512(raw[16 * step..].as_ptr().cast()),
                )
            };
            let t = _mm512_and_si512(t, _mm512_set1_epi32(TOKEN_COUNT as i32 - 1));
            let low = _mm512_permutex2var_epi32(table[0], t, table[1]);
            let high = _mm512_permutex2var_epi32(table[2], t, table[3]);
            let fields = _mm512_mask_blend_epi32(_mm512_test_epi32_mask(t, _mm512_set1_epi32(32)), low, high);
            let width = _mm512_and_si512(fields, _mm512_set1_epi32(0xff));
            // SAFETY: the CPU has AVX-512 F and BW (this function's features); four groups from
            // `4 * step`, inside `bits` and `lens`.
            unsafe { combine_groups(width, r, &mut bits[4 * step..], &mut lens[4 * step..]) };
        }
        true
    }

    /// Combines sixteen elements, `values` of `widths` bits each (at most 15, nothing set above
    /// them), four at a time: writes `bits[0..4]`, each four elements' bits back to back, and
    /// `lens[0..4]`, their counts.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F and BW; `bits` and `lens` must hold at least four each.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(crate) unsafe fn combine_groups(widths: __m512i, values: __m512i, bits: &mut [u64], lens: &mut [u32]) {
        assert!(bits.len() >= 4 && lens.len() >= 4);
        // Pairs in each 64-bit lane's low half: the odd element shifted past the even one (a
        // pair takes at most 30 bits); the high halves are cleared.
        let odd = _mm512_sllv_epi32(values, _mm512_slli_epi64::<32>(widths));
        let pairs = _mm512_maskz_or_epi32(0x5555, odd, _mm512_srli_epi64::<32>(odd));
        let pair_widths = _mm512_maskz_add_epi32(0x5555, widths, _mm512_srli_epi64::<32>(widths));
        // Fours in each 128-bit lane's low half: the high pair shifted past the low one.
        let high = _mm512_sllv_epi64(pairs, _mm512_bslli_epi128::<8>(pair_widths));
        let fours = _mm512_or_si512(high, _mm512_bsrli_epi128::<8>(high));
        let four_widths = _mm512_add_epi64(pair_widths, _mm512_bsrli_epi128::<8>(pair_widths));
        let four = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 0, 2, 4, 6), fours);
        let counts = _mm512_permutexvar_epi32(
            _mm512_setr_epi32(0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12),
            four_widths,
        );
        // SAFETY: four u64 and four u32, inside `bits` and `lens` (checked above).
        unsafe {
            _mm256_storeu_si256(bits.as_mut_ptr().cast(), _mm512_castsi512_si256(four));
            _mm_storeu_si128(lens.as_mut_ptr().cast(), _mm512_castsi512_si128(counts));
        }
    }

    /// Combines 32 elements, `values` of `widths` bits each (both in 16-bit lanes; widths at
    /// most 15, nothing set above them), four at a time: each 64-bit lane's four elements back
    /// to back, and (in the same lane) their count. In 16-bit lanes, half the operations per
    /// element of [`combine_groups`].
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(crate) fn fours(widths: __m512i, values: __m512i) -> (__m512i, __m512i) {
        let low_halves = _mm512_set1_epi64(0xffff_ffff);
        // Pairs in 32-bit lanes: the odd element shifted past the even one.
        // The masks of the shift counts below keep what they must (a width is at most 31, a
        // pair's at most 62), and tell LLVM the counts are in range: for counts that might pass
        // the lane width, it guards each shift with a compare.
        let pair_len = _mm512_madd_epi16(widths, _mm512_set1_epi16(1));
        let even_len = _mm512_and_si512(widths, _mm512_set1_epi32(31));
        let pair = _mm512_or_si512(
            _mm512_and_si512(values, _mm512_set1_epi32(0xffff)),
            _mm512_sllv_epi32(_mm512_srli_epi32::<16>(values), even_len),
        );
        // Fours in 64-bit lanes: the high pair shifted past the low one.
        let low_len = _mm512_and_si512(pair_len, _mm512_set1_epi64(63));
        let four = _mm512_or_si512(
            _mm512_and_si512(pair, low_halves),
            _mm512_sllv_epi64(_mm512_srli_epi64::<32>(pair), low_len),
        );
        (four, _mm512_add_epi64(low_len, _mm512_srli_epi64::<32>(pair_len)))
    }

    /// Which byte per token a table of [`token_bytes`] holds.
    #[derive(Clone, Copy)]
    enum TokenByte {
        /// The raw-bit count.
        Width,
        /// The bits the token stands for above the raw ones.
        Top,
        /// For tokens without raw bits, the residual itself (the top, zigzag-decoded); else 0.
        SmallResidual,
    }

    /// A byte per token, indexed by its low six bits as `vpermi2b` does; each fits.
    const fn token_bytes(which: TokenByte) -> [u8; TOKEN_COUNT] {
        let mut bytes = [0u8; TOKEN_COUNT];
        let mut t = 0;
        while t < TOKEN_COUNT {
            let (width, top) = (TOKEN_FIELDS[t] & 0xff, TOKEN_FIELDS[t] >> 8);
            assert!(top < 256);
            bytes[t] = match which {
                TokenByte::Width => width as u8,
                TokenByte::Top => top as u8,
                TokenByte::SmallResidual if width == 0 => ((top >> 1) as i32 ^ -((top & 1) as i32)) as i8 as u8,
                TokenByte::SmallResidual => 0,
            };
            t += 1;
        }
        bytes
    }

    const WIDTH_BYTES: [u8; TOKEN_COUNT] = token_bytes(TokenByte::Width);
    const TOP_BYTES: [u8; TOKEN_COUNT] = token_bytes(TokenByte::Top);
    const SMALL_RESIDUALS: [u8; TOKEN_COUNT] = token_bytes(TokenByte::SmallResidual);

    /// `(1 << w) - 1` for raw-bit counts `w` of 0 to 31.
    const LOW_MASKS: [u32; 32] = {
        let mut masks = [0u32; 32];
        let mut w = 0;
        while w < 32 {
            masks[w] = (1u32 << w) - 1;
            w += 1;
        }
        masks
    };

    /// Raw-bit counts up to this take [`narrow_step`]: with a start of up to seven bits into its
    /// first byte, an element's bits lie in the two bytes permuted to its 16-bit lane, and 32 of
    /// them in the 64 bytes loaded.
    const NARROW_UP_TO: u32 = 9;

    /// Decodes 32 elements whose raw-bit counts `width_bytes` are at most [`NARROW_UP_TO`] and
    /// whose tokens stand for `top_bytes` above them, from bit `position` of `stream`, in 16-bit
    /// lanes: half the registers, and so about half the operations, of sixteen elements in 32-bit
    /// lanes twice. Writes the residuals to `out` and returns the bits read.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F, BW and VBMI; the 64 bytes from `position / 8` must lie inside
    /// `stream`, and `out` must hold 32 elements.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vl")]
    unsafe fn narrow_step(
        width_bytes: __m256i,
        top_bytes: __m256i,
        stream: &[u8],
        position: usize,
        out: &mut [i32],
    ) -> usize {
        assert!(out.len() >= 32 && position / 8 + 64 <= stream.len());
        let ones = _mm512_set1_epi16(1);
        let width = _mm512_cvtepu8_epi16(width_bytes);
        // Inclusive prefix sum of the widths: within each 128-bit lane, then each lane's total
        // carried to the lanes above it in two steps (from the lane below, then from two below).
        let mut end = _mm512_add_epi16(width, _mm512_bslli_epi128::<2>(width));
        end = _mm512_add_epi16(end, _mm512_bslli_epi128::<4>(end));
        end = _mm512_add_epi16(end, _mm512_bslli_epi128::<8>(end));
        let below = _mm512_set_epi64(
            0x0017_0017_0017_0017,
            0x0017_0017_0017_0017,
            0x000f_000f_000f_000f,
            0x000f_000f_000f_000f,
            0x0007_0007_0007_0007,
            0x0007_0007_0007_0007,
            0,
            0,
        );
        end = _mm512_add_epi16(end, _mm512_maskz_permutexvar_epi16(0xffff_ff00, below, end));
        let two_below = _mm512_set_epi64(
            0x000f_000f_000f_000f,
            0x000f_000f_000f_000f,
            0x0007_0007_0007_0007,
            0x0007_0007_0007_0007,
            0,
            0,
            0,
            0,
        );
        end = _mm512_add_epi16(end, _mm512_maskz_permutexvar_epi16(0xffff_0000, two_below, end));
        let start = _mm512_add_epi16(_mm512_sub_epi16(end, width), _mm512_set1_epi16((position % 8) as i16));
        // Each element's two bytes: the byte its start falls in, and the next.
        let byte = _mm512_srli_epi16::<3>(start);
        let index = _mm512_add_epi16(_mm512_mullo_epi16(byte, _mm512_set1_epi16(0x0101)), _mm512_set1_epi16(0x0100));
        // SAFETY: the 64 bytes from `position / 8` are inside `stream` (checked above).
        let data = unsafe { _mm512_loadu_si512(stream[position / 8..].as_ptr().cast()) };
        let window = _mm512_permutexvar_epi8(index, data);
        let shifted = _mm512_srlv_epi16(window, _mm512_and_si512(start, _mm512_set1_epi16(7)));
        let mask = _mm512_sub_epi16(_mm512_sllv_epi16(ones, width), ones);
        let top = _mm512_sllv_epi16(_mm512_cvtepu8_epi16(top_bytes), width);
        // (shifted & mask) | top << width: at most 11 bits, so the zigzag below is exact in
        // 16 bits.
        let u = _mm512_ternarylogic_epi32::<0xea>(shifted, mask, top);
        let residual = _mm512_xor_si512(
            _mm512_srli_epi16::<1>(u),
            _mm512_sub_epi16(_mm512_setzero_si512(), _mm512_and_si512(u, ones)),
        );
        // SAFETY: 32 i32 from the start of `out`, which holds at least 32 (checked above).
        unsafe {
            _mm512_storeu_si512(out.as_mut_ptr().cast(), _mm512_cvtepi16_epi32(_mm512_castsi512_si256(residual)));
            _mm512_storeu_si512(
                out[16..].as_mut_ptr().cast(),
                _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64::<1>(residual)),
            );
        }
        _mm_extract_epi16::<7>(_mm512_extracti32x4_epi32::<3>(end)) as u16 as usize
    }

    /// Decodes whole steps of sixteen elements of one segment from bit `*position`, while the 64
    /// bytes of each step lie inside `stream` and the elements' raw bits are at most
    /// [`VECTOR_UP_TO`]; returns how many elements it decoded (as final residuals).
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vl")]
    unsafe fn segment(tokens: &[u8], stream: &[u8], position: &mut usize, out: &mut [i32]) -> usize {
        // SAFETY (all four pairs of loads): 32 bytes or 16 u32 from offsets of tables that long.
        let (width_low, width_high) = unsafe {
            (_mm256_loadu_si256(WIDTH_BYTES.as_ptr().cast()), _mm256_loadu_si256(WIDTH_BYTES[32..].as_ptr().cast()))
        };
        let (top_low, top_high) = unsafe {
            (_mm256_loadu_si256(TOP_BYTES.as_ptr().cast()), _mm256_loadu_si256(TOP_BYTES[32..].as_ptr().cast()))
        };
        let (small_low, small_high) = unsafe {
            (
                _mm256_loadu_si256(SMALL_RESIDUALS.as_ptr().cast()),
                _mm256_loadu_si256(SMALL_RESIDUALS[32..].as_ptr().cast()),
            )
        };
        let (mask_low, mask_high) = unsafe {
            (_mm512_loadu_si512(LOW_MASKS.as_ptr().cast()), _mm512_loadu_si512(LOW_MASKS[16..].as_ptr().cast()))
        };
        let ones = _mm512_set1_epi32(1);
        let spread = _mm512_broadcast_i32x4(_mm_setr_epi32(0, 0x0404_0404, 0x0808_0808, 0x0c0c_0c0c));
        let mut done = 0;
        while done + 16 <= tokens.len() && *position / 8 + 64 <= stream.len() {
            if done + 32 <= tokens.len() {
                // SAFETY: `done + 32 <= tokens.len()`: the 32 bytes are inside `tokens`.
                let t = unsafe { _mm256_loadu_si256(tokens[done..].as_ptr().cast()) };
                let width_bytes = _mm256_permutex2var_epi8(width_low, t, width_high);
                if _mm256_cmpgt_epu8_mask(width_bytes, _mm256_set1_epi8(NARROW_UP_TO as i8)) == 0 {
                    // SAFETY: `done + 32 <= out.len()` (out is as long as tokens); the 64 bytes
                    // from the position's byte are inside `stream` (the loop's condition).
                    unsafe {
                        if _mm256_testz_si256(width_bytes, width_bytes) != 0 {
                            let small = _mm256_permutex2var_epi8(small_low, t, small_high);
                            _mm512_storeu_si512(
                                out[done..].as_mut_ptr().cast(),
                                _mm512_cvtepi8_epi32(_mm256_castsi256_si128(small)),
                            );
                            _mm512_storeu_si512(
                                out[done + 16..].as_mut_ptr().cast(),
                                _mm512_cvtepi8_epi32(_mm256_extracti128_si256::<1>(small)),
                            );
                        } else {
                            let top = _mm256_permutex2var_epi8(top_low, t, top_high);
                            *position += narrow_step(width_bytes, top, stream, *position, &mut out[done..done + 32]);
                        }
                    }
                    done += 32;
                    continue;
                }
            }
            // SAFETY: `done + 16 <= tokens.len()`: the sixteen bytes are inside `tokens`.
            let t = _mm256_castsi128_si256(unsafe { _mm_loadu_si128(tokens[done..].as_ptr().cast()) });
            // Byte lookups of the sixteen tokens' low six bits in the 64-byte tables.
            let width_bytes = _mm256_castsi256_si128(_mm256_permutex2var_epi8(width_low, t, width_high));
            if _mm_cmpgt_epu8_mask(width_bytes, _mm_set1_epi8(VECTOR_UP_TO as i8)) != 0 {
                break;
            }
            if _mm_testz_si128(width_bytes, width_bytes) != 0 {
                // No raw bits in the sixteen (most steps of smooth data): each residual is its
                // token's, a byte lookup.
                let small = _mm256_castsi256_si128(_mm256_permutex2var_epi8(small_low, t, small_high));
                // SAFETY: `done + 16 <= out.len()` (out is as long as tokens).
                unsafe { _mm512_storeu_si512(out[done..done + 16].as_mut_ptr().cast(), _mm512_cvtepi8_epi32(small)) };
                done += 16;
                continue;
            }
            let width = _mm512_cvtepu8_epi32(width_bytes);
            let top = _mm512_cvtepu8_epi32(_mm256_castsi256_si128(_mm256_permutex2var_epi8(top_low, t, top_high)));
            // Inclusive prefix sum of the widths, in 16-bit lanes (a half-width register's
            // operations cost half a full one's): within each 128-bit half, then the low half's
            // total added to the high half. Then each element's start within the step.
            let narrow = _mm256_cvtepu8_epi16(width_bytes);
            let mut end = _mm256_add_epi16(narrow, _mm256_bslli_epi128::<2>(narrow));
            end = _mm256_add_epi16(end, _mm256_bslli_epi128::<4>(end));
            end = _mm256_add_epi16(end, _mm256_bslli_epi128::<8>(end));
            end = _mm256_add_epi16(end, _mm256_maskz_permutexvar_epi16(0xff00, _mm256_set1_epi16(7), end));
            let start = _mm512_cvtepu16_epi32(_mm256_add_epi16(
                _mm256_sub_epi16(end, narrow),
                _mm256_set1_epi16((*position % 8) as i16),
            ));
            // Each element's four bytes from the step's 64: its first byte copied to all four
            // places of its lane, plus 0, 1, 2, 3.
            let byte = _mm512_srli_epi32::<3>(start);
            let index = _mm512_add_epi32(_mm512_shuffle_epi8(byte, spread), _mm512_set1_epi32(0x0302_0100));
            // SAFETY: `*position / 8 + 64 <= stream.len()`: the 64 bytes are inside `stream`.
            let data = unsafe { _mm512_loadu_si512(stream[*position / 8..].as_ptr().cast()) };
            let window = _mm512_permutexvar_epi8(index, data);
            let shifted = _mm512_srlv_epi32(window, _mm512_and_si512(start, _mm512_set1_epi32(7)));
            let mask = _mm512_permutex2var_epi32(mask_low, width, mask_high);
            // (shifted & mask) | top << width.
            let u = _mm512_ternarylogic_epi32::<0xea>(shifted, mask, _mm512_sllv_epi32(top, width));
            // Zigzag back: (u >> 1), complemented where u is odd.
            let half = _mm512_srli_epi32::<1>(u);
            let residual = _mm512_mask_xor_epi32(half, _mm512_test_epi32_mask(u, ones), half, _mm512_set1_epi32(-1));
            // SAFETY: `done + 16 <= out.len()` (out is as long as tokens).
            unsafe { _mm512_storeu_si512(out[done..done + 16].as_mut_ptr().cast(), residual) };
            let total = _mm256_extract_epi16::<15>(end) as u16 as usize;
            *position += total;
            done += 16;
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::split_scalar;

    /// Residuals of every width, in a pattern that mixes them.
    fn residuals(n: usize, widest: u32) -> Vec<i32> {
        let mut state = 3u64;
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let width = (state >> 59) as u32 % (widest + 1);
                let value = (state >> 16) as u32 & ((1u64 << width) - 1) as u32;
                crate::bits::zigzag_decode(value)
            })
            .collect()
    }

    #[test]
    fn segments_unpack_to_the_residuals_on_both_paths_for_every_width_and_ragged_lengths() {
        // Widest 4: no raw bits at all (a few bytes of segments); 11: up to 9 raw bits, the
        // most that AVX-512's 16-bit steps take, and 12 just past them; 14 and 28: four and two
        // elements per store; 25 and below: the vector path; 32: every token.
        for widest in [4, 11, 12, 14, 20, 25, 28, 32] {
            for n in [0, 1, 5, 16, 17, 63, 64, 65, 300, 1000, 4103] {
                let values = residuals(n, widest);
                let mut raw = values.clone();
                let mut tokens = vec![0u8; n];
                split_scalar(&mut raw, &mut tokens);
                let mut written = Vec::new();
                for kernels in [Kernels::detect(), Kernels::scalar()] {
                    let room = n.div_ceil(4) * 31 / 8 + 1 + 8;
                    let starts = [0, room, 2 * room, 3 * room];
                    let mut buffer = vec![0x5au8; 4 * room];
                    let bits = pack(kernels, &tokens, &raw, &mut buffer, starts);
                    let segments: Vec<&[u8]> =
                        (0..LANES).map(|l| &buffer[starts[l]..starts[l] + bits[l].div_ceil(8)]).collect();
                    for (l, segment) in segments.iter().enumerate() {
                        let expected: u32 = tokens[lane_range(n, l)].iter().map(|&t| raw_bits_of_token(t)).sum();
                        assert_eq!(bits[l], expected as usize, "segment {l}");
                        if !bits[l].is_multiple_of(8) {
                            assert_eq!(segment[segment.len() - 1] >> (bits[l] % 8), 0, "padding of segment {l}");
                        }
                    }
                    let stream = segments.concat();
                    for unpacking in [Kernels::detect(), Kernels::detect().without_vbmi(), Kernels::scalar()] {
                        let mut out = vec![7i32; n];
                        assert_eq!(unpack(unpacking, &tokens, &stream, &mut out), stream.len(), "widest {widest}, {n}");
                        assert_eq!(out, values, "widest {widest}, {n}");
                    }
                    written.push(stream);
                }
                assert_eq!(written[0], written[1], "dispatched and scalar segments differ");
            }
        }
    }

    #[test]
    fn split_and_written_in_one_pass_gives_the_tokens_and_segments_of_the_two_passes() {
        // Widest 14 and below: blocks combined from the registers (up to 9, 10 and 11: blocks
        // of at most 7 raw bits, eight to a store on AVX-512, alone or mixed with wider ones);
        // wider: blocks that fall back to the split's output in memory, alone or mixed with
        // combined ones; and rooms from ample (every block checked once) to the least a
        // segment needs (the checked stores). Up to 12: tokens below 32, whose presence
        // AVX-512 takes in one register; 13: up to 11 raw bits, tokens 32 and 33.
        for widest in [4, 9, 10, 11, 12, 13, 14, 15, 20, 32] {
            for n in [0, 1, 5, 63, 64, 65, 255, 256, 257, 1000, 4103] {
                let values = residuals(n, widest);
                for spare in [0, PACK_SLACK] {
                    let mut outputs = Vec::new();
                    for kernels in [Kernels::detect(), Kernels::detect().without_vbmi(), Kernels::scalar()] {
                        let room = n.div_ceil(4) * 31 / 8 + 1 + 8;
                        let starts = [0, room, 2 * room, 3 * room];
                        let mut buffer = vec![0x5au8; 4 * room + spare];
                        let mut raw = values.clone();
                        let mut tokens = vec![0u8; n];
                        let split = split_pack(kernels, &mut raw, &mut tokens, &mut buffer, starts);
                        let segments: Vec<u8> = (0..LANES)
                            .flat_map(|l| buffer[starts[l]..starts[l] + split.raw_bits[l].div_ceil(8)].to_vec())
                            .collect();
                        assert_eq!(split.present, crate::tokens::presence_scalar(&tokens), "widest {widest}, {n}");
                        outputs.push((tokens, split, segments));
                    }
                    let mut raw = values.clone();
                    let mut tokens = vec![0u8; n];
                    split_scalar(&mut raw, &mut tokens);
                    assert_eq!(outputs[0].0, tokens, "widest {widest}, {n}: tokens");
                    for other in &outputs[1..] {
                        assert_eq!(&outputs[0], other, "widest {widest}, {n}, spare {spare}: paths differ");
                    }
                    let mut out = vec![0i32; n];
                    assert_eq!(unpack_scalar(&tokens, &outputs[0].2, &mut out), outputs[0].2.len());
                    assert_eq!(out, values, "widest {widest}, {n}: residuals");
                }
            }
        }
    }

    #[test]
    fn short_or_long_streams_unpack_without_panicking_and_report_where_they_end() {
        let values = residuals(2000, 20);
        let mut raw = values.clone();
        let mut tokens = vec![0u8; values.len()];
        split_scalar(&mut raw, &mut tokens);
        let room = 2000 * 31 / 8;
        let mut buffer = vec![0u8; 4 * room];
        let bits = pack_scalar(&tokens, &raw, &mut buffer, [0, room, 2 * room, 3 * room]);
        let stream: Vec<u8> =
            (0..LANES).flat_map(|l| buffer[l * room..l * room + bits[l].div_ceil(8)].to_vec()).collect();
        for kernels in [Kernels::detect(), Kernels::detect().without_vbmi(), Kernels::scalar()] {
            let mut out = vec![0i32; values.len()];
            for cut in [0, 1, 100, stream.len() - 1] {
                // Bits past the end read as zeros; the end reported is where the bits would end.
                assert_eq!(unpack(kernels, &tokens, &stream[..cut], &mut out), stream.len());
            }
            let mut longer = stream.clone();
            longer.extend([0xff; 100]);
            assert_eq!(unpack(kernels, &tokens, &longer, &mut out), stream.len());
            assert_eq!(out, values);
            // Tokens of 64 and above count modulo 64.
            let high: Vec<u8> = tokens.iter().map(|&t| t + 128).collect();
            assert_eq!(unpack(kernels, &high, &stream, &mut out), stream.len());
            assert_eq!(out, values);
        }
    }
}

/// The unpacking written for AVX2: eight elements per step, as [`vbmi`] does sixteen, with each
/// half's bits taken from its own sixteen-byte load by an in-lane byte shuffle.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::*;
    use std::arch::x86_64::*;

    /// Raw-bit counts up to this take the vector path: four of them and a seven-bit start fit in
    /// each half's sixteen bytes, and each element's bits and shift fit its four bytes.
    const VECTOR_UP_TO: i32 = 25;

    /// [`unpack_scalar`], on AVX2.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn unpack(tokens: &[u8], stream: &[u8], out: &mut [i32]) -> usize {
        unpack_with(tokens, stream, out, |t, s, p, o| {
            // SAFETY: this closure runs inside a function compiled for, and only called on, a CPU
            // with AVX2.
            unsafe { segment(t, s, p, o) }
        })
    }

    /// Decodes whole steps of eight elements of one segment from bit `*position`, while the 32
    /// bytes from the step's first byte lie inside `stream` and the elements' raw bits are at most
    /// [`VECTOR_UP_TO`]; returns how many elements it decoded (as final residuals).
    #[target_feature(enable = "avx2")]
    unsafe fn segment(tokens: &[u8], stream: &[u8], position: &mut usize, out: &mut [i32]) -> usize {
        let zero = _mm256_setzero_si256();
        let ones = _mm256_set1_epi32(1);
        let mut done = 0;
        while done + 8 <= tokens.len() && *position / 8 + 32 <= stream.len() {
            // SAFETY: `done + 8 <= tokens.len()`: the eight bytes are inside `tokens`.
            let eight = unsafe { _mm_loadl_epi64(tokens[done..].as_ptr().cast()) };
            let t = _mm256_and_si256(_mm256_cvtepu8_epi32(eight), _mm256_set1_epi32(TOKEN_COUNT as i32 - 1));
            // Counts and tops from the token (see `tokens`): below 16 the token is the value;
            // below 56, width w = 5 + (t - 16) / 2 with w - 2 raw bits under a top of 2 | (t & 1);
            // from 56, t - 32 raw bits under a top of 1.
            let small = _mm256_cmpgt_epi32(_mm256_set1_epi32(16), t);
            let wide = _mm256_cmpgt_epi32(t, _mm256_set1_epi32(55));
            let middle_width = _mm256_sub_epi32(_mm256_srli_epi32::<1>(t), _mm256_set1_epi32(5));
            let width = _mm256_blendv_epi8(middle_width, _mm256_sub_epi32(t, _mm256_set1_epi32(32)), wide);
            let width = _mm256_andnot_si256(small, width);
            let middle_top = _mm256_or_si256(_mm256_set1_epi32(2), _mm256_and_si256(t, ones));
            let top = _mm256_blendv_epi8(_mm256_blendv_epi8(middle_top, ones, wide), t, small);
            if _mm256_movemask_epi8(_mm256_cmpgt_epi32(width, _mm256_set1_epi32(VECTOR_UP_TO))) != 0 {
                break;
            }
            let zigzag_back = |u: __m256i| {
                _mm256_xor_si256(_mm256_srli_epi32::<1>(u), _mm256_sub_epi32(zero, _mm256_and_si256(u, ones)))
            };
            if _mm256_testz_si256(width, width) != 0 {
                // No raw bits in the eight (most steps of smooth data): each residual is its
                // token's value.
                // SAFETY: `done + 8 <= out.len()` (out is as long as tokens).
                unsafe { _mm256_storeu_si256(out[done..done + 8].as_mut_ptr().cast(), zigzag_back(top)) };
                done += 8;
                continue;
            }
            // Inclusive prefix sum of the widths.
            let end = crate::difference::avx2::within(width);
            let start = _mm256_add_epi32(_mm256_sub_epi32(end, width), _mm256_set1_epi32((*position % 8) as i32));
            let byte = _mm256_srli_epi32::<3>(start);
            // Each half reads sixteen bytes from its first element's byte.
            let first = *position / 8;
            let high_byte = _mm256_extract_epi32::<4>(byte);
            // SAFETY: `first + 32 <= stream.len()`, and `high_byte` is at most (3 * 25 + 7) / 8
            // + 25 / 2 < 16: both sixteen-byte loads are inside `stream`.
            let data = unsafe {
                let low = _mm_loadu_si128(stream[first..].as_ptr().cast());
                let high = _mm_loadu_si128(stream[first + high_byte as usize..].as_ptr().cast());
                _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(low), high)
            };
            let local =
                _mm256_sub_epi32(byte, _mm256_set_epi32(high_byte, high_byte, high_byte, high_byte, 0, 0, 0, 0));
            // Each element's byte offset in all four bytes of its lane, plus 0, 1, 2, 3.
            let spread = _mm256_shuffle_epi8(
                local,
                _mm256_setr_epi8(
                    0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12, 0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12,
                    12,
                ),
            );
            let index = _mm256_add_epi8(spread, _mm256_set1_epi32(0x0302_0100));
            let window = _mm256_shuffle_epi8(data, index);
            let shifted = _mm256_srlv_epi32(window, _mm256_and_si256(start, _mm256_set1_epi32(7)));
            let mask = _mm256_sub_epi32(_mm256_sllv_epi32(ones, width), ones);
            let u = _mm256_or_si256(_mm256_and_si256(shifted, mask), _mm256_sllv_epi32(top, width));
            // SAFETY: `done + 8 <= out.len()` (out is as long as tokens).
            unsafe { _mm256_storeu_si256(out[done..done + 8].as_mut_ptr().cast(), zigzag_back(u)) };
            *position += _mm256_extract_epi32::<7>(end) as usize;
            done += 8;
        }
        done
    }
}
