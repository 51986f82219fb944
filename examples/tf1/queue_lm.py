"""A two-layer LSTM language model fed by an input queue and run under a Supervisor.

A TensorFlow 1.x program in the structure of the classic queue-fed language models: the text is read
with tf.gfile, cut into a (batch, columns) matrix, and a range_input_producer queue yields which
window to read next (tf.strided_slice); the LSTM is unrolled by hand in a variable scope whose
variables are reused after the first step; legacy_seq2seq.sequence_loss_by_example; gradients
clipped by their global norm; SGD with a learning rate set through tf.assign each epoch; a
training and a validation model share their weights; Supervisor.managed_session writes checkpoints
to --logdir and a rerun continues from the last one.

    python -m rnnkit tf1 examples/tf1/queue_lm.py --logdir /tmp/queue_lm [--data_path text.txt]

Without --data_path the text comes from a small made-up grammar.
"""

import numpy as np
import tensorflow as tf

flags = tf.flags
flags.DEFINE_string("data_path", None, "a text file of words (newlines end sentences)")
flags.DEFINE_string("logdir", None, "the Supervisor's folder (checkpoints)")
flags.DEFINE_integer("epochs", 3, "passes over the training text")
flags.DEFINE_integer("units", 32, "LSTM state size")
flags.DEFINE_integer("unroll", 8, "time steps per training window")
flags.DEFINE_integer("batch_size", 8, "rows read in parallel")
flags.DEFINE_float("learning_rate", 1.0, "SGD's first learning rate")
FLAGS = flags.FLAGS


def made_up_text(n_sentences, seed):
    rng = np.random.default_rng(seed)
    subjects, verbs, objects = (
        "we you they".split(),
        "like need see".split(),
        "tea rain maps".split(),
    )
    lines = []
    for _ in range(n_sentences):
        words = [rng.choice(subjects), rng.choice(verbs), rng.choice(objects)]
        if rng.random() < 0.4:
            words += ["and", rng.choice(objects)]
        lines.append(" ".join(str(w) for w in words))
    return "\n".join(lines) + "\n"


def read_text():
    if FLAGS.data_path:
        with tf.gfile.GFile(FLAGS.data_path, "r") as f:
            return f.read()
    return made_up_text(1500, seed=6)


def windows(ids, name):
    """(inputs, targets, windows per epoch): the next (batch, unroll) window of ids from a queue."""
    with tf.name_scope(name):
        data = tf.convert_to_tensor(ids, dtype=tf.int32, name="ids")
        columns = tf.size(data) // FLAGS.batch_size
        matrix = tf.reshape(data[: FLAGS.batch_size * columns], [FLAGS.batch_size, columns])
        per_epoch = (columns - 1) // FLAGS.unroll
        check = tf.assert_positive(per_epoch, message="text too short for one window")
        with tf.control_dependencies([check]):
            per_epoch = tf.identity(per_epoch, name="windows_per_epoch")
        k = tf.train.range_input_producer(per_epoch, shuffle=False).dequeue()
        first = k * FLAGS.unroll
        x = tf.strided_slice(matrix, [0, first], [FLAGS.batch_size, first + FLAGS.unroll])
        y = tf.strided_slice(matrix, [0, first + 1], [FLAGS.batch_size, first + FLAGS.unroll + 1])
        x.set_shape([FLAGS.batch_size, FLAGS.unroll])
        y.set_shape([FLAGS.batch_size, FLAGS.unroll])
        return x, y, per_epoch


class LanguageModel:
    def __init__(self, ids, vocab, training, name, initializer):
        x, y, self.per_epoch = windows(ids, name + "_input")
        with tf.variable_scope("lm", reuse=not training, initializer=initializer):
            layers = [tf.contrib.rnn.BasicLSTMCell(FLAGS.units, forget_bias=0.0) for _ in range(2)]
            cell = tf.contrib.rnn.MultiRNNCell(layers)
            self.initial_state = cell.zero_state(FLAGS.batch_size, tf.float32)
            table = tf.get_variable("words", [vocab, FLAGS.units])
            embedded = tf.nn.embedding_lookup(table, x)
            state, outputs = self.initial_state, []
            with tf.variable_scope("unrolled"):
                for t in range(FLAGS.unroll):
                    if t:
                        tf.get_variable_scope().reuse_variables()
                    out, state = cell(embedded[:, t, :], state)
                    outputs.append(out)
            self.final_state = state
            w = tf.get_variable("out_w", [FLAGS.units, vocab])
            b = tf.get_variable("out_b", [vocab])
            logits = tf.nn.xw_plus_b(tf.reshape(tf.concat(outputs, 1), [-1, FLAGS.units]), w, b)
        losses = tf.contrib.legacy_seq2seq.sequence_loss_by_example(
            [logits], [tf.reshape(y, [-1])], [tf.ones([FLAGS.batch_size * FLAGS.unroll])]
        )
        self.cost = tf.reduce_sum(losses) / FLAGS.batch_size
        if not training:
            return
        self.lr = tf.Variable(0.0, trainable=False, name="learning_rate")
        params = tf.trainable_variables()
        grads, _ = tf.clip_by_global_norm(tf.gradients(self.cost, params), 5.0)
        self.train = tf.train.GradientDescentOptimizer(self.lr).apply_gradients(
            zip(grads, params), global_step=tf.train.get_or_create_global_step()
        )
        self.new_lr = tf.placeholder(tf.float32, [], name="new_learning_rate")
        self.set_lr = tf.assign(self.lr, self.new_lr)


def run_epoch(session, model, train):
    state, total = session.run(model.initial_state), 0.0
    n = session.run(model.per_epoch)
    for _ in range(n):
        feed = {}
        for layer, (c, h) in enumerate(model.initial_state):
            feed[c], feed[h] = state[layer].c, state[layer].h
        fetches = [model.cost, model.final_state] + ([model.train] if train else [])
        cost, state = session.run(fetches, feed)[:2]
        total += cost
    return float(np.exp(total / (n * FLAGS.unroll)))


def main(_):
    words = read_text().replace("\n", " <eos> ").split()
    vocab = {w: i for i, w in enumerate(sorted(set(words)))}
    ids = [vocab[w] for w in words]
    cut = len(ids) * 9 // 10
    with tf.Graph().as_default():
        tf.set_random_seed(7)
        init = tf.random_uniform_initializer(-0.1, 0.1)
        train_model = LanguageModel(ids[:cut], len(vocab), True, "train", init)
        valid_model = LanguageModel(ids[cut:], len(vocab), False, "valid", init)
        sv = tf.train.Supervisor(logdir=FLAGS.logdir)
        with sv.managed_session() as session:
            start = session.run(sv.global_step)
            if start:
                print(f"continuing from step {start}")
            for epoch in range(FLAGS.epochs):
                lr = FLAGS.learning_rate * 0.5 ** max(epoch - 1, 0)
                session.run(train_model.set_lr, {train_model.new_lr: lr})
                train_ppl = run_epoch(session, train_model, True)
                valid_ppl = run_epoch(session, valid_model, False)
                print(f"epoch {epoch + 1} lr {lr:.3f} train {train_ppl:.3f} valid {valid_ppl:.3f}")
            if FLAGS.logdir:
                sv.saver.save(session, FLAGS.logdir + "/model.ckpt", global_step=sv.global_step)
    print(f"vocabulary {len(vocab)} words")
    print(f"final valid_perplexity {valid_ppl:.4f}")


if __name__ == "__main__":
    tf.app.run()
