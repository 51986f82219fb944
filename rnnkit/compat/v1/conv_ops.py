"""``tf.nn`` convolution and pooling (TensorFlow's ``nn_ops.py``): ``conv2d``, ``conv1d``,
``max_pool`` (``max_pool2d``) and ``avg_pool`` (``avg_pool2d``), run with torch's ``conv2d`` and
pooling functions.

TensorFlow's layouts stay at the graph's surface: inputs NHWC (or NCHW), filters HWIO; each kernel
turns them into torch's NCHW / OIHW. TensorFlow's "SAME" padding can put one more row or column
after the input than before it, which torch's symmetric padding cannot express, so every op pads
explicitly (``F.pad``) and then runs torch's op without padding. Max pooling pads with ``-inf``;
average pooling divides each window's sum by the number of input elements in it (padding excluded).

Static shapes and the errors raised while the graph is built follow TensorFlow's shape functions
(``ValueError`` naming the node, its attributes and its input shapes); the errors raised when the
graph runs follow its reference CPU kernels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from rnnkit.compat.v1.dtypes import check_allowed, float32
from rnnkit.compat.v1.errors import InvalidArgumentError, UnimplementedError, unsupported
from rnnkit.compat.v1.ops import Tensor, constant, get_default_graph
from rnnkit.compat.v1.tensor_shape import TensorShape, shape_text

__all__ = ["conv2d", "conv1d", "max_pool", "max_pool2d", "avg_pool", "avg_pool2d"]

# TensorFlow's names of the dtypes in its NodeDef text
_DT = {
    "float32": "DT_FLOAT",
    "float64": "DT_DOUBLE",
    "float16": "DT_HALF",
    "int32": "DT_INT32",
    "int64": "DT_INT64",
    "uint8": "DT_UINT8",
    "bool": "DT_BOOL",
}
# the dtypes each op's kernels take, as TensorFlow lists them
_CONV_TYPES = ("float16", "bfloat16", "float32", "float64", "int32")
_MAX_POOL_TYPES = _CONV_TYPES[:4] + ("int32", "int64", "uint8", "int16", "int8", "uint16", "qint8")
_AVG_POOL_TYPES = _CONV_TYPES[:4]
_SIDES = ("Top", "Bottom", "Left", "Right")


class _Node:
    """What TensorFlow's build-time errors name: the node, its op and attributes, its inputs."""

    def __init__(self, node: str, op: str, attrs: dict[str, Any], inputs: list[tuple[str, Any]]):
        self.node, self.op, self.attrs, self.inputs = node, op, attrs, inputs

    def error(self, text: str) -> ValueError:
        attrs = ", ".join(f"{k}={_attr(v)}" for k, v in sorted(self.attrs.items()))
        names = ", ".join(name for name, _ in self.inputs)
        shapes = ", ".join(shape_text(s) for _, s in self.inputs)
        return ValueError(
            f"{text} for '{{{{node {self.node}}}}} = {self.op}[{attrs}]({names})' with input "
            f"shapes: {shapes}."
        )


def _attr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if value.startswith("DT_") else f'"{value}"'
    return str(value)


def _node_name(t: Tensor) -> str:
    return t.name[:-2] if t.name.endswith(":0") else t.name


# -- arguments -------------------------------------------------------------------------------------


def _one_of(a: Any, b: Any, a_name: str, b_name: str) -> Any:
    """TensorFlow's renamed arguments: either name, not both."""
    if a is not None and b is not None:
        raise ValueError(f"Cannot specify both '{a_name}' and '{b_name}'.")
    return a if a is not None else b


def _sequence(value: Any, n: int, channel_index: int, what: str) -> list[int]:
    """``strides``/``ksize``/``dilations`` as the ``n + 2`` values of every dimension: None is all
    ones, one value or ``n`` values are the spatial dimensions' (batch and channels get 1)."""
    if value is None:
        return [1] * (n + 2)
    if isinstance(value, (int, np.integer)):
        values = [int(value)]
    else:
        values = [int(v) for v in value]
    if len(values) == n + 2:
        return values
    if len(values) == 1:
        values = values * n
    elif len(values) != n:
        raise ValueError(
            f"{what} should be of length 1, {n} or {n + 2}. Received: {what}={values} of length "
            f"{len(values)}"
        )
    return [1, 1, *values] if channel_index == 1 else [1, *values, 1]


