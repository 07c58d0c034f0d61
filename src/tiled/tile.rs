//! One tile: quantize, predict, split into tokens and raw bits, Huffman-code the tokens into
//! four interleaved lanes; and the inverse.

use lilcom_kernels::difference::Shape3;
use lilcom_kernels::tokens::{self, Alphabet, TOKEN_COUNT};
use lilcom_kernels::{multi_decode, raw_segments, token_decode, token_lanes, Kernels};

use super::huffman::{self, DecodeTable, TokenTables, LENGTHS_BYTES};
use super::kept_buffers;
use super::layout::Cursor;
use super::predictor::{self, Predictor, PREDICTOR_BYTES};
use crate::element::Element;
use crate::error::{Error, Result};

/// The format minor version from which tokens are of [`Alphabet::SmallExact`]; every tile this
/// writer writes needs it.
pub(crate) const SMALL_EXACT_MINOR: u8 = 3;

/// The format minor version from which tiles keep tokens and raw bits apart ([`Coding::Split`]);
/// every tile this writer writes is so.
pub(crate) const SPLIT_MINOR: u8 = 4;

/// How a tile lays out its tokens' codes and raw bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Coding {
    /// Minor versions 0 to 3: element `i` in lane `i % 4`, its code followed by its raw bits.
    /// Read from any stream; written only by tests, to make such tiles.
    #[cfg(test)]
    Interleaved,
    /// Minor version 4: lane `l` holds the codes of the `l`-th quarter's tokens; the raw bits
    /// follow all lanes, a segment per quarter.
    Split,
}

/// Independent bit streams per tile; element `i` goes to lane `i % LANES`, so a decoder can
/// work on four elements at once.
pub(crate) const LANES: usize = token_decode::LANES;

/// The tile's shape as three axes: its rows, the flattened middle axes, the last axis.
pub(crate) fn tile_shape(shape: &[usize], rows: usize) -> Shape3 {
    match shape.len() {
        0 | 1 => Shape3 { outer: rows, middle: 1, inner: 1 },
        2 => Shape3 { outer: rows, middle: 1, inner: shape[1] },
        n => Shape3 { outer: rows, middle: shape[1..n - 1].iter().product(), inner: shape[n - 1] },
    }
}

/// Encodes one tile of `values` (C order, shape `view`) as this writer does ([`Coding::Split`]);
/// returns its bytes and the format minor version it needs.
pub(crate) fn encode_tile<T: Element>(kernels: Kernels, values: &[T], view: Shape3, tick_power: i32) -> (Vec<u8>, u8) {
    encode_tile_as(kernels, values, view, tick_power, Coding::Split)
}

/// Encodes one tile of `values` (C order, shape `view`) with `coding`; returns its bytes and the
/// format minor version they need.
pub(crate) fn encode_tile_as<T: Element>(
    kernels: Kernels,
    values: &[T],
    view: Shape3,
    tick_power: i32,
    coding: Coding,
) -> (Vec<u8>, u8) {
    let n = values.len();
    debug_assert_eq!(n, view.len());
    let inv_tick = T::pow2(-tick_power);
    // Every code and token is written before it is read, so buffers left from an earlier tile
    // need no clearing; clearing new ones took a fortieth of encoding.
    let (mut code_buffer, mut token_buffer) = CODES_AND_TOKENS.take();
    if code_buffer.len() < n {
        code_buffer.resize(n, 0);
        token_buffer.resize(n, 0);
    }
    let (codes, token_of) = (&mut code_buffer[..n], &mut token_buffer[..n]);
    // The predictor is chosen from the codes of a corner of the tile, quantized first on their
    // own (about 2048), so that the differences, the usual choice, can then be taken in the
    // pass that quantizes the whole tile.
    for region in predictor::sample_regions(view) {
        T::quantize(kernels, &values[region.clone()], inv_tick, &mut codes[region]);
    }
    let predictor = predictor::choose(kernels, codes, view);
    let exception_count = match predictor {
        Predictor::Differences(axes) => T::quantize_difference(kernels, values, inv_tick, codes, view, axes),
        _ => {
            let exceptions = T::quantize(kernels, values, inv_tick, codes);
            predictor.apply(kernels, codes, view);
            exceptions
        }
    };

    let lanes = match coding {
        #[cfg(test)]
        Coding::Interleaved => {
            tokens::split(kernels, codes, token_of);
            interleaved_lanes(kernels, token_of, codes)
        }
        Coding::Split => split_lanes(kernels, codes, token_of),
    };
    let coded_len: usize = lanes.parts.iter().map(|part| part.len()).sum();

    let mut out = kept_buffers::take(8 + LENGTHS_BYTES + 4 * LANES + coded_len + 32 + (4 + T::BYTES) * exception_count);
    predictor.write(&mut out);
    out.extend_from_slice(&(exception_count as u32).to_le_bytes());
    if exception_count > 0 {
        for (i, &x) in values.iter().enumerate() {
            if x.is_exception(inv_tick) {
                out.extend_from_slice(&(i as u32).to_le_bytes());
                x.write_bits(&mut out);
            }
        }
    }
    huffman::write_lengths(&lanes.lengths, &mut out);
    for len in lanes.lane_bytes {
        out.extend_from_slice(&(len as u32).to_le_bytes());
    }
    for part in &lanes.parts {
        out.extend_from_slice(&lanes.buffer[part.clone()]);
    }
    SCRATCH.set(lanes.buffer);
    CODES_AND_TOKENS.set((code_buffer, token_buffer));
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    let coding_minor = if coding == Coding::Split { SPLIT_MINOR } else { SMALL_EXACT_MINOR };
    (out, predictor.minor_version().max(coding_minor))
}

