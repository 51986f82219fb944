"""TF1 names that published programs use, against real TensorFlow 2.21 ``tf.compat.v1`` numbers in
``tests/fixtures/tf1_census_gaps`` (made by ``tools/make_tf1_census_gap_fixtures.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import rnnkit.compat.v1 as tf

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "tf1_census_gaps"


def _load(name: str) -> dict:
    with np.load(FIX / f"{name}.npz", allow_pickle=False) as d:
        return {k: d[k] for k in d.files}


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


# -- MultiRNNCell([cell] * 2) --------------------------------------------------------------------


def test_multi_rnn_cell_one_cell_twice_has_one_set_of_weights():
    ref = _load("multi_shared")
    x = tf.placeholder(tf.float32, [2, 5, 4])
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    out, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell([cell] * 2), x, dtype=tf.float32)
    assert [v.op.name for v in tf.global_variables()] == list(ref["names"])
    kernel, bias = tf.global_variables()
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        kernel.load(ref["kernel"], s)
        bias.load(ref["bias"], s)
        ov, sv = s.run([out, state], {x: ref["x"]})
    np.testing.assert_allclose(ov, ref["outputs"], rtol=1e-5, atol=1e-6)
    got = np.stack([np.stack([st.c, st.h]) for st in sv])
    np.testing.assert_allclose(got, ref["states"], rtol=1e-5, atol=1e-6)


def test_multi_rnn_cell_one_cell_twice_restores_tf_checkpoint():
    ref = _load("multi_shared")
    x = tf.placeholder(tf.float32, [2, 5, 4])
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell([cell] * 2), x, dtype=tf.float32)
    with tf.Session() as s:
        tf.train.Saver().restore(s, str(FIX / "multi_shared_ckpt" / "model"))
        ov = s.run(out, {x: ref["x"]})
    np.testing.assert_allclose(ov, ref["outputs"], rtol=1e-5, atol=1e-6)


def test_multi_rnn_cell_one_cell_twice_other_width_fails_as_tf():
    ref = _load("multi_shared")
    x = tf.placeholder(tf.float32, [2, 5, 3])
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 8 and 7") as err:
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell([cell] * 2), x, dtype=tf.float32)
    assert str(ref["width3_error"]).startswith("Dimensions must be equal, but are 8 and 7")
    assert "cell_0/basic_lstm_cell" in str(err.value)


def test_multi_rnn_cell_one_wrapped_cell_twice_shares_weights():
    x = tf.placeholder(tf.float32, [2, 5, 4])
    keep = tf.placeholder(tf.float32, [])
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    wrapped = tf.nn.rnn_cell.DropoutWrapper(cell, output_keep_prob=keep)
    out, _ = tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell([wrapped] * 2), x, dtype=tf.float32)
    assert [v.op.name for v in tf.global_variables()] == [
        "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/kernel",
        "rnn/multi_rnn_cell/cell_0/basic_lstm_cell/bias",
    ]
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        assert s.run(out, {x: np.ones((2, 5, 4)), keep: 1.0}).shape == (2, 5, 4)
    x3 = tf.placeholder(tf.float32, [2, 5, 3])
    twice = [tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.LSTMCell(4, num_proj=2))] * 2
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 4 and 5"):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell(twice), x3, dtype=tf.float32, scope="b")


def test_multi_rnn_cell_distinct_cells_keep_two_sets():
    x = tf.placeholder(tf.float32, [2, 5, 4])
    cells = [tf.nn.rnn_cell.BasicLSTMCell(4) for _ in range(2)]
    tf.nn.dynamic_rnn(tf.nn.rnn_cell.MultiRNNCell(cells), x, dtype=tf.float32)
    assert [v.op.name for v in tf.global_variables()] == [
        f"rnn/multi_rnn_cell/cell_{k}/basic_lstm_cell/{p}"
        for k in (0, 1)
        for p in ("kernel", "bias")
    ]


# -- tf.nn.raw_rnn --------------------------------------------------------------------------------


def _raw_rnn_graph(emit_pair: bool):
    B, T, D, H = 3, 4, 2, 5
    x = tf.placeholder(tf.float32, [T, B, D])
    lengths = tf.placeholder(tf.int32, [B])
    inputs_ta = tf.TensorArray(tf.float32, size=T).unstack(x)
    cell = tf.nn.rnn_cell.GRUCell(H)

    def loop_fn(time, output, state, loop_state):
        if output is None:
            emit = (tf.zeros([H]), tf.zeros([])) if emit_pair else None
            return (
                0 >= lengths,
                inputs_ta.read(0),
                cell.zero_state(B, tf.float32),
                emit,
                tf.constant(0),
            )
        finished = time >= lengths
        nxt = tf.cond(
            tf.reduce_all(finished), lambda: tf.zeros([B, D]), lambda: inputs_ta.read(time)
        )
        emit = (output, tf.reduce_sum(output, 1)) if emit_pair else output * 2.0
        return finished, nxt, state, emit, loop_state + 1

    emit_ta, final_state, final_loop = tf.nn.raw_rnn(cell, loop_fn)
    flat = list(emit_ta) if isinstance(emit_ta, tuple) else [emit_ta]
    return x, lengths, [ta.stack() for ta in flat], final_state, final_loop


@pytest.mark.parametrize("case", ["raw_rnn", "raw_rnn_emit"])
def test_raw_rnn_matches_tf(case):
    ref = _load(case)
    x, lengths, emits, final_state, final_loop = _raw_rnn_graph(case == "raw_rnn_emit")
    assert [v.op.name for v in tf.global_variables()] == list(ref["names"])
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for v in tf.global_variables():
            v.load(ref[f"w_{v.op.name}"], s)
        ev, fs, fl = s.run([emits, final_state, final_loop], {x: ref["x"], lengths: ref["lengths"]})
    assert len(ev) == len([k for k in ref if k.startswith("emit_")])
    for k, e in enumerate(ev):
        np.testing.assert_allclose(e, ref[f"emit_{k}"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fs, ref["final_state"], rtol=1e-5, atol=1e-6)
    assert int(fl) == int(ref["final_loop_state"])


def test_raw_rnn_without_loop_state_returns_none():
    cell = tf.nn.rnn_cell.BasicRNNCell(3)
    x = tf.ones([2, 4])

    def loop_fn(time, output, state, loop_state):
        done = time >= tf.constant([2, 3]) if output is not None else tf.zeros([2], tf.bool)
        start = cell.zero_state(2, tf.float32) if state is None else state
        return done, x, start, None, None

    emit_ta, final_state, final_loop = tf.nn.raw_rnn(cell, loop_fn)
    assert final_loop is None
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        assert s.run(emit_ta.stack()).shape == (3, 2, 3)


def test_raw_rnn_bad_loop_fn():
    with pytest.raises(TypeError, match="loop_fn must be a callable"):
        tf.nn.raw_rnn(tf.nn.rnn_cell.BasicRNNCell(3), 3)


# -- old names ------------------------------------------------------------------------------------


def test_tf0_rnn_is_static_rnn():
    assert tf.nn.rnn is tf.nn.static_rnn


# -- AdadeltaOptimizer ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["default", "large"])
def test_adadelta_matches_tf_over_five_steps(case):
    import json

    ref = _load("adadelta")
    kwargs = json.loads((FIX / "meta.json").read_text())["adadelta"][case]
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


# -- tf.metrics ---------------------------------------------------------------------------------


def test_metrics_accuracy_and_mean_match_tf():
    ref = _load("metrics")
    labels = tf.placeholder(tf.int64, [None])
    preds = tf.placeholder(tf.int64, [None])
    values = tf.placeholder(tf.float32, [None])
    weights = tf.placeholder(tf.float32, [None])
    acc, acc_up = tf.metrics.accuracy(labels=labels, predictions=preds)
    mean, mean_up = tf.metrics.mean(values, weights=weights)
    assert [v.op.name for v in tf.local_variables()] == list(ref["local_names"])
    assert tf.global_variables() == [] and tf.trainable_variables() == []
    with tf.Session() as s:
        s.run(tf.local_variables_initializer())
        np.testing.assert_allclose(s.run([acc, mean]), ref["before"])
        for k in range(3):
            feed = {
                labels: ref["labels"][k],
                preds: ref["predictions"][k],
                values: ref["values"][k],
                weights: ref["weights"][k],
            }
            ups = s.run([acc_up, mean_up], feed)
            np.testing.assert_allclose([*ups, *s.run([acc, mean])], ref["rows"][k], rtol=1e-6)


def test_metrics_accuracy_casts_predictions_and_squeezes_labels():
    labels = tf.constant([[1], [2], [0]], tf.int32)
    preds = tf.constant([1, 0, 0], tf.int64)  # argmax gives int64 in TF
    acc, up = tf.metrics.accuracy(labels, preds, name="acc")
    assert [v.op.name for v in tf.local_variables()] == ["acc/total", "acc/count"]
    with tf.Session() as s:
        s.run(tf.local_variables_initializer())
        assert s.run(up) == pytest.approx(2 / 3)
        assert s.run(up) == pytest.approx(2 / 3)
        assert s.run(acc) == pytest.approx(2 / 3)
        with pytest.raises(tf.errors.FailedPreconditionError):
            tf.Session().run(acc)


def test_metrics_collections_and_bad_weights():
    acc, up = tf.metrics.accuracy(
        [1, 2], [1, 1], metrics_collections=["m"], updates_collections=["u"]
    )
    assert tf.get_collection("m") == [acc] and tf.get_collection("u") == [up]
    with pytest.raises(ValueError, match="weights can not be broadcast to values"):
        tf.metrics.mean(tf.zeros([4]), weights=tf.ones([3]))


# -- tf.nn.sampled_softmax_loss --------------------------------------------------------------------


@pytest.mark.parametrize("num_true", [1, 2])
@pytest.mark.parametrize("hits", [True, False])
def test_sampled_softmax_loss_with_given_samples_matches_tf(num_true, hits):
    """With ``sampled_values`` given, TF's loss is deterministic: compare the numbers."""
    ref = _load("sampled_softmax")
    loss = tf.nn.sampled_softmax_loss(
        weights=tf.constant(ref["weights"]),
        biases=tf.constant(ref["biases"]),
        labels=tf.constant(ref[f"labels_{num_true}"]),
        inputs=tf.constant(ref["inputs"]),
        num_sampled=len(ref["sampled"]),
        num_classes=10,
        num_true=num_true,
        sampled_values=(
            tf.constant(ref["sampled"]),
            tf.constant(ref[f"true_expected_{num_true}"]),
            tf.constant(ref[f"sampled_expected_{num_true}"]),
        ),
        remove_accidental_hits=hits,
    )
    assert loss.shape.as_list() == [3]
    with tf.Session() as s:
        got = s.run(loss)
    np.testing.assert_allclose(got, ref[f"loss_{num_true}_{int(hits)}"], rtol=1e-5, atol=1e-6)