def _padding(padding: Any, op: str, choices: tuple[str, ...], lists: bool) -> tuple[str, list[int]]:
    """``(padding attribute, explicit_paddings)``: one of ``choices`` ("SAME", "VALID", and
    "EXPLICIT" where ``op`` takes it), or where ``lists``, TensorFlow's list of four
    ``[before, after]`` pairs (explicit padding)."""
    if isinstance(padding, bytes):
        padding = padding.decode()
    if isinstance(padding, (list, tuple)) and lists:
        for i, pair in enumerate(padding):
            if not isinstance(pair, (list, tuple)):
                what = f"of type {type(pair)}"
            elif len(pair) != 2:
                what = f"of size {len(pair)}"
            else:
                continue
            raise ValueError(
                "When `padding` is a list, each element of `padding` must be a list/tuple of size "
                f"2. Received: padding={padding} with element at index {i} {what}"
            )
        if len(padding) != 4:
            raise ValueError(
                f"When padding is a list, it must be of size 4. Received: padding={padding} of "
                f"size {len(padding)}"
            )
        return "EXPLICIT", [int(v) for pair in padding for v in pair]
    if not isinstance(padding, str):
        raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
    if padding == "EXPLICIT" and "EXPLICIT" in choices:
        raise ValueError(
            "'EXPLICIT' is not a valid value for `padding`. To use explicit padding, `padding` "
            "must be a list."
        )
    if padding not in choices:
        listed = ", ".join(f'"{c}"' for c in choices)
        raise ValueError(f"Attr 'padding' of '{op}' Op passed string '{padding}' not in: {listed}.")
    return padding, []


def _data_format(value: Any, op: str, choices: tuple[str, ...]) -> str:
    if isinstance(value, bytes):
        value = value.decode()
    if value not in choices:
        listed = ", ".join(f'"{c}"' for c in choices)
        raise ValueError(
            f"Attr 'data_format' of '{op}' Op passed string '{value}' not in: {listed}."
        )
    return value


def _convert(value: Any, dtype: Any, node: str, arg: str) -> Tensor:
    """An op's input as a tensor; a Python or numpy value becomes the constant ``node/arg``."""
    if isinstance(value, Tensor):
        return value
    if value is None:
        raise ValueError(
            f"Tried to convert '{arg}' to a tensor and failed. Error: None values not supported."
        )
    graph = get_default_graph()
    with graph.name_scope(node + "/"):
        if dtype is None and isinstance(value, float):
            dtype = float32
        return constant(value, dtype=dtype, name=arg)


def _inputs(x: Any, w: Any, node: str, op: str, names: tuple[str, str]) -> tuple[Tensor, Tensor]:
    """Both inputs of a two-input op, of one dtype: a non-tensor takes the first tensor's dtype
    (the input's when neither is a tensor), as TensorFlow converts them."""
    first = x if isinstance(x, Tensor) else w if isinstance(w, Tensor) else None
    dtype = None if first is None else first.dtype
    xt = _convert(x, dtype, node, names[0])
    wt = _convert(w, xt.dtype, node, names[1])
    if wt.dtype is not xt.dtype:
        raise TypeError(
            f"Input '{names[1]}' of '{op}' Op has type {wt.dtype.name} that does not match type "
            f"{xt.dtype.name} of argument '{names[0]}'."
        )
    return xt, wt


# -- sizes -----------------------------------------------------------------------------------------


def _window_checks(
    op: _Node,
    strides: list[int],
    explicit: list[int],
    spatial: tuple[int, int],
    c: int,
    dilations: list[int] | None = None,
) -> list[tuple[int, int]]:
    """TF's shape-function checks shared by convolution and pooling, in its order: positive spatial
    strides, dilations of at least 1 (convolution), explicit padding nonnegative and only on the
    spatial dimensions; returns the (before, after) padding of each of the four dimensions."""
    for i in spatial:
        if strides[i] < 1:
            raise op.error(f"Stride must be > 0, but got {strides[i]}")
    for i in spatial if dilations is not None else ():
        if dilations[i] < 1:
            raise op.error(f"Dilation rate must be >= 1, but got {dilations[i]}")
    pairs = [tuple(explicit[2 * i : 2 * i + 2]) if explicit else (0, 0) for i in range(4)]
    if any(v < 0 for v in explicit):
        raise op.error("All elements of explicit_paddings must be nonnegative")
    if any(pairs[0]) or any(pairs[c]):
        raise op.error("Nonzero explicit padding in the batch or depth dimensions is not supported")
    return pairs


