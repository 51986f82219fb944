"""``tf.losses`` (TensorFlow's ``ops/losses/losses_impl.py``): per-example losses reduced to a scalar
mean over the examples (``SUM_BY_NONZERO_WEIGHTS`` with unit weights), added to ``GraphKeys.LOSSES``."""

from __future__ import annotations

from typing import Any

from rnnkit.compat.v1 import math_ops, nn
from rnnkit.compat.v1.ops import GraphKeys, Tensor, add_to_collection, convert_to_tensor

__all__ = [
    "sparse_softmax_cross_entropy",
    "softmax_cross_entropy",
    "sigmoid_cross_entropy",
    "mean_squared_error",
    "absolute_difference",
    "log_loss",
    "get_losses",
    "get_total_loss",
]


def _reduce(per_example: Tensor, weights: Any, loss_collection: Any) -> Tensor:
    if isinstance(weights, (int, float)) and weights == 1.0:
        loss = math_ops.reduce_mean(per_example)
    else:  # weighted mean over the non-zero weights
        w = math_ops.multiply(
            convert_to_tensor(weights, per_example.dtype), per_example * 0.0 + 1.0
        )
        nonzero = math_ops.reduce_sum(math_ops.cast(math_ops.not_equal(w, 0.0), per_example.dtype))
        loss = math_ops.divide(math_ops.reduce_sum(per_example * w), math_ops.maximum(nonzero, 1.0))
    if loss_collection is not None:
        add_to_collection(loss_collection, loss)
    return loss


def sparse_softmax_cross_entropy(
    labels: Any,
    logits: Any,
    weights: Any = 1.0,
    scope: Any = None,
    loss_collection: Any = GraphKeys.LOSSES,
    reduction: Any = None,
) -> Tensor:
    return _reduce(
        nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits),
        weights,
        loss_collection,
    )


def softmax_cross_entropy(
    onehot_labels: Any,
    logits: Any,
    weights: Any = 1.0,
    label_smoothing: float = 0,
    scope: Any = None,
    loss_collection: Any = GraphKeys.LOSSES,
    reduction: Any = None,
) -> Tensor:
    labels = convert_to_tensor(onehot_labels, convert_to_tensor(logits).dtype)
    if label_smoothing:
        n = labels.shape.as_list()[-1]
        labels = labels * (1 - label_smoothing) + label_smoothing / n
    return _reduce(
        nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits),
        weights,
        loss_collection,
    )


def sigmoid_cross_entropy(
    multi_class_labels: Any,
    logits: Any,
    weights: Any = 1.0,
    label_smoothing: float = 0,
    scope: Any = None,
    loss_collection: Any = GraphKeys.LOSSES,
    reduction: Any = None,
) -> Tensor:
    labels = convert_to_tensor(multi_class_labels, convert_to_tensor(logits).dtype)
    if label_smoothing:
        labels = labels * (1 - label_smoothing) + 0.5 * label_smoothing
    return _reduce(
        nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits), weights, loss_collection
    )


def mean_squared_error(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    scope: Any = None,
    loss_collection: Any = GraphKeys.LOSSES,
    reduction: Any = None,
) -> Tensor:
    p = convert_to_tensor(predictions)
    return _reduce(
        math_ops.squared_difference(p, convert_to_tensor(labels, p.dtype)), weights, loss_collection
    )


def absolute_difference(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    scope: Any = None,
    loss_collection: Any = GraphKeys.LOSSES,
    reduction: Any = None,
) -> Tensor:
    p = convert_to_tensor(predictions)
    return _reduce(math_ops.abs_(p - convert_to_tensor(labels, p.dtype)), weights, loss_collection)


def log_loss(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    epsilon: float = 1e-7,
    scope: Any = None,
    loss_collection: Any = GraphKeys.LOSSES,
    reduction: Any = None,
) -> Tensor:
    p = convert_to_tensor(predictions)
    y = convert_to_tensor(labels, p.dtype)
    per = -y * math_ops.log(p + epsilon) - (1 - y) * math_ops.log(1 - p + epsilon)
    return _reduce(per, weights, loss_collection)


def get_losses(scope: Any = None, loss_collection: Any = GraphKeys.LOSSES) -> list[Tensor]:
    from rnnkit.compat.v1.ops import get_collection

    return get_collection(loss_collection, scope)


def get_total_loss(add_regularization_losses: bool = True, name: str = "total_loss") -> Tensor:
    losses = get_losses()
    if not losses:
        raise ValueError("No losses found in the LOSSES collection.")
    return math_ops.add_n(losses)
