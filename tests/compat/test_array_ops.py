"""The array ops (``array_ops.py``): shapes, slicing, constants and their dtypes against numpy and
TensorFlow's numbers (``tests/fixtures/tf1_census_gaps/small_fixes.npz``), and their errors."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import census_fixture


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


def test_concat_of_one_tensor_is_a_one_element_list():
    ref = census_fixture("small_fixes")
    out = tf.concat(tf.constant(ref["concat_in"]), 1)
    assert out.shape.as_list() == list(ref["concat_shape"])
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(out), ref["concat_out"])


def test_fill_with_a_tensor_value():
    ref = census_fixture("small_fixes")
    f = tf.fill([2, 2], tf.constant(3.0))
    i = tf.fill(tf.constant([3]), tf.constant(7, tf.int32))
    assert i.dtype.name == str(ref["fill_i_dtype"])
    with tf.Session() as s:
        fv, iv = s.run([f, i])
    np.testing.assert_array_equal(fv, ref["fill_f"])
    np.testing.assert_array_equal(iv, ref["fill_i"])
    with pytest.raises(ValueError, match="Shape must be rank 0 but is rank 1 for 'Fill'"):
        tf.fill([2], tf.constant([1.0, 2.0]))
    fed = tf.placeholder(tf.float32)
    with tf.Session() as s, pytest.raises(tf.errors.InvalidArgumentError, match="scalar"):
        s.run(tf.fill([2], fed), {fed: [1.0, 2.0]})
