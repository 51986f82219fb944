"""A queue-fed LSTM language model as a whole TF1 program on rnnkit.compat.v1.

Against ``tests/fixtures/tf1_ptb/train.npz`` (real TensorFlow, ``tools/make_tf1_ptb_fixtures.py``,
format in its README): seven training steps of a two-layer LSTM language model from the same
initial weights (cost, LSTM state and inputs of each step, and the final variables), within 1e-5
relative to the largest magnitude of each tensor. Then a program of that kind at tiny scale: flags,
``tf.app.run``, ``tf.gfile``, the input queue and ``Supervisor.managed_session``, and its error when
the input is too short."""

from __future__ import annotations

import re

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import close_to_scale, ptb_fixture


def queued_windows(ids, rows, width, scope=None):
    """The next ``(rows, width)`` window of ``ids`` laid out as ``rows`` lines, and the same window one
    id later: a ``range_input_producer`` queue says which window, ``tf.strided_slice`` cuts it."""
    with tf.name_scope(scope, "Windows", [ids]):
        flat = tf.convert_to_tensor(ids, dtype=tf.int32, name="ids")
        line = tf.size(flat) // rows
        grid = tf.reshape(flat[: rows * line], [rows, line])
        count = (line - 1) // width
        check = tf.assert_positive(count, message="no full window: too few ids for rows x width")
        with tf.control_dependencies([check]):
            count = tf.identity(count, name="windows")
        k = tf.train.range_input_producer(count, shuffle=False).dequeue()
        cut = []
        for shift in (0, 1):
            window = tf.strided_slice(grid, [0, k * width + shift], [rows, (k + 1) * width + shift])
            window.set_shape([rows, width])
            cut.append(window)
        return cut[0], cut[1]


class QueuedLM:
    """A ``layers``-deep LSTM language model (BasicLSTMCell, forget_bias 0) reading ``queued_windows``,
    in variable scope ``Model``: TensorFlow's variable names of the fixture. A training model unrolls
    the cell by hand (reusing its variables after the first step) and trains it with SGD on a
    learning-rate variable, gradients clipped by their global norm; an evaluation model reuses the
    same variables through ``static_rnn``."""

    def __init__(self, cfg, ids, training=True, initializer=None):
        rows, width, units, words = (
            cfg["batch_size"],
            cfg["num_steps"],
            cfg["hidden_size"],
            cfg["vocab_size"],
        )
        self.x, self.y = queued_windows(ids, rows, width, scope="Input")
        with tf.variable_scope("Model", reuse=None if training else True, initializer=initializer):
            reuse = tf.get_variable_scope().reuse
            layers = [
                tf.contrib.rnn.BasicLSTMCell(units, forget_bias=0.0, reuse=reuse)
                for _ in range(cfg["num_layers"])
            ]
            cell = tf.contrib.rnn.MultiRNNCell(layers, state_is_tuple=True)
            self.initial_state = cell.zero_state(rows, tf.float32)
            with tf.device("/cpu:0"):
                table = tf.get_variable("embedding", [words, units], dtype=tf.float32)
            steps = tf.unstack(tf.nn.embedding_lookup(table, self.x), axis=1)
            if training:
                outputs, state = [], self.initial_state
                with tf.variable_scope("RNN"):
                    for t, step in enumerate(steps):
                        if t:
                            tf.get_variable_scope().reuse_variables()
                        out, state = cell(step, state)
                        outputs.append(out)
            else:
                outputs, state = tf.nn.static_rnn(
                    cell, steps, initial_state=self.initial_state, scope="RNN"
                )
            self.final_state = state
            hidden = tf.reshape(tf.concat(outputs, 1), [-1, units])  # row-major: (row, time)
            w = tf.get_variable("softmax_w", [units, words], dtype=tf.float32)
            b = tf.get_variable("softmax_b", [words], dtype=tf.float32)
            per_id = tf.contrib.legacy_seq2seq.sequence_loss_by_example(
                [tf.nn.xw_plus_b(hidden, w, b)],
                [tf.reshape(self.y, [-1])],
                [tf.ones([rows * width], dtype=tf.float32)],
            )
            self.cost = tf.reduce_sum(per_id) / rows
        if not training:
            return
        self.lr = tf.Variable(0.0, trainable=False)
        self.params = tf.trainable_variables()
        grads, _ = tf.clip_by_global_norm(
            tf.gradients(self.cost, self.params), cfg["max_grad_norm"]
        )
        self.train_op = tf.train.GradientDescentOptimizer(self.lr).apply_gradients(
            zip(grads, self.params), global_step=tf.contrib.framework.get_or_create_global_step()
        )
        self.new_lr = tf.placeholder(tf.float32, shape=[], name="new_learning_rate")
        self.set_lr = tf.assign(self.lr, self.new_lr)

    def state_feed(self, values):
        """Feed the initial state with ``values`` (the last window's final state, per layer)."""
        return {
            t: v
            for tensors, value in zip(self.initial_state, values)
            for t, v in zip(tensors, value)
        }


