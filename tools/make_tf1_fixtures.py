"""Generate TensorFlow 1.x RNN reference cases (outputs, final states and gradients).

Runs TensorFlow's own ``tf.compat.v1`` RNN code in graph mode: the cells
``tf.compat.v1.nn.rnn_cell.{BasicRNNCell, BasicLSTMCell, LSTMCell, GRUCell, MultiRNNCell}`` with
``static_rnn``, ``dynamic_rnn`` and ``bidirectional_dynamic_rnn``. Random (seeded numpy) values are
loaded into TensorFlow's variables, and each case is written as ``<name>.npz`` in the format of
``/work/shared/fixtures/tf1`` (see its README), plus a ``cases.json`` listing the cases.

This needs TensorFlow (2.16 or later with ``tf-keras`` for the legacy cells) and is not part of
rnnkit's dependencies; run it with a separate interpreter::

    /work/peers-venv/bin/python tools/make_tf1_fixtures.py --out tests/fixtures/tf1_extra
    /work/peers-venv/bin/python tools/make_tf1_fixtures.py --check /work/shared/fixtures/tf1

``--check DIR`` re-runs the cases of ``DIR/cases.json`` on the inputs, weights, initial states and
coefficients stored in their .npz files and prints the largest differences from the stored results.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zlib

import numpy as np
from tf_reference import tf, tf1

DTYPE = np.float32
ACTIVATIONS = {"tanh": tf.tanh, "relu": tf.nn.relu, "sigmoid": tf.sigmoid}


# --------------------------------------------------------------------------------------------
# Cells and state structures
# --------------------------------------------------------------------------------------------


def make_cell(spec):
    rc = tf1.nn.rnn_cell
    kind = spec["type"]
    act = ACTIVATIONS[spec["activation"]] if "activation" in spec else None
    if kind == "BasicRNNCell":
        return rc.BasicRNNCell(spec["num_units"], activation=act)
    if kind == "GRUCell":
        return rc.GRUCell(spec["num_units"], activation=act)
    if kind == "BasicLSTMCell":
        return rc.BasicLSTMCell(
            spec["num_units"], forget_bias=spec.get("forget_bias", 1.0), activation=act
        )
    if kind == "LSTMCell":
        return rc.LSTMCell(
            spec["num_units"],
            use_peepholes=spec.get("use_peepholes", False),
            forget_bias=spec.get("forget_bias", 1.0),
            activation=act,
        )
    if kind == "MultiRNNCell":
        return rc.MultiRNNCell([make_cell(s) for s in spec["cells"]])
    raise ValueError(f"unknown cell type {kind!r}")


def state_paths(spec, prefix):
    """The state leaves of a cell spec as (path, width) pairs, in TF's nest order."""
    kind = spec["type"]
    if kind in ("BasicLSTMCell", "LSTMCell"):
        n = spec["num_units"]
        return [(_join(prefix, "c"), n), (_join(prefix, "h"), n)]
    if kind == "MultiRNNCell":
        out = []
        for k, s in enumerate(spec["cells"]):
            out += state_paths(s, _join(prefix, str(k)))
        return out
    return [(prefix, spec["num_units"])]


def build_state(spec, leaves, prefix):
    """Build the TF state structure of a cell spec from a dict path -> tensor."""
    kind = spec["type"]
    if kind in ("BasicLSTMCell", "LSTMCell"):
        return tf1.nn.rnn_cell.LSTMStateTuple(
            leaves[_join(prefix, "c")], leaves[_join(prefix, "h")]
        )
    if kind == "MultiRNNCell":
        return tuple(
            build_state(s, leaves, _join(prefix, str(k))) for k, s in enumerate(spec["cells"])
        )
    return leaves[prefix]


def flatten_state(state, prefix):
    """Flatten a TF state structure into (path, tensor) pairs with the fixture's path names."""
    if isinstance(state, tf1.nn.rnn_cell.LSTMStateTuple):
        return [(_join(prefix, "c"), state.c), (_join(prefix, "h"), state.h)]
    if isinstance(state, (tuple, list)):
        out = []
        for k, s in enumerate(state):
            out += flatten_state(s, _join(prefix, str(k)))
        return out
    return [(prefix, state)]


def _join(a, b):
    if not a or not b:
        return a or b
    return f"{a}/{b}"


def output_width(spec):
    if spec["type"] == "MultiRNNCell":
        return output_width(spec["cells"][-1])
    return spec["num_units"]


# --------------------------------------------------------------------------------------------
# One case
# --------------------------------------------------------------------------------------------


