"""TensorFlow's ``SoftmaxCrossEntropyWithLogits`` kernel for large inputs: the loss and its gradient
to the logits (``softmax - labels``) in one pass over each row, as one autograd node.

Why: over a vocabulary (a character or word language model's logits, ``(batch * steps, V)``) the
composite of torch ops -- log-softmax, log-sum-exp, the labels' product and their backward -- reads
and writes the whole ``(N, V)`` matrix about eleven times a training step; TF's kernel computes
``backprop = softmax - labels`` in its forward and the backward only scales it. Here each row is
read while it sits in cache (max, sum of exponentials, then the loss and ``backprop``), and the
backward is one product. Measured on the 2-core machine, ``(4000, 6000)`` float32 forward+backward:
250 ms as torch ops, see ``docs/tf1-census.md`` for the program it was found in.

Second derivatives: a backward that records a graph (``create_graph=True``, a ``tf.gradients`` of
gradients) recomputes the gradient from the saved logits with differentiable torch ops, so higher
orders are exact; the saved ``backprop`` serves first-order backward only.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit, prange

__all__ = ["takes", "softmax_xent", "MIN_ELEMENTS"]

# The fused kernel is used from this many logits up; below, the composite's few small ops cost less
# than entering a compiled kernel, and small programs keep torch's exact op-by-op arithmetic.
MIN_ELEMENTS = 1 << 16


@njit(cache=True, fastmath=False, nogil=True)
def _xent_row(xr, yr, br):  # pragma: no cover - compiled
    """``sum(y * (log(sum(exp(x - max))) - (x - max)))`` of one row, and ``br = exp(x - max) / sum
    - y``: TF's ``XentEigenImpl`` in the inputs' dtype."""
    V = xr.shape[0]
    m = xr[0]
    for k in range(1, V):
        if xr[k] > m or xr[k] != xr[k]:  # a NaN stays the maximum, so the row is NaN as in TF
            m = xr[k]
    s = xr[0] * 0
    for k in range(V):
        e = np.exp(xr[k] - m)
        br[k] = e
        s += e
    lse = np.log(s)
    acc = xr[0] * 0
    for k in range(V):
        acc += yr[k] * (lse - (xr[k] - m))
        br[k] = br[k] / s - yr[k]
    return acc


@njit(cache=True, fastmath=False, nogil=True)
def _xent_one(x, y, loss, bp):  # pragma: no cover - compiled
    for r in range(x.shape[0]):
        loss[r] = _xent_row(x[r], y[r], bp[r])


@njit(cache=True, fastmath=False, nogil=True, parallel=True)
def _xent_threads(x, y, loss, bp):  # pragma: no cover - compiled
    for r in prange(x.shape[0]):
        loss[r] = _xent_row(x[r], y[r], bp[r])


def takes(logits: torch.Tensor, labels: torch.Tensor) -> bool:
    """Whether the fused kernel computes this call: equal shapes (no broadcasting), one float dtype on
    the CPU, at least :data:`MIN_ELEMENTS` logits and a class axis of at least one."""
    return (
        logits.shape == labels.shape
        and logits.dim() >= 1
        and logits.shape[-1] > 0
        and logits.numel() >= MIN_ELEMENTS
        and logits.dtype in (torch.float32, torch.float64)
        and labels.dtype == logits.dtype
        and logits.device.type == "cpu"
        and labels.device.type == "cpu"
    )


class _Xent(torch.autograd.Function):
    @staticmethod
    def forward(ctx, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        V = logits.shape[-1]
        x = logits.detach().reshape(-1, V).contiguous()
        y = labels.detach().reshape(-1, V).contiguous()
        loss = torch.empty(x.shape[0], dtype=x.dtype)
        bp = torch.empty_like(x)
        arrays = (x.numpy(), y.numpy(), loss.numpy(), bp.numpy())
        threads = torch.get_num_threads()  # one while other processes keep the cores busy
        if threads > 1 and x.shape[0] > 1:
            _xent_threads(*arrays)
            if torch.get_num_threads() != threads:  # numba's first threaded call sets OpenMP's
                torch.set_num_threads(threads)  # count for the calling thread: put torch's back
        else:
            _xent_one(*arrays)
        ctx.save_for_backward(logits, labels, bp)
        ctx.lead = logits.shape[:-1]
        return loss.reshape(ctx.lead)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        logits, labels, bp = ctx.saved_tensors
        g = grad.unsqueeze(-1)
        if torch.is_grad_enabled():  # a graph of the gradient is wanted: differentiable ops
            d_logits = g * (torch.softmax(logits, -1) - labels)
        else:
            d_logits = g * bp.reshape(logits.shape)
        d_labels = None
        if ctx.needs_input_grad[1]:
            d_labels = -g * torch.log_softmax(logits, -1)
        return d_logits, d_labels


def softmax_xent(logits: torch.Tensor, labels: torch.Tensor, axis: int) -> torch.Tensor:
    """The loss per example over ``axis`` (``takes(logits, labels)`` must hold)."""
    a = axis % logits.dim()
    if a != logits.dim() - 1:
        logits, labels = logits.movedim(a, -1), labels.movedim(a, -1)
    return _Xent.apply(logits, labels)
