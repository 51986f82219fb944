"""rnnkit: recurrent neural networks on PyTorch with TensorFlow 1.x's semantics.

Cells own their weights (no global variable scopes); ``static_rnn``, ``dynamic_rnn`` and
``bidirectional_dynamic_rnn`` unroll them exactly as TensorFlow 1.x does; ``dynamic_rnn`` runs on a
fused engine for the built-in cells.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rnnkit.cells import (
        BasicLSTMCell,
        BasicRNNCell,
        GRUCell,
        LSTMCell,
        LSTMStateTuple,
        RNNCell,
    )
    from rnnkit.engine.load import adaptive_threads
    from rnnkit.fused import FusedRNN
    from rnnkit.runners import bidirectional_dynamic_rnn, dynamic_rnn, final_state, static_rnn
    from rnnkit.wrappers import (
        DropoutWrapper,
        MultiRNNCell,
        OutputProjectionWrapper,
        ResidualWrapper,
    )

__version__ = "0.1.0"

_SUBPACKAGES = ("interop", "compat", "engine", "training")


def _core() -> dict:
    """The public names of the core modules (imported on first use: they import torch, which the
    command line's ``--help`` and ``--version`` do without)."""
    from rnnkit import cells, fused, runners, wrappers
    from rnnkit.engine import load

    return {
        name: getattr(module, name)
        for module in (cells, fused, runners, wrappers, load)
        for name in __all__
        if name != "__version__" and hasattr(module, name)
    }


def __getattr__(name: str):
    """The core names (``rnnkit.GRUCell``, ``rnnkit.dynamic_rnn``, ...) and ``rnnkit.interop``,
    ``rnnkit.compat``, ... imported when first used, not up front."""
    if name in __all__ and name != "__version__":
        globals().update(_core())
        return globals()[name]
    if name in _SUBPACKAGES or (name.isidentifier() and _is_module(name)):
        import importlib

        return importlib.import_module(f"rnnkit.{name}")
    raise AttributeError(f"module 'rnnkit' has no attribute {name!r}")


def _is_module(name: str) -> bool:
    """Whether ``rnnkit.<name>`` is a module (``import rnnkit; rnnkit.cells`` works as it did when the
    core was imported up front)."""
    import importlib.util

    return importlib.util.find_spec(f"rnnkit.{name}") is not None


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBPACKAGES})


CELLS = (
    "BasicRNNCell",
    "BasicLSTMCell",
    "LSTMCell",
    "GRUCell",
    "MultiRNNCell",
    "DropoutWrapper",
    "ResidualWrapper",
    "OutputProjectionWrapper",
)

__all__ = [
    "RNNCell",
    "BasicRNNCell",
    "BasicLSTMCell",
    "LSTMCell",
    "GRUCell",
    "LSTMStateTuple",
    "MultiRNNCell",
    "DropoutWrapper",
    "ResidualWrapper",
    "OutputProjectionWrapper",
    "static_rnn",
    "dynamic_rnn",
    "final_state",
    "bidirectional_dynamic_rnn",
    "FusedRNN",
    "adaptive_threads",
    "__version__",
]
