"""Small TF1-style training programs, timed per ``sess.run`` step, under ``rnnkit.compat.v1`` or
real TensorFlow's ``tf.compat.v1`` (same source; only the import differs).

One program, one backend::

    python benchmarks/compat_programs.py run static_lstm --backend rnnkit --steps 40
    TF_USE_LEGACY_KERAS=1 /root/tfvenv/bin/python benchmarks/compat_programs.py run static_lstm \\
        --backend tf --steps 40

prints one JSON line: median wall and process-CPU milliseconds per step (after ``--warmup`` steps),
and the build time. ``compare`` runs every program under both backends in subprocesses, alternating
rnnkit and TF ``--rounds`` times, and prints a table with the load average before and after (a
shared machine moves wall times a lot; process CPU time much less). ``--baseline DIR`` adds a
third backend: rnnkit imported from ``DIR`` (e.g. ``git archive`` of an older commit unpacked
there), so a change is timed against TF and against the code before it in one run::

    python benchmarks/compat_programs.py compare --tf-python /root/tfvenv/bin/python

Programs (shapes of public TF1 tutorials; the code is this file's own):

- ``static_lstm``: ``static_rnn`` of ``BasicLSTMCell(128)`` over 28 steps of 28 inputs, batch 128,
  a dense layer to 10 classes, softmax cross entropy, Adam (an MNIST row-by-row classifier).
- ``char_lm``: an embedding of 65 symbols, ``MultiRNNCell`` of two ``BasicLSTMCell(128)`` under
  ``dynamic_rnn`` over 50 steps, batch 32, ``sequence_loss``, gradient clipping, Adam.
- ``regression``: ``BasicRNNCell(32)`` over 10 steps, batch 1, its final state fed back into the next
  call, a dense output per step, mean squared error, Adam: many tiny ``sess.run`` calls (a sin->cos
  regression).
- ``seq2seq_loop``: an encoder ``dynamic_rnn`` and a decoder written as a Python loop of cell calls
  over 10 steps (``legacy_seq2seq`` style: feeds its previous output's embedding), vocabulary 20,
  ``LSTMCell(64)``, batch 64, per-step projection and cross entropy, Adam.
- ``tiny_seq2seq``: time-major ``dynamic_rnn`` encoder and teacher-forced decoder (``LSTMCell(20)``,
  vocabulary 10, batch 100, 8 steps), a dense projection, one-hot softmax cross entropy, Adam; each
  step also runs the predictions (a seq2seq notebook's sizes: per-call overhead dominates).
- ``legacy_decoder``: a char-rnn of ``MultiRNNCell`` of two ``BasicLSTMCell(64)``, vocabulary 50,
  trained with ``legacy_seq2seq.rnn_decoder`` over a list of 25 steps (batch 32), a projection,
  ``sequence_loss_by_example``, clipping and Adam; each step also samples 25 symbols at batch 1 from
  a second ``rnn_decoder`` sharing the variables whose ``loop_function`` feeds back the embedding of
  the previous output's argmax. TensorFlow 2 has no ``legacy_seq2seq``: under TF the program uses
  its own loop of the same ops (:func:`_rnn_decoder`, :func:`_loss_by_example`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np

PROGRAMS = (
    "static_lstm",
    "char_lm",
    "regression",
    "seq2seq_loop",
    "tiny_seq2seq",
    "legacy_decoder",
)


def _import(backend: str) -> tuple[Any, Any]:
    """The ``tf`` module and a ``sequence_loss`` function of the backend."""
    if backend == "tf":
        os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        sys.path.insert(0, "/root")
        try:
            from tfa_import import tfa  # TensorFlow Addons' seq2seq (contrib.seq2seq's home)

            seq_loss = tfa.seq2seq.sequence_loss
        except ImportError:
            seq_loss = None
        import tensorflow.compat.v1 as tf

        tf.disable_v2_behavior()
        return tf, seq_loss
    import rnnkit.compat.v1 as tf

    return tf, tf.contrib.seq2seq.sequence_loss


def _sequence_loss(tf: Any, seq_loss: Any, logits: Any, targets: Any, weights: Any) -> Any:
    if seq_loss is not None:
        return seq_loss(logits, targets, weights)
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
    return tf.reduce_sum(ce * weights) / tf.reduce_sum(weights)


def build_static_lstm(tf: Any, seq_loss: Any, rng: np.random.Generator) -> Any:
    B, T, I, H, C = 128, 28, 28, 128, 10
    x = tf.placeholder(tf.float32, [None, T, I])
    y = tf.placeholder(tf.float32, [None, C])
    cell = tf.nn.rnn_cell.BasicLSTMCell(H)
    outputs, _ = tf.nn.static_rnn(cell, tf.unstack(x, T, 1), dtype=tf.float32)
    w = tf.Variable(tf.random_normal([H, C]))
    b = tf.Variable(tf.random_normal([C]))
    logits = tf.matmul(outputs[-1], w) + b
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    train = tf.train.AdamOptimizer(0.001).minimize(loss)
    xs = rng.random((B, T, I), dtype=np.float32)
    ys = np.eye(C, dtype=np.float32)[rng.integers(0, C, B)]

    def step(sess: Any) -> None:
        sess.run(train, feed_dict={x: xs, y: ys})

    return step


def build_char_lm(tf: Any, seq_loss: Any, rng: np.random.Generator) -> Any:
    B, T, V, H = 32, 50, 65, 128
    inp = tf.placeholder(tf.int32, [B, T])
    tgt = tf.placeholder(tf.int32, [B, T])
    cell = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(H) for _ in range(2)])
    init = cell.zero_state(B, tf.float32)
    emb = tf.get_variable("embedding", [V, H])
    outputs, final = tf.nn.dynamic_rnn(cell, tf.nn.embedding_lookup(emb, inp), initial_state=init)
    w = tf.get_variable("softmax_w", [H, V])
    b = tf.get_variable("softmax_b", [V])
    logits = tf.reshape(tf.matmul(tf.reshape(outputs, [-1, H]), w) + b, [B, T, V])
    loss = _sequence_loss(tf, seq_loss, logits, tgt, tf.ones([B, T]))
    tvars = tf.trainable_variables()
    grads, _ = tf.clip_by_global_norm(tf.gradients(loss, tvars), 5.0)
    train = tf.train.AdamOptimizer(0.002).apply_gradients(zip(grads, tvars))
    data = rng.integers(0, V, (B, T + 1)).astype(np.int32)

    def step(sess: Any) -> None:
        sess.run([loss, final, train], feed_dict={inp: data[:, :-1], tgt: data[:, 1:]})

    return step


def build_regression(tf: Any, seq_loss: Any, rng: np.random.Generator) -> Any:
    T, H = 10, 32
    x = tf.placeholder(tf.float32, [None, T, 1])
    y = tf.placeholder(tf.float32, [None, T, 1])
    cell = tf.nn.rnn_cell.BasicRNNCell(H)
    init = cell.zero_state(1, tf.float32)
    outs, final = tf.nn.dynamic_rnn(cell, x, initial_state=init)
    pred = tf.layers.dense(tf.reshape(outs, [-1, H]), 1)
    loss = tf.losses.mean_squared_error(labels=tf.reshape(y, [-1, 1]), predictions=pred)
    train = tf.train.AdamOptimizer(0.02).minimize(loss)
    state = {"s": None, "k": 0}

    def step(sess: Any) -> None:
        k = state["k"]
        t = np.linspace(k * np.pi, (k + 1) * np.pi, T, dtype=np.float32)
        feed = {x: np.sin(t)[None, :, None], y: np.cos(t)[None, :, None]}
        if state["s"] is not None:
            feed[init] = state["s"]
        _, _, state["s"], _ = sess.run([train, loss, final, pred], feed_dict=feed)
        state["k"] = k + 1

    return step


def build_seq2seq_loop(tf: Any, seq_loss: Any, rng: np.random.Generator) -> Any:
    B, T, V, E, H = 64, 10, 20, 32, 64
    enc_in = tf.placeholder(tf.int32, [B, T])
    dec_tgt = tf.placeholder(tf.int32, [B, T])
    emb = tf.get_variable("emb", [V, E])
    with tf.variable_scope("encoder"):
        enc_cell = tf.nn.rnn_cell.LSTMCell(H)
        _, enc_state = tf.nn.dynamic_rnn(
            enc_cell, tf.nn.embedding_lookup(emb, enc_in), dtype=tf.float32
        )
    with tf.variable_scope("decoder") as scope:
        dec_cell = tf.nn.rnn_cell.LSTMCell(H)
        w = tf.get_variable("proj_w", [H, V])
        b = tf.get_variable("proj_b", [V])
        state = enc_state
        prev = tf.zeros([B], tf.int32)  # the GO symbol
        losses = []
        for t in range(T):
            if t > 0:
                scope.reuse_variables()
            out, state = dec_cell(tf.nn.embedding_lookup(emb, prev), state)
            logits = tf.matmul(out, w) + b
            losses.append(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=dec_tgt[:, t], logits=logits)
            )
            prev = tf.cast(tf.argmax(logits, 1), tf.int32)
    loss = tf.reduce_mean(tf.add_n(losses)) / T
    train = tf.train.AdamOptimizer(0.001).minimize(loss)
    src = rng.integers(2, V, (B, T)).astype(np.int32)

    def step(sess: Any) -> None:
        sess.run([train, loss], feed_dict={enc_in: src, dec_tgt: src[:, ::-1]})

    return step


def build_tiny_seq2seq(tf: Any, seq_loss: Any, rng: np.random.Generator) -> Any:
    T, B, V, E, H = 8, 100, 10, 20, 20
    enc_in = tf.placeholder(tf.int32, [None, None])  # time-major (T, B)
    dec_in = tf.placeholder(tf.int32, [None, None])
    dec_tgt = tf.placeholder(tf.int32, [None, None])
    emb = tf.Variable(tf.random_uniform([V, E], -1.0, 1.0))
    with tf.variable_scope("enc"):
        _, enc_state = tf.nn.dynamic_rnn(
            tf.nn.rnn_cell.LSTMCell(H), tf.nn.embedding_lookup(emb, enc_in),
            dtype=tf.float32, time_major=True,
        )  # fmt: skip
    with tf.variable_scope("dec"):
        dec_out, _ = tf.nn.dynamic_rnn(
            tf.nn.rnn_cell.LSTMCell(H), tf.nn.embedding_lookup(emb, dec_in),
            initial_state=enc_state, dtype=tf.float32, time_major=True,
        )  # fmt: skip
    logits = tf.layers.dense(dec_out, V)
    pred = tf.argmax(logits, 2)
    ce = tf.nn.softmax_cross_entropy_with_logits_v2(
        labels=tf.one_hot(dec_tgt, depth=V, dtype=tf.float32), logits=logits
    )
    loss = tf.reduce_mean(ce)
    train = tf.train.AdamOptimizer().minimize(loss)
    src = rng.integers(2, V, (T, B)).astype(np.int32)
    go = np.ones((1, B), np.int32)
    eos = np.ones((1, B), np.int32)

    def step(sess: Any) -> None:
        feed = {enc_in: src, dec_in: np.concatenate([go, src]), dec_tgt: np.concatenate([src, eos])}
        sess.run([train, loss], feed_dict=feed)
        sess.run(pred, feed_dict=feed)

    return step


def _rnn_decoder(tf: Any, inputs: list, state: Any, cell: Any, loop_function: Any = None) -> Any:
    """``legacy_seq2seq.rnn_decoder``'s graph, for backends without it: ``cell`` over the list of
    inputs, input ``i > 0`` replaced by ``loop_function(output i-1, i)`` when one is given."""
    outputs, prev = [], None
    with tf.variable_scope("rnn_decoder"):
        for i, inp in enumerate(inputs):
            if loop_function is not None and prev is not None:
                with tf.variable_scope("loop_function", reuse=True):
                    inp = loop_function(prev, i)
            if i > 0:
                tf.get_variable_scope().reuse_variables()
            out, state = cell(inp, state)
            outputs.append(out)
            if loop_function is not None:
                prev = out
    return outputs, state


def _loss_by_example(tf: Any, logits: list, targets: list, weights: list) -> Any:
    """``legacy_seq2seq.sequence_loss_by_example``'s graph: per row, the weighted sum of each
    step's cross entropy over the sum of the weights."""
    ces = [
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=t, logits=lg) * w
        for lg, t, w in zip(logits, targets, weights)
    ]
    return tf.add_n(ces) / (tf.add_n(weights) + 1e-12)


