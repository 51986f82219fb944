"""``TensorShape`` and ``Dimension``: static shapes with unknown dimensions, printed as TF 1.x does."""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

_py_bool = bool

__all__ = ["Dimension", "TensorShape"]


class Dimension:
    """One dimension of a :class:`TensorShape`: an int, or unknown (``value is None``, shown ``?``)."""

    def __init__(self, value: int | None) -> None:
        self.value = None if value is None else int(value)

    def __int__(self) -> int:
        if self.value is None:
            raise ValueError("Cannot convert an unknown Dimension to an int.")
        return self.value

    __index__ = __int__

    def __eq__(self, other: object) -> Any:
        other_value = other.value if isinstance(other, Dimension) else other
        if self.value is None or other_value is None:
            return None
        return self.value == other_value

    def __ne__(self, other: object) -> Any:
        eq = self.__eq__(other)
        return None if eq is None else not eq

    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        return "?" if self.value is None else str(self.value)

    def __repr__(self) -> str:
        return f"Dimension({self.value})"

    # arithmetic with ints and Dimensions, as TF's: unknown in, unknown out
    def _combine(self, other: Any, fn: Any, reverse: bool = False) -> Any:
        if isinstance(other, Dimension):
            o = other.value
        elif isinstance(other, numbers.Integral) and not isinstance(other, _py_bool):
            o = int(other)
        elif other is None:
            o = None
        else:
            return NotImplemented
        if self.value is None or o is None:
            return Dimension(None)
        v = fn(o, self.value) if reverse else fn(self.value, o)
        if v < 0:
            raise ValueError(f"Dimension {v} must be >= 0")
        return Dimension(v)

    def __add__(self, other: Any) -> Any:
        return self._combine(other, lambda a, b: a + b)

    def __radd__(self, other: Any) -> Any:
        return self._combine(other, lambda a, b: a + b, reverse=True)

    def __sub__(self, other: Any) -> Any:
        return self._combine(other, lambda a, b: a - b)

    def __rsub__(self, other: Any) -> Any:
        return self._combine(other, lambda a, b: a - b, reverse=True)

    def __mul__(self, other: Any) -> Any:
        return self._combine(other, lambda a, b: a * b)

    def __rmul__(self, other: Any) -> Any:
        return self._combine(other, lambda a, b: a * b, reverse=True)

    def __floordiv__(self, other: Any) -> Any:
        return self._combine(other, lambda a, b: a // b)

    def __rfloordiv__(self, other: Any) -> Any:
        return self._combine(other, lambda a, b: a // b, reverse=True)

    def __mod__(self, other: Any) -> Any:
        return self._combine(other, lambda a, b: a % b)

    def __rmod__(self, other: Any) -> Any:
        return self._combine(other, lambda a, b: a % b, reverse=True)

    def _compare(self, other: Any, fn: Any) -> Any:
        o = other.value if isinstance(other, Dimension) else other
        if self.value is None or o is None:
            return None
        return fn(self.value, o)

    def __lt__(self, other: Any) -> Any:
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other: Any) -> Any:
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other: Any) -> Any:
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other: Any) -> Any:
        return self._compare(other, lambda a, b: a >= b)


def _dim(value: Any) -> int | None:
    if isinstance(value, Dimension):
        return value.value
    if value is None:
        return None
    if isinstance(value, _py_bool) or not isinstance(value, numbers.Integral) or value < -1:
        raise TypeError(
            f"Received an invalid value for a shape dimension: expected a non-negative integer or "
            f"None, got {value!r}."
        )
    return None if value == -1 else int(value)


class TensorShape:
    """A static shape with unknown dimensions, printed as TensorFlow 1.x does: ``(?, 3)``.

    ``TensorShape(None)`` has unknown rank. ``as_list()`` gives ``[None, 3]``; indexing gives a
    :class:`Dimension` (``shape[1].value == 3``).
    """

    def __init__(self, dims: Any) -> None:
        if isinstance(dims, TensorShape):
            dims = dims.dims and [d.value for d in dims.dims]
        if dims is None:
            self._dims: list[int | None] | None = None
        elif isinstance(dims, (numbers.Integral, Dimension)) and not isinstance(dims, _py_bool):
            self._dims = [_dim(dims)]
        else:
            try:
                self._dims = [_dim(d) for d in dims]
            except TypeError as e:
                raise TypeError(
                    f"Received an invalid value for `shape`: {e} (in {dims!r})"
                ) from None

    @property
    def dims(self) -> list[Dimension] | None:
        return None if self._dims is None else [Dimension(d) for d in self._dims]

    @property
    def ndims(self) -> int | None:
        return None if self._dims is None else len(self._dims)

    rank = ndims

    def as_list(self) -> list[int | None]:
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self._dims)

    def is_fully_defined(self) -> _py_bool:
        return self._dims is not None and all(d is not None for d in self._dims)

    def is_compatible_with(self, other: Any) -> _py_bool:
        if type(other) is tuple and all(type(d) is int and d >= 0 for d in other):
            dims = other  # an array's shape (every fed value's): no TensorShape built (-1, which
            # TensorShape reads as unknown, and bad sizes take that way)
        else:
            dims = (other if isinstance(other, TensorShape) else TensorShape(other))._dims
        if self._dims is None or dims is None:
            return True
        if len(self._dims) != len(dims):
            return False
        return all(a is None or b is None or a == b for a, b in zip(self._dims, dims))

    def merge_with(self, other: Any) -> TensorShape:
        """The most specific shape compatible with both (ValueError if they conflict)."""
        other = other if isinstance(other, TensorShape) else TensorShape(other)
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible.")
        if self._dims is None:
            return other
        if other._dims is None:
            return self
        return TensorShape([a if a is not None else b for a, b in zip(self._dims, other._dims)])

    def num_elements(self) -> int | None:
        if not self.is_fully_defined():
            return None
        n = 1
        for d in self._dims:  # type: ignore[union-attr]
            n *= d
        return n

    def __len__(self) -> int:
        if self._dims is None:
            raise ValueError("Cannot take the length of a shape with unknown rank.")
        return len(self._dims)

    def __iter__(self) -> Iterator[Dimension]:
        if self._dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank.")
        return iter(Dimension(d) for d in self._dims)

    def __getitem__(self, key: Any) -> Any:
        if self._dims is None:
            return TensorShape(None) if isinstance(key, slice) else Dimension(None)
        if isinstance(key, slice):
            return TensorShape(self._dims[key])
        return Dimension(self._dims[key])

    def __eq__(self, other: object) -> _py_bool:
        if isinstance(other, (list, tuple)):
            other = TensorShape(other)
        return isinstance(other, TensorShape) and self._dims == other._dims

    def __hash__(self) -> int:
        return hash(None if self._dims is None else tuple(self._dims))

    def __str__(self) -> str:
        if self._dims is None:
            return "<unknown>"
        inner = ", ".join("?" if d is None else str(d) for d in self._dims)
        return f"({inner},)" if len(self._dims) == 1 else f"({inner})"

    def __repr__(self) -> str:
        if self._dims is None:
            return "TensorShape(None)"
        return f"TensorShape([{', '.join(repr(Dimension(d)) for d in self._dims)}])"


def shape_text(shape: Any) -> str:
    """A shape as TensorFlow's shape functions print it in their errors: ``[4,?]``, ``?`` for an
    unknown rank (``shape``: a :class:`TensorShape` or anything it takes)."""
    shape = TensorShape(shape)
    dims = shape.as_list() if shape.ndims is not None else None
    return "?" if dims is None else "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"
