"""``BahdanauAttention``, ``LuongAttention``, ``AttentionWrapper`` and ``AttentionWrapperState``
(TensorFlow 1.x's ``contrib/seq2seq/python/ops/attention_wrapper.py``).

A mechanism holds the ``memory (B, T, D)``: entries past ``memory_sequence_length`` are zeroed and
their scores set to ``-inf`` before the softmax. At construction it makes the keys with the layer
``memory_layer`` (``memory_layer/kernel [D, num_units]``, no bias) in the current variable scope.
Scores for a query ``q``:

- Bahdanau: ``sum(v * tanh(keys + q @ Wq), -1)`` with ``bahdanau_attention/query_layer/kernel`` and
  ``attention_v``; ``normalize`` uses ``g * v / |v|`` (``attention_g``, initially ``sqrt(1 /
  num_units)``) and adds ``attention_b`` inside the tanh;
- Luong: ``q . keys`` (the query must have ``num_units`` entries), times ``luong_attention/
  attention_g`` (initially 1) when ``scale``.

``AttentionWrapper`` (variables under ``attention_wrapper``) feeds the cell
``concat([inputs, previous attention], -1)``; its new attention is the context
``alignments @ values``, passed through ``attention_layer`` (``[cell output + D, size]``, no bias)
when ``attention_layer_size`` is given. It outputs the attention (``output_attention``, the
default) or the cell's output. Its state is ``AttentionWrapperState(cell_state, attention, time,
alignments, alignment_history, attention_state)``; with ``alignment_history`` the history is a
``(time, B, T)`` tensor (``.stack()`` returns it, as TF1's ``TensorArray`` does). Over a list of
mechanisms, each reads its own attention (``attention_layer``, ``attention_layer_1``... and
``bahdanau_attention``, ``bahdanau_attention_1``...) and the attentions are concatenated.
"""

from __future__ import annotations

import collections
import math
from typing import Any

import torch

from rnnkit import _nest
from rnnkit.compat.v1.dtypes import as_dtype, int32
from rnnkit.compat.v1.init_ops import constant_initializer, ones_initializer, zeros_initializer
from rnnkit.compat.v1.ops import Tensor, convert_to_tensor
from rnnkit.compat.v1.rnn_cell import RNNCell, _check_cell
from rnnkit.compat.v1.seq2seq._graph import op, static_dims
from rnnkit.compat.v1.seq2seq.dense import Dense
from rnnkit.compat.v1.variables import AUTO_REUSE, get_variable, variable_scope

__all__ = [
    "BahdanauAttention",
    "LuongAttention",
    "AttentionWrapper",
    "AttentionWrapperState",
    "AttentionMechanism",
]


class AttentionMechanism:
    """Base of the attention mechanisms."""


