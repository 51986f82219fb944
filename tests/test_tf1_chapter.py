"""Acceptance smoke test: the TF1 chapter and the classic TF1 programs run on rnnkit.compat.v1.

Runs ``examples/tf1_chapter14/run.py --backend rnnkit --scale small`` in a subprocess (about a minute):
all 136 cells of the chapter and the three programs must run, and the training cells must print
finite metrics. Accuracy against real TensorFlow is the job of the ``--scale medium`` comparison
(``examples/results/compare.md``), not of this test.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "examples" / "tf1_chapter14" / "run.py"

#: chapter cells that train and print metrics, and what each prints
TRAINING_CELLS = {
    41: "test_accuracy",
    45: "test_accuracy",
    56: "mse",
    65: "mse",
    87: "train_mse",
    94: "test_accuracy",
    114: "nce_loss",
    134: "val_accuracy_pct",
}


@pytest.fixture(scope="module")
def result(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("tf1")
    cmd = [sys.executable, str(RUN), "--backend", "rnnkit", "--scale", "small", "--quiet"]
    cmd += ["--out", str(out), "--work", str(out / "work")]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env, cwd=ROOT)
    path = out / "rnnkit-small.json"
    assert path.is_file(), (
        f"run.py wrote no results (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
    )
    return json.loads(path.read_text())


def test_every_chapter_cell_runs(result: dict) -> None:
    cells = [c for c in result["chapter"]["cells"] if c["cell"] is not None]
    assert [c["cell"] for c in cells] == list(range(1, 137))
    failed = {c["cell"]: c.get("error") for c in result["chapter"]["cells"] if c["status"] != "ok"}
    assert not failed, f"{len(failed)} cells failed: " + "; ".join(
        f"cell {n}: {e}" for n, e in failed.items()
    )


def test_every_program_runs(result: dict) -> None:
    programs = {p["name"]: p for p in result["programs"]}
    assert sorted(programs) == ["bidirectional_rnn", "dynamic_rnn", "recurrent_network"]
    failed = {n: p.get("error") for n, p in programs.items() if p["status"] != "ok"}
    assert not failed, failed
    for name, p in programs.items():
        assert math.isfinite(p["metrics"].get("test_accuracy", math.nan)), name


def test_training_cells_print_finite_metrics(result: dict) -> None:
    cells = {c["cell"]: c for c in result["chapter"]["cells"]}
    for number, metric in TRAINING_CELLS.items():
        value = cells[number].get("metrics", {}).get(metric, math.nan)
        assert math.isfinite(value), f"cell {number} printed no finite {metric}"
