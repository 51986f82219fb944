"""Initializers (``init_ops.py``) under their Keras names, and ``tf.contrib.learn.ModeKeys``."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def test_mode_keys_and_keras_initializers():
    keys = tf.contrib.learn.ModeKeys
    assert (keys.TRAIN, keys.EVAL, keys.INFER) == ("train", "eval", "infer")
    w = tf.get_variable("w", [30, 20], initializer=tf.keras.initializers.glorot_uniform(seed=1))
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        v = s.run(w)
    limit = np.sqrt(6.0 / 50)
    assert np.abs(v).max() <= limit and np.abs(v).max() > 0.8 * limit
