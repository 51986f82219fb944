r"""Unrolling a cell over time, with TensorFlow 1.x's semantics.

Shapes: B batch, T time steps, I input width, H the cell's output width. ``time_major`` tensors are
``(T, B, I)``, batch-major ones ``(B, T, I)``. Every runner returns ``(outputs, final_state)``.

With ``sequence_length`` (one length per row, ``0 <= length <= T``), a row's outputs past its length are
zeros and its final state is the state after its last valid step (the initial state when its length is
0); gradients follow the same rule. Masking selects rather than multiplies, so a NaN in one row never
reaches another row's values.

The loop each runner performs, in three lines::

    for t in range(T):
        y[t], s_new = cell(x[t], s)
        y[t], s = where(t < length, (y[t], s_new), (0, s))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from rnnkit import _nest
from rnnkit import engine as fused_engine
from rnnkit._validation import (
    as_lengths,
    check_bool,
    check_choice,
    check_dtype,
    check_rank,
    invalid_type,
    invalid_value,
    refuse_jit_trace,
    sequence_structure_error,
    to_tensor,
)
from rnnkit.cells import RNNCell, State, check_cell, check_state
from rnnkit.engine import paths

__all__ = [
    "static_rnn",
    "dynamic_rnn",
    "final_state",
    "bidirectional_dynamic_rnn",
    "reverse_sequence",
]

ENGINES = ("auto", "fused", "loop")


def _target_dtype(
    cell: RNNCell, dtype: torch.dtype | None, initial_state: Any
) -> tuple[torch.dtype | None, str]:
    """The dtype the inputs must have (integer inputs are converted to it): ``dtype``, the state's,
    the cell's, or None; and where it came from, for the error message."""
    if dtype is not None:
        return dtype, "the `dtype` argument"
    leaves = _nest.flatten(initial_state) if initial_state is not None else []
    for leaf in leaves:
        if isinstance(leaf, torch.Tensor) and leaf.is_floating_point():
            return leaf.dtype, "`initial_state`"
    p_dtype, _ = cell._param_dtype_device()
    return p_dtype, "the cell's parameters"


def _prepare(
    cell: RNNCell,
    x: torch.Tensor,
    initial_state: Any,
    sequence_length: Any,
    batch: int,
    steps: int,
    state_name: str = "initial_state",
) -> tuple[State, torch.Tensor | None]:
    """Build the cell for x's width and dtype, then validate the initial state and the lengths."""
    p_dtype, p_device = cell._param_dtype_device()
    x = to_tensor("inputs", x, dtype=p_dtype, device=p_device)  # checks a built cell's dtype/device
    if cell.input_size != x.shape[-1] or type(cell).build is not RNNCell.build:
        # a leaf cell built for this width has nothing to check; unbuilt ones build, others raise,
        # and stacks and wrappers re-check their parts (a layer converted to another dtype)
        cell._build_for(x)
    if initial_state is None and type(cell).zero_state is RNNCell.zero_state:
        state = cell._zeros(batch, x.dtype, x.device)  # zero_state's checks hold for these args
    elif initial_state is None:  # a cell with its own zero_state
        state = cell.zero_state(batch, dtype=x.dtype, device=x.device)
    else:
        state = check_state(state_name, initial_state, cell.state_size, batch, x.dtype, x.device)
    lengths = as_lengths("sequence_length", sequence_length, batch, steps, x.device)
    return state, lengths


def _loop(
    cell: RNNCell,
    steps: Sequence[torch.Tensor],
    state: State,
    lengths: torch.Tensor | None,
    keep_outputs: bool = True,
) -> tuple[list[torch.Tensor], State]:
    """The plain unrolled loop: one cell call per step (the reference for every fast path). Without
    ``keep_outputs`` no step's output is kept or masked (the list comes back empty)."""
    cell.check_parameters(steps[0].dtype, steps[0].device)  # (the fused engine checks its own)
    if lengths is not None and bool((lengths >= len(steps)).all()):
        lengths = None  # every row runs every step: no step masks anything
    cell.start_sequence()
    outputs = []
    zeros = None
    for t, x_t in enumerate(steps):
        out, new_state = cell.call(x_t, state)
        if lengths is not None:
            valid = (lengths > t).unsqueeze(1)  # (B, 1)
            if keep_outputs:
                if zeros is None:
                    zeros = out.new_zeros(())
                out = torch.where(valid, out, zeros)
            new_state = _nest.map_structure(
                lambda new, old, valid=valid: torch.where(valid, new, old), new_state, state
            )
        if keep_outputs:
            outputs.append(out)
        state = new_state
    return outputs, state


