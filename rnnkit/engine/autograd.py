r"""The CPU engine in eager autograd: one ``torch.autograd.Function`` per cell kind around the numpy
forward and backward of :mod:`rnnkit.engine.cpu`, one autograd node per layer. Each kind's record
(:mod:`rnnkit.engine.kinds`) names its Function; all take ``(config, x, *state, *weights, lengths,
tmax)`` and return ``(outputs, *final state)``. Which way a layer runs (its own loop, two halves of
the batch at once, torch's oneDNN LSTM) is :mod:`rnnkit.engine.paths`' choice.

Shapes: T time steps, B batch, I input width, H units. Forward saves only the ``max(lengths)`` steps
of intermediates that backward needs; backward refuses ``create_graph=True`` (the engine's numpy
backward is not differentiable) with an error that points at ``engine='loop'``.

This is the path of eager calls; under ``torch.compile``/``torch.export`` the same math runs as the
torch operators of :mod:`rnnkit.engine.library` (their dispatch costs more per call: measured at seed
size with ``benchmarks/bench_deploy.py --eager``).

Example::

    out, finals = run_layers([cell], x_tbi, [cell.zero_state(B)], lengths)
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnkit.cells import LSTMStateTuple
from rnnkit.engine import cpu, kinds, onednn, paths, team
from rnnkit.engine.cpu import as_array as _np
from rnnkit.engine.cpu import as_dense_array as _npc
from rnnkit.engine.layers import Layer, contiguous_state

__all__ = [
    "run_layers",
    "run_pair",
    "eager_layer",
    "first_order_only",
    "FIRST_ORDER",
    "RNNFunction",
    "LSTMFunction",
    "GRUFunction",
    "GRUResetAfterFunction",
]

FIRST_ORDER = (
    "rnnkit's fused engine computes first derivatives only; for higher-order gradients "
    "(create_graph=True) run dynamic_rnn with engine='loop'"
)


def first_order_only(backward: Any) -> Any:
    """Refuse ``create_graph=True``: the numpy backward is not differentiable, so second derivatives
    would silently miss the engine's part. Raise instead, pointing at the plain loop."""

    @functools.wraps(backward)
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


class RNNFunction(torch.autograd.Function):
    """tanh and relu layers; ``config``: ``(relu,)``."""

    @staticmethod
    def forward(ctx, config, x, h0, kernel, bias, lengths, tmax):  # type: ignore[override]
        ctx.set_materialize_grads(False)  # unread outputs: no zeros tensor (cpu._dout)
        (relu,) = config
        xn = _npc(x)
        out, h = cpu.rnn_forward(xn, _np(h0), _np(kernel), _np(bias), lengths, tmax, relu)
        ctx.relu, ctx.lengths, ctx.tmax = relu, lengths, tmax
        out_t = torch.from_numpy(out)
        ctx.save_for_backward(_save_x(x, xn), h0, kernel, out_t)
        return out_t, torch.from_numpy(h)

    @staticmethod
    @first_order_only
    def backward(ctx, grad_out, grad_h):  # type: ignore[override]
        x, h0, kern, out = (_np(t) for t in ctx.saved_tensors)
        dx, dh, dk, db = cpu.rnn_backward(
            x, h0, kern, out, grad_out, grad_h, ctx.lengths, ctx.tmax, ctx.relu, *_needs(ctx, 1, 3)
        )
        return None, dx, dh, dk, db, None, None


class LSTMFunction(torch.autograd.Function):
    """LSTM layers, with or without peepholes; ``config``: ``(forget_bias, peepholes)``."""

    @staticmethod
    def forward(ctx, cfg, x, c0, h0, kernel, bias, wi, wf, wo, lengths, tmax):  # type: ignore[override]
        ctx.set_materialize_grads(False)  # unread outputs: no zeros tensor (cpu._dout)
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
    @first_order_only
    def backward(ctx, grad_out, grad_c, grad_h):  # type: ignore[override]
        saved = [_np(t) for t in ctx.saved_tensors]
        dx, dc, dh, dk, db, dp = cpu.lstm_backward(
            *saved, grad_out, grad_c, grad_h, ctx.lengths, ctx.tmax, ctx.peep, *_needs(ctx, 1, 4)
        )
        dwi, dwf, dwo = (dp[0], dp[1], dp[2]) if dp is not None else (None, None, None)
        return None, dx, dc, dh, dk, db, dwi, dwf, dwo, None, None


