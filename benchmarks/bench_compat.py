"""The cost of a TF1-style training step on ``rnnkit.compat.v1`` against the same model written
directly with rnnkit + torch: ``python -m rnnkit bench-compat`` in a checkout, or
``python benchmarks/bench_compat.py`` with rnnkit installed (the same options).

For each model, ``sess.run(training_op, feed_dict)`` (graph, feeds, ``tf.gradients``, the compat
Adam) and a plain step (``rnnkit.dynamic_rnn`` + ``torch.nn.Linear`` + ``cross_entropy`` +
``torch.optim.Adam``) are timed interleaved in one process, and the ratio of their medians is
reported: absolute times on shared machines move 10-30% between runs, ratios measured side by side
much less. The plain step runs on the torch thread count ``Session.run`` picks at that moment
(one thread while other processes leave less than a core free), so the ratio is the graph layer's
cost alone.

Models: ``chapter`` is the chapter's MNIST classifier (``BasicRNNCell(150)`` over 28 steps of 28,
batch 150, ``tf.layers.dense(states, 10)``, Adam); ``lstm`` the same with ``BasicLSTMCell(150)``;
``tutorial`` the tutorial's size (batch 4, 2 steps of 3, 5 units), where per-step overhead dominates.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from rnnkit.commands._options import bad_comma_list, int_in

MODELS = {  # name: (B, T, I, H, classes, cell)
    "chapter": (150, 28, 28, 150, 10, "rnn"),
    "lstm": (150, 28, 28, 150, 10, "lstm"),
    "tutorial": (4, 2, 3, 5, 3, "rnn"),
}


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--models", default=",".join(MODELS), help="comma list of " + ", ".join(MODELS)
    )
    parser.add_argument(
        "--repeats", type=int_in(1, 100_000), default=30, help="timed steps per path (30)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _steps(name: str) -> tuple[Any, Any]:
    import numpy as np
    import torch

    import rnnkit
    import rnnkit.compat.v1 as tf

    B, T, I, H, C, kind = MODELS[name]
    rng = np.random.default_rng(0)
    x = rng.random((B, T, I), dtype=np.float32)
    y = rng.integers(0, C, B).astype(np.int32)

    tf.reset_default_graph()
    X = tf.placeholder(tf.float32, [None, T, I])
    Y = tf.placeholder(tf.int32, [None])
    cell = tf.nn.rnn_cell.BasicRNNCell(H) if kind == "rnn" else tf.nn.rnn_cell.BasicLSTMCell(H)
    _, states = tf.nn.dynamic_rnn(cell, X, dtype=tf.float32)
    logits = tf.layers.dense(states if kind == "rnn" else states.h, C)
    xentropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=Y, logits=logits)
    loss = tf.reduce_mean(xentropy)
    training_op = tf.train.AdamOptimizer(learning_rate=0.001).minimize(loss)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())
    feed = {X: x, Y: y}

    def compat() -> None:
        sess.run(training_op, feed_dict=feed)

    core = (
        rnnkit.BasicRNNCell(H, input_size=I)
        if kind == "rnn"
        else rnnkit.BasicLSTMCell(H, input_size=I)
    )
    head = torch.nn.Linear(H, C)
    opt = torch.optim.Adam([*core.parameters(), *head.parameters()], lr=0.001)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y).long()

    def direct() -> None:
        opt.zero_grad()
        _, state = rnnkit.dynamic_rnn(core, xt)
        h = state if kind == "rnn" else state.h
        torch.nn.functional.cross_entropy(head(h), yt).backward()
        opt.step()

    return compat, direct


def measure(name: str, repeats: int) -> dict[str, Any]:
    compat, direct = _steps(name)
    for fn in (compat, direct, compat, direct):  # warm up (kernels, caches)
        fn()
    from rnnkit import adaptive_threads

    def direct_like_a_run() -> None:
        # on the thread count Session.run would pick now, so that only the graph layer differs
        with adaptive_threads():
            direct()

    times: dict[str, list[float]] = {"compat": [], "direct": []}
    for _ in range(repeats):
        for key, fn in (("compat", compat), ("direct", direct_like_a_run)):
            t = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    B, T, I, H, C, kind = MODELS[name]
    return {
        "model": name,
        "shape": {"B": B, "T": T, "I": I, "H": H, "classes": C, "cell": kind},
        "compat_ms": med["compat"],
        "direct_ms": med["direct"],
        "ratio": med["compat"] / med["direct"],
    }


def run(args: argparse.Namespace) -> int:
    import torch

    models = [m for m in args.models.split(",") if m]
    if bad_comma_list(args._parser, "models", models, MODELS):
        return 2
    rows = [measure(m, args.repeats) for m in models]
    if args.json:
        print(json.dumps({"torch_threads": torch.get_num_threads(), "results": rows}))
        return 0
    print(f"sess.run(training_op) vs the same step in rnnkit + torch ({torch.get_num_threads()} "
          f"threads, median of {args.repeats} interleaved steps)")  # fmt: skip
    print(f"{'model':<10} {'compat ms':>10} {'direct ms':>10} {'ratio':>7}")
    for r in rows:
        print(f"{r['model']:<10} {r['compat_ms']:10.3f} {r['direct_ms']:10.3f} {r['ratio']:6.2f}x")
    sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python benchmarks/bench_compat.py [OPTIONS]``: the options of ``rnnkit bench-compat``."""
    from rnnkit.commands import _HelpFormatter

    parser = argparse.ArgumentParser(
        description="time a compat.v1 training step against the same model in rnnkit + torch",
        formatter_class=_HelpFormatter,
    )
    configure_parser(parser)
    args = parser.parse_args(argv)
    args._parser = parser
    return int(run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
