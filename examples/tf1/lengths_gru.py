"""Sequences of different lengths classified by a GRU: is the sum of the valid steps positive?

A TensorFlow 1.x program (dynamic_rnn with sequence_length, GRUCell, the last valid output picked
with tf.range / tf.shape / tf.gather, softmax_cross_entropy_with_logits, GradientDescentOptimizer).
The steps past a sequence's length hold large noise: only a correct sequence_length ignores them.

    python -m rnnkit tf1 examples/tf1/lengths_gru.py [--steps 2000]
"""

import numpy as np
import tensorflow as tf

flags = tf.app.flags
flags.DEFINE_integer("steps", 1500, "training steps")
flags.DEFINE_integer("max_len", 12, "longest sequence")
flags.DEFINE_integer("units", 24, "GRU state size")
flags.DEFINE_float("learning_rate", 0.5, "SGD's learning rate")
flags.DEFINE_integer("seed", 2, "random seed")
FLAGS = flags.FLAGS


def make_batch(rng, n):
    """(values (n, max_len, 1), lengths (n,), one-hot labels (n, 2))."""
    lengths = rng.integers(2, FLAGS.max_len + 1, size=n)
    values = rng.normal(0.0, 5.0, size=(n, FLAGS.max_len, 1))  # noise past each length
    valid = np.arange(FLAGS.max_len)[None, :] < lengths[:, None]
    values[valid, 0] = rng.uniform(-1.0, 1.0, size=int(valid.sum()))
    positive = (values[..., 0] * valid).sum(axis=1) > 0
    return values.astype(np.float32), lengths.astype(np.int32), np.eye(2)[positive.astype(int)]


def main(_):
    tf.set_random_seed(FLAGS.seed)
    rng = np.random.default_rng(FLAGS.seed)
    values = tf.placeholder(tf.float32, [None, FLAGS.max_len, 1])
    lengths = tf.placeholder(tf.int32, [None])
    labels = tf.placeholder(tf.float32, [None, 2])
    cell = tf.nn.rnn_cell.GRUCell(FLAGS.units)
    outputs, state = tf.nn.dynamic_rnn(cell, values, sequence_length=lengths, dtype=tf.float32)
    batch = tf.shape(outputs)[0]
    flat = tf.reshape(outputs, [-1, FLAGS.units])
    last = tf.gather(flat, tf.range(batch) * FLAGS.max_len + (lengths - 1))
    w = tf.get_variable("w", [FLAGS.units, 2], initializer=tf.random_normal_initializer(0, 0.1))
    b = tf.get_variable("b", [2], initializer=tf.zeros_initializer())
    logits = tf.matmul(last, w) + b
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    train = tf.train.GradientDescentOptimizer(FLAGS.learning_rate).minimize(loss)
    accuracy = tf.reduce_mean(
        tf.cast(tf.equal(tf.argmax(logits, 1), tf.argmax(labels, 1)), tf.float32)
    )
    test_x, test_n, test_y = make_batch(rng, 1000)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, FLAGS.steps + 1):
            x, n, y = make_batch(rng, 64)
            _, l = sess.run([train, loss], {values: x, lengths: n, labels: y})
            if step % 250 == 0 or step == FLAGS.steps:
                print(f"step {step} loss {l:.4f}")
        feed = {values: test_x, lengths: test_n, labels: test_y}
        acc, picked, final = sess.run([accuracy, last, state], feed)
        # a GRU's output is its state: the gathered output is the state dynamic_rnn returns
        print(f"final last_output_is_state {bool(np.allclose(picked, final, atol=1e-6))}")
        print(f"final test_accuracy {acc:.4f}")


if __name__ == "__main__":
    tf.app.run()
