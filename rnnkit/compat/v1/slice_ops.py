"""``tf.slice`` and ``tf.assert_rank``, as TensorFlow 1.x defines them.

``slice(input_, begin, size)`` takes ``size[i]`` elements from ``begin[i]`` along each axis
(``size[i] == -1``: all the rest); out-of-range values are ``InvalidArgumentError`` at run time.
``assert_rank(x, rank)`` checks at graph build when the rank is known (ValueError, TF's text) and
otherwise returns an op failing at run time.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from rnnkit.compat.v1.dtypes import int32
from rnnkit.compat.v1.errors import InvalidArgumentError
from rnnkit.compat.v1.ops import Operation, Tensor, convert_to_tensor
from rnnkit.compat.v1.tensor_shape import shape_text

__all__ = ["slice_", "assert_rank"]


def _static(t: Tensor) -> list[int] | None:
    const = getattr(t, "_const", None)
    return None if const is None else [int(v) for v in np.asarray(const).reshape(-1)]


def slice_(input_: Any, begin: Any, size: Any, name: str | None = None) -> Tensor:
    """The block of ``input_`` starting at ``begin`` with ``size`` elements per axis."""
    x = convert_to_tensor(input_)
    b = convert_to_tensor(begin, int32) if not isinstance(begin, Tensor) else begin
    s = convert_to_tensor(size, int32) if not isinstance(size, Tensor) else size
    for what, t in (("begin", b), ("size", s)):
        if t.dtype.name not in ("int32", "int64"):
            raise TypeError(
                f"Received an invalid value for argument `{what}` of tf.slice: expected int32 or "
                f"int64 values, got {t.dtype.name}."
            )
        if t.shape.ndims not in (None, 1):
            raise ValueError(
                f"Shape must be rank 1 but is rank {t.shape.ndims} for 'Slice' (op: 'Slice') with "
                f"input shapes: {shape_text(x.shape)}, {shape_text(b.shape)}, {shape_text(s.shape)}."
            )
    n = b.shape.as_list()[0] if b.shape.ndims == 1 else None
    if x.shape.ndims is not None and n is not None and n != x.shape.ndims:
        raise ValueError(
            f"Shape must be rank {n} but is rank {x.shape.ndims} for 'Slice' (op: 'Slice') with "
            f"input shapes: {shape_text(x.shape)}, {shape_text(b.shape)}, {shape_text(s.shape)}."
        )
    bv, sv = _static(b), _static(s)
    rank = x.shape.ndims if x.shape.ndims is not None else n
    if rank is None:
        shape: Any = None
    else:
        dims = x.shape.as_list() if x.shape.ndims is not None else [None] * rank
        shape = []
        for i in range(rank):
            si = None if sv is None else sv[i]
            if si is not None and si != -1:
                shape.append(si)
            elif si == -1 and dims[i] is not None and bv is not None:
                shape.append(dims[i] - bv[i])
            else:
                shape.append(None)

    def fn(v: torch.Tensor, bt: torch.Tensor, st: torch.Tensor) -> torch.Tensor:
        starts, sizes = bt.tolist(), st.tolist()
        if len(starts) != v.dim() or len(sizes) != v.dim():
            raise InvalidArgumentError(
                f"Expected begin and size arguments to be 1-D tensors of size {v.dim()}, but got "
                f"shapes [{len(starts)}] and [{len(sizes)}] instead."
            )
        index = []
        for i, (start, count) in enumerate(zip(starts, sizes)):
            dim = v.shape[i]
            if not 0 <= start <= dim:
                raise InvalidArgumentError(f"Expected begin[{i}] in [0, {dim}], but got {start}")
            if count == -1:
                count = dim - start
            if not 0 <= count <= dim - start:
                raise InvalidArgumentError(
                    f"Expected size[{i}] in [0, {dim - start}], but got {count}"
                )
            index.append(slice(start, start + count))
        return v[tuple(index)].clone()

    return Tensor(name or "Slice", x.dtype, shape, [x, b, s], fn=fn)


def assert_rank(
    x: Any,
    rank: Any,
    data: Any = None,
    summarize: Any = None,
    message: Any = None,
    name: Any = None,
) -> Operation:
    """An op asserting that ``x`` has rank ``rank`` (checked now when the rank is known)."""
    if message is not None and not isinstance(message, str):
        raise TypeError(
            f"Received an invalid value for argument `message`: expected a string, got {message!r}."
        )
    if isinstance(rank, bool) or not isinstance(rank, (numbers.Integral, np.integer)):
        raise TypeError(
            f"Received an invalid value for argument `rank`: expected an integer, got {rank!r}."
        )
    t = convert_to_tensor(x)
    want = int(rank)
    prefix = f"{message}.  " if message else ""
    if t.shape.ndims is not None:
        if t.shape.ndims != want:
            raise ValueError(
                f"{prefix}Tensor {t.name} must have rank {want}.  Received rank {t.shape.ndims}, "
                f"shape {t.shape}"
            )
        return Operation(name or "assert_rank", [])

    def effect(sess: Any, values: list[Any]) -> None:
        got = values[0].dim()
        if got != want:
            raise InvalidArgumentError(
                f"{message + ' ' if message else ''}assertion failed: [Tensor {t.name} must have "
                f"rank] [{want}] [Received shape: ] [{list(values[0].shape)}]"
            )

    return Operation(name or "assert_rank", [t], effect=effect)
