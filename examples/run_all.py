"""Run every TF1 program of ``examples/tf1/`` through ``python -m rnnkit tf1`` and record the results.

    python examples/run_all.py --out results/                  # the programs' own settings
    python examples/run_all.py --out results/ --quick          # short runs: do they all work?
    python examples/run_all.py --out results/ --mnist MNIST_data

Each program runs in a fresh process, in a temporary folder that also serves as its TMPDIR (its
checkpoints and anything else it writes go there); the folder is removed afterwards, whatever
happened. The only files written are ``<out>/tf1_examples.json`` and ``<out>/tf1_examples.md``:
per program its exit status, wall time, the ``final NAME VALUE`` lines it printed, and the end of
its error output when it failed. ``digits_rows.py`` needs MNIST: ``--mnist DIR`` (TF1's four IDX
files), else Keras's ``mnist.npz`` when it is already in the Keras cache; without either it is
skipped (this runner downloads nothing). Exit status 0 when every program that ran succeeded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "tf1"
RESULTS = "tf1_examples"

#: per program: arguments of a short run (--quick)
QUICK = {
    "digits_rows": ["--steps", "60", "--units", "32", "--batch_size", "50"],
    "embed_lm": ["--epochs", "2", "--sentences", "800"],
    "lengths_gru": ["--steps", "300"],
    "queue_lm": ["--epochs", "2"],
    "reverse_seq2seq": ["--steps", "400"],
    "skipgram": ["--steps", "500"],
    "stacked_dropout": ["--steps", "60", "--layers", "2"],
    "wave_forecast": ["--steps", "200"],
}
_FINAL = re.compile(r"^final (\w+) (\S+)$")


def _value(text: str) -> float | bool | str:
    if text in ("True", "False"):
        return text == "True"
    try:
        return float(text)
    except ValueError:
        return text


def _keras_mnist() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets" / "mnist.npz"


def _arguments(name: str, work: Path, args: argparse.Namespace) -> list[str] | str:
    """The program's command-line arguments, or why it is skipped."""
    extra = list(QUICK.get(name, [])) if args.quick else []
    if name == "digits_rows":
        if args.mnist is not None:
            extra += ["--data_dir", str(args.mnist.resolve())]
        elif _keras_mnist().is_file():
            extra += ["--data_dir", str(work / "no_idx_files")]  # input_data reads Keras's file
        else:
            return (
                f"no MNIST: give --mnist DIR (TF1's IDX files) or put Keras's mnist.npz at "
                f"{_keras_mnist()}"
            )
    if name == "stacked_dropout":
        extra += ["--model_dir", str(work / "model")]
    if name == "queue_lm":
        extra += ["--logdir", str(work / "logdir")]
    return extra


def run_program(path: Path, args: argparse.Namespace) -> dict:
    name = path.stem
    record: dict = {"name": name, "file": f"examples/tf1/{path.name}"}
    with tempfile.TemporaryDirectory(prefix=f"rnnkit-{name}-") as tmp:
        work = Path(tmp)
        arguments = _arguments(name, work, args)
        if isinstance(arguments, str):
            return {**record, "status": "skipped", "reason": arguments}
        (work / "tmp").mkdir()
        env = {**os.environ, "TMPDIR": str(work / "tmp"), "MPLBACKEND": "Agg"}
        cmd = [sys.executable, "-m", "rnnkit", "tf1", str(path), *arguments]
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd, cwd=work, env=env, capture_output=True, text=True, timeout=args.timeout
            )
        except subprocess.TimeoutExpired:
            return {**record, "status": "error", "error": f"timed out after {args.timeout} s"}
        seconds = time.perf_counter() - start
    finals = {}
    for line in proc.stdout.splitlines():
        match = _FINAL.match(line.strip())
        if match:
            finals[match.group(1)] = _value(match.group(2))
    record.update(
        status="ok" if proc.returncode == 0 else "error",
        exit_code=proc.returncode,
        seconds=round(seconds, 2),
        arguments=arguments,
        results=finals,
    )
    if proc.returncode != 0:
        record["error"] = proc.stderr.strip().splitlines()[-20:]
    return record


def markdown(result: dict) -> str:
    lines = [
        "# TF1 example programs on rnnkit",
        "",
        f"{result['rnnkit']}; {result['machine']}; {'quick' if result['quick'] else 'full'} "
        f"settings; load average {result['load_average'][0]} -> {result['load_average'][1]}.",
        "",
        "| program | status | time (s) | results |",
        "|---|---|---:|---|",
    ]
    for r in result["programs"]:
        shown = ", ".join(f"{k}={v}" for k, v in r.get("results", {}).items())
        if r["status"] != "ok":
            shown = r.get("reason") or " / ".join(r.get("error", [])[-1:])
        lines.append(
            f"| {r['name']} | {r['status']} | {r.get('seconds', '')} | {shown.replace('|', '/')} |"
        )
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="examples/run_all.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for tf1_examples.json / .md"
    )
    parser.add_argument("--quick", action="store_true", help="short runs (see QUICK)")
    parser.add_argument("--mnist", type=Path, help="folder with TF1's four MNIST IDX files")
    parser.add_argument("--only", help="comma-separated program names (default: all)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per program")
    args = parser.parse_args(argv)
    programs = sorted(PROGRAMS.glob("*.py"))
    if args.only:
        wanted = [n.strip() for n in args.only.split(",")]
        unknown = sorted(set(wanted) - {p.stem for p in programs})
        if unknown:
            parser.error(
                f"--only: no program {unknown}; expected some of {[p.stem for p in programs]}"
            )
        programs = [p for p in programs if p.stem in wanted]
    if args.mnist is not None and not args.mnist.is_dir():
        parser.error(f"--mnist: {args.mnist} is not a folder")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out: {args.out} exists and is not a folder")

    import platform

    import rnnkit

    load_before = os.getloadavg()[0]
    records = []
    for path in programs:
        record = run_program(path, args)
        records.append(record)
        shown = record.get("results") or record.get("reason") or record.get("error", [""])[-1]
        print(f"{record['name']}: {record['status']} {shown}", file=sys.stderr)
    result = {
        "rnnkit": f"rnnkit {rnnkit.__version__}",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "quick": args.quick,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "programs": records,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    _write(args.out / f"{RESULTS}.json", json.dumps(result, indent=1) + "\n")
    _write(args.out / f"{RESULTS}.md", markdown(result))
    print(f"wrote {args.out / RESULTS}.json and .md", file=sys.stderr)
    return 0 if all(r["status"] != "error" for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
