"""Decoding helpers (TensorFlow 1.x's ``contrib/seq2seq/python/ops/helper.py``): ``TrainingHelper``
(teacher forcing) and ``GreedyEmbeddingHelper`` (feed back the embedded argmax), built with graph
ops as TF1 builds them, for ``BasicDecoder``.

``TrainingHelper``: entry b is finished once ``time + 1 >= sequence_length[b]``; the next input is
``inputs[:, time + 1]`` (zeros once every entry is finished). ``GreedyEmbeddingHelper``: the sample
is ``argmax(outputs, -1)`` (int32), an entry is finished when it samples ``end_token``, the next
input is the embedded sample (the start inputs once every entry is finished).
``SampleEmbeddingHelper`` draws the sample from ``softmax(outputs / softmax_temperature)`` instead.
``ScheduledEmbeddingTrainingHelper`` is a ``TrainingHelper`` that, with probability
``sampling_probability`` per entry and step, draws a sample from ``softmax(outputs)`` and feeds its
embedding instead of the next true input (sample id -1 where it does not). Draws come from the
session's generator for the op (seeded by the graph and op seeds); the streams are torch's, not
TensorFlow's.
"""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.compat.v1.dtypes import bool as tf_bool
from rnnkit.compat.v1.dtypes import int32
from rnnkit.compat.v1.errors import InvalidArgumentError
from rnnkit.compat.v1.nn import embedding_lookup
from rnnkit.compat.v1.ops import Tensor, convert_to_tensor
from rnnkit.compat.v1.random_ops import RandomTensor
from rnnkit.compat.v1.seq2seq._graph import op, static_dims

__all__ = [
    "Helper",
    "TrainingHelper",
    "GreedyEmbeddingHelper",
    "SampleEmbeddingHelper",
    "ScheduledEmbeddingTrainingHelper",
    "CustomHelper",
]


class Helper:
    """The interface ``BasicDecoder`` uses: ``batch_size``, ``sample_ids_shape``,
    ``sample_ids_dtype``, ``initialize() -> (finished, next_inputs)``,
    ``sample(time, outputs, state) -> sample_ids`` and
    ``next_inputs(time, outputs, state, sample_ids) -> (finished, next_inputs, next_state)``."""

    @property
    def sample_ids_shape(self) -> Any:
        from rnnkit.compat.v1.tensor_shape import TensorShape

        return TensorShape([])

    @property
    def sample_ids_dtype(self) -> Any:
        return int32


def _argmax_ids(outputs: Any) -> Tensor:
    if not isinstance(outputs, Tensor):
        raise TypeError(f"Expected outputs to be a single Tensor, got: {type(outputs)}")
    dims = static_dims(outputs)
    return op(
        "ArgMax",
        int32,
        None if dims is None else dims[:-1],
        [outputs],
        lambda v: v.argmax(-1).to(torch.int32),
    )


class TrainingHelper(Helper):
    """``TrainingHelper(inputs, sequence_length, time_major=False)``: read ``inputs``
    ``(batch, time, depth)`` (``(time, batch, depth)`` when ``time_major``) one step at a time."""

    def __init__(
        self, inputs: Any, sequence_length: Any, time_major: bool = False, name: Any = None
    ) -> None:
        x = convert_to_tensor(inputs)
        if x.shape.ndims is not None and x.shape.ndims < 3:
            raise ValueError(
                "Received an invalid value for argument `inputs`: expected a (batch, time, depth) "
                f"tensor, got shape {x.shape}."
            )
        lengths = convert_to_tensor(sequence_length, int32)
        if not lengths.dtype.is_integer:
            raise TypeError(
                "Received an invalid value for argument `sequence_length`: expected an int32 "
                f"vector, got {lengths.dtype.name}."
            )
        if lengths.shape.ndims not in (None, 1):
            raise ValueError(
                f"Expected sequence_length to be a vector, but received shape: {lengths.shape}"
            )
        if not isinstance(time_major, bool):
            raise TypeError(f"Received an invalid value for argument `time_major`: {time_major!r}.")
        dims = static_dims(x)
        self._time_major = time_major
        self._inputs = x
        self._lengths = lengths
        self._step_dims = (
            None if dims is None else ([dims[1]] if time_major else [dims[0]]) + dims[2:]
        )
        self._batch = None if dims is None else (dims[1] if time_major else dims[0])

    @property
    def inputs(self) -> Tensor:
        return self._inputs

    @property
    def sequence_length(self) -> Tensor:
        return self._lengths

    @property
    def batch_size(self) -> Any:
        return self._batch

    def _read(self, time: Any, finished: Tensor) -> Tensor:
        tm = self._time_major

        def fn(x: torch.Tensor, t: torch.Tensor, done: torch.Tensor) -> torch.Tensor:
            seq = x if tm else x.transpose(0, 1)
            if bool(done.all()):
                return torch.zeros_like(seq[0])
            if int(t) >= seq.shape[0]:
                raise InvalidArgumentError(
                    f"TrainingHelper: a sequence_length is longer than the inputs' {seq.shape[0]} "
                    f"time steps (tried to read step {int(t)})."
                )
            return seq[int(t)]

        return op("TrainingHelper/read", self._inputs.dtype, self._step_dims,
                  [self._inputs, convert_to_tensor(time, int32), finished], fn)  # fmt: skip

    def initialize(self, name: Any = None) -> tuple[Tensor, Tensor]:
        finished = op("Equal", tf_bool, [self._batch], [self._lengths], lambda n: n == 0)
        return finished, self._read(0, finished)

    def sample(self, time: Any, outputs: Any, state: Any, name: Any = None) -> Tensor:
        return _argmax_ids(outputs)

    def next_inputs(
        self, time: Any, outputs: Any, state: Any, sample_ids: Any = None, name: Any = None
    ) -> tuple[Tensor, Tensor, Any]:
        next_time = op("add", int32, [], [convert_to_tensor(time, int32)], lambda t: t + 1)
        finished = op("GreaterEqual", tf_bool, [self._batch], [next_time, self._lengths],
                      lambda t, n: t >= n)  # fmt: skip
        return finished, self._read(next_time, finished), state


