"""rnnkit.compat.v1 trains: gradients against torch autograd and rnnkit, optimizers against TF1's
documented update rules, per-session variables, and errors TF1 users know."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnkit
import rnnkit.compat.v1 as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def close(a, b, tol: float = 1e-5) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------------


def test_gradients_of_a_dense_softmax_loss_match_torch():
    x = rng().normal(size=(5, 4)).astype(np.float32)
    labels = np.array([0, 2, 1, 2, 0], dtype=np.int32)
    w0 = rng(1).normal(size=(4, 3)).astype(np.float32)
    X = tf.placeholder(tf.float32, [None, 4])
    y = tf.placeholder(tf.int32, [None])
    W = tf.Variable(w0, name="W")
    b = tf.Variable(tf.zeros([3]), name="b")
    loss = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=tf.matmul(X, W) + b)
    )
    gW, gb, gX = tf.gradients(loss, [W, b, X])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([gW, gb, gX], {X: x, y: labels})
    tw, tb, tx = (torch.tensor(w0, requires_grad=True), torch.zeros(3, requires_grad=True),
                  torch.tensor(x, requires_grad=True))  # fmt: skip
    ref = torch.nn.functional.cross_entropy(tx @ tw + tb, torch.from_numpy(labels).long())
    ref.backward()
    for g, r in zip(got, (tw.grad, tb.grad, tx.grad)):
        close(g, r)


def test_gradients_are_none_for_unconnected_tensors_and_weighted_by_grad_ys():
    a = tf.Variable([1.0, 2.0])
    c = tf.Variable([3.0])
    y = a * a
    ga, gc = tf.gradients(y, [a, c])
    assert gc is None
    (gw,) = tf.gradients(y, [a], grad_ys=[tf.constant([10.0, 1.0])])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        close(sess.run(ga), [2.0, 4.0])
        close(sess.run(gw), [20.0, 4.0])


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru", "multi"])
def test_rnn_weight_gradients_reach_the_variables_and_match_rnnkit(kind):
    B, T, I, H = 3, 5, 4, 6
    x = rng().normal(size=(B, T, I)).astype(np.float32)
    lengths = np.array([5, 2, 0], dtype=np.int32)
    make = {
        "rnn": lambda: tf.nn.rnn_cell.BasicRNNCell(H),
        "lstm": lambda: tf.nn.rnn_cell.LSTMCell(H, use_peepholes=True),
        "gru": lambda: tf.nn.rnn_cell.GRUCell(H),
        "multi": lambda: tf.nn.rnn_cell.MultiRNNCell(
            [tf.nn.rnn_cell.BasicLSTMCell(H), tf.nn.rnn_cell.GRUCell(H)]
        ),
    }[kind]
    cell = make()
    X = tf.placeholder(tf.float32, [None, T, I])
    seq = tf.placeholder(tf.int32, [None])
    outputs, _ = tf.nn.dynamic_rnn(cell, X, sequence_length=seq, dtype=tf.float32)
    loss = tf.reduce_sum(outputs * outputs)
    variables = tf.trainable_variables()
    assert [v.op.name for v in variables] == [v.op.name for v in cell.variables]
    grads = tf.gradients(loss, variables)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(grads, {X: x, seq: lengths})
        values = {v.op.name: sess.run(v) for v in variables}
    # the same cell in plain rnnkit, with the session's weights, on the plain loop
    core = cell.rnnkit_cell
    rnnkit.interop.load_tf1_variables(core, values, scope="rnn")
    core.zero_grad()
    y, _ = rnnkit.dynamic_rnn(core, torch.from_numpy(x), sequence_length=lengths, engine="loop")
    (y * y).sum().backward()
    ref = rnnkit.interop.tf1_variables(core, "rnn", grad=True)
    for v, g in zip(variables, got):
        close(g, ref[v.op.name], tol=1e-4)


# ---------------------------------------------------------------------------------------------
# Optimizers: TF1's update rules, step by step, on a quadratic
# ---------------------------------------------------------------------------------------------

W0 = np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float64)
TARGET = np.array([[1.0, 2.0], [-1.0, 0.5]], dtype=np.float64)


def _grad(w):
    return 2 * (w - TARGET)  # d/dw sum((w - target)^2)


def _reference(name, steps):
    """TF1's documented formulas (training/*.py, the Apply* kernels), in numpy. Hyperparameters
    given as Python numbers are float32 tensors in TF, cast to the variables' float64; Adam's
    beta powers are float32 variables."""
    f = lambda c: float(np.float32(c))  # noqa: E731
    w, out = W0.copy(), []
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    ms = np.ones_like(w)  # RMSProp's ms slot starts at ONE
    mg = np.zeros_like(w)
    acc = np.full_like(w, 0.1)  # Adagrad's initial accumulator
    lr = f(0.1)
    p1, p2 = np.float32(0.9), np.float32(0.999)
    for _ in range(steps):
        g = _grad(w)
        if name == "sgd":
            w = w - lr * g
        elif name in ("momentum", "nesterov"):
            m = f(0.9) * m + g
            w = w - (lr * g + lr * f(0.9) * m if name == "nesterov" else lr * m)
        elif name == "adam":
            m = m + (g - m) * (1 - f(0.9))
            v = v + (g * g - v) * (1 - f(0.999))
            lr_t = lr * np.sqrt(1 - float(p2)) / (1 - float(p1))
            w = w - lr_t * m / (np.sqrt(v) + f(1e-8))
            p1, p2 = p1 * np.float32(0.9), p2 * np.float32(0.999)
        elif name in ("rmsprop", "rmsprop_centered"):
            ms = ms + (g * g - ms) * (1 - f(0.9))
            denom = ms + f(1e-10)
            if name == "rmsprop_centered":
                mg = mg + (g - mg) * (1 - f(0.9))
                denom = ms - mg * mg + f(1e-10)
            m = f(0.5) * m + lr * g / np.sqrt(denom)
            w = w - m
        elif name == "adagrad":
            acc = acc + g * g
            w = w - lr * g / np.sqrt(acc)
        out.append(w.copy())
    return out


OPTIMIZERS = {
    "sgd": lambda: tf.train.GradientDescentOptimizer(0.1),
    "momentum": lambda: tf.train.MomentumOptimizer(0.1, 0.9),
    "nesterov": lambda: tf.train.MomentumOptimizer(0.1, 0.9, use_nesterov=True),
    "adam": lambda: tf.train.AdamOptimizer(0.1),
    "rmsprop": lambda: tf.train.RMSPropOptimizer(0.1, momentum=0.5),
    "rmsprop_centered": lambda: tf.train.RMSPropOptimizer(0.1, momentum=0.5, centered=True),
    "adagrad": lambda: tf.train.AdagradOptimizer(0.1),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizers_follow_tf1_update_rules_and_count_global_steps(name):
    w = tf.Variable(W0, name="w")
    loss = tf.reduce_sum(tf.square(w - TARGET))
    step = tf.Variable(0, trainable=False, name="global_step")
    train = OPTIMIZERS[name]().minimize(loss, global_step=step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for k, ref in enumerate(_reference(name, 5), start=1):
            sess.run(train)
            close(sess.run(w), ref, tol=1e-10)
            assert sess.run(step) == k


def test_optimizer_slots_are_named_variables_initialized_like_tf1():
    w = tf.Variable(np.zeros((2, 3), np.float32), name="dense/kernel")
    loss = tf.reduce_sum(w * w)
    opt = tf.train.AdamOptimizer()
    opt.minimize(loss)
    rms = tf.train.RMSPropOptimizer(0.1)
    rms.minimize(loss)
    names = [v.op.name for v in tf.global_variables()]
    assert names == [
        "dense/kernel", "beta1_power", "beta2_power", "dense/kernel/Adam", "dense/kernel/Adam_1",
        "dense/kernel/RMSProp", "dense/kernel/RMSProp_1",
    ]  # fmt: skip
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        close(sess.run("beta1_power:0"), 0.9)
        close(sess.run(rms.get_slot(w, "rms")), np.ones((2, 3)))
        close(sess.run(opt.get_slot(w, "m")), np.zeros((2, 3)))


def test_compute_and_apply_gradients_with_clipping():
    w = tf.Variable(np.array([3.0, 4.0], np.float32))
    loss = tf.reduce_sum(w * w)  # gradient 2w = (6, 8), global norm 10
    opt = tf.train.GradientDescentOptimizer(1.0)
    grads_and_vars = opt.compute_gradients(loss)
    grads, variables = zip(*grads_and_vars)
    clipped, norm = tf.clip_by_global_norm(grads, 5.0)
    capped = [(tf.clip_by_value(g, -2.0, 2.0), v) for g, v in grads_and_vars]
    train = opt.apply_gradients(zip(clipped, variables))
    train_capped = opt.apply_gradients(capped)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        close(sess.run(norm), 10.0)
        sess.run(train)
        close(sess.run(w), [3.0 - 3.0, 4.0 - 4.0])
        sess.run(tf.global_variables_initializer())
        sess.run(train_capped)
        close(sess.run(w), [1.0, 2.0])


def test_minimize_without_a_path_to_the_variables_is_refused():
    w = tf.Variable(1.0)
    with pytest.raises(ValueError, match="No gradients provided"):
        tf.train.GradientDescentOptimizer(0.1).minimize(tf.constant(1.0) + 0.0, var_list=[w])


# ---------------------------------------------------------------------------------------------
# Training end to end
# ---------------------------------------------------------------------------------------------


def test_an_rnn_classifier_trains_with_dense_head_and_adam():
    tf.set_random_seed(0)
    n_steps, n_inputs, n_neurons = 6, 3, 16
    gen = rng(3)
    x = gen.normal(size=(64, n_steps, n_inputs)).astype(np.float32)
    y = (x[:, :, 0].sum(1) > 0).astype(np.int32)  # sign of a running sum
    X = tf.placeholder(tf.float32, [None, n_steps, n_inputs])
    Y = tf.placeholder(tf.int32, [None])
    cell = tf.nn.rnn_cell.GRUCell(num_units=n_neurons)
    outputs, states = tf.nn.dynamic_rnn(cell, X, dtype=tf.float32)
    logits = tf.layers.dense(states, 2)
    xentropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=Y, logits=logits)
    loss = tf.reduce_mean(xentropy)
    training_op = tf.train.AdamOptimizer(learning_rate=0.02).minimize(loss)
    correct = tf.nn.in_top_k(logits, Y, 1)
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        init.run()
        first = loss.eval(feed_dict={X: x, Y: y})
        for _ in range(150):
            sess.run(training_op, feed_dict={X: x, Y: y})
        last, acc = sess.run([loss, accuracy], feed_dict={X: x, Y: y})
    assert last < first / 3 and acc > 0.9
    names = sorted(v.op.name for v in tf.trainable_variables())
    assert names == sorted(
        ["rnn/gru_cell/gates/kernel", "rnn/gru_cell/gates/bias", "rnn/gru_cell/candidate/kernel",
         "rnn/gru_cell/candidate/bias", "dense/kernel", "dense/bias"]
    )  # fmt: skip


def test_each_session_has_its_own_cell_weights_and_init_draws_them_again():
    X = tf.placeholder(tf.float32, [None, 2, 3])
    cell = tf.nn.rnn_cell.BasicRNNCell(4)
    tf.nn.dynamic_rnn(cell, X, dtype=tf.float32)
    init = tf.global_variables_initializer()
    kernel = cell.variables[0]
    with tf.Session() as a, tf.Session() as b:
        a.run(init)
        b.run(init)
        ka, kb = a.run(kernel), b.run(kernel)
        assert not np.array_equal(ka, kb)  # unseeded: each session draws its own
        kernel.load(np.zeros((7, 4)), a)
        assert np.array_equal(a.run(kernel), np.zeros((7, 4)))
        assert np.array_equal(b.run(kernel), kb)
        a.run(init)
        assert not np.array_equal(a.run(kernel), np.zeros((7, 4)))
    with tf.Session() as c:
        with pytest.raises(tf.errors.FailedPreconditionError, match="rnn/basic_rnn_cell/kernel"):
            c.run(kernel)
    limit = np.sqrt(6.0 / (7 + 4))  # glorot-uniform, TF1's default for cell kernels
    assert np.abs(ka).max() <= limit


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


# ---------------------------------------------------------------------------------------------
# Errors at graph construction and feed time
# ---------------------------------------------------------------------------------------------


def test_int32_feeds_never_wrap():
    seq = tf.placeholder(tf.int32, [None])
    y = seq + 1
    with tf.Session() as sess:
        with pytest.raises(ValueError, match=r"int32 values in \[-2147483648, 2147483647\]"):
            sess.run(y, {seq: [2**32 + 1, 3]})
        with pytest.raises(ValueError, match="int32"):
            sess.run(y, {seq: np.array([2**40], dtype=np.int64)})


def test_static_rnn_inputs_of_different_widths_are_refused_at_construction():
    cell = tf.nn.rnn_cell.BasicRNNCell(3)
    a, b = tf.placeholder(tf.float32, [None, 2]), tf.placeholder(tf.float32, [None, 4])
    with pytest.raises(ValueError, match="same input width"):
        tf.nn.static_rnn(cell, [a, b], dtype=tf.float32)


def test_slicing_shape_range_gather_and_one_hot():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    X = tf.placeholder(tf.float32, [None, 3, 4])
    batch = tf.shape(X)[0]
    last = tf.gather(tf.reshape(X, [-1, 4]), tf.range(0, batch) * 3 + 2)
    assert str(X[:, :-1].shape) == "(?, 2, 4)" and str(X[:, -1].shape) == "(?, 4)"
    with tf.Session() as sess:
        got = sess.run(
            [X[:, :-1], X[:, -1], X[..., ::-1], batch, last, tf.one_hot([1, 0, 5], 3)], {X: x}
        )
    close(got[0], x[:, :-1])
    close(got[1], x[:, -1])
    close(got[2], x[..., ::-1])
    assert got[3] == 2
    close(got[4], x[:, -1])
    close(got[5], [[0, 1, 0], [1, 0, 0], [0, 0, 0]])


def test_losses_match_their_formulas():
    logits = rng().normal(size=(4, 3)).astype(np.float32)
    z = (rng(1).random((4, 3)) > 0.5).astype(np.float32)
    onehot = np.eye(3, dtype=np.float32)[[0, 2, 1, 1]]
    L = tf.constant(logits)
    with tf.Session() as sess:
        sig, soft, sm = sess.run([
            tf.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=L),
            tf.nn.softmax_cross_entropy_with_logits_v2(labels=onehot, logits=L),
            tf.nn.softmax(L),
        ])  # fmt: skip
    p = 1 / (1 + np.exp(-logits))
    close(sig, -(z * np.log(p) + (1 - z) * np.log(1 - p)))
    e = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    close(sm, e)
    close(soft, -(onehot * np.log(e)).sum(1))
    with pytest.raises(ValueError, match="named arguments"):
        tf.nn.sparse_softmax_cross_entropy_with_logits(L)


# ---------------------------------------------------------------------------------------------
# TensorBoard and seq2seq
# ---------------------------------------------------------------------------------------------


def _events(path):
    """Events of a TFRecord event file, each record's masked CRC32C checked."""
    import struct

    import google_crc32c
    from tensorboardX.proto import event_pb2

    def masked(b: bytes) -> int:
        c = google_crc32c.value(b)
        return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    data, out, i = path.read_bytes(), [], 0
    while i < len(data):
        header = data[i : i + 8]
        (n,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[i + 8 : i + 12])[0] == masked(header)
        body = data[i + 12 : i + 12 + n]
        assert struct.unpack("<I", data[i + 12 + n : i + 16 + n])[0] == masked(body)
        out.append(event_pb2.Event.FromString(body))
        i += 16 + n
    return out


