"""How close a tanh RNN layer can come to the sgemm peak: the GEMM shapes its forward and backward
must run, each timed alone on the engine's BLAS, against a square 2048^3 product in the same run.

A tanh layer's arithmetic is all GEMMs: the input projection, its two weight gradients and the
input gradient are one large product each (all T*B rows at once), but the recurrence is T products
of ``(B, H) x (H, H)`` forward and T more backward, one after the other, and a ``(64, 1024)`` left
operand runs well below what a square product reaches. The time of every GEMM at its own shape,
summed, is a lower bound on the layer's time with these kernels; its flops over that sum, against
the square product's rate, is the best "% of peak" such a layer can show. ``python -m rnnkit bench``
reports the layer's own figure for comparison.

    python benchmarks/bench_gemm_shapes.py                 # the L size: B=64, T=100, I=512, H=1024
    python benchmarks/bench_gemm_shapes.py --size 64,200,128,256
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from rnnkit.engine import kernels as K


def _rate(m: int, k: int, n: int, seconds: float) -> tuple[float, float]:
    """(seconds per product, GFLOP/s) of ``(m, k) x (k, n)`` products on the engine's BLAS."""
    rs = np.random.default_rng(0)
    a = rs.standard_normal((m, k), dtype=np.float32)
    b = rs.standard_normal((k, n), dtype=np.float32)
    out = np.empty((m, n), np.float32)
    K.gemm(a, b, out)  # compile, warm the caches
    calls, start = 0, time.perf_counter()
    while True:
        K.gemm(a, b, out)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and calls >= 3:
            break
    per_call = elapsed / calls
    return per_call, 2.0 * m * k * n / per_call / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="64,100,512,1024", help="B,T,I,H (default: L)")
    parser.add_argument("--seconds", type=float, default=1.0, help="time per shape")
    args = parser.parse_args()
    B, T, I, H = (int(v) for v in args.size.split(","))
    _, peak = _rate(2048, 2048, 2048, args.seconds)
    # (name, m, k, n, how many per layer call, forward+backward)
    shapes = [
        ("input projection (T*B, I) x (I, H)", T * B, I, H, 1),
        ("recurrence, forward (B, H) x (H, H)", B, H, H, T),
        ("recurrence, backward (B, H) x (H, H)", B, H, H, T),
        ("recurrent weight gradient (H, T*B) x (T*B, H)", H, T * B, H, 1),
        ("input weight gradient (I, T*B) x (T*B, H)", I, T * B, H, 1),
        ("input gradient (T*B, H) x (H, I)", T * B, H, I, 1),
    ]
    print(f"load average {os.getloadavg()[0]:.2f}; square 2048^3 product: {peak:.0f} GFLOP/s")
    total_flops = total_time = 0.0
    for name, m, k, n, count in shapes:
        per_call, rate = _rate(m, k, n, args.seconds)
        total_flops += 2.0 * m * k * n * count
        total_time += per_call * count
        print(f"  {name:48s} x{count:<4d} {rate:7.0f} GFLOP/s ({rate / peak:4.0%} of the square)")
    bound = total_flops / total_time / 1e9
    print(
        f"layer forward+backward, GEMMs only: {total_time * 1e3:.1f} ms at least, "
        f"{bound:.0f} GFLOP/s = {bound / peak:.0%} of the square product's rate"
    )


if __name__ == "__main__":
    main()