/// A tile's coded tokens and raw bits, as the writers left them: the code lengths, the byte
/// length of each lane, and the parts of `buffer` that follow the lane lengths, in order.
struct CodedLanes {
    lengths: [u8; TOKEN_COUNT],
    lane_bytes: [usize; LANES],
    buffer: Vec<u8>,
    parts: Vec<std::ops::Range<usize>>,
}

/// Code lengths for token counts `counts`, and each token's writer code.
fn token_code(counts: &[u64; TOKEN_COUNT]) -> ([u8; TOKEN_COUNT], [(u32, u8); TOKEN_COUNT]) {
    let lengths = huffman::code_lengths(counts);
    let table = huffman::canonical_codes(&lengths).expect("lengths built by code_lengths are valid");
    (lengths, table)
}

/// Tiles of fewer tokens than this build their code from every token.
const SAMPLE_FROM: usize = 1 << 14;
/// Larger tiles count a run of [`SAMPLE_RUN`] tokens in every [`SAMPLE_STRIDE`], at an offset
/// that varies from stride to stride: runs at a fixed offset can fall in step with the array's
/// rows and see only some of their positions (on the 96-wide field that cost 0.6% of its size).
const SAMPLE_RUN: usize = 64;
const SAMPLE_STRIDE: usize = 256;

/// The token counts a tile's code is built from. A large tile's are estimated from a quarter of
/// its tokens (counting them all took about a seventh of encoding speech), and every token the
/// tile holds (bit `t` of `present`, which the split reports) gets one count more, so that each
/// has a code even if the sample missed it. The estimate costs a little ratio (under 0.05% on
/// the corpus), never correctness.
fn code_counts(token_of: &[u8], present: u64) -> [u64; TOKEN_COUNT] {
    if token_of.len() < SAMPLE_FROM {
        return tokens::histogram(token_of).map(u64::from);
    }
    let mut partial = [[0u32; TOKEN_COUNT]; 4];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for window in token_of.chunks(SAMPLE_STRIDE) {
        // Offsets from a linear congruential generator's high bits.
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let offset = (state >> 40) as usize % (SAMPLE_STRIDE - SAMPLE_RUN + 1);
        let run = &window[offset.min(window.len())..window.len().min(offset + SAMPLE_RUN)];
        tokens::count_into(&mut partial, run);
    }
    let sampled = tokens::sum_partial(&partial);
    let scale = (SAMPLE_STRIDE / SAMPLE_RUN) as u64;
    std::array::from_fn(|t| u64::from(sampled[t]) * scale + (present >> t & 1))
}

/// Back to back starts, in a buffer, of parts of `bytes[k]` bytes with eight spare bytes after
/// each (the writers' word stores need them), and the buffer's length.
fn starts_with_room(bytes: [usize; LANES]) -> ([usize; LANES], usize) {
    let mut starts = [0usize; LANES];
    for lane in 1..LANES {
        starts[lane] = starts[lane - 1] + bytes[lane - 1] + 8;
    }
    (starts, starts[LANES - 1] + bytes[LANES - 1] + 8)
}