class GRUFunction(torch.autograd.Function):
    """TF1's GRU layers (the reset gate before the candidate's product); ``config``: ``()``."""

    @staticmethod
    def forward(ctx, _cfg, x, h0, gk, ck, gb, cb, lengths, tmax):  # type: ignore[override]
        ctx.set_materialize_grads(False)  # unread outputs: no zeros tensor (cpu._dout)
        xn = _npc(x)
        out, h, gates = cpu.gru_forward(
            xn, _np(h0), _np(gk), _np(ck), _np(gb), _np(cb), lengths, tmax, tmax
        )
        ctx.lengths, ctx.tmax = lengths, tmax
        out_t = torch.from_numpy(out)
        ctx.save_for_backward(_save_x(x, xn), h0, gk, ck, torch.from_numpy(gates), out_t)
        return out_t, torch.from_numpy(h)

    @staticmethod
    @first_order_only
    def backward(ctx, grad_out, grad_h):  # type: ignore[override]
        saved = [_np(t) for t in ctx.saved_tensors]
        grads = cpu.gru_backward(
            *saved, grad_out, grad_h, ctx.lengths, ctx.tmax, *_needs(ctx, 1, 3)
        )
        return None, *grads, None, None


class GRUResetAfterFunction(torch.autograd.Function):
    """GRU layers with ``reset_after=True``; ``config``: ``()``."""

    @staticmethod
    def forward(ctx, _cfg, x, h0, gk, ck, gb, cb, brec, lengths, tmax):  # type: ignore[override]
        ctx.set_materialize_grads(False)  # unread outputs: no zeros tensor (cpu._dout)
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
    @first_order_only
    def backward(ctx, grad_out, grad_h):  # type: ignore[override]
        saved = [_np(t) for t in ctx.saved_tensors]
        grads = cpu.grur_backward(
            *saved, grad_out, grad_h, ctx.lengths, ctx.tmax, *_needs(ctx, 1, 3)
        )
        return None, *grads, None, None


class _OneDNNLSTMFn(torch.autograd.Function):
    """An LSTM layer (no peepholes, one length) on torch's oneDNN LSTM (:mod:`rnnkit.engine.onednn`):
    TF1's kernel layout on both sides, the gate reordering done outside autograd. With ``cut > 0``
    rows ``[:cut]`` and ``[cut:]`` run as two oneDNN calls at once on the team's two threads, forward
    and backward, inside this one node (one weight reordering, one kernel gradient). First
    derivatives run oneDNN's own backward; second derivatives (``create_graph=True``) recompute the
    layer with differentiable torch ops (``onednn.reference``)."""

    @staticmethod
    def forward(ctx, forget_bias, cut, x, c0_in, h0_in, kernel, bias, tmax):  # type: ignore[override]
        train = not isinstance(ctx, _NoGraph)
        weights = onednn.torch_weights(kernel, bias, forget_bias, keep=train)
        parts = _row_parts(cut, x[:tmax].detach(), c0_in.detach(), h0_in.detach())
        runs = _each(onednn.layer_forward, [(*part, weights, train) for part in parts])
        out, h, c = (_join([r[i] for r in runs], 1 if i == 0 else 0) for i in range(3))
        if train:
            ctx.forget_bias, ctx.tmax, ctx.cut = forget_bias, tmax, cut
            # Never the outputs themselves on ctx (a whole layer's out, h, c are what it returns):
            # output -> this node -> ctx -> output is a cycle the garbage collector cannot see, and
            # every call's buffers leaked (9 MB a call at S). They go through save_for_backward;
            # ctx keeps the halves' own outputs (not returned) and the workspaces.
            ctx.extra = (
                parts,
                weights,
                [r[3] for r in runs],
                [r[:3] for r in runs] if cut else None,
            )
            ctx.save_for_backward(x, c0_in, h0_in, kernel, bias, out, h, c)
        return onednn.pad_steps(out, x.shape[0]), c, h

    @staticmethod
    def backward(ctx, grad_out, grad_c, grad_h):  # type: ignore[override]
        x = ctx.saved_tensors[0]  # (and the version checks of everything saved)
        if torch.is_grad_enabled():  # create_graph=True: differentiate the differentiable twin
            return (None, None, *_recompute_grads(ctx, (grad_out, grad_c, grad_h)), None)
        parts, weights, workspaces, halves = ctx.extra
        runs = [(*r, w) for r, w in zip(halves or [ctx.saved_tensors[5:]], workspaces)]
        grads = _row_parts(ctx.cut, grad_out[: ctx.tmax], grad_c, grad_h)
        done = _each(
            onednn.layer_backward,
            [(*part, weights, *run, g[0], g[2], g[1]) for part, run, g in zip(parts, runs, grads)],
        )
        dx, dc0, dh0 = (
            _join([d[0] for d in done], 1),
            _join([d[6] for d in done], 0),
            _join([d[5] for d in done], 0),
        )
        dw_ih, dw_hh, db_ih = (_total([d[i] for d in done]) for i in (1, 2, 3))
        dk, db = onednn.kernel_grads(dw_ih, dw_hh, db_ih)
        return None, None, onednn.pad_steps(dx, x.shape[0]), dc0, dh0, dk, db, None


