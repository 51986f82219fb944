"""rnnkit: recurrent neural networks on PyTorch with TensorFlow 1.x's semantics.

Cells own their weights (no global variable scopes); ``static_rnn``, ``dynamic_rnn`` and
``bidirectional_dynamic_rnn`` unroll them exactly as TensorFlow 1.x does; ``dynamic_rnn`` runs on a
fused engine for the built-in cells.
"""

from rnnkit.cells import (
    BasicLSTMCell,
    BasicRNNCell,
    GRUCell,
    LSTMCell,
    LSTMStateTuple,
    RNNCell,
)
from rnnkit.fused import FusedRNN
from rnnkit.runners import bidirectional_dynamic_rnn, dynamic_rnn, static_rnn
from rnnkit.wrappers import (
    DropoutWrapper,
    MultiRNNCell,
    OutputProjectionWrapper,
    ResidualWrapper,
)

__version__ = "0.1.0"

_SUBPACKAGES = ("interop", "compat", "engine", "training")


def __getattr__(name: str):
    """``rnnkit.interop``, ``rnnkit.compat``, ... without importing them (and their cost) up front."""
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f"rnnkit.{name}")
    raise AttributeError(f"module 'rnnkit' has no attribute {name!r}")


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
    "bidirectional_dynamic_rnn",
    "FusedRNN",
    "__version__",
]
