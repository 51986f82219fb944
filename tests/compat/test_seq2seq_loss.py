"""The sequence losses: ``tf.contrib.seq2seq.sequence_loss`` (``seq2seq_loss.py``) and
``legacy_seq2seq.sequence_loss`` / ``sequence_loss_by_example``, values and gradients against
TensorFlow (``tests/fixtures/tf1_ptb/ops.npz``), and their argument errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import close_to_scale, ptb_fixture


def _loss_inputs(a):
    B, T, _ = a["loss/logits"].shape
    L = tf.placeholder(tf.float32, list(a["loss/logits"].shape))
    lt = [L[:, t, :] for t in range(T)]
    yt = [tf.constant(a["loss/targets"][:, t]) for t in range(T)]
    wt = [tf.constant(a["loss/weights"][:, t]) for t in range(T)]
    return L, lt, yt, wt


def test_legacy_sequence_losses_match_tensorflow():
    _, a = ptb_fixture("ops.npz")
    L, lt, yt, wt = _loss_inputs(a)
    s2s = tf.contrib.legacy_seq2seq
    with tf.Session() as sess:
        for avg in (True, False):
            v = s2s.sequence_loss_by_example(lt, yt, wt, average_across_timesteps=avg)
            key = f"by_example/avg_t={int(avg)}"
            val, grad = sess.run(
                [v, tf.gradients(tf.reduce_sum(v * v), L)[0]], {L: a["loss/logits"]}
            )
            close_to_scale(val, a[key], key)
            close_to_scale(grad, a[key + "/grad"], key + "/grad")
            for avg_b in (True, False):
                v = s2s.sequence_loss(lt, yt, wt, avg, avg_b)
                key = f"legacy/avg_t={int(avg)},avg_b={int(avg_b)}"
                val, grad = sess.run([v, tf.gradients(v, L)[0]], {L: a["loss/logits"]})
                close_to_scale(val, a[key], key)
                close_to_scale(grad, a[key + "/grad"], key + "/grad")


def test_seq2seq_sequence_loss_matches_tensorflow():
    meta, a = ptb_fixture("ops.npz")
    L = tf.placeholder(tf.float32, list(a["loss/logits"].shape))
    with tf.Session() as sess:
        for flags in meta["seq2seq_flags"]:
            v = tf.contrib.seq2seq.sequence_loss(L, a["loss/targets"], a["loss/weights"], *flags)
            key = "seq2seq/" + ",".join(str(int(f)) for f in flags)
            val, grad = sess.run(
                [v, tf.gradients(tf.reduce_sum(v * v), L)[0]], {L: a["loss/logits"]}
            )
            close_to_scale(val, a[key], key)
            close_to_scale(grad, a[key + "/grad"], key + "/grad")


def test_sequence_loss_argument_errors():
    L = tf.placeholder(tf.float32, [2, 3, 4])
    y = tf.placeholder(tf.int32, [2, 3])
    w = tf.ones([2, 3])
    with pytest.raises(ValueError, match="`logits`.*batch_size x sequence_length x logits"):
        tf.contrib.seq2seq.sequence_loss(L[:, 0, :], y, w)
    with pytest.raises(ValueError, match="average_across_batch and sum_over_batch"):
        tf.contrib.seq2seq.sequence_loss(L, y, w, sum_over_batch=True)
    with pytest.raises(
        ValueError, match="Lengths of logits, weights, and targets must be the same 1, 2, 1"
    ):
        tf.contrib.legacy_seq2seq.sequence_loss_by_example([L[:, 0]], [y[:, 0]], [w[:, 0], w[:, 1]])
    with pytest.raises(TypeError, match="`logits`: expected a non-empty list"):
        tf.contrib.legacy_seq2seq.sequence_loss_by_example(L, [y], [w])
    with pytest.raises(ValueError, match="`strides`: expected non-zero strides"):
        tf.strided_slice(L, [0], [1], [0])
    with pytest.raises(ValueError, match="`begin`, `end`, `strides`: expected the same length"):
        tf.strided_slice(L, [0, 0], [1], [1])
    with pytest.raises(TypeError, match="`shrink_axis_mask`: expected a non-negative integer"):
        tf.strided_slice(L, [0], [1], shrink_axis_mask=-1)


def test_sequence_loss_refuses_mismatched_targets():
    L = tf.placeholder(tf.float32, [2, 3, 4])
    w = tf.ones([2, 3])
    want = re.escape("`labels.shape` must equal `logits.shape` except for the last dimension")
    with pytest.raises(ValueError, match=want):
        tf.contrib.seq2seq.sequence_loss(L, tf.zeros([2, 2], tf.int32), w)
    y = tf.placeholder(tf.int32, [None, None])
    loss = tf.contrib.seq2seq.sequence_loss(L, y, w)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=want):
            sess.run(loss, {L: np.zeros((2, 3, 4), np.float32), y: np.zeros((2, 2), np.int32)})
