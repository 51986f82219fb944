"""``tensorflow.examples.tutorials.mnist.input_data``: MNIST with TensorFlow 1.x's tutorial interface.

``read_data_sets(train_dir, one_hot=False, dtype=float32, reshape=True, validation_size=5000)``
returns ``Datasets(train, validation, test)``, each a :class:`DataSet` with ``images`` (``(N, 784)``
float32 in [0, 1] when ``reshape``), ``labels`` (``(N,)`` uint8, or ``(N, 10)`` float64 one-hot),
``num_examples``, ``epochs_completed`` and ``next_batch(batch_size, shuffle=True)``: shuffled at the
start of each epoch, and a batch that crosses an epoch's end is completed from the next epoch.

Where the data comes from: the four IDX files TensorFlow 1.x kept in ``train_dir``
(``train-images-idx3-ubyte.gz`` ...) when they are all there, else Keras's ``mnist.npz`` through
``tf.keras.datasets.mnist.load_data()`` (its cached file, or its checksum-verified download).
Shuffling draws from NumPy's global generator.
"""

from __future__ import annotations

import gzip
import os
from collections import namedtuple

import numpy as np

__all__ = ["DataSet", "Datasets", "read_data_sets", "IDX_FILES"]

Datasets = namedtuple("Datasets", ["train", "validation", "test"])

#: the files TensorFlow 1.x's loader kept in ``train_dir``: (train images, train labels, test ...)
IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
_MAGIC = {3: 2051, 1: 2049}  # IDX magic numbers: unsigned bytes, 3 or 1 dimensions


def _read_idx(path: str, ndim: int) -> np.ndarray:
    """An IDX file of unsigned bytes (gzip-compressed): ``(N, rows, cols)`` or ``(N,)`` uint8."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise ValueError(f"{path}: not a readable gzip file ({e}).") from None
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise ValueError(f"{path}: {len(raw)} bytes, too short for an IDX header.")
    fields = np.frombuffer(raw[:header], dtype=">u4").tolist()
    if fields[0] != _MAGIC[ndim]:
        raise ValueError(
            f"{path}: IDX magic number {fields[0]}, expected {_MAGIC[ndim]} "
            f"(unsigned bytes, {ndim} dimension{'s' if ndim > 1 else ''})."
        )
    shape = tuple(fields[1:])
    if len(raw) - header != int(np.prod(shape)):
        raise ValueError(
            f"{path}: the header says {shape} ({int(np.prod(shape))} bytes of data), "
            f"the file holds {len(raw) - header}."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _load(train_dir: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    paths = [os.path.join(train_dir or ".", name) for name in IDX_FILES]
    if all(os.path.isfile(p) for p in paths):
        arrays = [_read_idx(p, ndim) for p, ndim in zip(paths, (3, 1, 3, 1))]
        for images, labels, what in (
            (arrays[0], arrays[1], "train"),
            (arrays[2], arrays[3], "test"),
        ):
            if len(images) != len(labels):
                raise ValueError(
                    f"{train_dir}: {len(images)} {what} images but {len(labels)} {what} labels."
                )
        return tuple(arrays)  # type: ignore[return-value]
    from rnnkit.compat.v1 import keras_datasets

    (x_train, y_train), (x_test, y_test) = keras_datasets.load_data()
    return x_train, y_train.astype(np.uint8), x_test, y_test.astype(np.uint8)


class DataSet:
    """Images and labels with TensorFlow 1.x's ``next_batch``."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, dtype=np.float32, reshape=True):
        if len(images) != len(labels):
            raise ValueError(f"images and labels differ in length: {len(images)} != {len(labels)}")
        if reshape:
            images = images.reshape(len(images), int(np.prod(images.shape[1:])))  # (N, 784)
        if np.dtype(dtype) == np.float32:
            images = images.astype(np.float32) / 255.0
        elif np.dtype(dtype) != np.uint8:
            raise TypeError(f"Invalid image dtype {dtype!r}, expected uint8 or float32")
        self._images, self._labels = images, labels
        self._num_examples = len(images)
        self._epochs_completed = 0
        self._index_in_epoch = 0

    images = property(lambda self: self._images)
    labels = property(lambda self: self._labels)
    num_examples = property(lambda self: self._num_examples)
    epochs_completed = property(lambda self: self._epochs_completed)

    def _shuffle(self) -> None:
        order = np.random.permutation(self._num_examples)
        self._images, self._labels = self._images[order], self._labels[order]

    def next_batch(self, batch_size: int, fake_data: bool = False, shuffle: bool = True):
        """The next ``batch_size`` examples: ``(images, labels)``."""
        if fake_data:
            raise ValueError("argument `fake_data`: only False is supported, got True")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"argument `batch_size`: expected an integer, got {batch_size!r}")
        if not 0 < batch_size <= self._num_examples:
            raise ValueError(
                f"argument `batch_size`: expected 1 to {self._num_examples} (the examples in "
                f"the set), got {batch_size}"
            )
        start = self._index_in_epoch
        if self._epochs_completed == 0 and start == 0 and shuffle:
            self._shuffle()
        if start + batch_size <= self._num_examples:
            self._index_in_epoch = start + batch_size
            end = self._index_in_epoch
            return self._images[start:end], self._labels[start:end]
        # the batch crosses the end of the epoch: the rest of this one, then the head of the next
        self._epochs_completed += 1
        rest_images, rest_labels = self._images[start:], self._labels[start:]
        if shuffle:
            self._shuffle()
        self._index_in_epoch = batch_size - len(rest_images)
        end = self._index_in_epoch
        return (
            np.concatenate([rest_images, self._images[:end]]),
            np.concatenate([rest_labels, self._labels[:end]]),
        )


def read_data_sets(
    train_dir: str = "",
    fake_data: bool = False,
    one_hot: bool = False,
    dtype=np.float32,
    reshape: bool = True,
    validation_size: int = 5000,
    seed=None,
    source_url=None,
) -> Datasets:
    """MNIST as TensorFlow 1.x's tutorial loader returns it (see the module docstring)."""
    if fake_data:
        raise ValueError("argument `fake_data`: only False is supported, got True")
    x_train, y_train, x_test, y_test = _load(train_dir)
    if isinstance(validation_size, bool) or not isinstance(validation_size, (int, np.integer)):
        raise TypeError(f"argument `validation_size`: expected an integer, got {validation_size!r}")
    if not 0 <= validation_size <= len(x_train):
        raise ValueError(
            f"Validation size should be between 0 and {len(x_train)}. Received: {validation_size}."
        )
    if one_hot:
        y_train, y_test = (np.eye(10)[y] for y in (y_train, y_test))  # (N, 10) float64
    return Datasets(
        train=DataSet(x_train[validation_size:], y_train[validation_size:], dtype, reshape),
        validation=DataSet(x_train[:validation_size], y_train[:validation_size], dtype, reshape),
        test=DataSet(x_test, y_test, dtype, reshape),
    )
