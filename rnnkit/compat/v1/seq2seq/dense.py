"""``tf.layers.Dense`` (TensorFlow 1.x's ``layers/core.py``): a layer object, the output layer of
``BasicDecoder`` / ``BeamSearchDecoder`` and the attention layers.

On its first call it creates ``<scope>/<name>/kernel`` ``[depth, units]`` (the given initializer, the
scope's, or glorot-uniform) and ``bias`` ``[units]`` (zeros), ``name`` defaulting to ``dense``; a
name already used in the scope gets ``_1``, ``_2``... (two layers named ``memory_layer`` make
``memory_layer`` and ``memory_layer_1``, as TF1's layers do). Later calls reuse the variables. ``y = activation(x @ kernel + bias)`` over the
last axis of ``x``.
"""

from __future__ import annotations

from typing import Any

from rnnkit.compat.v1.layers import _check_units, _dense_product, _dense_variables
from rnnkit.compat.v1.ops import Tensor, convert_to_tensor
from rnnkit.compat.v1.variables import variable_scope

__all__ = ["Dense"]


class Dense:
    """``Dense(units, activation=None, use_bias=True, kernel_initializer=None,
    bias_initializer=zeros, name=None)``."""

    def __init__(
        self,
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
        dtype: Any = None,
        _reuse: Any = None,
    ) -> None:
        _check_units(units)
        if activation is not None and not callable(activation):
            raise TypeError(
                "Received an invalid value for argument `activation`: expected a function, got "
                f"{activation!r}."
            )
        self.units = units
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.trainable = trainable
        self.name = name
        self.kernel: Tensor | None = None
        self.bias: Tensor | None = None
        self._scope: str | None = None

    @property
    def trainable_variables(self) -> list[Tensor]:
        return [v for v in (self.kernel, self.bias) if v is not None]

    variables = weights = trainable_weights = trainable_variables

    def _build(self, depth: int, dtype: Any) -> None:
        with variable_scope(None, default_name=self.name or "dense") as vs:
            self._scope = vs.name
            self.kernel, self.bias = _dense_variables(
                depth, self.units, dtype, self.kernel_initializer, self.bias_initializer,
                self.use_bias, self.trainable,
            )  # fmt: skip

    def __call__(self, inputs: Any) -> Tensor:
        x = convert_to_tensor(inputs)
        depth = None if x.shape.ndims is None else x.shape.as_list()[-1]
        if depth is None:
            raise ValueError(
                "The last dimension of the inputs to `Dense` should be defined. Found `None`."
            )
        if not x.dtype.is_floating:
            raise TypeError(
                f"Unable to build `Dense` layer with non-floating point dtype {x.dtype.name}."
            )
        if self.kernel is None:
            self._build(depth, x.dtype)
        kshape = self.kernel.shape.as_list()
        if kshape[0] != depth:
            raise ValueError(
                f"Input 0 of layer {self._scope} is incompatible with the layer: expected axis -1 "
                f"of input shape to have value {kshape[0]}, got shape {x.shape}."
            )
        op = "Tensordot" if (x.shape.ndims or 2) > 2 else "MatMul"
        y = _dense_product(x, self.kernel, self.bias, self.units, op)
        return self.activation(y) if self.activation is not None else y

    apply = __call__