def build_legacy_decoder(tf: Any, seq_loss: Any, rng: np.random.Generator) -> Any:
    B, T, V, H, S = 32, 25, 50, 64, 25
    legacy = getattr(getattr(tf, "contrib", None), "legacy_seq2seq", None)

    def decoder(inputs: list, state: Any, cell: Any, loop_function: Any = None) -> Any:
        if legacy is not None:
            return legacy.rnn_decoder(inputs, state, cell, loop_function=loop_function)
        return _rnn_decoder(tf, inputs, state, cell, loop_function)

    cell = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(H) for _ in range(2)])
    inp = tf.placeholder(tf.int32, [B, T])
    tgt = tf.placeholder(tf.int32, [B, T])
    with tf.variable_scope("charrnn") as scope:
        w = tf.get_variable("softmax_w", [H, V])
        b = tf.get_variable("softmax_b", [V])
        emb = tf.get_variable("embedding", [V, H])
        steps = [tf.squeeze(s, [1]) for s in tf.split(tf.nn.embedding_lookup(emb, inp), T, 1)]
        outs, _ = decoder(steps, cell.zero_state(B, tf.float32), cell)
        logits = [tf.matmul(o, w) + b for o in outs]
        targets = tf.unstack(tgt, T, 1)
        ones = [tf.ones([B]) for _ in range(T)]
        if legacy is not None:
            per_row = legacy.sequence_loss_by_example(logits, targets, ones)
        else:
            per_row = _loss_by_example(tf, logits, targets, ones)
        loss = tf.reduce_sum(per_row) / B / T
        tvars = tf.trainable_variables()
        grads, _ = tf.clip_by_global_norm(tf.gradients(loss, tvars), 5.0)
        train = tf.train.AdamOptimizer(0.002).apply_gradients(zip(grads, tvars))

        scope.reuse_variables()

        def loop(prev: Any, _: int) -> Any:
            symbol = tf.stop_gradient(tf.argmax(tf.matmul(prev, w) + b, 1))
            return tf.nn.embedding_lookup(emb, symbol)

        start = tf.placeholder(tf.int32, [1])
        first = [tf.nn.embedding_lookup(emb, start)] + [tf.zeros([1, H])] * (S - 1)
        sample_outs, _ = decoder(first, cell.zero_state(1, tf.float32), cell, loop)
        sample = tf.stack([tf.argmax(tf.matmul(o, w) + b, 1) for o in sample_outs], 1)
    data = rng.integers(0, V, (B, T + 1)).astype(np.int32)
    seed = np.array([3], np.int32)

    def step(sess: Any) -> None:
        sess.run([loss, train], feed_dict={inp: data[:, :-1], tgt: data[:, 1:]})
        sess.run(sample, feed_dict={start: seed})

    return step


