"""Reference numbers from real TensorFlow for the TF1 API rnnkit.compat.v1 covers beyond the core:
``tf.contrib.layers`` (fully_connected, regularizers, initializers, embed_sequence), every cell's
constructor options, user-written cells under ``dynamic_rnn``, variable-scope reuse, the checkpoint
state functions and summaries.

Run in the TensorFlow venv (never a test dependency)::

    TF_USE_LEGACY_KERAS=1 /root/tfvenv/bin/python tools/make_tf1_api_fixtures.py

TensorFlow 2.21 has no ``tf.contrib``; its ``layers`` live on in ``tf_slim`` (``pip install
tf-slim``), which this script uses for ``fully_connected``, ``linear``, the regularizers and the
initializers. ``embed_sequence`` is not in tf_slim: it is built here from what TF1 defined it to be
(a ``get_variable('embeddings')`` under the scope ``EmbedSequence`` and an ``embedding_lookup``).

Writes ``tests/fixtures/tf1_api/{contrib_layers,cells,user_cells}.npz`` and ``.json`` (names,
structures and error messages) and ``checkpoint_state.json``, ``summary.json``.
"""

from __future__ import annotations

import json
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf2  # noqa: E402
import tf_slim as slim  # noqa: E402

tf = tf2.compat.v1
tf.disable_v2_behavior()

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tf1_api")


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - recording TF's exception type and message
        return [type(e).__name__, str(e).splitlines()[0]]
    return None


# ------------------------------------------------------------------------------------------------
# tf.contrib.layers
# ------------------------------------------------------------------------------------------------


