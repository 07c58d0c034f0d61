"""lilcom_rs: a drop-in for `import lilcom`, checked against the real lilcom 1.8.2."""

import threading

import lilcom
import numpy as np
import pytest

import lilcom_rs

RNG = np.random.default_rng(20261124)
ORIGINAL_SHAPES = [(40, 50), (3, 4, 5), (1, 5, 7), (8, 1, 10), (100, 2, 57)]


def within_half_tick(a, b, tick_power):
    tick = 2.0 ** tick_power
    return np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))) <= tick / 2


# ---- compatibility with the original, both directions -------------------------------------

@pytest.mark.parametrize("shape", ORIGINAL_SHAPES + [(7,), (300, 80), (2, 3, 4, 5)])
@pytest.mark.parametrize("tick_power", [-15, -8, -6, 0, 3])
@pytest.mark.parametrize("do_regression", [True, False])
def test_lilcom_format_is_byte_identical_to_the_original(shape, tick_power, do_regression):
    a = (RNG.standard_normal(shape) * 10).astype(np.float32)
    ours = lilcom_rs.compress(a, tick_power, do_regression, format="lilcom")
    theirs = lilcom.compress(a.copy(), tick_power, do_regression)
    assert ours == theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F", "strided"])
def test_lilcom_format_handles_dtypes_and_layouts_as_the_original(dtype, order):
    base = np.cumsum(RNG.standard_normal((30, 40)), axis=1).astype(dtype)
    a = {"C": base, "F": np.asfortranarray(base), "strided": np.repeat(base, 2, axis=1)[:, ::2]}[order]
    assert lilcom_rs.compress(a, -6, format="lilcom") == lilcom.compress(np.array(a, copy=True), -6)


@pytest.mark.parametrize("shape", ORIGINAL_SHAPES)
def test_original_streams_decode_bit_identically(shape):
    a = np.cumsum(RNG.standard_normal(shape), axis=-1).astype(np.float32)
    data = lilcom.compress(a.copy(), -8)
    ours = lilcom_rs.decompress(data)
    theirs = lilcom.decompress(data)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    assert np.array_equal(ours.view(np.uint32), theirs.view(np.uint32))
    assert lilcom_rs.get_shape(data) == lilcom.get_shape(data)


def test_the_original_rejects_our_tiled_format_as_a_future_version():
    data = lilcom_rs.compress(np.ones((4, 4), np.float32))
    with pytest.raises(ValueError, match="future format version"):
        lilcom.decompress(data)


# ---- the original package's own test cases, within the bound ------------------------------

@pytest.mark.parametrize("shape", ORIGINAL_SHAPES)
@pytest.mark.parametrize("tick_power", [-15, -8, -6])
@pytest.mark.parametrize("fmt", ["tiled", "lilcom"])
def test_original_test_cases_round_trip_within_the_bound(shape, tick_power, fmt):
    a = RNG.standard_normal(shape).astype(np.float32)
    b = lilcom_rs.decompress(lilcom_rs.compress(a, tick_power, format=fmt))
    assert b.shape == a.shape and b.dtype == np.float32
    tick = 2.0 ** tick_power
    slack = 0 if fmt == "tiled" else np.abs(a).max() * 2 ** -21  # the original's float32 prediction
    assert np.max(np.abs(a.astype(np.float64) - b)) <= tick / 2 + slack


# ---- inputs ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make, dtype", [
    (lambda: np.arange(60, dtype=np.int16).reshape(6, 10), np.float32),
    (lambda: np.arange(60, dtype=np.int64).reshape(6, 10) * 1000003, np.float64),
    (lambda: np.linspace(0, 1, 60, dtype=np.float16), np.float32),
    (lambda: [[1.5, 2.5], [3.25, -4.0]], np.float64),
    (lambda: np.arange(5) > 2, np.float32),
    (lambda: np.linspace(0, 1, 100, dtype=np.float64).reshape(10, 10), np.float64),
])
def test_inputs_numpy_can_view_as_numbers(make, dtype):
    value = make()
    b = lilcom_rs.decompress(lilcom_rs.compress(value, -10))
    assert b.dtype == dtype
    assert within_half_tick(np.asarray(value, dtype=np.float64), b, -10)


def test_views_and_fortran_order_and_no_mutation():
    base = RNG.standard_normal((50, 60)).astype(np.float32)
    for view in [base[::2, ::3], base.T, np.asfortranarray(base), base[5:45, 10:20]]:
        before = view.copy()
        data = lilcom_rs.compress(view, -8)
        assert np.array_equal(view, before), "the input must not be modified"
        assert within_half_tick(view, lilcom_rs.decompress(data), -8)
    before = base.copy()
    lilcom_rs.compress(base, -8, format="lilcom")
    assert np.array_equal(base, before), "the original overwrites its input; we must not"


# ---- rows, out, threads ----------------------------------------------------------------------