class _BaseAttention(AttentionMechanism):
    _scope_base = "attention"

    def __init__(
        self,
        num_units: int,
        memory: Any,
        memory_sequence_length: Any,
        probability_fn: Any,
        score_mask_value: Any,
        dtype: Any,
        name: str,
    ) -> None:
        if isinstance(num_units, bool) or not isinstance(num_units, int) or num_units < 1:
            raise ValueError(
                "Received an invalid value for argument `num_units`: expected a positive integer, "
                f"got {num_units!r}."
            )
        if probability_fn is not None and not callable(probability_fn):
            raise TypeError(f"probability_fn must be callable, saw type: {type(probability_fn)}")
        mem = convert_to_tensor(memory, as_dtype(dtype) if dtype is not None else None)
        if mem.shape.ndims != 3:
            raise ValueError(
                "Received an invalid value for argument `memory`: expected a (batch, max_time, "
                f"depth) tensor, got shape {mem.shape}."
            )
        self._num_units = num_units
        self._name = name
        self._probability_fn = probability_fn
        self._score_mask_value = score_mask_value
        self._lengths = None
        if memory_sequence_length is not None:
            self._lengths = convert_to_tensor(memory_sequence_length, int32)
            if self._lengths.shape.ndims not in (None, 1):
                raise ValueError(
                    "Received an invalid value for argument `memory_sequence_length`: expected a "
                    f"vector, got shape {self._lengths.shape}."
                )
        dims = mem.shape.as_list()
        self._batch, self._max_time, self._depth = dims
        if self._depth is None:
            raise ValueError(f"The depth of `memory` must be known, got shape {mem.shape}.")
        if self._lengths is None:
            self._values = mem
        else:
            self._values = op("masked_memory", mem.dtype, dims, [mem, self._lengths], _mask_memory)
        self._memory_layer = Dense(num_units, name="memory_layer", use_bias=False)
        self._keys = self._memory_layer(self._values)
        self._scope: str | None = None

    @property
    def values(self) -> Tensor:
        return self._values

    @property
    def keys(self) -> Tensor:
        return self._keys

    @property
    def memory_layer(self) -> Dense:
        return self._memory_layer

    @property
    def batch_size(self) -> Any:
        return self._batch

    @property
    def alignments_size(self) -> Any:
        return self._max_time

    @property
    def state_size(self) -> Any:
        return self._max_time

    def initial_alignments(self, batch_size: Any, dtype: Any) -> Tensor:
        """Zeros ``(batch_size, max_time)``."""
        dt = as_dtype(dtype)
        b = batch_size if isinstance(batch_size, int) else None
        ins = [self._values] + ([batch_size] if isinstance(batch_size, Tensor) else [])

        def fn(v: torch.Tensor, n: Any = None) -> torch.Tensor:
            rows = int(n) if n is not None else (b if b is not None else v.shape[0])
            return torch.zeros(rows, v.shape[1], dtype=dt.torch)

        return op("zeros", dt, [b, self._max_time], ins, fn)

    def initial_state(self, batch_size: Any, dtype: Any) -> Tensor:
        return self.initial_alignments(batch_size, dtype)

    def _probabilities(self, score: Tensor, state: Any) -> Tensor:
        """The softmax (or ``probability_fn(score, state)``) of ``score``, masked past the memory
        lengths."""
        if self._lengths is not None:
            fill = -math.inf if self._score_mask_value is None else float(self._score_mask_value)
            score = op("masked_score", score.dtype, static_dims(score), [score, self._lengths],
                       lambda s, n: s.masked_fill(~_row_mask(n, s.shape[1]), fill))  # fmt: skip
        if self._probability_fn is not None:
            return convert_to_tensor(self._probability_fn(score, state))
        return op(
            "Softmax", score.dtype, static_dims(score), [score], lambda s: torch.softmax(s, -1)
        )

    def _enter(self) -> Any:
        """The mechanism's variable scope: ``<name>`` the first time (made unique), then the same."""
        if self._scope is None:
            return variable_scope(None, default_name=self._scope_base)
        from rnnkit.compat.v1.variables import get_variable_scope

        outer = get_variable_scope().name
        rel = (
            self._scope[len(outer) + 1 :]
            if outer and self._scope.startswith(outer + "/")
            else self._scope
        )
        return variable_scope(rel, reuse=AUTO_REUSE)

    def __call__(self, query: Any, state: Any) -> tuple[Tensor, Tensor]:
        q = convert_to_tensor(query)
        with self._enter() as vs:
            self._scope = vs.name
            score = self._score(q)
        alignments = self._probabilities(score, state)
        return alignments, alignments


def _row_mask(n: torch.Tensor, width: int) -> torch.Tensor:
    return torch.arange(width, device=n.device).unsqueeze(0) < n.reshape(-1, 1).long()


