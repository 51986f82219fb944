"""Static shapes of one step of a built-in cell called directly, as TensorFlow 1.x infers them.

TF builds a cell's step from ordinary ops (``concat``, ``matmul``, ``split``, products and sums), and
each op's shape function decides what is known about the step's outputs: the batch of ``[x, h]``
merges the input's and the state's, a product broadcasts the state against the gates (so an unknown
state width stays unknown, and a state of unknown rank makes the result's rank unknown). rnnkit runs
the step as one node; this module repeats that inference so the node's tensors carry TF's static
shapes. A shape is a list of dims (``None`` for an unknown dim) or ``None`` for an unknown rank.
"""

from __future__ import annotations

from typing import Any

from rnnkit.compat.v1 import math_ops
from rnnkit.compat.v1.tensor_shape import TensorShape, shape_text

Dims = list  # list[int | None]; None for an unknown rank


def _rank2(a: Dims | None) -> Dims:
    return [None, None] if a is None else a


def _merge(a: int | None, b: int | None) -> int | None:
    return b if a is None else a


def concat1(a: Dims | None, b: Dims | None) -> Dims | None:
    """``concat([a, b], 1)`` of two matrices."""
    if a is None and b is None:
        return None
    a, b = _rank2(a), _rank2(b)
    return [_merge(a[0], b[0]), None if a[1] is None or b[1] is None else a[1] + b[1]]


def matmul(a: Dims | None, rows: int | None, n: int) -> Dims:
    """``matmul(a, kernel)`` with a kernel of ``rows`` x ``n`` (``rows`` None: not known here);
    ``a``'s known width must be ``rows``, as TF's shape function requires at build time."""
    a = _rank2(a)
    if rows is not None and a[1] is not None and a[1] != rows:
        raise ValueError(
            f"Dimensions must be equal, but are {a[1]} and {rows} for 'MatMul' with input shapes: "
            f"{shape_text(a)}, {shape_text([rows, n])}."
        )
    return [a[0], n]


def _rows(x: Dims | None, units: int) -> int | None:
    """A step kernel's rows: the input's depth plus the state's width it was built for."""
    return None if x is None or x[-1] is None else x[-1] + units


def split1(a: Dims | None, k: int) -> Dims:
    """One of ``split(a, k, axis=1)``'s parts."""
    a = _rank2(a)
    return [a[0], None if a[1] is None else a[1] // k]


def slice1(a: Dims | None, width: int) -> Dims:
    """``slice(a, [0, begin], [-1, width])``."""
    return [_rank2(a)[0], width]


def bcast(a: Dims | None, b: Dims | None) -> Dims | None:
    """The broadcast shape of an elementwise op on ``a`` and ``b`` (math_ops' rule, which refuses
    known dims that differ and are not 1, as TF's shape function does)."""
    shape = math_ops._broadcast("Mul", TensorShape(a), TensorShape(b))
    return shape.as_list() if shape.ndims is not None else None


def _basic_rnn(units: int, x: Dims | None, h: Dims | None) -> tuple[Any, Any]:
    out = matmul(concat1(x, h), _rows(x, units), units)
    return out, out


def _gru(units: int, x: Dims | None, h: Dims | None) -> tuple[Any, Any]:
    gate = split1(matmul(concat1(x, h), _rows(x, units), 2 * units), 2)  # r and u
    candidate = matmul(concat1(x, bcast(gate, h)), _rows(x, units), units)
    new_h = bcast(bcast(gate, h), bcast(gate, candidate))
    return new_h, new_h


def _basic_lstm(units: int, x: Dims | None, c: Dims | None, h: Dims | None) -> tuple[Any, Any]:
    gate = split1(matmul(concat1(x, h), _rows(x, units), 4 * units), 4)  # i, j, f, o
    new_c = bcast(bcast(c, gate), bcast(gate, gate))
    new_h = bcast(new_c, gate)
    return new_h, (new_c, new_h)


def _lstm(
    units: int, peepholes: bool, proj: int | None, x: Dims | None, c: Dims | None, m: Dims | None
) -> tuple[Any, Any]:
    width = units if proj is None else proj
    gate = split1(matmul(concat1(x, m), _rows(x, width), 4 * units), 4)  # i, j, f, o
    if peepholes:
        diag = [units]
        forget = bcast(bcast(gate, bcast(diag, c)), c)
        new_c = bcast(forget, bcast(bcast(gate, bcast(diag, c)), gate))
        new_m = bcast(bcast(gate, bcast(diag, new_c)), new_c)
    else:
        new_c = bcast(bcast(gate, c), bcast(gate, gate))
        new_m = bcast(gate, new_c)
    if proj is not None:
        new_m = matmul(new_m, units, proj)
    return new_m, (new_c, new_m)


def basic_rnn(units: int, x: Dims | None, h: Dims | None) -> tuple[Any, Any]:
    """``BasicRNNCell``'s ``(output, state)`` shapes."""
    return _basic_rnn(units, x, h)


def gru(units: int, x: Dims | None, h: Dims | None) -> tuple[Any, Any]:
    """``GRUCell``'s ``(output, state)`` shapes."""
    return _gru(units, x, h)


def basic_lstm(units: int, x: Dims | None, state: Any) -> tuple[Any, Any]:
    """``BasicLSTMCell``'s ``(output, state)`` shapes; ``state`` is ``(c, h)``, or one matrix
    ``[c, h]`` when the cell has ``state_is_tuple=False``."""
    if isinstance(state, tuple):
        return _basic_lstm(units, x, *state)
    half = split1(state, 2)
    out, (new_c, new_h) = _basic_lstm(units, x, half, half)
    return out, concat1(new_c, new_h)


def lstm(
    units: int, peepholes: bool, proj: int | None, x: Dims | None, state: Any
) -> tuple[Any, Any]:
    """``LSTMCell``'s ``(output, state)`` shapes; ``state`` is ``(c, m)``, or one matrix
    ``[c, m]`` (read back with two slices) when the cell has ``state_is_tuple=False``."""
    if isinstance(state, tuple):
        return _lstm(units, peepholes, proj, x, *state)
    c, m = slice1(state, units), slice1(state, units if proj is None else proj)
    out, (new_c, new_m) = _lstm(units, peepholes, proj, x, c, m)
    return out, concat1(new_c, new_m)