def test_rows_out_and_threads():
    a = np.cumsum(RNG.standard_normal((5000, 40)), axis=0).astype(np.float32)
    data = lilcom_rs.compress(a, -6, threads=2)
    assert data == lilcom_rs.compress(a, -6, threads=1) == lilcom_rs.compress(a, -6)
    assert lilcom_rs.info(data)["tiles"] > 1
    whole = lilcom_rs.decompress(data, threads=1)
    assert np.array_equal(lilcom_rs.decompress(data, threads=2), whole)
    assert np.array_equal(lilcom_rs.decompress(data, rows=slice(1234, 4321)), whole[1234:4321])
    assert np.array_equal(lilcom_rs.decompress(data, rows=slice(-10, None)), whole[-10:])
    out = np.empty((100, 40), np.float32)
    assert lilcom_rs.decompress(data, rows=slice(200, 300), out=out) is out
    assert np.array_equal(out, whole[200:300])
    out_f = np.empty((5000, 40), np.float32, order="F")
    lilcom_rs.decompress(data, out=out_f)
    assert np.array_equal(out_f, whole)
    with pytest.raises(ValueError, match="shape"):
        lilcom_rs.decompress(data, out=np.empty((10, 40), np.float32))
    with pytest.raises(ValueError):
        lilcom_rs.decompress(data, rows=slice(0, 10, 2))
    with pytest.raises(ValueError):
        lilcom_rs.compress(a, threads=0)


def test_concurrent_calls_from_python_threads():
    arrays = [RNG.standard_normal((400, 80)).astype(np.float32) for _ in range(4)]
    results = [None] * len(arrays)

    def work(i):
        for _ in range(5):
            results[i] = lilcom_rs.decompress(lilcom_rs.compress(arrays[i], -7))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(arrays))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(arrays, results):
        assert within_half_tick(a, b, -7)


# ---- the original's failures, handled -----------------------------------------------------

def test_nan_inf_and_huge_values():
    a = np.array([1.0, np.nan, np.inf, -np.inf, 1e10, -3e38, 0.5], np.float32)
    b = lilcom_rs.decompress(lilcom_rs.compress(a, -8))
    assert np.array_equal(a.view(np.uint32)[1:6], b.view(np.uint32)[1:6])
    assert within_half_tick(a[[0, 6]], b[[0, 6]], -8)
    with pytest.raises(ValueError, match="NaN or infinity"):
        lilcom_rs.compress(a, -8, format="lilcom")


def test_empty_and_zero_d_arrays():
    for a in [np.zeros((0, 3), np.float32), np.zeros((3, 0)), np.float32(2.5), np.array(7.0)]:
        b = lilcom_rs.decompress(lilcom_rs.compress(a, -4))
        assert b.shape == np.shape(a)
        if b.size:
            assert within_half_tick(np.asarray(a, np.float64), b, -4)
    with pytest.raises(ValueError, match="empty"):
        lilcom_rs.compress(np.zeros((0, 3), np.float32), format="lilcom")
    with pytest.raises(ValueError, match="axes"):
        lilcom_rs.compress(np.float32(1.0), format="lilcom")


def test_bad_bytes_give_clear_errors():
    data = lilcom_rs.compress(RNG.standard_normal((20, 20)).astype(np.float32), -8)
    with pytest.raises(ValueError, match="too short"):
        lilcom_rs.decompress(b"L")
    with pytest.raises(ValueError, match="begin with 'L'"):
        lilcom_rs.decompress(b"XYZW")
    with pytest.raises(ValueError, match="newer"):
        lilcom_rs.decompress(b"L\x07abcdef")
    for cut in [3, 10, len(data) // 2, len(data) - 1]:
        with pytest.raises(ValueError):
            lilcom_rs.decompress(data[:cut])
    for bit in range(0, len(data) * 8, 7):
        flipped = bytearray(data)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(ValueError):
            lilcom_rs.decompress(bytes(flipped))
    legacy = lilcom.compress(np.ones((5, 5), np.float32), -8)
    with pytest.raises(ValueError, match="trailing"):
        lilcom_rs.decompress(legacy + b"\x00")


def test_wrong_types():
    with pytest.raises(TypeError):
        lilcom_rs.compress("not an array")
    with pytest.raises(TypeError):
        lilcom_rs.compress(np.array(["a", "b"]))
    with pytest.raises(TypeError):
        lilcom_rs.decompress(np.zeros(3))
    with pytest.raises(TypeError):
        lilcom_rs.decompress(lilcom_rs.compress(np.ones(3)), out=[0, 0, 0])
    with pytest.raises(TypeError):
        lilcom_rs.decompress(lilcom_rs.compress(np.ones(3)), out=np.zeros(3, np.int32))
    with pytest.raises(ValueError, match="format"):
        lilcom_rs.compress(np.ones(3), format="zip")
    with pytest.raises(ValueError, match="tick_power"):
        lilcom_rs.compress(np.ones(3), tick_power=99)


def test_rows_and_out_on_original_streams():
    a = np.cumsum(RNG.standard_normal((30, 8)), axis=0).astype(np.float32)
    data = lilcom.compress(a.copy(), -6)
    whole = lilcom.decompress(data)
    assert np.array_equal(lilcom_rs.decompress(data, rows=slice(4, 9)), whole[4:9])
    out = np.empty((30, 8), np.float64)
    lilcom_rs.decompress(data, out=out)
    assert np.array_equal(out, whole.astype(np.float64))
