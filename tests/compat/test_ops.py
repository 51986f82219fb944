"""The graph (``ops.py``): default graphs and ``tf.GraphKeys``."""

from __future__ import annotations

import pytest

import rnnkit.compat.v1 as tf


def test_reset_default_graph_separates_graphs():
    X = tf.placeholder(tf.float32, [1])
    tf.reset_default_graph()
    Y = tf.placeholder(tf.float32, [1])
    assert X.name == Y.name == "Placeholder:0"
    with tf.Session() as sess, pytest.raises(ValueError, match="not an element"):
        sess.run(X, {Y: [1.0]})


def test_graph_keys_saveable_objects():
    assert tf.GraphKeys.SAVEABLE_OBJECTS == "saveable_objects"  # TF's collection name
