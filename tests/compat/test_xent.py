"""TF's ``SoftmaxCrossEntropyWithLogits`` kernel for large inputs (``_xent``): the same values and
gradients as the composite of torch ops it replaces (labels that do not sum to one, another axis,
float64, gradients to the labels and second derivatives), and TensorFlow's recorded results of the
cross-entropy programs in ``tests/fixtures/tf1_diff`` replayed through it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnkit.compat.v1 as tf
from rnnkit.compat.v1 import _xent
from tests.compat._helpers import rng, weighted_value_and_grads
from tests.compat.test_diff_fixtures import META, _tf_result, interp


def _loss_and_grads(x, z, axis, min_elements, monkeypatch, second=False):
    monkeypatch.setattr(_xent, "MIN_ELEMENTS", min_elements)
    tf.reset_default_graph()
    X, Z = tf.constant(x), tf.constant(z)
    loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=Z, logits=X, axis=axis)
    return weighted_value_and_grads(loss, [X, Z], second_wrt=0 if second else None)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [-1, 0])
def test_the_fused_kernel_computes_tfs_formulas(monkeypatch, dtype, axis):
    gen = rng(5)
    x = (gen.normal(size=(40, 300)) * 4).astype(dtype)
    z = gen.uniform(0, 1, size=x.shape).astype(dtype)  # rows do not sum to one: TF's softmax - z
    calls = []
    real = _xent.softmax_xent
    monkeypatch.setattr(_xent, "softmax_xent", lambda *a: calls.append(1) or real(*a))
    fused = _loss_and_grads(x, z, axis, 1, monkeypatch)
    assert calls  # the kernel ran
    plain = _loss_and_grads(x, z, axis, 1 << 40, monkeypatch)
    assert len(calls) == 1  # and the composite did not call it
    # TF's kernel in float64: loss sum(z * (lse - x)), gradients w * (softmax - z) and -w * logp
    x64, z64 = x.astype(np.float64), z.astype(np.float64)
    shifted = x64 - x64.max(axis, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis, keepdims=True))
    w = np.expand_dims(rng(2).uniform(0.5, 2, size=fused[0].shape).astype(dtype), axis)
    want = [
        (z64 * (lse - shifted)).sum(axis),
        w * (np.exp(shifted - lse) - z64),
        -w * (shifted - lse),
    ]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for got, ref in zip(fused, want):
        np.testing.assert_allclose(got, ref, rtol=tol, atol=tol * np.abs(ref).max())
    # the composite agrees as far as its own rounding goes (it cancels sum(z) * softmax terms)
    for got, ref in zip(plain, want):
        np.testing.assert_allclose(got, ref, rtol=1e3 * tol, atol=1e3 * tol * np.abs(ref).max())


def test_second_derivatives_through_the_fused_kernel(monkeypatch):
    gen = rng(9)
    x = gen.normal(size=(16, 50)).astype(np.float64)
    z = gen.uniform(0, 1, size=x.shape).astype(np.float64)
    fused = _loss_and_grads(x, z, -1, 1, monkeypatch, second=True)
    plain = _loss_and_grads(x, z, -1, 1 << 40, monkeypatch, second=True)
    assert np.abs(plain[3]).max() > 0
    np.testing.assert_allclose(fused[3], plain[3], rtol=1e-8, atol=1e-10)


def test_nan_and_large_logits_follow_the_composite(monkeypatch):
    x = np.array([[1000.0, 0.0, -1000.0], [np.nan, 1.0, 2.0], [88.0, 89.0, 90.0]], np.float32)
    z = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.2, 0.3, 0.5]], np.float32)
    fused = _loss_and_grads(x, z, -1, 1, monkeypatch)
    plain = _loss_and_grads(x, z, -1, 1 << 40, monkeypatch)
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-6)  # NaN where the composite is NaN


def test_broadcast_labels_and_mixed_dtypes_keep_the_composite():
    big = torch.zeros(300, 300)
    assert _xent.takes(big, big)
    assert _xent.takes(big[:10, :3], big[:10, :3])  # few rows and classes: the kernel too
    assert not _xent.takes(big, torch.zeros(1, 300))  # broadcasting: torch's ops
    assert not _xent.takes(big, big.double())
    assert not _xent.takes(big[:, :0], big[:, :0])  # no classes


CASES = sorted(
    n for n in META if "." not in n and "softmax_cross_entropy" in str(META[n]["program"])
)


@pytest.mark.parametrize("name", CASES)
def test_tensorflows_recorded_cross_entropy_cases_through_the_fused_kernel(name, monkeypatch):
    monkeypatch.setattr(_xent, "MIN_ELEMENTS", 1)
    got = interp.run(tf, META[name]["program"], None)
    assert interp.compare(got, _tf_result(name)) == []


def test_there_are_recorded_cross_entropy_cases():
    assert len(CASES) >= 3


def test_the_float32_exp_is_within_about_one_ulp():
    from numba import njit

    @njit
    def run(x, m, out, poly, bits):
        _xent._exp_shifted(x, m, out, poly, bits, bits.view(np.float32))

    x = np.concatenate([np.linspace(-86.9, 0, 200001), [-87.5, -1e4, np.nan]]).astype(np.float32)
    out = np.empty_like(x)
    run(x, np.float32(0), out, np.empty_like(x), np.empty(x.shape, np.int32))
    want = np.exp(x[:-3].astype(np.float64))
    rel = np.abs(out[:-3] - want) / want
    assert rel.max() < 2.5e-7  # float32's ulp is 6e-8 to 1.2e-7 relative
    assert out[-3] == 0 and out[-2] == 0 and np.isnan(out[-1])


@pytest.mark.parametrize("rows", [1, 3, 200])
@pytest.mark.parametrize("threads", [1, 2])
def test_one_row_and_many_rows_on_either_thread_count(rows, threads):
    """A single row (its own plain kernel) and several (the prange kernel, split or on one numba
    thread) give TF's loss and backprop, and the same bits on one torch thread as on two."""
    gen = rng(7)
    x = torch.from_numpy((gen.normal(size=(rows, 50)) * 3).astype(np.float32))
    z = torch.from_numpy(gen.uniform(0, 1, size=(rows, 50)).astype(np.float32))
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        xr = x.clone().requires_grad_()
        loss = _xent.softmax_xent(xr, z, -1)
        torch.set_num_threads(3 - threads)
        other = _xent.softmax_xent(x, z, -1)
    finally:
        torch.set_num_threads(old)
    x64, z64 = x.double().numpy(), z.double().numpy()
    shifted = x64 - x64.max(-1, keepdims=True)
    lse = np.log(np.exp(shifted).sum(-1, keepdims=True))
    np.testing.assert_allclose(loss.detach().numpy(), (z64 * (lse - shifted)).sum(-1), rtol=1e-5)
    assert torch.equal(loss.detach(), other)
    (grad,) = torch.autograd.grad(loss.sum(), [xr])
    np.testing.assert_allclose(grad.numpy(), np.exp(shifted - lse) - z64, rtol=1e-5, atol=1e-6)
