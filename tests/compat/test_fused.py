"""The one-pass Adam update: the same values on one thread and split over numba's threads, and the
split only for large variables while torch computes on several threads."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

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
    _fused._adam_one(*(t.numpy() for t in a), *scalars)
    _fused._adam_threads(*(t.numpy() for t in b), *scalars)
    for x, y in zip(a[:3], b[:3]):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    # against the formula in float64
    var, m, v, g = (t.double() for t in _state(70_001, dtype))
    m_ref = m + (g - m) * 0.1
    v_ref = v + (g * g - v) * 0.001
    ref = var - (m_ref * 0.01) / (v_ref.sqrt() + 1e-8)
    np.testing.assert_allclose(a[0].double().numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("n", "threads", "expected"),
    [(1 << 14, 2, "one"), ((1 << 20) - 1, 2, "one"), (1 << 20, 2, "threads"), (1 << 20, 1, "one")],
)
def test_threads_only_for_large_variables_with_torch_threads(monkeypatch, n, threads, expected):
    used = []
    monkeypatch.setattr(_fused, "_adam_one", lambda *a: used.append("one"))
    monkeypatch.setattr(_fused, "_adam_threads", lambda *a: used.append("threads"))
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        var, m, v, g = (torch.zeros(n) for _ in range(4))
        _fused.adam(var, m, v, g, 0.01, 0.1, 0.001, 1e-8)
    finally:
        torch.set_num_threads(before)
    assert used == [expected]


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
