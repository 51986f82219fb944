"""TensorFlow's ``SoftmaxCrossEntropyWithLogits`` kernel: the loss and its gradient to the logits
(``softmax - labels``) in one pass over each row, as one autograd node.

Why: over a vocabulary (a character or word language model's logits, ``(batch * steps, V)``) the
composite of torch ops -- log-softmax, log-sum-exp, the labels' product and their backward -- reads
and writes the whole ``(N, V)`` matrix about eleven times a training step; TF's kernel computes
``backprop = softmax - labels`` in its forward and the backward only scales it. Here each row is
read while it sits in cache (max, sum of exponentials, then the loss and ``backprop``), and the
backward is one product. Measured on the 2-core machine, ``(4000, 6000)`` float32 forward+backward
(mean of the loss): 240-244 ms as torch ops, 64-67 ms here (load about 1). Few classes gain too:
torch's ``log_softmax`` over a last axis of 10 took 111 us for 1,100 rows, and forward+backward of
the composite 296 us against 191 here; 150 rows of 10 classes (an MNIST batch) 96 -> 58 us, 32 rows
of 3 66 -> 42 (one thread, load about 1). The row's maximum and sums vectorise (16 running maxima;
sums in SIMD lanes) and the exponential's polynomial uses fused multiply-adds: ``(400, 10000)``,
a word model's 20 x 20 batch over 10,000 words, 5.6 -> 3.6 ms forward+backward on two threads,
``(4000, 6000)`` 29 -> 21 ms (load 0.6).

Second derivatives: a backward that records a graph (``create_graph=True``, a ``tf.gradients`` of
gradients) recomputes the gradient from the saved logits with differentiable torch ops, so higher
orders are exact; the saved ``backprop`` serves first-order backward only.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit, prange, types
from numba.extending import overload

from rnnkit.compat.v1._kernels import run_prange

__all__ = ["takes", "softmax_xent", "MIN_ELEMENTS"]

# The fused kernel is used from this many logits up: every size (it was the faster at each size
# measured, from 32 rows of 3 classes); tests raise it to compare with the composite.
MIN_ELEMENTS = 1


# exp(t) for float32 t <= 0 as arithmetic that vectorises (Cody-Waite reduction by ln 2 and Cephes'
# expf polynomial, within about one ulp; 0 below -87, where expf is subnormal): libm's expf, called
# element by element, made the whole row pass compute-bound (6000 values: 11 us against 1.9).
_LOG2E = np.float32(1.44269504088896341)
_LN2_HI = np.float32(0.693359375)
_LN2_LO = np.float32(-2.12194440e-4)
_P0, _P1, _P2, _P3, _P4, _P5 = (
    np.float32(v)
    for v in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
              1.6666665459e-1, 5.0000001201e-1)
)  # fmt: skip
_LOWEST = np.float32(-87.0)


def _exp_shifted(xr, m, out, poly, bits, scale):  # pragma: no cover - replaced by the overload
    raise NotImplementedError


# Products and sums may contract into fused multiply-adds (the reduction's two steps then round
# once): 10,000 values 2.6 -> 1.7 us, within the same bound of about one ulp (tested).
@overload(_exp_shifted, jit_options={"fastmath": {"contract"}})
def _ol_exp_shifted(xr, m, out, poly, bits, scale):
    if xr.dtype == types.float32:

        def exp32(xr, m, out, poly, bits, scale):
            for k in range(xr.shape[0]):
                t = xr[k] - m
                low = t < _LOWEST  # False for NaN, which stays NaN
                t = _LOWEST if low else t
                n = np.floor(t * _LOG2E + np.float32(0.5))
                r = t - n * _LN2_HI - n * _LN2_LO
                q = ((((_P0 * r + _P1) * r + _P2) * r + _P3) * r + _P4) * r + _P5
                poly[k] = np.float32(0) if low else (q * r) * r + r + np.float32(1)
                bits[k] = (np.int32(n) + np.int32(127)) << 23  # 2 ** n as a float's bits
            for k in range(xr.shape[0]):
                out[k] = poly[k] * scale[k]

        return exp32

    def exp64(xr, m, out, poly, bits, scale):
        for k in range(xr.shape[0]):
            out[k] = np.exp(xr[k] - m)

    return exp64


@njit(cache=True, fastmath={"reassoc"}, nogil=True)
def _sum(a):  # pragma: no cover - compiled
    """``sum(a)`` in SIMD lanes of partial sums, as a vectorised reduction (Eigen's) takes it; the
    order differs from a running sum's by rounding only. Summed one value after another, a row of
    10,000 took 2.5 us where this takes 0.4."""
    s = a[0] * 0
    for k in range(a.shape[0]):
        s += a[k]
    return s


@njit(cache=True, fastmath=False, nogil=True)
def _max(a, lanes):  # pragma: no cover - compiled
    """``max(a)``; from 64 values as 16 running maxima over interleaved values (in ``lanes``,
    scratch of a row's length), which the compiler vectorises (a single running maximum does not:
    5.0 against 1.5 us for 10,000 values). A NaN after the first value is passed over here; its
    row still comes out NaN through its exponential."""
    V = a.shape[0]
    m = a[0]
    full = V // 16 if V >= 64 else 0
    if full:
        lanes[:16] = a[:16]
        for i in range(1, full):
            for j in range(16):
                v = a[i * 16 + j]
                lanes[j] = v if v > lanes[j] else lanes[j]
        for j in range(16):
            m = lanes[j] if lanes[j] > m else m
    for k in range(full * 16, V):
        m = a[k] if a[k] > m else m
    return m


@njit(cache=True, fastmath=False, nogil=True)
def _xent_row(xr, yr, br, poly, bits, scale):  # pragma: no cover - compiled
    """``sum(y * (log(sum(exp(x - max))) - (x - max)))`` of one row, and ``br = exp(x - max) / sum
    - y``: TF's ``XentEigenImpl`` in the inputs' dtype (``poly``/``bits``: scratch of the row's
    length, ``scale``: ``bits`` viewed as float32, made once per call). A NaN in the row makes it
    NaN, as in TF."""
    m = _max(xr, poly)
    _exp_shifted(xr, m, br, poly, bits, scale)
    s = _sum(br)
    lse = np.log(s)
    for k in range(xr.shape[0]):  # each term of the loss, then the gradient
        poly[k] = yr[k] * (lse - (xr[k] - m))
        br[k] = br[k] / s - yr[k]
    return _sum(poly)


@njit(cache=True, fastmath=False, nogil=True)
def _xent_one_row(x, y, loss, bp):  # pragma: no cover - compiled
    poly, bits = np.empty(x.shape[1], x.dtype), np.empty(x.shape[1], np.int32)
    loss[0] = _xent_row(x[0], y[0], bp[0], poly, bits, bits.view(np.float32))


# Rows go to one prange loop, split over numba's threads or on one of them (run_prange): on one thread
# it ran 1.5-1.6x faster than a plain loop over the same rows, e.g. (1100, 10) 103 against 165 us,
# (4000, 100) 566 against 842 (the plain loop's row function was not inlined the same way). A single
# row (a batch-1 program's step) skips the thread setting, about 4 us of a 12 us call.
@njit(cache=True, fastmath=False, nogil=True, parallel=True)
def _xent_kernel(x, y, loss, bp):  # pragma: no cover - compiled
    N, V = x.shape
    blocks = (N + 63) // 64  # rows in blocks of 64: one pair of scratch rows per block
    for blk in prange(blocks):
        poly, bits = np.empty(V, x.dtype), np.empty(V, np.int32)
        scale = bits.view(np.float32)
        for r in range(blk * 64, min(N, blk * 64 + 64)):
            loss[r] = _xent_row(x[r], y[r], bp[r], poly, bits, scale)


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
        if x.shape[0] == 1:
            _xent_one_row(*arrays)
        else:
            run_prange(_xent_kernel, True, *arrays)
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
