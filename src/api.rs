//! The simple layer: compress an ndarray, decompress bytes; the format is found from the header.

use std::ops::Range;

use lilcom_kernels::Kernels;
use ndarray::{ArrayBase, ArrayD, Axis, Data, DataMut, Dimension, IxDyn, Slice};

use crate::element::{DType, Element};
use crate::error::{Error, Result};
use crate::legacy;
use crate::options::{CompressOptions, DecompressOptions, Format, StreamInfo};
use crate::tiled::{self, Execution};

/// Compresses an array of any shape, strides and memory order. The input is only read.
///
/// ```
/// use lilcom::{compress, decompress, CompressOptions};
/// let a = ndarray::Array2::from_shape_fn((50, 80), |(i, j)| (i as f32 * 0.1).sin() + j as f32 * 0.01);
/// let bytes = compress(&a, &CompressOptions::default().with_tick_power(-8))?;
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
    compress_parts(array, options)?.into_vec()
}

/// [`compress`], stopping before the stream is gathered into one buffer: its length is known,
/// and [`CompressedParts::write_into`] writes it into memory the caller provides (a Python
/// `bytes` object, a memory-mapped file) without an intermediate copy.
///
/// ```
/// use lilcom::{compress_parts, decompress, CompressOptions};
/// let a = ndarray::Array1::from_shape_fn(1000, |i| (i as f64).sqrt());
/// let parts = compress_parts(&a, &CompressOptions::default())?;
/// let mut stream = vec![0u8; parts.len()];
/// parts.write_into(&mut stream)?;
/// assert_eq!(decompress::<f64>(&stream)?.len(), 1000);
/// # Ok::<(), lilcom::Error>(())
/// ```
pub fn compress_parts<A, S, D>(array: &ArrayBase<S, D>, options: &CompressOptions) -> Result<CompressedParts>
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    let parts = match options.format {
        Format::Lilcom => {
            let values: Vec<f32> = array.iter().map(|x| x.to_f32()).collect();
            Parts::Whole(legacy::encode(values, array.shape(), options.tick_power, options.do_regression)?)
        }
        Format::Tiled => {
            let exec = Execution { threads: options.threads, kernels: kernels(options.scalar_kernels) };
            Parts::Tiled(match array.as_slice() {
                Some(values) => tiled::encode_tiles(values, array.shape(), options.tick_power, exec)?,
                None => {
                    let values: Vec<A> = array.iter().copied().collect();
                    tiled::encode_tiles(&values, array.shape(), options.tick_power, exec)?
                }
            })
        }
    };
    Ok(CompressedParts(parts))
}

/// A compressed stream not yet gathered into one buffer, from [`compress_parts`].
pub struct CompressedParts(Parts);

enum Parts {
    Whole(Vec<u8>),
    Tiled(tiled::EncodedTiles),
}

impl CompressedParts {
    /// The stream's length in bytes.
    pub fn len(&self) -> usize {
        match &self.0 {
            Parts::Whole(bytes) => bytes.len(),
            Parts::Tiled(tiles) => tiles.len(),
        }
    }

    /// True for a stream of no bytes, which no format has: every stream has a header.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the stream into `out`, which must be exactly [`CompressedParts::len`] bytes long;
    /// any other length is an [`ErrorKind::InvalidArgument`](crate::ErrorKind) error and leaves
    /// `out` untouched.
    pub fn write_into(self, out: &mut [u8]) -> Result<()> {
        match self.0 {
            Parts::Whole(bytes) if bytes.len() == out.len() => {
                out.copy_from_slice(&bytes);
                Ok(())
            }
            Parts::Whole(bytes) => Err(Error::invalid_argument(format!(
                "the stream takes {} bytes; the destination has {}",
                bytes.len(),
                out.len()
            ))),
            Parts::Tiled(tiles) => tiles.write_into(out),
        }
    }

