"""``tf.metrics`` (``metrics.py``) against TensorFlow's values and local variables
(``tests/fixtures/tf1_census_gaps``), collections, and bad weights."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import census_fixture


def test_metrics_accuracy_and_mean_match_tf():
    ref = census_fixture("metrics")
    labels = tf.placeholder(tf.int64, [None])
    preds = tf.placeholder(tf.int64, [None])
    values = tf.placeholder(tf.float32, [None])
    weights = tf.placeholder(tf.float32, [None])
    acc, acc_up = tf.metrics.accuracy(labels=labels, predictions=preds)
    mean, mean_up = tf.metrics.mean(values, weights=weights)
    assert [v.op.name for v in tf.local_variables()] == list(ref["local_names"])
    assert tf.global_variables() == [] and tf.trainable_variables() == []
    with tf.Session() as s:
        s.run(tf.local_variables_initializer())
        np.testing.assert_allclose(s.run([acc, mean]), ref["before"])
        for k in range(3):
            feed = {
                labels: ref["labels"][k],
                preds: ref["predictions"][k],
                values: ref["values"][k],
                weights: ref["weights"][k],
            }
            ups = s.run([acc_up, mean_up], feed)
            np.testing.assert_allclose([*ups, *s.run([acc, mean])], ref["rows"][k], rtol=1e-6)


def test_metrics_accuracy_casts_predictions_and_squeezes_labels():
    labels = tf.constant([[1], [2], [0]], tf.int32)
    preds = tf.constant([1, 0, 0], tf.int64)  # argmax gives int64 in TF
    acc, up = tf.metrics.accuracy(labels, preds, name="acc")
    assert [v.op.name for v in tf.local_variables()] == ["acc/total", "acc/count"]
    with tf.Session() as s:
        s.run(tf.local_variables_initializer())
        assert s.run(up) == pytest.approx(2 / 3)
        assert s.run(up) == pytest.approx(2 / 3)
        assert s.run(acc) == pytest.approx(2 / 3)
        with pytest.raises(tf.errors.FailedPreconditionError):
            tf.Session().run(acc)


def test_metrics_collections_and_bad_weights():
    acc, up = tf.metrics.accuracy(
        [1, 2], [1, 1], metrics_collections=["m"], updates_collections=["u"]
    )
    assert tf.get_collection("m") == [acc] and tf.get_collection("u") == [up]
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        tf.metrics.mean(tf.zeros([4]), weights=tf.ones([3]))


def test_more_metrics_match_tf():
    ref = census_fixture("more_metrics")
    lab = tf.placeholder(tf.float32, [None])
    pred = tf.placeholder(tf.float32, [None])
    w = tf.placeholder(tf.float32, [None])
    made = [
        tf.metrics.mean_squared_error(lab, pred, weights=w),
        tf.metrics.mean_absolute_error(lab, pred),
        tf.metrics.precision(tf.cast(lab, tf.bool), tf.cast(pred, tf.bool), weights=w),
        tf.metrics.recall(tf.cast(lab, tf.bool), tf.cast(pred, tf.bool)),
    ]
    assert [v.op.name for v in tf.local_variables()] == list(ref["local_names"])
    with tf.Session() as s:
        s.run(tf.local_variables_initializer())
        for k in range(3):
            feed = {lab: ref["labels"][k], pred: ref["predictions"][k], w: ref["weights"][k]}
            ups = s.run([m[1] for m in made], feed)
            got = [*ups, *s.run([m[0] for m in made])]
            np.testing.assert_allclose(got, ref["rows"][k], rtol=1e-6)
