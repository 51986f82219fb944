"""Generate TensorFlow 1.x reference data for clipping sparse (``IndexedSlices``) gradients.

The gradient of a variable read only through ``tf.nn.embedding_lookup`` is an ``IndexedSlices`` in
TensorFlow: one row per lookup, a repeated id twice. ``global_norm`` / ``clip_by_global_norm`` /
``clip_by_norm`` / ``clip_by_value`` work on those rows and keep the gradient sparse, and the
optimizers then apply it with their sparse rule (``SparseApply*``, Adam's scatter-add, gradient
descent's scatter-sub). Two files (format in ``tests/fixtures/tf1_sparse_clip/README.md``; replayed
by ``tests/compat/test_sparse_clip.py``):

- ``train__<optimizer>__<pipeline>.npz``: a small model with an embedding (two lookups, repeated ids,
  rows never looked up) and dense variables, trained N_STEPS steps from fixed values with
  ``compute_gradients`` (or ``tf.gradients``) -> clipping -> ``apply_gradients``: the loss and the
  global norm of each step, the variables after each step and the slots at the end.
- ``ops.npz``: the clipping ops themselves on the model's gradients at its initial values.

Needs TensorFlow (not a dependency of rnnkit); run with::

    TF_USE_LEGACY_KERAS=1 /work/tfvenv/bin/python tools/make_tf1_sparse_clip_fixtures.py \\
        --out tests/fixtures/tf1_sparse_clip
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from tf_reference import tf, tf1

N_STEPS = 5
CLIP_NORM = 0.25  # below every step's global norm: clipping is active throughout (asserted)
CLIP_ROW_NORM = 0.1  # clip_by_norm per gradient: active for E and W
CLIP_VALUE = (-0.02, 0.02)  # clip_by_value per gradient: active for some lookups' values
VOCAB, DIM, CLASSES = 12, 4, 3

#: name -> (TensorFlow class name, constructor keyword arguments)
OPTIMIZERS = {
    "gradient_descent": ("GradientDescentOptimizer", {"learning_rate": 0.5}),
    "momentum": ("MomentumOptimizer", {"learning_rate": 0.1, "momentum": 0.9}),
    "momentum_nesterov": (
        "MomentumOptimizer",
        {"learning_rate": 0.1, "momentum": 0.9, "use_nesterov": True},
    ),
    "rmsprop": ("RMSPropOptimizer", {"learning_rate": 0.01}),
    "rmsprop_momentum": ("RMSPropOptimizer", {"learning_rate": 0.01, "momentum": 0.9}),
    "rmsprop_centered": (
        "RMSPropOptimizer",
        {"learning_rate": 0.01, "momentum": 0.5, "centered": True},
    ),
    "adagrad": ("AdagradOptimizer", {"learning_rate": 0.1}),
    "adam": ("AdamOptimizer", {"learning_rate": 0.05}),
}

#: pipeline -> optimizers it runs with. The pipelines (see ``train_op``):
#: clip_by_global_norm: compute_gradients -> clip_by_global_norm(grads, CLIP_NORM) -> apply_gradients
#: gradients: tf.gradients(loss, tvars, gate_gradients=True) -> apply_gradients (no clipping)
#: clip_by_norm: compute_gradients -> [clip_by_norm(g, CLIP_ROW_NORM)] -> apply_gradients
#: clip_by_value: compute_gradients -> [clip_by_value(g, *CLIP_VALUE)] -> apply_gradients
#: to_dense: compute_gradients -> [tf.convert_to_tensor(g)] (dense in TF) -> apply_gradients
PIPELINES = {
    "clip_by_global_norm": list(OPTIMIZERS),
    "gradients": ["momentum", "rmsprop_centered", "adam"],
    "clip_by_norm": ["gradient_descent", "momentum", "rmsprop_momentum", "adam"],
    "clip_by_value": ["gradient_descent", "momentum"],
    "to_dense": ["momentum"],
}


def data(seed: int = 7) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``(inputs, initial values)``; ``inputs[k][step]`` is what step k feeds. Ids are drawn from
    rows 0..9 only (rows 10 and 11 are never looked up); every batch repeats an id within ``ids``
    and one of ``ids`` in ``ctx``."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(10, size=(N_STEPS, 4, 3)).astype(np.int32)
    ids[:, 0, 1] = ids[:, 0, 0]
    ctx = rng.choice(10, size=(N_STEPS, 4)).astype(np.int32)
    ctx[:, 0] = ids[:, 1, 2]
    y = ((ids[:, :, 0] + ctx) % CLASSES).astype(np.int32)
    init = {
        "E": rng.normal(0, 1.0, size=(VOCAB, DIM)).astype(np.float32),
        "W": rng.normal(0, 0.5, size=(DIM, CLASSES)).astype(np.float32),
        "b": rng.normal(0, 0.1, size=CLASSES).astype(np.float32),
    }
    return {"ids": ids, "ctx": ctx, "y": y}, init


def build(init: dict[str, np.ndarray]):
    """``(placeholders, loss, variables by name)``: ``h = mean_t E[ids] + E[ctx]``,
    ``logits = h W + b``, mean softmax cross-entropy."""
    ids = tf1.placeholder(tf.int32, [None, 3], name="ids")
    ctx = tf1.placeholder(tf.int32, [None], name="ctx")
    y = tf1.placeholder(tf.int32, [None], name="y")
    E = tf1.Variable(init["E"], name="E")
    W = tf1.Variable(init["W"], name="W")
    b = tf1.Variable(init["b"], name="b")
    h = tf1.reduce_mean(tf1.nn.embedding_lookup(E, ids), axis=1) + tf1.nn.embedding_lookup(E, ctx)
    logits = tf1.matmul(h, W) + b
    loss = tf1.reduce_mean(tf1.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    variables = {v.op.name: v for v in tf1.trainable_variables()}
    return {"ids": ids, "ctx": ctx, "y": y}, loss, variables


def _kind(g) -> str:
    return "IndexedSlices" if isinstance(g, tf.IndexedSlices) else "Tensor"


def train_op(pipeline: str, opt, loss, variables: dict, global_step):
    """``(training op, the global norm of the gradients before clipping, the gradients' types)``;
    the gradients are in the order of ``sorted(variables)`` (E, W, b)."""
    names = sorted(variables)
    if pipeline == "gradients":
        tvars = [variables[n] for n in names]
        # gate_gradients=True: ungated, TF may compute E's gradient (which reads W) after the
        # update of W has run, a race between the ops of one step (with the default False, E after
        # step 1 was off by 4.7e-3 from -lr * gradient, and matched the gradient taken with the
        # already-updated W to 6e-8); gated, as compute_gradients gates by default, all gradients
        # come from the variables before the step, which is what rnnkit always computes
        grads = tf1.gradients(loss, tvars, gate_gradients=True)
    else:
        grads, tvars = zip(*opt.compute_gradients(loss))
    norm = tf1.global_norm(grads)
    if pipeline == "clip_by_global_norm":
        grads, norm = tf1.clip_by_global_norm(grads, CLIP_NORM)
    elif pipeline == "clip_by_norm":
        grads = [tf1.clip_by_norm(g, CLIP_ROW_NORM) for g in grads]
    elif pipeline == "clip_by_value":
        grads = [tf1.clip_by_value(g, *CLIP_VALUE) for g in grads]
    elif pipeline == "to_dense":
        grads = [tf1.convert_to_tensor(g) for g in grads]
    kinds = [_kind(g) for g in grads]
    return opt.apply_gradients(zip(grads, tvars), global_step=global_step), norm, kinds


def make_train(opt_name: str, pipeline: str) -> dict[str, np.ndarray]:
    cls_name, kwargs = OPTIMIZERS[opt_name]
    inputs, init = data()
    graph = tf1.Graph()
    with graph.as_default():
        feeds, loss, variables = build(init)
        global_step = tf1.Variable(0, trainable=False, name="global_step")
        opt = getattr(tf1.train, cls_name)(**kwargs)
        op, norm, kinds = train_op(pipeline, opt, loss, variables, global_step)
        names = sorted(variables)
        slots = {(n, s): opt.get_slot(variables[n], s) for n in names for s in opt.get_slot_names()}
        out = {f"init/{n}": init[n] for n in names}
        out.update({f"input/{k}": v for k, v in inputs.items()})
        losses, norms = [], []
        with tf1.Session(graph=graph) as sess:
            sess.run(tf1.global_variables_initializer())
            for k in range(N_STEPS):
                feed = {feeds[key]: inputs[key][k] for key in feeds}
                loss_value, norm_value = sess.run([loss, norm], feed)
                losses.append(loss_value)
                norms.append(norm_value)
                sess.run(op, feed)
                for n, value in sess.run(variables).items():
                    out[f"step{k + 1}/{n}"] = value
            for (n, s), slot in slots.items():
                if slot is not None:
                    out[f"slot/{n}/{s}"] = sess.run(slot)
            if opt_name == "adam":
                b1, b2 = opt._get_beta_accumulators()
                out["beta1_power"], out["beta2_power"] = sess.run([b1, b2])
    if pipeline == "clip_by_global_norm" and not min(norms) > CLIP_NORM:
        raise AssertionError(f"clipping is not active: norms {norms}")
    meta = {
        "optimizer": cls_name,
        "kwargs": kwargs,
        "pipeline": pipeline,
        "clip_norm": CLIP_NORM,
        "clip_row_norm": CLIP_ROW_NORM,
        "clip_value": list(CLIP_VALUE),
        "n_steps": N_STEPS,
        "variables": names,
        "gradient_types": dict(zip(names, kinds)),
        "tensorflow": tf.__version__,
    }
    out["meta"] = np.array(json.dumps(meta, sort_keys=True))
    out["loss"] = np.array(losses, dtype=np.float32)
    out["global_norm"] = np.array(norms, dtype=np.float32)
    return out


def make_ops() -> dict[str, np.ndarray]:
    """The clipping ops on the model's gradients at its initial values (step 0's batch), each made
    dense at the end with ``tf.convert_to_tensor`` (TensorFlow sums an IndexedSlices' rows)."""
    inputs, init = data()
    out: dict[str, np.ndarray] = {f"init/{n}": v for n, v in init.items()}
    out.update({f"input/{k}": v[0] for k, v in inputs.items()})
    with tf1.Graph().as_default():
        feeds, loss, variables = build(init)
        names = sorted(variables)
        grads = tf1.gradients(loss, [variables[n] for n in names])
        assert [_kind(g) for g in grads] == ["IndexedSlices", "Tensor", "Tensor"], grads
        gE = grads[0]
        dense = tf1.convert_to_tensor
        ops = {f"grad/{n}": dense(g) for n, g in zip(names, grads)}
        ops["global_norm"] = tf1.global_norm(grads)
        ops["global_norm_E"] = tf1.global_norm([gE])
        for c in (0.05, 100.0):
            clipped, norm = tf1.clip_by_global_norm(grads, c)
            ops[f"clip_by_global_norm/{c}/norm"] = norm
            for n, g in zip(names, clipped):
                ops[f"clip_by_global_norm/{c}/{n}"] = dense(g)
            # use_norm given: the scale comes from it, not from the tensors
            clipped, norm = tf1.clip_by_global_norm(grads, c, use_norm=tf1.constant(2.0))
            ops[f"clip_by_global_norm/{c}/use_norm=2/E"] = dense(clipped[0])
        ops["clip_by_norm/E"] = dense(tf1.clip_by_norm(gE, 0.1))
        ops["clip_by_norm/E/axes=1"] = dense(tf1.clip_by_norm(gE, 0.05, axes=[1]))
        ops["clip_by_norm/E/not_active"] = dense(tf1.clip_by_norm(gE, 100.0))
        ops["clip_by_value/E"] = dense(tf1.clip_by_value(gE, *CLIP_VALUE))
        with tf1.Session() as sess:
            sess.run(tf1.global_variables_initializer())
            feed = {feeds[k]: inputs[k][0] for k in feeds}
            out.update(sess.run(ops, feed))
        # a non-finite global norm makes every clipped tensor NaN (TF's ``+ (norm - norm)``)
        t = np.array([1.0, np.inf, 2.0], dtype=np.float32)
        u = np.array([[0.5, -1.0]], dtype=np.float32)
        with tf1.Session() as sess:
            clipped, norm = tf1.clip_by_global_norm([tf1.constant(t), tf1.constant(u)], 1.0)
            out["nonfinite/t"], out["nonfinite/u"] = t, u
            (out["nonfinite/out_t"], out["nonfinite/out_u"]), out["nonfinite/norm"] = sess.run(
                [clipped, norm]
            )
    meta = {
        "variables": names,
        "clip_value": list(CLIP_VALUE),
        "tensorflow": tf.__version__,
    }
    out["meta"] = np.array(json.dumps(meta, sort_keys=True))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=Path("tests/fixtures/tf1_sparse_clip"))
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    n = 0
    for pipeline, opt_names in PIPELINES.items():
        for opt_name in opt_names:
            arrays = make_train(opt_name, pipeline)
            stem = f"train__{opt_name}__{pipeline}"
            np.savez_compressed(args.out / f"{stem}.npz", **arrays)
            kinds = json.loads(str(arrays["meta"]))["gradient_types"]
            print(
                f"{stem}: loss {arrays['loss'][0]:.4f} -> {arrays['loss'][-1]:.4f}, "
                f"norms {[round(float(x), 3) for x in arrays['global_norm']]}, E's gradient {kinds['E']}"
            )
            n += 1
    np.savez_compressed(args.out / "ops.npz", **make_ops())
    print(f"wrote {n + 1} files to {args.out}")


if __name__ == "__main__":
    main()