def static_rnn(
    cell: RNNCell,
    inputs: Sequence[Any],
    initial_state: Any = None,
    dtype: Any = None,
    sequence_length: Any = None,
) -> tuple[list[torch.Tensor], State]:
    """Unroll ``cell`` over a Python list of T inputs, one step per element.

    Args:
        cell: an rnnkit cell.
        inputs: a non-empty list of T tensors or arrays ``(B, I)``.
        initial_state: the cell's state structure for B rows; zeros when ``None``.
        dtype: floating dtype for integer inputs (default: the state's, the cell's, or float32).
        sequence_length: ``(B,)`` integers in ``[0, T]``, or ``None``.

    Returns:
        ``(outputs, final_state)``: a list of T tensors ``(B, H)`` and the cell's state structure.

    The autograd graph grows with T; :func:`dynamic_rnn` is the scalable path.

    Example::

        cell = BasicRNNCell(5)
        (y0, y1), h = static_rnn(cell, [x0, x1])
    """
    refuse_jit_trace("static_rnn")
    cell = check_cell("cell", cell)
    if isinstance(inputs, torch.Tensor) or not isinstance(inputs, (list, tuple)):
        raise invalid_type("inputs", "a list of T tensors of shape (B, I)", inputs)
    if len(inputs) == 0:
        raise invalid_value(
            "inputs", "a non-empty list of tensors of shape (B, I)", "an empty list"
        )
    dtype = check_dtype("dtype", dtype)
    target, source = _target_dtype(cell, dtype, initial_state)
    steps = []
    for t, x_t in enumerate(inputs):
        x_t = to_tensor(f"inputs[{t}]", x_t, dtype=target, match=source)
        check_rank(f"inputs[{t}]", x_t, 2, "(B, I)")
        if steps:
            if x_t.shape != steps[0].shape:
                raise invalid_value(
                    f"inputs[{t}]",
                    f"shape {tuple(steps[0].shape)} like inputs[0]",
                    f"shape {tuple(x_t.shape)}",
                )
            if x_t.device != steps[0].device:
                raise invalid_value(
                    f"inputs[{t}]", f"device {steps[0].device}", f"device {x_t.device}"
                )
        else:  # the other steps must have the first one's dtype
            target, source = x_t.dtype, "inputs[0]"
        steps.append(x_t)
    if steps[0].shape[1] == 0:
        raise invalid_value("inputs", "inputs with at least one feature (I > 0)", "I = 0")
    batch = steps[0].shape[0]
    state, lengths = _prepare(cell, steps[0], initial_state, sequence_length, batch, len(steps))
    return _loop(cell, steps, state, lengths)


def _time_major_inputs(
    cell: RNNCell, inputs: Any, dtype: Any, initial_state: Any, time_major: bool
) -> torch.Tensor:
    if isinstance(inputs, (list, tuple, dict)):  # TF1 reads these as nested structures
        raise sequence_structure_error(inputs, time_major)
    dtype = check_dtype("dtype", dtype)
    target, source = _target_dtype(cell, dtype, initial_state)
    x = to_tensor("inputs", inputs, dtype=target, match=source)
    layout = "(T, B, I) (time_major=True)" if time_major else "(B, T, I)"
    check_rank("inputs", x, 3, layout)
    if x.shape[2] == 0:
        raise invalid_value("inputs", f"inputs {layout} with at least one feature", "I = 0")
    return x if time_major else x.transpose(0, 1)  # (T, B, I)


def _run_time_major(
    cell: RNNCell,
    x: torch.Tensor,
    lengths: torch.Tensor | None,
    state: State,
    engine: str,
) -> tuple[torch.Tensor, State]:
    """Run on validated time-major inputs (T, B, I); returns outputs (T, B, H)."""
    T, B = x.shape[0], x.shape[1]
    if T == 0 or B == 0:
        # Empty outputs stay attached to the graph (of inputs and weights) so backward() works.
        anchor = x.sum() + sum(p.sum() for p in cell.parameters())
        return x.new_zeros(T, B, cell.output_size) + 0 * anchor, state
    if paths.tries_engine(engine, x):
        if fused_engine.supports(cell, x):
            return fused_engine.dynamic_rnn_fused(cell, x, lengths, state, state_checked=True)
        if engine == "fused" and x.dtype not in (torch.float32, torch.float64):
            raise invalid_type(
                "inputs",
                "float32 or float64 inputs for engine='fused' (other dtypes run on engine='loop')",
                x,
            )
        if engine == "fused":
            raise invalid_value(
                "engine",
                "'auto' or 'loop' for this cell (the fused engine supports BasicRNNCell (tanh, relu), "
                "BasicLSTMCell, LSTMCell, GRUCell, MultiRNNCell stacks of them and DropoutWrappers around "
                "them; on CUDA or while tracing, not an active DropoutWrapper)",
                f"'fused' with {type(cell).__name__}",
            )
    outputs, state = _loop(cell, x.unbind(0), state, lengths)
    return torch.stack(outputs, 0), state


