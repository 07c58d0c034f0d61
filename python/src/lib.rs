//! The `lilcom_rs._native` extension: the Rust codec behind `lilcom_rs`, with the GIL released
//! while it works. Input normalization (dtypes, lists) lives in the Python layer.

use lilcom::{
    compress_parts, decompress_into_with, decompress_with, info, CompressOptions, DType, DecompressOptions, Element,
    ErrorKind, Format,
};
use numpy::{IntoPyArray, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

/// Turns a codec error into the Python exception a user expects: `ValueError` with its message.
fn to_py(err: lilcom::Error) -> PyErr {
    match err.kind() {
        ErrorKind::Io => pyo3::exceptions::PyOSError::new_err(err.to_string()),
        _ => PyValueError::new_err(err.to_string()),
    }
}

fn format_of(name: &str) -> PyResult<Format> {
    match name {
        "tiled" => Ok(Format::Tiled),
        "lilcom" => Ok(Format::Lilcom),
        other => {
            Err(PyValueError::new_err(format!("lilcom_rs: format must be \"tiled\" or \"lilcom\", got {other:?}")))
        }
    }
}

fn compress_any<T: Element + numpy::Element>(
    py: Python<'_>,
    array: PyReadonlyArrayDyn<'_, T>,
    options: CompressOptions,
) -> PyResult<Py<PyBytes>> {
    let view = array.as_array();
    let parts = py.detach(|| compress_parts(&view, &options)).map_err(to_py)?;
    // Written straight into the new bytes object: gathered into a vector first and then copied,
    // the two buffers of the stream's size were, when freed together, large enough for glibc to
    // hand back to the system, and the next call paid page faults for both (a quarter of
    // compressing the speech features).
    let bytes = PyBytes::new_with(py, parts.len(), |out| py.detach(|| parts.write_into(out)).map_err(to_py))?;
    Ok(bytes.unbind())
}

/// Compresses a float32 or float64 array (any strides) into bytes.
#[pyfunction]
#[pyo3(signature = (array, tick_power, do_regression, format, threads))]
fn compress_array(
    py: Python<'_>,
    array: &Bound<'_, PyAny>,
    tick_power: i32,
    do_regression: bool,
    format: &str,
    threads: Option<usize>,
) -> PyResult<Py<PyBytes>> {
    let options = CompressOptions::default()
        .with_tick_power(tick_power)
        .with_regression(do_regression)
        .with_format(format_of(format)?)
        .with_threads(threads);
    if let Ok(a) = array.extract::<PyReadonlyArrayDyn<'_, f32>>() {
        compress_any(py, a, options)
    } else if let Ok(a) = array.extract::<PyReadonlyArrayDyn<'_, f64>>() {
        compress_any(py, a, options)
    } else {
        Err(PyTypeError::new_err("lilcom_rs: expected a float32 or float64 numpy array"))
    }
}

fn decode_options(rows: Option<(usize, usize)>, threads: Option<usize>) -> DecompressOptions {
    let options = DecompressOptions::default().with_threads(threads);
    match rows {
        Some((start, end)) => options.with_rows(start..end),
        None => options,
    }
}

/// Decompresses into a new array of the stored dtype (float32 for `L\x00` streams).
#[pyfunction]
#[pyo3(signature = (data, rows, threads))]
fn decompress_array<'py>(
    py: Python<'py>,
    data: &[u8],
    rows: Option<(usize, usize)>,
    threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let options = decode_options(rows, threads);
    let stream = info(data).map_err(to_py)?;
    if stream.format == Format::Tiled {
        // Decoded into an array numpy allocates: numpy asks the kernel for huge pages on large
        // allocations, which spares most of the page faults a fresh output costs (a fifth of
        // decoding 16M elements with 4 KiB pages).
        let mut shape = stream.shape.clone();
        if let (Some(first), Some((start, end))) = (shape.first_mut(), rows) {
            if start <= end && end <= *first {
                *first = end - start;
            }
        }
        // `info` bounds the element count by the stream's length; a bad row range is reported
        // by the decoder, which checks it before anything else.
        return if stream.dtype == DType::F64 {
            decode_new::<f64>(py, data, &shape, &options)
        } else {
            decode_new::<f32>(py, data, &shape, &options)
        };
    }
    if stream.dtype == DType::F64 {
        let a = py.detach(|| decompress_with::<f64>(data, &options)).map_err(to_py)?;
        Ok(a.into_pyarray(py).into_any())
    } else {
        let a = py.detach(|| decompress_with::<f32>(data, &options)).map_err(to_py)?;
        Ok(a.into_pyarray(py).into_any())
    }
}

