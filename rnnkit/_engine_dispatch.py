"""Glue between the runners and the fused engine (``rnnkit._engine``).

The engine is optional at import time: if it cannot be imported (for example numba is missing), every
cell runs on the plain loop, with identical semantics.
"""

from __future__ import annotations

from typing import Any

import torch

try:
    from rnnkit import _engine
except ImportError:  # pragma: no cover - exercised only without the engine's dependencies
    _engine = None  # type: ignore[assignment]


def supports(cell: Any, inputs_tbi: torch.Tensor) -> bool:
    return _engine is not None and bool(_engine.supports(cell, inputs_tbi))


def run(cell: Any, inputs_tbi: torch.Tensor, lengths: torch.Tensor | None, state: Any):
    return _engine.dynamic_rnn_fused(cell, inputs_tbi, lengths, state)