def contrib_layers(arrays: dict, meta: dict) -> None:
    rng = np.random.default_rng(3)
    x_val = rng.normal(size=(4, 3)).astype(np.float32)
    ids_val = np.array([[1, 2, 0], [7, 3, 3]], np.int32)
    tf.reset_default_graph()
    tf.set_random_seed(2)
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    h = slim.fully_connected(x, 5)  # relu
    h2 = slim.fully_connected(
        h,
        2,
        activation_fn=None,
        weights_regularizer=slim.l2_regularizer(0.1),
        biases_regularizer=slim.l1_regularizer(0.05),
    )
    h3 = slim.fully_connected(x, 4, activation_fn=tf.tanh, scope="named")
    lin = slim.linear(x, 2)
    d = tf.layers.dense(x, 3, kernel_regularizer=slim.l2_regularizer(0.02))
    ids = tf.constant(ids_val)
    with tf.variable_scope("EmbedSequence"):
        emb = tf.nn.embedding_lookup(tf.get_variable("embeddings", [10, 4]), ids)
    reg = tf.losses.get_regularization_loss()
    applied = slim.apply_regularization(slim.l2_regularizer(0.3), tf.trainable_variables()[:1])
    outs = [h, h2, h3, lin, d, emb]
    loss = sum(tf.reduce_sum(o * o) for o in outs) + reg
    vs = tf.trainable_variables()
    grads = [tf.convert_to_tensor(g) for g in tf.gradients(loss, vs)]  # dense embedding grads
    meta["variables"] = [v.op.name for v in vs]
    meta["regularization_losses"] = len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES))
    meta["output_names"] = ["h", "h2", "h3", "lin", "d", "emb"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        values = sess.run(vs)
        got = sess.run([*outs, reg, applied, loss, *grads], {x: x_val})
    arrays["x"] = x_val
    arrays["ids"] = ids_val
    for v, val in zip(meta["variables"], values):
        arrays[f"var/{v}"] = val
    for name, val in zip(meta["output_names"], got[: len(outs)]):
        arrays[f"out/{name}"] = val
    arrays["reg"], arrays["applied"], arrays["loss"] = map(
        np.asarray, got[len(outs) : len(outs) + 3]
    )
    for v, g in zip(meta["variables"], got[len(outs) + 3 :]):
        arrays[f"grad/{v}"] = g

    # initializers: TF's and torch's generators differ, so their distributions are compared
    shape = [200, 300]
    inits = {
        "xavier_uniform": slim.xavier_initializer(),
        "xavier_normal": slim.xavier_initializer(uniform=False),
        "vs_default": slim.variance_scaling_initializer(),
        "vs_fan_avg_uniform": slim.variance_scaling_initializer(
            factor=1.5, mode="FAN_AVG", uniform=True
        ),
        "vs_fan_out": slim.variance_scaling_initializer(factor=0.5, mode="FAN_OUT"),
    }
    tf.reset_default_graph()
    tf.set_random_seed(3)
    tensors = {k: init(shape, dtype=tf.float32) for k, init in inits.items()}
    with tf.Session() as sess:
        drawn = sess.run(tensors)
    meta["initializers"] = {
        k: {"std": float(v.std()), "max_abs": float(np.abs(v).max()), "mean": float(v.mean())}
        for k, v in drawn.items()
    }
    meta["initializer_shape"] = shape

    tf.reset_default_graph()
    xi = tf.placeholder(tf.float32, [None, 3])
    meta["errors"] = {
        "l2_negative": _error(lambda: slim.l2_regularizer(-1.0)),
        "l2_integer": _error(lambda: slim.l2_regularizer(2)),
        "l1_negative": _error(lambda: slim.l1_regularizer(-0.5)),
        "fc_unknown_width": _error(
            lambda: slim.fully_connected(tf.placeholder(tf.float32, [None, None]), 3)
        ),
        "fc_int_inputs": _error(
            lambda: slim.fully_connected(tf.placeholder(tf.int32, [None, 3]), 3)
        ),
        "xavier_int": _error(lambda: slim.xavier_initializer()([2, 3], dtype=tf.int32)),
        "vs_bad_mode": _error(lambda: slim.variance_scaling_initializer(mode="X")),
        "fc_twice_same_scope": _error(
            lambda: (slim.fully_connected(xi, 3, scope="s"), slim.fully_connected(xi, 3, scope="s"))
        ),
    }
    meta["l2_zero_is_none"] = slim.l2_regularizer(0.0)(tf.constant([1.0])) is None


# ------------------------------------------------------------------------------------------------
# cells
# ------------------------------------------------------------------------------------------------

CELLS = {
    "rnn_relu": lambda: tf.nn.rnn_cell.BasicRNNCell(5, activation=tf.nn.relu),
    "rnn_tanh_explicit": lambda: tf.nn.rnn_cell.BasicRNNCell(5, activation=tf.tanh),
    "rnn_softsign": lambda: tf.nn.rnn_cell.BasicRNNCell(5, activation=tf.nn.softsign),
    "rnn_named": lambda: tf.nn.rnn_cell.BasicRNNCell(5, name="my_rnn"),
    "basic_lstm_tanh": lambda: tf.nn.rnn_cell.BasicLSTMCell(5, activation=tf.tanh),
    "basic_lstm_relu": lambda: tf.nn.rnn_cell.BasicLSTMCell(
        5, forget_bias=0.5, activation=tf.nn.relu
    ),
    "basic_lstm_concat": lambda: tf.nn.rnn_cell.BasicLSTMCell(5, state_is_tuple=False),
    "lstm_proj": lambda: tf.nn.rnn_cell.LSTMCell(5, num_proj=3),
    "lstm_proj_clip_peep": lambda: tf.nn.rnn_cell.LSTMCell(
        5,
        use_peepholes=True,
        cell_clip=0.5,
        num_proj=3,
        proj_clip=0.2,
        initializer=tf.constant_initializer(0.05),
    ),
    "lstm_concat_proj": lambda: tf.nn.rnn_cell.LSTMCell(5, num_proj=3, state_is_tuple=False),
    "lstm_clip": lambda: tf.nn.rnn_cell.LSTMCell(5, cell_clip=0.3),
    "lstm_clip_peep": lambda: tf.nn.rnn_cell.LSTMCell(5, cell_clip=0.3, use_peepholes=True),
    "lstm_relu_named": lambda: tf.nn.rnn_cell.LSTMCell(
        5, activation=tf.nn.relu, forget_bias=0.0, name="my_lstm"
    ),
    "gru_relu": lambda: tf.nn.rnn_cell.GRUCell(5, activation=tf.nn.relu),
    "gru_init": lambda: tf.nn.rnn_cell.GRUCell(
        5,
        kernel_initializer=tf.constant_initializer(0.1),
        bias_initializer=tf.constant_initializer(0.3),
    ),
    "multi_concat": lambda: tf.nn.rnn_cell.MultiRNNCell(
        [tf.nn.rnn_cell.LSTMCell(4, state_is_tuple=False), tf.nn.rnn_cell.GRUCell(3)],
        state_is_tuple=False,
    ),
    "multi_proj": lambda: tf.nn.rnn_cell.MultiRNNCell(
        [
            tf.nn.rnn_cell.LSTMCell(4, num_proj=2),
            tf.nn.rnn_cell.BasicLSTMCell(3, activation=tf.nn.relu),
        ]
    ),
}


def cells(arrays: dict, meta: dict) -> None:
    rng = np.random.default_rng(5)
    x_val = rng.normal(size=(3, 5, 4)).astype(np.float32)
    seq_val = np.array([5, 2, 4], np.int32)
    arrays["x"], arrays["seq"] = x_val, seq_val
    for key, make in CELLS.items():
        tf.reset_default_graph()
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [None, 5, 4])
        seq = tf.placeholder(tf.int32, [None])
        cell = make()
        outputs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=seq, dtype=tf.float32)
        leaves = tf2.nest.flatten(state)
        loss = tf.reduce_sum(outputs * outputs) + sum(
            tf.reduce_sum(s * (k + 1.0)) for k, s in enumerate(leaves)
        )
        vs = tf.trainable_variables()
        grads = tf.gradients(loss, [*vs, x])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            init = sess.run(vs)
            got = sess.run([outputs, *leaves, *grads], {x: x_val, seq: seq_val})
        meta[key] = {
            "variables": [v.op.name for v in vs],
            "state_shapes": [s.shape.as_list()[1:] for s in leaves],
            "state_size": tf2.nest.flatten(cell.state_size),
            "output_size": cell.output_size,
        }
        for v, val in zip(vs, init):
            arrays[f"{key}/var/{v.op.name}"] = val
        arrays[f"{key}/outputs"] = got[0]
        for k, s in enumerate(got[1 : 1 + len(leaves)]):
            arrays[f"{key}/state/{k}"] = s
        for v, g in zip([*vs, x], got[1 + len(leaves) :]):
            arrays[f"{key}/grad/{'inputs' if v is x else v.op.name}"] = g
    meta["errors"] = {
        "lstm_proj_clip_concat_wrong_state": _error(
            lambda: tf.nn.dynamic_rnn(
                tf.nn.rnn_cell.LSTMCell(5, state_is_tuple=False),
                tf.placeholder(tf.float32, [2, 5, 4]),
                initial_state=tf.zeros([2, 7]),
            )
        ),
    }


