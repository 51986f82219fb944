"""The TF1 harness of examples/: transcriptions, cell runner, metrics, local data, input_data."""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
sys.path.insert(0, str(EXAMPLES))

import tf1_harness  # noqa: E402
from tf1_harness import data, input_data, runner  # noqa: E402

CHAPTER = EXAMPLES / "tf1_chapter14" / "chapter14.py"
PROGRAMS = [
    EXAMPLES / "tf1_programs" / f"{n}.py"
    for n in ("recurrent_network", "bidirectional_rnn", "dynamic_rnn")
]


# --------------------------------------------------------------------------------------------
# The transcriptions
# --------------------------------------------------------------------------------------------


def test_chapter_has_the_136_notebook_cells_in_order() -> None:
    cells = runner.split_cells(CHAPTER.read_text())
    numbers = [c.number for c in cells if c.number is not None]
    assert numbers == list(range(1, 137))
    assert [c.label for c in cells if c.number is None] == ["harness"]


def test_chapter_changes_only_imports_magics_and_loop_counts() -> None:
    source = CHAPTER.read_text()
    code_lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith("#")]
    assert not [ln for ln in code_lines if ln.lstrip().startswith("%")], "an IPython magic is left"
    assert not [ln for ln in code_lines if re.match(r"\s*import tensorflow", ln)]
    imports = [ln for ln in code_lines if ln.startswith("from tf1_harness import tf  # was:")]
    assert len(imports) == 3  # cells 2, 78 and 118 imported tensorflow
    cells = {c.number: c.code for c in runner.split_cells(source) if c.number}
    scaled = sorted(n for n, code in cells.items() if "scaled(" in code)
    assert scaled == [41, 45, 56, 65, 87, 94, 114, 117, 134]
    for n in scaled:  # the original count is the first argument
        assert re.search(
            r"scaled\((100|10|1500|10001|5000|50), small=\d+, medium=\d+\)", cells[n]
        ), n
    assert "fetch_words_data" in cells[97] and "urlretrieve(words_url, zip_path)" in cells[97]
    assert "tf.keras.datasets.mnist.load_data()" in cells[38]


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.stem)
def test_programs_change_only_imports_and_step_count(path: Path) -> None:
    source = path.read_text()
    assert "from tf1_harness import tf  # was: import tensorflow as tf" in source
    assert not re.search(r"^\s*(import|from) tensorflow", source, re.M)
    assert re.search(r"^training_steps = scaled\(10000, small=\d+, medium=\d+\)", source, re.M)
    if "read_data_sets" in source:
        assert "from tf1_harness import input_data  # was:" in source


# --------------------------------------------------------------------------------------------
# The cell runner
# --------------------------------------------------------------------------------------------


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prog.py"
    path.write_text(text)
    return path


def test_run_file_records_status_error_line_display_and_metrics(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "# %% cell 1\nx = 41\n# %% cell 2\nx + 1\n"
        "# %% cell 3\nprint(0, 'Last batch accuracy:', 0.5, 'Test accuracy:', 0.25)\n"
        "print(1, 'Last batch accuracy:', 0.75, 'Test accuracy:', 0.5)\n"
        "# %% cell 4\n\ny = 1\nraise ValueError('bad value\\nsecond line')\n# %% cell 5\nz = y + x\n",
    )
    records = runner.run_file(path)
    assert [r["status"] for r in records] == ["ok", "ok", "ok", "error", "ok"]
    # a cell's last expression is shown, as in a notebook
    assert records[1]["output_tail"] == ["42"]
    assert records[2]["metrics"] == {"test_accuracy": 0.5, "last_batch_accuracy": 0.75}
    assert records[2]["series"]["test_accuracy"] == [0.25, 0.5]
    assert records[3]["error"] == "ValueError: bad value"
    assert records[3]["error_line"] == 11  # the line in the file, not in the cell
    assert records[4]["status"] == "ok"  # y was set before the error, as in a notebook


def test_run_file_skips_unselected_cells(tmp_path: Path) -> None:
    path = _file(tmp_path, "# %% cell 1\na = 1\n# %% cell 2\nb = 2\n# %% harness\nc = 3\n")
    records = runner.run_file(path, cells={2})
    assert [r["status"] for r in records] == ["skipped", "ok", "ok"]


