r"""LSTM layers on torch's own fused CPU LSTM (``torch.lstm``, which runs oneDNN's RNN primitive),
for the sizes where it is faster than the engine's compiled loop.

Why: on a CPU where torch's matrix multiplies run on MKL's slower path (AMD) and torch's OpenMP
workers keep spinning for milliseconds after each parallel op, the engine's loop gets one core for its
per-step products; oneDNN's LSTM runs inside torch's own thread pool with its own AVX-512 kernels and
uses both. Measured on the 2-core machine (below and docs/bench_engine.md): at B=128, T=28, I=28,
H=128 forward+backward 12.7 ms on the loop, 6.4 ms on torch's LSTM. Small layers stay on the loop,
which is faster there (torch's call costs more than their work).

Same math, TF1's: a ``BasicLSTMCell``/``LSTMCell`` (no peepholes) kernel ``(I + H, 4H)`` holds the
gates in TF's order ``i, j, f, o`` with ``forget_bias`` added to ``f`` at run time; torch's LSTM wants
``w_ih (4H, I)``, ``w_hh (4H, H)`` in the order ``i, f, g, o``. The reordering is a few torch ops on
the cell's own parameters, so gradients reach them through autograd. Rows that all run the same number
of steps only: ``sequence_length`` with different values keeps TF1's per-row freezing on the loop.

Example::

    cell = BasicLSTMCell(128, input_size=28)
    if onednn.takes(cell, x, lengths_np, tmax):          # x (T, B, I) float32
        out, state = onednn.run(cell, x, cell.zero_state(x.shape[1]), tmax)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnkit.cells import LSTMStateTuple
from rnnkit.engine.layers import cell_kind

__all__ = ["takes", "run", "MIN_MACS"]

# A layer goes to torch's LSTM when its T*B*H*4H multiply-adds are at least MIN_MACS; below, torch's
# per-call overhead costs more than the loop. Measured on the 2-core machine (medians, ms, loop vs
# torch's LSTM, forward+backward / forward-only), (T, B, I, H) =
#   (20, 16, 16, 64)     0.48 vs 0.61  / 0.15 vs 0.19    (10, 8, 16, 32)      0.19 vs 0.38 / 0.06 vs 0.11
#   (20, 32, 32, 64)     0.88 vs 0.82  / 0.28 vs 0.26    (100, 32, 32, 64)    3.7 vs 2.5   / 1.2 vs 0.71
#   (28, 128, 28, 128)   12.7 vs 6.4   / 3.8 vs 1.7      (100, 64, 256, 512)  206 vs 206   / 64 vs 50
#   (200, 64, 128, 256)  126-174 vs 140-144 / 38 vs 28-30 (the loop's time there varies most)
#   (100, 64, 512, 1024) 719-836 vs 671-692 / 250 vs 199
MIN_MACS = 1 << 23

_order: dict[tuple[int, torch.device], Tensor] = {}


def _gate_order(H: int, device: torch.device) -> Tensor:
    """Column indices taking TF's ``i, j, f, o`` blocks to torch's ``i, f, g(=j), o``."""
    key = (H, device)
    idx = _order.get(key)
    if idx is None:
        r = torch.arange(H, device=device)
        idx = torch.cat([r, r + 2 * H, r + H, r + 3 * H])
        _order[key] = idx
    return idx


def available() -> bool:
    return torch.backends.mkldnn.is_available() and bool(torch.backends.mkldnn.enabled)


def takes(cell: Any, x: Tensor, lengths: np.ndarray, tmax: int) -> bool:
    """Whether the layer ``cell`` over ``x (T, B, I)`` with these ``lengths`` runs here."""
    H = cell.num_units
    if tmax * x.shape[1] * H * 4 * H < MIN_MACS:  # first: the one check small calls need
        return False
    if cell_kind(cell) != "lstm" or x.dtype != torch.float32 or x.device.type != "cpu":
        return False
    if int(lengths.min()) < tmax:  # rows of different lengths: TF1's freezing
        return False
    return available()


def run(cell: Any, x: Tensor, state: LSTMStateTuple, tmax: int) -> tuple[Tensor, LSTMStateTuple]:
    """``(outputs (T, B, H), LSTMStateTuple(c, h))`` of one LSTM layer run for ``tmax`` steps (the
    outputs of steps past ``tmax`` are zeros, as on the loop)."""
    I, H = x.shape[2], cell.num_units
    idx = _gate_order(H, x.device)
    kernel = cell.kernel.index_select(1, idx)  # (I + H, 4H), torch's gate order
    bias = cell.bias.index_select(0, idx)
    forget = torch.zeros(4 * H, dtype=bias.dtype, device=bias.device)
    forget[H : 2 * H] = float(cell.forget_bias)
    weights = [kernel[:I].t(), kernel[I:].t(), bias + forget, torch.zeros_like(forget)]
    c0, h0 = state
    steps = x if tmax == x.shape[0] else x[:tmax]
    out, h, c = torch.lstm(
        steps, (h0.unsqueeze(0), c0.unsqueeze(0)), weights, True, 1, 0.0, False, False, False
    )
    if tmax < x.shape[0]:
        out = torch.cat([out, out.new_zeros(x.shape[0] - tmax, *out.shape[1:])])
    return out, LSTMStateTuple(c[0], h[0])
