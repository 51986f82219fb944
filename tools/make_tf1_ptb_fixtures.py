"""Generate TensorFlow 1.x reference data for the PTB word-level language model tutorial.

Two files (format in ``tests/fixtures/tf1_ptb/README.md``; replayed by ``tests/test_compat_ptb.py``):

- ``ops.npz``: the ops the tutorial and its reader use, on fixed inputs: ``strided_slice`` (masks
  included), ``nn.xw_plus_b``, ``legacy_seq2seq.sequence_loss_by_example`` / ``sequence_loss`` and
  ``contrib.seq2seq.sequence_loss`` (values and gradients with respect to the logits).
- ``train.npz``: a small model written as ``ptb_word_lm.py`` writes it (a ``reader.ptb_producer``
  input with ``range_input_producer`` and ``strided_slice``, embedding, 2-layer ``BasicLSTMCell``
  with ``forget_bias=0`` unrolled by hand under ``variable_scope("RNN")``, softmax, the legacy
  sequence loss, ``clip_by_global_norm``, ``GradientDescentOptimizer`` on a learning-rate variable
  set through a placeholder with ``tf.assign``, ``Supervisor.managed_session``), from fixed initial
  weights: the cost, final state and inputs of each step, and the variables at the end.

TensorFlow 2.x has no ``tf.contrib``: the three sequence losses are TensorFlow 1.x's definitions
(``contrib/legacy_seq2seq/python/ops/seq2seq.py``, ``contrib/seq2seq/python/ops/loss.py`` of 1.15)
written here over ``tf.compat.v1`` ops, so their numbers are TensorFlow's kernels. Run with::

    TF_USE_LEGACY_KERAS=1 /work/tfvenv/bin/python tools/make_tf1_ptb_fixtures.py --out tests/fixtures/tf1_ptb
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf1 = tf.compat.v1
tf1.disable_v2_behavior()
tf1.logging.set_verbosity(tf1.logging.ERROR)


# -- TensorFlow 1.x's contrib sequence losses, over tf.compat.v1 ops ------------------------------
def sequence_loss_by_example(logits, targets, weights, average_across_timesteps=True):
    with tf1.name_scope(None, "sequence_loss_by_example", logits + targets + weights):
        log_perp_list = []
        for logit, target, weight in zip(logits, targets, weights):
            target = tf1.reshape(target, [-1])
            crossent = tf1.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=logit)
            log_perp_list.append(crossent * weight)
        log_perps = tf1.add_n(log_perp_list)
        if average_across_timesteps:
            total_size = tf1.add_n(weights)
            total_size += 1e-12
            log_perps /= total_size
    return log_perps


def legacy_sequence_loss(
    logits, targets, weights, average_across_timesteps=True, average_across_batch=True
):
    cost = tf1.reduce_sum(
        sequence_loss_by_example(logits, targets, weights, average_across_timesteps)
    )
    if average_across_batch:
        batch_size = tf1.shape(targets[0])[0]
        return cost / tf1.cast(batch_size, cost.dtype)
    return cost


def seq2seq_sequence_loss(
    logits,
    targets,
    weights,
    average_across_timesteps=True,
    average_across_batch=True,
    sum_over_timesteps=False,
    sum_over_batch=False,
):
    num_classes = tf1.shape(logits)[2]
    logits_flat = tf1.reshape(logits, [-1, num_classes])
    targets = tf1.reshape(targets, [-1])
    crossent = tf1.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits_flat)
    crossent *= tf1.reshape(weights, [-1])
    if average_across_timesteps and average_across_batch:
        crossent = tf1.reduce_sum(crossent)
        total_size = tf1.reduce_sum(weights)
        crossent = tf1.div_no_nan(crossent, total_size)
    elif sum_over_timesteps and sum_over_batch:
        crossent = tf1.reduce_sum(crossent)
        total_count = tf1.cast(tf1.count_nonzero(weights), dtype=crossent.dtype)
        crossent = tf1.div_no_nan(crossent, total_count)
    else:
        crossent = tf1.reshape(crossent, tf1.shape(logits)[0:2])
        if average_across_timesteps or average_across_batch:
            reduce_axis = [0] if average_across_batch else [1]
            crossent = tf1.reduce_sum(crossent, axis=reduce_axis)
            total_size = tf1.reduce_sum(weights, axis=reduce_axis)
            crossent = tf1.div_no_nan(crossent, total_size)
        elif sum_over_timesteps or sum_over_batch:
            reduce_axis = [0] if sum_over_batch else [1]
            crossent = tf1.reduce_sum(crossent, axis=reduce_axis)
            total_count = tf1.cast(
                tf1.count_nonzero(weights, axis=reduce_axis), dtype=crossent.dtype
            )
            crossent = tf1.div_no_nan(crossent, total_count)
    return crossent


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


# -- the PTB model, as ptb_word_lm.py writes it ----------------------------------------------------
CONFIG = {
    "vocab_size": 12,
    "hidden_size": 8,
    "num_layers": 2,
    "num_steps": 5,
    "batch_size": 4,
    "max_grad_norm": 1.0,
    "learning_rates": [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5],
}


def ptb_producer(raw_data, batch_size, num_steps, name=None):
    """``reader.ptb_producer`` of the tutorial."""
    with tf1.name_scope(name, "PTBProducer", [raw_data, batch_size, num_steps]):
        raw_data = tf1.convert_to_tensor(raw_data, name="raw_data", dtype=tf1.int32)
        data_len = tf1.size(raw_data)
        batch_len = data_len // batch_size
        data = tf1.reshape(raw_data[0 : batch_size * batch_len], [batch_size, batch_len])
        epoch_size = (batch_len - 1) // num_steps
        assertion = tf1.assert_positive(
            epoch_size, message="epoch_size == 0, decrease batch_size or num_steps"
        )
        with tf1.control_dependencies([assertion]):
            epoch_size = tf1.identity(epoch_size, name="epoch_size")
        i = tf1.train.range_input_producer(epoch_size, shuffle=False).dequeue()
        x = tf1.strided_slice(data, [0, i * num_steps], [batch_size, (i + 1) * num_steps])
        x.set_shape([batch_size, num_steps])
        y = tf1.strided_slice(data, [0, i * num_steps + 1], [batch_size, (i + 1) * num_steps + 1])
        y.set_shape([batch_size, num_steps])
        return x, y


def build_model(c, raw):
    x, y = ptb_producer(raw, c["batch_size"], c["num_steps"], name="TrainInput")
    size, vocab = c["hidden_size"], c["vocab_size"]
    with tf1.variable_scope("Model"):
        cell = tf1.nn.rnn_cell.MultiRNNCell(
            [
                tf1.nn.rnn_cell.BasicLSTMCell(size, forget_bias=0.0, state_is_tuple=True)
                for _ in range(c["num_layers"])
            ],
            state_is_tuple=True,
        )
        initial_state = cell.zero_state(c["batch_size"], tf1.float32)
        embedding = tf1.get_variable("embedding", [vocab, size], dtype=tf1.float32)
        inputs = tf1.nn.embedding_lookup(embedding, x)
        outputs = []
        state = initial_state
        with tf1.variable_scope("RNN"):
            for time_step in range(c["num_steps"]):
                if time_step > 0:
                    tf1.get_variable_scope().reuse_variables()
                cell_output, state = cell(inputs[:, time_step, :], state)
                outputs.append(cell_output)
        output = tf1.reshape(tf1.stack(axis=1, values=outputs), [-1, size])
        softmax_w = tf1.get_variable("softmax_w", [size, vocab], dtype=tf1.float32)
        softmax_b = tf1.get_variable("softmax_b", [vocab], dtype=tf1.float32)
        logits = tf1.matmul(output, softmax_w) + softmax_b
        loss = sequence_loss_by_example(
            [logits],
            [tf1.reshape(y, [-1])],
            [tf1.ones([c["batch_size"] * c["num_steps"]], dtype=tf1.float32)],
        )
        cost = tf1.reduce_sum(loss) / c["batch_size"]
        lr = tf1.Variable(0.0, trainable=False)
        tvars = tf1.trainable_variables()
        grads, _ = tf1.clip_by_global_norm(tf1.gradients(cost, tvars), c["max_grad_norm"])
        train_op = tf1.train.GradientDescentOptimizer(lr).apply_gradients(
            zip(grads, tvars), global_step=tf1.train.get_or_create_global_step()
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
        "tvars": tvars,
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