class GreedyEmbeddingHelper(Helper):
    """``GreedyEmbeddingHelper(embedding, start_tokens, end_token)``: ``embedding`` is the
    ``(vocab, depth)`` params of ``embedding_lookup`` or a function ``ids -> inputs``."""

    def __init__(self, embedding: Any, start_tokens: Any, end_token: Any) -> None:
        if callable(embedding):
            self._embed = embedding
        else:
            params = convert_to_tensor(embedding)
            self._embed = lambda ids: embedding_lookup(params, ids)
        self._start = convert_to_tensor(start_tokens, int32)
        self._end = convert_to_tensor(end_token, int32)
        if self._start.shape.ndims != 1:
            raise ValueError("start_tokens must be a vector")
        if self._end.shape.ndims != 0:
            raise ValueError("end_token must be a scalar")
        self._batch = static_dims(self._start)[0]
        self._start_inputs = self._embed(self._start)

    @property
    def batch_size(self) -> Any:
        return self._batch

    def initialize(self, name: Any = None) -> tuple[Tensor, Tensor]:
        finished = op("zeros", tf_bool, [self._batch], [self._start],
                      lambda s: torch.zeros(s.shape[0], dtype=torch.bool))  # fmt: skip
        return finished, self._start_inputs

    def sample(self, time: Any, outputs: Any, state: Any, name: Any = None) -> Tensor:
        return _argmax_ids(outputs)

    def next_inputs(
        self, time: Any, outputs: Any, state: Any, sample_ids: Any = None, name: Any = None
    ) -> tuple[Tensor, Tensor, Any]:
        ids = convert_to_tensor(sample_ids)
        finished = op("Equal", tf_bool, static_dims(ids), [ids, self._end], lambda s, e: s == e)
        embedded = convert_to_tensor(self._embed(ids))
        start = self._start_inputs

        def pick(done: torch.Tensor, emb: torch.Tensor, st: torch.Tensor) -> torch.Tensor:
            return st if bool(done.all()) else emb

        nxt = op("cond", embedded.dtype, static_dims(embedded), [finished, embedded, start], pick)
        return finished, nxt, state


class SampleEmbeddingHelper(GreedyEmbeddingHelper):
    """``SampleEmbeddingHelper(embedding, start_tokens, end_token, softmax_temperature=None,
    seed=None)``: as ``GreedyEmbeddingHelper``, the ids drawn from the softmax of the outputs
    (divided by ``softmax_temperature``)."""

    def __init__(
        self,
        embedding: Any,
        start_tokens: Any,
        end_token: Any,
        softmax_temperature: Any = None,
        seed: Any = None,
    ) -> None:
        super().__init__(embedding, start_tokens, end_token)
        self._temperature = softmax_temperature
        self._seed = seed

    def sample(self, time: Any, outputs: Any, state: Any, name: Any = None) -> Tensor:
        if not isinstance(outputs, Tensor):
            raise TypeError(f"Expected outputs to be a single Tensor, got: {type(outputs)}")
        temp = 1.0 if self._temperature is None else convert_to_tensor(self._temperature)
        ins = [outputs] + ([temp] if isinstance(temp, Tensor) else [])

        def draw(gen: torch.Generator, logits: torch.Tensor, t: Any = None) -> torch.Tensor:
            scale = float(t) if t is not None else float(temp)
            probs = torch.softmax(logits.double() / scale, -1)
            return torch.multinomial(probs, 1, generator=gen).squeeze(1).to(torch.int32)

        dims = static_dims(outputs)
        return RandomTensor("SampleEmbeddingHelper/sample", int32,
                            None if dims is None else dims[:-1], draw, self._seed, inputs=ins)  # fmt: skip