/// Minor version 4's coding: the token lanes, then the raw segments, of the tokens and raw bits
/// that `residuals` split into (written to `token_of`; `residuals` is used up).
fn split_lanes(kernels: Kernels, residuals: &mut [i32], token_of: &mut [u8]) -> CodedLanes {
    let n = token_of.len();
    // The raw segments go first, split and written in one pass before the tokens' code exists:
    // each gets room for the most raw bits an element can have (31), in a buffer kept from tile
    // to tile. The writers overwrite every byte of the parts kept below (and the eight after
    // each), so that buffer needs no clearing; clearing a new one each tile took a thirtieth of
    // encoding. With the slacks, the writers check their room once per block to the end.
    let most_raw: [usize; LANES] = std::array::from_fn(|l| (token_lanes::lane_range(n, l).len() * 31).div_ceil(8));
    let (raw_starts, raw_room) = starts_with_room(most_raw);
    let raw_room = raw_room + raw_segments::PACK_SLACK;
    let mut buffer = SCRATCH.take();
    if buffer.len() < raw_room {
        buffer.resize(raw_room, 0);
    }
    let split = raw_segments::split_pack(kernels, residuals, token_of, &mut buffer[..raw_room], raw_starts);
    let raw_bytes = split.raw_bits.map(|bits| bits.div_ceil(8));

    let (lengths, table) = token_code(&code_counts(token_of, split.present));
    let codes: [u32; TOKEN_COUNT] =
        std::array::from_fn(|t| token_lanes::writer_code(table[t].0, u32::from(table[t].1)));
    // Each lane gets room for its longest possible code per token; the writer reports what it
    // used, and only that is kept.
    let most_coded: [usize; LANES] =
        std::array::from_fn(|l| (token_lanes::lane_range(n, l).len() * huffman::MAX_CODE_LEN as usize).div_ceil(8));
    let (lane_starts, lane_room) = starts_with_room(most_coded);
    let lane_room = lane_room + token_lanes::ENCODE_SLACK;
    if buffer.len() < raw_room + lane_room {
        buffer.resize(raw_room + lane_room, 0);
    }
    let written =
        token_lanes::encode(kernels, &codes, token_of, &mut buffer[raw_room..raw_room + lane_room], lane_starts);
    let lane_bytes = written.map(|bits| bits.div_ceil(8));
    let lanes = (0..LANES).map(|l| raw_room + lane_starts[l]..raw_room + lane_starts[l] + lane_bytes[l]);
    let segments = (0..LANES).map(|l| raw_starts[l]..raw_starts[l] + raw_bytes[l]);
    CodedLanes { lengths, lane_bytes, buffer, parts: lanes.chain(segments).collect() }
}

