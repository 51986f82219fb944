"""User-written ``tf.nn.rnn_cell.RNNCell`` subclasses under ``dynamic_rnn`` over any number of steps,
and ``variable_scope`` reuse (``AUTO_REUSE``, ``reuse=True``, ``scope.reuse_variables()``), against
real TensorFlow (``tests/fixtures/tf1_api/user_cells.*``, made by
``tools/make_tf1_api_fixtures.py``)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from rnnkit import _nest

FIX = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "tf1_api"
META = json.loads((FIX / "user_cells.json").read_text())
ARR = dict(np.load(FIX / "user_cells.npz", allow_pickle=False))


class CallCell(tf.nn.rnn_cell.RNNCell):
    """Defines ``call``: its variables go under a scope named after the class."""

    def __init__(self, n):
        super().__init__()
        self._n = n

    @property
    def state_size(self):
        return self._n

    @property
    def output_size(self):
        return self._n

    def call(self, inputs, state):
        w = tf.get_variable("W", [inputs.get_shape()[-1], self._n])
        u = tf.get_variable("U", [self._n, self._n])
        b = tf.get_variable("b", [self._n], initializer=tf.zeros_initializer())
        h = tf.tanh(tf.matmul(inputs, w) + tf.matmul(state, u) + b)
        return h * 2.0, h


class ScopedCell(tf.contrib.rnn.RNNCell):
    """Defines ``__call__`` with its own scope, a tuple state and its own ``zero_state``."""

    def __init__(self, n):
        self._n = n

    @property
    def state_size(self):
        return (self._n, self._n)

    @property
    def output_size(self):
        return self._n

    def zero_state(self, batch_size, dtype):
        return (tf.zeros([batch_size, self._n], dtype), tf.zeros([batch_size, self._n], dtype))

    def __call__(self, inputs, state, scope=None):
        c, h = state
        with tf.variable_scope(scope or "scoped_cell"):
            k = tf.get_variable("kernel", [inputs.get_shape()[-1].value + self._n, 2 * self._n])
            z = tf.matmul(tf.concat([inputs, h], 1), k)
            a, g = tf.split(z, 2, axis=1)
            new_c = c * tf.sigmoid(g) + tf.tanh(a)
            new_h = tf.tanh(new_c)
        return new_h, (new_c, new_h)


@pytest.mark.parametrize("key, make", [("call_cell", CallCell), ("scoped_cell", ScopedCell)])
def test_user_cell_runs_any_length_with_tfs_numbers(key, make) -> None:
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, None, 3])  # steps unknown when the graph is built
    seq = tf.placeholder(tf.int32, [None])
    outputs, state = tf.nn.dynamic_rnn(make(4), x, sequence_length=seq, dtype=tf.float32)
    leaves = _nest.flatten(state)
    loss = tf.reduce_sum(outputs * outputs) + tf.add_n([tf.reduce_sum(s) for s in leaves])
    vs = tf.trainable_variables()
    assert [v.op.name for v in vs] == META[key]
    grads = tf.gradients(loss, vs)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for v in vs:
            v.load(ARR[f"{key}/var/{v.op.name}"], sess)
        for tag, xv, sv in (("long", ARR["x_long"], ARR["seq"]), ("short", ARR["x_short"], [2, 1])):
            got = sess.run([outputs, *leaves, *grads], {x: xv, seq: sv})
            np.testing.assert_allclose(got[0], ARR[f"{key}/{tag}/outputs"], rtol=1e-5, atol=1e-6)
            for k, s in enumerate(got[1 : 1 + len(leaves)]):
                np.testing.assert_allclose(s, ARR[f"{key}/{tag}/state/{k}"], rtol=1e-5, atol=1e-6)
            for v, g in zip(vs, got[1 + len(leaves) :]):
                np.testing.assert_allclose(
                    g, ARR[f"{key}/{tag}/grad/{v.op.name}"], rtol=1e-4, atol=1e-5
                )


def test_user_cell_trains_and_runs_zero_steps() -> None:
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, None, 3])
    outputs, state = tf.nn.dynamic_rnn(CallCell(4), x, dtype=tf.float32)
    loss = tf.reduce_mean(tf.square(outputs[:, -1] - 0.5))
    step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    xv = ARR["x_long"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(loss, {x: xv})
        for _ in range(20):
            sess.run(step, {x: xv})
        assert sess.run(loss, {x: xv}) < before
        empty = sess.run(outputs, {x: np.zeros((2, 0, 3), np.float32)})
        assert empty.shape == (2, 0, 4)


def test_static_rnn_over_a_call_cell_shares_its_variables() -> None:
    tf.reset_default_graph()
    xs = [tf.placeholder(tf.float32, [2, 3]) for _ in range(3)]
    outs, _ = tf.nn.static_rnn(CallCell(4), xs, dtype=tf.float32)
    assert [v.op.name for v in tf.trainable_variables()] == META["call_cell"]
    assert len(outs) == 3


def _layer(inp):
    w = tf.get_variable("w", [3, 2])
    return tf.matmul(inp, w)


def test_variable_scope_reuse_as_tf() -> None:
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 3])
    with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
        _layer(x)
    with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
        _layer(x)
    with tf.variable_scope("shared") as scope:
        _layer(x)
        scope.reuse_variables()
        _layer(x)
    with tf.variable_scope("shared", reuse=True):
        _layer(x)
    with tf.variable_scope(scope, reuse=True):
        _layer(x)
    with tf.variable_scope("outer", reuse=tf.AUTO_REUSE):
        with tf.variable_scope("inner"):
            _layer(x)
            _layer(x)
    assert [v.op.name for v in tf.global_variables()] == META["reuse_variables"]

    def no_reuse():
        with tf.variable_scope("shared"):
            _layer(x)

    def missing():
        with tf.variable_scope("nothing_here", reuse=True):
            _layer(x)

    def wrong_shape():
        with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
            tf.get_variable("w", [4, 2])

    for name, fn in (("no_reuse", no_reuse), ("missing", missing), ("wrong_shape", wrong_shape)):
        kind, message = META["reuse_errors"][name]
        assert kind == "ValueError"
        with pytest.raises(ValueError) as info:
            fn()
        assert str(info.value) == message.replace(" Originally defined at:", ""), name


def test_a_scope_object_keeps_its_reuse_flag() -> None:
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 3])
    with tf.variable_scope("s", reuse=tf.AUTO_REUSE) as scope:
        a = tf.get_variable("w", [3, 2])
    with tf.variable_scope(scope):  # re-entered: AUTO_REUSE still holds
        b = tf.get_variable("w", [3, 2])
        _layer(x)
    assert a is b


def test_a_reusing_scope_shares_a_new_cells_weights() -> None:
    """A sampling graph built over new cells in a reusing scope uses the training graph's weights."""
    tf.reset_default_graph()
    xs = tf.placeholder(tf.float32, [None, 4, 3])
    with tf.variable_scope("model"):
        train_out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(4), xs, dtype=tf.float32)
    with tf.variable_scope("model", reuse=True):
        sample_out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(4), xs, dtype=tf.float32)
    assert [v.op.name for v in tf.global_variables()] == META["shared_cell_variables"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b = sess.run([train_out, sample_out], {xs: ARR["x_long"][:, :4]})
    np.testing.assert_array_equal(a, b)
    for name, width, scope in (("missing", 4, "other"), ("wrong_shape", 5, "model")):
        kind, message = META["shared_cell_errors"][name]
        with pytest.raises(ValueError) as info:
            with tf.variable_scope(scope, reuse=True):
                tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(width), xs, dtype=tf.float32)
        assert (kind, str(info.value)) == ("ValueError", message)


