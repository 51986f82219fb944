"""Helpers shared by the compat.v1 tests: the fixture folders and their loaders, comparisons, and
copying a session's values into the rnnkit cells behind the compat cells."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

import rnnkit.compat.v1 as tf

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TF1 = FIXTURES / "tf1"  # copy of ../shared/fixtures/tf1
CENSUS = FIXTURES / "tf1_census_gaps"  # tools/make_tf1_census_gap_fixtures.py
PTB = FIXTURES / "tf1_ptb"  # tools/make_tf1_ptb_fixtures.py, format in its README


def close(a, b, tol: float = 1e-5) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


def close_to_scale(actual, expected, what: str, rtol: float = 1e-5) -> None:
    """``|actual - expected| <= rtol * max(|expected|)`` element-wise, and the shapes agree."""
    expected = np.asarray(expected)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    assert np.shape(actual) == expected.shape, what
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rtol * max(scale, 1e-3), err_msg=what)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def run(fetches, feed=None):
    """``fetches`` evaluated in a new session of the default graph."""
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def fixture(name: str) -> dict[str, np.ndarray]:
    """The arrays of ``tests/fixtures/tf1/<name>.npz``."""
    with np.load(TF1 / f"{name}.npz") as data:  # a missing file fails the test
        return {k: data[k] for k in data.files}


def variables(fx: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A ``tf1`` fixture's variables by their TF names."""
    return {k[len("var/") :]: v for k, v in fx.items() if k.startswith("var/")}


def load_all(values: dict[str, np.ndarray]) -> None:
    """Give the default session's variables TensorFlow's values (by their TF names)."""
    names = set()
    for v in tf.global_variables():
        if v.op.name in values:
            v.load(values[v.op.name])
            names.add(v.op.name)
    assert names == set(values), sorted(set(values) - names)


def sync(sess, *cells) -> None:
    """Copy the session's values of the cells' variables into their rnnkit cells."""
    for cell in cells:
        for var, owner, attr in cell._weights.pairs:
            with torch.no_grad():
                getattr(owner, attr).copy_(torch.from_numpy(sess.run(var)))


def census_fixture(name: str) -> dict[str, np.ndarray]:
    """The arrays of ``tests/fixtures/tf1_census_gaps/<name>.npz``."""
    with np.load(CENSUS / f"{name}.npz", allow_pickle=False) as d:
        return {k: d[k] for k in d.files}


def ptb_fixture(name: str) -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata and the arrays of ``tests/fixtures/tf1_ptb/<name>``."""
    with np.load(PTB / name, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads(str(arrays.pop("meta"))), arrays


def weighted_value_and_grads(y, xs, second_wrt: int | None = None, seed: int = 2) -> list:
    """Run ``[y, d(sum(y * w))/dx for x in xs]`` with fixed random weights ``w`` shaped like ``y``,
    and with ``second_wrt=k`` also the gradient of ``sum(g0 * g0)`` (``g0`` the first of those
    gradients) with respect to ``xs[k]``: a second derivative."""
    w = tf.constant(
        rng(seed).uniform(0.5, 2, size=y.shape.as_list()).astype(y.dtype.as_numpy_dtype)
    )
    grads = tf.gradients(tf.reduce_sum(y * w), xs)
    fetches = [y, *grads]
    if second_wrt is not None:
        fetches.append(tf.gradients(tf.reduce_sum(grads[0] * grads[0]), xs[second_wrt])[0])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches)
