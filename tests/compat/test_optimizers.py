"""rnnkit.compat.v1's optimizers against real TensorFlow 1.x: variables after each of 5 steps.

Each case in ``tests/fixtures/tf1_optimizers`` (made by ``tools/make_tf1_optimizer_fixtures.py``,
format in its README) is rebuilt here as the same TF1 program with ``import rnnkit.compat.v1 as tf``:
placeholders, ``tf.Variable(initial value)``, a ``BasicRNNCell`` ``dynamic_rnn`` or an
``embedding_lookup``, ``sparse_softmax_cross_entropy_with_logits``, ``reduce_mean``,
``tf.train.<X>Optimizer(...).minimize(loss, global_step=...)`` (or ``compute_gradients`` -> clip ->
``apply_gradients``), a ``Session`` and ``global_variables_initializer``. Values must agree within
1e-5 relative to the largest magnitude in the same tensor (``_close``): element-wise relative error
is no test for entries near zero, where float32 rounding of the gradients is amplified (Adam divides
by ``sqrt(v)``: a float64 NumPy replay of TensorFlow's formulas is off by up to 6e-7 there).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import rnnkit.compat.v1 as tf

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf1_optimizers"
CASES = sorted(FIXTURES.glob("*__*.npz"))
RTOL = 1e-5


def _close(actual, expected, what: str, rtol: float = RTOL) -> None:
    """``|actual - expected| <= rtol * max(|expected|)`` element-wise (and the shapes agree)."""
    expected = np.asarray(expected)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rtol * max(scale, 1e-3), err_msg=what)


def _load(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads(str(arrays["meta"])), arrays


def _build(problem: str, init: dict[str, np.ndarray]):
    """The fixture's graph: ``(placeholders by name, loss, variables by name)``."""
    if problem == "dense":
        X = tf.placeholder(tf.float32, [None, 5], name="X")
        y = tf.placeholder(tf.int32, [None], name="y")
        W = tf.Variable(init["W"], name="W")
        b = tf.Variable(init["b"], name="b")
        logits = tf.matmul(X, W) + b
        feeds = {"X": X, "y": y}
    elif problem == "rnn":
        X = tf.placeholder(tf.float32, [None, 6, 3], name="X")
        y = tf.placeholder(tf.int32, [None], name="y")
        cell = tf.nn.rnn_cell.BasicRNNCell(num_units=5)
        _, state = tf.nn.dynamic_rnn(cell, X, dtype=tf.float32)
        W = tf.Variable(init["W"], name="W")
        b = tf.Variable(init["b"], name="b")
        logits = tf.matmul(state, W) + b
        feeds = {"X": X, "y": y}
    elif problem == "embedding":
        ids = tf.placeholder(tf.int32, [None], name="ids")
        y = tf.placeholder(tf.int32, [None], name="y")
        E = tf.Variable(init["E"], name="E")
        W = tf.Variable(init["W"], name="W")
        b = tf.Variable(init["b"], name="b")
        logits = tf.matmul(tf.nn.embedding_lookup(E, ids), W) + b
        feeds = {"ids": ids, "y": y}
    else:
        raise ValueError(f"unknown problem {problem!r}")
    xentropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    loss = tf.reduce_mean(xentropy)
    variables = {v.name.split(":")[0]: v for v in tf.trainable_variables()}
    return feeds, loss, variables


def _training(meta: dict, loss, variables: dict):
    """``(optimizer, global_step, training_op)`` as the fixture's case made them."""
    global_step = tf.Variable(0, trainable=False, name="global_step")
    optimizer = getattr(tf.train, meta["optimizer"])(**meta["kwargs"])
    clip = meta["clip"]
    if not clip:
        return optimizer, global_step, optimizer.minimize(loss, global_step=global_step)
    grads, tvars = zip(*optimizer.compute_gradients(loss))
    if "clip_by_global_norm" in clip:
        grads, _ = tf.clip_by_global_norm(grads, clip["clip_by_global_norm"])
    else:
        lo, hi = clip["clip_by_value"]
        grads = [tf.clip_by_value(g, lo, hi) for g in grads]
    training_op = optimizer.apply_gradients(zip(grads, tvars), global_step=global_step)
    return optimizer, global_step, training_op


