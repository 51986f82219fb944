"""Reversing short digit strings with an encoder-decoder: legacy_seq2seq's embedding_rnn_seq2seq.

A TensorFlow 1.x program (lists of per-step placeholders, embedding_rnn_seq2seq with a GRUCell,
feed_previous as a placeholder so that one graph trains on the true previous symbol and decodes
from its own predictions, legacy_seq2seq.sequence_loss, RMSPropOptimizer).

    python -m rnnkit tf1 examples/tf1/reverse_seq2seq.py [--steps 3000]
"""

import numpy as np
import tensorflow as tf

flags = tf.app.flags
flags.DEFINE_integer("steps", 1500, "training steps")
flags.DEFINE_integer("length", 5, "digits per string")
flags.DEFINE_integer("units", 64, "GRU state size")
flags.DEFINE_integer("seed", 8, "random seed")
FLAGS = flags.FLAGS

GO = 10  # the decoder's first input; symbols 0-9 are the digits
SYMBOLS = 11


def make_batch(rng, n):
    """encoder inputs, decoder inputs (GO + the reversed string but its last digit), targets."""
    digits = rng.integers(0, 10, size=(n, FLAGS.length))
    target = digits[:, ::-1]
    decoder_in = np.concatenate([np.full((n, 1), GO), target[:, :-1]], axis=1)
    return digits, decoder_in, target


def main(_):
    tf.set_random_seed(FLAGS.seed)
    rng = np.random.default_rng(FLAGS.seed)
    enc = [tf.placeholder(tf.int32, [None], name=f"enc{t}") for t in range(FLAGS.length)]
    dec = [tf.placeholder(tf.int32, [None], name=f"dec{t}") for t in range(FLAGS.length)]
    tgt = [tf.placeholder(tf.int32, [None], name=f"tgt{t}") for t in range(FLAGS.length)]
    feed_previous = tf.placeholder_with_default(False, [], name="feed_previous")
    cell = tf.nn.rnn_cell.GRUCell(FLAGS.units)
    outputs, _ = tf.contrib.legacy_seq2seq.embedding_rnn_seq2seq(
        enc, dec, cell, SYMBOLS, SYMBOLS, embedding_size=16, feed_previous=feed_previous
    )
    weights = [tf.ones_like(t, dtype=tf.float32) for t in tgt]
    loss = tf.contrib.legacy_seq2seq.sequence_loss(outputs, tgt, weights)
    train = tf.train.RMSPropOptimizer(0.005).minimize(loss)
    predicted = tf.stack([tf.argmax(o, 1, output_type=tf.int32) for o in outputs], axis=1)

    def feed(batch, own_predictions):
        x, d, y = batch
        out = {feed_previous: own_predictions}
        for t in range(FLAGS.length):
            out[enc[t]], out[dec[t]], out[tgt[t]] = x[:, t], d[:, t], y[:, t]
        return out

    test = make_batch(rng, 500)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, FLAGS.steps + 1):
            _, value = sess.run([train, loss], feed(make_batch(rng, 64), False))
            if step % 250 == 0 or step == FLAGS.steps:
                print(f"step {step} loss {value:.4f}")
        guess = sess.run(predicted, feed(test, True))  # the decoder reads its own outputs
    print(f"final digit_accuracy {np.mean(guess == test[2]):.4f}")
    print(f"final string_accuracy {np.mean(np.all(guess == test[2], axis=1)):.4f}")


if __name__ == "__main__":
    tf.app.run()
