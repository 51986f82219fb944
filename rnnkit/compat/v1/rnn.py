"""``tf.nn.static_rnn``, ``dynamic_rnn``, ``bidirectional_dynamic_rnn``, ``static_bidirectional_rnn``
(TensorFlow's ``ops/rnn.py``), run by rnnkit's runners.

A built-in cell becomes one graph node that calls ``rnnkit.dynamic_rnn`` (for ``static_rnn`` too:
TF1 defines both to compute the same values) or ``bidirectional_dynamic_rnn``, on the fused engine
where it applies, with the session's variable values
in place of the cell's parameters. A user-written cell (its ops are compat ops) is called once on a
step's stand-ins and ``dynamic_rnn`` runs that step in a loop node over any number of steps;
``static_rnn`` unrolls it over its list. ``sequence_length`` masks outputs and freezes states.
Variables are named under the scope ``rnn`` (``bidirectional_rnn/fw``, ...); a second RNN over a
different cell in the same graph gets ``rnn_1`` instead of TensorFlow's "already exists" error.

A run that reads only the final state of such a node (an evaluation fetching ``state``, or a
classifier on it) runs ``rnnkit.final_state`` instead, which skips the outputs: the node offers
that kernel to the session (``StructNode.offer_partial``), and a session's plan takes it when no
node it evaluates reads the outputs. The values are the same; a run that differentiates through the
node records the full forward either way.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import torch

import rnnkit
from rnnkit import _nest
from rnnkit._validation import check_bool, sequence_structure_error
from rnnkit.compat.v1 import array_ops, math_ops
from rnnkit.compat.v1.dtypes import DType, as_dtype, float32, int32
from rnnkit.compat.v1.dtypes import bool as tf_bool
from rnnkit.compat.v1.errors import InvalidArgumentError
from rnnkit.compat.v1.ops import StructNode, Tensor, convert_to_tensor, get_default_graph, leaf
from rnnkit.compat.v1.rnn_cell import (
    RNNCell,
    _check_cell,
    batch_from_state,
    core_node,
    history_leaves,
    state_leaf,
    state_leaves,
    user_cell_bidirectional,
    user_cell_rnn,
)
from rnnkit.compat.v1.variables import get_variable_scope, variable_scope

_py_bool = bool

__all__ = [
    "static_rnn",
    "dynamic_rnn",
    "bidirectional_dynamic_rnn",
    "static_bidirectional_rnn",
    "raw_rnn",
    "rnn",
]


class _Mode(threading.local):
    final_only = False


_mode = _Mode()  # set while a node runs for its final state only (see _offer_final_state)


def _offer_final_state(node: StructNode, state: Any) -> None:
    """Let a session run ``node`` (a core node whose ``run`` asks :func:`_final_only`) for its
    final ``state`` only: when the state's tensors are all a run reads of it."""
    fn = node._fn

    def final_only(*values: Any) -> Any:
        _mode.final_only = True
        try:
            return fn(*values)
        finally:
            _mode.final_only = False

    node.offer_partial(_nest.flatten(state), final_only)


def _final_only() -> _py_bool:
    """Whether the node being run was asked for its final state only (read once: anything the run
    evaluates inside is asked nothing)."""
    asked = _mode.final_only
    _mode.final_only = False
    return asked


def _rnn_scope(cell: RNNCell, base: str) -> str:
    """The variable scope of ``cell``'s weights: ``base`` under the current scope, or ``base_1``, ...
    when another cell already holds it (a cell used again keeps its first scope)."""
    graph = get_default_graph()
    taken = graph.__dict__.setdefault("_rnn_scopes", {})
    outer = get_variable_scope().name
    full = f"{outer}/{base}" if outer else base
    if get_variable_scope().reuse in (True, "AUTO_REUSE"):  # a reusing scope shares the weights
        taken.setdefault(full, cell)
        return full
    name, n = full, 0
    while name in taken and taken[name] is not cell:
        n += 1
        name = f"{full}_{n}"
    taken[name] = cell
    return name


