"""Generate TensorFlow reference data for ``tf.contrib.legacy_seq2seq`` and ``tf.contrib.seq2seq``.

``legacy.npz`` (``--part legacy``, graph mode):

TensorFlow 2.x has no ``tf.contrib`` and no ``legacy_seq2seq``. This program builds the graphs that
TensorFlow 1.x's ``contrib/legacy_seq2seq/python/ops/seq2seq.py`` builds, as its source defines them
(the semantics and the variable scopes read from that file), over real ``tf.compat.v1`` cells and
ops of TensorFlow 2.21 (``BasicLSTMCell``, ``GRUCell``, ``MultiRNNCell``, ``conv2d``, ``softmax``,
``embedding_lookup``...). TF1's ``EmbeddingWrapper`` and ``OutputProjectionWrapper`` are gone too:
they are written here as the scopes and linear maps they create. So the numbers are TensorFlow's
kernels and the variable names are TF1's.

Each case starts from fixed weights (uniform in [-0.5, 0.5), one generator seeded per case, in the
order the variables are created) and fixed inputs, and stores in ``tests/fixtures/tf1_seq2seq/legacy.npz``:

- ``<case>/var/<variable name>``: the weights (their names are the names rnnkit must create);
- ``<case>/in/<k>``: input step k (``enc<k>``, ``dec<k>``, ``tgt<k>``, ``w<k>``, ``attn``, ``init<k>``);
- ``<case>/out/<k>``: output step k; ``<case>/state/<k>``: the final state's leaves in order;
- ``<case>/loss/<j>``: per-bucket losses (``model_with_buckets``);
- ``<case>/grad/<variable name>``: the gradient of ``sum_k reduce_sum(out_k ** 2)`` (plus the
  losses, for buckets) with respect to each variable.

``contrib.npz`` (``--part contrib``, eager): ``contrib.seq2seq``'s reference is TensorFlow Addons'
``seq2seq`` (TF1's helpers/samplers, ``BasicDecoder``, ``dynamic_decode``, attention and beam
search ported to TF 2) over TF 2.21's ``tf.compat.v1`` cells and ``tf.keras`` ``Dense`` layers.
Addons names its variables its own way; each case lists them with the TF1 names that TF1's
``contrib.seq2seq`` gives the same weights (``decoder/basic_lstm_cell/kernel``, ``memory_layer/
kernel``, ``decoder/attention_wrapper/bahdanau_attention/attention_v``...), and stores
``<case>/var/<TF1 name>``, ``<case>/in/<name>``, ``<case>/out/<name>`` (outputs, sample ids,
lengths, final-state parts) and ``<case>/grad/<TF1 name>`` (of ``reduce_sum(rnn_output ** 2)``,
or of the beam scores).

Run both with::

    TF_USE_LEGACY_KERAS=1 /root/tfvenv/bin/python tools/make_tf1_seq2seq_fixtures.py \
        --out tests/fixtures/tf1_seq2seq
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf1 = tf.compat.v1
tf1.logging.set_verbosity(tf1.logging.ERROR)

B = 3  # batch


# -- the pieces TF1's legacy_seq2seq builds -------------------------------------------------------
def linear(args, output_size):
    """TF1's ``_Linear``: variables ``kernel`` and ``bias`` (zeros) in the current scope."""
    args = list(args)
    total = sum(a.get_shape().as_list()[1] for a in args)
    kernel = tf1.get_variable("kernel", [total, output_size])
    bias = tf1.get_variable("bias", [output_size], initializer=tf1.zeros_initializer())
    x = args[0] if len(args) == 1 else tf1.concat(args, 1)
    return tf1.matmul(x, kernel) + bias


class OutputProjection:
    """TF1's ``OutputProjectionWrapper``: the cell under ``output_projection_wrapper``, then a
    linear map to ``size`` there."""

    def __init__(self, cell, size):
        self.cell, self.output_size, self.state_size = cell, size, cell.state_size

    def __call__(self, x, state):
        with tf1.variable_scope("output_projection_wrapper", reuse=tf1.AUTO_REUSE):
            out, state = self.cell(x, state)
            return linear([out], self.output_size), state


def static_rnn(cell, xs, state, scope):
    with tf1.variable_scope(scope):
        outs = []
        for x in xs:
            out, state = cell(x, state)
            outs.append(out)
    return outs, state


