"""``tf.nn.conv2d``, ``conv1d``, ``max_pool`` and ``avg_pool`` (``conv_ops.py``) against TensorFlow
(``tests/fixtures/tf1_conv``, ``tools/make_tf1_conv_fixtures.py``): outputs and gradients, static
shapes and build-time errors, run-time errors; against torch and numpy for layouts and dtypes; and
a small text CNN trained with RMSProp."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import rnnkit.compat.v1 as tf
from tests.compat._helpers import FIXTURES, close, close_to_scale, rng

CONV = FIXTURES / "tf1_conv"


def _fixture(name: str) -> dict[str, np.ndarray]:
    with np.load(CONV / f"{name}.npz", allow_pickle=False) as d:
        return {k: d[k] for k in d.files}


# -- outputs and gradients -------------------------------------------------------------------------

_EXPLICIT = [[0, 0], [1, 0], [0, 1], [0, 0]]
# the generator's value cases: y = op(x[, filter])
VALUES = {
    "conv2d_same": lambda x, f: tf.nn.conv2d(x, f, [1, 1, 1, 1], "SAME"),
    "conv2d_same_s2": lambda x, f: tf.nn.conv2d(x, f, [1, 2, 2, 1], "SAME"),
    "conv2d_valid_s2": lambda x, f: tf.nn.conv2d(x, f, [2, 1], "VALID"),
    "conv2d_explicit": lambda x, f: tf.nn.conv2d(x, f, 2, [[0, 0], [1, 2], [0, 3], [0, 0]]),
    "conv2d_dilated_same": lambda x, f: tf.nn.conv2d(x, f, 1, "SAME", dilations=2),
    "conv2d_dilated_valid": lambda x, f: tf.nn.conv2d(x, f, 1, "VALID", dilations=2),
    "conv2d_nchw": lambda x, f: tf.nn.conv2d(x, f, [1, 1, 2, 2], "SAME", data_format="NCHW"),
    "conv2d_grouped": lambda x, f: tf.nn.conv2d(x, f, 1, "SAME"),
    "max_pool_same": lambda x: tf.nn.max_pool(x, [1, 3, 2, 1], [1, 2, 2, 1], "SAME"),
    "max_pool_valid": lambda x: tf.nn.max_pool(x, [1, 3, 2, 1], [1, 2, 2, 1], "VALID"),
    "avg_pool_same": lambda x: tf.nn.avg_pool(x, [1, 3, 2, 1], [1, 2, 2, 1], "SAME"),
    "avg_pool_valid": lambda x: tf.nn.avg_pool(x, [1, 3, 2, 1], [1, 2, 2, 1], "VALID"),
    "avg_pool_same_s1": lambda x: tf.nn.avg_pool(x, 3, 1, "SAME"),
    "max_pool_ties": lambda x: tf.nn.max_pool(x, 3, 2, "SAME"),
    "max_pool_nchw": lambda x: tf.nn.max_pool(x, 3, 2, "SAME", data_format="NCHW"),
    "avg_pool_nchw": lambda x: tf.nn.avg_pool(x, 3, 2, "SAME", data_format="NCHW"),
    "max_pool_explicit": lambda x: tf.nn.max_pool(x, 2, 1, _EXPLICIT),
    "max_pool_depth": lambda x: tf.nn.max_pool(x, [1, 1, 1, 3], [1, 1, 1, 3], "VALID"),
    "conv1d_same": lambda x, f: tf.nn.conv1d(x, f, 1, "SAME"),
    "conv1d_valid_s2": lambda x, f: tf.nn.conv1d(x, f, 2, "VALID"),
    "conv1d_ncw": lambda x, f: tf.nn.conv1d(x, f, 2, "SAME", data_format="NCW"),
    "conv1d_dilated": lambda x, f: tf.nn.conv1d(x, f, 1, "SAME", dilations=2),
}


def test_every_fixture_case_is_tested():
    files = {p.stem for p in CONV.glob("*.npz")}
    assert files == set(VALUES) | {"program", "build", "run_errors"}


@pytest.mark.parametrize("case", sorted(VALUES))
def test_output_and_gradients_match_tensorflow(case):
    ref = _fixture(case)
    x = tf.placeholder(tf.float32, ref["x"].shape)
    inputs, feed = [x], {x: ref["x"]}
    if "filter" in ref:
        f = tf.placeholder(tf.float32, ref["filter"].shape)
        inputs.append(f)
        feed[f] = ref["filter"]
    y = VALUES[case](*inputs)
    assert y.shape.as_list() == list(ref["y"].shape)  # the static shape
    fetches = [y]
    if "w" in ref:  # TF has no gradient for a pool across the depth: no weights stored
        fetches += tf.gradients(tf.reduce_sum(y * ref["w"]), inputs)
    with tf.Session() as sess:
        got = sess.run(fetches, feed)
    close_to_scale(got[0], ref["y"], f"{case}: output")
    for value, key in zip(got[1:], ("dx", "dfilter")):
        close_to_scale(value, ref[key], f"{case}: {key}")


def test_a_text_cnn_layer_matches_tensorflow():
    """The program's layer: conv2d VALID, bias_add, relu, max_pool over 3 positions with SAME."""
    ref = _fixture("program")
    e, W, b = (tf.placeholder(tf.float32, ref[k].shape) for k in ("x", "filter", "bias"))
    conv = tf.nn.conv2d(e, W, strides=[1, 1, 1, 1], padding="VALID", name="conv")
    h = tf.nn.relu(tf.nn.bias_add(conv, b), name="relu")
    pooled = tf.nn.max_pool(
        h, ksize=[1, 3, 1, 1], strides=[1, 3, 1, 1], padding="SAME", name="pool"
    )
    assert [conv.name, pooled.name] == list(ref["names"][[0, 2]])  # the conv and pool nodes
    grads = tf.gradients(tf.reduce_sum(pooled * ref["w"]), [e, W, b])
    with tf.Session() as sess:
        got = sess.run([pooled, *grads], {e: ref["x"], W: ref["filter"], b: ref["bias"]})
    for value, key in zip(got, ("y", "dx", "dfilter", "dbias")):
        close_to_scale(value, ref[key], key)


