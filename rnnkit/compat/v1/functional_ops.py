"""TF1's higher-order functions: ``tf.map_fn``, ``tf.scan``, ``tf.foldl``, ``tf.foldr``.

``fn`` is called once while the graph is built, on tensors shaped like one element of ``elems``
(and the accumulator); its ops form a sub-graph that runs once per element inside ``Session.run``
(see ``control_flow_ops``). Gradients are torch autograd over those runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from rnnkit.compat.v1.control_flow_ops import (
    SessionNode,
    flatten,
    most_specific_compatible,
    outputs_of,
    pack,
    spec_of,
    structure_error,
    to_tensors,
    trace,
)
from rnnkit.compat.v1.dtypes import as_dtype
from rnnkit.compat.v1.errors import InvalidArgumentError
from rnnkit.compat.v1.ops import Tensor, get_default_graph, name_scope
from rnnkit.compat.v1.tensor_shape import TensorShape

__all__ = ["map_fn", "scan", "foldl", "foldr"]


def _check_fn(fn: Any) -> None:
    if not callable(fn):
        raise TypeError(f"The provided function {fn!r} is not callable. fn must be callable.")


def _elems(elems: Any) -> tuple[Any, list[Tensor], int | None]:
    """``elems`` as tensors, its leaves, and their common static first dimension."""
    if elems is None:
        raise ValueError("Received an invalid value for argument `elems`: got None.")
    elems = to_tensors(elems, "'elems'")
    leaves = flatten(elems)
    if not leaves:
        raise ValueError("Received an invalid value for argument `elems`: no tensors.")
    n = None
    for t in leaves:
        if t.shape.ndims == 0:
            raise ValueError("Elements in elems must be 1+ dimensional Tensors, not scalars")
        d = None if t.shape.ndims is None else t.shape.as_list()[0]
        if d is not None:
            if n is not None and d != n:
                raise ValueError(f"Dimensions {n} and {d} are not compatible")
            n = d
    return elems, leaves, n


def _element_spec(elems: Any) -> Any:
    def row(spec: Any) -> Any:
        dtype, shape = spec
        return (dtype, TensorShape(None) if shape.ndims is None else TensorShape(shape[1:]))

    return _map_leaves(row, spec_of(elems))


def _map_leaves(fn: Callable[[Any], Any], specs: Any) -> Any:
    if isinstance(specs, tuple) and len(specs) == 2 and isinstance(specs[1], TensorShape):
        return fn(specs)
    if isinstance(specs, dict):
        return type(specs)((k, _map_leaves(fn, v)) for k, v in specs.items())
    if isinstance(specs, tuple) and hasattr(specs, "_fields"):
        return type(specs)(*[_map_leaves(fn, v) for v in specs])
    return type(specs)(_map_leaves(fn, v) for v in specs)


def _length(values: list[torch.Tensor], names: list[str]) -> int:
    sizes = {int(v.shape[0]) for v in values}
    if len(sizes) > 1:
        raise InvalidArgumentError(
            "All elements of 'elems' must have the same first dimension, got "
            + ", ".join(f"{n}: {int(v.shape[0])}" for n, v in zip(names, values))
        )
    return sizes.pop()


def _stack(rows: list[torch.Tensor], shape: TensorShape, dtype: Any) -> torch.Tensor:
    if rows:
        return torch.stack(rows)
    if shape.ndims is None or not shape.is_fully_defined():
        raise InvalidArgumentError(
            "Cannot stack the results of zero elements: the result's element shape "
            f"{shape} is not fully defined."
        )
    return torch.zeros([0, *shape.as_list()], dtype=dtype.torch)


def _check_types(expected: list[Any], got: list[Tensor], what: str) -> None:
    for e, g in zip(expected, got):
        if g.dtype is not e:
            raise TypeError(
                f"{what} returned a {g.dtype.name} tensor ({g.name!r}) where {e.name} was "
                "expected; pass the result's dtype as `dtype` (or `fn_output_signature`)."
            )


def map_fn(
    fn: Callable[[Any], Any],
    elems: Any,
    dtype: Any = None,
    parallel_iterations: Any = None,
    back_prop: bool = True,
    swap_memory: bool = False,
    infer_shape: bool = True,
    name: str | None = None,
    fn_output_signature: Any = None,
) -> Any:
    """``stack([fn(e) for e in unstack(elems)])`` over the first dimension of ``elems`` (a tensor
    or a structure of tensors of the same length). The result has the structure and dtypes of
    ``dtype`` (``fn_output_signature``), by default those of ``elems``."""
    _check_fn(fn)
    graph = get_default_graph()
    with name_scope(name, "map"):
        elems, leaves, n = _elems(elems)
        body, _, result = trace(fn, _element_spec(elems), "fn", call=lambda f, p: f(p))
        signature = fn_output_signature if fn_output_signature is not None else dtype
        template = elems if signature is None else signature
        err = structure_error(template, result)
        if err is not None:
            raise err
        out_leaves = flatten(result)
        expected = [t.dtype for t in leaves] if signature is None else [as_dtype(d) for d in flatten(signature)]  # fmt: skip
        _check_types(expected, out_leaves, "fn")
        shapes = [t.shape for t in out_leaves]
        names = [t.name for t in leaves]
        k_e = len(leaves)

        def run(sess: Any, *values: Any) -> list[torch.Tensor]:
            xs, cap = values[:k_e], values[k_e:]
            count = _length(list(xs), names)
            rows: list[list[torch.Tensor]] = [[] for _ in out_leaves]
            with torch.set_grad_enabled(back_prop and torch.is_grad_enabled()):
                for i in range(count):
                    outs = body.run(sess, [x[i] for x in xs], cap)
                    for r, o in zip(rows, outs):
                        r.append(o)
            return [_stack(r, s, t.dtype) for r, s, t in zip(rows, shapes, out_leaves)]

        node = SessionNode(graph.unique_name("map"), [*leaves, *body.captured], run, graph)
        stacked = [_prepend(n, s) for s in shapes]
        return pack(result, outputs_of(node, out_leaves, stacked, "TensorArrayStack"))


def _prepend(n: int | None, shape: TensorShape) -> TensorShape:
    return TensorShape(None) if shape.ndims is None else TensorShape([n, *shape.as_list()])


def _accumulate(
    fn: Callable[[Any, Any], Any],
    elems: Any,
    initializer: Any,
    reverse: bool,
    collect: bool,
    back_prop: bool,
    name: str,
) -> Any:
    """``scan`` (``collect``: every accumulator, stacked) and ``foldl``/``foldr`` (the last)."""
    _check_fn(fn)
    graph = get_default_graph()
    elems, leaves, n = _elems(elems)
    x_spec = _element_spec(elems)
    if initializer is None:
        init = None
        acc_spec = x_spec
    else:
        init = to_tensors(initializer, "'initializer'")
        acc_spec = spec_of(init)
    body, _, result = trace(fn, (acc_spec, x_spec), "fn", call=lambda f, p: f(p[0], p[1]))
    template = elems if init is None else init
    err = structure_error(template, result)
    if err is not None:
        raise err
    acc_leaves = flatten(template)
    out_leaves = flatten(result)
    _check_types([t.dtype for t in acc_leaves], out_leaves, "fn")
    shapes = []
    for a, o in zip(_spec_shapes(acc_spec), out_leaves):
        shapes.append(most_specific_compatible(a, o.shape))
    names = [t.name for t in leaves]
    k_e = len(leaves)
    k_a = 0 if init is None else len(acc_leaves)

    def run(sess: Any, *values: Any) -> list[torch.Tensor]:
        xs, acc, cap = values[:k_e], list(values[k_e : k_e + k_a]), values[k_e + k_a :]
        count = _length(list(xs), names)
        order = list(range(count))[::-1] if reverse else list(range(count))
        kept: dict[int, list[torch.Tensor]] = {}
        if init is None:
            if not order:
                raise InvalidArgumentError("Tried to read from index 0 but array size is: 0")
            first, order = order[0], order[1:]
            acc = [x[first] for x in xs]
            kept[first] = acc
        with torch.set_grad_enabled(back_prop and torch.is_grad_enabled()):
            for i in order:
                acc = body.run(sess, [*acc, *[x[i] for x in xs]], cap)
                kept[i] = acc
        if not collect:
            return acc
        rows = [kept[i] for i in range(count)]
        return [
            _stack([r[j] for r in rows], s, t.dtype)
            for j, (s, t) in enumerate(zip(shapes, acc_leaves))
        ]

    inputs = [*leaves, *([] if init is None else acc_leaves), *body.captured]
    node = SessionNode(graph.unique_name(name or "scan"), inputs, run, graph)
    out_shapes = [_prepend(n, s) for s in shapes] if collect else shapes
    op = "TensorArrayStack" if collect else "Exit"
    return pack(template, outputs_of(node, acc_leaves, out_shapes, op))


def _spec_shapes(spec: Any) -> list[TensorShape]:
    out: list[TensorShape] = []
    _map_leaves(lambda s: out.append(s[1]), spec)
    return out


def scan(
    fn: Callable[[Any, Any], Any],
    elems: Any,
    initializer: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    infer_shape: bool = True,
    reverse: bool = False,
    name: str | None = None,
) -> Any:
    """The accumulators ``a_i = fn(a_{i-1}, elems[i])`` stacked over ``i`` (from the end with
    ``reverse``). Without ``initializer`` the first element is the first accumulator (and the
    result's first row); the result has the accumulator's structure."""
    with name_scope(name, "scan"):
        return _accumulate(fn, elems, initializer, reverse, True, back_prop, None)


def foldl(
    fn: Callable[[Any, Any], Any],
    elems: Any,
    initializer: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    name: str | None = None,
) -> Any:
    """The last accumulator of ``a = fn(a, e)`` over ``elems`` from the first element."""
    with name_scope(name, "foldl"):
        return _accumulate(fn, elems, initializer, False, False, back_prop, None)


def foldr(
    fn: Callable[[Any, Any], Any],
    elems: Any,
    initializer: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    name: str | None = None,
) -> Any:
    """The last accumulator of ``a = fn(a, e)`` over ``elems`` from the last element."""
    with name_scope(name, "foldr"):
        return _accumulate(fn, elems, initializer, True, False, back_prop, None)
