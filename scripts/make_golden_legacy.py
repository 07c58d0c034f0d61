#!/usr/bin/env python3
"""Writes the golden vectors of the original L\\x00 format from the real lilcom package.

Needs PyPI `lilcom==1.8.2` and numpy >= 2 (the coefficient estimate follows numpy's float32
rules). Run from the repository root:

    python3 -m venv /tmp/golden && /tmp/golden/bin/pip install lilcom==1.8.2 'numpy>=2'
    /tmp/golden/bin/python scripts/make_golden_legacy.py

It writes three files under tests/golden/:

- legacy_encode.json: small arrays given in full (input, layout, arguments), with the bytes
  `lilcom.compress` returns, the float32 values `lilcom.decompress` gives back, and the float
  coefficients `regress_array` estimates.
- legacy_generated.json: large arrays described by a generator both sides implement (see
  `generated_input`), with FNV-1a hashes of the compressed bytes and of the decoded values.
- legacy_corrupt.json: truncated, bit-flipped and extended streams, with what the original's
  `get_shape` and `decompress` make of each (values when it accepts one, else an error).
"""

import base64
import json
import os
import sys

import numpy as np

import lilcom
from lilcom.lilcom_interface import regress_array

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for byte in data:
        h ^= byte
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def make_layout(values: np.ndarray, layout: str) -> np.ndarray:
    """Returns an array equal to `values` (C order) in the named memory layout."""
    if layout == "C":
        return np.ascontiguousarray(values)
    if layout == "F":
        return np.asfortranarray(values)
    if layout == "strided":
        # Every other element of a larger array, on every axis.
        base = np.full(tuple(2 * d for d in values.shape), 12345.0, dtype=values.dtype)
        view = base[tuple(slice(None, None, 2) for _ in values.shape)]
        view[...] = values
        return view
    if layout == "reversed":
        # Negative strides on the last axis.
        base = np.ascontiguousarray(values[..., ::-1])
        return base[..., ::-1]
    raise ValueError(layout)


def coeffs_as_f32_bits(coeffs):
    return [int(np.array(c, dtype=np.float32).view(np.uint32)) for c in coeffs]


def encode_case(name, values, tick_power, do_regression, layout):
    arr = make_layout(values, layout)
    before = arr.copy()
    compressed = lilcom.compress(arr.copy(), tick_power, do_regression)
    assert np.array_equal(arr, before, equal_nan=True)
    decoded = lilcom.decompress(compressed)
    assert decoded.dtype == np.float32
    coeffs = regress_array(np.ascontiguousarray(values, np.float32), do_regression)
    return {
        "name": name,
        "dtype": "f64" if values.dtype == np.float64 else "f32",
        "shape": list(values.shape),
        "layout": layout,
        "tick_power": tick_power,
        "do_regression": do_regression,
        "input": b64(np.ascontiguousarray(values).tobytes()),
        "compressed": b64(compressed),
        "decoded": b64(decoded.tobytes()),
        "coefficients_f32_bits": coeffs_as_f32_bits(coeffs),
    }


