"""Fast, error-bounded compression of float arrays: a drop-in for ``import lilcom``.

    import lilcom_rs as lilcom
    data = lilcom.compress(features, tick_power=-5)      # every element within 2**-6
    features2 = lilcom.decompress(data)

Two formats: the tiled format (default; parallel, random access by rows, checksummed, keeps
float64, stores NaN/Inf exactly) and the original lilcom stream (``format="lilcom"``), written
byte-identically to lilcom 1.8.2. ``decompress`` reads both. The GIL is released while the codec
works, and the input array is never modified.
"""

import operator

import numpy as np

from . import _native

__all__ = ["compress", "decompress", "get_shape", "info"]


def _as_float_array(input):
    """A float32 or float64 view of `input` (no copy when it already is one)."""
    if isinstance(input, (bytes, bytearray, memoryview, str)):
        raise TypeError(f"lilcom_rs.compress: expected an array of numbers, got {type(input).__name__}")
    try:
        array = np.asarray(input)
    except Exception as e:  # ragged lists and the like
        raise TypeError(f"lilcom_rs.compress: cannot view the input as an array of numbers: {e}") from None
    kind, size = array.dtype.kind, array.dtype.itemsize
    if array.dtype in (np.float32, np.float64):
        return array
    if kind == "f" and size < 4:
        return array.astype(np.float32)
    if kind == "f":
        # long double and other wide floats: float64 is the widest the codec stores.
        return array.astype(np.float64)
    if kind in "iub":
        # Small integers are exact in float32; wider ones need float64.
        return array.astype(np.float32 if size <= 2 else np.float64)
    raise TypeError(f"lilcom_rs.compress: expected an array of numbers, got dtype {array.dtype}")


def _threads(threads):
    if threads is None:
        return None
    threads = operator.index(threads)
    if threads < 1:
        raise ValueError(f"lilcom_rs: threads must be at least 1, got {threads}")
    return threads


def compress(input, tick_power=-8, do_regression=True, *, format="tiled", threads=None):
    """Compresses an array so that every element comes back within ``2**(tick_power-1)``.

    Args:
        input: anything numpy can view as numbers: float16/32/64 and integer arrays, lists,
            non-contiguous views, Fortran order. It is never modified. float16 and small
            integers are compressed as float32, wider integers as float64.
        tick_power: values are stored as multiples of ``2**tick_power`` (tiled: -64..64;
            "lilcom": -20..20, as the original).
        do_regression: the original format's prediction from neighbours (``format="lilcom"``
            only; the tiled format chooses its predictor per tile).
        format: ``"tiled"`` (default) or ``"lilcom"`` for the original's byte-identical stream
            (float32 only, finite values, 1 to 16 axes, no empty arrays).
        threads: worker threads; ``None`` uses all cores. The bytes do not depend on it.
            Arrays of fewer than 229,376 elements are compressed on the calling thread.

    Returns:
        bytes
    """
    array = _as_float_array(input)
    if not isinstance(format, str):
        raise TypeError(f"lilcom_rs.compress: format must be a string, got {type(format).__name__}")
    tick_power = operator.index(tick_power)
    return _native.compress_array(array, tick_power, bool(do_regression), format, _threads(threads))


def _bytes(data, where):
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, memoryview):
        return data.tobytes()
    raise TypeError(f"lilcom_rs.{where}: expected bytes, got {type(data).__name__}")


def _rows(rows, shape):
    if rows is None:
        return None
    if not shape:
        raise ValueError("lilcom_rs.decompress: a 0-d array has no rows to select")
    if not isinstance(rows, slice):
        raise TypeError(f"lilcom_rs.decompress: rows must be a slice, got {type(rows).__name__}")
    start, stop, step = rows.indices(shape[0])
    if step != 1:
        raise ValueError("lilcom_rs.decompress: rows must be a contiguous slice (step 1)")
    return (start, max(start, stop))


def decompress(data, *, rows=None, out=None, threads=None):
    """Decompresses bytes from :func:`compress` or from the original lilcom package.

    Args:
        data: the compressed bytes (``bytes``, ``bytearray`` or ``memoryview``).
        rows: a slice of axis 0, e.g. ``slice(1000, 1500)``: decodes only those rows, reading
            only the tiles that hold them (an original-format stream is decoded whole).
        out: a preallocated writable float32/float64 array of the (row-selected) shape to
            decode into; it is returned.
        threads: worker threads; ``None`` uses all cores. Fewer than 327,680 elements are
            decoded on the calling thread.

    Returns:
        numpy.ndarray: float32 for the original format (as lilcom returns), the stored dtype
        for the tiled format.
    """
    data = _bytes(data, "decompress")
    threads = _threads(threads)
    selected = _rows(rows, get_shape(data)) if rows is not None else None
    if out is None:
        return _native.decompress_array(data, selected, threads)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"lilcom_rs.decompress: out must be a numpy array, got {type(out).__name__}")
    _native.decompress_into_array(data, out, selected, threads)
    return out


def get_shape(data):
    """The shape of the compressed array, read from the header alone."""
    return tuple(_native.stream_info(_bytes(data, "get_shape"))[2])


def info(data):
    """What a stream holds, from the header: format, dtype, shape, tick_power and tiles."""
    fmt, dtype, shape, tick_power, tiles = _native.stream_info(_bytes(data, "info"))
    return {"format": fmt, "dtype": dtype, "shape": tuple(shape), "tick_power": tick_power, "tiles": tiles}
