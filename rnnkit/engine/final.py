r"""Final state only: the engine's loop for a call whose outputs nobody reads (an evaluation that
fetches ``state`` from ``dynamic_rnn``, ``rnnkit.final_state``), without the ``(T, B, H)`` outputs,
the ``(T, B, G*H)`` input projection or anything saved for backward.

The full forward projects all steps at once into a ``(T, B, G*H)`` buffer and writes every step's
output into a ``(T, B, H)`` one: for B=10,000 rows of T=28 steps with H=150 units that is 168 MB of
outputs and, for an LSTM, 672 MB of gates. Here the rows are taken in blocks and the steps in chunks
of at most :data:`BLOCK_ELEMENTS` projected values; each chunk runs the same compiled step kernels
(:mod:`rnnkit.engine.kernels`) over the same arrays cut to the chunk, with the lengths shifted by the
chunk's first step, so a row freezes at its own last step as in the full run. Every buffer is one of
the thread's reused scratch buffers; a stacked cell runs all its layers chunk by chunk, the outputs of
one layer's chunk being the next layer's inputs.

Only calls that record no autograd graph and apply no dropout run here (backward needs what this
skips); :func:`rnnkit.engine.paths.final_route` decides, and ``rnnkit.engine.explain(...,
final_only=True)`` reports it.

Example::

    finals = run_final([cell], x_tbi, [cell.zero_state(B)], lengths)   # one state per layer
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnkit.engine import cpu, kinds
from rnnkit.engine import kernels as K
from rnnkit.engine.cpu import as_array as _np

__all__ = ["run_final", "blocks", "BLOCK_ELEMENTS", "calls"]

# Projected values (rows * steps * G*H) per chunk: 2 MiB of float32, so that one chunk's projection,
# outputs and state stay near the cache and every buffer is a reused scratch one.
BLOCK_ELEMENTS = 1 << 19

# How many calls ran here (tests and benchmarks read it to see which path a call took).
calls = 0


def blocks(B: int, gh: int, tmax: int) -> tuple[int, int]:
    """``(rows, steps)`` of one chunk: all rows when one step of them fits in
    :data:`BLOCK_ELEMENTS` projected values (``gh``: the widest layer's G*H), else blocks of rows;
    then as many steps as fit (at least one)."""
    rows = B if B * gh <= BLOCK_ELEMENTS else max(1, BLOCK_ELEMENTS // gh)
    steps = max(1, min(tmax, BLOCK_ELEMENTS // (rows * gh)))
    return rows, steps


class _Step:
    """One layer's chunk step: its weights as the kernels take them (prepared once per call from
    the kind's ``config`` and ``weights``), and :meth:`run`. Each kind's record names its subclass
    (``kinds.Kind.final_step``)."""

    def __init__(self, k: int, cell: Any, width: int, x: Tensor) -> None:
        self.k, self.H, self.kind = k, cell.num_units, kinds.of(cell)
        self.config = self.kind.config(cell)
        self.prepare([_np(w) for w in self.kind.weights(cell, x)], width)
        self.gh = self.wx.shape[1]

    def prepare(self, weights: list[np.ndarray], width: int) -> None:  # pragma: no cover
        raise NotImplementedError

    def run(self, xw: np.ndarray, state: list[np.ndarray], lens: np.ndarray, n: int) -> np.ndarray:
        """Steps ``[0, n)`` of a chunk from its projection ``xw (n, b, G*H)``, updating the rows'
        ``state`` (views, the kernels' ``c, h`` or ``h``) in place; returns the chunk's outputs
        ``(n, b, H)`` (scratch)."""
        raise NotImplementedError  # pragma: no cover

    def _buffer(self, name: str, *shape: int, like: np.ndarray) -> np.ndarray:
        return cpu._scratch(f"final_{name}{self.k}", *shape, like=like)


class RNNStep(_Step):
    """tanh and relu layers (``config``: ``(relu,)``)."""

    def prepare(self, weights: list[np.ndarray], width: int) -> None:
        self.wx, self.wh = cpu._split_kernel(weights[0], width)
        self.bx = weights[1]

    def run(self, xw, state, lens, n):
        tmp = self._buffer("tmp", xw.shape[1], self.H, like=xw)
        K.rnn_forward(xw, self.bx, self.wh, state[0], lens, n, self.config[0], tmp)
        return xw  # the kernel turns the projection into the outputs


class LSTMStep(_Step):
    """LSTM layers, with or without peepholes (zeros then: the kind's ``weights``)."""

    def prepare(self, weights: list[np.ndarray], width: int) -> None:
        self.wx, self.wh = cpu._split_kernel(weights[0], width)
        self.bx, self.wi, self.wf, self.wo = weights[1:5]

    def run(self, xw, state, lens, n):
        b, H = xw.shape[1], self.H
        out, cs = self._buffer("out", n, b, H, like=xw), self._buffer("cs", n, b, H, like=xw)
        c, h = state
        forget_bias = xw.dtype.type(self.config[0])
        K.lstm_forward(xw, self.bx, self.wh, c, h, cs, out, lens, n, forget_bias, self.wi,
                       self.wf, self.wo, self._buffer("tmp", b, 4 * H, like=xw))  # fmt: skip
        return out


class GRUStep(_Step):
    """TF1's GRU layers (the reset gate before the candidate's product)."""

    def prepare(self, weights: list[np.ndarray], width: int) -> None:
        self.wx, (self.wgh, self.wch) = cpu._gru_weights(weights[0], weights[1], width)
        self.bx = np.concatenate([weights[2], weights[3]])

    def run(self, xw, state, lens, n):
        b, H = xw.shape[1], self.H
        out = self._buffer("out", n, b, H, like=xw)
        K.gru_forward(
            xw, self.bx, self.wgh, self.wch, state[0], out, lens, n,
            self._buffer("tmp", b, 2 * H, like=xw), self._buffer("rh", b, H, like=xw),
            self._buffer("tmp1_", b, H, like=xw),
        )  # fmt: skip
        return out


class GRUResetAfterStep(GRUStep):
    """GRU layers with ``reset_after=True`` (one recurrent product per step)."""

    def prepare(self, weights: list[np.ndarray], width: int) -> None:
        super().prepare(weights, width)
        self.wh = np.concatenate([self.wgh, self.wch], 1)
        self.brec = weights[4]

    def run(self, xw, state, lens, n):
        b, H = xw.shape[1], self.H
        out, hcs = self._buffer("out", n, b, H, like=xw), self._buffer("hcs", n, b, H, like=xw)
        tmp = self._buffer("tmp", b, 3 * H, like=xw)
        K.grur_forward(xw, self.bx, self.wh, self.brec, state[0], hcs, out, lens, n, tmp)
        return out


def _project(x: np.ndarray, wx: np.ndarray, xw: np.ndarray) -> None:
    """``xw[t] = x[t] @ wx`` for a chunk ``x (n, b, I)`` as one product on the OpenBLAS of the step
    kernels (with their thread count): torch's matmul enters its OpenMP team once per chunk, which on a
    busy machine cost up to 50 ms a chunk where OpenBLAS took 1-2. A strided chunk (rows of
    batch-major inputs) is copied into a scratch buffer first."""
    n, b, width = x.shape
    if not x.flags.c_contiguous:
        dense = cpu._scratch("final_x", n, b, width, like=x)
        np.copyto(dense, x)
        x = dense
    K.gemm(x.reshape(n * b, width), wx, xw.reshape(n * b, -1))


def run_final(cells: list[Any], x: Tensor, states: list[Any], lengths: Tensor | None) -> list[Any]:
    """The final state of each layer of ``cells`` (built-in leaf cells, checked, no dropout) run in
    order over ``x (T, B, I)`` (a CPU tensor, any strides) from ``states`` (one per layer), as the
    engine's full forward computes them; nothing of size T is allocated."""
    global calls
    calls += 1
    T, B, _ = x.shape
    lengths_np, tmax = cpu.lengths_np(lengths, B, T)
    xn = cpu.as_array(x)  # a view: chunks are read from it in place
    dtype = xn.dtype
    layers, width = [], x.shape[2]
    for k, cell in enumerate(cells):
        layers.append(kinds.of(cell).final_step(k, cell, width, x))
        width = cell.num_units
    finals = []
    for layer, s in zip(layers, states):
        parts = layer.kind.unpack(s)
        finals.append([np.array(_np(p), dtype=dtype, order="C") for p in parts])  # copies
    rows, steps = blocks(B, max(layer.gh for layer in layers), tmax)
    for r0 in range(0, B, rows):
        r1 = min(B, r0 + rows)
        block_lengths = lengths_np[r0:r1]
        block_tmax = cpu.steps_run(block_lengths, tmax)
        block_states = [[part[r0:r1] for part in f] for f in finals]  # views: updated in place
        for t0 in range(0, block_tmax, steps):
            n = min(steps, block_tmax - t0)
            lens = block_lengths - t0
            inp = xn[t0 : t0 + n, r0:r1]
            for layer, state in zip(layers, block_states):
                xw = cpu._scratch(f"final_xw{layer.k}", n, r1 - r0, layer.gh, like=xn)
                cpu._plan_threads(r1 - r0, layer.H, layer.gh)
                _project(inp, layer.wx, xw)
                inp = layer.run(xw, state, lens, n)
    return [layer.kind.pack([torch.from_numpy(p) for p in f]) for layer, f in zip(layers, finals)]
