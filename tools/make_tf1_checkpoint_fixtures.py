"""Make TF1 checkpoints with real TensorFlow, and check that TensorFlow reads rnnkit's.

Needs TensorFlow (``tf.compat.v1`` with ``tf-keras`` for the legacy RNN cells) *and* rnnkit in one
interpreter; rnnkit is not a TensorFlow dependency, so run it with the TensorFlow venv and rnnkit's
packages on the path::

    PYTHONPATH=.:/work/venv-tfckpt/lib/python3.11/site-packages TF_USE_LEGACY_KERAS=1 \\
        /work/tfvenv/bin/python tools/make_tf1_checkpoint_fixtures.py --out tests/fixtures/tf1_checkpoints

Writes under ``--out`` (see the README there):

* ``rnn_adam/``: ``tf.compat.v1.train.Saver`` checkpoints (steps 2 and 3) of two models trained with
  Adam: a 2-layer LSTM (peepholes in layer 0) and a 2-layer GRU, each under ``dynamic_rnn`` with a
  dense head; ``rnn_adam.npz`` holds the inputs, TensorFlow's outputs, final states and logits at
  step 3 and every saved variable (Adam slots, beta powers, global step).
* ``dtypes/``: one variable per dtype TensorFlow stores (float16/32/64, bfloat16, int8-64,
  uint8-64, bool, complex, string), scalars and empty tensors; ``dtypes.npz``.
* ``partitioned/``: partitioned variables (``fixed_size_partitioner`` on axis 0 and 1) saved by a
  sharded Saver across two CPU devices (two data files); ``partitioned.npz``.
* ``rnnkit_written/``: a checkpoint written by rnnkit's ``write_tf1_checkpoint`` from rnnkit cells,
  which TensorFlow restores into its own cells; ``rnnkit_written.npz`` has TensorFlow's outputs.
* ``verification.json``: what TensorFlow made of rnnkit's files (all must be exact).

Expected values in the npz files: ``var/<name>`` (bfloat16 as ``bf16/<name>``, its uint16 bits;
strings as ``str/<name>/{shape,lengths,bytes}``), so that reading them needs no pickle.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile

import ml_dtypes
import numpy as np
import torch
from tf_reference import tf, tf1

import rnnkit
from rnnkit.interop import (
    read_tf1_checkpoint,
    tf1_variables,
    write_tf1_checkpoint,
)

RC = tf1.nn.rnn_cell
B, T, I = 4, 5, 3


def pack(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """npz-able form of name -> array (no object or bfloat16 arrays)."""
    out = {}
    for name, v in values.items():
        v = np.asarray(v)
        if v.dtype == object:
            flat = [bytes(b) for b in v.reshape(-1)]
            out[f"str/{name}/shape"] = np.array(v.shape, dtype=np.int64)
            out[f"str/{name}/lengths"] = np.array([len(b) for b in flat], dtype=np.int64)
            out[f"str/{name}/bytes"] = np.frombuffer(b"".join(flat), dtype=np.uint8)
        elif v.dtype == ml_dtypes.bfloat16:
            out[f"bf16/{name}"] = v.view(np.uint16)
        else:
            out[f"var/{name}"] = v
    return out


def as_array(value) -> np.ndarray:
    """numpy form of a value TensorFlow returned (bytes scalars become object arrays)."""
    value = np.array(value, dtype=object) if isinstance(value, bytes) else np.asarray(value)
    if value.dtype == object and value.size:
        value = np.vectorize(bytes, otypes=[object])(value)
    return value


def variable_values(sess) -> dict[str, np.ndarray]:
    """Every saveable variable's value, keyed as the Saver keys it (partitions joined)."""
    out = {}
    for v in tf1.global_variables():
        info = getattr(v, "_save_slice_info", None)
        name = info.full_name if info else v.op.name
        value = as_array(sess.run(v))
        if info:
            full = out.setdefault(name, np.zeros(info.full_shape, dtype=value.dtype))
            full[tuple(slice(o, o + n) for o, n in zip(info.var_offset, value.shape))] = value
        else:
            out[name] = value
    return out


