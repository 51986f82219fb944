"""``tf.gradients`` (``gradients.py``) against torch autograd and rnnkit's cells."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnkit
import rnnkit.compat.v1 as tf
from tests.compat._helpers import close, rng


def test_gradients_of_a_dense_softmax_loss_match_torch():
    x = rng().normal(size=(5, 4)).astype(np.float32)
    labels = np.array([0, 2, 1, 2, 0], dtype=np.int32)
    w0 = rng(1).normal(size=(4, 3)).astype(np.float32)
    X = tf.placeholder(tf.float32, [None, 4])
    y = tf.placeholder(tf.int32, [None])
    W = tf.Variable(w0, name="W")
    b = tf.Variable(tf.zeros([3]), name="b")
    loss = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=tf.matmul(X, W) + b)
    )
    gW, gb, gX = tf.gradients(loss, [W, b, X])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([gW, gb, gX], {X: x, y: labels})
    tw, tb, tx = (torch.tensor(w0, requires_grad=True), torch.zeros(3, requires_grad=True),
                  torch.tensor(x, requires_grad=True))  # fmt: skip
    ref = torch.nn.functional.cross_entropy(tx @ tw + tb, torch.from_numpy(labels).long())
    ref.backward()
    for g, r in zip(got, (tw.grad, tb.grad, tx.grad)):
        close(g, r)


def test_gradients_are_none_for_unconnected_tensors_and_weighted_by_grad_ys():
    a = tf.Variable([1.0, 2.0])
    c = tf.Variable([3.0])
    y = a * a
    ga, gc = tf.gradients(y, [a, c])
    assert gc is None
    (gw,) = tf.gradients(y, [a], grad_ys=[tf.constant([10.0, 1.0])])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        close(sess.run(ga), [2.0, 4.0])
        close(sess.run(gw), [20.0, 4.0])


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru", "multi"])
def test_rnn_weight_gradients_reach_the_variables_and_match_rnnkit(kind):
    B, T, I, H = 3, 5, 4, 6
    x = rng().normal(size=(B, T, I)).astype(np.float32)
    lengths = np.array([5, 2, 0], dtype=np.int32)
    make = {
        "rnn": lambda: tf.nn.rnn_cell.BasicRNNCell(H),
        "lstm": lambda: tf.nn.rnn_cell.LSTMCell(H, use_peepholes=True),
        "gru": lambda: tf.nn.rnn_cell.GRUCell(H),
        "multi": lambda: tf.nn.rnn_cell.MultiRNNCell(
            [tf.nn.rnn_cell.BasicLSTMCell(H), tf.nn.rnn_cell.GRUCell(H)]
        ),
    }[kind]
    cell = make()
    X = tf.placeholder(tf.float32, [None, T, I])
    seq = tf.placeholder(tf.int32, [None])
    outputs, _ = tf.nn.dynamic_rnn(cell, X, sequence_length=seq, dtype=tf.float32)
    loss = tf.reduce_sum(outputs * outputs)
    variables = tf.trainable_variables()
    assert [v.op.name for v in variables] == [v.op.name for v in cell.variables]
    grads = tf.gradients(loss, variables)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(grads, {X: x, seq: lengths})
        values = {v.op.name: sess.run(v) for v in variables}
    # the same cell in plain rnnkit, with the session's weights, on the plain loop
    core = cell.rnnkit_cell
    rnnkit.interop.load_tf1_variables(core, values, scope="rnn")
    core.zero_grad()
    y, _ = rnnkit.dynamic_rnn(core, torch.from_numpy(x), sequence_length=lengths, engine="loop")
    (y * y).sum().backward()
    ref = rnnkit.interop.tf1_variables(core, "rnn", grad=True)
    for v, g in zip(variables, got):
        close(g, ref[v.op.name], tol=1e-4)


def test_gradients_of_gradients_are_second_derivatives():
    tf.reset_default_graph()
    w0 = np.array([1.0, 2.0, -0.5])
    w = tf.Variable(w0)
    y = tf.reduce_sum(tf.sin(w) * w)
    g = tf.gradients(y, w)[0]  # cos(w) w + sin(w)
    h = tf.gradients(tf.reduce_sum(g * g), w)[0]  # 2 g (2 cos(w) - sin(w) w)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        gv, hv = sess.run([g, h])
        g_only = sess.run(g)  # the first gradient alone, in a run of its own
    want_g = np.cos(w0) * w0 + np.sin(w0)
    np.testing.assert_allclose(gv, want_g, rtol=1e-12)
    np.testing.assert_allclose(g_only, want_g, rtol=1e-12)
    np.testing.assert_allclose(hv, 2 * want_g * (2 * np.cos(w0) - np.sin(w0) * w0), rtol=1e-12)
