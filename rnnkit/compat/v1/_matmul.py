"""Float32 ``tf.matmul`` products on oneDNN's matmul (:mod:`rnnkit.engine.gemm`), as an autograd node.

Why: a language model's output projection, ``(batch * steps, H) @ (H, V)``, is often the largest
product of its training step, and on the AMD CPUs this was measured on torch's own ``mm`` runs at
about half of oneDNN's speed (:mod:`rnnkit.engine.gemm` has the numbers). The forward product and
both gradients (``g @ b^T``, ``a^T @ g``) take oneDNN from :data:`rnnkit.engine.gemm.MIN_MACS`
multiply-adds; smaller products, other dtypes and batched products stay on ``torch.matmul``. A
backward that records a graph (second derivatives) uses differentiable torch ops instead. Where
oneDNN is unavailable or refuses a call, ``torch.mm`` runs (:mod:`rnnkit.engine.gemm`).
"""

from __future__ import annotations

import torch

from rnnkit.engine import gemm

__all__ = ["takes", "matmul", "product"]


def takes(x: torch.Tensor, y: torch.Tensor) -> bool:
    """Whether ``x @ y`` runs here: two 2-D float32 CPU tensors the oneDNN route takes."""
    return gemm.takes(x, y)


class _MatMul(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, y)
        return gemm.mm(x.detach(), y.detach())

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
            dx = gemm.mm(grad, y.detach().t())
        if ctx.needs_input_grad[1]:
            dy = gemm.mm(x.detach().t(), grad)
        return dx, dy


def matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``x @ y`` (``takes(x, y)`` holds) as one autograd node."""
    return _MatMul.apply(x, y)


def product(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``x @ y`` as ``tf.matmul`` and ``tf.layers.dense`` compute it: the oneDNN node where
    :func:`takes` holds, else ``torch.matmul``."""
    return matmul(x, y) if takes(x, y) else torch.matmul(x, y)
