"""Seed-size call overhead: ``rnnkit.dynamic_rnn`` against torch's own layer, interleaved in one process.

Usage: ``python benchmarks/bench_seed.py [CALLS] [ROUNDS]`` (defaults 300 and 7). For each cell (tanh, LSTM,
GRU) and mode (forward+backward; forward-only under ``torch.no_grad()``), times CALLS calls of rnnkit's
default path, then CALLS of ``nn.RNN/LSTM/GRU``, ROUNDS times, and prints the best time per call and
the median ratio torch / rnnkit (above 1: rnnkit faster) with its range. Inputs ``(B, T, I) =
(4, 2, 3)``, ``H = 5``, float32, batch-major; the loss is the sum of the outputs.
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

import rnnkit

B, T, I, H = 4, 2, 3, 5


def make(kind: str):
    if kind == "tanh":
        return rnnkit.BasicRNNCell(H, input_size=I), torch.nn.RNN(I, H, batch_first=True)
    if kind == "lstm":
        return rnnkit.BasicLSTMCell(H, input_size=I), torch.nn.LSTM(I, H, batch_first=True)
    return rnnkit.GRUCell(H, reset_after=True, input_size=I), torch.nn.GRU(I, H, batch_first=True)


def main(calls: int = 300, rounds: int = 7) -> None:
    torch.manual_seed(0)
    x = torch.randn(B, T, I)

    def fb_rnnkit(cell):
        y, _ = rnnkit.dynamic_rnn(cell, x)
        y.sum().backward()

    def fb_torch(layer):
        y, _ = layer(x)
        y.sum().backward()

    def f_rnnkit(cell):
        with torch.no_grad():
            rnnkit.dynamic_rnn(cell, x)

    def f_torch(layer):
        with torch.no_grad():
            layer(x)

    for kind in ("tanh", "lstm", "gru"):
        cell, layer = make(kind)
        for mode, run_r, run_t in (("fwd+bwd", fb_rnnkit, fb_torch), ("fwd", f_rnnkit, f_torch)):
            for _ in range(50):  # warm-up (and the kernels' first compile)
                run_r(cell)
                run_t(layer)
            ours, theirs = [], []
            for _ in range(rounds):
                t0 = time.perf_counter()
                for _ in range(calls):
                    run_r(cell)
                t1 = time.perf_counter()
                for _ in range(calls):
                    run_t(layer)
                t2 = time.perf_counter()
                ours.append((t1 - t0) / calls * 1e6)
                theirs.append((t2 - t1) / calls * 1e6)
            ratios = [b / a for a, b in zip(ours, theirs)]
            print(
                f"{kind:5s} {mode:8s} rnnkit {min(ours):7.1f} us  torch {min(theirs):7.1f} us  "
                f"torch/rnnkit median {statistics.median(ratios):.2f} "
                f"[{min(ratios):.2f}-{max(ratios):.2f}]"
            )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
