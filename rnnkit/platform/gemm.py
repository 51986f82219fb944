"""Float32 matrix products on oneDNN's matmul, where torch's own ``mm`` is the slower of the two.

Why: on the AMD CPUs this was measured on (Zen 4/5, AVX-512), ``torch.mm`` runs about 95 GFLOP/s
on one thread whatever the shape, while oneDNN's matmul primitive
(``torch.ops.mkldnn._linear_pointwise``, the dense-tensor entry torch's own compiler uses for linear
layers) runs 170-230. Medians on the 2-core VM, microseconds, torch.mm -> oneDNN, one thread (two
threads):

- ``(4200, 28) @ (28, 150)``: 382 -> 216 (201 -> 136)
- ``(150, 4050) @ (4050, 150)``: 1956 -> 1062 (1034 -> 688)
- ``(128, 128) @ (128, 512)``: 156 -> 86 (86 -> 52)
- ``(150, 150) @ (150, 10)``: 22 -> 15 (13 -> 15)
- ``(32, 64) @ (64, 64)``: 3.8 -> 13.5 (4.1 -> 14.1)

(the 4200-row products are a 28-step, batch-150 layer's input projection and its weight
gradient, the 4050-row one its recurrent weight gradient), measured in a process that keeps freed
memory. oneDNN's call costs about 12 us, so products of fewer than :data:`MIN_MACS` multiply-adds
stay on ``torch.mm``; and since it allocates on every call, so do products of fewer than
:data:`FRESH_MIN_MACS` unless the process keeps freed memory (see there). So do operands that are
not a dense matrix or the transpose of one (see :func:`_dense`). It returns a fresh dense result; a
shape it has not seen builds a primitive once (0.3-0.5 ms), cached by oneDNN afterwards.

Where oneDNN is missing, switched off (``torch.backends.mkldnn.enabled``, read on each call) or
refuses a call, ``torch.mm`` runs, and after a refusal the route is not tried again.

Example::

    c = gemm.mm(a, b)                          # a @ b
    gemm.mm_into(a, b, out, accumulate=True)   # out += a @ b
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import torch
from torch import Tensor

from rnnkit._validation import untraced
from rnnkit.platform.memory import retaining

__all__ = [
    "MIN_MACS",
    "FRESH_MIN_MACS",
    "usable",
    "takes",
    "mm",
    "mm_into",
    "product",
    "addmm",
    "grad_summing_weights",
]

# Products of at least this many multiply-adds go to oneDNN (about 2 us of torch.mm's work at 95
# GFLOP/s per thread, where oneDNN's ~12 us call is paid back: see the table above).
MIN_MACS = 1 << 21

# oneDNN allocates on every call (its result, a dense copy of a transposed left operand, its
# scratchpad), where torch.mm writes into ``out`` with buffers it keeps. Once glibc has handed freed
# memory back to the system, those allocations take their first page faults on every call: one
# thread, us, oneDNN -> oneDNN after malloc_trim (torch.mm unchanged): (150, 4050) @ (4050, 150)
# 1067 -> 1937 (mm 1934), (4200, 28) @ (28, 150) 217 -> 1038 (mm 385). Which state a process is in
# depends on its allocation history: the TF1 chapter's step on one thread took 5.3-5.5 ms with
# oneDNN's products and 6.3 without in one process, 7.2-7.4 against 6.3-6.5 in another. So products
# from MIN_MACS go to oneDNN only while the process keeps freed memory
# (``rnnkit.engine.retain_freed_memory``; ``python -m rnnkit tf1`` does), where the step took 5.54
# against 6.33 ms; otherwise only from FRESH_MIN_MACS, where the faults are small next to the work.
FRESH_MIN_MACS = 1 << 27

_state = {"refused": False}  # oneDNN refused a call: torch.mm from then on


def _find_pointwise():
    try:
        return torch.ops.mkldnn._linear_pointwise
    except (AttributeError, RuntimeError):  # a torch built without oneDNN
        return None


_pointwise = _find_pointwise()


def usable() -> bool:
    """oneDNN's matmul is there, enabled and has not refused a call."""
    return (
        _pointwise is not None
        and not _state["refused"]
        and torch.backends.mkldnn.is_available()
        and bool(torch.backends.mkldnn.enabled)
    )


