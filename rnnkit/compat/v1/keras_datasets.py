"""``tf.keras.datasets.mnist.load_data()``: Keras's cached ``mnist.npz``, downloaded when absent.

The file is looked up as Keras does (``$KERAS_HOME/datasets/mnist.npz``, default ``~/.keras``), read
with ``numpy.load(allow_pickle=False)`` and its shapes and dtypes checked; a download is verified
against Keras's published SHA-256 before it is kept. Offline, it stops with one line saying where
to put the file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

__all__ = ["load_data"]

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
_SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}


def _cache_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def _download(path: Path) -> None:
    """Download Keras's mnist.npz to ``path``: through a temporary file in the same folder, kept only
    once its SHA-256 matches (removed on any failure, Ctrl-C included)."""
    from tqdm import tqdm

    tmp = None
    try:
        with urllib.request.urlopen(MNIST_URL, timeout=30) as r:  # noqa: S310 - fixed https URL
            total = int(r.headers.get("Content-Length", 0)) or None
            digest = hashlib.sha256()
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".mnist.npz.tmp-")
            with (
                os.fdopen(fd, "wb") as f,
                tqdm(total=total, unit="B", unit_scale=True, desc="mnist.npz") as bar,
            ):
                while chunk := r.read(1 << 16):
                    f.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        if digest.hexdigest() != MNIST_SHA256:
            raise ValueError(
                f"Downloaded mnist.npz has SHA-256 {digest.hexdigest()}, expected {MNIST_SHA256}."
            )
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise OSError(
            f"Cannot download MNIST ({e}); put Keras's mnist.npz at {path} (from {MNIST_URL})."
        ) from None
    finally:
        if tmp is not None:
            os.remove(tmp)


def load_data(
    path: str = "mnist.npz",
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train (60000, 28, 28) uint8, y_train (60000,)), (x_test, y_test)``."""
    file = _cache_dir() / path
    if not file.is_file():
        _download(file)
    try:
        with np.load(file, allow_pickle=False) as data:
            arrays = {k: data[k] for k in _SHAPES}
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"{file}: not a readable MNIST npz file ({e}).") from None
    for k, shape in _SHAPES.items():
        if arrays[k].shape[1:] != shape[1:] or (k.startswith("x") and arrays[k].dtype != np.uint8):
            raise ValueError(
                f"{file}: {k} has shape {arrays[k].shape} and dtype {arrays[k].dtype}, expected (N,) + {shape[1:]} uint8 images / labels."
            )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