def feed_data(rng):
    x = rng.normal(size=(B, T, I)).astype(np.float32)
    lengths = np.array([5, 3, 1, 4], dtype=np.int32)
    labels = np.array([0, 3, 1, 2], dtype=np.int32)
    return x, lengths, labels


# -- 1. a trained RNN model with Adam slots ---------------------------------------------------------------
def rnn_model(x, lengths):
    lstm = RC.MultiRNNCell([RC.LSTMCell(8, use_peepholes=True), RC.LSTMCell(8)])
    out_l, st_l = tf1.nn.dynamic_rnn(
        lstm, x, sequence_length=lengths, dtype=tf.float32, scope="lstm_rnn"
    )
    logits_l = tf1.layers.dense(st_l[-1].h, 4, name="lstm_head")
    gru = RC.MultiRNNCell([RC.GRUCell(6), RC.GRUCell(6)])
    out_g, st_g = tf1.nn.dynamic_rnn(
        gru, x, sequence_length=lengths, dtype=tf.float32, scope="gru_rnn"
    )
    logits_g = tf1.layers.dense(st_g[-1], 4, name="gru_head")
    fetch = {
        "out/lstm/outputs": out_l,
        "out/lstm/logits": logits_l,
        "out/gru/outputs": out_g,
        "out/gru/logits": logits_g,
    }
    for k, s in enumerate(st_l):
        fetch[f"out/lstm/state/{k}/c"], fetch[f"out/lstm/state/{k}/h"] = s.c, s.h
    for k, s in enumerate(st_g):
        fetch[f"out/gru/state/{k}"] = s
    return fetch


def training_graph():
    """(placeholders, fetches, train op, global step) of the two models trained with Adam."""
    x = tf1.placeholder(tf.float32, [B, T, I])
    lengths = tf1.placeholder(tf.int32, [B])
    labels = tf1.placeholder(tf.int32, [B])
    fetch = rnn_model(x, lengths)
    loss = tf1.losses.sparse_softmax_cross_entropy(labels, fetch["out/lstm/logits"])
    loss += tf1.losses.sparse_softmax_cross_entropy(labels, fetch["out/gru/logits"])
    step = tf1.train.get_or_create_global_step()
    train = tf1.train.AdamOptimizer(0.05).minimize(loss, global_step=step)
    return (x, lengths, labels), fetch, train, step


def make_rnn_adam(out: str, rng) -> dict:
    xv, lv, yv = feed_data(rng)
    with tf.Graph().as_default(), tf1.Session() as sess:
        (x, lengths, labels), fetch, train, step = training_graph()
        saver = tf1.train.Saver(max_to_keep=5)
        sess.run(tf1.global_variables_initializer())
        for v in tf1.trainable_variables():  # reproducible start
            v.load(rng.normal(0, 0.5, v.shape).astype(np.float32), sess)
        feed = {x: xv, lengths: lv, labels: yv}
        for n in range(3):
            sess.run(train, feed)
            if n >= 1:
                saver.save(sess, "rnn_adam/model.ckpt", global_step=step, write_meta_graph=False)
        results = sess.run(fetch, feed)
        values = variable_values(sess)
    np.savez(f"{out}/rnn_adam.npz", inputs=xv, sequence_length=lv, **results, **pack(values))
    return values


def restore_rnn_adam(prefix: str) -> dict:
    """Saver.restore ``prefix`` into the rnn_adam graph; the variables' values."""
    with tf.Graph().as_default(), tf1.Session() as sess:
        training_graph()
        tf1.train.Saver().restore(sess, prefix)
        return variable_values(sess)


