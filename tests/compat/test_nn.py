"""``tf.nn`` (``nn.py``): ``xw_plus_b`` against TensorFlow (``tests/fixtures/tf1_ptb``), the
cross-entropy losses and softmax against their formulas, and the shapes ``bias_add`` and the sparse
cross entropy check."""

from __future__ import annotations

import re

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import close, close_to_scale, ptb_fixture, rng


def test_xw_plus_b_matches_tensorflow():
    _, a = ptb_fixture("ops.npz")
    with tf.Session() as sess:
        close_to_scale(
            sess.run(tf.nn.xw_plus_b(a["xw/x"], a["xw/w"], a["xw/b"])), a["xw/out"], "xw_plus_b"
        )


def test_sparse_softmax_cross_entropy_checks_the_labels_shape():
    want = "`labels.shape` must equal `logits.shape` except for the last dimension"
    logits = tf.zeros([2, 4])
    with pytest.raises(ValueError, match=re.escape(want) + r".*\(3,\).*\(2, 4\)"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.zeros([3], tf.int32), logits=logits
        )
    # at run time when the shapes are not known statically
    y = tf.placeholder(tf.int32, [None])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(want)):
            sess.run(loss, {y: np.zeros(3, np.int32)})
        assert sess.run(loss, {y: np.zeros(2, np.int32)}).shape == (2,)


def test_bias_add_and_xw_plus_b_check_the_bias_size():
    with pytest.raises(ValueError, match="`bias`: its size must equal.*bias size 5.*dimension 4"):
        tf.nn.xw_plus_b(tf.zeros([2, 3]), tf.zeros([3, 4]), tf.zeros([5]))
    with pytest.raises(ValueError, match="`bias`: its size must equal.*bias size 1.*dimension 4"):
        tf.nn.bias_add(tf.zeros([2, 4]), tf.zeros([1]))
    b = tf.placeholder(tf.float32, [None])
    out = tf.nn.bias_add(tf.zeros([2, 4]), b)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="bias size 1.*dimension 4"):
            sess.run(out, {b: np.zeros(1, np.float32)})
        assert sess.run(out, {b: np.ones(4, np.float32)}).tolist() == [[1.0] * 4] * 2


def test_losses_match_their_formulas():
    logits = rng().normal(size=(4, 3)).astype(np.float32)
    z = (rng(1).random((4, 3)) > 0.5).astype(np.float32)
    onehot = np.eye(3, dtype=np.float32)[[0, 2, 1, 1]]
    L = tf.constant(logits)
    with tf.Session() as sess:
        sig, soft, sm = sess.run([
            tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=L),
            tf.nn.softmax_cross_entropy_with_logits_v2(labels=onehot, logits=L),
            tf.nn.softmax(L),
        ])  # fmt: skip
    p = 1 / (1 + np.exp(-logits))
    close(sig, -(z * np.log(p) + (1 - z) * np.log(1 - p)))
    e = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    close(sm, e)
    close(soft, -(onehot * np.log(e)).sum(1))
    with pytest.raises(ValueError, match="named arguments"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(L)
