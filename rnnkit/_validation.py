"""The one place where user input is checked.

Every failure is a ``ValueError`` (bad value or shape) or ``TypeError`` (bad type) whose message names
the argument, what was expected and what was received, e.g.
"Received an invalid value for argument `num_units`: expected a positive integer, got 0."
"""

from __future__ import annotations

import difflib
import functools
import inspect
import math
from collections.abc import Callable, Sequence
from numbers import Integral, Real
from typing import Any, TypeVar

import numpy as np
import torch
from torch.autograd import forward_ad as _forward_ad


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} (type {type(value).__name__})"


def invalid_value(name: str, expected: str, got: Any) -> ValueError:
    return ValueError(
        f"Received an invalid value for argument `{name}`: expected {expected}, got {got}."
    )


def invalid_type(name: str, expected: str, value: Any) -> TypeError:
    return TypeError(
        f"Received an invalid type for argument `{name}`: expected {expected}, "
        f"got {_describe(value)}."
    )


def missing_argument(name: str, expected: str) -> TypeError:
    return TypeError(f"Missing argument `{name}`: expected {expected}.")


# Names other libraries give an argument, and rnnkit's (TensorFlow's) name for it
_ALIASES = {
    "hidden_size": "num_units",  # torch.nn.RNNCell/GRUCell/LSTMCell
    "units": "num_units",  # Keras
    "num_hidden": "num_units",
    "input_dim": "input_size",
    "keep_prob": "output_keep_prob",
}
_NOTES = {
    "state_is_tuple": (
        "rnnkit's states are always tuples, as with TensorFlow's default state_is_tuple=True "
        "(leave it out; rnnkit.compat.v1 also takes state_is_tuple=False)"
    ),
}


def _signature_text(signature: inspect.Signature) -> str:
    parts = []
    for name, p in signature.parameters.items():
        if p.kind is p.VAR_POSITIONAL:
            parts.append(f"*{name}")
        elif p.kind is p.VAR_KEYWORD:
            parts.append(f"**{name}")
        else:
            parts.append(name if p.default is p.empty else f"{name}={p.default!r}")
    return ", ".join(parts)


