"""``tf.nest`` / ``tf.contrib.framework.nest``: nested structures of lists, tuples, namedtuples and
dicts, as TensorFlow's ``nest`` walks them.

A dict's values come in the order of its sorted keys, a namedtuple's in field order; strings,
numpy arrays, tensors and other objects are leaves. ``pack_sequence_as`` rebuilds the structure
(same container types, dict keys kept) from a flat list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rnnkit.compat.v1.control_flow_ops import structure_error

__all__ = [
    "is_sequence",
    "is_nested",
    "flatten",
    "pack_sequence_as",
    "map_structure",
    "assert_same_structure",
]


def is_nested(seq: Any) -> bool:
    """True for a list, tuple (namedtuples included) or mapping; False for anything else."""
    return isinstance(seq, (list, tuple, Mapping))


is_sequence = is_nested  # TensorFlow 1.x's name


def _children(s: Any) -> list[Any]:
    if isinstance(s, Mapping):
        return [s[k] for k in _sorted_keys(s)]
    return list(s)


def _sorted_keys(d: Mapping) -> list[Any]:
    try:
        return sorted(d)
    except TypeError as e:
        raise TypeError(f"nest only supports dicts with sortable keys, got keys {list(d)}.") from e


def flatten(structure: Any, expand_composites: bool = False) -> list[Any]:
    """The leaves of ``structure`` in TF's order (a leaf alone gives ``[leaf]``)."""
    if not is_nested(structure):
        return [structure]
    return [leaf for child in _children(structure) for leaf in flatten(child)]


def _rebuild(template: Any, children: list[Any]) -> Any:
    if isinstance(template, Mapping):
        items = dict(zip(_sorted_keys(template), children))
        ordered = [(k, items[k]) for k in template]  # the template's own key order
        try:
            return type(template)(ordered)
        except TypeError:
            return dict(ordered)
    if isinstance(template, tuple) and hasattr(template, "_fields"):
        return type(template)(*children)
    return type(template)(children)


def pack_sequence_as(structure: Any, flat_sequence: Any, expand_composites: bool = False) -> Any:
    """``flat_sequence`` in the shape of ``structure`` (``flatten`` undone)."""
    if not is_nested(flat_sequence):
        raise TypeError(
            f"Attempted to pack value:\n  {flat_sequence!r}\ninto a structure, but found "
            f"incompatible type `{type(flat_sequence).__name__}` instead."
        )
    flat = list(flat_sequence)
    if not is_nested(structure):
        if len(flat) != 1:
            raise ValueError(
                f"The target structure is of type `{type(structure).__name__}`\n  {structure!r}\n"
                f"However the input is a sequence ({type(flat_sequence).__name__}) of length "
                f"{len(flat)}.\n  {flat_sequence!r}\nnest cannot guarantee that it is safe to map "
                "one to the other."
            )
        return flat[0]
    n = len(flatten(structure))
    if n != len(flat):
        raise ValueError(
            f"Could not pack sequence. Structure had {n} atoms, but flat_sequence had "
            f"{len(flat)} items.  Structure: {structure!r}, flat_sequence: {flat_sequence!r}."
        )
    it = iter(flat)

    def build(s: Any) -> Any:
        if not is_nested(s):
            return next(it)
        return _rebuild(s, [build(c) for c in _children(s)])

    return build(structure)


def assert_same_structure(
    nest1: Any, nest2: Any, check_types: bool = True, expand_composites: bool = False
) -> None:
    """Raise ValueError (or TypeError for different sequence types when ``check_types``) unless
    ``nest1`` and ``nest2`` nest the same way."""
    err = structure_error(nest1, nest2)
    if err is not None and (check_types or not isinstance(err, TypeError)):
        raise err


def map_structure(func: Callable[..., Any], *structure: Any, **kwargs: Any) -> Any:
    """``func`` applied leaf by leaf over structures of one shape, in that shape."""
    if not callable(func):
        raise TypeError(f"func must be callable, got: {func!r}")
    if not structure:
        raise ValueError("Must provide at least one structure")
    check_types = kwargs.pop("check_types", True)
    kwargs.pop("expand_composites", None)
    if kwargs:
        raise ValueError(
            "Only valid keyword arguments are `check_types` and `expand_composites`, not: "
            f"`{', '.join(kwargs)}`"
        )
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types=check_types)
    columns = zip(*(flatten(s) for s in structure))
    return pack_sequence_as(structure[0], [func(*c) for c in columns])
