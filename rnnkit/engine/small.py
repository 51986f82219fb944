r"""Calls without the general path's overhead: ``dynamic_rnn(cell, x)`` on a small built-in cell runs as
ONE compiled kernel each way (:mod:`rnnkit.engine.kernels_small`) behind a short dispatch.

At seed size (B=4, T=2, I=3, H=5) the work is a few hundred multiply-adds and a call's time is all
overhead: the general path's validation, layer planning and numpy/BLAS calls cost 25 us forward and
100 us forward+backward, as much as torch's own ``nn.RNN`` (measured in docs/bench_engine.md). This
path takes the call only when every check of the general path is known to pass, in a few attribute
reads: the inputs a plain CPU float tensor of rank 3 with the cell's dtype and width, the cell an
exact built-in leaf type (``BasicRNNCell`` tanh/relu, ``BasicLSTMCell``, ``LSTMCell`` without
peepholes, ``GRUCell`` either way) already built for that width with parameters of the built
shapes, no ``sequence_length``, no ``initial_state``, no ``dtype`` other than the inputs' own (the
runner checks those three), nothing tracing or transforming, and at most :data:`MAX_MACS`
multiply-adds. Any other call returns ``None`` here and takes the general path, which validates
everything and raises the documented errors.

The same checks are the general path's for an LSTM layer that runs on torch's oneDNN LSTM
(:mod:`rnnkit.engine.onednn`): such a layer past :data:`MAX_MACS` (float32, at least
``onednn.MIN_MACS`` multiply-adds) goes from here straight to the oneDNN node, whole or in halves by
the general path's rule, without that path's validation and layer planning.

Example::

    result = small.call(cell, x, time_major=False)   # None: use the general path
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnkit._validation import _is_compiling
from rnnkit.cells import LSTMStateTuple
from rnnkit.engine import autograd, kinds, onednn, paths
from rnnkit.engine import kernels_small as K
from rnnkit.engine.autograd import first_order_only
from rnnkit.engine.layers import built_shapes

__all__ = ["call", "takes", "MAX_MACS"]

# Largest T*B*H*(I+H)*G (G gate blocks) that runs here. The kernels are plain loops without BLAS, so
# past this the general path's BLAS products win. Measured on the 2-core machine, forward+backward us,
# this path vs the general one: seed (4,2,3,5) tanh 50 vs 104, LSTM 54 vs 133, GRU 68 vs 138;
# (B,T,I,H) = (8,10,8,16) LSTM (123K) 152 vs 188; (4,50,8,16) tanh (77K) 119 vs 160, LSTM (307K)
# 303 vs 221; (16,20,16,32) tanh (492K) 382 vs 193.
MAX_MACS = 1 << 17

_FLOATS = (torch.float32, torch.float64)
_PLAIN = (Tensor, torch.nn.Parameter)
ONEDNN = "onednn"  # what takes() says of a layer that goes straight to the oneDNN node


def takes(cell: Any, x: Any, time_major: bool) -> tuple[kinds.Kind, tuple, str | None] | None:
    """``(kind, parameters, None)`` when this path runs ``dynamic_rnn(cell, x,
    time_major=time_major)`` in its own kernels, ``(kind, parameters, ONEDNN)`` when it sends the
    layer straight to the oneDNN node, else ``None`` (the general path's). The runner has already
    checked that there are no lengths, no initial state and no dtype conversion."""
    if type(x) is not Tensor or x.dim() != 3 or x.dtype not in _FLOATS or not x.is_cpu:
        return None
    kind = kinds.of(cell)
    if kind is None or not kind.small or cell._input_size != x.shape[2]:
        return None
    own = cell._parameters
    params = tuple([own.get(n) for n in kind.params])
    for p in params:  # missing: swapped out of the module's parameters (the general path reads
        if p is None or type(p) not in _PLAIN or p.dtype != x.dtype or not p.is_cpu:  # attributes)
            return None
    T, B = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
    H, I = cell.num_units, x.shape[2]
    macs = T * B * H * (I + H) * kind.gate_blocks
    if T == 0 or B == 0 or (macs > MAX_MACS and not _onednn_takes(cell, x, time_major, T)):
        return None
    if _is_compiling() or torch.jit.is_tracing() or paths.transformed():
        return None
    shapes = built_shapes(cell, kind)
    for name, p in zip(kind.params, params):  # the kernels index by these: else the checked path
        if p.shape != shapes[name] or not p.is_contiguous():
            return None
    return kind, params, (ONEDNN if macs > MAX_MACS else None)


def records(x: Tensor, params: tuple) -> bool:
    """Whether a call this path takes records an autograd graph (nothing transforms here)."""
    return torch.is_grad_enabled() and (x.requires_grad or any([p.requires_grad for p in params]))


def call(cell: Any, x: Any, time_major: bool, onednn_too: bool = True) -> tuple[Tensor, Any] | None:
    """``dynamic_rnn(cell, x, time_major=time_major)`` when this path takes it, else ``None``
    (also for a layer it would send to the oneDNN node when not ``onednn_too``)."""
    taken = takes(cell, x, time_major)
    if taken is None:
        return None
    kind, params, route = taken
    graph = records(x, params)
    if route is ONEDNN:
        return _onednn_layer(cell, x, time_major, graph) if onednn_too else None
    spec = (kind, kind.config(cell), time_major, cell.num_units)
    if graph:
        out = _SmallFn.apply(spec, x, *params)
    else:
        out = _SmallFn.forward(None, spec, x, *params)
    return out[0], kind.pack(out[1:])


def _onednn_takes(cell: Any, x: Tensor, time_major: bool, T: int) -> bool:
    """Whether a layer past MAX_MACS is one the general path runs on torch's oneDNN LSTM: its own
    rule (:func:`rnnkit.engine.onednn.takes`), with no lengths (every row runs every step)."""
    return onednn.takes(cell, x if time_major else x.transpose(0, 1), None, T)


def _onednn_layer(cell: Any, x: Tensor, time_major: bool, graph: bool):
    """The general path's oneDNN LSTM layer (``autograd._OneDNNLSTMFn``, whole or in halves) from
    zero state, without its planning: at S size (B=32, T=100, I=32, H=64) that planning and the
    validation cost 55 us of a 0.9 ms forward, about twice that right after a torch
    forward+backward (docs/bench_engine.md)."""
    xt = x if time_major else x.transpose(0, 1)
    T, B = xt.shape[0], xt.shape[1]
    zeros = x.new_zeros(B, cell.num_units)  # c0 and h0
    cut = paths.onednn_cut(cell, xt, T, graph)
    # the general path's own layer call (no lengths: on this node every row runs T steps)
    out, state = autograd.eager_layer(cell, xt, LSTMStateTuple(zeros, zeros), None, T, graph, cut)
    return (out if time_major else out.transpose(0, 1)), state


def _tm(a: np.ndarray, time_major: bool) -> np.ndarray:
    """A ``(T, B, ...)`` view of an array in the caller's layout."""
    return a if time_major else a.swapaxes(0, 1)


# Each kind's kernels of this path (named by its record, rnnkit.engine.kinds): forward(xt, ps,
# config, ot, h) fills the outputs ``ot (T, B, H)`` and the final ``h (B, H)`` and returns the final
# state's arrays (``(h,)`` or ``(c, h)``) and what backward needs; backward(xt, ps, ot, extra, dout, finals, config,
# need_x, dxt, grads) fills ``dxt`` (when ``need_x``) and the parameters' gradients ``grads``.
def _rnn_forward(xt, ps, config, ot, h):
    K.rnn_forward(xt, ps[0], ps[1], config[0], ot, h)
    return (h,), ()


def _rnn_backward(xt, ps, ot, extra, dout, finals, config, need_x, dxt, grads):
    K.rnn_backward(xt, ps[0], ot, dout, finals[0], config[0], need_x, dxt, *grads)


def _lstm_forward(xt, ps, config, ot, h):
    (T, B, H), dt = ot.shape, h.dtype
    c = np.empty((B, H), dtype=dt)
    gates, cs = np.empty((T, B, 4 * H), dtype=dt), np.empty((T, B, H), dtype=dt)
    K.lstm_forward(xt, ps[0], ps[1], dt.type(config[0]), ot, c, h, gates, cs)
    return (c, h), (gates, cs)


def _lstm_backward(xt, ps, ot, extra, dout, finals, config, need_x, dxt, grads):
    K.lstm_backward(xt, ps[0], ot, *extra, dout, *finals, need_x, dxt, *grads)


def _gru_forward(xt, ps, config, ot, h):
    T, B, H = ot.shape
    gates = np.empty((T, B, 3 * H), dtype=h.dtype)
    K.gru_forward(xt, *ps, ot, h, gates)
    return (h,), (gates,)


def _gru_backward(xt, ps, ot, extra, dout, finals, config, need_x, dxt, grads):
    K.gru_backward(xt, ps[0], ps[1], ot, *extra, dout, finals[0], need_x, dxt, *grads)


def _gru_reset_after_forward(xt, ps, config, ot, h):
    T, B, H = ot.shape
    gates = np.empty((T, B, 4 * H), dtype=h.dtype)
    K.grur_forward(xt, *ps, ot, h, gates)
    return (h,), (gates,)


def _gru_reset_after_backward(xt, ps, ot, extra, dout, finals, config, need_x, dxt, grads):
    K.grur_backward(xt, ps[0], ps[1], ot, *extra, dout, finals[0], need_x, dxt, *grads)


RNN_KERNELS = (_rnn_forward, _rnn_backward)
LSTM_KERNELS = (_lstm_forward, _lstm_backward)
GRU_KERNELS = (_gru_forward, _gru_backward)
GRU_RESET_AFTER_KERNELS = (_gru_reset_after_forward, _gru_reset_after_backward)


class _SmallFn(torch.autograd.Function):
    """One small layer from zero state: ``(outputs, *final state)`` in the caller's layout;
    ``spec``: ``(kind record, its config, time_major, H)``."""

    @staticmethod
    def forward(ctx, spec, x, *params):  # type: ignore[override]
        kind, config, time_major, H = spec
        xn = x.numpy(force=True)
        xt = _tm(xn, time_major)
        T, B, _ = xt.shape
        ps = [p.numpy(force=True) for p in params]
        dt = xn.dtype
        out = np.empty((T, B, H) if time_major else (B, T, H), dtype=dt)
        ot = _tm(out, time_major)
        h = np.empty((B, H), dtype=dt)
        state, extra = kind.small_kernels[0](xt, ps, config, ot, h)
        finals = [torch.from_numpy(a) for a in state]
        out_t = torch.from_numpy(out)
        if ctx is not None:  # recording: what backward needs
            ctx.spec, ctx.extra = spec, extra
            ctx.save_for_backward(x, *params, out_t)
        return (out_t, *finals)

    @staticmethod
    @first_order_only
    def backward(ctx, grad_out, *grad_finals):  # type: ignore[override]
        kind, config, time_major, _ = ctx.spec
        saved = ctx.saved_tensors
        x, params, out = saved[0], saved[1:-1], saved[-1]
        xt = _tm(x.numpy(force=True), time_major)
        ot = _tm(out.numpy(force=True), time_major)
        dout = _tm(grad_out.numpy(force=True), time_major)
        ps = [p.numpy(force=True) for p in params]
        need_x = ctx.needs_input_grad[1]
        dx = np.zeros(x.shape if need_x else (1, 1, 1), dtype=xt.dtype)  # in the inputs' layout
        grads = [np.zeros_like(p) for p in ps]
        finals = [g.numpy(force=True) for g in grad_finals]
        dxt = _tm(dx, time_major or not need_x)
        kind.small_kernels[1](xt, ps, ot, ctx.extra, dout, finals, config, need_x, dxt, grads)
        dx_t = torch.from_numpy(dx) if need_x else None
        return (None, dx_t, *(torch.from_numpy(g) for g in grads))
