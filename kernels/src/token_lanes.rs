//! Token lanes of format minor version 4: the tokens alone, Huffman-coded, in four lanes that
//! each hold a quarter of the tile; the raw bits go elsewhere ([`crate::raw_segments`]).
//!
//! With the raw bits out of the lanes, every code is at most 12 bits long, so one 12-bit
//! lookup can give several tokens and one 64-bit store can write four codes. The reader's
//! chain (load a word, look up, advance) then runs once per up to three tokens instead of once
//! per element, and the raw bits, whose positions follow from the tokens, are read without any
//! chain but an addition.

use std::marker::PhantomData;
use std::ops::Range;

use crate::dispatch::{simd_op, Kernels};
use crate::token_decode::{word_at, LANES, TABLE_BITS};
use crate::token_encode::{lanes_written, put};
use crate::tokens::TOKEN_COUNT;

/// The elements of lane `lane` in a tile of `n`: the `lane`-th quarter, `floor(lane * n / 4)`
/// up to `floor((lane + 1) * n / 4)`.
pub fn lane_range(n: usize, lane: usize) -> Range<usize> {
    let at = |l: usize| l * (n / LANES) + l * (n % LANES) / LANES;
    at(lane)..at(lane + 1)
}

/// How the writer codes a token: its code, least significant bit first as it goes into the lane,
/// in bits 0..16, and the code's length (0 for a token that does not occur) in bits 16..24.
pub fn writer_code(code: u32, code_len: u32) -> u32 {
    debug_assert!(code_len <= TABLE_BITS && code < 1 << code_len.max(1));
    code | code_len << 16
}

/// A one-token table: entry `i` holds the code that the low 12 bits `i` of a lane begin with,
/// its length in bits 0..4 and its token in bits 8..14; bits that begin no code hold
/// [`NO_TOKEN`].
pub type SingleEntries = [u16; 1 << TABLE_BITS];

/// A several-token table (see [`multi_entries_scalar`]).
pub type MultiEntries = [u32; 1 << TABLE_BITS];

/// The one-token entry of bits that begin no code: it moves no lane, and the decoder reports it.
pub const NO_TOKEN: u16 = 1 << 15;

/// The several-token entry of bits that begin no code.
const NO_TOKENS: u32 = 1 << 31;

/// The most tokens one several-token entry holds.
pub const MAX_PER_LOOKUP: usize = 3;

/// The most tokens an entry can claim, whatever the table: its count field has two bits. Blocks
/// are sized by this, so that any table decodes without panicking.
const MOST_PER_ENTRY: usize = 4;

/// A table of `N` copies of `value`, made on the heap: `Box::new([value; N])` built it on the
/// stack and copied it over, which was a tenth of building a tile's token tables.
pub fn filled_box<T: Copy, const N: usize>(value: T) -> Box<[T; N]> {
    vec![value; N].into_boxed_slice().try_into().unwrap_or_else(|_| unreachable!("the vector holds N values"))
}

/// The one-token entry of `token` with a code of `code_len` bits (1..=12).
pub fn single_entry(token: u8, code_len: u32) -> u16 {
    debug_assert!((1..=TABLE_BITS).contains(&code_len) && usize::from(token) < TOKEN_COUNT);
    (u16::from(token) << 8) | code_len as u16
}

/// Builds the several-token table of the code `codes` (as [`writer_code`] gives them; lengths
/// must not over-subscribe the code space) whose one-token table is `single`: entry `i` holds
/// the tokens whose codes lie wholly inside the 12 bits `i`, up to three, in bytes 1, 2 and 3 (so
/// that one 32-bit store, shifted, writes them in order), their count less one in bits 6..8, and
/// their codes' total length in bits 0..6 (six bits, so that a shift by the entry takes it). Bits
/// that begin no code give an entry that moves no lane (bit 31 set, token 0) and that the
/// decoder reports.
pub fn multi_entries_scalar(codes: &[u32; TOKEN_COUNT], single: &SingleEntries) -> Box<MultiEntries> {
    let mut multi = filled_box(NO_TOKENS);
    fill_from_length(codes, single, 1, &mut multi);
    multi
}

/// The dispatched [`multi_entries_scalar`]: the same table when `single` is the one-token table
/// of `codes`, as that function asks (for any other pair, some table, without panicking). On
/// AVX-512 it is built in window order, sixteen windows at a time, each window's tokens read one
/// after the other from `single` (two gathers): a fifteenth faster to decode a 500x80 chunk
/// than filling it code by code.
pub fn multi_entries(kernels: Kernels, codes: &[u32; TOKEN_COUNT], single: &SingleEntries) -> Box<MultiEntries> {
    #[cfg(target_arch = "x86_64")]
    if kernels.has_vbmi() {
        // Every entry is written below: the zeros are never read.
        let mut multi = filled_box(0u32);
        // SAFETY: the CPU has AVX-512 F (`has_vbmi`).
        unsafe { vbmi::fill_by_windows(single, &mut multi) };
        return multi;
    }
    let _ = kernels;
    multi_entries_scalar(codes, single)
}

/// The entries of `multi` whose first code is `shortest` bits long or longer, as
/// [`multi_entries_scalar`] gives them; the others are left as they are.
#[inline(always)]
fn fill_from_length(codes: &[u32; TOKEN_COUNT], single: &SingleEntries, shortest: u32, multi: &mut MultiEntries) {
    const WINDOWS: usize = 1 << TABLE_BITS;
    // What follows a first code depends only on the bits after it, not on which code it was: so
    // the tokens after a code of `len` bits are found once per length, for each pattern of the
    // `TABLE_BITS - len` bits left, and every code of that length shares them. Both tables are
    // filled code by code, the patterns that begin with a code at a stride, so that no entry
    // waits on a lookup made for it. (Filling the windows in order instead, from `single`, ran
    // slower; so did two dependent lookups per pattern.)
    let mut after = [0u32; WINDOWS / 2];
    for len in shortest..=TABLE_BITS {
        let mut firsts = codes.iter().enumerate().filter(|&(_, &c)| (c >> 16) & 15 == len).peekable();
        if firsts.peek().is_none() {
            continue;
        }
        let room = TABLE_BITS - len;
        let after = &mut after[..1 << room];
        following(codes, single, room, after);
        for (token, &c) in firsts {
            let code = (c & 0xffff) as usize;
            let first = (token as u32) << 8 | len;
            for (rest, &then) in after.iter().enumerate() {
                multi[(code | rest << len) & (WINDOWS - 1)] = first + then;
            }
        }
    }
}

