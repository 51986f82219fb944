"""Word vectors by skip-gram with noise-contrastive estimation, on text from a made-up topic model.

A TensorFlow 1.x program (embedding_lookup, nce_loss, random_uniform / truncated_normal variables,
GradientDescentOptimizer, embeddings normalised with tf.sqrt(reduce_sum(square)) and compared by
matmul). Words of one topic should end up nearest to each other.

    python -m rnnkit tf1 examples/tf1/skipgram.py [--steps 4000]
"""

import numpy as np
import tensorflow as tf

flags = tf.app.flags
flags.DEFINE_integer("steps", 2000, "training steps")
flags.DEFINE_integer("topics", 8, "topics in the made-up text")
flags.DEFINE_integer("words_per_topic", 12, "words of each topic")
flags.DEFINE_integer("dim", 32, "embedding size")
flags.DEFINE_integer("seed", 9, "random seed")
FLAGS = flags.FLAGS


def corpus(rng, n_tokens):
    """Token ids: runs of 10 tokens, each run drawn from one topic's words."""
    runs = rng.integers(0, FLAGS.topics, size=n_tokens // 10)
    within = rng.integers(0, FLAGS.words_per_topic, size=(len(runs), 10))
    return (runs[:, None] * FLAGS.words_per_topic + within).reshape(-1)


def pairs(rng, ids, n, window=2):
    """n (centre, context) pairs at most ``window`` apart."""
    centre = rng.integers(window, len(ids) - window, size=n)
    offset = rng.choice([o for o in range(-window, window + 1) if o], size=n)
    return ids[centre], ids[centre + offset]


def main(_):
    tf.set_random_seed(FLAGS.seed)
    rng = np.random.default_rng(FLAGS.seed)
    vocab = FLAGS.topics * FLAGS.words_per_topic
    ids = corpus(rng, 200_000)
    centre = tf.placeholder(tf.int32, [None])
    context = tf.placeholder(tf.int64, [None, 1])
    embeddings = tf.Variable(tf.random_uniform([vocab, FLAGS.dim], -1.0, 1.0))
    nce_w = tf.Variable(tf.truncated_normal([vocab, FLAGS.dim], stddev=1.0 / np.sqrt(FLAGS.dim)))
    nce_b = tf.Variable(tf.zeros([vocab]))
    loss = tf.reduce_mean(
        tf.nn.nce_loss(
            weights=nce_w,
            biases=nce_b,
            labels=context,
            inputs=tf.nn.embedding_lookup(embeddings, centre),
            num_sampled=16,
            num_classes=vocab,
        )
    )
    train = tf.train.GradientDescentOptimizer(1.0).minimize(loss)
    unit = embeddings / tf.sqrt(tf.reduce_sum(tf.square(embeddings), 1, keepdims=True))
    similarity = tf.matmul(unit, unit, transpose_b=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        total = 0.0
        for step in range(1, FLAGS.steps + 1):
            x, y = pairs(rng, ids, 128)
            _, value = sess.run([train, loss], {centre: x, context: y[:, None]})
            total += value
            if step % 500 == 0 or step == FLAGS.steps:
                print(f"step {step} average loss {total / min(step, 500):.4f}")
                total = 0.0
        sim = sess.run(similarity)
    np.fill_diagonal(sim, -np.inf)
    nearest = sim.argmax(axis=1)
    same_topic = nearest // FLAGS.words_per_topic == np.arange(vocab) // FLAGS.words_per_topic
    print(f"final nearest_same_topic {same_topic.mean():.4f}")


if __name__ == "__main__":
    tf.app.run()
