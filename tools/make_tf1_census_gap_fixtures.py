"""Generate reference data from real TensorFlow for the TF1 names that published programs use and
``rnnkit.compat.v1`` lacked: one ``<case>.npz`` per case in ``tests/fixtures/tf1_census_gaps``
(numbers as float32/int32 arrays, names and error texts as unicode arrays; no pickles).

Cases:

- ``multi_shared``: ``MultiRNNCell([cell] * 2)`` over one ``BasicLSTMCell(4)`` (one set of
  variables), ``dynamic_rnn`` outputs and final states for fixed weights, and TF's error text when
  the input width (3) differs from ``num_units``; ``multi_shared_ckpt/model``: TF's checkpoint of it.
- ``raw_rnn``: ``tf.nn.raw_rnn`` over a ``GRUCell(5)`` fed from a TensorArray with per-row lengths;
  the emit is twice the output, the loop state counts the steps, the state stops at each row's end.
- ``raw_rnn_emit``: ``raw_rnn`` with an ``emit_structure`` (a pair: the output and its row sum).
- ``metrics``: ``tf.metrics.accuracy`` and ``tf.metrics.mean`` (with weights) over three batches:
  the value before any update, each ``update_op`` result and the value after it; local variables.
- ``more_metrics``: ``mean_squared_error`` (weighted), ``mean_absolute_error``, ``precision``
  (weighted) and ``recall`` over three batches.
- ``sampled_softmax``: ``tf.nn.sampled_softmax_loss`` with fixed ``sampled_values`` (so TF's random
  sampler is out of the numbers), ``num_true`` 1 and 2, ``remove_accidental_hits`` on and off.
- ``adadelta``: ``AdadeltaOptimizer`` over 5 steps of a small least-squares problem (variables and
  both slots after each step, slot names), with TF's default hyper-parameters and with larger ones.
- ``adadelta_sparse``: ``AdadeltaOptimizer`` on an embedding (sparse gradient), 5 steps.
- ``nest``: ``tf.nest`` results on dicts, namedtuples and strings.
- ``nas_cell``: ``NASCell`` outputs and final state over 5 steps (TensorFlow Addons' port of
  ``tf.contrib.rnn.NASCell``), plain and with ``num_proj`` and biases.
- ``small_fixes``: ``tf.concat`` of one tensor, ``softmax_cross_entropy`` with int32 labels,
  ``tf.fill`` with a tensor value, ``Dimension`` arithmetic with ints.
- ``analyze_vars.json``: what ``contrib.slim.model_analyzer.analyze_vars`` prints and returns.
- ``help.json``: what a TF1 script with flags prints for ``--help`` (``tf.app.run``), and its exit
  status.
- ``attention_dynamic_rnn``: ``dynamic_rnn`` over an ``AttentionWrapper`` (TensorFlow Addons), with
  ``dtype``, with a given initial state, and with ``alignment_history`` and ``sequence_length``.

Needs TensorFlow 2.16 or later with ``tf-keras``; run it outside rnnkit's environment::

    TF_USE_LEGACY_KERAS=1 /root/tfvenv/bin/python tools/make_tf1_census_gap_fixtures.py \\
        --out tests/fixtures/tf1_census_gaps
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

import numpy as np
from tf_reference import tf, tf1

f32 = np.float32


def _names() -> np.ndarray:
    return np.array([v.op.name for v in tf1.global_variables()])


def multi_shared(rng: np.random.Generator, out_dir: Path) -> dict:
    tf1.reset_default_graph()
    x = tf1.placeholder(tf.float32, [2, 5, 4])
    cell = tf1.nn.rnn_cell.BasicLSTMCell(4)
    out, state = tf1.nn.dynamic_rnn(tf1.nn.rnn_cell.MultiRNNCell([cell] * 2), x, dtype=tf.float32)
    xv = rng.normal(size=(2, 5, 4)).astype(f32)
    kernel = rng.normal(0, 0.4, size=(8, 16)).astype(f32)
    bias = rng.normal(0, 0.1, size=16).astype(f32)
    names = _names()
    with tf1.Session() as s:
        s.run(tf1.global_variables_initializer())
        kv, bv = tf1.global_variables()
        kv.load(kernel, s)
        bv.load(bias, s)
        ov, sv = s.run([out, state], {x: xv})
        tf1.train.Saver().save(
            s, str(out_dir / "multi_shared_ckpt" / "model"), write_meta_graph=False
        )
    tf1.reset_default_graph()
    x3 = tf1.placeholder(tf.float32, [2, 5, 3])
    cell = tf1.nn.rnn_cell.BasicLSTMCell(4)
    try:
        tf1.nn.dynamic_rnn(tf1.nn.rnn_cell.MultiRNNCell([cell] * 2), x3, dtype=tf.float32)
        error = ""
    except ValueError as e:
        error = str(e)
    return {
        "names": names,
        "x": xv,
        "kernel": kernel,
        "bias": bias,
        "outputs": ov,
        "states": np.stack([np.stack([st.c, st.h]) for st in sv]),
        "width3_error": np.array(error),
    }


def _raw_rnn_graph(emit_pair: bool):
    B, T, D, H = 3, 4, 2, 5
    x = tf1.placeholder(tf.float32, [T, B, D], name="x")
    lengths = tf1.placeholder(tf.int32, [B], name="lengths")
    inputs_ta = tf1.TensorArray(tf.float32, size=T).unstack(x)
    cell = tf1.nn.rnn_cell.GRUCell(H)

    def loop_fn(time, output, state, loop_state):
        if output is None:
            emit = (tf1.zeros([H]), tf1.zeros([])) if emit_pair else None
            start = cell.zero_state(B, tf.float32)
            return 0 >= lengths, inputs_ta.read(0), start, emit, tf1.constant(0)
        finished = time >= lengths
        nxt = tf1.cond(
            tf1.reduce_all(finished), lambda: tf1.zeros([B, D]), lambda: inputs_ta.read(time)
        )
        emit = (output, tf1.reduce_sum(output, 1)) if emit_pair else output * 2.0
        return finished, nxt, state, emit, loop_state + 1

    emit_ta, final_state, final_loop = tf1.nn.raw_rnn(cell, loop_fn)
    emits = [ta.stack() for ta in tf.nest.flatten(emit_ta)]
    return x, lengths, emits, final_state, final_loop


def raw_rnn(rng: np.random.Generator, emit_pair: bool) -> dict:
    tf1.reset_default_graph()
    x, lengths, emits, final_state, final_loop = _raw_rnn_graph(emit_pair)
    names = _names()
    xv = rng.normal(size=(4, 3, 2)).astype(f32)
    lv = np.array([4, 2, 3], np.int32)
    weights = {n: rng.normal(0, 0.5, size=v.shape.as_list()).astype(f32)
               for n, v in zip(names, tf1.global_variables())}  # fmt: skip
    with tf1.Session() as s:
        s.run(tf1.global_variables_initializer())
        for v in tf1.global_variables():
            v.load(weights[v.op.name], s)
        ev, fs, fl = s.run([emits, final_state, final_loop], {x: xv, lengths: lv})
    out = {"names": names, "x": xv, "lengths": lv, "final_state": fs, "final_loop_state": fl}
    out.update({f"emit_{k}": e for k, e in enumerate(ev)})
    out.update({f"w_{n}": w for n, w in weights.items()})
    return out


def metrics(rng: np.random.Generator) -> dict:
    tf1.reset_default_graph()
    labels = tf1.placeholder(tf.int64, [None])
    preds = tf1.placeholder(tf.int64, [None])
    values = tf1.placeholder(tf.float32, [None])
    weights = tf1.placeholder(tf.float32, [None])
    acc, acc_up = tf1.metrics.accuracy(labels=labels, predictions=preds)
    mean, mean_up = tf1.metrics.mean(values, weights=weights)
    names = np.array([v.op.name for v in tf1.local_variables()])
    batches = [
        (rng.integers(0, 3, 4), rng.integers(0, 3, 4), rng.normal(size=4), rng.uniform(size=4))
        for _ in range(3)
    ]
    rows = []
    with tf1.Session() as s:
        s.run(tf1.local_variables_initializer())
        before = s.run([acc, mean])
        for lab, pr, val, w in batches:
            feed = {labels: lab, preds: pr, values: val, weights: w}
            ups = s.run([acc_up, mean_up], feed)
            rows.append([*ups, *s.run([acc, mean])])
    return {
        "local_names": names,
        "before": np.array(before, f32),
        "labels": np.stack([b[0] for b in batches]).astype(np.int64),
        "predictions": np.stack([b[1] for b in batches]).astype(np.int64),
        "values": np.stack([b[2] for b in batches]).astype(f32),
        "weights": np.stack([b[3] for b in batches]).astype(f32),
        "rows": np.array(rows, f32),  # per batch: acc update, mean update, acc, mean
    }


def more_metrics(rng: np.random.Generator) -> dict:
    """``mean_squared_error``, ``mean_absolute_error``, ``precision`` and ``recall`` (weighted)
    over three batches: each update's result and the value after it; local variable names."""
    tf1.reset_default_graph()
    lab = tf1.placeholder(tf.float32, [None])
    pred = tf1.placeholder(tf.float32, [None])
    w = tf1.placeholder(tf.float32, [None])
    made = [
        tf1.metrics.mean_squared_error(lab, pred, weights=w),
        tf1.metrics.mean_absolute_error(lab, pred),
        tf1.metrics.precision(tf1.cast(lab, tf.bool), tf1.cast(pred, tf.bool), weights=w),
        tf1.metrics.recall(tf1.cast(lab, tf.bool), tf1.cast(pred, tf.bool)),
    ]
    names = np.array([v.op.name for v in tf1.local_variables()])
    labels = rng.integers(0, 2, size=(3, 6)).astype(f32)
    preds = rng.integers(0, 2, size=(3, 6)).astype(f32)
    weights = rng.uniform(size=(3, 6)).astype(f32)
    rows = []
    with tf1.Session() as s:
        s.run(tf1.local_variables_initializer())
        for k in range(3):
            ups = s.run([m[1] for m in made], {lab: labels[k], pred: preds[k], w: weights[k]})
            rows.append([*ups, *s.run([m[0] for m in made])])
    return {
        "local_names": names,
        "labels": labels,
        "predictions": preds,
        "weights": weights,
        "rows": np.array(rows, f32),
    }


