"""The runners (``rnn.py``): ``dynamic_rnn`` time-major and over a numpy initial state,
``static_rnn`` over stacked LSTMs, ``bidirectional_dynamic_rnn`` and ``raw_rnn``, against
TensorFlow's numbers (``tests/fixtures/tf1``, ``tests/fixtures/tf1_census_gaps``) or rnnkit's
runners with the same cells; and what they refuse at graph construction."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import census_fixture


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


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
