"""Two graph helpers the seq2seq modules share: a node computing a torch function, and a tensor's
static dimensions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rnnkit.compat.v1.dtypes import DType
from rnnkit.compat.v1.ops import Tensor

__all__ = ["op", "static_dims"]


def op(name: str, dtype: DType, shape: Any, inputs: Sequence[Any], fn: Any) -> Tensor:
    """A graph node computing ``fn(*input_values)`` (torch)."""
    return Tensor(name, dtype, shape, list(inputs), fn=fn)


def static_dims(t: Tensor) -> list[int | None] | None:
    return None if t.shape.ndims is None else t.shape.as_list()
