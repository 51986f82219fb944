"""``tf.gradients`` and gradient clipping (TensorFlow's ``ops/gradients_impl.py``, ``clip_ops.py``).

Gradients are torch autograd over the same evaluation ``Session.run`` performs (one
:class:`GradientsNode`; an embedding's gradient an ``IndexedSlices``): docs/DESIGN.md, "The mapping".
A tensor of ``xs`` that does not reach ``ys`` in the graph gets ``None``, as in TensorFlow, and so
does one that reaches it only through integer ops or ops without a gradient (``stop_gradient``,
``floor``, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from rnnkit.compat.v1._kernels import max_kernel, min_kernel
from rnnkit.compat.v1.dtypes import int64
from rnnkit.compat.v1.ops import (
    IndexedSlices,
    RowGather,
    StructNode,
    Tensor,
    _Node,
    convert_to_tensor,
    get_default_graph,
    leaf,
    stacked_rows,
)
from rnnkit.platform import gemm

__all__ = ["gradients", "clip_by_global_norm", "global_norm", "clip_by_norm"]


def _ancestors(ys: Sequence[_Node]) -> list[_Node]:
    seen: dict[int, _Node] = {}
    stack = list(ys)
    while stack:
        n = stack.pop()
        if id(n) not in seen:
            seen[id(n)] = n
            stack.extend(n._inputs)
    return list(seen.values())


def _differentiable_ancestors(ys: Sequence[_Node]) -> set[int]:
    """The ids of the nodes a gradient of ``ys`` can flow into, as TensorFlow decides it when the
    graph is built: not past a non-float tensor (integer or boolean; a cast to one has no
    gradient) nor past an op TF registers without one (``stop_gradient``, ``floor``, ``ceil``,
    ``round``, ``zeros_like``, ``ones_like``: marked ``_no_grad``). A tensor of ``xs`` outside this
    set gets ``None``."""
    seen: set[int] = set()
    stack = list(ys)
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, Tensor) and (getattr(n, "_no_grad", False) or not n.dtype.is_floating):
            continue
        stack.extend(n._inputs)
    return seen


def _row_gathers(nodes: list[_Node], x: _Node) -> list[RowGather]:
    """The row gathers (``embedding_lookup``) reading ``x`` when ``x`` reaches the loss only as
    their params (its gradient is then an IndexedSlices); else an empty list."""
    consumers = [n for n in nodes if any(i is x for i in n._inputs)]
    if all(isinstance(n, RowGather) and n.params is x and n.indices is not x for n in consumers):
        return sorted(consumers, key=lambda n: n._id)  # type: ignore[arg-type]  # TF's order
    return []


def _row_indices(gathers: list[RowGather]) -> Tensor:
    """The ids of the rows ``gathers`` read as one vector, one per lookup in their order (TF's
    ``IndexedSlices.indices``: the ids' dtype, int64 when the gathers' differ)."""
    ids = [n.indices for n in gathers]
    dtype = ids[0].dtype if all(i.dtype is ids[0].dtype for i in ids) else int64
    sizes = [i.shape.num_elements() for i in ids]
    total = None if None in sizes else sum(sizes)  # type: ignore[arg-type]
    to = dtype.torch
    return Tensor("concat_indices" if len(ids) > 1 else "Reshape", dtype, [total], ids,
                  fn=lambda *vs: torch.cat([v.reshape(-1).to(to) for v in vs]))  # fmt: skip


class GradientsNode(StructNode):
    """Evaluates to ``d(sum ys)/d xs`` for the connected ``xs``, then to the gradients of the
    ``rows`` (row gathers' outputs). A run that contains one marks its ``xs`` as requiring grad
    (``Session.run``'s plan, and a function body of ``control_flow_ops``)."""

    def __init__(
        self,
        name: str,
        ys: list[Tensor],
        xs: list[Tensor],
        grad_ys: list[Tensor | None],
        rows: list[Tensor] = (),  # type: ignore[assignment]
        by_rows: Sequence[bool] = (),
    ) -> None:
        given = [g for g in grad_ys if g is not None]
        super().__init__(name, [*ys, *xs, *given, *rows], self._grad, get_default_graph())
        self.xs = xs
        # xs whose gradient is made from the rows' (IndexedSlices): torch computes no dense one
        self._by_rows = list(by_rows) or [False] * len(xs)
        # set when a later tf.gradients differentiates through this node's results (second
        # derivatives): torch then records the gradient computation itself
        self.create_graph = False
        self._n = (len(ys), len(xs), len(given))
        self._has = [g is not None for g in grad_ys]

    def _grad(self, *values: torch.Tensor) -> list[torch.Tensor]:
        ny, nx, ng = self._n
        ys, xs = values[:ny], values[ny : ny + nx]
        given = list(values[ny + nx : ny + nx + ng])
        # rows gathered from an embedding (the outputs of its lookups): their gradients are the
        # values of TensorFlow's IndexedSlices gradient, one row per lookup, duplicates unsummed
        dense = [x for x, r in zip(xs, self._by_rows) if not r]
        xs = tuple(dense) + values[ny + nx + ng :]
        outs, grads = [], []
        for y, has in zip(ys, self._has):
            if not (isinstance(y, torch.Tensor) and y.requires_grad):
                continue
            outs.append(y)
            # a scalar's gradient of one is left to torch (None): given a tensor, torch's first
            # gradient call in a process imports its symbolic-shape module, sympy with it (1.2 s)
            grads.append(
                given.pop(0).to(y.dtype) if has else None if y.numel() == 1 else torch.ones_like(y)
            )
        if not outs:
            got = [torch.zeros_like(x) for x in xs]
        else:
            if self.create_graph and torch.is_grad_enabled():
                found = torch.autograd.grad(
                    outs, list(xs), grads, retain_graph=True, allow_unused=True, create_graph=True
                )
            else:  # a weight multiplied at every step of an unrolled graph: one product for its sum
                found = gemm.grad_summing_weights(outs, list(xs), grads)
            got = [torch.zeros_like(x) if g is None else g for x, g in zip(xs, found)]
        # in the xs' positions (None where made from rows), then the rows'
        it = iter(got)
        return [None if r else next(it) for r in self._by_rows] + list(it)


def gradients(
    ys: Any,
    xs: Any,
    grad_ys: Any = None,
    name: str = "gradients",
    colocate_gradients_with_ops: bool = False,
    gate_gradients: bool = False,
    aggregation_method: Any = None,
    stop_gradients: Any = None,
) -> list[Tensor | None]:
    """The symbolic partial derivatives of ``sum(ys)`` with respect to each tensor of ``xs``
    (``None`` for those ``ys`` does not depend on). ``grad_ys`` weights each ``y``."""
    ys_l = [convert_to_tensor(y) for y in (ys if isinstance(ys, (list, tuple)) else [ys])]
    xs_l = [convert_to_tensor(x) for x in (xs if isinstance(xs, (list, tuple)) else [xs])]
    for x in xs_l:
        if not x.dtype.is_floating:
            raise TypeError(
                f"Received an invalid value for argument `xs`: gradients are defined for float "
                f"tensors, got {x.dtype.name} ({x.name!r})."
            )
    if grad_ys is None:
        gy: list[Tensor | None] = [None] * len(ys_l)
    else:
        gy = [
            None if g is None else convert_to_tensor(g)
            for g in (grad_ys if isinstance(grad_ys, (list, tuple)) else [grad_ys])
        ]
        if len(gy) != len(ys_l):
            raise ValueError(f"Passed {len(gy)} grad_ys for {len(ys_l)} ys.")
    nodes = _ancestors(ys_l)  # every node ys depends on (ys included)
    for n in nodes:  # gradients of gradients: the earlier ones record their own graph
        if isinstance(n, GradientsNode):
            n.create_graph = True
    reached = _differentiable_ancestors(ys_l)
    connected = [x for x in xs_l if id(x) in reached]
    if not connected:
        return [None] * len(xs_l)
    lookups = {id(x): _row_gathers(nodes, x) for x in connected}
    indices = {id(x): _row_indices(ns) for x in connected if (ns := lookups[id(x)])}
    rows = [n for ns in lookups.values() for n in ns]
    by_rows = [id(x) in indices for x in connected]
    node = GradientsNode(get_default_graph().unique_name(name), ys_l, connected, gy, rows, by_rows)
    out: list[Tensor | None] = []
    for x in xs_l:
        if x not in connected:
            out.append(None)
            continue
        path = (connected.index(x),)
        if id(x) in indices:
            parts = [
                leaf(node, (len(connected) + rows.index(n),), n.dtype, n.shape)
                for n in lookups[id(x)]
            ]
            out.append(_from_rows(node, x, indices[id(x)], parts))
        else:
            out.append(leaf(node, path, x.dtype, x.shape))
    return out


def _from_rows(node: GradientsNode, x: Tensor, ids: Tensor, parts: list[Tensor]) -> IndexedSlices:
    """``x``'s gradient as an IndexedSlices of the rows' gradients ``parts``, named as an output of
    ``node``. Its dense value (the rows summed per id) is computed only where a run needs it: an
    optimizer applying the rows, a clipping op and a norm read the rows alone, so a 10,000-word
    embedding's step makes no dense gradient."""
    index = node._n_outputs
    node._n_outputs += 1
    return IndexedSlices(
        node.name,
        x.dtype,
        x.shape,
        [x, ids, *parts],
        fn=lambda xv, iv, *vs: _rows_summed(xv, iv, vs),
        graph=node.graph,
        unique=False,
        index=index,
        indices=ids,
        value_parts=parts,
        dense_like=x,
    )


def _rows_summed(
    like: torch.Tensor, ids: torch.Tensor, parts: Sequence[torch.Tensor]
) -> torch.Tensor:
    """The dense gradient of rows ``parts`` (each in its lookup's layout) at ``ids``: zeros shaped as
    ``like`` with each row added at its id (TF's conversion of an IndexedSlices to a tensor)."""
    rows = stacked_rows(parts, like.shape[1:])
    return torch.zeros_like(like).index_add_(0, ids.reshape(-1).long(), rows.to(like.dtype))


def _is_sparse(t: Any) -> bool:
    """Whether ``t`` is an embedding's gradient (TensorFlow's IndexedSlices)."""
    return isinstance(t, IndexedSlices)


def _map_rows(t: IndexedSlices, fn: Any, inputs: Sequence[Tensor], name: str) -> Tensor:
    """What TensorFlow's clipping ops do to an IndexedSlices: ``fn(values, *inputs)`` on its values
    as one ``(lookups, *row shape)`` tensor (a repeated id's rows apart), and the result sparse
    again with the same indices. Its dense value is the new rows summed per index (as TF's
    conversion of an IndexedSlices to a tensor sums them); the optimizers use that, restricted to
    the rows looked up where their sparse rule differs."""
    values = t.rows_node(f"{name}/values", inputs, fn)
    rows = t.indices
    return IndexedSlices(
        name,
        t.dtype,
        t.shape,
        [t.dense_like, rows, values],
        fn=lambda d, ix, v: _rows_summed(d, ix, [v]),
        indices=rows,
        value_parts=[values],
        dense_like=t.dense_like,
    )


def global_norm(t_list: Sequence[Any], name: str = "global_norm") -> Tensor:
    """``sqrt(sum(||t||^2))`` over the non-None tensors of ``t_list``. As in TensorFlow, the norm of
    an embedding's gradient (an IndexedSlices there) is that of its rows, one per lookup: an id
    looked up twice counts twice, its two rows are not summed first."""
    ts = []
    for t in t_list:
        if t is not None:
            ts.extend(t.value_parts if isinstance(t, IndexedSlices) else [convert_to_tensor(t)])
    if not ts:
        raise ValueError("Received an invalid value for argument `t_list`: no tensors.")
    return Tensor(
        name,
        ts[0].dtype,
        [],
        ts,
        fn=lambda *vs: torch.sqrt(sum(_squares(v) for v in vs)).to(vs[0].dtype),
    )


def _squares(v: torch.Tensor) -> torch.Tensor:
    """``sum(v ** 2)`` as a float64 scalar: TF's ``L2Loss`` (times two) in float32 or float64,
    whose sum torch takes pairwise, then added across tensors in float64. Converting a float32
    gradient to float64 first made a copy twice its size: a language model's (200, 10000) softmax
    weights took 3 ms of its training step where this takes 0.15."""
    w = v if v.dtype in (torch.float32, torch.float64) else v.double()
    return (w * w).sum().double()


def clip_by_global_norm(
    t_list: Sequence[Any], clip_norm: Any, use_norm: Any = None, name: str = "clip_by_global_norm"
) -> tuple[list[Tensor | None], Tensor]:
    """``(t * clip_norm / max(global_norm, clip_norm) for t in t_list), global_norm`` (TF's rule)."""
    if isinstance(t_list, Tensor) or not isinstance(t_list, (list, tuple)):
        raise TypeError(
            f"Received an invalid value for argument `t_list`: expected a list of tensors, got {t_list!r}."
        )
    norm = convert_to_tensor(use_norm) if use_norm is not None else global_norm(t_list)
    c = convert_to_tensor(clip_norm, norm.dtype)

    def clip(v: torch.Tensor, n: torch.Tensor, cn: torch.Tensor) -> torch.Tensor:
        # TF's formula: for an inf or NaN norm, (n - n) makes every clipped value NaN; at a norm
        # equal to clip_norm the gradient goes through 1 / norm (TF's MinimumGrad)
        return v * (cn * min_kernel(1.0 / n, 1.0 / cn) + (n - n)).to(v.dtype)

    out: list[Tensor | None] = []
    for t in t_list:
        if t is None:
            out.append(None)
        elif _is_sparse(t):  # an embedding's gradient stays sparse (TF clips its values)
            out.append(_map_rows(t, clip, [norm, c], name))
        else:
            x = convert_to_tensor(t)
            out.append(Tensor(name, x.dtype, x.shape, [x, norm, c], fn=clip))
    return out, norm


def clip_by_norm(t: Any, clip_norm: Any, axes: Any = None, name: str = "clip_by_norm") -> Tensor:
    """``t * clip_norm / max(||t||, clip_norm)``, the norm over ``axes`` (all by default). Of an
    embedding's gradient (TensorFlow's IndexedSlices), as in TF: the norm is that of its rows, one
    per lookup, with ``axes`` counted in their ``(lookups, *row shape)`` layout (``axes=[1]``
    clips each lookup's row alone), and the result stays sparse."""

    def fn(v: torch.Tensor, cn: torch.Tensor) -> torch.Tensor:
        l2sum = (v * v).sum() if axes is None else (v * v).sum(dim=axes, keepdim=True)
        # TF's safe norm: a zero vector's norm is 0 with gradient 0 (sqrt's is infinite there)
        pred = l2sum > 0
        n = torch.where(pred, torch.sqrt(torch.where(pred, l2sum, torch.ones_like(l2sum))), l2sum)
        return v * cn / max_kernel(n, cn)

    if _is_sparse(t):
        return _map_rows(t, fn, [convert_to_tensor(clip_norm, t.dtype)], name)
    x = convert_to_tensor(t)
    c = convert_to_tensor(clip_norm, x.dtype)
    return Tensor(name, x.dtype, x.shape, [x, c], fn=fn)
