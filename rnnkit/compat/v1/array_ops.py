"""Array ops (TensorFlow's ``ops/array_ops.py``): shapes and layout (``reshape``, ``transpose``,
``concat``, ``stack``, ``unstack``, slicing ``x[:, -1]``), ``shape``, ``gather``, ``one_hot``, ...

Static shapes are checked when the op is built; dynamic ones (``None`` dimensions) when it runs.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from rnnkit.compat.v1.dtypes import as_dtype, float32, int32, int64
from rnnkit.compat.v1.dtypes import bool as tf_bool
from rnnkit.compat.v1.errors import InvalidArgumentError
from rnnkit.compat.v1.math_ops import _axis
from rnnkit.compat.v1.ops import (
    RowGather,
    StructNode,
    Tensor,
    convert_to_tensor,
    leaf,
    shape_list,
)
from rnnkit.compat.v1.strided_slice import slice_with_tensors
from rnnkit.compat.v1.tensor_shape import TensorShape

__all__ = [
    "zeros",
    "ones",
    "fill",
    "zeros_like",
    "ones_like",
    "identity",
    "stop_gradient",
    "shape",
    "size",
    "rank",
    "expand_dims",
    "squeeze",
    "tile",
    "gather",
    "one_hot",
    "where",
    "split",
    "reverse",
    "sequence_mask",
    "boolean_mask",
    "pad",
    "transpose",
    "reshape",
    "concat",
    "stack",
    "unstack",
    "newaxis",
]

_py_bool = bool


def _any_axis(axis: Any, rank: int | None) -> int:
    """``axis`` checked against ``rank``; of a tensor of unknown rank, any int (a negative one
    counts from the end at run time, as torch and TF count it)."""
    if rank is not None:
        return _axis("axis", axis, rank)
    if isinstance(axis, _py_bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(
            f"Received an invalid value for argument `axis`: expected an int, got {axis!r}."
        )
    return int(axis)


def transpose(a: Any, perm: Sequence[int] | None = None, name: str = "transpose") -> Tensor:
    """Permute the dimensions (default: reverse them)."""
    a = convert_to_tensor(a)
    rank = a.shape.ndims
    if perm is None:
        if rank is None:
            raise ValueError("tf.transpose without `perm` needs a tensor of known rank.")
        perm = list(range(rank))[::-1]
    perm = [int(p) for p in perm]
    if rank is not None and sorted(perm) != list(range(rank)):
        raise ValueError(
            f"Received an invalid value for argument `perm`: expected a permutation of "
            f"{list(range(rank))}, got {perm}."
        )
    if rank is None:  # the rank is the permutation's length (one entry: a scalar or a vector)
        shape = TensorShape([None] * len(perm) if len(perm) >= 2 else None)
    else:
        shape = TensorShape([a.shape.as_list()[p] for p in perm])
    return Tensor(name, a.dtype, shape, [a], fn=lambda x: x.permute(*perm))


def reshape(tensor: Any, shape: Any, name: str = "Reshape") -> Tensor:
    """Reshape to ``shape``: a list of ints (one entry may be -1), or a list mixing ints and scalar
    integer tensors (``[batch_size, batch_len]``), or a 1-D integer tensor; sizes given as tensors
    are read when the graph runs."""
    x = convert_to_tensor(tensor)
    if isinstance(shape, Tensor) or (
        isinstance(shape, (list, tuple)) and any(isinstance(d, Tensor) for d in shape)
    ):
        return _reshape_dynamic(x, shape, name)
    target = _check_sizes(shape.as_list() if isinstance(shape, TensorShape) else shape)
    static: list[int | None] = list(target)
    known = int(np.prod([d for d in target if d != -1]))
    if x.shape.is_fully_defined():
        total = int(np.prod(x.shape.as_list()))
        if -1 in target:
            if known == 0 or total % known:
                raise ValueError(
                    f"Cannot reshape a tensor with {total} elements to shape {target}."
                )
            static[target.index(-1)] = total // known
        elif total != known:
            raise ValueError(
                f"Cannot reshape a tensor with {total} elements to shape {target} ({known} "
                f"elements) for {x.name!r}."
            )
    else:
        static = [None if d == -1 else d for d in target]

    def fn(v: torch.Tensor) -> torch.Tensor:
        try:
            return v.reshape(target)
        except RuntimeError:
            raise InvalidArgumentError(
                f"Input to reshape is a tensor with {v.numel()} values, but the requested shape "
                f"is {target}."
            ) from None

    return Tensor(name, x.dtype, static, [x], fn=fn)


def _check_sizes(sizes: Any) -> list[Any]:
    """The sizes of a reshape's ``shape`` (ints, or scalar tensors left as they are): integers,
    at most one -1, none below -1."""
    if not isinstance(sizes, (list, tuple, np.ndarray)):
        raise TypeError(
            "Received an invalid type for argument `shape`: expected a list of integers or a 1-D "
            f"integer tensor, got {sizes!r} (type {type(sizes).__name__})."
        )
    out: list[Any] = []
    for d in sizes:
        if isinstance(d, Tensor):
            out.append(d)
        elif isinstance(d, (numbers.Integral, np.integer)) and not isinstance(d, (bool, np.bool_)):
            out.append(int(d))
        else:
            raise TypeError(
                "Received an invalid type for argument `shape`: expected integer sizes (or scalar "
                f"integer tensors), got {d!r} (type {type(d).__name__}) in {list(sizes)!r}."
            )
    ints = [d for d in out if not isinstance(d, Tensor)]
    if sum(d == -1 for d in ints) > 1 or any(d < -1 for d in ints):
        raise ValueError(
            "Received an invalid value for argument `shape`: expected non-negative sizes and at "
            f"most one -1, got {list(sizes)!r}."
        )
    return out


def _reshape_dynamic(x: Tensor, shape: Any, name: str) -> Tensor:
    if isinstance(shape, Tensor):
        if not shape.dtype.is_integer or shape.shape.ndims not in (None, 1):
            raise TypeError(
                "Received an invalid value for argument `shape`: expected a 1-D integer tensor, "
                f"got {shape!r}."
            )
        target = shape
        n = shape.shape.as_list()[0] if shape.shape.ndims == 1 else None
        static: Any = None if n is None else [None] * n
    else:
        for d in shape:
            if isinstance(d, Tensor) and (not d.dtype.is_integer or d.shape.ndims not in (None, 0)):
                raise TypeError(
                    "Received an invalid value for argument `shape`: expected ints or scalar "
                    f"integer tensors, got {d!r}."
                )
        sizes = _check_sizes(shape)
        static = [None if isinstance(d, Tensor) or d == -1 else d for d in sizes]
        target = convert_to_tensor(sizes)

    def fn(v: torch.Tensor, dims: torch.Tensor) -> torch.Tensor:
        sizes = [int(d) for d in dims.reshape(-1)]
        try:
            return v.reshape(sizes)
        except RuntimeError:
            raise InvalidArgumentError(
                f"Input to reshape is a tensor with {v.numel()} values, but the requested shape "
                f"is {sizes}."
            ) from None

    return Tensor(name, x.dtype, static, [x, target], fn=fn)


def _same_dtype(values: Sequence[Any], what: str) -> list[Tensor]:
    if isinstance(values, Tensor) or not isinstance(values, (list, tuple)) or not values:
        raise TypeError(
            f"Received an invalid value for argument `values` of {what}: expected a non-empty "
            f"list of tensors, got {values!r}."
        )
    first = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = None if first is None else first.dtype
    ts = [convert_to_tensor(v, dtype) for v in values]
    for t in ts:
        if t.dtype is not ts[0].dtype:
            raise TypeError(
                f"{what}: all values must have the same dtype, got {ts[0].dtype.name} and "
                f"{t.dtype.name} ({t.name!r})."
            )
    return ts


def _merge_dims(what: str, shapes: list[list[int | None]], skip: int | None) -> list[int | None]:
    out = list(shapes[0])
    for s in shapes[1:]:
        if len(s) != len(out):
            raise ValueError(f"{what}: all values must have the same rank, got shapes {shapes}.")
        for i, d in enumerate(s):
            if i == skip:
                continue
            if out[i] is None:
                out[i] = d
            elif d is not None and d != out[i]:
                raise ValueError(
                    f"{what}: dimension {i} of the values must match, got shapes "
                    f"{[str(TensorShape(x)) for x in shapes]}."
                )
    return out


def concat(values: Sequence[Any], axis: int, name: str = "concat") -> Tensor:
    """Join tensors along an existing ``axis`` (one tensor, not in a list, is a list of one)."""
    if not isinstance(values, (list, tuple)):
        values = [values]  # as TF: tf.concat(t, 1) is t
    ts = _same_dtype(values, "tf.concat")
    known = [t for t in ts if t.shape.ndims is not None]
    if not known:
        shape = TensorShape(None)
        if isinstance(axis, _py_bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(
                f"Received an invalid value for argument `axis`: expected an int, got {axis!r}."
            )
        ax = int(axis)  # a negative axis is resolved at run time
    elif len(known) < len(ts):  # rank and other sizes from the tensors that know them
        ax = _axis("axis", axis, known[0].shape.ndims)
        dims = _merge_dims("tf.concat", [t.shape.as_list() for t in known], skip=ax)
        dims[ax] = None
        shape = TensorShape(dims)
    else:
        shapes = [t.shape.as_list() for t in ts]
        ax = _axis("axis", axis, len(shapes[0]))
        dims = _merge_dims("tf.concat", shapes, skip=ax)
        sizes = [s[ax] for s in shapes]
        dims[ax] = None if any(s is None for s in sizes) else sum(sizes)
        shape = TensorShape(dims)
    return Tensor(name, ts[0].dtype, shape, ts, fn=lambda *vs: torch.cat(vs, ax))


def stack(values: Sequence[Any], axis: int = 0, name: str = "stack") -> Tensor:
    """Stack same-shaped tensors along a new ``axis``."""
    ts = _same_dtype(values, "tf.stack")
    known = [t for t in ts if t.shape.ndims is not None]
    if not known:
        shape = TensorShape(None)
        ax = _any_axis(axis, None)
    else:  # the values' shapes merged: one known shape tells all
        dims = _merge_dims("tf.stack", [t.shape.as_list() for t in known], skip=None)
        ax = _axis("axis", axis, len(dims) + 1)
        shape = TensorShape(dims[:ax] + [len(ts)] + dims[ax:])
    return Tensor(name, ts[0].dtype, shape, ts, fn=lambda *vs: torch.stack(vs, ax))


def unstack(
    value: Any, num: int | None = None, axis: int = 0, name: str = "unstack"
) -> list[Tensor]:
    """Split a tensor along ``axis`` into a list of tensors (the size must be static or ``num``)."""
    x = convert_to_tensor(value)
    dims = x.shape.as_list() if x.shape.ndims is not None else None
    ax = _any_axis(axis, None if dims is None else len(dims))
    n = num if dims is None or dims[ax] is None else dims[ax]
    if n is None:
        raise ValueError(
            f"Cannot infer num from shape {x.shape} of {x.name!r}: pass num= (the size of axis {ax})."
        )
    rest = None if dims is None else dims[:ax] + dims[ax + 1 :]
    base = x.graph.unique_name(name)

    def fn(v: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if v.shape[ax] != n:
            raise InvalidArgumentError(
                f"Input shape axis {ax} must equal {n}, got shape {list(v.shape)} ({base})"
            )
        return v.unbind(ax)

    split = StructNode(base, [x], fn, x.graph)
    return [leaf(split, (i,), x.dtype, rest) for i in range(n)]


def zeros(shape: Any, dtype: Any = float32, name: str = "zeros") -> Tensor:
    """A tensor of zeros of a static ``shape`` (or a shape tensor such as ``tf.shape(x)``)."""
    return fill(shape, 0, dtype, name)


def ones(shape: Any, dtype: Any = float32, name: str = "ones") -> Tensor:
    """A tensor of ones of a static ``shape`` (or a shape tensor)."""
    return fill(shape, 1, dtype, name)


def _fill_with_tensor(dims: Any, value: Tensor, name: str) -> Tensor:
    """``fill`` with a scalar tensor ``value``, read at run time."""
    if value.shape.ndims not in (None, 0):
        raise ValueError(
            f"Shape must be rank 0 but is rank {value.shape.ndims} for 'Fill' (op: 'Fill') with "
            f"input shapes: {value.shape} (value)."
        )

    def expand(v: torch.Tensor, d: list[int]) -> torch.Tensor:
        if v.dim() != 0:
            raise InvalidArgumentError(f"value must be a scalar, got shape {list(v.shape)}")
        return v.expand(d).clone()

    if isinstance(dims, Tensor) or (
        isinstance(dims, (list, tuple)) and any(isinstance(d, Tensor) for d in dims)
    ):
        shape_t = (
            dims if isinstance(dims, Tensor) else stack([convert_to_tensor(d, int32) for d in dims])
        )
        n = shape_t.shape.as_list()[0] if shape_t.shape.ndims == 1 else None
        return Tensor(
            name,
            value.dtype,
            [None] * n if n is not None else None,
            [shape_t, value],
            fn=lambda s, v: expand(v, [int(x) for x in s.tolist()]),
        )
    d = shape_list("shape", dims)
    return Tensor(name, value.dtype, d, [value], fn=lambda v: expand(v, d))


def fill(dims: Any, value: Any, dtype: Any = None, name: str = "Fill") -> Tensor:
    if isinstance(value, Tensor):  # a scalar tensor: its dtype, its value at run time
        from rnnkit.compat.v1.math_ops import cast

        v = value if dtype is None or as_dtype(dtype) is value.dtype else cast(value, dtype)
        return _fill_with_tensor(dims, v, name)
    dt = as_dtype(dtype) if dtype is not None else convert_to_tensor(value).dtype
    if isinstance(dims, Tensor) or (
        isinstance(dims, (list, tuple)) and any(isinstance(d, Tensor) for d in dims)
    ):
        shape_t = (
            dims if isinstance(dims, Tensor) else stack([convert_to_tensor(d, int32) for d in dims])
        )
        n = shape_t.shape.as_list()[0] if shape_t.shape.ndims == 1 else None
        static = [None] * n if n is not None else None
        return Tensor(
            name,
            dt,
            static,
            [shape_t],
            fn=lambda s: torch.full([int(d) for d in s.tolist()], value, dtype=dt.torch),
        )
    d = shape_list("shape", dims)
    return Tensor(name, dt, d, fn=lambda: torch.full(d, value, dtype=dt.torch))


def zeros_like(tensor: Any, dtype: Any = None, name: str = "zeros_like") -> Tensor:
    x = convert_to_tensor(tensor)
    dt = as_dtype(dtype) if dtype is not None else x.dtype
    out = Tensor(name, dt, x.shape, [x], fn=lambda v: torch.zeros_like(v, dtype=dt.torch))
    out._no_grad = True  # no gradient flows into x (tf.gradients: None)
    return out


def ones_like(tensor: Any, dtype: Any = None, name: str = "ones_like") -> Tensor:
    x = convert_to_tensor(tensor)
    dt = as_dtype(dtype) if dtype is not None else x.dtype
    out = Tensor(name, dt, x.shape, [x], fn=lambda v: torch.ones_like(v, dtype=dt.torch))
    out._no_grad = True
    return out


def identity(input: Any, name: str = "Identity") -> Tensor:  # noqa: A002
    x = convert_to_tensor(input)
    return Tensor(name, x.dtype, x.shape, [x], fn=lambda v: v)


def stop_gradient(input: Any, name: str = "StopGradient") -> Tensor:  # noqa: A002
    """``input``, through which no gradient flows."""
    x = convert_to_tensor(input)
    out = Tensor(name, x.dtype, x.shape, [x], fn=lambda v: v.detach())
    out._no_grad = True
    return out


def shape(input: Any, name: str = "Shape", out_type: Any = int32) -> Tensor:  # noqa: A002
    """The dynamic shape of ``input`` as an int32 vector (``tf.shape(X)[0]`` is the batch size)."""
    x = convert_to_tensor(input)
    dt = as_dtype(out_type)
    return Tensor(
        name, dt, [x.shape.ndims], [x], fn=lambda v: torch.tensor(list(v.shape), dtype=dt.torch)
    )


def size(input: Any, name: str = "Size", out_type: Any = int32) -> Tensor:  # noqa: A002
    x = convert_to_tensor(input)
    return Tensor(
        name,
        as_dtype(out_type),
        [],
        [x],
        fn=lambda v: torch.tensor(v.numel(), dtype=as_dtype(out_type).torch),
    )


def rank(input: Any, name: str = "Rank") -> Tensor:  # noqa: A002
    x = convert_to_tensor(input)
    return Tensor(name, int32, [], [x], fn=lambda v: torch.tensor(v.dim(), dtype=torch.int32))


def expand_dims(input: Any, axis: int = None, name: str = "ExpandDims", dim: Any = None) -> Tensor:  # noqa: A002
    x = convert_to_tensor(input)
    ax = axis if axis is not None else dim
    r = x.shape.ndims
    a = _any_axis(ax, None if r is None else r + 1)
    shp = None if r is None else x.shape.as_list()[:a] + [1] + x.shape.as_list()[a:]
    return Tensor(name, x.dtype, shp, [x], fn=lambda v: v.unsqueeze(a))


def squeeze(
    input: Any, axis: Any = None, name: str = "Squeeze", squeeze_dims: Any = None
) -> Tensor:  # noqa: A002
    x = convert_to_tensor(input)
    ax = axis if axis is not None else squeeze_dims
    given = (
        None if ax is None else [int(a) for a in (ax if isinstance(ax, (list, tuple)) else [ax])]
    )
    if given == []:  # TF: an empty list of axes squeezes every dimension of size 1
        given = ax = None
    dims = x.shape.as_list() if x.shape.ndims is not None else None
    if dims is None or (given is None and None in dims):
        # which dimensions are 1 is known only at run time: TF's static shape is unknown then

        def dynamic(v: torch.Tensor) -> torch.Tensor:
            r = v.dim()
            if given is None:
                return v.reshape([d for d in v.shape if d != 1])
            for a in given:
                if not -r <= a < r:
                    raise InvalidArgumentError(
                        f"Tried to squeeze dim index {a} for tensor with {r} dimensions."
                    )
            axes = sorted({a % r for a in given})
            for a in axes:
                if v.shape[a] != 1:
                    raise InvalidArgumentError(
                        f"Can not squeeze dim[{a}], expected a dimension of 1, got {v.shape[a]} ({name})"
                    )
            return v.reshape([d for i, d in enumerate(v.shape) if i not in axes])

        return Tensor(name, x.dtype, None, [x], fn=dynamic)
    if ax is None:
        axes = [i for i, d in enumerate(dims) if d == 1]
    else:
        axes = sorted(
            _axis("axis", a, len(dims)) for a in (ax if isinstance(ax, (list, tuple)) else [ax])
        )
        for a in axes:
            if dims[a] not in (1, None):
                raise ValueError(
                    f"Can not squeeze dim[{a}], expected a dimension of 1, got {dims[a]} for {x.name!r}."
                )
    shp = [d for i, d in enumerate(dims) if i not in axes]

    def fn(v: torch.Tensor) -> torch.Tensor:
        for a in reversed(axes):
            if v.shape[a] != 1:
                raise InvalidArgumentError(
                    f"Can not squeeze dim[{a}], expected a dimension of 1, got {v.shape[a]} "
                    f"({name})"
                )
            v = v.squeeze(a)
        return v

    return Tensor(name, x.dtype, shp, [x], fn=fn)


def tile(input: Any, multiples: Any, name: str = "Tile") -> Tensor:  # noqa: A002
    x = convert_to_tensor(input)
    if isinstance(multiples, Tensor):
        return Tensor(
            name,
            x.dtype,
            [None] * (x.shape.ndims or 0) if x.shape.ndims else None,
            [x, multiples],
            fn=lambda v, m: v.repeat(*[int(i) for i in m.tolist()]),
        )
    mult = [int(m) for m in multiples]
    shp = (
        [None] * len(mult)  # unknown rank: the rank is the number of multiples
        if x.shape.ndims is None
        else [None if d is None else d * m for d, m in zip(x.shape.as_list(), mult)]
    )
    return Tensor(name, x.dtype, shp, [x], fn=lambda v: v.repeat(*mult))


def gather(
    params: Any, indices: Any, validate_indices: Any = None, name: str = "GatherV2", axis: int = 0
) -> Tensor:
    """``params`` rows (along ``axis``) picked by integer ``indices`` of any shape."""
    p, i = convert_to_tensor(params), convert_to_tensor(indices)
    if not i.dtype.is_integer:
        raise TypeError(
            f"Received an invalid value for argument `indices` of tf.gather: expected int32/int64, got {i.dtype.name} ({i.name!r})."
        )
    r = p.shape.ndims
    a = _axis("axis", axis, r)
    shp = None
    if r is not None and i.shape.ndims is not None:
        d = p.shape.as_list()
        shp = d[:a] + i.shape.as_list() + d[a + 1 :]

    def fn(pv: torch.Tensor, iv: torch.Tensor) -> torch.Tensor:
        n = pv.shape[a]
        if iv.numel():
            lo, hi = (int(v) for v in torch.aminmax(iv))  # one pass for both bounds
            if lo < 0 or hi >= n:
                raise InvalidArgumentError(
                    f"indices[...] = {hi if hi >= n else lo} is not in [0, {n}) ({name})."
                )
        idx = iv.reshape(-1)
        if idx.dtype not in (torch.int32, torch.int64):  # (torch's index_select takes these two)
            idx = idx.long()
        out = torch.index_select(pv, a, idx)
        return out.reshape(pv.shape[:a] + iv.shape + pv.shape[a + 1 :])

    # along the first axis: a RowGather, whose params get an IndexedSlices gradient
    return (RowGather if a == 0 else Tensor)(name, p.dtype, shp, [p, i], fn=fn)


def one_hot(
    indices: Any,
    depth: int,
    on_value: Any = None,
    off_value: Any = None,
    axis: Any = None,
    dtype: Any = None,
    name: str = "one_hot",
) -> Tensor:
    """``(..., depth)`` vectors with ``on_value`` at each index (out-of-range indices give all off)."""
    i = convert_to_tensor(indices)
    dt = as_dtype(dtype) if dtype is not None else float32
    on = 1 if on_value is None else on_value
    off = 0 if off_value is None else off_value
    n = int(depth)
    shp = None
    if i.shape.ndims is not None:
        shp = i.shape.as_list()
        shp.insert(len(shp) if axis in (None, -1) else _axis("axis", axis, len(shp) + 1), n)

    on_v, off_v = torch.tensor(on, dtype=dt.torch), torch.tensor(off, dtype=dt.torch)

    def fn(v: torch.Tensor) -> torch.Tensor:
        v = v.long()
        # the off value everywhere, then the on value written at each index in range (one pass over
        # the result: a vocabulary's one-hot labels are (batch * steps, V))
        res = off_v.expand(*v.shape, n).clone(memory_format=torch.contiguous_format)
        if n and v.numel():
            index = v.unsqueeze(-1)
            lo, hi = torch.aminmax(v)
            if lo < 0 or hi >= n:  # out of range: all off in that row
                valid = ((v >= 0) & (v < n)).unsqueeze(-1)
                index = torch.where(valid, index, 0)
                res.scatter_(-1, index, torch.where(valid, on_v, off_v))
            else:  # (a sampling loop's single id: the check costs less than the masks)
                res.scatter_(-1, index, on_v.expand(index.shape))
        return res if axis in (None, -1) else res.movedim(-1, axis)

    return Tensor(name, dt, shp, [i], fn=fn)


def where(condition: Any, x: Any = None, y: Any = None, name: str = "Where") -> Tensor:
    return _where(condition, x, y, name)


def rows_kept(finished: Any, kept: Any, new: Any, name: str = "Where") -> Tensor:
    """``where(finished, kept, new)`` for a vector ``finished`` of rows; ``new`` itself (no copy,
    no node for autograd) in a run where no row has finished, as in a decoder's early steps."""
    return _where(finished, kept, new, name, new_when_none=True)