# -- 2. every dtype ---------------------------------------------------------------------------------------
def dtype_values(rng) -> dict[str, np.ndarray]:
    def ints(dtype, shape):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)

    return {
        "float16": rng.normal(size=(2, 3)).astype(np.float16),
        "float32": rng.normal(size=(3, 4)).astype(np.float32),
        "float64": rng.normal(size=(5,)),
        "bfloat16": rng.normal(size=(2, 2)).astype(ml_dtypes.bfloat16),
        "int8": ints(np.int8, (7,)),
        "int16": ints(np.int16, (2, 3)),
        "int32": ints(np.int32, (4,)),
        "int64": ints(np.int64, (2, 2)),
        "uint8": ints(np.uint8, (6,)),
        "uint16": ints(np.uint16, (3,)),
        "uint32": ints(np.uint32, (3,)),
        "uint64": ints(np.uint64, (3,)),
        "bool": np.array([[True, False, True], [False, False, True]]),
        "complex64": (rng.normal(size=3) + 1j * rng.normal(size=3)).astype(np.complex64),
        "complex128": rng.normal(size=2) + 1j * rng.normal(size=2),
        "string": np.array(
            [[b"a", b"", b"\xff\x00bin"], [b"x" * 200, "\u00fcn\u00ef".encode(), b"z"]],
            dtype=object,
        ),
        "scalar/float32": np.float32(3.5),
        "scalar/int64": np.int64(-7),
        "scalar/string": np.array(b"hello", dtype=object),
        "scalar/bool": np.bool_(True),
        "empty/float32": np.zeros((0,), np.float32),
        "empty/int32": np.zeros((2, 0, 3), np.int32),
        "empty/string": np.zeros((0,), dtype=object),
    }


def make_dtypes(out: str, rng) -> dict:
    values = dtype_values(rng)
    with tf.Graph().as_default(), tf1.Session() as sess:
        for name, v in values.items():
            dtype = tf.string if v.dtype == object else tf.as_dtype(v.dtype)
            tf1.Variable(
                tf.constant(v.tolist() if v.dtype == object else v, dtype=dtype, shape=v.shape),
                name=name,
            )
        sess.run(tf1.global_variables_initializer())
        tf1.train.Saver().save(sess, "dtypes/model.ckpt", write_meta_graph=False)
        got = variable_values(sess)
    for name, v in values.items():
        assert got[name].dtype == v.dtype and np.array_equal(got[name], v), name
    np.savez(f"{out}/dtypes.npz", **pack(values))
    return values


# -- 3. partitioned variables in two shards ----------------------------------------------------------------
def make_partitioned(out: str) -> dict:
    with tf.Graph().as_default():
        tf1.set_random_seed(3)
        with tf.device("/cpu:0"):
            tf1.get_variable("emb", [10, 6], partitioner=tf1.fixed_size_partitioner(3))
            tf1.get_variable("plain", [3], initializer=tf1.ones_initializer())
        with tf.device("/cpu:1"):
            tf1.get_variable(
                "wide", [4, 7], tf.float64, partitioner=tf1.fixed_size_partitioner(2, axis=1)
            )
            tf1.get_variable("ids", [9], tf.int64, tf1.random_uniform_initializer(0, 1000, dtype=tf.int64),
                             partitioner=tf1.fixed_size_partitioner(4))  # fmt: skip
        config = tf1.ConfigProto(device_count={"CPU": 2})
        with tf1.Session(config=config) as sess:
            sess.run(tf1.global_variables_initializer())
            tf1.train.Saver(sharded=True).save(
                sess, "partitioned/model.ckpt", write_meta_graph=False
            )
            values = variable_values(sess)
    np.savez(f"{out}/partitioned.npz", **pack(values))
    return values