/// Fills `after` (of `1 << room` entries) with the second and third tokens of several-token
/// entries whose first code leaves `room` bits: entry `rest` holds the tokens whose codes lie
/// wholly inside the bits `rest` (zeros above them), in bytes 2 and 3, with their count in bits
/// 6..8 and their codes' total length in bits 0..6.
#[inline(always)]
fn following(codes: &[u32; TOKEN_COUNT], single: &SingleEntries, room: u32, after: &mut [u32]) {
    debug_assert_eq!(after.len(), 1 << room);
    after.fill(0);
    let mask = after.len() - 1;
    for (token, &c) in codes.iter().enumerate() {
        let len = (c >> 16) & 15;
        if len == 0 || len > room {
            continue;
        }
        let (code, left) = ((c & 0xffff) as usize, room - len);
        let second = (token as u32 & 63) << 16 | 1 << 6 | len;
        for (rest, &third) in single[..1 << left].iter().enumerate() {
            let third_len = u32::from(third & 15);
            let fits = third & NO_TOKEN == 0 && third_len <= left;
            let then = u32::from(fits) * (u32::from(third >> 8 & 63) << 24 | 1 << 6 | third_len);
            after[(code | rest << len) & mask] = second + then;
        }
    }
}

/// Per pair of tokens `a | b << 6`: the code of `a` followed by the code of `b` (bits 0..24) and
/// their total length (bits 24..29), so that four codes take two lookups.
type PairCodes = [u32; TOKEN_COUNT * TOKEN_COUNT];

fn pair_codes(codes: &[u32; TOKEN_COUNT]) -> Box<PairCodes> {
    let mut pairs = Box::new([0u32; TOKEN_COUNT * TOKEN_COUNT]);
    for (b, &second) in codes.iter().enumerate() {
        let (second_code, second_len) = (second & 0xfff, (second >> 16) & 15);
        for (a, &first) in codes.iter().enumerate() {
            let (first_code, first_len) = (first & 0xfff, (first >> 16) & 15);
            pairs[a | b << 6] = (first_code | second_code << first_len) | (first_len + second_len) << 24;
        }
    }
    pairs
}

/// Writes the codes of `quads[l]` (of equal lengths, multiples of four) to lane `l`, four codes
/// per store.
#[inline(always)]
fn put_quads<const FAST: bool>(
    pairs: &PairCodes,
    quads: [&[u8]; LANES],
    buffer: &mut [u8],
    positions: &mut [usize; LANES],
    pending: &mut [u64; LANES],
) {
    // Four codes of at most 12 bits and seven pending bits fit in one word.
    let quad = |q: &[u8]| {
        let w = u32::from_le_bytes([q[0], q[1], q[2], q[3]]);
        let first = pairs[(w & 63 | (w >> 2) & 0xfc0) as usize];
        let second = pairs[((w >> 16) & 63 | (w >> 18) & 0xfc0) as usize];
        let bits = u64::from(first & 0xff_ffff) | u64::from(second & 0xff_ffff) << (first >> 24);
        (bits, ((first >> 24) + (second >> 24)) as usize)
    };
    let [mut p0, mut p1, mut p2, mut p3] = *positions;
    let [mut a0, mut a1, mut a2, mut a3] = *pending;
    let [t0, t1, t2, t3] = quads.map(|q| q.chunks_exact(4));
    for (((q0, q1), q2), q3) in t0.zip(t1).zip(t2).zip(t3) {
        let (bits, len) = quad(q0);
        put::<FAST>(buffer, &mut p0, &mut a0, bits, len);
        let (bits, len) = quad(q1);
        put::<FAST>(buffer, &mut p1, &mut a1, bits, len);
        let (bits, len) = quad(q2);
        put::<FAST>(buffer, &mut p2, &mut a2, bits, len);
        let (bits, len) = quad(q3);
        put::<FAST>(buffer, &mut p3, &mut a3, bits, len);
    }
    *positions = [p0, p1, p2, p3];
    *pending = [a0, a1, a2, a3];
}

/// Writes `tokens` into the four lanes, lane `l` (the tokens of [`lane_range`]`(n, l)`) from byte
/// `starts[l]` of `buffer`, and returns each lane's length in bits. `codes` describes each token
/// (see [`writer_code`]; lengths above 12 are written as given and read back by no table). Each
/// lane needs eight bytes more room than its bits before the next
/// lane starts or the buffer ends; the bytes past a lane's last bit are overwritten with zeros.
/// Too little room spoils the next lane; a lane that would run past the buffer's end panics.
#[inline(always)]
pub fn encode_scalar(
    codes: &[u32; TOKEN_COUNT],
    tokens: &[u8],
    buffer: &mut [u8],
    starts: [usize; LANES],
) -> [usize; LANES] {
    encode_with(codes, tokens, buffer, starts, |_, _, _, _| false)
}

/// Tokens per lane written between checks of the room left.
const WRITE_BLOCK: usize = 256;

/// The most bits a group of eight codes may take: with the seven bits a store may have pending,
/// one 64-bit store.
const OCTET_BITS: u32 = 56;

/// Bytes of room past the end of the last lane with which every block of [`encode`] takes the
/// path that checks the room once per block: a block of four codes of up to 15 bits per group,
/// and an eight-byte store.
pub const ENCODE_SLACK: usize = WRITE_BLOCK / 4 * 8 + 16;

/// [`encode_scalar`], with `groups(tokens, bits, lens, per_group)` combining a block of one
/// lane's codes (a multiple of sixteen, at most [`WRITE_BLOCK`]), `per_group` (four or eight) to
/// a group, when it can (returning whether it did). Groups of eight are asked for first, and
/// must each hold at most [`OCTET_BITS`] bits.
#[inline(always)]
fn encode_with(
    codes: &[u32; TOKEN_COUNT],
    tokens: &[u8],
    buffer: &mut [u8],
    starts: [usize; LANES],
    groups: impl Fn(&[u8], &mut [u64; WRITE_BLOCK / 4], &mut [u32; WRITE_BLOCK / 4], usize) -> bool,
) -> [usize; LANES] {
    let n = tokens.len();
    let lanes: [&[u8]; LANES] = std::array::from_fn(|l| &tokens[lane_range(n, l)]);
    let mut positions = starts.map(|s| s * 8);
    let mut pending = [0u64; LANES];
    // Every lane holds at least n / 4 tokens; blocks of whole quads of each go first.
    const BLOCK: usize = WRITE_BLOCK;
    let whole = n / LANES / 4 * 4;
    // A quad is at most 48 bits under a valid code, but the length field allows 15 bits per
    // code: room for 60 per quad keeps any table's stores inside `buffer`.
    let reach = ENCODE_SLACK;
    // The pair table is built only for blocks that `groups` does not combine. Tokens of 64 and
    // up count as their value modulo 64, as elsewhere: the pair index, `groups` and the tail
    // below each keep a token's low six bits.
    let mut pairs: Option<Box<PairCodes>> = None;
    let single = |buffer: &mut [u8], position: &mut usize, pending: &mut u64, t: u8| {
        let c = codes[usize::from(t) % TOKEN_COUNT];
        put::<false>(buffer, position, pending, u64::from(c & 0xffff), ((c >> 16) & 15) as usize);
    };
    for first in (0..whole).step_by(BLOCK) {
        let block = lanes.map(|lane| &lane[first..whole.min(first + BLOCK)]);
        let fast = positions.iter().all(|&p| p / 8 + reach <= buffer.len());
        // The last block's sixteens are combined too (building the pair table for a few
        // hundred tokens cost a fiftieth of encoding a tile), the rest written one by one.
        let grouped = block[0].len() / 16 * 16;
        if fast && grouped > 0 {
            // Groups past the block's end stay empty: writing them moves no lane. Eight codes to
            // a store halve the stores of four, and fit unless a block holds eight long codes
            // in a row.
            let mut bits = [[0u64; BLOCK / 4]; LANES];
            let mut lens = [[0u32; BLOCK / 4]; LANES];
            let octets = (0..LANES).all(|l| groups(&block[l][..grouped], &mut bits[l], &mut lens[l], 8));
            let combined = octets || (0..LANES).all(|l| groups(&block[l][..grouped], &mut bits[l], &mut lens[l], 4));
            if combined {
                let (p, a) = (&mut positions, &mut pending);
                if octets {
                    crate::raw_segments::put_groups::<true, { BLOCK / 8 }, _>(&bits, &lens, buffer, p, a);
                } else {
                    crate::raw_segments::put_groups::<true, { BLOCK / 4 }, _>(&bits, &lens, buffer, p, a);
                }
                for l in 0..LANES {
                    for &t in &block[l][grouped..] {
                        single(buffer, &mut positions[l], &mut pending[l], t);
                    }
                }
                continue;
            }
        }
        let pairs = pairs.get_or_insert_with(|| pair_codes(codes));
        if fast {
            put_quads::<true>(pairs, block, buffer, &mut positions, &mut pending);
        } else {
            put_quads::<false>(pairs, block, buffer, &mut positions, &mut pending);
        }
    }
    for l in 0..LANES {
        for &t in &lanes[l][whole..] {
            single(buffer, &mut positions[l], &mut pending[l], t);
        }
    }
    lanes_written(buffer, positions, starts)
}

