"""Large float32 matrix products of ``tf.matmul`` on oneDNN's matmul (``torch._C._nn.mkldnn_linear``).

Why: a language model's output projection, ``(batch * steps, H) @ (H, V)``, is the largest product of
its training step, and on the AMD CPUs this was measured on torch's own ``mm`` runs it on a slower
path than oneDNN's AVX-512 kernels: ``(1700, 128) @ (128, 6000)`` forward+backward 47-48 ms with
``torch.mm``, 35-36 ms here, forward 15.9 against 8.4 ms (2-core VM, freed memory kept). oneDNN reads
its own tensor format, so the operands are converted on the way in and the result on the way out;
that is paid back only for large products (:data:`MIN_MACS`).

As an autograd node: the forward and the input gradient ``g @ b^T`` run on oneDNN, the weight
gradient ``a^T @ g`` on ``torch.mm`` (it would need the transposed ``(N, V)`` gradient converted).
A backward that records a graph (second derivatives) uses differentiable torch ops instead. Where
oneDNN is unavailable or refuses a call, ``torch.matmul`` runs and the route is not tried again.
"""

from __future__ import annotations

import torch

__all__ = ["takes", "matmul"]

# Products of at least this many multiply-adds take oneDNN (below, the conversions cost more than
# they save; the whole chapter-size graphs stay on torch.mm, op for op as before).
MIN_MACS = 1 << 27

_state = {"refused": False}  # oneDNN refused a call: torch.matmul from then on
_linear = getattr(torch._C._nn, "mkldnn_linear", None)


def _usable() -> bool:
    """oneDNN's matmul is there, enabled (``torch.backends.mkldnn``, read each call) and has not
    refused a call."""
    return (
        _linear is not None
        and not _state["refused"]
        and torch.backends.mkldnn.is_available()
        and bool(torch.backends.mkldnn.enabled)
    )


def takes(x: torch.Tensor, y: torch.Tensor) -> bool:
    """Whether ``x @ y`` runs here: two 2-D float32 CPU tensors, at least :data:`MIN_MACS`."""
    return (
        x.dim() == 2
        and y.dim() == 2
        and x.shape[0] * x.shape[1] * y.shape[1] >= MIN_MACS
        and x.shape[1] == y.shape[0]
        and x.dtype == torch.float32
        and y.dtype == torch.float32
        and x.device.type == "cpu"
        and y.device.type == "cpu"
        and _usable()
    )


def _dense_product(x: torch.Tensor, weight_t: torch.Tensor) -> torch.Tensor:
    """``x @ weight_t.T`` on oneDNN (``weight_t``: the right operand transposed, ``(n, k)``)."""
    return _linear(x.contiguous().to_mkldnn(), weight_t.contiguous().to_mkldnn()).to_dense()


class _MatMul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, y)
        return _dense_product(x.detach(), y.detach().t())

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, y = ctx.saved_tensors
        dx = dy = None
        if torch.is_grad_enabled():  # a graph of the gradient is wanted: differentiable ops
            if ctx.needs_input_grad[0]:
                dx = grad @ y.t()
            if ctx.needs_input_grad[1]:
                dy = x.t() @ grad
            return dx, dy
        if ctx.needs_input_grad[0]:
            dx = _dense_product(grad, y.detach())
        if ctx.needs_input_grad[1]:
            dy = torch.mm(x.detach().t(), grad)
        return dx, dy


def matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``x @ y`` (``takes(x, y)`` holds); ``torch.matmul`` if oneDNN refuses the call."""
    try:
        return _MatMul.apply(x, y)
    except RuntimeError:
        _state["refused"] = True
        return torch.matmul(x, y)
