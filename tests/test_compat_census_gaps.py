"""TF1 names that published programs use, against real TensorFlow 2.21 ``tf.compat.v1`` numbers in
``tests/fixtures/tf1_census_gaps`` (made by ``tools/make_tf1_census_gap_fixtures.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import rnnkit.compat.v1 as tf

FIX = Path(__file__).parent / "fixtures" / "tf1_census_gaps"


def _load(name: str) -> dict:
    with np.load(FIX / f"{name}.npz", allow_pickle=False) as d:
        return {k: d[k] for k in d.files}


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


# -- MultiRNNCell([cell] * 2) --------------------------------------------------------------------


def test_multi_rnn_cell_one_cell_twice_has_one_set_of_weights():
    ref = _load("multi_shared")
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
    ref = _load("multi_shared")
    x = tf.placeholder(tf.float32, [2, 5, 4])
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell([cell] * 2), x, dtype=tf.float32)
    with tf.Session() as s:
        tf.train.Saver().restore(s, str(FIX / "multi_shared_ckpt" / "model"))
        ov = s.run(out, {x: ref["x"]})
    np.testing.assert_allclose(ov, ref["outputs"], rtol=1e-5, atol=1e-6)


def test_multi_rnn_cell_one_cell_twice_other_width_fails_as_tf():
    ref = _load("multi_shared")
    x = tf.placeholder(tf.float32, [2, 5, 3])
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 8 and 7") as err:
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell([cell] * 2), x, dtype=tf.float32)
    assert str(ref["width3_error"]).startswith("Dimensions must be equal, but are 8 and 7")
    assert "cell_0/basic_lstm_cell" in str(err.value)


def test_multi_rnn_cell_distinct_cells_keep_two_sets():
    x = tf.placeholder(tf.float32, [2, 5, 4])
    cells = [tf.nn.rnn_cell.BasicLSTMCell(4) for _ in range(2)]
    tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell(cells), x, dtype=tf.float32)
    assert [v.op.name for v in tf.global_variables()] == [
        f"rnn/multi_rnn_cell/cell_{k}/basic_lstm_cell/{p}"
        for k in (0, 1)
        for p in ("kernel", "bias")
    ]


# -- tf.nn.raw_rnn --------------------------------------------------------------------------------


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
    ref = _load(case)
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


# -- old names ------------------------------------------------------------------------------------


def test_tf0_rnn_is_static_rnn():
    assert tf.nn.rnn is tf.nn.static_rnn


# -- AdadeltaOptimizer ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["default", "large"])
def test_adadelta_matches_tf_over_five_steps(case):
    import json

    ref = _load("adadelta")
    kwargs = json.loads((FIX / "meta.json").read_text())["adadelta"][case]
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 2])
    W = tf.Variable(ref["W0"], name="W")
    b = tf.Variable(ref["b0"], name="b")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, W) + b - y))
    opt = tf.train.AdadeltaOptimizer(**kwargs)
    step = opt.minimize(loss)
    assert [v.op.name for v in tf.global_variables()] == list(ref[f"{case}_names"])
    assert opt.get_slot_names() == list(ref[f"{case}_slot_names"])
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for k in range(5):
            s.run(step, {x: ref["X"][k], y: ref["Y"][k]})
            got = s.run([W, b, opt.get_slot(W, "accum"), opt.get_slot(W, "accum_update")])
            for key, v in zip(("W", "b", "W_accum", "W_accum_update"), got):
                np.testing.assert_allclose(v, ref[f"{case}_{key}"][k], rtol=2e-5, atol=1e-7)
