"""``tf.metrics``: streaming metrics over local variables (TensorFlow 1.x's ``metrics_impl``).

A mean metric keeps a running ``total`` and ``count`` in two float32 local variables named
``<scope>/total`` and ``<scope>/count`` (``precision``/``recall``: ``<scope>/true_positives/count``
and ``<scope>/false_positives/count`` or ``<scope>/false_negatives/count``; collections
``local_variables`` and
``metric_variables``; ``tf.local_variables_initializer()`` sets them to zero) and returns
``(value, update_op)``: running ``update_op`` adds a batch and evaluates to the new ratio; ``value``
reads the ratio without updating. The ratio of a zero count is 0, as TF's ``div_no_nan``.
"""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.compat.v1 import math_ops
from rnnkit.compat.v1.dtypes import float32
from rnnkit.compat.v1.ops import GraphKeys, Tensor, convert_to_tensor, get_default_graph
from rnnkit.compat.v1.variables import Variable, assign_add, variable_scope

__all__ = [
    "accuracy",
    "mean",
    "mean_squared_error",
    "mean_absolute_error",
    "precision",
    "recall",
]

METRIC_VARIABLES = "metric_variables"


def _ratio(total: Tensor, count: Tensor, name: str) -> Tensor:
    def fn(t: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return torch.where(c > 0, t / torch.where(c > 0, c, torch.ones_like(c)), t.new_zeros(()))

    return Tensor(name, float32, [], [total, count], fn=fn)


def _metric_variable(name: str) -> Variable:
    return Variable(
        0.0,
        trainable=False,
        name=name,
        dtype=float32,
        collections=[GraphKeys.LOCAL_VARIABLES, METRIC_VARIABLES],
    )


def _collect(collections: Any, value: Any, what: str) -> None:
    if collections is None:
        return
    if isinstance(collections, str) or not isinstance(collections, (list, tuple)):
        raise TypeError(
            f"Received an invalid value for argument `{what}`: expected a list of collection "
            f"names, got {collections!r}."
        )
    for key in collections:
        get_default_graph().add_to_collection(key, value)


def _outputs(
    numerator: Tensor,
    denominator: Tensor,
    numerator_update: Tensor,
    denominator_update: Tensor,
    metrics_collections: Any,
    updates_collections: Any,
) -> tuple[Tensor, Tensor]:
    """A ratio metric's ``(value, update_op)``: ``value`` reads the local variables, ``update_op``
    divides the values their update ops return; each joins the collections the caller named."""
    value = _ratio(numerator, denominator, "value")
    update_op = _ratio(numerator_update, denominator_update, "update_op")
    _collect(metrics_collections, value, "metrics_collections")
    _collect(updates_collections, update_op, "updates_collections")
    return value, update_op


def _mean(values: Tensor, weights: Any, metrics_collections: Any, updates_collections: Any):
    total = _metric_variable("total")
    count = _metric_variable("count")
    values = math_ops.cast(values, float32) if values.dtype is not float32 else values
    if weights is None:
        batch_total = math_ops.reduce_sum(values)
        batch_count = math_ops.cast(
            Tensor("Size", float32, [], [values], fn=lambda v: torch.tensor(float(v.numel()))),
            float32,
        )
    else:
        w = convert_to_tensor(weights)
        w = math_ops.cast(w, float32) if w.dtype is not float32 else w
        if not values.shape.is_compatible_with(w.shape) and w.shape.ndims not in (None, 0):
            try:
                math_ops._broadcast("Mul", values.shape, w.shape)
            except ValueError:
                raise ValueError(
                    f"weights can not be broadcast to values. values.shape={values.shape}. "
                    f"weights.shape={w.shape}."
                ) from None
        batch_total = math_ops.reduce_sum(values * w)
        ones = Tensor("OnesLike", float32, values.shape, [values], fn=torch.ones_like)
        batch_count = math_ops.reduce_sum(ones * w)
    return _outputs(
        total,
        count,
        assign_add(total, batch_total),
        assign_add(count, batch_count),
        metrics_collections,
        updates_collections,
    )


def mean(
    values: Any,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """``tf.metrics.mean(values, weights=None)``: the running (weighted) mean of ``values``:
    ``total += sum(values * weights)``, ``count += sum(weights)`` (broadcast to ``values``)."""
    with variable_scope(name, default_name="mean"):
        return _mean(convert_to_tensor(values), weights, metrics_collections, updates_collections)


def _squeeze_pair(labels: Tensor, predictions: Tensor) -> tuple[Tensor, Tensor]:
    """TF's ``remove_squeezable_dimensions``: a trailing dimension of 1 on the one of higher
    rank (by exactly one) is dropped."""
    from rnnkit.compat.v1 import array_ops

    rl, rp = labels.shape.ndims, predictions.shape.ndims
    if rl is not None and rp is not None:
        if rp == rl + 1 and predictions.shape.as_list()[-1] in (1, None):
            predictions = array_ops.squeeze(predictions, [-1])
        elif rl == rp + 1 and labels.shape.as_list()[-1] in (1, None):
            labels = array_ops.squeeze(labels, [-1])
    return labels, predictions


def accuracy(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """``tf.metrics.accuracy(labels, predictions, weights=None)``: the running (weighted) fraction
    of ``predictions`` equal to ``labels`` (predictions are cast to the labels' dtype first)."""
    labels = convert_to_tensor(labels)
    predictions = convert_to_tensor(predictions)
    if labels.dtype is not predictions.dtype:
        predictions = math_ops.cast(predictions, labels.dtype)
    labels, predictions = _check_pair(labels, predictions, "tf.metrics.accuracy")
    with variable_scope(name, default_name="accuracy"):
        correct = math_ops.cast(math_ops.equal(predictions, labels), float32)
        return _mean(correct, weights, metrics_collections, updates_collections)


def _check_pair(labels: Any, predictions: Any, what: str) -> tuple[Tensor, Tensor]:
    labels = convert_to_tensor(labels)
    predictions = convert_to_tensor(predictions)
    labels, predictions = _squeeze_pair(labels, predictions)
    if not labels.shape.is_compatible_with(predictions.shape):
        raise ValueError(
            f"Shapes {predictions.shape} and {labels.shape} are incompatible ({what}: predictions "
            "and labels)."
        )
    return labels, predictions


def _float(t: Tensor) -> Tensor:
    return t if t.dtype is float32 else math_ops.cast(t, float32)


def _error_metric(
    labels: Any,
    predictions: Any,
    weights: Any,
    metrics_collections: Any,
    updates_collections: Any,
    name: str | None,
    kind: str,
    error: Any,
) -> tuple[Tensor, Tensor]:
    """The running (weighted) mean of ``error(predictions - labels)`` in scope ``name`` or
    ``kind``."""
    labels, predictions = _check_pair(labels, predictions, f"tf.metrics.{kind}")
    with variable_scope(name, default_name=kind):
        err = error(_float(predictions) - _float(labels))
        return _mean(err, weights, metrics_collections, updates_collections)


def mean_squared_error(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """``tf.metrics.mean_squared_error``: the running (weighted) mean of
    ``(predictions - labels)^2``."""
    return _error_metric(
        labels, predictions, weights, metrics_collections, updates_collections, name,
        "mean_squared_error", math_ops.square,
    )  # fmt: skip


def mean_absolute_error(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """``tf.metrics.mean_absolute_error``: the running (weighted) mean of
    ``|predictions - labels|``."""
    return _error_metric(
        labels, predictions, weights, metrics_collections, updates_collections, name,
        "mean_absolute_error", math_ops.abs_,
    )  # fmt: skip


def _count(condition: Tensor, weights: Any, scope: str) -> tuple[Variable, Tensor]:
    """A ``<scope>/count`` variable and the op adding the (weighted) number of true elements."""
    with variable_scope(scope):
        count = _metric_variable("count")
        hits = math_ops.cast(condition, float32)
        if weights is not None:
            hits = hits * _float(convert_to_tensor(weights))
        return count, assign_add(count, math_ops.reduce_sum(hits))


def _ratio_metric(
    labels: Any,
    predictions: Any,
    weights: Any,
    metrics_collections: Any,
    updates_collections: Any,
    name: str | None,
    kind: str,
) -> tuple[Tensor, Tensor]:
    labels, predictions = _check_pair(labels, predictions, f"tf.metrics.{kind}")
    lab = math_ops.cast(labels, _bool()) if labels.dtype is not _bool() else labels
    pred = math_ops.cast(predictions, _bool()) if predictions.dtype is not _bool() else predictions
    with variable_scope(name, default_name=kind):
        tp, tp_up = _count(math_ops.logical_and(lab, pred), weights, "true_positives")
        if kind == "precision":
            other = math_ops.logical_and(math_ops.logical_not(lab), pred)
            miss, miss_up = _count(other, weights, "false_positives")
        else:
            other = math_ops.logical_and(lab, math_ops.logical_not(pred))
            miss, miss_up = _count(other, weights, "false_negatives")
        return _outputs(
            tp, tp + miss, tp_up, tp_up + miss_up, metrics_collections, updates_collections
        )


def _bool() -> Any:
    from rnnkit.compat.v1.dtypes import bool as tf_bool

    return tf_bool


def precision(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """``tf.metrics.precision``: true positives / (true positives + false positives), labels and
    predictions taken as booleans; 0 while nothing was predicted true."""
    return _ratio_metric(
        labels, predictions, weights, metrics_collections, updates_collections, name, "precision"
    )


def recall(
    labels: Any,
    predictions: Any,
    weights: Any = None,
    metrics_collections: Any = None,
    updates_collections: Any = None,
    name: str | None = None,
) -> tuple[Tensor, Tensor]:
    """``tf.metrics.recall``: true positives / (true positives + false negatives), labels and
    predictions taken as booleans; 0 while no label was true."""
    return _ratio_metric(
        labels, predictions, weights, metrics_collections, updates_collections, name, "recall"
    )