BUILDERS = {
    "static_lstm": build_static_lstm,
    "char_lm": build_char_lm,
    "regression": build_regression,
    "seq2seq_loop": build_seq2seq_loop,
    "tiny_seq2seq": build_tiny_seq2seq,
    "legacy_decoder": build_legacy_decoder,
}


def run_one(program: str, backend: str, steps: int, warmup: int, profile: str | None) -> dict:
    tf, seq_loss = _import(backend)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    tf.reset_default_graph()
    tf.set_random_seed(0)
    step = BUILDERS[program](tf, seq_loss, rng)
    init = tf.global_variables_initializer()
    build = time.perf_counter() - t0
    walls, cpus = [], []
    with tf.Session() as sess:
        sess.run(init)
        for _ in range(warmup):
            step(sess)
        prof = None
        if profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        for _ in range(steps):
            w0, c0 = time.perf_counter(), time.process_time()
            step(sess)
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
        if prof is not None:
            prof.disable()
            prof.dump_stats(profile)
    return {
        "program": program,
        "backend": backend,
        "steps": steps,
        "wall_ms": 1e3 * statistics.median(walls),
        "cpu_ms": 1e3 * statistics.median(cpus),
        "wall_mean_ms": 1e3 * statistics.fmean(walls),
        "cpu_mean_ms": 1e3 * statistics.fmean(cpus),
        "build_s": build,
    }


