"""``tf.losses`` (``losses.py``) against TensorFlow's numbers
(``tests/fixtures/tf1_census_gaps/small_fixes.npz``)."""

from __future__ import annotations

import numpy as np

import rnnkit.compat.v1 as tf
from tests.compat._helpers import census_fixture


def test_softmax_cross_entropy_casts_int_onehot_labels():
    ref = census_fixture("small_fixes")
    labels = tf.placeholder(tf.int32, [None, 3])
    logits = tf.placeholder(tf.float32, [None, 3])
    loss = tf.losses.softmax_cross_entropy(onehot_labels=labels, logits=logits)
    with tf.Session() as s:
        got = s.run(loss, {labels: ref["labels"], logits: ref["logits"]})
    np.testing.assert_allclose(got, ref["loss"], rtol=1e-6)
