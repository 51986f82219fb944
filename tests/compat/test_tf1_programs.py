"""Whole TF1 programs on rnnkit.compat.v1: one two-step RNN three ways (by hand, ``static_rnn``,
``dynamic_rnn``) against its formula and TensorFlow's numbers (``tests/fixtures/tf1``), and small
programs that train (an RNN classifier, a legacy seq2seq model)."""

from __future__ import annotations

import numpy as np
import torch

import rnnkit.compat.v1 as tf
from tests.compat._helpers import close, fixture, load_all, rng, variables

X0_BATCH = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 0, 1]])
X1_BATCH = np.array([[9, 8, 7], [0, 0, 0], [6, 5, 4], [3, 2, 1]])


def three_ways() -> dict:
    """A TF1 program over 3 inputs, 5 units and a batch of 4: an RNN written with Variables and
    tanh(matmul), then a contrib BasicRNNCell under static_rnn on two placeholders, then an
    nn.rnn_cell BasicRNNCell under dynamic_rnn on one (batch, time, input) placeholder; each part's
    tensors and fetched values by name."""
    inputs, units = 3, 5
    steps = np.stack([X0_BATCH, X1_BATCH], axis=1)  # (4, 2, 3)

    def by_hand() -> dict:
        x = [tf.placeholder(tf.float32, [None, inputs]) for _ in range(2)]
        wx = tf.Variable(tf.random_normal(shape=[inputs, units], dtype=tf.float32))
        wy = tf.Variable(tf.random_normal(shape=[units, units], dtype=tf.float32))
        bias = tf.Variable(tf.zeros([1, units], dtype=tf.float32))
        y0 = tf.tanh(tf.matmul(x[0], wx) + bias)
        y1 = tf.tanh(tf.matmul(y0, wy) + tf.matmul(x[1], wx) + bias)
        with tf.Session() as sess:
            tf.global_variables_initializer().run()
            v0, v1 = sess.run([y0, y1], feed_dict={x[0]: X0_BATCH, x[1]: X1_BATCH})
        print("by hand:", v0.shape, v1.shape)
        return dict(Wx=wx, Wy=wy, b=bias, X0=x[0], X1=x[1], Y0=y0, Y1=y1, Y0_val=v0, Y1_val=v1)

    def static() -> dict:
        x = [tf.placeholder(tf.float32, [None, inputs]) for _ in range(2)]
        cell = tf.contrib.rnn.BasicRNNCell(num_units=units)
        outputs, state = tf.contrib.rnn.static_rnn(cell, x, dtype=tf.float32)
        init = tf.global_variables_initializer()
        with tf.Session() as sess:
            init.run()
            v0, v1 = sess.run(outputs, feed_dict=dict(zip(x, (X0_BATCH, X1_BATCH))))
        return dict(cell=cell, X0=x[0], X1=x[1], Y0=outputs[0], Y1=outputs[1], states=state,
                    Y0_val=v0, Y1_val=v1, init=init)  # fmt: skip

    def dynamic() -> dict:
        x = tf.placeholder(tf.float32, [None, 2, inputs])
        cell = tf.nn.rnn_cell.BasicRNNCell(num_units=units)
        outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        init = tf.global_variables_initializer()
        with tf.Session():
            init.run()
            value = outputs.eval(feed_dict={x: steps})
        print("dynamic_rnn:", value.shape)
        return dict(cell=cell, X=x, outputs=outputs, states=state, outputs_val=value,
                    X_batch=steps, init=init)  # fmt: skip

    return dict(part1=by_hand(), part2=static(), part3=dynamic())


def test_three_ways_run_to_the_end_with_tf1_shapes(capsys):
    r = three_ways()
    out = capsys.readouterr().out
    assert "by hand: (4, 5) (4, 5)" in out
    assert "dynamic_rnn: (4, 2, 5)" in out
    p1, p2, p3 = r["part1"], r["part2"], r["part3"]
    assert p1["Y0_val"].shape == (4, 5) and p1["Y0_val"].dtype == np.float32
    assert p2["Y0_val"].shape == (4, 5) and p2["Y1_val"].shape == (4, 5)
    assert p3["outputs_val"].shape == (4, 2, 5)
    # static shapes print as TensorFlow 1.x prints them
    assert str(p1["X0"].shape) == "(?, 3)" and str(p1["Y1"].get_shape()) == "(?, 5)"
    assert str(p3["outputs"].shape) == "(?, 2, 5)" and str(p3["states"].shape) == "(?, 5)"
    # part 3's cell got its own weights instead of "Variable rnn/basic_rnn_cell/kernel already exists"
    names = [v.name for v in tf.global_variables()]
    assert "rnn/basic_rnn_cell/kernel:0" in names and "rnn_1/basic_rnn_cell/kernel:0" in names
    k2 = p2["cell"].rnnkit_cell.kernel.detach()
    k3 = p3["cell"].rnnkit_cell.kernel.detach()
    assert k2.shape == k3.shape == (8, 5) and not torch.equal(k2, k3)


def test_the_rnn_by_hand_computes_its_formula():
    p1 = three_ways()["part1"]
    # a new session draws Wx, Wy again; fetch them with the outputs and check the formula
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        Wx, Wy, b, Y0, Y1 = sess.run(
            [p1["Wx"], p1["Wy"], p1["b"], p1["Y0"], p1["Y1"]],
            feed_dict={p1["X0"]: X0_BATCH, p1["X1"]: X1_BATCH},
        )
    assert Wx.shape == (3, 5) and Wy.shape == (5, 5) and not np.all(b)
    ref0 = np.tanh(X0_BATCH @ Wx + b)
    close(Y0, ref0)
    close(Y1, np.tanh(ref0 @ Wy + X1_BATCH @ Wx + b))


def test_static_and_dynamic_parts_give_tensorflows_numbers_with_its_weights():
    r = three_ways()
    for part, case in (("part2", "tutorial_static_rnn"), ("part3", "tutorial_dynamic_rnn")):
        fx = fixture(case)
        p = r[part]
        with tf.Session() as sess:
            p["init"].run()
            scope = "rnn_1/" if part == "part3" else "rnn/"  # part 3's cell is the graph's second
            load_all({scope + k[len("rnn/") :]: v for k, v in variables(fx).items()})
            if part == "part2":
                feed = {p["X0"]: fx["inputs"][0], p["X1"]: fx["inputs"][1]}
                y0, y1, h = sess.run([p["Y0"], p["Y1"], p["states"]], feed_dict=feed)
                close(np.stack([y0, y1]), fx["out/outputs"])
            else:
                y, h = sess.run([p["outputs"], p["states"]], feed_dict={p["X"]: fx["inputs"]})
                close(y, fx["out/outputs"])
        close(h, fx["out/state"])


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