def case_shapes(case):
    B, T, I = case["batch"], case["steps"], case["input_size"]
    tm = case.get("time_major", False) or case["runner"] == "static_rnn"
    return (T, B, I) if tm else (B, T, I)


def init_paths(case):
    if case["runner"] == "bidirectional_dynamic_rnn":
        return state_paths(case["cell"], "fw") + state_paths(case["cell_bw"], "bw")
    return state_paths(case["cell"], "")


def run_case(case, given=None, seed=0):
    """Build and run one case; return the ordered dict of arrays for its .npz.

    ``given`` (an npz mapping) supplies inputs, lengths, initial state, variables and
    coefficients instead of drawing them from the seeded generator.
    """
    rng = np.random.default_rng(seed)
    scale = case.get("weight_scale", 0.5)
    B = case["batch"]
    runner = case["runner"]
    time_major = case.get("time_major", False)
    x_shape = case_shapes(case)

    def draw(key, shape, std):
        if given is not None:
            a = np.asarray(given[key], dtype=DTYPE)
            if a.shape != tuple(shape):
                raise ValueError(f"{key}: stored shape {a.shape}, expected {tuple(shape)}")
            return a
        return (rng.standard_normal(shape) * std).astype(DTYPE)

    res = {}
    graph = tf1.Graph()
    with graph.as_default():
        x_val = draw("inputs", x_shape, 1.0)
        res["inputs"] = x_val
        x = tf1.placeholder(tf.float32, x_shape, name="inputs")
        feed = {x: x_val}

        seq = None
        if "sequence_length" in case:
            seq_val = np.asarray(case["sequence_length"], dtype=np.int32)
            if given is not None:
                np.testing.assert_array_equal(given["sequence_length"], seq_val)
            res["sequence_length"] = seq_val
            seq = tf1.placeholder(tf.int32, (B,), name="sequence_length")
            feed[seq] = seq_val

        init_leaves = {}
        if case.get("initial_state", False):
            for path, width in init_paths(case):
                key = _join("init", path)
                val = draw(key, (B, width), 0.5)
                res[key] = val
                ph = tf1.placeholder(tf.float32, (B, width), name=key.replace("/", "_"))
                init_leaves[path] = ph
                feed[ph] = val

        cell = make_cell(case["cell"])
        if runner == "static_rnn":
            init = build_state(case["cell"], init_leaves, "") if init_leaves else None
            outs, state = tf1.nn.static_rnn(
                cell,
                tf.unstack(x, axis=0),
                initial_state=init,
                dtype=tf.float32,
                sequence_length=seq,
            )
            out_pairs = [("outputs", tf.stack(outs, axis=0))]
            state_pairs = flatten_state(state, "state")
        elif runner == "dynamic_rnn":
            init = build_state(case["cell"], init_leaves, "") if init_leaves else None
            outs, state = tf1.nn.dynamic_rnn(
                cell,
                x,
                sequence_length=seq,
                initial_state=init,
                dtype=tf.float32,
                time_major=time_major,
            )
            out_pairs = [("outputs", outs)]
            state_pairs = flatten_state(state, "state")
        elif runner == "bidirectional_dynamic_rnn":
            cell_bw = make_cell(case["cell_bw"])
            if init_leaves:
                init_fw = build_state(case["cell"], init_leaves, "fw")
                init_bw = build_state(case["cell_bw"], init_leaves, "bw")
            else:
                init_fw = init_bw = None
            (o_fw, o_bw), (s_fw, s_bw) = tf1.nn.bidirectional_dynamic_rnn(
                cell,
                cell_bw,
                x,
                sequence_length=seq,
                initial_state_fw=init_fw,
                initial_state_bw=init_bw,
                dtype=tf.float32,
                time_major=time_major,
            )
            out_pairs = [("outputs/fw", o_fw), ("outputs/bw", o_bw)]
            state_pairs = flatten_state(s_fw, "state/fw") + flatten_state(s_bw, "state/bw")
        else:
            raise ValueError(f"unknown runner {runner!r}")

        variables = tf1.trainable_variables()
        var_vals = {}
        for v in variables:
            name = v.op.name
            var_vals[name] = draw(_join("var", name), v.shape.as_list(), scale)
            res[_join("var", name)] = var_vals[name]

        coefs = {}
        loss = tf.constant(0.0, tf.float32)
        for path, t in out_pairs + state_pairs:
            key = _join("coef", path)
            coefs[key] = draw(key, t.shape.as_list(), 1.0)
            loss = loss + tf.reduce_sum(tf.constant(coefs[key]) * t)

        grad_targets = [("grad/inputs", x)]
        grad_targets += [(_join("grad/var", v.op.name), v) for v in variables]
        grad_targets += [
            (_join("grad/init", p), ph) for p, ph in init_leaves.items() if ph is not None
        ]
        grads = tf.gradients(loss, [t for _, t in grad_targets])

        fetch = {f"out/{p}": t for p, t in out_pairs + state_pairs}
        for (key, target), g in zip(grad_targets, grads):
            fetch[key] = g if g is not None else tf.zeros_like(target)

        with tf1.Session(graph=graph) as sess:
            sess.run(tf1.global_variables_initializer())
            for v in variables:
                v.load(var_vals[v.op.name], sess)
            vals = sess.run(fetch, feed_dict=feed)

    for path, _ in out_pairs + state_pairs:
        res[f"out/{path}"] = vals[f"out/{path}"]
    for key, _ in grad_targets:
        res[key] = vals[key]
    res.update(coefs)
    return {
        k: np.asarray(v, dtype=np.int32 if k == "sequence_length" else DTYPE)
        for k, v in res.items()
    }


