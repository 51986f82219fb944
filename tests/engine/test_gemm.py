"""rnnkit.engine.gemm: oneDNN's matmul for float32 products from MIN_MACS multiply-adds: the same
values as a float64 product for every operand layout the engine and compat hand it (transposed
views, row and column slices), accumulation, and torch's mm where oneDNN is off, refuses, or the
product is small or not float32."""

from __future__ import annotations

import pytest
import torch

from rnnkit.engine import gemm


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch):
    monkeypatch.setitem(gemm._state, "refused", False)
    monkeypatch.setattr(gemm, "MIN_MACS", 1)


def _layouts():
    g = torch.Generator().manual_seed(0)
    base = torch.randn(90, 80, generator=g)
    yield "dense", torch.randn(30, 20, generator=g), torch.randn(20, 25, generator=g)
    yield "a transposed", base[:20, :30].t(), torch.randn(20, 25, generator=g)
    yield "b transposed", torch.randn(30, 20, generator=g), base[:25, :20].t()
    yield "both transposed", base[:20, :30].t(), base[30:55, :20].t()
    yield "row steps and column slices", base[::3, 5:25], base[40:80:2, :25]
    yield "two rows", torch.randn(2, 20, generator=g), torch.randn(20, 25, generator=g)
    # broadcast gradients (a sum's): a zero stride on either side
    yield "expanded rows", _expanded(g, (1, 20), (30, 20)), _expanded(g, (1, 25), (20, 25))
    yield "expanded columns", _expanded(g, (30, 1), (30, 20)), _expanded(g, (20, 1), (20, 25))


def _expanded(g, shape, to):
    return torch.randn(*shape, generator=g).expand(*to)


@pytest.mark.parametrize("name", [n for n, _, _ in _layouts()])
def test_products_equal_a_float64_product(name):
    if not gemm.usable():
        pytest.skip("torch without oneDNN")
    a, b = next((a, b) for n, a, b in _layouts() if n == name)
    assert gemm.takes(a, b)
    want = a.double() @ b.double()
    torch.testing.assert_close(gemm.mm(a, b).double(), want, rtol=1e-5, atol=1e-5)
    out = torch.full(want.shape, 2.0)
    gemm.mm_into(a, b, out, accumulate=True)
    torch.testing.assert_close(out.double(), want + 2.0, rtol=1e-5, atol=1e-5)
    gemm.mm_into(a, b, out)
    torch.testing.assert_close(out.double(), want, rtol=1e-5, atol=1e-5)
    assert not gemm._state["refused"]


def test_nan_and_inf_propagate():
    a = torch.tensor([[float("nan"), 1.0], [float("inf"), 0.5]])
    got = gemm.mm(a, torch.ones(2, 3))
    assert got[0].isnan().all() and got[1].isinf().all()


def test_what_stays_on_torch(monkeypatch):
    a, b = torch.randn(8, 4), torch.randn(4, 6)
    assert not gemm.takes(a.double(), b.double())
    assert not gemm.takes(a[None], b[None])
    assert not gemm.takes(a, torch.randn(5, 6))
    assert not gemm.takes(a[:1], b) and not gemm.takes(a, b[:, :1])  # matrix-vector: torch's gemv
    c = torch.randn(40, 40)[::2, ::3]  # no unit stride: oneDNN would refuse it
    assert not gemm.takes(c[:8, :4], b) and not gemm._state["refused"]
    torch.testing.assert_close(gemm.mm(c[:8, :4], b), c[:8, :4] @ b)
    monkeypatch.setattr(gemm, "MIN_MACS", 8 * 4 * 6 + 1)
    assert not gemm.takes(a, b)
    enabled = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False  # the user's switch, read on each call
    try:
        monkeypatch.setattr(gemm, "MIN_MACS", 1)
        assert not gemm.takes(a, b)
        torch.testing.assert_close(gemm.mm(a, b), a @ b)
    finally:
        torch.backends.mkldnn.enabled = enabled
    # an empty contraction (oneDNN refuses k = 0) never reaches oneDNN
    monkeypatch.setattr(gemm, "MIN_MACS", gemm.MIN_MACS)
    assert not gemm.takes(torch.zeros(5, 0), torch.zeros(0, 3)) or gemm.MIN_MACS <= 0


def test_a_refusal_falls_back_to_torch_for_good(monkeypatch):
    calls = []

    def refuse(*args):
        calls.append(1)
        raise RuntimeError("could not create a primitive")

    monkeypatch.setattr(gemm, "_pointwise", refuse)
    a, b = torch.randn(5, 4), torch.randn(4, 3)
    torch.testing.assert_close(gemm.mm(a, b), a @ b)
    out = torch.ones(5, 3)
    gemm.mm_into(a, b, out, accumulate=True)
    torch.testing.assert_close(out, a @ b + 1)
    assert calls == [1] and gemm._state["refused"] and not gemm.takes(a, b)
