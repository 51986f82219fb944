"""``tf.contrib.layers`` and regularization losses against real TensorFlow's numbers
(``tests/fixtures/tf1_api/contrib_layers.*``, made by ``tools/make_tf1_api_fixtures.py``)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import rnnkit.compat.v1 as tf

FIX = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "tf1_api"
META = json.loads((FIX / "contrib_layers.json").read_text())
ARR = dict(np.load(FIX / "contrib_layers.npz", allow_pickle=False))


def _graph():
    """The fixture's model, built with rnnkit.compat.v1 as a TF1 program writes it."""
    layers = tf.contrib.layers
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    h = layers.fully_connected(x, 5)
    h2 = layers.fully_connected(
        h,
        2,
        activation_fn=None,
        weights_regularizer=layers.l2_regularizer(0.1),
        biases_regularizer=layers.l1_regularizer(0.05),
    )
    h3 = layers.fully_connected(x, 4, activation_fn=tf.tanh, scope="named")
    lin = layers.linear(x, 2)
    d = tf.layers.dense(x, 3, kernel_regularizer=layers.l2_regularizer(0.02))
    emb = layers.embed_sequence(tf.constant(ARR["ids"]), vocab_size=10, embed_dim=4)
    reg = tf.losses.get_regularization_loss()
    applied = layers.apply_regularization(layers.l2_regularizer(0.3), tf.trainable_variables()[:1])
    outs = [h, h2, h3, lin, d, emb]
    loss = tf.add_n([tf.reduce_sum(o * o) for o in outs]) + reg
    return x, outs, reg, applied, loss


def test_fully_connected_names_outputs_regularization_and_gradients_match_tf() -> None:
    tf.reset_default_graph()
    x, outs, reg, applied, loss = _graph()
    vs = tf.trainable_variables()
    assert [v.op.name for v in vs] == META["variables"]
    assert (
        len(tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)) == META["regularization_losses"]
    )
    grads = [tf.convert_to_tensor(g) for g in tf.gradients(loss, vs)]  # dense embedding grads
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for v in vs:
            v.load(ARR[f"var/{v.op.name}"], sess)
        got = sess.run([*outs, reg, applied, loss, *grads], {x: ARR["x"]})
    for name, value in zip(META["output_names"], got):
        np.testing.assert_allclose(value, ARR[f"out/{name}"], rtol=1e-5, atol=1e-6, err_msg=name)
    n = len(outs)
    np.testing.assert_allclose(got[n], ARR["reg"], rtol=1e-5)
    np.testing.assert_allclose(got[n + 1], ARR["applied"], rtol=1e-5)
    np.testing.assert_allclose(got[n + 2], ARR["loss"], rtol=1e-5)
    for v, g in zip(vs, got[n + 3 :]):
        np.testing.assert_allclose(g, ARR[f"grad/{v.op.name}"], rtol=1e-4, atol=1e-5)


def test_fully_connected_defaults_relu_xavier_and_zero_biases() -> None:
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.contrib.layers.fully_connected(x, 300)
    w, b = tf.trainable_variables()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        wv, bv, yv = sess.run([w, b, y], {x: -np.ones((2, 3))})
    assert np.all(bv == 0) and np.all(yv >= 0)  # relu
    assert np.abs(wv).max() <= np.sqrt(6.0 / 303) + 1e-6  # xavier uniform bound


@pytest.mark.parametrize("key", sorted(META["initializers"]))
def test_contrib_initializers_draw_tfs_distribution(key: str) -> None:
    make = {
        "xavier_uniform": lambda: tf.contrib.layers.xavier_initializer(),
        "xavier_normal": lambda: tf.contrib.layers.xavier_initializer(uniform=False),
        "vs_default": lambda: tf.contrib.layers.variance_scaling_initializer(),
        "vs_fan_avg_uniform": lambda: tf.contrib.layers.variance_scaling_initializer(
            factor=1.5, mode="FAN_AVG", uniform=True
        ),
        "vs_fan_out": lambda: tf.contrib.layers.variance_scaling_initializer(
            factor=0.5, mode="FAN_OUT"
        ),
    }[key]
    tf.reset_default_graph()
    tf.set_random_seed(0)
    t = make()(META["initializer_shape"], dtype=tf.float32)
    with tf.Session() as sess:
        v = sess.run(t)
    ref = META["initializers"][key]
    assert v.shape == tuple(META["initializer_shape"])
    np.testing.assert_allclose(v.std(), ref["std"], rtol=0.02)  # 60000 draws: std within ~0.6%
    assert abs(v.mean()) < 0.05 * ref["std"]
    assert np.abs(v).max() <= ref["max_abs"] * 1.05  # truncated / bounded like TF's
    assert np.abs(v).max() >= ref["max_abs"] * 0.9


@pytest.mark.parametrize(
    "key, fn",
    [
        ("l2_negative", lambda: tf.contrib.layers.l2_regularizer(-1.0)),
        ("l2_integer", lambda: tf.contrib.layers.l2_regularizer(2)),
        ("l1_negative", lambda: tf.contrib.layers.l1_regularizer(-0.5)),
        (
            "fc_unknown_width",
            lambda: tf.contrib.layers.fully_connected(tf.placeholder(tf.float32, [None, None]), 3),
        ),
        (
            "fc_int_inputs",
            lambda: tf.contrib.layers.fully_connected(tf.placeholder(tf.int32, [None, 3]), 3),
        ),
        ("xavier_int", lambda: tf.contrib.layers.xavier_initializer()([2, 3], dtype=tf.int32)),
        ("vs_bad_mode", lambda: tf.contrib.layers.variance_scaling_initializer(mode="X")),
        (
            "fc_twice_same_scope",
            lambda: [
                tf.contrib.layers.fully_connected(
                    tf.placeholder(tf.float32, [None, 3]), 3, scope="s"
                )
                for _ in range(2)
            ],
        ),
    ],
)
def test_errors_are_tfs(key: str, fn) -> None:
    tf.reset_default_graph()
    kind, message = META["errors"][key]
    with pytest.raises({"ValueError": ValueError, "TypeError": TypeError}[kind]) as info:
        fn()
    assert str(info.value) == message.replace(" Originally defined at:", "")


def test_zero_scale_regularizer_adds_no_loss() -> None:
    tf.reset_default_graph()
    assert META["l2_zero_is_none"]
    assert tf.contrib.layers.l2_regularizer(0.0)(tf.constant([1.0])) is None
    tf.contrib.layers.fully_connected(
        tf.placeholder(tf.float32, [None, 3]),
        2,
        weights_regularizer=tf.contrib.layers.l2_regularizer(0.0),
    )
    assert tf.losses.get_regularization_losses() == []
    with tf.Session() as sess:
        assert sess.run(tf.losses.get_regularization_loss()) == 0.0


def test_embed_sequence_needs_sizes_and_apply_regularization_needs_weights() -> None:
    tf.reset_default_graph()
    with pytest.raises(ValueError, match="Must specify vocab size and embedding dimension"):
        tf.contrib.layers.embed_sequence(tf.constant([[1]]), vocab_size=10)
    with pytest.raises(ValueError, match="No weights to regularize."):
        tf.contrib.layers.apply_regularization(tf.contrib.layers.l2_regularizer(0.1))
