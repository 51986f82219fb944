"""``tf.contrib.seq2seq.sequence_loss`` (TensorFlow 1.15's ``contrib/seq2seq/python/ops/loss.py``).

``logits [batch, time, classes]``, ``targets [batch, time]`` class ids, ``weights [batch, time]``.
The per-position cross-entropy times the weight is summed and divided (``div_no_nan``) by the summed
weights over both axes (both ``average_across_*``, a scalar), over time only (``[batch]``) or over
the batch only (``[time]``); with neither, the weighted losses ``[batch, time]``. ``sum_over_*``
sum instead and divide by the number of non-zero weights.
"""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.compat.v1.ops import Tensor, convert_to_tensor, name_scope

__all__ = ["sequence_loss"]


def _div_no_nan(x: Tensor, y: Tensor) -> Tensor:
    return Tensor(
        "div_no_nan",
        x.dtype,
        x.shape,
        [x, y],
        fn=lambda a, b: torch.where(
            b == 0, torch.zeros_like(a), a / torch.where(b == 0, torch.ones_like(b), b)
        ),
    )


def _count_nonzero(w: Tensor, axis: Any, dtype: Any) -> Tensor:
    from rnnkit.compat.v1.math_ops import cast, not_equal, reduce_sum

    return reduce_sum(cast(not_equal(w, 0.0), dtype), axis=axis)


def sequence_loss(
    logits: Any,
    targets: Any,
    weights: Any,
    average_across_timesteps: bool = True,
    average_across_batch: bool = True,
    sum_over_timesteps: bool = False,
    sum_over_batch: bool = False,
    softmax_loss_function: Any = None,
    name: str | None = None,
) -> Tensor:
    """Weighted cross-entropy of a batch of sequences (see the module)."""
    from rnnkit.compat.v1.array_ops import reshape
    from rnnkit.compat.v1.math_ops import reduce_sum
    from rnnkit.compat.v1.nn import sparse_softmax_cross_entropy_with_logits

    logits = convert_to_tensor(logits)
    targets = convert_to_tensor(targets)
    weights = convert_to_tensor(weights)
    for what, t, rank, form in (
        ("logits", logits, 3, "[batch_size x sequence_length x logits]"),
        ("targets", targets, 2, "[batch_size x sequence_length]"),
        ("weights", weights, 2, "[batch_size x sequence_length]"),
    ):
        if t.shape.ndims != rank:
            raise ValueError(
                f"Received an invalid value for argument `{what}`: expected a {form} tensor, got "
                f"shape {t.shape}."
            )
    if average_across_timesteps and sum_over_timesteps:
        raise ValueError(
            "average_across_timesteps and sum_over_timesteps cannot be set to True at same time."
        )
    if average_across_batch and sum_over_batch:
        raise ValueError(
            "average_across_batch and sum_over_batch cannot be set to True at same time."
        )
    if softmax_loss_function is not None and not callable(softmax_loss_function):
        raise TypeError(
            "Received an invalid value for argument `softmax_loss_function`: expected a function "
            f"(labels=, logits=) -> losses, got {softmax_loss_function!r}."
        )
    b, t_, c = logits.shape.as_list()
    if c is None:
        raise ValueError(
            "Received an invalid value for argument `logits`: the number of classes (its last "
            f"dimension) must be known, got shape {logits.shape}."
        )
    with name_scope(name, "sequence_loss"):
        logits_flat = reshape(logits, [-1, c])
        flat_targets = reshape(targets, [-1])
        if softmax_loss_function is None:
            crossent = sparse_softmax_cross_entropy_with_logits(
                labels=flat_targets, logits=logits_flat
            )
        else:
            crossent = softmax_loss_function(labels=flat_targets, logits=logits_flat)
        crossent *= reshape(weights, [-1])
        if average_across_timesteps and average_across_batch:
            return _div_no_nan(reduce_sum(crossent), reduce_sum(weights))
        if sum_over_timesteps and sum_over_batch:
            return _div_no_nan(reduce_sum(crossent), _count_nonzero(weights, None, crossent.dtype))
        from rnnkit.compat.v1.array_ops import shape

        bt = [b, t_] if b is not None and t_ is not None else shape(logits)[0:2]
        crossent = reshape(crossent, bt)
        if average_across_timesteps or average_across_batch:
            axis = [0] if average_across_batch else [1]
            return _div_no_nan(reduce_sum(crossent, axis=axis), reduce_sum(weights, axis=axis))
        if sum_over_timesteps or sum_over_batch:
            axis = [0] if sum_over_batch else [1]
            count = _count_nonzero(weights, axis, crossent.dtype)
            return _div_no_nan(reduce_sum(crossent, axis=axis), count)
        return crossent