def _row_parts(cut: int, steps: Tensor, c: Tensor, h: Tensor) -> list[tuple[Tensor, ...]]:
    """``[(steps (T, b, .), c (b, .), h (b, .))]``, dense, for all rows (``cut == 0``) or for rows
    ``[:cut]`` and ``[cut:]`` (oneDNN reads dense tensors)."""
    if not cut:
        return [(_dense_copy(steps), c.contiguous(), h.contiguous())]
    top, bottom = slice(0, cut), slice(cut, None)
    return [(_dense_copy(steps[:, r]), c[r].contiguous(), h[r].contiguous()) for r in (top, bottom)]


def _dense_copy(t: Tensor) -> Tensor:
    """``t`` if it is contiguous, else a copy in one of the engine's pooled buffers."""
    if t.is_contiguous():
        return t
    return onednn.dense(tuple(t.shape)).copy_(t)


def _each(fn: Any, calls: list[tuple]) -> list[Any]:
    """``[fn(*args) for args in calls]``; two calls run at once (see :func:`_both`)."""
    if len(calls) == 1:
        return [fn(*calls[0])]
    return list(_both(fn, calls[0], fn, calls[1]))


def _join(parts: list[Tensor], dim: int) -> Tensor:
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim)


def _total(parts: list[Tensor]) -> Tensor:
    """The halves' weight gradients summed (no copy for a whole layer)."""
    return parts[0] if len(parts) == 1 else parts[0].add_(parts[1])


def _recompute_grads(ctx: Any, grads: tuple) -> list[Tensor | None]:
    """Gradients of ``x, c0, h0, kernel, bias`` through ``onednn.reference`` (create_graph)."""
    x, c0, h0, kernel, bias = ctx.saved_tensors[:5]
    inputs = (x, c0, h0, kernel, bias)
    wrt = [t for t in inputs if t.requires_grad]
    with torch.enable_grad():
        outs = onednn.reference(x, c0, h0, kernel, bias, ctx.forget_bias, ctx.tmax)
        found = iter(torch.autograd.grad(outs, wrt, grads, create_graph=True, allow_unused=True))
    return [next(found) if t.requires_grad else None for t in inputs]


class _NoGraph:
    """The ``ctx`` of a forward run outside autograd (nothing requires grad, or grad mode is off):
    what forward would save for backward is dropped."""

    def save_for_backward(self, *tensors: Tensor) -> None:
        pass

    def set_materialize_grads(self, value: bool) -> None:
        pass


def _applier(fn: type[torch.autograd.Function], graph: bool) -> Any:
    """``fn.apply`` when the call records a graph; else ``fn.forward`` with a throwaway ctx, which
    computes the same values without autograd's per-call bookkeeping (seed-size calls: measured in
    ``docs/bench_engine.md``)."""
    if graph:
        return fn.apply
    return lambda *args: fn.forward(_NoGraph(), *args)


def _layer_call(
    cell: Any, x: Tensor, state: Any, lengths: np.ndarray, tmax: int, cut: int | None = None
) -> tuple:
    """``(Function, args, finish)`` for one layer: ``finish(Function outputs)`` gives
    ``(outputs (T, B, H), state)``. ``cut``: ``None``, or the layer runs on torch's oneDNN LSTM
    (:func:`rnnkit.engine.onednn.takes`), in two halves of rows from ``cut`` when it is not 0."""
    if cut is not None:
        c0, h0 = state
        args = (float(cell.forget_bias), cut, x, c0, h0, cell.kernel, cell.bias, tmax)
        return _OneDNNLSTMFn, args, lambda r: (r[0], LSTMStateTuple(r[1], r[2]))
    kind = kinds.of(cell)
    args = (kind.config(cell), x, *kind.unpack(state), *kind.weights(cell, x), lengths, tmax)
    return kind.function, args, lambda r: (r[0], kind.pack(r[1:]))