# -- static shapes and build-time errors -----------------------------------------------------------

_DTYPES = {
    "float32": tf.float32,
    "float64": tf.float64,
    "int32": tf.int32,
    "int64": tf.int64,
    "bool": tf.bool,
}


def _value(spec):
    if isinstance(spec, dict) and "placeholder" in spec:
        dtype, shape = spec["placeholder"]
        return tf.placeholder(_DTYPES[dtype], shape)
    if isinstance(spec, dict) and "ones" in spec:
        dtype, shape = spec["ones"]
        return np.ones(shape, dtype)
    return spec


def _make(call: dict):
    args = [_value(a) for a in call["args"]]
    kwargs = {k: _value(v) for k, v in call["kwargs"].items()}
    return getattr(tf.nn, call["op"])(*args, **kwargs)


def _cases(name: str) -> list[tuple[str, dict, str, str]]:
    ref = _fixture(name)
    return [
        (str(n), json.loads(str(c)), str(k), str(t))
        for n, c, k, t in zip(ref["name"], ref["call"], ref["kind"], ref["text"])
    ]


# TensorFlow builds a convolution over more than one batch dimension from reshapes around Conv2D:
# its output is named "squeeze_batch_dims/Reshape_1"; here it is the convolution's own node
_OTHER_NAME = {"rank5"}


@pytest.mark.parametrize("name, call, kind, text", _cases("build"), ids=lambda v: str(v)[:40])
def test_graph_building_matches_tensorflow(name, call, kind, text):
    if kind == "OK":
        y = _make(call)
        want = json.loads(text)
        assert (None if y.shape.ndims is None else y.shape.as_list()) == want["shape"]
        assert y.dtype.name == want["dtype"]
        if name not in _OTHER_NAME:
            assert y.name == want["name"]
        return
    error = {"ValueError": ValueError, "TypeError": TypeError}[kind]
    with pytest.raises(error) as e:
        _make(call)
    assert type(e.value) is error
    assert str(e.value) == text


# -- run-time errors -------------------------------------------------------------------------------

_ERRORS = {
    "InvalidArgumentError": tf.errors.InvalidArgumentError,
    "UnimplementedError": tf.errors.UnimplementedError,
}


@pytest.mark.parametrize("name, call, kind, text", _cases("run_errors"), ids=lambda v: str(v)[:40])
def test_running_matches_tensorflows_kernels(name, call, kind, text):
    feeds, spec = call
    placeholders = []
    for i, a in enumerate(spec["args"]):
        if isinstance(a, dict) and "placeholder" in a:
            placeholders.append(tf.placeholder(tf.float32, None, name=f"in{i}"))
            spec["args"][i] = None
    args = [p if a is None else a for p, a in zip(placeholders + [None] * 9, spec["args"])]
    y = getattr(tf.nn, spec["op"])(*args, **spec["kwargs"])
    feed = {p: np.ones(s, np.float32) for p, s in zip(placeholders, feeds)}
    with tf.Session() as sess:
        if kind == "OK":
            assert list(sess.run(y, feed).shape) == json.loads(text)["shape"]
            return
        with pytest.raises(_ERRORS[kind]) as e:
            sess.run(y, feed)
    assert str(e.value) == text


