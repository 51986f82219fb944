r"""The CPU engine as ``torch.library`` operators (namespace ``rnnkit``), so that ``torch.compile``
and ``torch.export`` capture it as nodes of their graphs instead of tracing into numba.

Shapes: T time steps, B batch, I input width, H units. Each layer is one node:

=====================  ==========================================================================
operator               outputs (the last ones are what backward needs)
=====================  ==========================================================================
``rnnkit::rnn_layer``  ``out (T, B, H)``, ``h (B, H)``
``rnnkit::lstm_layer`` ``out``, ``c``, ``h``, ``gates (T, B, 4H)``, ``cs (T, B, H)``
``rnnkit::gru_layer``  ``out``, ``h``, ``gates (T, B, 3H)``
``rnnkit::grur_layer`` ``out``, ``h``, ``gates (T, B, 3H)``, ``hcs (T, B, H)``
=====================  ==========================================================================

Each has a fake implementation (shapes only, for tracing with symbolic T and B) and a registered
autograd formula whose backward is itself an operator (``rnnkit::*_layer_backward``), so a compiled
or exported graph holds the engine's kernels in both directions. The lengths are an int64 tensor
``(B,)`` or None (all rows run T steps); values outside ``[0, T]`` act as the nearest bound.

Eager calls take the ``autograd.Function`` path of :mod:`rnnkit.engine.autograd` instead (no operator
dispatch, and only ``max(lengths)`` steps of intermediates saved). Needs ``torch.library.custom_op``
(torch >= 2.4); on older torch ``rnnkit.engine`` runs without these operators.

Each kind's record (:mod:`rnnkit.engine.kinds`) names its operator; they all take ``(x, *state,
*weights, lengths, *config)``.

Example::

    out, h = torch.ops.rnnkit.rnn_layer(x, h0, cell.kernel, cell.bias, lengths, False)
"""

from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnkit.engine import cpu, kinds
from rnnkit.engine.autograd import FIRST_ORDER
from rnnkit.engine.cpu import as_array as _np
from rnnkit.engine.cpu import as_dense_array as _npc
from rnnkit.engine.layers import contiguous_state

__all__ = ["run_layers", "rnn_layer", "lstm_layer", "gru_layer", "grur_layer"]


def _needs(ctx: Any, x_index: int, first_weight: int, end: int) -> tuple[bool, bool]:
    """Whether the inputs ``x`` and any of the weights ``[first_weight, end)`` need gradients."""
    n = ctx.needs_input_grad
    return n[x_index], any(n[first_weight:end])


_op = torch.library.custom_op


def _lengths(lengths: Tensor | None, x: Tensor) -> tuple[np.ndarray, int]:
    return cpu.lengths_np(lengths, x.shape[1], x.shape[0])


def _t(a: np.ndarray) -> Tensor:
    return torch.from_numpy(a)


def _grad_or_empty(g: Tensor | None, like: Tensor) -> Tensor:
    """Operators cannot return None: a gradient not asked for comes back as an empty tensor."""
    return like.new_empty(0) if g is None else g


def _fake_grad(like: Tensor, needed: bool, *shape: Any) -> Tensor:
    """What a backward operator returns for a gradient: ``like``'s shape (or ``shape``), else empty;
    contiguous, as the real kernels return them (``empty_like`` would keep the strides of a view,
    e.g. batch-major inputs seen time-major, and torch.compile then rejects the real gradient)."""
    if not needed:
        return like.new_empty(0)
    return like.new_empty(shape) if shape else like.new_empty(like.shape)


def _refuse_double_backward(op: Any) -> None:
    """Backward operators are not differentiable: say so if create_graph=True reaches one."""

    def backward(ctx: Any, *grads: Any) -> Any:
        raise RuntimeError(FIRST_ORDER)

    op.register_autograd(backward, setup_context=lambda ctx, inputs, output: None)


