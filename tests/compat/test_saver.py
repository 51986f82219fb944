"""tf.train.Saver on rnnkit.compat.v1: TensorFlow's own checkpoint files, both ways.

``tests/fixtures/tf1_checkpoints/rnn_adam`` was written by real TensorFlow (see
tools/make_tf1_checkpoint_fixtures.py) after 2 and 3 Adam steps on two stacked RNN models. The same
graph built here restores step 2, takes one Adam step and must land on TensorFlow's step 3 — every
variable, Adam slots, beta powers and global step included.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from rnnkit.interop import read_tf1_checkpoint

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf1_checkpoints"


def rnn_adam_graph(B: int = 4, T: int = 5, I: int = 3):
    """The fixture's graph, transcribed from the TF script (only the import differs)."""
    RC = tf.nn.rnn_cell
    x = tf.placeholder(tf.float32, [B, T, I])
    lengths = tf.placeholder(tf.int32, [B])
    labels = tf.placeholder(tf.int32, [B])
    lstm = RC.MultiRNNCell([RC.LSTMCell(8, use_peepholes=True), RC.LSTMCell(8)])
    out_l, st_l = tf.nn.dynamic_rnn(
        lstm, x, sequence_length=lengths, dtype=tf.float32, scope="lstm_rnn"
    )
    logits_l = tf.layers.dense(st_l[-1].h, 4, name="lstm_head")
    gru = RC.MultiRNNCell([RC.GRUCell(6), RC.GRUCell(6)])
    out_g, st_g = tf.nn.dynamic_rnn(
        gru, x, sequence_length=lengths, dtype=tf.float32, scope="gru_rnn"
    )
    logits_g = tf.layers.dense(st_g[-1], 4, name="gru_head")
    loss = tf.losses.sparse_softmax_cross_entropy(labels, logits_l)
    loss += tf.losses.sparse_softmax_cross_entropy(labels, logits_g)
    step = tf.train.get_or_create_global_step()
    train = tf.train.AdamOptimizer(0.05).minimize(loss, global_step=step)
    fetch = {"out/lstm/outputs": out_l, "out/lstm/logits": logits_l, "out/gru/outputs": out_g,
             "out/gru/logits": logits_g}  # fmt: skip
    return (x, lengths, labels), fetch, train, step


def test_restore_tf_checkpoint_then_one_adam_step_lands_on_tensorflows_next_checkpoint():
    data = np.load(FIXTURES / "rnn_adam.npz")
    (x, lengths, labels), fetch, train, step = rnn_adam_graph()
    feed = {x: data["inputs"], lengths: data["sequence_length"], labels: np.array([0, 3, 1, 2])}
    saver = tf.train.Saver()
    ckpt_dir = FIXTURES / "rnn_adam"
    assert tf.train.latest_checkpoint(str(ckpt_dir)).endswith("model.ckpt-3")
    with tf.Session() as sess:
        saver.restore(sess, str(ckpt_dir / "model.ckpt-2"))
        assert sess.run(step) == 2
        sess.run(train, feed)
        step3 = read_tf1_checkpoint(str(ckpt_dir / "model.ckpt-3"))
        assert {v.op.name for v in tf.global_variables()} == set(step3)
        for v in tf.global_variables():
            np.testing.assert_allclose(sess.run(v), step3[v.op.name], rtol=1e-5, atol=1e-6,
                                       err_msg=v.op.name)  # fmt: skip
        got = sess.run(fetch, feed)
    for key, value in got.items():
        np.testing.assert_allclose(value, data[key], rtol=1e-5, atol=1e-5, err_msg=key)


