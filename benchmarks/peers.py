"""Time peer frameworks on a single-layer RNN, for comparison with rnnkit's benchmark.

A standalone script: it imports only numpy and the peer framework (never rnnkit or torch), so it
runs under another interpreter that has the peer installed, as a module or as a plain file::

    <python> benchmarks/peers.py --framework flax --cell rnn --batch 32 --steps 100 \\
        --input 32 --units 64 --repeats 20
    <python> /path/to/benchmarks/peers.py --framework tf1 --cell lstm ...

It times the forward pass (no gradients) and forward plus backward (gradients of the inputs and of
all weights, loss = sum of the outputs) of one RNN layer over batch-major float32 inputs
``(batch, steps, input)``, excluding warm-up (and compilation), and prints one JSON line::

    {"framework": ..., "cell": ..., "fwd_ms_median": ..., "fwdbwd_ms_median": ..., "version": ...}

(plus the sizes, the thread count and the median process CPU milliseconds per call).

Frameworks:

- ``flax``: ``flax.linen.RNN`` over ``SimpleCell`` / ``OptimizedLSTMCell`` / ``GRUCell``,
  ``jax.jit``-compiled, ``block_until_ready``.
- ``keras``: Keras 3 on the TensorFlow backend, ``keras.layers.SimpleRNN`` / ``LSTM`` / ``GRU``;
  forward in a ``tf.function``, gradients with ``tf.GradientTape`` inside a ``tf.function``
  (``--keras-jit``: both with ``jit_compile=True``).
- ``tf1``: ``tf.compat.v1`` graph mode, ``dynamic_rnn`` with ``BasicRNNCell`` / ``BasicLSTMCell`` /
  ``GRUCell``; ``Session.run`` of the outputs and of ``tf.gradients``. With TensorFlow 2.16 or later
  this needs the ``tf-keras`` package (the script sets ``TF_USE_LEGACY_KERAS=1`` for this one).

Run each framework in its own process. ``--threads`` (default: the CPUs this process may use)
pins the process to that many CPUs and sets the frameworks' thread pools to match.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

FRAMEWORKS = ("flax", "keras", "tf1")
CELLS = ("rnn", "lstm", "gru")  # the names of bench --cells and train --cell


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _set_threads(framework: str, threads: int) -> None:
    """Pin to ``threads`` CPUs and size thread pools; call before importing the framework."""
    if hasattr(os, "sched_getaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        if threads < len(cpus):
            os.sched_setaffinity(0, cpus[:threads])
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if framework == "flax":
        flags = os.environ.get("XLA_FLAGS", "")
        if "intra_op_parallelism_threads" not in flags:
            flags += " --xla_cpu_multi_thread_eigen=true"
            flags += f" intra_op_parallelism_threads={threads}"
        os.environ["XLA_FLAGS"] = flags.strip()
    elif framework == "keras":
        os.environ["KERAS_BACKEND"] = "tensorflow"
        os.environ.pop("TF_USE_LEGACY_KERAS", None)
    elif framework == "tf1":
        os.environ["TF_USE_LEGACY_KERAS"] = "1"


def _median_ms(fn, warmup: int, repeats: int) -> tuple[float, float]:
    """Median wall and median process CPU milliseconds per call, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def _data(args):
    rng = np.random.default_rng(args.seed)
    return rng.standard_normal((args.batch, args.steps, args.input)).astype(np.float32)


# --------------------------------------------------------------------------------------------
# Flax (JAX / XLA)
# --------------------------------------------------------------------------------------------


def bench_flax(args):
    import flax
    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    H = args.units
    cell = {
        "rnn": lambda: nn.SimpleCell(features=H),
        "lstm": lambda: nn.OptimizedLSTMCell(features=H),
        "gru": lambda: nn.GRUCell(features=H),
    }[args.cell]()
    model = nn.RNN(cell)
    x = jnp.asarray(_data(args))
    params = model.init(jax.random.PRNGKey(args.seed), x)

    fwd = jax.jit(lambda p, x: model.apply(p, x))

    def loss(p, x):
        return jnp.sum(model.apply(p, x))

    fwdbwd = jax.jit(jax.grad(loss, argnums=(0, 1)))

    def run_fwd():
        jax.block_until_ready(fwd(params, x))

    def run_fwdbwd():
        jax.block_until_ready(fwdbwd(params, x))

    version = f"flax {flax.__version__}, jax {jax.__version__}"
    return run_fwd, run_fwdbwd, version


# --------------------------------------------------------------------------------------------
# Keras 3 on TensorFlow
# --------------------------------------------------------------------------------------------


