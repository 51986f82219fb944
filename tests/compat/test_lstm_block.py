"""``tf.contrib.rnn.LSTMBlockCell``: TF1's fused LSTM, the same math and variable names as
``LSTMCell``; and what ``tf.contrib.cudnn_rnn`` points to instead."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf


def _run(make_cell):
    tf.reset_default_graph()
    tf.set_random_seed(7)
    x = tf.placeholder(tf.float32, [None, 5, 3])
    seq = tf.placeholder(tf.int32, [None])
    outputs, state = tf.nn.dynamic_rnn(make_cell(), x, sequence_length=seq, dtype=tf.float32)
    loss = tf.reduce_sum(outputs**2)
    grads = tf.gradients(loss, tf.trainable_variables())
    feed = {x: np.random.default_rng(0).normal(size=(4, 5, 3)), seq: [5, 3, 0, 1]}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        names = [v.name for v in tf.trainable_variables()]
        return names, sess.run([outputs, state.c, state.h, *grads], feed)


@pytest.mark.parametrize("peepholes", [False, True])
def test_lstm_block_cell_is_lstm_cell(peepholes: bool) -> None:
    names, got = _run(
        lambda: tf.contrib.rnn.LSTMBlockCell(6, forget_bias=0.5, use_peephole=peepholes)
    )
    want_names, want = _run(
        lambda: tf.nn.rnn_cell.LSTMCell(6, forget_bias=0.5, use_peepholes=peepholes)
    )
    assert names == want_names
    assert names[:2] == ["rnn/lstm_cell/kernel:0", "rnn/lstm_cell/bias:0"]
    assert len(names) == (5 if peepholes else 2)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_lstm_block_cell_clips_and_accepts_tf1s_no_clip() -> None:
    assert (
        tf.contrib.rnn.LSTMBlockCell(4, cell_clip=-1).rnnkit_cell.__class__.__name__ == "LSTMCell"
    )
    assert tf.contrib.rnn.LSTMBlockCell(4, cell_clip=3.0).rnnkit_cell.cell_clip == 3.0


def test_cudnn_rnn_says_what_to_use_instead() -> None:
    with pytest.raises(tf.errors.UnsupportedError, match="cudnn_rnn.*LSTMBlockCell.*FusedRNN"):
        tf.contrib.cudnn_rnn.CudnnLSTM(1, 8)


@pytest.mark.parametrize("bad", ["x", True, [1.0]])
def test_lstm_block_cell_refuses_a_non_number_cell_clip(bad) -> None:
    with pytest.raises(TypeError, match="argument `cell_clip`: expected None or a number"):
        tf.contrib.rnn.LSTMBlockCell(4, cell_clip=bad)
