"""Times lilcom_rs.compress and lilcom_rs.decompress (tiled format, one thread) on one .npy file:
best of 15 calls each, in million elements per second. For A/B runs of two builds of the Python
package, alternate two venvs:

    for i in 1 2 3; do for v in /tmp/venv_a /tmp/venv_b; do
        $v/bin/python benches/time_python.py /tmp/corpus/fbank_speech.npy -5; done; done
"""
import sys
import time

import numpy as np

import lilcom_rs


def best_rate(fn, elements, repeats=15):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return elements / best / 1e6


def main():
    x = np.load(sys.argv[1])
    tick_power = int(sys.argv[2])
    blob = lilcom_rs.compress(x, tick_power, threads=1)
    encode = best_rate(lambda: lilcom_rs.compress(x, tick_power, threads=1), x.size)
    decode = best_rate(lambda: lilcom_rs.decompress(blob, threads=1), x.size)
    print(f"{sys.argv[1].split('/')[-1]} compress {encode:.1f} decompress {decode:.1f}")


if __name__ == "__main__":
    main()