def _where(condition: Any, x: Any, y: Any, name: str, new_when_none: bool = False) -> Tensor:
    c = convert_to_tensor(condition, tf_bool)
    if x is None and y is None:
        return Tensor(name, int64, [None, c.shape.ndims], [c], fn=lambda v: torch.nonzero(v))
    from rnnkit.compat.v1.math_ops import _pair

    a, b = _pair(x, y, "Where")
    if not a.shape.is_compatible_with(b.shape):
        raise ValueError(f"Shapes {a.shape} and {b.shape} are incompatible ('{name}': x and y).")
    shape = a.shape.merge_with(b.shape)
    cs = c.shape
    if cs.ndims is not None and cs.ndims >= 2 and shape.ndims is not None:
        if cs.is_compatible_with(shape):
            shape = shape.merge_with(cs)  # a condition of x's shape tells its sizes too (TF's shape
            # function merges it unless it is a scalar or a vector, or x and y have unknown rank)
    if cs.ndims and shape.ndims is not None and not cs.is_compatible_with(shape):
        if not (cs.ndims == 1 and shape.ndims >= 1 and cs[:1].is_compatible_with(shape[:1])):
            raise ValueError(
                f"Shapes {cs} and {shape} are incompatible ('{name}': condition must have the "
                "shape of x, or be a vector of its first dimension's size)."
            )

    def fn(cv: torch.Tensor, av: torch.Tensor, bv: torch.Tensor) -> torch.Tensor:
        if av.shape != bv.shape:
            raise InvalidArgumentError(
                f"'then' and 'else' must have the same size. but received: {list(av.shape)} vs. "
                f"{list(bv.shape)} ({name})"
            )
        if cv.dim() and cv.shape != av.shape:  # a scalar condition picks a whole tensor
            if not (cv.dim() == 1 and av.dim() >= 1 and cv.shape[0] == av.shape[0]):
                raise InvalidArgumentError(
                    f"'cond' must be a vector the size of the first dimension of 'then', or have "
                    f"its shape, but received: {list(cv.shape)} vs. {list(av.shape)} ({name})"
                )
            cv = cv.reshape(cv.shape + (1,) * (av.dim() - 1))
        if new_when_none and not bool(cv.any()):
            return bv
        return torch.where(cv, av, bv)

    return Tensor(name, a.dtype, shape, [c, a, b], fn=fn)


