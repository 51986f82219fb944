"""How much a training step slows down when the machine is busy, for rnnkit and its peers.

A standalone script (``python -m rnnkit bench --load N`` runs it once per implementation, each in its
own process, so each picks its own thread pools): it times one training step of the TF1 chapter's
MNIST classifier (a tanh RNN of 150 units over 28 steps of 28 inputs, batch 150, a dense layer to 10
classes, softmax cross-entropy, Adam) while the machine is idle, then with ``--load`` busy-loop
processes running beside it, then idle again, and prints one JSON line::

    {"impl": ..., "idle_ms": ..., "loaded_ms": ..., "ratio": ..., "load": N, ...}

``ratio`` is the loaded median over the idle median (the faster of the two idle phases), measured in
the same process, so it does not depend on how fast the machine is. Implementations:

- ``rnnkit``: ``rnnkit.dynamic_rnn`` + ``torch.nn.Linear`` + ``torch.optim.Adam``, the step inside
  ``rnnkit.adaptive_threads()`` (one torch thread while the machine is busy);
- ``torch``: the same model with ``torch.nn.RNN``;
- ``compat``: the TF1 graph on ``rnnkit.compat.v1`` (``Session.run`` of Adam's ``minimize``);
- ``tf1``: the same graph on real TensorFlow's ``tf.compat.v1`` (run under an interpreter that has it).

The busy loops are plain Python processes (``while True: pass``), killed when the loaded phase ends.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

IMPLS = ("rnnkit", "torch", "compat", "tf1")
B, T, I, H, CLASSES = 150, 28, 28, 150, 10


def _step_rnnkit() -> Callable[[], None]:
    import torch

    import rnnkit

    torch.manual_seed(0)
    cell = rnnkit.BasicRNNCell(H, input_size=I)
    head = torch.nn.Linear(H, CLASSES)
    opt = torch.optim.Adam([*cell.parameters(), *head.parameters()], lr=1e-3)
    x, y = torch.randn(B, T, I), torch.randint(0, CLASSES, (B,))

    def step() -> None:
        with rnnkit.adaptive_threads():
            _, state = rnnkit.dynamic_rnn(cell, x)
            loss = torch.nn.functional.cross_entropy(head(state), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

    return step


def _step_torch() -> Callable[[], None]:
    import torch

    torch.manual_seed(0)
    rnn = torch.nn.RNN(I, H, batch_first=True)
    head = torch.nn.Linear(H, CLASSES)
    opt = torch.optim.Adam([*rnn.parameters(), *head.parameters()], lr=1e-3)
    x, y = torch.randn(B, T, I), torch.randint(0, CLASSES, (B,))

    def step() -> None:
        _, state = rnn(x)
        loss = torch.nn.functional.cross_entropy(head(state[0]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _tf1_graph(tf) -> Callable[[], None]:
    """The chapter's classifier as a TF1 graph on ``tf`` (real TensorFlow's or rnnkit's compat)."""
    import numpy as np

    rng = np.random.default_rng(0)
    x_batch = rng.standard_normal((B, T, I)).astype(np.float32)
    y_batch = rng.integers(0, CLASSES, B).astype(np.int32)
    X = tf.placeholder(tf.float32, [None, T, I])
    y = tf.placeholder(tf.int32, [None])
    cell = tf.nn.rnn_cell.BasicRNNCell(num_units=H)
    _, states = tf.nn.dynamic_rnn(cell, X, dtype=tf.float32)
    logits = tf.layers.dense(states, CLASSES)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    feed = {X: x_batch, y: y_batch}
    return lambda: sess.run(train_op, feed_dict=feed)


def _step_compat() -> Callable[[], None]:
    import rnnkit.compat.v1 as tf

    return _tf1_graph(tf)


def _step_tf1() -> Callable[[], None]:
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf.layers under TF >= 2.16 needs tf-keras
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow.compat.v1 as tf

    tf.disable_v2_behavior()
    return _tf1_graph(tf)


STEPS = {"rnnkit": _step_rnnkit, "torch": _step_torch, "compat": _step_compat, "tf1": _step_tf1}


def _median_ms(step: Callable[[], None], seconds: float, at_least: int) -> float:
    """Median of the step's wall time over at least ``at_least`` calls and ``seconds`` seconds."""
    times: list[float] = []
    end = time.perf_counter() + seconds
    while len(times) < at_least or time.perf_counter() < end:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def busy_loops(n: int) -> list[subprocess.Popen]:
    """``n`` processes that each keep one core busy until killed."""
    code = "while True:\n    pass\n"
    return [subprocess.Popen([sys.executable, "-c", code]) for _ in range(n)]


def stop(processes: list[subprocess.Popen]) -> None:
    for p in processes:
        p.kill()
    for p in processes:
        p.wait()


def measure(impl: str, load: int, seconds: float, at_least: int) -> dict:
    step = STEPS[impl]()
    for _ in range(5):  # warm-up: compilation, caches, allocator
        step()
    idle = _median_ms(step, seconds, at_least)
    hogs = busy_loops(load)
    try:
        time.sleep(0.3)  # the hogs are running
        loaded = _median_ms(step, seconds, at_least)
    finally:
        stop(hogs)
    time.sleep(0.3)
    idle_after = _median_ms(step, seconds, at_least)
    base = min(idle, idle_after)
    return {
        "impl": impl,
        "load": load,
        "idle_ms": round(base, 3),
        "idle_ms_before_after": [round(idle, 3), round(idle_after, 3)],
        "loaded_ms": round(loaded, 3),
        "ratio": round(loaded / base, 3),
        "cpus": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "loadavg_before": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rnnkit bench --load", description=__doc__.split("\n")[0])
    parser.add_argument("--impl", choices=IMPLS, required=True)
    parser.add_argument("--load", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seconds", type=float, default=3.0, help="per phase (default 3)")
    parser.add_argument("--at-least", type=int, default=20, help="calls per phase (default 20)")
    args = parser.parse_args(argv)
    if not 0 <= args.load <= 64:
        parser.error(f"--load: expected 0 to 64 busy processes, got {args.load}")
    print(json.dumps(measure(args.impl, args.load, args.seconds, args.at_least)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
