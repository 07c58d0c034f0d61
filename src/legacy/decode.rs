//! The original's decoder: read each code and add it, in ticks, to the same float32 prediction
//! the encoder made.

use super::adaptive_reader::{AdaptiveReader, ReadFailure};
use super::encode::pow2;
use super::header::{describe_failure, Header, MAGIC};
use super::rows::{for_each_row, Neighbour};
use crate::error::{Error, Result};

/// Checks the two magic bytes, as the original's Python wrapper does, and returns the rest.
pub(crate) fn strip_magic(bytes: &[u8]) -> Result<&[u8]> {
    if bytes.len() <= MAGIC.len() {
        return Err(Error::insufficient_data(format!(
            "{} bytes is too short for a lilcom stream (it has at least 3)",
            bytes.len()
        )));
    }
    if bytes[0] != MAGIC[0] {
        return Err(Error::corruption(format!(
            "not lilcom data: the first byte is 0x{:02x}, lilcom streams begin with 'L'",
            bytes[0]
        )));
    }
    if bytes[1] != MAGIC[1] {
        return Err(Error::unsupported_version(format!(
            "format version {} is not read by the L\\x00 decoder",
            bytes[1]
        )));
    }
    Ok(&bytes[MAGIC.len()..])
}

/// Reads the header of an `L\x00` stream (magic included) without decoding elements; it
/// accepts what the original's `get_shape` accepts.
pub fn read_header(bytes: &[u8]) -> Result<Header> {
    let payload = strip_magic(bytes)?;
    let mut reader = AdaptiveReader::new(payload).map_err(|f| describe_failure(f, "the first width"))?;
    Header::read(&mut reader)
}

/// A header and a reader positioned at the first element code.
pub(crate) struct Stream<'a> {
    pub(crate) header: Header,
    reader: AdaptiveReader<'a>,
    payload_len: usize,
}

/// Opens an `L\x00` stream for decoding: checks the magic and the whole header.
pub(crate) fn open(bytes: &[u8]) -> Result<Stream<'_>> {
    let payload = strip_magic(bytes)?;
    let mut reader = AdaptiveReader::new(payload).map_err(|f| describe_failure(f, "the first width"))?;
    let header = Header::read(&mut reader)?;
    header.validate_coefficients()?;
    header.element_count()?;
    Ok(Stream { header, reader, payload_len: payload.len() })
}

impl Stream<'_> {
    /// Whether it is safe to allocate the output before decoding. Every element costs at least
    /// one bit except inside zero runs, so a stream with far more elements than bits must first
    /// prove, by a dry run over its codes, that it really holds them.
    pub(crate) fn size_is_plausible(&self) -> bool {
        let count = self.header.element_count().unwrap_or(usize::MAX);
        count <= self.payload_len.saturating_mul(8).saturating_add(1 << 16)
    }

    /// Reads every element code without storing anything, to validate the stream.
    pub(crate) fn dry_run(&self) -> Result<()> {
        let mut reader = self.reader;
        let count = self.header.element_count()?;
        for index in 0..count {
            reader.read_signed().map_err(|f| element_failure(f, index, count))?;
        }
        finish(&reader, self.payload_len)
    }

    /// Decodes every element into `out`, a C-order buffer of the header's shape.
    pub(crate) fn decode_into(mut self, out: &mut [f32]) -> Result<()> {
        let header = &self.header;
        debug_assert_eq!(out.len(), header.element_count()?);
        let coeffs: Vec<f32> = header.coefficients.iter().map(|&k| k as f32 * (1.0 / 256.0)).collect();
        let tick = pow2(header.tick_power);
        let along_row = *coeffs.last().expect("at least one axis");
        let row_len = *header.shape.last().expect("at least one axis");
        let count = out.len();
        let reader = &mut self.reader;
        for_each_row(&header.shape, &coeffs, |start, neighbours| {
            let (done, rest) = out.split_at_mut(start);
            let row = &mut rest[..row_len];
            let decoded = match neighbours {
                [] => decode_row_alone(reader, row, tick, along_row),
                [n] => decode_row_with_one(reader, row, &done[start - n.stride..][..row_len], n.coeff, tick, along_row),
                _ => decode_row_general(reader, row, done, start, neighbours, tick, along_row),
            };
            decoded.map_err(|(f, j)| element_failure(f, start + j, count))
        })?;
        finish(reader, self.payload_len)
    }
}

fn element_failure(failure: ReadFailure, index: usize, count: usize) -> Error {
    describe_failure(failure, &format!("element {index} of {count}"))
}

