r"""The fused engine against the plain loop, torch's layers and peers: ``python -m rnnkit bench`` in a
checkout, or ``python benchmarks/bench.py`` with rnnkit installed (the same options).

Shapes: B batch, T steps, I input width, H units; inputs are batch-major ``(B, T, I)`` float32 and a
single layer is timed. Two numbers per implementation: forward (no
gradients) and forward+backward (loss = sum of outputs; gradients of the inputs and every weight).

Cells (``--cells``, the names of ``train --cell``): ``rnn`` (BasicRNNCell, tanh), ``lstm``
(BasicLSTMCell), ``gru`` (GRUCell with ``reset_after``, as torch's and cuDNN's GRU).

FLOPs of forward+backward: ``6 * B * T * H * (I + H) * G`` with G = 1 (rnn), 4 (LSTM), 3 (GRU);
forward is a third of that. GFLOP/s are reported as a fraction of the sgemm peak measured in the same
run (the best of OpenBLAS, torch's matmul and oneDNN's at 2048^3 with torch's thread count).

Peers (Flax/XLA, Keras 3, TF1 ``dynamic_rnn``) run through ``benchmarks/peers.py`` in their own
subprocess under ``--peer-python`` (default: this interpreter) and are skipped when not importable.

``--sweep`` times static vs dynamic unrolling over T (each point in a fresh subprocess): time to the
first result (forward), time per step (forward+backward / T) and peak memory (``ru_maxrss`` growth
over the set-up, relative to the size of the outputs).

Example::

    python -m rnnkit bench --sizes seed,S --cells rnn,lstm --repeats 10 --out bench_out
    python -m rnnkit bench --sweep --out bench_out
    python benchmarks/bench.py --quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rnnkit.commands._options import (
    bad_comma_list,
    int_in,
    int_list_in,
    path_text,
    positive_float,
)

SIZES: dict[str, tuple[int, int, int, int]] = {  # name: (B, T, I, H)
    "seed": (4, 2, 3, 5),
    "S": (32, 100, 32, 64),
    "M": (64, 200, 128, 256),
    "L": (64, 100, 512, 1024),
}
CELLS = ("rnn", "lstm", "gru")  # the names of train --cell
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
PEERS = ("flax", "keras", "tf1")
PEER_MODULES = {"flax": "import jax, flax", "keras": "import keras", "tf1": "import tensorflow"}
SWEEP_STEPS = (100, 1_000, 10_000, 100_000, 1_000_000)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    sizes = ", ".join(f"{k} (B,T,I,H = {','.join(map(str, v))})" for k, v in SIZES.items())
    parser.add_argument("--sizes", default="seed,S,M,L", help=f"comma list of {sizes}")
    parser.add_argument("--cells", default=",".join(CELLS), help="comma list of " + ",".join(CELLS))
    parser.add_argument(
        "--repeats", type=int_in(1, MAX_REPEATS), default=20, help="timed calls per implementation"
    )
    parser.add_argument(
        "--plain-repeats",
        type=int_in(1, MAX_REPEATS),
        default=3,
        help="timed calls of the plain loop",
    )
    parser.add_argument(
        "--plain-sizes", default="seed,S,M", help="sizes at which the (slow) plain loop is timed"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"seed and S, 3 repeats, the plain loop at seed only, no peers or compile cost; "
        f"nothing new starts after {QUICK_BUDGET_S:.0f} s",
    )
    parser.add_argument(
        "--out", type=path_text, default="bench_out", help="directory for bench.json and the PNG"
    )
    parser.add_argument(
        "--peer-python",
        default=os.environ.get("RNNKIT_PEER_PYTHON", sys.executable),
        help="interpreter with the peers installed (default: $RNNKIT_PEER_PYTHON or this one)",
    )
    parser.add_argument("--peers", default="flax,keras,tf1", help="peers to try ('' for none)")
    parser.add_argument(
        "--peer-timeout", type=positive_float, default=900.0, help="seconds per peer run"
    )
    parser.add_argument("--no-compile-cost", action="store_true", help="skip the compile-cost runs")
    parser.add_argument(
        "--retain-memory",
        action="store_true",
        help="keep freed memory for reuse in this process (rnnkit.engine.retain_freed_memory; "
        "torch's layers share it, peers in their own processes do not)",
    )
    parser.add_argument("--sweep", action="store_true", help="static vs dynamic over T instead")
    parser.add_argument(
        "--sweep-steps",
        type=int_list_in(1, 10**9),
        default=",".join(map(str, SWEEP_STEPS)),
        help="T values of the sweep",
    )
    parser.add_argument(
        "--sweep-static-max", type=int_in(1, 10**9), default=10_000, help="largest T for static_rnn"
    )
    parser.add_argument(
        "--sweep-loop-max", type=int_in(1, 10**9), default=10_000, help="largest T for the loop"
    )
    parser.add_argument("--sweep-point", nargs=2, metavar=("RUNNER", "T"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--load",
        type=int_in(0, 64),
        default=None,
        metavar="N",
        help="instead: one training step of the TF1 chapter's MNIST RNN idle and beside N busy-loop "
        "processes, loaded/idle ratio for rnnkit, torch, rnnkit.compat.v1 and TF1 (--peer-python)",
    )


# ------------------------------------------------------------------------------------ measuring
# Fast calls are timed more often: each implementation gets at least MIN_TIMED_SECONDS of timed calls
# (at most MAX_REPEATS), so that a median of microsecond calls is not ten samples of noise.
MIN_TIMED_SECONDS = 0.25
QUICK_MIN_TIMED_SECONDS = 0.05  # --quick
# --quick starts no new measurement after this many seconds (what is left is named on stderr), so it
# ends in well under 30 s on an idle machine and stays bounded on a busy one
QUICK_BUDGET_S = 20.0
MAX_REPEATS = 2000


def _timer(
    fns: dict[str, Any], repeats: dict[str, int], min_seconds: float | None = None
) -> dict[str, dict[str, float]]:
    """Median/min ms per call of each function; calls are interleaved so load drifts hit all alike.
    ``repeats`` is the least number of timed calls per function; each gets at least ``min_seconds``
    of timed calls (default MIN_TIMED_SECONDS)."""
    min_seconds = MIN_TIMED_SECONDS if min_seconds is None else min_seconds
    for fn in fns.values():  # warm-up (and compile)
        fn()
    repeats = dict(repeats)
    for name, fn in fns.items():  # a second call says how long one takes
        once = max(_time_once(fn), 1e-7)
        wanted = min(MAX_REPEATS, int(min_seconds / once))
        repeats[name] = max(repeats[name], wanted)
    times: dict[str, list[float]] = {k: [] for k in fns}
    for r in range(max(repeats.values())):
        for name, fn in fns.items():
            if r < repeats[name]:
                t0 = time.perf_counter()
                fn()
                times[name].append((time.perf_counter() - t0) * 1e3)
    return {k: {"median": statistics.median(v), "min": min(v)} for k, v in times.items()}


def sgemm_peak(threads: int, n: int = 2048, reps: int = 3) -> dict[str, float]:
    """GFLOP/s of a float32 n^3 matmul (the best of ``reps`` calls): torch, oneDNN (packed weight),
    and the OpenBLAS the engine calls (1 and N threads)."""
    import numpy as np
    import torch

    from rnnkit.engine import cpu
    from rnnkit.engine import kernels as K

    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    out = np.empty_like(a)
    ta = torch.from_numpy(a)
    flops = 2.0 * n**3
    res = {}

    def best(fn):
        fn()
        return min(_time_once(fn) for _ in range(reps))

    res["torch"] = flops / best(lambda: torch.mm(ta, ta)) / 1e9
    try:  # oneDNN's sgemm (torch's LSTM runs on oneDNN), the weight packed once as torch does
        mk = torch.ops.mkldnn
        packed = mk._reorder_linear_weight(ta.t().contiguous(), n)
        res["onednn"] = (
            flops / best(lambda: mk._linear_pointwise(ta, packed, None, "none", [], "")) / 1e9
        )
    except (AttributeError, RuntimeError):  # pragma: no cover - torch without oneDNN
        pass
    for t in sorted({1, threads}):
        cpu._blas_threads(t)
        res[f"openblas_{t}t"] = flops / best(lambda: K.gemm(a, a, out)) / 1e9
    cpu._step_threads()
    res["peak"] = max(res.values())
    return res


def _time_once(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _rnnkit_cell(kind: str, I: int, H: int):
    import rnnkit

    if kind == "rnn":
        return rnnkit.BasicRNNCell(H, input_size=I)
    if kind == "lstm":
        return rnnkit.BasicLSTMCell(H, input_size=I)
    return rnnkit.GRUCell(H, reset_after=True, input_size=I)  # torch's and cuDNN's GRU


def bench_one(
    size: str,
    kind: str,
    repeats: int,
    plain_repeats: int,
    plain: bool,
    min_seconds: float | None = None,
) -> dict:
    """Time fused / plain loop / torch layer for one size and cell; returns {impl: {fwd, fwdbwd}}."""
    import torch

    import rnnkit

    B, T, I, H = SIZES[size]
    torch.manual_seed(0)
    cell = _rnnkit_cell(kind, I, H)
    layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](
        I, H, batch_first=True
    )
    x = torch.randn(B, T, I, requires_grad=True)
    weights = [x, *cell.parameters()]
    tweights = [x, *layer.parameters()]

    def fused_fwd():
        with torch.no_grad():
            rnnkit.dynamic_rnn(cell, x, engine="fused")

    def fused_fb():
        y, _ = rnnkit.dynamic_rnn(cell, x, engine="fused")
        torch.autograd.grad(y.sum(), weights)

    def loop_fwd():
        with torch.no_grad():
            rnnkit.dynamic_rnn(cell, x, engine="loop")

    def loop_fb():
        y, _ = rnnkit.dynamic_rnn(cell, x, engine="loop")
        torch.autograd.grad(y.sum(), weights)

    def torch_fwd():
        with torch.no_grad():
            layer(x)

    def torch_fb():
        y, _ = layer(x)
        torch.autograd.grad(y.sum(), tweights)

    fns = {"fused/fwd": fused_fwd, "fused/fwdbwd": fused_fb}
    fns.update({"torch/fwd": torch_fwd, "torch/fwdbwd": torch_fb})
    reps = dict.fromkeys(fns, repeats)
    if plain:
        fns.update({"plain/fwd": loop_fwd, "plain/fwdbwd": loop_fb})
        reps.update({"plain/fwd": plain_repeats, "plain/fwdbwd": plain_repeats})
    timed = _timer(fns, reps, min_seconds)
    out: dict[str, dict[str, Any]] = {}
    for key, v in timed.items():
        impl, what = key.split("/")
        out.setdefault(impl, {})[what] = v["median"]
        out[impl][what + "_min"] = v["min"]
    return out


def peer_available(python: str, peer: str) -> bool:
    try:
        r = subprocess.run(
            [python, "-c", PEER_MODULES[peer]], capture_output=True, timeout=300, text=True
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def bench_peer(python: str, peer: str, size: str, kind: str, repeats: int, timeout: float):
    B, T, I, H = SIZES[size]
    script = Path(__file__).with_name("peers.py")
    cmd = [python, str(script), "--framework", peer, "--cell", kind, "--batch", str(B)]
    cmd += ["--steps", str(T), "--input", str(I), "--units", str(H), "--repeats", str(repeats)]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=timeout, text=True)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if r.returncode != 0 or not lines:
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": tail[0][:200]}
    d = json.loads(lines[-1])
    return {"fwd": d["fwd_ms_median"], "fwdbwd": d["fwdbwd_ms_median"], "version": d.get("version")}


def rnnkit_env() -> dict[str, str]:
    """This process's environment with the folder holding the rnnkit it imported first on
    ``PYTHONPATH``: the scripts started from ``benchmarks/`` time that same rnnkit, installed or not
    (``python -m rnnkit`` run at a checkout's root finds the package in the current folder)."""
    import rnnkit

    paths = [str(Path(rnnkit.__file__).resolve().parents[1])]
    paths += [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(paths))


def compile_cost() -> dict[str, float]:
    """Seconds of the first fused call in a fresh process: cold numba cache, then warm cache."""
    code = (
        "import time, torch, rnnkit\n"
        "t0 = time.perf_counter()\n"
        "for c in (rnnkit.BasicRNNCell(4), rnnkit.BasicLSTMCell(4), rnnkit.GRUCell(4),"
        " rnnkit.GRUCell(4, reset_after=True)):\n"
        "    y, _ = rnnkit.dynamic_rnn(c, torch.randn(2, 3, 3), engine='fused')\n"
        "    y.sum().backward()\n"
        "print(time.perf_counter() - t0)\n"
    )
    res = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(rnnkit_env(), NUMBA_CACHE_DIR=cache)
        for label in ("cold_cache_s", "warm_cache_s"):
            r = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, env=env
            )
            if r.returncode != 0:
                res[label] = float("nan")
                continue
            res[label] = float(r.stdout.strip().splitlines()[-1])
    return res


