"""Running a transcribed program cell by cell, and recording what each cell did.

A file is split at lines ``# %% <label>`` (``cell N``, or ``harness`` for harness plumbing). Each cell
runs in one shared namespace, as in a notebook, and like a notebook's "run all" a failing cell does
not stop the run: the next cells run and usually fail for want of its names. For each cell the
record holds its status (``ok`` / ``error`` / ``skipped``), the error as one line and the line it
came from, the wall time, and the metrics that the cell printed (see :data:`METRICS`). As in a
notebook, the value of a cell's last expression is printed, and every figure is closed after each
cell (IPython's inline backend does that).
"""

from __future__ import annotations

import ast
import builtins
import io
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any

__all__ = ["METRICS", "Cell", "split_cells", "run_cell", "parse_metrics", "run_file"]

_NUM = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)"

#: (metric name, pattern): what the chapter and the programs print. A cell's record keeps the last
#: value of each metric it printed (and all its values under ``series`` when there are several).
METRICS = [
    ("test_accuracy", rf"Test accuracy:\s*{_NUM}"),
    ("last_batch_accuracy", rf"Last batch accuracy:\s*{_NUM}"),
    ("mse", rf"\tMSE:\s*{_NUM}"),
    ("train_mse", rf"Training MSE:\s*{_NUM}"),
    ("nce_loss", rf"Average loss at step\s+\d+\s*:\s*{_NUM}"),
    ("train_loss", rf"Train loss:\s*{_NUM}"),
    ("train_accuracy_pct", rf"Train loss:\s*\S+,\s*accuracy:\s*{_NUM}%"),
    ("val_accuracy_pct", rf"Validation accuracy:\s*{_NUM}%"),
    ("reber_proba_pct", rf"^[BEPSTVX]+:\s*{_NUM}%"),
    ("minibatch_loss", rf"Minibatch Loss=\s*{_NUM}"),
    ("train_accuracy", rf"Training Accuracy=\s*{_NUM}"),
    ("test_accuracy", rf"Testing Accuracy:\s*{_NUM}"),
]


class Cell:
    """One cell: its label (``cell 12``), number (12, or None for harness cells), code and line."""

    def __init__(self, label: str, code: str, first_line: int) -> None:
        self.label = label
        match = re.fullmatch(r"cell (\d+)", label)
        self.number = int(match.group(1)) if match else None
        self.code = code
        self.first_line = first_line  # line of the file where the code starts (1-based)


def split_cells(source: str) -> list[Cell]:
    """The ``# %% <label>`` cells of ``source``; text before the first marker is dropped."""
    cells: list[Cell] = []
    label, start, lines = None, 0, []
    for i, line in enumerate(source.splitlines(), 1):
        match = re.match(r"# %% (.+?)\s*$", line)
        if match:
            if label is not None:
                cells.append(Cell(label, "\n".join(lines), start))
            label, start, lines = match.group(1), i + 1, []
        elif label is not None:
            lines.append(line)
    if label is not None:
        cells.append(Cell(label, "\n".join(lines), start))
    return cells


def parse_metrics(text: str) -> tuple[dict[str, Any], dict[str, list[float]]]:
    """``(last value of each metric, all values of those printed more than once)`` in ``text``."""
    lines = [seg for line in text.split("\n") for seg in line.split("\r")]
    series: dict[str, list[float]] = {}
    for name, pattern in METRICS:
        regex = re.compile(pattern)
        for line in lines:
            for match in regex.finditer(line):
                series.setdefault(name, []).append(float(match.group(1)))
    last = {name: values[-1] for name, values in series.items()}
    return last, {name: values for name, values in series.items() if len(values) > 1}


class _Tee(io.TextIOBase):
    """Collects what a cell prints, and passes it on when ``echo``."""

    def __init__(self, echo: Any | None) -> None:
        self.parts: list[str] = []
        self.echo = echo

    def write(self, s: str) -> int:
        self.parts.append(s)
        if self.echo is not None:
            self.echo.write(s)
            self.echo.flush()
        return len(s)

    def flush(self) -> None:
        if self.echo is not None:
            self.echo.flush()

    def getvalue(self) -> str:
        return "".join(self.parts)


def _compile(cell: Cell, filename: str) -> tuple[Any, Any]:
    """The cell's code objects: all statements, and its last expression (or None) to display."""
    tree = ast.parse(cell.code, filename)
    ast.increment_lineno(tree, cell.first_line - 1)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
        last = compile(last, filename, "eval", dont_inherit=True)
    return compile(tree, filename, "exec", dont_inherit=True), last


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return line if len(line) <= 300 else line[:297] + "..."


def _error_line(exc: BaseException, filename: str) -> int | None:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
    return frames[-1].lineno if frames else None


def _close_figures() -> None:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


def run_cell(cell: Cell, namespace: dict, filename: str, echo: Any | None = None) -> dict:
    """Run one cell in ``namespace``; return its record (see the module docstring)."""
    record: dict[str, Any] = {"cell": cell.number, "label": cell.label, "line": cell.first_line}
    out = _Tee(echo)
    old_stdout = sys.stdout
    start = time.perf_counter()
    try:
        body, last = _compile(cell, filename)
        sys.stdout = out
        exec(body, namespace)
        if last is not None:
            value = eval(last, namespace)
            if value is not None:
                print(repr(value))
        record["status"] = "ok"
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a cell's SystemExit is a failed cell too
        record.update(status="error", error=_one_line(exc), error_line=_error_line(exc, filename))
    finally:
        sys.stdout = old_stdout
        record["seconds"] = round(time.perf_counter() - start, 4)
        _close_figures()
    text = out.getvalue()
    record["metrics"], series = parse_metrics(text)
    if series:
        record["series"] = series
    tail = [s.strip() for line in text.split("\n") for s in line.split("\r")]
    record["output_tail"] = [s[:200] for s in tail if s][-3:]
    return record


def run_file(
    path: Path, cells: set[int] | None = None, echo: Any | None = None, log: Any | None = None
) -> list[dict]:
    """Run every cell of ``path`` (only harness cells and the numbers in ``cells`` when given)."""
    path = Path(path).resolve()
    filename = str(path)
    namespace = {"__name__": "__main__", "__file__": filename, "__builtins__": builtins}
    records = []
    for cell in split_cells(path.read_text()):
        if cells is not None and cell.number is not None and cell.number not in cells:
            records.append(
                {
                    "cell": cell.number,
                    "label": cell.label,
                    "line": cell.first_line,
                    "status": "skipped",
                }
            )
            continue
        if echo is not None:
            echo.write(f"--- {path.name} {cell.label}\n")
        record = run_cell(cell, namespace, filename, echo)
        if log is not None and record["status"] != "ok":
            log.write(f"{path.name} {cell.label}: {record.get('error', '')}\n")
            log.flush()
        records.append(record)
    return records