    /// The stream in a vector.
    pub fn into_vec(self) -> Result<Vec<u8>> {
        match self.0 {
            Parts::Whole(bytes) => Ok(bytes),
            Parts::Tiled(tiles) => tiles.into_vec(),
        }
    }
}

/// Decompresses a whole stream of either format into a new array of element type `T`.
///
/// An `L\x00` stream holds float32 and a tiled stream its stored type; `T` may be that type,
/// or `f64` for float32 streams (converted exactly). Asking for `f32` from a float64 stream is an
/// error rather than a silent rounding.
pub fn decompress<T: Element>(bytes: &[u8]) -> Result<ArrayD<T>> {
    decompress_with(bytes, &DecompressOptions::default())
}

/// Decompresses rows `rows` (slices along axis 0) into a new array.
pub fn decompress_rows<T: Element>(bytes: &[u8], rows: Range<usize>) -> Result<ArrayD<T>> {
    decompress_with(bytes, &DecompressOptions::default().with_rows(rows))
}

/// Decompresses into `out`, which must have the stream's shape (any strides).
///
/// On error, `out` may hold partly decoded data.
pub fn decompress_into<T, S, D>(bytes: &[u8], out: &mut ArrayBase<S, D>) -> Result<()>
where
    T: Element,
    S: DataMut<Elem = T>,
    D: Dimension,
{
    decompress_into_with(bytes, out, &DecompressOptions::default())
}

/// [`decompress`] with options: a row range, a thread count.
pub fn decompress_with<T: Element>(bytes: &[u8], options: &DecompressOptions) -> Result<ArrayD<T>> {
    let info = info(bytes)?;
    let rows = row_range(&info.shape, options.rows.clone())?;
    if info.format == Format::Lilcom {
        // The legacy decoder validates the stream before allocating for it.
        let (shape, values) = legacy::decode(bytes)?;
        let whole = ArrayD::from_shape_vec(IxDyn(&shape), T::vec_from_f32(values)).expect("length matches the shape");
        return Ok(if rows.len() == shape[0] {
            whole
        } else {
            whole.slice_axis(Axis(0), Slice::from(rows)).to_owned()
        });
    }
    let mut shape = info.shape.clone();
    if let Some(first) = shape.first_mut() {
        *first = rows.len();
    }
    // The tiled header was checked to be consistent with the stream's size.
    let count: usize = shape.iter().product();
    let mut values = vec![T::from_f32(0.0); count];
    lilcom_kernels::memory::prefer_huge_pages(&mut values);
    let mut out = ArrayD::from_shape_vec(IxDyn(&shape), values).expect("shape matches");
    decode_rows(bytes, &info, rows, &mut out, options)?;
    Ok(out)
}

/// [`decompress_into`] with options; with a row range, `out` has the shape of those rows.
pub fn decompress_into_with<T, S, D>(bytes: &[u8], out: &mut ArrayBase<S, D>, options: &DecompressOptions) -> Result<()>
where
    T: Element,
    S: DataMut<Elem = T>,
    D: Dimension,
{
    let info = info(bytes)?;
    let rows = row_range(&info.shape, options.rows.clone())?;
    let mut expected = info.shape.clone();
    if let Some(first) = expected.first_mut() {
        *first = rows.len();
    }
    if out.shape() != &expected[..] {
        return Err(Error::invalid_argument(format!(
            "the destination has shape {:?}; the stream's rows {}..{} have shape {expected:?}",
            out.shape(),
            rows.start,
            rows.end
        )));
    }
    let mut view = out.view_mut().into_dyn();
    decode_rows(bytes, &info, rows, &mut view, options)
}

/// The kernels to run: the scalar references when asked, else the best the CPU has (or the
/// scalar ones when `LILCOM_FORCE_SCALAR` is set).
fn kernels(scalar: bool) -> Kernels {
    if scalar {
        Kernels::scalar()
    } else {
        Kernels::detect()
    }
}

