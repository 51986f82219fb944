r"""The CPU engine in eager autograd: one ``torch.autograd.Function`` per cell kind around the numpy
forward and backward of :mod:`rnnkit.engine.cpu`, one autograd node per layer.

Shapes: T time steps, B batch, I input width, H units. Forward saves only the ``max(lengths)`` steps
of intermediates that backward needs; backward refuses ``create_graph=True`` (the engine's numpy
backward is not differentiable) with an error that points at ``engine='loop'``.

This is the path of eager calls; under ``torch.compile``/``torch.export`` the same math runs as the
torch operators of :mod:`rnnkit.engine.library` (their dispatch costs more per call: measured at seed
size with ``tools/bench_deploy.py --eager``).

Example::

    out, finals = run_layers([cell], x_tbi, [cell.zero_state(B)], lengths)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.autograd import forward_ad

from rnnkit.cells import LSTMStateTuple
from rnnkit.engine import cpu, onednn
from rnnkit.engine.layers import Layer, cell_kind, contiguous_state

__all__ = ["run_layers", "peepholes", "FIRST_ORDER"]

FIRST_ORDER = (
    "rnnkit's fused engine computes first derivatives only; for higher-order gradients "
    "(create_graph=True) run dynamic_rnn with engine='loop'"
)


def _np(t: Tensor) -> np.ndarray:
    return t.numpy(force=True)  # a view for CPU tensors (detach's cost without a new tensor)


def _npc(t: Tensor) -> np.ndarray:
    """A C-contiguous numpy view (or copy) of ``t``: strided inputs are accepted."""
    return np.ascontiguousarray(t.numpy(force=True))


def _first_order_only(backward: Any) -> Any:
    """Refuse ``create_graph=True``: the numpy backward is not differentiable, so second derivatives
    would silently miss the engine's part. Raise instead, pointing at the plain loop."""

    def wrapper(ctx: Any, *grads: Any) -> Any:
        if torch.is_grad_enabled():  # the autograd engine enables grad mode only for create_graph
            raise RuntimeError(FIRST_ORDER)
        return backward(ctx, *grads)

    return wrapper


def _save_x(x: Tensor, xn: np.ndarray) -> Tensor:
    """What forward saves of the inputs: ``x`` itself when it is C-contiguous (so autograd still sees
    in-place changes to it), else the private contiguous copy the projection used."""
    return x if x.is_contiguous() else torch.from_numpy(xn)


def _needs(ctx: Any, x_index: int, first_weight: int, end: int | None = None) -> tuple[bool, bool]:
    n = ctx.needs_input_grad
    return n[x_index], any(n[first_weight:end])


class _RNNFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, relu, x, h0, kernel, bias, lengths, tmax):  # type: ignore[override]
        xn = _npc(x)
        out, h = cpu.rnn_forward(xn, _np(h0), _np(kernel), _np(bias), lengths, tmax, relu)
        ctx.relu, ctx.lengths, ctx.tmax = relu, lengths, tmax
        out_t = torch.from_numpy(out)
        ctx.save_for_backward(_save_x(x, xn), h0, kernel, out_t)
        return out_t, torch.from_numpy(h)

    @staticmethod
    @_first_order_only
    def backward(ctx, grad_out, grad_h):  # type: ignore[override]
        x, h0, kern, out = (_np(t) for t in ctx.saved_tensors)
        dx, dh, dk, db = cpu.rnn_backward(
            x, h0, kern, out, grad_out, grad_h, ctx.lengths, ctx.tmax, ctx.relu, *_needs(ctx, 1, 3)
        )
        return None, dx, dh, dk, db, None, None


