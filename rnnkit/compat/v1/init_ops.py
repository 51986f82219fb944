"""Initializers (TensorFlow's ``ops/init_ops.py``): ``init(shape, dtype) -> Tensor`` of initial values.

``glorot_uniform_initializer`` is TensorFlow 1.x's default for ``get_variable`` (and so for RNN cell
kernels and ``tf.layers.dense``): uniform in ``+-sqrt(6 / (fan_in + fan_out))``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from rnnkit.compat.v1.dtypes import DType, as_dtype, float32
from rnnkit.compat.v1.ops import Tensor, constant, shape_list
from rnnkit.compat.v1.random_ops import RandomTensor, truncated

__all__ = [
    "zeros_initializer",
    "ones_initializer",
    "constant_initializer",
    "random_normal_initializer",
    "random_uniform_initializer",
    "truncated_normal_initializer",
    "variance_scaling_initializer",
    "glorot_uniform_initializer",
    "glorot_normal_initializer",
    "orthogonal_initializer",
    "uniform_unit_scaling_initializer",
]


def compute_fans(shape: list[int]) -> tuple[float, float]:
    """TensorFlow's fan-in and fan-out of a weight shape."""
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = float(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base: ``init(shape, dtype=None, partition_info=None) -> Tensor``."""

    dtype: DType | None = None

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        dims = shape_list("shape", shape)
        dt = as_dtype(dtype) if dtype is not None else (self.dtype or float32)
        return self._make(dims, dt)

    def _make(self, dims: list[int], dt: DType) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}


class zeros_initializer(Initializer):  # noqa: N801 - TensorFlow's names
    def __init__(self, dtype: Any = None) -> None:
        self.dtype = None if dtype is None else as_dtype(dtype)

    def _make(self, dims: list[int], dt: DType) -> Tensor:
        return constant(np.zeros(dims, dt._np), dtype=dt, name="zeros")


class ones_initializer(Initializer):  # noqa: N801
    def __init__(self, dtype: Any = None) -> None:
        self.dtype = None if dtype is None else as_dtype(dtype)

    def _make(self, dims: list[int], dt: DType) -> Tensor:
        return constant(np.ones(dims, dt._np), dtype=dt, name="ones")


class constant_initializer(Initializer):  # noqa: N801
    def __init__(self, value: Any = 0, dtype: Any = None, verify_shape: bool = False) -> None:
        self.value = np.asarray(value)
        self.dtype = None if dtype is None else as_dtype(dtype)

    def _make(self, dims: list[int], dt: DType) -> Tensor:
        v = self.value
        if v.size == 1:
            return constant(np.full(dims, v.reshape(()), dt._np), dtype=dt, name="Const")
        if v.size != int(np.prod(dims)):
            raise ValueError(
                f"Received an invalid value for `value` of constant_initializer: {v.size} values "
                f"cannot fill shape {dims}."
            )
        return constant(v.reshape(dims).astype(dt._np), dtype=dt, name="Const")


class _Drawn(Initializer):
    seed: int | None = None

    def _make(self, dims: list[int], dt: DType) -> Tensor:
        if not dt.is_floating:
            raise TypeError(f"Expected a float dtype for {type(self).__name__}, got {dt.name}.")
        draw = self._draw

        def sample(gen: torch.Generator) -> torch.Tensor:
            return draw(gen, dims, dt.torch)

        return RandomTensor(type(self).__name__, dt, dims, sample, self.seed)

    def _draw(self, gen: torch.Generator, dims: list[int], dtype: torch.dtype) -> torch.Tensor:
        raise NotImplementedError


class random_normal_initializer(_Drawn):  # noqa: N801
    def __init__(self, mean: float = 0.0, stddev: float = 1.0, seed: Any = None, dtype: Any = None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed
        self.dtype = None if dtype is None else as_dtype(dtype)

    def _draw(self, gen, dims, dtype):
        return torch.randn(dims, generator=gen, dtype=dtype) * self.stddev + self.mean


class truncated_normal_initializer(_Drawn):  # noqa: N801
    def __init__(self, mean: float = 0.0, stddev: float = 1.0, seed: Any = None, dtype: Any = None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed
        self.dtype = None if dtype is None else as_dtype(dtype)

    def _draw(self, gen, dims, dtype):
        return truncated(gen, dims, dtype) * self.stddev + self.mean


class random_uniform_initializer(_Drawn):  # noqa: N801
    def __init__(
        self, minval: float = 0.0, maxval: float = 1.0, seed: Any = None, dtype: Any = None
    ):
        self.minval, self.maxval, self.seed = float(minval), float(maxval), seed
        self.dtype = None if dtype is None else as_dtype(dtype)

    def _draw(self, gen, dims, dtype):
        return (
            torch.rand(dims, generator=gen, dtype=dtype) * (self.maxval - self.minval) + self.minval
        )


class variance_scaling_initializer(_Drawn):  # noqa: N801
    """``scale / fan`` variance (fan: ``fan_in``, ``fan_out`` or ``fan_avg``), drawn from a truncated
    normal (TF 1.x's ``"normal"``/``"truncated_normal"``), an untruncated normal, or a uniform."""

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: Any = None,
        dtype: Any = None,
    ) -> None:
        if scale <= 0:
            raise ValueError(
                f"Received an invalid value for argument `scale`: expected > 0, got {scale}."
            )
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(
                f"Received an invalid value for argument `mode`: expected fan_in, fan_out or "
                f"fan_avg, got {mode!r}."
            )
        if distribution not in ("normal", "truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(
                "Received an invalid value for argument `distribution`: expected normal, "
                f"truncated_normal, untruncated_normal or uniform, got {distribution!r}."
            )
        self.scale, self.mode, self.distribution, self.seed = float(scale), mode, distribution, seed
        self.dtype = None if dtype is None else as_dtype(dtype)

    def _draw(self, gen, dims, dtype):
        fan_in, fan_out = compute_fans(dims)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, fan)
        if self.distribution in ("normal", "truncated_normal"):
            stddev = math.sqrt(scale) / 0.87962566103423978  # std of N(0,1) truncated at 2
            return truncated(gen, dims, dtype) * stddev
        if self.distribution == "untruncated_normal":
            return torch.randn(dims, generator=gen, dtype=dtype) * math.sqrt(scale)
        limit = math.sqrt(3.0 * scale)
        return (torch.rand(dims, generator=gen, dtype=dtype) * 2 - 1) * limit

    def get_config(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
            "dtype": (self.dtype or float32).name,
        }