def embedding_encoder(cell, enc, n_symbols, emb_size):
    """TF1's ``static_rnn(EmbeddingWrapper(cell, n_symbols, emb_size), enc)``."""
    with tf1.variable_scope("rnn"), tf1.variable_scope("embedding_wrapper"):
        s3 = math.sqrt(3)
        emb = tf1.get_variable(
            "embedding",
            [n_symbols, emb_size],
            initializer=tf1.random_uniform_initializer(-s3, s3),
        )
        state = cell.zero_state(B, tf.float32)
        outs = []
        for x in enc:
            out, state = cell(tf1.nn.embedding_lookup(emb, tf1.reshape(x, [-1])), state)
            outs.append(out)
    return outs, state


def argmax_and_embed(emb, proj):
    def loop(prev, _):
        if proj is not None:
            prev = tf1.nn.xw_plus_b(prev, proj[0], proj[1])
        return tf1.nn.embedding_lookup(emb, tf1.argmax(prev, 1))

    return loop


def rnn_decoder(xs, state, cell, loop_function=None, scope=None):
    with tf1.variable_scope(scope or "rnn_decoder"):
        outs, prev = [], None
        for i, x in enumerate(xs):
            if loop_function is not None and prev is not None:
                with tf1.variable_scope("loop_function", reuse=True):
                    x = loop_function(prev, i)
            if i > 0:
                tf1.get_variable_scope().reuse_variables()
            out, state = cell(x, state)
            outs.append(out)
            if loop_function is not None:
                prev = out
    return outs, state


def embedding_rnn_decoder(dec, state, cell, n_symbols, emb_size, proj=None, feed_previous=False):
    with tf1.variable_scope("embedding_rnn_decoder"):
        emb = tf1.get_variable("embedding", [n_symbols, emb_size])
        loop = argmax_and_embed(emb, proj) if feed_previous else None
        return rnn_decoder([tf1.nn.embedding_lookup(emb, i) for i in dec], state, cell, loop)


def attention_decoder(xs, state, states, cell, output_size, num_heads, loop_function, isa):
    with tf1.variable_scope("attention_decoder"):
        L, A = states.get_shape().as_list()[1:]
        hidden = tf1.reshape(states, [-1, L, 1, A])
        feats, vs = [], []
        for a in range(num_heads):
            k = tf1.get_variable(f"AttnW_{a}", [1, 1, A, A])
            feats.append(tf1.nn.conv2d(hidden, k, [1, 1, 1, 1], "SAME"))
            vs.append(tf1.get_variable(f"AttnV_{a}", [A]))

        def attention(query):
            q = tf1.concat(tf.nest.flatten(query), 1)
            reads = []
            for a in range(num_heads):
                with tf1.variable_scope(f"Attention_{a}"):
                    y = tf1.reshape(linear([q], A), [-1, 1, 1, A])
                    s = tf1.reduce_sum(vs[a] * tf1.tanh(feats[a] + y), [2, 3])
                    w = tf1.nn.softmax(s)
                    d = tf1.reduce_sum(tf1.reshape(w, [-1, L, 1, 1]) * hidden, [1, 2])
                    reads.append(tf1.reshape(d, [-1, A]))
            return reads

        attns = [tf1.zeros([B, A]) for _ in range(num_heads)]
        if isa:
            attns = attention(state)
        outs, prev = [], None
        for i, x in enumerate(xs):
            if i > 0:
                tf1.get_variable_scope().reuse_variables()
            if loop_function is not None and prev is not None:
                with tf1.variable_scope("loop_function", reuse=True):
                    x = loop_function(prev, i)
            x = linear([x, *attns], x.get_shape().as_list()[1])
            cell_out, state = cell(x, state)
            if i == 0 and isa:
                with tf1.variable_scope(tf1.get_variable_scope(), reuse=True):
                    attns = attention(state)
            else:
                attns = attention(state)
            with tf1.variable_scope("AttnOutputProjection"):
                out = linear([cell_out, *attns], output_size)
            if loop_function is not None:
                prev = out
            outs.append(out)
    return outs, state


def embedding_attention_seq2seq(enc, dec, make_cell, n_enc, n_dec, emb, heads, proj, fp, isa):
    with tf1.variable_scope("embedding_attention_seq2seq"):
        enc_outs, enc_state = embedding_encoder(make_cell(), enc, n_enc, emb)
        cell = make_cell()
        states = tf1.concat([tf1.reshape(e, [-1, 1, cell.output_size]) for e in enc_outs], 1)
        out_size = cell.output_size
        if proj is None:
            cell, out_size = OutputProjection(cell, n_dec), n_dec
        with tf1.variable_scope("embedding_attention_decoder"):
            embedding = tf1.get_variable("embedding", [n_dec, emb])
            loop = argmax_and_embed(embedding, proj) if fp else None
            xs = [tf1.nn.embedding_lookup(embedding, i) for i in dec]
            return attention_decoder(xs, enc_state, states, cell, out_size, heads, loop, isa)


