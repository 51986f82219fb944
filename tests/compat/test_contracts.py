"""The named contracts between compat.v1's modules, tested directly.

- A row gather (``tf.gather`` along axis 0, ``embedding_lookup``) is a :class:`RowGather` node, and a
  variable read only through row gathers gets an :class:`IndexedSlices` gradient (TensorFlow's
  ``tf.IndexedSlices``: ``values`` one row per lookup, ``indices``, ``dense_shape``); every other
  gradient is a plain tensor. Values are exact (the loss is linear in the rows); the dtypes, static
  shapes and the order of two lookups' rows are those TensorFlow 2.21 gives a ``tf.compat.v1``
  variable's gradient (int32 ``indices`` of int32 ids, int32 ``dense_shape``).
- Each session's variable values live in its :class:`VariableStore`, with TensorFlow's run-time
  errors (an uninitialized read, a value of another shape: the wording of TF 2.21's ``Assign``).
- A built-in cell's node runs its rnnkit cell with the session's values bound in place of the cell's
  parameters, and puts the parameters back after the run, also when the run fails.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import numpy as np
import pytest
import torch

import rnnkit.compat.v1 as tf
from rnnkit.compat.v1.gradients import GradientsNode
from rnnkit.compat.v1.ops import IndexedSlices, RowGather
from rnnkit.compat.v1.variable_store import VariableStore


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()


def _embedding_loss():
    emb = tf.Variable(np.arange(12, dtype=np.float32).reshape(4, 3), name="emb")
    ids = tf.constant([[1, 2], [1, 0]])
    w = tf.constant([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[7.0, 8.0, 9.0], [1.0, 1.0, 1.0]]])
    rows = tf.nn.embedding_lookup(emb, ids)
    return emb, ids, rows, tf.reduce_sum(rows * w)


def test_a_gather_along_the_first_axis_is_a_row_gather():
    emb, ids, rows, _ = _embedding_loss()
    assert isinstance(rows, RowGather)
    assert rows.params is emb and rows.indices is ids
    first = tf.gather(emb, [0, 3])
    assert isinstance(first, RowGather)
    across = tf.gather(emb, [0, 2], axis=1)  # columns: no sparse gradient in TF either
    assert isinstance(across, tf.Tensor) and not isinstance(across, RowGather)


def test_an_embedding_gradient_is_indexed_slices_with_tf_fields():
    emb, ids, rows, loss = _embedding_loss()
    (g,) = tf.gradients(loss, [emb])
    assert isinstance(g, IndexedSlices)
    assert len(g.value_parts) == 1 and g.value_parts[0].shape.as_list() == [2, 2, 3]
    assert g.indices.dtype is tf.int32 and g.indices.shape.as_list() == [4]  # the ids, flat
    node = g.value_parts[0]._inputs[0]  # the gradients node, which a run differentiates for
    assert isinstance(node, GradientsNode) and list(node.xs) == [emb]
    values, indices, dense_shape, dense = g.values, g.indices, g.dense_shape, g * 1.0
    assert values.shape.as_list() == [4, 3] and dense_shape.dtype is tf.int32
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([values, indices, dense_shape, dense, g])
    want_values = [[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 1, 1]]  # one row per lookup
    np.testing.assert_array_equal(got[0], want_values)
    np.testing.assert_array_equal(got[1], [1, 2, 1, 0])
    assert got[1].dtype == np.int32 and got[2].dtype == np.int32
    np.testing.assert_array_equal(got[2], [4, 3])
    np.testing.assert_array_equal(got[3], [[1, 1, 1], [8, 10, 12], [4, 5, 6], [0, 0, 0]])
    fetched = got[4]  # the gradient itself comes back as TF's IndexedSlicesValue
    assert isinstance(fetched, tf.IndexedSlicesValue)
    np.testing.assert_array_equal(fetched.values, want_values)
    np.testing.assert_array_equal(fetched.indices, [1, 2, 1, 0])
    np.testing.assert_array_equal(fetched.dense_shape, [4, 3])
    assert fetched.indices.dtype == np.int32 and fetched.dense_shape.dtype == np.int32


def test_two_lookups_give_one_indexed_slices_and_clipping_keeps_it():
    emb = tf.Variable(np.ones((3, 2), np.float32))
    a, b = tf.constant([0, 2]), tf.constant([2])
    loss = tf.reduce_sum(tf.gather(emb, a)) + 3.0 * tf.reduce_sum(tf.gather(emb, b))
    (g,) = tf.gradients(loss, [emb])
    assert isinstance(g, IndexedSlices) and len(g.value_parts) == 2
    (clipped,), norm = tf.clip_by_global_norm([g], 1.0)
    assert isinstance(clipped, IndexedSlices) and clipped.indices is g.indices
    assert isinstance(tf.clip_by_norm(g, 1.0), IndexedSlices)
    assert isinstance(tf.clip_by_value(g, 0.0, 2.0), IndexedSlices)
    dense = tf.convert_to_tensor(g)
    assert not isinstance(dense, IndexedSlices)  # TF's conversion makes it dense
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_g, got_norm, got_dense = sess.run([g, norm, dense])
    np.testing.assert_array_equal(got_g.indices, [0, 2, 2])  # the lookups in creation order
    np.testing.assert_array_equal(got_g.values, [[1, 1], [1, 1], [3, 3]])
    assert got_g.indices.dtype == np.int32
    np.testing.assert_allclose(got_norm, np.sqrt(22.0), rtol=1e-6)  # rows, not the summed row 2
    np.testing.assert_array_equal(got_dense, [[1, 1], [0, 0], [4, 4]])


def test_clipping_and_plain_gradient_descent_never_make_the_dense_embedding_gradient(monkeypatch):
    grad_mod = importlib.import_module("rnnkit.compat.v1.gradients")

    emb, ids, rows, loss = _embedding_loss()
    w = tf.Variable(np.ones((3,), np.float32))
    loss = loss + tf.reduce_sum(w * w)
    grads, tvars = zip(*tf.train.GradientDescentOptimizer(0.5).compute_gradients(loss))
    clipped, _ = tf.clip_by_global_norm(list(grads), 1.0)
    step = tf.train.GradientDescentOptimizer(0.5).apply_gradients(zip(clipped, tvars))
    dense = tf.convert_to_tensor(clipped[list(tvars).index(emb)])
    summed = []
    real = grad_mod._rows_summed
    monkeypatch.setattr(grad_mod, "_rows_summed", lambda *a: summed.append(1) or real(*a))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before, want = sess.run([emb, dense])
        assert summed == [1]  # the dense value, made where a run asks for it
        summed.clear()
        sess.run(step)
        assert summed == []  # the update applied the rows themselves
        after = sess.run(emb)
    # lookups of ids 1, 2, 1, 0: row 1 gets the first and third lookups' rows, row 3 none
    np.testing.assert_allclose(after, before - 0.5 * want, rtol=1e-6)
    np.testing.assert_array_equal(after[3], before[3])


def test_a_variable_read_otherwise_too_gets_a_dense_gradient():
    emb = tf.Variable(np.ones((3, 2), np.float32))
    loss = tf.reduce_sum(tf.gather(emb, [1])) + tf.reduce_sum(emb)
    (g,) = tf.gradients(loss, [emb])
    assert type(g) is tf.Tensor
    across = tf.reduce_sum(tf.gather(emb, [1], axis=1))
    assert type(tf.gradients(across, [emb])[0]) is tf.Tensor


def test_each_session_has_its_own_variable_store():
    w = tf.Variable([[1.0, 2.0]], name="W")
    with tf.Session() as a, tf.Session() as b:
        assert isinstance(a.variable_store, VariableStore)
        assert not a.variable_store.is_initialized(w)
        a.run(w.initializer)
        assert a.variable_store.is_initialized(w) and not b.variable_store.is_initialized(w)
        assert a.run(tf.is_variable_initialized(w)) and not b.run(tf.is_variable_initialized(w))
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value W"):
            b.variable_store.read(w)
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value W"):
            b.run(w)
        value = a.variable_store.read(w)
        assert value.dtype is torch.float32 and value.tolist() == [[1.0, 2.0]]
        a.run(tf.assign_add(w, [[1.0, 1.0]]))
        assert a.variable_store.read(w).tolist() == [[2.0, 3.0]]
        assert [v for v, _ in a.variable_store.items()] == [w]
    assert len(a.variable_store) == 0  # closing the session frees its values


def test_an_optimizer_updates_the_stored_values_in_place():
    w = tf.Variable([1.0, 2.0])
    step = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.5).minimize(tf.reduce_sum(w * w), step)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.variable_store.read(w)
        sess.run(train)
        assert sess.variable_store.read(w) is before  # the same tensor, updated
        assert before.tolist() == [0.0, 0.0] and sess.variable_store.read(step).item() == 1


def test_assigning_another_shape_is_tf_invalid_argument_error():
    w = tf.Variable(np.zeros((2, 3), np.float32), name="W")
    fed = tf.placeholder(tf.float32, None)
    assign = tf.assign(w, fed)
    with tf.Session() as sess:
        sess.run(w.initializer)
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=r"Assign requires shapes of both tensors to match. lhs shape= \[2,3\] rhs "
            r"shape= \[3,2\]",
        ):
            sess.run(assign, {fed: np.ones((3, 2), np.float32)})
        np.testing.assert_array_equal(sess.run(w), np.zeros((2, 3)))  # unchanged
        with pytest.raises(ValueError, match=r"Cannot load a value of shape \(3,\)"):
            w.load(np.ones(3), sess)  # TF: a feed error, at the Python call


def test_the_store_checks_dtype_and_writes_all_or_nothing():
    w = tf.Variable(np.zeros((2,), np.float32), name="W")
    v = tf.Variable(np.zeros((1,), np.float64), name="V")
    store = VariableStore()
    with pytest.raises(TypeError, match="expected dtype float32, got torch.float64"):
        store.assign(w, torch.zeros(2, dtype=torch.float64))
    with pytest.raises(TypeError, match="expected a torch tensor, got ndarray"):
        store.assign(w, np.zeros(2, np.float32))
    good = {w: torch.ones(2), v: torch.ones(3, dtype=torch.float64)}
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"lhs shape= \[1\] rhs shape= \[3\]"):
        store.assign_all(good, "save/restore_all")
    assert not store.is_initialized(w) and not store.is_initialized(v)  # nothing written
    store.assign_all({w: torch.ones(2), v: torch.ones(1, dtype=torch.float64)})
    assert store.read(w).tolist() == [1.0, 1.0] and store.read(v).tolist() == [1.0]


def test_a_cell_runs_with_the_session_values_and_gets_its_parameters_back():
    x = tf.placeholder(tf.float32, [None, 4, 3])
    n = tf.placeholder(tf.int32, [None])
    cell = tf.nn.rnn_cell.GRUCell(5)
    out, _ = tf.nn.bidirectional_dynamic_rnn(cell, cell, x, n, dtype=tf.float32)  # one cell, twice
    loss = tf.reduce_sum(tf.concat(out, 2))
    kernels = [v for v in tf.trainable_variables() if v.name.endswith("kernel:0")]
    grads = tf.gradients(loss, kernels)
    core = cell.rnnkit_cell
    params = {n: p for n, p in core.named_parameters()}
    values = {n: p.detach().clone() for n, p in params.items()}
    xv = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([loss, *grads], {x: xv, n: [4, 2]})
        for k in kernels:  # zero kernels: the outputs depend on the biases only
            sess.run(tf.assign(k, tf.zeros_like(k)))
        zero = sess.run(out, {x: xv, n: [4, 4]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="seq_lens"):
            sess.run(loss, {x: xv, n: [4, 9]})  # the run fails in the node, parameters bound
    assert np.isfinite(got[0]) and all(np.abs(g).sum() > 0 for g in got[1:])
    np.testing.assert_allclose(zero[0], zero[1], rtol=0, atol=1e-6)  # both directions alike
    after = dict(core.named_parameters())
    assert list(after) == list(params)
    for n, p in after.items():  # the same Parameter objects, their values untouched
        assert p is params[n] and torch.equal(p, values[n]), n


def test_int64_ids_give_int64_indices():
    emb = tf.Variable(np.ones((3, 2), np.float32))
    ids = tf.constant([[1, 2]], tf.int64)
    (g,) = tf.gradients(tf.reduce_sum(tf.gather(emb, ids)), [emb])
    assert g.indices.dtype is tf.int64 and g.indices.shape.as_list() == [2]
    assert g.dense_shape.dtype is tf.int32  # TF's, whatever the ids' dtype
    with tf.Session() as sess:
        sess.run(emb.initializer)
        got = sess.run(g)
    assert got.indices.dtype == np.int64 and got.indices.tolist() == [1, 2]


def test_a_training_step_does_not_import_sympy():
    # torch's gradient call imports its symbolic-shape module (and sympy: about 1.2 s, once per
    # process) when handed gradient tensors; a scalar loss's gradient of one is left to torch
    code = (
        "import sys, numpy as np\n"
        "import rnnkit.compat.v1 as tf\n"
        "x = tf.Variable(np.ones((2, 3), np.float32))\n"
        "loss = tf.reduce_mean(tf.tanh(tf.matmul(x, tf.ones((3, 4)))))\n"
        "op = tf.train.AdamOptimizer(0.1).minimize(loss)\n"
        "with tf.Session() as s:\n"
        "    s.run(tf.global_variables_initializer())\n"
        "    s.run(op)\n"
        "    (g,) = s.run(tf.gradients(loss * 2.0, [x]))\n"
        "assert g.shape == (2, 3) and np.isfinite(g).all()\n"
        "print('sympy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
