"""A local stand-in for ``tensorflow.examples.tutorials.mnist.input_data`` (removed in TensorFlow 2).

Same interface as TensorFlow 1.x's: ``read_data_sets(train_dir, one_hot=False, dtype=float32,
reshape=True, validation_size=5000, seed=None)`` returns ``Datasets(train, validation, test)``, each a
:class:`DataSet` with ``images`` (``(N, 784)`` float32 in [0, 1] when ``reshape``), ``labels``
(``(N,)`` uint8, or ``(N, 10)`` float64 one-hot), ``num_examples``, ``epochs_completed`` and
``next_batch(batch_size, fake_data=False, shuffle=True)`` (shuffles at the start of each epoch and
completes a batch that crosses an epoch's end from the next epoch, as TensorFlow's does).

The data is the harness's generated ``$KERAS_HOME/datasets/mnist.npz`` (see ``data.py``), not
``train_dir``: nothing is downloaded, and ``train_dir`` is accepted only for the interface.
Shuffling draws from NumPy's global generator (TensorFlow's re-seeded it from the graph seed).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .backend import load_local_mnist

__all__ = ["DataSet", "Datasets", "read_data_sets"]

Datasets = namedtuple("Datasets", ["train", "validation", "test"])


class DataSet:
    """Images and labels with TF1's ``next_batch``."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, dtype=np.float32, reshape=True):
        if len(images) != len(labels):
            raise ValueError(f"images and labels differ in length: {len(images)} != {len(labels)}")
        if reshape:
            images = images.reshape(len(images), -1)  # (N, 28, 28) -> (N, 784)
        if np.dtype(dtype) == np.float32:
            images = images.astype(np.float32) / 255.0
        elif np.dtype(dtype) != np.uint8:
            raise TypeError(f"dtype must be float32 or uint8, got {dtype!r}")
        self._images, self._labels = images, labels
        self._num_examples = len(images)
        self._epochs_completed = 0
        self._index_in_epoch = 0

    images = property(lambda self: self._images)
    labels = property(lambda self: self._labels)
    num_examples = property(lambda self: self._num_examples)
    epochs_completed = property(lambda self: self._epochs_completed)

    def _shuffle(self) -> None:
        perm = np.random.permutation(self._num_examples)
        self._images, self._labels = self._images[perm], self._labels[perm]

    def next_batch(self, batch_size: int, fake_data: bool = False, shuffle: bool = True):
        """The next ``batch_size`` examples: ``(images (B, 784), labels)``."""
        if fake_data:
            raise ValueError("fake_data=True is not supported by this stand-in")
        if not 0 < batch_size <= self._num_examples:
            raise ValueError(f"batch_size must be in [1, {self._num_examples}], got {batch_size}")
        start = self._index_in_epoch
        if self._epochs_completed == 0 and start == 0 and shuffle:
            self._shuffle()
        if start + batch_size <= self._num_examples:
            self._index_in_epoch = start + batch_size
            return self._images[start : start + batch_size], self._labels[
                start : start + batch_size
            ]
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
    """MNIST as TF1's tutorial loader returns it, from the harness's local ``mnist.npz``."""
    if fake_data:
        raise ValueError("fake_data=True is not supported by this stand-in")
    (x_train, y_train), (x_test, y_test) = load_local_mnist()
    if not 0 <= validation_size <= len(x_train):
        raise ValueError(f"validation_size must be in [0, {len(x_train)}], got {validation_size}")
    if one_hot:
        y_train, y_test = (np.eye(10)[y] for y in (y_train, y_test))  # (N, 10) float64, as TF's
    val = DataSet(x_train[:validation_size], y_train[:validation_size], dtype, reshape)
    train = DataSet(x_train[validation_size:], y_train[validation_size:], dtype, reshape)
    return Datasets(train=train, validation=val, test=DataSet(x_test, y_test, dtype, reshape))