def sampled_softmax(rng: np.random.Generator) -> dict:
    out = {}
    C, D, B = 10, 4, 3
    w = rng.normal(size=(C, D)).astype(f32)
    b = rng.normal(size=C).astype(f32)
    x = rng.normal(size=(B, D)).astype(f32)
    sampled = np.array([0, 2, 5, 7, 9], np.int64)
    out.update(weights=w, biases=b, inputs=x, sampled=sampled)
    for num_true in (1, 2):
        labels = np.array([[2, 3], [5, 1], [8, 9]], np.int64)[:, :num_true]
        true_exp = rng.uniform(0.1, 0.9, size=(B, num_true)).astype(f32)
        samp_exp = rng.uniform(0.1, 0.9, size=len(sampled)).astype(f32)
        out[f"labels_{num_true}"] = labels
        out[f"true_expected_{num_true}"] = true_exp
        out[f"sampled_expected_{num_true}"] = samp_exp
        for hits in (True, False):
            tf1.reset_default_graph()
            loss = tf1.nn.sampled_softmax_loss(
                weights=tf1.constant(w),
                biases=tf1.constant(b),
                labels=tf1.constant(labels),
                inputs=tf1.constant(x),
                num_sampled=len(sampled),
                num_classes=C,
                num_true=num_true,
                sampled_values=(
                    tf1.constant(sampled),
                    tf1.constant(true_exp),
                    tf1.constant(samp_exp),
                ),
                remove_accidental_hits=hits,
            )
            with tf1.Session() as s:
                out[f"loss_{num_true}_{int(hits)}"] = s.run(loss)
    return out