# --------------------------------------------------------------------------------------------
# The new cases
# --------------------------------------------------------------------------------------------


def _c(
    name,
    runner,
    cell,
    batch,
    steps,
    input_size,
    cell_bw=None,
    weight_scale=None,
    time_major=False,
    initial_state=False,
    sequence_length=None,
):
    case = {"name": name, "runner": runner, "cell": cell}
    if cell_bw is not None:
        case["cell_bw"] = cell_bw
    if weight_scale is not None:
        case["weight_scale"] = weight_scale
    if time_major:
        case["time_major"] = True
    if initial_state:
        case["initial_state"] = True
    if sequence_length is not None:
        assert len(sequence_length) == batch
        assert all(0 <= n <= steps for n in sequence_length)
        case["sequence_length"] = list(sequence_length)
    case.update(batch=batch, steps=steps, input_size=input_size)
    return case


def RNN(n, **kw):
    return {"type": "BasicRNNCell", "num_units": n, **kw}


def BLSTM(n, forget_bias=1.0):
    return {"type": "BasicLSTMCell", "num_units": n, "forget_bias": forget_bias}


def LSTM(n, **kw):
    return {"type": "LSTMCell", "num_units": n, **kw}


def GRU(n):
    return {"type": "GRUCell", "num_units": n}


def MULTI(*cells):
    return {"type": "MultiRNNCell", "cells": list(cells)}


NEW_CASES = [
    _c("peephole_lstm_static", "static_rnn", LSTM(6, use_peepholes=True), 3, 7, 4),
    _c(
        "peephole_lstm_dynamic_lengths_init",
        "dynamic_rnn",
        LSTM(6, use_peepholes=True),
        4,
        9,
        5,
        initial_state=True,
        sequence_length=[9, 4, 0, 1],
    ),
    _c(
        "peephole_lstm_static_lengths_init",
        "static_rnn",
        LSTM(5, use_peepholes=True),
        3,
        6,
        4,
        initial_state=True,
        sequence_length=[2, 6, 0],
    ),
    _c(
        "lstm_forget_bias_half_dynamic",
        "dynamic_rnn",
        LSTM(6, forget_bias=0.5),
        3,
        8,
        5,
        sequence_length=[8, 5, 2],
    ),
    _c(
        "basic_lstm_forget_bias_zero_init",
        "dynamic_rnn",
        BLSTM(5, forget_bias=0.0),
        3,
        7,
        4,
        initial_state=True,
    ),
    _c(
        "multi3_mixed_time_major_lengths_init",
        "dynamic_rnn",
        MULTI(LSTM(5, use_peepholes=True), GRU(4), RNN(6)),
        4,
        7,
        3,
        time_major=True,
        initial_state=True,
        sequence_length=[7, 3, 0, 5],
    ),
    _c(
        "multi3_static_lengths",
        "static_rnn",
        MULTI(GRU(5), BLSTM(4), LSTM(6)),
        3,
        6,
        4,
        sequence_length=[6, 1, 4],
    ),
    _c("lstm_static_lengths", "static_rnn", LSTM(6), 3, 8, 5, sequence_length=[8, 3, 0]),
    _c(
        "gru_static_lengths_init",
        "static_rnn",
        GRU(6),
        3,
        8,
        5,
        initial_state=True,
        sequence_length=[5, 8, 0],
    ),
    _c(
        "rnn_relu_dynamic_lengths",
        "dynamic_rnn",
        RNN(6, activation="relu"),
        4,
        8,
        5,
        weight_scale=0.3,
        sequence_length=[8, 6, 0, 3],
    ),
    _c(
        "gru_dynamic_zero_and_full_lengths_init",
        "dynamic_rnn",
        GRU(5),
        4,
        6,
        3,
        initial_state=True,
        sequence_length=[0, 6, 0, 6],
    ),
    _c(
        "bidir_peephole_lstm_gru_lengths",
        "bidirectional_dynamic_rnn",
        LSTM(5, use_peepholes=True),
        3,
        7,
        4,
        cell_bw=GRU(6),
        sequence_length=[7, 4, 0],
    ),
    _c(
        "bidir_time_major_lengths_init",
        "bidirectional_dynamic_rnn",
        BLSTM(5),
        3,
        6,
        4,
        cell_bw=LSTM(4, use_peepholes=True),
        time_major=True,
        initial_state=True,
        sequence_length=[6, 2, 0],
    ),
    _c("gru_batch1_dynamic", "dynamic_rnn", GRU(4), 1, 5, 3),
    _c("lstm_batch1_static_init", "static_rnn", BLSTM(4), 1, 5, 3, initial_state=True),
    _c("rnn_one_step_dynamic_init", "dynamic_rnn", RNN(5), 3, 1, 4, initial_state=True),
    _c(
        "peephole_lstm_one_step_lengths",
        "dynamic_rnn",
        LSTM(4, use_peepholes=True),
        3,
        1,
        2,
        sequence_length=[1, 0, 1],
    ),
    _c(
        "wide_lstm_dynamic_lengths",
        "dynamic_rnn",
        LSTM(9, use_peepholes=True),
        5,
        11,
        7,
        sequence_length=[11, 7, 0, 1, 10],
    ),
    _c(
        "wide_gru_time_major_init",
        "dynamic_rnn",
        GRU(9),
        5,
        11,
        7,
        time_major=True,
        initial_state=True,
    ),
    _c(
        "wide_multi_rnn_lstm_static",
        "static_rnn",
        MULTI(RNN(9), BLSTM(8)),
        5,
        11,
        7,
        initial_state=True,
        sequence_length=[11, 0, 5, 11, 2],
    ),
]


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