def sequence_loss(logits, targets, weights):
    parts = [
        tf1.nn.sparse_softmax_cross_entropy_with_logits(labels=t, logits=lg) * w
        for lg, t, w in zip(logits, targets, weights)
    ]
    per_example = tf1.add_n(parts) / (tf1.add_n(weights) + 1e-12)
    return tf1.reduce_sum(per_example) / tf1.cast(tf1.shape(targets[0])[0], tf.float32)


# -- the cases ------------------------------------------------------------------------------------
def floats(rng, n, width):
    return [rng.uniform(-1, 1, (B, width)).astype(np.float32) for _ in range(n)]


def ints(rng, n, high):
    return [rng.integers(0, high, B).astype(np.int32) for _ in range(n)]


def case_rnn_decoder(rng):
    xs = floats(rng, 4, 5)
    init = floats(rng, 2, 6)
    cell = tf1.nn.rnn_cell.BasicLSTMCell(6)
    state = tf1.nn.rnn_cell.LSTMStateTuple(tf1.constant(init[0]), tf1.constant(init[1]))
    outs, st = rnn_decoder([tf1.constant(x) for x in xs], state, cell)
    return outs, st, {**named("dec", xs), **named("init", init)}


def case_rnn_decoder_loop(rng):
    xs = floats(rng, 4, 5)
    init = floats(rng, 1, 5)
    cell = tf1.nn.rnn_cell.GRUCell(5)
    outs, st = rnn_decoder(
        [tf1.constant(x) for x in xs],
        tf1.constant(init[0]),
        cell,
        loop_function=lambda prev, i: tf1.tanh(prev * 2.0) + float(i),
    )
    return outs, st, {**named("dec", xs), **named("init", init)}


def case_basic_rnn_seq2seq(rng):
    enc, dec = floats(rng, 3, 4), floats(rng, 4, 4)
    with tf1.variable_scope("basic_rnn_seq2seq"):
        enc_cell = tf1.nn.rnn_cell.BasicLSTMCell(6)
        _, state = static_rnn(
            enc_cell, [tf1.constant(x) for x in enc], enc_cell.zero_state(B, tf.float32), "rnn"
        )
        outs, st = rnn_decoder(
            [tf1.constant(x) for x in dec], state, tf1.nn.rnn_cell.BasicLSTMCell(6)
        )
    return outs, st, {**named("enc", enc), **named("dec", dec)}


def case_tied_rnn_seq2seq(rng):
    enc, dec = floats(rng, 3, 5), floats(rng, 3, 5)
    cell = tf1.nn.rnn_cell.GRUCell(5)
    with tf1.variable_scope("combined_tied_rnn_seq2seq"):
        _, state = static_rnn(
            cell, [tf1.constant(x) for x in enc], cell.zero_state(B, tf.float32), "tied_rnn_seq2seq"
        )
        tf1.get_variable_scope().reuse_variables()
        outs, st = rnn_decoder(
            [tf1.constant(x) for x in dec], state, cell, scope="tied_rnn_seq2seq"
        )
    return outs, st, {**named("enc", enc), **named("dec", dec)}


def embedding_rnn_seq2seq(enc, dec, make_cell, n_enc, n_dec, emb, proj, fp):
    with tf1.variable_scope("embedding_rnn_seq2seq"):
        _, state = embedding_encoder(make_cell(), [tf1.constant(x) for x in enc], n_enc, emb)
        cell = make_cell()
        if proj is None:
            cell = OutputProjection(cell, n_dec)
        return embedding_rnn_decoder(
            [tf1.constant(x) for x in dec], state, cell, n_dec, emb, proj, fp
        )


def case_embedding_tied_rnn_seq2seq(rng):
    enc, dec = ints(rng, 3, 8), ints(rng, 4, 8)
    with tf1.variable_scope("embedding_tied_rnn_seq2seq"):
        emb = tf1.get_variable("embedding", [8, 4])
        cell = OutputProjection(tf1.nn.rnn_cell.GRUCell(5), 6)
        with tf1.variable_scope("combined_tied_rnn_seq2seq"):
            xs = [tf1.nn.embedding_lookup(emb, tf1.constant(x)) for x in enc]
            _, state = static_rnn(cell, xs, cell.cell.zero_state(B, tf.float32), "tied_rnn_seq2seq")
            tf1.get_variable_scope().reuse_variables()
            ys = [tf1.nn.embedding_lookup(emb, tf1.constant(y)) for y in dec]
            outs, st = rnn_decoder(
                ys, state, cell, argmax_and_embed(emb, None), scope="tied_rnn_seq2seq"
            )
    return outs, st, {**named("enc", enc), **named("dec", dec)}