class _LSTMFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, cfg, x, c0, h0, kernel, bias, wi, wf, wo, lengths, tmax):  # type: ignore[override]
        forget_bias, peep = cfg
        xn = _npc(x)
        out, c, h, gates, cs = cpu.lstm_forward(
            xn, _np(c0), _np(h0), _np(kernel), _np(bias), _np(wi), _np(wf), _np(wo), lengths,
            tmax, forget_bias, tmax,
        )  # fmt: skip
        ctx.peep, ctx.lengths, ctx.tmax = peep, lengths, tmax
        out_t = torch.from_numpy(out)
        ctx.save_for_backward(
            _save_x(x, xn), c0, h0, kernel, wi, wf, wo, torch.from_numpy(gates),
            torch.from_numpy(cs), out_t,
        )  # fmt: skip
        return out_t, torch.from_numpy(c), torch.from_numpy(h)

    @staticmethod
    @_first_order_only
    def backward(ctx, grad_out, grad_c, grad_h):  # type: ignore[override]
        saved = [_np(t) for t in ctx.saved_tensors]
        dx, dc, dh, dk, db, dp = cpu.lstm_backward(
            *saved, grad_out, grad_c, grad_h, ctx.lengths, ctx.tmax, ctx.peep, *_needs(ctx, 1, 4)
        )
        dwi, dwf, dwo = (dp[0], dp[1], dp[2]) if dp is not None else (None, None, None)
        return None, dx, dc, dh, dk, db, dwi, dwf, dwo, None, None


class _GRUFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, _cfg, x, h0, gk, ck, gb, cb, lengths, tmax):  # type: ignore[override]
        xn = _npc(x)
        out, h, gates = cpu.gru_forward(
            xn, _np(h0), _np(gk), _np(ck), _np(gb), _np(cb), lengths, tmax, tmax
        )
        ctx.lengths, ctx.tmax = lengths, tmax
        out_t = torch.from_numpy(out)
        ctx.save_for_backward(_save_x(x, xn), h0, gk, ck, torch.from_numpy(gates), out_t)
        return out_t, torch.from_numpy(h)

    @staticmethod
    @_first_order_only
    def backward(ctx, grad_out, grad_h):  # type: ignore[override]
        saved = [_np(t) for t in ctx.saved_tensors]
        grads = cpu.gru_backward(
            *saved, grad_out, grad_h, ctx.lengths, ctx.tmax, *_needs(ctx, 1, 3)
        )
        return None, *grads, None, None


class _GRURFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, _cfg, x, h0, gk, ck, gb, cb, brec, lengths, tmax):  # type: ignore[override]
        xn = _npc(x)
        out, h, gates, hcs = cpu.grur_forward(
            xn, _np(h0), _np(gk), _np(ck), _np(gb), _np(cb), _np(brec), lengths, tmax, tmax
        )
        ctx.lengths, ctx.tmax = lengths, tmax
        out_t = torch.from_numpy(out)
        ctx.save_for_backward(
            _save_x(x, xn), h0, gk, ck, torch.from_numpy(gates), torch.from_numpy(hcs), out_t
        )
        return out_t, torch.from_numpy(h)

    @staticmethod
    @_first_order_only
    def backward(ctx, grad_out, grad_h):  # type: ignore[override]
        saved = [_np(t) for t in ctx.saved_tensors]
        grads = cpu.grur_backward(
            *saved, grad_out, grad_h, ctx.lengths, ctx.tmax, *_needs(ctx, 1, 3)
        )
        return None, *grads, None, None


def peepholes(cell: Any, x: Tensor, kind: str) -> tuple[Tensor, Tensor, Tensor]:
    """``(w_i, w_f, w_o)``: the peephole weights, or one zeros ``(H,)`` thrice without peepholes."""
    if kind == "lstmp":
        return cell.w_i_diag, cell.w_f_diag, cell.w_o_diag
    z = x.new_zeros(cell.num_units)
    return z, z, z


_functorch_active = getattr(torch._C, "_are_functorch_transforms_active", lambda: False)


def _transformed() -> bool:
    """Whether forward-mode AD or a torch.func transform (vmap, grad, jvp) is active."""
    return getattr(forward_ad, "_current_level", -1) >= 0 or _functorch_active()


class _NoGraph:
    """The ``ctx`` of a forward run outside autograd (nothing requires grad, or grad mode is off):
    what forward would save for backward is dropped."""

    def save_for_backward(self, *tensors: Tensor) -> None:
        pass