ADADELTA = {"default": {}, "large": {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-6}}


def adadelta(rng: np.random.Generator) -> dict:
    out = {}
    X = rng.normal(size=(5, 6, 3)).astype(f32)
    Y = rng.normal(size=(5, 6, 2)).astype(f32)
    W0 = rng.normal(0, 0.5, size=(3, 2)).astype(f32)
    b0 = rng.normal(0, 0.1, size=2).astype(f32)
    out.update(X=X, Y=Y, W0=W0, b0=b0)
    for case, kwargs in ADADELTA.items():
        tf1.reset_default_graph()
        x = tf1.placeholder(tf.float32, [None, 3])
        y = tf1.placeholder(tf.float32, [None, 2])
        W = tf1.Variable(W0, name="W")
        b = tf1.Variable(b0, name="b")
        loss = tf1.reduce_mean(tf1.square(tf1.matmul(x, W) + b - y))
        opt = tf1.train.AdadeltaOptimizer(**kwargs)
        step = opt.minimize(loss)
        out[f"{case}_names"] = _names()
        out[f"{case}_slot_names"] = np.array(opt.get_slot_names())
        hist = {k: [] for k in ("W", "b", "W_accum", "W_accum_update")}
        with tf1.Session() as s:
            s.run(tf1.global_variables_initializer())
            for k in range(5):
                s.run(step, {x: X[k], y: Y[k]})
                wv, bv, acc, accu = s.run(
                    [W, b, opt.get_slot(W, "accum"), opt.get_slot(W, "accum_update")]
                )
                for key, v in zip(hist, (wv, bv, acc, accu)):
                    hist[key].append(v)
        out.update({f"{case}_{k}": np.stack(v) for k, v in hist.items()})
    return out


