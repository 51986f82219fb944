"""The array ops (``array_ops.py``): shapes, slicing, constants and their dtypes against numpy and
TensorFlow's numbers (``tests/fixtures/tf1_census_gaps/small_fixes.npz``), and their errors."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import census_fixture, close, run


def test_elementwise_and_shape_ops():
    x_val = np.random.default_rng(3).normal(size=(2, 3, 4)).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 3, 4])
    cases = {
        "tanh": (tf.tanh(x), np.tanh(x_val), "(?, 3, 4)"),
        "sigmoid": (tf.sigmoid(x), 1 / (1 + np.exp(-x_val)), "(?, 3, 4)"),
        "relu": (tf.nn.relu(x), np.maximum(x_val, 0), "(?, 3, 4)"),
        "transpose": (tf.transpose(x, [1, 0, 2]), x_val.transpose(1, 0, 2), "(3, ?, 4)"),
        "transpose_default": (tf.transpose(x), x_val.T, "(4, 3, ?)"),
        "reshape": (tf.reshape(x, [-1, 4]), x_val.reshape(-1, 4), "(?, 4)"),
        "concat": (
            tf.concat([x, x * 2], axis=2),
            np.concatenate([x_val, x_val * 2], 2),
            "(?, 3, 8)",
        ),
        "stack": (tf.stack([x, x], axis=1), np.stack([x_val, x_val], 1), "(?, 2, 3, 4)"),
        "sum_all": (tf.reduce_sum(x), x_val.sum(), "()"),
        "sum_axis": (tf.reduce_sum(x, axis=1), x_val.sum(1), "(?, 4)"),
        "sum_keep": (
            tf.reduce_sum(x, axis=[0, 2], keepdims=True),
            x_val.sum((0, 2), keepdims=True),
            "(1, 3, 1)",
        ),  # fmt: skip
        "mean_axis": (tf.reduce_mean(x, axis=-1), x_val.mean(-1), "(?, 3)"),
        "mean_keep": (
            tf.reduce_mean(x, 1, keep_dims=True),
            x_val.mean(1, keepdims=True),
            "(?, 1, 4)",
        ),
    }
    got = run({k: v[0] for k, v in cases.items()}, {x: x_val})
    for k, (t, ref, shape) in cases.items():
        close(got[k], ref)
        assert str(t.shape) == shape, k
    parts = tf.unstack(x, axis=1)
    assert len(parts) == 3 and str(parts[0].shape) == "(?, 4)"
    close(np.stack(run(parts, {x: x_val}), 1), x_val)
    assert run(tf.reduce_mean(tf.constant([1, 2, 4]))) == 2  # integer mean truncates as in TF


def test_constants_zeros_ones_dtypes_and_integer_feeds():
    c = tf.constant([[1, 2], [3, 4]])
    f = tf.constant(1.5)
    d = tf.constant(np.array([1.0, 2.0]))
    s = tf.constant(7, shape=[2, 2], dtype=tf.float64)
    assert (c.dtype, f.dtype, d.dtype, s.dtype) == (tf.int32, tf.float32, tf.float64, tf.float64)
    z, o = tf.zeros([2, 3]), tf.ones([3], dtype=tf.int32)
    p = tf.placeholder(tf.int32, [3])
    got = run([c, f, s, z, o, p * 2], {p: np.array([1, 2, 3], dtype=np.int64)})
    np.testing.assert_array_equal(got[0], [[1, 2], [3, 4]])
    assert got[1] == np.float32(1.5)
    np.testing.assert_array_equal(got[2], np.full((2, 2), 7.0))
    assert got[3].shape == (2, 3) and not got[3].any() and got[4].tolist() == [1, 1, 1]
    assert got[5].dtype == np.int32 and got[5].tolist() == [2, 4, 6]
    with pytest.raises(TypeError, match="non-integral"):
        run(p, {p: [1.5, 2, 3]})


def test_slicing_shape_range_gather_and_one_hot():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    X = tf.placeholder(tf.float32, [None, 3, 4])
    batch = tf.shape(X)[0]
    last = tf.gather(tf.reshape(X, [-1, 4]), tf.range(0, batch) * 3 + 2)
    assert str(X[:, :-1].shape) == "(?, 2, 4)" and str(X[:, -1].shape) == "(?, 4)"
    with tf.Session() as sess:
        got = sess.run(
            [X[:, :-1], X[:, -1], X[..., ::-1], batch, last, tf.one_hot([1, 0, 5], 3)], {X: x}
        )
    close(got[0], x[:, :-1])
    close(got[1], x[:, -1])
    close(got[2], x[..., ::-1])
    assert got[3] == 2
    close(got[4], x[:, -1])
    close(got[5], [[0, 1, 0], [1, 0, 0], [0, 0, 0]])


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
@pytest.mark.parametrize("axis", [0, 1])
def test_gather_takes_int32_and_int64_indices_and_names_one_out_of_range(dtype, axis):
    params = np.arange(24, dtype=np.float32).reshape(4, 6)
    P = tf.Variable(params)
    ids = tf.placeholder(dtype, [None, 2])
    picked = tf.gather(P, ids, axis=axis)
    (grad,) = tf.gradients(tf.reduce_sum(picked * picked), [P])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        i = np.array([[3, 0], [1, 1]])
        got, g = sess.run([picked, tf.convert_to_tensor(grad)], {ids: i})
        close(got, np.take(params, i, axis=axis))
        expected = np.zeros_like(params)
        for k in i.reshape(-1):  # each lookup adds 2 * its row (column)
            if axis == 0:
                expected[k] += 2 * params[k]
            else:
                expected[:, k] += 2 * params[:, k]
        close(g, expected)
        n = params.shape[axis]
        for bad, shown in (([[0, n]], n), ([[-1, 0]], -1)):
            with pytest.raises(
                tf.errors.InvalidArgumentError, match=rf"= {shown} is not in \[0, {n}\)"
            ):
                sess.run(picked, {ids: np.array(bad)})


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


@pytest.mark.parametrize(
    "ids, axis", [(3, None), ([[-1, 2], [4, 9]], 0), ([[1, 2], [0, 3]], 1), ([[0, 3, 1]], -1)]
)
def test_one_hot_against_a_numpy_reference(ids, axis):
    depth, on, off = 4, 7, -1
    a = np.asarray(ids)
    want = np.where(a[..., None] == np.arange(depth), on, off).astype(np.int32)  # out of range: off
    if axis not in (None, -1):
        want = np.moveaxis(want, -1, axis)
    with tf.Session() as sess:
        got = sess.run(tf.one_hot(ids, depth, on, off, axis=axis, dtype=tf.int32))
    np.testing.assert_array_equal(got, want)
