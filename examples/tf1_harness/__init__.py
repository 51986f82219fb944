"""The harness that runs TF1 programs on two backends: ``rnnkit.compat.v1`` or real TensorFlow.

A transcribed program says ``from tf1_harness import tf`` where it said ``import tensorflow as tf``, and
``scaled(n, small=..., medium=...)`` where it set a loop count ``n``. The backend and the scale come
from :func:`configure` (called by ``tf1_chapter14/run.py``) or from the environment variables
``TF1_BACKEND`` (``rnnkit`` | ``tensorflow``, default ``rnnkit``) and ``TF1_SCALE`` (``small`` |
``medium`` | ``full``, default ``small``).

Scales: ``full`` runs the original counts and full-size data; ``medium`` is the reference scale
(a few minutes for everything on two CPU cores with real TensorFlow); ``small`` is a smoke run
(well under two minutes) that only shows every cell runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

__all__ = ["SCALES", "Scale", "configure", "backend_name", "scale", "scaled", "tf"]


@dataclass(frozen=True)
class Scale:
    """Data sizes of one scale (loop counts are given per call of :func:`scaled`)."""

    name: str
    mnist_train: int  # images in mnist.npz's x_train (the chapter keeps 5,000 for validation)
    mnist_test: int
    corpus_tokens: int  # tokens of the text8-like corpus (it always has 60,000 word types)


SCALES = {
    "small": Scale("small", mnist_train=5600, mnist_test=500, corpus_tokens=200_000),
    "medium": Scale("medium", mnist_train=20000, mnist_test=10000, corpus_tokens=1_000_000),
    "full": Scale("full", mnist_train=60000, mnist_test=10000, corpus_tokens=1_000_000),
}

_state: dict[str, Any] = {"backend": None, "scale": None, "tf": None}


def configure(backend: str | None = None, scale_name: str | None = None) -> None:
    """Choose the backend and scale (``None`` keeps the current choice / the environment's)."""
    if backend is not None:
        if backend not in ("rnnkit", "tensorflow"):
            raise ValueError(f"backend must be 'rnnkit' or 'tensorflow', got {backend!r}")
        if _state["tf"] is not None and backend != _state["backend"]:
            raise ValueError(
                f"backend already loaded as {_state['backend']!r}, cannot switch to {backend!r}"
            )
        _state["backend"] = backend
    if scale_name is not None:
        if scale_name not in SCALES:
            raise ValueError(f"scale must be one of {sorted(SCALES)}, got {scale_name!r}")
        _state["scale"] = scale_name


def backend_name() -> str:
    if _state["backend"] is None:
        configure(backend=os.environ.get("TF1_BACKEND", "rnnkit"))
    return _state["backend"]


def scale() -> Scale:
    if _state["scale"] is None:
        configure(scale_name=os.environ.get("TF1_SCALE", "small"))
    return SCALES[_state["scale"]]


def scaled(n: int, *, small: int, medium: int) -> int:
    """A loop count: ``n`` (the original's) at scale ``full``, ``small`` / ``medium`` otherwise."""
    return {"small": small, "medium": medium, "full": n}[scale().name]


def __getattr__(name: str) -> Any:
    if name == "tf":
        if _state["tf"] is None:
            from .backend import load

            _state["tf"] = load(backend_name())
        return _state["tf"]
    raise AttributeError(f"module 'tf1_harness' has no attribute {name!r}")