def environment() -> dict[str, Any]:
    import numpy as np
    import torch
    from threadpoolctl import threadpool_info

    from rnnkit.engine import cpu

    cpu._blas_threads(1)
    blas = [
        {k: i.get(k) for k in ("filepath", "architecture", "version", "num_threads")}
        for i in threadpool_info()
        if i.get("internal_api") == "openblas"
    ]
    return {
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "torch_threads": torch.get_num_threads(),
        "engine_blas": [b for b in blas if "scipy.libs" in (b["filepath"] or "")] or blas,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
    }


# ------------------------------------------------------------------------------------ reporting
def blas_line(env: dict) -> str:
    """The engine's OpenBLAS in words: ``OpenBLAS 0.3.27 (Haswell, 1 thread) from scipy.libs``."""
    parts = []
    for b in env["engine_blas"]:
        where = Path(b["filepath"] or "?").parent.name or "?"
        n = b["num_threads"]
        parts.append(
            f"OpenBLAS {b['version']} ({b['architecture']}, {n} thread{'s' if n != 1 else ''}) "
            f"from {where}"
        )
    return "; ".join(parts) or "none found"


def flops(size: str, kind: str, what: str) -> float:
    B, T, I, H = SIZES[size]
    f = 6.0 * B * T * H * (I + H) * GATES[kind]
    return f if what == "fwdbwd" else f / 3


