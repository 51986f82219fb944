r"""Which way the fused engine runs a call, in one place: the rules, which the runners,
:mod:`rnnkit.engine.small` and :mod:`rnnkit.engine.autograd` call while they run, and which
:func:`rnnkit.engine.plan.choose` applies to a call without running it, saying why
(``rnnkit.engine.explain`` prints its answer).

A ``dynamic_rnn`` call goes, in this order:

1. the **small path** (:mod:`rnnkit.engine.small`): no ``sequence_length``, ``initial_state`` or
   converting ``dtype``, a built-in leaf cell whose kind the short dispatch runs, a plain CPU float
   tensor, nothing tracing; at most ``small.MAX_MACS`` multiply-adds run as one compiled kernel each
   way, and an LSTM layer torch's oneDNN LSTM takes (:func:`rnnkit.engine.onednn.takes`) goes from
   there straight to the oneDNN node (whole or halves, as below);
2. the **plain loop** when the engine does not run the cell (``engine.supports``: a user-written
   cell, a dropped state, a dtype other than float32/float64, an active DropoutWrapper on CUDA or
   while tracing, numba missing), and for a call of one time step that nothing traces
   (:func:`one_step`);
3. else by device and mode: **torch operators** (``rnnkit::*_layer``) while ``torch.compile`` or
   ``torch.export`` traces, ONNX's operators under ``torch.onnx.export``, torch's cuDNN RNN on
   CUDA, and in eager CPU calls the **general path**, layer by layer (:func:`layer_route`):
   torch's oneDNN LSTM (one node, whole or in two halves of the batch at once, :func:`onednn_cut`),
   the engine's own loop in two halves of the batch at once (:func:`splits`), or the engine's loop.
   A bidirectional RNN's two directions run at once where :func:`pairs` says so.

A call that wants the final state only (``rnnkit.final_state``, a ``tf.compat.v1`` run fetching no
outputs) takes the small path where it would anyway (its outputs are small), and otherwise, in eager
CPU calls, the engine's final-state loop (:mod:`rnnkit.engine.final`) whenever
:func:`final_route` allows it; else the call runs as above and its outputs are dropped.

Example::

    route = layer_route(cell, x_tbi, lengths, tmax)   # ONEDNN, HALVES or LOOP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnkit._validation import tracing, transformed
from rnnkit.engine import cpu, kinds, onednn, team
from rnnkit.platform import memory

__all__ = [
    "layer_route",
    "splits",
    "onednn_cut",
    "pairs",
    "final_route",
    "records",
    "one_step",
    "tries_engine",
    "transformed",
    "SPLIT_MIN_MACS",
    "PAIR_MIN_MACS",
    "ONEDNN_SPLIT_MIN_TBH",
    "ONEDNN_SPLIT_MAX_STEP",
]

# How one layer of the general path runs (layer_route)
ONEDNN = "onednn"  # torch's oneDNN LSTM (whole or halves: onednn_cut)
HALVES = "halves"  # the engine's loop, two halves of the batch at once on torch's threads
LOOP = "loop"  # the engine's loop, whole


def one_step(engine: str, x: Tensor) -> bool:
    """Whether an ``engine='auto'`` call of time-major ``x`` runs the plain loop for having one time
    step: with no recurrence to fuse, the engine's per-call setup (its weight layout, buffers and
    checks) only costs. A sampling loop's two-layer GRU step of one row: 172 us fused, 141 on the
    loop. A traced call keeps the engine's operators, which take any length."""
    return engine == "auto" and x.shape[0] == 1 and not tracing(x)


def tries_engine(engine: str, x: Tensor) -> bool:
    """Whether a runner offers a call of time-major ``x`` to the engine: neither ``engine='loop'``
    nor a one-step call (:func:`one_step`)."""
    return engine != "loop" and not one_step(engine, x)


def records(grad: bool, cell: Any, x: Tensor, state: Any) -> bool:
    """Whether a layer records an autograd graph: ``grad`` (grad mode on or a transform active, see
    :func:`transformed`) and a transform is active or anything of the layer requires grad."""
    return grad and (
        transformed()
        or x.requires_grad
        or any(p is not None and p.requires_grad for p in cell._parameters.values())
        or any(s.requires_grad for s in (state if isinstance(state, tuple) else (state,)))
    )


# A layer whose T*B*H*G*H is at least SPLIT_MIN_MACS runs as two halves of its batch at once; the two
# directions of a bidirectional layer run at once from PAIR_MIN_MACS each. Only while the layer's
# per-step product B*H*G*H is below cpu.PARALLEL_MIN_MACS: from there one layer already runs its
# products on several BLAS threads (measured: at L splitting was level or slower), and a
# multi-threaded OpenBLAS must not be entered from two threads at once. Measured in
# docs/bench_engine.md (below SPLIT_MIN_MACS the hand-off costs more than it saves).
SPLIT_MIN_MACS = 3 << 22
PAIR_MIN_MACS = 3 << 21


