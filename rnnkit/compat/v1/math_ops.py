"""Math ops (TensorFlow's ``ops/math_ops.py``): arithmetic with broadcasting, ``matmul``, elementwise
functions, comparisons, reductions, ``argmax``, ``clip_by_value``; and the tensor operators
(``+ - * / @ ** < > [...]``), installed on :class:`Tensor` here as TensorFlow does.

Every op checks dtypes and static shapes when it is built (the error names the op and both shapes)
and runs the torch function of the same name when the session evaluates it.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from rnnkit.compat.v1 import gradients as _grad
from rnnkit.compat.v1._kernels import max_kernel, min_kernel
from rnnkit.compat.v1.dtypes import as_dtype, float32, float64, int32, int64
from rnnkit.compat.v1.dtypes import bool as tf_bool
from rnnkit.compat.v1.errors import InvalidArgumentError
from rnnkit.compat.v1.ops import Tensor, cast_tensor, convert_to_tensor
from rnnkit.compat.v1.tensor_shape import TensorShape
from rnnkit.platform import gemm

__all__ = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "floordiv",
    "mod",
    "pow_",
    "maximum",
    "minimum",
    "negative",
    "abs_",
    "sign",
    "floor",
    "ceil",
    "round_",
    "reciprocal",
    "tanh",
    "sigmoid",
    "exp",
    "log",
    "log1p",
    "sqrt",
    "rsqrt",
    "square",
    "sin",
    "cos",
    "squared_difference",
    "equal",
    "not_equal",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "cast",
    "to_float",
    "to_int32",
    "to_int64",
    "matmul",
    "reduce_sum",
    "reduce_mean",
    "reduce_max",
    "reduce_min",
    "reduce_prod",
    "reduce_any",
    "reduce_all",
    "reduce_logsumexp",
    "argmax",
    "argmin",
    "clip_by_value",
    "add_n",
    "range_",
]

_py_bool = bool


def _axis(name: str, axis: Any, rank: int | None) -> int:
    if isinstance(axis, _py_bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(
            f"Received an invalid value for argument `{name}`: expected an int, got {axis!r}."
        )
    if rank is not None:
        if not -rank <= axis < rank:
            raise ValueError(
                f"Received an invalid value for argument `{name}`: expected an axis in "
                f"[{-rank}, {rank}), got {axis}."
            )
        return int(axis) % rank
    if axis < 0:
        raise ValueError(f"Negative `{name}` {axis} needs a tensor of known rank.")
    return int(axis)


def _pair(x: Any, y: Any, op: str) -> tuple[Tensor, Tensor]:
    """Convert the operands of a binary op; non-tensors take the other operand's dtype."""
    if isinstance(x, Tensor) and not isinstance(y, Tensor):
        y = convert_to_tensor(y, x.dtype)
    elif isinstance(y, Tensor) and not isinstance(x, Tensor):
        x = convert_to_tensor(x, y.dtype)
    else:
        x, y = convert_to_tensor(x), convert_to_tensor(y)
    if x.dtype is not y.dtype:
        raise TypeError(
            f"Input 'y' of '{op}' has type {y.dtype.name} that does not match type "
            f"{x.dtype.name} of argument 'x' ({x.name!r} and {y.name!r})."
        )
    return x, y


def _broadcast(op: str, a: TensorShape, b: TensorShape) -> TensorShape:
    if a.ndims is None or b.ndims is None:
        return TensorShape(None)
    da, db = a.as_list(), b.as_list()
    n = max(len(da), len(db))
    da, db = [1] * (n - len(da)) + da, [1] * (n - len(db)) + db
    out: list[int | None] = []
    for x, y in zip(da, db):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None or y is None:
            out.append(x if y is None else y)
        elif x == y:
            out.append(x)
        else:
            raise ValueError(
                f"Dimensions must be equal, but are {x} and {y} for '{op}' with input shapes "
                f"{a} and {b}."
            )
    return TensorShape(out)


def _binary(op: str, fn: Callable, x: Any, y: Any) -> Tensor:
    x, y = _pair(x, y, op)
    dtype = x.dtype
    if op == "truediv" and dtype.is_integer:  # TensorFlow: int / int -> float64
        dtype = float64
        return Tensor(
            op,
            dtype,
            _broadcast(op, x.shape, y.shape),
            [x, y],
            fn=lambda a, b: torch.true_divide(a.double(), b.double()),
        )
    return Tensor(op, dtype, _broadcast(op, x.shape, y.shape), [x, y], fn=fn)


