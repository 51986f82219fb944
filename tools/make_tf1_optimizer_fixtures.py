"""Generate TensorFlow 1.x optimizer reference data: variables after each of N training steps.

Runs real TensorFlow's ``tf.compat.v1`` optimizers in graph mode on three small fixed problems
(a dense softmax classifier, a ``BasicRNNCell`` ``dynamic_rnn`` classifier, and an
``embedding_lookup`` classifier whose gradient is sparse), with fixed initial values and a different
fed batch per step, and writes one ``<optimizer>__<problem>.npz`` per pair plus ``clip.npz``
(``clip_by_global_norm`` / ``clip_by_value`` of fixed tensors). The format is described in
``tests/fixtures/tf1_optimizers/README.md``; ``tests/compat/test_optimizers.py`` replays it.

This needs TensorFlow (2.16 or later with ``tf-keras`` for the legacy RNN cells) and is not part of
rnnkit's dependencies; run it with a separate interpreter::

    TF_USE_LEGACY_KERAS=1 /work/tfvenv/bin/python tools/make_tf1_optimizer_fixtures.py \\
        --out tests/fixtures/tf1_optimizers
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from tf_reference import tf, tf1

N_STEPS = 5

#: name -> (TensorFlow class name, constructor keyword arguments)
OPTIMIZERS = {
    "gradient_descent": ("GradientDescentOptimizer", {"learning_rate": 0.5}),
    "momentum": ("MomentumOptimizer", {"learning_rate": 0.1, "momentum": 0.9}),
    "momentum_nesterov": (
        "MomentumOptimizer",
        {"learning_rate": 0.1, "momentum": 0.9, "use_nesterov": True},
    ),
    "adam": ("AdamOptimizer", {"learning_rate": 0.05}),
    "rmsprop": ("RMSPropOptimizer", {"learning_rate": 0.01}),
    "rmsprop_momentum": ("RMSPropOptimizer", {"learning_rate": 0.01, "momentum": 0.9}),
    "rmsprop_centered": (
        "RMSPropOptimizer",
        {"learning_rate": 0.01, "momentum": 0.5, "centered": True},
    ),
    "adagrad": ("AdagradOptimizer", {"learning_rate": 0.1}),
}

#: extra cases: (file stem, optimizer name, problem, gradient clipping between compute and apply)
CLIPPED = [
    ("adam_clip_global_norm__rnn", "adam", "rnn", {"clip_by_global_norm": 0.5}),
    (
        "gradient_descent_clip_value__dense",
        "gradient_descent",
        "dense",
        {"clip_by_value": [-0.05, 0.05]},
    ),
]


# --------------------------------------------------------------------------------------------
# Problems: fixed initial values and N_STEPS fed batches
# --------------------------------------------------------------------------------------------


def problem_data(problem: str, rng: np.random.Generator) -> tuple[dict, dict]:
    """``(inputs, initial values)`` for ``problem``; ``inputs[k][step]`` is what step k feeds."""
    f32 = np.float32
    # labels follow the inputs (a fixed random linear rule), so the loss can go down
    if problem == "dense":  # X (N, B=8, I=5) -> logits (B, 4)
        X = rng.normal(size=(N_STEPS, 8, 5)).astype(f32)
        inputs = {"X": X, "y": np.argmax(X @ rng.normal(size=(5, 4)), axis=-1).astype(np.int32)}
        init = {
            "W": rng.normal(0, 0.5, size=(5, 4)).astype(f32),
            "b": rng.normal(0, 0.1, 4).astype(f32),
        }
    elif problem == "rnn":  # X (N, B=4, T=6, I=3) -> BasicRNNCell(5) final state -> logits (B, 3)
        X = rng.normal(size=(N_STEPS, 4, 6, 3)).astype(f32)
        inputs = {
            "X": X,
            "y": np.argmax(X.sum(axis=2) @ rng.normal(size=(3, 3)), axis=-1).astype(np.int32),
        }
        init = {
            "rnn/basic_rnn_cell/kernel": rng.normal(0, 0.4, size=(3 + 5, 5)).astype(f32),
            "rnn/basic_rnn_cell/bias": rng.normal(0, 0.1, 5).astype(f32),
            "W": rng.normal(0, 0.5, size=(5, 3)).astype(f32),
            "b": rng.normal(0, 0.1, 3).astype(f32),
        }
    elif problem == "embedding":  # ids (N, B=6) into E (10, 4) -> logits (B, 3); rows vary per step
        ids = np.stack([rng.choice(10, size=6, replace=True) for _ in range(N_STEPS)])
        ids[:, 0] = ids[:, 1]  # a repeated id in every batch: its row gradients add up
        inputs = {"ids": ids.astype(np.int32), "y": (ids % 3).astype(np.int32)}
        init = {
            "E": rng.normal(0, 1.0, size=(10, 4)).astype(f32),
            "W": rng.normal(0, 0.5, size=(4, 3)).astype(f32),
            "b": rng.normal(0, 0.1, 3).astype(f32),
        }
    else:
        raise ValueError(problem)
    return inputs, init


def build(problem: str, init: dict):
    """The TF1 graph: ``(placeholders, loss, variables by name)``."""
    if problem == "dense":
        X = tf1.placeholder(tf.float32, [None, 5], name="X")
        y = tf1.placeholder(tf.int32, [None], name="y")
        W = tf1.Variable(init["W"], name="W")
        b = tf1.Variable(init["b"], name="b")
        logits = tf1.matmul(X, W) + b
        feeds = {"X": X, "y": y}
    elif problem == "rnn":
        X = tf1.placeholder(tf.float32, [None, 6, 3], name="X")
        y = tf1.placeholder(tf.int32, [None], name="y")
        cell = tf1.nn.rnn_cell.BasicRNNCell(num_units=5)
        _, state = tf1.nn.dynamic_rnn(cell, X, dtype=tf.float32)
        W = tf1.Variable(init["W"], name="W")
        b = tf1.Variable(init["b"], name="b")
        logits = tf1.matmul(state, W) + b
        feeds = {"X": X, "y": y}
    else:
        ids = tf1.placeholder(tf.int32, [None], name="ids")
        y = tf1.placeholder(tf.int32, [None], name="y")
        E = tf1.Variable(init["E"], name="E")
        W = tf1.Variable(init["W"], name="W")
        b = tf1.Variable(init["b"], name="b")
        logits = tf1.matmul(tf1.nn.embedding_lookup(E, ids), W) + b
        feeds = {"ids": ids, "y": y}
    xent = tf1.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    loss = tf1.reduce_mean(xent)
    variables = {v.op.name: v for v in tf1.trainable_variables()}
    if sorted(variables) != sorted(init):
        raise RuntimeError(f"variables {sorted(variables)} != initial values {sorted(init)}")
    return feeds, loss, variables


def make_case(opt_name: str, problem: str, clip: dict, seed: int) -> dict[str, np.ndarray]:
    cls_name, kwargs = OPTIMIZERS[opt_name]
    rng = np.random.default_rng(seed)
    inputs, init = problem_data(problem, rng)
    graph = tf1.Graph()
    with graph.as_default():
        tf1.set_random_seed(0)
        feeds, loss, variables = build(problem, init)
        global_step = tf1.Variable(0, trainable=False, name="global_step")
        opt = getattr(tf1.train, cls_name)(**kwargs)
        if not clip:
            train_op = opt.minimize(loss, global_step=global_step)
        else:
            grads, tvars = zip(*opt.compute_gradients(loss))
            if "clip_by_global_norm" in clip:
                grads, _ = tf1.clip_by_global_norm(grads, clip["clip_by_global_norm"])
            else:
                lo, hi = clip["clip_by_value"]
                grads = [tf1.clip_by_value(tf1.convert_to_tensor(g), lo, hi) for g in grads]
            train_op = opt.apply_gradients(zip(grads, tvars), global_step=global_step)
        names = sorted(variables)
        slots = {(n, s): opt.get_slot(variables[n], s) for n in names for s in opt.get_slot_names()}
        with tf1.Session(graph=graph) as sess:
            sess.run(tf1.global_variables_initializer())
            # the cell's weights were drawn by TF's initializer: set the fixed values
            sess.run([tf1.assign(variables[n], init[n]) for n in names])
            out = {f"init/{n}": init[n] for n in names}
            out.update({f"input/{k}": v for k, v in inputs.items()})
            losses, steps = [], []
            for k in range(N_STEPS):
                feed = {feeds[key]: inputs[key][k] for key in feeds}
                losses.append(sess.run(loss, feed))
                sess.run(train_op, feed)
                steps.append(sess.run(global_step))
                for n, value in sess.run(variables).items():
                    out[f"step{k + 1}/{n}"] = value
            for (n, s), slot in slots.items():
                if slot is not None:
                    out[f"slot/{n}/{s}"] = sess.run(slot)
    meta = {
        "optimizer": cls_name,
        "kwargs": kwargs,
        "problem": problem,
        "clip": clip,
        "n_steps": N_STEPS,
        "variables": names,
        "inputs": sorted(inputs),
        "tensorflow": tf.__version__,
    }
    out["meta"] = np.array(json.dumps(meta, sort_keys=True))
    out["loss"] = np.array(losses, dtype=np.float32)
    out["global_step"] = np.array(steps, dtype=np.int64)
    return out


def make_clip(seed: int) -> dict[str, np.ndarray]:
    """``clip_by_global_norm`` of three fixed tensors at two norms (one clips, one does not), and
    ``clip_by_value`` of a fixed tensor."""
    rng = np.random.default_rng(seed)
    ts = [rng.normal(size=s).astype(np.float32) for s in [(3, 4), (4,), (2, 3, 2)]]
    out: dict[str, np.ndarray] = {f"global_norm/t{i}": t for i, t in enumerate(ts)}
    norms = np.array([0.5, 1000.0], dtype=np.float32)
    out["global_norm/clip_norm"] = norms
    with tf1.Graph().as_default(), tf1.Session() as sess:
        for j, c in enumerate(norms):
            clipped, norm = tf1.clip_by_global_norm([tf1.constant(t) for t in ts], float(c))
            values, norm_value = sess.run([clipped, norm])
            out[f"global_norm/norm{j}"] = np.float32(norm_value)
            for i, v in enumerate(values):
                out[f"global_norm/out{j}/t{i}"] = v
        t = rng.normal(size=(4, 5)).astype(np.float32)
        out.update(
            {"by_value/t": t, "by_value/min": np.float32(-0.3), "by_value/max": np.float32(0.4)}
        )
        out["by_value/out"] = sess.run(tf1.clip_by_value(tf1.constant(t), -0.3, 0.4))
    out["meta"] = np.array(json.dumps({"tensorflow": tf.__version__}))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("tests/fixtures/tf1_optimizers"))
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    cases = [(f"{o}__{p}", o, p, {}) for o in OPTIMIZERS for p in ("dense", "rnn", "embedding")]
    cases += CLIPPED
    seeds = {"dense": 1, "rnn": 2, "embedding": 3}  # the same problem data for every optimizer
    for stem, opt_name, problem, clip in cases:
        arrays = make_case(opt_name, problem, clip, seeds[problem])
        np.savez_compressed(args.out / f"{stem}.npz", **arrays)
        print(f"{stem}: loss {arrays['loss'][0]:.4f} -> {arrays['loss'][-1]:.4f}")
    np.savez_compressed(args.out / "clip.npz", **make_clip(4))
    print(f"wrote {len(cases) + 1} files to {args.out}")


if __name__ == "__main__":
    main()
