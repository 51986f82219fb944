"""The runners (``rnn.py``): ``dynamic_rnn`` time-major and over a numpy initial state,
``static_rnn`` over stacked LSTMs, ``bidirectional_dynamic_rnn`` and ``raw_rnn``, against
TensorFlow's numbers (``tests/fixtures/tf1``, ``tests/fixtures/tf1_census_gaps``) or rnnkit's
runners with the same cells; and what they refuse at graph construction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnkit
import rnnkit.compat.v1 as tf
from tests.compat._helpers import census_fixture, close, fixture, load_all, rng, sync, variables


def test_time_major_dynamic_rnn_with_fed_lengths_and_initial_state_matches_tensorflow():
    fx = fixture("rnn_dynamic_time_major_init")
    T, B, I = fx["inputs"].shape
    H = fx["init"].shape[1]
    X = tf.placeholder(tf.float32, [None, None, I])
    seq = tf.placeholder(tf.int32, [None])
    h0 = tf.placeholder(tf.float32, [None, H])
    cell = tf.nn.rnn_cell.BasicRNNCell(H)
    outputs, state = tf.nn.dynamic_rnn(
        cell, X, sequence_length=seq, initial_state=h0, time_major=True
    )
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        load_all(variables(fx))
        y, h = sess.run(
            (outputs, state),
            feed_dict={X: fx["inputs"], seq: fx["sequence_length"], h0: fx["init"]},
        )
    close(y, fx["out/outputs"])
    close(h, fx["out/state"])


def test_time_major_dynamic_rnn_with_zero_state_matches_rnnkit_and_masks():
    T, B, I, H = 6, 4, 3, 5
    lengths = np.array([6, 3, 0, 1])
    x = np.random.default_rng(0).normal(size=(T, B, I)).astype(np.float32)
    X = tf.placeholder(tf.float32, [T, None, I])
    seq = tf.placeholder(tf.int32, [None])
    cell = tf.nn.rnn_cell.GRUCell(H)
    init_state = cell.zero_state(B, tf.float32)
    assert init_state.shape.as_list() == [B, H]
    outputs, state = tf.nn.dynamic_rnn(
        cell, X, sequence_length=seq, initial_state=init_state, time_major=True
    )
    assert outputs.shape.as_list() == [T, B, H]  # TF 2.21: the batch size from initial_state
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        sync(sess, cell)
        y, h = sess.run([outputs, state], {X: x, seq: lengths})
    ref_y, ref_h = rnnkit.dynamic_rnn(
        cell.rnnkit_cell, torch.from_numpy(x), sequence_length=lengths, time_major=True
    )
    close(y, ref_y.detach())
    close(h, ref_h.detach())
    for b, n in enumerate(lengths):
        assert np.all(y[n:, b] == 0)  # zeros past each length
        close(h[b], y[n - 1, b] if n else np.zeros(H))  # final state at the last valid step


def test_stacked_lstms_under_static_rnn_match_tensorflow_and_fetch_nested_states():
    fx = fixture("multi_lstm_lstm_init")  # TF ran dynamic_rnn; static_rnn has the same semantics
    B, T, I = fx["inputs"].shape
    steps = [tf.placeholder(tf.float32, [None, I]) for _ in range(T)]
    seq = tf.placeholder(tf.int32, [None])
    cell = tf.nn.rnn_cell.MultiRNNCell(
        [tf.nn.rnn_cell.BasicLSTMCell(6), tf.nn.rnn_cell.LSTMCell(7)]
    )
    init = tuple(
        tf.nn.rnn_cell.LSTMStateTuple(
            tf.placeholder(tf.float32, [None, n]), tf.placeholder(tf.float32, [None, n])
        )
        for n in (6, 7)
    )
    outputs, states = tf.nn.static_rnn(cell, steps, initial_state=init, sequence_length=seq)
    assert len(outputs) == T and isinstance(states, tuple) and len(states) == 2
    assert isinstance(states[-1], tf.nn.rnn_cell.LSTMStateTuple)
    assert str(states[-1].h.shape) == "(?, 7)"
    feed = {p: fx["inputs"][:, t] for t, p in enumerate(steps)}
    feed[seq] = fx["sequence_length"]
    feed[init] = tuple((fx[f"init/{k}/c"], fx[f"init/{k}/h"]) for k in range(2))  # structured key
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        load_all(variables(fx))
        got = sess.run({"outputs": outputs, "states": states, "top": states[-1].h}, feed)
    assert isinstance(got, dict) and isinstance(got["states"][1], rnnkit.LSTMStateTuple)
    close(np.stack(got["outputs"], 1), fx["out/outputs"])
    for k in range(2):
        close(got["states"][k].c, fx[f"out/state/{k}/c"])
        close(got["states"][k].h, fx[f"out/state/{k}/h"])
    close(got["top"], fx["out/state/1/h"])


def test_stacked_lstms_static_matches_rnnkit_static_rnn_with_the_same_cell():
    B, T, I = 3, 4, 2
    x = np.random.default_rng(1).normal(size=(T, B, I)).astype(np.float32)
    steps = [tf.placeholder(tf.float32, [None, I]) for _ in range(T)]
    cell = tf.contrib.rnn.MultiRNNCell([tf.contrib.rnn.BasicLSTMCell(4) for _ in range(2)])
    outputs, states = tf.contrib.rnn.static_rnn(cell, steps, dtype=tf.float32)
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        sync(sess, cell)
        ys, st = sess.run([outputs, states], {p: x[t] for t, p in enumerate(steps)})
    ref_ys, ref_st = rnnkit.static_rnn(cell.rnnkit_cell, list(torch.from_numpy(x)))
    close(np.stack(ys), torch.stack(ref_ys).detach())
    for got, ref in zip(st, ref_st):
        close(got.c, ref.c.detach())
        close(got.h, ref.h.detach())
    close(st[-1].h, ys[-1])


def test_bidirectional_dynamic_rnn_with_lengths_matches_tensorflow():
    fx = fixture("bidir_lstm_gru_lengths")
    B, T, I = fx["inputs"].shape
    X = tf.placeholder(tf.float32, [None, T, I])
    seq = tf.placeholder(tf.int32, [None])
    fw, bw = tf.nn.rnn_cell.BasicLSTMCell(6), tf.nn.rnn_cell.GRUCell(6)
    (out_fw, out_bw), (st_fw, st_bw) = tf.nn.bidirectional_dynamic_rnn(
        fw, bw, X, sequence_length=seq, dtype=tf.float32
    )
    assert str(out_fw.shape) == f"(?, {T}, 6)"
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        load_all(variables(fx))
        (y_fw, y_bw), (s_fw, s_bw) = sess.run(
            ((out_fw, out_bw), (st_fw, st_bw)), {X: fx["inputs"], seq: fx["sequence_length"]}
        )
    close(y_fw, fx["out/outputs/fw"])
    close(y_bw, fx["out/outputs/bw"])
    close(s_fw.c, fx["out/state/fw/c"])
    close(s_fw.h, fx["out/state/fw/h"])
    close(s_bw, fx["out/state/bw"])
    for b, n in enumerate(fx["sequence_length"]):
        assert np.all(y_fw[b, n:] == 0) and np.all(y_bw[b, n:] == 0)


def test_bidirectional_matches_rnnkit_with_the_same_cells():
    x = np.random.default_rng(2).normal(size=(3, 5, 2)).astype(np.float32)
    lengths = [5, 2, 4]
    fw, bw = tf.nn.rnn_cell.BasicRNNCell(3), tf.nn.rnn_cell.BasicRNNCell(3, activation=tf.nn.relu)
    (yf, yb), (sf, sb) = tf.nn.bidirectional_dynamic_rnn(
        fw, bw, x, sequence_length=lengths, dtype=tf.float32
    )
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        sync(sess, fw, bw)
        got = sess.run([yf, yb, sf, sb])
    (ryf, ryb), (rsf, rsb) = rnnkit.bidirectional_dynamic_rnn(
        fw.rnnkit_cell, bw.rnnkit_cell, torch.from_numpy(x), sequence_length=lengths
    )
    for g, r in zip(got, (ryf, ryb, rsf, rsb)):
        close(g, r.detach())
    assert bw.rnnkit_cell.activation_name == "relu"


def test_initial_state_may_be_a_numpy_value():
    X = tf.placeholder(tf.float32, [None, 2, 3])
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    h0 = rnnkit.LSTMStateTuple(np.full((2, 4), 0.5, np.float32), np.zeros((2, 4), np.float32))
    outputs, state = tf.nn.dynamic_rnn(cell, X, initial_state=h0)
    x = rng().normal(size=(2, 2, 3)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        y, (c, h) = sess.run([outputs, state], {X: x})
        values = {v.op.name: sess.run(v) for v in tf.global_variables()}
    ref = rnnkit.BasicLSTMCell(4)
    rnnkit.interop.load_tf1_variables(ref, values, scope="rnn")
    ry, rs = rnnkit.dynamic_rnn(
        ref, torch.from_numpy(x), initial_state=tuple(map(torch.from_numpy, h0))
    )
    close(y, ry.detach())
    close(c, rs.c.detach())


def test_static_rnn_inputs_of_different_widths_are_refused_at_construction():
    cell = tf.nn.rnn_cell.BasicRNNCell(3)
    a, b = tf.placeholder(tf.float32, [None, 2]), tf.placeholder(tf.float32, [None, 4])
    with pytest.raises(ValueError, match="same input width"):
        tf.nn.static_rnn(cell, [a, b], dtype=tf.float32)


def test_graph_construction_refuses_what_tf1_refuses():
    cell = tf.nn.rnn_cell.BasicRNNCell(5)
    tf.nn.dynamic_rnn(cell, tf.placeholder(tf.float32, [None, 2, 3]), dtype=tf.float32)
    with pytest.raises(
        ValueError, match=r"Trying to share variable rnn/basic_rnn_cell/kernel.*\(9, 5\).*\(8, 5\)"
    ):
        tf.nn.dynamic_rnn(cell, tf.placeholder(tf.float32, [None, 2, 4]), dtype=tf.float32)
    other = tf.nn.rnn_cell.GRUCell(4)
    with pytest.raises(ValueError, match="batch size 3 .* contradicts the inputs' batch size 4"):
        tf.nn.dynamic_rnn(
            other,
            tf.placeholder(tf.float32, [4, 2, 3]),
            initial_state=other.zero_state(3, tf.float32),
        )


def _raw_rnn_graph(emit_pair: bool):
    B, T, D, H = 3, 4, 2, 5
    x = tf.placeholder(tf.float32, [T, B, D])
    lengths = tf.placeholder(tf.int32, [B])
    inputs_ta = tf.TensorArray(tf.float32, size=T).unstack(x)
    cell = tf.nn.rnn_cell.GRUCell(H)

    def loop_fn(time, output, state, loop_state):
        if output is None:
            emit = (tf.zeros([H]), tf.zeros([])) if emit_pair else None
            return (
                0 >= lengths,
                inputs_ta.read(0),
                cell.zero_state(B, tf.float32),
                emit,
                tf.constant(0),
            )
        finished = time >= lengths
        nxt = tf.cond(
            tf.reduce_all(finished), lambda: tf.zeros([B, D]), lambda: inputs_ta.read(time)
        )
        emit = (output, tf.reduce_sum(output, 1)) if emit_pair else output * 2.0
        return finished, nxt, state, emit, loop_state + 1

    emit_ta, final_state, final_loop = tf.nn.raw_rnn(cell, loop_fn)
    flat = list(emit_ta) if isinstance(emit_ta, tuple) else [emit_ta]
    return x, lengths, [ta.stack() for ta in flat], final_state, final_loop


@pytest.mark.parametrize("case", ["raw_rnn", "raw_rnn_emit"])
def test_raw_rnn_matches_tf(case):
    ref = census_fixture(case)
    x, lengths, emits, final_state, final_loop = _raw_rnn_graph(case == "raw_rnn_emit")
    assert [v.op.name for v in tf.global_variables()] == list(ref["names"])
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for v in tf.global_variables():
            v.load(ref[f"w_{v.op.name}"], s)
        ev, fs, fl = s.run([emits, final_state, final_loop], {x: ref["x"], lengths: ref["lengths"]})
    assert len(ev) == len([k for k in ref if k.startswith("emit_")])
    for k, e in enumerate(ev):
        np.testing.assert_allclose(e, ref[f"emit_{k}"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fs, ref["final_state"], rtol=1e-5, atol=1e-6)
    assert int(fl) == int(ref["final_loop_state"])


def test_raw_rnn_without_loop_state_returns_none():
    cell = tf.nn.rnn_cell.BasicRNNCell(3)
    x = tf.ones([2, 4])

    def loop_fn(time, output, state, loop_state):
        done = time >= tf.constant([2, 3]) if output is not None else tf.zeros([2], tf.bool)
        start = cell.zero_state(2, tf.float32) if state is None else state
        return done, x, start, None, None

    emit_ta, final_state, final_loop = tf.nn.raw_rnn(cell, loop_fn)
    assert final_loop is None
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        assert s.run(emit_ta.stack()).shape == (3, 2, 3)


def test_raw_rnn_bad_loop_fn():
    with pytest.raises(TypeError, match="loop_fn must be a callable"):
        tf.nn.raw_rnn(tf.nn.rnn_cell.BasicRNNCell(3), 3)


def test_raw_rnn_loop_fn_results_are_checked():
    cell = tf.nn.rnn_cell.BasicRNNCell(3)
    x = tf.ones([2, 4])
    with pytest.raises(ValueError, match=r"must return \(elements_finished, next_input"):
        tf.nn.raw_rnn(cell, lambda t, o, s, ls: (tf.zeros([2], tf.bool), x))
    with pytest.raises(TypeError, match="must be a bool tensor, got int32"):
        tf.nn.raw_rnn(cell, lambda t, o, s, ls: (tf.zeros([2], tf.int32), x, s, None, None))


def test_tf0_rnn_is_static_rnn():
    assert tf.nn.rnn is tf.nn.static_rnn


def test_rows_kept_passes_the_new_rows_through_while_no_row_has_finished():
    from rnnkit.compat.v1.array_ops import rows_kept

    tf.reset_default_graph()
    finished = tf.placeholder(tf.bool, [3])
    old = tf.constant(np.full((3, 2), 7.0, np.float32))
    x = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2))
    new = x * 2.0
    out = rows_kept(finished, old, new)
    (g,) = tf.gradients(tf.reduce_sum(out * out), [x])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        none, g_none = sess.run([out, g], {finished: [False, False, False]})
        some, g_some = sess.run([out, g], {finished: [False, True, False]})
    np.testing.assert_array_equal(none, np.arange(6).reshape(3, 2) * 2.0)
    np.testing.assert_array_equal(g_none, 8.0 * np.arange(6).reshape(3, 2))  # d(4 x^2)/dx
    np.testing.assert_array_equal(some[1], [7.0, 7.0])
    np.testing.assert_array_equal(some[[0, 2]], none[[0, 2]])
    np.testing.assert_array_equal(g_some[1], [0.0, 0.0])  # a finished row's gradient stops
    np.testing.assert_array_equal(g_some[[0, 2]], g_none[[0, 2]])
