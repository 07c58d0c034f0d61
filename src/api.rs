//! The simple layer: compress an ndarray, decompress bytes; the format is found from the header.

use ndarray::{ArrayBase, ArrayD, Data, DataMut, Dimension, IxDyn};

use crate::element::{DType, Element};
use crate::error::{Error, Result};
use crate::legacy;
use crate::options::{CompressOptions, Format, StreamInfo};

/// Compresses an array of any shape, strides and memory order. The input is only read.
///
/// ```
/// use lilcom::{compress, decompress, CompressOptions, Format};
/// let a = ndarray::Array2::from_shape_fn((50, 80), |(i, j)| (i as f32 * 0.1).sin() + j as f32 * 0.01);
/// let options = CompressOptions::default().with_tick_power(-8).with_format(Format::Lilcom);
/// let bytes = compress(&a, &options)?;
/// let b = decompress::<f32>(&bytes)?;
/// assert!(a.iter().zip(b.iter()).all(|(x, y)| (x - y).abs() <= 1.0 / 512.0));
/// # Ok::<(), lilcom::Error>(())
/// ```
pub fn compress<A, S, D>(array: &ArrayBase<S, D>, options: &CompressOptions) -> Result<Vec<u8>>
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    match options.format {
        Format::Lilcom => {
            let values: Vec<f32> = array.iter().map(|x| x.to_f32()).collect();
            legacy::encode(values, array.shape(), options.tick_power, options.do_regression)
        }
    }
}

/// Decompresses a stream of any format into a new array of element type `T`.
///
/// An `L\x00` stream holds float32; asking for `f64` converts exactly.
pub fn decompress<T: Element>(bytes: &[u8]) -> Result<ArrayD<T>> {
    match detect_format(bytes)? {
        Format::Lilcom => {
            let (shape, values) = legacy::decode(bytes)?;
            let values = T::vec_from_f32(values);
            Ok(ArrayD::from_shape_vec(IxDyn(&shape), values).expect("decoded length matches the shape"))
        }
    }
}

/// Decompresses a stream into `out`, which must have the stream's shape (any strides).
///
/// On error, `out` may hold partly decoded data.
pub fn decompress_into<T, S, D>(bytes: &[u8], out: &mut ArrayBase<S, D>) -> Result<()>
where
    T: Element,
    S: DataMut<Elem = T>,
    D: Dimension,
{
    match detect_format(bytes)? {
        Format::Lilcom => {
            let shape = out.shape().to_vec();
            if out.is_standard_layout() {
                let slice = out.as_slice_mut().expect("standard layout is contiguous");
                if let Some(direct) = T::as_f32_slice_mut(slice) {
                    return legacy::decode_into(bytes, &shape, direct);
                }
            }
            let stored = legacy::read_header(bytes)?.shape;
            legacy::check_shape(&stored, &shape)?;
            let (_, values) = legacy::decode(bytes)?;
            for (dst, src) in out.iter_mut().zip(values) {
                *dst = T::from_f32(src);
            }
            Ok(())
        }
    }
}

/// The shape of the array a stream holds, read from the header alone.
pub fn shape(bytes: &[u8]) -> Result<Vec<usize>> {
    Ok(info(bytes)?.shape)
}

/// What a stream holds (format, element type, shape, tick power), read from the header alone.
pub fn info(bytes: &[u8]) -> Result<StreamInfo> {
    match detect_format(bytes)? {
        Format::Lilcom => {
            let header = legacy::read_header(bytes)?;
            Ok(StreamInfo {
                format: Format::Lilcom,
                dtype: DType::F32,
                shape: header.shape,
                tick_power: header.tick_power,
            })
        }
    }
}

/// Finds the format from the first two bytes.
pub fn detect_format(bytes: &[u8]) -> Result<Format> {
    if bytes.len() <= legacy::MAGIC.len() {
        return Err(Error::insufficient_data(format!(
            "{} bytes is too short for a lilcom stream (it has at least 3)",
            bytes.len()
        )));
    }
    if bytes[0] != b'L' {
        return Err(Error::corruption(format!(
            "not lilcom data: the first byte is 0x{:02x}, lilcom streams begin with 'L'",
            bytes[0]
        )));
    }
    match bytes[1] {
        0 => Ok(Format::Lilcom),
        version => Err(Error::unsupported_version(format!(
            "the stream is format version {version}, written by newer code; this build reads version 0 (L\\x00)"
        ))),
    }
}
