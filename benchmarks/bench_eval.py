"""Evaluating a TF1-style RNN classifier on a whole test set, fetching only what the final state
gives: ``sess.run(logits, feed_dict={X: test_images})`` with ``logits = tf.layers.dense(state, 10)``
over ``tf.nn.dynamic_rnn`` (10,000 images of 28 rows of 28 pixels, 150 units, ``BasicRNNCell`` and
``BasicLSTMCell``), as the MNIST-rows chapter and tutorials evaluate.

Three ways, each in fresh processes (the first call of a process is what a script's one evaluation
costs), interleaved round by round on the same machine:

- ``after``: rnnkit.compat.v1 as it is: the run reads no outputs, so the RNN runs for its final
  state only (``rnnkit.final_state``);
- ``before``: rnnkit.compat.v1 with the session's selection of read outputs switched off (the node
  builds its ``(10000, 28, 150)`` outputs, as it did before the selection existed);
- ``tf``: real TensorFlow's ``tf.compat.v1`` (graph mode) in its own venv (``--tf-python``), with
  ``TF_USE_LEGACY_KERAS=1``; skipped when that interpreter is missing.

Each process reports its first call and the median of the later ones, and the 1-minute load average
before and after it (``os.getloadavg``): on a shared machine the load says what the numbers are
worth. With ``--trained`` each process first trains the model on 5 batches of 150 (Adam), so the
first evaluation is a script's evaluation after training, the process's one-time costs (imports,
compiled kernels) already paid.

Usage: ``python benchmarks/bench_eval.py [--rounds 2] [--calls 4] [--cells rnn,lstm] [--trained]
[--json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

B, T, I, H, CLASSES = 10_000, 28, 28, 150, 10
MODES = ("before", "after", "tf")
TF_PYTHON = "/root/tfvenv/bin/python"


def _images():
    import numpy as np

    return np.random.default_rng(0).random((B, T, I), dtype=np.float32)


def _worker_rnnkit(mode: str, cell_kind: str, calls: int, trained: bool) -> list[float]:
    import rnnkit.compat.v1 as tf
    from rnnkit.compat.v1 import session

    if mode == "before":
        session._partial_nodes = lambda *args: {}  # every node runs whole
    return _calls(tf, cell_kind, calls, trained)


def _worker_tf(cell_kind: str, calls: int, trained: bool) -> list[float]:
    import tensorflow as tf_root

    tf = tf_root.compat.v1
    tf.disable_eager_execution()
    return _calls(tf, cell_kind, calls, trained)


def _calls(tf, cell_kind: str, calls: int, trained: bool) -> list[float]:
    """Build the classifier in ``tf`` (either module), initialise, train it for a few batches of
    150 when ``trained`` (as a script evaluates after training), and time ``calls`` evaluations."""
    x = _images()
    X = tf.placeholder(tf.float32, [None, T, I])
    y = tf.placeholder(tf.int32, [None])
    if cell_kind == "rnn":
        cell = tf.nn.rnn_cell.BasicRNNCell(H)
    else:
        cell = tf.nn.rnn_cell.BasicLSTMCell(H)
    _, state = tf.nn.dynamic_rnn(cell, X, dtype=tf.float32)
    logits = tf.layers.dense(state if cell_kind == "rnn" else state[1], CLASSES)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train = tf.train.AdamOptimizer(1e-3).minimize(loss)
    labels = (x[:, 0, 0] * CLASSES).astype("int32")
    times = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for k in range(5 if trained else 0):
            rows = slice(150 * k, 150 * (k + 1))
            sess.run(train, feed_dict={X: x[rows], y: labels[rows]})
        for _ in range(calls):
            t0 = time.perf_counter()
            sess.run(logits, feed_dict={X: x})
            times.append((time.perf_counter() - t0) * 1e3)
    return times


def _worker(mode: str, cell_kind: str, calls: int, trained: bool) -> None:
    load = os.getloadavg()[0]
    if mode == "tf":
        times = _worker_tf(cell_kind, calls, trained)
    else:
        times = _worker_rnnkit(mode, cell_kind, calls, trained)
    print(json.dumps({"times_ms": times, "load": [load, os.getloadavg()[0]]}))


def _spawn(mode: str, cell_kind: str, calls: int, tf_python: str, trained: bool) -> dict | None:
    python = tf_python if mode == "tf" else sys.executable
    if mode == "tf" and not Path(python).exists():
        return None
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    cmd = [python, str(Path(__file__).resolve()), "--worker", mode, cell_kind, str(calls)]
    cmd += ["trained"] if trained else []
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{mode} {cell_kind} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    times = result["times_ms"]
    return {
        "first_ms": round(times[0], 1),
        "later_ms": round(statistics.median(times[1:]), 1) if len(times) > 1 else None,
        "load": [round(v, 2) for v in result["load"]],
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        _worker(argv[1], argv[2], int(argv[3]), argv[4:] == ["trained"])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="fresh processes per way (2)")
    parser.add_argument("--calls", type=int, default=4, help="evaluations per process (4)")
    parser.add_argument("--cells", default="rnn,lstm", help="comma list of rnn, lstm")
    parser.add_argument("--tf-python", default=TF_PYTHON, help="real TensorFlow's interpreter")
    parser.add_argument(
        "--trained",
        action="store_true",
        help="train 5 batches of 150 in each process before the timed evaluations (a script's "
        "evaluation after training: the process's one-time costs already paid)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.calls < 1:
        parser.error("--rounds and --calls must be at least 1")
    cells = [c for c in args.cells.split(",") if c]
    if not cells or any(c not in ("rnn", "lstm") for c in cells):
        parser.error(f"--cells: a comma list of rnn, lstm, got {args.cells!r}")
    results: dict[str, dict[str, list]] = {c: {m: [] for m in MODES} for c in cells}
    for r in range(args.rounds):
        for cell_kind in cells:
            order = MODES if r % 2 == 0 else MODES[::-1]
            for mode in order:
                got = _spawn(mode, cell_kind, args.calls, args.tf_python, args.trained)
                if got is not None:
                    results[cell_kind][mode].append(got)
                    if not args.json:
                        print(
                            f"{cell_kind:4} {mode:6} first {got['first_ms']:8.1f} ms  later "
                            f"{got['later_ms']} ms  load {got['load'][0]}-{got['load'][1]}",
                            flush=True,
                        )
    if args.json:
        print(json.dumps({"shape": [B, T, I, H], "results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