def _unary(
    op: str, fn: Callable, x: Any, float_only: _py_bool = True, name: str | None = None
) -> Tensor:
    x = convert_to_tensor(x)
    if float_only and not x.dtype.is_floating:
        raise TypeError(
            f"Received an invalid value for `x` of '{op}': expected a float tensor, got "
            f"{x.dtype.name} ({x.name!r})."
        )
    return Tensor(name or op, x.dtype, x.shape, [x], fn=fn)


def _reduce(
    op: str, fn: Callable, x: Any, axis: Any, keepdims: Any, keep_dims: Any, reduction_indices: Any
) -> Tensor:
    x = convert_to_tensor(x)
    if axis is None:
        axis = reduction_indices
    keep = _py_bool(keepdims if keepdims is not None else (keep_dims or False))
    rank = x.shape.ndims
    if axis is None:
        axes = None if rank is None else list(range(rank))
    else:
        given = axis if isinstance(axis, (list, tuple)) else [axis]
        if rank is None:  # negative axes are resolved when the rank is known, at run time
            for a in given:
                if isinstance(a, _py_bool) or not isinstance(a, numbers.Integral):
                    raise TypeError(
                        f"Received an invalid value for argument `axis`: expected an int, got {a!r}."
                    )
            axes = [int(a) for a in given]
        else:
            axes = sorted({_axis("axis", a, rank) for a in given})
    if rank is None:  # all axes, not kept: a scalar whatever the rank
        shape = TensorShape([] if axis is None and not keep else None)
    else:
        dims = x.shape.as_list()
        shape = TensorShape(
            [1 if i in axes else d for i, d in enumerate(dims)]
            if keep
            else [d for i, d in enumerate(dims) if i not in axes]
        )

    def run(v: torch.Tensor) -> torch.Tensor:
        if axes is None:
            ax = list(range(v.dim()))
        else:
            for a in axes:
                if not -v.dim() <= a < max(v.dim(), 1):
                    raise InvalidArgumentError(
                        f"Invalid reduction dimension ({a} for input with {v.dim()} dimension(s))"
                    )
            ax = sorted({a % max(v.dim(), 1) for a in axes}) if v.dim() else []
        return fn(v, ax, keep) if ax else v.clone()

    return Tensor(op, x.dtype, shape, [x], fn=run)


def _mean(v: torch.Tensor, axes: list[int], keep: _py_bool) -> torch.Tensor:
    if v.is_floating_point():
        return v.mean(dim=axes, keepdim=keep)
    count = int(np.prod([v.shape[a] for a in axes]))  # TensorFlow truncates integer means
    return torch.div(v.sum(dim=axes, keepdim=keep), count, rounding_mode="trunc").to(v.dtype)


def _named(
    op: str, fn: Callable, float_only: _py_bool = True, no_grad: _py_bool = False
) -> Callable[..., Tensor]:
    def f(x: Any, name: str | None = None) -> Tensor:
        out = _unary(op, fn, x, float_only, name)
        if no_grad:  # TensorFlow registers no gradient for it: tf.gradients gives None through it
            out._no_grad = True
        return out

    f.__name__ = op.lower()
    f.__doc__ = f"Elementwise ``{op}``."
    return f


tanh = _named("Tanh", torch.tanh)
sigmoid = _named("Sigmoid", torch.sigmoid)
exp = _named("Exp", torch.exp)
log = _named("Log", torch.log)
sqrt = _named("Sqrt", torch.sqrt)
rsqrt = _named("Rsqrt", torch.rsqrt)
square = _named("Square", torch.square, float_only=False)
abs_ = _named("Abs", torch.abs, float_only=False)  # tf.abs
negative = _named("Neg", torch.neg, float_only=False)
sign = _named("Sign", torch.sign, float_only=False)
floor = _named("Floor", torch.floor, no_grad=True)
ceil = _named("Ceil", torch.ceil, no_grad=True)
round_ = _named("Round", torch.round, no_grad=True)  # tf.round: half to even, as TensorFlow
reciprocal = _named("Reciprocal", torch.reciprocal)
log1p = _named("Log1p", torch.log1p)
softplus = _named("Softplus", torch.nn.functional.softplus)
relu = _named("Relu", torch.relu, float_only=False)


def _relu6(v: torch.Tensor) -> torch.Tensor:
    """``min(max(v, 0), 6)`` with TensorFlow's gradient: 1 strictly inside (0, 6), 0 at the bounds."""
    return torch.where((v > 0) & (v < 6), v, v.clamp(0, 6).detach())


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def _selu(v: torch.Tensor) -> torch.Tensor:
    """SELU with TensorFlow's gradient at 0 (``scale``, the positive side's)."""
    neg = _SELU_SCALE * _SELU_ALPHA * torch.expm1(v.clamp(max=0))
    return torch.where(v >= 0, _SELU_SCALE * v, neg)


