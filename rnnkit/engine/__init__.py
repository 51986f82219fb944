"""The fused recurrent engine behind ``dynamic_rnn``: ``supports`` says which cells it runs,
``dynamic_rnn_fused`` checks the call and dispatches. On the CPU, ``cpu`` holds the math on numpy arrays
around the numba kernels of ``kernels``; ``autograd`` runs it as autograd.Functions for eager calls and
``library`` as torch operators (``rnnkit::*_layer``) under ``torch.compile`` and ``torch.export``.
``onnx`` emits ONNX's own RNN/LSTM/GRU operators under ``torch.onnx.export``; ``cuda`` runs torch's
cuDNN RNN; ``layers`` holds what they share (large float32 products run on
:mod:`rnnkit.platform.gemm`). ``kinds`` holds one record per cell kind (what every path
needs to know of it), ``paths`` the rules that choose the path of a call, ``plan`` applies them to a
call without running it (``explain``).

Imports only the library core (cells, wrappers, validation). The engine is optional at import time: if
numba cannot be imported, every cell runs on the plain loop, with identical semantics.
"""

from __future__ import annotations

from typing import Any

import torch

from rnnkit._validation import invalid_value, tracing
from rnnkit.cells import check_state
from rnnkit.engine import kinds
from rnnkit.engine.layers import (
    FLOAT_DTYPES,
    check_inputs,
    drops,
    flatten_states,
    layer_plan,
    rebuild_states,
    short_call_allowed,
)
from rnnkit.platform.memory import retain_freed_memory

try:
    from rnnkit.engine import autograd
except ImportError:  # pragma: no cover - exercised only without the engine's dependencies
    autograd = None  # type: ignore[assignment]
try:
    from rnnkit.engine import final, paths
except ImportError:  # pragma: no cover - exercised only without the engine's dependencies
    final = paths = None  # type: ignore[assignment]
try:
    from rnnkit.engine import small
except ImportError:  # pragma: no cover - exercised only without the engine's dependencies
    small = None  # type: ignore[assignment]
try:  # the torch operators (torch >= 2.4), registered on import so saved exported programs load
    from rnnkit.engine import library
except (ImportError, AttributeError):  # pragma: no cover - old torch or no numba
    library = None  # type: ignore[assignment]

kinds.load_code()

__all__ = [
    "available",
    "supports",
    "backend",
    "dynamic_rnn_fused",
    "final_state_fused",
    "bidirectional_fused",
    "small_call",
    "short_call_allowed",
    "explain",
    "retain_freed_memory",
]


def available() -> bool:
    """Whether the CPU engine's dependencies (numba) could be imported."""
    return autograd is not None


def small_call(
    cell: Any, inputs: Any, time_major: bool, final_only: bool = False
) -> tuple[torch.Tensor, Any] | None:
    """``dynamic_rnn(cell, inputs, time_major=time_major)`` (no lengths, state or dtype) for a small
    built-in layer, in one compiled call each way; ``None`` when the call is not one it takes (then the
    general path runs, with every check). See :mod:`rnnkit.engine.small`. ``final_only``: the caller
    reads the final state only, so an LSTM layer the small path would send to torch's oneDNN LSTM
    (which returns every step's outputs) is left to the general path's final-state loop."""
    if small is None:
        return None
    return small.call(cell, inputs, time_major, onednn_too=not final_only)


def explain(
    cell: Any,
    inputs: Any,
    sequence_length: Any = None,
    initial_state: Any = None,
    time_major: bool = False,
    *,
    dtype: Any = None,
    engine: str = "auto",
    final_only: bool = False,
) -> Any:
    """Which path ``dynamic_rnn(cell, inputs, sequence_length, initial_state, dtype, time_major,
    engine)`` takes now, layer by layer, and why: a :class:`rnnkit.engine.plan.Plan` (``print`` it;
    ``plan.path``, ``plan.layers[k].route``). With ``final_only``, the path of
    ``rnnkit.final_state`` (same arguments) and whether it builds the outputs (``plan.outputs``).
    Runs nothing. The rules are in :mod:`rnnkit.engine.paths`.

    Example::

        print(rnnkit.engine.explain(rnnkit.BasicLSTMCell(64), torch.randn(32, 100, 32)))
    """
    if autograd is None:  # pragma: no cover - exercised only without the engine's dependencies
        raise RuntimeError(
            "rnnkit.engine.explain needs numba: without it every call runs on the plain loop"
        )
    from rnnkit.engine import plan

    return plan.choose(
        cell, inputs, sequence_length, initial_state, time_major, dtype=dtype, engine=engine,
        final_only=final_only,
    )  # fmt: skip