# ------------------------------------------------------------------------------------------------
# user-written cells and variable-scope reuse
# ------------------------------------------------------------------------------------------------


class CallCell(tf.nn.rnn_cell.RNNCell):
    """A user cell defining ``call`` (TF wraps it in a scope named after the class)."""

    def __init__(self, n):
        super().__init__()
        self._n = n

    @property
    def state_size(self):
        return self._n

    @property
    def output_size(self):
        return self._n

    def call(self, inputs, state):
        w = tf.get_variable("W", [inputs.get_shape()[-1], self._n])
        u = tf.get_variable("U", [self._n, self._n])
        b = tf.get_variable("b", [self._n], initializer=tf.zeros_initializer())
        h = tf.tanh(tf.matmul(inputs, w) + tf.matmul(state, u) + b)
        return h * 2.0, h


class ScopedCell(tf.nn.rnn_cell.RNNCell):
    """A user cell defining ``__call__`` with its own scope and an LSTM-like tuple state."""

    def __init__(self, n):
        self._n = n

    @property
    def state_size(self):
        return (self._n, self._n)

    @property
    def output_size(self):
        return self._n

    def zero_state(self, batch_size, dtype):
        return (tf.zeros([batch_size, self._n], dtype), tf.zeros([batch_size, self._n], dtype))

    def __call__(self, inputs, state, scope=None):
        c, h = state
        with tf.variable_scope(scope or "scoped_cell"):
            k = tf.get_variable("kernel", [inputs.get_shape()[-1].value + self._n, 2 * self._n])
            z = tf.matmul(tf.concat([inputs, h], 1), k)
            a, g = tf.split(z, 2, axis=1)
            new_c = c * tf.sigmoid(g) + tf.tanh(a)
            new_h = tf.tanh(new_c)
        return new_h, (new_c, new_h)