def test_file_writer_writes_scalars_and_the_graph_as_tensorboard_event_records(tmp_path):
    X = tf.placeholder(tf.float32, [None, 3], name="X")
    W = tf.Variable(tf.ones([3, 1]), name="W")
    loss = tf.reduce_mean(tf.square(tf.matmul(X, W)), name="loss")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    tf.summary.scalar("loss", loss)
    merged = tf.summary.merge_all()
    writer = tf.summary.FileWriter(str(tmp_path), tf.get_default_graph())
    losses = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(3):
            _, value, summary = sess.run([train, loss, merged], {X: np.ones((2, 3))})
            writer.add_summary(summary, step)
            losses.append(value)
    writer.close()
    (path,) = tmp_path.glob("events.out.tfevents.*")
    events = _events(path)
    graphs = [e for e in events if e.graph_def]
    from tensorboardX.proto import graph_pb2

    names = {n.name for n in graph_pb2.GraphDef.FromString(graphs[0].graph_def).node}
    assert {"X", "W", "loss"} <= names
    scalars = [(e.step, v.tag, v.simple_value) for e in events for v in e.summary.value]
    assert [(s, t) for s, t, _ in scalars] == [(0, "loss"), (1, "loss"), (2, "loss")]
    close([v for _, _, v in scalars], losses)