# ----------------------------------------------------------------------------- tanh / relu
@_op("rnnkit::rnn_layer", mutates_args=(), device_types="cpu")
def rnn_layer(
    x: Tensor, h0: Tensor, kernel: Tensor, bias: Tensor, lengths: Tensor | None, relu: bool
) -> tuple[Tensor, Tensor]:
    """One tanh (or relu) layer: ``x (T, B, I)``, ``h0 (B, H)`` -> ``out (T, B, H)``, ``h (B, H)``."""
    ln, tmax = _lengths(lengths, x)
    out, h = cpu.rnn_forward(_npc(x), _np(h0), _np(kernel), _np(bias), ln, tmax, relu)
    return _t(out), _t(h)


@rnn_layer.register_fake
def _(x, h0, kernel, bias, lengths, relu):
    return x.new_empty(x.shape[0], x.shape[1], h0.shape[1]), h0.new_empty(h0.shape)


@_op("rnnkit::rnn_layer_backward", mutates_args=(), device_types="cpu")
def rnn_layer_backward(
    grad_out: Tensor, grad_h: Tensor, x: Tensor, h0: Tensor, kernel: Tensor, out: Tensor,
    lengths: Tensor | None, relu: bool, need_x: bool, need_w: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
    """``(dx, dh0, dkernel, dbias)``; ``dx`` (``need_x``) and the weights' (``need_w``) else empty."""
    ln, tmax = _lengths(lengths, x)
    dx, dh, dk, db = cpu.rnn_backward(
        _npc(x), _np(h0), _np(kernel), _np(out), grad_out, grad_h, ln, tmax, relu, need_x, need_w
    )
    e = _grad_or_empty
    return e(dx, x), dh, e(dk, kernel), e(db, kernel)


@rnn_layer_backward.register_fake
def _(grad_out, grad_h, x, h0, kernel, out, lengths, relu, need_x, need_w):
    f, w = _fake_grad, need_w
    return f(x, need_x), h0.new_empty(h0.shape), f(kernel, w), f(kernel, w, kernel.shape[1])


def _rnn_setup(ctx, inputs, output):
    x, h0, kernel, _bias, lengths, relu = inputs
    ctx.relu = relu
    ctx.save_for_backward(x, h0, kernel, output[0], lengths)


def _rnn_backward(ctx, grad_out, grad_h):
    x, h0, kernel, out, lengths = ctx.saved_tensors
    need_x, need_w = _needs(ctx, 0, 2, 4)
    dx, dh, dk, db = rnn_layer_backward(
        grad_out, grad_h, x, h0, kernel, out, lengths, ctx.relu, need_x, need_w
    )
    return (dx if need_x else None), dh, *((dk, db) if need_w else (None, None)), None, None


rnn_layer.register_autograd(_rnn_backward, setup_context=_rnn_setup)
_refuse_double_backward(rnn_layer_backward)


# ----------------------------------------------------------------------------- LSTM
@_op("rnnkit::lstm_layer", mutates_args=(), device_types="cpu")
def lstm_layer(
    x: Tensor, c0: Tensor, h0: Tensor, kernel: Tensor, bias: Tensor, w_i: Tensor, w_f: Tensor,
    w_o: Tensor, lengths: Tensor | None, forget_bias: float, peepholes: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
    """One LSTM layer (TF1 gate order i, j, f, o; peephole weights zeros when ``peepholes`` is
    False) -> ``out (T, B, H)``, ``c``, ``h (B, H)``, ``gates (T, B, 4H)``, ``cs (T, B, H)``."""
    ln, tmax = _lengths(lengths, x)
    out, c, h, gates, cs = cpu.lstm_forward(
        _npc(x), _np(c0), _np(h0), _np(kernel), _np(bias), _np(w_i), _np(w_f), _np(w_o), ln,
        tmax, forget_bias, x.shape[0],
    )  # fmt: skip
    return _t(out), _t(c), _t(h), _t(gates), _t(cs)


@lstm_layer.register_fake
def _(x, c0, h0, kernel, bias, w_i, w_f, w_o, lengths, forget_bias, peepholes):
    T, B, H = x.shape[0], x.shape[1], h0.shape[1]
    e = x.new_empty
    return e(T, B, H), c0.new_empty(c0.shape), h0.new_empty(h0.shape), e(T, B, 4 * H), e(T, B, H)


@_op("rnnkit::lstm_layer_backward", mutates_args=(), device_types="cpu")
def lstm_layer_backward(
    grad_out: Tensor, grad_c: Tensor, grad_h: Tensor, x: Tensor, c0: Tensor, h0: Tensor,
    kernel: Tensor, w_i: Tensor, w_f: Tensor, w_o: Tensor, gates: Tensor, cs: Tensor, out: Tensor,
    lengths: Tensor | None, peepholes: bool, need_x: bool, need_w: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
    """``(dx, dc0, dh0, dkernel, dbias, dpeep (3, H): w_i, w_f, w_o)``, empty where not asked for."""
    ln, tmax = _lengths(lengths, x)
    saved = (_npc(x), _np(c0), _np(h0), _np(kernel), _np(w_i), _np(w_f), _np(w_o), _np(gates),
             _np(cs), _np(out))  # fmt: skip
    dx, dc, dh, dk, db, dp = cpu.lstm_backward(
        *saved, grad_out, grad_c, grad_h, ln, tmax, peepholes, need_x, need_w
    )
    e = _grad_or_empty
    return e(dx, x), dc, dh, e(dk, kernel), e(db, kernel), e(dp, kernel)


@lstm_layer_backward.register_fake
def _(grad_out, grad_c, grad_h, x, c0, h0, kernel, w_i, w_f, w_o, gates, cs, out, lengths,
      peepholes, need_x, need_w):  # fmt: skip
    H = h0.shape[1]
    return (
        _fake_grad(x, need_x), c0.new_empty(c0.shape), h0.new_empty(h0.shape),
        _fake_grad(kernel, need_w), _fake_grad(kernel, need_w, kernel.shape[1]),
        kernel.new_empty(3, H) if peepholes else kernel.new_empty(0),
    )  # fmt: skip


def _lstm_setup(ctx, inputs, output):
    x, c0, h0, kernel, _bias, w_i, w_f, w_o, lengths, _fb, peepholes = inputs
    out, _c, _h, gates, cs = output
    ctx.peepholes = peepholes
    ctx.save_for_backward(x, c0, h0, kernel, w_i, w_f, w_o, gates, cs, out, lengths)


def _lstm_backward(ctx, grad_out, grad_c, grad_h, _grad_gates, _grad_cs):
    x, c0, h0, kernel, w_i, w_f, w_o, gates, cs, out, lengths = ctx.saved_tensors
    need_x, need_w = _needs(ctx, 0, 3, 5)
    dx, dc, dh, dk, db, dp = lstm_layer_backward(
        grad_out, grad_c, grad_h, x, c0, h0, kernel, w_i, w_f, w_o, gates, cs, out, lengths,
        ctx.peepholes, need_x, need_w,
    )  # fmt: skip
    peep = tuple(dp.unbind(0)) if ctx.peepholes else (None, None, None)
    weights = (dk, db) if need_w else (None, None)
    return (dx if need_x else None), dc, dh, *weights, *peep, None, None, None


lstm_layer.register_autograd(_lstm_backward, setup_context=_lstm_setup)
_refuse_double_backward(lstm_layer_backward)


# ----------------------------------------------------------------------------- GRU (TF1)
@_op("rnnkit::gru_layer", mutates_args=(), device_types="cpu")
def gru_layer(
    x: Tensor, h0: Tensor, gates_kernel: Tensor, candidate_kernel: Tensor, gates_bias: Tensor,
    candidate_bias: Tensor, lengths: Tensor | None,
) -> tuple[Tensor, Tensor, Tensor]:  # fmt: skip
    """One TF1 GRU layer (reset before the candidate's matmul) -> ``out``, ``h``, ``gates``."""
    ln, tmax = _lengths(lengths, x)
    out, h, gates = cpu.gru_forward(
        _npc(x), _np(h0), _np(gates_kernel), _np(candidate_kernel), _np(gates_bias),
        _np(candidate_bias), ln, tmax, x.shape[0],
    )  # fmt: skip
    return _t(out), _t(h), _t(gates)


@gru_layer.register_fake
def _(x, h0, gates_kernel, candidate_kernel, gates_bias, candidate_bias, lengths):
    T, B, H = x.shape[0], x.shape[1], h0.shape[1]
    return x.new_empty(T, B, H), h0.new_empty(h0.shape), x.new_empty(T, B, 3 * H)


@_op("rnnkit::gru_layer_backward", mutates_args=(), device_types="cpu")
def gru_layer_backward(
    grad_out: Tensor, grad_h: Tensor, x: Tensor, h0: Tensor, gates_kernel: Tensor,
    candidate_kernel: Tensor, gates: Tensor, out: Tensor, lengths: Tensor | None, need_x: bool,
    need_w: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
    """``(dx, dh0, d gates_kernel, d candidate_kernel, d gates_bias, d candidate_bias)``."""
    ln, tmax = _lengths(lengths, x)
    dx, dh, dgk, dck, dgb, dcb = cpu.gru_backward(
        _npc(x), _np(h0), _np(gates_kernel), _np(candidate_kernel), _np(gates), _np(out),
        grad_out, grad_h, ln, tmax, need_x, need_w,
    )  # fmt: skip
    e, k = _grad_or_empty, gates_kernel
    return e(dx, x), dh, e(dgk, k), e(dck, k), e(dgb, k), e(dcb, k)


@gru_layer_backward.register_fake
def _(grad_out, grad_h, x, h0, gates_kernel, candidate_kernel, gates, out, lengths, need_x,
      need_w):  # fmt: skip
    f, w = _fake_grad, need_w
    gk, ck = gates_kernel, candidate_kernel
    return (f(x, need_x), h0.new_empty(h0.shape), f(gk, w), f(ck, w), f(gk, w, gk.shape[1]),
            f(ck, w, ck.shape[1]))  # fmt: skip


def _gru_setup(ctx, inputs, output):
    x, h0, gk, ck, _gb, _cb, lengths = inputs
    out, _h, gates = output
    ctx.save_for_backward(x, h0, gk, ck, gates, out, lengths)


def _gru_backward(ctx, grad_out, grad_h, _grad_gates):
    need_x, need_w = _needs(ctx, 0, 2, 6)
    dx, dh, *dw = gru_layer_backward(grad_out, grad_h, *ctx.saved_tensors, need_x, need_w)
    return (dx if need_x else None), dh, *(dw if need_w else (None,) * 4), None


gru_layer.register_autograd(_gru_backward, setup_context=_gru_setup)
_refuse_double_backward(gru_layer_backward)


# ----------------------------------------------------------------------------- GRU (reset after)
@_op("rnnkit::grur_layer", mutates_args=(), device_types="cpu")
def grur_layer(
    x: Tensor, h0: Tensor, gates_kernel: Tensor, candidate_kernel: Tensor, gates_bias: Tensor,
    candidate_bias: Tensor, candidate_recurrent_bias: Tensor, lengths: Tensor | None,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
    """One GRU layer with ``reset_after=True`` -> ``out``, ``h``, ``gates``, ``hcs``."""
    ln, tmax = _lengths(lengths, x)
    out, h, gates, hcs = cpu.grur_forward(
        _npc(x), _np(h0), _np(gates_kernel), _np(candidate_kernel), _np(gates_bias),
        _np(candidate_bias), _np(candidate_recurrent_bias), ln, tmax, x.shape[0],
    )  # fmt: skip
    return _t(out), _t(h), _t(gates), _t(hcs)


@grur_layer.register_fake
def _(x, h0, gates_kernel, candidate_kernel, gates_bias, candidate_bias, brec, lengths):
    T, B, H = x.shape[0], x.shape[1], h0.shape[1]
    e = x.new_empty
    return e(T, B, H), h0.new_empty(h0.shape), e(T, B, 3 * H), e(T, B, H)


@_op("rnnkit::grur_layer_backward", mutates_args=(), device_types="cpu")
def grur_layer_backward(
    grad_out: Tensor, grad_h: Tensor, x: Tensor, h0: Tensor, gates_kernel: Tensor,
    candidate_kernel: Tensor, gates: Tensor, hcs: Tensor, out: Tensor, lengths: Tensor | None,
    need_x: bool, need_w: bool,
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
    """``(dx, dh0, d gates_kernel, d candidate_kernel, d gates_bias, d candidate_bias,
    d candidate_recurrent_bias)``."""
    ln, tmax = _lengths(lengths, x)
    dx, dh, dgk, dck, dgb, dcb, dbr = cpu.grur_backward(
        _npc(x), _np(h0), _np(gates_kernel), _np(candidate_kernel), _np(gates), _np(hcs),
        _np(out), grad_out, grad_h, ln, tmax, need_x, need_w,
    )  # fmt: skip
    e, k = _grad_or_empty, gates_kernel
    return e(dx, x), dh, e(dgk, k), e(dck, k), e(dgb, k), e(dcb, k), e(dbr, k)


@grur_layer_backward.register_fake
def _(grad_out, grad_h, x, h0, gates_kernel, candidate_kernel, gates, hcs, out, lengths, need_x,
      need_w):  # fmt: skip
    f, w = _fake_grad, need_w
    gk, ck = gates_kernel, candidate_kernel
    return (f(x, need_x), h0.new_empty(h0.shape), f(gk, w), f(ck, w), f(gk, w, gk.shape[1]),
            f(ck, w, ck.shape[1]), f(ck, w, ck.shape[1]))  # fmt: skip


def _grur_setup(ctx, inputs, output):
    x, h0, gk, ck, _gb, _cb, _brec, lengths = inputs
    out, _h, gates, hcs = output
    ctx.save_for_backward(x, h0, gk, ck, gates, hcs, out, lengths)


def _grur_backward(ctx, grad_out, grad_h, _grad_gates, _grad_hcs):
    need_x, need_w = _needs(ctx, 0, 2, 7)
    dx, dh, *dw = grur_layer_backward(grad_out, grad_h, *ctx.saved_tensors, need_x, need_w)
    return (dx if need_x else None), dh, *(dw if need_w else (None,) * 5), None


grur_layer.register_autograd(_grur_backward, setup_context=_grur_setup)
_refuse_double_backward(grur_layer_backward)


def _op_layer(cell: Any, x: Tensor, state: Any, lengths: Tensor | None):
    """One layer through its kind's operator (traceable by torch.compile and torch.export)."""
    kind = kinds.of(cell)
    r = kind.operator(x, *kind.unpack(state), *kind.weights(cell, x), lengths, *kind.config(cell))
    return r[0], kind.pack(r[1 : 1 + kind.state_parts])


def run_layers(
    cells: list[Any], x: Tensor, states: list[Any], lengths: Tensor | None
) -> tuple[Tensor, list[Any]]:
    """Run the checked layer cells one after another on ``x (T, B, I)`` through the operators
    (traceable by torch.compile and torch.export). Returns ``(outputs (T, B, H), [final states])``."""
    finals = []
    for layer, s in zip(cells, states):
        x, s = _op_layer(layer, x, contiguous_state(s), lengths)
        finals.append(s)
    return x, finals
