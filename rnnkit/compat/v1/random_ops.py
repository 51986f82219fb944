"""Random tensors (``tf.random_normal``, ``tf.random_uniform``, ``tf.truncated_normal``, ...).

Each random op owns a generator per session, seeded from the graph seed (``tf.set_random_seed``) and
the op seed, as TensorFlow's seeding rule says: the same graph and seeds give the same values in
every session; no seeds give fresh values. The streams are torch's, not TensorFlow's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from rnnkit.compat.v1.dtypes import DType, as_dtype, float32
from rnnkit.compat.v1.errors import InvalidArgumentError
from rnnkit.compat.v1.ops import Tensor, convert_to_tensor, shape_list

__all__ = [
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "random_shuffle",
    "multinomial",
]


class RandomTensor(Tensor):
    """A random op: ``draw(generator) -> torch.Tensor`` with a per-session generator."""

    _stateful = True

    def __init__(
        self, name: str, dtype: DType, shape: Any, draw: Callable, seed: Any, inputs: Any = ()
    ) -> None:
        super().__init__(name, dtype, shape, inputs)
        self._seed = self.graph._op_seed(seed)
        self._draw = draw

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        return self._draw(sess._generator(self, self._seed), *values)


def _float_dtype(dtype: Any, op: str) -> DType:
    dt = as_dtype(dtype)
    if not dt.is_floating:
        raise TypeError(
            f"Received an invalid value for argument `dtype` of {op}: expected a float dtype, got "
            f"{dt.name}."
        )
    return dt


def truncated(gen: torch.Generator, dims: list[int], dtype: torch.dtype) -> torch.Tensor:
    """Standard normal values redrawn until within two standard deviations (TF's rule)."""
    out = torch.randn(dims, generator=gen, dtype=dtype)
    bad = out.abs() > 2
    while bool(bad.any()):
        out[bad] = torch.randn(int(bad.sum()), generator=gen, dtype=dtype)
        bad = out.abs() > 2
    return out


def random_normal(
    shape: Any,
    mean: float = 0.0,
    stddev: float = 1.0,
    dtype: Any = float32,
    seed: int | None = None,
    name: str = "random_normal",
) -> Tensor:
    """Normal values ``mean + stddev * N(0, 1)`` of a static ``shape``."""
    dims, dt = shape_list("shape", shape), _float_dtype(dtype, "random_normal")
    m, s = float(mean), float(stddev)

    def draw(gen: torch.Generator) -> torch.Tensor:
        return torch.randn(dims, generator=gen, dtype=dt.torch) * s + m

    return RandomTensor(name, dt, dims, draw, seed)


def truncated_normal(
    shape: Any,
    mean: float = 0.0,
    stddev: float = 1.0,
    dtype: Any = float32,
    seed: int | None = None,
    name: str = "truncated_normal",
) -> Tensor:
    """Normal values redrawn when more than two standard deviations from ``mean``."""
    dims, dt = shape_list("shape", shape), _float_dtype(dtype, "truncated_normal")
    m, s = float(mean), float(stddev)

    def draw(gen: torch.Generator) -> torch.Tensor:
        return truncated(gen, dims, dt.torch) * s + m

    return RandomTensor(name, dt, dims, draw, seed)


def random_uniform(
    shape: Any,
    minval: float = 0.0,
    maxval: float | None = None,
    dtype: Any = float32,
    seed: int | None = None,
    name: str = "random_uniform",
) -> Tensor:
    """Uniform values in ``[minval, maxval)`` (maxval defaults to 1 for floats)."""
    dims, dt = shape_list("shape", shape), as_dtype(dtype)
    if dt.is_integer:
        if maxval is None:
            raise ValueError("Must specify maxval for integer dtype in tf.random_uniform.")
        lo, hi = int(minval), int(maxval)

        def draw_int(gen: torch.Generator) -> torch.Tensor:
            return torch.randint(lo, hi, dims, generator=gen, dtype=dt.torch)

        return RandomTensor(name, dt, dims, draw_int, seed)
    lo_f, hi_f = float(minval), 1.0 if maxval is None else float(maxval)

    def draw(gen: torch.Generator) -> torch.Tensor:
        return torch.rand(dims, generator=gen, dtype=dt.torch) * (hi_f - lo_f) + lo_f

    return RandomTensor(name, dt, dims, draw, seed)


def random_shuffle(value: Any, seed: int | None = None, name: str = "RandomShuffle") -> Tensor:
    """``value`` with its first dimension shuffled."""
    x = convert_to_tensor(value)

    def draw(gen: torch.Generator, v: torch.Tensor) -> torch.Tensor:
        return v[torch.randperm(v.shape[0], generator=gen)]

    return RandomTensor(name, x.dtype, x.shape, draw, seed, inputs=[x])


def multinomial(
    logits: Any,
    num_samples: int,
    seed: int | None = None,
    name: str = "multinomial",
    output_dtype: Any = None,
) -> Tensor:
    """``num_samples`` class ids per row drawn from ``softmax(logits)`` ``(B, C) -> (B, num_samples)``."""
    from rnnkit.compat.v1.dtypes import int64

    x = convert_to_tensor(logits)
    dt = int64 if output_dtype is None else as_dtype(output_dtype)
    n = int(num_samples)

    def draw(gen: torch.Generator, v: torch.Tensor) -> torch.Tensor:
        if v.dim() != 2:
            raise InvalidArgumentError(f"logits should be a matrix, got shape {list(v.shape)}")
        rows, classes = v.shape
        if classes == 0:
            raise InvalidArgumentError("num_classes should be positive, got 0")
        # by the inverse of each row's distribution function: a uniform draw located among the
        # running sums (torch.multinomial with replacement took 5.9 ms for one draw from each of
        # 32 rows of 10,000 classes, this 0.5; 64 rows of 87: 113 -> 28 us)
        cdf = torch.softmax(v.double(), -1).cumsum_(-1)
        total = cdf[:, -1:]
        u = torch.rand(rows, n, generator=gen, dtype=torch.float64).mul_(total)
        ids = torch.searchsorted(cdf, u, right=True).clamp_(max=classes - 1)
        # NaN logits, or all -inf (a NaN softmax): TF draws num_classes, which is no class
        return ids.masked_fill_(total.isnan(), classes).to(dt.torch)

    batch = x.shape.as_list()[0] if x.shape.ndims else None
    return RandomTensor(name, dt, [batch, n], draw, seed, inputs=[x])