def multi_lstm():
    return tf1.nn.rnn_cell.MultiRNNCell([tf1.nn.rnn_cell.BasicLSTMCell(n) for n in (6, 5)])


def case_embedding_rnn_seq2seq(rng):
    enc, dec = ints(rng, 3, 7), ints(rng, 4, 9)
    outs, st = embedding_rnn_seq2seq(enc, dec, multi_lstm, 7, 9, 4, None, False)
    return outs, st, {**named("enc", enc), **named("dec", dec)}


def case_embedding_rnn_seq2seq_feed_previous(rng):
    enc, dec = ints(rng, 3, 7), ints(rng, 4, 9)
    w = tf1.constant(rng.uniform(-1, 1, (6, 9)).astype(np.float32))
    b = tf1.constant(rng.uniform(-1, 1, 9).astype(np.float32))
    outs, st = embedding_rnn_seq2seq(
        enc, dec, lambda: tf1.nn.rnn_cell.BasicLSTMCell(6), 7, 9, 4, (w, b), True
    )
    return outs, st, {**named("enc", enc), **named("dec", dec), "proj_w": w, "proj_b": b}


def case_attention_decoder(rng):
    xs = floats(rng, 3, 4)
    init = floats(rng, 2, 6)
    attn = rng.uniform(-1, 1, (B, 5, 3)).astype(np.float32)
    cell = tf1.nn.rnn_cell.BasicLSTMCell(6)
    state = tf1.nn.rnn_cell.LSTMStateTuple(tf1.constant(init[0]), tf1.constant(init[1]))
    outs, st = attention_decoder(
        [tf1.constant(x) for x in xs], state, tf1.constant(attn), cell, 7, 2, None, True
    )
    return outs, st, {**named("dec", xs), **named("init", init), "attn": attn}


def case_embedding_attention_seq2seq(rng):
    enc, dec = ints(rng, 4, 7), ints(rng, 3, 9)
    outs, st = embedding_attention_seq2seq(
        [tf1.constant(x) for x in enc],
        [tf1.constant(x) for x in dec],
        lambda: tf1.nn.rnn_cell.GRUCell(6),
        7, 9, 5, 1, None, False, False,
    )  # fmt: skip
    return outs, st, {**named("enc", enc), **named("dec", dec)}


def case_embedding_attention_seq2seq_feed_previous(rng):
    enc, dec = ints(rng, 4, 7), ints(rng, 3, 9)
    outs, st = embedding_attention_seq2seq(
        [tf1.constant(x) for x in enc],
        [tf1.constant(x) for x in dec],
        lambda: tf1.nn.rnn_cell.BasicLSTMCell(6),
        7, 9, 5, 2, None, True, True,
    )  # fmt: skip
    return outs, st, {**named("enc", enc), **named("dec", dec)}


def case_model_with_buckets(rng):
    enc, dec = ints(rng, 4, 7), ints(rng, 4, 9)
    tgt = ints(rng, 4, 9)
    wts = [rng.uniform(0, 1, B).astype(np.float32) for _ in range(4)]
    buckets = [(2, 3), (4, 4)]
    outputs, losses = [], []
    for j, (ne, nd) in enumerate(buckets):
        with tf1.variable_scope(tf1.get_variable_scope(), reuse=True if j > 0 else None):
            outs, _ = embedding_rnn_seq2seq(
                enc[:ne], dec[:nd], lambda: tf1.nn.rnn_cell.GRUCell(5), 7, 9, 4, None, False
            )
            outputs.append(outs)
            losses.append(
                sequence_loss(
                    outs, [tf1.constant(t) for t in tgt[:nd]], [tf1.constant(w) for w in wts[:nd]]
                )
            )
    ins = {**named("enc", enc), **named("dec", dec), **named("tgt", tgt), **named("w", wts)}
    return outputs, losses, ins


def named(prefix, arrays):
    return {f"{prefix}{k}": a for k, a in enumerate(arrays)}


