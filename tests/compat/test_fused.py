"""The one-pass Adam update: the same values on one thread and split over numba's threads, and the
split only for large variables while torch computes on several threads; ``run_prange`` runs a kernel
on one of numba's threads unless told to split, and keeps torch's thread count."""

from __future__ import annotations

import os
import subprocess
import sys

import numba
import numpy as np
import pytest
import torch

from rnnkit.compat.v1 import _kernels
from rnnkit.compat.v1.train import _fused


def _state(n: int, dtype: torch.dtype) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(n)
    var, m, g = (torch.randn(n, generator=gen, dtype=dtype) for _ in range(3))
    v = torch.rand(n, generator=gen, dtype=dtype)
    return [var, m, v, g]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_one_thread_and_threads_agree_exactly(dtype):
    a, b = _state(70_001, dtype), _state(70_001, dtype)
    dt = a[0].numpy().dtype.type
    scalars = (dt(0.01), dt(0.1), dt(0.001), dt(1e-8))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        _kernels.run_prange(_fused._adam_kernel, False, *(t.numpy() for t in a), *scalars)
        _kernels.run_prange(_fused._adam_kernel, True, *(t.numpy() for t in b), *scalars)
    finally:
        torch.set_num_threads(before)
    for x, y in zip(a[:3], b[:3]):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    # against the formula in float64
    var, m, v, g = (t.double() for t in _state(70_001, dtype))
    m_ref = m + (g - m) * 0.1
    v_ref = v + (g * g - v) * 0.001
    ref = var - (m_ref * 0.01) / (v_ref.sqrt() + 1e-8)
    np.testing.assert_allclose(a[0].double().numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("n", "split"), [(1 << 14, False), ((1 << 20) - 1, False), (1 << 20, True)]
)
def test_threads_only_for_large_variables(monkeypatch, n, split):
    used = []
    monkeypatch.setattr(_fused, "run_prange", lambda kernel, s, *a: used.append(s))
    var, m, v, g = (torch.zeros(n) for _ in range(4))
    _fused.adam(var, m, v, g, 0.01, 0.1, 0.001, 1e-8)
    _fused.rmsprop(var, m, v, None, g, 0.1, 0.0, 0.01, 1e-10)
    assert used == [split, split]


@numba.njit(parallel=True)
def _threads_seen(out):  # pragma: no cover - compiled
    for i in numba.prange(out.size):
        out[i] = numba.get_num_threads()


@pytest.mark.parametrize(
    ("split", "torch_threads", "one"), [(False, 2, True), (True, 1, True), (True, 2, False)]
)
def test_run_prange_splits_only_when_told_and_torch_has_threads(split, torch_threads, one):
    before, numba_before = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(torch_threads)
    out = np.zeros(4, dtype=np.int64)
    try:
        _kernels.run_prange(_threads_seen, split, out)
        assert torch.get_num_threads() == torch_threads
    finally:
        torch.set_num_threads(before)
    assert (out == 1).all() if one else (out == numba_before).all()
    assert numba.get_num_threads() == numba_before  # numba's own count put back


def test_first_threaded_update_keeps_torch_thread_count():
    """numba's OpenMP layer sets the calling thread's count when it starts; the update puts torch's
    back (a fresh process, so that this update is the one that starts it)."""
    code = (
        "import torch\n"
        "torch.set_num_threads(3)\n"
        "from rnnkit.compat.v1.train import _fused\n"
        "var, m, v, g = (torch.zeros(1 << 20) for _ in range(4))\n"
        "_fused.adam(var, m, v, g, 0.01, 0.1, 0.001, 1e-8)\n"
        "print(torch.get_num_threads())\n"
    )
    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-1] == "3"