/// The dispatched [`encode_scalar`].
pub fn encode(
    kernels: Kernels,
    codes: &[u32; TOKEN_COUNT],
    tokens: &[u8],
    buffer: &mut [u8],
    starts: [usize; LANES],
) -> [usize; LANES] {
    simd_op!(Op<'a> {
        codes: &'a [u32; TOKEN_COUNT],
        tokens: &'a [u8],
        buffer: &'a mut [u8],
        starts: [usize; LANES],
    } -> [usize; LANES] => encode_scalar(codes, tokens, buffer, starts));
    #[cfg(target_arch = "x86_64")]
    if kernels.has_vbmi() {
        // SAFETY: the CPU has AVX-512 F, BW and VBMI (`has_vbmi`).
        return unsafe { vbmi::encode(codes, tokens, buffer, starts) };
    }
    kernels.run(Op { codes, tokens, buffer, starts, _borrows: PhantomData })
}

/// The writer on AVX-512: sixteen codes looked up and combined four at a time per step.
#[cfg(target_arch = "x86_64")]
mod vbmi {
    use super::*;
    use std::arch::x86_64::*;

    /// The several-token table of the code whose one-token table is `single`, as
    /// [`multi_entries_scalar`] gives it when `single` is the table of its `codes`: each window's
    /// first code from `single`, then the code that the bits after it begin with (the window
    /// shifted right by the first's length, zeros above), if it lies wholly inside the window,
    /// then the third the same way. Any `single` builds some table without reading outside it.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn fill_by_windows(single: &SingleEntries, multi: &mut MultiEntries) {
        let iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let (low_bits, window_bits) = (_mm512_set1_epi32(15), _mm512_set1_epi32(TABLE_BITS as i32));
        let (token_bits, count_one) = (_mm512_set1_epi32(63), _mm512_set1_epi32(1 << 6));
        // Windows past the first code hold at most 11 bits; the clamp keeps any table's
        // gathers (two bytes each, read as four) inside `single`.
        let highest = _mm512_set1_epi32((1 << (TABLE_BITS - 1)) - 1);
        let base = single.as_ptr().cast::<i32>();
        // The token an entry of `single` gives, its code's length, and whether it is one (not
        // `NO_TOKEN`, and of 1 to 12 bits, as every entry of a matching table is: so that any
        // table's entries stay within a window).
        let fields = |entry: __m512i| {
            let entry = _mm512_and_si512(entry, _mm512_set1_epi32(0xffff));
            let token = _mm512_and_si512(_mm512_srli_epi32::<8>(entry), token_bits);
            let len = _mm512_and_si512(entry, low_bits);
            let valid = _mm512_mask_cmple_epu32_mask(
                _mm512_testn_epi32_mask(entry, _mm512_set1_epi32(i32::from(NO_TOKEN))),
                _mm512_sub_epi32(len, _mm512_set1_epi32(1)),
                _mm512_set1_epi32(TABLE_BITS as i32 - 1),
            );
            (token, len, valid)
        };
        for start in (0..1usize << TABLE_BITS).step_by(16) {
            let window = _mm512_add_epi32(_mm512_set1_epi32(start as i32), iota);
            // SAFETY: sixteen u16 from `start`, a multiple of sixteen below the table's length.
            let firsts = unsafe { _mm512_cvtepu16_epi32(_mm256_loadu_si256(single[start..].as_ptr().cast())) };
            let (token, len, first_valid) = fields(firsts);
            let entry = _mm512_or_si512(_mm512_slli_epi32::<8>(token), len);
            // Adds to `entry`, in the lanes of `fits`, the code that the bits after its codes
            // begin with, when it lies wholly in the `room` bits left; its token goes to bit
            // `at`. Returns the entry, the lanes it fitted, the bits after it and the room left.
            let next = |entry: __m512i, fits: u16, after: __m512i, len: __m512i, room: __m512i, at: i32| {
                let rest = _mm512_min_epu32(_mm512_srlv_epi32(after, len), highest);
                // SAFETY: the gathered lanes read four bytes from u16 `rest` (at most 2047) of
                // `single`, inside its 4096.
                let codes = unsafe { _mm512_mask_i32gather_epi32::<2>(iota, fits, rest, base) };
                let (token, len, valid) = fields(codes);
                let fits = fits & valid & _mm512_cmple_epu32_mask(len, room);
                let token = _mm512_sllv_epi32(token, _mm512_set1_epi32(at));
                let added = _mm512_or_si512(_mm512_or_si512(token, count_one), len);
                (_mm512_mask_add_epi32(entry, fits, entry, added), fits, rest, len, _mm512_sub_epi32(room, len))
            };
            let room = _mm512_sub_epi32(window_bits, len);
            let (entry, second_fits, rest, len2, room) = next(entry, first_valid, window, len, room, 16);
            let (entry, ..) = next(entry, second_fits, rest, len2, room, 24);
            let entry = _mm512_mask_blend_epi32(first_valid, _mm512_set1_epi32(NO_TOKENS as i32), entry);
            // SAFETY: sixteen entries from `start`, inside the table.
            unsafe { _mm512_storeu_si512(multi[start..start + 16].as_mut_ptr().cast(), entry) };
        }
    }

    /// [`encode_scalar`], on AVX-512: thirty-two codes looked up per step in 16-bit lanes and
    /// combined in pairs, then fours, without leaving the registers (sixteen per step in 32-bit
    /// lanes took twice the vector operations).
    ///
    /// # Safety
    /// The CPU must have AVX-512 F, BW and VBMI.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    pub(super) unsafe fn encode(
        codes: &[u32; TOKEN_COUNT],
        tokens: &[u8],
        buffer: &mut [u8],
        starts: [usize; LANES],
    ) -> [usize; LANES] {
        // Each token's code (its low 16 bits) and length (4 bits), as 16-bit lanes: the low
        // and high 32 tokens in one register each, as `vpermi2w` takes them.
        let field = |shift: u32, mask: u32| -> [u16; TOKEN_COUNT] {
            std::array::from_fn(|t| (codes[t] >> shift & mask) as u16)
        };
        let (code_of, len_of) = (field(0, 0xffff), field(16, 15));
        // SAFETY: 32 of the 64 entries from 0 and from 32, inside each array.
        let [code_low, code_high, len_low, len_high] = unsafe {
            [&code_of[..32], &code_of[32..], &len_of[..32], &len_of[32..]]
                .map(|half| _mm512_loadu_si512(half.as_ptr().cast()))
        };
        encode_with(codes, tokens, buffer, starts, |block, bits, lens, per_group| {
            let mut too_long = 0u8;
            for step in 0..block.len().div_ceil(32) {
                let rest = &block[32 * step..];
                // SAFETY: this closure runs inside a function compiled for, and only called on, a
                // CPU with AVX-512 F, BW and VBMI; the bytes loaded are inside the block (the
                // last step of a block of 16 mod 32 loads sixteen, the rest zero-extended);
                // the groups stored from `8 * step` or `4 * step` are inside `bits` and `lens`,
                // which hold a group per four of the WRITE_BLOCK tokens a block has at most.
                unsafe {
                    let (t, present) = if rest.len() >= 32 {
                        (_mm512_cvtepu8_epi16(_mm256_loadu_si256(rest.as_ptr().cast())), u32::MAX)
                    } else {
                        let half = _mm256_zextsi128_si256(_mm_loadu_si128(rest.as_ptr().cast()));
                        (_mm512_cvtepu8_epi16(half), 0xffff)
                    };
                    // `vpermi2w` reads an index's low six bits: a token modulo 64, as elsewhere.
                    // Past a short block's end, codes and lengths are zero.
                    let code = _mm512_maskz_permutex2var_epi16(present, code_low, t, code_high);
                    let len = _mm512_maskz_permutex2var_epi16(present, len_low, t, len_high);
                    let (four, four_len) = crate::raw_segments::vbmi::fours(len, code);
                    if per_group == 8 {
                        // Eights in each 128-bit lane's low half: the high four shifted past
                        // the low one.
                        let eight = _mm512_or_si512(four, _mm512_sllv_epi64(_mm512_bsrli_epi128::<8>(four), four_len));
                        let eight_len = _mm512_add_epi64(four_len, _mm512_bsrli_epi128::<8>(four_len));
                        too_long |= _mm512_cmpgt_epu64_mask(eight_len, _mm512_set1_epi64(OCTET_BITS as i64));
                        let eights = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 2, 4, 6, 0, 2, 4, 6), eight);
                        let counts = _mm512_permutexvar_epi32(
                            _mm512_setr_epi32(0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12),
                            eight_len,
                        );
                        _mm256_storeu_si256(bits[4 * step..].as_mut_ptr().cast(), _mm512_castsi512_si256(eights));
                        _mm_storeu_si128(lens[4 * step..].as_mut_ptr().cast(), _mm512_castsi512_si128(counts));
                    } else {
                        _mm512_storeu_si512(bits[8 * step..].as_mut_ptr().cast(), four);
                        _mm256_storeu_si256(lens[8 * step..].as_mut_ptr().cast(), _mm512_cvtepi64_epi32(four_len));
                    }
                }
            }
            // Eights' bits past their lengths are the high fours' (a 128-bit lane's high half):
            // only the lanes checked matter, the even ones.
            too_long & 0x55 == 0
        })
    }
}