def test_training_steps_match_tensorflow():
    meta, a = ptb_fixture("train.npz")
    cfg = meta["config"]
    lm = QueuedLM(cfg, a["raw_data"])
    by_name = {v._op_name: v for v in lm.params}
    assert sorted(by_name) == meta["variables"]
    load = [tf.assign(v, a[f"init/{name}"]) for name, v in by_name.items()]
    sv = tf.train.Supervisor(logdir=None)
    with sv.managed_session() as sess:
        sess.run(load)
        state = sess.run(lm.initial_state)
        for step, lr in enumerate(cfg["learning_rates"]):
            sess.run(lm.set_lr, {lm.new_lr: lr})
            x, y, cost, state, _ = sess.run(
                [lm.x, lm.y, lm.cost, lm.final_state, lm.train_op], lm.state_feed(state)
            )
            np.testing.assert_array_equal(x, a[f"step{step}/x"])
            np.testing.assert_array_equal(y, a[f"step{step}/y"])
            close_to_scale(cost, a[f"step{step}/cost"], f"step {step} cost")
            for layer, s in enumerate(state):
                close_to_scale(s.c, a[f"step{step}/state{layer}/c"], f"step {step} layer {layer} c")
                close_to_scale(s.h, a[f"step{step}/state{layer}/h"], f"step {step} layer {layer} h")
        final = sess.run(by_name)
        assert int(sess.run(sv.global_step)) == int(a["global_step"])
    for name in by_name:
        close_to_scale(final[name], a[f"final/{name}"], name)


def test_program_structure_end_to_end(tmp_path):
    """Flags, ``tf.app.run``, ``tf.gfile``, a training and an evaluation model sharing weights,
    ``Supervisor`` with a logdir (its checkpoint at the start), a decaying learning rate, and the
    training perplexity falling."""
    text = "one two three two one \n three three one two \n " * 40
    (tmp_path / "words.txt").write_text(text)
    flags = tf.flags.FlagValues()
    tf.flags.DEFINE_string("text", None, "a file of words", flag_values=flags)
    tf.flags.DEFINE_integer("passes", 1, "epochs", flag_values=flags)
    tf.flags.DEFINE_bool("loud", False, "", flag_values=flags)
    left = flags(["lm", f"--text={tmp_path / 'words.txt'}", "--passes", "3", "--loud", "more"])
    assert left == ["lm", "more"] and flags.passes == 3 and flags.loud is True
    with tf.gfile.GFile(flags.text, "rb") as f:
        words = f.read().decode("utf-8").replace("\n", " <eos> ").split()
    index = {w: i for i, w in enumerate(sorted(set(words)))}
    ids = [index[w] for w in words]
    cfg = dict(
        vocab_size=len(index),
        hidden_size=12,
        num_layers=2,
        num_steps=6,
        batch_size=3,
        max_grad_norm=5,
    )
    windows = (len(ids) // cfg["batch_size"] - 1) // cfg["num_steps"]
    perplexity = []

    def main(argv):
        assert argv == ["lm"]
        with tf.Graph().as_default():
            init = tf.random_uniform_initializer(-0.1, 0.1)
            with tf.name_scope("Train"):
                lm = QueuedLM(cfg, ids, True, init)
                tf.summary.scalar("cost", lm.cost)
            with tf.name_scope("Eval"):
                check = QueuedLM(cfg, ids[:80], False, init)
            sv = tf.train.Supervisor(logdir=str(tmp_path / "logs"))
            with sv.managed_session(config=tf.ConfigProto(allow_soft_placement=True)) as sess:
                for epoch in range(flags.passes):
                    lr = 0.8 * 0.5 ** max(epoch - 1, 0)
                    sess.run(lm.set_lr, {lm.new_lr: lr})
                    assert sess.run(lm.lr) == pytest.approx(lr)
                    state, total = sess.run(lm.initial_state), 0.0
                    for _ in range(windows):
                        cost, state, _ = sess.run(
                            [lm.cost, lm.final_state, lm.train_op], lm.state_feed(state)
                        )
                        total += cost
                    perplexity.append(float(np.exp(total / (windows * cfg["num_steps"]))))
                    start = sess.run(check.initial_state)
                    assert np.isfinite(sess.run(check.cost, check.state_feed(start)))
                return int(sess.run(sv.global_step))

    with pytest.raises(SystemExit) as done:
        tf.app.run(main=main, argv=["lm"])
    steps = done.value.code
    assert steps == 3 * windows
    assert perplexity[-1] < perplexity[0]
    # the supervisor's checkpoint thread saves when it starts, as TF's does: at step 0, or a little
    # later when the thread starts late (a loaded machine); joined when the session ends
    latest = tf.train.latest_checkpoint(str(tmp_path / "logs"))
    assert re.fullmatch(r".*model\.ckpt-\d+", latest) and int(latest.rsplit("-", 1)[1]) <= steps


def test_too_short_input_fails_at_run_time():
    x, _ = queued_windows(list(range(10)), rows=5, width=3)
    sv = tf.train.Supervisor()
    with pytest.raises(tf.errors.InvalidArgumentError, match="no full window"):
        with sv.managed_session() as sess:
            sess.run(x)