# -- layouts, dtypes, and torch --------------------------------------------------------------------


def _run(y, feed=None):
    with tf.Session() as sess:
        return sess.run(y, feed)


def test_nchw_is_nhwc_transposed():
    x = rng().normal(size=(2, 6, 7, 3)).astype(np.float32)
    f = rng(1).normal(size=(3, 2, 3, 4)).astype(np.float32)
    to_nchw = (0, 3, 1, 2)
    pad = [[0, 0], [2, 1], [0, 2], [0, 0]]
    pad_nchw = [pad[i] for i in to_nchw]
    pairs = [
        (
            tf.nn.conv2d(x, f, [1, 2, 2, 1], "SAME"),
            tf.nn.conv2d(x.transpose(to_nchw), f, [1, 1, 2, 2], "SAME", data_format="NCHW"),
        ),
        (
            tf.nn.conv2d(x, f, 1, pad, dilations=2),
            tf.nn.conv2d(x.transpose(to_nchw), f, 1, pad_nchw, data_format="NCHW", dilations=2),
        ),
        (
            tf.nn.max_pool(x, 3, 2, "SAME"),
            tf.nn.max_pool(x.transpose(to_nchw), 3, 2, "SAME", data_format="NCHW"),
        ),
        (
            tf.nn.avg_pool(x, [3, 2], 2, "SAME"),
            tf.nn.avg_pool(x.transpose(to_nchw), [3, 2], 2, "SAME", data_format="NCHW"),
        ),
    ]
    for nhwc, nchw in pairs:
        assert nchw.shape.as_list() == [nhwc.shape.as_list()[i] for i in to_nchw]
        a, b = _run([nhwc, nchw])
        close(b, a.transpose(to_nchw))


def test_same_padding_puts_the_odd_row_after():
    """TensorFlow's SAME: 2 rows and columns of padding for a 4x4 filter at stride 1, 1 before and
    2 after; torch's F.pad then a padding-free convolution gives the same."""
    x = rng().normal(size=(1, 5, 6, 2)).astype(np.float32)
    f = rng(1).normal(size=(4, 4, 2, 3)).astype(np.float32)
    got = _run(tf.nn.conv2d(x, f, 1, "SAME"))
    xt = F.pad(torch.from_numpy(x).permute(0, 3, 1, 2), (1, 2, 1, 2))
    want = F.conv2d(xt, torch.from_numpy(f).permute(3, 2, 0, 1)).permute(0, 2, 3, 1).numpy()
    close(got, want)


def test_integer_and_half_and_double_inputs():
    x = rng().integers(-3, 4, size=(1, 4, 5, 2)).astype(np.int32)
    f = rng(1).integers(-2, 3, size=(2, 2, 2, 3)).astype(np.int32)
    got = _run(tf.nn.conv2d(x, f, 1, "VALID"))
    want = np.zeros((1, 3, 4, 3), np.int64)
    for i in range(3):
        for j in range(4):
            want[0, i, j] = np.einsum("hwc,hwco->o", x[0, i : i + 2, j : j + 2], f)
    assert got.dtype == np.int32 and (got == want).all()
    pooled = _run(tf.nn.max_pool(x, 2, 2, "SAME"))
    assert pooled.dtype == np.int32 and pooled[0, 0, 0, 0] == x[0, :2, :2, 0].max()
    mean32 = _run(tf.nn.avg_pool(x.astype(np.float32), 2, 2, "SAME"))
    for dtype in (np.float16, np.float64):
        y = tf.nn.conv2d(x.astype(dtype), f.astype(dtype), 1, "VALID")
        mean = tf.nn.avg_pool(x.astype(dtype), 2, 2, "SAME")
        assert y.dtype.as_numpy_dtype == dtype and mean.dtype.as_numpy_dtype == dtype
        close(_run(y), want)
        close(_run(mean), mean32, tol=1e-3)


