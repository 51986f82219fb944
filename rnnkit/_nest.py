"""Nested state structures: a leaf is a tensor; containers are tuples (including NamedTuples).

An LSTM state is ``LSTMStateTuple(c, h)``; a ``MultiRNNCell`` state is a tuple of layer states.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def is_sequence(x: Any) -> bool:
    """Whether ``x`` is a container (tuple, NamedTuple or list) rather than a leaf."""
    return isinstance(x, (tuple, list))


def flatten(structure: Any) -> list[Any]:
    """The leaves of ``structure`` in depth-first order."""
    if is_sequence(structure):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def _rebuild(template: Any, items: list[Any]) -> Any:
    if _is_namedtuple(template):
        return type(template)(*items)
    return tuple(items)


def pack_sequence_as(structure: Any, leaves: list[Any]) -> Any:
    """Inverse of :func:`flatten`: put ``leaves`` into the shape of ``structure``."""
    it = iter(leaves)

    def pack(s: Any) -> Any:
        if is_sequence(s):
            return _rebuild(s, [pack(x) for x in s])
        return next(it)

    return pack(structure)


def map_structure(fn: Callable[..., Any], *structures: Any) -> Any:
    """Apply ``fn`` leaf-wise over structures of the same shape (the first one is the template)."""
    flat = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [fn(*leaves) for leaves in zip(*flat)])