CASES = {
    "rnn_decoder": case_rnn_decoder,
    "rnn_decoder_loop": case_rnn_decoder_loop,
    "basic_rnn_seq2seq": case_basic_rnn_seq2seq,
    "tied_rnn_seq2seq": case_tied_rnn_seq2seq,
    "embedding_rnn_seq2seq": case_embedding_rnn_seq2seq,
    "embedding_rnn_seq2seq_fp": case_embedding_rnn_seq2seq_feed_previous,
    "attention_decoder": case_attention_decoder,
    "embedding_attention_seq2seq": case_embedding_attention_seq2seq,
    "embedding_attention_seq2seq_fp": case_embedding_attention_seq2seq_feed_previous,
    "model_with_buckets": case_model_with_buckets,
    "embedding_tied_rnn_seq2seq": case_embedding_tied_rnn_seq2seq,
}


def run_case(name, make, seed):
    out = {}
    g = tf1.Graph()
    with g.as_default():
        rng = np.random.default_rng(seed)
        first, second, ins = make(rng)
        variables = tf1.global_variables()
        if name == "model_with_buckets":
            outputs, losses = first, second
            flat = [o for bucket in outputs for o in bucket]
            total = tf1.add_n([tf1.reduce_sum(o * o) for o in flat] + losses)
        else:
            outputs, state = first, second
            total = tf1.add_n([tf1.reduce_sum(o * o) for o in outputs])
        grads = [tf1.convert_to_tensor(gr) for gr in tf1.gradients(total, variables)]
        with tf1.Session() as sess:
            values = {}
            for v in variables:
                values[v] = rng.uniform(-0.5, 0.5, v.shape.as_list()).astype(np.float32)
                v.load(values[v], sess)
            for v, value in values.items():
                out[f"{name}/var/{v.op.name}"] = value
            for k, value in ins.items():
                out[f"{name}/in/{k}"] = sess.run(value) if isinstance(value, tf.Tensor) else value
            if name == "model_with_buckets":
                res = sess.run([outputs, losses])
                for j, bucket in enumerate(res[0]):
                    for k, o in enumerate(bucket):
                        out[f"{name}/out/{j}_{k}"] = o
                for j, loss in enumerate(res[1]):
                    out[f"{name}/loss/{j}"] = np.asarray(loss)
            else:
                res_out, res_state = sess.run([outputs, tf.nest.flatten(state)])
                for k, o in enumerate(res_out):
                    out[f"{name}/out/{k}"] = o
                for k, s in enumerate(res_state):
                    out[f"{name}/state/{k}"] = s
            for v, gv in zip(variables, sess.run(grads)):
                out[f"{name}/grad/{v.op.name}"] = np.asarray(gv)
    return out


# -- contrib.seq2seq, from TensorFlow Addons' seq2seq (TF1's algorithms ported to TF 2) -----------
def contrib(out_dir):
    """TensorFlow Addons runs eagerly; each case builds its objects, runs once to create the
    weights, sets them (by their TF1 names, in the listed order) and runs again under a tape."""
    sys.path.insert(0, "/root")
    from tfa_import import tfa  # noqa: F401  (TensorFlow Addons under TF 2.21's tf_keras)

    np.Inf = np.inf  # TensorFlow Addons' beam search still spells it the NumPy 1 way

    data = {}
    for seed, (name, make) in enumerate(CONTRIB_CASES.items()):
        rng = np.random.default_rng(100 + seed)
        run, weights, ins = make(rng, tfa)
        run()  # creates the weights
        for tf1_name, var in weights():
            value = rng.uniform(-0.5, 0.5, var.shape.as_list()).astype(np.float32)
            var.assign(value)
            data[f"{name}/var/{tf1_name}"] = value
        with tf.GradientTape() as tape:
            result = run()
            loss = tf.reduce_sum(tf.square(result.get("rnn_output", result.get("scores"))))
        names, variables = zip(*weights())
        for n, gr in zip(names, tape.gradient(loss, list(variables))):
            data[f"{name}/grad/{n}"] = tf.convert_to_tensor(gr).numpy()
        for k, v in ins.items():
            data[f"{name}/in/{k}"] = np.asarray(v)
        for k, v in result.items():
            data[f"{name}/out/{k}"] = np.asarray(v)
    np.savez_compressed(out_dir / "contrib.npz", **data)
    print(f"wrote {len(data)} arrays to {out_dir / 'contrib.npz'}")


def lstm_weights(prefix, cell):
    return [(f"{prefix}/basic_lstm_cell/kernel", cell._kernel),
            (f"{prefix}/basic_lstm_cell/bias", cell._bias)]  # fmt: skip


