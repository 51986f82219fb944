"""``tf.strided_slice`` (TensorFlow's ``array_ops.strided_slice``) and slicing with tensor bounds.

``strided_slice(x, begin, end, strides)`` takes, per entry of ``begin``/``end``/``strides`` (ints or
scalar integer tensors, read when the graph runs), the range ``begin:end:stride`` of one dimension,
with TensorFlow's masks: bit ``i`` of ``begin_mask``/``end_mask`` ignores ``begin[i]``/``end[i]``
(the whole range that way), of ``shrink_axis_mask`` takes the single index ``begin[i]`` and drops the
dimension, of ``new_axis_mask`` inserts a dimension of size 1, of ``ellipsis_mask`` stands for all
the dimensions not named (an ellipsis is implied at the end). Bounds are clamped as in Python;
a shrunk index out of range raises ``InvalidArgumentError``. ``x[a:b]`` with a tensor bound (what
``reader.ptb_producer`` does) builds the same op, as TensorFlow's ``Tensor.__getitem__`` does.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from rnnkit.compat.v1.dtypes import int32
from rnnkit.compat.v1.errors import InvalidArgumentError
from rnnkit.compat.v1.ops import Tensor, convert_to_tensor
from rnnkit.compat.v1.tensor_shape import TensorShape

__all__ = ["strided_slice"]

_NEW, _SHRINK, _RANGE = "new", "shrink", "range"


def _mask(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise TypeError(
            f"Received an invalid value for argument `{name}`: expected a non-negative integer "
            f"bit mask, got {value!r}."
        )
    return int(value)


def _entries(name: str, value: Any) -> tuple[list[Any], Tensor]:
    """The known Python value of each entry (None where only the graph knows it) and the 1-D tensor."""
    if isinstance(value, Tensor):
        if not value.dtype.is_integer or value.shape.ndims != 1 or value.shape[0].value is None:
            raise TypeError(
                f"Received an invalid value for argument `{name}`: expected a 1-D integer tensor "
                f"of known length or a list of ints and scalar integer tensors, got {value!r}."
            )
        const = getattr(value, "_const", None)
        known = [None] * value.shape[0].value if const is None else [int(c) for c in const]
        return known, value
    if not isinstance(value, (list, tuple, np.ndarray)) or len(value) == 0:
        raise TypeError(
            f"Received an invalid value for argument `{name}`: expected a non-empty list of ints "
            f"and scalar integer tensors, got {value!r}."
        )
    dtype = next((v.dtype for v in value if isinstance(v, Tensor)), int32)
    known: list[Any] = []
    parts: list[Any] = []
    for v in value:
        if isinstance(v, Tensor):
            if not v.dtype.is_integer or v.shape.ndims not in (None, 0):
                raise TypeError(
                    f"Received an invalid value for argument `{name}`: expected ints and scalar "
                    f"integer tensors, got {v!r}."
                )
            c = getattr(v, "_const", None)
            known.append(None if c is None else int(c))
            parts.append(v)
        elif isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool):
            known.append(int(v))
            parts.append(int(v))
        else:
            raise TypeError(
                f"Received an invalid value for argument `{name}`: expected ints and scalar "
                f"integer tensors, got {v!r}."
            )
    return known, convert_to_tensor(parts, dtype=dtype)


def _dense_spec(
    rank: int, n: int, ellipsis_mask: int, new_axis_mask: int, shrink_axis_mask: int
) -> list[tuple[str, int | None]]:
    """Per output step: (kind, index into the sparse spec or None for a whole dimension)."""
    ellipses = [i for i in range(n) if ellipsis_mask >> i & 1]
    if len(ellipses) > 1:
        raise ValueError(
            "Received an invalid value for argument `ellipsis_mask`: multiple ellipses in a slice "
            f"spec are not allowed, got {ellipsis_mask:#b}."
        )
    consumed = sum(
        1 for i in range(n) if not (ellipsis_mask >> i & 1) and not (new_axis_mask >> i & 1)
    )
    if consumed > rank:
        raise ValueError(
            f"Index out of range: the slice spec names {consumed} dimensions of a rank-{rank} tensor."
        )
    spec: list[tuple[str, int | None]] = []
    for i in range(n):
        if ellipsis_mask >> i & 1:
            spec.extend((_RANGE, None) for _ in range(rank - consumed))
        elif new_axis_mask >> i & 1:
            spec.append((_NEW, i))
        elif shrink_axis_mask >> i & 1:
            spec.append((_SHRINK, i))
        else:
            spec.append((_RANGE, i))
    if not ellipses:
        spec.extend((_RANGE, None) for _ in range(rank - consumed))
    return spec


def _range(dim: int, b: int | None, e: int | None, s: int) -> range:
    """TensorFlow's clamping of ``b:e:s`` on a dimension of size ``dim`` (None: masked)."""
    if s > 0:
        b = 0 if b is None else min(max(b + dim if b < 0 else b, 0), dim)
        e = dim if e is None else min(max(e + dim if e < 0 else e, 0), dim)
    else:
        b = dim - 1 if b is None else min(max(b + dim if b < 0 else b, -1), dim - 1)
        e = -1 if e is None else min(max(e + dim if e < 0 else e, -1), dim - 1)
    return range(b, e, s)


