"""A tf.compat.v1 run that reads only the final state of a dynamic_rnn, static_rnn or
bidirectional_dynamic_rnn node (an evaluation fetching ``states``, or ``dense(states)``) runs the
node for its final state only: same values as a run that also fetches the outputs, no outputs built,
and runs that read the outputs or differentiate through the node unchanged."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch

import rnnkit
import rnnkit.compat.v1 as tf
from rnnkit import runners
from rnnkit.engine import final

B, T, I, H = 12, 7, 5, 6


@pytest.fixture
def graph(monkeypatch):
    """A fresh default graph; ``runners.final_state`` counted (``final_calls``)."""
    real = runners.final_state

    def spy(*args, **kwargs):
        final_calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(runners, "final_state", spy)
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


final_calls: list[int] = []


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    lengths = np.array([7, 0, 3, 7, 1, 5, 6, 2, 7, 4, 6, 7], dtype=np.int32)
    return x, lengths


CELLS = {
    "lstm": lambda: tf.nn.rnn_cell.BasicLSTMCell(H),
    "gru": lambda: tf.nn.rnn_cell.GRUCell(H),
    "tanh": lambda: tf.nn.rnn_cell.BasicRNNCell(H),
    "stack": lambda: tf.nn.rnn_cell.MultiRNNCell(
        [tf.nn.rnn_cell.GRUCell(H), tf.nn.rnn_cell.BasicLSTMCell(4)]
    ),
}


def _run_counting(sess, fetches, feed):
    """``(values, how many RNNs the run ran for their final state only)``."""
    before = len(final_calls)
    out = sess.run(fetches, feed_dict=feed)
    return out, len(final_calls) - before


def _flat(values):
    return np.concatenate([np.asarray(v).reshape(B, -1) for v in rnnkit._nest.flatten(values)], 1)


@pytest.mark.parametrize("kind", sorted(CELLS))
@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_dynamic_rnn_state_fetch(graph, kind, time_major, with_lengths):
    x, lengths = _data()
    shape = [T, None, I] if time_major else [None, T, I]
    X = tf.placeholder(tf.float32, shape)
    L = tf.placeholder(tf.int32, [None])
    outputs, states = tf.nn.dynamic_rnn(
        CELLS[kind](), X, sequence_length=L if with_lengths else None, dtype=tf.float32,
        time_major=time_major,
    )  # fmt: skip
    feed = {X: x.transpose(1, 0, 2) if time_major else x}
    if with_lengths:
        feed[L] = lengths
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        only, ran = _run_counting(sess, states, feed)
        assert ran == 1  # the node ran for its final state
        (_, full), ran_full = _run_counting(sess, [outputs, states], feed)
        assert ran_full == 0  # outputs fetched: the full run
    np.testing.assert_allclose(_flat(only), _flat(full), rtol=1e-5, atol=1e-6)
    assert type(only) is type(full)


def test_classifier_on_the_state_reads_no_outputs(graph):
    """The MNIST-rows classifier: logits = dense(state.h); its evaluation fetches logits and
    accuracy, never the outputs. Peak numpy memory of the run stays far below the outputs' size
    (the full run allocates them: 2.6 MB here)."""
    n, steps, width, units = 256, 40, 4, 64
    X = tf.placeholder(tf.float32, [None, steps, width])
    y = tf.placeholder(tf.int64, [None])
    L = tf.placeholder(tf.int32, [None])
    outputs, states = tf.nn.dynamic_rnn(
        tf.nn.rnn_cell.BasicLSTMCell(units), X, sequence_length=L, dtype=tf.float32
    )
    logits = tf.layers.dense(states.h, 10)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.float32))
    rng = np.random.default_rng(1)
    lengths = np.full(n, steps, np.int32)
    lengths[0] = steps - 1  # rows of different lengths: the engine's loop (numpy buffers)
    feed = {X: rng.standard_normal((n, steps, width)).astype(np.float32),
            y: rng.integers(0, 10, n), L: lengths}  # fmt: skip
    outputs_bytes = n * steps * units * 4

    def peak(fetches):
        sess.run(fetches, feed_dict=feed)  # warm
        tracemalloc.start()
        try:
            value = sess.run(fetches, feed_dict=feed)
            return value, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        (lg, acc), only = peak([logits, accuracy])
        (lg_full, acc_full, _), full = peak([logits, accuracy, outputs])
    assert full >= outputs_bytes
    assert only < outputs_bytes // 4, (only, outputs_bytes)
    np.testing.assert_allclose(lg, lg_full, rtol=1e-5, atol=1e-6)
    assert acc == acc_full


def test_outputs_read_by_another_op_run_the_full_node(graph):
    x, lengths = _data()
    X = tf.placeholder(tf.float32, [None, T, I])
    outputs, states = tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(H), X, dtype=tf.float32)
    total = tf.reduce_sum(outputs) + tf.reduce_sum(states)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        (value, s), ran = _run_counting(sess, [total, states], {X: x})
        assert ran == 0
        o = sess.run(outputs, {X: x})
    np.testing.assert_allclose(value, o.sum() + s.sum(), rtol=1e-5)


def test_static_rnn_state_fetch(graph):
    x, lengths = _data(2)
    X = tf.placeholder(tf.float32, [None, T, I])
    L = tf.placeholder(tf.int32, [None])
    steps = tf.unstack(X, axis=1)
    outputs, states = tf.nn.static_rnn(
        tf.nn.rnn_cell.BasicLSTMCell(H), steps, sequence_length=L, dtype=tf.float32
    )
    feed = {X: x, L: lengths}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        only, ran = _run_counting(sess, states, feed)
        assert ran == 1
        (last, full), ran_full = _run_counting(sess, [outputs[-1], states], feed)
        assert ran_full == 0  # one output read: the full node
    np.testing.assert_allclose(_flat(only), _flat(full), rtol=1e-5, atol=1e-6)


def test_bidirectional_state_fetch(graph):
    x, lengths = _data(3)
    X = tf.placeholder(tf.float32, [None, T, I])
    L = tf.placeholder(tf.int32, [None])
    (o_fw, o_bw), (s_fw, s_bw) = tf.nn.bidirectional_dynamic_rnn(
        tf.nn.rnn_cell.GRUCell(H), tf.nn.rnn_cell.BasicLSTMCell(4), X, sequence_length=L,
        dtype=tf.float32,
    )  # fmt: skip
    feed = {X: x, L: lengths}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        only, ran = _run_counting(sess, [s_fw, s_bw], feed)
        assert ran == 2  # each direction's final state alone
        (_, full), ran_full = _run_counting(sess, [o_bw, [s_fw, s_bw]], feed)
        assert ran_full == 0
    np.testing.assert_allclose(_flat(only), _flat(full), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("read_outputs", [False, True])
def test_gradients_through_the_node(graph, read_outputs):
    """A training run differentiates through the node: the full forward runs (recorded for
    backward), and the gradients equal the plain loop's in torch with the same weights, whether the
    loss reads the outputs or the final state only."""
    x, lengths = _data(4)
    X = tf.placeholder(tf.float32, [None, T, I])
    L = tf.placeholder(tf.int32, [None])
    outputs, states = tf.nn.dynamic_rnn(
        tf.nn.rnn_cell.BasicLSTMCell(H), X, sequence_length=L, dtype=tf.float32
    )
    loss = tf.reduce_sum(tf.square(states.h)) + tf.reduce_sum(states.c)
    if read_outputs:
        loss = loss + tf.reduce_sum(tf.square(outputs))
    variables = tf.trainable_variables()
    grads = tf.gradients(loss, variables)
    feed = {X: x, L: lengths}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        loops = final.calls
        (g, _), ran = _run_counting(sess, [grads, states], feed)
        assert ran == (0 if read_outputs else 1)  # rnnkit.final_state, which records the graph
        assert final.calls == loops  # and so ran the full forward, not the final-state loop
        kernel, bias = sess.run(variables)
    cell = rnnkit.BasicLSTMCell(H, input_size=I)
    with torch.no_grad():
        cell.kernel.copy_(torch.from_numpy(kernel))
        cell.bias.copy_(torch.from_numpy(bias))
    out, st = rnnkit.dynamic_rnn(
        cell, torch.from_numpy(x), torch.from_numpy(lengths).long(), engine="loop"
    )
    ref = (st.h**2).sum() + st.c.sum() + ((out**2).sum() if read_outputs else 0)
    want = torch.autograd.grad(ref, [cell.kernel, cell.bias])
    for a, b in zip(g, want):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-4, atol=1e-5)