def test_saver_round_trip_keeps_max_to_keep_and_restores_in_a_new_session(tmp_path):
    w = tf.Variable(tf.random_normal([3, 2]), name="w")
    step = tf.Variable(0, trainable=False, name="global_step")
    inc = tf.assign_add(step, 1)
    saver = tf.train.Saver(max_to_keep=2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(inc)
            path = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=step)
        want = sess.run(w)
    assert path.endswith("model.ckpt-3")
    assert sorted(p.name for p in tmp_path.glob("*.index")) == [
        "model.ckpt-2.index",
        "model.ckpt-3.index",
    ]
    assert tf.train.latest_checkpoint(str(tmp_path)) == path
    with tf.Session() as sess:
        saver.restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
        np.testing.assert_array_equal(sess.run(w), want)
        assert sess.run(step) == 3


def test_restore_names_a_missing_variable(tmp_path):
    a = tf.Variable(1.0, name="a")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "m"))
    b = tf.Variable(2.0, name="b")
    with tf.Session() as sess, pytest.raises(tf.errors.NotFoundError, match="Key b not found"):
        tf.train.Saver([a, b]).restore(sess, path)
    with (
        tf.Session() as sess,
        pytest.raises(tf.errors.NotFoundError, match="not a valid checkpoint"),
    ):
        tf.train.Saver([a]).restore(sess, str(tmp_path / "nothing"))


def _state_paths(directory, name="checkpoint"):
    from rnnkit.interop._checkpoint_state import read_state

    state = read_state(str(directory / name))
    return list(state.all_model_checkpoint_paths), state.model_checkpoint_path


def test_state_file_lists_what_the_saver_keeps(tmp_path):
    """TF1's Saver: the state file lists the checkpoints it keeps (its ``last_checkpoints``), not
    every one it ever wrote; saving the same path again moves it to the end."""
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver(max_to_keep=2)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(5):
            saver.save(sess, str(tmp_path / "m"), global_step=step)
        assert _state_paths(tmp_path) == (["m-3", "m-4"], "m-4")
        assert saver.last_checkpoints == [str(tmp_path / "m-3"), str(tmp_path / "m-4")]
        saver.save(sess, str(tmp_path / "m"), global_step=3)
        assert _state_paths(tmp_path) == (["m-4", "m-3"], "m-3")
    assert sorted(p.name for p in tmp_path.glob("*.index")) == ["m-3.index", "m-4.index"]


@pytest.mark.parametrize("max_to_keep", [None, 0])
def test_max_to_keep_none_keeps_every_file_and_records_the_latest(tmp_path, max_to_keep):
    """TF1: with max_to_keep None or 0 no file is deleted, nothing is kept track of, and the state
    file names only the latest checkpoint."""
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver(max_to_keep=max_to_keep)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(4):
            saver.save(sess, str(tmp_path / "m"), global_step=step)
    assert len(list(tmp_path.glob("*.index"))) == 4
    assert saver.last_checkpoints == []
    assert _state_paths(tmp_path) == (["m-3"], "m-3")


def test_latest_filename_names_the_state_file(tmp_path):
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = saver.save(sess, str(tmp_path / "m"), latest_filename="best")
    assert not (tmp_path / "checkpoint").exists()
    assert tf.train.latest_checkpoint(str(tmp_path), latest_filename="best") == path
    assert tf.train.latest_checkpoint(str(tmp_path)) is None


def test_bad_save_and_restore_arguments_name_the_argument(tmp_path):
    tf.Variable(1.0, name="v")
    step = tf.Variable(7, name="global_step", trainable=False)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(TypeError, match="`global_step`: expected an integer"):
            saver.save(sess, str(tmp_path / "m"), global_step="abc")
        with pytest.raises(TypeError, match="`global_step`"):
            saver.save(sess, str(tmp_path / "m"), global_step=2.5)
        with pytest.raises(TypeError, match="`save_path`: expected a path"):
            saver.save(sess, None)
        with pytest.raises(TypeError, match="`save_path`"):
            saver.restore(sess, 5)
        assert not list(tmp_path.iterdir())
        assert saver.save(sess, str(tmp_path / "m"), global_step=np.int64(3)).endswith("m-3")
        assert saver.save(sess, str(tmp_path / "m"), global_step=step).endswith("m-7")
        assert saver.save(sess, str(tmp_path / "m"), global_step=step + 1).endswith("m-8")