def test_embedding_rnn_seq2seq_builds_tf_names_and_trains():
    tf.set_random_seed(1)
    X = tf.placeholder(tf.int32, [None, 5])
    Y = tf.placeholder(tf.int32, [None, 5])
    enc = tf.unstack(tf.transpose(X))
    dec = tf.unstack(tf.transpose(Y[:, :-1]))
    cell = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(16) for _ in range(2)])
    outs, _ = tf.contrib.legacy_seq2seq.embedding_rnn_seq2seq(enc, dec, cell, 10, 10, 8)
    logits = tf.transpose(tf.unstack(outs), perm=[1, 0, 2])
    assert str(logits.shape) == "(?, 4, 10)"
    names = [v.op.name for v in tf.global_variables()]
    assert names[0] == "embedding_rnn_seq2seq/rnn/embedding_wrapper/embedding"
    assert (
        names[-1]
        == "embedding_rnn_seq2seq/embedding_rnn_decoder/rnn_decoder/output_projection_wrapper/bias"
    )
    labels = tf.reshape(Y[:, 1:], [-1])
    loss = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=tf.reshape(logits, [-1, 10])
        )
    )
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    x = rng(4).integers(0, 10, (8, 5))
    y = np.concatenate([np.zeros((8, 1), int), x[:, :4]], 1)  # learn to copy the input
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {X: x, Y: y})
        for _ in range(60):
            sess.run(train, {X: x, Y: y})
        assert sess.run(loss, {X: x, Y: y}) < first / 4


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


