//! `.npy` arrays in and out. A compressed `.npy` is a plain lilcom stream, so the Python packages
//! (`lilcom.decompress`, `lilcom_rs.decompress`) read it too.

use std::io::{BufReader, Write};
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use half::f16;
use lilcom::{DType, DecompressOptions};
use npyz::{DType as NpyDType, NpyFile, Order, TypeChar, WriterBuilder};

use crate::narrow_floats;
use crate::output::open_input;
use crate::tensor::FloatValues;

/// An array read from a `.npy` file, in the type the codec takes.
pub struct NpyArray {
    /// Values in storage order.
    pub values: FloatValues,
    /// The array's shape.
    pub shape: Vec<usize>,
    /// Whether the values are stored in Fortran (column-major) order.
    pub fortran: bool,
}

/// Reads a `.npy` file of any float or integer dtype, either byte order, C or Fortran order.
/// f16 and integers up to 16 bits become f32, 32-bit integers f64, 64-bit integers f64 when
/// every value is exactly representable (an error otherwise: the bound could not hold).
pub fn read(path: &Path) -> Result<NpyArray> {
    let file = open_input(path)?;
    let file_len = file.metadata()?.len();
    let npy = NpyFile::new(BufReader::with_capacity(1 << 20, file))
        .with_context(|| format!("{} is not a valid .npy file", path.display()))?;
    let NpyDType::Plain(type_str) = npy.dtype() else {
        bail!("{} holds a structured array; compress takes plain float or integer arrays", path.display());
    };
    let shape: Vec<usize> = npy.shape().iter().map(|&d| usize::try_from(d)).collect::<Result<_, _>>()?;
    let count = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    let item = type_str.size_field();
    // The header cannot claim more data than the file has: check before allocating for it.
    let fits = count.and_then(|c| (c as u64).checked_mul(item)).is_some_and(|bytes| bytes <= file_len);
    ensure!(
        fits,
        "{}: the header describes {shape:?} elements of {type_str}, more than the file holds",
        path.display()
    );
    let fortran = npy.order() == Order::Fortran;
    let truncated = || format!("{} is truncated or damaged", path.display());
    let values = match (type_str.type_char(), item) {
        (TypeChar::Float, 2) => {
            let bits: Vec<u16> = npy.into_vec::<f16>().with_context(truncated)?.iter().map(|v| v.to_bits()).collect();
            FloatValues::F32(narrow_floats::f16_to_f32(&bits))
        }
        (TypeChar::Float, 4) => FloatValues::F32(npy.into_vec::<f32>().with_context(truncated)?),
        (TypeChar::Float, 8) => FloatValues::F64(npy.into_vec::<f64>().with_context(truncated)?),
        (TypeChar::Int, 1) => FloatValues::F32(widen(npy.into_vec::<i8>().with_context(truncated)?)),
        (TypeChar::Uint, 1) => FloatValues::F32(widen(npy.into_vec::<u8>().with_context(truncated)?)),
        (TypeChar::Int, 2) => FloatValues::F32(widen(npy.into_vec::<i16>().with_context(truncated)?)),
        (TypeChar::Uint, 2) => FloatValues::F32(widen(npy.into_vec::<u16>().with_context(truncated)?)),
        (TypeChar::Int, 4) => FloatValues::F64(widen(npy.into_vec::<i32>().with_context(truncated)?)),
        (TypeChar::Uint, 4) => FloatValues::F64(widen(npy.into_vec::<u32>().with_context(truncated)?)),
        (TypeChar::Int, 8) => {
            let ints = npy.into_vec::<i64>().with_context(truncated)?;
            check_exact_in_f64(path, ints.iter().map(|&v| i128::from(v)))?;
            FloatValues::F64(ints.iter().map(|&v| v as f64).collect())
        }
        (TypeChar::Uint, 8) => {
            let ints = npy.into_vec::<u64>().with_context(truncated)?;
            check_exact_in_f64(path, ints.iter().map(|&v| i128::from(v)))?;
            FloatValues::F64(ints.iter().map(|&v| v as f64).collect())
        }
        _ => bail!(
            "{}: dtype {type_str} is not supported; compress takes float (f2, f4, f8) and integer arrays",
            path.display()
        ),
    };
    Ok(NpyArray { values, shape, fortran })
}

fn widen<T: Copy, F: From<T>>(values: Vec<T>) -> Vec<F> {
    values.into_iter().map(F::from).collect()
}

/// 64-bit integers beyond 2^53 may not survive the trip through float64, the codec's widest
/// type; rather than break the bound silently, refuse them.
fn check_exact_in_f64(path: &Path, mut values: impl Iterator<Item = i128>) -> Result<()> {
    if let Some(v) = values.find(|&v| v as f64 as i128 != v) {
        bail!("{}: the integer {v} has no exact float64 value, so its error could not be bounded", path.display());
    }
    Ok(())
}

/// Decodes a lilcom stream (either format) and writes it as a C-order `.npy` of the stream's
/// element type.
pub fn write_stream(stream: &[u8], out: impl Write, threads: Option<usize>) -> Result<()> {
    let info = lilcom::info(stream)?;
    let options = DecompressOptions::default().with_threads(threads);
    match info.dtype {
        DType::F64 => write_array::<f64>(stream, &options, out),
        _ => write_array::<f32>(stream, &options, out),
    }
}

fn write_array<T: lilcom::Element + npyz::AutoSerialize + Copy>(
    stream: &[u8],
    options: &DecompressOptions,
    out: impl Write,
) -> Result<()> {
    let array = lilcom::decompress_with::<T>(stream, options)?;
    let shape: Vec<u64> = array.shape().iter().map(|&d| d as u64).collect();
    let mut writer = npyz::WriteOptions::new().default_dtype().shape(&shape).writer(out).begin_nd()?;
    writer.extend(array.iter().copied())?;
    writer.finish()?;
    Ok(())
}
