"""The project's TF1 programs (``examples/tf1/``), run unmodified by ``examples/run_all.py --quick``,
which runs each through ``python -m rnnkit tf1`` in a fresh process.

Together they use what the classic TF1 RNN programs use: static_rnn / static_bidirectional_rnn and
dynamic_rnn classifiers (sequence_length, the last valid output by tf.gather), a forecaster
(OutputProjectionWrapper, generation from its own outputs), stacked LSTMCells with dropout and a
Saver round trip, embeddings with contrib.seq2seq.sequence_loss, legacy_seq2seq's
embedding_rnn_seq2seq with feed_previous, skip-gram with nce_loss, and a queue-fed language model
under a Supervisor (range_input_producer, strided_slice, hand unrolling with reused variables,
legacy_seq2seq.sequence_loss_by_example, learning rate by tf.assign, a restart from the
checkpoint). Each must exit 0 and learn (a result well past chance at these short settings).
The runner writes only its two result files under --out and leaves nothing in the temp folder.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # eight training programs, each in its own process

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "examples" / "run_all.py"
PROGRAMS = sorted(p.stem for p in (ROOT / "examples" / "tf1").glob("*.py"))

#: what each program must reach at --quick settings (chance: accuracy 0.1 / 0.5 / 0.33 / 0.1
#: per digit, perplexity 22 / 11 words, mse of predicting zero ~0.22, same topic 11/95)
EXPECTED = {
    "digits_rows": {"test_accuracy": (">", 0.5)},
    "lengths_gru": {"test_accuracy": (">", 0.75), "last_output_is_state": ("==", True)},
    "wave_forecast": {"test_mse": ("<", 0.02), "generated_mse": ("<", 0.2)},
    "stacked_dropout": {"test_accuracy": (">", 0.6), "restored_logits_match": ("==", True)},
    "embed_lm": {"valid_perplexity": ("<", 6.0)},
    "queue_lm": {"valid_perplexity": ("<", 6.0)},
    "reverse_seq2seq": {"digit_accuracy": (">", 0.6)},
    "skipgram": {"nearest_same_topic": (">", 0.5)},
}


def _idx(path: Path, array: np.ndarray, magic: int) -> None:
    with gzip.open(path, "wb") as f:
        f.write(np.array([magic, *array.shape], ">u4").tobytes() + array.astype(np.uint8).tobytes())


def _striped_digits(folder: Path, n_train: int = 5600, n_test: int = 300) -> None:
    """MNIST-shaped IDX files: class k is a bright band at rows 2k+4..2k+5 over noise (the loader
    keeps the first 5,000 training images for validation, as TF1's does)."""
    rng = np.random.default_rng(0)
    folder.mkdir()
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, size=n)
        images = rng.integers(0, 60, size=(n, 28, 28))
        for k in range(10):
            images[labels == k, 2 * k + 4 : 2 * k + 6, 4:24] = 230
        _idx(folder / f"{prefix}-images-idx3-ubyte.gz", images, 2051)
        _idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels, 2049)


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("tf1_programs")
    _striped_digits(base / "mnist")
    temp = base / "tmpdir"
    temp.mkdir()
    examples_before = _tree(ROOT / "examples")
    env = {**os.environ, "TMPDIR": str(temp), "PYTHONPATH": str(ROOT)}
    env["KERAS_HOME"] = str(base / "no_keras")  # only the IDX files: nothing to download
    cmd = [sys.executable, str(RUNNER), "--out", str(base / "out"), "--quick"]
    cmd += ["--mnist", str(base / "mnist")]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=base, env=env, timeout=1800)
    results = base / "out" / "tf1_examples.json"
    assert results.is_file(), f"exit {proc.returncode}:\n{proc.stderr[-4000:]}"
    return {
        "proc": proc,
        "result": json.loads(results.read_text()),
        "base": base,
        "temp": temp,
        "examples_before": examples_before,
    }


def test_every_program_runs_unmodified(run):
    records = {r["name"]: r for r in run["result"]["programs"]}
    assert sorted(records) == PROGRAMS == sorted(EXPECTED)
    failed = {n: r.get("error") for n, r in records.items() if r["status"] != "ok"}
    assert not failed, failed
    assert run["proc"].returncode == 0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_program_learns(run, name):
    record = next(r for r in run["result"]["programs"] if r["name"] == name)
    got = record["results"]
    for key, (op, bound) in EXPECTED[name].items():
        assert key in got, (key, got)
        value = got[key]
        ok = {"<": value < bound, ">": value > bound, "==": value == bound}[op]
        assert ok, f"{name}: {key} = {value}, expected {op} {bound}"


def test_the_runner_writes_only_to_out_and_cleans_its_temporary_files(run):
    base = run["base"]
    assert sorted(p.name for p in (base / "out").iterdir()) == [
        "tf1_examples.json",
        "tf1_examples.md",
    ]
    assert list(run["temp"].iterdir()) == []  # checkpoints, logdirs, caches: all removed
    assert sorted(p.name for p in base.iterdir()) == ["mnist", "out", "tmpdir"]  # not in the cwd
    assert _tree(ROOT / "examples") == run["examples_before"]
    md = (base / "out" / "tf1_examples.md").read_text()
    assert all(f"| {name} | ok |" in md for name in EXPECTED)


def test_the_runner_needs_out_and_skips_digits_without_mnist(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(RUNNER)], capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 2 and "--out" in proc.stderr
    env["KERAS_HOME"] = str(tmp_path / "keras")
    out = tmp_path / "out"
    cmd = [sys.executable, str(RUNNER), "--out", str(out), "--only", "digits_rows"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (record,) = json.loads((out / "tf1_examples.json").read_text())["programs"]
    assert record["status"] == "skipped" and "no MNIST" in record["reason"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