def _applier(fn: type[torch.autograd.Function], graph: bool) -> Any:
    """``fn.apply`` when the call records a graph; else ``fn.forward`` with a throwaway ctx, which
    computes the same values without autograd's per-call bookkeeping (seed-size calls: measured in
    ``docs/bench_engine.md``)."""
    if graph:
        return fn.apply
    return lambda *args: fn.forward(_NoGraph(), *args)


def _records(grad: bool, cell: Any, x: Tensor, state: Any) -> bool:
    """Whether a layer records an autograd graph: ``grad`` (grad mode on or a transform active, see
    :func:`_transformed`) and a transform is active or anything of the layer requires grad."""
    return grad and (
        _transformed()
        or x.requires_grad
        or any(p is not None and p.requires_grad for p in cell._parameters.values())
        or any(s.requires_grad for s in (state if isinstance(state, tuple) else (state,)))
    )


def _eager_layer(cell: Any, x: Tensor, state: Any, lengths: np.ndarray, tmax: int, grad: bool):
    """One layer through the autograd.Functions: ``x (T, B, I)`` -> ``(outputs (T, B, H), state)``.
    ``grad``: whether grad mode is on or a transform is active (see :func:`_transformed`). The layer
    goes through ``apply`` when ``grad`` and (a transform is active or anything of it requires grad);
    otherwise its forward runs outside autograd with the same values."""
    kind = cell_kind(cell)
    graph = _records(grad, cell, x, state)
    if kind in ("tanh", "relu"):
        apply = _applier(_RNNFn, graph)
        return apply(kind == "relu", x, state, cell.kernel, cell.bias, lengths, tmax)
    if kind in ("lstm", "lstmp"):
        c0, h0 = state
        cfg = (float(cell.forget_bias), kind == "lstmp")
        wi, wf, wo = peepholes(cell, x, kind)
        apply = _applier(_LSTMFn, graph)
        out, c, h = apply(cfg, x, c0, h0, cell.kernel, cell.bias, wi, wf, wo, lengths, tmax)
        return out, LSTMStateTuple(c, h)
    params = (cell.gates_kernel, cell.candidate_kernel, cell.gates_bias, cell.candidate_bias)
    if kind == "gru":
        return _applier(_GRUFn, graph)(None, x, state, *params, lengths, tmax)
    apply = _applier(_GRURFn, graph)
    return apply(None, x, state, *params, cell.candidate_recurrent_bias, lengths, tmax)


def run_layers(
    layers: list[Any], x: Tensor, states: list[Any], lengths: Tensor | None
) -> tuple[Tensor, list[Any]]:
    """Run the checked layers one after another on ``x (T, B, I)`` (a CPU tensor, any strides):
    cells, or :class:`~rnnkit.engine.layers.Layer` entries (a cell with the dropout around it, from
    :func:`~rnnkit.engine.layers.layer_plan`). Returns ``(outputs (T, B, H), [final state per
    layer])``."""
    T, B, _ = x.shape
    lengths_np, tmax = cpu.lengths_np(lengths, B, T)
    finals = []
    # Forward-mode AD (a dual level is open) and torch.func transforms also go through apply, which
    # refuses them loudly (the Functions define no jvp nor setup_context) instead of dropping the
    # tangents or failing on a wrapped tensor's missing storage.
    grad = torch.is_grad_enabled() or _transformed()
    for layer, s in zip(layers, states):
        if not isinstance(layer, Layer):
            layer = Layer(layer)
        for wrapper in layer.before:  # input dropout: one mask per step (or per sequence)
            x = wrapper.drop_sequence("input", x)
        s = contiguous_state(s)
        if not _transformed() and onednn.takes(layer.cell, x, lengths_np, tmax):
            x, s = onednn.run(layer.cell, x, s, tmax)
        else:
            x, s = _eager_layer(layer.cell, x, s, lengths_np, tmax, grad)
        for wrapper in layer.after:  # output dropout: outputs only, the recurrence keeps its state
            x = wrapper.drop_sequence("output", x)
        finals.append(s)
    return x, finals
