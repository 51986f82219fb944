"""Clipping an embedding's gradient on rnnkit.compat.v1 against real TensorFlow 1.x.

In TensorFlow the gradient of a variable read only through ``embedding_lookup`` is an
``IndexedSlices``: one row per lookup (a repeated id twice). ``global_norm``, ``clip_by_global_norm``,
``clip_by_norm`` and ``clip_by_value`` work on those rows and keep the gradient sparse, and the
optimizers apply it with their sparse rules (Momentum, RMSProp, Adagrad: only the rows looked up;
Adam: every row's moments decay; ``tf.convert_to_tensor`` makes it dense). The fixtures in
``tests/fixtures/tf1_sparse_clip`` (made by ``tools/make_tf1_sparse_clip_fixtures.py``, format in its
README) are replayed here as the same programs written with ``import rnnkit.compat.v1 as tf``.

Tolerance: float32 values agree within 1e-5 relative to the largest magnitude of the same tensor
(``_close``), as in tests/compat/test_optimizers.py: the two sides sum the same float32 terms in a
different order (a repeated id's rows, the squares of the global norm), a few ulps (~1e-7
relative) per step that five steps and the optimizers' divisions by ``sqrt(v)`` grow to ~1e-6;
element-wise relative error is no test for entries near zero. Every difference this test was
written to catch (a row updated or not, a duplicate counted once or twice) is 1e-3 or more.
Slots are compared within 1e-4, also as there: they accumulate gradients taken at variables that
already differ by rounding (Adam's ``v`` the most).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import rnnkit.compat.v1 as tf

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf1_sparse_clip"
CASES = sorted(FIXTURES.glob("train__*.npz"))
RTOL = 1e-5


def _close(actual, expected, what: str, rtol: float = RTOL) -> None:
    """``|actual - expected| <= rtol * max(|expected|)`` element-wise (and the shapes agree); NaN
    where TensorFlow has NaN. A fetched sparse gradient (IndexedSlicesValue) is compared dense,
    its rows summed per index as ``tf.convert_to_tensor`` sums them in the fixture's program."""
    if isinstance(actual, tf.IndexedSlicesValue):
        dense = np.zeros(actual.dense_shape, actual.values.dtype)
        np.add.at(dense, actual.indices, actual.values)
        actual = dense
    expected = np.asarray(expected)
    finite = expected[np.isfinite(expected)]
    scale = float(np.max(np.abs(finite))) if finite.size else 0.0
    assert np.shape(actual) == expected.shape, what
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rtol * max(scale, 1e-3), err_msg=what)


