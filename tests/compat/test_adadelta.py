"""``tf.train.AdadeltaOptimizer`` (``train/adadelta.py``) against TensorFlow's variables and slots
over five steps, dense and sparse (``tests/fixtures/tf1_census_gaps``)."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import CENSUS, census_fixture


@pytest.mark.parametrize("case", ["default", "large"])
def test_adadelta_matches_tf_over_five_steps(case):
    import json

    ref = census_fixture("adadelta")
    kwargs = json.loads((CENSUS / "meta.json").read_text())["adadelta"][case]
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 2])
    W = tf.Variable(ref["W0"], name="W")
    b = tf.Variable(ref["b0"], name="b")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, W) + b - y))
    opt = tf.train.AdadeltaOptimizer(**kwargs)
    step = opt.minimize(loss)
    assert [v.op.name for v in tf.global_variables()] == list(ref[f"{case}_names"])
    assert opt.get_slot_names() == list(ref[f"{case}_slot_names"])
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for k in range(5):
            s.run(step, {x: ref["X"][k], y: ref["Y"][k]})
            got = s.run([W, b, opt.get_slot(W, "accum"), opt.get_slot(W, "accum_update")])
            for key, v in zip(("W", "b", "W_accum", "W_accum_update"), got):
                np.testing.assert_allclose(v, ref[f"{case}_{key}"][k], rtol=2e-5, atol=1e-7)


def test_adadelta_sparse_gradient_moves_only_looked_up_rows():
    ref = census_fixture("adadelta_sparse")
    ids = tf.placeholder(tf.int32, [None])
    y = tf.placeholder(tf.float32, [None, 4])
    E = tf.Variable(ref["E0"], name="E")
    loss = tf.reduce_mean(tf.square(tf.nn.embedding_lookup(E, ids) - y))
    opt = tf.train.AdadeltaOptimizer(1.0, rho=0.9, epsilon=1e-6)
    step = opt.minimize(loss)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for k in range(5):
            s.run(step, {ids: ref["ids"][k], y: ref["targets"][k]})
            got = s.run([E, opt.get_slot(E, "accum"), opt.get_slot(E, "accum_update")])
            for key, v in zip(("E", "accum", "accum_update"), got):
                np.testing.assert_allclose(v, ref[key][k], rtol=2e-5, atol=1e-7)
