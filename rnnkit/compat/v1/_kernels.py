"""Torch functions with TensorFlow's gradients where torch's differ, shared by the compat ops.

At a tie torch's ``maximum``/``minimum`` split the gradient in halves; TensorFlow's MaximumGrad and
MinimumGrad give all of it to the first argument. ``math_ops`` (``tf.maximum``, ``tf.clip_by_value``)
and ``gradients`` (``clip_by_norm``, ``clip_by_global_norm``) both need TF's rule.
"""

from __future__ import annotations

import torch

__all__ = ["max_kernel", "min_kernel"]


def max_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``max(a, b)``, NaN if either is; at a tie the gradient goes to ``a`` alone (TensorFlow's
    MaximumGrad: ``x >= y``), where torch's ``maximum`` splits it in halves."""
    return torch.where((a >= b) | torch.isnan(a), a, b)


def min_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``min(a, b)``; at a tie the gradient goes to ``a`` alone (TensorFlow's MinimumGrad)."""
    return torch.where((a <= b) | torch.isnan(a), a, b)
