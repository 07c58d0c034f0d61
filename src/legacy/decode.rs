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
        let mut reader = self.reader.clone();
        let count = self.header.element_count()?;
        for index in 0..count {
            reader.read().map_err(|f| element_failure(f, index, count))?;
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

fn decode_row_alone(reader: &mut AdaptiveReader<'_>, row: &mut [f32], tick: f32, along_row: f32) -> RowResult {
    let mut carried = 0.0f32;
    for (j, out) in row.iter_mut().enumerate() {
        let code = reader.read_signed().map_err(|f| (f, j))?;
        let value = carried + code as f32 * tick;
        *out = value;
        carried = value * along_row;
    }
    Ok(())
}

fn decode_row_with_one(
    reader: &mut AdaptiveReader<'_>,
    row: &mut [f32],
    above: &[f32],
    coeff: f32,
    tick: f32,
    along_row: f32,
) -> RowResult {
    let mut carried = 0.0f32;
    for (j, (out, &up)) in row.iter_mut().zip(above).enumerate() {
        let code = reader.read_signed().map_err(|f| (f, j))?;
        let predicted = carried + up * coeff;
        let value = predicted + code as f32 * tick;
        *out = value;
        carried = value * along_row;
    }
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
    let mut carried = 0.0f32;
    for (j, out) in row.iter_mut().enumerate() {
        let code = reader.read_signed().map_err(|f| (f, j))?;
        let mut predicted = carried;
        for n in neighbours {
            predicted += done[start + j - n.stride] * n.coeff;
        }
        let value = predicted + code as f32 * tick;
        *out = value;
        carried = value * along_row;
    }
    Ok(())
}
