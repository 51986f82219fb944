r"""``python -m rnnkit compile``: compile the fused engine's kernels ahead of the first real call.

The engine's numba kernels, and the cells' one-step kernels, compile on first use (several seconds
with a cold cache) and are cached on disk, so later processes load them in well under a second. This
command runs one tiny forward and backward per cell kind and dtype on the engine and on the plain
loop, reports the time each took and where the cache lives: run it once when building an image or
after installing, so that training jobs start without the compile pause.

Example::

    python -m rnnkit compile                       # float32, every cell kind
    python -m rnnkit compile --dtypes float32,float64 --kinds lstm,gru
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from rnnkit.commands._options import bad_comma_list

KINDS = ("tanh", "lstm", "gru", "gru_reset_after")
DTYPES = ("float32", "float64")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help=f"comma list of {', '.join(KINDS)}"
    )
    parser.add_argument("--dtypes", default="float32", help=f"comma list of {', '.join(DTYPES)}")


def _cell(kind: str, dtype: Any):
    import rnnkit

    if kind == "tanh":
        cell = rnnkit.BasicRNNCell(3, input_size=2)
    elif kind == "lstm":
        cell = rnnkit.LSTMCell(3, use_peepholes=True, input_size=2)  # peepholes share the kernels
    else:
        cell = rnnkit.GRUCell(3, reset_after=kind == "gru_reset_after", input_size=2)
    return cell.to(dtype)


def compile_kind(kind: str, dtype_name: str) -> float:
    """Seconds for the first fused forward+backward of ``kind`` in ``dtype`` in this process."""
    import torch

    import rnnkit

    dtype = getattr(torch, dtype_name)
    cell = _cell(kind, dtype)
    x = torch.randn(4, 2, 2, dtype=dtype, requires_grad=True)
    t0 = time.perf_counter()
    y, _ = rnnkit.dynamic_rnn(cell, x, sequence_length=[4, 2], time_major=True, engine="fused")
    y.sum().backward()
    if kind == "lstm":  # the cells' own step kernels (rnnkit.platform.pointwise): no peepholes
        cell = rnnkit.LSTMCell(3, input_size=2).to(dtype)
    y, _ = rnnkit.dynamic_rnn(cell, x, time_major=True, engine="loop")
    y.sum().backward()
    return time.perf_counter() - t0


def run(args: argparse.Namespace) -> int:
    kinds = [k for k in args.kinds.split(",") if k]
    dtypes = [d for d in args.dtypes.split(",") if d]
    p = args._parser
    if bad_comma_list(p, "kinds", kinds, KINDS) or bad_comma_list(p, "dtypes", dtypes, DTYPES):
        return 2
    from rnnkit.engine.kernels import cache_location

    total = 0.0
    for dtype in dtypes:
        for kind in kinds:
            seconds = compile_kind(kind, dtype)
            total += seconds
            print(f"{kind:<16} {dtype:<8} {seconds:6.2f} s", flush=True)
    path, writable = cache_location()
    print(f"total {total:.2f} s; kernels cached in {path}")
    if not writable:
        print(
            "warning: that folder is not writable, so every process compiles again; "
            "set NUMBA_CACHE_DIR to a writable folder",
            file=sys.stderr,
        )
    return 0