def strided_slice(
    input_: Any,
    begin: Any,
    end: Any,
    strides: Any = None,
    begin_mask: int = 0,
    end_mask: int = 0,
    ellipsis_mask: int = 0,
    new_axis_mask: int = 0,
    shrink_axis_mask: int = 0,
    var: Any = None,
    name: str | None = None,
) -> Tensor:
    """``input_[begin[0]:end[0]:strides[0], ...]`` with TensorFlow's masks (see the module)."""
    x = convert_to_tensor(input_)
    masks = {
        "begin_mask": _mask("begin_mask", begin_mask),
        "end_mask": _mask("end_mask", end_mask),
        "ellipsis_mask": _mask("ellipsis_mask", ellipsis_mask),
        "new_axis_mask": _mask("new_axis_mask", new_axis_mask),
        "shrink_axis_mask": _mask("shrink_axis_mask", shrink_axis_mask),
    }
    b_known, b_t = _entries("begin", begin)
    e_known, e_t = _entries("end", end)
    if strides is None:
        strides = [1] * len(b_known)
    s_known, s_t = _entries("strides", strides)
    n = len(b_known)
    if len(e_known) != n or len(s_known) != n:
        raise ValueError(
            "Received an invalid value for arguments `begin`, `end`, `strides`: expected the same "
            f"length, got {len(b_known)}, {len(e_known)} and {len(s_known)}."
        )
    for i, s in enumerate(s_known):
        if s == 0:
            raise ValueError(
                f"Received an invalid value for argument `strides`: expected non-zero strides, got "
                f"0 at position {i}."
            )
    rank = x.shape.ndims
    bm, em = masks["begin_mask"], masks["end_mask"]
    em_, nm, sm = masks["ellipsis_mask"], masks["new_axis_mask"], masks["shrink_axis_mask"]
    if rank is None:
        shape = TensorShape(None)
    else:
        spec = _dense_spec(rank, n, em_, nm, sm)
        dims = x.shape.as_list()
        out: list[int | None] = []
        d = 0
        for kind, i in spec:
            if kind == _NEW:
                out.append(1)
                continue
            size = dims[d]
            d += 1
            if kind == _SHRINK:
                stride = s_known[i]  # type: ignore[index]
                if stride is not None and stride != 1:
                    raise ValueError(_shrink_stride_message(i, stride, x))
                b = b_known[i]  # type: ignore[index]
                if b is not None and size is not None and not -size <= b < size:
                    raise ValueError(
                        f"Index out of range: slice index {b} of dimension {d - 1} out of bounds "
                        f"for {x.name!r} of shape {x.shape}."
                    )
                continue
            if i is None:
                out.append(size)
                continue
            b = None if bm >> i & 1 else b_known[i]
            e = None if em >> i & 1 else e_known[i]
            s = s_known[i]
            unknown = (
                s is None or (b is None and not bm >> i & 1) or (e is None and not em >> i & 1)
            )
            out.append(None if size is None or unknown else len(_range(size, b, e, s)))
        shape = TensorShape(out)

    def fn(v: torch.Tensor, bv: torch.Tensor, ev: torch.Tensor, sv: torch.Tensor) -> torch.Tensor:
        bl, el, sl = bv.tolist(), ev.tolist(), sv.tolist()
        out_v, axis, d = v, 0, 0
        for kind, i in _dense_spec(v.dim(), n, em_, nm, sm):
            if kind == _NEW:
                out_v = out_v.unsqueeze(axis)
                axis += 1
                continue
            size = v.shape[d]
            d += 1
            if kind == _SHRINK:
                if sl[i] != 1:
                    raise InvalidArgumentError(_shrink_stride_message(i, sl[i], x))
                b = bl[i]
                if not -size <= b < size:
                    raise InvalidArgumentError(
                        f"slice index {b} of dimension {d - 1} out of bounds (size {size}) in "
                        f"strided_slice of {x.name!r}."
                    )
                out_v = out_v.select(axis, b + size if b < 0 else b)
                continue
            if i is not None:
                s = sl[i]
                if s == 0:
                    raise InvalidArgumentError(f"strides[{i}] must be non-zero.")
                r = _range(size, None if bm >> i & 1 else bl[i], None if em >> i & 1 else el[i], s)
                if s > 0:
                    out_v = out_v[(slice(None),) * axis + (slice(r.start, r.stop, s),)]
                else:
                    idx = torch.tensor(list(r), dtype=torch.long, device=out_v.device)
                    out_v = out_v.index_select(axis, idx)
            axis += 1
        return out_v

    return Tensor(name or "StridedSlice", x.dtype, shape, [x, b_t, e_t, s_t], fn=fn)


def _shrink_stride_message(i: Any, stride: Any, x: Tensor) -> str:
    return (
        f"only stride 1 allowed on non-range indexing: `strides[{i}]` is {stride} where "
        f"`shrink_axis_mask` selects a single index (strided_slice of {x.name!r})."
    )


def slice_with_tensors(x: Tensor, items: list[Any]) -> Tensor:
    """``x[items]`` where some index or slice bound is a graph tensor (TensorFlow's ``_slice_helper``)."""
    begin: list[Any] = []
    end: list[Any] = []
    strides: list[Any] = []
    bm = em = elm = nm = sm = 0
    for index, k in enumerate(items):
        bit = 1 << index
        if isinstance(k, slice):
            begin.append(0 if k.start is None else k.start)
            end.append(0 if k.stop is None else k.stop)
            strides.append(1 if k.step is None else k.step)
            bm |= bit if k.start is None else 0
            em |= bit if k.stop is None else 0
        elif k is Ellipsis:
            begin.append(0), end.append(0), strides.append(1)
            elm |= bit
        elif k is None:
            begin.append(0), end.append(0), strides.append(1)
            nm |= bit
        else:
            begin.append(k)
            end.append(k + 1)
            strides.append(1)
            sm |= bit
    return strided_slice(
        x,
        begin,
        end,
        strides,
        begin_mask=bm,
        end_mask=em,
        ellipsis_mask=elm,
        new_axis_mask=nm,
        shrink_axis_mask=sm,
        name="strided_slice",
    )