relu6 = _named("Relu6", _relu6, float_only=False)
elu = _named("Elu", torch.nn.functional.elu)
selu = _named("Selu", _selu)
sin = _named("Sin", torch.sin)
cos = _named("Cos", torch.cos)


def _binary_op(op: str, fn: Callable, doc: str) -> Callable[..., Tensor]:
    def f(x: Any, y: Any, name: str | None = None) -> Tensor:
        return _binary(op, fn, x, y)

    f.__name__, f.__doc__ = op.lower(), doc
    return f


add = _binary_op("add", torch.add, "``x + y`` with broadcasting.")
subtract = _binary_op("sub", torch.sub, "``x - y`` with broadcasting.")
multiply = _binary_op("mul", torch.mul, "``x * y`` elementwise, with broadcasting.")
divide = _binary_op(
    "truediv", torch.true_divide, "``x / y`` (true division; integers give float64)."
)


def floordiv(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``x // y``, rounding down (no gradient in TensorFlow: tf.gradients gives None through it)."""
    out = _binary("floordiv", torch.floor_divide, x, y)
    out._no_grad = True
    return out


mod = _binary_op("mod", torch.remainder, "``x % y`` with the sign of ``y``.")
pow_ = _binary_op("pow", torch.pow, "``x ** y`` (tf.pow).")


maximum = _binary_op("Maximum", max_kernel, "Elementwise ``max(x, y)`` with broadcasting.")
minimum = _binary_op("Minimum", min_kernel, "Elementwise ``min(x, y)`` with broadcasting.")
squared_difference = _binary_op(
    "SquaredDifference", lambda a, b: (a - b) ** 2, "``(x - y) ** 2`` elementwise."
)


def _compare(op: str, fn: Callable) -> Callable[..., Tensor]:
    def f(x: Any, y: Any, name: str | None = None) -> Tensor:
        a, b = _pair(x, y, op)
        return Tensor(op, tf_bool, _broadcast(op, a.shape, b.shape), [a, b], fn=fn)

    f.__name__ = op.lower()
    return f


equal = _compare("Equal", torch.eq)
not_equal = _compare("NotEqual", torch.ne)
greater = _compare("Greater", torch.gt)
greater_equal = _compare("GreaterEqual", torch.ge)
less = _compare("Less", torch.lt)
less_equal = _compare("LessEqual", torch.le)


def _logical(op: str, fn: Callable) -> Callable[..., Tensor]:
    def f(x: Any, y: Any, name: str | None = None) -> Tensor:
        a, b = convert_to_tensor(x, tf_bool), convert_to_tensor(y, tf_bool)
        return Tensor(op, tf_bool, _broadcast(op, a.shape, b.shape), [a, b], fn=fn)

    return f


logical_and = _logical("LogicalAnd", torch.logical_and)
logical_or = _logical("LogicalOr", torch.logical_or)
logical_xor = _logical("LogicalXor", torch.logical_xor)


def logical_not(x: Any, name: str | None = None) -> Tensor:
    a = convert_to_tensor(x, tf_bool)
    return Tensor("LogicalNot", tf_bool, a.shape, [a], fn=torch.logical_not)


def cast(x: Any, dtype: Any, name: str | None = None) -> Tensor:
    """``x`` converted to ``dtype`` (floats to integers truncate toward zero, as in TensorFlow)."""
    t = convert_to_tensor(x)
    dt = as_dtype(dtype)
    if t.dtype is dt:
        return t
    return cast_tensor(t, dt, name or "Cast")


to_float = lambda x, name=None: cast(x, float32)  # noqa: E731
to_int32 = lambda x, name=None: cast(x, int32)  # noqa: E731
to_int64 = lambda x, name=None: cast(x, int64)  # noqa: E731


def matmul(
    a: Any,
    b: Any,
    transpose_a: _py_bool = False,
    transpose_b: _py_bool = False,
    adjoint_a: _py_bool = False,
    adjoint_b: _py_bool = False,
    a_is_sparse: _py_bool = False,
    b_is_sparse: _py_bool = False,
    name: str | None = None,
) -> Tensor:
    """Matrix product of rank-2 (or batched, rank >= 2) tensors: ``(..., m, k) @ (..., k, n)``."""
    a, b = _pair(a, b, "MatMul")
    transpose_a, transpose_b = transpose_a or adjoint_a, transpose_b or adjoint_b
    sa, sb = a.shape, b.shape
    for arg, s in (("a", sa), ("b", sb)):
        if s.ndims is not None and s.ndims < 2:
            raise ValueError(
                f"Shape must be at least rank 2 for argument `{arg}` of 'MatMul', got shape {s}."
            )
    shape = TensorShape(None)
    if sa.ndims is not None and sb.ndims is not None:
        la, lb = sa.as_list(), sb.as_list()
        m, ka = (la[-1], la[-2]) if transpose_a else (la[-2], la[-1])
        kb, n = (lb[-1], lb[-2]) if transpose_b else (lb[-2], lb[-1])
        if ka is not None and kb is not None and ka != kb:
            raise ValueError(
                f"Dimensions must be equal, but are {ka} and {kb} for 'MatMul' with input shapes "
                f"{sa} and {sb}."
            )
        batch = _broadcast("MatMul", TensorShape(la[:-2]), TensorShape(lb[:-2])).as_list()
        shape = TensorShape(batch + [m, n])

    def fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x = x.transpose(-1, -2) if transpose_a else x
        y = y.transpose(-1, -2) if transpose_b else y
        return gemm.product(x, y)  # a large float32 one (an output projection) on oneDNN

    return Tensor("MatMul", a.dtype, shape, [a, b], fn=fn)


def _reducer(op: str, fn: Callable) -> Callable[..., Tensor]:
    def f(
        input_tensor: Any,
        axis: Any = None,
        keepdims: Any = None,
        name: str | None = None,
        reduction_indices: Any = None,
        keep_dims: Any = None,
    ) -> Tensor:
        return _reduce(op, fn, input_tensor, axis, keepdims, keep_dims, reduction_indices)

    f.__doc__ = (
        f"``{op}`` over ``axis`` (an int, a list, or None for all); ``keepdims`` keeps them."
    )
    return f


def _amax(v: torch.Tensor, a: list[int], k: _py_bool) -> torch.Tensor:
    return v.amax(dim=a, keepdim=k)


def _amin(v: torch.Tensor, a: list[int], k: _py_bool) -> torch.Tensor:
    return v.amin(dim=a, keepdim=k)


def _each_axis(method: str) -> Callable:
    """A reduction over several axes, one at a time (torch's ``prod``/``any``/``all`` take one);
    the result keeps the input's dtype (torch's integer ``prod`` gives int64)."""

    def fn(v: torch.Tensor, a: list[int], k: _py_bool) -> torch.Tensor:
        dtype = v.dtype
        if method != "prod":
            v = v.bool()
        for d in sorted(a, reverse=True):
            v = getattr(v, method)(dim=d, keepdim=k)
        return v.to(dtype) if method == "prod" else v

    return fn


reduce_sum = _reducer("Sum", lambda v, a, k: v.sum(dim=a, keepdim=k).to(v.dtype))
reduce_mean = _reducer("Mean", _mean)
reduce_max = _reducer("Max", _amax)
reduce_min = _reducer("Min", _amin)
reduce_prod = _reducer("Prod", _each_axis("prod"))
reduce_any = _reducer("Any", _each_axis("any"))
reduce_all = _reducer("All", _each_axis("all"))


def reduce_logsumexp(
    input_tensor: Any,
    axis: Any = None,
    keepdims: Any = None,
    name: str | None = None,
    reduction_indices: Any = None,
    keep_dims: Any = None,
) -> Tensor:
    return _reduce(
        "ReduceLogSumExp",
        lambda v, a, k: torch.logsumexp(v, dim=a, keepdim=k),
        input_tensor,
        axis,
        keepdims,
        keep_dims,
        reduction_indices,
    )


def _arg(op: str, fn: Callable) -> Callable[..., Tensor]:
    def f(
        input: Any,
        axis: Any = None,
        name: str | None = None,
        dimension: Any = None,
        output_type: Any = int64,
    ) -> Tensor:  # noqa: A002
        x = convert_to_tensor(input)
        ax = axis if axis is not None else (dimension if dimension is not None else 0)
        rank = x.shape.ndims
        a = _axis("axis", ax, rank) if rank is not None or ax >= 0 else int(ax)
        shape = (
            TensorShape(None)
            if rank is None
            else TensorShape([d for i, d in enumerate(x.shape.as_list()) if i != a])
        )
        dt = as_dtype(output_type)

        def run(v: torch.Tensor) -> torch.Tensor:
            if not -v.dim() <= a < v.dim():
                raise InvalidArgumentError(
                    f"Expected dimension in the range [{-v.dim()}, {v.dim()}), but got {a}"
                )
            return fn(v, dim=a).to(dt.torch)

        return Tensor(op, dt, shape, [x], fn=run)

    return f


argmax = _arg("ArgMax", torch.argmax)
argmin = _arg("ArgMin", torch.argmin)


def clip_by_value(
    t: Any, clip_value_min: Any, clip_value_max: Any, name: str | None = None
) -> Tensor:
    """``max(min(t, clip_value_max), clip_value_min)`` (TensorFlow's order); the gradient is zero
    where clipped (not at the bounds). Of an embedding's gradient (TF's IndexedSlices), as in TF: each lookup's row is
    clipped before a repeated id's rows are summed, and the result stays sparse."""

    def fn(v: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return max_kernel(min_kernel(v, b), a)  # at a bound the gradient passes, as in TF

    if _grad._is_sparse(t):
        bounds = [convert_to_tensor(c, t.dtype) for c in (clip_value_min, clip_value_max)]
        return _grad._map_rows(t, fn, bounds, name or "clip_by_value")
    x = convert_to_tensor(t)
    lo, hi = convert_to_tensor(clip_value_min, x.dtype), convert_to_tensor(clip_value_max, x.dtype)
    return Tensor(name or "clip_by_value", x.dtype, x.shape, [x, lo, hi], fn=fn)


def add_n(inputs: Any, name: str | None = None) -> Tensor:
    ts = [convert_to_tensor(i) for i in inputs]
    return Tensor("AddN", ts[0].dtype, ts[0].shape, ts, fn=lambda *vs: torch.stack(vs).sum(0))


def range_(
    start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None, name: str = "range"
) -> Tensor:  # tf.range
    """``[start, start + delta, ...)`` up to ``limit``; any argument may be a scalar tensor."""
    if limit is None:
        start, limit = 0, start
    args = [start, limit, delta]
    is_float = any(
        isinstance(a, float) or (isinstance(a, Tensor) and a.dtype.is_floating) for a in args
    )
    dt = as_dtype(dtype) if dtype is not None else (float32 if is_float else int32)
    ts = [convert_to_tensor(a, dt) if not isinstance(a, Tensor) else a for a in args]
    static = None
    if all(not isinstance(a, Tensor) for a in args):
        if delta == 0:
            raise ValueError(
                f"Requires delta != 0 for '{name}' (tf.range), got start={start!r}, "
                f"limit={limit!r}, delta={delta!r}."
            )
        static = len(np.arange(start, limit, delta))

    def fn(a: torch.Tensor, b: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        if d.item() == 0:
            raise InvalidArgumentError(f"Requires delta != 0 (tf.range {name!r})")
        return torch.arange(a.item(), b.item(), d.item(), dtype=dt.torch)

    return Tensor(name, dt, [static], ts, fn=fn)


def _install_operators() -> None:
    """Tensor operators, as TensorFlow's math_ops overrides them on Tensor."""
    T = Tensor
    T.__add__ = lambda s, o: add(s, o)
    T.__radd__ = lambda s, o: add(o, s)
    T.__sub__ = lambda s, o: subtract(s, o)
    T.__rsub__ = lambda s, o: subtract(o, s)
    T.__mul__ = lambda s, o: multiply(s, o)
    T.__rmul__ = lambda s, o: multiply(o, s)
    T.__truediv__ = lambda s, o: divide(s, o)
    T.__rtruediv__ = lambda s, o: divide(o, s)
    T.__floordiv__ = lambda s, o: floordiv(s, o)
    T.__rfloordiv__ = lambda s, o: floordiv(o, s)
    T.__mod__ = lambda s, o: mod(s, o)
    T.__pow__ = lambda s, o: _binary("pow", torch.pow, s, o)
    T.__rpow__ = lambda s, o: _binary("pow", torch.pow, o, s)
    T.__matmul__ = lambda s, o: matmul(s, o)
    T.__rmatmul__ = lambda s, o: matmul(o, s)
    T.__neg__ = lambda s: negative(s)
    T.__pos__ = lambda s: s
    T.__abs__ = lambda s: abs_(s)
    T.__lt__ = lambda s, o: less(s, o)
    T.__le__ = lambda s, o: less_equal(s, o)
    T.__gt__ = lambda s, o: greater(s, o)
    T.__ge__ = lambda s, o: greater_equal(s, o)
    T.__and__ = lambda s, o: logical_and(s, o)
    T.__or__ = lambda s, o: logical_or(s, o)
    T.__invert__ = lambda s: logical_not(s)


_install_operators()
