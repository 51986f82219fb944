"""Sequence models of the ``train`` command, built from rnnkit cells and ``dynamic_rnn``.

Shapes: B batch, T time, I input features, H units, O outputs, D directions (1 or 2).

``SequenceModel`` runs a stack of ``layers`` cells (a ``MultiRNNCell`` when ``layers > 1``) over a
batch-major input ``(B, T, I)`` with :func:`rnnkit.dynamic_rnn` -- or, when bidirectional, a forward and
a backward stack with :func:`rnnkit.bidirectional_dynamic_rnn` -- then a linear head:

- ``per_step=True``: ``head(outputs)`` at every step, ``(B, T, O)`` (sequence-to-sequence);
- ``per_step=False``: ``head([h_fw(T-1), h_bw(0)])``, ``(B, O)`` (one answer per sequence).

The cells are built eagerly (``input_size`` given), so the parameters exist before an optimizer or
DistributedDataParallel wraps the model.

Example::

    model = build_model({"cell": "gru", "units": 32, "layers": 1, "bidirectional": False,
                         "input_size": 8, "output_size": 10, "per_step": False})
    logits = model(torch.randn(4, 8, 8))  # (4, 10)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rnnkit.cells import BasicRNNCell, GRUCell, LSTMCell, RNNCell
from rnnkit.runners import bidirectional_dynamic_rnn, dynamic_rnn
from rnnkit.wrappers import MultiRNNCell

CELL_TYPES: dict[str, type[RNNCell]] = {"rnn": BasicRNNCell, "lstm": LSTMCell, "gru": GRUCell}

_MODEL_KEYS: dict[str, type] = {
    "cell": str,
    "units": int,
    "layers": int,
    "bidirectional": bool,
    "input_size": int,
    "output_size": int,
    "per_step": bool,
}


def check_model_config(config: dict[str, Any]) -> dict[str, Any]:
    """Validate a model config (the ``"model"`` entry of ``config.json``); returns a clean copy."""
    out: dict[str, Any] = {}
    for key, kind in _MODEL_KEYS.items():
        if key not in config:
            raise ValueError(f"missing model setting `{key}`")
        value = config[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(f"model setting `{key}` should be {kind.__name__}, got {value!r}")
        if kind is int and value <= 0:
            raise ValueError(f"model setting `{key}` should be positive, got {value}")
        out[key] = value
    if out["cell"] not in CELL_TYPES:
        raise ValueError(
            f"model setting `cell` should be one of {list(CELL_TYPES)}, got {out['cell']!r}"
        )
    return out


def _stack(cell: str, units: int, layers: int, input_size: int) -> RNNCell:
    make = CELL_TYPES[cell]
    cells = [make(units, input_size=input_size if k == 0 else units) for k in range(layers)]
    return cells[0] if layers == 1 else MultiRNNCell(cells)


class SequenceModel(nn.Module):
    """Recurrent stack(s) + linear head; see the module docstring for the shapes."""

    def __init__(
        self,
        cell: str,
        units: int,
        layers: int,
        bidirectional: bool,
        input_size: int,
        output_size: int,
        per_step: bool,
    ) -> None:
        super().__init__()
        if bidirectional and per_step:
            raise ValueError("a per-step (sequence-to-sequence) model cannot be bidirectional")
        self.per_step = per_step
        self.fw = _stack(cell, units, layers, input_size)
        self.bw = _stack(cell, units, layers, input_size) if bidirectional else None
        self.head = nn.Linear(units * (2 if bidirectional else 1), output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (B, T, I)`` -> ``(B, T, O)`` when per_step else ``(B, O)``."""
        if self.bw is None:
            out, _ = dynamic_rnn(self.fw, x, dtype=x.dtype)  # (B, T, H)
            if self.per_step:
                return self.head(out)  # (B, T, O)
            return self.head(out[:, -1])  # (B, O)
        (out_fw, out_bw), _ = bidirectional_dynamic_rnn(self.fw, self.bw, x, dtype=x.dtype)
        last = torch.cat(
            [out_fw[:, -1], out_bw[:, 0]], dim=1
        )  # (B, 2H): each direction's last step
        return self.head(last)  # (B, O)


class RawUnitsModel(nn.Module):
    """A trained model that takes inputs and gives outputs in the task's original units: the
    normalisation training used is applied first, and regression outputs are mapped back (and clamped
    at the smallest value the units allow), as ``evaluate`` reports them. This is what ``export``
    writes, so an ONNX model takes raw inputs (pixel values 0-16, sunspot numbers).

    ``x (B, T, I)`` in original units -> the model's output: logits ``(B, O)`` for classification,
    values in original units for regression.
    """

    def __init__(self, model: nn.Module, data: Any) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("input_mean", data.input_mean.clone())  # (T, I) or (1, 1)
        self.register_buffer("input_std", data.input_std.clone())
        self.regression = data.kind != "classification"
        self.target_mean, self.target_std = float(data.target_mean), float(data.target_std)
        self.target_min = data.target_min

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model((x - self.input_mean) / self.input_std)
        if not self.regression:
            return out  # logits
        out = out * self.target_std + self.target_mean
        return out if self.target_min is None else out.clamp(min=self.target_min)


def task_model_config(task: str, run: dict[str, Any]) -> dict[str, Any]:
    """The model config of ``task`` trained with the run options ``run`` (cell, units, layers,
    bidirectional); ValueError if they do not fit the task (a per-step task is never bidirectional)."""
    from rnnkit.training.data import TASK_MODEL_SHAPES

    config = {k: run[k] for k in ("cell", "units", "layers", "bidirectional")}
    config.update(TASK_MODEL_SHAPES[task])
    if config["bidirectional"] and config["per_step"]:
        raise ValueError(
            f"a model of task {task!r} cannot be bidirectional (it predicts every step)"
        )
    return check_model_config(config)


def meta_model(config: dict[str, Any]) -> SequenceModel:
    """A model of ``config`` on the meta device: its tensors' names, shapes and dtypes without
    allocating memory (to check a file against before building anything)."""
    with torch.device("meta"):
        return build_model(config)


def build_model(config: dict[str, Any]) -> SequenceModel:
    """A fresh :class:`SequenceModel` from a model config (see :func:`check_model_config`)."""
    c = check_model_config(config)
    return SequenceModel(
        c["cell"],
        c["units"],
        c["layers"],
        c["bidirectional"],
        c["input_size"],
        c["output_size"],
        c["per_step"],
    )