def _dtype(dtype: Any, *tensors: Tensor) -> DType:
    dt = as_dtype(dtype) if dtype is not None else tensors[0].dtype
    if not dt.is_floating:
        raise TypeError(
            f"Received an invalid value for argument `dtype`: expected float32 or float64, got "
            f"{dt.name}."
        )
    return dt


def _initial_state(
    cell: RNNCell, initial_state: Any, dtype: Any, arg: str, batch: Any, dt: DType
) -> Any:
    """The initial state as graph tensors in the cell's structure (zeros when None)."""
    if initial_state is None:
        if dtype is None:
            raise ValueError(
                f"If no `{arg}` is provided, argument `dtype` must be specified (e.g. dtype=tf.float32)."
            )
        return None
    leaves = [state_leaf(s, dt) for s in _nest.flatten(initial_state)]
    sizes = _nest.flatten(cell.state_size)
    if len(leaves) != len(sizes):
        raise ValueError(
            f"Received an invalid value for argument `{arg}`: expected {len(sizes)} tensors in the "
            f"structure of the cell's state_size {cell.state_size}, got {len(leaves)}."
        )
    for leaf_t, size, growing in zip(leaves, sizes, history_leaves(initial_state)):
        dims = leaf_t.shape.as_list() if leaf_t.shape.ndims is not None else None
        if dims is None or not isinstance(size, int) or growing:
            continue  # no (batch, size) shape: AttentionWrapperState.time, alignment_history
        if len(dims) != 2 or (dims[1] is not None and dims[1] != size):
            raise ValueError(
                f"Received an invalid value for argument `{arg}`: expected (batch, {size}) state "
                f"tensors, got {leaf_t.name!r} of shape {leaf_t.shape}."
            )
        if batch is not None and dims[0] is not None and dims[0] != batch:
            raise ValueError(
                f"Received an invalid value for argument `{arg}`: its batch size {dims[0]} "
                f"({leaf_t.name!r}) contradicts the inputs' batch size {batch}."
            )
    return _nest.pack_sequence_as(initial_state, leaves)  # graph tensors in the given structure


def _lengths(sequence_length: Any, cast: _py_bool = True) -> Tensor | None:
    """The graph's ``sequence_length``. With ``cast`` (dynamic_rnn, static_rnn) a float or bool
    vector is cast to int32 as TF1 does there (a float length truncates toward zero, a bool is 0
    or 1); without it (the bidirectional runners, whose backward pass is TF's ReverseSequence)
    only int32 and int64 are taken, with ReverseSequence's TypeError."""
    if sequence_length is None:
        return None
    if isinstance(sequence_length, Tensor):  # int32 or int64, as TF takes both
        t = convert_to_tensor(sequence_length)
    elif cast:
        t = convert_to_tensor(sequence_length)
    else:
        t = convert_to_tensor(sequence_length, int32)
    if cast and (t.dtype.is_floating or t.dtype is tf_bool):
        t = math_ops.cast(t, int32)
    if not t.dtype.is_integer:
        if not cast:
            raise TypeError(
                f"Value passed to parameter 'seq_lengths' has DataType {t.dtype.name} not in "
                "list of allowed values: int32, int64"
            )
        raise TypeError(
            "Received an invalid value for argument `sequence_length`: expected a numeric "
            f"vector (TF casts it to int32), got {t.dtype.name} ({t.name!r})."
        )
    if t.shape.ndims not in (None, 1):
        raise ValueError(
            f"Received an invalid value for argument `sequence_length`: expected a vector (B,), "
            f"got shape {t.shape}."
        )
    return t