/// The 12 bits of `body` from bit `position`: a table index. `FAST` as for [`word_at`].
#[inline(always)]
fn window_at<const FAST: bool>(body: &[u8], position: usize) -> usize {
    (word_at::<FAST>(body, position / 8) >> (position % 8)) as usize & ((1 << TABLE_BITS) - 1)
}

/// A lane's reader in the several-token loop: `bits` holds the lane's bits from bit `position`
/// on, at least 57 of them after a refill. Keeping them in a register makes a lookup's chain an
/// AND, a table load and a shift; reading each window from the body at the bit position, as the
/// tail does, adds a load and two operations to it.
#[derive(Clone, Copy)]
struct LaneBits {
    bits: u64,
    position: usize,
}

impl LaneBits {
    /// Loads the bits from the lane's position. `FAST` as for [`word_at`].
    #[inline(always)]
    fn refill<const FAST: bool>(&mut self, body: &[u8]) {
        self.bits = word_at::<FAST>(body, self.position / 8) >> (self.position % 8);
    }

    /// The several-token entry at the lane's position; moves the lane past its codes.
    #[inline(always)]
    fn next_entry(&mut self, multi: &MultiEntries) -> u32 {
        let entry = multi[self.bits as usize & ((1 << TABLE_BITS) - 1)];
        // The length is the entry's low six bits, so the shift needs no mask of its own.
        self.bits >>= entry & 63;
        self.position += (entry & 63) as usize;
        entry
    }

    /// One several-token lookup: writes its tokens from `out[*at]` (and up to four bytes, the
    /// last ones to be overwritten by later lookups) and moves on. ORs the entry into `seen`, to
    /// find bits that begin no code.
    #[inline(always)]
    fn step(&mut self, multi: &MultiEntries, out: &mut [u8], at: &mut usize, seen: &mut u32) {
        let entry = self.next_entry(multi);
        *seen |= entry;
        out[*at..*at + 4].copy_from_slice(&(entry >> 8).to_le_bytes());
        *at += ((entry >> 6) & 3) as usize + 1;
    }
}

/// One several-token lookup of a lane at bit `*position` (the tail's way): as [`LaneBits::step`].
#[inline(always)]
fn multi_step(multi: &MultiEntries, body: &[u8], position: &mut usize, out: &mut [u8], at: &mut usize, seen: &mut u32) {
    let mut lane = LaneBits { bits: 0, position: *position };
    lane.refill::<false>(body);
    lane.step(multi, out, at, seen);
    *position = lane.position;
}

/// Lookups per lane between refills: a refill leaves at least 57 bits, and a table's entries
/// take at most 12 bits each (any table's at most 63, which only garbles the tokens).
const STEPS_PER_REFILL: usize = 4;

