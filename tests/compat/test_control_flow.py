"""``tf.cond``, ``tf.case``, ``tf.while_loop``, ``tf.TensorArray``, ``tf.map_fn``, ``tf.scan``,
``tf.foldl``/``tf.foldr`` and ``tf.tuple`` in rnnkit.compat.v1: values, gradients, static shapes and
errors against real TensorFlow's (``tests/fixtures/tf1_control_flow``, made by
``tools/make_tf1_control_flow_fixtures.py`` from the programs in ``tests/compat/_programs.py``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat import _programs as programs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf1_control_flow"
CASES = np.load(FIXTURES / "cases.npz", allow_pickle=False)
ERRORS = json.loads((FIXTURES / "errors.json").read_text())


def _run_case(name):
    graph = tf.Graph()
    out = {}
    with graph.as_default():
        runs = programs.CASES[name](tf)
        with tf.Session(graph=graph) as sess:
            sess.run(tf.global_variables_initializer())
            for label, fetches, feed in runs:
                for key, value in sess.run(fetches, feed).items():
                    if value is not None:  # a fetched op
                        out[f"{name}/{label}/{key}"] = np.asarray(value)
    return out


@pytest.mark.parametrize("name", sorted(programs.CASES))
def test_values_and_gradients_match_tensorflow(name):
    got = _run_case(name)
    want = {k: CASES[k] for k in CASES.files if k.startswith(f"{name}/")}
    assert want and sorted(got) == sorted(want)
    for key, ref in want.items():
        assert got[key].dtype == ref.dtype, key
        assert got[key].shape == ref.shape, key
        np.testing.assert_allclose(got[key], ref, rtol=2e-5, atol=1e-6, err_msg=key)


def normalize(message):
    """TF's message and ours compared on their first line, tensor names masked (graphs number
    their ops differently) and TF's resource-name prefix and object reprs left out."""
    line = message.split("\n")[0]
    line = re.sub(r"^TensorArray \S+: ", "", line)
    line = re.split(r" Received (?:Tensor\(|<tf\.Tensor)", line)[0]
    return re.sub(r"[\w/]+:\d+", "T", line).strip()


def raised_by(build):
    graph = tf.Graph()
    with graph.as_default(), pytest.raises(Exception) as info:
        build(tf)
    return info.value


CONTROL_ERRORS = sorted(n for n in programs.ERRORS if not n.startswith("data_"))


@pytest.mark.parametrize("name", CONTROL_ERRORS)
def test_errors_match_tensorflow(name):
    err = raised_by(programs.ERRORS[name])
    ref = ERRORS[name]
    assert type(err).__name__ == ref["type"], (name, err)
    assert normalize(str(err)) == normalize(ref["message"]), (name, str(err))
    assert isinstance(err, (TypeError, ValueError, LookupError, RuntimeError, NotImplementedError))


def test_tensorflow_error_types_are_rnnkits():
    assert issubclass(tf.errors.InvalidArgumentError, ValueError)
    assert issubclass(tf.errors.UnimplementedError, NotImplementedError)


def test_static_shapes_and_names():
    x = tf.placeholder(tf.float32, [None, 3])
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: tf.zeros([2, 3]), lambda: tf.zeros([4, 3]))
    assert y.shape.as_list() == [None, 3] and y.name == "cond/Merge:0"
    a, b = tf.cond(p, lambda: (x, 1), lambda: (x * 2.0, 2))
    assert a.shape.as_list() == [None, 3] and b.dtype == tf.int32 and b.name == "cond_1/Merge_1:0"
    # a one-element list is unpacked unless strict
    assert isinstance(tf.cond(p, lambda: [x], lambda: [x]), tf.Tensor)
    assert isinstance(tf.cond(p, lambda: [x], lambda: [x], strict=True), list)
    i = tf.while_loop(lambda i: i < 3, lambda i: i + 1, [tf.constant(0)])
    assert isinstance(i, tf.Tensor) and i.dtype == tf.int32 and i.shape.as_list() == []
    (j,) = tf.while_loop(lambda i: i < 3, lambda i: (i + 1,), (0,), return_same_structure=True)
    _, v = tf.while_loop(
        lambda k, v: k < 2,
        lambda k, v: (k + 1, tf.concat([v, v], 0)),
        [0, tf.zeros([1, 2])],
        shape_invariants=[tf.TensorShape([]), tf.TensorShape([None, 2])],
    )
    assert v.shape.as_list() == [None, 2]
    # the result has the structure the body returns
    pair = tf.while_loop(lambda k, a: k < 2, lambda k, a: (k + 1, a), [0, 1.0])
    assert isinstance(pair, tuple) and len(pair) == 2
    m = tf.map_fn(lambda r: r[:2], x)
    assert m.shape.as_list() == [None, 2]
    with tf.Session() as sess:
        assert sess.run(j) == 3
        assert sess.run(v).shape == (4, 2)


def test_python_bool_condition_and_maximum_iterations_tensor():
    n = tf.placeholder(tf.int32, [])
    i = tf.while_loop(lambda i: True, lambda i: i + 2, [0], maximum_iterations=n)
    with tf.Session() as sess:
        assert sess.run(i, {n: 4}) == 8
        assert sess.run(i, {n: 0}) == 0