def adadelta_sparse(rng: np.random.Generator) -> dict:
    """``AdadeltaOptimizer(1.0, rho=0.9, epsilon=1e-6)`` on an embedding whose gradient is sparse
    (TF's ``SparseApplyAdadelta``: only the rows looked up move, their slots only), 5 steps."""
    E0 = rng.normal(size=(10, 4)).astype(f32)
    ids = np.stack([rng.choice(10, size=6) for _ in range(5)]).astype(np.int32)
    ids[:, 0] = ids[:, 1]  # a repeated id in every batch: its row gradients add up
    targets = rng.normal(size=(5, 6, 4)).astype(f32)
    tf1.reset_default_graph()
    idp = tf1.placeholder(tf.int32, [None])
    yp = tf1.placeholder(tf.float32, [None, 4])
    E = tf1.Variable(E0, name="E")
    loss = tf1.reduce_mean(tf1.square(tf1.nn.embedding_lookup(E, idp) - yp))
    opt = tf1.train.AdadeltaOptimizer(1.0, rho=0.9, epsilon=1e-6)
    step = opt.minimize(loss)
    hist: dict[str, list] = {"E": [], "accum": [], "accum_update": []}
    with tf1.Session() as s:
        s.run(tf1.global_variables_initializer())
        for k in range(5):
            s.run(step, {idp: ids[k], yp: targets[k]})
            values = s.run([E, opt.get_slot(E, "accum"), opt.get_slot(E, "accum_update")])
            for key, v in zip(hist, values):
                hist[key].append(v)
    return {"E0": E0, "ids": ids, "targets": targets, **{k: np.stack(v) for k, v in hist.items()}}


def nest_cases() -> dict:
    Point = collections.namedtuple("Point", ["y", "x"])
    structure = {"b": (1, [2, 3]), "a": Point(y=4, x=5)}
    flat = tf.nest.flatten(structure)
    packed = tf.nest.pack_sequence_as(structure, [10 * v for v in flat])
    mapped = tf.nest.map_structure(lambda u, v: u + v, structure, structure)
    seq = [tf1.nest.is_nested(v) for v in ("ab", [1], (), {"a": 1}, Point(1, 2), 3, np.zeros(2))]
    return {
        "flat": np.array(flat, np.int32),
        "packed_flat": np.array(tf.nest.flatten(packed), np.int32),
        "packed_a_type": np.array(type(packed["a"]).__name__),
        "mapped_flat": np.array(tf.nest.flatten(mapped), np.int32),
        "is_sequence": np.array(seq),
    }


