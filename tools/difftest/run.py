"""The difftest driver: random TF1 programs run under ``rnnkit.compat.v1`` (here) and under real
TensorFlow (``tf_side.py`` in the TF venv, one process per batch), compared.

    python tools/difftest/run.py --cases 10000 --seed 1000000
    python tools/difftest/run.py --cases 300 --plant tanh      # must report mismatches

Compared: values (float32 rtol = atol = 1e-5), gradients (1e-4), dtypes, static shapes, which
gradients are None, variable names/shapes/dtypes, and the exception's kind and stage (build or run).
Checkpoints cross frameworks both ways: rnnkit writes and TF restores, TF writes and rnnkit restores.
"""

from __future__ import annotations

import argparse
import collections
import copy
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import interp  # noqa: E402
import programs  # noqa: E402

TF_PYTHON = os.environ.get("DIFFTEST_TF_PYTHON", "/root/tfvenv/bin/python")


def run_tf(progs: list[dict], workdir: str, tag: str) -> subprocess.Popen:
    path = os.path.join(workdir, f"{tag}.programs.json")
    with open(path, "w") as f:
        json.dump(progs, f)
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen(
        [TF_PYTHON, os.path.join(HERE, "tf_side.py"), path, os.path.join(workdir, tag), workdir],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def read_tf(proc: subprocess.Popen, workdir: str, tag: str) -> list[dict]:
    _, err = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"the TensorFlow side failed (exit {proc.returncode}):\n{err[-3000:]}")
    with open(os.path.join(workdir, tag + ".json")) as f:
        meta = json.load(f)
    with np.load(os.path.join(workdir, tag + ".npz"), allow_pickle=False) as z:
        for key in z.files:
            i, name = key.split("/", 1)
            meta[int(i)].setdefault("values", {})[name] = z[key]
    for m in meta:
        m.setdefault("values", {})
    return meta


def saver_variants(prog: dict, rs: np.random.RandomState) -> dict[str, dict]:
    """A saver case as four programs: each side writes its checkpoint, then reads the other's
    (sometimes with one variable's dtype changed: both must refuse)."""
    out = {}
    for side in ("rk", "tf"):
        w = copy.deepcopy(prog)
        w.update(mode="write", path=f"{side}/{prog['path']}")
        out[f"write_{side}"] = w
    bad = rs.rand() < 0.2
    for side, other in (("rk", "tf"), ("tf", "rk")):
        r = copy.deepcopy(prog)
        r.update(mode="read", path=f"{other}/{prog['path']}")
        if bad:
            spec = r["inputs"][0]
            spec["dtype"] = {"float32": "float64", "float64": "float32", "int32": "int64",
                             "int64": "int32"}[spec["dtype"]]  # fmt: skip
        out[f"read_{side}"] = r
    return out


