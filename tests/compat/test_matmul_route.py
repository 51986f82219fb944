"""Large float32 ``tf.matmul`` products on oneDNN (``rnnkit.platform.gemm.product``): the same
values and gradients as torch's product, transposed operands, second derivatives, and the fallback
when oneDNN refuses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnkit.compat.v1 as tf
from rnnkit.platform import gemm
from tests.compat._helpers import rng, weighted_value_and_grads


@pytest.fixture(autouse=True)
def onednn_route(monkeypatch):
    monkeypatch.setitem(gemm._state, "refused", False)
    monkeypatch.setattr(gemm, "retaining", lambda: 1 << 30)  # MIN_MACS applies


def _count_nodes(monkeypatch) -> list:
    """A list that grows by one for each oneDNN node recorded."""
    calls: list = []
    real = gemm._Linear.apply
    monkeypatch.setattr(gemm._Linear, "apply", lambda *a: calls.append(1) or real(*a))
    return calls


def _run(a, b, transpose_b, min_macs, monkeypatch, second=False):
    monkeypatch.setattr(gemm, "MIN_MACS", min_macs)
    tf.reset_default_graph()
    A, B = tf.Variable(a), tf.Variable(b)
    y = tf.matmul(A, B, transpose_b=transpose_b)
    return weighted_value_and_grads(y, [A, B], second_wrt=1 if second else None)


@pytest.mark.parametrize("transpose_b", [False, True])
def test_the_onednn_route_equals_torchs_product(monkeypatch, transpose_b):
    if not gemm.usable():
        pytest.skip("torch without oneDNN")
    gen = rng(4)
    a = gen.normal(size=(60, 48)).astype(np.float32)
    b = gen.normal(size=(70, 48) if transpose_b else (48, 70)).astype(np.float32)
    calls = _count_nodes(monkeypatch)
    routed = _run(a, b, transpose_b, 1, monkeypatch, second=True)
    assert calls
    plain = _run(a, b, transpose_b, 1 << 60, monkeypatch, second=True)
    assert len(calls) == 1
    want = a @ (b.T if transpose_b else b)
    np.testing.assert_allclose(routed[0], want, rtol=1e-4, atol=1e-4)
    for got, ref in zip(routed, plain):
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())
    assert np.abs(routed[3]).max() > 0  # the second derivative through the route is not lost


def test_small_products_and_other_dtypes_stay_on_torch():
    big = torch.zeros(1024, 1024)
    assert gemm.takes(big, big) == gemm.usable()
    assert not gemm.takes(big[:8], big[:, :8])
    assert not gemm.takes(big.double(), big.double())
    assert not gemm.takes(big[None], big[None])
    enabled = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False  # the user's switch, read on each call
    try:
        assert not gemm.takes(big, big)
    finally:
        torch.backends.mkldnn.enabled = enabled


def test_a_refusal_falls_back_to_torch_for_good(monkeypatch):
    def refuse(*args):
        raise RuntimeError("could not create a primitive")

    monkeypatch.setattr(gemm, "_pointwise", refuse)
    monkeypatch.setattr(gemm, "MIN_MACS", 1)
    x, y = torch.randn(5, 4), torch.randn(4, 3)
    np.testing.assert_allclose(gemm.product(x, y), x @ y, rtol=1e-6)
    assert gemm._state["refused"] and not gemm.takes(
        torch.zeros(1024, 1024), torch.zeros(1024, 1024)
    )


@pytest.mark.parametrize("shape", [(12, 16), (3, 5, 16)])
def test_dense_layers_take_the_route_with_the_same_values(monkeypatch, shape):
    if not gemm.usable():
        pytest.skip("torch without oneDNN")
    x_value = rng(5).normal(size=shape).astype(np.float32)
    calls = _count_nodes(monkeypatch)

    def run(min_macs):
        monkeypatch.setattr(gemm, "MIN_MACS", min_macs)
        tf.reset_default_graph()
        tf.set_random_seed(3)
        x = tf.Variable(x_value)
        y = tf.layers.dense(x, 7, activation=tf.tanh)
        return weighted_value_and_grads(y, [x, *tf.trainable_variables()[1:]])

    routed = run(1)
    assert len(calls) >= 1
    n = len(calls)
    plain = run(1 << 60)
    assert len(calls) == n
    assert routed[0].shape == shape[:-1] + (7,)
    for got, ref in zip(routed, plain):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
