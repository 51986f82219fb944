"""A queue-fed LSTM language model and the ops it needs, on rnnkit.compat.v1, against TensorFlow.

Against ``tests/fixtures/tf1_ptb`` (real TensorFlow, ``tools/make_tf1_ptb_fixtures.py``, format in
its README): the ops on fixed inputs (values and gradients, float32, within 1e-5 relative to the
largest magnitude of the tensor), and seven training steps of a two-layer LSTM language model from the
same initial weights (cost, LSTM state and inputs of each step, and the final variables). Then a whole
program of that kind at tiny scale: flags, ``tf.app.run``, ``tf.gfile``, the input queue,
``Supervisor.managed_session``, and the errors of what is misused.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import rnnkit.compat.v1 as tf

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf1_ptb"
RTOL = 1e-5


def _load(name: str) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(FIXTURES / name, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads(str(arrays.pop("meta"))), arrays


def _close(actual, expected, what: str, rtol: float = RTOL) -> None:
    expected = np.asarray(expected)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    assert np.shape(actual) == expected.shape, what
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rtol * max(scale, 1e-3), err_msg=what)


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield


# -- (a) the new ops ------------------------------------------------------------------------------
def test_strided_slice_matches_tensorflow():
    meta, a = _load("ops.npz")
    x = tf.constant(a["slice/x"])
    with tf.Session() as sess:
        for k, (b, e, s, bm, em, elm, nm, sm) in enumerate(meta["slices"]):
            out = tf.strided_slice(x, b, e, s, bm, em, elm, nm, sm)
            value = sess.run(out)
            np.testing.assert_array_equal(value, a[f"slice/out{k}"], err_msg=str(k))
            assert out.shape.as_list() == list(value.shape), k  # static shape when bounds are known


def test_xw_plus_b_matches_tensorflow():
    _, a = _load("ops.npz")
    with tf.Session() as sess:
        _close(sess.run(tf.nn.xw_plus_b(a["xw/x"], a["xw/w"], a["xw/b"])), a["xw/out"], "xw_plus_b")


def _loss_inputs(a):
    B, T, _ = a["loss/logits"].shape
    L = tf.placeholder(tf.float32, list(a["loss/logits"].shape))
    lt = [L[:, t, :] for t in range(T)]
    yt = [tf.constant(a["loss/targets"][:, t]) for t in range(T)]
    wt = [tf.constant(a["loss/weights"][:, t]) for t in range(T)]
    return L, lt, yt, wt


def test_legacy_sequence_losses_match_tensorflow():
    _, a = _load("ops.npz")
    L, lt, yt, wt = _loss_inputs(a)
    s2s = tf.contrib.legacy_seq2seq
    with tf.Session() as sess:
        for avg in (True, False):
            v = s2s.sequence_loss_by_example(lt, yt, wt, average_across_timesteps=avg)
            key = f"by_example/avg_t={int(avg)}"
            val, grad = sess.run(
                [v, tf.gradients(tf.reduce_sum(v * v), L)[0]], {L: a["loss/logits"]}
            )
            _close(val, a[key], key)
            _close(grad, a[key + "/grad"], key + "/grad")
            for avg_b in (True, False):
                v = s2s.sequence_loss(lt, yt, wt, avg, avg_b)
                key = f"legacy/avg_t={int(avg)},avg_b={int(avg_b)}"
                val, grad = sess.run([v, tf.gradients(v, L)[0]], {L: a["loss/logits"]})
                _close(val, a[key], key)
                _close(grad, a[key + "/grad"], key + "/grad")


def test_seq2seq_sequence_loss_matches_tensorflow():
    meta, a = _load("ops.npz")
    L = tf.placeholder(tf.float32, list(a["loss/logits"].shape))
    with tf.Session() as sess:
        for flags in meta["seq2seq_flags"]:
            v = tf.contrib.seq2seq.sequence_loss(L, a["loss/targets"], a["loss/weights"], *flags)
            key = "seq2seq/" + ",".join(str(int(f)) for f in flags)
            val, grad = sess.run(
                [v, tf.gradients(tf.reduce_sum(v * v), L)[0]], {L: a["loss/logits"]}
            )
            _close(val, a[key], key)
            _close(grad, a[key + "/grad"], key + "/grad")


def test_sequence_loss_argument_errors():
    L = tf.placeholder(tf.float32, [2, 3, 4])
    y = tf.placeholder(tf.int32, [2, 3])
    w = tf.ones([2, 3])
    with pytest.raises(ValueError, match="`logits`.*batch_size x sequence_length x logits"):
        tf.contrib.seq2seq.sequence_loss(L[:, 0, :], y, w)
    with pytest.raises(ValueError, match="average_across_batch and sum_over_batch"):
        tf.contrib.seq2seq.sequence_loss(L, y, w, sum_over_batch=True)
    with pytest.raises(
        ValueError, match="Lengths of logits, weights, and targets must be the same 1, 2, 1"
    ):
        tf.contrib.legacy_seq2seq.sequence_loss_by_example([L[:, 0]], [y[:, 0]], [w[:, 0], w[:, 1]])
    with pytest.raises(TypeError, match="`logits`: expected a non-empty list"):
        tf.contrib.legacy_seq2seq.sequence_loss_by_example(L, [y], [w])
    with pytest.raises(ValueError, match="`strides`: expected non-zero strides"):
        tf.strided_slice(L, [0], [1], [0])
    with pytest.raises(ValueError, match="`begin`, `end`, `strides`: expected the same length"):
        tf.strided_slice(L, [0, 0], [1], [1])
    with pytest.raises(TypeError, match="`shrink_axis_mask`: expected a non-negative integer"):
        tf.strided_slice(L, [0], [1], shrink_axis_mask=-1)


# -- (b) a queue-fed LSTM language model against TensorFlow ----------------------------------------
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
    meta, a = _load("train.npz")
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
            _close(cost, a[f"step{step}/cost"], f"step {step} cost")
            for layer, s in enumerate(state):
                _close(s.c, a[f"step{step}/state{layer}/c"], f"step {step} layer {layer} c")
                _close(s.h, a[f"step{step}/state{layer}/h"], f"step {step} layer {layer} h")
        final = sess.run(by_name)
        assert int(sess.run(sv.global_step)) == int(a["global_step"])
    for name in by_name:
        _close(final[name], a[f"final/{name}"], name)


# -- (c) a whole queue-fed program at tiny scale ------------------------------------------------------
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


def test_queue_semantics_and_errors():
    q = tf.train.range_input_producer(3, num_epochs=2, shuffle=False)
    i = q.dequeue()
    assert q.name == "input_producer" and i.name == "input_producer_Dequeue:0"
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="start_queue_runners"):
            sess.run(i)
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord=coord)
        got = [int(sess.run(i)) for _ in range(6)]
        assert got == [0, 1, 2, 0, 1, 2]
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(i)
        coord.request_stop()
        coord.join(threads)
    with pytest.raises(
        ValueError, match="`num_epochs`: expected None or a positive integer, got 0"
    ):
        tf.train.range_input_producer(3, num_epochs=0)


def test_supervisor_ends_cleanly_at_end_of_input_and_reraises_other_errors():
    q = tf.train.range_input_producer(2, num_epochs=1, shuffle=True, seed=3)
    i = q.dequeue()
    seen = []
    sv = tf.train.Supervisor()
    with sv.managed_session() as sess:
        while not sv.should_stop():
            seen.append(int(sess.run(i)))
    assert sorted(seen) == [0, 1]
    with pytest.raises(RuntimeError, match="boom"):
        with tf.train.Supervisor().managed_session():
            raise RuntimeError("boom")


def test_too_short_input_fails_at_run_time():
    x, _ = queued_windows(list(range(10)), rows=5, width=3)
    sv = tf.train.Supervisor()
    with pytest.raises(tf.errors.InvalidArgumentError, match="no full window"):
        with sv.managed_session() as sess:
            sess.run(x)


def test_flags_app_logging_and_config_errors(monkeypatch):
    flags = tf.flags.FlagValues()
    tf.flags.DEFINE_integer("n", 1, "", flag_values=flags)
    with pytest.raises(ValueError, match="flag `--n`"):
        flags(["p", "--n=abc"])
    with pytest.raises(ValueError, match="defined twice"):
        tf.flags.DEFINE_integer("n", 2, "", flag_values=flags)
    with pytest.raises(TypeError, match="`default` of flag 'm': expected an integer"):
        tf.flags.DEFINE_integer("m", 1.5, "", flag_values=flags)
    with pytest.raises(ValueError, match='ConfigProto has no "allow_soft" field'):
        tf.ConfigProto(allow_soft=True)
    with pytest.raises(TypeError, match="`main`: expected a function"):
        tf.app.run(main=3, argv=["p"])
    tf.logging.set_verbosity(tf.logging.INFO)
    assert tf.logging.get_verbosity() == tf.logging.INFO
    with pytest.raises(tf.errors.NotFoundError):
        tf.gfile.GFile("/nonexistent/ptb.train.txt", "rb")
    with pytest.raises(tf.UnsupportedError):
        tf.gfile.GFile("gs://bucket/x")
    monkeypatch.setattr(sys, "argv", ["p"])


def _wait_for_checkpoint(logdir: str, suffix: str, secs: float = 120.0) -> str | None:
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        latest = tf.train.latest_checkpoint(logdir)
        if latest and latest.endswith(suffix):
            return latest
        time.sleep(0.05)
    return None


def test_supervisor_serves_a_second_managed_session(tmp_path):
    # TF clears the coordinator's stop for each session: the second runs normally, does not
    # re-raise the first one's error, and gets its periodic checkpoints.
    step = tf.train.get_or_create_global_step()
    bump = tf.assign(step, 7)
    logdir = str(tmp_path / "logs")
    sv = tf.train.Supervisor(logdir=logdir, save_model_secs=0.2)
    with pytest.raises(RuntimeError, match="first session"):
        with sv.managed_session():
            raise RuntimeError("first session")
    with sv.managed_session() as sess:
        assert not sv.should_stop()
        sess.run(bump)
        got = _wait_for_checkpoint(logdir, "-7")
        assert not sv.should_stop()
    assert got is not None, "no periodic checkpoint in the second session"


def test_supervisor_checkpoint_thread_does_not_save_after_a_stop(tmp_path):
    tf.train.get_or_create_global_step()
    logdir = tmp_path / "logs"
    sv = tf.train.Supervisor(logdir=str(logdir), save_model_secs=600)
    sess = sv.prepare_or_wait_for_session(start_standard_services=False)
    sv.request_stop()
    threads = sv.start_standard_services(sess)
    sv.stop()
    sess.close()
    assert threads and not any(t.is_alive() for t in threads)
    assert tf.train.latest_checkpoint(str(logdir)) is None


def test_supervisor_argument_errors(tmp_path):
    a_file = tmp_path / "not_a_dir"
    a_file.write_text("x")
    tf.train.get_or_create_global_step()
    with pytest.raises(ValueError, match="argument `logdir`: expected a folder.*which is a file"):
        tf.train.Supervisor(logdir=str(a_file))
    for bad in (-1, "10", None):
        with pytest.raises(ValueError, match="argument `stop_grace_secs`: expected a number"):
            tf.train.Supervisor(stop_grace_secs=bad)


def test_sparse_softmax_cross_entropy_checks_the_labels_shape():
    want = "`labels.shape` must equal `logits.shape` except for the last dimension"
    logits = tf.zeros([2, 4])
    with pytest.raises(ValueError, match=re.escape(want) + r".*\(3,\).*\(2, 4\)"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.zeros([3], tf.int32), logits=logits
        )
    # at run time when the shapes are not known statically
    y = tf.placeholder(tf.int32, [None])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(want)):
            sess.run(loss, {y: np.zeros(3, np.int32)})
        assert sess.run(loss, {y: np.zeros(2, np.int32)}).shape == (2,)


def test_sequence_loss_refuses_mismatched_targets():
    L = tf.placeholder(tf.float32, [2, 3, 4])
    w = tf.ones([2, 3])
    want = re.escape("`labels.shape` must equal `logits.shape` except for the last dimension")
    with pytest.raises(ValueError, match=want):
        tf.contrib.seq2seq.sequence_loss(L, tf.zeros([2, 2], tf.int32), w)
    y = tf.placeholder(tf.int32, [None, None])
    loss = tf.contrib.seq2seq.sequence_loss(L, y, w)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=want):
            sess.run(loss, {L: np.zeros((2, 3, 4), np.float32), y: np.zeros((2, 2), np.int32)})


def test_bias_add_and_xw_plus_b_check_the_bias_size():
    with pytest.raises(ValueError, match="`bias`: its size must equal.*bias size 5.*dimension 4"):
        tf.nn.xw_plus_b(tf.zeros([2, 3]), tf.zeros([3, 4]), tf.zeros([5]))
    with pytest.raises(ValueError, match="`bias`: its size must equal.*bias size 1.*dimension 4"):
        tf.nn.bias_add(tf.zeros([2, 4]), tf.zeros([1]))
    b = tf.placeholder(tf.float32, [None])
    out = tf.nn.bias_add(tf.zeros([2, 4]), b)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="bias size 1.*dimension 4"):
            sess.run(out, {b: np.zeros(1, np.float32)})
        assert sess.run(out, {b: np.ones(4, np.float32)}).tolist() == [[1.0] * 4] * 2


def test_range_input_producer_empty_and_negative_limits():
    i = tf.train.range_input_producer(0, num_epochs=1, shuffle=False).dequeue()
    forever = tf.train.range_input_producer(0, shuffle=False).dequeue()
    n = tf.placeholder(tf.int32, [])
    neg = tf.train.range_input_producer(n, num_epochs=1).dequeue()
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord=coord)
        for _ in range(2):
            with pytest.raises(tf.errors.OutOfRangeError):
                sess.run(i)
        with pytest.raises(tf.errors.FailedPreconditionError, match="empty input.*wait forever"):
            sess.run(forever)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Requires start <= limit"):
            sess.run(neg, {n: -2})
        coord.request_stop()
        coord.join(threads)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Requires start <= limit.*0/-2"):
        tf.train.range_input_producer(-2)


def test_gfile_errors_and_names_as_tensorflow(tmp_path):
    g = tf.gfile
    d, f = tmp_path / "d", tmp_path / "f"
    f.write_text("x")
    g.MkDir(str(d))
    g.MkDir(str(d))  # an existing directory is kept, as TF
    assert g.IsDirectory(f"file://{d}") and g.Exists(f"file://{f}")
    with pytest.raises(tf.errors.NotFoundError):
        g.MkDir(str(tmp_path / "no" / "x"))
    with pytest.raises(tf.errors.NotFoundError):
        g.Copy(str(tmp_path / "missing"), str(tmp_path / "z"))
    with pytest.raises(tf.errors.NotFoundError):
        g.Rename(str(tmp_path / "missing"), str(tmp_path / "z"))
    for op in (g.Copy, g.Rename):
        with pytest.raises(tf.errors.AlreadyExistsError, match="already exists"):
            op(str(f), str(f))
        with pytest.raises(OSError):  # existing `except OSError` code still catches it
            op(str(f), str(f))
        with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
            op(str(f), str(d), overwrite=True)
    with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
        g.Remove(str(d))
    with pytest.raises(tf.errors.FailedPreconditionError, match="is not a directory"):
        g.MakeDirs(str(f / "sub"))
    g.Copy(f"file://{f}", str(tmp_path / "f2"))
    g.DeleteRecursively(str(tmp_path / "f2"))  # a file is deleted, as TF
    assert not (tmp_path / "f2").exists()
    g.DeleteRecursively(f"file://{d}")
    assert not d.exists()


def test_reshape_refuses_non_integer_sizes_and_two_unknowns():
    x = tf.zeros([3, 4])
    n = tf.constant(3)
    for shape in ([2.5, -1], [n, 4.0], [n, "4"]):
        with pytest.raises(TypeError, match="argument `shape`: expected integer sizes"):
            tf.reshape(x, shape)
    for shape in ([-1, -1], [n, -1, -1]):
        with pytest.raises(ValueError, match="argument `shape`: expected .* at most one -1"):
            tf.reshape(x, shape)
    with tf.Session() as sess:
        assert sess.run(tf.reshape(x, [n, np.int64(-1)])).shape == (3, 4)


def test_strided_slice_refuses_a_stride_on_a_shrink_axis():
    x = tf.zeros([3, 4])
    with pytest.raises(ValueError, match="only stride 1 allowed on non-range indexing"):
        tf.strided_slice(x, [1], [2], [2], shrink_axis_mask=1)
    s = tf.placeholder(tf.int32, [1])
    y = tf.strided_slice(x, [1], [2], s, shrink_axis_mask=1)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="only stride 1 allowed"):
            sess.run(y, {s: [2]})
        assert sess.run(y, {s: [1]}).shape == (4,)


def test_assert_positive_refuses_a_non_integer_summarize():
    with pytest.raises(TypeError, match="argument `summarize`: expected None or an integer"):
        tf.assert_positive(tf.ones([2]), summarize="x")


def test_flags_copy_definition_errors_unknown_flags_and_double_dash():
    import copy

    flags = tf.flags.FlagValues()
    tf.flags.DEFINE_string("data_path", "d", "", flag_values=flags)
    tf.flags.DEFINE_bool("fast", False, "", flag_values=flags)
    flags(["prog"])
    shallow, deep = copy.copy(flags), copy.deepcopy(flags)
    assert shallow.data_path == "d" and deep.data_path == "d"
    deep.data_path = "e"
    assert flags.data_path == "d"
    with pytest.raises(TypeError, match="argument `default` of flag 'n': expected a string"):
        tf.flags.DEFINE_string("n", 5, "", flag_values=flags)
    with pytest.raises(TypeError, match="argument `enum_values` of flag 'm'"):
        tf.flags.DEFINE_enum("m", "a", None, "", flag_values=flags)
    with pytest.raises(ValueError, match="Unknown command line flag 'bogus'"):
        flags(["prog", "--bogus=1"])
    assert flags(["prog", "--bogus=1"], known_only=True) == ["prog", "--bogus=1"]
    assert flags(["prog", "--fast", "--", "--x", "y"]) == ["prog", "--", "--x", "y"]
    assert flags.fast
