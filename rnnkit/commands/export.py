r"""``python -m rnnkit export --checkpoint DIR OUT.onnx``: a trained model as a checked ONNX file.

Loads the model that ``rnnkit train --out DIR`` wrote, exports it with ``torch.onnx.export`` (the
recurrent layers become ONNX's own RNN/LSTM/GRU operators; batch and time axes are dynamic), then runs
the file in onnxruntime on the task's test inputs and on random inputs of another length and compares
with rnnkit. OUT.onnx is written only when every output agrees within ``--atol`` (written to a
temporary file beside it and renamed, so a failed or interrupted export leaves no file).

Needs the ``export`` extra: ``pip install "rnnkit[export]"`` (onnx, onnxruntime, onnxscript).
onnxruntime runs these operators in float32 only.

Example::

    python -m rnnkit train digits --out runs/digits
    python -m rnnkit export --checkpoint runs/digits digits.onnx
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

from rnnkit.commands._options import path_text, positive_float

RECURRENT_OPS = ("RNN", "LSTM", "GRU")
CHECK_ROWS = 64  # test inputs run through both rnnkit and onnxruntime


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Options of the ``export`` command."""
    parser.add_argument(
        "--checkpoint",
        type=path_text,
        required=True,
        metavar="DIR",
        help="a directory written by train --out DIR",
    )
    parser.add_argument("out", type=path_text, metavar="OUT.onnx", help="the ONNX file to write")
    parser.add_argument(
        "--atol",
        type=positive_float,
        default=1e-5,
        help="largest difference allowed between onnxruntime and rnnkit (default 1e-5)",
    )


def _fail(message: str, code: int = 2) -> int:
    print(f"rnnkit export: error: {message}", file=sys.stderr)
    return code


@contextlib.contextmanager
def _quiet():
    """torch.onnx.export's progress lines, warnings and logging, out of the command's output."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(open(os.devnull, "w")) as null:
            warnings.simplefilter("ignore")
            try:
                yield
            finally:
                null.close()
    finally:
        logger.setLevel(level)


def export_onnx(model: Any, example: Any, path: str | os.PathLike[str]) -> None:
    """``torch.onnx.export`` of ``model(x)`` for ``x (B, T, I)`` with dynamic B and T."""
    import torch

    dims = {0: torch.export.Dim("batch"), 1: torch.export.Dim("time")}
    with _quiet():
        torch.onnx.export(
            model, (example,), str(path), dynamic_shapes={"x": dims}, external_data=False
        )


def max_difference(model: Any, session: Any, inputs: list[Any]) -> float:
    """The largest ``|onnxruntime - rnnkit|`` over the outputs for each input ``(B, T, I)``."""
    import numpy as np
    import torch

    name = session.get_inputs()[0].name
    worst = 0.0
    with torch.no_grad():
        for x in inputs:
            want = model(x)
            want = [want] if isinstance(want, torch.Tensor) else list(want)
            got = session.run(None, {name: x.numpy()})
            for g, w in zip(got, want):
                worst = max(worst, float(np.abs(g - w.numpy()).max(initial=0.0)))
    return worst


def run(args: argparse.Namespace) -> int:
    try:
        import onnx
        import onnxruntime
        import onnxscript  # noqa: F401  (torch.onnx.export needs it)
    except ImportError as e:
        return _fail(f"needs the export extra: pip install 'rnnkit[export]' (missing {e.name})")
    import torch

    from rnnkit.training.checkpoint import CheckpointError, load_model
    from rnnkit.training.data import load_task
    from rnnkit.training.files import _file_mode

    out = Path(args.out)
    if not out.parent.is_dir():
        return _fail(f"{out}: the folder {out.parent} does not exist")
    if out.is_dir() or (out.exists() and not out.is_file()):
        return _fail(f"{out}: is a folder or not a regular file; give a file path for the model")
    if not os.access(out.parent, os.W_OK | os.X_OK):
        return _fail(f"{out}: the folder {out.parent} is not writable")
    try:
        model, config = load_model(args.checkpoint, device="cpu")
    except CheckpointError as e:
        return _fail(str(e))
    model.eval()
    dtype = next(model.parameters()).dtype
    data = load_task(config["task"])
    tests = data.x_test[:CHECK_ROWS].to(dtype)  # (B, T, I)
    B, T, I = tests.shape
    gen = torch.Generator().manual_seed(0)
    longer = torch.randn(3, T + 7, I, generator=gen, dtype=dtype)  # another batch size and length

    try:
        fd, tmp = tempfile.mkstemp(prefix=out.name + ".tmp-", dir=out.parent)
    except OSError as e:  # e.g. a read-only or special file system that access() did not see
        return _fail(f"{out}: cannot write in {out.parent} ({e.strerror})")
    os.fchmod(fd, _file_mode())  # as open() would (mkstemp's 0600 would stay after the rename)
    os.close(fd)
    try:
        export_onnx(model, tests[:2], tmp)
        proto = onnx.load(tmp)
        session = onnxruntime.InferenceSession(tmp, providers=["CPUExecutionProvider"])
        diff = max_difference(model, session, [tests, longer])
        if not diff <= args.atol:
            return _fail(
                f"onnxruntime differs from rnnkit by {diff:.3g} (more than --atol {args.atol:g}); "
                f"{out} was not written",
                1,
            )
        os.replace(tmp, out)
    except Exception as e:  # one line whatever torch.onnx or onnxruntime raised
        first = (str(e).strip().splitlines() or [""])[0]
        return _fail(f"exporting {args.checkpoint} failed: {type(e).__name__}: {first}", 1)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
    ops = Counter(n.op_type for n in proto.graph.node if n.op_type in RECURRENT_OPS)
    m = config["model"]
    print(
        f"exported {args.checkpoint} ({m['cell']}, {m['layers']} layer(s)"
        f"{', bidirectional' if m['bidirectional'] else ''}) -> {out} "
        f"({out.stat().st_size / 1024:.0f} KiB)"
    )
    print(
        "recurrent ONNX operators: "
        + ", ".join(f"{k} x{v}" for k, v in sorted(ops.items()))
        + "; dynamic axes: batch, time"
    )
    print(
        f"onnxruntime matches rnnkit: max |difference| {diff:.2g} on {B} test inputs (T={T}) "
        f"and 3 random inputs (T={T + 7})"
    )
    return 0
