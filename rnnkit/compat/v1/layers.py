"""``tf.layers.dense`` (TensorFlow's ``layers/core.py``): ``activation(inputs @ kernel + bias)`` with
variables ``dense/kernel (I, units)`` (glorot-uniform) and ``dense/bias (units,)`` (zeros); a second
layer without a name gets ``dense_1/...``. Kernel, bias and activity regularizers add their penalties
to the ``REGULARIZATION_LOSSES`` collection."""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.compat.v1.init_ops import zeros_initializer
from rnnkit.compat.v1.ops import GraphKeys, Tensor, convert_to_tensor, get_default_graph
from rnnkit.compat.v1.variables import get_variable, get_variable_scope, variable_scope
from rnnkit.platform import gemm

__all__ = ["dense", "dropout"]


def _layer_scope(name: str | None, default: str, reuse: Any = None) -> str:
    """The layer's variable scope: its name (or ``default``) made unique as TF's layers do, with
    ``_1``, ``_2``, ... for a second layer of the same name; as given when reusing."""
    graph = get_default_graph()
    if name and reuse:
        return name
    default = name or default
    outer = get_variable_scope().name
    used = graph.__dict__.setdefault("_layer_names", set())
    base, n = default, 0
    full = f"{outer}/{base}" if outer else base
    while full in used:
        n += 1
        full = f"{outer}/{base}_{n}" if outer else f"{base}_{n}"
    used.add(full)
    return full.rsplit("/", 1)[-1]


def _check_units(units: Any) -> None:
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise ValueError(
            f"Received an invalid value for argument `units`: expected a positive integer, got {units!r}."
        )


def _dense_variables(
    width: int,
    units: int,
    dtype: Any,
    kernel_initializer: Any,
    bias_initializer: Any,
    use_bias: bool,
    trainable: bool,
    kernel_regularizer: Any = None,
    bias_regularizer: Any = None,
) -> tuple[Tensor, Tensor | None]:
    """``kernel [width, units]`` and, with ``use_bias``, ``bias [units]`` (zeros unless
    ``bias_initializer``) in the current variable scope."""
    kernel = get_variable(
        "kernel",
        [width, units],
        dtype=dtype,
        initializer=kernel_initializer,
        regularizer=kernel_regularizer,
        trainable=trainable,
    )
    if not use_bias:
        return kernel, None
    bias = get_variable(
        "bias",
        [units],
        dtype=dtype,
        initializer=bias_initializer or zeros_initializer(),
        regularizer=bias_regularizer,
        trainable=trainable,
    )
    return kernel, bias


def _dense_product(x: Tensor, kernel: Tensor, bias: Tensor | None, units: int, op: str) -> Tensor:
    """The op ``op``: ``x @ kernel (+ bias)`` over the last axis of ``x``."""
    shape = None if x.shape.ndims is None else x.shape.as_list()[:-1] + [units]
    inputs_ = [x, kernel] + ([bias] if bias is not None else [])

    def fn(v: torch.Tensor, k: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        if v.dim() > 2:  # rows of any rank as one matrix, so a large product can take oneDNN
            y = gemm.product(v.reshape(-1, v.shape[-1]), k).reshape(*v.shape[:-1], k.shape[1])
        else:
            y = gemm.product(v, k)
        return y + b if b is not None else y

    return Tensor(op, x.dtype, shape, inputs_, fn=fn)


def dense(
    inputs: Any,
    units: int,
    activation: Any = None,
    use_bias: bool = True,
    kernel_initializer: Any = None,
    bias_initializer: Any = None,
    kernel_regularizer: Any = None,
    bias_regularizer: Any = None,
    activity_regularizer: Any = None,
    kernel_constraint: Any = None,
    bias_constraint: Any = None,
    trainable: bool = True,
    name: str | None = None,
    reuse: Any = None,
) -> Tensor:
    """A fully connected layer on the last axis of ``inputs (..., I)`` -> ``(..., units)``."""
    x = convert_to_tensor(inputs)
    if not x.dtype.is_floating:
        raise TypeError(
            f"Received an invalid value for argument `inputs` of tf.layers.dense: expected a float tensor, got {x.dtype.name} ({x.name!r})."
        )
    _check_units(units)
    width = None if x.shape.ndims is None else x.shape.as_list()[-1]
    if width is None:
        raise ValueError(
            f"The last dimension of the inputs to `Dense` should be defined. Found `None` ({x.name!r})."
        )
    with variable_scope(_layer_scope(name, "dense", reuse), reuse=reuse):
        kernel, bias = _dense_variables(
            width, units, x.dtype, kernel_initializer, bias_initializer, use_bias, trainable,
            kernel_regularizer, bias_regularizer,
        )  # fmt: skip
        op = "BiasAdd" if bias is not None else "MatMul" if x.shape.ndims == 2 else "Tensordot"
        out = _dense_product(x, kernel, bias, units, op)
        if activation is not None:
            out = activation(out)
        if activity_regularizer is not None:
            penalty = activity_regularizer(out)
            if penalty is not None:
                get_default_graph().add_to_collection(GraphKeys.REGULARIZATION_LOSSES, penalty)
    return out


def dropout(
    inputs: Any,
    rate: float = 0.5,
    noise_shape: Any = None,
    seed: Any = None,
    training: Any = False,
    name: str | None = None,
) -> Tensor:
    """``tf.layers.dropout``: dropout with ``rate`` when ``training`` (a bool or a bool tensor)."""
    from rnnkit.compat.v1.nn import dropout as nn_dropout

    if isinstance(training, bool):
        return (
            nn_dropout(inputs, keep_prob=1.0 - rate, seed=seed)
            if training
            else convert_to_tensor(inputs)
        )
    from rnnkit.compat.v1.array_ops import where

    x = convert_to_tensor(inputs)
    return where(training, nn_dropout(x, keep_prob=1.0 - rate, seed=seed), x)