def _fed_lengths(
    seq: torch.Tensor | None, batch: int, steps: int, scope: str, clip: _py_bool = True
) -> torch.Tensor | None:
    """A run's ``sequence_length`` as TF1's RNNs read it: one length per row (TF's shape
    assertion: InvalidArgumentError otherwise). A length past the last step runs every step and a
    negative one runs none, so the unidirectional runners clip them to ``[0, steps]``; the
    bidirectional one reverses each row within its length, which TF refuses outside that range."""
    if seq is None:
        return None
    if seq.dim() != 1 or seq.shape[0] != batch:
        raise InvalidArgumentError(
            f"assertion failed: [Expected shape for Tensor {scope}/sequence_length:0 is ] [{batch}]"
            f" [ but saw shape: ] {list(seq.shape)}"
        )
    if clip:
        return seq.clamp(0, steps)
    if bool((seq < 0).any()):
        raise InvalidArgumentError(f"seq_lens({int(torch.argmin(seq))}) < 0")
    if bool((seq > steps).any()):
        raise InvalidArgumentError(f"seq_lens({int(torch.argmax(seq))}) > input.dims(1)")
    return seq


def _dim(x: Tensor, axis: int) -> int | None:
    return None if x.shape.ndims is None else x.shape.as_list()[axis]


def _step_inputs(inputs: Any, dtype: Any) -> list[Tensor]:
    """The static runners' ``inputs``: a non-empty list of ``(B, I)`` steps, as graph tensors."""
    if isinstance(inputs, Tensor) or not isinstance(inputs, (list, tuple)) or not inputs:
        raise TypeError(
            "Received an invalid value for argument `inputs`: expected a non-empty list of (B, I) "
            f"tensors, got {inputs!r}."
        )
    return [convert_to_tensor(x, as_dtype(dtype) if dtype is not None else float32) for x in inputs]


def _step_list_shape(xs: list[Tensor]) -> tuple[int | None, int | None]:
    """``(input width, batch)`` of a list of ``(B, I)`` step tensors (None where unknown), after
    checking that every step is rank 2 and of the same width."""
    widths = {_dim(x, 1) for x in xs if x.shape.ndims is not None} - {None}
    for x in xs:
        if x.shape.ndims not in (None, 2):
            raise ValueError(
                f"Received an invalid value for argument `inputs`: expected (B, I) tensors, got "
                f"{x.name!r} of shape {x.shape}."
            )
    if len(widths) > 1:
        raise ValueError(
            f"Received an invalid value for argument `inputs`: every step must have the same input "
            f"width, got widths {sorted(widths)}."
        )
    batch = next((_dim(x, 0) for x in xs if _dim(x, 0) is not None), None)
    return next(iter(widths), None), batch


# ------------------------------------------------------------------------------------------------
# static_rnn
# ------------------------------------------------------------------------------------------------


def static_rnn(
    cell: RNNCell,
    inputs: Sequence[Any],
    initial_state: Any = None,
    dtype: Any = None,
    sequence_length: Any = None,
    scope: str | None = None,
) -> tuple[list[Tensor], Any]:
    """Unroll ``cell`` over a Python list of T inputs, each ``(B, I)``.

    Returns ``(outputs, state)``: a list of T tensors ``(B, output_size)`` and the final state (at
    each row's last valid step when ``sequence_length`` is given; outputs past it are zeros)."""
    _check_cell("cell", cell)
    xs = _step_inputs(inputs, dtype)
    dt = _dtype(dtype, *xs)
    width, batch = _step_list_shape(xs)
    init = _initial_state(cell, initial_state, dtype, "initial_state", batch, dt)
    lengths = _lengths(sequence_length)
    if not cell._has_core():
        return _unrolled(cell, xs, init, lengths, dt, scope or "rnn")
    vscope = _rnn_scope(cell, scope or "rnn")
    return _steps_node(cell, vscope, xs, init, lengths, dt, width, batch, scope or "rnn")


