"""An LSTM cell called step by step under autograd (a decoder's loop, TF1's ``raw_rnn``, a graph
unrolled in Python): forward plus backward of a chain of cell calls, with the step's elementwise
part on the compiled kernel (``rnnkit.platform.pointwise``) and as torch ops, alternating in one
process.

Prints one line per configuration: the median milliseconds of each and their ratio (kernel / torch
ops), with the load average before the run. Example::

    python benchmarks/bench_cell_step.py --threads 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

import rnnkit
from rnnkit.platform import pointwise

# (batch, input width, units, steps): a small seq2seq decoder, TF's PTB model's layer, a chatbot's
# decoder, one-row sampling
CONFIGS = [(100, 20, 40, 11), (20, 200, 200, 20), (128, 64, 128, 10), (1, 64, 128, 20)]


def _chain(B: int, I: int, H: int, T: int):
    torch.manual_seed(0)
    cell = rnnkit.LSTMCell(H, input_size=I)
    xs = [torch.randn(B, I) for _ in range(T)]

    def run() -> None:
        state = cell.zero_state(B)
        total = torch.zeros(())
        for x in xs:
            out, state = cell(x, state)
            total = total + out.sum()
        cell.zero_grad(set_to_none=True)
        total.backward()

    return run


def _median_ms(run, calls: int) -> float:
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default torch's)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"load average {os.getloadavg()[0]:.2f}, torch threads {torch.get_num_threads()}")
    takes = pointwise.takes
    for B, I, H, T in CONFIGS:
        run = _chain(B, I, H, T)
        kernel, ops = [], []
        for _ in range(args.rounds):
            for on, out in ((True, kernel), (False, ops)):
                pointwise.takes = takes if on else (lambda g, c: False)
                run()  # warm-up
                out.append(_median_ms(run, args.calls))
        pointwise.takes = takes
        k, o = statistics.median(kernel), statistics.median(ops)
        print(
            f"lstm B={B} I={I} H={H} T={T}: kernel {k:.3f} ms, torch ops {o:.3f} ms, {k / o:.2f}x"
        )


if __name__ == "__main__":
    main()
