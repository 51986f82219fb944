"""``tf.slice`` and ``tf.assert_rank`` (``slice_ops.py``): values, static shapes and errors as
TensorFlow 2.21 gives them."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf


def test_slice_as_tf():
    x = tf.constant(np.arange(24).reshape(2, 3, 4))
    a = tf.slice(x, [0, 1, 1], [-1, 2, 2])
    p = tf.placeholder(tf.float32, [None, 5])
    b = tf.slice(p, [1, 0], [-1, 3])
    begin = tf.placeholder(tf.int32, [2])
    c = tf.slice(p, begin, [2, -1])
    # static shapes as TF 2.21 gives them: (2, 2, 2), (?, 3), (2, ?)
    assert [a.shape.as_list(), b.shape.as_list(), c.shape.as_list()] == [
        [2, 2, 2],
        [None, 3],
        [2, None],
    ]
    with pytest.raises(ValueError, match="Shape must be rank 2 but is rank 3"):
        tf.slice(x, [0, 0], [1, 1])
    feed = {p: np.arange(20.0).reshape(4, 5), begin: [1, 2]}
    with tf.Session() as s:
        assert s.run(a).tolist() == [[[5, 6], [9, 10]], [[17, 18], [21, 22]]]
        np.testing.assert_array_equal(s.run(c, feed), [[7, 8, 9], [12, 13, 14]])
        with pytest.raises(
            tf.errors.InvalidArgumentError, match=r"Expected size\[0\] in \[0, 1\], but got 2"
        ):
            s.run(c, {**feed, begin: [3, 2]})


def test_assert_rank_as_tf():
    p = tf.placeholder(tf.float32, [None, 5])
    assert isinstance(tf.assert_rank(p, 2), tf.Operation)
    with pytest.raises(ValueError, match=r"must have rank 3.  Received rank 2, shape \(\?, 5\)"):
        tf.assert_rank(p, 3)
    with pytest.raises(ValueError, match=r"^custom.  Tensor .* must have rank 3"):
        tf.assert_rank(p, 3, message="custom")
    q = tf.placeholder(tf.float32)
    check = tf.assert_rank(q, 2)
    with tf.control_dependencies([check]):
        z = tf.identity(q)
    with tf.Session() as s:
        assert s.run(z, {q: np.zeros((1, 2))}).shape == (1, 2)
        with pytest.raises(tf.errors.InvalidArgumentError, match="must have rank"):
            s.run(z, {q: np.zeros(3)})