def plant(name: str) -> None:
    """Perturb one rnnkit op, to show the tester catches it."""
    import rnnkit.compat.v1 as rtf

    if name == "tanh":
        orig = rtf.tanh
        rtf.tanh = lambda x, name=None: orig(x) * 1.0001  # a 1e-4 relative error
    elif name == "maximum-grad":  # a tie's gradient split half and half between the inputs
        import rnnkit.compat.v1.math_ops as m

        rtf.maximum = lambda x, y, name=None: m._binary(
            "Maximum", lambda a, b: (a + b + (a - b).abs()) / 2, x, y
        )
    else:
        raise SystemExit(f"unknown --plant {name!r}: expected tanh or maximum-grad")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument(
        "--seed", type=int, default=0, help="the first seed (cases use seed, seed+1, ...)"
    )
    ap.add_argument("--area", choices=programs.AREAS, default=None)
    ap.add_argument("--batch", type=int, default=2000, help="programs per TensorFlow process")
    ap.add_argument("--plant", default=None, help="perturb one rnnkit op (tanh, maximum-grad)")
    ap.add_argument("--show", type=int, default=5, help="mismatches printed in full")
    ap.add_argument("--print", type=int, default=None, metavar="SEED", help="print a program")
    args = ap.parse_args(argv)
    if args.print is not None:
        print(interp.as_tf1(programs.program(args.print, args.area)))
        return 0
    import rnnkit.compat.v1 as rtf

    if args.plant:
        plant(args.plant)
    t0 = time.time()
    per_area: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    kinds: collections.Counter = collections.Counter()
    shown = 0
    bad_seeds: list[int] = []
    with tempfile.TemporaryDirectory(prefix="difftest_") as work:
        for d in ("rk", "tf"):
            os.makedirs(os.path.join(work, d))
        seeds = list(range(args.seed, args.seed + args.cases))
        for start in range(0, len(seeds), args.batch):
            batch = seeds[start : start + args.batch]
            cases = []  # (seed, area, rnnkit program(s), tf program(s))
            tf_progs: list[dict] = []
            rk_pre: dict[int, dict] = {}
            for s in batch:
                p = programs.program(s, args.area)
                if p["kind"] == "saver":
                    v = saver_variants(p, np.random.RandomState(s))
                    for d in ("rk", "tf"):
                        os.makedirs(os.path.join(work, d, os.path.dirname(p["path"])),
                                    exist_ok=True)  # fmt: skip
                    rk_pre[s] = interp.run(rtf, v["write_rk"], work)  # written before TF reads
                    cases.append((s, p, v, len(tf_progs)))
                    tf_progs += [v["write_tf"], v["read_tf"]]
                else:
                    cases.append((s, p, None, len(tf_progs)))
                    tf_progs.append(p)
            tag = f"batch{start}"
            proc = run_tf(tf_progs, work, tag)
            rk_results = {s: interp.run(rtf, p, work) for s, p, v, _ in cases if v is None}
            tf_results = read_tf(proc, work, tag)
            for s, p, v, at in cases:
                area = p["area"]
                if v is None:
                    diffs = interp.compare(rk_results[s], tf_results[at])
                    refused = tf_results[at]["error"] is not None
                else:
                    rk_read = interp.run(rtf, v["read_rk"], work)
                    diffs = [f"write: {d}" for d in interp.compare(rk_pre[s], tf_results[at])]
                    diffs += [f"read: {d}" for d in interp.compare(rk_read, tf_results[at + 1])]
                    refused = tf_results[at + 1]["error"] is not None
                c = per_area[area]
                c["cases"] += 1
                c["refused"] += refused
                if diffs:
                    bad_seeds.append(s)
                    c["mismatches"] += 1
                    kinds[(area, diffs[0].split(":")[0])] += 1
                    if shown < args.show:
                        shown += 1
                        print(f"--- MISMATCH seed {s} ({area})")
                        for d in diffs[:4]:
                            print("   ", d[:400])
                        print("    " + interp.as_tf1(v["read_tf"] if v else p).replace(
                            "\n", "\n    "))  # fmt: skip
    total = sum(c["cases"] for c in per_area.values())
    bad = sum(c["mismatches"] for c in per_area.values())
    print(f"difftest: seeds {args.seed}..{args.seed + args.cases - 1}"
          + (f", planted error {args.plant!r}" if args.plant else ""))  # fmt: skip
    for area in programs.AREAS:
        c = per_area.get(area)
        if c:
            print(f"  {area:8s} {c['cases']:6d} cases  {c['refused']:5d} refused by TF  "
                  f"{c['mismatches']:5d} mismatches")  # fmt: skip
    if kinds:
        print("  mismatch kinds (area, first difference):",
              ", ".join(f"{a}/{k} x{n}" for (a, k), n in kinds.most_common(12)))  # fmt: skip
    if bad_seeds:
        print(f"  mismatching seeds: {' '.join(map(str, bad_seeds[:60]))}"
              + (" ..." if len(bad_seeds) > 60 else ""))  # fmt: skip
    print(f"  total    {total:6d} cases, {bad} mismatches ({time.time() - t0:.0f} s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
