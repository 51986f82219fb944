"""Speed of rnnkit's deployment paths; every ratio is measured in the same run.

Shapes: B batch, T steps, I input width, H units (the sizes of ``python -m rnnkit bench``). The model is
one layer ``dynamic_rnn(cell, x (B, T, I), sequence_length)`` with lengths drawn from ``[T/2, T]``,
float32. Implementations are timed in rotation (a few calls each per round) and the best round is
reported (on a shared machine the best round is the least disturbed one; load hits all alike).
``--threads`` sets torch's and onnxruntime's thread counts (default: torch's).

- ``--what infer`` (forward, no gradients): rnnkit eager (the fused engine), the ``torch.export``
  program (``ep.module()``), ``torch.compile`` (inductor) and onnxruntime on the ``torch.onnx.export``
  graph (ONNX's own RNN/LSTM/GRU operators; as many intra-op threads as torch has).
- ``--what train`` (forward + backward of ``sum(outputs)``): eager against ``torch.compile``.
- ``--what dispatch``: the per-call cost of the two ways the CPU engine enters autograd at seed size,
  the ``autograd.Function`` of eager calls against the ``torch.library`` operators used under
  compile/export (why eager calls keep the Function).

Example::

    python benchmarks/bench_deploy.py --what infer,train,dispatch --sizes seed,S,M --out docs/deploy.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import torch

import rnnkit
from rnnkit.engine import autograd as eager_path
from rnnkit.engine import library as op_path

SIZES = {"seed": (4, 2, 3, 5), "S": (32, 100, 32, 64), "M": (64, 200, 128, 256), "L": (64, 100, 512, 1024)}  # fmt: skip
CELLS = {
    "tanh": lambda H, I: rnnkit.BasicRNNCell(H, input_size=I),
    "lstm": lambda H, I: rnnkit.BasicLSTMCell(H, input_size=I),
    "gru": lambda H, I: rnnkit.GRUCell(H, input_size=I),
}


class Layer(torch.nn.Module):
    def __init__(self, cell: rnnkit.RNNCell) -> None:
        super().__init__()
        self.cell = cell

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return rnnkit.dynamic_rnn(self.cell, x, sequence_length=lengths)[0]


def rotate(fns: dict, rounds: int, calls: int) -> dict[str, float]:
    """Best-round ms per call of each function, timed in rotation (``calls`` calls per round)."""
    for fn in fns.values():  # warm up (compiles, caches, allocators)
        for _ in range(3):
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(calls):
                fn()
            times[name].append((time.perf_counter() - t0) / calls * 1e3)
    return {k: min(v) for k, v in times.items()}


def inputs(size: str):
    B, T, I, H = SIZES[size]
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(B, T, I, generator=gen)
    lengths = torch.randint(max(1, T // 2), T + 1, (B,), generator=gen)
    return x, lengths, H, I


def bench_infer(size: str, kind: str, rounds: int, tmp: Path) -> dict[str, float]:
    import onnxruntime as ort

    x, lengths, H, I = inputs(size)
    torch.manual_seed(0)
    model = Layer(CELLS[kind](H, I)).eval()
    ep = torch.export.export(model, (x, lengths)).module()
    torch._dynamo.reset()  # a fresh compile per model (dynamo's recompile limit counts per function)
    compiled = torch.compile(model, fullgraph=True)
    path = tmp / f"{size}_{kind}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x, lengths), str(path), verbose=False)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    # no busy-waiting between runs: spinning workers would steal the cores from the others in rotation
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    feed = dict(zip([i.name for i in sess.get_inputs()], (x.numpy(), lengths.numpy())))
    with torch.no_grad():
        want = model(x, lengths)
        for name, got in (("export", ep(x, lengths)), ("compile", compiled(x, lengths)),
                          ("onnxruntime", torch.from_numpy(sess.run(None, feed)[0]))):  # fmt: skip
            diff = (got - want).abs().max().item()
            assert diff <= 1e-5, f"{name} differs from eager by {diff}"

        def no_grad(fn):
            def call():
                with torch.no_grad():
                    fn()

            return call

        calls = 50 if size == "seed" else 2
        return rotate(
            {
                "eager": no_grad(lambda: model(x, lengths)),
                "export": no_grad(lambda: ep(x, lengths)),
                "compile": no_grad(lambda: compiled(x, lengths)),
                "onnxruntime": lambda: sess.run(None, feed),
            },
            rounds,
            calls,
        )


def bench_train(size: str, kind: str, rounds: int) -> dict[str, float]:
    x, lengths, H, I = inputs(size)
    torch.manual_seed(0)
    model = Layer(CELLS[kind](H, I))
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True)

    def step(m):
        def call():
            m(x, lengths).sum().backward()

        return call

    calls = 50 if size == "seed" else 2
    return rotate({"eager": step(model), "compile": step(compiled)}, rounds, calls)


def bench_dispatch(kind: str, rounds: int) -> dict[str, float]:
    """Seed size, forward+backward of one layer: autograd.Function vs torch.library operator."""
    B, T, I, H = SIZES["seed"]
    torch.manual_seed(0)
    cell = CELLS[kind](H, I)
    x = torch.randn(T, B, I, requires_grad=True)
    lengths = torch.tensor([2, 1, 2, 0])
    state = cell.zero_state(B)

    def through(path):
        def call():
            y, _ = path.run_layers([cell], x, [state], lengths)
            y.sum().backward()

        return call

    return rotate({"function": through(eager_path), "operator": through(op_path)}, rounds, 200)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--what", default="infer,train,dispatch", help="comma list of infer,train,dispatch"
    )
    p.add_argument("--sizes", default="seed,S,M", help="comma list of seed,S,M,L")
    p.add_argument("--cells", default="tanh,lstm,gru", help="comma list of tanh,lstm,gru")
    p.add_argument("--rounds", type=int, default=7, help="timed rounds per implementation")
    p.add_argument("--threads", type=int, default=None, help="torch and onnxruntime threads")
    p.add_argument("--out", default=None, help="write the results as JSON here")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    what = args.what.split(",")
    sizes, cells = args.sizes.split(","), args.cells.split(",")
    tmp = Path(__import__("tempfile").mkdtemp(prefix="rnnkit-bench-deploy-"))
    doc = {"command": "python benchmarks/bench_deploy.py " + " ".join(sys.argv[1:]),
           "torch": torch.__version__, "threads": torch.get_num_threads(), "results": []}  # fmt: skip
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; best-round ms per call")
    if "infer" in what:
        print("\n| size | cell | eager | export | compile | onnxruntime | ORT vs eager |")
        print("|---|---|---|---|---|---|---|")
        for size in sizes:
            for kind in cells:
                r = bench_infer(size, kind, args.rounds, tmp)
                doc["results"].append({"what": "infer", "size": size, "cell": kind, "ms": r})
                print(f"| {size} | {kind} | {r['eager']:.3f} | {r['export']:.3f} | {r['compile']:.3f} "
                      f"| {r['onnxruntime']:.3f} | {r['eager'] / r['onnxruntime']:.2f}x |", flush=True)  # fmt: skip
    if "train" in what:
        print("\n| size | cell | eager fwd+bwd | compile fwd+bwd | compile vs eager |")
        print("|---|---|---|---|---|")
        for size in sizes:
            for kind in cells:
                r = bench_train(size, kind, args.rounds)
                doc["results"].append({"what": "train", "size": size, "cell": kind, "ms": r})
                print(f"| {size} | {kind} | {r['eager']:.3f} | {r['compile']:.3f} "
                      f"| {r['eager'] / r['compile']:.2f}x |", flush=True)  # fmt: skip
    if "dispatch" in what:
        print(
            "\n| cell (seed, fwd+bwd) | autograd.Function | torch.library operator | operator / Function |"
        )
        print("|---|---|---|---|")
        for kind in cells:
            r = bench_dispatch(kind, args.rounds)
            doc["results"].append({"what": "dispatch", "size": "seed", "cell": kind, "ms": r})
            print(f"| {kind} | {r['function']:.3f} | {r['operator']:.3f} "
                  f"| {r['operator'] / r['function']:.2f}x |", flush=True)  # fmt: skip
    if args.out:
        Path(args.out).write_text(json.dumps(doc, indent=1))
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