def _replay(path: Path):
    """Run the case; yield ``(step k, session, ...)`` after each step for the checks."""
    meta, z = _load(path)
    init = {n: z[f"init/{n}"] for n in meta["variables"]}
    tf.reset_default_graph()
    feeds, loss, variables = _build(meta["problem"], init)
    assert sorted(variables) == meta["variables"], "variable names differ from TensorFlow's"
    optimizer, global_step, training_op = _training(meta, loss, variables)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        # the cell's weights are drawn by its initializer: set the fixture's values, as TF's run did
        sess.run([tf.assign(variables[n], init[n]) for n in meta["variables"]])
        for k in range(meta["n_steps"]):
            feed = {feeds[name]: z[f"input/{name}"][k] for name in feeds}
            loss_value = sess.run(loss, feed_dict=feed)
            _close(loss_value, z["loss"][k], f"loss before step {k + 1}")
            sess.run(training_op, feed_dict=feed)
            yield k + 1, sess, meta, z, variables, optimizer, global_step


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_variables_match_tf1_after_each_step(path: Path) -> None:
    for step, sess, meta, z, variables, _, global_step in _replay(path):
        assert sess.run(global_step) == z["global_step"][step - 1]
        values = sess.run(variables)
        for name in meta["variables"]:
            _close(values[name], z[f"step{step}/{name}"], f"{path.stem}: {name} after step {step}")


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_slots_match_tf1_after_last_step(path: Path) -> None:
    for step, sess, meta, z, variables, optimizer, _ in _replay(path):
        if step < meta["n_steps"]:
            continue
        slot_keys = [k for k in z if k.startswith("slot/")]
        assert sorted(optimizer.get_slot_names()) == sorted(
            {k.rsplit("/", 1)[1] for k in slot_keys}
        )
        for key in slot_keys:
            var_name, slot_name = key[len("slot/") :].rsplit("/", 1)
            slot = optimizer.get_slot(variables[var_name], slot_name)
            assert slot is not None, f"no slot {slot_name!r} for {var_name}"
            # 1e-4: slots are sums of gradients taken at variables that already differ by float32
            # rounding (Adam's m and v amplify it most); a wrong rule is off by far more
            _close(sess.run(slot), z[key], key, rtol=1e-4)


def test_clip_by_global_norm_matches_tf1() -> None:
    _, z = _load(FIXTURES / "clip.npz")
    ts = [z[f"global_norm/t{i}"] for i in range(3)]
    for j, clip_norm in enumerate(z["global_norm/clip_norm"]):
        tf.reset_default_graph()
        clipped, norm = tf.clip_by_global_norm([tf.constant(t) for t in ts], float(clip_norm))
        with tf.Session() as sess:
            values, norm_value = sess.run([clipped, norm])
        _close(norm_value, z[f"global_norm/norm{j}"], f"global norm, clip_norm {clip_norm}")
        for i, value in enumerate(values):
            _close(value, z[f"global_norm/out{j}/t{i}"], f"t{i} clipped to {clip_norm}")


def test_clip_by_value_matches_tf1() -> None:
    _, z = _load(FIXTURES / "clip.npz")
    tf.reset_default_graph()
    out = tf.clip_by_value(
        tf.constant(z["by_value/t"]), float(z["by_value/min"]), float(z["by_value/max"])
    )
    with tf.Session() as sess:
        _close(sess.run(out), z["by_value/out"], "clip_by_value")


def test_fixtures_are_present() -> None:
    assert len(CASES) == 26, (
        f"expected 8 optimizers x 3 problems + 2 clipping cases, found {len(CASES)}"
    )