def test_sampled_softmax_loss_with_its_own_sampler_trains():
    """TF's random sampler cannot be matched draw for draw: here the samples are torch's, so only
    shapes, finiteness and a falling loss are checked."""
    tf.set_random_seed(3)
    W = tf.Variable(tf.random_normal([50, 8], stddev=0.1))
    b = tf.Variable(tf.zeros([50]))
    x = tf.constant(np.random.default_rng(0).normal(size=(16, 8)).astype(np.float32))
    y = tf.constant(np.arange(16, dtype=np.int64).reshape(16, 1) % 5)
    loss = tf.reduce_mean(tf.nn.sampled_softmax_loss(W, b, y, x, num_sampled=10, num_classes=50))
    step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        first = s.run(loss)
        for _ in range(30):
            s.run(step)
        last = s.run(loss)
    assert np.isfinite(first) and last < first


def test_log_uniform_sampler_unique_and_expected_counts():
    sampled, true_exp, samp_exp = tf.nn.log_uniform_candidate_sampler(
        tf.constant([[0], [3]], tf.int64), 1, 6, True, 10, seed=1
    )
    with tf.Session() as s:
        sv, tv, ev = s.run([sampled, true_exp, samp_exp])
    assert len(set(sv.tolist())) == 6 and sv.min() >= 0 and sv.max() < 10
    assert tv.shape == (2, 1) and ev.shape == (6,)
    assert np.all((ev > 0) & (ev <= 1)) and tv[0, 0] > tv[1, 0]  # class 0 is the likeliest
    with pytest.raises(ValueError, match="num_sampled"):
        tf.nn.log_uniform_candidate_sampler(tf.constant([[0]], tf.int64), 1, 11, True, 10)


