#!/usr/bin/env python3
"""The C++ original and the peers on the benchmark corpus, at the same maximum error (half a
tick), single-threaded, one process: bits per element, max error in ticks, and compress and
decompress speed. Pair with `cargo run --release --example corpus -- DIR` for this crate.

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install lilcom==1.8.2 pysz zfpy pcodec numpy
    python3 benches/corpus.py --out /tmp/corpus
    /tmp/peers/bin/python benches/peers.py /tmp/corpus
"""

import os
import sys
import time

import numpy as np


def timed(fn, repeats):
    start = time.perf_counter()
    for _ in range(repeats):
        out = fn()
    return out, (time.perf_counter() - start) / repeats


def codecs(tick):
    import lilcom
    import pcodec
    import zfpy
    from pysz import sz, szAlgorithm, szConfig, szErrorBoundMode

    def original(x):
        def enc():
            # A fresh copy each time: the original overwrites its input with the lossy values.
            return lilcom.compress(x.astype(np.float32, copy=True), int(round(np.log2(tick))))
        return enc, lambda b: lilcom.decompress(b), len

    def sz3(x, algorithm):
        def enc():
            conf = szConfig(x.shape)
            conf.errorBoundMode = szErrorBoundMode.ABS
            conf.absErrorBound = tick / 2
            conf.cmprAlgo = algorithm
            return sz.compress(np.ascontiguousarray(x), conf)[0]
        return enc, lambda b: sz.decompress(b, x.dtype, x.shape)[0], lambda b: b.nbytes

    def zfp(x):
        return (lambda: zfpy.compress_numpy(np.ascontiguousarray(x), tolerance=tick / 2),
                lambda b: zfpy.decompress_numpy(b), len)

    def pco(x):
        def enc():
            q = np.round(x / tick).astype(np.int64).ravel()
            return pcodec.standalone.simple_compress(q, pcodec.ChunkConfig())
        def dec(b):
            return (pcodec.standalone.simple_decompress(b) * tick).astype(x.dtype).reshape(x.shape)
        return enc, dec, len

    return {
        "lilcom 1.8.2 (C++)": original,
        "SZ3 default (interp+Lorenzo)": lambda x: sz3(x, szAlgorithm.INTERP_LORENZO),
        "SZ3 Lorenzo+regression": lambda x: sz3(x, szAlgorithm.LORENZO_REG),
        "ZFP accuracy": zfp,
        "round + pcodec": pco,
    }


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "/tmp/corpus"
    print("| data (tick_power) | codec | bits/el | max err (ticks) | compress M el/s | decompress M el/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for line in open(os.path.join(directory, "manifest.tsv")):
        name, tick_power = line.split("\t")
        tick_power = int(tick_power)
        x = np.load(os.path.join(directory, name + ".npy"))
        tick = 2.0 ** tick_power
        repeats = max(1, min(20, 20_000_000 // x.size))
        for label, make in codecs(tick).items():
            try:
                enc, dec, size = make(x)
                blob, t_enc = timed(enc, repeats)
                back, t_dec = timed(lambda: dec(blob), repeats)
            except Exception as e:  # a peer that fails on a dataset is reported, not fatal
                print(f"| {name} ({tick_power}) | {label} | failed: {type(e).__name__}: {e} | | | |")
                continue
            err = float(np.max(np.abs(x.astype(np.float64) - np.asarray(back, dtype=np.float64)))) / tick
            print(f"| {name} ({tick_power}) | {label} | {size(blob) * 8 / x.size:.3f} | {err:.3f} | "
                  f"{x.size / t_enc / 1e6:.1f} | {x.size / t_dec / 1e6:.1f} |", flush=True)


if __name__ == "__main__":
    main()
