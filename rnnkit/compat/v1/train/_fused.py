"""One-pass optimizer updates (numba), for large variables such as embeddings: the arithmetic of
TensorFlow's ``ApplyAdam`` kernel in the variable's dtype, element by element, instead of a chain of
torch ops that each read and write the whole matrix, split across numba's threads (the chapter's
word2vec step, two 50000x150 matrices: 82 ms with torch ops, 34 ms in one pass, 14-19 ms on the
2 threads of this VM)."""

from __future__ import annotations

import numpy as np
import torch
from numba import njit, prange

# A variable needs at least this many elements before the one-pass kernel pays for its call.
MIN_ELEMENTS = 1 << 14


@njit(cache=True, fastmath=False, nogil=True, parallel=True)
def _adam(var, m, v, g, alpha, b1, b2, eps):  # pragma: no cover - compiled
    for i in prange(var.size):  # element-wise: the same values on any number of threads
        gi = g[i]
        mi = m[i] + (gi - m[i]) * b1
        vi = v[i] + (gi * gi - v[i]) * b2
        m[i] = mi
        v[i] = vi
        var[i] = var[i] - (mi * alpha) / (np.sqrt(vi) + eps)


def usable(*tensors: torch.Tensor) -> bool:
    t = tensors[0]
    return (
        t.device.type == "cpu"
        and t.numel() >= MIN_ELEMENTS
        and t.dtype in (torch.float32, torch.float64)
        and all(x.is_contiguous() and x.dtype == t.dtype and not x.requires_grad for x in tensors)
    )


def adam(
    var: torch.Tensor, m: torch.Tensor, v: torch.Tensor, g: torch.Tensor, alpha, b1, b2, eps
) -> None:
    dt = var.numpy().dtype.type
    _adam(var.view(-1).numpy(), m.view(-1).numpy(), v.view(-1).numpy(), g.reshape(-1).numpy(),
          dt(alpha), dt(b1), dt(b2), dt(eps))  # fmt: skip