def user_cells(arrays: dict, meta: dict) -> None:
    rng = np.random.default_rng(9)
    x_long = rng.normal(size=(2, 6, 3)).astype(np.float32)
    x_short = rng.normal(size=(2, 2, 3)).astype(np.float32)
    seq_val = np.array([6, 3], np.int32)
    arrays["x_long"], arrays["x_short"], arrays["seq"] = x_long, x_short, seq_val
    for key, make in (("call_cell", lambda: CallCell(4)), ("scoped_cell", lambda: ScopedCell(4))):
        tf.reset_default_graph()
        tf.set_random_seed(4)
        x = tf.placeholder(tf.float32, [None, None, 3])
        seq = tf.placeholder(tf.int32, [None])
        outputs, state = tf.nn.dynamic_rnn(make(), x, sequence_length=seq, dtype=tf.float32)
        leaves = tf2.nest.flatten(state)
        loss = tf.reduce_sum(outputs * outputs) + sum(tf.reduce_sum(s) for s in leaves)
        vs = tf.trainable_variables()
        grads = tf.gradients(loss, vs)
        meta[key] = [v.op.name for v in vs]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for v, val in zip(vs, sess.run(vs)):
                arrays[f"{key}/var/{v.op.name}"] = val
            for tag, xv, sv in (("long", x_long, seq_val), ("short", x_short, [2, 1])):
                got = sess.run([outputs, *leaves, *grads], {x: xv, seq: sv})
                arrays[f"{key}/{tag}/outputs"] = got[0]
                for k, s in enumerate(got[1 : 1 + len(leaves)]):
                    arrays[f"{key}/{tag}/state/{k}"] = s
                for v, g in zip(vs, got[1 + len(leaves) :]):
                    arrays[f"{key}/{tag}/grad/{v.op.name}"] = g

    # bidirectional_dynamic_rnn over a user cell (forward) and a built-in cell (backward)
    tf.reset_default_graph()
    tf.set_random_seed(6)
    x = tf.placeholder(tf.float32, [None, None, 3])
    seq = tf.placeholder(tf.int32, [None])
    (o_fw, o_bw), (s_fw, s_bw) = tf.nn.bidirectional_dynamic_rnn(
        CallCell(4), tf.nn.rnn_cell.GRUCell(2), x, sequence_length=seq, dtype=tf.float32
    )
    vs = tf.trainable_variables()
    loss = tf.reduce_sum(o_fw * o_fw) + tf.reduce_sum(o_bw) + tf.reduce_sum(s_fw * s_bw[:, :1])
    grads = tf.gradients(loss, vs)
    meta["bidirectional"] = [v.op.name for v in vs]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for v, val in zip(vs, sess.run(vs)):
            arrays[f"bidirectional/var/{v.op.name}"] = val
        got = sess.run([o_fw, o_bw, s_fw, s_bw, *grads], {x: x_long, seq: seq_val})
    for name, val in zip(["o_fw", "o_bw", "s_fw", "s_bw"], got):
        arrays[f"bidirectional/{name}"] = val
    for v, g in zip(vs, got[4:]):
        arrays[f"bidirectional/grad/{v.op.name}"] = g

    # variable_scope reuse: AUTO_REUSE, reuse=True, scope.reuse_variables()
    tf.reset_default_graph()

    def layer(inp):
        w = tf.get_variable("w", [3, 2])
        return tf.matmul(inp, w)

    x = tf.placeholder(tf.float32, [None, 3])
    with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
        layer(x)
    with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
        layer(x)
    with tf.variable_scope("shared") as scope:
        layer(x)
        scope.reuse_variables()
        layer(x)
    with tf.variable_scope("shared", reuse=True):
        layer(x)
    with tf.variable_scope(scope, reuse=True):
        layer(x)
    with tf.variable_scope("outer", reuse=tf.AUTO_REUSE):
        with tf.variable_scope("inner"):
            layer(x)
            layer(x)
    meta["reuse_variables"] = [v.op.name for v in tf.global_variables()]

    def no_reuse():
        with tf.variable_scope("shared"):
            layer(x)

    def missing():
        with tf.variable_scope("nothing_here", reuse=True):
            layer(x)

    def wrong_shape():
        with tf.variable_scope("auto", reuse=tf.AUTO_REUSE):
            tf.get_variable("w", [4, 2])

    meta["reuse_errors"] = {
        "no_reuse": _error(no_reuse),
        "missing": _error(missing),
        "wrong_shape": _error(wrong_shape),
    }

    # a second model over new cells sharing the first one's weights (training and sampling graphs)
    tf.reset_default_graph()
    xs = tf.placeholder(tf.float32, [None, 4, 3])
    with tf.variable_scope("model"):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(4), xs, dtype=tf.float32)
    with tf.variable_scope("model", reuse=True):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(4), xs, dtype=tf.float32)
    meta["shared_cell_variables"] = [v.op.name for v in tf.global_variables()]

    def cell_missing():
        with tf.variable_scope("other", reuse=True):
            tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(4), xs, dtype=tf.float32)

    def cell_wrong_shape():
        with tf.variable_scope("model", reuse=True):
            tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicLSTMCell(5), xs, dtype=tf.float32)

    meta["shared_cell_errors"] = {
        "missing": _error(cell_missing),
        "wrong_shape": _error(cell_wrong_shape),
    }


