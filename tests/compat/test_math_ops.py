"""The math ops (``math_ops.py``) and the tensor operators against numpy."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import close, run


def test_arithmetic_with_scalars_lists_arrays_and_matmul_operator():
    a_val = np.array([[1.0, -2.0], [3.0, 4.0]], dtype=np.float32)
    a = tf.placeholder(tf.float32, [None, 2])
    arr = np.array([10, 20])
    exprs = [a + 1, 1 + a, a - [1, 2], [1, 2] - a, a * arr, arr * a, a / 2, 2 / a, -a, a @ a_val,
             a_val @ a, a**2]  # fmt: skip
    refs = [a_val + 1, 1 + a_val, a_val - [1, 2], [1, 2] - a_val, a_val * arr, arr * a_val,
            a_val / 2, 2 / a_val, -a_val, a_val @ a_val, a_val @ a_val, a_val**2]  # fmt: skip
    got = run(exprs, {a: a_val})
    for g, r, e in zip(got, refs, exprs):
        assert isinstance(e, tf.Tensor) and e.dtype is tf.float32
        close(g, r)
        assert g.dtype == np.float32
    assert run(tf.constant([3, 4]) / tf.constant([2, 2])).tolist() == [1.5, 2.0]  # int / int


@pytest.mark.parametrize(
    "fn", [tf.nn.relu, tf.tanh, tf.sigmoid, tf.exp, tf.square, tf.floor, tf.nn.relu6, tf.nn.elu]
)
def test_elementwise_ops_take_the_name_given(fn) -> None:
    """As in TF: ``name=`` names the node (made unique under the scope); without it, the op type."""
    x = tf.placeholder(tf.float32, [2])
    with tf.name_scope("s"):
        named, again, plain = fn(x, name="act"), fn(x, name="act"), fn(x)
    op = plain.name.split("/")[1].split(":")[0]
    assert (named.name, again.name, plain.name) == ("s/act:0", "s/act_1:0", f"s/{op}:0")
    assert op[0].isupper()
