"""What the engine's CPU and CUDA paths share: which cells they run, the input guard, and the walk
between a (possibly stacked) cell's state and its per-layer states.

Imports only the library core below the engine (cells, wrappers, validation).
"""

from __future__ import annotations

from typing import Any

import torch

from rnnkit._validation import invalid_type, invalid_value
from rnnkit.cells import BasicLSTMCell, BasicRNNCell, GRUCell, LSTMCell, LSTMStateTuple
from rnnkit.wrappers import MultiRNNCell

FLOAT_DTYPES = (torch.float32, torch.float64)


def cell_kind(cell: Any) -> str | None:
    t = type(cell)
    if t is BasicRNNCell:
        return {"tanh": "tanh", "relu": "relu"}.get(cell.activation_name)
    if t is BasicLSTMCell:
        return "lstm"
    if t is LSTMCell:
        return "lstmp" if cell.use_peepholes else "lstm"
    if t is GRUCell:
        return "grur" if cell.reset_after else "gru"
    return None


def layer_cells(cell: Any) -> list[Any] | None:
    """The flat list of supported layer cells, or None if any part is unsupported."""
    if type(cell) is MultiRNNCell:
        out: list[Any] = []
        for c in cell.cells:
            sub = layer_cells(c)
            if sub is None:
                return None
            out.extend(sub)
        return out
    return [cell] if cell_kind(cell) is not None else None


def check_inputs(cell: Any, inputs_tbi: Any, lengths: Any) -> list[Any]:
    """Internal guard: nothing malformed reaches a kernel. Returns the layer cells (see layer_cells)."""
    if not isinstance(inputs_tbi, torch.Tensor):
        raise invalid_type("inputs", "a torch.Tensor (T, B, I)", inputs_tbi)
    if inputs_tbi.dtype not in FLOAT_DTYPES:
        raise invalid_type("inputs", "a float32 or float64 tensor", inputs_tbi)
    if inputs_tbi.dim() != 3:
        raise invalid_value(
            "inputs", "a rank-3 tensor (T, B, I)", f"shape {tuple(inputs_tbi.shape)}"
        )
    cells = layer_cells(cell)
    if cells is None:
        raise invalid_value(
            "cell", "a cell the fused engine supports", f"{type(cell).__name__} (use engine='loop')"
        )
    if cell.input_size is None or inputs_tbi.shape[2] != cell.input_size:
        raise invalid_value(
            "inputs",
            f"input width {cell.input_size} (the width the cell was built with)",
            f"shape {tuple(inputs_tbi.shape)}",
        )
    dtype, device = inputs_tbi.dtype, inputs_tbi.device
    for p in (p for layer in cells for p in layer._parameters.values()):  # no submodules
        if p is not None and (p.dtype != dtype or p.device != device):
            raise invalid_type(
                "cell", f"parameters of dtype {inputs_tbi.dtype} on {inputs_tbi.device}", p
            )
    if lengths is not None:
        if not isinstance(lengths, torch.Tensor) or lengths.dtype != torch.int64:
            raise invalid_type("sequence_length", "an int64 tensor (B,)", lengths)
        if tuple(lengths.shape) != (inputs_tbi.shape[1],):
            raise invalid_value(
                "sequence_length",
                f"shape ({inputs_tbi.shape[1]},)",
                f"shape {tuple(lengths.shape)}",
            )
        if lengths.device != inputs_tbi.device:
            raise invalid_value(
                "sequence_length", f"a tensor on {inputs_tbi.device}", f"device {lengths.device}"
            )
    return cells


def contiguous_state(s: Any) -> Any:
    if isinstance(s, LSTMStateTuple):
        return LSTMStateTuple(s.c.contiguous(), s.h.contiguous())
    return s.contiguous()


def flatten_states(cell: Any, state: Any) -> list[Any]:
    if type(cell) is MultiRNNCell:
        out: list[Any] = []
        for c, s in zip(cell.cells, state):
            out.extend(flatten_states(c, s))
        return out
    return [state]


def rebuild_states(cell: Any, finals: Any) -> Any:
    if type(cell) is MultiRNNCell:
        return tuple(rebuild_states(c, finals) for c in cell.cells)
    return next(finals)
