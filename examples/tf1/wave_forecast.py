"""Forecasting a sum of two waves one step ahead with a small RNN, then generating ahead from it.

A TensorFlow 1.x program (BasicRNNCell wrapped in OutputProjectionWrapper, or a dense layer over
the reshaped outputs with --dense_head; dynamic_rnn, mean squared error, AdamOptimizer).

    python -m rnnkit tf1 examples/tf1/wave_forecast.py [--dense_head]
"""

import numpy as np
import tensorflow as tf
from tensorflow.contrib import rnn

flags = tf.app.flags
flags.DEFINE_integer("steps", 800, "training steps")
flags.DEFINE_integer("window", 24, "time steps per training window")
flags.DEFINE_integer("units", 48, "RNN state size")
flags.DEFINE_boolean("dense_head", False, "project with tf.layers.dense instead of the wrapper")
flags.DEFINE_integer("seed", 3, "random seed")
FLAGS = flags.FLAGS

DT = 0.1


def wave(t):
    return 0.6 * np.sin(0.7 * t) + 0.3 * np.cos(1.9 * t + 0.5)


def windows(rng, n):
    """n random windows of the wave: inputs (n, window, 1) and the same shifted by one step."""
    start = rng.uniform(0.0, 60.0, size=(n, 1))
    t = start + DT * np.arange(FLAGS.window + 1)
    y = wave(t).astype(np.float32)[..., None]
    return y[:, :-1], y[:, 1:]


def main(_):
    tf.set_random_seed(FLAGS.seed)
    rng = np.random.default_rng(FLAGS.seed)
    inputs = tf.placeholder(tf.float32, [None, FLAGS.window, 1], name="inputs")
    targets = tf.placeholder(tf.float32, [None, FLAGS.window, 1], name="targets")
    cell = rnn.BasicRNNCell(FLAGS.units, activation=tf.nn.tanh)
    if FLAGS.dense_head:
        outputs, _ = tf.nn.dynamic_rnn(cell, inputs, dtype=tf.float32)
        flat = tf.layers.dense(tf.reshape(outputs, [-1, FLAGS.units]), 1)
        predictions = tf.reshape(flat, [-1, FLAGS.window, 1])
    else:
        cell = rnn.OutputProjectionWrapper(cell, output_size=1)
        predictions, _ = tf.nn.dynamic_rnn(cell, inputs, dtype=tf.float32)
    mse = tf.reduce_mean(tf.square(predictions - targets))
    train = tf.train.AdamOptimizer(0.003).minimize(mse)

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, FLAGS.steps + 1):
            x, y = windows(rng, 32)
            _, value = sess.run([train, mse], {inputs: x, targets: y})
            if step % 200 == 0 or step == FLAGS.steps:
                print(f"step {step} mse {value:.6f}")
        x, y = windows(rng, 256)
        print(f"final test_mse {sess.run(mse, {inputs: x, targets: y}):.6f}")
        # generate: feed the model its own predictions, one step at a time
        t0 = 70.0 + DT * np.arange(FLAGS.window)
        series = list(wave(t0))
        for _ in range(FLAGS.window):
            window = np.array(series[-FLAGS.window :], np.float32).reshape(1, -1, 1)
            series.append(float(sess.run(predictions, {inputs: window})[0, -1, 0]))
        truth = wave(70.0 + DT * np.arange(FLAGS.window, 2 * FLAGS.window))
        ahead = np.mean((np.array(series[FLAGS.window :]) - truth) ** 2)
        print(f"final generated_mse {ahead:.6f}")


if __name__ == "__main__":
    tf.app.run()
