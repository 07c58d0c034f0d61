#!/usr/bin/env python3
"""Side-by-side comparison: lilcom_rs (both formats) against the C++ original (PyPI lilcom
1.8.2) and its peers (SZ3 via pysz, ZFP via zfpy, rounding + pcodec) on the same arrays, at the
same maximum error (half a tick), in one process.

    python3 -m venv /tmp/cmp && /tmp/cmp/bin/pip install ./python lilcom==1.8.2 pysz zfpy pcodec matplotlib
    /tmp/cmp/bin/python benches/compare.py            # writes docs/benchmarks.md and docs/benchmarks.png

The corpus comes from benches/corpus.py (speech features need espeak-ng and sox; without them
the speech rows are skipped). Speeds are the best of a few runs, in million elements per
second; the tables also give each speed as a ratio to the C++ original's in the same run. Rows
say "all cores" where a codec can use them (lilcom_rs threads, SZ3's OpenMP); the others are
single-threaded.
"""

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, HERE)


def best_time(fn, repeats):
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def codecs(tick, tick_power):
    """name -> factory(x) -> (encode(), decode(blob), size(blob), threads label)."""
    import lilcom
    import lilcom_rs
    import pcodec
    import zfpy
    from pysz import sz, szAlgorithm, szConfig, szErrorBoundMode

    def ours(fmt, threads):
        def make(x):
            return (lambda: lilcom_rs.compress(x, tick_power, format=fmt, threads=threads),
                    lambda b: lilcom_rs.decompress(b, threads=threads), len)
        return make

    def original(x):
        # A fresh copy each time: the original overwrites its input with the lossy values.
        return (lambda: lilcom.compress(x.astype(np.float32, copy=True), tick_power),
                lambda b: lilcom.decompress(b), len)

    def sz3(algorithm, openmp=False):
        def make(x):
            def enc():
                conf = szConfig(x.shape)
                conf.errorBoundMode = szErrorBoundMode.ABS
                conf.absErrorBound = tick / 2
                conf.cmprAlgo = algorithm
                conf.openmp = openmp
                return sz.compress(np.ascontiguousarray(x), conf)[0]
            return enc, lambda b: sz.decompress(b, x.dtype, x.shape)[0], lambda b: b.nbytes
        return make

    def zfp(x):
        return (lambda: zfpy.compress_numpy(np.ascontiguousarray(x), tolerance=tick / 2),
                lambda b: zfpy.decompress_numpy(b), len)

    def pco(x):
        def enc():
            return pcodec.standalone.simple_compress(np.round(x / tick).astype(np.int64).ravel(), pcodec.ChunkConfig())
        return enc, lambda b: (pcodec.standalone.simple_decompress(b) * tick).astype(x.dtype).reshape(x.shape), len

    return {
        "lilcom 1.8.2 (C++)": original,
        "lilcom_rs tiled": ours("tiled", 1),
        "lilcom_rs tiled, all cores": ours("tiled", None),
        "lilcom_rs L\\x00": ours("lilcom", 1),
        "SZ3 default": sz3(szAlgorithm.INTERP_LORENZO),
        "SZ3 default, all cores (OpenMP)": sz3(szAlgorithm.INTERP_LORENZO, openmp=True),
        "SZ3 Lorenzo+regression": sz3(szAlgorithm.LORENZO_REG),
        "ZFP accuracy": zfp,
        "round + pcodec": pco,
    }


def corpus(with_speech):
    import corpus as gen
    datasets = gen.synthetic(np.random.default_rng(20261124))
    if with_speech:
        datasets["fbank_speech"] = (gen.speech_features(105.0), -5)
    return datasets


def measure(x, tick_power, repeats):
    tick = 2.0 ** tick_power
    rows = []
    for label, make in codecs(tick, tick_power).items():
        try:
            enc, dec, size = make(x)
            blob, t_enc = best_time(enc, repeats)
            back, t_dec = best_time(lambda: dec(blob), repeats)
        except Exception as e:  # a peer that fails on a dataset is reported, not fatal
            rows.append((label, None, None, None, None, f"{type(e).__name__}: {e}"))
            continue
        finite = np.isfinite(x)
        err = float(np.max(np.abs(x[finite].astype(np.float64) - np.asarray(back, np.float64)[finite]))) / tick
        rows.append((label, size(blob) * 8 / x.size, err, x.size / t_enc / 1e6, x.size / t_dec / 1e6, None))
    return rows