def eager_layer(
    cell: Any, x: Tensor, state: Any, lengths: np.ndarray, tmax: int, graph: bool, cut: int | None
):
    """One layer through the autograd.Functions: ``x (T, B, I)`` -> ``(outputs (T, B, H), state)``.
    The layer goes through ``apply`` when it records a graph (``graph``, see
    :func:`rnnkit.engine.paths.records`); otherwise its forward runs outside autograd with the same
    values. ``cut``: see
    :func:`_layer_call`."""
    fn, args, finish = _layer_call(cell, x, state, lengths, tmax, cut)
    return finish(_applier(fn, graph)(*args))


# ------------------------------------------------------------------------------------ two at once
# Two independent layer runs -- the two halves of a batch (its rows are independent sequences), or
# the two directions of a bidirectional RNN -- as ONE autograd node whose forward and backward run the
# two at once on torch's own OpenMP threads (rnnkit.engine.team), each with single-threaded BLAS
# (rnnkit.engine.cpu.paired). Where that is unavailable they run one after the other.
def _keep_scratch(keep: dict) -> None:
    """On the team's worker: its scratch buffers outlive the callback's thread state."""
    cpu._SCRATCH.bufs = keep.setdefault("scratch", {})


team.on_worker(_keep_scratch)


def _both(fa: Any, args_a: tuple, fb: Any, args_b: tuple) -> tuple[Any, Any]:
    """``(fa(*args_a), fb(*args_b))`` at once, each with one BLAS thread."""
    with cpu.paired():
        return team.run_both(lambda: fa(*args_a), lambda: fb(*args_b))


class _SubCtx:
    """The ``ctx`` one part's Function sees inside :class:`_PairFn`: its saved tensors go through
    the pair's own ``save_for_backward`` (so autograd still checks them for in-place changes)."""

    needs_input_grad: tuple[bool, ...]
    saved_tensors: tuple[Tensor, ...]

    def save_for_backward(self, *tensors: Tensor) -> None:
        self.saved_tensors = tensors

    def set_materialize_grads(self, value: bool) -> None:
        pass  # the pair's own node hands its parts materialized gradients


def _unwrapped(backward: Any) -> Any:
    """A Function's backward without the first-order guard (the pair checks once, on its thread)."""
    return getattr(backward, "__wrapped__", backward)


class _PairFn(torch.autograd.Function):
    """Two layers' Functions as one autograd node whose forward and backward run them at once."""

    @staticmethod
    def forward(ctx, fa, fb, n_a, *args):  # type: ignore[override]
        ca, cb = _SubCtx(), _SubCtx()
        oa, ob = _both(fa.forward, (ca, *args[:n_a]), fb.forward, (cb, *args[n_a:]))
        ctx.save_for_backward(*ca.saved_tensors, *cb.saved_tensors)
        ctx.k_a, ctx.n_a, ctx.out_a = len(ca.saved_tensors), n_a, len(oa)
        del ca.saved_tensors, cb.saved_tensors
        ctx.fa, ctx.fb, ctx.ca, ctx.cb = fa, fb, ca, cb
        return (*oa, *ob)

    @staticmethod
    @first_order_only
    def backward(ctx, *grads):  # type: ignore[override]
        saved, needs = ctx.saved_tensors, ctx.needs_input_grad[3:]
        ca, cb, k, n = ctx.ca, ctx.cb, ctx.k_a, ctx.n_a
        ca.saved_tensors, cb.saved_tensors = saved[:k], saved[k:]
        ca.needs_input_grad, cb.needs_input_grad = needs[:n], needs[n:]
        ba, bb = _unwrapped(ctx.fa.backward), _unwrapped(ctx.fb.backward)
        ga, gb = _both(ba, (ca, *grads[: ctx.out_a]), bb, (cb, *grads[ctx.out_a :]))
        del ca.saved_tensors, cb.saved_tensors
        return None, None, None, *ga, *gb


def _pair_layers(a: tuple, b: tuple, grad: bool) -> tuple[Any, Any]:
    """Layers ``a`` and ``b`` (each ``(cell, x, state, lengths, tmax)``) at once."""
    fa, args_a, finish_a = _layer_call(*a)
    fb, args_b, finish_b = _layer_call(*b)
    if not (paths.records(grad, *a[:3]) or paths.records(grad, *b[:3])):
        ra, rb = _both(fa.forward, (_NoGraph(), *args_a), fb.forward, (_NoGraph(), *args_b))
        return finish_a(ra), finish_b(rb)
    out = _PairFn.apply(fa, fb, len(args_a), *args_a, *args_b)
    cut = len(out) - (1 + kinds.of(b[0]).state_parts)
    return finish_a(out[:cut]), finish_b(out[cut:])


