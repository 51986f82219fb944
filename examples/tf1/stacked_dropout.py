"""Which of three frequencies does a noisy wave have? Three stacked LSTM layers with dropout, saved
and restored in a fresh graph.

A TensorFlow 1.x program (MultiRNNCell of LSTMCell with peepholes, each in a DropoutWrapper whose
keep probability is a placeholder_with_default, dynamic_rnn, tf.layers.dense,
sparse_softmax_cross_entropy_with_logits, in_top_k, tf.train.Saver save / latest_checkpoint / restore).

    python -m rnnkit tf1 examples/tf1/stacked_dropout.py --model_dir /tmp/waves
"""

import os

import numpy as np
import tensorflow as tf

flags = tf.app.flags
flags.DEFINE_string("model_dir", "stacked_dropout_model", "where the checkpoint goes")
flags.DEFINE_integer("steps", 400, "training steps")
flags.DEFINE_integer("units", 32, "state size of each layer")
flags.DEFINE_integer("layers", 3, "stacked layers")
flags.DEFINE_float("keep_prob", 0.8, "input keep probability while training")
flags.DEFINE_integer("seed", 4, "random seed")
FLAGS = flags.FLAGS

STEPS_IN = 30
FREQUENCIES = np.array([0.3, 0.6, 1.2])


def make_batch(rng, n):
    label = rng.integers(0, 3, size=n)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    t = np.arange(STEPS_IN)[None, :]
    x = np.sin(FREQUENCIES[label][:, None] * t + phase) + rng.normal(0, 0.3, size=(n, STEPS_IN))
    return x[..., None].astype(np.float32), label.astype(np.int32)


def build():
    """The graph: (inputs, labels, keep, logits, loss, accuracy)."""
    inputs = tf.placeholder(tf.float32, [None, STEPS_IN, 1], name="inputs")
    labels = tf.placeholder(tf.int32, [None], name="labels")
    keep = tf.placeholder_with_default(1.0, [], name="keep_prob")
    layers = [
        tf.nn.rnn_cell.DropoutWrapper(
            tf.nn.rnn_cell.LSTMCell(FLAGS.units, use_peepholes=True), input_keep_prob=keep
        )
        for _ in range(FLAGS.layers)
    ]
    _, states = tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell(layers), inputs, dtype=tf.float32)
    logits = tf.layers.dense(states[-1].h, 3, name="frequency")
    loss = tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    )
    accuracy = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, labels, 1), tf.float32))
    return inputs, labels, keep, logits, loss, accuracy


def main(_):
    rng = np.random.default_rng(FLAGS.seed)
    test_x, test_y = make_batch(rng, 500)
    tf.set_random_seed(FLAGS.seed)
    inputs, labels, keep, logits, loss, accuracy = build()
    train = tf.train.AdamOptimizer(0.01).minimize(loss)
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, FLAGS.steps + 1):
            x, y = make_batch(rng, 50)
            feed = {inputs: x, labels: y, keep: FLAGS.keep_prob}
            _, value = sess.run([train, loss], feed)
            if step % 100 == 0 or step == FLAGS.steps:
                print(f"step {step} loss {value:.4f}")
        acc, before = sess.run([accuracy, logits], {inputs: test_x, labels: test_y})
        os.makedirs(FLAGS.model_dir, exist_ok=True)
        path = saver.save(sess, os.path.join(FLAGS.model_dir, "model.ckpt"), global_step=step)
    print(f"saved {os.path.basename(path)}")
    print(f"final test_accuracy {acc:.4f}")

    tf.reset_default_graph()  # a fresh graph, as a separate evaluation script would build
    inputs, labels, keep, logits, loss, accuracy = build()
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, tf.train.latest_checkpoint(FLAGS.model_dir))
        after = sess.run(logits, {inputs: test_x})
    print(f"final restored_logits_match {bool(np.allclose(before, after, atol=1e-5))}")


if __name__ == "__main__":
    tf.app.run()