def data_kinds(rng, shape, tick_power):
    tick = 2.0 ** tick_power
    n = int(np.prod(shape))
    yield "randn", rng.standard_normal(shape)
    yield "randn_wide", rng.standard_normal(shape) * tick * 1000.0
    yield "smooth", np.sin(np.arange(n).reshape(shape) * 0.05) * 3.0 + rng.standard_normal(shape) * tick * 4
    yield "walk", np.cumsum(rng.standard_normal(n)).reshape(shape) * tick * 50
    sparse = rng.standard_normal(shape) * tick * 3
    sparse[rng.random(shape) < 0.85] = 0.0
    yield "sparse_zeros", sparse
    yield "zeros", np.zeros(shape)
    # Codes near and beyond the int32 range: pinned by the original.
    huge = rng.standard_normal(shape) * tick * 2.0 ** 30
    flat = huge.reshape(-1)
    flat[:: max(1, n // 5)] *= 8.0
    yield "huge_codes", huge
    yield "subnormal_and_tiny", rng.standard_normal(shape) * 1e-40
    yield "heavy_tail", rng.standard_t(2, size=shape) * tick * 30


def encode_cases():
    rng = np.random.default_rng(20261124)
    cases = []
    shapes = [(7,), (1,), (2,), (40, 50), (3, 4, 5), (1, 5, 7), (8, 1, 10), (100, 2, 5), (9, 1), (3, 1, 1),
              (1, 1, 1, 6), (2, 3, 2, 3, 2), (1,) * 13 + (2, 3), (500, 8), (129,), (1000,)]
    tick_powers = [-20, -15, -10, -8, -6, -5, -3, -1, 0, 1, 4, 10, 20]
    layouts = ["C", "F", "strided", "reversed"]
    # The original package's own test shapes and tick powers, all kinds, C order, both dtypes.
    for shape in [(40, 50), (3, 4, 5), (1, 5, 7), (8, 1, 10), (100, 2, 57)]:
        for tp in [-15, -8, -6]:
            for kind, values in data_kinds(rng, shape, tp):
                if kind not in ("randn", "smooth", "huge_codes"):
                    continue
                for dt in (np.float32, np.float64):
                    if shape == (100, 2, 57) and (dt == np.float64 or kind != "smooth"):
                        continue
                    name = f"orig_{kind}_{'x'.join(map(str, shape))}_tp{tp}_{np.dtype(dt).name}"
                    cases.append(encode_case(name, values.astype(dt), tp, True, "C"))
    # A random sample of the wider grid.
    for i in range(170):
        shape = shapes[rng.integers(len(shapes))]
        tp = int(tick_powers[rng.integers(len(tick_powers))])
        kinds = list(data_kinds(rng, shape, tp))
        kind, values = kinds[rng.integers(len(kinds))]
        dt = np.float32 if rng.random() < 0.6 else np.float64
        layout = layouts[rng.integers(len(layouts))] if len(shape) > 0 else "C"
        reg = bool(rng.random() < 0.75)
        name = f"grid{i}_{kind}_{'x'.join(map(str, shape))}_tp{tp}_{np.dtype(dt).name}_{layout}_{'reg' if reg else 'noreg'}"
        cases.append(encode_case(name, values.astype(dt), tp, reg, layout))
    # Coefficients exactly on, and one float32 step either side of, a rounding boundary k/256 + 1/512.
    for k in [0, 5, 6, 100, 127, 200, 254, 255, -6, -101, -255]:
        boundary = np.float32((k + 0.5) / 256.0)
        for b in [np.nextafter(boundary, np.float32(-2)), boundary, np.nextafter(boundary, np.float32(2))]:
            values = np.array([1.0, b, 0.25, b * np.float32(0.25)], dtype=np.float32)
            cases.append(encode_case(f"boundary_k{k}_{float(b)!r}", values, -8, True, "C"))
            # The same on the second axis of a 2-d array.
            values2 = np.array([[1.0, b], [0.5, b * np.float32(0.5)]], dtype=np.float32)
            cases.append(encode_case(f"boundary2d_k{k}_{float(b)!r}", values2, -10, True, "C"))
    # The 0.02 threshold and the clamp at +-1.
    for c in [0.02, np.nextafter(np.float32(0.02), np.float32(0)), -0.02, 1.0, 1.5, -1.5]:
        values = np.array([1.0, c, 3.0, 3.0 * c], dtype=np.float32)
        cases.append(encode_case(f"threshold_{float(c)!r}", values, -8, True, "C"))
    # Trailing axes of length 1, which the original drops before predicting: that changes the
    # order of the float additions when two or more axes predict.
    for shape in [(20, 30, 1), (6, 7, 5, 1, 1), (12, 1, 9, 1), (10, 12, 14, 1)]:
        idx = np.indices(shape)
        values = sum(np.sin(idx[a] * (0.3 + 0.1 * a)) for a in range(len(shape))) + rng.standard_normal(shape) * 0.01
        for tp in [-12, -8, -3]:
            cases.append(encode_case(f"trailing_ones_{'x'.join(map(str, shape))}_tp{tp}", values.astype(np.float32), tp,
                                     True, "C"))
    # Inputs the fuzzers found (fuzz/artifacts), kept so the encoder stays byte-identical on them.
    # legacy_roundtrip: values near 2^31 with tick 2^17; the original's float32 prediction loses a
    # small element's fraction, so its error exceeds half a tick by that fraction.
    fuzz_bits = [0xcece0100,0xcececece,0xcececece,0xcececece,0xcececece,0xcececece,0xce60cece,0xcececece,0xcececece,0x000001ce,0x00000000,0xcecece03,0xcececece,0x0023cece,0xceceeece,0xcececece,0x06050cce,0x00000002,0x3ebd70a4,0x4ece50a4,0xcececece,0x4fcecece,0x8ececece,0xcececece,0xc6c6ce3d,0x48cecece,0xcececece,0xcececece,0x3f00eace,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000]
    values = np.array(fuzz_bits, dtype=np.uint32).view(np.float32).reshape(4, 6, 3)
    cases.append(encode_case("fuzz_legacy_roundtrip_c4a53393", values, 17, True, "C"))
    # legacy_roundtrip again: shape (8, 8, 9, 1) at tick 2^8. The encoder drops the trailing axis
    # of length 1 and the decoder does not, so their float32 additions differ in order and the
    # difference accumulates: an error 0.063 beyond half a tick, in the original too.
    fuzz_bits = [0x00c40000,0xc40c0055,0xc4c4c4c4,0xc4c4c4c4,0xc4c49797,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc40b00c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0x020001c4,0xc4c40b00,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0x01c4c4c4,0x0ddd7b00,0xc4009be8,0xc4c4c4c4,0xc4c4c4c4,0x0c005500,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0x005500c4,0xc4c4c40c,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0x12c4c4c4,0x12121212,0x12121212,0x12121212,0xc4c4c412,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c40c,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0x00c4c4c4,0x003f8000,0x003f8000,0x003f0000,0x003f8000,0xc4c48000,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0xc4c4c4c4,0x00000001,0x0d000000,0xc4c4c4c4,0x84c4c4c4,0xc4c4c4c4,0x0014cb00,0xc4c4ce01,0xc4c4c4c4,0xc4c4c4c4,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000,0x00000000]
    values = np.array(fuzz_bits, dtype=np.uint32).view(np.float32).reshape(8, 8, 9, 1)
    cases.append(encode_case("fuzz_legacy_roundtrip_1817ac48", values, 8, True, "C"))
    # Zero runs of every length class, with values of every bit width between them.
    widths = np.array([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3] + [0] * 40 + [1], dtype=np.float64)
    for w in [1, 2, 5, 8, 13, 20, 25, 30, 31]:
        v = np.array([2.0 ** w - 1, -(2.0 ** w), 2.0 ** (w - 1)], dtype=np.float64)
        values = np.concatenate([widths, v, np.zeros(70), v[::-1], [0.0] * (w * 3)])
        cases.append(encode_case(f"widths_{w}", values.astype(np.float32), 0, False, "C"))
    return cases


# ---- large arrays from a generator that the Rust tests implement too --------------------------

def lcg_uniform(seed: int, count: int) -> np.ndarray:
    """count values ((x >> 8) * 2^-24 - 0.5) as float32, x the high 32 bits of a 64-bit LCG."""
    out = np.empty(count, dtype=np.float32)
    state = seed & 0xFFFFFFFFFFFFFFFF
    mask = 0xFFFFFFFFFFFFFFFF
    raw = np.empty(count, dtype=np.uint32)
    for i in range(count):
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        raw[i] = state >> 32
    out[:] = (raw >> 8).astype(np.float32) * np.float32(2.0 ** -24) - np.float32(0.5)
    return out


def generated_input(seed: int, shape, scale_power: int) -> np.ndarray:
    """x[i] = ((u[i] + u[i+1]) + row(i) * 0.001) * 2^scale_power in float32, i the C-order index."""
    n = int(np.prod(shape))
    u = lcg_uniform(seed, n + 1)
    rows = (np.arange(n) // (n // shape[0])).astype(np.float32)
    x = (u[:-1] + u[1:]) + rows * np.float32(0.001)
    x = x * np.float32(2.0 ** scale_power)
    return x.reshape(shape)


def generated_cases():
    specs = [
        (1, (300, 500), 0, -8),
        (2, (10557, 80), 3, -5),
        (3, (120000,), 2, -4),
        (4, (24, 30, 40), -2, -10),
        (5, (8193, 3), 0, -8),
        (6, (64, 64, 64), 1, -6),
    ]
    cases = []
    for seed, shape, scale_power, tp in specs:
        x = generated_input(seed, shape, scale_power)
        compressed = lilcom.compress(x.copy(), tp, True)
        decoded = lilcom.decompress(compressed)
        coeffs = regress_array(x, True)
        cases.append({
            "seed": seed,
            "shape": list(shape),
            "scale_power": scale_power,
            "tick_power": tp,
            "input_fnv1a64": fnv1a64(x.tobytes()),
            "coefficients_f32_bits": coeffs_as_f32_bits(coeffs),
            "compressed_len": len(compressed),
            "compressed_fnv1a64": fnv1a64(compressed),
            "decoded_fnv1a64": fnv1a64(decoded.tobytes()),
        })
        print("generated", shape, len(compressed), file=sys.stderr)
    return cases


# ---- corrupted streams ------------------------------------------------------------------------

def outcome(stream: bytes):
    result = {"stream": b64(stream)}
    try:
        result["shape"] = list(lilcom.get_shape(stream))
    except (ValueError, TypeError) as e:
        result["shape_error"] = str(e)
        return result
    if int(np.prod(result["shape"])) > 5_000_000:
        result["skipped"] = "shape too large to decode here"
        return result
    try:
        decoded = lilcom.decompress(stream)
        result["decoded"] = b64(decoded.tobytes())
    except (ValueError, MemoryError) as e:
        result["decode_error"] = str(e)
    return result


def corrupt_cases():
    rng = np.random.default_rng(7)
    bases = [
        lilcom.compress(rng.standard_normal((6, 9)).astype(np.float32), -8),
        lilcom.compress(np.array([0, 0, 0, 1, 0, 0, 0, 0, 5, -3, 0, 0], np.float32), 0, False),
        lilcom.compress(np.cumsum(rng.standard_normal(40)).astype(np.float32), -5),
        lilcom.compress(rng.standard_normal((2, 3, 4)).astype(np.float32) * 1e3, -12),
    ]
    cases = []
    for base in bases:
        for cut in range(len(base)):
            cases.append(outcome(base[:cut]))
        for bit in range(8 * len(base)):
            flipped = bytearray(base)
            flipped[bit // 8] ^= 1 << (bit % 8)
            cases.append(outcome(bytes(flipped)))
        for extra in [b"\x00", b"\xff", b"\x00\x00\x00\x00"]:
            cases.append(outcome(base + extra))
        for _ in range(60):
            mutated = bytearray(base)
            for _ in range(int(rng.integers(2, 6))):
                pos = int(rng.integers(2, len(mutated)))
                mutated[pos] = int(rng.integers(0, 256))
            cases.append(outcome(bytes(mutated)))
    for raw in [b"", b"L", b"L\x00", b"X\x00\x01", b"L\x01\x00\x00", b"L\x07abc", b"L\x00\x00", b"L\x00\xff\xff\xff\xff"]:
        cases.append(outcome(raw))
    return cases


def main():
    assert lilcom.__version__ == "1.8.2" if hasattr(lilcom, "__version__") else True
    assert int(np.__version__.split(".")[0]) >= 2, "numpy >= 2 is required"
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, make in [("legacy_encode.json", encode_cases), ("legacy_generated.json", generated_cases),
                       ("legacy_corrupt.json", corrupt_cases)]:
        cases = make()
        with open(os.path.join(OUT_DIR, name), "w") as f:
            json.dump({"generator": "scripts/make_golden_legacy.py", "lilcom": "1.8.2",
                       "numpy": np.__version__, "cases": cases}, f, indent=0)
        print(name, len(cases), "cases", file=sys.stderr)


if __name__ == "__main__":
    main()