def _mask_memory(m: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    return m * _row_mask(n, m.shape[1]).unsqueeze(-1).to(m.dtype)


class BahdanauAttention(_BaseAttention):
    """``BahdanauAttention(num_units, memory, memory_sequence_length=None, normalize=False,
    probability_fn=None, score_mask_value=None, dtype=None, name="BahdanauAttention")``."""

    _scope_base = "bahdanau_attention"

    def __init__(
        self,
        num_units: int,
        memory: Any,
        memory_sequence_length: Any = None,
        normalize: bool = False,
        probability_fn: Any = None,
        score_mask_value: Any = None,
        dtype: Any = None,
        custom_key_value_fn: Any = None,
        name: str = "BahdanauAttention",
    ) -> None:
        super().__init__(num_units, memory, memory_sequence_length, probability_fn,
                         score_mask_value, dtype, name)  # fmt: skip
        self._normalize = bool(normalize)
        self._query_layer = Dense(num_units, name="query_layer", use_bias=False)

    @property
    def query_layer(self) -> Dense:
        return self._query_layer

    def _score(self, q: Tensor) -> Tensor:
        pq = self._query_layer(q)
        dt = pq.dtype
        v = get_variable("attention_v", [self._num_units], dtype=dt)
        ins = [pq, self._keys, v]
        if self._normalize:
            g = get_variable("attention_g", [], dtype=dt,
                             initializer=constant_initializer(math.sqrt(1.0 / self._num_units)))  # fmt: skip
            b = get_variable("attention_b", [self._num_units], dtype=dt,
                             initializer=zeros_initializer())  # fmt: skip
            ins += [g, b]

        def fn(pqv: torch.Tensor, keys: torch.Tensor, vv: torch.Tensor, *gb: torch.Tensor) -> Any:
            x = keys + pqv.unsqueeze(1)
            if gb:
                g_, b_ = gb
                vv = g_ * vv * torch.rsqrt((vv * vv).sum())
                x = x + b_
            return (vv * torch.tanh(x)).sum(2)

        return op("bahdanau_score", dt, [static_dims(pq)[0], self._max_time], ins, fn)


class LuongAttention(_BaseAttention):
    """``LuongAttention(num_units, memory, memory_sequence_length=None, scale=False,
    probability_fn=None, score_mask_value=None, dtype=None, name="LuongAttention")``."""

    _scope_base = "luong_attention"

    def __init__(
        self,
        num_units: int,
        memory: Any,
        memory_sequence_length: Any = None,
        scale: bool = False,
        probability_fn: Any = None,
        score_mask_value: Any = None,
        dtype: Any = None,
        custom_key_value_fn: Any = None,
        name: str = "LuongAttention",
    ) -> None:
        super().__init__(num_units, memory, memory_sequence_length, probability_fn,
                         score_mask_value, dtype, name)  # fmt: skip
        self._scale = bool(scale)

    def _score(self, q: Tensor) -> Tensor:
        depth = static_dims(q)[-1] if static_dims(q) else None
        if depth != self._num_units:
            raise ValueError(
                "Incompatible or unknown inner dimensions between query and keys.  Query "
                f"({q.name}) has units: {depth}.  Keys have units: {self._num_units}.  Perhaps you "
                f"need to set num_units to the keys' dimension ({self._num_units})?"
            )
        ins = [q, self._keys]
        if self._scale:
            ins.append(
                get_variable("attention_g", [], dtype=q.dtype, initializer=ones_initializer())
            )

        def fn(qv: torch.Tensor, keys: torch.Tensor, *g: torch.Tensor) -> torch.Tensor:
            s = (keys @ qv.unsqueeze(-1)).squeeze(-1)
            return g[0] * s if g else s

        return op("luong_score", q.dtype, [static_dims(q)[0], self._max_time], ins, fn)


class AttentionWrapperState(
    collections.namedtuple(
        "AttentionWrapperState",
        ("cell_state", "attention", "time", "alignments", "alignment_history", "attention_state"),
    )
):
    """The state of an :class:`AttentionWrapper`; ``clone(**fields)`` replaces fields."""

    def clone(self, **kwargs: Any) -> AttentionWrapperState:
        unknown = set(kwargs) - set(self._fields)
        if unknown:
            raise ValueError(f"Unknown AttentionWrapperState fields: {sorted(unknown)}.")
        return self._replace(**kwargs)


class AttentionWrapper(RNNCell):
    """``AttentionWrapper(cell, attention_mechanism, attention_layer_size=None,
    alignment_history=False, cell_input_fn=None, output_attention=True, initial_cell_state=None,
    name=None)``: ``cell`` reading attention over one mechanism's memory, or over several (a list:
    their attentions concatenated, ``attention_layer_size`` one size per mechanism, the state's
    ``alignments``, ``alignment_history`` and ``attention_state`` tuples); see the module."""

    _tf_name = "attention_wrapper"

    def __init__(
        self,
        cell: Any,
        attention_mechanism: Any,
        attention_layer_size: Any = None,
        alignment_history: bool = False,
        cell_input_fn: Any = None,
        output_attention: bool = True,
        initial_cell_state: Any = None,
        name: str | None = None,
        attention_layer: Any = None,
    ) -> None:
        super().__init__()
        self._cell = _check_cell("cell", cell)
        self._is_multi = isinstance(attention_mechanism, (list, tuple))
        mechs = list(attention_mechanism) if self._is_multi else [attention_mechanism]
        if not mechs or not all(isinstance(m, AttentionMechanism) for m in mechs):
            bad = next((m for m in mechs if not isinstance(m, AttentionMechanism)), mechs)
            raise TypeError(
                "attention_mechanism must be an AttentionMechanism or list of multiple "
                f"AttentionMechanism instances, saw type: {type(bad).__name__}"
            )
        if cell_input_fn is not None and not callable(cell_input_fn):
            raise TypeError(f"cell_input_fn must be callable, saw type: {type(cell_input_fn)}")
        if attention_layer is not None:
            from rnnkit.compat.v1.errors import unsupported

            raise unsupported("AttentionWrapper(attention_layer=...)")
        self._mechs = mechs
        self._layers: list[Dense] | None = None
        if attention_layer_size is not None:
            sizes = (
                list(attention_layer_size)
                if isinstance(attention_layer_size, (list, tuple))
                else [attention_layer_size]
            )
            if len(sizes) != len(mechs):
                raise ValueError(
                    "If provided, attention_layer_size must contain exactly one integer per "
                    f"attention_mechanism, saw: {len(sizes)} vs {len(mechs)}"
                )
            for size in sizes:
                if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                    raise ValueError(
                        "Received an invalid value for argument `attention_layer_size`: expected "
                        f"positive integers, got {attention_layer_size!r}."
                    )
            self._layers = [Dense(n, name="attention_layer", use_bias=False) for n in sizes]
            self._attention_size = sum(sizes)
        else:
            self._attention_size = sum(m._depth for m in mechs)
        self._alignment_history = bool(alignment_history)
        self._cell_input_fn = cell_input_fn
        self._output_attention = bool(output_attention)
        self._initial_cell_state = initial_cell_state
        self._name = name
        self._scope: str | None = None

    def _item_or_tuple(self, items: list[Any]) -> Any:
        return tuple(items) if self._is_multi else items[0]

    @property
    def output_size(self) -> int:
        return self._attention_size if self._output_attention else self._cell.output_size

    @property
    def state_size(self) -> AttentionWrapperState:
        sizes = [m.alignments_size for m in self._mechs]
        return AttentionWrapperState(
            cell_state=self._cell.state_size,
            attention=self._attention_size,
            time=None,
            alignments=self._item_or_tuple(sizes),
            alignment_history=self._item_or_tuple(sizes) if self._alignment_history else (),
            attention_state=self._item_or_tuple([m.state_size for m in self._mechs]),
        )

    def zero_state(self, batch_size: Any, dtype: Any) -> AttentionWrapperState:
        """Zeros (the cell's ``initial_cell_state`` when given) in the state's structure."""
        dt = as_dtype(dtype)
        if self._initial_cell_state is not None:
            cell_state = self._initial_cell_state
        else:
            cell_state = self._cell.zero_state(batch_size, dt)
        ref = convert_to_tensor(_nest.flatten(cell_state)[0])
        size = self._attention_size
        b = batch_size if isinstance(batch_size, int) else None
        attention = op("zeros", dt, [b, size], [ref],
                       lambda r: torch.zeros(r.shape[0], size, dtype=dt.torch))  # fmt: skip
        alignments = [m.initial_alignments(batch_size, dt) for m in self._mechs]
        history: Any = ()
        if self._alignment_history:
            history = self._item_or_tuple([
                op("TensorArray", dt, [None, b, m.alignments_size], [a],
                   lambda av: av.new_zeros(0, *av.shape))
                for m, a in zip(self._mechs, alignments)
            ])  # fmt: skip
        time = op("zeros", int32, [], [], lambda: torch.zeros((), dtype=torch.int32))
        return AttentionWrapperState(
            cell_state=cell_state,
            attention=attention,
            time=time,
            alignments=self._item_or_tuple(alignments),
            alignment_history=history,
            attention_state=self._item_or_tuple(
                [m.initial_state(batch_size, dt) for m in self._mechs]
            ),
        )

    def _enter(self) -> Any:
        if self._scope is None:
            return variable_scope(self._name, default_name="attention_wrapper")
        from rnnkit.compat.v1.variables import get_variable_scope

        outer = get_variable_scope().name
        rel = (
            self._scope[len(outer) + 1 :]
            if outer and self._scope.startswith(outer + "/")
            else self._scope
        )
        return variable_scope(rel, reuse=AUTO_REUSE)

    def __call__(self, inputs: Any, state: Any, scope: str | None = None) -> tuple[Tensor, Any]:
        if not isinstance(state, AttentionWrapperState):
            raise TypeError(
                "Expected state to be instance of AttentionWrapperState. Received type "
                f"{type(state).__name__} instead."
            )
        x = convert_to_tensor(inputs)
        with self._enter() as vs:
            self._scope = vs.name
            if self._cell_input_fn is not None:
                cell_inputs = self._cell_input_fn(x, state.attention)
            else:
                cell_inputs = _concat_last([x, convert_to_tensor(state.attention)])
            cell_output, next_cell_state = self._cell(cell_inputs, state.cell_state)
            multi = self._is_multi
            prev_states = list(state.attention_state) if multi else [state.attention_state]
            prev_hist = list(state.alignment_history) if multi else [state.alignment_history]
            attentions, alignments, att_states, histories = [], [], [], []
            for i, mech in enumerate(self._mechs):
                align, att_state = mech(cell_output, state=prev_states[i])
                values = mech.values
                context = op("context", values.dtype, [static_dims(align)[0], mech._depth],
                             [align, values],
                             lambda a, v: (a.unsqueeze(1) @ v).squeeze(1))  # fmt: skip
                if self._layers is not None:
                    attentions.append(self._layers[i](_concat_last([cell_output, context])))
                else:
                    attentions.append(context)
                alignments.append(align)
                att_states.append(att_state)
                if self._alignment_history:
                    histories.append(
                        op("TensorArrayWrite", align.dtype, static_dims(prev_hist[i]),
                           [prev_hist[i], align],
                           lambda h, a: torch.cat([h, a.unsqueeze(0)], 0))
                    )  # fmt: skip
            attention = attentions[0] if len(attentions) == 1 else _concat_last(attentions)
            time = op("add", int32, [], [state.time], lambda t: t + 1)
        next_state = AttentionWrapperState(
            cell_state=next_cell_state,
            attention=attention,
            time=time,
            alignments=self._item_or_tuple(alignments),
            alignment_history=self._item_or_tuple(histories) if self._alignment_history else (),
            attention_state=self._item_or_tuple(att_states),
        )
        return (attention if self._output_attention else cell_output), next_state


def _concat_last(parts: list[Tensor]) -> Tensor:
    dims = [static_dims(p) for p in parts]
    widths = [None if d is None else d[-1] for d in dims]
    width = None if None in widths else sum(widths)
    batch = next((d[0] for d in dims if d is not None and d[0] is not None), None)
    dt = parts[0].dtype
    return op("concat", dt, [batch, width], parts,
              lambda *vs: torch.cat([v.to(dt.torch) for v in vs], -1))  # fmt: skip
