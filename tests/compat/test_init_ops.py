"""Initializers (``init_ops.py``) under their Keras names, and ``tf.contrib.learn.ModeKeys``."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf


def test_mode_keys_and_keras_initializers():
    keys = tf.contrib.learn.ModeKeys
    assert (keys.TRAIN, keys.EVAL, keys.INFER) == ("train", "eval", "infer")
    w = tf.get_variable("w", [30, 20], initializer=tf.keras.initializers.glorot_uniform(seed=1))
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        v = s.run(w)
    limit = np.sqrt(6.0 / 50)
    assert np.abs(v).max() <= limit and np.abs(v).max() > 0.8 * limit


def _value(init, shape, name="v"):
    w = tf.get_variable(name, shape, initializer=init)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        return s.run(w)


@pytest.mark.parametrize("ns", ["initializers", "keras.initializers"])
@pytest.mark.parametrize(
    "name, scale, uniform",
    [("he_normal", 2.0, False), ("he_uniform", 2.0, True), ("lecun_normal", 1.0, False),
     ("lecun_uniform", 1.0, True)],
)  # fmt: skip
def test_he_and_lecun_are_variance_scaling_on_fan_in(ns, name, scale, uniform):
    init = getattr(eval(f"tf.{ns}"), name)(seed=3)
    assert init.get_config() == {
        "scale": scale, "mode": "fan_in",
        "distribution": "uniform" if uniform else "truncated_normal", "seed": 3, "dtype": "float32",
    }  # fmt: skip
    v = _value(init, [400, 300])
    std = np.sqrt(scale / 400)  # TensorFlow draws these with this standard deviation
    assert abs(v.std() - std) < 0.03 * std
    bound = np.sqrt(3) * std if uniform else 2 * std / 0.87962566103423978
    assert np.abs(v).max() <= bound * (1 + 1e-6) and np.abs(v).max() > 0.95 * bound


@pytest.mark.parametrize("shape", [[3, 5], [5, 3], [2, 3, 4], [4, 4]])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(shape):
    v = _value(tf.orthogonal_initializer(gain=2.0, seed=1), shape).reshape(-1, shape[-1])
    small = v @ v.T if v.shape[0] <= v.shape[1] else v.T @ v
    np.testing.assert_allclose(small, 4.0 * np.eye(len(small)), atol=1e-5)
    assert tf.initializers.orthogonal is tf.orthogonal_initializer
    assert tf.orthogonal_initializer().get_config() == {
        "gain": 1.0,
        "seed": None,
        "dtype": "float32",
    }


def test_identity_and_uniform_unit_scaling():
    np.testing.assert_array_equal(
        _value(tf.initializers.identity(gain=3.0), [2, 3]), [[3, 0, 0], [0, 3, 0]]
    )
    v = _value(tf.uniform_unit_scaling_initializer(factor=1.5, seed=1), [4, 3, 100], "u")
    limit = np.sqrt(3 / 12) * 1.5  # factor * sqrt(3 / (4 * 3))
    assert np.abs(v).max() <= limit and np.abs(v).max() > 0.99 * limit


@pytest.mark.parametrize(
    "init, shape",
    [(lambda: tf.orthogonal_initializer(), [3]), (lambda: tf.initializers.identity(), [3, 4, 5])],
)
def test_shapes_these_initializers_refuse_raise_tensorflows_error(init, shape):
    with pytest.raises(ValueError, match="must be at least two-dimensional. Received shape="):
        init()(shape)