def _steps_node(
    cell: RNNCell,
    vscope: str,
    xs: Sequence[Tensor],
    init: Any,
    lengths: Tensor | None,
    dt: DType,
    width: int | None,
    batch: int | None,
    name: str,
) -> tuple[list[Tensor], Any]:
    """One node running a built-in ``cell`` (variables under ``vscope``) over the list of steps
    ``xs``: ``(one output tensor per step, final state)``."""
    T = len(xs)
    data = [*xs, *([] if lengths is None else [lengths])]

    def run(values: Sequence[torch.Tensor], states: list[Any]) -> Any:
        # TF1's static_rnn and dynamic_rnn compute the same thing (lengths included): run the
        # steps as one (T, B, I) sequence, on the fused engine where the cell allows
        steps, seq = list(values[:T]), (values[T] if lengths is not None else None)
        x = torch.stack([s.to(dt.torch) for s in steps])  # (T, B, I)
        seq = _fed_lengths(seq, x.shape[1], T, name)
        args = (cell._core, x, seq, states[0], dt.torch, True)
        if _final_only():  # no output read: the final state alone
            return None, rnnkit.runners.final_state(*args)
        outs, final = rnnkit.dynamic_rnn(*args)
        return list(outs.unbind(0)), final

    graph = get_default_graph()
    node = core_node(graph.unique_name(name), [cell], [vscope], width, dt, data, [init], run)
    outputs = [leaf(node, (0, t), dt, [batch, cell.output_size]) for t in range(T)]
    state = state_leaves(node, (1,), cell.state_size, dt, batch)
    _offer_final_state(node, state)
    return outputs, state


def _unrolled(
    cell: RNNCell, xs: list[Tensor], init: Any, lengths: Tensor | None, dt: DType, scope: str
) -> tuple[list[Tensor], Any]:
    """A user cell called once per step in the graph (TensorFlow's static_rnn, literally)."""
    if init is None:
        batch = array_ops.shape(xs[0])[0]
        init = cell.zero_state(batch if _dim(xs[0], 0) is None else _dim(xs[0], 0), dt)
    state, outputs = init, []
    with variable_scope(scope) as vs:
        for t, x in enumerate(xs):
            if t > 0:  # TF1: later steps share the first step's variables
                vs.reuse_variables()
            out, new_state = cell(x, state)
            if lengths is not None:
                valid = math_ops.less(t, lengths)  # (B,)
                out = array_ops.where(valid, out, array_ops.zeros_like(out))
                new_state = _nest.map_structure(
                    lambda n, o, valid=valid: array_ops.where(valid, n, o), new_state, state
                )
            outputs.append(out)
            state = new_state
    return outputs, state


# ------------------------------------------------------------------------------------------------
# dynamic_rnn
# ------------------------------------------------------------------------------------------------


def _seq_input(inputs: Any, dtype: Any, time_major: bool) -> Tensor:
    if isinstance(inputs, (list, tuple, dict)):  # a nested structure of sequences, as in TF1
        raise sequence_structure_error(inputs, time_major, api="tf")
    if isinstance(inputs, Tensor) and dtype is None:  # its own dtype (float64 with a state)
        x = convert_to_tensor(inputs)
    else:
        x = convert_to_tensor(inputs, as_dtype(dtype) if dtype is not None else float32)
    if x.shape.ndims not in (None, 3):
        raise ValueError(
            "Received an invalid value for argument `inputs`: expected a rank-3 tensor (B, T, I) "
            f"or (T, B, I) when time_major, got {x.name!r} of shape {x.shape}."
        )
    return x


