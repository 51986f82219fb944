"""MNIST digits classified by an LSTM that reads each image one pixel row per time step.

A TensorFlow 1.x program (static_rnn / static_bidirectional_rnn over tf.unstack, BasicLSTMCell,
tf.layers.dense, AdamOptimizer, the tutorials' input_data loader, tf.app.flags). Run it with

    python -m rnnkit tf1 examples/tf1/digits_rows.py --data_dir MNIST_data [--bidirectional]

``--data_dir`` holds TF1's four MNIST IDX files; without them ``input_data`` reads Keras's mnist.npz.
"""

import numpy as np
import tensorflow as tf
from tensorflow.contrib import rnn
from tensorflow.examples.tutorials.mnist import input_data

flags = tf.app.flags
flags.DEFINE_string("data_dir", "MNIST_data", "folder of the MNIST files")
flags.DEFINE_integer("steps", 500, "training steps")
flags.DEFINE_integer("batch_size", 100, "images per step")
flags.DEFINE_integer("units", 64, "LSTM state size")
flags.DEFINE_float("learning_rate", 0.005, "Adam's learning rate")
flags.DEFINE_boolean("bidirectional", False, "read the rows top-down and bottom-up")
flags.DEFINE_integer("seed", 1, "graph-level random seed")
FLAGS = flags.FLAGS

SIDE = 28  # rows of an image, and pixels per row


def image_summary(images):
    """One vector per image: the LSTM's last state (both directions' when bidirectional)."""
    rows = tf.unstack(tf.reshape(images, [-1, SIDE, SIDE]), num=SIDE, axis=1)
    if not FLAGS.bidirectional:
        _, final = rnn.static_rnn(rnn.BasicLSTMCell(FLAGS.units), rows, dtype=tf.float32)
        return final.h
    down, up = rnn.BasicLSTMCell(FLAGS.units), rnn.BasicLSTMCell(FLAGS.units)
    outputs, _, _ = rnn.static_bidirectional_rnn(down, up, rows, dtype=tf.float32)
    # the forward half of the last output and the backward half of the first have seen every row
    return tf.concat([outputs[-1][:, : FLAGS.units], outputs[0][:, FLAGS.units :]], axis=1)


def main(_):
    tf.set_random_seed(FLAGS.seed)
    np.random.seed(FLAGS.seed)
    mnist = input_data.read_data_sets(FLAGS.data_dir, one_hot=True)
    images = tf.placeholder(tf.float32, [None, SIDE * SIDE], name="images")
    labels = tf.placeholder(tf.float32, [None, 10], name="labels")
    logits = tf.layers.dense(image_summary(images), 10, name="classes")
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits))
    train = tf.train.AdamOptimizer(FLAGS.learning_rate).minimize(loss)
    hits = tf.equal(tf.argmax(logits, 1), tf.argmax(labels, 1))
    correct = tf.reduce_sum(tf.cast(hits, tf.float32))

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, FLAGS.steps + 1):
            x, y = mnist.train.next_batch(FLAGS.batch_size)
            _, batch_loss = sess.run([train, loss], {images: x, labels: y})
            if step % 100 == 0 or step == FLAGS.steps:
                print(f"step {step} loss {batch_loss:.4f}")
        total = 0.0
        test = mnist.test
        for start in range(0, test.num_examples, 1000):
            end = start + 1000
            total += sess.run(
                correct, {images: test.images[start:end], labels: test.labels[start:end]}
            )
        print(f"final test_accuracy {total / test.num_examples:.4f}")


if __name__ == "__main__":
    tf.app.run()