def table(results: list[dict], peak: float) -> str:
    head = (
        "| size | cell | impl | fwd ms | fwd+bwd ms | fwd+bwd vs torch | vs best peer (run) "
        "| GFLOP/s | % peak |"
    )
    lines = [head, "|" + "---|" * 9]
    for r in results:
        torch_fb = r["impls"].get("torch", {}).get("fwdbwd")
        peers = [v["fwdbwd"] for k, v in r["impls"].items() if k in PEERS and "fwdbwd" in v]
        best_peer = min(peers) if peers else None
        for impl, v in r["impls"].items():
            if "fwdbwd" not in v:
                lines.append(
                    f"| {r['size']} | {r['cell']} | {impl} | - | - | {v.get('error', '')} |"
                )
                continue
            fb = v["fwdbwd"]
            gf = flops(r["size"], r["cell"], "fwdbwd") / fb / 1e6
            vs_t = f"{torch_fb / fb:.2f}x" if torch_fb else "-"
            vs_p = f"{best_peer / fb:.2f}x" if best_peer else "-"
            lines.append(
                f"| {r['size']} | {r['cell']} | {impl} | {v['fwd']:.3f} | {fb:.3f} | {vs_t} | {vs_p} "
                f"| {gf:.1f} | {100 * gf / peak:.0f}% |"
            )
    return "\n".join(lines)


