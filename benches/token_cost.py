#!/usr/bin/env python3
"""Order-0 cost of residual coding schemes on the corpus: the measurement behind the tiled
format's token design (docs/format.md, "Choices this records").

For each dataset and predictor (none, one axis difference, Lorenzo) it prints the order-0
entropy of the residuals and the cost of a token (bit width plus 0, 1 or 2 bits below the top
one, ideally entropy coded) followed by the remaining bits raw.

    python3 benches/token_cost.py
"""

import os

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def entropy(values):
    _, counts = np.unique(values, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def zigzag(r):
    r = r.astype(np.int64)
    return np.where(r >= 0, 2 * r, -2 * r - 1).astype(np.uint64)


def widths(u):
    w = np.zeros(u.shape, np.int64)
    nz = u > 0
    w[nz] = np.floor(np.log2(u[nz].astype(np.float64))).astype(np.int64) + 1
    return w


def token_cost(residuals, extra):
    u = zigzag(residuals.ravel())
    w = widths(u)
    e = np.minimum(extra, np.maximum(w - 1, 0))
    shift = np.maximum(w - 1 - e, 0).astype(np.uint64)
    sub = np.where(w > 1, (u >> shift) & ((np.uint64(1) << e.astype(np.uint64)) - np.uint64(1)), 0)
    token = w * 8 + sub.astype(np.int64)
    raw = np.maximum(w - 1 - e, 0).sum() / u.size
    return entropy(token) + raw


def report(name, x, tick_power):
    q = np.round(x * 2.0 ** -tick_power).astype(np.int64)
    candidates = {"none": q}
    for axis in range(q.ndim):
        candidates[f"diff axis {axis}"] = np.diff(q, axis=axis, prepend=0)
    lorenzo = q
    for axis in range(q.ndim):
        lorenzo = np.diff(lorenzo, axis=axis, prepend=0)
    candidates["lorenzo"] = lorenzo
    print(f"{name} {x.shape} tick_power {tick_power}")
    for label, r in candidates.items():
        print(f"  {label:12s} entropy {entropy(r):6.3f}  token+0 {token_cost(r, 0):6.3f}  "
              f"token+1 {token_cost(r, 1):6.3f}  token+2 {token_cost(r, 2):6.3f}")


def main():
    rng = np.random.default_rng(0)
    report("randn", rng.standard_normal((300, 500)).astype(np.float32), -8)
    report("speech fbank", np.load(os.path.join(ROOT, "data", "fbank_sample.npy")), -5)
    report("random walk", np.cumsum(rng.standard_normal(1_000_000)), -4)
    g = np.indices((96, 96, 96)).astype(np.float64)
    field = np.sin(g[0] * 0.07) * np.cos(g[1] * 0.05) + np.sin(g[2] * 0.09 + g[0] * 0.02)
    report("smooth noisy field", (field + rng.standard_normal(field.shape) * 0.001).astype(np.float32), -10)
    report("heavy-tailed weights", (rng.standard_t(3, size=(512, 512)) * 0.02).astype(np.float32), -12)


if __name__ == "__main__":
    main()
