"""The assertions of ``check_ops.py``."""

from __future__ import annotations

import pytest

import rnnkit.compat.v1 as tf


def test_assert_positive_refuses_a_non_integer_summarize():
    with pytest.raises(TypeError, match="argument `summarize`: expected None or an integer"):
        tf.assert_positive(tf.ones([2]), summarize="x")
