"""``tf.strided_slice`` (``strided_slice.py``): values and static shapes against TensorFlow's for the
masks recorded in ``tests/fixtures/tf1_ptb/ops.npz``, and the strides it refuses."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import ptb_fixture


def test_strided_slice_matches_tensorflow():
    meta, a = ptb_fixture("ops.npz")
    x = tf.constant(a["slice/x"])
    with tf.Session() as sess:
        for k, (b, e, s, bm, em, elm, nm, sm) in enumerate(meta["slices"]):
            out = tf.strided_slice(x, b, e, s, bm, em, elm, nm, sm)
            value = sess.run(out)
            np.testing.assert_array_equal(value, a[f"slice/out{k}"], err_msg=str(k))
            assert out.shape.as_list() == list(value.shape), k  # static shape when bounds are known


def test_strided_slice_refuses_a_stride_on_a_shrink_axis():
    x = tf.zeros([3, 4])
    with pytest.raises(ValueError, match="only stride 1 allowed on non-range indexing"):
        tf.strided_slice(x, [1], [2], [2], shrink_axis_mask=1)
    s = tf.placeholder(tf.int32, [1])
    y = tf.strided_slice(x, [1], [2], s, shrink_axis_mask=1)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="only stride 1 allowed"):
            sess.run(y, {s: [2]})
        assert sess.run(y, {s: [1]}).shape == (4,)