def gru_weights(prefix, cell):
    return [(f"{prefix}/gru_cell/gates/kernel", cell._gate_kernel),
            (f"{prefix}/gru_cell/gates/bias", cell._gate_bias),
            (f"{prefix}/gru_cell/candidate/kernel", cell._candidate_kernel),
            (f"{prefix}/gru_cell/candidate/bias", cell._candidate_bias)]  # fmt: skip


def decoded(outputs, state, lengths, **more):
    res = {"rnn_output": outputs.rnn_output, "sample_id": outputs.sample_id, "lengths": lengths}
    for k, s in enumerate(tf.nest.flatten(state)):
        res[f"state{k}"] = s
    res.update(more)
    return res


def contrib_training(impute):
    def make(rng, tfa):
        x = rng.uniform(-1, 1, (B, 4, 4)).astype(np.float32)
        lengths = np.array([4, 2, 3], np.int32)
        init = [rng.uniform(-1, 1, (B, 5)).astype(np.float32) for _ in range(2)]
        cell = tf1.nn.rnn_cell.BasicLSTMCell(5)
        dense = tf.keras.layers.Dense(7)
        dec = tfa.seq2seq.BasicDecoder(cell, tfa.seq2seq.TrainingSampler(), output_layer=dense,
                                       impute_finished=impute)  # fmt: skip

        def run():
            state = tf1.nn.rnn_cell.LSTMStateTuple(tf.constant(init[0]), tf.constant(init[1]))
            return decoded(*dec(tf.constant(x), initial_state=state, sequence_length=lengths))

        def weights():
            return [*lstm_weights("decoder", cell), ("decoder/dense/kernel", dense.kernel),
                    ("decoder/dense/bias", dense.bias)]  # fmt: skip

        return run, weights, {"x": x, "lengths": lengths, "init0": init[0], "init1": init[1]}

    return make


def contrib_greedy(rng, tfa):
    init = rng.uniform(-1, 1, (B, 6)).astype(np.float32)
    emb = tf.Variable(np.zeros((8, 4), np.float32))
    cell = tf1.nn.rnn_cell.GRUCell(6)
    dense = tf.keras.layers.Dense(8)
    dec = tfa.seq2seq.BasicDecoder(cell, tfa.seq2seq.GreedyEmbeddingSampler(), output_layer=dense,
                                   maximum_iterations=6)  # fmt: skip

    def run():
        return decoded(*dec(emb, start_tokens=tf.constant([1, 1, 1]), end_token=2,
                            initial_state=tf.constant(init)))  # fmt: skip

    def weights():
        return [("embedding", emb), *gru_weights("decoder", cell),
                ("decoder/dense/kernel", dense.kernel), ("decoder/dense/bias", dense.bias)]  # fmt: skip

    return run, weights, {"init0": init}


def contrib_bahdanau(rng, tfa):
    x = rng.uniform(-1, 1, (B, 4, 3)).astype(np.float32)
    lengths = np.array([4, 4, 2], np.int32)
    memory = rng.uniform(-1, 1, (B, 6, 4)).astype(np.float32)
    mem_lengths = np.array([6, 3, 5], np.int32)
    cell = tf1.nn.rnn_cell.BasicLSTMCell(5)
    mech = tfa.seq2seq.BahdanauAttention(6, memory, memory_sequence_length=mem_lengths,
                                         normalize=True)  # fmt: skip
    wrapper = tfa.seq2seq.AttentionWrapper(cell, mech, attention_layer_size=7,
                                           alignment_history=True)  # fmt: skip
    dense = tf.keras.layers.Dense(7)
    dec = tfa.seq2seq.BasicDecoder(wrapper, tfa.seq2seq.TrainingSampler(), output_layer=dense,
                                   impute_finished=True)  # fmt: skip

    def run():
        mech.setup_memory(memory, memory_sequence_length=mem_lengths)
        state = wrapper.get_initial_state(batch_size=B, dtype=tf.float32)
        outputs, st, lens = dec(tf.constant(x), initial_state=state, sequence_length=lengths)
        return {"rnn_output": outputs.rnn_output, "sample_id": outputs.sample_id,
                "lengths": lens, "cell0": st.cell_state[0], "cell1": st.cell_state[1],
                "attention": st.attention, "alignments": st.alignments,
                "history": st.alignment_history.stack()}  # fmt: skip

    def weights():
        att = "decoder/attention_wrapper"
        return [("memory_layer/kernel", mech.memory_layer.kernel), *lstm_weights(att, cell),
                (f"{att}/bahdanau_attention/query_layer/kernel", mech.query_layer.kernel),
                (f"{att}/bahdanau_attention/attention_v", mech.attention_v),
                (f"{att}/bahdanau_attention/attention_g", mech.attention_g),
                (f"{att}/bahdanau_attention/attention_b", mech.attention_b),
                (f"{att}/attention_layer/kernel", wrapper._attention_layers[0].kernel),
                ("decoder/dense/kernel", dense.kernel), ("decoder/dense/bias", dense.bias)]  # fmt: skip

    ins = {"x": x, "lengths": lengths, "memory": memory, "memory_lengths": mem_lengths}
    return run, weights, ins


