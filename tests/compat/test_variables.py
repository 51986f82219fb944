"""Variables (``variables.py``): values per session, initialization drawn again, and the error of an
uninitialized one."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf


def test_variables_live_per_session_and_random_ops_redraw_per_run():
    tf.set_random_seed(3)
    r = tf.random_uniform([3], minval=-1, maxval=1)
    v = tf.Variable(r)
    init = tf.global_variables_initializer()
    with tf.Session() as s1:
        init.run()
        v1, r1a, r1b = s1.run(v), s1.run(r), s1.run(r)
    with tf.Session() as s2:
        init.run()
        v2 = s2.run(v)
        with pytest.raises(tf.errors.FailedPreconditionError):
            tf.Session().run(v)
    np.testing.assert_array_equal(v1, v2)  # same seed, same first draw
    assert not np.array_equal(r1a, r1b)  # a new draw on each run
    assert np.all((r1a >= -1) & (r1a < 1))


def test_uninitialized_variable_and_cell_weights():
    W = tf.Variable(tf.zeros([2, 2]), name="W")
    cell = tf.nn.rnn_cell.BasicRNNCell(2)
    out, _ = tf.nn.dynamic_rnn(cell, np.zeros((1, 2, 2)), dtype=tf.float32)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value W"):
            sess.run(W + 1)
        with pytest.raises(
            tf.errors.FailedPreconditionError,
            match="Attempting to use uninitialized value rnn/basic_rnn_cell/kernel",
        ):
            sess.run(out)
        tf.global_variables_initializer().run()
        assert sess.run(out).shape == (1, 2, 2)


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
