"""Errors (``errors.py``): names outside the supported subset, and TensorFlow's exception types and
wording at graph-build time across the ops."""

from __future__ import annotations

import pytest

import rnnkit
import rnnkit.compat.v1 as tf


@pytest.mark.parametrize(
    "get, name",
    [
        (lambda: tf.estimator, "tf.estimator"),
        (lambda: tf.layers.conv2d, "tf.layers.conv2d"),
        (lambda: tf.nn.conv3d, "tf.nn.conv3d"),
        (lambda: tf.contrib.rnn.LayerNormBasicLSTMCell, "tf.contrib.rnn.LayerNormBasicLSTMCell"),
        (lambda: tf.nn.rnn_cell.AttentionCellWrapper, "tf.nn.rnn_cell.AttentionCellWrapper"),
        (lambda: tf.nn.rnn_cell.LSTMCell(4, num_unit_shards=2), "num_unit_shards=2"),
    ],
)
def test_unsupported_tf_names_are_named(get, name):
    with pytest.raises(AttributeError) as e:
        get()
    assert isinstance(e.value, NotImplementedError)
    assert name in str(e.value) and "supported subset" in str(e.value)


def test_hasattr_is_false_for_unsupported_names_and_the_subset_is_listed():
    assert not hasattr(tf, "estimator") and hasattr(tf, "placeholder")
    for name in ("placeholder", "nn.dynamic_rnn", "contrib.rnn.static_rnn", "nn.rnn_cell.GRUCell"):
        assert name in tf.SUPPORTED
        obj = tf
        for part in name.split("."):
            obj = getattr(obj, part)


def test_other_errors_are_clear():
    X = tf.placeholder(tf.float32, [None, 3])
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 3 and 4"):
        tf.matmul(X, tf.zeros([4, 2]))
    with pytest.raises(TypeError, match="int32 that does not match type float32"):
        X + tf.constant([1, 2, 3])
    with pytest.raises(ValueError, match="dtype` must be specified"):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(2), tf.zeros([1, 2, 3]))
    with pytest.raises(TypeError, match="`cell`"):
        tf.nn.dynamic_rnn(rnnkit.BasicRNNCell(2), tf.zeros([1, 2, 3]), dtype=tf.float32)
    with pytest.raises(TypeError, match="Fetch argument 3"):
        tf.Session().run(3)
    with pytest.raises(TypeError, match="activation"):
        tf.nn.rnn_cell.BasicRNNCell(2, activation="tanh")
    with pytest.raises(ValueError, match="rank-3"):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(2), X, dtype=tf.float32)
    with pytest.raises(ValueError, match="Cannot infer num"):
        tf.unstack(X, axis=0)