def _static_size(
    node: _Node, size: int | None, k: int | None, stride: int, kind: str, pads: tuple[int, int]
) -> int | None:
    """One output dimension as TensorFlow's shape functions compute it (None where unknown)."""
    if size is None:
        return None
    if kind == "SAME":
        return -(-size // stride)
    if k is None:
        return None
    size += pads[0] + pads[1]
    if size < k:
        raise node.error(f"Negative dimension size caused by subtracting {k} from {size}")
    return (size - k) // stride + 1


def _run_size(size: int, k: int, stride: int, kind: str, pads: tuple[int, int]) -> tuple[int, ...]:
    """``(output size, pad before, pad after)`` of one spatial dimension when the op runs."""
    if kind == "SAME":
        out = -(-size // stride)
        total = max((out - 1) * stride + k - size, 0)
        return out, total // 2, total - total // 2
    q = size + pads[0] + pads[1] - k + stride
    out = q // stride if q >= 0 else -(-q // stride)  # C++'s division, rounding towards zero
    if out < 0:
        raise InvalidArgumentError(
            f"Computed output size would be negative: {out} [input_size: {size}, "
            f"effective_filter_size: {k}, stride: {stride}]"
        )
    return out, pads[0], pads[1]


def _dims_text(v: torch.Tensor) -> str:
    return "[" + ",".join(str(d) for d in v.shape) + "]"


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """What torch computes a dtype in on the CPU: half in float32, integers in float64 (exact)."""
    if dtype in (torch.float32, torch.float64):
        return dtype
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else torch.float64


def _cast_back(y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    if y.dtype is dtype:
        return y
    return y.round().to(dtype) if not dtype.is_floating_point else y.to(dtype)


def _empty(shape: list[int], *inputs: torch.Tensor) -> torch.Tensor:
    """An output with a zero-sized dimension, still connected to the inputs for autograd."""
    tie = sum(v.sum() * 0 for v in inputs)
    return inputs[0].new_zeros(shape) + tie


# -- conv2d ----------------------------------------------------------------------------------------


def conv2d(
    input: Any,  # noqa: A002 - TensorFlow's name
    filter: Any = None,  # noqa: A002
    strides: Any = None,
    padding: Any = None,
    use_cudnn_on_gpu: bool = True,
    data_format: str = "NHWC",
    dilations: Any = (1, 1, 1, 1),
    name: str | None = None,
    filters: Any = None,
) -> Tensor:
    """2-D convolution (cross-correlation, as TensorFlow's) of ``input`` (NHWC, or NCHW) with
    ``filter`` (HWIO). ``padding``: "SAME", "VALID", or ``[[0, 0], [top, bottom], [left, right],
    [0, 0]]`` (``[[0, 0], [0, 0], [top, bottom], [left, right]]`` for NCHW). An input depth that is a multiple of the filter's
    input depth makes a grouped convolution. An input of known rank above 4 folds its leading
    dimensions into the batch."""
    w = _one_of(filter, filters, "filter", "filters")
    fmt = _data_format(data_format, "Conv2D", ("NHWC", "NCHW"))
    channel_index = 1 if fmt == "NCHW" else 3
    strides = _sequence(strides, 2, channel_index, "strides")
    dilations = _sequence(dilations, 2, channel_index, "dilations")
    kind, explicit = _padding(padding, "Conv2D", ("SAME", "VALID", "EXPLICIT"), lists=True)
    base = name or "Conv2D"
    node = get_default_graph().unique_name(base, mark_as_used=False)
    x, wt = _inputs(input, w, node, "Conv2D", ("input", "filter"))
    names = (_node_name(x), _node_name(wt))
    shape, kernel = _conv2d_parts(
        x.shape, wt.shape, x.dtype, fmt, strides, dilations, kind, explicit,
        bool(use_cudnn_on_gpu), node, names,
    )  # fmt: skip
    return Tensor(base, x.dtype, shape, [x, wt], fn=kernel)


def _conv2d_parts(
    xs: TensorShape,
    ws: TensorShape,
    dtype: Any,
    fmt: str,
    strides: list[int],
    dilations: list[int],
    kind: str,
    explicit: list[int],
    use_cudnn: bool,
    node: str,
    names: tuple[str, str],
) -> tuple[Any, Any]:
    """Conv2D's build-time checks, its static output shape and its kernel ``fn(x, filter)``."""
    check_allowed(dtype, "input", _CONV_TYPES)
    attrs = {
        "T": _DT.get(dtype.name, dtype.name),
        "data_format": fmt,
        "dilations": dilations,
        "explicit_paddings": explicit,
        "padding": kind,
        "strides": strides,
        "use_cudnn_on_gpu": use_cudnn,
    }
    op = _Node(node, "Conv2D", attrs, [(names[0], xs), (names[1], ws)])
    fold = xs.ndims is not None and xs.ndims > 4  # leading dimensions fold into the batch
    if xs.ndims is not None and xs.ndims < 4:
        raise op.error(f"Shape must be rank 4 but is rank {xs.ndims}")
    if ws.ndims is not None and ws.ndims != 4:
        raise op.error(f"Shape must be rank 4 but is rank {ws.ndims}")
    c, (h, w) = (1, (2, 3)) if fmt == "NCHW" else (3, (1, 2))
    pairs = _window_checks(op, strides, explicit, (h, w), c, dilations)
    xd = None if xs.ndims is None else xs.as_list()[-4:]
    lead = [] if xs.ndims is None else xs.as_list()[:-4]
    wd = [None] * 4 if ws.ndims is None else ws.as_list()
    xd4 = xd or [None] * 4
    depth, f_depth, out_depth = xd4[c], wd[2], wd[3]
    if depth is not None and f_depth is not None:
        if f_depth == 0 or depth % f_depth:
            raise op.error(
                f"Depth of input ({depth}) is not a multiple of input depth of filter ({f_depth})"
            )
        groups = depth // f_depth
        if out_depth is not None and out_depth % groups:
            raise op.error(
                f"Depth of output ({out_depth}) is not a multiple of the number of groups "
                f"({groups})"
            )
    spatial = []
    for i, k in ((h, wd[0]), (w, wd[1])):
        k_eff = None if k is None else (k - 1) * dilations[i] + 1
        spatial.append(_static_size(op, xd4[i], k_eff, strides[i], kind, pairs[i]))
    batch = xd4[0]
    shape = [batch, out_depth, *spatial] if fmt == "NCHW" else [batch, *spatial, out_depth]

    def kernel(xv: torch.Tensor, wv: torch.Tensor) -> torch.Tensor:
        lead_shape = None
        if fold:
            lead_shape = xv.shape[:-3]
            xv = xv.reshape(-1, *xv.shape[-3:])
        if xv.dim() != 4:
            raise InvalidArgumentError(f"convolution input must be 4-dimensional: {_dims_text(xv)}")
        if wv.dim() != 4:
            raise InvalidArgumentError(
                f"convolution filter must be 4-dimensional: {_dims_text(wv)}"
            )
        if strides[0] != 1 or strides[c] != 1:
            raise UnimplementedError(
                "Current implementation does not yet support strides in the batch and depth "
                "dimensions."
            )
        if dilations[0] != 1 or dilations[c] != 1:
            raise UnimplementedError(
                "Current implementation does not yet support dilations in the batch and depth "
                "dimensions."
            )
        depth, f_depth, out_depth = xv.shape[c], wv.shape[2], wv.shape[3]
        if f_depth == 0 or depth % f_depth:
            raise InvalidArgumentError(
                f"input depth must be evenly divisible by filter depth: {depth} vs {f_depth}"
            )
        groups = depth // f_depth
        if out_depth % groups:
            raise InvalidArgumentError(
                "output depth must be evenly divisible by number of groups: "
                f"{out_depth} vs {groups}"
            )
        if fmt == "NHWC":
            xv = xv.permute(0, 3, 1, 2)
        sizes = []
        for axis, i, k in ((2, h, wv.shape[0]), (3, w, wv.shape[1])):
            k_eff = (k - 1) * dilations[i] + 1
            sizes.append(_run_size(xv.shape[axis], k_eff, strides[i], kind, pairs[i]))
        (oh, top, bottom), (ow, left, right) = sizes
        if 0 in (oh, ow, xv.shape[0], out_depth) or xv.numel() == 0 or wv.numel() == 0:
            y = _empty([xv.shape[0], out_depth, oh, ow], xv, wv)
        else:
            dt = xv.dtype
            work = _compute_dtype(dt)
            y = F.conv2d(
                F.pad(xv.to(work), (left, right, top, bottom)),
                wv.to(work).permute(3, 2, 0, 1),
                stride=(strides[h], strides[w]),
                dilation=(dilations[h], dilations[w]),
                groups=groups,
            )
            y = _cast_back(y, dt)
        if fmt == "NHWC":
            y = y.permute(0, 2, 3, 1).contiguous()
        if lead_shape is not None:
            y = y.reshape(*lead_shape, *y.shape[1:])
        return y

    return lead + shape, kernel


# -- conv1d ----------------------------------------------------------------------------------------


def conv1d(
    value: Any = None,
    filters: Any = None,
    stride: Any = None,
    padding: Any = None,
    use_cudnn_on_gpu: Any = None,
    data_format: Any = None,
    name: str | None = None,
    input: Any = None,  # noqa: A002 - TensorFlow's name
    dilations: Any = None,
) -> Tensor:
    """1-D convolution of ``value`` (NWC, or NCW) with ``filters`` (WIO), as TensorFlow computes it:
    a height-1 ``conv2d`` (its node named like the op's name scope, inside it the expanded inputs
    and the ``Squeeze`` that gives the result). ``padding`` is "SAME" or "VALID"."""
    x = _one_of(value, input, "value", "input")
    if data_format in (None, "NWC", "NHWC"):
        fmt, channel_index, spatial_start = "NHWC", 2, -3
    elif data_format in ("NCW", "NCHW"):
        fmt, channel_index, spatial_start = "NCHW", 1, -2
    else:
        raise ValueError(
            f"`data_format` must be 'NWC' or 'NCW'. Received: data_format={data_format}"
        )
    strides = [1, *_sequence(stride, 1, channel_index, "stride")]
    dilations = [1, *_sequence(dilations, 1, channel_index, "dilations")]
    kind, explicit = _padding(padding, "Conv2D", ("SAME", "VALID", "EXPLICIT"), lists=False)
    graph = get_default_graph()
    with graph.name_scope(name or "conv1d") as scope:
        node = scope[:-1]
        xt, wt = _inputs(x, filters, f"{node}/ExpandDims", "Conv2D", ("input", "filter"))
        xs = _expanded(xt.shape, spatial_start)
        ws = wt.shape if wt.shape.ndims is None else TensorShape([1, *wt.shape.as_list()])
        names = (f"{node}/ExpandDims", f"{node}/ExpandDims_1")
        shape2d, kernel = _conv2d_parts(
            xs, ws, xt.dtype, fmt, strides, dilations, kind, explicit,
            True if use_cudnn_on_gpu is None else bool(use_cudnn_on_gpu), node, names,
        )  # fmt: skip
        shape = list(shape2d)
        del shape[spatial_start]

        def fn(xv: torch.Tensor, wv: torch.Tensor) -> torch.Tensor:
            y = kernel(xv.unsqueeze(max(xv.dim() + 1 + spatial_start, 0)), wv.unsqueeze(0))
            return y.squeeze(spatial_start)

        return Tensor("Squeeze", xt.dtype, shape, [xt, wt], fn=fn)


def _expanded(shape: TensorShape, axis: int) -> TensorShape:
    """``shape`` with a 1 inserted at ``axis`` (negative, counted from the end): ``expand_dims``."""
    if shape.ndims is None:
        return shape
    dims = shape.as_list()
    dims.insert(max(len(dims) + 1 + axis, 0), 1)
    return TensorShape(dims)


# -- pooling ---------------------------------------------------------------------------------------


def max_pool(
    value: Any,
    ksize: Any,
    strides: Any,
    padding: Any,
    data_format: str = "NHWC",
    name: str | None = None,
    input: Any = None,  # noqa: A002 - TensorFlow's name
) -> Tensor:
    """The maximum of each ``ksize`` window, moved by ``strides`` (ints, or lists of 1, 2 or 4
    values). ``padding``: "SAME" (windows over the edge see only the input), "VALID", or explicit
    ``[before, after]`` pairs. A window across the depth alone (``ksize [1, 1, 1, k]``) takes the
    maximum of each ``k`` consecutive channels."""
    x = _one_of(value, input, "value", "input")
    return _pool("MaxPool", x, ksize, strides, padding, data_format, name)


def max_pool2d(
    input: Any,  # noqa: A002 - TensorFlow's name
    ksize: Any,
    strides: Any,
    padding: Any,
    data_format: str = "NHWC",
    name: str | None = None,
) -> Tensor:
    """:func:`max_pool` under its other name, taking ``input`` first (its node is ``MaxPool2d``)."""
    return _pool("MaxPool", input, ksize, strides, padding, data_format, name or "MaxPool2d")


def avg_pool(
    value: Any,
    ksize: Any,
    strides: Any,
    padding: Any,
    data_format: str = "NHWC",
    name: str | None = None,
    input: Any = None,  # noqa: A002 - TensorFlow's name
) -> Tensor:
    """The mean of each ``ksize`` window, moved by ``strides``; with "SAME" padding a window over
    the edge averages only the input elements it covers."""
    x = _one_of(value, input, "value", "input")
    return _pool("AvgPool", x, ksize, strides, padding, data_format, name)


avg_pool2d = avg_pool  # TensorFlow's tf.compat.v1.nn.avg_pool2d is avg_pool itself


def _pool(
    op_type: str, value: Any, ksize: Any, strides: Any, padding: Any, fmt: Any, name: Any
) -> Tensor:
    is_max = op_type == "MaxPool"
    formats = ("NHWC", "NCHW", "NCHW_VECT_C") if is_max else ("NHWC", "NCHW")
    fmt = _data_format(fmt, op_type, formats)
    if fmt == "NCHW_VECT_C":  # int8 blocks of 4 channels: no such tensors here
        raise unsupported("tf.nn.max_pool(data_format='NCHW_VECT_C')")
    c, (h, w) = (1, (2, 3)) if fmt == "NCHW" else (3, (1, 2))
    ksize = _sequence(ksize, 2, c, "ksize")
    strides = _sequence(strides, 2, c, "strides")
    if is_max and 0 in ksize:
        raise ValueError(f"`ksize` cannot be zero. Received: ksize={ksize}")
    choices = ("SAME", "VALID", "EXPLICIT") if is_max else ("SAME", "VALID")
    kind, explicit = _padding(padding, op_type, choices, lists=is_max)
    base = name or op_type
    node = get_default_graph().unique_name(base, mark_as_used=False)
    param = "input" if is_max else "value"
    x = _convert(value, None, node, param)
    check_allowed(x.dtype, param, _MAX_POOL_TYPES if is_max else _AVG_POOL_TYPES)
    attrs = {"T": _DT.get(x.dtype.name, x.dtype.name), "data_format": fmt, "ksize": ksize}
    attrs.update({"padding": kind, "strides": strides})
    if is_max:
        attrs["explicit_paddings"] = explicit
    op = _Node(node, op_type, attrs, [(_node_name(x), x.shape)])
    xs = x.shape
    if xs.ndims is not None and xs.ndims != 4:
        raise op.error(f"Shape must be rank 4 but is rank {xs.ndims}")
    pairs = _window_checks(op, strides, explicit, (h, w), c)
    dims = [None] * 4 if xs.ndims is None else xs.as_list()
    # TensorFlow's shape: the spatial dimensions windowed, and for max pooling the depth too
    for i in (h, w, c) if is_max else (h, w):
        dims[i] = _static_size(op, dims[i], ksize[i], strides[i], kind, pairs[i])

    def kernel(xv: torch.Tensor) -> torch.Tensor:
        if xv.dim() != 4:
            raise InvalidArgumentError(
                f"tensor_in_shape must have 2 spatial dimensions. {xv.dim()} 0"
            )
        _check_windows(is_max, ksize, strides, c, (h, w))
        if fmt == "NHWC":
            xv = xv.permute(0, 3, 1, 2)
        if ksize[c] != 1:  # max over each group of ksize[c] channels (NCHW here)
            n, d, hh, ww = xv.shape
            if d % ksize[c]:
                raise UnimplementedError(
                    "Depthwise max pooling requires the depth window to evenly divide the input "
                    "depth"
                )
            y = xv.reshape(n, d // ksize[c], ksize[c], hh, ww).max(2).values
        else:
            y = _pool_spatial(is_max, xv, ksize, strides, kind, pairs, (h, w))
        return y.permute(0, 2, 3, 1).contiguous() if fmt == "NHWC" else y

    return Tensor(base, x.dtype, dims, [x], fn=kernel)


def _check_windows(
    is_max: bool, ksize: list[int], strides: list[int], c: int, spatial: tuple[int, int]
) -> None:
    """The run-time limits of TensorFlow's pooling kernels on the windows."""
    if is_max and any(k < 1 for k in ksize):
        listed = ",".join(str(k) for k in ksize)
        raise InvalidArgumentError(
            f"Sliding window ksize must be positive. The specified or inferred ksize is: {listed}"
        )
    bad = next((k for k in ksize if k < 1), None)
    if bad is not None:
        raise InvalidArgumentError(f"ksize must be a positive int32 value, got:{bad}")
    if ksize[0] != 1 or strides[0] != 1:
        raise UnimplementedError("Pooling is not yet supported on the batch dimension.")
    if ksize[c] != 1:
        if any(ksize[i] != 1 for i in spatial):
            raise UnimplementedError(
                "MaxPooling supports exactly one of pooling across depth or pooling across "
                "width/height."
            )
        if not is_max:
            raise UnimplementedError("Non-spatial pooling is not yet supported. Volunteers? :)")
        if ksize[c] != strides[c]:
            raise UnimplementedError(
                "Depthwise max pooling requires the depth window to equal the depth stride"
            )


def _pool_spatial(
    is_max: bool,
    xv: torch.Tensor,
    ksize: list[int],
    strides: list[int],
    kind: str,
    pairs: list[tuple[int, ...]],
    spatial: tuple[int, int],
) -> torch.Tensor:
    """Max or average pooling of NCHW ``xv`` over height and width."""
    h, w = spatial
    sizes = []
    for axis, i in ((2, h), (3, w)):
        sizes.append(_run_size(xv.shape[axis], ksize[i], strides[i], kind, pairs[i]))
    (oh, top, bottom), (ow, left, right) = sizes
    if kind == "EXPLICIT":
        for side, pad, k in zip(
            _SIDES, (top, bottom, left, right), (ksize[h],) * 2 + (ksize[w],) * 2
        ):
            if pad >= k:
                raise InvalidArgumentError(
                    f"{side} padding {pad} needs to be smaller than the window size {k}"
                )
    n, d = xv.shape[:2]
    if 0 in (oh, ow) or xv.numel() == 0:
        return _empty([n, d, oh, ow], xv)
    dt = xv.dtype
    work = _compute_dtype(dt)
    v = xv.to(work)
    k, s = (ksize[h], ksize[w]), (strides[h], strides[w])
    pad = (left, right, top, bottom)
    if is_max:
        return _cast_back(F.max_pool2d(F.pad(v, pad, value=-float("inf")), k, s), dt)
    if not any(pad):
        return _cast_back(F.avg_pool2d(v, k, s), dt)
    # windows over the edge: each sum divided by the number of input elements the window covers
    sums = F.avg_pool2d(F.pad(v, pad), k, s, divisor_override=1)
    ones = torch.ones((1, 1, *v.shape[2:]), dtype=work)
    counts = F.avg_pool2d(F.pad(ones, pad), k, s, divisor_override=1)
    return _cast_back(sums / counts, dt)