def attention_dynamic_rnn(rng: np.random.Generator) -> dict:
    """``dynamic_rnn`` over an ``AttentionWrapper`` (TensorFlow Addons' seq2seq, the home of
    ``tf.contrib.seq2seq`` in TF 2): with ``dtype`` only, and with an initial state whose cell state
    is given (``zero_state(...).clone(cell_state=...)``). TFA names the variables its own way, so
    the weights are listed in creation order."""
    import sys

    sys.path.insert(0, "/root")
    from tfa_import import tfa

    out = {
        "memory": rng.normal(size=(2, 6, 5)).astype(f32),
        "x": rng.normal(size=(2, 4, 3)).astype(f32),
        "c0": rng.normal(size=(2, 7)).astype(f32),
        "h0": rng.normal(size=(2, 7)).astype(f32),
    }
    for case in ("dtype", "initial_state", "history"):
        tf1.reset_default_graph()
        cell = tf1.nn.rnn_cell.LSTMCell(7)
        mech = tfa.seq2seq.LuongAttention(7, tf1.constant(out["memory"]))
        att = tfa.seq2seq.AttentionWrapper(
            cell, mech, attention_layer_size=7, alignment_history=case == "history"
        )
        x = tf1.constant(out["x"])
        if case == "dtype":
            outputs, state = tf1.nn.dynamic_rnn(att, x, dtype=tf.float32)
        elif case == "history":  # the history is a TensorArray written at every step
            outputs, state = tf1.nn.dynamic_rnn(att, x, dtype=tf.float32, sequence_length=[4, 2])
        else:
            start = att.get_initial_state(batch_size=2, dtype=tf.float32).clone(
                cell_state=tf1.nn.rnn_cell.LSTMStateTuple(out["c0"], out["h0"])
            )
            outputs, state = tf1.nn.dynamic_rnn(att, x, initial_state=start)
        with tf1.Session() as s:
            s.run(tf1.global_variables_initializer())
            for k, v in enumerate(tf1.global_variables()):
                key = f"w{k}"
                if key not in out:
                    out[key] = rng.normal(0, 0.3, size=v.shape.as_list()).astype(f32)
                v.load(out[key], s)
            if case == "history":  # a TensorArray cannot be fetched: its stack() is
                out["history_stack"] = s.run(state.alignment_history.stack())
                state = state._replace(alignment_history=())
            ov, sv = s.run([outputs, state])
        out[f"{case}_outputs"] = ov
        out[f"{case}_c"], out[f"{case}_h"] = sv.cell_state
        out[f"{case}_attention"] = sv.attention
        out[f"{case}_alignments"] = sv.alignments
    return out


#: a TF1 script with flags; ``help.json`` holds what real TensorFlow prints for ``--help``
FLAGS_SCRIPT = """{doc}import tensorflow as tf

tf = tf.compat.v1
tf.app.flags.DEFINE_integer("batch_size", 32, "rows per step")
tf.app.flags.DEFINE_string("data_dir", "/tmp/data", "where the data is")
tf.app.flags.DEFINE_bool("train", True, "train or not")
tf.app.flags.DEFINE_float("lr", 0.5, "learning rate")
tf.app.flags.DEFINE_enum("mode", "a", ["a", "b"], "which mode")
tf.app.flags.DEFINE_list("names", ["x", "y"], "some names")
tf.app.flags.DEFINE_string("nodefault", None, "no default")
tf.app.flags.DEFINE_integer("n", 3, "a help text long enough to be wrapped at the eightieth "
                            "column of the terminal by the flags library")


def main(_):
    print("main ran", tf.app.flags.FLAGS.batch_size)


if __name__ == "__main__":
    tf.app.run()
"""


def help_output() -> dict:
    """``--help`` (and ``--batch_size 5``) of :data:`FLAGS_SCRIPT` under real TensorFlow, with and
    without a module docstring; the script's path reads ``PROGRAM``."""
    import subprocess
    import sys
    import tempfile

    cases = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, doc in (("doc", '"""Trains a small model."""\n\n'), ("nodoc", "")):
            path = Path(tmp) / f"flags_{name}.py"
            path.write_text(FLAGS_SCRIPT.format(doc=doc))
            for args in (["--help"], ["--batch_size", "5"]):
                run = subprocess.run([sys.executable, str(path), *args], capture_output=True,
                                     text=True, check=False)  # fmt: skip
                key = f"{name} {' '.join(args)}"
                cases[key] = {
                    "rc": run.returncode,
                    "stdout": run.stdout.replace(str(path), "PROGRAM"),
                }
    return {"script": FLAGS_SCRIPT, "cases": cases}


def nas_cell(rng: np.random.Generator) -> dict:
    """``NASCell`` (``tf.contrib.rnn.NASCell`` in TF 1.x; TensorFlow Addons' ``rnn.NASCell`` in
    TF 2, the same step) over 5 steps, with and without biases and projection; the weights are
    given in TF1's creation order (recurrent_kernel, kernel, bias, projection_weights)."""
    import sys

    sys.path.insert(0, "/root")
    from tfa_import import tfa

    out = {"x": rng.normal(size=(3, 5, 4)).astype(f32)}
    for case, (units, proj, bias) in {"plain": (6, None, False), "proj_bias": (6, 3, True)}.items():
        tf1.reset_default_graph()
        cell = tfa.rnn.NASCell(units, projection=proj, use_bias=bias)
        layer = tf.keras.layers.RNN(cell, return_sequences=True, return_state=True)
        outputs, c, m = layer(tf1.constant(out["x"]))
        with tf1.Session() as s:
            s.run(tf1.global_variables_initializer())
            for k, v in enumerate(layer.weights):
                out[f"{case}_w{k}"] = rng.normal(0, 0.4, size=v.shape.as_list()).astype(f32)
                v.load(out[f"{case}_w{k}"], s)
            out[f"{case}_outputs"], out[f"{case}_c"], out[f"{case}_m"] = s.run([outputs, c, m])
        out[f"{case}_weight_names"] = np.array([v.name.split("/")[-1][:-2] for v in layer.weights])
    return out


