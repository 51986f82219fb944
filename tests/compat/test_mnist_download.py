"""``tf.keras.datasets.mnist.load_data()`` when the file is absent: the download is checked against
Keras's SHA-256 before it is kept, and a failed one leaves nothing behind. No network: ``urlopen`` is
replaced by a local stand-in."""

from __future__ import annotations

import hashlib
import io
import urllib.error

import numpy as np
import pytest

from rnnkit.compat.v1 import keras_datasets


def _npz(n_train: int = 3, n_test: int = 2) -> bytes:
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    np.savez(
        buf,
        x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        y_train=np.arange(n_train, dtype=np.uint8),
        x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        y_test=np.arange(n_test, dtype=np.uint8),
    )
    return buf.getvalue()


class _Response(io.BytesIO):
    def __init__(self, data: bytes, fail_after: int | None = None) -> None:
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}
        self.fail_after = fail_after

    def read(self, n: int = -1) -> bytes:
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection reset by peer")
        return super().read(min(n, 1000) if n > 0 else n)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    return tmp_path / "datasets"


def _serve(monkeypatch, response=None, error=None):
    def urlopen(url, timeout):
        assert url == keras_datasets.MNIST_URL
        if error is not None:
            raise error
        return response

    monkeypatch.setattr(keras_datasets.urllib.request, "urlopen", urlopen)


def test_a_verified_download_is_kept_and_loaded(home, monkeypatch):
    data = _npz()
    monkeypatch.setattr(keras_datasets, "MNIST_SHA256", hashlib.sha256(data).hexdigest())
    _serve(monkeypatch, _Response(data))
    (x_train, y_train), (x_test, y_test) = keras_datasets.load_data()
    assert x_train.shape == (3, 28, 28) and x_test.shape == (2, 28, 28)
    assert (home / "mnist.npz").read_bytes() == data
    assert [p.name for p in home.iterdir()] == ["mnist.npz"]


def test_a_download_with_the_wrong_checksum_is_not_kept(home, monkeypatch):
    _serve(monkeypatch, _Response(_npz()))  # a valid npz, but not Keras's file
    with pytest.raises(ValueError, match="SHA-256 .*expected " + keras_datasets.MNIST_SHA256):
        keras_datasets.load_data()
    assert list(home.iterdir()) == []


def test_a_broken_download_leaves_no_temporary_file(home, monkeypatch):
    data = _npz()
    monkeypatch.setattr(keras_datasets, "MNIST_SHA256", hashlib.sha256(data).hexdigest())
    _serve(monkeypatch, _Response(data, fail_after=2000))
    with pytest.raises(OSError, match="Cannot download MNIST .*put Keras's mnist.npz at"):
        keras_datasets.load_data()
    assert list(home.iterdir()) == []  # the half-written temporary file was left before


def test_offline_says_where_to_put_the_file(home, monkeypatch):
    _serve(monkeypatch, error=urllib.error.URLError("no network"))
    with pytest.raises(OSError, match=f"put Keras's mnist.npz at {home / 'mnist.npz'}"):
        keras_datasets.load_data()
    assert not home.exists() or list(home.iterdir()) == []