def _dense(t: Tensor) -> bool:
    """A whole matrix or its transpose, without gaps between rows. oneDNN takes other layouts too,
    but a right operand with gaps (a column slice of a wider matrix: a GRU's gate part) went through
    a reorder that took 24 ms for ``(30, 1250) @ (1250, 60)`` (0.03 ms dense, 0.04 on torch.mm)."""
    return t.is_contiguous() or t.t().is_contiguous()


def takes(a: Tensor, b: Tensor) -> bool:
    """Whether ``a @ b`` goes to oneDNN: 2-D float32 CPU tensors of at least :data:`MIN_MACS`
    multiply-adds (:data:`FRESH_MIN_MACS` while freed memory goes back to the system), not a
    matrix-vector product, each dense or the transpose of a dense one."""
    return (
        a.dim() == 2
        and b.dim() == 2
        and a.shape[1] == b.shape[0]
        and a.shape[0] * a.shape[1] * b.shape[1] >= (MIN_MACS if retaining() else FRESH_MIN_MACS)
        # A matrix-vector product stays on torch.mm, whose gemv reads the matrix once, where oneDNN
        # first copies it into its blocked layout: (1, 1024) @ (1024, 2048) took 104 us on torch.mm
        # and 242 on oneDNN (one thread); three rows already run faster on oneDNN (147 -> 120).
        and a.shape[0] > 1
        and b.shape[1] > 1
        and a.dtype == torch.float32
        and b.dtype == torch.float32
        and a.device.type == "cpu"
        and b.device.type == "cpu"
        and _dense(a)
        and _dense(b)
        and not _costly_copy(a, b)
        and usable()
    )


def _costly_copy(a: Tensor, b: Tensor) -> bool:
    """oneDNN reads a transposed left operand through a dense copy of it; a large one (4 MB+) with
    few output columns costs more to copy than torch's product takes: ``(100, 50000) @ (50000, N)``,
    ``a`` transposed, N from 16 to 48, took 4.4-5.9 ms on oneDNN against 1.2-4.1 on torch.mm (one
    and two threads). The engine's weight gradients have as many columns as gates (``G * H``)."""
    return not a.is_contiguous() and a.numel() >= (1 << 20) and b.shape[1] < 64


def _onednn(a: Tensor, b: Tensor, bias: Tensor | None = None) -> Tensor | None:
    """``a @ b`` (``+ bias``) on oneDNN (``takes(a, b)`` holds), or None after a refusal
    (remembered)."""
    try:
        return _pointwise(a, b.t(), bias, "none", [], "")
    except RuntimeError:
        _state["refused"] = True
        return None


