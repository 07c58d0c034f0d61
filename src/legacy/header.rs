//! The header of an `L\x00` stream: the integers that precede the element codes.

use super::adaptive_reader::{AdaptiveReader, ReadFailure};
use crate::error::{Error, Result};

/// The two bytes that begin every stream of the original format.
pub const MAGIC: [u8; 2] = [b'L', 0];

/// Axes the format can describe (the original's decoder accepts 16; its Python encoder 15).
pub const MAX_AXES: usize = 16;

/// The tick powers the format allows.
pub const TICK_POWER_RANGE: std::ops::RangeInclusive<i32> = -20..=20;

/// Regression coefficients are stored as integers k meaning k/256, within this range.
pub const COEFF_RANGE: std::ops::RangeInclusive<i32> = -256..=256;

/// What an `L\x00` stream says about the array it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Length of each axis (each at least 1).
    pub shape: Vec<usize>,
    /// Values were stored as multiples of `2^tick_power`.
    pub tick_power: i32,
    /// Per-axis prediction coefficients, in units of 1/256. Not range-checked here: the
    /// original's shape query does not check them, its decoder does.
    pub coefficients: Vec<i32>,
}

impl Header {
    /// Reads the header from the integer stream (the bytes after the magic).
    pub(crate) fn read(reader: &mut AdaptiveReader<'_>) -> Result<Header> {
        let mut next = |what: &str| {
            reader.read_signed().map_err(|failure| describe_failure(failure, &format!("the header's {what}")))
        };
        let axes = next("number of axes")?;
        if !(1..=MAX_AXES as i32).contains(&axes) {
            return Err(Error::corruption(format!(
                "the header gives {axes} axes; an L\\x00 stream has 1 to {MAX_AXES}"
            )));
        }
        let tick_power = next("tick_power")?;
        if !TICK_POWER_RANGE.contains(&tick_power) {
            return Err(Error::corruption(format!(
                "the header gives tick_power {tick_power}; an L\\x00 stream has -20 to 20"
            )));
        }
        let mut shape = Vec::with_capacity(axes as usize);
        let mut coefficients = Vec::with_capacity(axes as usize);
        for axis in 0..axes {
            let dim = next("axis length")?;
            let coeff = next("regression coefficient")?;
            if dim < 1 {
                return Err(Error::corruption(format!(
                    "the header gives axis {axis} length {dim}; lengths are at least 1"
                )));
            }
            shape.push(dim as usize);
            coefficients.push(coeff);
        }
        Ok(Header { shape, tick_power, coefficients })
    }

    /// Checks what the original's decoder checks beyond the shape query.
    pub(crate) fn validate_coefficients(&self) -> Result<()> {
        for (axis, &c) in self.coefficients.iter().enumerate() {
            if !COEFF_RANGE.contains(&c) {
                return Err(Error::corruption(format!(
                    "the header gives axis {axis} regression coefficient {c}/256; the range is -256 to 256"
                )));
            }
        }
        Ok(())
    }

    /// Number of elements, or an error when it does not fit in memory addresses.
    pub(crate) fn element_count(&self) -> Result<usize> {
        self.shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).ok_or_else(|| {
            Error::corruption(format!("the header's shape {:?} has more elements than can be addressed", self.shape))
        })
    }
}

/// Turns a reader failure into an error that says where it happened.
pub(crate) fn describe_failure(failure: ReadFailure, place: &str) -> Error {
    match failure {
        ReadFailure::Truncated => Error::insufficient_data(format!("the stream ends inside {place}")),
        ReadFailure::Invalid => Error::corruption(format!("impossible integer code in {place}")),
    }
}