def fits(cell: Any, B: int, tmax: int, least: int) -> bool:
    """Enough work for two threads, and a per-step product that one layer runs on one thread."""
    step = B * cell.num_units * cell.num_units
    if tmax * step * 4 < least:  # first: the one check small calls need
        return False
    step *= kinds.of(cell).gate_blocks
    return step < cpu.PARALLEL_MIN_MACS and tmax * step >= least


# A training LSTM layer on torch's oneDNN LSTM runs as two halves of its batch at once (each half's
# oneDNN on one thread) when its T*B*H is at least ONEDNN_SPLIT_MIN_TBH and its per-step product
# B*H*4H below ONEDNN_SPLIT_MAX_STEP. Measured (docs/bench_engine.md): halves are 1.1-2.2x faster from
# T*B*H ~ 2^19 on, where oneDNN's training run allocates enough fresh memory per call that this VM's
# page faults dominate (halves fault on half as much each, at once); level or slower below it, for
# forward-only runs and from a per-step product of 2^25. With freed memory kept
# (rnnkit.platform.memory) the faults go and the whole layer is faster (M: 86 against 112 ms).
ONEDNN_SPLIT_MIN_TBH = 1 << 19
ONEDNN_SPLIT_MAX_STEP = 1 << 25


def splits(cell: Any, x: Tensor, tmax: int) -> bool:
    """Whether a layer on the engine's own loop runs as two halves of its batch at once."""
    B = x.shape[1]
    if B < 2 or not fits(cell, B, tmax, SPLIT_MIN_MACS) or transformed():
        return False
    return team.available()


def onednn_cut(cell: Any, x: Tensor, tmax: int, graph: bool) -> int:
    """Where a layer on torch's oneDNN LSTM splits its rows into two halves run at once (0: whole);
    ``graph``: the layer records an autograd graph."""
    B, H = x.shape[1], cell.num_units
    if B < 2 or not graph or tmax * B * H < ONEDNN_SPLIT_MIN_TBH or memory.retaining():
        return 0  # (with freed memory kept, the whole layer was faster: see ONEDNN_SPLIT_MIN_TBH)
    if B * H * H * 4 >= ONEDNN_SPLIT_MAX_STEP or not team.available():
        return 0
    return B // 2


def layer_route(cell: Any, x: Tensor, lengths: np.ndarray | None, tmax: int) -> str:
    """How the general path runs one layer over ``x (T, B, I)``: :data:`ONEDNN`, :data:`HALVES` or
    :data:`LOOP` (on oneDNN, whole or halves is :func:`onednn_cut`'s, once it is known whether the
    layer records a graph)."""
    if onednn.takes(cell, x, lengths, tmax) and not transformed():
        return ONEDNN
    if splits(cell, x, tmax):
        return HALVES
    return LOOP


def pairs(la: Any, lb: Any, x_a: Tensor, x_b: Tensor, lengths: np.ndarray, tmax: int) -> bool:
    """Whether two directions' layers (:class:`~rnnkit.engine.layers.Layer`) run at once: no dropout
    around them, neither on torch's LSTM, enough work each."""
    if la.before or la.after or lb.before or lb.after or transformed():
        return False
    if onednn.takes(la.cell, x_a, lengths, tmax) or onednn.takes(lb.cell, x_b, lengths, tmax):
        return False
    B = x_a.shape[1]
    fit = fits(la.cell, B, tmax, PAIR_MIN_MACS) and fits(lb.cell, B, tmax, PAIR_MIN_MACS)
    return fit and team.available()


def final_route(layers: list[Any], x: Tensor, states: list[Any]) -> str | None:
    """Why the layers (:class:`~rnnkit.engine.layers.Layer` entries) of an eager CPU call that wants
    its final state only cannot run on the final-state loop (:mod:`rnnkit.engine.final`), or None
    when they can. The loop keeps no step's intermediates, so a layer that records an autograd graph
    needs the full forward; dropout masks are drawn for the whole sequence, so an active
    DropoutWrapper does too. Every other call takes the loop, LSTM layers that torch's oneDNN LSTM
    would run included: oneDNN's layer returns all steps' outputs (168 MB at B=10,000, T=28,
    H=150) and its workspace, and on the busy 2-core machine the two were level within the noise
    there (a compat evaluation's first call 2.0-2.4 s against 2.1-3.3 s, later calls 0.68-1.45 s
    against 0.92-1.37 s, docs/benchmarks.md), while oneDNN on blocks of rows, which would bound its
    outputs, measured 2-3x slower (a weight reordering and a primitive per block)."""
    grad = torch.is_grad_enabled() or transformed()
    if transformed():
        return "a torch.func transform or forward-mode AD is active: the full forward runs"
    if any(layer.before or layer.after for layer in layers):
        return "an active DropoutWrapper: its masks cover the whole sequence, the full forward runs"
    for k, (layer, s) in enumerate(zip(layers, states)):
        if records(grad, layer.cell, x, s):
            return (
                f"layer {k} records an autograd graph (grad mode on and something requires grad): "
                "backward needs every step's intermediates, the full forward runs"
            )
    return None