def _rows(state: Any, r: slice) -> Any:
    return tuple(s[r] for s in state) if isinstance(state, tuple) else state[r]


def _split_layer(cell: Any, x: Tensor, state: Any, lengths: np.ndarray, grad: bool):
    """One layer as two halves of its batch at once: ``(outputs (T, B, H), state)``."""
    top, bottom = slice(0, x.shape[1] // 2), slice(x.shape[1] // 2, None)
    halves = []
    for r in (top, bottom):
        rows = lengths[r]
        halves.append((cell, x[:, r], _rows(state, r), rows, cpu.steps_run(rows, x.shape[0])))
    (y_a, s_a), (y_b, s_b) = _pair_layers(*halves, grad)
    if isinstance(s_a, LSTMStateTuple):
        state = LSTMStateTuple(torch.cat([s_a.c, s_b.c]), torch.cat([s_a.h, s_b.h]))
    else:
        state = torch.cat([s_a, s_b])
    return torch.cat([y_a, y_b], 1), state


def _one_layer(layer: Layer, x: Tensor, s: Any, lengths: np.ndarray, tmax: int, grad: bool):
    """One layer of :func:`run_layers` (its dropout around it): ``(outputs, state)``."""
    for wrapper in layer.before:  # input dropout: one mask per step (or per sequence)
        x = wrapper.drop_sequence("input", x)
    cell = layer.cell
    route = paths.layer_route(cell, x, lengths, tmax)
    if route is paths.ONEDNN:
        graph = paths.records(grad, cell, x, s)
        x, s = eager_layer(cell, x, s, lengths, tmax, graph, paths.onednn_cut(cell, x, tmax, graph))
    elif route is paths.HALVES:
        x, s = _split_layer(cell, x, s, lengths, grad)
    else:
        x, s = eager_layer(cell, x, s, lengths, tmax, paths.records(grad, cell, x, s), None)
    for wrapper in layer.after:  # output dropout: outputs only, the recurrence keeps its state
        x = wrapper.drop_sequence("output", x)
    return x, s


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
    grad = torch.is_grad_enabled() or paths.transformed()
    for layer, s in zip(_as_layers(layers), states):
        x, s = _one_layer(layer, x, contiguous_state(s), lengths_np, tmax, grad)
        finals.append(s)
    return x, finals


def _as_layers(layers: list[Any]) -> list[Layer]:
    """Cells or Layer entries as Layer entries (a bare cell has no dropout around it)."""
    return [layer if isinstance(layer, Layer) else Layer(layer) for layer in layers]


def run_pair(
    layers_a: list[Any], x_a: Tensor, states_a: list[Any],
    layers_b: list[Any], x_b: Tensor, states_b: list[Any], lengths: Tensor | None,
) -> tuple[tuple[Tensor, list[Any]], tuple[Tensor, list[Any]]]:  # fmt: skip
    """Two stacks over inputs of the same ``(T, B)`` (a bidirectional RNN's directions): layer k of
    each runs at the same time as layer k of the other when both are plain engine layers of at least
    :data:`rnnkit.engine.paths.PAIR_MIN_MACS`, else as :func:`run_layers` would run it.
    Returns ``((outputs_a, finals_a), (outputs_b, finals_b))``."""
    T, B, _ = x_a.shape
    lengths_np, tmax = cpu.lengths_np(lengths, B, T)
    grad = torch.is_grad_enabled() or paths.transformed()
    finals_a, finals_b = [], []
    layers_a, layers_b = _as_layers(layers_a), _as_layers(layers_b)
    for k in range(max(len(layers_a), len(layers_b))):
        # stacks of different depths: past the shallower one's end, the deeper one's layers alone
        la = layers_a[k] if k < len(layers_a) else None
        lb = layers_b[k] if k < len(layers_b) else None
        sa = contiguous_state(states_a[k]) if la else None
        sb = contiguous_state(states_b[k]) if lb else None
        if la and lb and paths.pairs(la, lb, x_a, x_b, lengths_np, tmax):
            (x_a, sa), (x_b, sb) = _pair_layers(
                (la.cell, x_a, sa, lengths_np, tmax), (lb.cell, x_b, sb, lengths_np, tmax), grad
            )
        else:
            if la:
                x_a, sa = _one_layer(la, x_a, sa, lengths_np, tmax, grad)
            if lb:
                x_b, sb = _one_layer(lb, x_b, sb, lengths_np, tmax, grad)
        if la:
            finals_a.append(sa)
        if lb:
            finals_b.append(sb)
    return (x_a, finals_a), (x_b, finals_b)