def dynamic_rnn(
    cell: RNNCell,
    inputs: Any,
    sequence_length: Any = None,
    initial_state: Any = None,
    dtype: Any = None,
    parallel_iterations: Any = None,
    swap_memory: _py_bool = False,
    time_major: _py_bool = False,
    scope: str | None = None,
) -> tuple[Tensor, Any]:
    """Run ``cell`` over ``inputs`` ``(B, T, I)`` (``(T, B, I)`` when ``time_major``).

    Returns ``(outputs, state)``; outputs past a row's ``sequence_length`` are zeros and its state
    is the one at its last valid step."""
    _check_cell("cell", cell)
    time_major = check_bool("time_major", time_major)  # a string would read as True
    x = _seq_input(inputs, dtype, time_major)
    dt = _dtype(dtype, x)
    d0, d1 = _dim(x, 0), _dim(x, 1)
    batch, steps = (d1, d0) if time_major else (d0, d1)
    init = _initial_state(cell, initial_state, dtype, "initial_state", batch, dt)
    batch = batch_from_state(batch, init)
    d0, d1 = (d0, batch) if time_major else (batch, d1)
    lengths = _lengths(sequence_length)
    if not cell._has_core():  # any number of steps: the cell's step runs in a loop node
        return user_cell_rnn(cell, x, init, lengths, dt, time_major, scope or "rnn")
    graph = x.graph
    vscope = _rnn_scope(cell, scope or "rnn")
    data = [x, *([] if lengths is None else [lengths])]

    def run(values: Sequence[torch.Tensor], states: list[Any]) -> Any:
        seq = values[1] if lengths is not None else None
        steps, rows = values[0].shape[:2] if time_major else values[0].shape[1::-1]
        seq = _fed_lengths(seq, rows, steps, scope or "rnn")
        args = (cell._core, values[0].to(dt.torch), seq, states[0], dt.torch, time_major)
        if _final_only():  # no output read: the final state alone
            return None, rnnkit.runners.final_state(*args)
        return rnnkit.dynamic_rnn(*args)

    node = core_node(
        graph.unique_name(scope or "rnn"), [cell], [vscope], _dim(x, 2), dt, data, [init], run
    )
    outputs = leaf(node, (0,), dt, [d0, d1, cell.output_size])
    state = state_leaves(node, (1,), cell.state_size, dt, batch)
    _offer_final_state(node, state)
    if init is not None:  # TF's loop keeps the initial state's static shape (None: unknown)
        for out, given in zip(_nest.flatten(state), _nest.flatten(init)):
            out._shape = given.shape
    return outputs, state


def bidirectional_dynamic_rnn(
    cell_fw: RNNCell,
    cell_bw: RNNCell,
    inputs: Any,
    sequence_length: Any = None,
    initial_state_fw: Any = None,
    initial_state_bw: Any = None,
    dtype: Any = None,
    parallel_iterations: Any = None,
    swap_memory: _py_bool = False,
    time_major: _py_bool = False,
    scope: str | None = None,
) -> tuple[tuple[Tensor, Tensor], Any]:
    """Forward and backward RNNs over ``inputs``; the backward one reverses each row within its
    ``sequence_length`` and gives its outputs in the original time order.

    Returns ``((output_fw, output_bw), (state_fw, state_bw))``."""
    _check_cell("cell_fw", cell_fw)
    _check_cell("cell_bw", cell_bw)
    time_major = check_bool("time_major", time_major)
    x = _seq_input(inputs, dtype, time_major)
    dt = _dtype(dtype, x)
    d0, d1 = _dim(x, 0), _dim(x, 1)
    batch = d1 if time_major else d0
    s_fw = _initial_state(cell_fw, initial_state_fw, dtype, "initial_state_fw", batch, dt)
    s_bw = _initial_state(cell_bw, initial_state_bw, dtype, "initial_state_bw", batch, dt)
    lengths = _lengths(sequence_length, cast=False)
    if not (cell_fw._has_core() and cell_bw._has_core()):  # a user-written cell: loop nodes
        return user_cell_bidirectional(
            cell_fw, cell_bw, x, s_fw, s_bw, lengths, dt, time_major, scope or "bidirectional_rnn"
        )
    graph = x.graph
    base = _rnn_scope(cell_fw, scope or "bidirectional_rnn")
    data = [x, *([] if lengths is None else [lengths])]

    def run(values: Sequence[torch.Tensor], states: list[Any]) -> Any:
        seq = values[1] if lengths is not None else None
        steps, rows = values[0].shape[:2] if time_major else values[0].shape[1::-1]
        seq = _fed_lengths(seq, rows, steps, f"{scope or 'bidirectional_rnn'}/fw", clip=False)
        if _final_only():  # no output read: each direction's final state alone
            return None, _bidirectional_final_states(
                cell_fw._core, cell_bw._core, values[0].to(dt.torch), seq, states, dt, time_major
            )
        return rnnkit.bidirectional_dynamic_rnn(
            cell_fw._core,
            cell_bw._core,
            values[0].to(dt.torch),
            sequence_length=seq,
            initial_state_fw=states[0],
            initial_state_bw=states[1],
            dtype=dt.torch,
            time_major=time_major,
        )

    node = core_node(graph.unique_name(scope or "bidirectional_rnn"), [cell_fw, cell_bw],
                      [f"{base}/fw", f"{base}/bw"], _dim(x, 2), dt, data, [s_fw, s_bw], run)  # fmt: skip
    out_fw = leaf(node, (0, 0), dt, [d0, d1, cell_fw.output_size])
    out_bw = leaf(node, (0, 1), dt, [d0, d1, cell_bw.output_size])
    st_fw = state_leaves(node, (1, 0), cell_fw.state_size, dt, batch)
    st_bw = state_leaves(node, (1, 1), cell_bw.state_size, dt, batch)
    _offer_final_state(node, (st_fw, st_bw))
    return (out_fw, out_bw), (st_fw, st_bw)


