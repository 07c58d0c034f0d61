//! The original's decoder: read each code and add it, in ticks, to the same float32 prediction
//! the encoder made.

use super::adaptive_reader::{AdaptiveReader, ReadFailure};
use super::header::{describe_failure, Header, MAGIC};
use super::rows::{for_each_row, Neighbour};
use crate::element::Element;
use crate::error::{Error, Result};
use crate::options::Format;

/// Checks the two magic bytes (the same checks and messages as [`crate::detect_format`]) and
/// returns the rest.
pub(crate) fn strip_magic(bytes: &[u8]) -> Result<&[u8]> {
    match crate::detect_format(bytes)? {
        Format::Lilcom => Ok(&bytes[MAGIC.len()..]),
        other => Err(Error::invalid_argument(format!("a {other:?} stream is not an L\\x00 stream"))),
    }
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
        reader.skip(count).map_err(|f| describe_failure(f, &format!("the codes of {count} elements")))?;
        finish(&reader, self.payload_len)
    }

    /// Decodes every element into `out`, a C-order buffer of the header's shape.
    pub(crate) fn decode_into(mut self, out: &mut [f32]) -> Result<()> {
        let header = &self.header;
        debug_assert_eq!(out.len(), header.element_count()?);
        let coeffs: Vec<f32> = header.coefficients.iter().map(|&k| k as f32 * (1.0 / 256.0)).collect();
        let tick = f32::pow2(header.tick_power);
        let along_row = *coeffs.last().expect("at least one axis");
        let row_len = *header.shape.last().expect("at least one axis");
        let count = out.len();
        let reader = &mut self.reader;
        for_each_row(&header.shape, &coeffs, |start, neighbours| {
            let (done, rest) = out.split_at_mut(start);
            let row = &mut rest[..row_len];
            let decoded = match neighbours {
                [] => decode_row(reader, row, &NoEarlierRows, tick, along_row),
                [n] => {
                    let terms = OneEarlierRow { row: &done[start - n.stride..][..row_len], coeff: n.coeff };
                    decode_row(reader, row, &terms, tick, along_row)
                }
                _ => {
                    let terms = ManyEarlierRows { done, row_start: start, neighbours };
                    decode_row(reader, row, &terms, tick, along_row)
                }
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

/// Decodes one row, block by block, with `terms` supplying what earlier rows contribute.
fn decode_row(
    reader: &mut AdaptiveReader<'_>,
    row: &mut [f32],
    terms: &impl EarlierRows,
    tick: f32,
    along_row: f32,
) -> RowResult {
    let mut block = RowBlock { reader: *reader, start: 0, tick, along_row, carried: 0.0 };
    for values in row.chunks_mut(BLOCK) {
        if block.reader.fast_path_allowed(values.len()) {
            terms.decode::<true>(&mut block, values)?;
        } else {
            terms.decode::<false>(&mut block, values)?;
        }
        block.start += values.len();
        block.reader.check_overrun().map_err(|f| (f, block.start - 1))?;
    }
    *reader = block.reader;
    Ok(())
}

/// The state carried from block to block along a row. The reader is a local copy, so that it
/// lives in registers during the loop.
struct RowBlock<'a> {
    reader: AdaptiveReader<'a>,
    /// Index in the row of the block's first element.
    start: usize,
    tick: f32,
    along_row: f32,
    /// The previous element's reconstruction times the last axis's coefficient.
    carried: f32,
}

impl RowBlock<'_> {
    /// Reads element `j`'s code, and reconstructs it from the prediction part that earlier rows
    /// give (`predict` adds it to the carried term, keeping the original's order of additions).
    #[inline(always)]
    fn next<const FAST: bool>(
        &mut self,
        j: usize,
        predict: impl FnOnce(f32) -> f32,
    ) -> std::result::Result<f32, (ReadFailure, usize)> {
        let code = self.reader.read_signed_unchecked::<FAST>().map_err(|f| (f, self.start + j))?;
        let value = predict(self.carried) + code as f32 * self.tick;
        self.carried = value * self.along_row;
        Ok(value)
    }
}

/// What earlier rows contribute to a row's predictions; one implementation per common case so
/// each inner loop is as plain as it can be.
trait EarlierRows {
    fn decode<const FAST: bool>(&self, block: &mut RowBlock<'_>, values: &mut [f32]) -> RowResult;
}

/// The first row along every predicting axis: only the carried term.
struct NoEarlierRows;

impl EarlierRows for NoEarlierRows {
    #[inline(always)]
    fn decode<const FAST: bool>(&self, block: &mut RowBlock<'_>, values: &mut [f32]) -> RowResult {
        for (j, out) in values.iter_mut().enumerate() {
            *out = block.next::<FAST>(j, |carried| carried)?;
        }
        Ok(())
    }
}

/// One earlier row (every row after the first of a 2-d array): zipped, without index checks.
struct OneEarlierRow<'a> {
    row: &'a [f32],
    coeff: f32,
}

impl EarlierRows for OneEarlierRow<'_> {
    #[inline(always)]
    fn decode<const FAST: bool>(&self, block: &mut RowBlock<'_>, values: &mut [f32]) -> RowResult {
        let above = &self.row[block.start..block.start + values.len()];
        for (j, (out, &up)) in values.iter_mut().zip(above).enumerate() {
            *out = block.next::<FAST>(j, |carried| carried + up * self.coeff)?;
        }
        Ok(())
    }
}

/// Any number of earlier rows, read from the already decoded part of the array.
struct ManyEarlierRows<'a> {
    done: &'a [f32],
    row_start: usize,
    neighbours: &'a [Neighbour],
}

impl EarlierRows for ManyEarlierRows<'_> {
    #[inline(always)]
    fn decode<const FAST: bool>(&self, block: &mut RowBlock<'_>, values: &mut [f32]) -> RowResult {
        for (j, out) in values.iter_mut().enumerate() {
            let at = self.row_start + block.start + j;
            *out = block.next::<FAST>(j, |carried| {
                let mut predicted = carried;
                for n in self.neighbours {
                    predicted += self.done[at - n.stride] * n.coeff;
                }
                predicted
            })?;
        }
        Ok(())
    }
}
