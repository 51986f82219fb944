"""``BeamSearchDecoder``, its state and outputs, and ``gather_tree`` (TensorFlow 1.x's
``contrib/seq2seq/python/ops/beam_search_decoder.py``).

The decoder keeps ``beam_width`` hypotheses per batch entry. The cell runs on the
``batch * beam_width`` rows (its initial state comes tiled, e.g. by ``tile_batch``); per step the
log-softmax of the (projected) outputs is added to each beam's log-probability (a finished beam
may only emit ``end_token``, at no cost), the scores are those sums divided by the length penalty
``((5 + length) / 6) ** length_penalty_weight``, and the ``beam_width`` best (beam, word) pairs of
each entry become the new beams, their cell states gathered from their parents. A beam finishes at
``end_token``; decoding stops when all have. ``finalize`` follows the parent pointers back
(``gather_tree``) into ``FinalBeamSearchDecoderOutput(predicted_ids, beam_search_decoder_output)``,
``predicted_ids`` of shape ``(batch, time, beam_width)``, best beam first.
"""

from __future__ import annotations

import collections
from typing import Any

import torch

from rnnkit import _nest
from rnnkit.compat.v1.dtypes import bool as tf_bool
from rnnkit.compat.v1.dtypes import float32, int32, int64
from rnnkit.compat.v1.errors import unsupported
from rnnkit.compat.v1.nn import embedding_lookup
from rnnkit.compat.v1.ops import StructNode, Tensor, convert_to_tensor, get_default_graph, leaf
from rnnkit.compat.v1.rnn_cell import _check_cell
from rnnkit.compat.v1.seq2seq._graph import op, static_dims
from rnnkit.compat.v1.seq2seq.decoder import Decoder, _state_leaf_names

__all__ = [
    "BeamSearchDecoder",
    "BeamSearchDecoderOutput",
    "BeamSearchDecoderState",
    "FinalBeamSearchDecoderOutput",
    "gather_tree",
]


class BeamSearchDecoderState(
    collections.namedtuple(
        "BeamSearchDecoderState",
        ("cell_state", "log_probs", "finished", "lengths", "accumulated_attention_probs"),
    )
):
    """The beams' cell states ``(batch, beam, ...)``, log-probabilities, finished flags and
    lengths (int64)."""


class BeamSearchDecoderOutput(
    collections.namedtuple("BeamSearchDecoderOutput", ("scores", "predicted_ids", "parent_ids"))
):
    """One step's beam scores, chosen word ids and the beams they extend."""


class FinalBeamSearchDecoderOutput(
    collections.namedtuple(
        "FinalBeamDecoderOutput", ("predicted_ids", "beam_search_decoder_output")
    )
):
    """``predicted_ids (batch, time, beam)`` after ``gather_tree``, and the raw step outputs."""


def _gather_tree(ids: torch.Tensor, parents: torch.Tensor, max_len: torch.Tensor, end: int) -> Any:
    """TF1's ``GatherTree`` over time-major ``(T, B, K)`` ids and parents."""
    T, B, K = ids.shape
    out = torch.full_like(ids, end)
    ids_l, par_l = ids.tolist(), parents.tolist()
    res = out.tolist()
    for b in range(B):
        n = min(T, int(max_len[b]))
        if n <= 0:
            continue
        for k in range(K):
            res[n - 1][b][k] = ids_l[n - 1][b][k]
            parent = par_l[n - 1][b][k]
            for t in range(n - 2, -1, -1):
                if not 0 <= parent < K:
                    from rnnkit.compat.v1.errors import InvalidArgumentError

                    raise InvalidArgumentError(
                        f"parent id {parent} at step {t + 1} of batch entry {b} is outside [0, {K})"
                    )
                res[t][b][k] = ids_l[t][b][parent]
                parent = par_l[t][b][parent]
            finished = False
            for t in range(n):
                if finished:
                    res[t][b][k] = end
                elif res[t][b][k] == end:
                    finished = True
    return torch.tensor(res, dtype=ids.dtype)