/// Runs `BLOCK` several-token lookups on each lane. `FAST` promises that [`REACH`] bytes from
/// every lane's byte are inside `body`.
///
/// # Safety
/// `at[l] + MOST_PER_ENTRY * BLOCK <= out.len()` for every lane: each lookup writes four bytes
/// and moves its lane's place by at most four.
#[inline(always)]
unsafe fn multi_block<const FAST: bool>(
    multi: &MultiEntries,
    body: &[u8],
    positions: &mut [usize; LANES],
    out: &mut [u8],
    at: &mut [usize; LANES],
    seen: &mut u32,
) {
    debug_assert!(at.iter().all(|&a| a + MOST_PER_ENTRY * BLOCK <= out.len()));
    // Unchecked stores through a pointer per lane: the checked ones kept the output's base and
    // length in registers too, and four lanes' state then no longer fit in them.
    let base = out.as_mut_ptr();
    let mut lanes = [0, 1, 2, 3].map(|l| LaneBits { bits: 0, position: positions[l] });
    // SAFETY: `at[l] <= out.len()` (this function's contract).
    let mut places = [0, 1, 2, 3].map(|l| unsafe { base.add(at[l]) });
    for _ in 0..BLOCK / STEPS_PER_REFILL {
        for lane in &mut lanes {
            lane.refill::<FAST>(body);
        }
        for _ in 0..STEPS_PER_REFILL {
            for (lane, place) in lanes.iter_mut().zip(&mut places) {
                let entry = lane.next_entry(multi);
                *seen |= entry;
                // SAFETY: a block's lookups write at most `MOST_PER_ENTRY * BLOCK` bytes from
                // the lane's first place, which this function's contract keeps inside `out`.
                unsafe {
                    place.cast::<u32>().write_unaligned((entry >> 8).to_le());
                    *place = place.add(((entry >> 6) & 3) as usize + 1);
                }
                // Keeps the compiler from merging the four lanes' lookups into a gather, which
                // ran a fifth slower.
                std::hint::black_box(());
            }
        }
    }
    for l in 0..LANES {
        positions[l] = lanes[l].position;
        // SAFETY: both pointers are into `out`, the place at or after its base.
        at[l] = unsafe { places[l].offset_from(base) } as usize;
    }
}

/// Bytes a block may read from a lane's byte: the lookups before its last refill move the lane
/// by at most 63 bits each, and the refill loads eight bytes.
const REACH: usize = ((BLOCK - STEPS_PER_REFILL) * 63).div_ceil(8) + 8;

/// Several-token lookups per lane in a block between checks of the room left.
const BLOCK: usize = 32;

/// One one-token lookup of a lane at bit `*position` into `out[*at]`.
#[inline(always)]
fn single_step(
    single: &SingleEntries,
    body: &[u8],
    position: &mut usize,
    out: &mut [u8],
    at: &mut usize,
    seen: &mut bool,
) {
    let entry = single[window_at::<false>(body, *position)];
    *seen |= entry & NO_TOKEN != 0;
    out[*at] = (entry >> 8) as u8 & 63;
    *at += 1;
    *position += usize::from(entry & 15);
}

/// Scalar reference: decodes the tokens of a tile of `out.len()` elements, lane `l` from bit
/// `positions[l]` of `body` into `out[lane_range(n, l)]`, and advances the positions. Returns
/// true if some bits began no code (those decode as token 0 without moving the lane). Bits past
/// `body`'s end read as zeros, so any input is safe; the caller checks where the lanes ended.
/// `multi` must be [`multi_entries`] of `single` for the result to be the tokens the lanes hold;
/// any table decodes without panicking.
#[inline(always)]
pub fn decode_scalar(
    multi: &MultiEntries,
    single: &SingleEntries,
    body: &[u8],
    positions: &mut [usize; LANES],
    out: &mut [u8],
) -> bool {
    decode_with(multi, single, body, positions, out, |positions, out, at, seen| {
        // SAFETY: `decode_with` calls this only when every lane has room for a block.
        unsafe { multi_block::<true>(multi, body, positions, out, at, seen) }
    })
}

/// [`decode_scalar`] with `fast_block` doing the blocks whose reads lie inside `body`: it is
/// called, as [`multi_block`] with `FAST`, only when `at[l] + MOST_PER_ENTRY * BLOCK` is below
/// lane `l`'s end for every lane and [`REACH`] bytes from every lane's byte are inside `body`,
/// and must do what that does.
#[inline(always)]
fn decode_with(
    multi: &MultiEntries,
    single: &SingleEntries,
    body: &[u8],
    positions: &mut [usize; LANES],
    out: &mut [u8],
    mut fast_block: impl FnMut(&mut [usize; LANES], &mut [u8], &mut [usize; LANES], &mut u32),
) -> bool {
    let n = out.len();
    let ends: [usize; LANES] = std::array::from_fn(|l| lane_range(n, l).end);
    let mut at: [usize; LANES] = std::array::from_fn(|l| lane_range(n, l).start);
    let mut seen = 0u32;
    // Blocks of lookups that stay inside every lane's output (each lookup writes four bytes and
    // moves at most four) and inside `body` (each moves at most 63 bits: [`REACH`]) run
    // unchecked.
    while (0..LANES).all(|l| at[l] + MOST_PER_ENTRY * BLOCK < ends[l]) {
        if positions.iter().all(|&p| p / 8 + REACH <= body.len()) {
            fast_block(positions, out, &mut at, &mut seen);
        } else {
            // SAFETY: the loop's condition is the function's contract.
            unsafe { multi_block::<false>(multi, body, positions, out, &mut at, &mut seen) };
        }
    }
    let mut bad = seen & NO_TOKENS != 0;
    for l in 0..LANES {
        // While four or more tokens remain, every token a lookup gives is the lane's own.
        while at[l] + 4 <= ends[l] {
            multi_step(multi, body, &mut positions[l], out, &mut at[l], &mut seen);
        }
        while at[l] < ends[l] {
            single_step(single, body, &mut positions[l], out, &mut at[l], &mut bad);
        }
    }
    bad || seen & NO_TOKENS != 0
}

/// The dispatched [`decode_scalar`].
pub fn decode(
    kernels: Kernels,
    multi: &MultiEntries,
    single: &SingleEntries,
    body: &[u8],
    positions: &mut [usize; LANES],
    out: &mut [u8],
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if kernels.has_vbmi2() {
        // SAFETY: the CPU has AVX-512 F, BW and VBMI2 (`has_vbmi2`).
        return unsafe { vbmi2::decode(multi, single, body, positions, out) };
    }
    simd_op!(Op<'a> {
        multi: &'a MultiEntries,
        single: &'a SingleEntries,
        body: &'a [u8],
        positions: &'a mut [usize; LANES],
        out: &'a mut [u8],
    } -> bool => decode_scalar(multi, single, body, positions, out));
    kernels.run(Op { multi, single, body, positions, out, _borrows: PhantomData })
}

/// The token lanes' reader on AVX-512 with VBMI2. Its blocks look up in general registers, as
/// [`multi_block`] does, but keep nothing per lane but its bits and its bit position: each entry
/// goes whole to a scratch slot of its own, and after the block each lane's tokens are packed
/// from its slots with a byte compression, sixteen entries at a time. [`multi_block`] also keeps
/// each lane's place in the output: four lanes' bits, positions and places, with the table and
/// the body, are more than the general registers hold, and the compiled loop kept some lanes'
/// bits on the stack (perf annotate), putting a store and a load on chains that are otherwise
/// an AND, a table load and a shift. The lookups are in `asm!` so that the registers are as
/// written.
#[cfg(target_arch = "x86_64")]
mod vbmi2 {
    use super::*;
    use std::arch::x86_64::*;

