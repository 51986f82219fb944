"""rnnkit.compat.v1: TF1 programs (one RNN three ways, time-major, stacked, bidirectional), errors.

References: TensorFlow 1.x's own numbers (../shared/fixtures/tf1, weights loaded into the compat
cells), rnnkit's own API run with the same cell objects, and numpy for the plain ops.
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
import rnnkit.compat.v1 as tf

FIXTURES = (
    Path(__file__).resolve().parents[1] / "fixtures" / "tf1"
)  # copy of ../shared/fixtures/tf1

X0_BATCH = np.array([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 0, 1]])
X1_BATCH = np.array([[9, 8, 7], [0, 0, 0], [6, 5, 4], [3, 2, 1]])


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def fixture(name: str) -> dict[str, np.ndarray]:
    with np.load(FIXTURES / f"{name}.npz") as data:  # a missing file fails the test
        return {k: data[k] for k in data.files}


def variables(fx: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
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


def close(a, b, tol: float = 1e-5) -> None:
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


# ---------------------------------------------------------------------------------------------
# One two-step RNN three ways, as a TF1 program: by hand, static_rnn, dynamic_rnn
# ---------------------------------------------------------------------------------------------


def three_ways() -> dict:
    """A TF1 program over 3 inputs, 5 units and a batch of 4: an RNN written with Variables and
    tanh(matmul), then a contrib BasicRNNCell under static_rnn on two placeholders, then an
    nn.rnn_cell BasicRNNCell under dynamic_rnn on one (batch, time, input) placeholder; each part's
    tensors and fetched values by name."""
    inputs, units = 3, 5
    steps = np.stack([X0_BATCH, X1_BATCH], axis=1)  # (4, 2, 3)

    def by_hand() -> dict:
        x = [tf.placeholder(tf.float32, [None, inputs]) for _ in range(2)]
        wx = tf.Variable(tf.random_normal(shape=[inputs, units], dtype=tf.float32))
        wy = tf.Variable(tf.random_normal(shape=[units, units], dtype=tf.float32))
        bias = tf.Variable(tf.zeros([1, units], dtype=tf.float32))
        y0 = tf.tanh(tf.matmul(x[0], wx) + bias)
        y1 = tf.tanh(tf.matmul(y0, wy) + tf.matmul(x[1], wx) + bias)
        with tf.Session() as sess:
            tf.global_variables_initializer().run()
            v0, v1 = sess.run([y0, y1], feed_dict={x[0]: X0_BATCH, x[1]: X1_BATCH})
        print("by hand:", v0.shape, v1.shape)
        return dict(Wx=wx, Wy=wy, b=bias, X0=x[0], X1=x[1], Y0=y0, Y1=y1, Y0_val=v0, Y1_val=v1)

    def static() -> dict:
        x = [tf.placeholder(tf.float32, [None, inputs]) for _ in range(2)]
        cell = tf.contrib.rnn.BasicRNNCell(num_units=units)
        outputs, state = tf.contrib.rnn.static_rnn(cell, x, dtype=tf.float32)
        init = tf.global_variables_initializer()
        with tf.Session() as sess:
            init.run()
            v0, v1 = sess.run(outputs, feed_dict=dict(zip(x, (X0_BATCH, X1_BATCH))))
        return dict(cell=cell, X0=x[0], X1=x[1], Y0=outputs[0], Y1=outputs[1], states=state,
                    Y0_val=v0, Y1_val=v1, init=init)  # fmt: skip

    def dynamic() -> dict:
        x = tf.placeholder(tf.float32, [None, 2, inputs])
        cell = tf.nn.rnn_cell.BasicRNNCell(num_units=units)
        outputs, state = tf.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        init = tf.global_variables_initializer()
        with tf.Session():
            init.run()
            value = outputs.eval(feed_dict={x: steps})
        print("dynamic_rnn:", value.shape)
        return dict(cell=cell, X=x, outputs=outputs, states=state, outputs_val=value,
                    X_batch=steps, init=init)  # fmt: skip

    return dict(part1=by_hand(), part2=static(), part3=dynamic())


def test_three_ways_run_to_the_end_with_tf1_shapes(capsys):
    r = three_ways()
    out = capsys.readouterr().out
    assert "by hand: (4, 5) (4, 5)" in out
    assert "dynamic_rnn: (4, 2, 5)" in out
    p1, p2, p3 = r["part1"], r["part2"], r["part3"]
    assert p1["Y0_val"].shape == (4, 5) and p1["Y0_val"].dtype == np.float32
    assert p2["Y0_val"].shape == (4, 5) and p2["Y1_val"].shape == (4, 5)
    assert p3["outputs_val"].shape == (4, 2, 5)
    # static shapes print as TensorFlow 1.x prints them
    assert str(p1["X0"].shape) == "(?, 3)" and str(p1["Y1"].get_shape()) == "(?, 5)"
    assert str(p3["outputs"].shape) == "(?, 2, 5)" and str(p3["states"].shape) == "(?, 5)"
    # part 3's cell got its own weights instead of "Variable rnn/basic_rnn_cell/kernel already exists"
    names = [v.name for v in tf.global_variables()]
    assert "rnn/basic_rnn_cell/kernel:0" in names and "rnn_1/basic_rnn_cell/kernel:0" in names
    k2 = p2["cell"].rnnkit_cell.kernel.detach()
    k3 = p3["cell"].rnnkit_cell.kernel.detach()
    assert k2.shape == k3.shape == (8, 5) and not torch.equal(k2, k3)


def test_the_rnn_by_hand_computes_its_formula():
    p1 = three_ways()["part1"]
    # a new session draws Wx, Wy again; fetch them with the outputs and check the formula
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        Wx, Wy, b, Y0, Y1 = sess.run(
            [p1["Wx"], p1["Wy"], p1["b"], p1["Y0"], p1["Y1"]],
            feed_dict={p1["X0"]: X0_BATCH, p1["X1"]: X1_BATCH},
        )
    assert Wx.shape == (3, 5) and Wy.shape == (5, 5) and not np.all(b)
    ref0 = np.tanh(X0_BATCH @ Wx + b)
    close(Y0, ref0)
    close(Y1, np.tanh(ref0 @ Wy + X1_BATCH @ Wx + b))


def test_static_and_dynamic_parts_give_tensorflows_numbers_with_its_weights():
    r = three_ways()
    for part, case in (("part2", "tutorial_static_rnn"), ("part3", "tutorial_dynamic_rnn")):
        fx = fixture(case)
        p = r[part]
        with tf.Session() as sess:
            p["init"].run()
            scope = "rnn_1/" if part == "part3" else "rnn/"  # part 3's cell is the graph's second
            load_all({scope + k[len("rnn/") :]: v for k, v in variables(fx).items()})
            if part == "part2":
                feed = {p["X0"]: fx["inputs"][0], p["X1"]: fx["inputs"][1]}
                y0, y1, h = sess.run([p["Y0"], p["Y1"], p["states"]], feed_dict=feed)
                close(np.stack([y0, y1]), fx["out/outputs"])
            else:
                y, h = sess.run([p["outputs"], p["states"]], feed_dict={p["X"]: fx["inputs"]})
                close(y, fx["out/outputs"])
        close(h, fx["out/state"])


# ---------------------------------------------------------------------------------------------
# Other TF1 programs within the subset
# ---------------------------------------------------------------------------------------------


def test_time_major_dynamic_rnn_with_fed_lengths_and_initial_state_matches_tensorflow():
    fx = fixture("rnn_dynamic_time_major_init")
    T, B, I = fx["inputs"].shape
    H = fx["init"].shape[1]
    X = tf.placeholder(tf.float32, [None, None, I])
    seq = tf.placeholder(tf.int32, [None])
    h0 = tf.placeholder(tf.float32, [None, H])
    cell = tf.nn.rnn_cell.BasicRNNCell(H)
    outputs, state = tf.nn.dynamic_rnn(
        cell, X, sequence_length=seq, initial_state=h0, time_major=True
    )
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        load_all(variables(fx))
        y, h = sess.run(
            (outputs, state),
            feed_dict={X: fx["inputs"], seq: fx["sequence_length"], h0: fx["init"]},
        )
    close(y, fx["out/outputs"])
    close(h, fx["out/state"])


def test_time_major_dynamic_rnn_with_zero_state_matches_rnnkit_and_masks():
    T, B, I, H = 6, 4, 3, 5
    lengths = np.array([6, 3, 0, 1])
    x = np.random.default_rng(0).normal(size=(T, B, I)).astype(np.float32)
    X = tf.placeholder(tf.float32, [T, None, I])
    seq = tf.placeholder(tf.int32, [None])
    cell = tf.nn.rnn_cell.GRUCell(H)
    init_state = cell.zero_state(B, tf.float32)
    assert init_state.shape.as_list() == [B, H]
    outputs, state = tf.nn.dynamic_rnn(
        cell, X, sequence_length=seq, initial_state=init_state, time_major=True
    )
    assert outputs.shape.as_list() == [T, B, H]  # TF 2.21: the batch size from initial_state
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        sync(sess, cell)
        y, h = sess.run([outputs, state], {X: x, seq: lengths})
    ref_y, ref_h = rnnkit.dynamic_rnn(
        cell.rnnkit_cell, torch.from_numpy(x), sequence_length=lengths, time_major=True
    )
    close(y, ref_y.detach())
    close(h, ref_h.detach())
    for b, n in enumerate(lengths):
        assert np.all(y[n:, b] == 0)  # zeros past each length
        close(h[b], y[n - 1, b] if n else np.zeros(H))  # final state at the last valid step


def test_stacked_lstms_under_static_rnn_match_tensorflow_and_fetch_nested_states():
    fx = fixture("multi_lstm_lstm_init")  # TF ran dynamic_rnn; static_rnn has the same semantics
    B, T, I = fx["inputs"].shape
    steps = [tf.placeholder(tf.float32, [None, I]) for _ in range(T)]
    seq = tf.placeholder(tf.int32, [None])
    cell = tf.nn.rnn_cell.MultiRNNCell(
        [tf.nn.rnn_cell.BasicLSTMCell(6), tf.nn.rnn_cell.LSTMCell(7)]
    )
    init = tuple(
        tf.nn.rnn_cell.LSTMStateTuple(
            tf.placeholder(tf.float32, [None, n]), tf.placeholder(tf.float32, [None, n])
        )
        for n in (6, 7)
    )
    outputs, states = tf.nn.static_rnn(cell, steps, initial_state=init, sequence_length=seq)
    assert len(outputs) == T and isinstance(states, tuple) and len(states) == 2
    assert isinstance(states[-1], tf.nn.rnn_cell.LSTMStateTuple)
    assert str(states[-1].h.shape) == "(?, 7)"
    feed = {p: fx["inputs"][:, t] for t, p in enumerate(steps)}
    feed[seq] = fx["sequence_length"]
    feed[init] = tuple((fx[f"init/{k}/c"], fx[f"init/{k}/h"]) for k in range(2))  # structured key
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        load_all(variables(fx))
        got = sess.run({"outputs": outputs, "states": states, "top": states[-1].h}, feed)
    assert isinstance(got, dict) and isinstance(got["states"][1], rnnkit.LSTMStateTuple)
    close(np.stack(got["outputs"], 1), fx["out/outputs"])
    for k in range(2):
        close(got["states"][k].c, fx[f"out/state/{k}/c"])
        close(got["states"][k].h, fx[f"out/state/{k}/h"])
    close(got["top"], fx["out/state/1/h"])


def test_stacked_lstms_static_matches_rnnkit_static_rnn_with_the_same_cell():
    B, T, I = 3, 4, 2
    x = np.random.default_rng(1).normal(size=(T, B, I)).astype(np.float32)
    steps = [tf.placeholder(tf.float32, [None, I]) for _ in range(T)]
    cell = tf.contrib.rnn.MultiRNNCell([tf.contrib.rnn.BasicLSTMCell(4) for _ in range(2)])
    outputs, states = tf.contrib.rnn.static_rnn(cell, steps, dtype=tf.float32)
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        sync(sess, cell)
        ys, st = sess.run([outputs, states], {p: x[t] for t, p in enumerate(steps)})
    ref_ys, ref_st = rnnkit.static_rnn(cell.rnnkit_cell, list(torch.from_numpy(x)))
    close(np.stack(ys), torch.stack(ref_ys).detach())
    for got, ref in zip(st, ref_st):
        close(got.c, ref.c.detach())
        close(got.h, ref.h.detach())
    close(st[-1].h, ys[-1])


def test_bidirectional_dynamic_rnn_with_lengths_matches_tensorflow():
    fx = fixture("bidir_lstm_gru_lengths")
    B, T, I = fx["inputs"].shape
    X = tf.placeholder(tf.float32, [None, T, I])
    seq = tf.placeholder(tf.int32, [None])
    fw, bw = tf.nn.rnn_cell.BasicLSTMCell(6), tf.nn.rnn_cell.GRUCell(6)
    (out_fw, out_bw), (st_fw, st_bw) = tf.nn.bidirectional_dynamic_rnn(
        fw, bw, X, sequence_length=seq, dtype=tf.float32
    )
    assert str(out_fw.shape) == f"(?, {T}, 6)"
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        load_all(variables(fx))
        (y_fw, y_bw), (s_fw, s_bw) = sess.run(
            ((out_fw, out_bw), (st_fw, st_bw)), {X: fx["inputs"], seq: fx["sequence_length"]}
        )
    close(y_fw, fx["out/outputs/fw"])
    close(y_bw, fx["out/outputs/bw"])
    close(s_fw.c, fx["out/state/fw/c"])
    close(s_fw.h, fx["out/state/fw/h"])
    close(s_bw, fx["out/state/bw"])
    for b, n in enumerate(fx["sequence_length"]):
        assert np.all(y_fw[b, n:] == 0) and np.all(y_bw[b, n:] == 0)


def test_bidirectional_matches_rnnkit_with_the_same_cells():
    x = np.random.default_rng(2).normal(size=(3, 5, 2)).astype(np.float32)
    lengths = [5, 2, 4]
    fw, bw = tf.nn.rnn_cell.BasicRNNCell(3), tf.nn.rnn_cell.BasicRNNCell(3, activation=tf.nn.relu)
    (yf, yb), (sf, sb) = tf.nn.bidirectional_dynamic_rnn(
        fw, bw, x, sequence_length=lengths, dtype=tf.float32
    )
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        sync(sess, fw, bw)
        got = sess.run([yf, yb, sf, sb])
    (ryf, ryb), (rsf, rsb) = rnnkit.bidirectional_dynamic_rnn(
        fw.rnnkit_cell, bw.rnnkit_cell, torch.from_numpy(x), sequence_length=lengths
    )
    for g, r in zip(got, (ryf, ryb, rsf, rsb)):
        close(g, r.detach())
    assert bw.rnnkit_cell.activation_name == "relu"


def test_cell_call_and_zero_state_build_one_step():
    x = np.arange(6, dtype=np.float32).reshape(2, 3) / 6
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    X = tf.placeholder(tf.float32, [None, 3])
    batch = tf.placeholder(tf.int32, [])
    state = cell.zero_state(batch, tf.float32)
    y, new_state = cell(X, state)
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        sync(sess, cell)
        got_y, got_state = sess.run([y, new_state], {X: x, batch: 2})
    ref_y, ref_state = cell.rnnkit_cell(torch.from_numpy(x), cell.rnnkit_cell.zero_state(2))
    close(got_y, ref_y.detach())
    close(got_state.c, ref_state.c.detach())


def test_cell_weights_are_reproducible_under_set_random_seed_and_visible_as_variables():
    def build() -> tuple[np.ndarray, np.ndarray]:
        tf.reset_default_graph()
        tf.set_random_seed(7)
        X = tf.placeholder(tf.float32, [None, 2, 3])
        w = tf.Variable(tf.random_normal([2, 2]))
        cell = tf.nn.rnn_cell.BasicRNNCell(4)
        tf.nn.dynamic_rnn(cell, X, dtype=tf.float32)
        with tf.Session() as sess:
            tf.global_variables_initializer().run()
            kernel = sess.run("rnn/basic_rnn_cell/kernel:0")
            assert cell.variables[0].name == "rnn/basic_rnn_cell/kernel:0"
            return kernel, sess.run(w)

    (k1, w1), (k2, w2) = build(), build()
    np.testing.assert_array_equal(k1, k2)
    np.testing.assert_array_equal(w1, w2)
    assert k1.shape == (7, 4)


# ---------------------------------------------------------------------------------------------
# Sessions, fetches and feeds
# ---------------------------------------------------------------------------------------------


def test_fetch_structures_ops_names_and_feeds_by_name():
    Point = collections.namedtuple("Point", "x y")
    a = tf.placeholder(tf.float32, [2], name="a")
    b = a * 2
    c = tf.constant([1, 2, 3])
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        got = sess.run(
            {"p": Point(a, [b, (c,)]), "op": init, "byname": "a:0"}, feed_dict={"a:0": [1.0, 2.0]}
        )
        assert sess.run(b, {"a": np.array([3, 4])}).tolist() == [6.0, 8.0]
        assert sess.run(b.op, {a: [0, 0]}) is None
    assert isinstance(got["p"], Point) and isinstance(got["p"].y, list)
    assert isinstance(got["p"].y[1], tuple)
    np.testing.assert_array_equal(got["p"].y[0], [2.0, 4.0])
    np.testing.assert_array_equal(got["p"].y[1][0], [1, 2, 3])
    assert got["p"].y[1][0].dtype == np.int32 and got["op"] is None
    np.testing.assert_array_equal(got["byname"], [1.0, 2.0])


def test_session_object_close_eval_and_interactive_session():
    x = tf.constant(3.0)
    y = x * x
    sess = tf.Session()
    assert sess.run(y) == 9.0 and isinstance(sess.run(y), np.float32)
    assert y.eval(session=sess) == 9.0
    sess.close()
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(y)
    with pytest.raises(ValueError, match="no default session"):
        y.eval()
    isess = tf.InteractiveSession()
    assert y.eval() == 9.0 and tf.get_default_session() is isess
    isess.close()
    assert tf.get_default_session() is None


def test_variables_live_per_session_and_random_ops_redraw_per_run():
    tf.set_random_seed(3)
    r = tf.random_uniform([3], minval=-1, maxval=1)
    v = tf.Variable(r)
    init = tf.global_variables_initializer()
    with tf.Session() as s1:
        init.run()
        v1, r1a, r1b = s1.run(v), s1.run(r), s1.run(r)
    with tf.Session() as s2:
        init.run()
        v2 = s2.run(v)
        with pytest.raises(tf.errors.FailedPreconditionError):
            tf.Session().run(v)
    np.testing.assert_array_equal(v1, v2)  # same seed, same first draw
    assert not np.array_equal(r1a, r1b)  # a new draw on each run
    assert np.all((r1a >= -1) & (r1a < 1))


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def test_feed_of_wrong_shape_names_the_placeholder_and_both_shapes():
    X = tf.placeholder(tf.float32, [None, 3], name="X0")
    with tf.Session() as sess, pytest.raises(ValueError) as e:
        sess.run(X * 2, feed_dict={X: np.zeros((4, 2))})
    msg = str(e.value)
    assert "X0:0" in msg and "(4, 2)" in msg and "(?, 3)" in msg


def test_unfed_placeholder_is_named():
    X = tf.placeholder(tf.float32, [None, 3], name="inputs")
    Y = tf.tanh(X)
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="'inputs'"):
        sess.run(Y)
    assert issubclass(tf.errors.InvalidArgumentError, ValueError)


def test_uninitialized_variable_and_cell_weights():
    W = tf.Variable(tf.zeros([2, 2]), name="W")
    cell = tf.nn.rnn_cell.BasicRNNCell(2)
    out, _ = tf.nn.dynamic_rnn(cell, np.zeros((1, 2, 2)), dtype=tf.float32)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value W"):
            sess.run(W + 1)
        with pytest.raises(
            tf.errors.FailedPreconditionError,
            match="Attempting to use uninitialized value rnn/basic_rnn_cell/kernel",
        ):
            sess.run(out)
        tf.global_variables_initializer().run()
        assert sess.run(out).shape == (1, 2, 2)


@pytest.mark.parametrize(
    "get, name",
    [
        (lambda: tf.estimator, "tf.estimator"),
        (lambda: tf.layers.conv2d, "tf.layers.conv2d"),
        (lambda: tf.nn.conv2d, "tf.nn.conv2d"),
        (lambda: tf.contrib.rnn.LayerNormBasicLSTMCell, "tf.contrib.rnn.LayerNormBasicLSTMCell"),
        (lambda: tf.nn.rnn_cell.AttentionCellWrapper, "tf.nn.rnn_cell.AttentionCellWrapper"),
        (lambda: tf.nn.rnn_cell.LSTMCell(4, num_unit_shards=2), "num_unit_shards=2"),
    ],
)
def test_unsupported_tf_names_are_named(get, name):
    with pytest.raises(AttributeError) as e:
        get()
    assert isinstance(e.value, NotImplementedError)
    assert name in str(e.value) and "supported subset" in str(e.value)


def test_hasattr_is_false_for_unsupported_names_and_the_subset_is_listed():
    assert not hasattr(tf, "estimator") and hasattr(tf, "placeholder")
    for name in ("placeholder", "nn.dynamic_rnn", "contrib.rnn.static_rnn", "nn.rnn_cell.GRUCell"):
        assert name in tf.SUPPORTED
        obj = tf
        for part in name.split("."):
            obj = getattr(obj, part)


def test_other_errors_are_clear():
    X = tf.placeholder(tf.float32, [None, 3])
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 3 and 4"):
        tf.matmul(X, tf.zeros([4, 2]))
    with pytest.raises(TypeError, match="int32 that does not match type float32"):
        X + tf.constant([1, 2, 3])
    with pytest.raises(ValueError, match="dtype` must be specified"):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(2), tf.zeros([1, 2, 3]))
    with pytest.raises(TypeError, match="`cell`"):
        tf.nn.dynamic_rnn(rnnkit.BasicRNNCell(2), tf.zeros([1, 2, 3]), dtype=tf.float32)
    with pytest.raises(TypeError, match="Fetch argument 3"):
        tf.Session().run(3)
    with pytest.raises(TypeError, match="activation"):
        tf.nn.rnn_cell.BasicRNNCell(2, activation="tanh")
    with pytest.raises(ValueError, match="rank-3"):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(2), X, dtype=tf.float32)
    with pytest.raises(ValueError, match="Cannot infer num"):
        tf.unstack(X, axis=0)


# ---------------------------------------------------------------------------------------------
# The ops subset, against numpy
# ---------------------------------------------------------------------------------------------


def run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def test_arithmetic_with_scalars_lists_arrays_and_matmul_operator():
    a_val = np.array([[1.0, -2.0], [3.0, 4.0]], dtype=np.float32)
    a = tf.placeholder(tf.float32, [None, 2])
    arr = np.array([10, 20])
    exprs = [a + 1, 1 + a, a - [1, 2], [1, 2] - a, a * arr, arr * a, a / 2, 2 / a, -a, a @ a_val,
             a_val @ a, a**2]  # fmt: skip
    refs = [a_val + 1, 1 + a_val, a_val - [1, 2], [1, 2] - a_val, a_val * arr, arr * a_val,
            a_val / 2, 2 / a_val, -a_val, a_val @ a_val, a_val @ a_val, a_val**2]  # fmt: skip
    got = run(exprs, {a: a_val})
    for g, r, e in zip(got, refs, exprs):
        assert isinstance(e, tf.Tensor) and e.dtype is tf.float32
        close(g, r)
        assert g.dtype == np.float32
    assert run(tf.constant([3, 4]) / tf.constant([2, 2])).tolist() == [1.5, 2.0]  # int / int


def test_elementwise_and_shape_ops():
    x_val = np.random.default_rng(3).normal(size=(2, 3, 4)).astype(np.float32)
    x = tf.placeholder(tf.float32, [None, 3, 4])
    cases = {
        "tanh": (tf.tanh(x), np.tanh(x_val), "(?, 3, 4)"),
        "sigmoid": (tf.sigmoid(x), 1 / (1 + np.exp(-x_val)), "(?, 3, 4)"),
        "relu": (tf.nn.relu(x), np.maximum(x_val, 0), "(?, 3, 4)"),
        "transpose": (tf.transpose(x, [1, 0, 2]), x_val.transpose(1, 0, 2), "(3, ?, 4)"),
        "transpose_default": (tf.transpose(x), x_val.T, "(4, 3, ?)"),
        "reshape": (tf.reshape(x, [-1, 4]), x_val.reshape(-1, 4), "(?, 4)"),
        "concat": (
            tf.concat([x, x * 2], axis=2),
            np.concatenate([x_val, x_val * 2], 2),
            "(?, 3, 8)",
        ),
        "stack": (tf.stack([x, x], axis=1), np.stack([x_val, x_val], 1), "(?, 2, 3, 4)"),
        "sum_all": (tf.reduce_sum(x), x_val.sum(), "()"),
        "sum_axis": (tf.reduce_sum(x, axis=1), x_val.sum(1), "(?, 4)"),
        "sum_keep": (
            tf.reduce_sum(x, axis=[0, 2], keepdims=True),
            x_val.sum((0, 2), keepdims=True),
            "(1, 3, 1)",
        ),  # fmt: skip
        "mean_axis": (tf.reduce_mean(x, axis=-1), x_val.mean(-1), "(?, 3)"),
        "mean_keep": (
            tf.reduce_mean(x, 1, keep_dims=True),
            x_val.mean(1, keepdims=True),
            "(?, 1, 4)",
        ),
    }
    got = run({k: v[0] for k, v in cases.items()}, {x: x_val})
    for k, (t, ref, shape) in cases.items():
        close(got[k], ref)
        assert str(t.shape) == shape, k
    parts = tf.unstack(x, axis=1)
    assert len(parts) == 3 and str(parts[0].shape) == "(?, 4)"
    close(np.stack(run(parts, {x: x_val}), 1), x_val)
    assert run(tf.reduce_mean(tf.constant([1, 2, 4]))) == 2  # integer mean truncates as in TF


def test_constants_zeros_ones_dtypes_and_integer_feeds():
    c = tf.constant([[1, 2], [3, 4]])
    f = tf.constant(1.5)
    d = tf.constant(np.array([1.0, 2.0]))
    s = tf.constant(7, shape=[2, 2], dtype=tf.float64)
    assert (c.dtype, f.dtype, d.dtype, s.dtype) == (tf.int32, tf.float32, tf.float64, tf.float64)
    z, o = tf.zeros([2, 3]), tf.ones([3], dtype=tf.int32)
    p = tf.placeholder(tf.int32, [3])
    got = run([c, f, s, z, o, p * 2], {p: np.array([1, 2, 3], dtype=np.int64)})
    np.testing.assert_array_equal(got[0], [[1, 2], [3, 4]])
    assert got[1] == np.float32(1.5)
    np.testing.assert_array_equal(got[2], np.full((2, 2), 7.0))
    assert got[3].shape == (2, 3) and not got[3].any() and got[4].tolist() == [1, 1, 1]
    assert got[5].dtype == np.int32 and got[5].tolist() == [2, 4, 6]
    with pytest.raises(TypeError, match="non-integral"):
        run(p, {p: [1.5, 2, 3]})


def test_random_normal_statistics_and_shape_objects():
    tf.set_random_seed(0)
    r = tf.random_normal([2000], mean=3.0, stddev=0.5)
    v = run(r)
    assert abs(v.mean() - 3.0) < 0.05 and abs(v.std() - 0.5) < 0.05
    X = tf.placeholder(tf.float32, [None, 3])
    assert X.shape.as_list() == [None, 3] and X.shape[1].value == 3 and X.shape[0].value is None
    assert repr(X.shape) == "TensorShape([Dimension(None), Dimension(3)])"
    assert str(tf.placeholder(tf.float32).shape) == "<unknown>"
    assert repr(X) == "<tf.Tensor 'Placeholder:0' shape=(?, 3) dtype=float32>"


def test_reset_default_graph_separates_graphs():
    X = tf.placeholder(tf.float32, [1])
    tf.reset_default_graph()
    Y = tf.placeholder(tf.float32, [1])
    assert X.name == Y.name == "Placeholder:0"
    with tf.Session() as sess, pytest.raises(ValueError, match="not an element"):
        sess.run(X, {Y: [1.0]})
