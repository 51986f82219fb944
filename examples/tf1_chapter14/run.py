"""Run the transcribed chapter 14 and the classic TF1 RNN programs on one backend; record each cell.

    python examples/tf1_chapter14/run.py --backend rnnkit                     # small scale, ~1 min
    /work/tfvenv/bin/python examples/tf1_chapter14/run.py --backend tensorflow --scale medium \\
        --extra-site /path/to/a/venv/lib/python3.11/site-packages   # if that venv lacks sklearn/matplotlib

Writes ``<out>/<backend>.json`` and ``.md`` (``<backend>-<scale>.*`` unless the scale is ``medium``,
the reference scale), and, when ``<out>`` holds real TensorFlow's results at the same scale,
``<out>/compare[-<scale>].md`` side by side. The exit status is 0 when every cell and program ran.

Steps: write the local data for the scale (cached under ``--work``: ``mnist.npz`` in a KERAS_HOME
folder, and the text8-like ``words.zip``), empty and enter the run folder ``<work>/run-<backend>-
<scale>`` (figures, checkpoints and ``datasets/words/words.zip`` go there, as the notebook's
working directory), run the chapter's cells in one namespace, then each program in a fresh namespace
after ``tf.reset_default_graph()`` and seeding ``tf.set_random_seed(0)``, ``random`` and NumPy (the
programs set no seed; this makes each run repeatable, as a fresh process per program would not).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1]
CHAPTER = EXAMPLES / "tf1_chapter14" / "chapter14.py"
PROGRAMS_DIR = EXAMPLES / "tf1_programs"
PROGRAMS = ["recurrent_network", "bidirectional_rnn", "dynamic_rnn"]
DATA_VERSION = 1  # bump when tf1_harness/data.py changes what it writes


def _cell_set(spec: str | None) -> set[int] | None:
    """``"1-41,56"`` -> {1, ..., 41, 56}."""
    if not spec:
        return None
    out: set[int] = set()
    for part in spec.split(","):
        lo, _, hi = part.strip().partition("-")
        try:
            out.update(range(int(lo), int(hi or lo) + 1))
        except ValueError:
            raise SystemExit(
                f"--cells: expected numbers and ranges like 1-41,56, got {spec!r}"
            ) from None
    return out


def _prepare_data(work: Path, scale) -> tuple[Path, Path]:
    """The cached KERAS_HOME folder and words.zip for ``scale`` (written when missing)."""
    from tf1_harness import data

    keras = work / f"keras-{scale.mnist_train}-{scale.mnist_test}-v{DATA_VERSION}"
    mnist = keras / "datasets" / "mnist.npz"
    if not mnist.is_file():
        print(f"writing {mnist}", file=sys.stderr)
        data.write_mnist_npz(mnist, scale.mnist_train, scale.mnist_test)
    words = work / f"words-{scale.corpus_tokens}-v{DATA_VERSION}.zip"
    if not words.is_file():
        print(f"writing {words}", file=sys.stderr)
        data.write_words_zip(words, scale.corpus_tokens)
    return keras, words


def _backend_version(name: str) -> str:
    if name == "tensorflow":
        import tensorflow

        return f"tensorflow {tensorflow.__version__} (tf.compat.v1, graph mode, tf-keras)"
    import subprocess

    import torch

    import rnnkit

    source = Path(rnnkit.__file__).resolve().parents[1]
    git = subprocess.run(
        ["git", "-C", str(source), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    commit = f" at {git.stdout.strip()}" if git.returncode == 0 else ""
    return (
        f"rnnkit {getattr(rnnkit, '__version__', '?')} (rnnkit.compat.v1) from {source}{commit}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )


def _run_program(name: str, tf, echo, log) -> dict:
    import numpy as np
    from tf1_harness.runner import Cell, run_cell

    path = PROGRAMS_DIR / f"{name}.py"
    tf.reset_default_graph()
    tf.set_random_seed(0)
    random.seed(0)
    np.random.seed(0)
    namespace = {"__name__": "__main__", "__file__": str(path), "__builtins__": __builtins__}
    if echo is not None:
        echo.write(f"--- {path.name}\n")
    record = run_cell(Cell("program", path.read_text(), 1), namespace, str(path), echo)
    record.pop("cell"), record.pop("label"), record.pop("line")
    if record["status"] != "ok":
        log.write(f"{path.name}: {record.get('error', '')}\n")
    return {"name": name, "file": str(path.relative_to(EXAMPLES.parent)), **record}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backend", required=True, choices=["rnnkit", "tensorflow"])
    p.add_argument("--scale", default="small", choices=["small", "medium", "full"])
    p.add_argument(
        "--out", type=Path, default=EXAMPLES / "results", help="folder for the JSON/markdown"
    )
    p.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "rnnkit-tf1",
        help="folder for the data cache and the run folder (default: %(default)s)",
    )
    p.add_argument("--only", choices=["all", "chapter", "programs"], default="all")
    p.add_argument("--cells", help="run only these chapter cells, e.g. 1-41,56 (others: skipped)")
    p.add_argument("--programs", help=f"comma list from {PROGRAMS} (default: all)")
    p.add_argument(
        "--extra-site", action="append", default=[], help="append a site-packages folder"
    )
    p.add_argument("--quiet", action="store_true", help="do not echo what the cells print")
    args = p.parse_args(argv)

    start = time.perf_counter()
    load_before = os.getloadavg()[0]
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sys.path.insert(0, str(EXAMPLES))
    sys.path.extend(str(Path(d).resolve()) for d in args.extra_site)
    os.environ["MPLBACKEND"] = "Agg"
    import tf1_harness
    from tf1_harness import report, runner

    tf1_harness.configure(backend=args.backend, scale_name=args.scale)
    programs = PROGRAMS if not args.programs else [s.strip() for s in args.programs.split(",")]
    for name in programs:
        if name not in PROGRAMS:
            p.error(f"--programs: unknown program {name!r}; expected some of {PROGRAMS}")
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    keras, words = _prepare_data(work, tf1_harness.scale())
    os.environ["KERAS_HOME"] = str(keras)
    run_dir = work / f"run-{args.backend}-{args.scale}"
    shutil.rmtree(run_dir, ignore_errors=True)  # no checkpoint of an earlier run may be restored
    (run_dir / "datasets" / "words").mkdir(parents=True)
    shutil.copyfile(words, run_dir / "datasets" / "words" / "words.zip")
    data_seconds = time.perf_counter() - start

    t0 = time.perf_counter()
    tf = tf1_harness.tf
    import_seconds = time.perf_counter() - t0
    echo = None if args.quiet else sys.stdout
    log = sys.stderr
    cwd = os.getcwd()
    os.chdir(run_dir)
    try:
        t0 = time.perf_counter()
        cells = []
        if args.only in ("all", "chapter"):
            cells = runner.run_file(CHAPTER, _cell_set(args.cells), echo=echo, log=log)
        chapter_seconds = time.perf_counter() - t0
        progs = []
        if args.only in ("all", "programs"):
            progs = [_run_program(name, tf, echo, log) for name in programs]
    finally:
        os.chdir(cwd)

    result = {
        "backend": args.backend,
        "backend_version": _backend_version(args.backend),
        "scale": args.scale,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "started": started,
        # 1-minute load average of the machine before and after: timings on a shared machine
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "data_seconds": round(data_seconds, 2),
        "import_seconds": round(import_seconds, 2),
        "total_seconds": round(time.perf_counter() - start, 2),
        "chapter": {
            "file": str(CHAPTER.relative_to(EXAMPLES.parent)),
            "seconds": round(chapter_seconds, 2),
            "cells": cells,
        },
        "programs": progs,
    }
    suffix = "" if args.scale == "medium" else f"-{args.scale}"
    out = args.out
    report.write_json(out / f"{args.backend}{suffix}.json", result)
    (out / f"{args.backend}{suffix}.md").write_text(report.markdown(result))
    ref_path = out / f"tensorflow{suffix}.json"
    if args.backend != "tensorflow" and ref_path.is_file():
        import json

        ref = json.loads(ref_path.read_text())
        (out / f"compare{suffix}.md").write_text(report.compare_markdown(ref, result))
    ran = [r for r in cells if r["status"] != "skipped" and r["cell"] is not None]
    n_ok = sum(r["status"] == "ok" for r in ran)
    p_ok = sum(r["status"] == "ok" for r in progs)
    harness_ok = all(r["status"] == "ok" for r in cells if r["cell"] is None)
    print(
        f"\n{args.backend} @ {args.scale}: chapter {n_ok}/{len(ran)} cells ok, programs {p_ok}/"
        f"{len(progs)} ok, {result['total_seconds']:.1f} s; wrote {out / (args.backend + suffix)}.json/.md",
        file=sys.stderr,
    )
    return 0 if n_ok == len(ran) and p_ok == len(progs) and harness_ok else 1


if __name__ == "__main__":
    sys.exit(main())