    // The slots' byte offsets in `look_up_block`'s `asm!` are written for blocks of 32 lookups
    // a lane (a lane's slots 128 bytes apart), four a refill; `pack_block` packs sixteens.
    const _: () = assert!(BLOCK == 32 && STEPS_PER_REFILL == 4);

    /// [`super::decode_scalar`] on AVX-512 with VBMI2.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F, BW and VBMI2.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi2")]
    pub(super) unsafe fn decode(
        multi: &MultiEntries,
        single: &SingleEntries,
        body: &[u8],
        positions: &mut [usize; LANES],
        out: &mut [u8],
    ) -> bool {
        let mut slots = [0u32; LANES * BLOCK];
        decode_with(multi, single, body, positions, out, |positions, out, at, seen| {
            // SAFETY: `decode_with` calls this only when REACH bytes from every lane's byte are
            // inside `body` and every lane has room for a block; the CPU has AVX-512 F, BW and
            // VBMI2 (this function's contract).
            unsafe {
                look_up_block(multi, body, positions, &mut slots);
                pack_block(&slots, out, at, seen);
            }
        })
    }

    /// One lookup of a lane: its bits' low 12 bits index the table; the entry goes to the
    /// lane's slot at byte offset `$slot` from `{slots}`, its low six bits shift the bits and
    /// are added to the position.
    macro_rules! lookup {
        ($bits:literal, $position:literal, $slot:literal) => {
            concat!(
                "mov {t:e}, {",
                $bits,
                ":e}\n",
                "and {t:e}, 4095\n",
                "mov {e:e}, dword ptr [{table} + 4*{t}]\n",
                "shrx {",
                $bits,
                "}, {",
                $bits,
                "}, {e}\n",
                "mov dword ptr [{slots} + ",
                $slot,
                "], {e:e}\n",
                "and {e:e}, 63\n",
                "add {",
                $position,
                "}, {e}\n",
            )
        };
    }

    /// Loads a lane's bits from its position (an address in bits): the eight bytes from its
    /// byte, shifted past the bits of that byte already read.
    macro_rules! refill {
        ($bits:literal, $position:literal) => {
            concat!(
                "mov {t}, {",
                $position,
                "}\n",
                "shr {t}, 3\n",
                "mov {",
                $bits,
                "}, qword ptr [{t}]\n",
                "mov {t:e}, {",
                $position,
                ":e}\n",
                "and {t:e}, 7\n",
                "shrx {",
                $bits,
                "}, {",
                $bits,
                "}, {t}\n",
            )
        };
    }

    /// Runs [`BLOCK`] several-token lookups on each lane, from bit `positions[l]` of `body`,
    /// and advances the positions; lookup `k` of lane `l` leaves its entry in
    /// `slots[l * BLOCK + k]`.
    ///
    /// # Safety
    /// [`REACH`] bytes from every lane's byte are inside `body`.
    #[inline]
    unsafe fn look_up_block(
        multi: &MultiEntries,
        body: &[u8],
        positions: &mut [usize; LANES],
        slots: &mut [u32; LANES * BLOCK],
    ) {
        // Positions as addresses in bits, so that a refill needs no base register.
        let origin = (body.as_ptr() as usize) * 8;
        let [mut p0, mut p1, mut p2, mut p3] = positions.map(|p| origin + p);
        let (mut b0, mut b1, mut b2, mut b3) = (0u64, 0u64, 0u64, 0u64);
        let table = multi.as_ptr();
        for round in 0..BLOCK / STEPS_PER_REFILL {
            // SAFETY: each refill reads the eight bytes from its lane's byte, which has moved
            // by at most 63 bits a lookup since the block began: inside the REACH bytes this
            // function's contract puts inside `body`. Each lookup reads the entry its bits'
            // low twelve bits index, inside the table's 4096. The `j`-th lookup of lane `l` in
            // this round writes `slots[l * BLOCK + round * STEPS_PER_REFILL + j]`, the byte
            // offset `4 * (l * BLOCK + j)` (the literals: BLOCK is 32) from the pointer passed,
            // inside `slots`. The asm uses only its operands and two scratch registers, and
            // clobbers the flags (no `preserves_flags`); it touches no stack.
            unsafe {
                std::arch::asm!(
                    refill!("b0", "p0"),
                    refill!("b1", "p1"),
                    refill!("b2", "p2"),
                    refill!("b3", "p3"),
                    lookup!("b0", "p0", "0"),
                    lookup!("b1", "p1", "128"),
                    lookup!("b2", "p2", "256"),
                    lookup!("b3", "p3", "384"),
                    lookup!("b0", "p0", "4"),
                    lookup!("b1", "p1", "132"),
                    lookup!("b2", "p2", "260"),
                    lookup!("b3", "p3", "388"),
                    lookup!("b0", "p0", "8"),
                    lookup!("b1", "p1", "136"),
                    lookup!("b2", "p2", "264"),
                    lookup!("b3", "p3", "392"),
                    lookup!("b0", "p0", "12"),
                    lookup!("b1", "p1", "140"),
                    lookup!("b2", "p2", "268"),
                    lookup!("b3", "p3", "396"),
                    b0 = inout(reg) b0,
                    b1 = inout(reg) b1,
                    b2 = inout(reg) b2,
                    b3 = inout(reg) b3,
                    p0 = inout(reg) p0,
                    p1 = inout(reg) p1,
                    p2 = inout(reg) p2,
                    p3 = inout(reg) p3,
                    table = in(reg) table,
                    slots = in(reg) slots.as_mut_ptr().add(round * STEPS_PER_REFILL),
                    t = out(reg) _,
                    e = out(reg) _,
                    options(nostack),
                );
            }
        }
        // The bits left are dropped: the next block loads its own from the positions.
        let _ = (b0, b1, b2, b3);
        *positions = [p0, p1, p2, p3].map(|p| p - origin);
    }

