"""``tf.losses`` (TensorFlow's ``ops/losses/losses_impl.py``): per-example losses weighted and reduced as
``reduction`` says (default: the sum over the number of non-zero weights), added to
``GraphKeys.LOSSES``; predictions and labels must have compatible shapes, as in TF."""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.compat.v1 import array_ops, math_ops, nn
from rnnkit.compat.v1.errors import InvalidArgumentError
from rnnkit.compat.v1.ops import GraphKeys, Tensor, add_to_collection, convert_to_tensor
from rnnkit.compat.v1.tensor_shape import TensorShape

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


_REDUCTIONS = (
    "none",
    "weighted_sum",
    "weighted_mean",
    "weighted_sum_over_batch_size",
    "weighted_sum_by_nonzero_weights",
)


def _div_no_nan(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """``num / den``, and 0 (with gradient 0) where ``den`` is 0 (TF's ``div_no_nan``)."""
    zero = den == 0
    return torch.where(
        zero, torch.zeros_like(num), num / torch.where(zero, torch.ones_like(den), den)
    )


def _check_weights(losses: Tensor, w: Tensor) -> None:
    """TF's broadcast rule for weights: a scalar, or the losses' rank with each size 1 or equal."""
    ls, ws = losses.shape, w.shape
    if ws.ndims in (None, 0) or ls.ndims is None:
        return
    ok = ws.ndims == ls.ndims and all(
        a is None or b is None or a == b or a == 1 for a, b in zip(ws.as_list(), ls.as_list())
    )
    if not ok:
        raise ValueError(
            f"weights can not be broadcast to values. values.rank={ls.ndims}. "
            f"weights.rank={ws.ndims}. values.shape={ls}. weights.shape={ws}."
        )


def _reduce(
    per_example: Tensor,
    weights: Any,
    loss_collection: Any,
    reduction: Any = None,
    weights_shape: TensorShape | None = None,
) -> Tensor:
    """TF's ``compute_weighted_loss``: the losses times ``weights``, then reduced as ``reduction``
    says (default ``weighted_sum_by_nonzero_weights``: the sum over the number of non-zero
    weights, each broadcast to the losses' shape; 0 when there are none). ``weights_shape``: the
    weights' static shape as TF sees it after squeezing, where it differs from theirs."""
    kind = "weighted_sum_by_nonzero_weights" if reduction is None else reduction
    if kind not in _REDUCTIONS:
        raise ValueError(f"Invalid Reduction Key {reduction!r}: expected one of {_REDUCTIONS}.")
    scalar_w = isinstance(weights, (int, float)) and not isinstance(weights, bool)
    w = convert_to_tensor(weights, per_example.dtype) if not scalar_w else None
    if w is not None:
        _check_weights(per_example, w)
    if kind != "none":
        shape = TensorShape([])
    elif w is None:
        shape = per_example.shape
    else:
        w_shape = w.shape if weights_shape is None else weights_shape
        shape = math_ops._broadcast("weighted_loss", per_example.shape, w_shape)
    inputs = [per_example] if w is None else [per_example, w]

    def fn(lv: torch.Tensor, wv: torch.Tensor | None = None) -> torch.Tensor:
        wv = torch.tensor(float(weights), dtype=lv.dtype) if wv is None else wv
        try:
            weighted = lv * wv
        except RuntimeError:
            raise InvalidArgumentError(
                f"weights can not be broadcast to values: values.shape={list(lv.shape)}, "
                f"weights.shape={list(wv.shape)}"
            ) from None
        if kind == "none":
            return weighted
        total = weighted.sum()
        if kind == "weighted_sum":
            return total
        if kind == "weighted_mean":
            return _div_no_nan(total, (torch.ones_like(lv) * wv).sum())
        if kind == "weighted_sum_over_batch_size":
            return _div_no_nan(total, torch.tensor(float(lv.numel()), dtype=lv.dtype))
        if scalar_w and float(weights) != 0.0:
            present = torch.tensor(float(lv.numel()), dtype=lv.dtype)
        else:
            present = torch.broadcast_to((wv != 0).to(lv.dtype), lv.shape).sum()
        return _div_no_nan(total, present)

    loss = Tensor("value" if kind != "none" else "Mul", per_example.dtype, shape, inputs, fn=fn)
    if loss_collection is not None:
        add_to_collection(loss_collection, loss)
    return loss


def _same_shape(a: Tensor, b: Tensor) -> None:
    """TF's losses require predictions and labels (logits and labels) of compatible shapes."""
    if not a.shape.is_compatible_with(b.shape):
        raise ValueError(f"Shapes {a.shape} and {b.shape} are incompatible")


def sparse_softmax_cross_entropy(
    labels: Any,
    logits: Any,
    weights: Any = 1.0,
    scope: Any = None,
    loss_collection: Any = GraphKeys.LOSSES,
    reduction: Any = None,
) -> Tensor:
    per_example = nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    lab, lo = convert_to_tensor(labels).shape, convert_to_tensor(logits).shape
    if lab.ndims is None or lo.ndims is None:
        # TF squeezes labels and logits whose last dim may be 1 by a rank difference known only at
        # run time (their static shapes become unknown); the loss has the labels' shape, merged
        # with the logits' batch where the logits are a matrix
        lab, lo = _run_time_squeezed(lab), _run_time_squeezed(lo)
        if lo.ndims == 2:
            batch = lab.as_list()[0] if lab.ndims == 1 else None
            per_example._shape = TensorShape([lo.as_list()[0] if batch is None else batch])
        else:
            per_example._shape = lab
    return _reduce(per_example, weights, loss_collection, reduction, _weights_shape(lab, weights))


def _run_time_squeezed(shape: TensorShape) -> TensorShape:
    """The static shape of a tensor TF may squeeze at run time (``remove_squeezable_dimensions``
    when a rank is unknown): unknown when its last dim may be 1, else its own."""
    if not shape.ndims or shape.as_list()[-1] in (None, 1):
        return TensorShape(None)
    return shape


def _weights_shape(labels: TensorShape, weights: Any) -> TensorShape | None:
    """The static shape of ``weights`` after TF squeezes a last dim of 1 it has beyond the labels'
    rank (by static ranks when both are known, else at run time); None for a Python number."""
    if isinstance(weights, (int, float)) and not isinstance(weights, bool):
        return None
    w = convert_to_tensor(weights).shape
    if labels.ndims is not None and w.ndims is not None:
        return TensorShape(w.as_list()[:-1]) if w.ndims - labels.ndims == 1 else w
    return TensorShape(None) if w.ndims is None or (w.ndims and w.as_list()[-1] in (None, 1)) else w


def _labels_as(labels: Any, logits: Tensor) -> Tensor:
    """``labels`` in the logits' dtype: TF casts integer (or other float) labels."""
    t = convert_to_tensor(labels)
    return t if t.dtype is logits.dtype else math_ops.cast(t, logits.dtype)


def softmax_cross_entropy(
    onehot_labels: Any,
    logits: Any,
    weights: Any = 1.0,
    label_smoothing: float = 0,
    scope: Any = None,
    loss_collection: Any = GraphKeys.LOSSES,
    reduction: Any = None,
) -> Tensor:
    x = convert_to_tensor(logits)
    labels = _labels_as(onehot_labels, x)
    _same_shape(x, labels)
    labels = array_ops.stop_gradient(labels)  # TF: no gradient into the labels
    if label_smoothing:  # the number of classes read at run time when not known statically
        n = math_ops.cast(array_ops.shape(labels)[-1], labels.dtype)
        labels = labels * (1 - label_smoothing) + label_smoothing / n
    return _reduce(
        nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits),
        weights,
        loss_collection,
        reduction,
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
    x = convert_to_tensor(logits)
    labels = _labels_as(multi_class_labels, x)
    _same_shape(x, labels)
    if label_smoothing:
        labels = labels * (1 - label_smoothing) + 0.5 * label_smoothing
    return _reduce(
        nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=x),
        weights,
        loss_collection,
        reduction,
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
    y = convert_to_tensor(labels, p.dtype)
    _same_shape(p, y)
    return _reduce(math_ops.squared_difference(p, y), weights, loss_collection, reduction)


def absolute_difference(
    labels: Any,
    predictions: Any,
    weights: Any = 1.0,
    scope: Any = None,
    loss_collection: Any = GraphKeys.LOSSES,
    reduction: Any = None,
) -> Tensor:
    p = convert_to_tensor(predictions)
    y = convert_to_tensor(labels, p.dtype)
    _same_shape(p, y)
    return _reduce(math_ops.abs_(p - y), weights, loss_collection, reduction)


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
    _same_shape(p, y)
    per = -y * math_ops.log(p + epsilon) - (1 - y) * math_ops.log(1 - p + epsilon)
    return _reduce(per, weights, loss_collection, reduction)


def get_losses(scope: Any = None, loss_collection: Any = GraphKeys.LOSSES) -> list[Tensor]:
    from rnnkit.compat.v1.ops import get_collection

    return get_collection(loss_collection, scope)


def get_total_loss(add_regularization_losses: bool = True, name: str = "total_loss") -> Tensor:
    losses = get_losses()
    if not losses:
        raise ValueError("No losses found in the LOSSES collection.")
    return math_ops.add_n(losses)