def small_fixes() -> dict:
    """Single behaviours programs rely on: ``tf.concat(tensor, axis)`` of one tensor (taken as a
    one-element list), ``tf.losses.softmax_cross_entropy`` with int32 one-hot labels (cast to the
    logits' dtype), ``tf.fill`` with a tensor value, and ``Dimension`` arithmetic with ints
    (-1 stands for an unknown dimension)."""
    tf1.reset_default_graph()
    x = np.arange(6, dtype=f32).reshape(2, 3)
    cat = tf1.concat(tf1.constant(x), 1)
    labels = np.array([[0, 1, 0], [1, 0, 0]], np.int32)
    logits = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], f32)
    loss = tf1.losses.softmax_cross_entropy(
        onehot_labels=tf1.constant(labels), logits=tf1.constant(logits)
    )
    fill_f = tf1.fill([2, 2], tf1.constant(3.0))
    fill_i = tf1.fill(tf1.constant([3]), tf1.constant(7, tf.int32))
    d, u = tf1.TensorShape([3, 4])[1], tf1.TensorShape([None])[0]
    dims = [d + 1, 1 + d, d - 1, 9 - d, d * 2, 2 * d, d // 3, u + 1, 1 + u, d + u]
    with tf1.Session() as s:
        cv, lv, fv, iv = s.run([cat, loss, fill_f, fill_i])
    return {
        "concat_in": x,
        "concat_out": cv,
        "concat_shape": np.array(cat.shape.as_list()),
        "labels": labels,
        "logits": logits,
        "loss": lv,
        "fill_f": fv,
        "fill_i": iv,
        "fill_i_dtype": np.array(fill_i.dtype.name),
        "dims": np.array([-1 if v.value is None else v.value for v in dims]),
        "dims_type": np.array([type(v).__name__ for v in dims]),
    }


def analyze_vars_output() -> dict:
    """What TF-Slim's ``model_analyzer.analyze_vars`` (``tf.contrib.slim`` in TF 1.x) prints and
    returns for three variables (float32 3x4, float64 5, a scalar int32)."""
    import contextlib
    import io

    import tf_slim

    tf1.reset_default_graph()
    tf1.get_variable("a", [3, 4])
    tf1.get_variable("s/b", [5], dtype=tf.float64)
    tf1.Variable(3, name="c")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        result = tf_slim.model_analyzer.analyze_vars(tf1.global_variables(), print_info=True)
    return {"stdout": buf.getvalue(), "result": list(result)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/tf1_census_gaps"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20)
    cases = {
        "multi_shared": multi_shared(rng, args.out),
        "raw_rnn": raw_rnn(rng, emit_pair=False),
        "raw_rnn_emit": raw_rnn(rng, emit_pair=True),
        "metrics": metrics(rng),
        "sampled_softmax": sampled_softmax(rng),
        "adadelta": adadelta(rng),
        "adadelta_sparse": adadelta_sparse(rng),
        "nest": nest_cases(),
        "attention_dynamic_rnn": attention_dynamic_rnn(rng),
        "nas_cell": nas_cell(rng),
        "more_metrics": more_metrics(rng),
        "small_fixes": small_fixes(),
    }
    for name, arrays in cases.items():
        np.savez(args.out / f"{name}.npz", **{k: np.asarray(v) for k, v in arrays.items()})
    meta = {"tensorflow": tf.__version__, "adadelta": ADADELTA}
    (args.out / "help.json").write_text(json.dumps(help_output(), indent=1) + "\n")
    (args.out / "analyze_vars.json").write_text(json.dumps(analyze_vars_output(), indent=1) + "\n")
    (args.out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