def _bidirectional_final_states(
    core_fw: Any, core_bw: Any, x: torch.Tensor, seq: Any, states: list[Any], dt: DType,
    time_major: _py_bool,
) -> tuple[Any, Any]:  # fmt: skip
    """The final states of ``rnnkit.bidirectional_dynamic_rnn`` (same values): the forward cell
    over ``x``, the backward one over ``x`` reversed within each row's length."""
    s_fw = rnnkit.runners.final_state(core_fw, x, seq, states[0], dt.torch, time_major)
    x_tbi = x if time_major else x.transpose(0, 1)
    lengths = None if seq is None else torch.as_tensor(seq, dtype=torch.int64)
    x_bw = rnnkit.runners.reverse_sequence(x_tbi, lengths)
    s_bw = rnnkit.runners.final_state(core_bw, x_bw, seq, states[1], dt.torch, True)
    return s_fw, s_bw


def static_bidirectional_rnn(
    cell_fw: RNNCell,
    cell_bw: RNNCell,
    inputs: Sequence[Any],
    initial_state_fw: Any = None,
    initial_state_bw: Any = None,
    dtype: Any = None,
    sequence_length: Any = None,
    scope: str | None = None,
) -> tuple[list[Tensor], Any, Any]:
    """``(outputs, state_fw, state_bw)``: outputs are the T steps' ``concat([fw, bw], 1)``, the
    backward RNN reading each row reversed within its ``sequence_length``."""
    _check_cell("cell_fw", cell_fw)
    _check_cell("cell_bw", cell_bw)
    xs = _step_inputs(inputs, dtype)
    dt = _dtype(dtype, *xs)
    if sequence_length is None and len(xs) > 1 and cell_fw._has_core() and cell_bw._has_core():
        return _static_bidirectional_by_steps(
            cell_fw, cell_bw, xs, initial_state_fw, initial_state_bw, dtype, dt, scope
        )
    x = array_ops.stack(xs, axis=0)  # (T, B, I)
    (o_fw, o_bw), (st_fw, st_bw) = bidirectional_dynamic_rnn(
        cell_fw,
        cell_bw,
        x,
        sequence_length=sequence_length,
        initial_state_fw=initial_state_fw,
        initial_state_bw=initial_state_bw,
        dtype=dt,
        time_major=True,
        scope=scope,
    )
    both = array_ops.concat([o_fw, o_bw], 2)  # (T, B, 2H)
    return array_ops.unstack(both, num=len(xs), axis=0), st_fw, st_bw