/// Decodes `rows` into `out` (already of the right shape), in the stream's format.
fn decode_rows<T: Element, S: DataMut<Elem = T>>(
    bytes: &[u8],
    info: &StreamInfo,
    rows: Range<usize>,
    out: &mut ArrayBase<S, IxDyn>,
    options: &DecompressOptions,
) -> Result<()> {
    match info.format {
        Format::Lilcom => {
            if rows.len() == info.shape[0] {
                if let Some(direct) = out.as_slice_mut().and_then(T::as_f32_slice_mut) {
                    return legacy::decode_into(bytes, &info.shape, direct);
                }
            }
            let (shape, values) = legacy::decode(bytes)?;
            let whole = ArrayD::from_shape_vec(IxDyn(&shape), values).expect("decoded length matches the shape");
            let part = whole.slice_axis(Axis(0), Slice::from(rows));
            out.zip_mut_with(&part, |dst, &src| *dst = T::from_f32(src));
            Ok(())
        }
        Format::Tiled => {
            let layout = tiled::read_layout(bytes)?;
            let exec = Execution { threads: options.threads, kernels: kernels(options.scalar_kernels) };
            if T::DTYPE == layout.dtype {
                if let Some(slice) = out.as_slice_mut() {
                    return tiled::decode_rows_into(bytes, &layout, rows, slice, exec);
                }
                let mut values = vec![T::from_f32(0.0); out.len()];
                tiled::decode_rows_into(bytes, &layout, rows, &mut values, exec)?;
                out.iter_mut().zip(values).for_each(|(dst, src)| *dst = src);
                Ok(())
            } else if layout.dtype == DType::F32 && T::DTYPE == DType::F64 {
                let mut values = vec![0.0f32; out.len()];
                tiled::decode_rows_into(bytes, &layout, rows, &mut values, exec)?;
                out.iter_mut().zip(values).for_each(|(dst, src)| *dst = T::from_f32(src));
                Ok(())
            } else {
                Err(Error::invalid_argument(format!(
                    "the stream holds {:?} values; decoding them as {:?} would round them",
                    layout.dtype,
                    T::DTYPE
                )))
            }
        }
    }
}

/// Resolves an optional row range against a shape (a 0-d array has one row).
fn row_range(shape: &[usize], rows: Option<Range<usize>>) -> Result<Range<usize>> {
    let total = shape.first().copied().unwrap_or(1);
    match rows {
        None => Ok(0..total),
        Some(r) if shape.is_empty() => {
            Err(Error::invalid_argument(format!("a 0-d array has no rows to select ({}..{})", r.start, r.end)))
        }
        Some(r) if r.start <= r.end && r.end <= total => Ok(r),
        Some(r) => {
            Err(Error::invalid_argument(format!("rows {}..{} are outside the array's {total} rows", r.start, r.end)))
        }
    }
}

/// The shape of the array a stream holds, read from the header alone.
pub fn shape(bytes: &[u8]) -> Result<Vec<usize>> {
    Ok(info(bytes)?.shape)
}

/// What a stream holds (format, element type, shape, tick power, tiles), read from the header.
pub fn info(bytes: &[u8]) -> Result<StreamInfo> {
    match detect_format(bytes)? {
        Format::Lilcom => {
            let header = legacy::read_header(bytes)?;
            Ok(StreamInfo {
                format: Format::Lilcom,
                dtype: DType::F32,
                shape: header.shape,
                tick_power: header.tick_power,
                tiles: 1,
            })
        }
        Format::Tiled => {
            let layout = tiled::read_layout(bytes)?;
            Ok(StreamInfo {
                format: Format::Tiled,
                dtype: layout.dtype,
                tiles: layout.tile_count(),
                shape: layout.shape,
                tick_power: layout.tick_power,
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
        1 => Ok(Format::Tiled),
        version => Err(Error::unsupported_version(format!(
            "the stream is format version {version}, written by newer code; this build reads versions 0 (L\\x00) and 1 (tiled)"
        ))),
    }
}
