"""The random ops (``random_ops.py``) and the shapes of tensors as TensorFlow prints them."""

from __future__ import annotations

import rnnkit.compat.v1 as tf
from tests.compat._helpers import run


def test_random_normal_statistics_and_shape_objects():
    tf.set_random_seed(0)
    r = tf.random_normal([2000], mean=3.0, stddev=0.5)
    v = run(r)
    assert abs(v.mean() - 3.0) < 0.05 and abs(v.std() - 0.5) < 0.05
    X = tf.placeholder(tf.float32, [None, 3])
    assert X.shape.as_list() == [None, 3] and X.shape[1].value == 3 and X.shape[0].value is None
    assert repr(X.shape) == "TensorShape([Dimension(None), Dimension(3)])"
    assert str(tf.placeholder(tf.float32).shape) == "<unknown>"
    assert repr(X) == "<tf.Tensor 'Placeholder:0' shape=(?, 3) dtype=float32>"
