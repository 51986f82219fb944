"""``tf.assert_positive`` and ``tf.assert_non_negative`` (TensorFlow's ``check_ops``).

Each returns an op that, when run (directly or as a control dependency, as ``reader.ptb_producer``
runs it), raises ``tf.errors.InvalidArgumentError`` if the condition fails for any element; the
message starts with ``message`` and names the condition and the tensor, as TensorFlow's does.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from rnnkit.compat.v1.errors import InvalidArgumentError
from rnnkit.compat.v1.ops import Operation, convert_to_tensor

__all__ = ["assert_positive", "assert_non_negative"]


def _assert(
    condition: str, test: Any, x: Any, message: Any, summarize: Any, name: str, data: Any
) -> Operation:
    if message is not None and not isinstance(message, str):
        raise TypeError(
            f"Received an invalid value for argument `message`: expected a string, got {message!r}."
        )
    t = convert_to_tensor(x, name="x")
    if t.dtype.name in ("bool", "string"):
        raise TypeError(
            f"Received an invalid value for argument `x`: expected a numeric tensor, got {t!r}."
        )
    if summarize is not None and (
        isinstance(summarize, bool) or not isinstance(summarize, (numbers.Integral, np.integer))
    ):
        raise TypeError(
            "Received an invalid type for argument `summarize`: expected None or an integer (how "
            f"many entries to show), got {summarize!r} (type {type(summarize).__name__})."
        )
    limit = 3 if summarize is None else int(summarize)
    limit = None if limit < 0 else limit  # TF: a negative summarize shows every entry

    def effect(sess: Any, values: list[Any]) -> None:
        v = values[0]
        if not bool(torch.all(test(v))):
            shown = v.reshape(-1)[:limit].tolist()
            raise InvalidArgumentError(
                f"{message + ' ' if message else ''}Condition x {condition} did not hold "
                f"element-wise: x ({t.name}) = {shown}"
            )

    return Operation(name, [t], effect=effect)


def assert_positive(
    x: Any, data: Any = None, summarize: Any = None, message: Any = None, name: Any = None
) -> Operation:
    """An op failing at run time unless every element of ``x`` is > 0."""
    return _assert("> 0", lambda v: v > 0, x, message, summarize, name or "assert_positive", data)


def assert_non_negative(
    x: Any, data: Any = None, summarize: Any = None, message: Any = None, name: Any = None
) -> Operation:
    """An op failing at run time unless every element of ``x`` is >= 0."""
    return _assert(
        ">= 0", lambda v: v >= 0, x, message, summarize, name or "assert_non_negative", data
    )
