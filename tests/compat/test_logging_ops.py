"""``tf.Print`` (``logging_ops.py``)."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf


def test_print_is_identity_and_writes_values(capfd):
    x = tf.constant([1, 2, 3, 4])
    y = tf.Print(x, [x, tf.constant(0.5)], "x=", first_n=2)
    assert y.shape.as_list() == [4] and y.dtype == tf.int32
    with tf.Session() as s:
        for _ in range(3):
            np.testing.assert_array_equal(s.run(y), [1, 2, 3, 4])
    assert capfd.readouterr().err.splitlines() == ["x=[1 2 3...][0.5]"] * 2
    with pytest.raises(TypeError, match="`data` of tf.Print"):
        tf.Print(x, x)
