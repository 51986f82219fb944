"""Kernels shared by the compat ops.

Torch functions with TensorFlow's gradients where torch's differ: at a tie torch's
``maximum``/``minimum`` split the gradient in halves; TensorFlow's MaximumGrad and MinimumGrad give
all of it to the first argument. ``math_ops`` (``tf.maximum``, ``tf.clip_by_value``) and
``gradients`` (``clip_by_norm``, ``clip_by_global_norm``) both need TF's rule.

:func:`run_numba` calls a compiled kernel or its twin split over numba's threads (the one-pass
optimizer updates, the cross-entropy kernel), keeping torch's thread count as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

__all__ = ["max_kernel", "min_kernel", "run_numba"]


def run_numba(
    one: Callable[..., Any], threads: Callable[..., Any], split: bool, *args: Any
) -> None:
    """``threads(*args)`` (a ``prange`` kernel) when ``split`` and torch computes on several
    threads (``Session.run`` lowers torch to one while other processes keep the cores busy), else
    ``one(*args)``, the same arithmetic on the calling thread."""
    torch_threads = torch.get_num_threads()
    if not (split and torch_threads > 1):
        one(*args)
        return
    threads(*args)
    if torch.get_num_threads() != torch_threads:
        # numba's OpenMP layer, started by its first threaded call, sets the calling thread's
        # OpenMP count (torch's) to numba's own: the user's choice is put back
        torch.set_num_threads(torch_threads)


def max_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``max(a, b)``, NaN if either is; at a tie the gradient goes to ``a`` alone (TensorFlow's
    MaximumGrad: ``x >= y``), where torch's ``maximum`` splits it in halves."""
    return torch.where((a >= b) | torch.isnan(a), a, b)


def min_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``min(a, b)``; at a tie the gradient goes to ``a`` alone (TensorFlow's MinimumGrad)."""
    return torch.where((a <= b) | torch.isnan(a), a, b)
