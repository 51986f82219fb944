"""Every cell constructor option (``activation``, ``state_is_tuple=False``, ``num_proj``,
``proj_clip``, ``cell_clip``, ``initializer``, ``name``, GRU initializers, stacks with concatenated
states) against real TensorFlow's outputs, states, gradients and variable names
(``tests/fixtures/tf1_api/cells.*``, made by ``tools/make_tf1_api_fixtures.py``)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from rnnkit import _nest

FIX = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "tf1_api"
META = json.loads((FIX / "cells.json").read_text())
ARR = dict(np.load(FIX / "cells.npz", allow_pickle=False))
rnn_cell = tf.nn.rnn_cell

CELLS = {
    "rnn_relu": lambda: rnn_cell.BasicRNNCell(5, activation=tf.nn.relu),
    "rnn_tanh_explicit": lambda: rnn_cell.BasicRNNCell(5, activation=tf.tanh),
    # TF's fixture used tf.nn.softsign: the same function, written with compat ops
    "rnn_softsign": lambda: rnn_cell.BasicRNNCell(5, activation=lambda x: x / (1.0 + tf.abs(x))),
    "rnn_named": lambda: rnn_cell.BasicRNNCell(5, name="my_rnn"),
    "basic_lstm_tanh": lambda: rnn_cell.BasicLSTMCell(5, activation=tf.tanh),
    "basic_lstm_relu": lambda: rnn_cell.BasicLSTMCell(5, forget_bias=0.5, activation=tf.nn.relu),
    "basic_lstm_concat": lambda: rnn_cell.BasicLSTMCell(5, state_is_tuple=False),
    "lstm_proj": lambda: rnn_cell.LSTMCell(5, num_proj=3),
    "lstm_proj_clip_peep": lambda: rnn_cell.LSTMCell(
        5,
        use_peepholes=True,
        cell_clip=0.5,
        num_proj=3,
        proj_clip=0.2,
        initializer=tf.constant_initializer(0.05),
    ),
    "lstm_concat_proj": lambda: rnn_cell.LSTMCell(5, num_proj=3, state_is_tuple=False),
    "lstm_clip": lambda: rnn_cell.LSTMCell(5, cell_clip=0.3),
    "lstm_clip_peep": lambda: rnn_cell.LSTMCell(5, cell_clip=0.3, use_peepholes=True),
    "lstm_relu_named": lambda: rnn_cell.LSTMCell(
        5, activation=tf.nn.relu, forget_bias=0.0, name="my_lstm"
    ),
    "gru_relu": lambda: rnn_cell.GRUCell(5, activation=tf.nn.relu),
    "gru_init": lambda: rnn_cell.GRUCell(
        5,
        kernel_initializer=tf.constant_initializer(0.1),
        bias_initializer=tf.constant_initializer(0.3),
    ),
    "multi_concat": lambda: rnn_cell.MultiRNNCell(
        [rnn_cell.LSTMCell(4, state_is_tuple=False), rnn_cell.GRUCell(3)], state_is_tuple=False
    ),
    "multi_proj": lambda: rnn_cell.MultiRNNCell(
        [rnn_cell.LSTMCell(4, num_proj=2), rnn_cell.BasicLSTMCell(3, activation=tf.nn.relu)]
    ),
}
# constant initializers: TF's initial values are reproduced, not loaded
DETERMINISTIC = {"lstm_proj_clip_peep", "gru_init"}


def _run(key: str, make_cell):
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 5, 4])
    seq = tf.placeholder(tf.int32, [None])
    cell = make_cell()
    outputs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=seq, dtype=tf.float32)
    leaves = _nest.flatten(state)
    loss = tf.reduce_sum(outputs * outputs) + tf.add_n(
        [tf.reduce_sum(s * (k + 1.0)) for k, s in enumerate(leaves)]
    )
    vs = tf.trainable_variables()
    grads = tf.gradients(loss, [*vs, x])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        init = sess.run(vs)
        for v in vs:
            if key not in DETERMINISTIC:
                v.load(ARR[f"{key}/var/{v.op.name}"], sess)
        got = sess.run([outputs, *leaves, *grads], {x: ARR["x"], seq: ARR["seq"]})
    return cell, vs, init, leaves, got


def test_the_fixture_covers_these_cells() -> None:
    assert set(CELLS) == set(META) - {"errors"}


@pytest.mark.parametrize("key", sorted(CELLS))
def test_cell_option_matches_tf(key: str) -> None:
    meta = META[key]
    cell, vs, init, leaves, got = _run(key, CELLS[key])
    assert [v.op.name for v in vs] == meta["variables"]
    assert _nest.flatten(cell.state_size) == meta["state_size"]
    assert cell.output_size == meta["output_size"]
    assert [s.shape.as_list()[1:] for s in leaves] == meta["state_shapes"]
    if key in DETERMINISTIC:
        for v, value in zip(vs, init):
            np.testing.assert_allclose(value, ARR[f"{key}/var/{v.op.name}"], rtol=1e-6)
    np.testing.assert_allclose(got[0], ARR[f"{key}/outputs"], rtol=1e-5, atol=1e-6)
    for k, s in enumerate(got[1 : 1 + len(leaves)]):
        np.testing.assert_allclose(s, ARR[f"{key}/state/{k}"], rtol=1e-5, atol=1e-6)
    for v, g in zip([*vs, "inputs"], got[1 + len(leaves) :]):
        name = v if isinstance(v, str) else v.op.name
        np.testing.assert_allclose(
            g, ARR[f"{key}/grad/{name}"], rtol=1e-4, atol=1e-5, err_msg=f"{key} grad {name}"
        )


@pytest.mark.parametrize("peephole", [False, True])
def test_lstm_block_cell_clip_is_lstm_cells(peephole: bool) -> None:
    """LSTMBlockCell(cell_clip) computes what LSTMCell(cell_clip) does (TF1 documents both)."""
    key = "lstm_clip_peep" if peephole else "lstm_clip"
    _, vs, _, leaves, got = _run(
        key, lambda: tf.contrib.rnn.LSTMBlockCell(5, cell_clip=0.3, use_peephole=peephole)
    )
    assert [v.op.name for v in vs] == META[key]["variables"]
    np.testing.assert_allclose(got[0], ARR[f"{key}/outputs"], rtol=1e-5, atol=1e-6)


def test_default_options_keep_rnnkit_cells() -> None:
    """Explicit defaults (activation=tf.tanh, state_is_tuple=True) keep the fused engine's cells."""
    import rnnkit

    assert type(rnn_cell.BasicLSTMCell(3, activation=tf.tanh).rnnkit_cell) is rnnkit.BasicLSTMCell
    assert type(rnn_cell.LSTMCell(3, activation=tf.tanh).rnnkit_cell) is rnnkit.LSTMCell
    assert type(rnn_cell.GRUCell(3, activation=tf.tanh).rnnkit_cell) is rnnkit.GRUCell
    assert rnn_cell.BasicRNNCell(3, activation=tf.nn.relu).rnnkit_cell.activation_name == "relu"


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: rnn_cell.LSTMCell(5, num_proj=0), ValueError, "num_proj"),
        (lambda: rnn_cell.LSTMCell(5, cell_clip="big"), TypeError, "cell_clip"),
        (lambda: rnn_cell.LSTMCell(5, proj_clip=[1]), TypeError, "proj_clip"),
        (lambda: rnn_cell.BasicLSTMCell(5, state_is_tuple="no"), TypeError, "state_is_tuple"),
        (lambda: rnn_cell.GRUCell(5, activation="relu"), TypeError, "activation"),
        (lambda: rnn_cell.BasicRNNCell(5, name=3), TypeError, "name"),
    ],
)
def test_bad_options_name_the_argument(make, error, match) -> None:
    with pytest.raises(error, match=match):
        make()


def test_concatenated_state_feeds_back() -> None:
    """A state_is_tuple=False state fetched from one run feeds the next as initial_state."""
    tf.reset_default_graph()
    cell = rnn_cell.LSTMCell(5, num_proj=3, state_is_tuple=False)
    x = tf.placeholder(tf.float32, [None, 5, 4])
    init = tf.placeholder(tf.float32, [None, cell.state_size])
    out, state = tf.nn.dynamic_rnn(cell, x, initial_state=init)
    x_val = ARR["x"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        whole = sess.run(
            state, {x: np.concatenate([x_val, x_val], 1)[:, :5], init: np.zeros((3, 8))}
        )
        first = sess.run(state, {x: x_val, init: np.zeros((3, 8))})
        np.testing.assert_allclose(whole, first, rtol=1e-6)
        assert first.shape == (3, 8)
