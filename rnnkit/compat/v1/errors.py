"""``tf.errors`` and the error raised for names outside the supported subset."""

from __future__ import annotations

from typing import Any

__all__ = [
    "InvalidArgumentError",
    "FailedPreconditionError",
    "NotFoundError",
    "AlreadyExistsError",
    "OutOfRangeError",
    "UnimplementedError",
    "DataLossError",
    "UnsupportedError",
]


class UnsupportedError(AttributeError, NotImplementedError):
    """A TensorFlow name or option outside rnnkit.compat.v1's supported subset."""


class InvalidArgumentError(ValueError):
    """A run-time argument is invalid (e.g. a placeholder needed by a fetch was not fed)."""


class FailedPreconditionError(RuntimeError):
    """A variable was read before it was initialized."""


class UnimplementedError(NotImplementedError):
    """An operation is not implemented for the values it got at run time (TensorFlow's
    ``tf.errors.UnimplementedError``, e.g. stacking an empty TensorArray of unknown element shape)."""


class DataLossError(RuntimeError):
    """Data cannot be read or produced as asked (TensorFlow's ``tf.errors.DataLossError``, e.g.
    padding a dataset element to a smaller size than it has)."""


class NotFoundError(ValueError):
    """A file or checkpoint entry does not exist."""


class AlreadyExistsError(FileExistsError):
    """A file or directory to create already exists (``tf.gfile.Copy``/``Rename`` without
    ``overwrite``); a ``FileExistsError``, so ``except OSError`` catches it too."""


class OutOfRangeError(IndexError):
    """An input queue is exhausted (its producer's ``num_epochs`` are done): the clean end of input
    that ``Coordinator``, ``Supervisor.managed_session`` treat as a stop request, not a failure."""


# What to use instead of an unsupported name (matched by its start), where something fits
_INSTEAD = {
    "tf.contrib.cudnn_rnn": (
        "cuDNN's GPU-only layers: use tf.contrib.rnn.LSTMBlockCell / tf.nn.rnn_cell.LSTMCell (or "
        "GRUCell) with tf.nn.dynamic_rnn, which run on rnnkit's fused engine (cuDNN on CUDA), or "
        "rnnkit.FusedRNN in PyTorch code"
    ),
}


def unsupported(qualname: str) -> UnsupportedError:
    instead = next((v for k, v in _INSTEAD.items() if qualname.startswith(k)), None)
    return UnsupportedError(
        f"`{qualname}` is outside rnnkit.compat.v1's supported subset "
        "(see rnnkit.compat.v1.SUPPORTED); "
        + (f"for {instead}." if instead else "use rnnkit's own API (import rnnkit) instead.")
    )


class Namespace:
    """A module-like namespace (``tf.nn``, ``tf.contrib.rnn``) that names what it lacks."""

    def __init__(self, path: str, **members: Any) -> None:
        self._path = path
        self.__dict__.update(members)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise unsupported(f"tf.{self._path}.{name}")

    def __repr__(self) -> str:
        return f"<rnnkit.compat.v1 namespace tf.{self._path}>"

    def __dir__(self) -> list[str]:
        return [k for k in self.__dict__ if not k.startswith("_")]