# -- tf.nest ----------------------------------------------------------------------------------------


def test_nest_matches_tf():
    import collections

    ref = _load("nest")
    Point = collections.namedtuple("Point", ["y", "x"])
    structure = {"b": (1, [2, 3]), "a": Point(y=4, x=5)}
    for nest in (tf.nest, tf.contrib.framework.nest):
        flat = nest.flatten(structure)
        assert flat == list(ref["flat"])
        packed = nest.pack_sequence_as(structure, [10 * v for v in flat])
        assert nest.flatten(packed) == list(ref["packed_flat"])
        assert type(packed["a"]).__name__ == str(ref["packed_a_type"]) and list(packed) == [
            "b",
            "a",
        ]
        mapped = nest.map_structure(lambda u, v: u + v, structure, structure)
        assert nest.flatten(mapped) == list(ref["mapped_flat"])
        seq = [nest.is_sequence(v) for v in ("ab", [1], (), {"a": 1}, Point(1, 2), 3, np.zeros(2))]
        assert seq == list(ref["is_sequence"])
    with pytest.raises(ValueError, match="don't have the same nested structure"):
        tf.nest.assert_same_structure([1, 2], [1, [2]])
    with pytest.raises(ValueError, match="Structure had 2 atoms, but flat_sequence had 3"):
        tf.nest.pack_sequence_as([1, 2], [1, 2, 3])