def test_static_shapes_follow_the_inputs():
    x = tf.placeholder(tf.float32, [None, 10, None, 3])
    assert tf.nn.conv2d(x, tf.zeros([3, 3, 3, 8]), [1, 2, 2, 1], "SAME").shape.as_list() == [
        None,
        5,
        None,
        8,
    ]
    assert tf.nn.max_pool(x, [1, 3, 1, 1], [1, 3, 1, 1], "SAME").shape.as_list() == [
        None,
        4,
        None,
        3,
    ]
    assert tf.nn.avg_pool(x, 4, 2, "VALID").shape.as_list() == [None, 4, None, 3]
    # the filter's unknown size leaves VALID's output unknown, not SAME's
    f = tf.placeholder(tf.float32, [None, 3, 3, 8])
    assert tf.nn.conv2d(x, f, 1, "VALID").shape.as_list() == [None, None, None, 8]
    assert tf.nn.conv2d(x, f, 1, "SAME").shape.as_list() == [None, 10, None, 8]


def test_names_in_name_scopes_and_exports():
    with tf.name_scope("layer"):
        y = tf.nn.conv2d(tf.zeros([1, 4, 4, 1]), tf.zeros([2, 2, 1, 1]), 1, "SAME")
        p = tf.nn.max_pool(y, 2, 2, "SAME")
        q = tf.nn.conv1d(tf.zeros([1, 4, 1]), tf.zeros([2, 1, 1]), 1, "SAME")
    assert (y.name, p.name, q.name) == (
        "layer/Conv2D:0",
        "layer/MaxPool:0",
        "layer/conv1d/Squeeze:0",
    )
    for name in ("conv2d", "conv1d", "max_pool", "max_pool2d", "avg_pool", "avg_pool2d"):
        assert f"nn.{name}" in tf.SUPPORTED
    assert tf.nn.avg_pool2d is tf.nn.avg_pool


def test_gradients_flow_through_empty_outputs():
    """A VALID window larger than a fed input gives an empty output (as TF's kernels do), and the
    gradient of anything computed from it is zero, not an error."""
    x = tf.placeholder(tf.float32, None)
    f = tf.Variable(np.ones((3, 2, 1, 1), np.float32))
    y = tf.nn.conv2d(x, f, [1, 3, 1, 1], "VALID")
    g = tf.gradients(tf.reduce_sum(y), [x, f])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        yv, gx, gf = sess.run([y, *g], {x: np.ones((1, 1, 4, 1), np.float32)})
    assert yv.shape == (1, 0, 3, 1) and not gx.any() and not gf.any()


# -- training --------------------------------------------------------------------------------------


def test_a_text_cnn_trains_with_rmsprop():
    """Embedding -> conv2d VALID -> relu -> max_pool SAME -> dense -> softmax cross entropy, as a
    TF1 text classifier builds it; RMSProp's loss falls at every step of 30."""
    tf.set_random_seed(1)
    V, L, D, K, Fn, C, B = 20, 9, 6, 3, 8, 3, 12
    r = rng(3)
    words = r.integers(0, V, size=(B, L)).astype(np.int32)
    labels = words[:, 0] % C  # learnable: the class is in the first word
    ids = tf.placeholder(tf.int32, [None, L])
    y = tf.placeholder(tf.int64, [None])
    emb = tf.Variable(tf.random_uniform([V, D], -1.0, 1.0), name="embedding")
    x = tf.expand_dims(tf.nn.embedding_lookup(emb, ids), -1)  # (B, L, D, 1)
    W = tf.Variable(tf.truncated_normal([K, D, 1, Fn], stddev=0.1), name="W")
    b = tf.Variable(tf.constant(0.1, shape=[Fn]), name="b")
    h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, W, [1, 1, 1, 1], "VALID", name="conv"), b))
    pooled = tf.nn.max_pool(
        h, ksize=[1, 2, 1, 1], strides=[1, 2, 1, 1], padding="SAME", name="pool"
    )
    assert pooled.shape.as_list() == [None, 4, 1, Fn]  # ceil((9 - 3 + 1) / 2)
    flat = tf.reshape(pooled, [-1, 4 * Fn])
    Wo = tf.Variable(tf.truncated_normal([4 * Fn, C], stddev=0.1), name="Wo")
    logits = tf.nn.xw_plus_b(flat, Wo, tf.Variable(tf.zeros([C])))
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    step = tf.train.RMSPropOptimizer(0.05).minimize(loss)
    feed = {ids: words, y: labels}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        losses = []
        for _ in range(30):
            losses.append(sess.run(loss, feed))
            sess.run(step, feed)
    assert all(b < a for a, b in zip(losses, losses[1:])), losses  # falls at every step
    assert losses[-1] < 0.6 * losses[0], losses