def generate(out_dir, names=None):
    os.makedirs(out_dir, exist_ok=True)
    cases = [c for c in NEW_CASES if names is None or c["name"] in names]
    for case in cases:
        seed = zlib.crc32(case["name"].encode())
        arrays = run_case(case, seed=seed)
        np.savez(os.path.join(out_dir, case["name"] + ".npz"), **arrays)
        print(f"wrote {case['name']}.npz ({len(arrays)} arrays)")
    if names is None:
        with open(os.path.join(out_dir, "cases.json"), "w") as f:
            json.dump(cases, f, indent=1)
            f.write("\n")
        print(f"wrote cases.json ({len(cases)} cases)")


def check(ref_dir, names=None):
    """Recompute stored cases from their stored inputs; return the largest abs difference."""
    with open(os.path.join(ref_dir, "cases.json")) as f:
        cases = json.load(f)
    worst = 0.0
    for case in cases:
        if names and case["name"] not in names:
            continue
        ref = np.load(os.path.join(ref_dir, case["name"] + ".npz"))
        got = run_case(case, given=ref)
        if list(got) != list(ref.files):
            missing = sorted(set(ref.files) - set(got))
            extra = sorted(set(got) - set(ref.files))
            same_set = not missing and not extra
            print(
                f"  {case['name']}: key order differs (same set: {same_set}) "
                f"missing={missing} extra={extra}"
            )
        diffs = {}
        for k in ref.files:
            if k in got:
                if got[k].shape != ref[k].shape:
                    print(f"  {case['name']}: {k} shape {got[k].shape} != {ref[k].shape}")
                    diffs[k] = float("inf")
                else:
                    diffs[k] = float(np.max(np.abs(got[k] - ref[k]), initial=0.0))
        out = max((v for k, v in diffs.items() if k.startswith("out/")), default=0.0)
        grad = max((v for k, v in diffs.items() if k.startswith("grad/")), default=0.0)
        worst = max(worst, out, grad)
        print(f"{case['name']:32s} max|diff| outputs/states {out:.3g}  gradients {grad:.3g}")
    print(f"worst {worst:.3g}")
    return worst


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=os.path.join("tests", "fixtures", "tf1_extra"))
    p.add_argument("--check", metavar="DIR", help="recompute the cases stored in DIR instead")
    p.add_argument("--only", nargs="*", help="case names to run")
    a = p.parse_args(argv)
    print(f"TensorFlow {tf.__version__}", file=sys.stderr)
    if a.check:
        worst = check(a.check, a.only)
        return 0 if worst < 1e-4 else 1
    generate(a.out, a.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