def glorot_uniform_initializer(seed: Any = None, dtype: Any = None) -> variance_scaling_initializer:
    """Uniform in ``+-sqrt(6 / (fan_in + fan_out))``: TensorFlow 1.x's default initializer."""
    return variance_scaling_initializer(1.0, "fan_avg", "uniform", seed, dtype)


def glorot_normal_initializer(seed: Any = None, dtype: Any = None) -> variance_scaling_initializer:
    return variance_scaling_initializer(1.0, "fan_avg", "truncated_normal", seed, dtype)


def _on_fan_in(scale: float, distribution: str, name: str) -> Any:
    """TF's fan-in variance-scaling presets (``tf.initializers.he_normal`` and its kin)."""

    def make(seed: Any = None, dtype: Any = None) -> variance_scaling_initializer:
        return variance_scaling_initializer(scale, "fan_in", distribution, seed, dtype)

    make.__name__ = make.__qualname__ = name
    tf_name = name[: -len("_initializer")]
    make.__doc__ = (
        f"``tf.initializers.{tf_name}``: variance ``{scale:g} / fan_in``, {distribution}."
    )
    return make


he_normal_initializer = _on_fan_in(2.0, "truncated_normal", "he_normal_initializer")
he_uniform_initializer = _on_fan_in(2.0, "uniform", "he_uniform_initializer")
lecun_normal_initializer = _on_fan_in(1.0, "truncated_normal", "lecun_normal_initializer")
lecun_uniform_initializer = _on_fan_in(1.0, "uniform", "lecun_uniform_initializer")


def _at_least_2d(dims: list[int]) -> None:
    if len(dims) < 2:
        raise ValueError(
            "The tensor to initialize, specified by argument `shape` must be at least "
            f"two-dimensional. Received shape={dims}"
        )


class orthogonal_initializer(_Drawn):  # noqa: N801
    """A (semi-)orthogonal matrix times ``gain``: the Q of a QR decomposition of a standard normal
    ``(max(rows, cols), min(rows, cols))`` draw, its columns' signs set by R's diagonal, transposed
    when there are fewer rows than columns (rows: the product of all but the last dimension)."""

    def __init__(self, gain: float = 1.0, seed: Any = None, dtype: Any = None) -> None:
        self.gain, self.seed = float(gain), seed
        self.dtype = None if dtype is None else as_dtype(dtype)

    def _make(self, dims: list[int], dt: DType) -> Tensor:
        _at_least_2d(dims)
        return super()._make(dims, dt)

    def _draw(self, gen, dims, dtype):
        rows, cols = math.prod(dims[:-1]), dims[-1]
        a = torch.randn(max(rows, cols), min(rows, cols), generator=gen, dtype=torch.float64)
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.t()
        return (self.gain * q).reshape(dims).to(dtype)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed, "dtype": (self.dtype or float32).name}


class identity_initializer(Initializer):  # noqa: N801
    """``tf.initializers.identity``: ``gain`` times the identity (2-D shapes only)."""

    def __init__(self, gain: float = 1.0, dtype: Any = None) -> None:
        self.gain = float(gain)
        self.dtype = None if dtype is None else as_dtype(dtype)

    def _make(self, dims: list[int], dt: DType) -> Tensor:
        if len(dims) != 2:
            _at_least_2d([])  # TensorFlow's message for any shape that is not 2-D
        return constant((self.gain * np.eye(*dims)).astype(dt._np), dtype=dt, name="Identity")

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "dtype": (self.dtype or float32).name}


class uniform_unit_scaling_initializer(_Drawn):  # noqa: N801
    """Uniform in ``+-factor * sqrt(3 / input_size)``, ``input_size`` the product of all but the
    last dimension (at least 1): TF 1.x's deprecated initializer, kept for the programs using it."""

    def __init__(self, factor: float = 1.0, seed: Any = None, dtype: Any = None) -> None:
        self.factor, self.seed = float(factor), seed
        self.dtype = None if dtype is None else as_dtype(dtype)

    def _draw(self, gen, dims, dtype):
        limit = math.sqrt(3.0 / max(1.0, float(math.prod(dims[:-1])))) * self.factor
        return (torch.rand(dims, generator=gen, dtype=dtype) * 2 - 1) * limit

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "seed": self.seed, "dtype": (self.dtype or float32).name}


def as_initializer(init: Any) -> Initializer | None:
    """``init`` as an initializer: an Initializer, a plain callable ``(shape, dtype, ...)``, or None."""
    if init is None or isinstance(init, Initializer):
        return init
    if callable(init):
        wrapped = init

        class _Callable(Initializer):
            def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
                return wrapped(shape, dtype=dtype, partition_info=partition_info)

        return _Callable()
    raise TypeError(
        f"Received an invalid value for argument `initializer`: expected an initializer, got {init!r}."
    )
