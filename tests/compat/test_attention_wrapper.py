"""``tf.contrib.seq2seq.AttentionWrapper`` (``seq2seq/attention_wrapper.py``) under ``dynamic_rnn``
against TensorFlow's numbers (``tests/fixtures/tf1_census_gaps``)."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import census_fixture


@pytest.mark.parametrize("case", ["dtype", "initial_state", "history"])
def test_dynamic_rnn_over_attention_wrapper_matches_tf(case):
    ref = census_fixture("attention_dynamic_rnn")
    seq2seq = tf.contrib.seq2seq
    cell = tf.nn.rnn_cell.LSTMCell(7)
    mech = seq2seq.LuongAttention(7, tf.constant(ref["memory"]))
    att = seq2seq.AttentionWrapper(
        cell, mech, attention_layer_size=7, alignment_history=case == "history"
    )
    x = tf.constant(ref["x"])
    if case == "dtype":
        outputs, state = tf.nn.dynamic_rnn(att, x, dtype=tf.float32)
    elif case == "history":  # written at every step, past a row's length too, as TF's
        outputs, state = tf.nn.dynamic_rnn(att, x, dtype=tf.float32, sequence_length=[4, 2])
        history = state.alignment_history.stack()
    else:
        start = att.zero_state(2, tf.float32).clone(
            cell_state=tf.nn.rnn_cell.LSTMStateTuple(ref["c0"], ref["h0"])
        )
        outputs, state = tf.nn.dynamic_rnn(att, x, initial_state=start)
    assert state.time.dtype == tf.int32 and state.time.shape.ndims == 0
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for k, v in enumerate(tf.global_variables()):  # the same creation order as TF's
            v.load(ref[f"w{k}"], s)
        ov, sv = s.run([outputs, state])
    tol = {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(ov, ref[f"{case}_outputs"], **tol)
    np.testing.assert_allclose(sv.cell_state.c, ref[f"{case}_c"], **tol)
    np.testing.assert_allclose(sv.cell_state.h, ref[f"{case}_h"], **tol)
    np.testing.assert_allclose(sv.attention, ref[f"{case}_attention"], **tol)
    np.testing.assert_allclose(sv.alignments, ref[f"{case}_alignments"], **tol)
    assert int(sv.time) == 4
    if case == "history":
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            for k, v in enumerate(tf.global_variables()):
                v.load(ref[f"w{k}"], s)
            np.testing.assert_allclose(s.run(history), ref["history_stack"], **tol)