thread_local! {
    /// The codes and tokens of the tile being encoded, kept from tile to tile (see
    /// [`encode_tile_as`]).
    static CODES_AND_TOKENS: std::cell::Cell<(Vec<i32>, Vec<u8>)> =
        const { std::cell::Cell::new((Vec::new(), Vec::new())) };
    /// The writers' buffer, kept from tile to tile (see [`split_lanes`]); [`encode_tile_as`]
    /// puts it back when it has copied the tile's parts out.
    static SCRATCH: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

#[cfg(test)]
/// Minor version 3's coding: the lane lengths, then the lanes, element `i` in lane `i % 4`.
fn interleaved_lanes(kernels: Kernels, token_of: &[u8], codes: &[i32]) -> CodedLanes {
    // Token counts per lane: their sum builds the code, and they size each lane exactly.
    let mut lane_counts = [[0u32; TOKEN_COUNT]; LANES];
    let mut groups = token_of.chunks_exact(LANES);
    for group in &mut groups {
        for (counts, &t) in lane_counts.iter_mut().zip(group) {
            counts[usize::from(t)] += 1;
        }
    }
    for (counts, &t) in lane_counts.iter_mut().zip(groups.remainder()) {
        counts[usize::from(t)] += 1;
    }
    let total: [u64; TOKEN_COUNT] = std::array::from_fn(|t| lane_counts.iter().map(|c| u64::from(c[t])).sum());
    let (lengths, table) = token_code(&total);
    let mut merged = [0u64; TOKEN_COUNT];
    for (t, m) in merged.iter_mut().enumerate() {
        let (code, code_len) = table[t];
        // Tokens that do not occur stay 0, so that the writer sees how long elements can be.
        if code_len > 0 {
            *m = lilcom_kernels::token_encode::merged_code(
                code,
                u32::from(code_len),
                tokens::raw_bits_of_token(t as u8),
            );
        }
    }
    let lane_bits: [usize; LANES] = std::array::from_fn(|lane| {
        lane_counts[lane].iter().zip(&merged).map(|(&c, &m)| c as usize * ((m >> 32 & 0xff) + (m >> 40)) as usize).sum()
    });
    let lane_bytes = lane_bits.map(|bits| bits.div_ceil(8));
    let (starts, room) = starts_with_room(lane_bytes);
    let mut buffer = vec![0u8; room];
    let written = lilcom_kernels::token_encode::encode_lanes(kernels, &merged, token_of, codes, &mut buffer, starts);
    debug_assert_eq!(written, lane_bits);
    let parts = (0..LANES).map(|l| starts[l]..starts[l] + lane_bytes[l]).collect();
    CodedLanes { lengths, lane_bytes, buffer, parts }
}

/// Decodes one tile's `bytes`, from a stream of format minor version `minor`, into `out` (C
/// order, shape `view`).
pub(crate) fn decode_tile<T: Element>(
    kernels: Kernels,
    bytes: &[u8],
    view: Shape3,
    tick_power: i32,
    minor: u8,
    out: &mut [T],
) -> Result<()> {
    let n = out.len();
    debug_assert_eq!(n, view.len());
    let (body, crc) =
        bytes.split_last_chunk::<4>().ok_or_else(|| Error::insufficient_data("a tile is shorter than its checksum"))?;
    if crc32c::crc32c(body) != u32::from_le_bytes(*crc) {
        return Err(Error::corruption("tile checksum mismatch"));
    }
    let mut r = Cursor { bytes: body, pos: 0 };
    let predictor_bytes = r.take(PREDICTOR_BYTES, "the tile's predictor")?.try_into().expect("predictor bytes");
    let predictor = Predictor::read(predictor_bytes, minor)?;
    let exception_count = r.u32("the exception count")? as usize;
    if exception_count > n {
        return Err(Error::corruption(format!("{exception_count} exceptions in a tile of {n} elements")));
    }
    let exceptions = r.take(exception_count * (4 + T::BYTES), "the exceptions")?;
    let lengths: &[u8; LENGTHS_BYTES] = r.take(LENGTHS_BYTES, "the code lengths")?.try_into().expect("length table");
    let lengths = huffman::read_lengths(lengths);
    let mut lane_lengths = [0usize; LANES];
    for len in &mut lane_lengths {
        *len = r.u32("a lane length")? as usize;
    }
    let mut lanes: [std::ops::Range<usize>; LANES] = Default::default();
    for (lane, &len) in lanes.iter_mut().zip(&lane_lengths) {
        let start = r.pos;
        r.take(len, "a lane")?;
        *lane = start..r.pos;
    }
    if minor >= SPLIT_MINOR {
        // The raw segments fill the rest of the tile.
        let tables = TokenTables::new(kernels, &lengths)?;
        let raw = &body[r.pos..];
        T::dequantize_from(kernels, T::pow2(tick_power), out, |codes, f32_tick| {
            read_split_residuals(kernels, &tables, body, lanes, raw, codes)?;
            Ok(predictor.invert_then_dequantize(kernels, codes, view, f32_tick))
        })?;
    } else {
        if r.pos != body.len() {
            return Err(Error::corruption(format!("{} unused bytes inside a tile", body.len() - r.pos)));
        }
        let alphabet = if minor >= SMALL_EXACT_MINOR { Alphabet::SmallExact } else { Alphabet::Widths };
        let table = DecodeTable::new(&lengths, alphabet)?;
        T::dequantize_from(kernels, T::pow2(tick_power), out, |codes, f32_tick| {
            read_residuals(kernels, &table, body, lanes, codes)?;
            Ok(predictor.invert_then_dequantize(kernels, codes, view, f32_tick))
        })?;
    }

    let mut last = None;
    for entry in exceptions.chunks_exact(4 + T::BYTES) {
        let index = u32::from_le_bytes(entry[..4].try_into().expect("4 bytes")) as usize;
        if index >= n || last.is_some_and(|l| index <= l) {
            return Err(Error::corruption(format!("exception index {index} is out of order or out of the tile")));
        }
        out[index] = T::read_bits(&entry[4..]);
        last = Some(index);
    }
    Ok(())
}

/// Decodes the residuals of all lanes (byte ranges of `body`) into `codes` (element `i` from
/// lane `i % 4`), then checks that every lane ended in its last byte.
fn read_residuals(
    kernels: Kernels,
    table: &DecodeTable,
    body: &[u8],
    lanes: [std::ops::Range<usize>; LANES],
    codes: &mut [i32],
) -> Result<()> {
    let mut positions: [usize; LANES] = std::array::from_fn(|lane| lanes[lane].start * 8);
    let whole = codes.len() / LANES * LANES;
    let mut bad_code = false;
    if let Some(multi) = table.multi_entries() {
        multi_decode::decode_lanes(kernels, multi, table.entries(), body, &mut positions, codes);
        return check_lane_ends(&lanes, &positions);
    }
    bad_code |= token_decode::decode_groups(
        kernels,
        table.entries(),
        body,
        &mut positions,
        &mut codes[..whole],
        !table.is_complete(),
    );
    for (lane, code) in codes[whole..].iter_mut().enumerate() {
        let (value, bad) = token_decode::decode_one(table.entries(), body, &mut positions[lane]);
        *code = value;
        bad_code |= bad;
    }
    if bad_code {
        return Err(Error::corruption("a token code that the tile's Huffman table does not define"));
    }
    check_lane_ends(&lanes, &positions)
}

/// Decodes the residuals of a minor version 4 tile: the tokens from the lanes (byte ranges of
/// `body`), then the raw bits from the segments that fill `raw`; checks that every lane and the
/// last segment end in their last byte.
fn read_split_residuals(
    kernels: Kernels,
    tables: &TokenTables,
    body: &[u8],
    lanes: [std::ops::Range<usize>; LANES],
    raw: &[u8],
    codes: &mut [i32],
) -> Result<()> {
    thread_local! {
        /// The tokens of the tile being decoded, kept from tile to tile: clearing a new buffer
        /// for each tile took a twentieth of a speech tile's decoding.
        static TOKENS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let mut positions: [usize; LANES] = std::array::from_fn(|lane| lanes[lane].start * 8);
    let end = TOKENS.with_borrow_mut(|tokens| {
        if tokens.len() < codes.len() {
            tokens.resize(codes.len(), 0);
        }
        // The decoder writes every one of these before it is read.
        let token_of = &mut tokens[..codes.len()];
        if token_lanes::decode(kernels, tables.multi(), tables.single(), body, &mut positions, token_of) {
            return Err(Error::corruption("a token code that the tile's Huffman table does not define"));
        }
        check_lane_ends(&lanes, &positions)?;
        Ok(raw_segments::unpack(kernels, token_of, raw, codes))
    })?;
    if end > raw.len() {
        return Err(Error::insufficient_data("the raw bits of a tile end before its last element"));
    }
    if end < raw.len() {
        return Err(Error::corruption(format!("{} unused bytes after a tile's raw bits", raw.len() - end)));
    }
    Ok(())
}

/// Checks that every lane ended in its last byte.
fn check_lane_ends(lanes: &[std::ops::Range<usize>; LANES], positions: &[usize; LANES]) -> Result<()> {
    for (lane, (range, &position)) in lanes.iter().zip(positions).enumerate() {
        if position > range.end * 8 {
            return Err(Error::insufficient_data(format!("lane {lane} of a tile ends before its last element")));
        }
        if position.div_ceil(8) != range.end {
            return Err(Error::corruption(format!("lane {lane} of a tile has unused bytes")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_fixed_crc(mut tile: Vec<u8>) -> Vec<u8> {
        let body_len = tile.len() - 4;
        let crc = crc32c::crc32c(&tile[..body_len]);
        tile[body_len..].copy_from_slice(&crc.to_le_bytes());
        tile
    }

    #[test]
    fn sampled_token_counts_give_every_token_present_a_code() {
        let n = 2 * SAMPLE_FROM;
        let mut missed = 0;
        for at in 0..SAMPLE_STRIDE {
            let mut token_of = vec![3u8; n];
            token_of[at] = 40;
            let counts = code_counts(&token_of, tokens::presence_scalar(&token_of));
            assert!(counts.iter().enumerate().all(|(t, &c)| (c > 0) == (t == 3 || t == 40)), "{at}: {counts:?}");
            missed += usize::from(counts[40] == 1);
        }
        assert!(missed > SAMPLE_STRIDE / 2, "the sample should miss most positions of a window, missed {missed}");

        // A lone outlier where the sample does not look still round-trips.
        let view = Shape3 { outer: n, middle: 1, inner: 1 };
        for at in (0..SAMPLE_STRIDE).step_by(5) {
            let mut values = vec![0.25f32; n];
            values[at] = 1000.0;
            let (tile, minor) = encode_tile(Kernels::detect(), &values, view, -4);
            let mut out = vec![0.0f32; n];
            decode_tile(Kernels::detect(), &tile, view, -4, minor, &mut out).unwrap();
            assert_eq!(out, values, "outlier at {at}");
        }
    }

    #[test]
    fn low_entropy_tiles_take_the_multi_element_decoder_and_it_decodes_as_the_other() {
        let view = Shape3 { outer: 40, middle: 1, inner: 999 };
        // A smooth curve at a coarse tick: residuals are mostly 0 and ±1.
        let values: Vec<f32> = (0..view.len()).map(|i| (i as f32 * 0.0007).sin() * 20.0).collect();
        let kernels = Kernels::detect();
        // Minor version 3's lanes, which this decoder reads with several elements per lookup.
        let (tile, minor) = encode_tile_as(kernels, &values, view, -1, Coding::Interleaved);
        assert_eq!(minor, SMALL_EXACT_MINOR);
        let mut out = vec![0.0f32; view.len()];
        decode_tile(kernels, &tile, view, -1, minor, &mut out).unwrap();
        assert!(values.iter().zip(&out).all(|(v, o)| (v - o).abs() <= 0.25));

        // No exceptions: the code lengths follow the predictor and the exception count.
        let lengths = huffman::read_lengths(tile[8..8 + LENGTHS_BYTES].try_into().unwrap());
        let table = DecodeTable::new(&lengths, Alphabet::SmallExact).unwrap();
        assert!(table.multi_entries().is_some());
        let body = &tile[..tile.len() - 4];
        let lanes_at = 8 + LENGTHS_BYTES + 4 * LANES;
        let mut lanes: [std::ops::Range<usize>; LANES] = Default::default();
        let mut start = lanes_at;
        for (lane, range) in lanes.iter_mut().enumerate() {
            let len = u32::from_le_bytes(body[8 + LENGTHS_BYTES + 4 * lane..][..4].try_into().unwrap()) as usize;
            *range = start..start + len;
            start += len;
        }
        let mut multi = vec![0i32; view.len()];
        read_residuals(kernels, &table, body, lanes.clone(), &mut multi).unwrap();
        let mut single = vec![0i32; view.len()];
        read_residuals(kernels, &table.one_element_only(), body, lanes, &mut single).unwrap();
        assert_eq!(multi, single);
    }

    /// The checksum stops random damage; this checks that damage with a valid checksum (a
    /// crafted file) is still an error or a value, never a panic or an out-of-bounds access.
    #[test]
    fn crafted_tiles_with_valid_checksums_never_panic() {
        let view = Shape3 { outer: 9, middle: 3, inner: 11 };
        let mut values: Vec<f32> = (0..view.len()).map(|i| ((i * 37 % 101) as f32 * 0.37).sin() * 40.0).collect();
        values[17] = f32::NAN;
        values[40] = 1e20;
        let kernels = Kernels::detect();
        let (tile, minor) = encode_tile(kernels, &values, view, -6);
        let mut out = vec![0.0f32; view.len()];
        decode_tile(kernels, &tile, view, -6, minor, &mut out).unwrap();
        let mut accepted = 0;
        for at in 0..tile.len() - 4 {
            for mask in [1u8, 0x10, 0x80, 0xff] {
                let mut damaged = tile.clone();
                damaged[at] ^= mask;
                let damaged = with_fixed_crc(damaged);
                if decode_tile(kernels, &damaged, view, -6, minor, &mut out).is_ok() {
                    accepted += 1;
                }
            }
        }
        // Flipped raw bits legitimately decode to other values; most damage must be caught.
        assert!(accepted < (tile.len() - 4) * 4);
        for cut in 4..tile.len() {
            let short = with_fixed_crc(tile[..cut].to_vec());
            let _ = decode_tile(kernels, &short, view, -6, minor, &mut out);
        }
    }
}