def gather_tree(
    step_ids: Any, parent_ids: Any, max_sequence_lengths: Any, end_token: Any, name: Any = None
) -> Tensor:
    """The full beams ``(T, B, K)`` from per-step ``step_ids`` and ``parent_ids`` (time-major),
    read back from each entry's ``max_sequence_lengths``; ``end_token`` after a beam's end."""
    ids = convert_to_tensor(step_ids, int32)
    parents = convert_to_tensor(parent_ids, int32)
    lengths = convert_to_tensor(max_sequence_lengths, int32)
    end = convert_to_tensor(end_token, int32)
    return op("GatherTree", ids.dtype, static_dims(ids), [ids, parents, lengths, end],
              lambda i, p, n, e: _gather_tree(i, p, n, int(e)))  # fmt: skip


class BeamSearchDecoder(Decoder):
    """``BeamSearchDecoder(cell, embedding, start_tokens, end_token, initial_state, beam_width,
    output_layer=None, length_penalty_weight=0.0, coverage_penalty_weight=0.0,
    reorder_tensor_arrays=True)`` (see the module)."""

    tracks_own_finished = True

    def __init__(
        self,
        cell: Any,
        embedding: Any,
        start_tokens: Any,
        end_token: Any,
        initial_state: Any,
        beam_width: int,
        output_layer: Any = None,
        length_penalty_weight: float = 0.0,
        coverage_penalty_weight: float = 0.0,
        reorder_tensor_arrays: bool = True,
    ) -> None:
        _check_cell("cell", cell)
        if output_layer is not None and not callable(output_layer):
            raise TypeError(f"output_layer must be a Layer, received: {type(output_layer)}")
        if isinstance(beam_width, bool) or not isinstance(beam_width, int) or beam_width < 1:
            raise ValueError(
                "Received an invalid value for argument `beam_width`: expected a positive integer, "
                f"got {beam_width!r}."
            )
        if coverage_penalty_weight != 0.0:
            raise unsupported("BeamSearchDecoder(coverage_penalty_weight != 0)")
        if callable(embedding):
            self._embed = embedding
        else:
            params = convert_to_tensor(embedding)
            self._embed = lambda ids: embedding_lookup(params, ids)
        self._cell = cell
        self._output_layer = output_layer
        self._beam = beam_width
        self._penalty = float(length_penalty_weight)
        self._reorder = bool(reorder_tensor_arrays)
        self._start = convert_to_tensor(start_tokens, int32)
        self._end = convert_to_tensor(end_token, int32)
        if self._start.shape.ndims != 1:
            raise ValueError("start_tokens must be a vector")
        if self._end.shape.ndims != 0:
            raise ValueError("end_token must be a scalar")
        self._batch = static_dims(self._start)[0]
        k = beam_width
        self._start_tokens = op("tile", int32, [self._batch, k], [self._start],
                                lambda s: s.unsqueeze(1).repeat(1, k))  # fmt: skip
        self._start_inputs = convert_to_tensor(self._embed(self._start_tokens))
        self._names = _state_leaf_names(initial_state, "")
        leaves = [convert_to_tensor(x) for x in _nest.flatten(initial_state)]
        split = [self._maybe_split(x, n) for x, n in zip(leaves, self._names)]
        self._initial_cell_state = _nest.pack_sequence_as(initial_state, split)

    @property
    def batch_size(self) -> Any:
        return self._batch

    @property
    def output_size(self) -> Any:
        return BeamSearchDecoderOutput(scores=self._beam, predicted_ids=self._beam,
                                       parent_ids=self._beam)  # fmt: skip

    # -- (batch * beam) <-> (batch, beam) -------------------------------------------------------
    def _split(self, x: Tensor) -> Tensor:
        k = self._beam
        dims = static_dims(x)
        rows = None if dims is None or dims[0] is None else dims[0]
        if rows is not None and rows % k:
            raise ValueError(
                "Unexpected behavior when reshaping between beam width and batch size.  The "
                f"reshaped tensor has shape: {x.shape}.  We expected it to have shape (batch_size, "
                f"beam_width, depth).  Perhaps you forgot to call zero_state with "
                "batch_size=encoder_batch_size * beam_width?"
            )
        shape = None if dims is None else [None if rows is None else rows // k, k, *dims[1:]]
        return op("split_beams", x.dtype, shape, [x],
                  lambda v: v.reshape(v.shape[0] // k, k, *v.shape[1:]))  # fmt: skip

    def _merge(self, x: Tensor) -> Tensor:
        k = self._beam
        dims = static_dims(x)
        shape = None if dims is None else [None if dims[0] is None else dims[0] * k, *dims[2:]]
        return op("merge_beams", x.dtype, shape, [x],
                  lambda v: v.reshape(v.shape[0] * v.shape[1], *v.shape[2:]))  # fmt: skip

    def _maybe_split(self, x: Tensor, name: str) -> Tensor:
        if name == "alignment_history" or (x.shape.ndims is not None and x.shape.ndims < 1):
            return x
        return self._split(x)

    def _maybe_merge(self, x: Tensor, name: str) -> Tensor:
        if name == "alignment_history" or (x.shape.ndims is not None and x.shape.ndims < 2):
            return x
        return self._merge(x)

    # -- the decoder interface -------------------------------------------------------------------
    def initialize(self, name: Any = None) -> tuple[Any, Any, Any]:
        k = self._beam
        dt = _nest.flatten(self._initial_cell_state)[0].dtype
        dt = dt if dt.is_floating else float32
        start = self._start_tokens
        finished = op("finished", tf_bool, [self._batch, k], [start],
                      lambda s: torch.zeros(s.shape, dtype=torch.bool))  # fmt: skip

        def first_beam(s: torch.Tensor) -> torch.Tensor:
            lp = torch.full(s.shape, -float("inf"), dtype=dt.torch)
            lp[:, 0] = 0.0
            return lp

        log_probs = op("log_probs", dt, [self._batch, k], [start], first_beam)
        lengths = op("lengths", int64, [self._batch, k], [start],
                     lambda s: torch.zeros(s.shape, dtype=torch.int64))  # fmt: skip
        state = BeamSearchDecoderState(
            cell_state=self._initial_cell_state,
            log_probs=log_probs,
            finished=finished,
            lengths=lengths,
            accumulated_attention_probs=(),
        )
        return finished, self._start_inputs, state

    def step(self, time: Any, inputs: Any, state: Any, name: Any = None) -> Any:
        k = self._beam
        cell_leaves = _nest.flatten(state.cell_state)
        merged = [self._maybe_merge(x, n) for x, n in zip(cell_leaves, self._names)]
        cell_state = _nest.pack_sequence_as(state.cell_state, merged)
        x = self._merge(convert_to_tensor(inputs))
        cell_outputs, next_cell_state = self._cell(x, cell_state)
        cell_outputs = self._split(convert_to_tensor(cell_outputs))
        next_leaves = [self._maybe_split(convert_to_tensor(s), n)
                       for s, n in zip(_nest.flatten(next_cell_state), self._names)]  # fmt: skip
        if self._output_layer is not None:
            cell_outputs = self._output_layer(cell_outputs)
        logits = convert_to_tensor(cell_outputs)
        penalty = self._penalty
        dt = logits.dtype

        def beam_step(lg: torch.Tensor, log_probs: torch.Tensor, finished: torch.Tensor,
                      lengths: torch.Tensor, end: torch.Tensor) -> Any:  # fmt: skip
            B, K, V = lg.shape
            e = int(end)
            step_lp = torch.log_softmax(lg, -1)
            fin = finished.bool()
            eos_row = torch.full((V,), torch.finfo(lg.dtype).min, dtype=lg.dtype)
            eos_row[e] = 0.0
            step_lp = torch.where(fin.unsqueeze(2), eos_row.expand(B, K, V), step_lp)
            total = log_probs.unsqueeze(2) + step_lp
            add = torch.ones(V, dtype=torch.int64)
            add[e] = 0
            new_len = lengths.unsqueeze(2) + add * (~fin).to(torch.int64).unsqueeze(2)
            scores = total
            if penalty != 0.0:
                scores = total / (((5.0 + new_len.to(lg.dtype)) ** penalty) / (6.0**penalty))
            best, idx = torch.topk(scores.reshape(B, K * V), K, dim=1)
            next_lp = total.reshape(B, K * V).gather(1, idx)
            word = (idx % V).to(torch.int32)
            parent = (idx // V).to(torch.int32)
            prev_fin = fin.gather(1, parent.long())
            next_fin = prev_fin | (word == e)
            next_len = lengths.gather(1, parent.long()) + (~prev_fin).to(torch.int64)
            return best, word, parent, next_lp, next_fin, next_len

        graph = get_default_graph()
        node = StructNode(graph.unique_name("beam_search_step"),
                          [logits, state.log_probs, state.finished, state.lengths, self._end],
                          beam_step, graph)  # fmt: skip
        b = self._batch
        scores = leaf(node, (0,), dt, [b, k])
        word = leaf(node, (1,), int32, [b, k])
        parent = leaf(node, (2,), int32, [b, k])
        next_lp = leaf(node, (3,), dt, [b, k])
        next_fin = leaf(node, (4,), tf_bool, [b, k])
        next_len = leaf(node, (5,), int64, [b, k])
        gathered = [self._gather(s, parent, n) for s, n in zip(next_leaves, self._names)]
        next_state = BeamSearchDecoderState(
            cell_state=_nest.pack_sequence_as(state.cell_state, gathered),
            log_probs=next_lp,
            finished=next_fin,
            lengths=next_len,
            accumulated_attention_probs=(),
        )
        embedded = convert_to_tensor(self._embed(word))
        start = self._start_inputs
        next_inputs = op("cond", embedded.dtype, static_dims(embedded), [next_fin, embedded, start],
                         lambda f, em, st: st if bool(f.all()) else em)  # fmt: skip
        output = BeamSearchDecoderOutput(scores=scores, predicted_ids=word, parent_ids=parent)
        return output, next_state, next_inputs, next_fin

    def _gather(self, s: Tensor, parent: Tensor, name: str) -> Tensor:
        """The rows of ``s (batch, beam, ...)`` of each new beam's parent."""
        if name == "alignment_history" or (s.shape.ndims is not None and s.shape.ndims < 2):
            return s

        def fn(v: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
            index = (
                p.long().reshape(*p.shape, *([1] * (v.dim() - 2))).expand(*p.shape, *v.shape[2:])
            )
            return v.gather(1, index)

        return op("gather_beams", s.dtype, static_dims(s), [s, parent], fn)

    def finalize(self, outputs: Any, final_state: Any, sequence_lengths: Any) -> Any:
        max_len = op("max_lengths", int32, [self._batch], [final_state.lengths],
                     lambda n: n.max(1).values.to(torch.int32))  # fmt: skip
        ids = gather_tree(outputs.predicted_ids, outputs.parent_ids, max_len, self._end)
        if self._reorder:
            leaves = _nest.flatten(final_state.cell_state)
            leaves = [
                self._sort_history(x, outputs.parent_ids, final_state.lengths)
                if n == "alignment_history" and isinstance(x, Tensor) else x
                for x, n in zip(leaves, self._names)
            ]  # fmt: skip
            cell_state = _nest.pack_sequence_as(final_state.cell_state, leaves)
            final_state = final_state._replace(cell_state=cell_state)
        final = FinalBeamSearchDecoderOutput(predicted_ids=ids, beam_search_decoder_output=outputs)
        return final, final_state

    def _sort_history(self, history: Tensor, parent_ids: Tensor, lengths: Tensor) -> Tensor:
        """An alignment history ``(time, batch * beam, ...)`` with each final beam's own past (TF1
        sorts the ``TensorArray`` s of the cell state along the beams' ancestry the same way)."""
        k = self._beam

        def fn(h: torch.Tensor, parents: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
            T, B = parents.shape[0], parents.shape[1]
            if h.shape[0] != T:
                return h
            beam_ids = torch.arange(k, dtype=torch.int32).expand(T, B, k).contiguous()
            ancestry = _gather_tree(beam_ids, parents, n.max(1).values, k + 1)
            mask = torch.arange(T).reshape(T, 1, 1) < n.unsqueeze(0)
            ancestry = torch.where(mask, ancestry, beam_ids).long()
            split = h.reshape(T, B, k, *h.shape[2:])
            index = ancestry.reshape(T, B, k, *([1] * (h.dim() - 2))).expand_as(split)
            return split.gather(2, index).reshape(h.shape)

        hist = op("sort_alignment_history", history.dtype, static_dims(history),
                  [history, parent_ids, lengths], fn)  # fmt: skip
        hist.stack = lambda name=None: hist  # type: ignore[attr-defined]
        return hist