/// The original requires the last element's code to end in the last byte.
fn finish(reader: &AdaptiveReader<'_>, payload_len: usize) -> Result<()> {
    let used = reader.bytes_consumed();
    if used != payload_len {
        return Err(Error::corruption(format!(
            "{} bytes of trailing data after the last element's code",
            payload_len - used
        )));
    }
    Ok(())
}

type RowResult = std::result::Result<(), (ReadFailure, usize)>;

/// Values are decoded in blocks of this many: the end of the stream is checked once per block,
/// and a block far enough from the end takes the branch-free refill path.
const BLOCK: usize = 256;

/// Decodes one row. `predict(carried, j)` adds the terms from earlier rows for element `j` to
/// the carried term along the row, in the original's order.
#[inline(always)]
fn decode_row(
    reader: &mut AdaptiveReader<'_>,
    row: &mut [f32],
    tick: f32,
    along_row: f32,
    predict: impl Fn(f32, usize) -> f32,
) -> RowResult {
    let mut local = *reader;
    let mut carried = 0.0f32;
    let mut start = 0;
    for block in row.chunks_mut(BLOCK) {
        if local.fast_path_allowed(block.len()) {
            decode_block::<true>(&mut local, block, start, tick, along_row, &mut carried, &predict)?;
        } else {
            decode_block::<false>(&mut local, block, start, tick, along_row, &mut carried, &predict)?;
        }
        start += block.len();
        local.check_overrun().map_err(|f| (f, start - 1))?;
    }
    *reader = local;
    Ok(())
}

#[inline(always)]
fn decode_block<const FAST: bool>(
    reader: &mut AdaptiveReader<'_>,
    block: &mut [f32],
    start: usize,
    tick: f32,
    along_row: f32,
    carried: &mut f32,
    predict: &impl Fn(f32, usize) -> f32,
) -> RowResult {
    let mut c = *carried;
    for (j, out) in block.iter_mut().enumerate() {
        let code = reader.read_signed_unchecked::<FAST>().map_err(|f| (f, start + j))?;
        let value = predict(c, start + j) + code as f32 * tick;
        *out = value;
        c = value * along_row;
    }
    *carried = c;
    Ok(())
}

fn decode_row_alone(reader: &mut AdaptiveReader<'_>, row: &mut [f32], tick: f32, along_row: f32) -> RowResult {
    decode_row(reader, row, tick, along_row, |carried, _| carried)
}

/// The common case of a row below another row (2-d arrays): zipped, without index checks.
fn decode_row_with_one(
    reader: &mut AdaptiveReader<'_>,
    row: &mut [f32],
    above: &[f32],
    coeff: f32,
    tick: f32,
    along_row: f32,
) -> RowResult {
    let mut local = *reader;
    let mut carried = 0.0f32;
    let mut start = 0;
    for (block, above) in row.chunks_mut(BLOCK).zip(above.chunks(BLOCK)) {
        if local.fast_path_allowed(block.len()) {
            decode_block_with_one::<true>(&mut local, block, above, coeff, start, tick, along_row, &mut carried)?;
        } else {
            decode_block_with_one::<false>(&mut local, block, above, coeff, start, tick, along_row, &mut carried)?;
        }
        start += block.len();
        local.check_overrun().map_err(|f| (f, start - 1))?;
    }
    *reader = local;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn decode_block_with_one<const FAST: bool>(
    reader: &mut AdaptiveReader<'_>,
    block: &mut [f32],
    above: &[f32],
    coeff: f32,
    start: usize,
    tick: f32,
    along_row: f32,
    carried: &mut f32,
) -> RowResult {
    let mut c = *carried;
    for (j, (out, &up)) in block.iter_mut().zip(above).enumerate() {
        let code = reader.read_signed_unchecked::<FAST>().map_err(|f| (f, start + j))?;
        let value = (c + up * coeff) + code as f32 * tick;
        *out = value;
        c = value * along_row;
    }
    *carried = c;
    Ok(())
}

fn decode_row_general(
    reader: &mut AdaptiveReader<'_>,
    row: &mut [f32],
    done: &[f32],
    start: usize,
    neighbours: &[Neighbour],
    tick: f32,
    along_row: f32,
) -> RowResult {
    decode_row(reader, row, tick, along_row, |carried, j| {
        let mut predicted = carried;
        for n in neighbours {
            predicted += done[start + j - n.stride] * n.coeff;
        }
        predicted
    })
}