def compare(args: argparse.Namespace) -> None:
    here = os.path.abspath(__file__)
    base_env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    # (label, backend, python, environment): the baseline is rnnkit imported from another checkout
    runs = [("rnnkit", "rnnkit", sys.executable, base_env)]
    if args.baseline:
        path = os.pathsep.join([os.path.abspath(args.baseline), os.environ.get("PYTHONPATH", "")])
        runs.append(("baseline", "rnnkit", sys.executable, dict(base_env, PYTHONPATH=path)))
    runs.append(("tf", "tf", args.tf_python, base_env))
    load0 = os.getloadavg()
    rows: dict[tuple[str, str], list[dict]] = {}
    for program in args.programs.split(","):
        for _ in range(args.rounds):
            for label, backend, python, env in runs:
                cmd = [python, here, "run", program, "--backend", backend, "--steps",
                       str(args.steps), "--warmup", str(args.warmup)]  # fmt: skip
                out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
                if out.returncode != 0:
                    print(f"{program} {label} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
                    continue
                rows.setdefault((program, label), []).append(
                    json.loads(out.stdout.strip().splitlines()[-1])
                )
    load1 = os.getloadavg()
    print(
        f"load average before {load0[0]:.2f} / after {load1[0]:.2f} (1 min), {os.cpu_count()} cpus"
    )
    labels = [label for label, *_ in runs]
    head = ["program"]
    for what in ("wall", "CPU"):
        head += [f"{label} {what} ms" for label in labels]
        head += [f"{label} / TF {what}" for label in labels[:-1]]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for program in args.programs.split(","):
        got = {label: rows.get((program, label), []) for label in labels}
        if not all(got.values()):
            continue
        cells = [program]
        for key in ("wall_ms", "cpu_ms"):
            med = {label: statistics.median(x[key] for x in got[label]) for label in labels}
            cells += [f"{med[label]:.2f}" for label in labels]
            cells += [f"{med[label] / med['tf']:.2f}" for label in labels[:-1]]
        print("| " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    one = sub.add_parser("run", help="one program under one backend")
    one.add_argument("program", choices=PROGRAMS)
    one.add_argument("--backend", choices=("rnnkit", "tf"), default="rnnkit")
    one.add_argument("--steps", type=int, default=30)
    one.add_argument("--warmup", type=int, default=5)
    one.add_argument("--profile", help="write cProfile stats of the timed steps to this file")
    both = sub.add_parser("compare", help="every program under both backends, alternating")
    both.add_argument("--programs", default=",".join(PROGRAMS))
    both.add_argument("--tf-python", default="/root/tfvenv/bin/python")
    both.add_argument("--rounds", type=int, default=2)
    both.add_argument("--steps", type=int, default=30)
    both.add_argument("--warmup", type=int, default=5)
    both.add_argument(
        "--baseline",
        help="a directory holding another rnnkit package (a checkout): timed as a third backend",
    )
    args = parser.parse_args(argv)
    if args.cmd == "run":
        print(
            json.dumps(run_one(args.program, args.backend, args.steps, args.warmup, args.profile))
        )
    else:
        compare(args)


if __name__ == "__main__":
    main()