fn decode_new<'py, T: Element + numpy::Element>(
    py: Python<'py>,
    data: &[u8],
    shape: &[usize],
    options: &DecompressOptions,
) -> PyResult<Bound<'py, PyAny>> {
    let out = empty_array::<T>(py, shape)?;
    decode_into(py, data, &out, options)?;
    Ok(out.into_any())
}

/// A new C-order array from `numpy.empty`, whose memory numpy does not clear: the tiled decoder
/// writes every element of it (or fails, and the array is dropped unseen). `PyArray::zeros`
/// cleared it first, a fifteenth of decoding a lhotse-style 500x80 chunk.
fn empty_array<'py, T: numpy::Element>(py: Python<'py>, shape: &[usize]) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    static EMPTY: pyo3::sync::PyOnceLock<Py<PyAny>> = pyo3::sync::PyOnceLock::new();
    let empty = EMPTY.get_or_try_init(py, || py.import("numpy")?.getattr("empty").map(Bound::unbind))?;
    let array = empty.bind(py).call1((PyTuple::new(py, shape)?, numpy::dtype::<T>(py)))?;
    Ok(array.cast_into::<PyArrayDyn<T>>()?)
}

fn decode_into<T: Element + numpy::Element>(
    py: Python<'_>,
    data: &[u8],
    out: &Bound<'_, PyArrayDyn<T>>,
    options: &DecompressOptions,
) -> PyResult<()> {
    let mut writable =
        out.try_readwrite().map_err(|e| PyValueError::new_err(format!("lilcom_rs: out= is not writable: {e}")))?;
    let mut view = writable.as_array_mut();
    py.detach(|| decompress_into_with(data, &mut view, options)).map_err(to_py)
}

/// Decompresses into `out`, a writable float32 or float64 array of the right shape.
#[pyfunction]
#[pyo3(signature = (data, out, rows, threads))]
fn decompress_into_array(
    py: Python<'_>,
    data: &[u8],
    out: &Bound<'_, PyAny>,
    rows: Option<(usize, usize)>,
    threads: Option<usize>,
) -> PyResult<()> {
    let options = decode_options(rows, threads);
    if let Ok(a) = out.cast::<PyArrayDyn<f32>>() {
        decode_into(py, data, a, &options)
    } else if let Ok(a) = out.cast::<PyArrayDyn<f64>>() {
        decode_into(py, data, a, &options)
    } else {
        let dtype = out.getattr("dtype").map(|d| d.to_string()).unwrap_or_else(|_| "?".into());
        Err(PyTypeError::new_err(format!(
            "lilcom_rs: out= must be a float32 or float64 numpy array, got dtype {dtype}"
        )))
    }
}

/// `(format, dtype, shape, tick_power, tiles)` from the header.
#[pyfunction]
fn stream_info<'py>(py: Python<'py>, data: &[u8]) -> PyResult<Bound<'py, PyTuple>> {
    let i = info(data).map_err(to_py)?;
    let format = if i.format == Format::Lilcom { "lilcom" } else { "tiled" };
    let dtype = if i.dtype == DType::F64 { "float64" } else { "float32" };
    let shape = PyTuple::new(py, &i.shape)?;
    PyTuple::new(
        py,
        [
            format.into_pyobject(py)?.into_any(),
            dtype.into_pyobject(py)?.into_any(),
            shape.into_any(),
            i.tick_power.into_pyobject(py)?.into_any(),
            i.tiles.into_pyobject(py)?.into_any(),
        ],
    )
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(compress_array, m)?)?;
    m.add_function(wrap_pyfunction!(decompress_array, m)?)?;
    m.add_function(wrap_pyfunction!(decompress_into_array, m)?)?;
    m.add_function(wrap_pyfunction!(stream_info, m)?)?;
    Ok(())
}
