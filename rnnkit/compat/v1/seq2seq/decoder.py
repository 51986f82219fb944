"""``Decoder``, ``BasicDecoder``, ``BasicDecoderOutput`` and ``dynamic_decode`` (TensorFlow 1.x's
``contrib/seq2seq/python/ops/decoder.py`` and ``basic_decoder.py``).

``dynamic_decode`` builds the decoder's step once, as TF1 builds a ``while_loop`` body: under the
variable scope ``decoder`` it calls ``decoder.step(time, inputs, state)`` on stand-in tensors
(slots) for the loop variables, so the cell, the output layer and the attention create their
variables under TF1's names (``decoder/basic_lstm_cell/kernel``, ``decoder/dense/kernel``...). The
loop itself is one graph node: at run time it evaluates the step's ops once per step, in Python,
over torch tensors, until every batch entry is finished (or ``maximum_iterations``), so gradients
reach the variables through torch autograd. Per step, as TF1 does: an entry's length grows while
it is not finished; with ``impute_finished`` a finished entry emits zeros and keeps its state.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import Any

import torch

from rnnkit import _nest
from rnnkit.compat.v1 import array_ops
from rnnkit.compat.v1.dtypes import as_dtype, int32
from rnnkit.compat.v1.errors import InvalidArgumentError
from rnnkit.compat.v1.ops import (
    StructNode,
    Tensor,
    _Node,
    convert_to_tensor,
    get_default_graph,
    leaf,
)
from rnnkit.compat.v1.rnn_cell import RNNCell, _check_cell, mark_alignment_histories
from rnnkit.compat.v1.seq2seq._graph import op, static_dims
from rnnkit.compat.v1.seq2seq.helper import Helper
from rnnkit.compat.v1.variables import variable_scope

_py_bool = bool

__all__ = ["Decoder", "BasicDecoder", "BasicDecoderOutput", "dynamic_decode"]

# A decoder that never finishes (a greedy helper whose end token never comes) stops here with an
# error instead of running forever; pass maximum_iterations to bound decoding.
MAX_STEPS_WITHOUT_LIMIT = 10_000


class BasicDecoderOutput(collections.namedtuple("BasicDecoderOutput", ("rnn_output", "sample_id"))):
    """One step's (or, stacked, all steps') outputs: the cell's (projected) output and the helper's
    sampled ids."""


class Decoder:
    """TF1's decoder interface: ``batch_size``, ``output_size``, ``output_dtype``,
    ``initialize(name=None) -> (finished, inputs, state)`` and ``step(time, inputs, state) ->
    (outputs, next_state, next_inputs, finished)`` built with graph ops; optionally
    ``finalize(outputs, final_state, sequence_lengths)`` and ``tracks_own_finished``."""

    tracks_own_finished = False

    @property
    def batch_size(self) -> Any:
        raise NotImplementedError

    @property
    def output_size(self) -> Any:
        raise NotImplementedError

    @property
    def output_dtype(self) -> Any:
        raise NotImplementedError

    def initialize(self, name: str | None = None) -> Any:
        raise NotImplementedError

    def step(self, time: Any, inputs: Any, state: Any, name: str | None = None) -> Any:
        raise NotImplementedError


class BasicDecoder(Decoder):
    """``BasicDecoder(cell, helper, initial_state, output_layer=None)``: each step runs ``cell``,
    applies ``output_layer`` (a ``tf.layers.Dense``-like callable) to its output, and lets
    ``helper`` sample ids and choose the next inputs."""

    def __init__(
        self, cell: Any, helper: Any, initial_state: Any, output_layer: Any = None
    ) -> None:
        _check_cell("cell", cell)
        if not isinstance(helper, Helper):
            raise TypeError(f"helper must be a Helper, received: {type(helper)}")
        if output_layer is not None and not callable(output_layer):
            raise TypeError(f"output_layer must be a Layer, received: {type(output_layer)}")
        _check_state_structure(cell, initial_state)
        self._cell: RNNCell = cell
        self._helper = helper
        self._initial_state = initial_state
        self._output_layer = output_layer

    @property
    def batch_size(self) -> Any:
        return self._helper.batch_size

    @property
    def output_size(self) -> BasicDecoderOutput:
        size = self._cell.output_size
        if self._output_layer is not None:
            size = getattr(self._output_layer, "units", None)
        return BasicDecoderOutput(rnn_output=size, sample_id=self._helper.sample_ids_shape)

    @property
    def output_dtype(self) -> BasicDecoderOutput:
        leaves = _nest.flatten(self._initial_state)
        dt = leaves[0].dtype if leaves and isinstance(leaves[0], Tensor) else as_dtype("float32")
        return BasicDecoderOutput(dt, self._helper.sample_ids_dtype)

    def initialize(self, name: str | None = None) -> tuple[Any, Any, Any]:
        finished, inputs = self._helper.initialize()
        return finished, inputs, self._initial_state

    def step(self, time: Any, inputs: Any, state: Any, name: str | None = None) -> Any:
        cell_outputs, cell_state = self._cell(inputs, state)
        if self._output_layer is not None:
            cell_outputs = self._output_layer(cell_outputs)
        sample_ids = self._helper.sample(time=time, outputs=cell_outputs, state=cell_state)
        finished, next_inputs, next_state = self._helper.next_inputs(
            time=time, outputs=cell_outputs, state=cell_state, sample_ids=sample_ids
        )
        return BasicDecoderOutput(cell_outputs, sample_ids), next_state, next_inputs, finished


def _check_state_structure(cell: RNNCell, state: Any) -> None:
    """``state`` must have the structure of ``cell.state_size`` (TF1's ``assert_same_structure``)."""
    want = len(_nest.flatten(cell.state_size))
    got = len(_nest.flatten(state))
    if want != got:
        raise ValueError(
            "The two structures don't have the same nested structure: the cell's state_size "
            f"{cell.state_size} has {want} parts, `initial_state` {state!r} has {got}."
        )


# ------------------------------------------------------------------------------------------------
# Running a step built once in the graph
# ------------------------------------------------------------------------------------------------


class _Slot(Tensor):
    """A loop variable's stand-in while the step is built; its value is given per step."""

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        raise InvalidArgumentError(
            f"{self.name!r} is a loop variable of dynamic_decode's step and has no value outside "
            "the loop."
        )


def _slot_like(t: Tensor, name: str) -> _Slot:
    shape = static_dims(t)
    if shape is not None and shape and name.endswith("alignment_history"):
        shape = [None, *shape[1:]]
    return _Slot(name, t.dtype, shape)


class Fragment:
    """The ops between ``slots`` and ``outputs``, evaluated in order given the slots' values; the
    tensors they read from outside (``outer``) are evaluated once per run by the session."""

    def __init__(self, slots: Sequence[Tensor], outputs: Sequence[Tensor]) -> None:
        slot_ids = {id(s) for s in slots}
        depends: dict[int, _py_bool] = {}
        order: list[_Node] = []
        outer: dict[int, _Node] = {}
        for root in outputs:
            stack: list[tuple[_Node, _py_bool]] = [(root, False)]
            while stack:
                n, done = stack.pop()
                if done:
                    dep = id(n) in slot_ids or any(depends[id(i)] for i in n._inputs)
                    depends[id(n)] = dep
                    if dep and id(n) not in slot_ids:
                        order.append(n)
                    continue
                if id(n) in depends:
                    continue
                if id(n) in slot_ids:
                    depends[id(n)] = True
                    continue
                depends[id(n)] = False  # provisional, while visiting; fixed at `done`
                stack.append((n, True))
                for i in reversed(n._inputs):
                    if id(i) not in depends:
                        stack.append((i, False))
        for n in order:
            for i in n._inputs:
                if not depends[id(i)]:
                    outer.setdefault(id(i), i)
        for root in outputs:
            if not depends[id(root)]:
                outer.setdefault(id(root), root)
        self.slots = list(slots)
        self.outputs = list(outputs)
        self.order = order
        self.outer = list(outer.values())

    def run(self, sess: Any, env: dict[int, Any], slot_values: Sequence[Any]) -> list[Any]:
        values = dict(env)
        for s, v in zip(self.slots, slot_values):
            values[id(s)] = v
        for n in self.order:
            values[id(n)] = n._compute(sess, [values[id(i)] for i in n._inputs])
        return [values[id(o)] for o in self.outputs]


class LoopNode(StructNode):
    """A :class:`StructNode` whose function also receives the session (to evaluate a fragment)."""

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        return self._fn(sess, *values)


def _check_decoder(decoder: Any) -> None:
    if not (hasattr(decoder, "initialize") and hasattr(decoder, "step")):
        raise TypeError(f"Expected decoder to be type Decoder, but saw: {decoder!r}")


def _max_iterations(maximum_iterations: Any) -> Tensor | None:
    if maximum_iterations is None:
        return None
    t = convert_to_tensor(maximum_iterations, int32)
    if t.shape.ndims not in (None, 0):
        raise ValueError("maximum_iterations must be a scalar")
    if not t.dtype.is_integer:
        raise TypeError(
            f"maximum_iterations must be an integer tensor, got {t.dtype.name} ({t.name!r})."
        )
    return t


def _where_rows(cond: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a`` where ``cond`` (the leading dimensions: batch, or batch and beam) is true, else ``b``."""
    c = cond.reshape(*cond.shape, *([1] * (a.dim() - cond.dim())))
    return torch.where(c, a, b)


def dynamic_decode(
    decoder: Any,
    output_time_major: _py_bool = False,
    impute_finished: _py_bool = False,
    maximum_iterations: Any = None,
    parallel_iterations: int = 32,
    swap_memory: _py_bool = False,
    scope: Any = None,
) -> tuple[Any, Any, Tensor]:
    """Run ``decoder`` until all entries are finished: ``(final_outputs, final_state,
    final_sequence_lengths)``; outputs are ``(batch, time, ...)`` (``(time, batch, ...)`` when
    ``output_time_major``)."""
    _check_decoder(decoder)
    for what, value in (("output_time_major", output_time_major),
                        ("impute_finished", impute_finished)):  # fmt: skip
        if not isinstance(value, _py_bool):
            raise TypeError(f"Received an invalid value for argument `{what}`: expected a bool, "
                            f"got {value!r}.")  # fmt: skip
    max_iter = _max_iterations(maximum_iterations)
    graph = get_default_graph()
    with variable_scope(scope or "decoder"):
        init_finished, init_inputs, init_state = decoder.initialize()
        init_finished = convert_to_tensor(init_finished)
        in_leaves = [convert_to_tensor(x) for x in _nest.flatten(init_inputs)]
        st_leaves = [convert_to_tensor(x) for x in _nest.flatten(init_state)]
        st_names = _state_leaf_names(init_state)
        time_slot = _Slot("decoder/while/time", int32, [])
        in_slots = [_slot_like(x, "decoder/while/inputs") for x in in_leaves]
        st_slots = [_slot_like(x, f"decoder/while/{n}") for x, n in zip(st_leaves, st_names)]
        outputs, next_state, next_inputs, finished = decoder.step(
            time_slot,
            _nest.pack_sequence_as(init_inputs, in_slots),
            _nest.pack_sequence_as(init_state, st_slots),
        )
    out_leaves = [convert_to_tensor(x) for x in _nest.flatten(outputs)]
    ns_leaves = [convert_to_tensor(x) for x in _nest.flatten(next_state)]
    ni_leaves = [convert_to_tensor(x) for x in _nest.flatten(next_inputs)]
    finished = convert_to_tensor(finished)
    if len(ns_leaves) != len(st_leaves) or len(ni_leaves) != len(in_leaves):
        raise ValueError(
            "The decoder's step must return the next state and inputs in the structure of its "
            f"initial ones: got {len(ns_leaves)} state and {len(ni_leaves)} input tensors for "
            f"{len(st_leaves)} and {len(in_leaves)}."
        )
    own_lengths = decoder.tracks_own_finished and hasattr(next_state, "lengths")
    step_outs = [*out_leaves, *ns_leaves, *ni_leaves, finished]
    frag = Fragment([time_slot, *in_slots, *st_slots], step_outs)
    n_out, n_st, n_in = len(out_leaves), len(ns_leaves), len(in_leaves)
    lengths_index = _nest.flatten(_lengths_marker(next_state)).index(True) if own_lengths else -1
    outer_first = [init_finished, *in_leaves, *st_leaves, *([] if max_iter is None else [max_iter])]
    inputs = [*outer_first, *frag.outer]
    n_first = len(outer_first)
    # TF stacks the outputs in TensorArrays shaped (decoder.batch_size, *output_size): the batch is
    # the decoder's static one, whatever the cell's step found; the final state keeps the loop
    # variables' (the initial state's) batch
    batch_dim = decoder.batch_size if isinstance(decoder.batch_size, int) else None
    out_dims = [None if d is None else [batch_dim, *d[1:]] for d in map(static_dims, out_leaves)]
    tracks_own = _py_bool(decoder.tracks_own_finished)

    def run(sess: Any, *values: Any) -> Any:
        first, rest = values[:n_first], values[n_first:]
        env = {id(n): v for n, v in zip(frag.outer, rest)}
        finished_v = first[0].bool()
        inputs_v = list(first[1 : 1 + n_in])
        state_v = list(first[1 + n_in : 1 + n_in + n_st])
        limit = None if max_iter is None else int(first[-1])
        batch = finished_v.shape[0]
        if limit is not None:
            finished_v = finished_v | (limit <= 0)
        lengths = torch.zeros(finished_v.shape, dtype=torch.int32)
        emitted: list[list[torch.Tensor]] = []
        t = 0
        while not bool(finished_v.all()):
            if limit is None and t >= MAX_STEPS_WITHOUT_LIMIT:
                raise InvalidArgumentError(
                    f"dynamic_decode ran {MAX_STEPS_WITHOUT_LIMIT} steps and some batch entries "
                    "are still not finished (does the end token ever come?); pass "
                    "maximum_iterations to bound decoding."
                )
            res = frag.run(sess, env, [torch.tensor(t, dtype=torch.int32), *inputs_v, *state_v])
            outs = res[:n_out]
            new_state = res[n_out : n_out + n_st]
            new_inputs = res[n_out + n_st : n_out + n_st + n_in]
            dec_finished = res[-1].bool()
            if tracks_own:
                next_finished = dec_finished
            else:
                next_finished = dec_finished | finished_v
            if lengths_index >= 0:
                next_lengths = new_state[lengths_index].to(torch.int32)
            else:
                next_lengths = torch.where(finished_v, lengths, torch.full_like(lengths, t + 1))
            if limit is not None:
                next_finished = next_finished | (t + 1 >= limit)
            if impute_finished:
                outs = [_where_rows(finished_v, torch.zeros_like(o), o) for o in outs]
                new_state = [
                    n if n.dim() == 0 or n.shape != s.shape else _where_rows(finished_v, s, n)
                    for n, s in zip(new_state, state_v)
                ]
            emitted.append(outs)
            finished_v, inputs_v, state_v, lengths = (
                next_finished,
                new_inputs,
                new_state,
                next_lengths,
            )
            t += 1
        if emitted:
            stacked = [torch.stack([e[k] for e in emitted]) for k in range(n_out)]
        else:
            stacked = [
                torch.zeros(0, batch, *[d or 0 for d in (dims or [None])[1:]], dtype=o.dtype.torch)
                for dims, o in zip(out_dims, out_leaves)
            ]
        return stacked, state_v, lengths

    node = LoopNode(graph.unique_name("decoder/while"), inputs, run, graph)
    stacked = [
        leaf(node, (0, k), o.dtype, None if d is None else [None, *d]) for k, (o, d) in
        enumerate(zip(out_leaves, out_dims))
    ]  # fmt: skip
    final_state_leaves = [
        leaf(node, (1, k), s.dtype, _loop_dims(static_dims(s), static_dims(s0)))
        for k, (s, s0) in enumerate(zip(ns_leaves, st_leaves))
    ]
    lengths_t = leaf(node, (2,), int32, static_dims(init_finished))
    final_outputs = _nest.pack_sequence_as(outputs, stacked)
    final_state = _nest.pack_sequence_as(init_state, final_state_leaves)
    final_state = mark_alignment_histories(final_state)
    if hasattr(decoder, "finalize"):
        final_outputs, final_state = decoder.finalize(final_outputs, final_state, lengths_t)
    if not output_time_major:
        final_outputs = _nest.map_structure(_batch_major, final_outputs)
    return final_outputs, final_state, lengths_t


def _loop_dims(step: list | None, first: list | None) -> list | None:
    """A loop variable's static shape after the loop: the step's, with the initial value's batch."""
    if step is None or not step or first is None or len(first) != len(step):
        return step
    return [first[0], *step[1:]]


def _batch_major(t: Tensor) -> Tensor:
    if t.shape.ndims is not None and t.shape.ndims < 2:
        return t
    perm = None if t.shape.ndims is None else [1, 0, *range(2, t.shape.ndims)]
    if perm is None:
        return op("transpose", t.dtype, None, [t], lambda v: v.transpose(0, 1))
    return array_ops.transpose(t, perm)


def _state_leaf_names(state: Any, root: str = "state") -> list[str]:
    """A name per leaf of ``state``: the namedtuple field it sits under (``alignment_history``...),
    ``root`` for a leaf under no field."""
    names: list[str] = []

    def walk(s: Any, name: str) -> None:
        if _nest.is_sequence(s):
            fields = getattr(s, "_fields", None)
            for k, item in enumerate(s):
                walk(item, fields[k] if fields else name)
        else:
            names.append(name)

    walk(state, root)
    return names


def _lengths_marker(state: Any) -> Any:
    """``state`` with True at its ``lengths`` field and False elsewhere (beam search)."""

    def mark(s: Any, is_len: _py_bool) -> Any:
        if _nest.is_sequence(s):
            fields = getattr(s, "_fields", None)
            parts = [mark(item, is_len or (fields is not None and fields[k] == "lengths"))
                     for k, item in enumerate(s)]  # fmt: skip
            return type(s)(*parts) if fields else tuple(parts)
        return is_len

    return mark(state, False)
