"""Small TF1-style programs for API uses met when running published programs, written once for
both TensorFlow and rnnkit. Each function takes the ``tf`` module (TensorFlow's ``tf.compat.v1`` or
``rnnkit.compat.v1``), builds its graph in a fresh default graph, runs it and returns a dict of
arrays. ``tools/make_tf1_census_program_fixtures.py`` runs them under TensorFlow and records the
results in ``tests/fixtures/tf1_census_programs``; ``tests/compat/test_census_programs_*.py`` run
them under rnnkit and compare. No TensorFlow import here.

Weights are set after initialization from a seeded NumPy generator, one array per trainable
variable in creation order, so both libraries compute with the same numbers.
"""

from __future__ import annotations

import numpy as np

PROGRAMS = {}


def program(fn):
    PROGRAMS[fn.__name__] = fn
    return fn


def _set_weights(tf, sess, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for v in tf.trainable_variables():
        shape = v.get_shape().as_list()
        sess.run(v.assign(rng.uniform(-0.5, 0.5, shape).astype(np.float32)))


@program
def lengths_from_padding(tf):
    """A character model reads its rows' lengths off the padded one-hot input: ``reduce_sum`` of
    ``reduce_max(sign(x))`` is a float32 vector, which ``dynamic_rnn`` takes (TF casts it to int32).
    Two GRU layers, the state fed back through ``placeholder_with_default``."""
    tf.reset_default_graph()
    vocab, hidden = 6, [4, 3]
    ids = tf.placeholder(tf.int32, [None, None])
    x = tf.one_hot(ids, vocab) * tf.cast(tf.expand_dims(ids > 0, -1), tf.float32)
    cells = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.GRUCell(n) for n in hidden])
    zero = cells.zero_state(tf.shape(ids)[0], tf.float32)
    fed = tuple(tf.placeholder_with_default(z, [None, z.shape[1]]) for z in zero)
    length = tf.reduce_sum(tf.reduce_max(tf.sign(x), 2), 1)
    out, state = tf.nn.dynamic_rnn(cells, x, length, fed)
    logits = tf.layers.dense(out, vocab)
    loss = tf.reduce_sum(
        tf.nn.softmax_cross_entropy_with_logits(logits=logits[:, :-1], labels=x[:, 1:])
    )
    grads = tf.gradients(loss, tf.trainable_variables())
    batch = np.array([[1, 3, 2, 5, 0, 0], [4, 4, 1, 0, 0, 0], [2, 5, 3, 1, 4, 2]], np.int32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        _set_weights(tf, sess, 7)
        o, s, lo, g, ln = sess.run([out, state, loss, grads, length], {ids: batch})
        o2 = sess.run(out, {ids: batch[:, :1], fed[0]: s[0], fed[1]: s[1]})
    res = {"length": ln, "outputs": o, "state0": s[0], "state1": s[1], "loss": lo, "fed_back": o2}
    res.update({f"grad{i}": a for i, a in enumerate(g)})
    return res


@program
def float_lengths_fed(tf):
    """``dynamic_rnn`` and ``static_rnn`` fed float32 and bool lengths: truncated toward zero (2.7
    runs 2 steps, -0.5 none) and 0/1, as TF's cast to int32 gives."""
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [3, 4, 2])
    outs = {}
    for name, dt in (("float", tf.float32), ("bool", tf.bool)):
        with tf.variable_scope(name):
            length = tf.placeholder(dt, [3])
            o, s = tf.nn.dynamic_rnn(
                tf.nn.rnn_cell.BasicRNNCell(3), x, sequence_length=length, dtype=tf.float32
            )
        outs[name] = (length, o, s)
    with tf.variable_scope("static"):
        length = tf.placeholder(tf.float32, [3])
        so, ss = tf.nn.static_rnn(
            tf.nn.rnn_cell.BasicRNNCell(3),
            tf.unstack(x, axis=1),
            sequence_length=length,
            dtype=tf.float32,
        )
    xv = np.linspace(-1.0, 1.0, 24, dtype=np.float32).reshape(3, 4, 2)
    feeds = {"float": [2.7, 1.0, -0.5], "bool": [True, False, True]}
    res = {}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        _set_weights(tf, sess, 3)
        for name, (ln, o, s) in outs.items():
            res[f"{name}_outputs"], res[f"{name}_state"] = sess.run(
                [o, s], {x: xv, ln: feeds[name]}
            )
        so_v, ss_v = sess.run([so, ss], {x: xv, length: [2.7, 0.4, 5.0]})
        res["static_outputs"], res["static_state"] = np.stack(so_v, 1), ss_v
    return res


def bidirectional_float_lengths(tf):
    """``bidirectional_dynamic_rnn`` with float32 lengths: TF's ReverseSequence refuses them."""
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [3, 4, 2])
    length = tf.placeholder(tf.float32, [3])
    tf.nn.bidirectional_dynamic_rnn(
        tf.nn.rnn_cell.BasicRNNCell(3),
        tf.nn.rnn_cell.BasicRNNCell(3),
        x,
        sequence_length=length,
        dtype=tf.float32,
    )
