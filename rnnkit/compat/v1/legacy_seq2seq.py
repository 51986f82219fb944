"""``tf.contrib.legacy_seq2seq``: ``embedding_rnn_seq2seq``, ``sequence_loss_by_example`` and
``sequence_loss`` (TensorFlow's ``legacy_seq2seq/seq2seq.py``).

The losses are TensorFlow's graphs op for op: per time step ``sparse_softmax_cross_entropy_with_logits
* weight``, summed with ``add_n``; ``average_across_timesteps`` divides by ``add_n(weights) + 1e-12``;
``sequence_loss`` sums over the batch and (``average_across_batch``) divides by the batch size.

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

__all__ = ["embedding_rnn_seq2seq", "sequence_loss_by_example", "sequence_loss"]


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


def _steps(name: str, value: Any) -> list[Any]:
    if isinstance(value, Tensor) or not isinstance(value, (list, tuple)) or not value:
        raise TypeError(
            f"Received an invalid value for argument `{name}`: expected a non-empty list with one "
            f"tensor per time step, got {value!r}."
        )
    return list(value)


def sequence_loss_by_example(
    logits: Any,
    targets: Any,
    weights: Any,
    average_across_timesteps: bool = True,
    softmax_loss_function: Any = None,
    name: str | None = None,
) -> Tensor:
    """Weighted cross-entropy per example: ``logits`` a list of ``[batch, classes]`` tensors,
    ``targets`` of ``[batch]`` class ids, ``weights`` of ``[batch]`` floats (one per time step).
    Returns the ``[batch]`` log-perplexities (divided by the summed weights when
    ``average_across_timesteps``). ``softmax_loss_function(labels=, logits=)`` replaces the softmax."""
    logits = _steps("logits", logits)
    targets = _steps("targets", targets)
    weights = _steps("weights", weights)
    if len(targets) != len(logits) or len(weights) != len(logits):
        raise ValueError(
            "Lengths of logits, weights, and targets must be the same "
            f"{len(logits)}, {len(weights)}, {len(targets)}."
        )
    if softmax_loss_function is not None and not callable(softmax_loss_function):
        raise TypeError(
            "Received an invalid value for argument `softmax_loss_function`: expected a function "
            f"(labels=, logits=) -> losses, got {softmax_loss_function!r}."
        )
    from rnnkit.compat.v1.array_ops import reshape
    from rnnkit.compat.v1.math_ops import add_n
    from rnnkit.compat.v1.nn import sparse_softmax_cross_entropy_with_logits
    from rnnkit.compat.v1.ops import name_scope

    with name_scope(name, "sequence_loss_by_example"):
        log_perp_list = []
        for logit, target, weight in zip(logits, targets, weights):
            if softmax_loss_function is None:
                target = reshape(target, [-1])
                crossent = sparse_softmax_cross_entropy_with_logits(labels=target, logits=logit)
            else:
                crossent = softmax_loss_function(labels=target, logits=logit)
            log_perp_list.append(crossent * weight)
        log_perps = add_n(log_perp_list)
        if average_across_timesteps:
            total_size = add_n(weights)
            total_size += 1e-12  # TensorFlow's guard against all-zero weights
            log_perps /= total_size
    return log_perps


def sequence_loss(
    logits: Any,
    targets: Any,
    weights: Any,
    average_across_timesteps: bool = True,
    average_across_batch: bool = True,
    softmax_loss_function: Any = None,
    name: str | None = None,
) -> Tensor:
    """``reduce_sum(sequence_loss_by_example(...))``, divided by the batch size when
    ``average_across_batch``: a scalar."""
    from rnnkit.compat.v1.array_ops import shape
    from rnnkit.compat.v1.math_ops import cast, reduce_sum
    from rnnkit.compat.v1.ops import name_scope

    with name_scope(name, "sequence_loss"):
        cost = reduce_sum(
            sequence_loss_by_example(
                logits,
                targets,
                weights,
                average_across_timesteps=average_across_timesteps,
                softmax_loss_function=softmax_loss_function,
            )
        )
        if average_across_batch:
            batch_size = shape(_steps("targets", targets)[0])[0]
            return cost / cast(batch_size, cost.dtype)
        return cost
