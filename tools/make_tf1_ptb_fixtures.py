"""Generate TensorFlow 1.x reference data for a queue-fed LSTM language model and the ops it uses.

Two files (format in ``tests/fixtures/tf1_ptb/README.md``), replayed by ``tests/compat/``
``test_strided_slice.py``, ``test_nn.py`` and ``test_seq2seq_loss.py`` (``ops.npz``) and
``test_ptb_program.py`` (``train.npz``):

- ``ops.npz``: ``strided_slice`` (masks included), ``nn.xw_plus_b``, and the sequence losses
  ``legacy_seq2seq.sequence_loss_by_example`` / ``sequence_loss`` and ``contrib.seq2seq.sequence_loss``
  on fixed inputs (values and gradients with respect to the logits).
- ``train.npz``: a two-layer ``BasicLSTMCell`` language model (``forget_bias=0``) fed by a
  ``range_input_producer`` queue and ``strided_slice``, unrolled by hand under ``variable_scope("RNN")``,
  with the legacy per-example loss, ``clip_by_global_norm`` and ``GradientDescentOptimizer`` on a
  learning-rate variable set through a placeholder with ``tf.assign``, run under
  ``Supervisor.managed_session``, from fixed initial weights: the cost, final state and inputs of each
  step, and the variables at the end.

TensorFlow 2.x has no ``tf.contrib``: the sequence losses are written here over ``tf.compat.v1`` ops
as TensorFlow 1.x defines them, so their numbers are TensorFlow's kernels. Run with::

    TF_USE_LEGACY_KERAS=1 /root/tfvenv/bin/python tools/make_tf1_ptb_fixtures.py --out tests/fixtures/tf1_ptb
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from tf_reference import tf, tf1


# -- the contrib sequence losses (TensorFlow 2 has none), over tf.compat.v1 ops ---------------------
# Their definitions as TensorFlow 1.x documents and computes them; the numbers are TensorFlow's kernels.
def sequence_loss_by_example(logits, targets, weights, average_across_timesteps=True):
    """Per example: the weighted cross-entropies summed over the time steps (lists of (B, C) logits,
    (B,) targets and weights), divided by the summed weights (plus 1e-12) when averaging."""
    with tf1.name_scope(None, "sequence_loss_by_example", logits + targets + weights):
        terms = [
            weight
            * tf1.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf1.reshape(target, [-1]), logits=logit
            )
            for logit, target, weight in zip(logits, targets, weights)
        ]
        total = tf1.add_n(terms)
        if not average_across_timesteps:
            return total
        return total / (tf1.add_n(weights) + 1e-12)


def legacy_sequence_loss(
    logits, targets, weights, average_across_timesteps=True, average_across_batch=True
):
    """The per-example losses summed, divided by the batch size when averaging over the batch."""
    total = tf1.reduce_sum(
        sequence_loss_by_example(logits, targets, weights, average_across_timesteps)
    )
    if not average_across_batch:
        return total
    return total / tf1.cast(tf1.shape(targets[0])[0], total.dtype)


def seq2seq_sequence_loss(
    logits,
    targets,
    weights,
    average_across_timesteps=True,
    average_across_batch=True,
    sum_over_timesteps=False,
    sum_over_batch=False,
):
    """Weighted cross-entropies of (B, T, C) logits; averaged axes are divided by their summed
    weights, summed ones by their count of non-zero weights (0 where that is 0)."""
    classes = tf1.shape(logits)[2]
    losses = tf1.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf1.reshape(targets, [-1]), logits=tf1.reshape(logits, [-1, classes])
    ) * tf1.reshape(weights, [-1])
    averaging = average_across_timesteps or average_across_batch
    if (average_across_timesteps and average_across_batch) or (
        sum_over_timesteps and sum_over_batch
    ):
        norm = (
            tf1.reduce_sum(weights)
            if averaging
            else tf1.cast(tf1.count_nonzero(weights), dtype=losses.dtype)
        )
        return tf1.div_no_nan(tf1.reduce_sum(losses), norm)
    losses = tf1.reshape(losses, tf1.shape(logits)[0:2])
    if not (averaging or sum_over_timesteps or sum_over_batch):
        return losses
    axis = [0] if (average_across_batch if averaging else sum_over_batch) else [1]
    if averaging:
        norm = tf1.reduce_sum(weights, axis=axis)
    else:
        norm = tf1.cast(tf1.count_nonzero(weights, axis=axis), dtype=losses.dtype)
    return tf1.div_no_nan(tf1.reduce_sum(losses, axis=axis), norm)


# strided_slice cases: (begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask,
# shrink_axis_mask) on a (4, 5, 6) array
SLICES = [
    ([0, 1, 0], [4, 4, 6], [1, 1, 1], 0, 0, 0, 0, 0),
    ([1, 0, 2], [3, 5, 5], [1, 2, 1], 0, 0, 0, 0, 0),
    ([-1, 0, 0], [0, 5, 6], [-1, 1, 2], 1, 0, 0, 0, 0),
    ([0, 4, 0], [0, 0, 0], [1, -1, 1], 1, 2, 0, 0, 0),
    ([2, 0, 0], [3, 5, 6], [1, 1, 1], 0, 6, 0, 0, 1),
    ([0, 0, -1], [0, 0, 0], [1, 1, 1], 0, 0, 2, 0, 4),
    ([0, 1, 0], [0, 3, 0], [1, 1, 1], 1, 4, 0, 1, 0),
    ([-10, 2, 1], [10, 100, -1], [1, 1, 3], 0, 0, 0, 0, 0),
    ([0, 2], [0, 4], [1, 1], 1, 1, 0, 0, 0),
]

# contrib.seq2seq.sequence_loss flag combinations: (avg_t, avg_b, sum_t, sum_b)
SEQ2SEQ_FLAGS = [
    (True, True, False, False),
    (True, False, False, False),
    (False, True, False, False),
    (False, False, False, False),
    (False, False, True, True),
    (False, False, True, False),
    (False, False, False, True),
]


def make_ops(out: Path) -> None:
    rng = np.random.RandomState(7)
    arrays: dict[str, np.ndarray] = {}
    x = rng.randn(4, 5, 6).astype(np.float32)
    arrays["slice/x"] = x
    B, T, C = 4, 3, 6
    logits = (rng.randn(B, T, C) * 2).astype(np.float32)
    targets = rng.randint(0, C, size=(B, T)).astype(np.int32)
    weights = rng.uniform(0.5, 1.5, size=(B, T)).astype(np.float32)
    weights[1, 2] = 0.0
    weights[3, :] = 0.0  # a row with no weight: the 1e-12 guard / div_no_nan
    arrays.update({"loss/logits": logits, "loss/targets": targets, "loss/weights": weights})
    xw = rng.randn(3, 4).astype(np.float32)
    w = rng.randn(4, 5).astype(np.float32)
    b = rng.randn(5).astype(np.float32)
    arrays.update({"xw/x": xw, "xw/w": w, "xw/b": b})
    g = tf1.Graph()
    with g.as_default(), tf1.Session() as sess:
        xt = tf1.constant(x)
        for k, (be, en, st, bm, em, elm, nm, sm) in enumerate(SLICES):
            arrays[f"slice/out{k}"] = sess.run(
                tf1.strided_slice(xt, be, en, st, bm, em, elm, nm, sm)
            )
        arrays["xw/out"] = sess.run(tf1.nn.xw_plus_b(xw, w, b))
        L = tf1.placeholder(tf1.float32, [B, T, C])
        lt = [L[:, t, :] for t in range(T)]
        yt = [tf1.constant(targets[:, t]) for t in range(T)]
        wt = [tf1.constant(weights[:, t]) for t in range(T)]
        for avg in (True, False):
            v = sequence_loss_by_example(lt, yt, wt, average_across_timesteps=avg)
            val, grad = sess.run([v, tf1.gradients(tf1.reduce_sum(v * v), L)[0]], {L: logits})
            arrays[f"by_example/avg_t={int(avg)}"] = val
            arrays[f"by_example/avg_t={int(avg)}/grad"] = grad
            for avg_b in (True, False):
                v = legacy_sequence_loss(lt, yt, wt, avg, avg_b)
                val, grad = sess.run([v, tf1.gradients(v, L)[0]], {L: logits})
                arrays[f"legacy/avg_t={int(avg)},avg_b={int(avg_b)}"] = val
                arrays[f"legacy/avg_t={int(avg)},avg_b={int(avg_b)}/grad"] = grad
        for flags in SEQ2SEQ_FLAGS:
            v = seq2seq_sequence_loss(L, targets, weights, *flags)
            key = "seq2seq/" + ",".join(str(int(f)) for f in flags)
            val, grad = sess.run([v, tf1.gradients(tf1.reduce_sum(v * v), L)[0]], {L: logits})
            arrays[key] = val
            arrays[key + "/grad"] = grad
    meta = {
        "tensorflow": tf.__version__,
        "slices": SLICES,
        "seq2seq_flags": SEQ2SEQ_FLAGS,
    }
    np.savez(out / "ops.npz", meta=json.dumps(meta), **arrays)


# -- a queue-fed two-layer LSTM language model -----------------------------------------------------
CONFIG = {
    "vocab_size": 12,
    "hidden_size": 8,
    "num_layers": 2,
    "num_steps": 5,
    "batch_size": 4,
    "max_grad_norm": 1.0,
    "learning_rates": [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5],
}


def queued_windows(ids, rows, width, scope=None):
    """The next ``(rows, width)`` window of ``ids`` laid out as ``rows`` lines, and the same window one
    id later: a ``range_input_producer`` queue says which window, ``strided_slice`` cuts it."""
    with tf1.name_scope(scope, "Windows", [ids]):
        flat = tf1.convert_to_tensor(ids, dtype=tf1.int32, name="ids")
        line = tf1.size(flat) // rows
        grid = tf1.reshape(flat[: rows * line], [rows, line])
        count = (line - 1) // width
        check = tf1.assert_positive(count, message="no full window: too few ids for rows x width")
        with tf1.control_dependencies([check]):
            count = tf1.identity(count, name="windows")
        k = tf1.train.range_input_producer(count, shuffle=False).dequeue()
        cut = []
        for shift in (0, 1):
            window = tf1.strided_slice(
                grid, [0, k * width + shift], [rows, (k + 1) * width + shift]
            )
            window.set_shape([rows, width])
            cut.append(window)
        return cut[0], cut[1]


def build_model(c, ids):
    """Embedding, ``num_layers`` BasicLSTMCells (forget_bias 0) unrolled by hand under ``Model/RNN``
    with the variables reused after the first step, softmax, the legacy per-example loss summed
    over the batch / batch size, SGD on a learning-rate variable with global-norm clipping."""
    rows, width, units, words = c["batch_size"], c["num_steps"], c["hidden_size"], c["vocab_size"]
    x, y = queued_windows(ids, rows, width, scope="TrainInput")
    with tf1.variable_scope("Model"):
        cell = tf1.nn.rnn_cell.MultiRNNCell(
            [
                tf1.nn.rnn_cell.BasicLSTMCell(units, forget_bias=0.0, state_is_tuple=True)
                for _ in range(c["num_layers"])
            ],
            state_is_tuple=True,
        )
        initial_state = cell.zero_state(rows, tf1.float32)
        table = tf1.get_variable("embedding", [words, units], dtype=tf1.float32)
        steps = tf1.unstack(tf1.nn.embedding_lookup(table, x), axis=1)
        outputs, state = [], initial_state
        with tf1.variable_scope("RNN"):
            for t, step in enumerate(steps):
                if t:
                    tf1.get_variable_scope().reuse_variables()
                out, state = cell(step, state)
                outputs.append(out)
        hidden = tf1.reshape(tf1.concat(outputs, 1), [-1, units])  # row-major: (row, time)
        w = tf1.get_variable("softmax_w", [units, words], dtype=tf1.float32)
        b = tf1.get_variable("softmax_b", [words], dtype=tf1.float32)
        per_id = sequence_loss_by_example(
            [tf1.nn.xw_plus_b(hidden, w, b)],
            [tf1.reshape(y, [-1])],
            [tf1.ones([rows * width], dtype=tf1.float32)],
        )
        cost = tf1.reduce_sum(per_id) / rows
        lr = tf1.Variable(0.0, trainable=False)
        params = tf1.trainable_variables()
        grads, _ = tf1.clip_by_global_norm(tf1.gradients(cost, params), c["max_grad_norm"])
        train_op = tf1.train.GradientDescentOptimizer(lr).apply_gradients(
            zip(grads, params), global_step=tf1.train.get_or_create_global_step()
        )
        new_lr = tf1.placeholder(tf1.float32, shape=[], name="new_learning_rate")
        lr_update = tf1.assign(lr, new_lr)
    return {
        "x": x,
        "y": y,
        "initial_state": initial_state,
        "final_state": state,
        "cost": cost,
        "train_op": train_op,
        "lr_update": lr_update,
        "new_lr": new_lr,
        "tvars": params,
    }


def make_train(out: Path) -> None:
    c = CONFIG
    rng = np.random.RandomState(11)
    raw = rng.randint(0, c["vocab_size"], size=150).astype(np.int32)
    g = tf1.Graph()
    arrays: dict[str, np.ndarray] = {"raw_data": raw}
    with g.as_default():
        tf1.set_random_seed(0)
        m = build_model(c, raw)
        init_values = {
            v.op.name: rng.uniform(-0.5, 0.5, size=v.shape.as_list()).astype(np.float32)
            for v in m["tvars"]
        }
        assigns = [tf1.assign(v, init_values[v.op.name]) for v in m["tvars"]]
        sv = tf1.train.Supervisor(logdir=None)
        with sv.managed_session() as sess:
            sess.run(assigns)
            state = sess.run(m["initial_state"])
            fetches = {
                "cost": m["cost"],
                "final_state": m["final_state"],
                "x": m["x"],
                "y": m["y"],
                "train_op": m["train_op"],
            }
            for step, lr_value in enumerate(c["learning_rates"]):
                sess.run(m["lr_update"], {m["new_lr"]: lr_value})
                feed = {}
                for i, (cs, hs) in enumerate(m["initial_state"]):
                    feed[cs] = state[i].c
                    feed[hs] = state[i].h
                vals = sess.run(fetches, feed)
                state = vals["final_state"]
                arrays[f"step{step}/cost"] = np.float32(vals["cost"])
                arrays[f"step{step}/x"] = vals["x"]
                arrays[f"step{step}/y"] = vals["y"]
                for i, s in enumerate(state):
                    arrays[f"step{step}/state{i}/c"] = s.c
                    arrays[f"step{step}/state{i}/h"] = s.h
            final = sess.run({v.op.name: v for v in m["tvars"]})
            arrays["global_step"] = np.int64(sess.run(sv.global_step))
    for name, value in init_values.items():
        arrays[f"init/{name}"] = value
    for name, value in final.items():
        arrays[f"final/{name}"] = value
    meta = {"tensorflow": tf.__version__, "config": c, "variables": sorted(init_values)}
    np.savez(out / "train.npz", meta=json.dumps(meta), **arrays)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/tf1_ptb"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    make_ops(args.out)
    make_train(args.out)
    print("wrote", sorted(p.name for p in args.out.glob("*.npz")))


if __name__ == "__main__":
    main()