# ------------------------------------------------------------------------------------------------
# checkpoint state
# ------------------------------------------------------------------------------------------------


def checkpoint_state(meta: dict) -> None:
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as root:
        os.chdir(root)
        try:
            os.mkdir("save")
            tf.reset_default_graph()
            tf.Variable(1.0, name="v")
            saver = tf.train.Saver()
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                returned = [saver.save(sess, "save/model.ckpt", global_step=s) for s in (1, 2)]
            with open("save/checkpoint") as f:
                meta["state_file"] = f.read()
            st = tf.train.get_checkpoint_state("save")
            meta["returned"] = returned
            meta["latest"] = tf.train.latest_checkpoint("save")
            meta["latest_slash"] = tf.train.latest_checkpoint("save/")
            meta["get_state"] = {
                "model_checkpoint_path": st.model_checkpoint_path,
                "all_model_checkpoint_paths": list(st.all_model_checkpoint_paths),
            }
            meta["get_state_missing"] = tf.train.get_checkpoint_state("nowhere") is None
            meta["exists"] = {
                p: bool(tf.train.checkpoint_exists(p))
                for p in ("save/model.ckpt-1", "save/model.ckpt-9", "save/model.ckpt-1.index")
            }
            meta["files"] = sorted(os.listdir("save"))
            # an absolute save path: TF still records it relative to the state file's folder
            absolute = os.path.join(root, "abs")
            os.mkdir(absolute)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                tf.train.Saver().save(sess, os.path.join(absolute, "m"), global_step=3)
            with open(os.path.join(absolute, "checkpoint")) as f:
                meta["state_file_absolute"] = f.read().replace(root, "<root>")
        finally:
            os.chdir(here)


