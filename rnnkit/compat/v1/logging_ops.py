"""``tf.Print``: the identity of a tensor that, each time it is evaluated, writes a message and the
values of other tensors to stderr (TensorFlow 1.x's ``logging_ops.Print``).

Each tensor of ``data`` is written as ``[v0 v1 v2...]``: its values flattened, the first
``summarize`` of them (3 by default; ``...`` when there are more), so a line reads
``message[1 2 3...][0.5]``. ``first_n`` limits the number of lines in a session.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import torch

from rnnkit.compat.v1.ops import Tensor, convert_to_tensor

__all__ = ["Print"]


class _PrintNode(Tensor):
    _stateful = True  # writes each run, never served from a cache

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        counts = sess.__dict__.setdefault("_print_counts", {})
        n = counts.get(self, 0)
        if self._first_n is None or self._first_n < 0 or n < self._first_n:
            parts = [_format(v, self._summarize) for v in values[1:]]
            sys.stderr.write(f"{self._message}{''.join(parts)}\n")
            counts[self] = n + 1
        return values[0]


def _format(value: Any, summarize: int) -> str:
    flat = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value).ravel()
    shown = " ".join(
        v.decode() if isinstance(v, bytes) else str(v) for v in flat[: max(summarize, 0)].tolist()
    )
    return f"[{shown}{'...' if flat.size > summarize else ''}]"


def Print(  # noqa: N802 - TensorFlow's name
    input_: Any,
    data: Any,
    message: Any = None,
    first_n: Any = None,
    summarize: Any = None,
    name: str | None = None,
) -> Tensor:
    """``input_`` unchanged; evaluating it writes ``message`` and the values of ``data``."""
    x = convert_to_tensor(input_)
    if not isinstance(data, (list, tuple)):
        raise TypeError(
            f"Received an invalid value for argument `data` of tf.Print: expected a list of "
            f"tensors, got {data!r}."
        )
    items = [convert_to_tensor(d) for d in data]
    node = _PrintNode(name or "Print", x.dtype, x.shape, [x, *items], fn=None)
    node._message = "" if message is None else str(message)
    node._first_n = None if first_n is None else int(first_n)
    node._summarize = 3 if summarize is None else int(summarize)
    return node
