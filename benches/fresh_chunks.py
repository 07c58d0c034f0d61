"""Decoding lhotse-style chunks in a fresh Python process, as a data-loader worker would: the
speech features of the corpus cut into 500-frame chunks, compressed at tick_power -5 by
lilcom_rs (tiled, one thread) and by the original, then decoded pass after pass (best of 15) in
this one process, three ways: ours into new arrays, the original into new arrays, and ours into
arrays reused across passes (`out=`). Prints our speed as a multiple of the original's.

    /tmp/cmp/bin/python benches/fresh_chunks.py /tmp/corpus/fbank_speech.npy [--keep all|last]

`--keep all` keeps every pass's arrays alive until the end (the heap only grows, so each new
array gets fresh pages from the kernel); `--keep last` (the default) frees a pass's arrays when
the next pass has made its own, as a loader that hands batches on does. glibc's thresholds,
`GLIBC_TUNABLES` (see the README), change how much of either is page faults.
"""
import argparse
import time

import lilcom
import numpy as np

import lilcom_rs


def best_time(fn, repeats=15):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("features")
    parser.add_argument("--keep", choices=["all", "last"], default="last")
    args = parser.parse_args()
    features = np.load(args.features)
    chunks = [np.ascontiguousarray(features[i:i + 500]) for i in range(0, len(features), 500)]
    ours = [lilcom_rs.compress(c, -5, threads=1) for c in chunks]
    original = [lilcom.compress(c.copy(), -5) for c in chunks]
    kept = []

    def decode_all(decode, blobs):
        arrays = [decode(b) for b in blobs]
        if args.keep == "all":
            kept.append(arrays)
        else:
            kept[:] = [arrays]

    t_ours = best_time(lambda: decode_all(lambda b: lilcom_rs.decompress(b, threads=1), ours))
    t_original = best_time(lambda: decode_all(lilcom.decompress, original))
    outs = [np.empty(c.shape, np.float32) for c in chunks]
    t_out = best_time(lambda: [lilcom_rs.decompress(b, out=o, threads=1) for b, o in zip(ours, outs)])
    print(f"keep {args.keep}: new arrays {t_original / t_ours:.2f}x the original's speed, "
          f"into reused arrays {t_original / t_out:.2f}x")


if __name__ == "__main__":
    main()
