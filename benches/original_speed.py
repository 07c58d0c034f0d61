#!/usr/bin/env python3
"""Times the C++ original (PyPI lilcom 1.8.2) on the shipped sample, in lhotse's pattern
(500-frame chunks, tick_power -5), to compare with `cargo run --release --example sample` in the
same run:

    python3 benches/original_speed.py && cargo run --release --example sample
"""

import os
import time

import numpy as np

import lilcom

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main():
    features = np.load(os.path.join(ROOT, "data", "fbank_sample.npy"))
    chunks = [np.ascontiguousarray(features[i:i + 500]) for i in range(0, len(features), 500)]
    streams = [lilcom.compress(c.copy(), -5) for c in chunks]
    repeats = 20
    copies = [[c.copy() for c in chunks] for _ in range(repeats)]  # the original overwrites its input
    start = time.perf_counter()
    for batch in copies:
        for c in batch:
            lilcom.compress(c, -5)
    encode = repeats * features.size / (time.perf_counter() - start) / 1e6
    start = time.perf_counter()
    for _ in range(repeats):
        for s in streams:
            lilcom.decompress(s)
    decode = repeats * features.size / (time.perf_counter() - start) / 1e6
    bits = sum(len(s) for s in streams) * 8 / features.size
    print(f"original lilcom 1.8.2: bits per element {bits:.3f}, "
          f"compress: {encode:.1f} M elements/s, decompress: {decode:.1f} M elements/s (one thread)")


if __name__ == "__main__":
    main()
