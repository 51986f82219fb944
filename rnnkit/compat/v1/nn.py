"""``tf.nn`` ops (TensorFlow's ``ops/nn_ops.py``, ``nn_impl.py``, ``embedding_ops.py``): activations,
softmax and the cross-entropy losses, ``in_top_k``, ``embedding_lookup``, ``nce_loss``, ``dropout``.

Losses follow TensorFlow's numerically stable formulas (``sigmoid_cross_entropy_with_logits`` is
``max(x, 0) - x * z + log(1 + exp(-|x|))``), per example, without reduction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from rnnkit.compat.v1 import _xent
from rnnkit.compat.v1.candidate_sampling import sampled_logits
from rnnkit.compat.v1.dtypes import bool as tf_bool
from rnnkit.compat.v1.dtypes import float32
from rnnkit.compat.v1.errors import InvalidArgumentError
from rnnkit.compat.v1.math_ops import (
    _broadcast,
    _pair,
    elu,
    relu,
    relu6,
    selu,
    sigmoid,
    softplus,
    tanh,
)
from rnnkit.compat.v1.ops import Tensor, convert_to_tensor
from rnnkit.compat.v1.random_ops import RandomTensor
from rnnkit.compat.v1.tensor_shape import TensorShape

__all__ = [
    "relu",
    "relu6",
    "elu",
    "selu",
    "softplus",
    "tanh",
    "sigmoid",
    "leaky_relu",
    "softmax",
    "log_softmax",
    "sparse_softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2",
    "sigmoid_cross_entropy_with_logits",
    "l2_loss",
    "in_top_k",
    "embedding_lookup",
    "nce_loss",
    "dropout",
    "bias_add",
    "xw_plus_b",
]


def _float(x: Any, what: str) -> Tensor:
    t = convert_to_tensor(x, float32) if not isinstance(x, Tensor) else x
    if not t.dtype.is_floating:
        raise TypeError(
            f"Received an invalid value for argument `{what}`: expected a float tensor, got {t.dtype.name} ({t.name!r})."
        )
    return t


def leaky_relu(features: Any, alpha: float = 0.2, name: str | None = None) -> Tensor:
    x = _float(features, "features")
    return Tensor(name or "LeakyRelu", x.dtype, x.shape, [x], fn=lambda v: F.leaky_relu(v, alpha))


def _softmax_axis(x: Tensor, axis: Any) -> int:
    """``axis`` checked against ``x``'s rank as TensorFlow does (InvalidArgumentError when the graph
    is built, or when it runs for a tensor of unknown rank)."""
    a = int(axis)
    r = x.shape.ndims
    if r is None and a != -1:  # TF cannot tell whether it is the last axis: a TypeError there too
        raise TypeError(
            f"Received an invalid value for argument `axis`: softmax over axis {a} needs a tensor "
            f"of known rank ({x.name!r} has an unknown rank); use axis=-1."
        )
    if r is not None and not -r <= a < r:
        raise InvalidArgumentError(
            f"`dim` must be in the range [{-r}, {r}) where {r} is the number of dimensions in the "
            f"input. Received: dim={a}"
        )
    return a


def _softmax_like(op: str, fn: Any, logits: Any, axis: Any, dim: Any, name: Any) -> Tensor:
    x = _float(logits, "logits")
    a = _softmax_axis(x, dim if dim is not None else axis)

    def run(v: torch.Tensor) -> torch.Tensor:
        if not -v.dim() <= a < v.dim():
            raise InvalidArgumentError(
                f"`dim` must be in the range [{-v.dim()}, {v.dim()}) where {v.dim()} is the number "
                f"of dimensions in the input. Received: dim={a}"
            )
        return fn(v, a)

    return Tensor(name or op, x.dtype, x.shape, [x], fn=run)


def softmax(logits: Any, axis: int = -1, name: str | None = None, dim: Any = None) -> Tensor:
    return _softmax_like("Softmax", torch.softmax, logits, axis, dim, name)


def log_softmax(logits: Any, axis: int = -1, name: str | None = None, dim: Any = None) -> Tensor:
    return _softmax_like("LogSoftmax", torch.log_softmax, logits, axis, dim, name)


def bias_add(value: Any, bias: Any, data_format: Any = None, name: str | None = None) -> Tensor:
    x, b = _pair(value, bias, "BiasAdd")
    if b.shape.ndims is not None and b.shape.ndims != 1:
        raise ValueError(
            f"Received an invalid value for argument `bias`: expected a 1-D tensor, got shape "
            f"{b.shape} ({b.name!r})."
        )
    if x.shape.ndims is not None and x.shape.ndims < 2:
        raise ValueError(
            f"Received an invalid value for argument `value`: expected a tensor of rank >= 2, got "
            f"shape {x.shape} ({x.name!r})."
        )
    n_value = x.shape.as_list()[-1] if x.shape.ndims else None
    n_bias = b.shape.as_list()[0] if b.shape.ndims == 1 else None
    if n_value is not None and n_bias is not None and n_value != n_bias:
        raise ValueError(_bias_size_message(n_bias, n_value, b, x))
    shape = x.shape
    if shape.ndims and n_value is None and n_bias is not None:  # the bias tells the last size
        shape = TensorShape(shape.as_list()[:-1] + [n_bias])

    def fn(v: torch.Tensor, bv: torch.Tensor) -> torch.Tensor:
        if bv.dim() != 1 or v.dim() < 2 or bv.shape[0] != v.shape[-1]:
            raise InvalidArgumentError(
                _bias_size_message(
                    bv.shape[0] if bv.dim() == 1 else f"(shape {tuple(bv.shape)})",
                    v.shape[-1] if v.dim() else f"(shape {tuple(v.shape)})",
                    b,
                    x,
                )
            )
        return v + bv

    return Tensor(name or "BiasAdd", x.dtype, shape, [x, b], fn=fn)


def _bias_size_message(n_bias: Any, n_value: Any, b: Tensor, x: Tensor) -> str:
    return (
        f"Received an invalid value for argument `bias`: its size must equal the last dimension "
        f"of `value`, got bias size {n_bias} ({b.name!r}) and last dimension {n_value} "
        f"({x.name!r})."
    )


def _check_named(kwargs: dict[str, Any], op: str) -> None:
    for k in ("labels", "logits"):
        if kwargs.get(k) is None:
            raise ValueError(
                f"Only call `{op}` with named arguments (labels=..., logits=...), missing {k}."
            )


def sparse_softmax_cross_entropy_with_logits(
    _sentinel: Any = None, labels: Any = None, logits: Any = None, name: str | None = None
) -> Tensor:
    """``-log softmax(logits)[label]`` per example; ``labels (B,)`` class ids, ``logits (B, C)``."""
    _check_named({"labels": labels, "logits": logits}, "sparse_softmax_cross_entropy_with_logits")
    x = _float(logits, "logits")
    y = convert_to_tensor(labels)
    if not y.dtype.is_integer:
        raise TypeError(
            f"Received an invalid value for argument `labels`: expected int32/int64 class ids, got {y.dtype.name} ({y.name!r})."
        )
    xs, ys = x.shape, y.shape
    if xs.ndims is not None and ys.ndims is not None and ys.ndims != xs.ndims - 1:
        raise ValueError(
            f"Rank mismatch: Rank of labels (received {ys.ndims}) should equal rank of logits minus 1 (received {xs.ndims})."
        )
    if xs.ndims is not None and ys.ndims is not None:
        for a, b in zip(ys.as_list(), xs.as_list()[:-1]):
            if a is not None and b is not None and a != b:
                raise ValueError(_labels_shape_message(ys, xs))

    def fn(lv: torch.Tensor, yv: torch.Tensor) -> torch.Tensor:
        if tuple(yv.shape) != tuple(lv.shape[:-1]):
            raise InvalidArgumentError(_labels_shape_message(tuple(yv.shape), tuple(lv.shape)))
        c = lv.shape[-1]
        if yv.numel() and (int(yv.min()) < 0 or int(yv.max()) >= c):
            raise InvalidArgumentError(
                f"Received a label value of {int(yv.max()) if int(yv.max()) >= c else int(yv.min())} which is outside the valid range of [0, {c})."
            )
        logp = torch.log_softmax(lv, -1)
        return -logp.gather(-1, yv.long().unsqueeze(-1)).squeeze(-1)

    shape = ys
    if xs.ndims is not None:  # labels' shape merged with logits' leading dimensions
        lead = TensorShape(xs.as_list()[:-1])
        shape = lead if ys.ndims is None else ys.merge_with(lead)
    return Tensor(name or "SparseSoftmaxCrossEntropyWithLogits", x.dtype, shape, [x, y], fn=fn)


def _labels_shape_message(labels_shape: Any, logits_shape: Any) -> str:
    return (
        "`labels.shape` must equal `logits.shape` except for the last dimension. Received: "
        f"labels.shape={labels_shape} and logits.shape={logits_shape}"
    )


def softmax_cross_entropy_with_logits_v2(
    _sentinel: Any = None,
    labels: Any = None,
    logits: Any = None,
    axis: int = -1,
    name: str | None = None,
    dim: Any = None,
) -> Tensor:
    """``-sum(labels * log softmax(logits))`` per example (gradients reach the labels too)."""
    _check_named({"labels": labels, "logits": logits}, "softmax_cross_entropy_with_logits")
    x = _float(logits, "logits")
    y = convert_to_tensor(labels, x.dtype)
    a = dim if dim is not None else axis
    if not x.shape.is_compatible_with(y.shape):
        raise ValueError(f"Shapes {x.shape} and {y.shape} are incompatible (logits and labels).")
    # labels' known sizes count too, once the logits' rank is known
    both = x.shape if x.shape.ndims is None else x.shape.merge_with(y.shape)
    shape = (
        None
        if both.ndims is None
        else [d for i, d in enumerate(both.as_list()) if i != a % both.ndims]
    )

    def fn(lv: torch.Tensor, yv: torch.Tensor) -> torch.Tensor:
        if _xent.takes(lv, yv):  # large (a vocabulary): TF's kernel, one pass over each row
            return _xent.softmax_xent(lv, yv, a)
        # TF's kernel: the gradient to the logits is softmax - labels even when the labels do not
        # sum to 1 (-sum(labels * log_softmax) alone would give sum(labels) * softmax - labels);
        # the added term is zero in value and carries (1 - sum(labels)) * softmax
        logp = torch.log_softmax(lv, a)
        lse = torch.logsumexp(lv, a)
        c = (1 - yv.sum(a)).detach()
        return -(yv * logp).sum(a) + (c * lse - (c * lse).detach())

    return Tensor(name or "SoftmaxCrossEntropyWithLogits", x.dtype, shape, [x, y], fn=fn)


def softmax_cross_entropy_with_logits(
    _sentinel: Any = None,
    labels: Any = None,
    logits: Any = None,
    dim: int = -1,
    name: str | None = None,
    axis: Any = None,
) -> Tensor:
    """As ``_v2``, but no gradient flows into ``labels`` (TensorFlow 1.x's deprecated version)."""
    _check_named({"labels": labels, "logits": logits}, "softmax_cross_entropy_with_logits")
    from rnnkit.compat.v1.array_ops import stop_gradient

    return softmax_cross_entropy_with_logits_v2(
        labels=stop_gradient(labels), logits=logits, axis=dim if axis is None else axis, name=name
    )


def sigmoid_cross_entropy_with_logits(
    _sentinel: Any = None, labels: Any = None, logits: Any = None, name: str | None = None
) -> Tensor:
    """``max(x, 0) - x * z + log(1 + exp(-|x|))`` elementwise (x logits, z labels)."""
    _check_named({"labels": labels, "logits": logits}, "sigmoid_cross_entropy_with_logits")
    x = _float(logits, "logits")
    z = convert_to_tensor(labels, x.dtype)
    if (
        x.shape.ndims is not None
        and z.shape.ndims is not None
        and not x.shape.is_compatible_with(z.shape)
    ):
        raise ValueError(f"logits and labels must have the same shape ({x.shape} vs {z.shape})")
    shape = _broadcast("logistic_loss", x.shape, z.shape)  # TF's elementwise ops' shape
    return Tensor(name or "logistic_loss", x.dtype, shape, [x, z], fn=_sigmoid_ce)


def _sigmoid_ce(xv: torch.Tensor, zv: torch.Tensor) -> torch.Tensor:
    """TF's formula with its ``where``s: at logits exactly 0 the gradient is ``0.5 - labels``
    (``clamp`` and ``abs`` give ``1 - labels`` there)."""
    pos = xv >= 0
    relu = torch.where(pos, xv, torch.zeros_like(xv))
    neg_abs = torch.where(pos, -xv, xv)
    return relu - xv * zv + torch.log1p(torch.exp(neg_abs))


def l2_loss(t: Any, name: str | None = None) -> Tensor:
    x = _float(t, "t")
    return Tensor(name or "L2Loss", x.dtype, [], [x], fn=lambda v: (v * v).sum() / 2)


def in_top_k(predictions: Any, targets: Any, k: int, name: str | None = None) -> Tensor:
    """Whether each target's prediction is among the ``k`` largest of its row (ties count as in)."""
    p, t = _float(predictions, "predictions"), convert_to_tensor(targets)
    batch = None if p.shape.ndims is None else p.shape.as_list()[0]
    if batch is None and t.shape.ndims == 1:  # the batch size from the targets
        batch = t.shape.as_list()[0]

    def fn(pv: torch.Tensor, tv: torch.Tensor) -> torch.Tensor:
        t = tv.long()
        valid = (t >= 0) & (t < pv.shape[1])  # a target out of range is not in the top k (TF)
        target = pv.gather(1, torch.where(valid, t, 0).unsqueeze(1))
        above = (pv > target).sum(1)
        return (above < k) & torch.isfinite(target.squeeze(1)) & valid

    return Tensor(name or "InTopKV2", tf_bool, [batch], [p, t], fn=fn)


def embedding_lookup(
    params: Any,
    ids: Any,
    partition_strategy: str = "mod",
    name: str | None = None,
    validate_indices: bool = True,
    max_norm: Any = None,
) -> Tensor:
    """Rows of ``params (V, D)`` for integer ``ids`` of any shape: ``ids.shape + (D,)``."""
    from rnnkit.compat.v1.array_ops import gather

    if isinstance(params, (list, tuple)):
        if len(params) != 1:
            raise TypeError(
                "embedding_lookup over several partitions is outside rnnkit.compat.v1's subset."
            )
        params = params[0]
    return gather(params, ids, name=name or "embedding_lookup")


def dropout(
    x: Any,
    keep_prob: Any = None,
    noise_shape: Any = None,
    seed: Any = None,
    name: str | None = None,
    rate: Any = None,
) -> Tensor:
    """Zero each element with probability ``1 - keep_prob``, scale the rest by ``1 / keep_prob``."""
    v = _float(x, "x")
    if keep_prob is None and rate is None:
        raise ValueError("tf.nn.dropout needs keep_prob (or rate).")
    kp = (
        convert_to_tensor(keep_prob if keep_prob is not None else 1 - rate, v.dtype)
        if not isinstance(keep_prob, Tensor)
        else keep_prob
    )

    def draw(gen: torch.Generator, xv: torch.Tensor, pv: torch.Tensor) -> torch.Tensor:
        p = float(pv)
        if not 0 < p <= 1:
            raise InvalidArgumentError(
                f"keep_prob must be a scalar tensor or a float in the range (0, 1], got {p}"
            )
        if p == 1.0:
            return xv
        mask = (torch.rand(xv.shape, generator=gen, dtype=xv.dtype) < p).to(xv.dtype)
        return xv * mask / p

    return RandomTensor(name or "dropout", v.dtype, v.shape, draw, seed, inputs=[v, kp])


def nce_loss(
    weights: Any,
    biases: Any,
    labels: Any,
    inputs: Any,
    num_sampled: int,
    num_classes: int,
    num_true: int = 1,
    sampled_values: Any = None,
    remove_accidental_hits: bool = False,
    partition_strategy: str = "mod",
    name: str = "nce_loss",
) -> Tensor:
    """Noise-contrastive estimation loss per example ``(B,)``: sigmoid cross entropy of the true
    classes against ``num_sampled`` classes drawn from TensorFlow's log-uniform (Zipfian) sampler,
    with logits corrected by ``log(expected count)``. Sampling is with replacement (TensorFlow draws
    unique classes); the expected counts follow that choice."""
    w, b, x = _float(weights, "weights"), _float(biases, "biases"), _float(inputs, "inputs")
    y = convert_to_tensor(labels)
    n, c, nt = int(num_sampled), int(num_classes), int(num_true)
    ranks = np.arange(c, dtype=np.float64)
    probs = torch.from_numpy((np.log(ranks + 2) - np.log(ranks + 1)) / np.log(c + 1))
    batch = None if x.shape.ndims is None else x.shape.as_list()[0]

    def draw(
        gen: torch.Generator, wv: torch.Tensor, bv: torch.Tensor, xv: torch.Tensor, yv: torch.Tensor
    ) -> torch.Tensor:
        yv = yv.long().reshape(xv.shape[0], nt)
        sampled = torch.multinomial(probs, n, replacement=True, generator=gen)
        logits, targets = sampled_logits(
            wv, bv, xv, yv, sampled,
            torch.log(n * probs[yv]).to(xv.dtype),
            torch.log(n * probs[sampled]).to(xv.dtype),
            remove_accidental_hits,
        )  # fmt: skip
        loss = torch.clamp(logits, min=0) - logits * targets + torch.log1p(torch.exp(-logits.abs()))
        return loss.sum(1)

    return RandomTensor(name, x.dtype, [batch], draw, None, inputs=[w, b, x, y])


_ = (elu, relu, relu6, selu, sigmoid, softplus, tanh)  # re-exported as tf.nn.*


def xw_plus_b(x: Any, weights: Any, biases: Any, name: str | None = None) -> Tensor:
    """``matmul(x, weights) + biases`` (``bias_add``): ``x (B, I)``, ``weights (I, O)``, ``biases (O,)``."""
    from rnnkit.compat.v1.math_ops import matmul

    return bias_add(matmul(x, weights), biases, name=name or "xw_plus_b")