def lhotse_pattern(features, repeats):
    """lhotse's chunked writer: (frames, 80) in 500-frame chunks at tick_power -5; decode all."""
    import lilcom
    import lilcom_rs
    chunks = [np.ascontiguousarray(features[i:i + 500]) for i in range(0, len(features), 500)]
    rows = []
    for label, enc, dec in [
        ("lilcom 1.8.2 (C++)", lambda c: lilcom.compress(c.copy(), -5), lilcom.decompress),
        ("lilcom_rs tiled", lambda c: lilcom_rs.compress(c, -5, threads=1), lambda b: lilcom_rs.decompress(b, threads=1)),
        ("lilcom_rs L\\x00", lambda c: lilcom_rs.compress(c, -5, format="lilcom"), lilcom_rs.decompress),
    ]:
        blobs, t_enc = best_time(lambda: [enc(c) for c in chunks], repeats)
        _, t_dec = best_time(lambda: [dec(b) for b in blobs], repeats)
        rows.append((label, sum(map(len, blobs)) * 8 / features.size, features.size / t_enc / 1e6,
                     features.size / t_dec / 1e6))
    return rows


def write_report(results, lhotse, path_md, path_png):
    lines = ["# Benchmarks", "",
             "Written by `benches/compare.py` (one process, same arrays, same maximum error: half a tick).",
             "Speeds in million elements per second, best of several runs, single-threaded unless said;",
             "`x` is the ratio to the C++ original in the same run. Absolute speeds drift on shared machines.", ""]
    for name, (shape, dtype, tick_power, rows) in results.items():
        base = next((r for r in rows if r[0].startswith("lilcom 1.8.2") and r[1] is not None), None)
        lines += [f"## {name} {shape} {dtype}, tick_power {tick_power}", "",
                  "| codec | bits/element | max error (ticks) | compress | decompress |", "| --- | --- | --- | --- | --- |"]
        for label, bits, err, enc, dec, failure in rows:
            if failure:
                lines.append(f"| {label} | failed: {failure} | | | |")
                continue
            ratio = (lambda v, b: f" ({v / b:.1f}x)" if base else "")
            lines.append(f"| {label} | {bits:.3f} | {err:.3f} | {enc:.1f}{ratio(enc, base[3])} | {dec:.1f}{ratio(dec, base[4])} |")
        lines.append("")
    if lhotse:
        base = lhotse[0]
        lines += ["## lhotse's pattern: 500-frame chunks of (frames, 80) speech features, tick_power -5", "",
                  "| codec | bits/element | compress | decompress |", "| --- | --- | --- | --- |"]
        for label, bits, enc, dec in lhotse:
            lines.append(f"| {label} | {bits:.3f} | {enc:.1f} ({enc / base[2]:.1f}x) | {dec:.1f} ({dec / base[3]:.1f}x) |")
        lines.append("")
    lines += ["![bits per element against decompression speed](benchmarks.png)", ""]
    with open(path_md, "w") as f:
        f.write("\n".join(lines))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot written", file=sys.stderr)
        return
    names = list(results)
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names):
        for label, bits, _, _, dec, failure in results[name][3]:
            if failure is None:
                ax.scatter(dec, bits, label=label)
        ax.set_title(name, fontsize=9)
        ax.set_xscale("log")
        ax.set_xlabel("decompress M elements/s")
        ax.set_ylabel("bits/element")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path_png, dpi=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-speech", action="store_true", help="skip the espeak-ng speech features")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(ROOT, "docs"))
    args = parser.parse_args()
    datasets = corpus(not args.no_speech)
    results = {}
    for name, (x, tick_power) in datasets.items():
        rows = measure(x, tick_power, args.repeats)
        results[name] = (x.shape, x.dtype, tick_power, rows)
        for r in rows:
            print(name, *r, flush=True)
    lhotse = lhotse_pattern(datasets["fbank_speech"][0], args.repeats) if "fbank_speech" in datasets else []
    write_report(results, lhotse, os.path.join(args.out, "benchmarks.md"), os.path.join(args.out, "benchmarks.png"))
    print("wrote", os.path.join(args.out, "benchmarks.md"))


if __name__ == "__main__":
    main()