def _static_bidirectional_by_steps(
    cell_fw: RNNCell,
    cell_bw: RNNCell,
    xs: list[Tensor],
    initial_state_fw: Any,
    initial_state_bw: Any,
    dtype: Any,
    dt: DType,
    scope: str | None,
) -> tuple[list[Tensor], Any, Any]:
    """``static_bidirectional_rnn`` without ``sequence_length``: TF1 builds two ``static_rnn``s, the
    backward one over the reversed list of steps, so a fetch that needs only the last step's output
    (a classifier on ``outputs[-1]``) runs one step of the backward RNN: TensorFlow prunes the rest,
    in forward and in gradients. The same here: the backward RNN is two nodes, its first step
    (original time T - 1) and the other steps from that state, and a run evaluates only the nodes
    its fetches need. Same variables (``<scope>/fw``, ``<scope>/bw``) and values as one node."""
    width, batch = _step_list_shape(xs)
    init_fw = _initial_state(cell_fw, initial_state_fw, dtype, "initial_state_fw", batch, dt)
    init_bw = _initial_state(cell_bw, initial_state_bw, dtype, "initial_state_bw", batch, dt)
    base = _rnn_scope(cell_fw, scope or "bidirectional_rnn")
    name = scope or "bidirectional_rnn"
    fw, state_fw = _steps_node(cell_fw, f"{base}/fw", xs, init_fw, None, dt, width, batch, name)
    bw_first, mid = _steps_node(
        cell_bw, f"{base}/bw", xs[-1:], init_bw, None, dt, width, batch, name
    )
    bw_rest, state_bw = _steps_node(
        cell_bw, f"{base}/bw", xs[-2::-1], mid, None, dt, width, batch, name
    )
    bw = [*bw_first, *bw_rest][::-1]  # back in the original time order
    outputs = [array_ops.concat([f, b], 1) for f, b in zip(fw, bw)]
    return outputs, state_fw, state_bw


def _same_structure(a: Any, b: Any) -> None:
    from rnnkit.compat.v1.control_flow_ops import structure_error

    err = structure_error(a, b)
    if err is not None:
        raise err


def _loop_fn_result(result: Any, call: str) -> tuple:
    """The 5-tuple a raw_rnn ``loop_fn`` returns, its ``finished`` part a boolean tensor."""
    if not isinstance(result, (tuple, list)) or len(result) != 5:
        raise ValueError(
            f"{call} must return (elements_finished, next_input, next_cell_state, emit_output, "
            f"next_loop_state), got {result!r}."
        )
    finished = convert_to_tensor(result[0])
    if finished.dtype.name != "bool":
        raise TypeError(
            f"The elements_finished returned by {call} must be a bool tensor, got "
            f"{finished.dtype.name}."
        )
    return (finished, *result[1:])


