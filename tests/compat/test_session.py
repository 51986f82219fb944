"""``tf.Session`` (``session.py``): fetch structures, feeds by name, closing, ``eval`` and
``InteractiveSession``, and the errors of feeds."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import rnnkit.compat.v1 as tf


def test_fetch_structures_ops_names_and_feeds_by_name():
    Point = collections.namedtuple("Point", "x y")
    a = tf.placeholder(tf.float32, [2], name="a")
    b = a * 2
    c = tf.constant([1, 2, 3])
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        got = sess.run(
            {"p": Point(a, [b, (c,)]), "op": init, "byname": "a:0"}, feed_dict={"a:0": [1.0, 2.0]}
        )
        assert sess.run(b, {"a": np.array([3, 4])}).tolist() == [6.0, 8.0]
        assert sess.run(b.op, {a: [0, 0]}) is None
    assert isinstance(got["p"], Point) and isinstance(got["p"].y, list)
    assert isinstance(got["p"].y[1], tuple)
    np.testing.assert_array_equal(got["p"].y[0], [2.0, 4.0])
    np.testing.assert_array_equal(got["p"].y[1][0], [1, 2, 3])
    assert got["p"].y[1][0].dtype == np.int32 and got["op"] is None
    np.testing.assert_array_equal(got["byname"], [1.0, 2.0])


def test_session_object_close_eval_and_interactive_session():
    x = tf.constant(3.0)
    y = x * x
    sess = tf.Session()
    assert sess.run(y) == 9.0 and isinstance(sess.run(y), np.float32)
    assert y.eval(session=sess) == 9.0
    sess.close()
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(y)
    with pytest.raises(ValueError, match="no default session"):
        y.eval()
    isess = tf.InteractiveSession()
    assert y.eval() == 9.0 and tf.get_default_session() is isess
    isess.close()
    assert tf.get_default_session() is None


def test_feed_of_wrong_shape_names_the_placeholder_and_both_shapes():
    X = tf.placeholder(tf.float32, [None, 3], name="X0")
    with tf.Session() as sess, pytest.raises(ValueError) as e:
        sess.run(X * 2, feed_dict={X: np.zeros((4, 2))})
    msg = str(e.value)
    assert "X0:0" in msg and "(4, 2)" in msg and "(?, 3)" in msg


def test_unfed_placeholder_is_named():
    X = tf.placeholder(tf.float32, [None, 3], name="inputs")
    Y = tf.tanh(X)
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="'inputs'"):
        sess.run(Y)
    assert issubclass(tf.errors.InvalidArgumentError, ValueError)


def test_int32_feeds_never_wrap():
    seq = tf.placeholder(tf.int32, [None])
    y = seq + 1
    with tf.Session() as sess:
        with pytest.raises(ValueError, match=r"int32 values in \[-2147483648, 2147483647\]"):
            sess.run(y, {seq: [2**32 + 1, 3]})
        with pytest.raises(ValueError, match="int32"):
            sess.run(y, {seq: np.array([2**40], dtype=np.int64)})
