"""``tf.contrib.seq2seq`` (TensorFlow 1.x's ``contrib/seq2seq``): helpers, ``BasicDecoder``,
``dynamic_decode``, the attention mechanisms and ``AttentionWrapper``, ``BeamSearchDecoder``,
``tile_batch`` and
``sequence_loss``, with TF1's semantics and variable names (see each module)."""

from __future__ import annotations

from typing import Any

import torch

from rnnkit import _nest
from rnnkit.compat.v1.ops import Tensor, convert_to_tensor, name_scope
from rnnkit.compat.v1.seq2seq.attention_wrapper import (
    AttentionMechanism,
    AttentionWrapper,
    AttentionWrapperState,
    BahdanauAttention,
    LuongAttention,
)
from rnnkit.compat.v1.seq2seq.beam_search import (
    BeamSearchDecoder,
    BeamSearchDecoderOutput,
    BeamSearchDecoderState,
    FinalBeamSearchDecoderOutput,
    gather_tree,
)
from rnnkit.compat.v1.seq2seq.decoder import (
    BasicDecoder,
    BasicDecoderOutput,
    Decoder,
    dynamic_decode,
    op,
    static_dims,
)
from rnnkit.compat.v1.seq2seq.dense import Dense as Dense  # tf.layers.Dense
from rnnkit.compat.v1.seq2seq.helper import (
    CustomHelper,
    GreedyEmbeddingHelper,
    Helper,
    SampleEmbeddingHelper,
    ScheduledEmbeddingTrainingHelper,
    TrainingHelper,
)
from rnnkit.compat.v1.seq2seq_loss import sequence_loss

__all__ = [
    "AttentionMechanism",
    "AttentionWrapper",
    "AttentionWrapperState",
    "BahdanauAttention",
    "BasicDecoder",
    "BasicDecoderOutput",
    "BeamSearchDecoder",
    "BeamSearchDecoderOutput",
    "BeamSearchDecoderState",
    "FinalBeamSearchDecoderOutput",
    "CustomHelper",
    "Decoder",
    "GreedyEmbeddingHelper",
    "Helper",
    "LuongAttention",
    "SampleEmbeddingHelper",
    "ScheduledEmbeddingTrainingHelper",
    "TrainingHelper",
    "dynamic_decode",
    "gather_tree",
    "sequence_loss",
    "tile_batch",
]


def tile_batch(t: Any, multiplier: int, name: str | None = None) -> Any:
    """Each batch entry repeated ``multiplier`` times in a row: ``(B, ...) -> (B * multiplier,
    ...)``, for every tensor of the structure ``t`` (TF1's ``tile_batch``, for beam search)."""
    if isinstance(multiplier, bool) or not isinstance(multiplier, int) or multiplier < 1:
        raise ValueError(
            "Received an invalid value for argument `multiplier`: expected a positive integer, got "
            f"{multiplier!r}."
        )

    def tile(x: Any) -> Tensor:
        x = convert_to_tensor(x)
        dims = static_dims(x)
        if dims is not None and len(dims) == 0:
            raise ValueError("t must have statically known rank")
        shape = None if dims is None else [None if dims[0] is None else dims[0] * multiplier,
                                           *dims[1:]]  # fmt: skip
        return op("tile_batch", x.dtype, shape, [x],
                  lambda v: torch.repeat_interleave(v, multiplier, dim=0))  # fmt: skip

    with name_scope(name, "tile_batch"):
        return _nest.map_structure(tile, t)