# ------------------------------------------------------------------------------------------------
# summaries
# ------------------------------------------------------------------------------------------------


def summary(meta: dict) -> None:
    tf.reset_default_graph()
    values = np.linspace(-3.0, 5.0, 41).astype(np.float32)
    x = tf.constant(values)
    tf.summary.scalar("loss", tf.reduce_mean(x))
    tf.summary.histogram("weights", x)
    tf.summary.image("img", tf.reshape(tf.linspace(0.0, 0.8, 2 * 4 * 3 * 1), [2, 4, 3, 1]))
    tf.summary.image(
        "signed", tf.reshape(tf.linspace(-1.0, 0.5, 4 * 2 * 3), [1, 4, 2, 3]), max_outputs=1
    )
    tf.summary.text("note", tf.constant("hello"))
    merged = tf.summary.merge_all()
    with tempfile.TemporaryDirectory() as logdir:
        writer = tf.summary.FileWriter(logdir)
        with tf.Session() as sess:
            writer.add_summary(sess.run(merged), 7)
        writer.close()
        (name,) = os.listdir(logdir)
        out = []
        for event in tf.train.summary_iterator(os.path.join(logdir, name)):
            for v in event.summary.value:
                item = {"tag": v.tag, "step": event.step}
                if v.HasField("simple_value"):
                    item["simple_value"] = v.simple_value
                if v.HasField("histo"):
                    h = v.histo
                    item["histo"] = {
                        "min": h.min,
                        "max": h.max,
                        "num": h.num,
                        "sum": h.sum,
                        "sum_squares": h.sum_squares,
                        "bucket_limit": list(h.bucket_limit),
                        "bucket": list(h.bucket),
                    }
                if v.HasField("image"):
                    with tf.Session(graph=tf.Graph()) as decoder:
                        pixels = decoder.run(tf.io.decode_png(v.image.encoded_image_string))
                    item["image"] = {
                        "height": v.image.height,
                        "width": v.image.width,
                        "colorspace": v.image.colorspace,
                        "pixels": pixels.tolist(),
                    }
                if v.HasField("tensor"):
                    item["tensor_string_val"] = [s.decode() for s in v.tensor.string_val]
                    item["plugin"] = v.metadata.plugin_data.plugin_name
                    item["tensor_shape"] = [d.size for d in v.tensor.tensor_shape.dim]
                    item["tensor_dtype"] = int(v.tensor.dtype)
                out.append(item)
    meta["values"] = values.tolist()
    meta["events"] = out

    # tags follow the op's name: name scopes, uniquified repeats, spaces as underscores
    tf.reset_default_graph()
    one = tf.constant(1.0)
    with tf.name_scope("train"):
        ops = [
            tf.summary.scalar("loss", one),
            tf.summary.scalar("loss", one),
            tf.summary.histogram("w", tf.constant([1.0])),
            tf.summary.image("im", tf.zeros([1, 2, 2, 1])),
        ]
    ops.append(tf.summary.scalar("my loss", one))
    with tf.Session() as sess:
        tags = []
        for op in ops:
            pb = tf.Summary()
            pb.ParseFromString(sess.run(op))
            tags.append([v.tag for v in pb.value])
    meta["scoped_tags"] = tags


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    for name, fn in (
        ("contrib_layers", contrib_layers),
        ("cells", cells),
        ("user_cells", user_cells),
    ):
        arrays: dict = {}
        meta: dict = {}
        fn(arrays, meta)
        bad = [k for k, v in arrays.items() if not isinstance(v, np.ndarray)]
        if bad:
            raise TypeError(f"not arrays: {bad}")
        np.savez_compressed(os.path.join(OUT, f"{name}.npz"), **arrays)
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
    for name, fn in (("checkpoint_state", checkpoint_state), ("summary", summary)):
        meta = {}
        fn(meta)
        with open(os.path.join(OUT, f"{name}.json"), "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