def split(
    value: Any, num_or_size_splits: Any, axis: int = 0, num: Any = None, name: str = "split"
) -> list[Tensor]:
    x = convert_to_tensor(value)
    r = x.shape.ndims
    a = _any_axis(axis, r)
    d = x.shape.as_list() if r is not None else None
    base = x.graph.unique_name(name)
    if isinstance(num_or_size_splits, int):
        k = num_or_size_splits
        if d is not None and d[a] is not None and d[a] % k:
            raise ValueError(
                f"Dimension {a} of {x.name!r} ({d[a]}) is not divisible by num_split {k}."
            )

        def even(v: torch.Tensor) -> tuple[torch.Tensor, ...]:
            if v.shape[a] % k:
                raise InvalidArgumentError(
                    f"Number of ways to split should evenly divide the split dimension, but got "
                    f"split_dim {a} (size = {v.shape[a]}) and num_split {k} ({base})"
                )
            return v.split(v.shape[a] // k, a)

        node = StructNode(base, [x], even, x.graph)
        sizes = [None if d is None or d[a] is None else d[a] // k] * k
    else:
        sizes = [int(s) for s in num_or_size_splits]
        if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
            raise ValueError(
                f"Received an invalid value for argument `num_or_size_splits`: expected sizes "
                f">= 0 with at most one -1, got {sizes}."
            )
        total = None if d is None else d[a]
        if total is not None:
            rest = total - sum(s for s in sizes if s != -1)
            if (-1 in sizes and rest < 0) or (-1 not in sizes and rest != 0):
                raise ValueError(
                    f"Determined shape must either match input shape along split_dim exactly if "
                    f"fully specified, or be less than the size of the input along split_dim if "
                    f"not fully specified. Got: sizes {sizes}, dimension {a} of size {total}."
                )
        given = list(sizes)

        def by_sizes(v: torch.Tensor) -> tuple[torch.Tensor, ...]:
            n = v.shape[a]
            rest = n - sum(s for s in given if s != -1)
            if (-1 in given and rest < 0) or (-1 not in given and rest != 0):
                raise InvalidArgumentError(
                    f"Determined shape must either match input shape along split_dim exactly if "
                    f"fully specified, or be less than the size of the input along split_dim if "
                    f"not fully specified. Got: sizes {given}, dimension {a} of size {n} ({base})"
                )
            return v.split([rest if s == -1 else s for s in given], a)

        node = StructNode(base, [x], by_sizes, x.graph)
        if -1 in sizes:
            rest = None if total is None else total - sum(s for s in sizes if s != -1)
            sizes = [rest if s == -1 else s for s in sizes]
    return [
        leaf(node, (j,), x.dtype, None if d is None else d[:a] + [s] + d[a + 1 :])
        for j, s in enumerate(sizes)
    ]


def reverse(tensor: Any, axis: Any, name: str = "ReverseV2") -> Tensor:
    x = convert_to_tensor(tensor)
    axes = [
        _axis("axis", a, x.shape.ndims)
        for a in (axis if isinstance(axis, (list, tuple)) else [axis])
    ]
    return Tensor(name, x.dtype, x.shape, [x], fn=lambda v: torch.flip(v, axes))


def sequence_mask(
    lengths: Any, maxlen: Any = None, dtype: Any = tf_bool, name: str = "SequenceMask"
) -> Tensor:
    L = convert_to_tensor(lengths)
    dt = as_dtype(dtype)
    if maxlen is None:
        const = getattr(L, "_const", None)  # constant lengths: TF knows maxlen statically
        last = int(np.max(const)) if const is not None and np.size(const) else None
        return Tensor(
            name,
            dt,
            L.shape.as_list() + [last] if L.shape.ndims is not None else None,
            [L],
            fn=lambda v: (torch.arange(int(v.max()) if v.numel() else 0) < v.unsqueeze(-1)).to(
                dt.torch
            ),
        )
    m = convert_to_tensor(maxlen, int32)
    static = None if isinstance(maxlen, Tensor) else int(maxlen)
    return Tensor(
        name,
        dt,
        (L.shape.as_list() + [static]) if L.shape.ndims is not None else None,
        [L, m],
        fn=lambda v, mv: (torch.arange(int(mv)) < v.unsqueeze(-1)).to(dt.torch),
    )


def boolean_mask(tensor: Any, mask: Any, name: str = "boolean_mask", axis: Any = None) -> Tensor:
    x, m = convert_to_tensor(tensor), convert_to_tensor(mask, tf_bool)
    k = m.shape.ndims or 1
    shp = None if x.shape.ndims is None else [None] + x.shape.as_list()[k:]
    return Tensor(name, x.dtype, shp, [x, m], fn=lambda v, mv: v[mv])


def pad(
    tensor: Any, paddings: Any, mode: str = "CONSTANT", name: str = "Pad", constant_values: Any = 0
) -> Tensor:
    """Pad each dimension by ``paddings[d] = [before, after]``: with ``constant_values``, or by
    mirroring the edge (``REFLECT`` leaves the edge out, ``SYMMETRIC`` repeats it; any case)."""
    x = convert_to_tensor(tensor)
    p = [[int(a), int(b)] for a, b in paddings]
    kind = str(mode).upper()
    if kind not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError(
            f"Received an invalid value for argument `mode`: expected 'CONSTANT', 'REFLECT' or "
            f"'SYMMETRIC', got {mode!r}."
        )
    if x.shape.ndims is not None and len(p) != x.shape.ndims:
        raise ValueError(
            f"The first dimension of paddings must be the rank of inputs: got {len(p)} pairs for "
            f"shape {x.shape} ({x.name!r})."
        )
    extra = 0 if kind == "SYMMETRIC" else 1  # a mirror pad must leave this much of the edge
    dims = x.shape.as_list() if x.shape.ndims is not None else None
    if kind != "CONSTANT" and dims is not None:
        for i, (d, (a, b)) in enumerate(zip(dims, p)):
            if d is not None and max(a, b) > d - extra:
                raise ValueError(
                    f"paddings must be no greater than the dimension size: {a}, {b} greater "
                    f"than {d - extra} for dimension {i} of {x.name!r} ({kind})."
                )
    shp = (
        [None] * len(p)  # unknown rank: the rank is the number of padding pairs
        if dims is None
        else [None if d is None else d + a + b for d, (a, b) in zip(dims, p)]
    )
    flat = [int(v) for pair in reversed(p) for v in pair]

    def mirror(v: torch.Tensor) -> torch.Tensor:
        for axis, (a, b) in enumerate(p):
            n = v.shape[axis]
            if max(a, b) > n - extra:
                raise InvalidArgumentError(
                    f"paddings must be no greater than the dimension size: {a}, {b} greater than "
                    f"{n - extra} for dimension {axis} ({name}, {kind})"
                )
            i = torch.arange(-a, n + b)
            if kind == "REFLECT":
                i = torch.where(i < 0, -i, torch.where(i >= n, 2 * (n - 1) - i, i))
            else:
                i = torch.where(i < 0, -i - 1, torch.where(i >= n, 2 * n - 1 - i, i))
            v = v.index_select(axis, i)
        return v

    def constant(v: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.pad(v, flat, value=constant_values)

    return Tensor(name, x.dtype, shp, [x], fn=constant if kind == "CONSTANT" else mirror)


# ------------------------------------------------------------------------------------------------
# Slicing: x[1:, -1], x[..., None]
# ------------------------------------------------------------------------------------------------


def _slice_tensor(x: Tensor, key: Any) -> Tensor:
    items = list(key) if isinstance(key, tuple) else [key]
    if any(
        isinstance(k, Tensor)
        or (isinstance(k, slice) and any(isinstance(b, Tensor) for b in (k.start, k.stop, k.step)))
        for k in items
    ):
        return slice_with_tensors(x, items)
    for k in items:
        if not (
            k is None or k is Ellipsis or isinstance(k, slice) or isinstance(k, (int, np.integer))
        ):
            raise TypeError(
                f"Only integers, slices, `...` and `tf.newaxis` are valid indices, got {k!r}."
            )
    rank = x.shape.ndims
    if rank is None:
        shape = TensorShape(None)
    else:
        n_real = sum(1 for k in items if k is not None and k is not Ellipsis)
        if n_real > rank:
            raise ValueError(f"Too many indices for {x.name!r} of shape {x.shape}: {key!r}.")
        if Ellipsis in items:
            e = items.index(Ellipsis)
            items = items[:e] + [slice(None)] * (rank - n_real) + items[e + 1 :]
        else:
            items = items + [slice(None)] * (rank - n_real)
        dims = x.shape.as_list()
        out: list[int | None] = []
        d_i = 0
        for k in items:
            if k is None:
                out.append(1)
                continue
            d = dims[d_i]
            d_i += 1
            if isinstance(k, slice):
                out.append(None if d is None else len(range(d)[k]))
            elif d is not None and not -d <= int(k) < d:
                raise ValueError(
                    f"Index {int(k)} is out of bounds for dimension {d_i - 1} of {x.name!r} (shape {x.shape})."
                )
        shape = TensorShape(out)
    torch_key = tuple(items) if isinstance(key, tuple) or rank is not None else key
    negative = any(isinstance(k, slice) and k.step is not None and k.step < 0 for k in items)

    def fn(v: torch.Tensor) -> torch.Tensor:
        if not negative:
            try:
                return v[torch_key]
            except IndexError as e:
                raise InvalidArgumentError(f"slice {key!r} of {x.name!r}: {e}") from None
        out_v, axis = v, 0
        parts = []
        for k in items:
            if isinstance(k, slice) and k.step is not None and k.step < 0:
                idx = torch.tensor(list(range(out_v.shape[axis])[k]), dtype=torch.long)
                out_v = out_v.index_select(axis, idx)
                parts.append(slice(None))
            else:
                parts.append(k)
            if k is not None:
                axis += 1
        return out_v[tuple(parts)]

    return Tensor("strided_slice", x.dtype, shape, [x], fn=fn)


Tensor.__getitem__ = _slice_tensor  # type: ignore[method-assign]
newaxis = None