def bad_arguments(owner: str, signature: inspect.Signature, kwargs: dict, reason: str) -> TypeError:
    """The error for a call of ``owner`` whose arguments ``signature`` does not take (``reason``:
    Python's own complaint): an unknown keyword is named with the accepted ones, and TensorFlow's
    name for it where another library's name was used."""
    params = signature.parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    accepted = [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = [k for k in kwargs if k not in accepted]
    if unknown and not takes_any:
        key = unknown[0]
        if _ALIASES.get(key) in accepted:
            hint = f"; `{key}` is `{_ALIASES[key]}` here (TensorFlow's name)"
        elif key in _NOTES:
            hint = f"; {_NOTES[key]}"
        else:
            close = difflib.get_close_matches(key, accepted, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
        names = ", ".join(f"`{n}`" for n in accepted)
        return TypeError(
            f"Received an unexpected keyword argument `{key}` for {owner}: expected one of "
            f"{names}{hint}."
        )
    return TypeError(
        f"Received invalid arguments for {owner}({_signature_text(signature)}): {reason}."
    )


_F = TypeVar("_F", bound=Callable[..., Any])


def checked_init(init: _F) -> _F:
    """Wrap a class's ``__init__`` so that arguments it does not take raise :func:`bad_arguments`'s
    TypeError (naming the class, the argument and the accepted ones) instead of Python's. A call
    that binds costs nothing extra: only a TypeError raised by the binding itself (no frame of
    ``__init__`` in its traceback) is replaced."""
    signature = inspect.signature(init)
    signature = signature.replace(parameters=list(signature.parameters.values())[1:])

    @functools.wraps(init)
    def checked(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            init(self, *args, **kwargs)
        except TypeError as exc:
            tb = exc.__traceback__
            if tb is None or tb.tb_next is not None:
                raise
            try:
                signature.bind(*args, **kwargs)
            except TypeError as why:  # the same complaint, without the function's own name
                raise bad_arguments(type(self).__name__, signature, kwargs, str(why)) from None
            raise

    checked._checks_arguments = True  # type: ignore[attr-defined]
    return checked  # type: ignore[return-value]


def check_positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise invalid_type(name, "a positive integer", value)
    if value <= 0:
        raise invalid_value(name, "a positive integer", value)
    return int(value)


def check_int_range(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise invalid_type(name, f"an integer from {low} to {high}", value)
    if not low <= value <= high:
        raise invalid_value(name, f"an integer from {low} to {high}", value)
    return int(value)


def check_real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise invalid_type(name, "a real number", value)
    value = float(value)
    if not np.isfinite(value):
        raise invalid_value(name, "a finite number", value)
    return value


def check_probability(name: str, value: Any, *, allow_zero: bool = False) -> float:
    value = check_real(name, value)
    low_ok = value >= 0.0 if allow_zero else value > 0.0
    if not (low_ok and value <= 1.0):
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise invalid_value(name, f"a probability in {interval}", value)
    return value


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    if value not in choices:
        raise invalid_value(name, f"one of {list(choices)}", repr(value))
    return value


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise invalid_type(name, "a bool", value)
    return bool(value)


def check_dtype(name: str, dtype: Any) -> torch.dtype | None:
    """``None`` or a floating torch dtype (numpy dtypes and strings like "float32" accepted)."""
    if dtype is None:
        return None
    if isinstance(dtype, torch.dtype):
        result = dtype
    else:
        try:
            result = torch.from_numpy(np.zeros(0, dtype=np.dtype(dtype))).dtype
        except (TypeError, ValueError):
            raise invalid_type(
                name, "a floating torch dtype such as torch.float32", dtype
            ) from None
    if not result.is_floating_point:
        raise invalid_value(name, "a floating dtype", result)
    return result


def to_tensor(
    name: str,
    value: Any,
    dtype: torch.dtype | None = None,
    device: Any = None,
    match: str | None = None,
):
    """Convert a tensor / numpy array / nested list to a floating tensor.

    Arrays, lists and integer tensors are converted to ``dtype`` (default: their own floating dtype,
    else torch's default dtype), as a TF feed does. A floating torch tensor is never cast silently:
    when ``dtype`` is given it must already have it (``TypeError`` otherwise, naming ``match``, where
    ``dtype`` came from); likewise ``device``.
    """
    if isinstance(value, torch.Tensor):
        t = value
        if t.is_floating_point():
            if dtype is not None and t.dtype != dtype:
                if match is None:
                    match, other = (
                        "the cell's parameters or state",
                        f"the cell with cell.to({t.dtype})",
                    )
                else:
                    other = f"{match} to {t.dtype}"
                raise invalid_type(
                    name,
                    f"dtype {dtype} to match {match} (convert the tensor with .to({dtype}), or "
                    f"{other})",
                    value,
                )
            if device is not None and t.device != (
                device if isinstance(device, torch.device) else torch.device(device)
            ):
                raise invalid_value(name, f"a tensor on device {device}", f"device {t.device}")
            return t
    elif isinstance(value, (np.ndarray, list, tuple, Real)):
        try:
            arr = np.asarray(value)
        except ValueError as e:
            raise invalid_value(name, "a rectangular array", f"a ragged sequence ({e})") from None
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            raise invalid_type(name, "a numeric tensor or array", value)
        t = torch.from_numpy(np.ascontiguousarray(arr))
    else:
        raise invalid_type(name, "a torch.Tensor or numpy array", value)
    if t.is_complex():
        raise invalid_type(name, "a real-valued tensor", value)
    target = dtype if dtype is not None else (t.dtype if t.is_floating_point() else None)
    if target is None:
        target = torch.get_default_dtype()
    return t.to(device=device, dtype=target)


def _rank(leaf: Any) -> int | None:
    """The rank of a leaf of a structure of inputs; None when unknown (a graph tensor)."""
    if isinstance(leaf, (torch.Tensor, np.ndarray)):
        return leaf.ndim
    shape = getattr(leaf, "shape", None)
    if shape is not None:
        ndims = getattr(shape, "ndims", None) if not isinstance(shape, tuple) else len(shape)
        return ndims if isinstance(ndims, int) else None
    return 0  # a number, a string, None: what a nested Python list of values holds


def _shape_text(leaf: Any) -> str:
    shape = getattr(leaf, "shape", None)
    if shape is None:
        return "()"
    return str(tuple(shape)) if isinstance(shape, (tuple, torch.Size)) else str(shape)


def sequence_structure_error(
    inputs: list | tuple | dict, time_major: bool, api: str = "rnnkit"
) -> ValueError | TypeError:
    """The error for a Python list, tuple or dict given as the ``inputs`` of ``dynamic_rnn``.

    TensorFlow 1.x reads such ``inputs`` as a nested structure of sequences, each ``(B, T, ...)``,
    never as a list of time steps: a leaf of rank below 3 fails its rank check (ValueError), two or
    more leaves fail the cell's one-input check (ValueError), and one leaf inside a container
    reaches a cell that takes a tensor (TypeError). rnnkit's cells take one tensor per step, so
    each case raises TensorFlow's exception type, saying what to pass instead. ``api`` is
    ``"rnnkit"`` or ``"tf"`` (``rnnkit.compat.v1``): whose functions the fix names.
    """
    leaves: list[Any] = []
    pending = [inputs]
    while pending and len(leaves) < 1000:  # enough leaves to describe the structure
        item = pending.pop()
        if isinstance(item, (list, tuple)):
            pending.extend(reversed(item))
        elif isinstance(item, dict):
            pending.extend(item[k] for k in sorted(item, key=repr, reverse=True))
        else:
            leaves.append(item)
    kind = type(inputs).__name__
    axis = 0 if time_major else 1
    short = "(T, B, I)" if time_major else "(B, T, I)"
    layout = f"{short} (time_major=True)" if time_major else short
    if api == "tf":
        static, stack, concat = "tf.nn.static_rnn", f"tf.stack(inputs, axis={axis})", "tf.concat"
    else:
        static, stack, concat = "rnnkit.static_rnn", f"torch.stack(inputs, dim={axis})", "torch.cat"
    expected = f"one tensor of shape {layout}"
    reads = (
        f"a {kind} is read as a nested structure of sequences, each {short}, as TensorFlow reads "
        "it, never as time steps or as values to convert"
    )
    ranks = [_rank(leaf) for leaf in leaves]
    shapes = ", ".join(sorted({_shape_text(leaf) for leaf in leaves if _rank(leaf) != 0}))
    if not leaves:
        return invalid_value("inputs", expected, f"an empty {kind}")
    if 0 in ranks:
        return invalid_value(
            "inputs",
            expected,
            f"a {kind} of numbers ({reads}); convert it to one tensor first, e.g. "
            "torch.tensor(inputs) or np.asarray(inputs, np.float32)",
        )
    count = "1 tensor" if len(leaves) == 1 else f"{len(leaves)} tensors"
    got = f"a {kind} of {count} of shape {shapes}"
    if any(r is not None and r < 3 for r in ranks):
        return invalid_value(
            "inputs",
            expected,
            f"{got} ({reads}); for a list of T time steps of shape (B, I) use "
            f"{static}(cell, inputs), or stack them into one tensor with {stack}",
        )
    if len(leaves) > 1:
        return invalid_value(
            "inputs",
            expected,
            f"{got} ({reads}); the cells take one input tensor per step: join the features with "
            f"{concat}(inputs, {'axis' if api == 'tf' else 'dim'}=-1)",
        )
    return TypeError(
        f"Received an invalid type for argument `inputs`: expected {expected}, got {got} "
        f"({reads}); pass that tensor itself."
    )


def check_rank(name: str, tensor: torch.Tensor, rank: int, layout: str) -> None:
    if tensor.dim() != rank:
        raise invalid_value(
            name,
            f"a rank-{rank} tensor {layout}",
            f"shape {tuple(tensor.shape)} (rank {tensor.dim()})",
        )


_is_compiling = getattr(torch.compiler, "is_compiling", lambda: False)  # torch < 2.3: never


def tracing(t: torch.Tensor) -> bool:
    """Whether ``t`` is being traced (torch.compile, torch.export, torch.onnx.export) rather than
    computed, so that its values cannot be read (fake tensors, or code run by the compiler)."""
    return _is_compiling() or type(t) not in (torch.Tensor, torch.nn.Parameter)


_functorch_active = getattr(torch._C, "_are_functorch_transforms_active", lambda: False)


def transformed() -> bool:
    """Whether forward-mode AD or a torch.func transform (vmap, grad, jvp) is active."""
    return getattr(_forward_ad, "_current_level", -1) >= 0 or _functorch_active()


@functools.cache
def _onnx_flags() -> Callable[[], bool]:
    """``torch.onnx.is_in_onnx_export``, or the two flags it reads (its two imports on every call
    cost about 1 us, paid by every step of a cell called directly); torch's own function where
    they are not where this torch keeps them."""
    try:
        from torch.onnx._internal.exporter import _flags
        from torch.onnx._internal.torchscript_exporter._globals import GLOBALS

        if isinstance(_flags._is_onnx_exporting, bool) and isinstance(GLOBALS.in_onnx_export, bool):
            return lambda: GLOBALS.in_onnx_export or _flags._is_onnx_exporting
    except (ImportError, AttributeError):
        pass
    return torch.onnx.is_in_onnx_export


def untraced(*tensors: torch.Tensor) -> bool:
    """Plain tensors, and no tracer, compiler, exporter or torch.func transform at work: an op that
    torch does not know (a custom autograd node computing on numpy or oneDNN) may be recorded."""
    return (
        not any(tracing(t) for t in tensors)
        and not torch.jit.is_tracing()
        and not _onnx_flags()()
        and not transformed()
    )


def refuse_jit_trace(what: str) -> None:
    """Say plainly that ``torch.jit.trace`` cannot record ``what`` (it would freeze T, the built
    width and the lengths' checks into constants), and what to use instead."""
    if torch.jit.is_tracing():
        raise RuntimeError(
            f"torch.jit.trace does not support rnnkit's {what}; use torch.export.export, "
            "torch.compile, or torch.onnx.export(..., dynamo=True) (the default) instead"
        )


def as_lengths(
    name: str, value: Any, batch: int, steps: int, device: torch.device
) -> torch.Tensor | None:
    """Validate ``sequence_length``: integers of shape (B,), each in [0, T]; returns int64 on device."""
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        t = value.detach()
        if t.device.type == "meta":
            raise invalid_value(
                name,
                "lengths with values (a CPU or CUDA tensor, an array or a list)",
                "a meta tensor",
            )
    elif _is_compiling():  # torch.compile traces torch.as_tensor, not numpy's array attributes
        t = torch.as_tensor(value)
    else:
        try:
            arr = np.asarray(value)
        except ValueError:
            raise invalid_value(name, f"a vector of {batch} integers", _describe(value)) from None
        if arr.dtype.kind not in "biuf":
            raise invalid_type(name, "integer lengths (tensor, array or list)", value)
        t = torch.from_numpy(np.ascontiguousarray(arr))
    traced = tracing(t)
    if t.is_floating_point():
        if not traced and not torch.all(t == torch.round(t)):
            raise invalid_value(name, "integer lengths", _describe(value))
    elif t.is_complex() or t.dtype == torch.bool:
        raise invalid_type(name, "integer lengths", value)
    if t.dim() != 1 or t.shape[0] != batch:
        raise invalid_value(
            name, f"shape ({batch},) to match the batch size", f"shape {tuple(t.shape)}"
        )
    if traced:  # values are unknown while tracing: out-of-range lengths act as the nearest bound
        return t.to(dtype=torch.int64, device="cpu").clamp(0, steps).to(device)
    if batch:  # range-checked before the cast to int64 (inf, 1e20 or 2**63 would wrap around)
        wide = t.cpu().to(torch.float64) if t.is_floating_point() or t.dtype == torch.uint64 else t
        low, high = wide.min().item(), wide.max().item()
        low, high = (int(v) if math.isfinite(v) else v for v in (low, high))
        if low < 0:
            raise invalid_value(name, "non-negative lengths", f"a minimum of {low}")
        if high > steps:
            raise invalid_value(
                name, f"lengths at most the number of time steps T={steps}", f"a maximum of {high}"
            )
    return t.to(dtype=torch.int64, device=device)