# -- 4. rnnkit writes, TensorFlow restores --------------------------------------------------------------
def make_rnnkit_written(out: str, rng) -> dict:
    torch.manual_seed(0)
    cell = rnnkit.MultiRNNCell([rnnkit.LSTMCell(5, use_peepholes=True), rnnkit.GRUCell(4)])
    cell.build(I)
    xv, lv, _ = feed_data(rng)
    ours, state = rnnkit.dynamic_rnn(
        cell, torch.tensor(xv), sequence_length=torch.tensor(lv), engine="loop"
    )
    prefix = write_tf1_checkpoint("rnnkit_written/model.ckpt-7", tf1_variables(cell, scope="rnn"))
    with tf.Graph().as_default(), tf1.Session() as sess:
        tf_cell = RC.MultiRNNCell([RC.LSTMCell(5, use_peepholes=True), RC.GRUCell(4)])
        outputs, st = tf1.nn.dynamic_rnn(
            tf_cell, tf.constant(xv), sequence_length=tf.constant(lv), dtype=tf.float32
        )
        tf1.train.Saver().restore(sess, prefix)
        fetch = {
            "out/outputs": outputs,
            "out/state/0/c": st[0].c,
            "out/state/0/h": st[0].h,
            "out/state/1": st[1],
        }
        theirs = sess.run(fetch)
    mine = {
        "out/outputs": ours,
        "out/state/0/c": state[0].c,
        "out/state/0/h": state[0].h,
        "out/state/1": state[1],
    }
    diff = max(float(np.abs(mine[k].detach().numpy() - theirs[k]).max()) for k in fetch)
    np.savez(f"{out}/rnnkit_written.npz", inputs=xv, sequence_length=lv, **theirs)
    return {"rnnkit_cell_in_tf_dynamic_rnn_max_abs_diff": diff}


def same(a: dict, b: dict) -> bool:
    def eq(x, y):
        x, y = np.asarray(x), np.asarray(y)
        if x.dtype != y.dtype or x.shape != y.shape:
            return False
        return np.array_equal(x, y) if x.dtype == object else x.tobytes() == y.tobytes()

    return set(a) == set(b) and all(eq(a[k], b[k]) for k in a)


def verify(expected: dict[str, dict]) -> dict:
    """TensorFlow against rnnkit's files, rnnkit against TensorFlow's."""
    report = {}
    scratch = tempfile.mkdtemp()
    for name, prefix in [("rnn_adam", "rnn_adam/model.ckpt-3"), ("dtypes", "dtypes/model.ckpt"),
                         ("partitioned", "partitioned/model.ckpt")]:  # fmt: skip
        ours = read_tf1_checkpoint(prefix)
        report[f"{name}: rnnkit reads TF's checkpoint exactly"] = same(ours, expected[name])
        copy = write_tf1_checkpoint(f"{scratch}/{name}/model.ckpt", ours)
        reader = tf.train.load_checkpoint(copy)
        theirs = {k: as_array(reader.get_tensor(k)) for k in reader.get_variable_to_shape_map()}
        report[f"{name}: tf.train.load_checkpoint reads rnnkit's file exactly"] = same(
            theirs, expected[name]
        )
        if name != "partitioned":  # rnnkit writes partitioned variables whole, so its bytes differ
            identical = all(
                open(prefix + suffix, "rb").read() == open(copy + suffix, "rb").read()
                for suffix in (".index", ".data-00000-of-00001")
            )
            report[f"{name}: rnnkit's .index and .data are byte-identical to TF's"] = identical
        if name == "rnn_adam":
            restored = restore_rnn_adam(copy)
            report["rnn_adam: Saver.restore of rnnkit's file gives every variable exactly"] = same(
                restored, expected[name]
            )
    shutil.rmtree(scratch)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    out = os.path.abspath(parser.parse_args().out)
    for sub in ("rnn_adam", "dtypes", "partitioned", "rnnkit_written"):
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
        os.makedirs(os.path.join(out, sub))
    os.chdir(out)  # relative save paths: the state files name checkpoints relative to their folder
    rng = np.random.default_rng(20241)
    expected = {
        "rnn_adam": make_rnn_adam(out, rng),
        "dtypes": make_dtypes(out, rng),
        "partitioned": make_partitioned(out),
    }
    report = {**verify(expected), **make_rnnkit_written(out, rng)}
    report["versions"] = {
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
    }
    with open(f"{out}/verification.json", "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))
    ok = all(v for k, v in report.items() if k.startswith(("rnn_adam", "dtypes", "partitioned")))
    return 0 if ok and report["rnnkit_cell_in_tf_dynamic_rnn_max_abs_diff"] < 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
