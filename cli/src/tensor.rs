//! One float tensor through the codec: read it in the codec's type, pick its tick, compress it,
//! and decode a container payload back to the tensor's own dtype.

use std::io::{self, Read};

use lilcom::{CompressOptions, DType, DecompressOptions, Error, ErrorKind, Format};
use ndarray::{ArrayViewD, ArrayViewMutD, IxDyn, ShapeBuilder};
use safetensors::Dtype;

use crate::container::Entry;
use crate::narrow_floats;

/// The widest tick power the codec takes; ticks chosen from a relative error are clamped to it.
const TICK_POWER_RANGE: std::ops::RangeInclusive<i32> = -64..=64;

/// Whether tensors of `dtype` are compressed (the rest are stored as they are).
pub fn is_lilcom_dtype(dtype: Dtype) -> bool {
    matches!(dtype, Dtype::F16 | Dtype::BF16 | Dtype::F32 | Dtype::F64)
}

/// A tensor's values in the type the codec takes: f64 stays f64, the rest become f32 exactly.
#[derive(Clone, Debug, PartialEq)]
pub enum FloatValues {
    /// f32, f16, bf16 and small integers.
    F32(Vec<f32>),
    /// f64 and wide integers.
    F64(Vec<f64>),
}

impl FloatValues {
    /// Reads `count` little-endian elements of the float dtype `dtype` from `input`.
    pub fn read(dtype: Dtype, count: usize, input: &mut impl Read) -> io::Result<FloatValues> {
        match dtype {
            Dtype::F32 => {
                let mut values = vec![0f32; count];
                input.read_exact(bytemuck::cast_slice_mut(&mut values))?;
                values.iter_mut().for_each(|v| *v = f32::from_bits(u32::from_le(v.to_bits())));
                Ok(FloatValues::F32(values))
            }
            Dtype::F64 => {
                let mut values = vec![0f64; count];
                input.read_exact(bytemuck::cast_slice_mut(&mut values))?;
                values.iter_mut().for_each(|v| *v = f64::from_bits(u64::from_le(v.to_bits())));
                Ok(FloatValues::F64(values))
            }
            Dtype::F16 | Dtype::BF16 => {
                let mut bits = vec![0u16; count];
                input.read_exact(bytemuck::cast_slice_mut(&mut bits))?;
                bits.iter_mut().for_each(|b| *b = u16::from_le(*b));
                Ok(FloatValues::F32(if dtype == Dtype::F16 {
                    narrow_floats::f16_to_f32(&bits)
                } else {
                    narrow_floats::bf16_to_f32(&bits)
                }))
            }
            other => Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{other} is not a float dtype"))),
        }
    }

    /// The root mean square of the finite values (0 when there are none).
    pub fn rms(&self) -> f64 {
        match self {
            FloatValues::F32(v) => rms(v.iter().map(|&x| f64::from(x))),
            FloatValues::F64(v) => rms(v.iter().copied()),
        }
    }

    /// Compresses the values as an array of `shape`, stored in C order, or in Fortran order
    /// when `fortran`.
    pub fn compress(&self, shape: &[usize], fortran: bool, options: &CompressOptions) -> lilcom::Result<Vec<u8>> {
        fn view<'a, T>(shape: &[usize], fortran: bool, values: &'a [T]) -> lilcom::Result<ArrayViewD<'a, T>> {
            ArrayViewD::from_shape(IxDyn(shape).set_f(fortran), values).map_err(|e| {
                Error::new(ErrorKind::InvalidArgument, format!("{} values for shape {shape:?}: {e}", values.len()))
            })
        }
        match self {
            FloatValues::F32(v) => lilcom::compress(&view(shape, fortran, v)?, options),
            FloatValues::F64(v) => lilcom::compress(&view(shape, fortran, v)?, options),
        }
    }
}

/// One pass of plain sums, written without branches so that it vectorizes; a rescaled second pass
/// only when squares overflow (f64 values beyond about 1e154).
fn rms(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let (sum, count) = sum_of_finite_squares(values.clone(), 1.0);
    if count == 0 {
        return 0.0;
    }
    if sum.is_finite() {
        return (sum / count as f64).sqrt();
    }
    let largest = values.clone().filter(|x| x.is_finite()).fold(0f64, |m, x| m.max(x.abs()));
    let (scaled, _) = sum_of_finite_squares(values, 1.0 / largest);
    largest * (scaled / count as f64).sqrt()
}

fn sum_of_finite_squares(values: impl Iterator<Item = f64>, scale: f64) -> (f64, u64) {
    let mut sums = [0f64; 4];
    let mut count = 0u64;
    for (i, x) in values.enumerate() {
        let finite = x.is_finite();
        let scaled = if finite { x * scale } else { 0.0 };
        sums[i % 4] += scaled * scaled;
        count += u64::from(finite);
    }
    (sums.iter().sum(), count)
}

/// How the tick of a tensor is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TickRule {
    /// The same tick power for every tensor.
    Fixed(i32),
    /// The largest power-of-two tick whose half is at most this fraction of the tensor's RMS.
    RelativeToRms(f64),
}

impl TickRule {
    /// The tick power for `values`.
    pub fn tick_power(&self, values: &FloatValues) -> i32 {
        match *self {
            TickRule::Fixed(power) => power,
            TickRule::RelativeToRms(fraction) => tick_power_for_max_error(fraction * values.rms()),
        }
    }
}