def supports(cell: Any, inputs_tbi: torch.Tensor) -> bool:
    """Whether :func:`dynamic_rnn_fused` handles ``cell`` on ``inputs_tbi (T, B, I)``.

    CPU: BasicRNNCell (tanh, relu), BasicLSTMCell, LSTMCell (with or without peepholes), GRUCell (both
    formulations), MultiRNNCell stacks of them and DropoutWrappers around either, in float32 or
    float64. CUDA: the cells whose math matches torch's cuDNN RNN (tanh/relu, LSTM without peepholes,
    GRU with ``reset_after=True``). An active DropoutWrapper runs here in eager CPU calls only.
    """
    if not isinstance(inputs_tbi, torch.Tensor) or inputs_tbi.dtype not in FLOAT_DTYPES:
        return False
    if inputs_tbi.dim() != 3:
        return False
    plan = layer_plan(cell)
    if plan is None:
        return False
    if drops(plan) and backend(inputs_tbi) != "eager":
        return False  # dropout inside the fused engine: eager CPU calls only
    if inputs_tbi.device.type == "cpu":
        return autograd is not None
    if inputs_tbi.device.type == "cuda":
        return all(kinds.of(layer.cell).cudnn is not None for layer in plan)
    return False


def backend(inputs_tbi: torch.Tensor) -> str:
    """Which part of the engine runs a supported call on ``inputs_tbi``: ``"eager"`` (CPU tensors
    with values: :mod:`rnnkit.engine.autograd`), ``"onnx"`` (under ``torch.onnx.export``),
    ``"cuda"`` (cuDNN), ``"operators"`` (CPU tensors while tracing: :mod:`rnnkit.engine.library`),
    or ``"none"`` (another device)."""
    traced = tracing(inputs_tbi)  # then the engine runs as torch operators (values unknown)
    device = inputs_tbi.device.type
    if device == "cpu" and not traced:
        return "eager"
    if traced and torch.onnx.is_in_onnx_export():
        return "onnx"
    if device == "cuda":
        return "cuda"
    return "operators" if device == "cpu" else "none"


def dynamic_rnn_fused(
    cell: Any,
    inputs_tbi: torch.Tensor,
    lengths: torch.Tensor | None,
    initial_state: Any,
    *,
    state_checked: bool = False,
) -> tuple[torch.Tensor, Any]:
    """Run a supported cell over time-major inputs with the fused engine.

    Args:
        cell: a built cell for which :func:`supports` is True (a MultiRNNCell runs layer by layer).
        inputs_tbi: ``(T, B, I)`` float32/float64; any strides (copied to contiguous if needed).
        lengths: ``None`` or an int64 ``(B,)`` tensor with ``0 <= lengths <= T``.
        initial_state: the cell's state structure for B rows (``LSTMStateTuple(c, h)`` for LSTMs).
        state_checked: True when the caller has already validated ``initial_state`` with
            ``check_state`` for these inputs' batch, dtype and device (the runners do; it saves a
            second walk of the state at seed size).

    Returns:
        ``(outputs (T, B, H), final_state)`` with TF1 semantics: outputs past a row's length are zeros,
        its final state is the state after its last valid step.

    Example::

        cell = GRUCell(8, input_size=3)
        y, h = dynamic_rnn_fused(cell, torch.randn(5, 2, 3), None, cell.zero_state(2))
    """
    plan = check_inputs(cell, inputs_tbi, lengths)
    T, B, _ = inputs_tbi.shape
    state = initial_state
    if not state_checked:
        state = check_state("initial_state", initial_state, cell.state_size, B, inputs_tbi.dtype,
                            inputs_tbi.device)  # fmt: skip
    states = flatten_states(cell, state)  # one state per layer, like ``plan``
    where = backend(inputs_tbi)
    if where == "eager":
        outputs, finals = autograd.run_layers(plan, inputs_tbi, states, lengths)
        return outputs, rebuild_states(cell, iter(finals))
    cells = [layer.cell for layer in plan]
    if drops(plan):
        raise invalid_value(
            "cell",
            "no active DropoutWrapper on CUDA or under tracing (the fused engine applies dropout "
            "in eager CPU calls only; run dynamic_rnn with engine='loop', or the wrapper in eval mode)",
            type(cell).__name__,
        )
    if where == "onnx":
        from rnnkit.engine import onnx

        outputs, finals = onnx.run_layers(cells, inputs_tbi, states, lengths)
    elif where == "cuda":
        from rnnkit.engine import cuda

        outputs, finals = cuda.run_layers(cells, inputs_tbi, states, lengths)
    elif where == "operators":
        if library is None:  # pragma: no cover - torch < 2.4
            raise RuntimeError(
                "tracing rnnkit's fused engine (torch.compile, torch.export) needs torch >= 2.4; "
                "run dynamic_rnn with engine='loop' instead"
            )
        outputs, finals = library.run_layers(cells, inputs_tbi, states, lengths)
    else:
        raise invalid_value("inputs", "a CPU or CUDA tensor", f"device {inputs_tbi.device}")
    return outputs, rebuild_states(cell, iter(finals))