def bench_keras(args, threads):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"Keras backend is {keras.backend.backend()!r}, need 'tensorflow'")
    layer_cls = {
        "rnn": keras.layers.SimpleRNN,
        "lstm": keras.layers.LSTM,
        "gru": keras.layers.GRU,
    }[args.cell]
    layer = layer_cls(args.units, return_sequences=True)
    x = tf.constant(_data(args))
    layer.build(x.shape)
    weights = list(layer.trainable_variables)

    @tf.function(jit_compile=args.keras_jit)
    def fwd(x):
        return layer(x)

    @tf.function(jit_compile=args.keras_jit)
    def fwdbwd(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x))
        return tape.gradient(loss, [x, *weights])

    def run_fwd():
        fwd(x)

    def run_fwdbwd():
        grads = fwdbwd(x)
        if any(g is None for g in grads):
            raise RuntimeError("a Keras gradient is None")

    version = f"keras {keras.__version__}, tensorflow {tf.__version__}"
    if args.keras_jit:
        version += " (tf.function jit_compile=True)"
    return run_fwd, run_fwdbwd, version


# --------------------------------------------------------------------------------------------
# TensorFlow 1.x graph mode
# --------------------------------------------------------------------------------------------


def bench_tf1(args, threads):
    import tensorflow as tf

    tf1 = tf.compat.v1
    tf1.disable_v2_behavior()
    tf1.logging.set_verbosity(tf1.logging.ERROR)
    rc = tf1.nn.rnn_cell

    graph = tf1.Graph()
    with graph.as_default():
        x_val = _data(args)
        x_init = tf1.placeholder(tf.float32, x_val.shape)
        x_var = tf1.Variable(x_init, trainable=False, name="inputs")
        x = tf.identity(x_var)
        cell = {
            "rnn": lambda: rc.BasicRNNCell(args.units),
            "lstm": lambda: rc.BasicLSTMCell(args.units),
            "gru": lambda: rc.GRUCell(args.units),
        }[args.cell]()
        outputs, _ = tf1.nn.dynamic_rnn(cell, x, dtype=tf.float32)
        weights = tf1.trainable_variables()
        grads = tf.gradients(tf.reduce_sum(outputs), [x, *weights])
        if args.tf1_fetch == "ops":
            fwd_fetch, bwd_fetch = tf.group(outputs), tf.group(*grads)
        else:
            fwd_fetch, bwd_fetch = outputs, grads
        config = tf1.ConfigProto(
            intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads
        )
        sess = tf1.Session(graph=graph, config=config)
        sess.run(tf1.global_variables_initializer(), feed_dict={x_init: x_val})
        graph.finalize()

    def run_fwd():
        sess.run(fwd_fetch)

    def run_fwdbwd():
        sess.run(bwd_fetch)

    version = f"tensorflow {tf.__version__} (tf.compat.v1 graph mode)"
    return run_fwd, run_fwdbwd, version


# --------------------------------------------------------------------------------------------


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Time a peer framework's single-layer RNN.")
    p.add_argument("--framework", required=True, choices=FRAMEWORKS)
    p.add_argument("--cell", default="rnn", choices=CELLS)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--input", type=int, default=32)
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3, help="untimed calls first (default 3)")
    p.add_argument("--threads", type=int, default=None, help="default: the CPUs available")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--tf1-fetch",
        choices=("values", "ops"),
        default="values",
        help="tf1: fetch the arrays (default) or only run the ops",
    )
    p.add_argument(
        "--keras-jit",
        action="store_true",
        help="keras: compile the tf.functions with XLA (jit_compile=True)",
    )
    args = p.parse_args(argv)
    if min(args.batch, args.steps, args.input, args.units, args.repeats) < 1 or args.warmup < 0:
        p.error("sizes and --repeats must be positive, --warmup non-negative")
    threads = args.threads or _available_cpus()
    _set_threads(args.framework, threads)

    if args.framework == "flax":
        run_fwd, run_fwdbwd, version = bench_flax(args)
    elif args.framework == "keras":
        run_fwd, run_fwdbwd, version = bench_keras(args, threads)
    else:
        run_fwd, run_fwdbwd, version = bench_tf1(args, threads)

    fwd_ms, fwd_cpu = _median_ms(run_fwd, args.warmup, args.repeats)
    fwdbwd_ms, fwdbwd_cpu = _median_ms(run_fwdbwd, args.warmup, args.repeats)
    result = {
        "framework": args.framework,
        "cell": args.cell,
        "fwd_ms_median": round(fwd_ms, 4),
        "fwdbwd_ms_median": round(fwdbwd_ms, 4),
        "version": version,
        # CPU time of all this process's threads per call: a check on contention from other
        # processes (wall time well above cpu/threads means the CPUs were busy elsewhere).
        "fwd_cpu_ms_median": round(fwd_cpu, 4),
        "fwdbwd_cpu_ms_median": round(fwdbwd_cpu, 4),
        "batch": args.batch,
        "steps": args.steps,
        "input": args.input,
        "units": args.units,
        "repeats": args.repeats,
        "threads": threads,
    }
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
