"""A word-level language model over sentences of a small made-up grammar, with learned embeddings.

A TensorFlow 1.x program (get_variable embeddings, embedding_lookup, dynamic_rnn over an LSTMCell,
contrib.seq2seq.sequence_loss with a padding mask from tf.sequence_mask, clip_by_global_norm,
AdamOptimizer.apply_gradients). It prints the held-out perplexity; a uniform guess scores the
vocabulary size.

    python -m rnnkit tf1 examples/tf1/embed_lm.py [--epochs 3]
"""

import numpy as np
import tensorflow as tf

flags = tf.app.flags
flags.DEFINE_integer("epochs", 4, "passes over the training sentences")
flags.DEFINE_integer("sentences", 1200, "training sentences")
flags.DEFINE_integer("embedding", 16, "embedding size")
flags.DEFINE_integer("units", 48, "LSTM state size")
flags.DEFINE_integer("batch_size", 32, "sentences per step")
flags.DEFINE_integer("seed", 5, "random seed")
FLAGS = flags.FLAGS

NOUNS = "fox owl cat hen dog yak".split()
ADJECTIVES = "red small old quick".split()
VERBS = {"sees": NOUNS, "eats": "corn seed fish".split(), "sleeps": None}
WORDS = ["<pad>", "<s>", "</s>", "the", "a", "and"] + NOUNS + ADJECTIVES + list(VERBS)
WORDS += sorted({w for objs in VERBS.values() if objs for w in objs} - set(WORDS))
ID = {w: i for i, w in enumerate(WORDS)}


def sentence(rng):
    words = ["<s>", str(rng.choice(["the", "a"]))]
    if rng.random() < 0.5:
        words.append(str(rng.choice(ADJECTIVES)))
    words.append(str(rng.choice(NOUNS)))
    verb = str(rng.choice(list(VERBS)))
    words.append(verb)
    if VERBS[verb] is not None:
        words += ["the", str(rng.choice(VERBS[verb]))]
    if rng.random() < 0.3:
        words += ["and", "sleeps"]
    return [ID[w] for w in words + ["</s>"]]


def pad(batch):
    """ids (B, T) padded with <pad>, and their lengths."""
    lengths = np.array([len(s) for s in batch])
    ids = np.zeros((len(batch), lengths.max()), np.int32)
    for row, s in enumerate(batch):
        ids[row, : len(s)] = s
    return ids, lengths


def main(_):
    tf.set_random_seed(FLAGS.seed)
    rng = np.random.default_rng(FLAGS.seed)
    train_set = [sentence(rng) for _ in range(FLAGS.sentences)]
    valid_set = [sentence(rng) for _ in range(300)]
    ids = tf.placeholder(tf.int32, [None, None], name="ids")
    lengths = tf.placeholder(tf.int32, [None], name="lengths")
    inputs, targets = ids[:, :-1], ids[:, 1:]
    embeddings = tf.get_variable("embeddings", [len(WORDS), FLAGS.embedding])
    cell = tf.nn.rnn_cell.LSTMCell(FLAGS.units)
    outputs, _ = tf.nn.dynamic_rnn(
        cell,
        tf.nn.embedding_lookup(embeddings, inputs),
        sequence_length=lengths - 1,
        dtype=tf.float32,
    )
    logits = tf.layers.dense(outputs, len(WORDS), name="next_word")
    mask = tf.sequence_mask(lengths - 1, tf.shape(targets)[1], dtype=tf.float32)
    loss = tf.contrib.seq2seq.sequence_loss(logits, targets, mask)
    params = tf.trainable_variables()
    grads, _ = tf.clip_by_global_norm(tf.gradients(loss, params), 5.0)
    train = tf.train.AdamOptimizer(0.01).apply_gradients(zip(grads, params))
    # total negative log-likelihood and word count, for the perplexity over a whole set
    nll = tf.contrib.seq2seq.sequence_loss(
        logits, targets, mask, average_across_timesteps=False, average_across_batch=False
    )
    total_nll, total_words = tf.reduce_sum(nll), tf.reduce_sum(mask)

    def perplexity(sess, data):
        x, n = pad(data)
        a, b = sess.run([total_nll, total_words], {ids: x, lengths: n})
        return float(np.exp(a / b))

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        print(
            f"vocabulary {len(WORDS)} words; untrained perplexity {perplexity(sess, valid_set):.2f}"
        )
        for epoch in range(1, FLAGS.epochs + 1):
            order = rng.permutation(len(train_set))
            for start in range(0, len(order), FLAGS.batch_size):
                x, n = pad([train_set[i] for i in order[start : start + FLAGS.batch_size]])
                sess.run(train, {ids: x, lengths: n})
            print(f"epoch {epoch} valid perplexity {perplexity(sess, valid_set):.3f}")
        print(f"final valid_perplexity {perplexity(sess, valid_set):.4f}")


if __name__ == "__main__":
    tf.app.run()
