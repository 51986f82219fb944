"""The array ops (``array_ops.py``): shapes, slicing, constants and their dtypes against numpy and
TensorFlow's numbers (``tests/fixtures/tf1_census_gaps/small_fixes.npz``), and their errors."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def test_reshape_refuses_non_integer_sizes_and_two_unknowns():
    x = tf.zeros([3, 4])
    n = tf.constant(3)
    for shape in ([2.5, -1], [n, 4.0], [n, "4"]):
        with pytest.raises(TypeError, match="argument `shape`: expected integer sizes"):
            tf.reshape(x, shape)
    for shape in ([-1, -1], [n, -1, -1]):
        with pytest.raises(ValueError, match="argument `shape`: expected .* at most one -1"):
            tf.reshape(x, shape)
    with tf.Session() as sess:
        assert sess.run(tf.reshape(x, [n, np.int64(-1)])).shape == (3, 4)