# -- names of TF 0.x / 1.0 and import paths ---------------------------------------------------------


def test_old_names_and_import_paths():
    from rnnkit.compat.v1._install import install, uninstall

    assert tf.train.SummaryWriter is tf.summary.FileWriter
    for n in ("BasicLSTMCell", "MultiRNNCell", "DropoutWrapper", "GRUCell"):
        assert getattr(tf.contrib.rnn.core_rnn_cell, n) is getattr(tf.nn.rnn_cell, n)
        assert f"contrib.rnn.core_rnn_cell.{n}" in tf.SUPPORTED
    for n in ("nn.raw_rnn", "nn.rnn", "nn.sampled_softmax_loss", "metrics.accuracy", "nest.flatten",
              "train.AdadeltaOptimizer", "train.SummaryWriter", "contrib.framework.nest.is_sequence"):  # fmt: skip
        assert n in tf.SUPPORTED
    install()
    try:
        from tensorflow.python.layers import core as layers_core
        from tensorflow.python.layers.core import Dense
        from tensorflow.python.util import nest

        assert Dense is layers_core.Dense is tf.layers.Dense
        assert nest.flatten is tf.nest.flatten
    finally:
        uninstall()


# -- dynamic_rnn over an AttentionWrapper ---------------------------------------------------------