    /// Writes each lane's tokens from its block of entries in `slots` from `out[at[l]]`, as
    /// [`multi_block`] does (each entry's bytes 1 to 3 and a zero byte, of which as many as the
    /// entry's count, one more than bits 6..8), and advances `at`; ORs every entry into `seen`.
    ///
    /// # Safety
    /// The CPU must have AVX-512 F, BW and VBMI2; `at[l] + MOST_PER_ENTRY * BLOCK` is inside
    /// `out` for every lane.
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi2")]
    #[inline]
    unsafe fn pack_block(slots: &[u32; LANES * BLOCK], out: &mut [u8], at: &mut [usize; LANES], seen: &mut u32) {
        // Each entry's count field copied to its four bytes, which keep byte `j` while `j` is
        // at most the field (the count less one).
        let to_bytes = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12));
        let places = _mm512_set1_epi32(0x0302_0100);
        let mut all = _mm512_setzero_si512();
        for (lane, place) in at.iter_mut().enumerate() {
            for sixteen in 0..BLOCK / 16 {
                // SAFETY: sixteen entries from `lane * BLOCK + 16 * sixteen`, inside `slots`.
                let entries = unsafe { _mm512_loadu_si512(slots[lane * BLOCK + 16 * sixteen..].as_ptr().cast()) };
                all = _mm512_or_si512(all, entries);
                let counts = _mm512_and_si512(_mm512_srli_epi32::<6>(entries), _mm512_set1_epi32(3));
                let kept = _mm512_cmple_epu8_mask(places, _mm512_shuffle_epi8(counts, to_bytes));
                let tokens = _mm512_maskz_compress_epi8(kept, _mm512_srli_epi32::<8>(entries));
                // SAFETY: the 64 bytes from the place lie within `MOST_PER_ENTRY * BLOCK` of
                // the lane's place at the block's start: the sixteens before moved it by at most
                // `MOST_PER_ENTRY * 16` each, and 64 is `MOST_PER_ENTRY * 16`.
                unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(*place).cast(), tokens) };
                *place += kept.count_ones() as usize;
            }
        }
        *seen |= _mm512_reduce_or_epi32(all) as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A canonical code for `lengths` (as the format builds it), as writer codes and tables.
    fn code_of(lengths: &[u32; TOKEN_COUNT]) -> ([u32; TOKEN_COUNT], Box<SingleEntries>) {
        let mut order: Vec<usize> = (0..TOKEN_COUNT).filter(|&t| lengths[t] > 0).collect();
        order.sort_by_key(|&t| (lengths[t], t));
        let (mut codes, mut single) = ([0u32; TOKEN_COUNT], Box::new([NO_TOKEN; 1 << TABLE_BITS]));
        let (mut next, mut previous) = (0u32, 0u32);
        for &t in &order {
            next <<= lengths[t] - previous;
            previous = lengths[t];
            let reversed = next.reverse_bits() >> (32 - lengths[t]);
            codes[t] = writer_code(reversed, lengths[t]);
            for i in (reversed as usize..single.len()).step_by(1 << lengths[t]) {
                single[i] = single_entry(t as u8, lengths[t]);
            }
            next += 1;
        }
        (codes, single)
    }

    /// Lengths of complete codes: all 64 tokens at 6 bits, a skewed code down to 12 bits, and a
    /// one-token code (1 bit, half the patterns begin no code).
    fn codes() -> Vec<[u32; TOKEN_COUNT]> {
        let flat = [6u32; TOKEN_COUNT];
        let mut skewed = [0u32; TOKEN_COUNT];
        for (t, len) in skewed.iter_mut().enumerate().take(12) {
            *len = t as u32 + 1;
        }
        skewed[11] = 11;
        let mut one = [0u32; TOKEN_COUNT];
        one[5] = 1;
        vec![flat, skewed, one]
    }

    #[test]
    fn entries_hold_the_tokens_whose_codes_fit_the_window() {
        let (codes, single) = code_of(&codes()[1]);
        let multi = multi_entries_scalar(&codes, &single);
        for (i, &entry) in multi.iter().enumerate() {
            // Decode greedily from the one-token table.
            let (mut used, mut tokens) = (0, Vec::new());
            while tokens.len() < MAX_PER_LOOKUP {
                let e = single[i >> used];
                let len = u32::from(e & 15);
                if e & NO_TOKEN != 0 || used + len > TABLE_BITS {
                    break;
                }
                tokens.push((e >> 8) as u8);
                used += len;
            }
            assert_eq!(entry & 63, used, "window {i:#x}");
            assert_eq!(((entry >> 6) & 3) as usize + 1, tokens.len(), "window {i:#x}");
            for (k, &t) in tokens.iter().enumerate() {
                assert_eq!((entry >> (8 + 8 * k)) as u8, t, "window {i:#x}");
            }
        }
    }

    #[test]
    fn both_builders_give_the_same_table_for_random_complete_codes() {
        let mut state = 4242u64;
        let mut next = |below: usize| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as usize % below
        };
        for _ in 0..200 {
            // A complete prefix code: leaves split at random (up to 12 bits) into 1 to 64 of
            // them, given to random tokens.
            let mut leaves = vec![0u32];
            for _ in 0..next(64) {
                let splittable: Vec<usize> = (0..leaves.len()).filter(|&i| leaves[i] < TABLE_BITS).collect();
                if splittable.is_empty() {
                    break;
                }
                let i = splittable[next(splittable.len())];
                leaves[i] += 1;
                leaves.push(leaves[i]);
            }
            let mut lengths = [0u32; TOKEN_COUNT];
            let mut tokens: Vec<usize> = (0..TOKEN_COUNT).collect();
            for len in leaves {
                let token = tokens.swap_remove(next(tokens.len()));
                // A lone leaf of length 0 is a one-token code of one bit, half the space unused.
                lengths[token] = len.max(1);
            }
            let (codes, single) = code_of(&lengths);
            assert_eq!(
                multi_entries(Kernels::detect(), &codes, &single),
                multi_entries_scalar(&codes, &single),
                "{lengths:?}"
            );
        }
    }

    #[test]
    fn lanes_decode_back_on_both_paths_for_every_code_and_ragged_lengths() {
        for lengths in codes() {
            let (codes, single) = code_of(&lengths);
            let multi = multi_entries(Kernels::detect(), &codes, &single);
            assert_eq!(multi, multi_entries_scalar(&codes, &single));
            let used: Vec<u8> = (0..TOKEN_COUNT as u8).filter(|&t| lengths[usize::from(t)] > 0).collect();
            for n in [0, 1, 3, 4, 5, 17, 100, 397, 1000, 4099] {
                let tokens: Vec<u8> = (0..n).map(|i| used[(i * 7 + i / 3) % used.len()]).collect();
                let mut results = Vec::new();
                for kernels in [Kernels::detect(), Kernels::detect().without_vbmi2(), Kernels::scalar()] {
                    let room = n.div_ceil(4) * 12 / 8 + 1 + 8;
                    let starts = [0, room, 2 * room, 3 * room];
                    let mut buffer = vec![0xa5u8; 4 * room];
                    let bits = encode(kernels, &codes, &tokens, &mut buffer, starts);
                    // Tokens of 64 and up are written as their value modulo 64.
                    let high: Vec<u8> = tokens.iter().map(|&t| t + 64).collect();
                    let mut again = vec![0xa5u8; 4 * room];
                    assert_eq!(encode(kernels, &codes, &high, &mut again, starts), bits);
                    assert_eq!(again, buffer, "tokens of 64 and up, {n} tokens");
                    let lanes: Vec<&[u8]> =
                        (0..LANES).map(|l| &buffer[starts[l]..starts[l] + bits[l].div_ceil(8)]).collect();
                    for (l, lane) in lanes.iter().enumerate() {
                        let expected: u32 = tokens[lane_range(n, l)].iter().map(|&t| lengths[usize::from(t)]).sum();
                        assert_eq!(bits[l], expected as usize, "lane {l} of {n}");
                        if !bits[l].is_multiple_of(8) {
                            assert_eq!(lane[lane.len() - 1] >> (bits[l] % 8), 0, "padding of lane {l}");
                        }
                    }
                    let body = lanes.concat();
                    let mut positions = [0usize; LANES];
                    for l in 1..LANES {
                        positions[l] = positions[l - 1] + lanes[l - 1].len() * 8;
                    }
                    let starts_bits = positions;
                    let mut out = vec![0xffu8; n];
                    let bad = decode(kernels, &multi, &single, &body, &mut positions, &mut out);
                    assert!(!bad, "{n} tokens");
                    assert_eq!(out, tokens, "{n} tokens");
                    for l in 0..LANES {
                        assert_eq!(positions[l] - starts_bits[l], bits[l], "lane {l} end");
                    }
                    results.push(body);
                }
                assert!(results.iter().all(|r| *r == results[0]), "dispatched and scalar lanes differ");
            }
        }
    }

    #[test]
    fn eight_long_codes_in_a_row_are_written_four_to_a_store_and_decode_the_same() {
        // Tokens 9 to 11 of the skewed code take 10 to 12 bits: eight of them pass the 56 bits
        // that eight codes to a store allow, and their block falls back to four to a store.
        let (codes, single) = code_of(&codes()[1]);
        let multi = multi_entries(Kernels::detect(), &codes, &single);
        let n = 4 * 1000;
        for long_run_at in [None, Some(8), Some(1000 + 256 + 3), Some(3000 + 240)] {
            let mut tokens: Vec<u8> = (0..n).map(|i| [0, 0, 1, 0, 2, 0, 0, 3][i % 8]).collect();
            if let Some(at) = long_run_at {
                tokens[at..at + 16].copy_from_slice(&[9, 10, 11, 11, 10, 9, 11, 10].repeat(2));
            }
            let room = n / 4 * 12 / 8 + ENCODE_SLACK;
            let starts = [0, room, 2 * room, 3 * room];
            let mut streams = Vec::new();
            for kernels in [Kernels::detect(), Kernels::scalar()] {
                let mut buffer = vec![0u8; 4 * room];
                let bits = encode(kernels, &codes, &tokens, &mut buffer, starts);
                let lanes: Vec<&[u8]> =
                    (0..LANES).map(|l| &buffer[starts[l]..starts[l] + bits[l].div_ceil(8)]).collect();
                streams.push(lanes.concat());
            }
            assert_eq!(streams[0], streams[1], "long run at {long_run_at:?}");
            let mut positions = [0usize; LANES];
            let lane_bits: Vec<usize> = (0..LANES)
                .map(|l| tokens[lane_range(n, l)].iter().map(|&t| (codes[usize::from(t)] >> 16) as usize).sum())
                .collect();
            for l in 1..LANES {
                positions[l] = positions[l - 1] + lane_bits[l - 1].div_ceil(8) * 8;
            }
            let mut out = vec![0u8; n];
            assert!(!decode(Kernels::detect(), &multi, &single, &streams[0], &mut positions, &mut out));
            assert_eq!(out, tokens, "long run at {long_run_at:?}");
        }
    }

    #[test]
    fn codes_longer_than_tables_allow_are_written_as_given() {
        // Lengths of 15 bits (the field's most): four codes per store are 60 bits, more than a
        // valid code's 48; with the room the contract asks for, every lane is written whole.
        let codes: [u32; TOKEN_COUNT] = std::array::from_fn(|t| (t as u32) | 15 << 16);
        for n in [5, 1000, 5003] {
            let tokens: Vec<u8> = (0..n).map(|i| (i * 13 % 64) as u8).collect();
            for kernels in [Kernels::detect(), Kernels::scalar()] {
                let rooms: Vec<usize> = (0..LANES).map(|l| lane_range(n, l).len() * 15 / 8 + 1 + 8).collect();
                let starts = [0, rooms[0], rooms[0] + rooms[1], rooms[0] + rooms[1] + rooms[2]];
                let mut buffer = vec![0u8; rooms.iter().sum()];
                let bits = encode(kernels, &codes, &tokens, &mut buffer, starts);
                assert_eq!(bits, std::array::from_fn(|l| lane_range(n, l).len() * 15));
            }
        }
    }

    #[test]
    fn bits_that_begin_no_code_are_reported_and_any_bytes_decode_without_panicking() {
        let (codes, single) = code_of(&codes()[2]);
        let multi = multi_entries(Kernels::detect(), &codes, &single);
        assert_eq!(multi, multi_entries_scalar(&codes, &single));
        // Token 5's code is a single 0 bit: a one bit begins no code.
        // 5000 runs blocks of lookups, the others only the lanes' last lookups.
        for n in [1, 9, 500, 5000] {
            for kernels in [Kernels::detect(), Kernels::detect().without_vbmi2(), Kernels::scalar()] {
                let mut out = vec![0u8; n];
                let body = vec![0u8; n / 8 + 1];
                assert!(!decode(kernels, &multi, &single, &body, &mut [0; LANES], &mut out));
                assert!(out.iter().all(|&t| t == 5));
                let body = vec![0xffu8; n + 4];
                let mut positions = [0, 8, 16, 24];
                assert!(decode(kernels, &multi, &single, &body, &mut positions, &mut out), "{n}");
            }
        }
        // Arbitrary tables and bytes, positions past the end.
        let mut state = 1u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let single: Box<SingleEntries> = Box::new(std::array::from_fn(|_| next() as u16));
        // Building from codes that are no code at all (lengths up to 15, code bits past them)
        // and a one-token table that does not match them must not panic either, and gives
        // entries of at most 12 bits; the table is specified only for a matching pair.
        for _ in 0..20 {
            let codes: [u32; TOKEN_COUNT] = std::array::from_fn(|_| next() & 0xf_ffff);
            // The same codes with no bits past their lengths (the AVX-512 path takes those).
            let fitted = codes.map(|c| c & (0xf_0000 | ((1 << ((c >> 16) & 15)) - 1)));
            for codes in [codes, fitted] {
                for built in [multi_entries(Kernels::detect(), &codes, &single), multi_entries_scalar(&codes, &single)]
                {
                    assert!(built.iter().all(|&e| e & 63 <= TABLE_BITS || e == NO_TOKENS));
                }
            }
        }
        // Every entry claims four tokens, the count field's most, which no built table does.
        let multi: Box<MultiEntries> = Box::new(std::array::from_fn(|_| next() | 0xc0));
        let body: Vec<u8> = (0..300).map(|_| next() as u8).collect();
        // Every path gives the same tokens, ends and report for them, the bytes of all four in
        // each entry included; a long body puts some blocks inside it.
        let long: Vec<u8> = (0..40_000).map(|_| next() as u8).collect();
        for body in [&body, &long] {
            for n in [0, 7, 1000, 20_000] {
                let quarter = body.len() * 2;
                let results: Vec<_> = [Kernels::detect(), Kernels::detect().without_vbmi2(), Kernels::scalar()]
                    .map(|kernels| {
                        let mut out = vec![0u8; n];
                        let last = if body.len() > 1000 { 3 * quarter + 5 } else { 1 << 40 };
                        let mut positions = [0, quarter + 100, 2 * quarter + 2399, last];
                        let bad = decode(kernels, &multi, &single, body, &mut positions, &mut out);
                        (out, positions, bad)
                    })
                    .into();
                assert!(results.iter().all(|r| *r == results[0]), "{n} tokens from {} bytes", body.len());
            }
        }
    }
}