def dynamic_rnn(
    cell: RNNCell,
    inputs: Any,
    sequence_length: Any = None,
    initial_state: Any = None,
    dtype: Any = None,
    time_major: bool = False,
    engine: str = "auto",
) -> tuple[torch.Tensor, State]:
    """Run ``cell`` over a whole tensor of inputs; any T (including 0) and any B (including 0).

    Args:
        cell: an rnnkit cell.
        inputs: ``(B, T, I)``, or ``(T, B, I)`` when ``time_major``; a tensor or numpy array (integer
            and bool inputs are converted to ``dtype``). A Python list, tuple or dict is what
            TensorFlow 1.x reads as a nested structure of sequences, not time steps, and is refused
            as TensorFlow refuses it for its cells (a list of steps is :func:`static_rnn`'s input).
        sequence_length: ``(B,)`` integers in ``[0, T]`` (tensor, array or list), or ``None``.
        initial_state: the cell's state structure for B rows; zeros when ``None``.
        dtype: floating dtype for integer inputs (default: the state's, the cell's, or float32).
        time_major: layout of ``inputs`` and ``outputs``.
        engine: ``"auto"`` uses the fused engine when it supports the cell (built-in cells and stacks of
            them) and falls back to the plain loop otherwise; ``"fused"`` requires the engine;
            ``"loop"`` forces the plain loop (for debugging and tests). The results agree.

    Returns:
        ``(outputs, final_state)``: outputs ``(B, T, H)`` (``(T, B, H)`` when ``time_major``).

    Example::

        cell = BasicRNNCell(5)
        outputs, h = dynamic_rnn(cell, torch.randn(4, 2, 3))   # outputs: (4, 2, 5)
    """
    if time_major is not False and time_major is not True:  # (identity: the seed-size fast path)
        time_major = check_bool("time_major", time_major)  # "False" would read as True
    # Small layers: one compiled call each way (a dtype is allowed when it converts nothing)
    if fused_engine.short_call_allowed(inputs, sequence_length, initial_state, dtype, engine):
        result = fused_engine.small_call(cell, inputs, time_major)
        if result is not None:
            return result
    refuse_jit_trace("dynamic_rnn")
    cell = check_cell("cell", cell)
    check_choice("engine", engine, ENGINES)
    x = _time_major_inputs(cell, inputs, dtype, initial_state, time_major)  # (T, B, I)
    T, B = x.shape[0], x.shape[1]
    state, lengths = _prepare(cell, x, initial_state, sequence_length, B, T)
    outputs, state = _run_time_major(cell, x, lengths, state, engine)  # (T, B, H)
    return (outputs if time_major else outputs.transpose(0, 1)), state


