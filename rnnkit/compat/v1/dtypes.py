"""TensorFlow's dtypes (``tf.float32``, ...) mapped onto torch and numpy dtypes."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

_py_bool = bool

__all__ = [
    "DType",
    "as_dtype",
    "float16",
    "float32",
    "float64",
    "int32",
    "int64",
    "uint8",
    "bool",
    "string",
]


class DType:
    """A TensorFlow dtype: ``name``, ``as_numpy_dtype`` and the matching ``torch`` dtype."""

    def __init__(self, name: str, torch_dtype: torch.dtype, numpy_dtype: Any) -> None:
        self.name = name
        self.torch = torch_dtype
        self.as_numpy_dtype = np.dtype(numpy_dtype).type
        self._np = np.dtype(numpy_dtype)

    @property
    def is_floating(self) -> _py_bool:
        return self._np.kind == "f"

    @property
    def is_integer(self) -> _py_bool:
        return self._np.kind in "iu"

    @property
    def base_dtype(self) -> DType:
        return self

    def __repr__(self) -> str:
        return f"tf.{self.name}"


float32 = DType("float32", torch.float32, np.float32)
float64 = DType("float64", torch.float64, np.float64)
int32 = DType("int32", torch.int32, np.int32)
int64 = DType("int64", torch.int64, np.int64)
float16 = DType("float16", torch.float16, np.float16)
uint8 = DType("uint8", torch.uint8, np.uint8)
bool = DType("bool", torch.bool, np.bool_)  # noqa: A001 - TensorFlow's name
string = DType("string", None, np.object_)  # only for summaries' names; no string tensors
_ALIASES: dict[str, DType] = {}
_DTYPES = (float32, float64, int32, int64, float16, uint8, bool)

_ALIASES.update(float=float32, half=float16, double=float64, int=int32, long=int64)


def as_dtype(value: Any) -> DType:
    """A :class:`DType` from a DType, its name, a numpy dtype or a torch dtype."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str) and value in _ALIASES:  # TensorFlow's names: "float" is float32
        return _ALIASES[value]
    if value is float:
        return float32
    for d in _DTYPES:
        if value is d.torch or value == d.name:
            return d
    try:
        np_dtype = np.dtype(value)
    except TypeError:
        np_dtype = None
    for d in _DTYPES:
        if np_dtype is not None and np_dtype == d._np:
            return d
    raise TypeError(
        "Received an invalid value for argument `dtype`: expected one of "
        f"{[d.name for d in _DTYPES]}, got {value!r}."
    )


def infer_dtype(value: Any) -> DType:
    """TensorFlow's inference: Python floats -> float32, Python ints -> int32, numpy keeps its own."""
    if isinstance(value, (np.ndarray, np.generic)):
        if value.dtype.kind in "fiub":
            return as_dtype(value.dtype if value.dtype.kind != "u" else np.int64)
        raise TypeError(f"Cannot convert a numpy array of dtype {value.dtype} to a tensor.")
    arr = np.asarray(value)
    if arr.dtype.kind == "b":
        return bool
    if arr.dtype.kind in "iu":
        return int32
    if arr.dtype.kind == "f":
        return float32
    raise TypeError(f"Cannot convert {value!r} (numpy dtype {arr.dtype}) to a tensor.")


def check_allowed(dtype: DType, param: str, allowed: tuple[str, ...]) -> None:
    """TensorFlow's ``TypeError`` for an op input of a dtype its kernels do not take (``allowed``:
    dtype names, in the order TensorFlow lists them)."""
    if dtype.name not in allowed:
        raise TypeError(
            f"Value passed to parameter '{param}' has DataType {dtype.name} not in list of "
            f"allowed values: {', '.join(allowed)}"
        )
