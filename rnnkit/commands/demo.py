"""``python -m rnnkit demo``: the TensorFlow 1.x RNN tutorial, run with rnnkit.

Walks through the tutorial's three parts with rnnkit's own API:

1. an RNN by hand: ``Y0 = tanh(X0 Wx + b)``, ``Y1 = tanh(Y0 Wy + X1 Wx + b)``;
2. ``BasicRNNCell(5)`` unrolled by ``static_rnn`` over ``[X0, X1]``;
3. a second ``BasicRNNCell`` run by ``dynamic_rnn`` over ``X (4, 2, 3)``, which in TensorFlow 1.x
   fails with "Variable rnn/basic_rnn_cell/kernel already exists" and here just works;

then checks that static_rnn and dynamic_rnn give the same numbers with the same cell, times both as
the number of steps T grows, and shows the same steps as TF1 code running on ``rnnkit.compat.v1``.
``--seed`` makes every printed number (except timings) reproducible.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import rnnkit  # its names import torch when first used, not for --help
from rnnkit.commands._options import int_in

if TYPE_CHECKING:
    import torch

__all__ = ["configure_parser", "run"]

X0_BATCH = [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 0, 1]]  # t = 0: 4 instances, 3 inputs each
X1_BATCH = [[9, 8, 7], [0, 0, 0], [6, 5, 4], [3, 2, 1]]  # t = 1
TABLE_STEPS = (10, 100, 1000, 10000)
STATIC_CAP = 1000  # static_rnn keeps a Python list of T step tensors; the demo stops it here
# the table's dynamic_rnn over T steps: about 4 GB of inputs and outputs at this bound
MAX_STEPS = 10_000_000


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m rnnkit demo``."""
    parser.description = (
        "Walk through the TensorFlow 1.x RNN tutorial with rnnkit: an RNN by hand, "
        "BasicRNNCell with static_rnn, a second cell with dynamic_rnn (which fails in TF1 with "
        "'Variable rnn/basic_rnn_cell/kernel already exists' and works here), static vs dynamic "
        "agreement, a timing table as T grows, and the tutorial's TF1 code on rnnkit.compat.v1."
    )
    parser.add_argument(
        "--seed",
        type=int_in(0, 2**63 - 1),
        default=42,
        help="random seed: same seed, same numbers",
    )
    parser.add_argument(
        "--steps",
        type=_steps,
        default=TABLE_STEPS,
        metavar="T[,T...]",
        help="sequence lengths for the static vs dynamic table (default: "
        + ",".join(map(str, TABLE_STEPS))
        + ")",
    )
    parser.add_argument(
        "--no-table", action="store_true", help="skip the timing table (all output reproducible)"
    )
    parser.add_argument(
        "--no-compat", action="store_true", help="skip the rnnkit.compat.v1 section"
    )


def _steps(text: str) -> tuple[int, ...]:
    try:
        steps = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 10,100, got {text!r}"
        ) from None
    if not steps or any(not 0 < s <= MAX_STEPS for s in steps):
        raise argparse.ArgumentTypeError(
            f"expected integers from 1 to {MAX_STEPS}, got {text!r:.60}"
        )
    return steps


def _heading(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 76 - len(title)))


def _show(name: str, value: torch.Tensor) -> None:
    import numpy as np

    arr = value.detach().numpy()
    text = np.array2string(arr, precision=4, suppress_small=True, floatmode="fixed")
    print(f"{name} {tuple(arr.shape)}:\n{text}")


