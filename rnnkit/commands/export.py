r"""``rnnkit export --checkpoint DIR OUT.onnx``: a trained model as a checked ONNX file.

Loads the model that ``rnnkit train --out DIR`` wrote and exports it with ``torch.onnx.export``
together with the task's normalisation (:class:`rnnkit.training.models.RawUnitsModel`): the ONNX model
takes inputs in the task's original units -- ``(B, 8, 8)`` pixel values 0-16 for digits, ``(B, T, 1)``
sunspot numbers or sine values -- as ``train`` and ``evaluate`` read them, and gives logits (digits) or
values in the original units (sunspot numbers clamped at 0). The recurrent layers become ONNX's own
RNN/LSTM/GRU operators; the batch axis is dynamic, and so is the time axis unless the normalisation is
per step (digits: 8 rows of 8 pixels). The file is then run in onnxruntime on the task's test inputs
and on random inputs of another batch size (and length) and compared with rnnkit, value by value as
``numpy.testing.assert_allclose`` does: ``|onnxruntime - rnnkit| <= atol + rtol * |rnnkit|`` -- a
relative bound for float32, whose rounding grows with the size of the values, and an absolute one for
values near zero. OUT.onnx is written only when every value agrees (written to a temporary file beside
it and renamed, so a failed or interrupted export leaves no file).

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

from rnnkit.commands._options import non_negative_float, path_text

RECURRENT_OPS = ("RNN", "LSTM", "GRU")
CHECK_ROWS = 64  # test inputs run through both rnnkit and onnxruntime
# float32 rounding, relative to the size of each value (a few hundred float32 ulps: the recurrent
# operators sum in another order than torch), and an absolute floor for values near zero
DEFAULT_RTOL = 1e-4
DEFAULT_ATOL = 1e-5


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
        "--rtol",
        type=non_negative_float,
        default=DEFAULT_RTOL,
        help="relative tolerance: every output of onnxruntime must be within atol + rtol * |rnnkit's| "
        "of rnnkit's, as numpy.testing.assert_allclose checks",
    )
    parser.add_argument(
        "--atol",
        type=non_negative_float,
        default=DEFAULT_ATOL,
        help="absolute tolerance (for outputs near zero) of that check",
    )
    parser.epilog = (
        "The ONNX model takes inputs in the task's original units (digits: pixel values 0-16, "
        "sunspots: sunspot numbers) and applies the normalisation training used."
    )


UNITS = {  # what the exported model's input holds
    "sine": "sine values",
    "digits": "pixel values 0-16",
    "sunspots": "sunspot numbers (the output too)",
}


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


def export_onnx(
    model: Any, example: Any, path: str | os.PathLike[str], dynamic_time: bool = True
) -> None:
    """``torch.onnx.export`` of ``model(x)`` for ``x (B, T, I)`` with dynamic B (and T)."""
    import torch

    dims = {0: torch.export.Dim("batch")}
    if dynamic_time:
        dims[1] = torch.export.Dim("time")
    with _quiet():
        torch.onnx.export(
            model, (example,), str(path), dynamic_shapes={"x": dims}, external_data=False
        )


def compare(
    model: Any, session: Any, inputs: list[Any], rtol: float, atol: float
) -> tuple[float, float]:
    """``(largest |onnxruntime - rnnkit|, largest |onnxruntime - rnnkit| / (atol + rtol * |rnnkit|))``
    over every output value for each input ``(B, T, I)``: all agree when the second is at most 1 (the
    check of ``numpy.testing.assert_allclose``). A NaN anywhere makes both NaN."""
    import numpy as np
    import torch

    name = session.get_inputs()[0].name
    worst = ratio = 0.0
    with torch.no_grad():
        for x in inputs:
            want = model(x)
            want = [want] if isinstance(want, torch.Tensor) else list(want)
            got = session.run(None, {name: x.numpy()})
            for g, w in zip(got, want):
                diff = np.abs(g.astype(np.float64) - w.numpy().astype(np.float64))
                if diff.size == 0:
                    continue
                allowed = atol + rtol * np.abs(w.numpy().astype(np.float64))
                with np.errstate(divide="ignore", invalid="ignore"):
                    r = np.where(diff == 0, 0.0, diff / allowed)  # allowed 0: any difference is inf
                worst = max(worst, float(diff.max())) if not np.isnan(diff).any() else float("nan")
                ratio = max(ratio, float(r.max())) if not np.isnan(r).any() else float("nan")
    return worst, ratio


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
    from rnnkit.training.models import RawUnitsModel

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
    model = RawUnitsModel(model, data).to(dtype).eval()  # inputs and outputs in original units
    tests = data.x_test_raw[:CHECK_ROWS].to(dtype)  # (B, T, I)
    B, T, I = tests.shape
    dynamic_time = data.input_mean.shape[0] == 1  # per-step statistics fix T
    other_T = T + 7 if dynamic_time else T
    gen = torch.Generator().manual_seed(0)
    noise = torch.randn(3, other_T, I, generator=gen, dtype=dtype)
    other = data.input_mean + data.input_std * noise  # raw-like values, another batch size (length)

    try:
        fd, tmp = tempfile.mkstemp(prefix=out.name + ".tmp-", dir=out.parent)
    except OSError as e:  # e.g. a read-only or special file system that access() did not see
        return _fail(f"{out}: cannot write in {out.parent} ({e.strerror})")
    os.fchmod(fd, _file_mode())  # as open() would (mkstemp's 0600 would stay after the rename)
    os.close(fd)
    try:
        export_onnx(model, tests[:2], tmp, dynamic_time)
        proto = onnx.load(tmp)
        session = onnxruntime.InferenceSession(tmp, providers=["CPUExecutionProvider"])
        diff, ratio = compare(model, session, [tests, other], args.rtol, args.atol)
        if not ratio <= 1.0:
            return _fail(
                f"onnxruntime differs from rnnkit by up to {diff:.3g}, {ratio:.3g} times what "
                f"--rtol {args.rtol:g} --atol {args.atol:g} allow (atol + rtol * |rnnkit|); "
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
        + f"; input (batch, {'time' if dynamic_time else T}, {I}) in {UNITS[config['task']]}"
    )
    print(
        f"onnxruntime matches rnnkit within --rtol {args.rtol:g} --atol {args.atol:g}: max "
        f"|difference| {diff:.2g} ({ratio:.2g} of the tolerance) on {B} test inputs (T={T}) "
        f"and 3 random inputs (T={other_T})"
    )
    return 0
