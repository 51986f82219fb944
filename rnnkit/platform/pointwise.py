r"""An LSTM step's elementwise part as one compiled kernel and one autograd node.

Why: a cell called step by step (a decoder's loop, a sampler, a graph unrolled in Python, TF1's
``raw_rnn``) pays torch's per-op cost on every gate: the LSTM's ``chunk``, three sigmoids, two tanh,
three products and two sums are a dozen small ops forward and as many autograd nodes backward, each
costing more than its arithmetic at the sizes these loops run. Here the whole elementwise step is one
numba kernel forward and one backward, the same arithmetic as the fused engine's step loops (its
activations, :mod:`rnnkit.platform.compiled`). ``benchmarks/bench_cell_step.py`` (forward plus
backward of a chain of cell calls, one thread, kernel against torch ops in one process): batch 100 of
40 units over 11 steps 0.80x, one row of 128 units 0.82x, 128 rows of 128 units 0.90x, 20 rows of 200
units 0.97x. A GRU's step, done the same way, needs two such nodes around its candidate's product,
and their Python-level cost (entering the autograd function, wrapping arrays: about 12 us) outweighed
its cheaper ops: 1.02-1.21x, so the GRU keeps torch's ops.

:func:`lstm` runs the kernel where :func:`takes` holds (CPU float32/float64 tensors, nothing tracing,
compiling, exporting or transforming them) and :func:`lstm_reference`, the same formula in torch ops,
elsewhere. Under ``create_graph=True`` the node's backward is differentiable: it recomputes the step in
torch ops and differentiates that. Like the engine's, the kernels compile on their first call (about
1.2 s, once per machine: numba keeps them on disk, and ``python -m rnnkit compile`` builds them ahead)
and later processes load them on their first call (about 0.35 s here).

Example::

    gates = gemm.addmm(bias, torch.cat([x, h], 1), kernel)   # (B, 4H), TF's order i, j, f, o
    new_c, new_h = pointwise.lstm(gates, c, forget_bias=1.0)
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit
from torch import Tensor

from rnnkit._validation import untraced
from rnnkit.platform.compiled import JIT, one, sigmoid, tanh

__all__ = ["takes", "lstm", "lstm_reference"]


def lstm_reference(gates: Tensor, c: Tensor, forget_bias: float) -> tuple[Tensor, Tensor]:
    """TF1's LSTM step from the pre-activation ``gates (B, 4H)`` (order i, j, f, o) and the cell
    state ``c (B, H)``: ``(new_c, new_h)``, in torch ops."""
    i, j, f, o = gates.chunk(4, 1)
    new_c = c * torch.sigmoid(f + forget_bias) + torch.sigmoid(i) * torch.tanh(j)
    new_h = torch.tanh(new_c) * torch.sigmoid(o)
    return new_c, new_h


def takes(gates: Tensor, c: Tensor) -> bool:
    """Whether :func:`lstm` runs the compiled kernel: 2-D CPU float32/float64 tensors of one dtype
    and matching shapes (``gates (B, 4H)``, ``c (B, H)``), nothing tracing or transforming them."""
    return (
        gates.dtype in (torch.float32, torch.float64)
        and c.dtype == gates.dtype
        and gates.dim() == 2
        and c.dim() == 2
        and gates.shape[0] == c.shape[0]
        and gates.shape[1] == 4 * c.shape[1]
        and gates.device.type == "cpu"
        and c.device.type == "cpu"
        and gates.layout == torch.strided
        and c.layout == torch.strided
        and untraced(gates, c)
    )


def lstm(gates: Tensor, c: Tensor, forget_bias: float) -> tuple[Tensor, Tensor]:
    """``(new_c, new_h)`` of TF1's LSTM step (:func:`lstm_reference`), on the compiled kernel where
    :func:`takes` holds; recorded by autograd as one node."""
    if takes(gates, c):
        return _LSTM.apply(gates, c, float(forget_bias))
    return lstm_reference(gates, c, forget_bias)


@njit(**JIT)
def _lstm_forward(g, c, forget_bias, acts, new_c, new_h):  # pragma: no cover - compiled
    """``acts (B, 4H)``: the activated gates i, j, f, o; ``new_c``, ``new_h (B, H)``. One loop per
    gate, so that each vectorises."""
    B, H = c.shape
    for b in range(B):
        r, a, cr, ncr, nhr = g[b], acts[b], c[b], new_c[b], new_h[b]
        for k in range(H):
            a[k] = sigmoid(r[k])
        for k in range(H):
            a[H + k] = tanh(r[H + k])
        for k in range(H):
            a[2 * H + k] = sigmoid(r[2 * H + k] + forget_bias)
        for k in range(H):
            a[3 * H + k] = sigmoid(r[3 * H + k])
        for k in range(H):
            ncr[k] = a[2 * H + k] * cr[k] + a[k] * a[H + k]
        for k in range(H):
            nhr[k] = a[3 * H + k] * tanh(ncr[k])


@njit(**JIT)
def _lstm_backward(acts, c, new_c, d_new_c, d_new_h, dg, dc):  # pragma: no cover - compiled
    """``dg (B, 4H)``: the gradient of the pre-activation gates; ``dc (B, H)``: of ``c``."""
    B, H = c.shape
    u = one(c)
    for b in range(B):
        a, d, cr, ncr = acts[b], dg[b], c[b], new_c[b]
        dhr, dcr, dncr = d_new_h[b], dc[b], d_new_c[b]
        for k in range(H):
            o = a[3 * H + k]
            tc = tanh(ncr[k])
            d[3 * H + k] = dhr[k] * tc * o * (u - o)
            dcr[k] = dncr[k] + dhr[k] * o * (u - tc * tc)  # the whole gradient of new_c
        for k in range(H):
            i = a[k]
            j = a[H + k]
            f = a[2 * H + k]
            gc = dcr[k]
            d[k] = gc * j * i * (u - i)
            d[H + k] = gc * i * (u - j * j)
            d[2 * H + k] = gc * cr[k] * f * (u - f)
            dcr[k] = gc * f


def _array(t: Tensor) -> np.ndarray:
    return t.detach().contiguous().numpy()


def _grad_array(grad: Tensor | None, like: np.ndarray) -> np.ndarray:
    """An incoming gradient as a dense array; zeros for an output nobody read (autograd passes
    None: ``set_materialize_grads(False)``)."""
    return np.zeros(like.shape, dtype=like.dtype) if grad is None else _array(grad)


def _outputs(ctx, *arrays: np.ndarray | None) -> tuple[Tensor | None, ...]:
    """The gradients autograd asked for (``ctx.needs_input_grad``), as tensors; None for the rest."""
    return tuple(
        torch.from_numpy(a) if a is not None and need else None
        for a, need in zip(arrays, ctx.needs_input_grad)
    )


def _differentiable_backward(ctx, reference, inputs: tuple, grads: tuple) -> tuple:
    """The input gradients of ``reference(*inputs)`` (the node's torch-op twin) for the incoming
    ``grads``, as torch ops of both (``create_graph=True``: a second derivative reaches all of
    them); None where autograd asked for none."""
    needs = ctx.needs_input_grad[: len(inputs)]
    tensors = [t for t, n in zip(inputs, needs) if n]
    if not tensors:
        return (None,) * len(ctx.needs_input_grad)
    pairs = [(o, g) for o, g in zip(reference(*inputs), grads) if g is not None]
    found = iter(
        torch.autograd.grad(
            [o for o, _ in pairs], tensors, [g for _, g in pairs], create_graph=True,
            allow_unused=True,
        )
    )  # fmt: skip
    result = [next(found) if n else None for n in needs]
    return (*result, *[None] * (len(ctx.needs_input_grad) - len(inputs)))


class _LSTM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, gates: Tensor, c: Tensor, forget_bias: float):  # type: ignore[override]
        ctx.set_materialize_grads(False)  # an unread output: no zeros tensor (see _grad_array)
        g, cn = _array(gates), _array(c)
        acts, new_c, new_h = np.empty_like(g), np.empty_like(cn), np.empty_like(cn)
        _lstm_forward(g, cn, g.dtype.type(forget_bias), acts, new_c, new_h)
        new_c_t = torch.from_numpy(new_c)
        ctx.save_for_backward(gates, c, torch.from_numpy(acts), new_c_t)
        ctx.forget_bias = forget_bias
        return new_c_t, torch.from_numpy(new_h)

    @staticmethod
    def backward(ctx, d_new_c: Tensor | None, d_new_h: Tensor | None):  # type: ignore[override]
        gates, c, acts, new_c = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True
            fb = ctx.forget_bias
            return _differentiable_backward(
                ctx, lambda g, c: lstm_reference(g, c, fb), (gates, c), (d_new_c, d_new_h)
            )
        a, cn = acts.numpy(), _array(c)
        dg, dc = np.empty_like(a), np.empty_like(cn)
        dnc, dnh = _grad_array(d_new_c, cn), _grad_array(d_new_h, cn)
        _lstm_backward(a, cn, new_c.numpy(), dnc, dnh, dg, dc)
        return _outputs(ctx, dg, dc, None)
