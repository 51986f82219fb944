"""What ``tf`` is bound to: ``rnnkit.compat.v1``, or real TensorFlow 2.x's ``tf.compat.v1`` plus a shim.

Real TensorFlow runs TF1 programs through ``tf.compat.v1`` (graph mode, ``disable_v2_behavior()``,
``TF_USE_LEGACY_KERAS=1`` so that ``tf.compat.v1.layers`` and ``nn.rnn_cell`` come from tf-keras).
TensorFlow 2 removed ``tf.contrib``; the shim maps the names that have a ``tf.compat.v1`` equivalent
(:data:`CONTRIB_RNN`) and raises ``AttributeError`` naming anything else. So real TensorFlow 2.x
cannot run ``tf.contrib.rnn.OutputProjectionWrapper`` (also ``InputProjectionWrapper``,
``EmbeddingWrapper``, ...) nor anything of ``tf.contrib.legacy_seq2seq``.

One more substitution, for data only: ``tf.keras.datasets.mnist.load_data()`` reads the local
``$KERAS_HOME/datasets/mnist.npz`` (``KERAS_HOME`` defaulting to ``~/.keras``). Real Keras checks the
SHA-256 of the real MNIST file and would try to download it in place of the harness's generated one.
"""

from __future__ import annotations

import os
import types
from typing import Any

import numpy as np

__all__ = ["CONTRIB_RNN", "load", "load_local_mnist"]

#: ``tf.contrib.rnn.<name>`` -> its ``tf.compat.v1`` path in TensorFlow 2.x.
CONTRIB_RNN = {
    **{
        name: f"nn.rnn_cell.{name}"
        for name in (
            "RNNCell",
            "BasicRNNCell",
            "BasicLSTMCell",
            "LSTMCell",
            "GRUCell",
            "MultiRNNCell",
            "LSTMStateTuple",
            "DropoutWrapper",
            "DeviceWrapper",
            "ResidualWrapper",
        )
    },
    "static_rnn": "nn.static_rnn",
    "static_bidirectional_rnn": "nn.static_bidirectional_rnn",
    "static_state_saving_rnn": "nn.static_state_saving_rnn",
}


def load(name: str) -> Any:
    """The module a program sees as ``tf`` for backend ``name`` (``rnnkit`` or ``tensorflow``)."""
    if name == "rnnkit":
        import rnnkit.compat.v1 as tf

        return tf
    if name == "tensorflow":
        return _tensorflow()
    raise ValueError(f"backend must be 'rnnkit' or 'tensorflow', got {name!r}")


def load_local_mnist(path: str = "mnist.npz") -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """``((x_train, y_train), (x_test, y_test))`` from ``$KERAS_HOME/datasets/<path>``."""
    from .data import keras_home

    file = keras_home() / "datasets" / path
    if not file.is_file():
        raise FileNotFoundError(f"no MNIST file at {file} (run the harness, which writes it)")
    with np.load(file, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


class _Forward(types.ModuleType):
    """A module that forwards every attribute to ``target`` except those in ``overrides``."""

    def __init__(self, name: str, target: Any, overrides: dict[str, Any]) -> None:
        super().__init__(name)
        self._target = target
        self.__dict__.update(overrides)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._target, attr)


class _Missing(types.ModuleType):
    """A ``tf.contrib`` namespace: the mapped names, and an AttributeError naming the rest."""

    def __init__(self, name: str, members: dict[str, Any]) -> None:
        super().__init__(name)
        self.__dict__.update(members)
        self._mapped = ", ".join(sorted(k for k in members if not k.startswith("_"))) or "nothing"

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise AttributeError(
            f"{self.__name__}.{attr}: TensorFlow 2.x removed tf.contrib and tf.compat.v1 has no "
            f"equivalent (the harness maps {self.__name__}.{{{self._mapped}}})"
        )


def _tensorflow() -> Any:
    # tf.compat.v1.layers and nn.rnn_cell come from tf-keras
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as real

    v1 = real.compat.v1
    v1.disable_v2_behavior()
    v1.logging.set_verbosity(v1.logging.ERROR)

    def resolve(path: str) -> Any:
        obj = v1
        for part in path.split("."):
            obj = getattr(obj, part)
        return obj

    rnn = _Missing("tf.contrib.rnn", {k: resolve(v) for k, v in CONTRIB_RNN.items()})
    contrib = _Missing(
        "tf.contrib", {"rnn": rnn, "legacy_seq2seq": _Missing("tf.contrib.legacy_seq2seq", {})}
    )
    mnist = types.SimpleNamespace(load_data=load_local_mnist)
    datasets = _Forward("tf.keras.datasets", v1.keras.datasets, {"mnist": mnist})
    keras = _Forward("tf.keras", v1.keras, {"datasets": datasets})
    return _Forward("tensorflow.compat.v1 (harness shim)", v1, {"contrib": contrib, "keras": keras})
