"""``tf.contrib.legacy_seq2seq.embedding_rnn_seq2seq`` (TensorFlow's ``legacy_seq2seq/seq2seq.py``).

The encoder is a copy of ``cell`` reading embedded encoder symbols; its final state starts the
decoder, ``cell`` wrapped in an ``OutputProjectionWrapper`` to ``num_decoder_symbols`` reading the
embedded decoder inputs. Both run as one ``static_rnn`` node each (rnnkit's runners); variable names
follow TensorFlow's (``embedding_rnn_seq2seq/rnn/embedding_wrapper/embedding``, ...).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from rnnkit.compat.v1.dtypes import float32
from rnnkit.compat.v1.errors import unsupported
from rnnkit.compat.v1.nn import embedding_lookup
from rnnkit.compat.v1.ops import Tensor, convert_to_tensor
from rnnkit.compat.v1.rnn import static_rnn
from rnnkit.compat.v1.rnn_cell import OutputProjectionWrapper, RNNCell, _check_cell
from rnnkit.compat.v1.variables import get_variable, variable_scope

__all__ = ["embedding_rnn_seq2seq"]


def _embedded(inputs: Sequence[Any], num_symbols: int, embedding_size: int) -> list[Tensor]:
    embedding = get_variable("embedding", [num_symbols, embedding_size], dtype=float32)
    return [embedding_lookup(embedding, convert_to_tensor(i)) for i in inputs]


def embedding_rnn_seq2seq(
    encoder_inputs: Sequence[Any],
    decoder_inputs: Sequence[Any],
    cell: RNNCell,
    num_encoder_symbols: int,
    num_decoder_symbols: int,
    embedding_size: int,
    output_projection: Any = None,
    feed_previous: Any = False,
    dtype: Any = None,
    scope: str | None = None,
) -> tuple[list[Tensor], Any]:
    """``(outputs, state)``: T_dec decoder outputs ``(B, num_decoder_symbols)`` and its final state.

    ``encoder_inputs``/``decoder_inputs`` are lists of ``(B,)`` int32 symbol tensors."""
    _check_cell("cell", cell)
    if output_projection is not None:
        raise unsupported("embedding_rnn_seq2seq(output_projection=...)")
    if feed_previous is not False:
        raise unsupported("embedding_rnn_seq2seq(feed_previous=True)")
    for what, seq in (("encoder_inputs", encoder_inputs), ("decoder_inputs", decoder_inputs)):
        if isinstance(seq, Tensor) or not isinstance(seq, (list, tuple)) or not seq:
            raise TypeError(
                f"Received an invalid value for argument `{what}`: expected a non-empty list of (B,) "
                f"int32 tensors, got {seq!r}."
            )
    encoder_cell = copy.deepcopy(cell)  # TF copies the cell: the encoder has its own weights
    encoder_cell._weights = None
    with variable_scope(scope or "embedding_rnn_seq2seq"):
        with variable_scope("rnn"), variable_scope("embedding_wrapper"):
            enc_inputs = _embedded(encoder_inputs, num_encoder_symbols, embedding_size)
        _, encoder_state = static_rnn(
            encoder_cell, enc_inputs, dtype=float32, scope="rnn/embedding_wrapper"
        )
        decoder_cell = OutputProjectionWrapper(cell, num_decoder_symbols)
        with variable_scope("embedding_rnn_decoder"):
            dec_inputs = _embedded(decoder_inputs, num_decoder_symbols, embedding_size)
            outputs, state = static_rnn(
                decoder_cell, dec_inputs, initial_state=encoder_state, scope="rnn_decoder"
            )
    return outputs, state