def contrib_luong(rng, tfa):
    x = rng.uniform(-1, 1, (B, 3, 4)).astype(np.float32)
    lengths = np.array([3, 1, 2], np.int32)
    memory = rng.uniform(-1, 1, (B, 5, 4)).astype(np.float32)
    enc_state = rng.uniform(-1, 1, (B, 6)).astype(np.float32)
    cell = tf1.nn.rnn_cell.GRUCell(6)
    mech = tfa.seq2seq.LuongAttention(6, memory, scale=True)
    wrapper = tfa.seq2seq.AttentionWrapper(cell, mech, output_attention=False)
    dec = tfa.seq2seq.BasicDecoder(wrapper, tfa.seq2seq.TrainingSampler())

    def run():
        mech.setup_memory(memory)
        state = wrapper.get_initial_state(batch_size=B, dtype=tf.float32)
        state = state.clone(cell_state=tf.constant(enc_state))
        outputs, st, lens = dec(tf.constant(x), initial_state=state, sequence_length=lengths)
        return {"rnn_output": outputs.rnn_output, "sample_id": outputs.sample_id,
                "lengths": lens, "cell0": st.cell_state, "attention": st.attention,
                "alignments": st.alignments}  # fmt: skip

    def weights():
        att = "decoder/attention_wrapper"
        return [("memory_layer/kernel", mech.memory_layer.kernel), *gru_weights(att, cell),
                (f"{att}/luong_attention/attention_g", mech.scale_weight)]  # fmt: skip

    ins = {"x": x, "lengths": lengths, "memory": memory, "enc_state": enc_state}
    return run, weights, ins


def contrib_two_mechanisms(rng, tfa):
    x = rng.uniform(-1, 1, (B, 4, 3)).astype(np.float32)
    lengths = np.array([4, 3, 4], np.int32)
    memory = rng.uniform(-1, 1, (B, 6, 4)).astype(np.float32)
    mem_lengths = np.array([6, 2, 4], np.int32)
    memory2 = rng.uniform(-1, 1, (B, 3, 2)).astype(np.float32)
    cell = tf1.nn.rnn_cell.BasicLSTMCell(5)
    bahdanau = tfa.seq2seq.BahdanauAttention(6, memory, memory_sequence_length=mem_lengths)
    luong = tfa.seq2seq.LuongAttention(5, memory2)
    wrapper = tfa.seq2seq.AttentionWrapper(cell, [bahdanau, luong], attention_layer_size=[5, 4],
                                           alignment_history=True)  # fmt: skip
    dec = tfa.seq2seq.BasicDecoder(wrapper, tfa.seq2seq.TrainingSampler())

    def run():
        bahdanau.setup_memory(memory, memory_sequence_length=mem_lengths)
        luong.setup_memory(memory2)
        state = wrapper.get_initial_state(batch_size=B, dtype=tf.float32)
        outputs, st, lens = dec(tf.constant(x), initial_state=state, sequence_length=lengths)
        return {"rnn_output": outputs.rnn_output, "sample_id": outputs.sample_id,
                "lengths": lens, "attention": st.attention, "alignments0": st.alignments[0],
                "alignments1": st.alignments[1], "history0": st.alignment_history[0].stack(),
                "history1": st.alignment_history[1].stack()}  # fmt: skip

    def weights():
        att = "decoder/attention_wrapper"
        return [("memory_layer/kernel", bahdanau.memory_layer.kernel),
                ("memory_layer_1/kernel", luong.memory_layer.kernel), *lstm_weights(att, cell),
                (f"{att}/bahdanau_attention/query_layer/kernel", bahdanau.query_layer.kernel),
                (f"{att}/bahdanau_attention/attention_v", bahdanau.attention_v),
                (f"{att}/attention_layer/kernel", wrapper._attention_layers[0].kernel),
                (f"{att}/attention_layer_1/kernel", wrapper._attention_layers[1].kernel)]  # fmt: skip

    ins = {"x": x, "lengths": lengths, "memory": memory, "memory_lengths": mem_lengths,
           "memory2": memory2}  # fmt: skip
    return run, weights, ins