def _load(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads(str(arrays.pop("meta"))), arrays


def _build(init: dict[str, np.ndarray]):
    """The fixtures' model: ``h = mean_t E[ids] + E[ctx]``, ``logits = h W + b``."""
    ids = tf.placeholder(tf.int32, [None, 3], name="ids")
    ctx = tf.placeholder(tf.int32, [None], name="ctx")
    y = tf.placeholder(tf.int32, [None], name="y")
    E = tf.Variable(init["E"], name="E")
    W = tf.Variable(init["W"], name="W")
    b = tf.Variable(init["b"], name="b")
    h = tf.reduce_mean(tf.nn.embedding_lookup(E, ids), axis=1) + tf.nn.embedding_lookup(E, ctx)
    logits = tf.matmul(h, W) + b
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    variables = {v.name.split(":")[0]: v for v in tf.trainable_variables()}
    return {"ids": ids, "ctx": ctx, "y": y}, loss, variables


def _train_op(meta: dict, optimizer, loss, variables: dict, global_step):
    """The fixture's pipeline as a user writes it: ``(training op, global norm before clipping)``."""
    pipeline = meta["pipeline"]
    names = sorted(variables)
    if pipeline == "gradients":
        tvars = [variables[n] for n in names]
        grads = tf.gradients(loss, tvars)
    else:
        grads, tvars = zip(*optimizer.compute_gradients(loss))
    norm = tf.global_norm(grads)
    if pipeline == "clip_by_global_norm":
        grads, norm = tf.clip_by_global_norm(grads, meta["clip_norm"])
    elif pipeline == "clip_by_norm":
        grads = [tf.clip_by_norm(g, meta["clip_row_norm"]) for g in grads]
    elif pipeline == "clip_by_value":
        grads = [tf.clip_by_value(g, *meta["clip_value"]) for g in grads]
    elif pipeline == "to_dense":
        grads = [tf.convert_to_tensor(g) for g in grads]
    else:
        assert pipeline == "gradients", pipeline
    return optimizer.apply_gradients(zip(grads, tvars), global_step=global_step), norm


def _replay(path: Path):
    """Run the case; yield ``(step k, session, ...)`` after each step for the checks."""
    meta, z = _load(path)
    init = {n: z[f"init/{n}"] for n in meta["variables"]}
    tf.reset_default_graph()
    feeds, loss, variables = _build(init)
    assert sorted(variables) == meta["variables"]
    global_step = tf.Variable(0, trainable=False, name="global_step")
    optimizer = getattr(tf.train, meta["optimizer"])(**meta["kwargs"])
    training_op, norm = _train_op(meta, optimizer, loss, variables, global_step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for k in range(meta["n_steps"]):
            feed = {feeds[name]: z[f"input/{name}"][k] for name in feeds}
            loss_value, norm_value = sess.run([loss, norm], feed_dict=feed)
            _close(loss_value, z["loss"][k], f"loss before step {k + 1}")
            _close(norm_value, z["global_norm"][k], f"global norm at step {k + 1}")
            sess.run(training_op, feed_dict=feed)
            assert sess.run(global_step) == k + 1
            yield k + 1, sess, meta, z, variables, optimizer


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem[len("train__") :])
def test_training_matches_tf1(path: Path) -> None:
    for step, sess, meta, z, variables, optimizer in _replay(path):
        values = sess.run(variables)
        for name in meta["variables"]:
            _close(values[name], z[f"step{step}/{name}"], f"{name} after step {step}")
        if step < meta["n_steps"]:
            continue
        slot_keys = [k for k in z if k.startswith("slot/")]
        assert sorted(optimizer.get_slot_names()) == sorted(
            {k.rsplit("/", 1)[1] for k in slot_keys}
        )
        for key in slot_keys:
            var_name, slot_name = key[len("slot/") :].rsplit("/", 1)
            slot = optimizer.get_slot(variables[var_name], slot_name)
            _close(sess.run(slot), z[key], key, rtol=1e-4)
        if "beta1_power" in z:
            powers = dict(zip(("beta1_power", "beta2_power"), optimizer._non_slots.values()))
            for key, var in powers.items():
                _close(sess.run(var), z[key], key)


def test_fixtures_show_the_sparse_rules() -> None:
    """What the training cases are about, read off TensorFlow's numbers: a row looked up before
    step 5 but not in step 5's batch keeps its value at step 5 under Momentum with a sparse
    (clipped) gradient, but moves under Momentum with the gradient made dense and under Adam."""

    def still(stem: str) -> np.ndarray:
        _, z = _load(FIXTURES / f"train__{stem}.npz")
        batch = set(z["input/ids"][4].ravel()) | set(z["input/ctx"][4].ravel())
        before = set(z["input/ids"][:4].ravel()) | set(z["input/ctx"][:4].ravel())
        rows = sorted(before - batch)
        assert rows, "no row is looked up before step 5 and not in it"
        return np.all(z["step5/E"][rows] == z["step4/E"][rows], axis=1)

    assert still("momentum__clip_by_global_norm").all()
    assert still("rmsprop_centered__clip_by_global_norm").all()
    assert not still("momentum__to_dense").any()
    assert not still("adam__clip_by_global_norm").any()


def test_fixtures_are_present() -> None:
    assert len(CASES) == 18, f"expected 18 training cases, found {len(CASES)}"
    assert (FIXTURES / "ops.npz").exists()


@pytest.fixture
def ops_case():
    """The model at its initial values and step 0's batch: ``(session, feed, grads, z)``, the
    gradients from ``tf.gradients`` in the order E, W, b."""
    meta, z = _load(FIXTURES / "ops.npz")
    tf.reset_default_graph()
    init = {n: z[f"init/{n}"] for n in meta["variables"]}
    feeds, loss, variables = _build(init)
    grads = tf.gradients(loss, [variables[n] for n in meta["variables"]])
    feed = {feeds[k]: z[f"input/{k}"] for k in feeds}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        yield sess, feed, grads, meta, z


def test_gradients_and_global_norm_match_tf1(ops_case) -> None:
    sess, feed, grads, meta, z = ops_case
    for name, g in zip(meta["variables"], grads):
        _close(sess.run(g, feed), z[f"grad/{name}"], f"gradient of {name}")
    # per lookup: row 9 is looked up twice in one example; summed first its norm would differ
    _close(sess.run(tf.global_norm(grads), feed), z["global_norm"], "global_norm")
    _close(sess.run(tf.global_norm([grads[0]]), feed), z["global_norm_E"], "global_norm of E")


@pytest.mark.parametrize("clip_norm", [0.05, 100.0])
def test_clip_by_global_norm_matches_tf1(ops_case, clip_norm: float) -> None:
    sess, feed, grads, meta, z = ops_case
    clipped, norm = tf.clip_by_global_norm(grads, clip_norm)
    values, norm_value = sess.run([clipped, norm], feed)
    _close(norm_value, z[f"clip_by_global_norm/{clip_norm}/norm"], "norm")
    for name, value in zip(meta["variables"], values):
        _close(value, z[f"clip_by_global_norm/{clip_norm}/{name}"], f"{name} clipped")
    clipped, _ = tf.clip_by_global_norm(grads, clip_norm, use_norm=tf.constant(2.0))
    _close(sess.run(clipped[0], feed), z[f"clip_by_global_norm/{clip_norm}/use_norm=2/E"], "E")


def test_clip_by_norm_of_a_sparse_gradient_matches_tf1(ops_case) -> None:
    """The norm is that of the per-lookup rows, and with ``axes=[1]`` each lookup's row is clipped
    on its own before a repeated id's rows are summed."""
    sess, feed, grads, meta, z = ops_case
    gE = grads[0]
    _close(sess.run(tf.clip_by_norm(gE, 0.1), feed), z["clip_by_norm/E"], "clip_by_norm")
    _close(sess.run(tf.clip_by_norm(gE, 0.05, axes=[1]), feed), z["clip_by_norm/E/axes=1"], "axes")
    _close(sess.run(tf.clip_by_norm(gE, 100.0), feed), z["clip_by_norm/E/not_active"], "no clip")


def test_clip_by_value_of_a_sparse_gradient_matches_tf1(ops_case) -> None:
    """Each lookup's row is clipped before a repeated id's rows are summed."""
    sess, feed, grads, meta, z = ops_case
    out = tf.clip_by_value(grads[0], *meta["clip_value"])
    _close(sess.run(out, feed), z["clip_by_value/E"], "clip_by_value")


def test_clip_by_global_norm_of_a_nonfinite_norm_is_nan_as_in_tf1() -> None:
    _, z = _load(FIXTURES / "ops.npz")
    tf.reset_default_graph()
    clipped, norm = tf.clip_by_global_norm(
        [tf.constant(z["nonfinite/t"]), tf.constant(z["nonfinite/u"])], 1.0
    )
    with tf.Session() as sess:
        (t, u), n = sess.run([clipped, norm])
    assert np.isinf(n) and np.isinf(z["nonfinite/norm"])
    np.testing.assert_array_equal(np.isnan(t), np.isnan(z["nonfinite/out_t"]))
    np.testing.assert_array_equal(np.isnan(u), np.isnan(z["nonfinite/out_u"]))
