"""``tf.contrib.layers`` (TensorFlow 1.x's ``contrib/layers``): ``fully_connected``, ``linear``,
``embed_sequence``, the regularizers and the contrib initializers, and the regularization-loss
helpers of ``tf.losses``.

Variables are named as in TF1: ``fully_connected/weights`` and ``fully_connected/biases`` (then
``fully_connected_1/...``), ``EmbedSequence/embeddings``. A regularizer passed to a layer (or to
``get_variable``) adds its penalty to the ``REGULARIZATION_LOSSES`` collection, which
``tf.losses.get_regularization_loss()`` sums.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import torch

from rnnkit.compat.v1 import math_ops
from rnnkit.compat.v1.dtypes import DType, as_dtype, float32
from rnnkit.compat.v1.init_ops import _Drawn, zeros_initializer
from rnnkit.compat.v1.ops import (
    GraphKeys,
    Tensor,
    add_to_collection,
    constant,
    convert_to_tensor,
    get_collection,
    name_scope,
    unsupported_option,
)
from rnnkit.compat.v1.random_ops import truncated
from rnnkit.compat.v1.variables import get_variable, variable_scope

__all__ = [
    "fully_connected",
    "linear",
    "embed_sequence",
    "l1_regularizer",
    "l2_regularizer",
    "l1_l2_regularizer",
    "sum_regularizer",
    "apply_regularization",
    "xavier_initializer",
    "xavier_initializer_conv2d",
    "variance_scaling_initializer",
]


# ------------------------------------------------------------------------------------------------
# Regularizers
# ------------------------------------------------------------------------------------------------


def _check_scale(scale: Any, message: str) -> bool:
    """TF1's checks of a regularizer's ``scale``; True when the regularizer is a no-op (scale 0)."""
    if isinstance(scale, numbers.Integral):
        raise ValueError(f"scale cannot be an integer: {scale}")
    if isinstance(scale, numbers.Real):
        if scale < 0.0:
            raise ValueError(message % scale)
        return scale == 0.0
    return False


def l1_regularizer(scale: float, scope: str | None = None) -> Callable[[Any], Tensor | None]:
    """``weights -> scale * sum(|weights|)``; ``scale`` 0 gives a regularizer returning None."""
    if _check_scale(scale, "Setting a scale less than 0 on a regularizer: %g"):
        return lambda _: None

    def l1(weights: Any) -> Tensor:
        w = convert_to_tensor(weights)
        with name_scope(scope or "l1_regularizer"):
            return math_ops.multiply(
                convert_to_tensor(scale, w.dtype), math_ops.reduce_sum(math_ops.abs_(w))
            )

    return l1


def l2_regularizer(scale: float, scope: str | None = None) -> Callable[[Any], Tensor | None]:
    """``weights -> scale * sum(weights ** 2) / 2`` (``scale * tf.nn.l2_loss(weights)``)."""
    if _check_scale(scale, "Setting a scale less than 0 on a regularizer: %g."):
        return lambda _: None

    def l2(weights: Any) -> Tensor:
        from rnnkit.compat.v1.nn import l2_loss

        w = convert_to_tensor(weights)
        with name_scope(scope or "l2_regularizer"):
            return math_ops.multiply(convert_to_tensor(scale, w.dtype), l2_loss(w))

    return l2


def sum_regularizer(
    regularizer_list: list[Any], scope: str | None = None
) -> Callable[[Any], Tensor | None]:
    """The sum of the penalties of ``regularizer_list`` (those returning None left out)."""
    regs = [r for r in regularizer_list if r is not None]
    if not regs:
        return lambda _: None

    def total(weights: Any) -> Tensor | None:
        parts = [p for p in (r(weights) for r in regs) if p is not None]
        return math_ops.add_n(parts) if parts else None

    return total


def l1_l2_regularizer(
    scale_l1: float = 1.0, scale_l2: float = 1.0, scope: str | None = None
) -> Callable[[Any], Tensor | None]:
    return sum_regularizer([l1_regularizer(scale_l1), l2_regularizer(scale_l2)], scope=scope)


def apply_regularization(regularizer: Any, weights_list: Any = None) -> Tensor:
    """The sum of ``regularizer(w)`` over ``weights_list`` (default: the ``weights`` collection),
    added to ``REGULARIZATION_LOSSES``."""
    if not weights_list:
        weights_list = get_collection("weights")
    if not weights_list:
        raise ValueError("No weights to regularize.")
    with name_scope("get_regularization_penalty"):
        penalties = [regularizer(w) for w in weights_list]
        penalties = [constant(0.0) if p is None else p for p in penalties]
        summed = math_ops.add_n(penalties)
    add_to_collection(GraphKeys.REGULARIZATION_LOSSES, summed)
    return summed


def get_regularization_losses(scope: str | None = None) -> list[Tensor]:
    """``tf.losses.get_regularization_losses``: the ``REGULARIZATION_LOSSES`` collection."""
    return get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(
    scope: str | None = None, name: str = "total_regularization_loss"
) -> Tensor:
    """``tf.losses.get_regularization_loss``: their sum, or the constant 0.0 when there are none."""
    losses = get_regularization_losses(scope)
    if losses:
        return math_ops.add_n(losses, name=name)
    return constant(0.0, name=name)


# ------------------------------------------------------------------------------------------------
# Initializers (contrib's signatures differ from tf.variance_scaling_initializer's)
# ------------------------------------------------------------------------------------------------


def _float_dtype(dtype: Any) -> DType:
    dt = as_dtype(dtype)
    if not dt.is_floating:
        raise TypeError("Cannot create initializer for non-floating point type.")
    return dt


class _ContribVarianceScaling(_Drawn):
    """Uniform in ``+-sqrt(3 * factor / n)`` or a normal truncated at two standard deviations of
    ``sqrt(1.3 * factor / n)``, ``n`` the fan-in, fan-out or their average."""

    def __init__(self, factor: float, mode: str, uniform: bool, seed: Any, dtype: Any) -> None:
        if mode not in ("FAN_IN", "FAN_OUT", "FAN_AVG"):
            raise TypeError(f"Unknown mode {mode} [FAN_IN, FAN_OUT, FAN_AVG]")
        self.dtype = _float_dtype(dtype)
        self.factor, self.mode, self.uniform, self.seed = float(factor), mode, bool(uniform), seed

    def _make(self, dims: list[int], dt: DType) -> Tensor:
        return super()._make(dims, _float_dtype(dt))

    def _draw(self, gen: torch.Generator, dims: list[int], dtype: torch.dtype) -> torch.Tensor:
        fan_in = float(dims[-2] if len(dims) > 1 else dims[-1]) if dims else 1.0
        fan_out = float(dims[-1]) if dims else 1.0
        for d in dims[:-2]:
            fan_in *= d
            fan_out *= d
        n = {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2.0}[self.mode]
        if self.uniform:
            limit = math.sqrt(3.0 * self.factor / n)
            return (torch.rand(dims, generator=gen, dtype=dtype) * 2 - 1) * limit
        return truncated(gen, dims, dtype) * math.sqrt(1.3 * self.factor / n)


def variance_scaling_initializer(
    factor: float = 2.0,
    mode: str = "FAN_IN",
    uniform: bool = False,
    seed: Any = None,
    dtype: Any = float32,
) -> _ContribVarianceScaling:
    """``tf.contrib.layers.variance_scaling_initializer``: He initialization by default."""
    return _ContribVarianceScaling(factor, mode, uniform, seed, dtype)


def xavier_initializer(
    uniform: bool = True, seed: Any = None, dtype: Any = float32
) -> _ContribVarianceScaling:
    """Glorot/Xavier: ``variance_scaling_initializer(1.0, 'FAN_AVG', uniform)``."""
    return _ContribVarianceScaling(1.0, "FAN_AVG", uniform, seed, dtype)


xavier_initializer_conv2d = xavier_initializer


# ------------------------------------------------------------------------------------------------
# Layers
# ------------------------------------------------------------------------------------------------


def _add_to_collections(collections: Any, value: Any) -> None:
    if collections is None:
        return
    for key in [collections] if isinstance(collections, str) else collections:
        add_to_collection(key, value)


_ZEROS = zeros_initializer()  # TF1's default biases_initializer (None means no biases)


def fully_connected(
    inputs: Any,
    num_outputs: int,
    activation_fn: Any = math_ops.relu,
    normalizer_fn: Any = None,
    normalizer_params: Any = None,
    weights_initializer: Any = None,
    weights_regularizer: Any = None,
    biases_initializer: Any = _ZEROS,
    biases_regularizer: Any = None,
    reuse: Any = None,
    variables_collections: Any = None,
    outputs_collections: Any = None,
    trainable: bool = True,
    scope: Any = None,
) -> Tensor:
    """``activation_fn(inputs @ weights + biases)`` on the last axis of ``inputs (..., I)``.

    Variables ``<scope>/weights (I, num_outputs)`` (xavier-uniform) and ``<scope>/biases`` (zeros;
    none when ``biases_initializer`` is None); the scope defaults to ``fully_connected``,
    ``fully_connected_1``, ... ``activation_fn=None`` gives a linear layer."""
    unsupported_option("fully_connected(normalizer_fn", normalizer_fn)
    if isinstance(num_outputs, bool) or not isinstance(num_outputs, numbers.Integral):
        raise ValueError(
            f"num_outputs type should be one of [<class 'int'>], got {type(num_outputs)}."
        )
    x = convert_to_tensor(inputs)
    if not x.dtype.is_floating:
        raise TypeError(
            f"Unable to build `Dense` layer with non-floating point dtype <dtype: '{x.dtype.name}'>"
        )
    if x.shape.ndims is not None and x.shape.ndims < 2:
        raise ValueError(f"Inputs must be of rank at least 2, got shape {x.shape} ({x.name!r}).")
    width = None if x.shape.ndims is None else x.shape.as_list()[-1]
    if width is None:
        raise ValueError(
            "The last dimension of the inputs to `Dense` should be defined. Found `None`."
        )
    units = int(num_outputs)
    with variable_scope(scope, default_name="fully_connected", reuse=reuse):
        weights = get_variable(
            "weights",
            [width, units],
            dtype=x.dtype,
            initializer=weights_initializer or xavier_initializer(),
            regularizer=weights_regularizer,
            trainable=trainable,
        )
        _add_to_collections(variables_collections, weights)
        biases = None
        if biases_initializer is not None:
            biases = get_variable(
                "biases",
                [units],
                dtype=x.dtype,
                initializer=biases_initializer,
                regularizer=biases_regularizer,
                trainable=trainable,
            )
            _add_to_collections(variables_collections, biases)
        shape = None if x.shape.ndims is None else x.shape.as_list()[:-1] + [units]
        parts = [x, weights] + ([biases] if biases is not None else [])

        def fn(v: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
            y = v @ w
            return y if b is None else y + b

        out = Tensor("BiasAdd" if biases is not None else "MatMul", x.dtype, shape, parts, fn=fn)
        if activation_fn is not None:
            out = activation_fn(out)
    _add_to_collections(outputs_collections, out)
    return out


def linear(inputs: Any, num_outputs: int, **kwargs: Any) -> Tensor:
    """``fully_connected`` without an activation."""
    kwargs.setdefault("activation_fn", None)
    if kwargs["activation_fn"] is not None:
        raise TypeError("linear() got an unexpected keyword argument 'activation_fn'")
    return fully_connected(inputs, num_outputs, **kwargs)


def embed_sequence(
    ids: Any,
    vocab_size: int | None = None,
    embed_dim: int | None = None,
    unique: bool = False,
    initializer: Any = None,
    regularizer: Any = None,
    trainable: bool = True,
    scope: Any = None,
    reuse: Any = None,
) -> Tensor:
    """Rows of a new ``EmbedSequence/embeddings (vocab_size, embed_dim)`` variable for ``ids``:
    ``ids.shape + (embed_dim,)``."""
    if not (vocab_size and embed_dim):
        raise ValueError("Must specify vocab size and embedding dimension")
    from rnnkit.compat.v1.nn import embedding_lookup

    with variable_scope(scope, default_name="EmbedSequence", reuse=reuse):
        embeddings = get_variable(
            "embeddings",
            [vocab_size, embed_dim],
            initializer=initializer,
            regularizer=regularizer,
            trainable=trainable,
        )
        return embedding_lookup(embeddings, ids)