class WrappingCell(tf.nn.rnn_cell.RNNCell):
    """A user cell around a built-in cell, with a random op (dropout) in its step."""

    def __init__(self, n):
        super().__init__()
        self._gru = tf.nn.rnn_cell.GRUCell(n)
        self._n = n

    @property
    def state_size(self):
        return self._n

    @property
    def output_size(self):
        return self._n

    def call(self, inputs, state):
        out, new = self._gru(inputs, state)
        return tf.nn.dropout(out, keep_prob=1.0) * 0.5, new


def test_dynamic_rnn_loop_equals_static_rnn_unrolled_for_a_wrapping_cell() -> None:
    """dynamic_rnn's loop node and static_rnn's unrolled graph are separate paths: same names,
    outputs, final state and gradients."""
    xv = ARR["x_long"][:, :5]
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, None, 3])
    out, state = tf.nn.dynamic_rnn(WrappingCell(4), x, dtype=tf.float32)
    names = [v.op.name for v in tf.trainable_variables()]
    grads = tf.gradients(tf.reduce_sum(out), tf.trainable_variables())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run(tf.trainable_variables())
        looped = sess.run([out, state, *grads], {x: xv})
    tf.reset_default_graph()
    xs = [tf.placeholder(tf.float32, [2, 3]) for _ in range(5)]
    outs, state = tf.nn.static_rnn(WrappingCell(4), xs, dtype=tf.float32)
    assert [v.op.name for v in tf.trainable_variables()] == names
    assert names[0] == "rnn/wrapping_cell/gru_cell/gates/kernel"
    grads = tf.gradients(tf.add_n([tf.reduce_sum(o) for o in outs]), tf.trainable_variables())
    with tf.Session() as sess:
        for v, value in zip(tf.trainable_variables(), values):
            v.load(value, sess)
        feed = {p: xv[:, t] for t, p in enumerate(xs)}
        unrolled = sess.run([tf.stack(outs, 1), state, *grads], feed)
    for a, b in zip(looped, unrolled):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_bidirectional_over_a_user_cell_matches_tf() -> None:
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, None, 3])
    seq = tf.placeholder(tf.int32, [None])
    (o_fw, o_bw), (s_fw, s_bw) = tf.nn.bidirectional_dynamic_rnn(
        CallCell(4), tf.nn.rnn_cell.GRUCell(2), x, sequence_length=seq, dtype=tf.float32
    )
    vs = tf.trainable_variables()
    assert [v.op.name for v in vs] == META["bidirectional"]
    loss = tf.reduce_sum(o_fw * o_fw) + tf.reduce_sum(o_bw) + tf.reduce_sum(s_fw * s_bw[:, :1])
    grads = tf.gradients(loss, vs)
    with tf.Session() as sess:
        for v in vs:
            v.load(ARR[f"bidirectional/var/{v.op.name}"], sess)
        got = sess.run([o_fw, o_bw, s_fw, s_bw, *grads], {x: ARR["x_long"], seq: ARR["seq"]})
    for name, value in zip(["o_fw", "o_bw", "s_fw", "s_bw"], got):
        np.testing.assert_allclose(value, ARR[f"bidirectional/{name}"], rtol=1e-5, atol=1e-6)
    for v, g in zip(vs, got[4:]):
        np.testing.assert_allclose(g, ARR[f"bidirectional/grad/{v.op.name}"], rtol=1e-4, atol=1e-5)