def contrib_beam(attention, skip=0):
    def make(rng, tfa):
        rng.uniform(size=skip)  # a draw that gives beams that change places mid-way
        k = 3
        enc_state = [rng.uniform(-1, 1, (B, 5)).astype(np.float32) for _ in range(2)]
        memory = rng.uniform(-1, 1, (B, 4, 3)).astype(np.float32)
        emb = tf.Variable(np.zeros((7, 4), np.float32))
        cell = tf1.nn.rnn_cell.BasicLSTMCell(5)
        dense = tf.keras.layers.Dense(7)
        if attention:
            mech = tfa.seq2seq.BahdanauAttention(6, tfa.seq2seq.tile_batch(memory, k))
            dec_cell = tfa.seq2seq.AttentionWrapper(
                cell, mech, attention_layer_size=6, alignment_history=True
            )
        else:
            dec_cell = cell
        dec = tfa.seq2seq.BeamSearchDecoder(dec_cell, k, output_layer=dense, maximum_iterations=6,
                                            length_penalty_weight=0.0 if attention else 0.6)  # fmt: skip

        def run():
            tiled = tfa.seq2seq.tile_batch(
                tf1.nn.rnn_cell.LSTMStateTuple(
                    tf.constant(enc_state[0]), tf.constant(enc_state[1])
                ),
                k,
            )
            if attention:
                mech.setup_memory(tfa.seq2seq.tile_batch(memory, k))
                init = dec_cell.get_initial_state(batch_size=B * k, dtype=tf.float32)
                init = init.clone(cell_state=tiled)
            else:
                init = tiled
            out, st, lens = dec(emb, start_tokens=tf.fill([B], 1), end_token=2, initial_state=init)
            raw = out.beam_search_decoder_output
            more = {}
            if attention:  # sorted along the beams' ancestry by finalize: a stacked tensor
                more["history"] = st.cell_state.alignment_history
            return {**more, "predicted_ids": out.predicted_ids, "scores": raw.scores,
                    "step_ids": raw.predicted_ids, "parent_ids": raw.parent_ids,
                    "lengths": lens, "log_probs": st.log_probs,
                    "state_lengths": st.lengths}  # fmt: skip

        def weights():
            if not attention:
                return [("embedding", emb), *lstm_weights("decoder", cell),
                        ("decoder/dense/kernel", dense.kernel), ("decoder/dense/bias", dense.bias)]  # fmt: skip
            att = "decoder/attention_wrapper"
            return [("embedding", emb), ("memory_layer/kernel", mech.memory_layer.kernel),
                    *lstm_weights(att, cell),
                    (f"{att}/bahdanau_attention/query_layer/kernel", mech.query_layer.kernel),
                    (f"{att}/bahdanau_attention/attention_v", mech.attention_v),
                    (f"{att}/attention_layer/kernel", dec_cell._attention_layers[0].kernel),
                    ("decoder/dense/kernel", dense.kernel), ("decoder/dense/bias", dense.bias)]  # fmt: skip

        return run, weights, {"enc0": enc_state[0], "enc1": enc_state[1], "memory": memory}

    return make


CONTRIB_CASES = {
    "training": contrib_training(False),
    "training_impute": contrib_training(True),
    "greedy": contrib_greedy,
    "bahdanau": contrib_bahdanau,
    "luong": contrib_luong,
    "beam": contrib_beam(False),
    "beam_attention": contrib_beam(True, skip=3),
    "two_mechanisms": contrib_two_mechanisms,
}  # each case's generator is seeded by its place here: add new cases at the end


def legacy(out_dir):
    tf1.disable_v2_behavior()
    data = {}
    for seed, (name, make) in enumerate(CASES.items()):
        data.update(run_case(name, make, seed))
    np.savez_compressed(out_dir / "legacy.npz", **data)
    print(f"wrote {len(data)} arrays to {out_dir / 'legacy.npz'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/tf1_seq2seq"))
    parser.add_argument("--part", choices=["all", "legacy", "contrib"], default="all")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.part == "all":  # graph mode and eager mode: one process each
        for part in ("legacy", "contrib"):
            cmd = [sys.executable, __file__, "--out", str(args.out), "--part", part]
            subprocess.run(cmd, check=True)
    elif args.part == "legacy":
        legacy(args.out)
    else:
        contrib(args.out)


if __name__ == "__main__":
    main()
