"""``tf.Dimension`` (``tensor_shape.py``) arithmetic against TensorFlow's results
(``tests/fixtures/tf1_census_gaps/small_fixes.npz``), and shape compatibility."""

from __future__ import annotations

import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import census_fixture


def test_dimension_arithmetic_with_ints():
    ref = census_fixture("small_fixes")
    d, u = tf.TensorShape([3, 4])[1], tf.TensorShape([None])[0]
    dims = [d + 1, 1 + d, d - 1, 9 - d, d * 2, 2 * d, d // 3, u + 1, 1 + u, d + u]
    assert [type(v).__name__ for v in dims] == list(ref["dims_type"])
    assert [-1 if v.value is None else v.value for v in dims] == list(ref["dims"])


def test_shape_compatibility_with_plain_tuples():
    shape = tf.TensorShape([3, None])
    assert shape.is_compatible_with((3, 5)) and not shape.is_compatible_with((4, 5))
    assert not shape.is_compatible_with((3,))
    assert shape.is_compatible_with((-1, 5))  # -1: an unknown size, as TensorShape reads it
    assert tf.TensorShape(None).is_compatible_with((1, 2))
    with pytest.raises(TypeError, match="non-negative integer or None, got -5"):
        shape.is_compatible_with((-5, 1))