def test_dropout_wrapper_around_a_user_cell() -> None:
    """TF's DropoutWrapper around a user cell: no-op at keep probability 1 (a fed tensor), and at
    0.5 each output is zero or twice the cell's output."""
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, None, 3])
    keep = tf.placeholder_with_default(1.0, shape=())
    with tf.variable_scope("plain"):
        plain, _ = tf.nn.dynamic_rnn(CallCell(4), x, dtype=tf.float32)
    wrapped_cell = tf.nn.rnn_cell.DropoutWrapper(CallCell(4), output_keep_prob=keep)
    with tf.variable_scope("wrapped"):
        wrapped, _ = tf.nn.dynamic_rnn(wrapped_cell, x, dtype=tf.float32)
    names = [v.op.name for v in tf.trainable_variables()]
    assert names == [n.replace("rnn/", "plain/rnn/") for n in META["call_cell"]] + [
        n.replace("rnn/", "wrapped/rnn/") for n in META["call_cell"]
    ]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        plain_vars, wrapped_vars = tf.trainable_variables()[:3], tf.trainable_variables()[3:]
        for a, b in zip(plain_vars, wrapped_vars):
            b.load(sess.run(a), sess)
        xv = ARR["x_long"]
        p, w1 = sess.run([plain, wrapped], {x: xv})
        w2 = sess.run(wrapped, {x: xv, keep: 0.5})
    np.testing.assert_allclose(w1, p, rtol=1e-6)
    dropped = w2 == 0
    assert dropped.any() and (~dropped).any()
    np.testing.assert_allclose(w2[~dropped], 2 * p[~dropped], rtol=1e-5)
    with pytest.raises(tf.errors.UnsupportedError, match="variational_recurrent=True"):
        tf.nn.rnn_cell.DropoutWrapper(CallCell(4), variational_recurrent=True)
    with pytest.raises(ValueError, match="output_keep_prob must be between 0 and 1"):
        tf.nn.rnn_cell.DropoutWrapper(CallCell(4), output_keep_prob=1.5)
