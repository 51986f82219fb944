"""The random ops (``random_ops.py``) and the shapes of tensors as TensorFlow prints them."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import run


def test_random_normal_statistics_and_shape_objects():
    tf.set_random_seed(0)
    r = tf.random_normal([2000], mean=3.0, stddev=0.5)
    v = run(r)
    assert abs(v.mean() - 3.0) < 0.05 and abs(v.std() - 0.5) < 0.05
    X = tf.placeholder(tf.float32, [None, 3])
    assert X.shape.as_list() == [None, 3] and X.shape[1].value == 3 and X.shape[0].value is None
    assert repr(X.shape) == "TensorShape([Dimension(None), Dimension(3)])"
    assert str(tf.placeholder(tf.float32).shape) == "<unknown>"
    assert repr(X) == "<tf.Tensor 'Placeholder:0' shape=(?, 3) dtype=float32>"


def test_multinomial_draws_each_class_at_its_probability():
    with np.errstate(divide="ignore"):  # log(0) = -inf: a class never drawn
        logits = np.log(np.array([[0.1, 0.2, 0.7, 0.0], [0.5, 0.0, 0.0, 0.5]]))
    draws = run(tf.multinomial(logits, 40000, seed=3))
    assert draws.shape == (2, 40000) and draws.dtype == np.int64
    for row, p in zip(draws, np.exp(logits)):
        freq = np.bincount(row, minlength=4) / row.size
        assert np.all(freq[p == 0] == 0)  # a class of probability 0 is never drawn
        np.testing.assert_allclose(freq, p, atol=0.01)


def test_multinomial_seeds_shapes_and_bad_logits():
    logits = tf.placeholder(tf.float32, [None, 87])
    sample = tf.multinomial(logits, 1, seed=5, output_dtype=tf.int32)
    assert sample.shape.as_list() == [None, 1]
    x = np.random.default_rng(0).normal(size=(64, 87)).astype(np.float32)
    with tf.Session() as a, tf.Session() as b:
        first, again = a.run(sample, {logits: x}), b.run(sample, {logits: x})
        assert first.dtype == np.int32 and first.shape == (64, 1)
        np.testing.assert_array_equal(first, again)  # one op seed: the same draws per session
        assert ((first >= 0) & (first < 87)).all()
        # as TF: a row of NaN or of -inf logits draws num_classes; no classes, no rows
        bad = np.zeros((3, 87), np.float32)
        bad[0], bad[2] = np.nan, -np.inf
        got = a.run(sample, {logits: bad})
        assert got[0, 0] == 87 and got[2, 0] == 87 and 0 <= got[1, 0] < 87
        assert a.run(sample, {logits: np.zeros((0, 87), np.float32)}).shape == (0, 1)
        free = tf.placeholder(tf.float32, [None, None])
        with pytest.raises(tf.errors.InvalidArgumentError, match="num_classes should be positive"):
            a.run(tf.multinomial(free, 1), {free: np.zeros((2, 0), np.float32)})
