"""What the engine's CPU and CUDA paths share: which cells they run, the input guard, and the walk
between a (possibly stacked) cell's state and its per-layer states.

Imports the library core below the engine (cells, wrappers, validation) and the kind records.
"""

from __future__ import annotations

from typing import Any

import torch

from rnnkit._validation import invalid_type, invalid_value
from rnnkit.cells import LSTMStateTuple
from rnnkit.engine import kinds
from rnnkit.wrappers import DropoutWrapper, MultiRNNCell

FLOAT_DTYPES = (torch.float32, torch.float64)


class Layer:
    """One layer of a (possibly stacked, possibly dropout-wrapped) cell as the engine runs it:
    ``cell`` (a built-in cell), the DropoutWrappers whose input dropout applies before it
    (``before``, outermost first) and whose output dropout applies after it (``after``)."""

    __slots__ = ("cell", "before", "after")

    def __init__(self, cell: Any) -> None:
        self.cell, self.before, self.after = cell, [], []


def _dropping(w: DropoutWrapper) -> bool:
    return w.training and min(w.input_keep_prob, w.output_keep_prob) < 1.0


SHORT_ENGINES = ("auto", "fused")  # the dynamic_rnn engines under which the small path may run


def short_call_allowed(
    inputs: Any, sequence_length: Any, initial_state: Any, dtype: Any, engine: Any
) -> bool:
    """Whether ``dynamic_rnn`` offers a call to the small path (:mod:`rnnkit.engine.small`) before
    its own checks: no lengths, no initial state, an engine that allows the fused one, and no
    ``dtype`` other than the inputs' own (a conversion is the checked path's)."""
    return (
        sequence_length is None
        and initial_state is None
        and engine in SHORT_ENGINES
        and (dtype is None or dtype is getattr(inputs, "dtype", None))
    )


def layer_plan(cell: Any) -> list[Layer] | None:
    """The layers of ``cell`` in order, or None if any part is unsupported. MultiRNNCell stacks and
    DropoutWrappers are walked through; a wrapper dropping its state (``state_keep_prob`` < 1 in
    training mode) changes the recurrence, so it is unsupported (the plain loop runs it)."""
    if type(cell) is MultiRNNCell:
        out: list[Layer] = []
        for c in cell.cells:
            sub = layer_plan(c)
            if sub is None:
                return None
            out.extend(sub)
        return out
    if type(cell) is DropoutWrapper:
        if cell.training and cell.state_keep_prob < 1.0:
            return None
        sub = layer_plan(cell.cell)
        if sub is not None and _dropping(cell):
            sub[0].before.insert(0, cell)
            sub[-1].after.append(cell)
        return sub
    return [Layer(cell)] if kinds.of(cell) is not None else None


def layer_cells(cell: Any) -> list[Any] | None:
    """The flat list of supported layer cells, or None if any part is unsupported."""
    plan = layer_plan(cell)
    return None if plan is None else [layer.cell for layer in plan]


def drops(plan: list[Layer]) -> bool:
    """Whether running the layers of ``plan`` applies dropout (an active DropoutWrapper around one)."""
    return any(layer.before or layer.after for layer in plan)


def check_inputs(cell: Any, inputs_tbi: Any, lengths: Any) -> list[Layer]:
    """Internal guard: nothing malformed reaches a kernel. Returns the layers (see layer_plan)."""
    if not isinstance(inputs_tbi, torch.Tensor):
        raise invalid_type("inputs", "a torch.Tensor (T, B, I)", inputs_tbi)
    if inputs_tbi.dtype not in FLOAT_DTYPES:
        raise invalid_type("inputs", "a float32 or float64 tensor", inputs_tbi)
    if inputs_tbi.dim() != 3:
        raise invalid_value(
            "inputs", "a rank-3 tensor (T, B, I)", f"shape {tuple(inputs_tbi.shape)}"
        )
    plan = layer_plan(cell)
    if plan is None:
        raise invalid_value(
            "cell", "a cell the fused engine supports", f"{type(cell).__name__} (use engine='loop')"
        )
    if cell.input_size is None or inputs_tbi.shape[2] != cell.input_size:
        raise invalid_value(
            "inputs",
            f"input width {cell.input_size} (the width the cell was built with)",
            f"shape {tuple(inputs_tbi.shape)}",
        )
    for layer in plan:  # the kernels index by the built shapes: a replaced parameter must match
        layer.cell._check_parameters(inputs_tbi.dtype, inputs_tbi.device)
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
    return plan


_built: dict[tuple[Any, ...], dict[str, tuple[int, ...]]] = {}


def built_shapes(cell: Any, kind: kinds.Kind) -> dict[str, tuple[int, ...]]:
    """``{name: shape}`` of the parameters of a built leaf cell of ``kind`` (:func:`kinds.of`), from
    the cell's own specification; cached by type, kind, input width and units (what they depend on)."""
    key = (type(cell), kind, cell.input_size, cell.num_units)
    shapes = _built.get(key)
    if shapes is None:
        specs = cell._parameter_specs(cell.input_size)
        shapes = _built[key] = {name: shape for name, (shape, _) in specs.items()}
    return shapes


def contiguous_state(s: Any) -> Any:
    if isinstance(s, LSTMStateTuple):
        return LSTMStateTuple(s.c.contiguous(), s.h.contiguous())
    return s.contiguous()


def flatten_states(cell: Any, state: Any) -> list[Any]:
    if type(cell) is DropoutWrapper:
        return flatten_states(cell.cell, state)
    if type(cell) is MultiRNNCell:
        out: list[Any] = []
        for c, s in zip(cell.cells, state):
            out.extend(flatten_states(c, s))
        return out
    return [state]


def rebuild_states(cell: Any, finals: Any) -> Any:
    if type(cell) is DropoutWrapper:
        return rebuild_states(cell.cell, finals)
    if type(cell) is MultiRNNCell:
        return tuple(rebuild_states(c, finals) for c in cell.cells)
    return next(finals)
