"""The cells (``rnn_cell.py``): one cell called directly, ``MultiRNNCell`` over one cell twice or
distinct cells, ``NASCell``, ``DropoutWrapper`` and a user-written wrapper, against TensorFlow's
numbers (``tests/fixtures/tf1_census_gaps``) or rnnkit's cells with the session's weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnkit
import rnnkit.compat.v1 as tf
from tests.compat._helpers import CENSUS, census_fixture, close, rng, sync


def test_cell_call_and_zero_state_build_one_step():
    x = np.arange(6, dtype=np.float32).reshape(2, 3) / 6
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    X = tf.placeholder(tf.float32, [None, 3])
    batch = tf.placeholder(tf.int32, [])
    state = cell.zero_state(batch, tf.float32)
    y, new_state = cell(X, state)
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        sync(sess, cell)
        got_y, got_state = sess.run([y, new_state], {X: x, batch: 2})
    ref_y, ref_state = cell.rnnkit_cell(torch.from_numpy(x), cell.rnnkit_cell.zero_state(2))
    close(got_y, ref_y.detach())
    close(got_state.c, ref_state.c.detach())


def test_cell_weights_are_reproducible_under_set_random_seed_and_visible_as_variables():
    def build() -> tuple[np.ndarray, np.ndarray]:
        tf.reset_default_graph()
        tf.set_random_seed(7)
        X = tf.placeholder(tf.float32, [None, 2, 3])
        w = tf.Variable(tf.random_normal([2, 2]))
        cell = tf.nn.rnn_cell.BasicRNNCell(4)
        tf.nn.dynamic_rnn(cell, X, dtype=tf.float32)
        with tf.Session() as sess:
            tf.global_variables_initializer().run()
            kernel = sess.run("rnn/basic_rnn_cell/kernel:0")
            assert cell.variables[0].name == "rnn/basic_rnn_cell/kernel:0"
            return kernel, sess.run(w)

    (k1, w1), (k2, w2) = build(), build()
    np.testing.assert_array_equal(k1, k2)
    np.testing.assert_array_equal(w1, w2)
    assert k1.shape == (7, 4)


def test_multi_rnn_cell_one_cell_twice_has_one_set_of_weights():
    ref = census_fixture("multi_shared")
    x = tf.placeholder(tf.float32, [2, 5, 4])
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    out, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell([cell] * 2), x, dtype=tf.float32)
    assert [v.op.name for v in tf.global_variables()] == list(ref["names"])
    kernel, bias = tf.global_variables()
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        kernel.load(ref["kernel"], s)
        bias.load(ref["bias"], s)
        ov, sv = s.run([out, state], {x: ref["x"]})
    np.testing.assert_allclose(ov, ref["outputs"], rtol=1e-5, atol=1e-6)
    got = np.stack([np.stack([st.c, st.h]) for st in sv])
    np.testing.assert_allclose(got, ref["states"], rtol=1e-5, atol=1e-6)


def test_multi_rnn_cell_one_cell_twice_restores_tf_checkpoint():
    ref = census_fixture("multi_shared")
    x = tf.placeholder(tf.float32, [2, 5, 4])
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell([cell] * 2), x, dtype=tf.float32)
    with tf.Session() as s:
        tf.train.Saver().restore(s, str(CENSUS / "multi_shared_ckpt" / "model"))
        ov = s.run(out, {x: ref["x"]})
    np.testing.assert_allclose(ov, ref["outputs"], rtol=1e-5, atol=1e-6)


def test_multi_rnn_cell_one_cell_twice_other_width_fails_as_tf():
    ref = census_fixture("multi_shared")
    x = tf.placeholder(tf.float32, [2, 5, 3])
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 8 and 7") as err:
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell([cell] * 2), x, dtype=tf.float32)
    assert str(ref["width3_error"]).startswith("Dimensions must be equal, but are 8 and 7")
    assert "cell_0/basic_lstm_cell" in str(err.value)


def test_multi_rnn_cell_one_wrapped_cell_twice_shares_weights():
    x = tf.placeholder(tf.float32, [2, 5, 4])
    keep = tf.placeholder(tf.float32, [])
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    wrapped = tf.nn.rnn_cell.DropoutWrapper(cell, output_keep_prob=keep)
    out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell([wrapped] * 2), x, dtype=tf.float32)
    assert [v.op.name for v in tf.global_variables()] == [
        "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel",
        "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias",
    ]
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        assert s.run(out, {x: np.ones((2, 5, 4)), keep: 1.0}).shape == (2, 5, 4)
    x3 = tf.placeholder(tf.float32, [2, 5, 3])
    twice = [tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.LSTMCell(4, num_proj=2))] * 2
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 4 and 5"):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell(twice), x3, dtype=tf.float32, scope="b")


def test_multi_rnn_cell_distinct_cells_keep_two_sets():
    x = tf.placeholder(tf.float32, [2, 5, 4])
    cells = [tf.nn.rnn_cell.BasicLSTMCell(4) for _ in range(2)]
    tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell(cells), x, dtype=tf.float32)
    assert [v.op.name for v in tf.global_variables()] == [
        f"rnn/multi_rnn_cell/cell_{k}/basic_lstm_cell/{p}"
        for k in (0, 1)
        for p in ("kernel", "bias")
    ]


@pytest.mark.parametrize("case, proj, bias", [("plain", None, False), ("proj_bias", 3, True)])
def test_nas_cell_matches_tf(case, proj, bias):
    ref = census_fixture("nas_cell")
    cell = tf.contrib.rnn.NASCell(6, num_proj=proj, use_biases=bias)
    assert cell.state_size == (6, proj or 6) and cell.output_size == (proj or 6)
    outputs, state = tf.nn.dynamic_rnn(cell, tf.constant(ref["x"]), dtype=tf.float32)
    names = [v.op.name for v in tf.global_variables()]
    assert names == [f"rnn/nas_cell/{n}" for n in ref[f"{case}_weight_names"]]
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for k, v in enumerate(tf.global_variables()):
            v.load(ref[f"{case}_w{k}"], s)
        ov, sv = s.run([outputs, state])
    tol = {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(ov, ref[f"{case}_outputs"], **tol)
    np.testing.assert_allclose(sv.c, ref[f"{case}_c"], **tol)
    np.testing.assert_allclose(sv.h, ref[f"{case}_m"], **tol)


def test_nas_cell_bad_arguments():
    with pytest.raises(ValueError, match="num_units"):
        tf.contrib.rnn.NASCell(0)
    with pytest.raises(TypeError, match="use_biases"):
        tf.contrib.rnn.NASCell(4, use_biases="yes")


def test_dropout_wrapper_with_a_fed_keep_prob_and_placeholder_with_default():
    keep_prob = tf.placeholder_with_default(1.0, shape=())
    X = tf.placeholder(tf.float32, [None, 5, 3])
    cell = tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.BasicRNNCell(50), input_keep_prob=keep_prob)
    outputs, _ = tf.nn.dynamic_rnn(cell, X, dtype=tf.float32)
    x = np.ones((4, 5, 3), np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b = sess.run(outputs, {X: x}), sess.run(outputs, {X: x})
        np.testing.assert_array_equal(a, b)  # keep_prob 1: no dropout
        c = sess.run(outputs, {X: x, keep_prob: 0.5})
        assert not np.allclose(a, c)


def test_user_written_cell_runs_in_static_and_dynamic_rnn():
    class DeviceCellWrapper(tf.nn.rnn_cell.RNNCell):
        def __init__(self, device, cell):
            self._cell = cell
            self._device = device

        @property
        def state_size(self):
            return self._cell.state_size

        @property
        def output_size(self):
            return self._cell.output_size

        def __call__(self, inputs, state, scope=None):
            with tf.device(self._device):
                return self._cell(inputs, state, scope)

    X = tf.placeholder(tf.float32, [None, 4, 3])
    cells = [DeviceCellWrapper(d, tf.nn.rnn_cell.BasicRNNCell(5)) for d in ("/cpu:0", "/cpu:1")]
    multi = tf.nn.rnn_cell.MultiRNNCell(cells)
    outputs, states = tf.nn.dynamic_rnn(multi, X, dtype=tf.float32)
    names = [v.op.name for v in tf.global_variables()]
    assert names[0] == "rnn/multi_rnn_cell/cell_0/basic_rnn_cell/kernel"
    x = rng().normal(size=(2, 4, 3)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        y, (s0, s1) = sess.run([outputs, states], {X: x})
        values = {v.op.name: sess.run(v) for v in tf.global_variables()}
    ref = rnnkit.MultiRNNCell([rnnkit.BasicRNNCell(5), rnnkit.BasicRNNCell(5)])
    rnnkit.interop.load_tf1_variables(ref, values, scope="rnn")
    ry, (r0, r1) = rnnkit.dynamic_rnn(ref, torch.from_numpy(x))
    close(y, ry.detach())
    close(s1, r1.detach())


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_a_fed_state_of_another_batch_is_tfs_invalid_argument_error(kind):
    x = tf.placeholder(tf.float32, [None, 3])
    h = tf.placeholder(tf.float32, [None, 4])
    if kind == "lstm":
        c = tf.placeholder(tf.float32, [None, 4])
        y, _ = tf.nn.rnn_cell.BasicLSTMCell(4)(x, tf.nn.rnn_cell.LSTMStateTuple(c, h))
        feed = {c: np.ones((3, 4))}
    else:
        y, _ = tf.nn.rnn_cell.GRUCell(4)(x, h)
        feed = {}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(y, {x: np.ones((3, 3)), h: np.ones((3, 4)), **feed}).shape == (3, 4)
        with pytest.raises(tf.errors.InvalidArgumentError):  # TF: its concat's, at run time
            sess.run(y, {x: np.ones((2, 3)), h: np.ones((3, 4)), **feed})
