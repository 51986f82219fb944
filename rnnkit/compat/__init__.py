"""TensorFlow-compatibility layers over rnnkit.

``rnnkit.compat.v1`` is a small TensorFlow 1.x-style graph-and-session layer, so that TF1 RNN code
runs with one changed line::

    import rnnkit.compat.v1 as tf

It implements no RNN of its own: its cells wrap ``rnnkit.cells`` and its RNN ops call rnnkit's runners.
"""

from __future__ import annotations

__all__ = ["v1"]


def __getattr__(name: str):  # import v1 lazily so `import rnnkit.compat` stays cheap
    if name == "v1":
        import importlib

        return importlib.import_module("rnnkit.compat.v1")
    raise AttributeError(f"module 'rnnkit.compat' has no attribute {name!r}")