def test_untaken_branch_gradient_is_zero_and_back_prop_false_stops_it():
    x = tf.placeholder(tf.float32, [])
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: x * 3.0, lambda: tf.constant(1.0))
    (g,) = tf.gradients(y, [x])
    z = tf.while_loop(lambda k, a: k < 3, lambda k, a: (k + 1, a * x), [0, 1.0], back_prop=False)[1]
    (gz,) = tf.gradients(z, [x])
    with tf.Session() as sess:
        assert sess.run(g, {x: 2.0, p: True}) == 3.0
        assert sess.run(g, {x: 2.0, p: False}) == 0.0
        assert sess.run([z, gz], {x: 2.0}) == [8.0, 0.0]


def test_variables_created_inside_branches_and_bodies():
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: tf.Variable(5.0, name="inside") + 1.0, lambda: tf.constant(0.0))

    def body(k, acc):
        with tf.variable_scope("body", reuse=tf.AUTO_REUSE):
            w = tf.get_variable("w", [], initializer=tf.constant_initializer(2.0))
        return k + 1, acc * w

    _, z = tf.while_loop(lambda k, a: k < 3, body, [0, 1.0])
    assert [v.name for v in tf.global_variables()] == ["cond/inside:0", "body/w:0"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run([y, z], {p: True}) == [6.0, 8.0]
    # a variable whose initial value is a loop variable has no value to start from (TF refuses too)
    with tf.Graph().as_default():
        tf.while_loop(lambda k: k < 2, lambda k: k + tf.Variable(k), [0])
        with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="lambda"):
            sess.run(tf.global_variables_initializer())


def test_loop_value_outgrowing_its_invariant_at_run_time():
    v = tf.placeholder(tf.float32, [2])
    # the doubled value's static shape is unknown (a boolean mask): only the run can check it
    double = lambda v: tf.boolean_mask(tf.tile(v, [2]), tf.ones([4], tf.bool))  # noqa: E731
    grow = tf.while_loop(lambda v: tf.size(v) < 4, double, [v])
    with (
        tf.Session() as sess,
        pytest.raises(tf.errors.InvalidArgumentError, match="shape invariant"),
    ):
        sess.run(grow, {v: [1.0, 2.0]})


def test_a_kernel_error_inside_a_loop_body_names_its_op():
    # the body calls its nodes' kernels itself, as Session.run does: torch's error still becomes
    # TensorFlow's, naming the op inside the loop
    x, y = tf.placeholder(tf.float32, [None, None]), tf.placeholder(tf.float32, [None, None])
    out = tf.while_loop(
        lambda k, v: k < 2,
        lambda k, v: (k + 1, tf.matmul(v, y)),
        [0, x],
        shape_invariants=[tf.TensorShape([]), tf.TensorShape([None, None])],
    )
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"\(in op 'while/MatMul'\)"):
            sess.run(out, {x: np.ones((2, 3)), y: np.ones((4, 3))})
        k, v = sess.run(out, {x: np.ones((2, 3)), y: np.ones((3, 3))})
        assert k == 2 and np.allclose(v, 9.0)


def test_gradients_taken_inside_a_loop_body():
    # gradient descent on x**2 written as a loop: each step differentiates inside the body
    def body(k, x):
        (g,) = tf.gradients(x * x, [x])
        return k + 1, x - 0.25 * g

    _, x = tf.while_loop(lambda k, x: k < 3, body, [0, tf.constant(4.0)])
    with tf.Session() as sess:
        assert sess.run(x) == 0.5  # 4 -> 2 -> 1 -> 0.5


def test_run_time_errors_inside_a_body_are_tensorflow_errors():
    a = tf.placeholder(tf.float32, [None, None])
    b = tf.placeholder(tf.float32, [None, None])
    y = tf.while_loop(lambda k, m: k < 2, lambda k, m: (k + 1, tf.matmul(m, b)), [0, a])[1]
    p = tf.placeholder(tf.bool, None)  # a condition of unknown rank, fed a vector
    z = tf.cond(p, lambda: a, lambda: b)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(y, {a: np.ones((2, 3)), b: np.ones((2, 2))})
        with pytest.raises(tf.errors.InvalidArgumentError, match="must be a scalar"):
            sess.run(z, {a: np.ones((1, 1)), b: np.ones((1, 1)), p: [True, False]})
        # rows of different lengths cannot be stacked
        ragged = tf.map_fn(lambda r: tf.boolean_mask(r, r > 0), a)
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(ragged, {a: [[1, 2], [3, -4]]})


SHAPES = json.loads((FIXTURES / "shapes.json").read_text())


@pytest.mark.parametrize("name", sorted(programs.CASES))
def test_static_shapes_and_variable_names_match_tensorflow(name):
    with tf.Graph().as_default():
        runs = programs.CASES[name](tf)
        variables = [v.name for v in tf.global_variables()]
    assert variables == SHAPES[f"{name}/variables"]
    got = {
        f"{name}/{label}/{key}": (None if t.shape.ndims is None else t.shape.as_list())
        for label, fetches, _ in runs
        for key, t in fetches.items()
        if isinstance(t, tf.Tensor)
    }
    want = {
        k: v for k, v in SHAPES.items() if k.startswith(f"{name}/") and k != f"{name}/variables"
    }
    assert got == want
