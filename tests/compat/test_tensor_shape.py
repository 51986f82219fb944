"""``tf.Dimension`` (``tensor_shape.py``) arithmetic against TensorFlow's results
(``tests/fixtures/tf1_census_gaps/small_fixes.npz``)."""

from __future__ import annotations

import rnnkit.compat.v1 as tf
from tests.compat._helpers import census_fixture


def test_dimension_arithmetic_with_ints():
    ref = census_fixture("small_fixes")
    d, u = tf.TensorShape([3, 4])[1], tf.TensorShape([None])[0]
    dims = [d + 1, 1 + d, d - 1, 9 - d, d * 2, 2 * d, d // 3, u + 1, 1 + u, d + u]
    assert [type(v).__name__ for v in dims] == list(ref["dims_type"])
    assert [-1 if v.value is None else v.value for v in dims] == list(ref["dims"])
