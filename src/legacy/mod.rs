//! The original lilcom stream (`b"L\x00"` + an adaptive bit-width integer code), read and written
//! bit-exactly as lilcom 1.8.2 does.
//!
//! Encoding converts to float32 first, estimates one regression coefficient per axis with
//! numpy's float32 arithmetic, then predicts each element in closed loop from already
//! reconstructed neighbours. Decoding gives float32 values bit-identical to
//! `lilcom.decompress`, and rejects exactly the streams it rejects, with a message instead of a
//! number.
//!
//! Most users want [`crate::compress`] with [`crate::Format::Lilcom`]; this module also exposes
//! the pieces that define the format's bytes.

mod adaptive_reader;
mod adaptive_writer;
mod decode;
mod encode;
mod header;
mod regression;
mod rows;

pub use decode::read_header;
pub use header::{Header, COEFF_RANGE, MAGIC, MAX_AXES, TICK_POWER_RANGE};
pub use regression::{numpy_sum, quantize_coefficients, regression_coefficients};

use crate::error::{Error, Result};

/// Encodes a C-order float32 array (the caller's private copy) of shape `dims`.
pub(crate) fn encode(data: Vec<f32>, dims: &[usize], tick_power: i32, do_regression: bool) -> Result<Vec<u8>> {
    encode::encode(data, dims, tick_power, do_regression)
}

/// Decodes a whole stream into a new C-order buffer; returns the shape and the values.
pub(crate) fn decode(bytes: &[u8]) -> Result<(Vec<usize>, Vec<f32>)> {
    let stream = decode::open(bytes)?;
    if !stream.size_is_plausible() {
        stream.dry_run()?;
    }
    let mut values = vec![0.0f32; stream.header.element_count()?];
    let shape = stream.header.shape.clone();
    stream.decode_into(&mut values)?;
    Ok((shape, values))
}

/// Decodes a stream into `out`, a C-order buffer that must have the stream's shape.
pub(crate) fn decode_into(bytes: &[u8], shape: &[usize], out: &mut [f32]) -> Result<()> {
    let stream = decode::open(bytes)?;
    check_shape(&stream.header.shape, shape)?;
    stream.decode_into(out)
}

/// Fails unless a destination's shape equals the stream's.
pub(crate) fn check_shape(stored: &[usize], destination: &[usize]) -> Result<()> {
    if stored != destination {
        return Err(Error::invalid_argument(format!(
            "the destination has shape {destination:?} but the stream holds shape {stored:?}"
        )));
    }
    Ok(())
}
