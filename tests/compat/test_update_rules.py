"""The optimizers of ``tf.train`` (``train/optimizer.py`` and one module per rule) against TF1's
documented update rules, step by step on a quadratic; their slots, ``compute_gradients`` /
``apply_gradients``, and Adam's one-pass kernel. Their replay against TensorFlow's own numbers is
``test_optimizers.py``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnkit.compat.v1 as tf
from tests.compat._helpers import close, rng

W0 = np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float64)
TARGET = np.array([[1.0, 2.0], [-1.0, 0.5]], dtype=np.float64)


def _grad(w):
    return 2 * (w - TARGET)  # d/dw sum((w - target)^2)


def _reference(name, steps):
    """TF1's documented formulas (training/*.py, the Apply* kernels), in numpy. Hyperparameters
    given as Python numbers are float32 tensors in TF, cast to the variables' float64; Adam's
    beta powers are float32 variables."""
    f = lambda c: float(np.float32(c))  # noqa: E731
    w, out = W0.copy(), []
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    ms = np.ones_like(w)  # RMSProp's ms slot starts at ONE
    mg = np.zeros_like(w)
    acc = np.full_like(w, 0.1)  # Adagrad's initial accumulator
    lr = f(0.1)
    p1, p2 = np.float32(0.9), np.float32(0.999)
    for _ in range(steps):
        g = _grad(w)
        if name == "sgd":
            w = w - lr * g
        elif name in ("momentum", "nesterov"):
            m = f(0.9) * m + g
            w = w - (lr * g + lr * f(0.9) * m if name == "nesterov" else lr * m)
        elif name == "adam":
            m = m + (g - m) * (1 - f(0.9))
            v = v + (g * g - v) * (1 - f(0.999))
            lr_t = lr * np.sqrt(1 - float(p2)) / (1 - float(p1))
            w = w - lr_t * m / (np.sqrt(v) + f(1e-8))
            p1, p2 = p1 * np.float32(0.9), p2 * np.float32(0.999)
        elif name in ("rmsprop", "rmsprop_centered"):
            ms = ms + (g * g - ms) * (1 - f(0.9))
            denom = ms + f(1e-10)
            if name == "rmsprop_centered":
                mg = mg + (g - mg) * (1 - f(0.9))
                denom = ms - mg * mg + f(1e-10)
            m = f(0.5) * m + lr * g / np.sqrt(denom)
            w = w - m
        elif name == "adagrad":
            acc = acc + g * g
            w = w - lr * g / np.sqrt(acc)
        out.append(w.copy())
    return out


OPTIMIZERS = {
    "sgd": lambda: tf.train.GradientDescentOptimizer(0.1),
    "momentum": lambda: tf.train.MomentumOptimizer(0.1, 0.9),
    "nesterov": lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    "adam": lambda: tf.train.AdamOptimizer(0.1),
    "rmsprop": lambda: tf.train.RMSPropOptimizer(0.1, momentum=0.5),
    "rmsprop_centered": lambda: tf.train.RMSPropOptimizer(0.1, momentum=0.5, centered=True),
    "adagrad": lambda: tf.train.AdagradOptimizer(0.1),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizers_follow_tf1_update_rules_and_count_global_steps(name):
    w = tf.Variable(W0, name="w")
    loss = tf.reduce_sum(tf.square(w - TARGET))
    step = tf.Variable(0, trainable=False, name="global_step")
    train = OPTIMIZERS[name]().minimize(loss, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for k, ref in enumerate(_reference(name, 5), start=1):
            sess.run(train)
            close(sess.run(w), ref, tol=1e-10)
            assert sess.run(step) == k


def test_optimizer_slots_are_named_variables_initialized_like_tf1():
    w = tf.Variable(np.zeros((2, 3), np.float32), name="dense/kernel")
    loss = tf.reduce_sum(w * w)
    opt = tf.train.AdamOptimizer()
    opt.minimize(loss)
    rms = tf.train.RMSPropOptimizer(0.1)
    rms.minimize(loss)
    names = [v.op.name for v in tf.global_variables()]
    assert names == [
        "dense/kernel", "beta1_power", "beta2_power", "dense/kernel/Adam", "dense/kernel/Adam_1",
        "dense/kernel/RMSProp", "dense/kernel/RMSProp_1",
    ]  # fmt: skip
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        close(sess.run("beta1_power:0"), 0.9)
        close(sess.run(rms.get_slot(w, "rms")), np.ones((2, 3)))
        close(sess.run(opt.get_slot(w, "m")), np.zeros((2, 3)))


def test_compute_and_apply_gradients_with_clipping():
    w = tf.Variable(np.array([3.0, 4.0], np.float32))
    loss = tf.reduce_sum(w * w)  # gradient 2w = (6, 8), global norm 10
    opt = tf.train.GradientDescentOptimizer(1.0)
    grads_and_vars = opt.compute_gradients(loss)
    grads, variables = zip(*grads_and_vars)
    clipped, norm = tf.clip_by_global_norm(grads, 5.0)
    capped = [(tf.clip_by_value(g, -2.0, 2.0), v) for g, v in grads_and_vars]
    train = opt.apply_gradients(zip(clipped, variables))
    train_capped = opt.apply_gradients(capped)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        close(sess.run(norm), 10.0)
        sess.run(train)
        close(sess.run(w), [3.0 - 3.0, 4.0 - 4.0])
        sess.run(tf.global_variables_initializer())
        sess.run(train_capped)
        close(sess.run(w), [1.0, 2.0])


def test_minimize_without_a_path_to_the_variables_is_refused():
    w = tf.Variable(1.0)
    with pytest.raises(ValueError, match="No gradients provided"):
        tf.train.GradientDescentOptimizer(0.1).minimize(tf.constant(1.0) + 0.0, var_list=[w])


def test_adam_one_pass_kernel_equals_the_torch_ops(monkeypatch):
    from rnnkit.compat.v1.train import _fused

    def run(min_elements):
        monkeypatch.setattr(_fused, "MIN_ELEMENTS", min_elements)
        tf.reset_default_graph()
        gen = rng(7)
        w = tf.Variable(gen.normal(size=(64, 33)).astype(np.float32))
        x = tf.constant(gen.normal(size=(5, 64)).astype(np.float32))
        loss = tf.reduce_sum(tf.square(tf.matmul(x, w)))
        train = tf.train.AdamOptimizer(0.1).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(4):
                sess.run(train)
            return sess.run(w)

    fused, plain = run(1), run(10**9)  # the kernel on, then off
    np.testing.assert_allclose(fused, plain, rtol=1e-5, atol=1e-6)  # float32 rounding


@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threaded", [False, True])
def test_rmsprop_one_pass_kernel_is_tf_arithmetic_element_by_element(
    monkeypatch, centered, dtype, threaded
):
    """TF's ApplyRMSProp / ApplyCenteredRMSProp, each operation rounded to the dtype, with a
    correctly rounded square root (as TF's: it equals this NumPy formula on 100,000 random float32
    elements, where torch's float32 sqrt differs in the last bit on ~20% of them)."""
    from rnnkit.compat.v1.train import _fused

    monkeypatch.setattr(_fused, "THREADED_ELEMENTS", 1 if threaded else 1 << 40)
    gen = rng(11)
    n = 5000
    var, mom, g = (gen.normal(size=n).astype(dtype) for _ in range(3))
    ms, mg = gen.uniform(0.5, 2, size=n).astype(dtype), gen.normal(size=n).astype(dtype) * 0.1
    d = np.dtype(dtype).type
    rho1, momentum, lr, eps = d(1) - d(0.8), d(0.5), d(0.01), d(1e-10)
    want_ms = ms + (g * g - ms) * rho1
    want_mg = mg + (g - mg) * rho1 if centered else mg
    denom = (want_ms - want_mg * want_mg) + eps if centered else want_ms + eps
    want_mom = mom * momentum + (g * lr) / np.sqrt(denom)
    want_var = var - want_mom
    t = [torch.from_numpy(a.copy()) for a in (var, ms, mom, mg, g)]
    _fused.rmsprop(t[0], t[1], t[2], t[3] if centered else None, t[4], rho1, momentum, lr, eps)
    for got, want in zip(t[:4], (want_var, want_ms, want_mom, want_mg)):
        np.testing.assert_array_equal(got.numpy(), want)


def test_rmsprop_takes_the_one_pass_kernel_for_large_variables(monkeypatch):
    from rnnkit.compat.v1.train import _fused

    calls = []
    monkeypatch.setattr(_fused, "rmsprop", lambda *a: calls.append(a[0].shape))
    tf.reset_default_graph()
    w = tf.Variable(np.ones((256, 128), np.float32))  # 32768 elements: the kernel's
    b = tf.Variable(np.ones(8, np.float32))  # below MIN_ELEMENTS: torch's ops
    loss = tf.reduce_sum(tf.square(w)) + tf.reduce_sum(tf.square(b))
    train = tf.train.RMSPropOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        assert calls == [(256, 128)]
        np.testing.assert_array_less(sess.run(b), 1.0)  # the small one moved on torch's ops
