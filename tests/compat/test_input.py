"""``tf.train.range_input_producer`` and the queue runners (``train/input.py``): the order and the
end of the input, and TensorFlow's errors."""

from __future__ import annotations

import pytest

import rnnkit.compat.v1 as tf


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