def test_a_failing_cell_does_not_leave_stdout_redirected(tmp_path: Path) -> None:
    before = sys.stdout
    runner.run_file(_file(tmp_path, "# %% cell 1\nprint('x')\n1 / 0\n"))
    assert sys.stdout is before


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("100 \tMSE: 0.6994402", {"mse": 0.6994402}),
        ("200 Training MSE: 3.2e-01", {"train_mse": 0.32}),
        ("\rIteration: 2000\tAverage loss at step  2000 :  152.5", {"nce_loss": 152.5}),
        (
            "   9  Train loss: 0.1505, accuracy: 96.00%  Validation accuracy: 94.60%",
            {"train_loss": 0.1505, "train_accuracy_pct": 96.0, "val_accuracy_pct": 94.6},
        ),
        ("BPBTSSSSSSSXXTTVPXVPXTTTTTVVETE: 99.61%", {"reber_proba_pct": 99.61}),
        (
            "Step 200, Minibatch Loss= 2.2360, Training Accuracy= 0.164",
            {"minibatch_loss": 2.236, "train_accuracy": 0.164},
        ),
        ("Testing Accuracy: 0.3671875", {"test_accuracy": 0.3671875}),
        ("Saving figure time_series_plot", {}),
    ],
)
def test_parse_metrics(line: str, expected: dict) -> None:
    assert runner.parse_metrics(line)[0] == pytest.approx(expected)


# --------------------------------------------------------------------------------------------
# Scales, local data and the input_data stand-in
# --------------------------------------------------------------------------------------------


def test_scaled_and_configure() -> None:
    tf1_harness.configure(scale_name="small")
    assert tf1_harness.scaled(100, small=1, medium=3) == 1
    tf1_harness.configure(scale_name="full")
    assert tf1_harness.scaled(100, small=1, medium=3) == 100
    tf1_harness.configure(scale_name="small")
    with pytest.raises(ValueError, match="scale must be one of"):
        tf1_harness.configure(scale_name="huge")
    with pytest.raises(ValueError, match="backend must be"):
        tf1_harness.configure(backend="torch")


def test_mnist_like_data_has_mnist_dtypes_and_is_deterministic(tmp_path, monkeypatch) -> None:
    d = data.make_mnist(n_train=60, n_test=20, seed=3)
    assert {k: (v.shape, v.dtype) for k, v in d.items()} == {
        "x_train": ((60, 28, 28), np.uint8),
        "y_train": ((60,), np.uint8),
        "x_test": ((20, 28, 28), np.uint8),
        "y_test": ((20,), np.uint8),
    }
    assert d["x_train"].max() > 200 and d["x_train"][:, 0].mean() < 2  # digits inside a blank frame
    assert set(np.unique(d["y_train"])) <= set(range(10))
    again = data.make_mnist(n_train=60, n_test=20, seed=3)
    assert all(np.array_equal(d[k], again[k]) for k in d)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    data.write_mnist_npz(tmp_path / "datasets" / "mnist.npz", 60, 20, seed=3)
    from tf1_harness.backend import load_local_mnist

    (x_train, y_train), (x_test, y_test) = load_local_mnist()
    assert np.array_equal(x_train, d["x_train"]) and np.array_equal(y_test, d["y_test"])
    with pytest.raises(ValueError, match="n_train and n_test must be positive"):
        data.make_mnist(n_train=0)


def test_words_zip_reads_like_text8(tmp_path: Path) -> None:
    path = data.write_words_zip(tmp_path / "words.zip", n_tokens=20000, n_types=5000, seed=1)
    with zipfile.ZipFile(path) as f:  # what the chapter's fetch_words_data does
        words = f.read(f.namelist()[0]).decode("ascii").split()
    assert len(words) >= 20000 and all(w.isalpha() and w.islower() for w in words)
    corpus = data.make_corpus(n_tokens=20000, n_types=5000, seed=1)
    assert len(set(corpus)) == 5000  # every type occurs
    assert corpus == data.make_corpus(n_tokens=20000, n_types=5000, seed=1)


def test_input_data_next_batch_walks_epochs_like_tf1(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    data.write_mnist_npz(tmp_path / "datasets" / "mnist.npz", 15, 5, seed=0)
    np.random.seed(0)
    mnist = input_data.read_data_sets("/unused/", one_hot=True, validation_size=5)
    train = mnist.train
    assert train.images.shape == (10, 784) and train.images.dtype == np.float32
    assert train.labels.shape == (10, 10) and train.labels.dtype == np.float64
    assert 0.0 <= train.images.min() and train.images.max() <= 1.0
    assert mnist.validation.num_examples == 5 and mnist.test.num_examples == 5
    rows = [tuple(r) for r in train.images]
    seen = []
    for _ in range(2):
        x, y = train.next_batch(4)
        seen += [tuple(r) for r in x]
    x, y = train.next_batch(4)  # crosses the end of the first epoch: 2 old + 2 of the next
    assert x.shape == (4, 784) and y.shape == (4, 10)
    seen += [tuple(r) for r in x[:2]]
    assert sorted(seen) == sorted(rows)  # the first epoch shows every example once
    assert train.epochs_completed == 1
    with pytest.raises(ValueError, match="batch_size"):
        train.next_batch(11)