def raw_rnn(
    cell: Any,
    loop_fn: Any,
    parallel_iterations: Any = None,
    swap_memory: Any = False,
    scope: Any = None,
) -> tuple[Any, Any, Any]:
    """``tf.nn.raw_rnn(cell, loop_fn)``: an RNN whose next input, state and emitted output are
    chosen by ``loop_fn(time, cell_output, cell_state, loop_state)``, in a ``tf.while_loop``.

    ``loop_fn(0, None, None, None)`` gives ``(finished, next_input, initial_state, emit_structure,
    loop_state)``; after each step ``loop_fn(time + 1, output, new_state, loop_state)`` gives
    ``(finished, next_input, next_state, emit, loop_state)`` (``emit`` None: the cell output; a
    None loop state keeps the previous one). Rows finished before a step emit zeros there and keep
    their state; the loop stops when every row is finished. Returns ``(emit_ta, final_state,
    final_loop_state)``: a TensorArray of the emits in time order (``emit_ta.stack()`` is
    ``(time, batch, ...)``), the last state, and the last loop state (None when it never had one).
    Variables are created under ``scope`` (default ``rnn``) on the cell's first call.
    """
    from rnnkit.compat.v1 import control_flow_ops as cf

    cell = _check_cell("cell", cell)
    if not callable(loop_fn):
        raise TypeError(f"loop_fn must be a callable, got {loop_fn!r}.")
    if parallel_iterations is not None and (
        isinstance(parallel_iterations, _py_bool)
        or not isinstance(parallel_iterations, int)
        or parallel_iterations < 1
    ):
        raise ValueError(
            "Received an invalid value for argument `parallel_iterations`: expected a positive "
            f"integer or None, got {parallel_iterations!r}."
        )
    with variable_scope(scope or "rnn"):
        time = convert_to_tensor(0, int32)
        finished, next_input, initial_state, emit_structure, init_loop_state = _loop_fn_result(
            loop_fn(time, None, None, None), "loop_fn(0, None, None, None)"
        )
        if initial_state is None:
            raise ValueError("loop_fn(0, None, None, None) must return an initial state, got None.")
        finished = convert_to_tensor(finished)
        flat_input = [convert_to_tensor(t) for t in _nest.flatten(next_input)]
        next_input = _nest.pack_sequence_as(next_input, flat_input)
        state = _nest.pack_sequence_as(
            initial_state, [convert_to_tensor(s) for s in _nest.flatten(initial_state)]
        )
        flat_state = _nest.flatten(state)
        batch = _dim(flat_input[0], 0)
        if batch is None:
            batch_t = array_ops.shape(flat_input[0])[0]
        loop_state = init_loop_state if init_loop_state is not None else convert_to_tensor(0)

        if emit_structure is not None:
            # emit_structure gives one row's shape and dtype per part (the batch comes first)
            flat_emit = [convert_to_tensor(e) for e in _nest.flatten(emit_structure)]
            emit_template = emit_structure
            emit_dtypes = [e.dtype for e in flat_emit]
            emit_shapes = [[batch, *e.shape.as_list()] for e in flat_emit]
            b = batch if batch is not None else batch_t
            zero_emit = [
                array_ops.zeros(
                    array_ops.concat([array_ops.reshape(b, [1]), array_ops.shape(e)], 0)
                    if batch is None or not e.shape.is_fully_defined()
                    else [batch, *e.shape.as_list()],
                    e.dtype,
                )
                for e in flat_emit
            ]
        else:
            emit_template = cell.output_size
            sizes = _nest.flatten(emit_template)
            dt = flat_state[0].dtype
            emit_dtypes = [dt] * len(sizes)
            emit_shapes = [[batch, int(n)] for n in sizes]
            b = batch if batch is not None else batch_t
            zero_emit = [array_ops.zeros(array_ops.stack([b, int(n)]) if batch is None
                                         else [batch, int(n)], dt) for n in sizes]  # fmt: skip
        emit_tas = [
            cf.TensorArray(d, size=0, dynamic_size=True, element_shape=s, name=f"rnn_output_{i}")
            for i, (d, s) in enumerate(zip(emit_dtypes, emit_shapes))
        ]

        def cond(time, finished, current_input, tas, state, loop_state):
            return math_ops.logical_not(math_ops.reduce_all(finished))

        def body(time, finished, current_input, tas, state, loop_state):
            output, cell_state = cell(current_input, state)
            _same_structure(state, cell_state)
            next_time = time + 1
            next_finished, nxt_input, next_state, emit, next_loop_state = _loop_fn_result(
                loop_fn(next_time, output, cell_state, loop_state),
                "loop_fn(time, cell_output, cell_state, loop_state)",
            )
            _same_structure(state, next_state)
            if emit is None:
                emit = output
            flat_emit_now = [convert_to_tensor(e) for e in _nest.flatten(emit)]
            loop_state = loop_state if next_loop_state is None else next_loop_state
            # rows finished before this step emit zeros and keep their state
            flat_emit_now = [
                array_ops.rows_kept(finished, z, e) for z, e in zip(zero_emit, flat_emit_now)
            ]
            kept = [
                array_ops.rows_kept(finished, old, convert_to_tensor(new))
                for old, new in zip(_nest.flatten(state), _nest.flatten(next_state))
            ]
            tas = [ta.write(time, e) for ta, e in zip(tas, flat_emit_now)]
            done = math_ops.logical_or(finished, convert_to_tensor(next_finished))
            return (
                next_time,
                done,
                nxt_input,
                tas,
                _nest.pack_sequence_as(state, kept),
                loop_state,
            )

        out = cf.while_loop(
            cond,
            body,
            [time, finished, next_input, emit_tas, state, loop_state],
            parallel_iterations=parallel_iterations or 32,
            swap_memory=swap_memory,
        )
        _, _, _, final_tas, final_state, final_loop_state = out
        emit_ta = _nest.pack_sequence_as(emit_template, list(final_tas))
        if init_loop_state is None:
            final_loop_state = None
        return emit_ta, final_state, final_loop_state


#: ``tf.nn.rnn``: TensorFlow 0.x's name of ``static_rnn``
rnn = static_rnn