def final_state_fused(
    cell: Any,
    inputs_tbi: torch.Tensor,
    lengths: torch.Tensor | None,
    initial_state: Any,
    *,
    state_checked: bool = False,
) -> Any:
    """The final state of :func:`dynamic_rnn_fused` (same arguments), without its outputs where the
    call allows: in eager CPU calls that record no graph and apply no dropout the engine's
    final-state loop (:mod:`rnnkit.engine.final`) runs, allocating nothing of size T; otherwise
    (:func:`rnnkit.engine.paths.final_route` says why) the full call runs and its outputs are
    dropped."""
    plan = check_inputs(cell, inputs_tbi, lengths)
    state = initial_state
    if not state_checked:
        state = check_state("initial_state", initial_state, cell.state_size, inputs_tbi.shape[1],
                            inputs_tbi.dtype, inputs_tbi.device)  # fmt: skip
    states = flatten_states(cell, state)
    if backend(inputs_tbi) == "eager" and paths.final_route(plan, inputs_tbi, states) is None:
        finals = final.run_final([layer.cell for layer in plan], inputs_tbi, states, lengths)
        return rebuild_states(cell, iter(finals))
    return dynamic_rnn_fused(cell, inputs_tbi, lengths, state, state_checked=True)[1]


def bidirectional_fused(
    cell_fw: Any,
    cell_bw: Any,
    x_fw: torch.Tensor,
    x_bw: torch.Tensor,
    lengths: torch.Tensor | None,
    state_fw: Any,
    state_bw: Any,
) -> tuple[tuple[torch.Tensor, Any], tuple[torch.Tensor, Any]]:
    """The two directions of a bidirectional RNN, each as :func:`dynamic_rnn_fused` with its state
    already checked; ``x_bw`` is the inputs reversed within their lengths. In eager CPU calls the two
    directions' layers run at once where that pays (``rnnkit.engine.autograd.run_pair``).

    Returns ``((outputs_fw, final_fw), (outputs_bw, final_bw))``, outputs ``(T, B, H)``."""
    if backend(x_fw) != "eager" or tracing(x_bw):
        return (
            dynamic_rnn_fused(cell_fw, x_fw, lengths, state_fw, state_checked=True),
            dynamic_rnn_fused(cell_bw, x_bw, lengths, state_bw, state_checked=True),
        )
    plan_fw = check_inputs(cell_fw, x_fw, lengths)
    plan_bw = check_inputs(cell_bw, x_bw, lengths)
    (y_fw, f_fw), (y_bw, f_bw) = autograd.run_pair(
        plan_fw, x_fw, flatten_states(cell_fw, state_fw),
        plan_bw, x_bw, flatten_states(cell_bw, state_bw), lengths,
    )  # fmt: skip
    return (y_fw, rebuild_states(cell_fw, iter(f_fw))), (y_bw, rebuild_states(cell_bw, iter(f_bw)))
