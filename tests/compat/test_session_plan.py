"""Session.run's cached plan: constants held ready, kernels called directly, values by slot.

Exact values and error types, as TensorFlow gives them (gradients with respect to a constant, a
fetched constant that the caller modifies, a run-time shape error naming its op)."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from rnnkit.compat.v1.ops import Tensor


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def test_gradient_with_respect_to_a_constant():
    c = tf.constant([1.0, 2.0])
    x = tf.placeholder(tf.float32, [2])
    y = tf.reduce_sum(c * c * x)
    gc, gx = tf.gradients(y, [c, x])
    with tf.Session() as sess:
        got_c, got_x = sess.run([gc, gx], {x: [3.0, 4.0]})
        # the same constant in a plan without gradients, then with them again
        assert sess.run(y, {x: [1.0, 1.0]}) == 5.0
        again = sess.run(gc, {x: [3.0, 4.0]})
    np.testing.assert_array_equal(got_c, [6.0, 16.0])  # 2 c x
    np.testing.assert_array_equal(got_x, [1.0, 4.0])  # c^2
    np.testing.assert_array_equal(again, [6.0, 16.0])


def test_fetched_constant_is_a_copy():
    c = tf.constant([1.0, 2.0])
    with tf.Session() as sess:
        first = sess.run(c)
        first[0] = 99.0
        np.testing.assert_array_equal(sess.run(c), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(c + 1.0), [2.0, 3.0])


def test_fed_constant_replaces_its_value():
    c = tf.constant([1.0, 2.0])
    y = c * 2.0
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {c: [5.0, 6.0]}), [10.0, 12.0])
        np.testing.assert_array_equal(sess.run(y), [2.0, 4.0])


def test_kernel_shape_error_names_the_op():
    a = tf.placeholder(tf.float32, [None])
    b = tf.placeholder(tf.float32, [None])
    s = a + b
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="in op 'add'"):
        sess.run(s, {a: [1.0, 2.0], b: [1.0, 2.0, 3.0]})


def test_errors_of_other_nodes_pass_unchanged():
    class Broken(Tensor):
        def _compute(self, sess, values):
            raise RuntimeError("broken on purpose")

    x = tf.placeholder(tf.float32, [2])
    out = Broken("Broken", tf.float32, [2], [x], fn=lambda v: v) * 2.0
    with tf.Session() as sess, pytest.raises(RuntimeError, match="^broken on purpose$"):
        sess.run(out, {x: [1.0, 2.0]})


def test_each_node_runs_once_per_run_in_order():
    calls: list[str] = []
    x = tf.placeholder(tf.float32, [])

    def traced(name):
        def fn(v):
            calls.append(name)
            return v + 1.0

        return fn

    a = Tensor("A", tf.float32, [], [x], fn=traced("a"))
    b = Tensor("B", tf.float32, [], [a], fn=traced("b"))
    c = Tensor("C", tf.float32, [], [a, b], fn=lambda u, v: u * v)
    with tf.Session() as sess:
        assert sess.run([c, a, c], {x: 1.0}) == [6.0, 2.0, 6.0]
        assert sess.run(c, {x: 2.0}) == 12.0
    assert calls == ["a", "b", "a", "b"]