def chart(results: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    impls = sorted({i for r in results for i, v in r["impls"].items() if "fwdbwd" in v})
    labels = [f"{r['size']}/{r['cell']}" for r in results]
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(labels)), 4.5))
    width = 0.8 / max(1, len(impls))
    for k, impl in enumerate(impls):
        xs = [i + k * width for i in range(len(results))]
        ys = [r["impls"].get(impl, {}).get("fwdbwd", float("nan")) for r in results]
        ax.bar(xs, ys, width, label=impl)
    ax.set_yscale("log")
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(results))], labels, rotation=30)
    ax.set_ylabel("forward+backward, median ms (log)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------------------ the sweep
def sweep_point(runner: str, T: int) -> dict:
    """One sweep point in this (fresh) process: B=4, I=32, H=32 tanh, time-major float32."""
    import resource

    import torch

    import rnnkit

    B, I, H = 4, 32, 32
    torch.manual_seed(0)
    cell = rnnkit.BasicRNNCell(H, input_size=I)

    def run(x):
        if runner == "static":
            outs, h = rnnkit.static_rnn(cell, list(x.unbind(0)))
            return outs[-1], h, outs
        y, h = rnnkit.dynamic_rnn(cell, x, time_major=True, engine=runner)
        return y, h, y

    warm = torch.randn(3, B, I, requires_grad=True)  # compile / warm-up outside the measurement
    y, h, _ = run(warm)
    (y.sum() + h.sum()).backward()
    x = torch.randn(T, B, I).requires_grad_()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # bytes, after the set-up
    t0 = time.perf_counter()
    y, h, outs = run(x)
    t_first = time.perf_counter() - t0
    loss = (torch.stack(outs).sum() if runner == "static" else y.sum()) + h.sum()
    loss.backward()
    total = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out_bytes = T * B * H * 4
    return {
        "runner": runner,
        "T": T,
        "first_result_s": t_first,
        "fwdbwd_s": total,
        "us_per_step": total / T * 1e6,
        "peak_growth_bytes": peak - base,
        "outputs_bytes": out_bytes,
        "peak_over_outputs": (peak - base) / out_bytes,
    }


def sweep(args: argparse.Namespace, out: Path) -> int:
    steps = args.sweep_steps
    limits = {"static": args.sweep_static_max, "loop": args.sweep_loop_max, "fused": None}
    rows = []
    print("| runner | T | first result s | fwd+bwd s | us/step | peak growth MB | peak / outputs |")
    print("|---|---|---|---|---|---|---|")
    for runner in ("static", "loop", "fused"):
        for T in steps:
            limit = limits[runner]
            if limit is not None and T > limit:
                rows.append({"runner": runner, "T": T, "skipped": f"T > {limit} (impractical)"})
                print(f"| {runner} | {T} | skipped (T > {limit}, impractical) | | | | |")
                continue
            cmd = [sys.executable, str(Path(__file__)), "--sweep-point", runner, str(T)]
            r = subprocess.run(cmd, capture_output=True, text=True, env=rnnkit_env())
            lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
            if r.returncode != 0 or not lines:
                err = (r.stderr.strip().splitlines() or ["failed"])[-1][:120]
                rows.append({"runner": runner, "T": T, "error": err})
                print(f"| {runner} | {T} | error: {err} | | | | |")
                continue
            d = json.loads(lines[-1])
            rows.append(d)
            print(
                f"| {runner} | {T} | {d['first_result_s']:.4f} | {d['fwdbwd_s']:.4f} | "
                f"{d['us_per_step']:.2f} | {d['peak_growth_bytes'] / 2**20:.1f} | "
                f"{d['peak_over_outputs']:.2f} |",
                flush=True,
            )
    (out / "sweep.json").write_text(json.dumps(rows, indent=1))
    _sweep_chart(rows, out / "sweep.png")
    print(f"wrote {out / 'sweep.json'} and {out / 'sweep.png'}")
    return 0


def _sweep_chart(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for runner in ("static", "loop", "fused"):
        pts = [r for r in rows if r["runner"] == runner and "us_per_step" in r]
        if not pts:
            continue
        axes[0].plot([p["T"] for p in pts], [p["us_per_step"] for p in pts], "o-", label=runner)
        axes[1].plot(
            [p["T"] for p in pts], [p["peak_growth_bytes"] / 2**20 for p in pts], "o-", label=runner
        )
    for ax, lab in zip(axes, ("fwd+bwd us per step", "peak memory growth MB")):
        ax.set_xscale("log")
        ys = [y for line in ax.get_lines() for y in line.get_ydata()]
        if ys and min(ys) > 0:  # tiny runs can measure zero memory growth: keep those linear
            ax.set_yscale("log")
        ax.set_xlabel("T")
        ax.set_ylabel(lab)
        ax.legend()
    fig.suptitle("static vs dynamic unrolling (tanh, B=4, I=32, H=32)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------------------------ command
def warn_if_busy() -> None:
    """One line on stderr when the 1-minute load average is above the number of CPUs: other work
    then takes turns with the benchmark, which runs slower and less evenly than on an idle machine."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not every platform has a load average
        return
    cpus = os.cpu_count() or 1
    if load > cpus:
        print(
            f"rnnkit bench: warning: the machine is busy (load average {load:.1f} on {cpus} "
            "CPUs): timings will be slower and noisier than on an idle machine",
            file=sys.stderr,
        )


def load_ratios(args: argparse.Namespace, out: Path) -> int:
    """``--load N``: each implementation's training step idle and beside N busy loops, in its own
    process (``bench_load.py``); a table of the loaded/idle ratios and ``OUT/bench_load.json``."""
    script = Path(__file__).with_name("bench_load.py")
    runs = [(impl, sys.executable) for impl in ("rnnkit", "torch", "compat")]
    if "tf1" in args.peers.split(",") and peer_available(args.peer_python, "tf1"):
        runs.append(("tf1", args.peer_python))
    rows = []
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for impl, python in runs:
        cmd = [python, str(script), "--impl", impl, "--load", str(args.load)]
        env = rnnkit_env() if python == sys.executable else None
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=args.peer_timeout, env=env
            )
        except subprocess.TimeoutExpired:
            print(f"{impl}: no result within {args.peer_timeout:.0f} s", file=sys.stderr)
            continue
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
        if done.returncode != 0 or not lines:
            tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"{impl}: failed ({tail})", file=sys.stderr)
            continue
        rows.append(json.loads(lines[-1]))
    print(f"\nTF1 chapter MNIST RNN training step, beside {args.load} busy-loop processes:")
    print("| implementation | idle ms | loaded ms | loaded / idle |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['impl']} | {r['idle_ms']:.2f} | {r['loaded_ms']:.2f} | {r['ratio']:.2f}x |")
    (out / "bench_load.json").write_text(json.dumps(rows, indent=1))
    return 0 if rows else 1


def run(args: argparse.Namespace) -> int:
    if args.sweep_point:
        print(json.dumps(sweep_point(args.sweep_point[0], int(args.sweep_point[1]))))
        return 0
    sizes = [s for s in args.sizes.split(",") if s]
    cells = [c for c in args.cells.split(",") if c]
    peers = [p for p in args.peers.split(",") if p]
    repeats, plain_sizes = args.repeats, set(args.plain_sizes.split(","))
    # every option is checked before anything is created or run (--quick used to drop bad sizes)
    p = args._parser
    if bad_comma_list(p, "sizes", sizes, SIZES) or bad_comma_list(p, "cells", cells, CELLS):
        return 2
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(
            f"rnnkit bench: error: --out {out}: cannot create the folder ({e.strerror})",
            file=sys.stderr,
        )
        return 2
    if args.load is not None:
        return load_ratios(args, out)
    warn_if_busy()
    if args.sweep:
        return sweep(args, out)
    import torch

    started = time.perf_counter()
    min_seconds = None
    if args.quick:
        sizes = [s for s in sizes if s in ("seed", "S")] or ["seed"]
        repeats, peers = min(repeats, 3), []
        plain_sizes &= {"seed"}
        min_seconds = QUICK_MIN_TIMED_SECONDS
    env = environment()
    if args.retain_memory:
        from rnnkit.engine import retain_freed_memory

        env["retain_freed_memory"] = retain_freed_memory()
        print(f"freed memory kept for reuse in this process: {env['retain_freed_memory']}")
    print(f"torch {env['torch']}, {env['torch_threads']} threads; engine BLAS: {blas_line(env)}")
    print(
        f"OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']} OPENBLAS_L2_SIZE={env['OPENBLAS_L2_SIZE']}"
    )
    peak = sgemm_peak(torch.get_num_threads(), *((1024, 1) if args.quick else ()))
    print("sgemm 2048^3 GFLOP/s: " + ", ".join(f"{k} {v:.0f}" for k, v in peak.items()))
    compile_s = {} if args.no_compile_cost or args.quick else compile_cost()
    if compile_s:
        print(
            "first fused call of 4 cell kinds (fwd+bwd) in a new process: "
            f"{compile_s['cold_cache_s']:.1f} s with an empty kernel cache, "
            f"{compile_s['warm_cache_s']:.1f} s with the cache filled"
        )
    available = [p for p in peers if peer_available(args.peer_python, p)]
    if peers:
        missing = sorted(set(peers) - set(available))
        print(
            f"peers under {args.peer_python}: {available or 'none'}; skipped: {missing or 'none'}"
        )
    results, skipped = [], []
    for size in sizes:
        for kind in cells:
            if args.quick and time.perf_counter() - started > QUICK_BUDGET_S:
                skipped.append(f"{size} {kind}")
                continue
            impls = bench_one(
                size, kind, repeats, args.plain_repeats, size in plain_sizes, min_seconds
            )
            for p in available:
                impls[p] = bench_peer(args.peer_python, p, size, kind, repeats, args.peer_timeout)
            results.append({"size": size, "cell": kind, "shape": SIZES[size], "impls": impls})
            fb = impls["fused"]["fwdbwd"]
            print(f"{size} {kind}: fused fwd+bwd {fb:.3f} ms, torch {impls['torch']['fwdbwd']:.3f} ms",
                  flush=True)  # fmt: skip
    if skipped:
        print(
            f"rnnkit bench: note: --quick stopped after {QUICK_BUDGET_S:.0f} s; not measured: "
            + ", ".join(skipped),
            file=sys.stderr,
        )
    text = table(results, peak["peak"])
    print(text)
    cmd = command_line()
    doc = {"command": cmd, "environment": env, "sgemm_gflops": peak, "compile_cost": compile_s,
           "results": results, "table": text}  # fmt: skip
    (out / "bench.json").write_text(json.dumps(doc, indent=1))
    chart(results, out / "bench.png", f"rnnkit bench ({env['torch_threads']} threads)")
    print(f"wrote {out / 'bench.json'} and {out / 'bench.png'}")
    return 0


def command_line() -> str:
    """How this run was started, for ``bench.json``."""
    if Path(sys.argv[0]).name == "bench.py":
        return "python benchmarks/bench.py " + " ".join(sys.argv[1:])
    return "python -m rnnkit bench " + " ".join(sys.argv[2:])


def main(argv: list[str] | None = None) -> int:
    """``python benchmarks/bench.py [OPTIONS]``: the options of ``rnnkit bench``."""
    from rnnkit.commands import _HelpFormatter

    parser = argparse.ArgumentParser(
        description="benchmark the fused engine against the plain loop and peers",
        formatter_class=_HelpFormatter,
    )
    configure_parser(parser)
    args = parser.parse_args(argv)
    args._parser = parser
    return int(run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