def run(args: argparse.Namespace) -> int:
    """Run the demo; returns the exit status (0)."""
    import numpy as np
    import torch

    torch.manual_seed(args.seed)
    np.set_printoptions(linewidth=100)
    print(f"rnnkit {rnnkit.__version__} - the TensorFlow 1.x RNN tutorial, seed {args.seed}")
    x0 = torch.tensor(X0_BATCH, dtype=torch.float32)  # (B=4, I=3)
    x1 = torch.tensor(X1_BATCH, dtype=torch.float32)

    _heading("Part 1: an RNN by hand, two time steps")
    print("Wx (3, 5) and Wy (5, 5) ~ N(0, 1), b (1, 5) = 0;")
    print("Y0 = tanh(X0 @ Wx + b),  Y1 = tanh(Y0 @ Wy + X1 @ Wx + b)")
    Wx, Wy, b = torch.randn(3, 5), torch.randn(5, 5), torch.zeros(1, 5)
    y0 = torch.tanh(x0 @ Wx + b)
    y1 = torch.tanh(y0 @ Wy + x1 @ Wx + b)
    _show("X0", x0)
    _show("X1", x1)
    _show("Y0", y0)
    _show("Y1", y1)

    _heading("Part 2: BasicRNNCell(5) unrolled with static_rnn over [X0, X1]")
    print("cell = rnnkit.BasicRNNCell(5, input_size=3)   # kernel (3+5, 5), bias (5,)")
    print("(Y0, Y1), state = rnnkit.static_rnn(cell, [X0, X1])")
    cell = rnnkit.BasicRNNCell(5, input_size=3)
    with torch.no_grad():
        (s0, s1), state = rnnkit.static_rnn(cell, [x0, x1])
    _show("Y0", s0)
    _show("Y1", s1)
    print(f"the final state is the last output: max |state - Y1| = {_diff(state, s1):.1e}")

    _heading("Part 3: a second BasicRNNCell with dynamic_rnn over X (4, 2, 3)")
    x = torch.stack([x0, x1], 1)  # (B=4, T=2, I=3)
    print("X = stack([X0, X1], axis=1)                    # (batch, steps, inputs) = (4, 2, 3)")
    print("cell3 = rnnkit.BasicRNNCell(5)")
    print("outputs, state = rnnkit.dynamic_rnn(cell3, X)")
    cell3 = rnnkit.BasicRNNCell(5)
    with torch.no_grad():
        outputs, state3 = rnnkit.dynamic_rnn(cell3, x)
    _show("outputs", outputs)
    print(
        "In TensorFlow 1.x this step fails: both runs create variables in the global scope 'rnn',"
    )
    print("  ValueError: Variable rnn/basic_rnn_cell/kernel already exists, disallowed.")
    print("In rnnkit the weights belong to the cell object, so there is no scope to collide in:")
    print(
        f"  cell.kernel  {tuple(cell.kernel.shape)} and cell3.kernel {tuple(cell3.kernel.shape)} ",
        end="",
    )
    print(f"are different tensors (max |difference| = {_diff(cell.kernel, cell3.kernel):.4f}).")
    print("  Reusing a cell reuses its weights; a new cell has new weights.")

    _heading("static_rnn and dynamic_rnn agree (same cell, same inputs)")
    with torch.no_grad():
        dyn, dyn_state = rnnkit.dynamic_rnn(cell, x)  # part 2's cell
        loop, _ = rnnkit.dynamic_rnn(cell, x, engine="loop")
    stat = torch.stack([s0, s1], 1)
    print(f"max |static_rnn - dynamic_rnn| outputs = {_diff(stat, dyn):.1e}, "
          f"final state = {_diff(state, dyn_state):.1e}")  # fmt: skip
    print(f"max |dynamic_rnn fused engine - plain loop| = {_diff(dyn, loop):.1e}")

    if not args.no_table:
        _table(args.steps)
    if not args.no_compat:
        _compat_section(cell, x0, x1, s0, s1)
    return 0


def _diff(a: Any, b: Any) -> float:
    import torch

    a, b = torch.as_tensor(a).detach(), torch.as_tensor(b).detach()
    return float((a - b).abs().max())


def _measure(fn: Callable[[], torch.Tensor], repeats: int) -> tuple[float, float, float]:
    """Best of ``repeats``: (seconds to the forward result, seconds for forward+backward, MiB kept)."""
    runs = [_measure_once(fn) for _ in range(repeats)]
    return min(r[0] for r in runs), min(r[1] for r in runs), runs[0][2]