def final_state(
    cell: RNNCell,
    inputs: Any,
    sequence_length: Any = None,
    initial_state: Any = None,
    dtype: Any = None,
    time_major: bool = False,
    engine: str = "auto",
) -> State:
    """The final state of :func:`dynamic_rnn` (same arguments, same values), without building its
    outputs where it can: for evaluating a classifier on the last state of many sequences.

    Where the fused engine runs the call in eager CPU mode, records no autograd graph (``no_grad``,
    or nothing requires grad) and applies no dropout, it runs the engine's final-state loop, which
    allocates nothing of size T (no outputs, no projection of all steps). A small call takes the
    small path as :func:`dynamic_rnn` does; the plain loop keeps no outputs; any other call runs
    :func:`dynamic_rnn`'s way and drops its outputs. ``rnnkit.engine.explain(..., final_only=True)``
    says which.

    Returns:
        The cell's state structure for B rows: each row's state after its last valid step.

    Example::

        with torch.no_grad():
            h = final_state(BasicRNNCell(150), images)       # (B, 150), no (B, T, 150) outputs
    """
    if time_major is not False and time_major is not True:
        time_major = check_bool("time_major", time_major)
    if fused_engine.short_call_allowed(inputs, sequence_length, initial_state, dtype, engine):
        result = fused_engine.small_call(cell, inputs, time_major, final_only=True)
        if result is not None:
            return result[1]
    refuse_jit_trace("final_state")
    cell = check_cell("cell", cell)
    check_choice("engine", engine, ENGINES)
    x = _time_major_inputs(cell, inputs, dtype, initial_state, time_major)  # (T, B, I)
    T, B = x.shape[0], x.shape[1]
    state, lengths = _prepare(cell, x, initial_state, sequence_length, B, T)
    if T == 0 or B == 0:
        return state
    if paths.tries_engine(engine, x) and fused_engine.supports(cell, x):
        return fused_engine.final_state_fused(cell, x, lengths, state, state_checked=True)
    if engine == "fused":
        return _run_time_major(cell, x, lengths, state, engine)[1]  # (raises its error)
    return _loop(cell, x.unbind(0), state, lengths, keep_outputs=False)[1]


def reverse_sequence(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Reverse time-major ``x (T, B, ...)`` along T, each row only within its first ``lengths[b]`` steps."""
    if lengths is None:
        return x.flip(0)
    T = x.shape[0]
    t = torch.arange(T, device=x.device).unsqueeze(1)  # (T, 1)
    L = lengths.unsqueeze(0)  # (1, B)
    index = torch.where(t < L, L - 1 - t, t)  # (T, B)
    index = index.view(T, L.shape[1], *([1] * (x.dim() - 2))).expand_as(x)  # T may be 0
    return x.gather(0, index)


def bidirectional_dynamic_rnn(
    cell_fw: RNNCell,
    cell_bw: RNNCell,
    inputs: Any,
    sequence_length: Any = None,
    initial_state_fw: Any = None,
    initial_state_bw: Any = None,
    dtype: Any = None,
    time_major: bool = False,
    engine: str = "auto",
) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[State, State]]:
    """Run ``cell_fw`` forward and ``cell_bw`` backward in time over the same inputs.

    The backward direction reverses each row within its own length (as ``tf.reverse_sequence``), runs,
    and reverses its outputs back, so ``out_bw[b, t]`` has seen inputs ``t .. length_b - 1``.

    Returns:
        ``((out_fw, out_bw), (state_fw, state_bw))``, outputs laid out like ``inputs``.

    Example::

        (y_fw, y_bw), (s_fw, s_bw) = bidirectional_dynamic_rnn(GRUCell(8), GRUCell(8), x, lengths)
        y = torch.cat([y_fw, y_bw], -1)   # (B, T, 16)
    """
    refuse_jit_trace("bidirectional_dynamic_rnn")
    cell_fw = check_cell("cell_fw", cell_fw)
    cell_bw = check_cell("cell_bw", cell_bw)
    check_choice("engine", engine, ENGINES)
    time_major = check_bool("time_major", time_major)
    init_any = initial_state_fw if initial_state_fw is not None else initial_state_bw
    x = _time_major_inputs(cell_fw, inputs, dtype, init_any, time_major)  # (T, B, I)
    T, B = x.shape[0], x.shape[1]
    state_fw, lengths = _prepare(
        cell_fw, x, initial_state_fw, sequence_length, B, T, "initial_state_fw"
    )
    state_bw, _ = _prepare(cell_bw, x, initial_state_bw, None, B, T, "initial_state_bw")
    x_bw = reverse_sequence(x, lengths)
    if (
        engine != "loop"
        and T * B > 0
        and fused_engine.supports(cell_fw, x)
        and fused_engine.supports(cell_bw, x_bw)
    ):  # one call, so the engine may run the two directions at once
        (out_fw, state_fw), (out_bw, state_bw) = fused_engine.bidirectional_fused(
            cell_fw, cell_bw, x, x_bw, lengths, state_fw, state_bw
        )
    else:
        out_fw, state_fw = _run_time_major(cell_fw, x, lengths, state_fw, engine)
        out_bw, state_bw = _run_time_major(cell_bw, x_bw, lengths, state_bw, engine)
    out_bw = reverse_sequence(out_bw, lengths)
    if not time_major:
        out_fw, out_bw = out_fw.transpose(0, 1), out_bw.transpose(0, 1)
    return (out_fw, out_bw), (state_fw, state_bw)
