"""Kernels shared by the compat ops.

Torch functions with TensorFlow's gradients where torch's differ: at a tie torch's
``maximum``/``minimum`` split the gradient in halves; TensorFlow's MaximumGrad and MinimumGrad give
all of it to the first argument. ``math_ops`` (``tf.maximum``, ``tf.clip_by_value``) and
``gradients`` (``clip_by_norm``, ``clip_by_global_norm``) both need TF's rule.

:func:`run_prange` runs one ``prange`` kernel on numba's threads or on one of them (the
cross-entropy kernel, the one-pass optimizer updates), through :func:`run_numba`, which picks
between a split kernel and a one-thread one; both keep torch's thread count as it was.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numba
import torch

__all__ = ["max_kernel", "min_kernel", "run_numba", "run_prange"]


def run_numba(
    one: Callable[..., Any], threads: Callable[..., Any], split: bool, *args: Any
) -> None:
    """``threads(*args)`` (a ``prange`` kernel) when ``split`` and torch computes on several
    threads (``Session.run`` lowers torch to one while other processes keep the cores busy), else
    ``one(*args)``, the same arithmetic on the calling thread."""
    torch_threads = torch.get_num_threads()
    (threads if split and torch_threads > 1 else one)(*args)
    if torch.get_num_threads() != torch_threads:
        # numba's threading layer, started by its first call that needs it, sets the calling
        # thread's OpenMP count (torch's) to numba's own: the user's choice is put back
        torch.set_num_threads(torch_threads)


def run_prange(kernel: Callable[..., Any], split: bool, *args: Any) -> None:
    """``kernel(*args)``, a ``prange`` kernel, as :func:`run_numba` decides: split over numba's
    threads, or else on one of them (numba's count for this thread lowered to one around the call;
    about 2.5 us), where numba's ``prange`` lowering still gives its loop vector instructions."""
    run_numba(functools.partial(_on_one_thread, kernel), kernel, split, *args)


def _on_one_thread(kernel: Callable[..., Any], *args: Any) -> None:
    n = numba.get_num_threads()  # (starts numba's threading layer on the first call)
    numba.set_num_threads(1)
    try:
        kernel(*args)
    finally:
        numba.set_num_threads(n)


def max_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``max(a, b)``, NaN if either is; at a tie the gradient goes to ``a`` alone (TensorFlow's
    MaximumGrad: ``x >= y``), where torch's ``maximum`` splits it in halves."""
    return torch.where((a >= b) | torch.isnan(a), a, b)


def min_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``min(a, b)``; at a tie the gradient goes to ``a`` alone (TensorFlow's MinimumGrad)."""
    return torch.where((a <= b) | torch.isnan(a), a, b)