def _measure_once(fn: Callable[[], torch.Tensor]) -> tuple[float, float, float]:
    import torch

    saved: dict[tuple[int, int], int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        key = (t.untyped_storage().data_ptr(), t.untyped_storage().nbytes())
        saved[key] = t.untyped_storage().nbytes()
        return t

    start = time.perf_counter()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    first = time.perf_counter() - start
    out.sum().backward()
    total = time.perf_counter() - start
    return first, total, sum(saved.values()) / 2**20


def _static(cell: rnnkit.RNNCell, x: torch.Tensor) -> Callable[[], torch.Tensor]:
    import torch

    return lambda: torch.stack(rnnkit.static_rnn(cell, list(x.unbind(1)))[0], 1)


def _dynamic(cell: rnnkit.RNNCell, x: torch.Tensor) -> Callable[[], torch.Tensor]:
    return lambda: rnnkit.dynamic_rnn(cell, x)[0]


def _table(steps: tuple[int, ...]) -> None:
    import torch

    B, I, H = 8, 8, 32
    _heading(f"static_rnn vs dynamic_rnn as T grows (B={B}, I={I}, H={H}, forward+backward)")
    print("TensorFlow 1.x builds one copy of the cell per step for static_rnn (slow to build, out")
    print("of memory at a few hundred steps); rnnkit runs both eagerly, and dynamic_rnn uses the")
    print("fused engine. 'kept' is the memory autograd keeps for the backward pass.")
    cell = rnnkit.BasicRNNCell(H, input_size=I)
    from rnnkit import engine

    fused = engine.supports(cell, torch.zeros(1, B, I))
    print(f"dynamic_rnn runs on: {'the fused engine' if fused else 'the plain loop'}")
    warm = torch.randn(B, 5, I, requires_grad=True)  # first calls pay one-off costs (JIT, caches)
    _measure(_static(cell, warm), 2)
    _measure(_dynamic(cell, warm), 2)
    head_s, head_d = "static: first / fwd+bwd / kept", "dynamic: first / fwd+bwd / kept"
    print(f"{'T':>6} | {head_s:>32} | {head_d:>33}")
    for T in steps:
        x = torch.randn(B, T, I, requires_grad=True)
        repeats = 3 if T <= 100 else 1
        if T <= STATIC_CAP:
            sf, st, sm = _measure(_static(cell, x), repeats)
            static = f"{sf * 1e3:7.1f} ms {st * 1e3:7.1f} ms {sm:6.1f} MiB"
        else:
            static = f"(capped at {STATIC_CAP} steps)"
        df, dt, dm = _measure(_dynamic(cell, x), repeats)
        dynamic = f"{df * 1e3:7.1f} ms {dt * 1e3:7.1f} ms {dm:6.1f} MiB"
        print(f"{T:>6} | {static:>32} | {dynamic:>33}")


def _compat_section(cell: rnnkit.BasicRNNCell, x0: torch.Tensor, x1: torch.Tensor,
                    s0: torch.Tensor, s1: torch.Tensor) -> None:  # fmt: skip
    import rnnkit.compat.v1 as tf
    from rnnkit.interop import tf1_variables

    _heading("Part 2 as TF1 code, on rnnkit.compat.v1")
    print("import rnnkit.compat.v1 as tf      # or run a TF1 script with: python -m rnnkit tf1")
    print("X0 = tf.placeholder(tf.float32, [None, 3]); X1 = tf.placeholder(tf.float32, [None, 3])")
    print("cell = tf.contrib.rnn.BasicRNNCell(num_units=5)")
    print("(Y0, Y1), state = tf.contrib.rnn.static_rnn(cell, [X0, X1], dtype=tf.float32)")
    tf.reset_default_graph()
    X0 = tf.placeholder(tf.float32, [None, 3])
    X1 = tf.placeholder(tf.float32, [None, 3])
    tf_cell = tf.contrib.rnn.BasicRNNCell(num_units=5)
    (Y0, Y1), _ = tf.contrib.rnn.static_rnn(tf_cell, [X0, X1], dtype=tf.float32)
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        init.run()
        # give this session's variables part 2's weights (by TF name), to compare the numbers
        weights = tf1_variables(cell, "rnn")
        for var in tf_cell.variables:
            var.load(weights[var.op.name])
        Y0_val, Y1_val = sess.run([Y0, Y1], feed_dict={X0: X0_BATCH, X1: X1_BATCH})
    print(f"Y0 static shape {Y0.shape}, value shape {Y0_val.shape}; with part 2's weights, "
          f"max |compat - rnnkit| = {max(_diff(Y0_val, s0), _diff(Y1_val, s1)):.1e}")  # fmt: skip
    tf.reset_default_graph()
    _compat_training(tf)


def _compat_training(tf: Any) -> None:
    """Train a TF1 graph: predict whether a sequence's running sum ends positive."""
    import numpy as np
    import torch

    _heading("...and it trains, on rnnkit.compat.v1")
    print("_, state = tf.nn.dynamic_rnn(tf.nn.rnn_cell.BasicRNNCell(16), X, dtype=tf.float32)")
    print("logits = tf.layers.dense(state, 2)")
    print(
        "loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))"
    )
    print("training_op = tf.train.AdamOptimizer(learning_rate=0.01).minimize(loss)")
    rng = np.random.default_rng(int(torch.initial_seed()) % 2**32)
    x_batch = rng.normal(size=(64, 5, 3)).astype(np.float32)
    y_batch = (x_batch[:, :, 0].sum(1) > 0).astype(np.int32)
    tf.set_random_seed(int(torch.initial_seed()) % 2**31)
    X = tf.placeholder(tf.float32, [None, 5, 3])
    y = tf.placeholder(tf.int32, [None])
    cell = tf.nn.rnn_cell.BasicRNNCell(num_units=16)
    _, state = tf.nn.dynamic_rnn(cell, X, dtype=tf.float32)
    logits = tf.layers.dense(state, 2)
    xentropy = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
    loss = tf.reduce_mean(xentropy)
    training_op = tf.train.AdamOptimizer(learning_rate=0.01).minimize(loss)
    accuracy = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, y, 1), tf.float32))
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        feed = {X: x_batch, y: y_batch}
        before = sess.run([loss, accuracy], feed_dict=feed)
        for _ in range(100):
            sess.run(training_op, feed_dict=feed)
        after = sess.run([loss, accuracy], feed_dict=feed)
    print(f"100 Adam steps: loss {before[0]:.3f} -> {after[0]:.3f}, "
          f"accuracy {before[1]:.2f} -> {after[1]:.2f}")  # fmt: skip
    print("variables:", ", ".join(v.op.name for v in tf.trainable_variables()))
    tf.reset_default_graph()


def main() -> int:  # pragma: no cover - `python -m rnnkit demo` goes through rnnkit.commands
    parser = argparse.ArgumentParser(prog="python -m rnnkit demo")
    configure_parser(parser)
    return run(parser.parse_args())
