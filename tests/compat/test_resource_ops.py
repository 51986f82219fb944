"""``tf.container`` and ``tf.tables_initializer`` (``resource_ops.py``)."""

from __future__ import annotations

import pytest

import rnnkit.compat.v1 as tf


def test_container_and_tables_initializer():
    with tf.container("experiment0"):
        v = tf.Variable(2.0)
    init = tf.tables_initializer()
    assert isinstance(init, tf.Operation) and init.name == "init_all_tables"
    with tf.Session() as s:
        s.run([tf.global_variables_initializer(), init])
        assert s.run(v) == 2.0
    with pytest.raises(TypeError, match="container_name"), tf.container(3):
        pass