def test_bench_compat_command_reports_a_ratio(capsys):
    import json

    from rnnkit.commands import main

    assert main(["bench-compat", "--models", "tutorial", "--repeats", "3", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["results"]
    assert row["model"] == "tutorial" and row["compat_ms"] > 0 and row["direct_ms"] > 0
    assert row["ratio"] == pytest.approx(row["compat_ms"] / row["direct_ms"])
    assert main(["bench-compat", "--models", "nope"]) == 2


def test_adam_one_pass_kernel_equals_the_torch_ops(monkeypatch):
    from rnnkit.compat.v1.train import _fused

    def run(min_elements):
        monkeypatch.setattr(_fused, "MIN_ELEMENTS", min_elements)
        tf.reset_default_graph()
        gen = rng(7)
        w = tf.Variable(gen.normal(size=(64, 33)).astype(np.float32))
        x = tf.constant(gen.normal(size=(5, 64)).astype(np.float32))
        loss = tf.reduce_sum(tf.square(tf.matmul(x, w)))
        train = tf.train.AdamOptimizer(0.1).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(4):
                sess.run(train)
            return sess.run(w)

    fused, plain = run(1), run(10**9)  # the kernel on, then off
    np.testing.assert_allclose(fused, plain, rtol=1e-5, atol=1e-6)  # float32 rounding


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