/// The largest `p` in -64..=64 with `2^(p-1) <= max_error` (the lowest when `max_error` is 0,
/// e.g. for an all-zero tensor, where every tick is exact).
pub fn tick_power_for_max_error(max_error: f64) -> i32 {
    if max_error.is_nan() || max_error <= 0.0 {
        return *TICK_POWER_RANGE.start();
    }
    // log2 gives the neighbourhood; exact powers of two settle the edge.
    let mut power = (max_error.log2().floor() as i32 + 1).clamp(*TICK_POWER_RANGE.start(), *TICK_POWER_RANGE.end());
    while power > *TICK_POWER_RANGE.start() && 2f64.powi(power - 1) > max_error {
        power -= 1;
    }
    while power < *TICK_POWER_RANGE.end() && 2f64.powi(power) <= max_error {
        power += 1;
    }
    power
}

fn corrupt(entry: &Entry, message: String) -> Error {
    Error::new(ErrorKind::Corruption, format!("the payload of {:?} {message}", entry.name))
}

/// Decodes a container's lilcom payload to the little-endian bytes of `entry`'s dtype.
pub fn decode(entry: &Entry, payload: &[u8], threads: Option<usize>) -> lilcom::Result<Vec<u8>> {
    let info = lilcom::info(payload)?;
    if info.format != Format::Tiled {
        return Err(corrupt(entry, "is not a tiled stream".into()));
    }
    if info.shape != entry.shape {
        return Err(corrupt(entry, format!("has shape {:?}; the index says {:?}", info.shape, entry.shape)));
    }
    if Some(info.tick_power) != entry.tick_power {
        return Err(corrupt(
            entry,
            format!("has tick power {}; the index says {:?}", info.tick_power, entry.tick_power),
        ));
    }
    let expected = if entry.dtype == Dtype::F64 { DType::F64 } else { DType::F32 };
    if info.dtype != expected {
        return Err(corrupt(entry, format!("holds {:?} values for a {} tensor", info.dtype, entry.dtype)));
    }
    let options = DecompressOptions::default().with_threads(threads);
    Ok(match entry.dtype {
        Dtype::F64 => le_bytes(&decode_values::<f64>(payload, &entry.shape, &options)?, f64::to_le_bytes),
        Dtype::F16 => {
            let values = decode_values::<f32>(payload, &entry.shape, &options)?;
            le_bytes(&narrow_floats::f32_to_f16(&values), u16::to_le_bytes)
        }
        Dtype::BF16 => {
            let values = decode_values::<f32>(payload, &entry.shape, &options)?;
            le_bytes(&narrow_floats::f32_to_bf16(&values), u16::to_le_bytes)
        }
        _ => le_bytes(&decode_values::<f32>(payload, &entry.shape, &options)?, f32::to_le_bytes),
    })
}

/// Decodes into a flat C-order vector (the header was checked against the payload's size, so
/// the allocation is bounded by it).
fn decode_values<T: lilcom::Element + Copy + Default>(
    payload: &[u8],
    shape: &[usize],
    options: &DecompressOptions,
) -> lilcom::Result<Vec<T>> {
    let mut values = vec![T::default(); shape.iter().product()];
    let mut view = ArrayViewMutD::from_shape(IxDyn(shape), &mut values[..])
        .map_err(|e| Error::new(ErrorKind::InvalidArgument, format!("shape {shape:?}: {e}")))?;
    lilcom::decompress_into_with(payload, &mut view, options)?;
    Ok(values)
}

/// The values' little-endian bytes: one copy on little-endian machines, a conversion elsewhere.
fn le_bytes<T: bytemuck::Pod, const N: usize>(values: &[T], to_le_bytes: fn(T) -> [u8; N]) -> Vec<u8> {
    if cfg!(target_endian = "little") {
        bytemuck::cast_slice(values).to_vec()
    } else {
        values.iter().flat_map(|&v| to_le_bytes(v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_rule_picks_the_largest_tick_within_the_fraction() {
        assert_eq!(tick_power_for_max_error(1e-3), -9); // half of 2^-9 is 0.00098
        assert_eq!(tick_power_for_max_error(0.5), 0); // exactly half of 2^0
        assert_eq!(tick_power_for_max_error(0.499), -1);
        assert_eq!(tick_power_for_max_error(0.0), -64);
        assert_eq!(tick_power_for_max_error(1e300), 64);
        assert_eq!(tick_power_for_max_error(1e-300), -64);
        for p in -60..60 {
            let e = 2f64.powi(p);
            let chosen = tick_power_for_max_error(e * 1.3);
            assert!(2f64.powi(chosen - 1) <= e * 1.3 && 2f64.powi(chosen) > e * 1.3);
        }
    }

    #[test]
    fn rms_ignores_non_finite_values_and_does_not_overflow() {
        let v = FloatValues::F64(vec![3.0, -4.0, f64::NAN, f64::INFINITY]);
        assert!((v.rms() - (12.5f64).sqrt()).abs() < 1e-12);
        let big = FloatValues::F64(vec![1e300, -1e300]);
        assert!((big.rms() - 1e300).abs() / 1e300 < 1e-12);
        assert_eq!(FloatValues::F32(vec![0.0; 4]).rms(), 0.0);
        assert_eq!(FloatValues::F32(vec![]).rms(), 0.0);
    }
}