@pytest.mark.parametrize("case", ["dtype", "initial_state", "history"])
def test_dynamic_rnn_over_attention_wrapper_matches_tf(case):
    ref = _load("attention_dynamic_rnn")
    seq2seq = tf.contrib.seq2seq
    cell = tf.nn.rnn_cell.LSTMCell(7)
    mech = seq2seq.LuongAttention(7, tf.constant(ref["memory"]))
    att = seq2seq.AttentionWrapper(
        cell, mech, attention_layer_size=7, alignment_history=case == "history"
    )
    x = tf.constant(ref["x"])
    if case == "dtype":
        outputs, state = tf.nn.dynamic_rnn(att, x, dtype=tf.float32)
    elif case == "history":  # written at every step, past a row's length too, as TF's
        outputs, state = tf.nn.dynamic_rnn(att, x, dtype=tf.float32, sequence_length=[4, 2])
        history = state.alignment_history.stack()
    else:
        start = att.zero_state(2, tf.float32).clone(
            cell_state=tf.nn.rnn_cell.LSTMStateTuple(ref["c0"], ref["h0"])
        )
        outputs, state = tf.nn.dynamic_rnn(att, x, initial_state=start)
    assert state.time.dtype == tf.int32 and state.time.shape.ndims == 0
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for k, v in enumerate(tf.global_variables()):  # the same creation order as TF's
            v.load(ref[f"w{k}"], s)
        ov, sv = s.run([outputs, state])
    tol = {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(ov, ref[f"{case}_outputs"], **tol)
    np.testing.assert_allclose(sv.cell_state.c, ref[f"{case}_c"], **tol)
    np.testing.assert_allclose(sv.cell_state.h, ref[f"{case}_h"], **tol)
    np.testing.assert_allclose(sv.attention, ref[f"{case}_attention"], **tol)
    np.testing.assert_allclose(sv.alignments, ref[f"{case}_alignments"], **tol)
    assert int(sv.time) == 4
    if case == "history":
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            for k, v in enumerate(tf.global_variables()):
                v.load(ref[f"w{k}"], s)
            np.testing.assert_allclose(s.run(history), ref["history_stack"], **tol)


# -- a TF1 script given --help --------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", ["doc --help", "nodoc --help", "doc --batch_size 5", "nodoc --batch_size 5"]
)
def test_tf1_script_help_prints_flags_as_tf(case, tmp_path):
    import json
    import subprocess
    import sys

    ref = json.loads((FIX / "help.json").read_text())
    name, *args = case.split()
    doc = '"""Trains a small model."""\n\n' if name == "doc" else ""
    path = tmp_path / f"flags_{name}.py"
    path.write_text(ref["script"].format(doc=doc))
    run = subprocess.run(
        [sys.executable, "-m", "rnnkit", "tf1", str(path), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    want = ref["cases"][case]
    assert run.returncode == want["rc"], run.stderr[-2000:]
    assert run.stdout.replace(str(path), "PROGRAM") == want["stdout"]


# -- tf.contrib.rnn.NASCell -----------------------------------------------------------------------


@pytest.mark.parametrize("case, proj, bias", [("plain", None, False), ("proj_bias", 3, True)])
def test_nas_cell_matches_tf(case, proj, bias):
    ref = _load("nas_cell")
    cell = tf.contrib.rnn.NASCell(6, num_proj=proj, use_biases=bias)
    assert cell.state_size == (6, proj or 6) and cell.output_size == (proj or 6)
    outputs, state = tf.nn.dynamic_rnn(cell, tf.constant(ref["x"]), dtype=tf.float32)
    names = [v.op.name for v in tf.global_variables()]
    assert names == [f"rnn/nas_cell/{n}" for n in ref[f"{case}_weight_names"]]
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for k, v in enumerate(tf.global_variables()):
            v.load(ref[f"{case}_w{k}"], s)
        ov, sv = s.run([outputs, state])
    tol = {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(ov, ref[f"{case}_outputs"], **tol)
    np.testing.assert_allclose(sv.c, ref[f"{case}_c"], **tol)
    np.testing.assert_allclose(sv.h, ref[f"{case}_m"], **tol)


def test_nas_cell_bad_arguments():
    with pytest.raises(ValueError, match="num_units"):
        tf.contrib.rnn.NASCell(0)
    with pytest.raises(TypeError, match="use_biases"):
        tf.contrib.rnn.NASCell(4, use_biases="yes")


# -- reading checkpoints without a graph ----------------------------------------------------------


def test_checkpoint_reader_and_list_variables_on_tf_checkpoint(tmp_path):
    ref = _load("multi_shared")
    prefix = str(FIX / "multi_shared_ckpt" / "model")
    kernel, bias = (f"rnn/multi_rnn_cell/cell_0/basic_lstm_cell/{n}" for n in ("kernel", "bias"))
    reader = tf.train.NewCheckpointReader(prefix)
    assert reader.get_variable_to_shape_map() == {kernel: [8, 16], bias: [16]}
    assert reader.get_variable_to_dtype_map() == {kernel: tf.float32, bias: tf.float32}
    assert reader.has_tensor(bias) and not reader.has_tensor("x")
    np.testing.assert_array_equal(reader.get_tensor(kernel), ref["kernel"])
    with pytest.raises(tf.errors.NotFoundError, match="Key nope not found in checkpoint"):
        reader.get_tensor("nope")
    for where in (prefix, str(FIX / "multi_shared_ckpt")):
        assert tf.train.list_variables(where) == [(bias, [16]), (kernel, [8, 16])]
        assert tf.contrib.framework.list_variables(where) == [(bias, [16]), (kernel, [8, 16])]
    np.testing.assert_array_equal(tf.train.load_variable(prefix, bias + ":0"), ref["bias"])
    assert tf.contrib.framework.load_checkpoint(prefix).has_tensor(kernel)
    with pytest.raises(tf.errors.NotFoundError, match="Failed to find any matching files for"):
        tf.train.NewCheckpointReader(str(tmp_path / "model"))
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file or checkpoints"):
        tf.train.list_variables(str(tmp_path))


def test_train_global_step_is_an_int():
    step = tf.train.get_or_create_global_step()
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        s.run(tf.assign_add(step, 3))
        got = tf.train.global_step(s, step)
    assert got == 3 and type(got) is int


# -- names single programs use: tf.Summary, tf.Print, ModeKeys, keras.initializers ----------------


def test_summary_proto_written_by_file_writer(tmp_path):
    pytest.importorskip("tensorboardX")
    import struct

    from tensorboardX.proto import event_pb2

    value = tf.Summary.Value(tag="loss", simple_value=1.5)
    with tf.summary.FileWriter(str(tmp_path)) as writer:
        writer.add_summary(tf.Summary(value=[value]), 7)
    data = next(tmp_path.iterdir()).read_bytes()
    events, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        event = event_pb2.Event()
        event.ParseFromString(data[pos + 12 : pos + 12 + length])
        events.append(event)
        pos += 16 + length
    (ev,) = [e for e in events if e.HasField("summary")]
    assert ev.step == 7 and ev.summary.value[0].tag == "loss"
    assert ev.summary.value[0].simple_value == 1.5


def test_print_is_identity_and_writes_values(capfd):
    x = tf.constant([1, 2, 3, 4])
    y = tf.Print(x, [x, tf.constant(0.5)], "x=", first_n=2)
    assert y.shape.as_list() == [4] and y.dtype == tf.int32
    with tf.Session() as s:
        for _ in range(3):
            np.testing.assert_array_equal(s.run(y), [1, 2, 3, 4])
    assert capfd.readouterr().err.splitlines() == ["x=[1 2 3...][0.5]"] * 2
    with pytest.raises(TypeError, match="`data` of tf.Print"):
        tf.Print(x, x)


def test_mode_keys_and_keras_initializers():
    keys = tf.contrib.learn.ModeKeys
    assert (keys.TRAIN, keys.EVAL, keys.INFER) == ("train", "eval", "infer")
    w = tf.get_variable("w", [30, 20], initializer=tf.keras.initializers.glorot_uniform(seed=1))
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        v = s.run(w)
    limit = np.sqrt(6.0 / 50)
    assert np.abs(v).max() <= limit and np.abs(v).max() > 0.8 * limit


def test_adadelta_sparse_gradient_moves_only_looked_up_rows():
    ref = _load("adadelta_sparse")
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


# -- tf.slice, tf.assert_rank -----------------------------------------------------------------------


def test_slice_as_tf():
    x = tf.constant(np.arange(24).reshape(2, 3, 4))
    a = tf.slice(x, [0, 1, 1], [-1, 2, 2])
    p = tf.placeholder(tf.float32, [None, 5])
    b = tf.slice(p, [1, 0], [-1, 3])
    begin = tf.placeholder(tf.int32, [2])
    c = tf.slice(p, begin, [2, -1])
    # static shapes as TF 2.21 gives them: (2, 2, 2), (?, 3), (2, ?)
    assert [a.shape.as_list(), b.shape.as_list(), c.shape.as_list()] == [
        [2, 2, 2],
        [None, 3],
        [2, None],
    ]
    with pytest.raises(ValueError, match="Shape must be rank 2 but is rank 3"):
        tf.slice(x, [0, 0], [1, 1])
    feed = {p: np.arange(20.0).reshape(4, 5), begin: [1, 2]}
    with tf.Session() as s:
        assert s.run(a).tolist() == [[[5, 6], [9, 10]], [[17, 18], [21, 22]]]
        np.testing.assert_array_equal(s.run(c, feed), [[7, 8, 9], [12, 13, 14]])
        with pytest.raises(
            tf.errors.InvalidArgumentError, match=r"Expected size\[0\] in \[0, 1\], but got 2"
        ):
            s.run(c, {**feed, begin: [3, 2]})


def test_assert_rank_as_tf():
    p = tf.placeholder(tf.float32, [None, 5])
    assert isinstance(tf.assert_rank(p, 2), tf.Operation)
    with pytest.raises(ValueError, match=r"must have rank 3.  Received rank 2, shape \(\?, 5\)"):
        tf.assert_rank(p, 3)
    with pytest.raises(ValueError, match=r"^custom.  Tensor .* must have rank 3"):
        tf.assert_rank(p, 3, message="custom")
    q = tf.placeholder(tf.float32)
    check = tf.assert_rank(q, 2)
    with tf.control_dependencies([check]):
        z = tf.identity(q)
    with tf.Session() as s:
        assert s.run(z, {q: np.zeros((1, 2))}).shape == (1, 2)
        with pytest.raises(tf.errors.InvalidArgumentError, match="must have rank"):
            s.run(z, {q: np.zeros(3)})


def test_summary_writer_tf0_name_and_bad_arguments(tmp_path):
    pytest.importorskip("tensorboardX")
    tf.constant(1.0, name="c")
    with tf.Session() as s:
        writer = tf.train.SummaryWriter(str(tmp_path / "a"), s.graph)
        writer.close()
        tf.train.SummaryWriter(str(tmp_path / "b"), graph_def=s.graph).close()
    assert len(list((tmp_path / "a").iterdir())) == 1
    with pytest.raises(TypeError, match="`graph`: expected a tf.Graph"):
        tf.summary.FileWriter(str(tmp_path / "c"), 3)
    with pytest.raises(TypeError, match="grpah"):
        tf.summary.FileWriter(str(tmp_path / "d"), grpah=None)


# -- export_meta_graph / import_meta_graph in one process, device_lib ------------------------------


def _small_lm():
    data = tf.constant(np.arange(60, dtype=np.int32) % 7)
    x = tf.reshape(tf.strided_slice(data, [0], [24]), [4, 6])
    emb = tf.get_variable("emb", [7, 5], initializer=tf.constant_initializer(0.1))
    cell = tf.nn.rnn_cell.BasicLSTMCell(5)
    init = cell.zero_state(4, tf.float32)
    out, final = tf.nn.dynamic_rnn(cell, tf.nn.embedding_lookup(emb, x), initial_state=init)
    cost = tf.reduce_sum(out)
    lr = tf.Variable(0.5, trainable=False)
    train_op = tf.train.GradientDescentOptimizer(lr).minimize(cost)
    return cost, train_op, lr, final


def test_meta_graph_round_trip_moves_graph_and_collections():
    with tf.Graph().as_default() as g1:
        with tf.variable_scope("Model", initializer=tf.constant_initializer(0.05)):
            cost, train_op, lr, final = _small_lm()
        tf.add_to_collection("Train/cost", cost)
        tf.add_to_collection("train_op", train_op)
        tf.add_to_collection("Train/final_c", final.c)
        names = [v.op.name for v in tf.global_variables()]
        meta = tf.train.export_meta_graph()
    with tf.Graph().as_default() as g2:
        saver = tf.train.import_meta_graph(meta)
        assert isinstance(saver, tf.train.Saver)
        assert [v.op.name for v in tf.global_variables()] == names
        (cost2,) = tf.get_collection_ref("Train/cost")
        (step,) = tf.get_collection_ref("train_op")
        assert cost2 is cost and cost2.graph is g2 and tf.get_default_graph() is g2
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            first = s.run(cost2)
            s.run(step)
            assert s.run(cost2) < first
    assert g1.get_collection("Train/cost") == []
    with pytest.raises(ValueError, match="imported already"), tf.Graph().as_default():
        tf.train.import_meta_graph(meta)
    with pytest.raises(tf.errors.UnimplementedError, match=r"\.meta files"):
        tf.train.export_meta_graph("model.meta")
    with pytest.raises(tf.errors.UnimplementedError, match=r"\.meta files"):
        tf.train.import_meta_graph("model.meta")


def test_device_lib_lists_the_cpu():
    from rnnkit.compat.v1._install import install, uninstall

    install()
    try:
        from tensorflow.python.client import device_lib

        devices = device_lib.list_local_devices()
    finally:
        uninstall()
    assert [(d.name, d.device_type) for d in devices] == [("/device:CPU:0", "CPU")]
    assert [d.name for d in devices if d.device_type == "GPU"] == []


def test_raw_rnn_loop_fn_results_are_checked():
    cell = tf.nn.rnn_cell.BasicRNNCell(3)
    x = tf.ones([2, 4])
    with pytest.raises(ValueError, match=r"must return \(elements_finished, next_input"):
        tf.nn.raw_rnn(cell, lambda t, o, s, ls: (tf.zeros([2], tf.bool), x))
    with pytest.raises(TypeError, match="must be a bool tensor, got int32"):
        tf.nn.raw_rnn(cell, lambda t, o, s, ls: (tf.zeros([2], tf.int32), x, s, None, None))


def test_more_metrics_match_tf():
    ref = _load("more_metrics")
    lab = tf.placeholder(tf.float32, [None])
    pred = tf.placeholder(tf.float32, [None])
    w = tf.placeholder(tf.float32, [None])
    made = [
        tf.metrics.mean_squared_error(lab, pred, weights=w),
        tf.metrics.mean_absolute_error(lab, pred),
        tf.metrics.precision(tf.cast(lab, tf.bool), tf.cast(pred, tf.bool), weights=w),
        tf.metrics.recall(tf.cast(lab, tf.bool), tf.cast(pred, tf.bool)),
    ]
    assert [v.op.name for v in tf.local_variables()] == list(ref["local_names"])
    with tf.Session() as s:
        s.run(tf.local_variables_initializer())
        for k in range(3):
            feed = {lab: ref["labels"][k], pred: ref["predictions"][k], w: ref["weights"][k]}
            ups = s.run([m[1] for m in made], feed)
            got = [*ups, *s.run([m[0] for m in made])]
            np.testing.assert_allclose(got, ref["rows"][k], rtol=1e-6)


def test_slim_analyze_vars_prints_as_tf_slim(capsys):
    import json

    ref = json.loads((FIX / "analyze_vars.json").read_text())
    tf.get_variable("a", [3, 4])
    tf.get_variable("s/b", [5], dtype=tf.float64)
    tf.Variable(3, name="c")
    got = tf.contrib.slim.model_analyzer.analyze_vars(tf.global_variables(), print_info=True)
    assert list(got) == ref["result"]
    assert capsys.readouterr().out == ref["stdout"]


def test_container_and_tables_initializer():
    with tf.container("experiment0"):
        v = tf.Variable(2.0)
    init = tf.tables_initializer()
    assert isinstance(init, tf.Operation) and init.name == "init_all_tables"
    with tf.Session() as s:
        s.run([tf.global_variables_initializer(), init])
        assert s.run(v) == 2.0
    with pytest.raises(TypeError, match="container_name"), tf.container(3):
        pass


# -- small behaviours: concat of one tensor, int one-hot labels, fill with a tensor, Dimension ----


def test_concat_of_one_tensor_is_a_one_element_list():
    ref = _load("small_fixes")
    out = tf.concat(tf.constant(ref["concat_in"]), 1)
    assert out.shape.as_list() == list(ref["concat_shape"])
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(out), ref["concat_out"])


def test_softmax_cross_entropy_casts_int_onehot_labels():
    ref = _load("small_fixes")
    labels = tf.placeholder(tf.int32, [None, 3])
    logits = tf.placeholder(tf.float32, [None, 3])
    loss = tf.losses.softmax_cross_entropy(onehot_labels=labels, logits=logits)
    with tf.Session() as s:
        got = s.run(loss, {labels: ref["labels"], logits: ref["logits"]})
    np.testing.assert_allclose(got, ref["loss"], rtol=1e-6)


def test_fill_with_a_tensor_value():
    ref = _load("small_fixes")
    f = tf.fill([2, 2], tf.constant(3.0))
    i = tf.fill(tf.constant([3]), tf.constant(7, tf.int32))
    assert i.dtype.name == str(ref["fill_i_dtype"])
    with tf.Session() as s:
        fv, iv = s.run([f, i])
    np.testing.assert_array_equal(fv, ref["fill_f"])
    np.testing.assert_array_equal(iv, ref["fill_i"])
    with pytest.raises(ValueError, match="Shape must be rank 0 but is rank 1 for 'Fill'"):
        tf.fill([2], tf.constant([1.0, 2.0]))
    fed = tf.placeholder(tf.float32)
    with tf.Session() as s, pytest.raises(tf.errors.InvalidArgumentError, match="scalar"):
        s.run(tf.fill([2], fed), {fed: [1.0, 2.0]})


def test_dimension_arithmetic_with_ints():
    ref = _load("small_fixes")
    d, u = tf.TensorShape([3, 4])[1], tf.TensorShape([None])[0]
    dims = [d + 1, 1 + d, d - 1, 9 - d, d * 2, 2 * d, d // 3, u + 1, 1 + u, d + u]
    assert [type(v).__name__ for v in dims] == list(ref["dims_type"])
    assert [-1 if v.value is None else v.value for v in dims] == list(ref["dims"])


def test_graph_keys_saveable_objects():
    assert tf.GraphKeys.SAVEABLE_OBJECTS == "saveable_objects"  # TF's collection name
