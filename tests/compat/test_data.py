"""``tf.data`` in rnnkit.compat.v1: datasets read through one-shot, initializable and
reinitializable iterators, element by element against real TensorFlow's (elements, dtypes, static
shapes, end of data, errors: ``tests/fixtures/tf1_control_flow``, made by
``tools/make_tf1_control_flow_fixtures.py`` from the programs in ``tests/compat/_programs.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat import _programs as programs
from tests.compat.test_control_flow import normalize, raised_by

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tf1_control_flow"
ELEMENTS = np.load(FIXTURES / "data.npz", allow_pickle=False)
META = json.loads((FIXTURES / "data.json").read_text())
ERRORS = json.loads((FIXTURES / "errors.json").read_text())


def _shape(s):
    return None if s.ndims is None else s.as_list()


def read_all(sess, nxt, limit=1000):
    out = []
    for _ in range(limit):
        try:
            out.append(sess.run(nxt))
        except tf.errors.OutOfRangeError:
            return out
    raise AssertionError("the dataset did not end")


@pytest.mark.parametrize("name", sorted(programs.DATA))
def test_elements_match_tensorflow(name):
    meta = META[name]
    graph = tf.Graph()
    with graph.as_default():
        nxt, init_runs = programs.DATA[name](tf)
        leaves = programs.flat(nxt)
        assert [t.dtype.name for t in leaves] == meta["dtypes"]
        assert [_shape(t.shape) for t in leaves] == meta["shapes"]
        inits = tf.get_collection("data_init")
        with tf.Session(graph=graph) as sess:
            for k, feed in enumerate(init_runs):
                if inits:
                    sess.run(inits[k % len(inits)], feed)
                elements = read_all(sess, nxt)
                assert len(elements) == meta["counts"][k]
                for n, element in enumerate(elements):
                    for j, value in enumerate(programs.flat(element)):
                        ref = ELEMENTS[f"{name}/{k}/{n}/{j}"]
                        value = np.asarray(value)
                        assert value.dtype == ref.dtype and value.shape == ref.shape, (n, j)
                        np.testing.assert_allclose(value, ref, rtol=1e-6, err_msg=f"{k}/{n}/{j}")
                # once ended, the iterator stays at the end
                with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
                    sess.run(nxt)


DATA_ERRORS = sorted(n for n in programs.ERRORS if n.startswith("data_"))


@pytest.mark.parametrize("name", DATA_ERRORS)
def test_errors_match_tensorflow(name):
    err = raised_by(programs.ERRORS[name])
    ref = ERRORS[name]
    assert type(err).__name__ == ref["type"], (name, err)
    assert normalize(str(err)) == normalize(ref["message"]), (name, str(err))


def test_structure_properties():
    ds = tf.data.Dataset.from_tensor_slices(
        {"a": np.arange(4), "b": (np.ones((4, 2)), [1, 2, 3, 4])}
    )
    assert ds.output_types == {"a": tf.int64, "b": (tf.float64, tf.int32)}
    assert tf.data.get_output_shapes(ds.batch(3, drop_remainder=True))["b"][0].as_list() == [3, 2]
    assert ds.output_classes["a"] is tf.Tensor
    it = ds.make_one_shot_iterator()
    assert it.output_types == ds.output_types
    with pytest.raises(ValueError, match="does not have an initializer"):
        it.initializer  # noqa: B018


def test_shuffle_is_a_permutation_deterministic_per_seed():
    def epochs(seed):
        with tf.Graph().as_default() as g:
            nxt = tf.data.Dataset.range(20).shuffle(5, seed=seed).repeat(2).make_one_shot_iterator().get_next()  # fmt: skip
            with tf.Session(graph=g) as sess:
                got = [int(v) for v in read_all(sess, nxt)]
        return got[:20], got[20:]

    a1, a2 = epochs(3)
    assert sorted(a1) == list(range(20)) and sorted(a2) == list(range(20))
    assert a1 != list(range(20)) and a1 != a2  # shuffled, anew each epoch
    assert epochs(3) == (a1, a2) and epochs(4) != (a1, a2)
    # a buffer of 5 moves an element at most 4 places earlier
    assert all(v <= k + 4 for k, v in enumerate(a1))


def test_generator_called_anew_at_each_initialization_and_get_next_once_per_run():
    calls = []

    def gen():
        calls.append(1)
        yield from ([1, 2], [3, 4], [5, 6])

    ds = tf.data.Dataset.from_generator(gen, tf.int32, [2])
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        for _ in range(2):
            sess.run(it.initializer)
            a, b = sess.run([nxt, nxt * 10])  # one element per run, however often it is used
            assert a.tolist() == [1, 2] and b.tolist() == [10, 20]
            assert len(read_all(sess, nxt)) == 2
    assert len(calls) == 2


def test_repeating_an_empty_dataset_ends():
    nxt = tf.data.Dataset.range(0).repeat().make_one_shot_iterator().get_next()
    with tf.Session() as sess, pytest.raises(tf.errors.OutOfRangeError):
        sess.run(nxt)


def test_map_function_captures_and_python_values():
    scale = tf.placeholder(tf.float32, [])
    ds = tf.data.Dataset.from_tensor_slices(np.arange(3, dtype=np.float32))
    it = ds.map(lambda x: (x * scale, 1)).make_initializable_iterator()
    x, one = it.get_next()
    assert one.dtype == tf.int32
    with tf.Session() as sess:
        sess.run(it.initializer, {scale: 2.0})  # the captured placeholder is fed at initialization
        assert [sess.run(x) for _ in range(3)] == [0.0, 2.0, 4.0]


def test_training_loop_over_a_dataset():
    rng = np.random.RandomState(0)
    xs = rng.randn(64, 3).astype(np.float32)
    ys = xs @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    ds = tf.data.Dataset.from_tensor_slices((xs, ys)).shuffle(64, seed=1).batch(16).repeat(30)
    x, y = ds.make_one_shot_iterator().get_next()
    w = tf.Variable(tf.zeros([3, 1]))
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        steps = 0
        while True:
            try:
                sess.run(step)
            except tf.errors.OutOfRangeError:
                break
            steps += 1
        assert steps == 120
        np.testing.assert_allclose(sess.run(w).ravel(), [1.0, -2.0, 0.5], atol=1e-3)


def test_sizes_fed_with_the_initializer():
    # TF1 tutorials feed the batch size (an int64 placeholder) when they initialize the iterator
    batch = tf.placeholder(tf.int64, [])
    epochs = tf.placeholder(tf.int64, [])
    ds = tf.data.Dataset.range(5).repeat(epochs).batch(batch)
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    assert nxt.shape.as_list() == [None]
    with tf.Session() as sess:
        sess.run(it.initializer, {batch: 4, epochs: 2})
        assert [v.tolist() for v in read_all(sess, nxt)] == [[0, 1, 2, 3], [4, 0, 1, 2], [3, 4]]
        sess.run(it.initializer, {batch: 5, epochs: 1})
        assert [v.tolist() for v in read_all(sess, nxt)] == [[0, 1, 2, 3, 4]]
        sess.run(it.initializer, {batch: 0, epochs: 1})
        with pytest.raises(tf.errors.InvalidArgumentError, match="Batch size must be greater"):
            sess.run(nxt)
    with pytest.raises(ValueError, match="Cannot capture a placeholder"):
        ds.make_one_shot_iterator()


def test_autotune_and_apply():
    autotune = tf.data.experimental.AUTOTUNE
    ds = tf.data.Dataset.range(6).map(lambda n: n * 2, num_parallel_calls=autotune)
    ds = ds.apply(lambda d: d.batch(4)).prefetch(autotune)
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert [v.tolist() for v in read_all(sess, nxt)] == [[0, 2, 4, 6], [8, 10]]
    with pytest.raises(TypeError, match="must return a `tf.data.Dataset`"):
        ds.apply(lambda d: 3)


@pytest.mark.parametrize(
    "get, name",
    [
        (lambda: tf.data.TextLineDataset, "tf.data.TextLineDataset"),
        (lambda: tf.data.Dataset.list_files, "tf.data.Dataset.list_files"),
        (lambda: tf.data.Dataset.range(3).flat_map, "tf.data.Dataset.flat_map"),
        (
            lambda: tf.data.Dataset.range(3).make_one_shot_iterator().string_handle(),
            "string_handle",
        ),
    ],
)
def test_names_outside_the_subset_are_named(get, name):
    with pytest.raises(tf.UnsupportedError, match=name):
        get()