def mm(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` of two 2-D tensors (not recorded by autograd on the oneDNN route)."""
    if takes(a, b):
        c = _onednn(a, b)
        if c is not None:
            return c
    return torch.mm(a, b)


def mm_into(a: Tensor, b: Tensor, out: Tensor, accumulate: bool = False) -> None:
    """``out = a @ b``, or ``out += a @ b`` when ``accumulate`` (``out`` dense, not requiring
    grad)."""
    if takes(a, b):
        c = _onednn(a, b)
        if c is not None:
            if accumulate:
                out.add_(c)
            else:
                out.copy_(c)
            return
    if accumulate:
        out.addmm_(a, b)
    else:
        torch.mm(a, b, out=out)


# ----------------------------------------------------------------------------- autograd entries
# ``product`` (``tf.matmul``, ``tf.layers.dense``) and ``addmm`` (the cells' gate products) record
# one autograd node whose forward and both gradients (``g @ y^T``, ``x^T @ g``) take the route above
# where :func:`takes` holds: a language model's output projection, or the 20 x 400 x 800 gate product
# of TensorFlow's small PTB model (one thread, us, torch -> oneDNN: forward 151 -> 73, input
# gradient 151 -> 97, weight gradient 140 -> 77). Anything else, and any call while a tracer,
# compiler, exporter, torch.func transform or tensor subclass is involved, runs torch's own op.


class _Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, y: Tensor, bias: Tensor | None) -> Tensor:
        ctx.save_for_backward(x, y)
        ctx.has_bias = bias is not None
        xd, yd = x.detach(), y.detach()
        bd = None if bias is None else bias.detach()
        out = _onednn(xd, yd, bd)
        if out is None:  # oneDNN refused: torch's op, same values to rounding
            out = torch.mm(xd, yd) if bd is None else torch.addmm(bd, xd, yd)
        return out

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, y = ctx.saved_tensors
        dx = dy = db = None
        graph = torch.is_grad_enabled()  # a graph of the gradient is wanted: differentiable ops
        if ctx.needs_input_grad[0]:
            dx = grad @ y.t() if graph else mm(grad, y.detach().t())
        if ctx.needs_input_grad[1]:
            pairs = None if graph else _summing(y)
            if pairs is not None:  # one product for all of y's uses, after the backward pass
                pairs.append((x.detach(), grad))
            else:
                dy = x.t() @ grad if graph else mm(x.detach().t(), grad)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            db = grad.sum(0)
        return dx, dy, db


def product(x: Tensor, y: Tensor) -> Tensor:
    """``x @ y`` (any shapes ``torch.matmul`` takes), recorded by autograd: the oneDNN node where
    :func:`takes` holds, else ``torch.matmul``."""
    if takes(x, y) and untraced(x, y):
        return _Linear.apply(x, y, None)
    return torch.matmul(x, y)


def addmm(bias: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """``bias + x @ y`` for a 1-D ``bias`` (``torch.addmm``), recorded by autograd, on the oneDNN
    node where :func:`takes` holds."""
    if (
        bias.dim() == 1
        and bias.shape[0] == y.shape[-1]  # (else torch's addmm names the mismatch)
        and bias.dtype == torch.float32
        and bias.is_contiguous()
        and takes(x, y)
        and untraced(bias, x, y)
    ):
        return _Linear.apply(x, y, bias)
    return torch.addmm(bias, x, y)


# ----------------------------------------------------------------------------- one weight, many uses
# A graph unrolled in Python (TensorFlow's PTB model, a legacy_seq2seq decoder) multiplies one weight
# at every step. Its gradient is the sum over the steps of ``x_t^T @ g_t``: one small product per
# step (PTB's (400, 20) @ (20, 800), 73 us on two threads) and one addition of the whole weight
# gradient per step. Summed as one product ``[x_1; ...; x_T]^T @ [g_1; ...; g_T]`` after the
# backward pass, the same arithmetic runs at a size the GEMM runs efficiently at.

_summing_state = threading.local()


def _summing(y: Tensor) -> list[tuple[Tensor, Tensor]] | None:
    """The list collecting ``(x, grad)`` of ``y``'s products, while :func:`grad_summing_weights`
    differentiates for ``y``; else None."""
    table = getattr(_summing_state, "table", None)
    # (keys are ids of inputs the call holds, so a live y with one of them is that input)
    return None if table is None else table.get(id(y))


def grad_summing_weights(
    outputs: Sequence[Tensor], inputs: Sequence[Tensor], grad_outputs: Sequence[Tensor | None]
) -> list[Tensor | None]:
    """``torch.autograd.grad(outputs, inputs, grad_outputs, retain_graph=True,
    allow_unused=True)``, where the gradients to an input that is the right operand of this
    module's product nodes (``product``, ``addmm`` on oneDNN) are summed as one product over all of
    its uses once the backward pass is done, instead of one product per use. The same sum, in
    another order of its terms; None stays None for an input nothing reached. Only leaves (a
    model's weights) are summed so: a gradient passing through an input to others stays in the
    backward pass."""
    table: dict[int, list[tuple[Tensor, Tensor]]] = {
        id(t): [] for t in inputs if t.dim() == 2 and t.is_leaf
    }
    outer = getattr(_summing_state, "table", None)
    _summing_state.table = table
    try:
        got = list(
            torch.autograd.grad(outputs, inputs, grad_outputs, retain_graph=True, allow_unused=True)
        )
    finally:
        _summing_state.table = outer
    for k, t in enumerate(inputs):
        pairs = table.get(id(t))
        if not pairs:
            continue
        xs = torch.cat([x for x, _ in pairs]) if len(pairs) > 1 else pairs[0][0]
        gs = torch.cat([g for _, g in pairs]) if len(pairs) > 1 else pairs[0][1]
        d = mm(xs.t(), gs).to(t.dtype)
        got[k] = d if got[k] is None else got[k] + d
    return got