class ScheduledEmbeddingTrainingHelper(TrainingHelper):
    """``ScheduledEmbeddingTrainingHelper(inputs, sequence_length, embedding,
    sampling_probability, time_major=False, seed=None, scheduling_seed=None)`` (see the module)."""

    def __init__(
        self,
        inputs: Any,
        sequence_length: Any,
        embedding: Any,
        sampling_probability: Any,
        time_major: bool = False,
        seed: Any = None,
        scheduling_seed: Any = None,
        name: Any = None,
    ) -> None:
        super().__init__(inputs, sequence_length, time_major=time_major)
        if callable(embedding):
            self._embed = embedding
        else:
            params = convert_to_tensor(embedding)
            self._embed = lambda ids: embedding_lookup(params, ids)
        prob = convert_to_tensor(sampling_probability, self._inputs.dtype)
        if prob.shape.ndims not in (None, 0, 1):
            raise ValueError(
                f"sampling_probability must be either a scalar or a vector. saw shape: {prob.shape}"
            )
        if getattr(prob, "_const", None) is not None:
            value = prob._const
            if (value < 0).any() or (value > 1).any():
                raise ValueError(f"sampling_probability must be in [0, 1], got {value.tolist()!r}.")
        self._prob = prob
        self._seed = seed if seed is not None else scheduling_seed

    def sample(self, time: Any, outputs: Any, state: Any, name: Any = None) -> Tensor:
        if not isinstance(outputs, Tensor):
            raise TypeError(f"Expected outputs to be a single Tensor, got: {type(outputs)}")

        def draw(gen: torch.Generator, logits: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
            rows = logits.shape[0]
            select = torch.rand(rows, generator=gen, dtype=torch.float64) < p.double()
            probs = torch.softmax(logits.double(), -1)
            ids = torch.multinomial(probs, 1, generator=gen).squeeze(1).to(torch.int32)
            return torch.where(select, ids, torch.full_like(ids, -1))

        dims = static_dims(outputs)
        return RandomTensor("ScheduledEmbeddingTrainingHelper/sample", int32,
                            None if dims is None else dims[:-1], draw, self._seed,
                            inputs=[outputs, self._prob])  # fmt: skip

    def next_inputs(
        self, time: Any, outputs: Any, state: Any, sample_ids: Any = None, name: Any = None
    ) -> tuple[Tensor, Tensor, Any]:
        finished, base, state = super().next_inputs(time, outputs, state)
        ids = convert_to_tensor(sample_ids)
        safe = op("Maximum", int32, static_dims(ids), [ids], lambda v: v.clamp(min=0))
        embedded = convert_to_tensor(self._embed(safe))

        def mix(done: torch.Tensor, i: torch.Tensor, b: torch.Tensor, e: torch.Tensor) -> Any:
            if bool(done.all()):
                return b
            use = (i > -1).reshape(-1, *([1] * (b.dim() - 1)))
            return torch.where(use, e.to(b.dtype), b)

        nxt = op("ScheduledEmbeddingTrainingHelper/next_inputs", base.dtype, static_dims(base),
                 [finished, ids, base, embedded], mix)  # fmt: skip
        return finished, nxt, state


class CustomHelper(Helper):
    """``CustomHelper(initialize_fn, sample_fn, next_inputs_fn)``: the three functions, built with
    graph ops."""

    def __init__(
        self,
        initialize_fn: Any,
        sample_fn: Any,
        next_inputs_fn: Any,
        sample_ids_shape: Any = None,
        sample_ids_dtype: Any = None,
    ) -> None:
        for what, fn in (("initialize_fn", initialize_fn), ("sample_fn", sample_fn),
                         ("next_inputs_fn", next_inputs_fn)):  # fmt: skip
            if not callable(fn):
                raise TypeError(f"Received an invalid value for argument `{what}`: expected a "
                                f"function, got {fn!r}.")  # fmt: skip
        self._initialize_fn = initialize_fn
        self._sample_fn = sample_fn
        self._next_inputs_fn = next_inputs_fn
        self._batch = None
        self._ids_shape = sample_ids_shape
        self._ids_dtype = sample_ids_dtype

    @property
    def batch_size(self) -> Any:
        return self._batch

    @property
    def sample_ids_shape(self) -> Any:
        from rnnkit.compat.v1.tensor_shape import TensorShape

        return TensorShape(self._ids_shape or [])

    @property
    def sample_ids_dtype(self) -> Any:
        return self._ids_dtype or int32

    def initialize(self, name: Any = None) -> Any:
        finished, inputs = self._initialize_fn()
        dims = static_dims(convert_to_tensor(finished))
        self._batch = None if not dims else dims[0]
        return finished, inputs

    def sample(self, time: Any, outputs: Any, state: Any, name: Any = None) -> Any:
        return self._sample_fn(time=time, outputs=outputs, state=state)

    def next_inputs(
        self, time: Any, outputs: Any, state: Any, sample_ids: Any = None, name: Any = None
    ) -> Any:
        return self._next_inputs_fn(time=time, outputs=outputs, state=state, sample_ids=sample_ids)
