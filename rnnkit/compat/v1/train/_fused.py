"""One-pass optimizer updates (numba), for large variables such as embeddings and LSTM kernels: the
arithmetic of TensorFlow's ``ApplyAdam`` and ``ApplyRMSProp``/``ApplyCenteredRMSProp`` kernels in the
variable's dtype, element by element, instead of a chain of torch ops that each read and write the
whole matrix (the chapter's word2vec step, two 50000x150 matrices: 82 ms with torch ops, 34 ms in one
pass, 14-19 ms split over the 2 threads of this VM; RMSProp on a 2-layer LSTM(512)'s 3.1M weights:
six torch ops a variable, 3.8 ms a step in them alone).

Each update is one ``prange`` loop (:func:`rnnkit.compat.v1._kernels.run_prange`), split over numba's
threads only for variables of :data:`THREADED_ELEMENTS` or more and while torch computes on several
threads (``Session.run`` lowers torch to one while other processes keep the cores busy), else run on
one of them. Below that size, or on a busy machine, the threads only cost their meeting: a
32768-element update took 12 us on one thread at a load of 5 on 2 cores, and a scheduler slice
(12-16 ms) at the median on two. Numba compiles a ``prange`` loop into vector instructions where a
plain loop calling the same per-element helper was not (2M float32 elements on one thread: 0.75 ms
against 4 ms for Adam's and 46 ms for RMSProp's plain loops over the same helpers); each
element is computed by the same formula either way, so one thread and several give the same values.
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit, prange

from rnnkit.compat.v1._kernels import run_prange

# A variable needs at least this many elements before the one-pass kernel pays for its call.
MIN_ELEMENTS = 1 << 14


# ... and this many before its pass is split over numba's threads (measured at a load of 5 on 2
# cores, one thread: 64K elements 19 us, 256K 51 us, 1M 175 us; two threads: 1M 126-163 us)
THREADED_ELEMENTS = 1 << 20


@njit(cache=True, fastmath=False, nogil=True)
def _adam_at(i, var, m, v, g, alpha, b1, b2, eps):  # pragma: no cover - compiled
    gi = g[i]
    mi = m[i] + (gi - m[i]) * b1
    vi = v[i] + (gi * gi - v[i]) * b2
    m[i] = mi
    v[i] = vi
    var[i] = var[i] - (mi * alpha) / (np.sqrt(vi) + eps)


@njit(cache=True, fastmath=False, nogil=True, parallel=True)
def _adam_kernel(var, m, v, g, alpha, b1, b2, eps):  # pragma: no cover - compiled
    for i in prange(var.size):
        _adam_at(i, var, m, v, g, alpha, b1, b2, eps)


@njit(cache=True, fastmath=False, nogil=True)
def _rmsprop_at(i, var, ms, mom, mg, g, rho1, momentum, lr, eps, centered):  # pragma: no cover
    gi = g[i]
    msi = ms[i] + (gi * gi - ms[i]) * rho1
    ms[i] = msi
    if centered:
        mgi = mg[i] + (gi - mg[i]) * rho1
        mg[i] = mgi
        denom = (msi - mgi * mgi) + eps
    else:
        denom = msi + eps
    momi = mom[i] * momentum + (gi * lr) / np.sqrt(denom)
    mom[i] = momi
    var[i] = var[i] - momi


@njit(cache=True, fastmath=False, nogil=True, parallel=True)
def _rmsprop_kernel(var, ms, mom, mg, g, rho1, momentum, lr, eps, centered):  # pragma: no cover
    for i in prange(var.size):
        _rmsprop_at(i, var, ms, mom, mg, g, rho1, momentum, lr, eps, centered)


def usable(*tensors: torch.Tensor) -> bool:
    t = tensors[0]
    return (
        t.device.type == "cpu"
        and t.numel() >= MIN_ELEMENTS
        and t.dtype in (torch.float32, torch.float64)
        and all(x.is_contiguous() and x.dtype == t.dtype and not x.requires_grad for x in tensors)
    )


def _run(kernel, var: torch.Tensor, arrays: list[torch.Tensor], scalars: tuple) -> None:
    """``kernel`` over flat views (the kernels write the variable and its slots in place: ``view``
    raises rather than copy), on numba's threads for a large variable, else on one."""
    flat = [t.view(-1).numpy() for t in arrays]
    run_prange(kernel, var.numel() >= THREADED_ELEMENTS, *flat, *scalars)


def adam(
    var: torch.Tensor, m: torch.Tensor, v: torch.Tensor, g: torch.Tensor, alpha, b1, b2, eps
) -> None:
    dt = var.numpy().dtype.type
    scalars = (dt(alpha), dt(b1), dt(b2), dt(eps))
    _run(_adam_kernel, var, [var, m, v, g], scalars)


def rmsprop(var, ms, mom, mg, g, rho1, momentum, lr, eps) -> None:
    """TF's RMSProp update in place; ``mg`` None unless centered. ``rho1`` is ``1 - decay``."""
    dt = var.numpy().dtype.type
    centered = mg is not None
    scalars = (dt(rho1), dt(momentum), dt(lr), dt(eps), centered)
    arrays = [var, ms, mom, mg if centered else ms, g]  # an unread stand-in for mg
    _run(_rmsprop_kernel, var, arrays, scalars)
