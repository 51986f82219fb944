"""Local stand-ins for the two downloads of the chapter (MNIST and the text8 corpus).

Both are generated deterministically, offline, in the exact form the original files have, so that
the chapter's loading code runs unchanged:

* ``mnist.npz`` -- the file Keras caches (``$KERAS_HOME/datasets/mnist.npz``, ``KERAS_HOME`` defaulting
  to ``~/.keras``): arrays ``x_train (N, 28, 28) uint8``, ``y_train (N,) uint8``, ``x_test (M, 28, 28)
  uint8``, ``y_test (M,) uint8``. The images are scikit-learn's bundled 8x8 ``digits`` (1,797 scans),
  upsampled to 20x20 and placed in a 28x28 frame under a random rotation (+-12 deg), scale (0.85-1.1)
  and shift (+-2.5 px), like MNIST's centred 20x20 digits. Train and test images come from disjoint
  halves of the scans (1,437 / 360), so test accuracy measures generalisation, not memory.
  With the full sizes (60,000 / 10,000) the arrays have MNIST's shapes and dtypes exactly.
* ``words.zip`` -- like ``text8.zip``: one member holding one line of lowercase ASCII words separated
  by single spaces. The corpus has 60,000 word types (made of syllables) and about 1,000,000 tokens (every
  type is inserted once more if the draw missed it), so ``Counter(words).most_common(49999)`` fills the chapter's
  50,000-word vocabulary as text8 does. Tokens follow a topic model (20-word sentences: 40% from 100
  Zipf-distributed function words, 60% from the sentence's topic, one of 200, Zipf within the topic),
  so skip-gram embeddings have neighbours to find.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["keras_home", "make_mnist", "write_mnist_npz", "make_corpus", "write_words_zip"]


def keras_home() -> Path:
    """The Keras cache folder: ``$KERAS_HOME`` when set, else ``~/.keras``."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


# --------------------------------------------------------------------------------------------
# MNIST-like digits
# --------------------------------------------------------------------------------------------


def _digit_bases() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits upsampled to 20x20, in [0, 1]: ``(1797, 20, 20) float32``, labels."""
    from scipy import ndimage
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0  # (1797, 8, 8)
    big = np.stack([ndimage.zoom(im, 2.5, order=1) for im in images])  # (1797, 20, 20)
    return np.clip(big, 0.0, 1.0), digits.target.astype(np.uint8)


def _render(bases: np.ndarray, labels: np.ndarray, n: int, rng: np.random.Generator):
    from scipy import ndimage

    pick = rng.integers(0, len(bases), size=n)
    angle = np.deg2rad(rng.uniform(-12.0, 12.0, size=n))
    scale = rng.uniform(0.85, 1.1, size=n)
    shift = rng.uniform(-2.5, 2.5, size=(n, 2))
    gain = rng.uniform(0.85, 1.0, size=n)
    out = np.empty((n, 28, 28), dtype=np.uint8)
    frame = np.zeros((28, 28), dtype=np.float32)
    centre = np.array([13.5, 13.5])
    for i in range(n):
        frame[:] = 0.0
        frame[4:24, 4:24] = bases[pick[i]]
        c, s = np.cos(angle[i]) / scale[i], np.sin(angle[i]) / scale[i]
        matrix = np.array([[c, -s], [s, c]])  # output pixel -> input pixel
        offset = centre - matrix @ (centre + shift[i])
        warped = ndimage.affine_transform(frame, matrix, offset=offset, order=1)
        out[i] = np.clip(warped * (255.0 * gain[i]), 0, 255).astype(np.uint8)
    return out, labels[pick]


def make_mnist(n_train: int = 60000, n_test: int = 10000, seed: int = 0) -> dict[str, np.ndarray]:
    """MNIST-like arrays: ``x_train (n_train, 28, 28) uint8``, ``y_train (n_train,) uint8``, and the
    same for ``x_test`` / ``y_test``. Deterministic for a given ``seed``."""
    if n_train < 1 or n_test < 1:
        raise ValueError(f"n_train and n_test must be positive, got {n_train=} {n_test=}")
    bases, labels = _digit_bases()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(bases))
    train_idx, test_idx = order[:1437], order[1437:]
    x_train, y_train = _render(bases[train_idx], labels[train_idx], n_train, rng)
    x_test, y_test = _render(bases[test_idx], labels[test_idx], n_test, rng)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def write_mnist_npz(path: Path, n_train: int = 60000, n_test: int = 10000, seed: int = 0) -> Path:
    """Write :func:`make_mnist` as a Keras-style ``mnist.npz`` (atomically); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part.npz")
    np.savez_compressed(tmp, **make_mnist(n_train, n_test, seed))
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------------------------
# text8-like corpus
# --------------------------------------------------------------------------------------------

_CONSONANTS = "bcdfghjklmnprstvwz"
_VOWELS = "aeiou"


def _word_types(n_types: int, rng: np.random.Generator) -> list[str]:
    """``n_types`` distinct syllable words, shortest first (frequent words are short, as in English)."""
    syl = [c + v for c in _CONSONANTS for v in _VOWELS]  # 90 syllables
    words = [str(w) for w in rng.permutation(syl)]
    two = [a + b for a in syl for b in syl]
    words += [str(w) for w in rng.permutation(two)]
    seen = set(words)
    while len(words) < n_types:
        w = "".join(str(x) for x in rng.choice(syl, size=3))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words[:n_types]


def _zipf(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    p = 1.0 / (np.arange(n) + 2.7)
    return rng.choice(n, size=size, p=p / p.sum())


def make_corpus(
    n_tokens: int = 1_000_000, n_types: int = 60000, n_topics: int = 200, seed: int = 0
) -> list[str]:
    """A text8-like token list (see the module docstring). Deterministic for a given ``seed``."""
    n_function = 100
    if n_types <= n_function + n_topics or n_tokens < n_types:
        raise ValueError(
            f"need n_types > {n_function + n_topics} and n_tokens >= n_types, got {n_types=} {n_tokens=}"
        )
    rng = np.random.default_rng(seed)
    types = _word_types(n_types, rng)
    per_topic = (n_types - n_function) // n_topics
    topic_of_sentence = rng.integers(0, n_topics, size=n_tokens // 20 + 1)
    topic = np.repeat(topic_of_sentence, 20)[:n_tokens]
    function = rng.random(n_tokens) < 0.4
    ids = np.where(
        function,
        _zipf(n_function, n_tokens, rng),
        n_function + topic + n_topics * _zipf(per_topic, n_tokens, rng),
    )
    missing = np.setdiff1d(np.arange(n_types), ids)  # every type occurs at least once
    ids = np.insert(ids, rng.integers(0, n_tokens, size=len(missing)), missing)
    return [types[i] for i in ids]


def write_words_zip(
    path: Path, n_tokens: int = 1_000_000, n_types: int = 60000, seed: int = 0
) -> Path:
    """Write :func:`make_corpus` like ``text8.zip`` (one member, one line, a leading space)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    text = " " + " ".join(make_corpus(n_tokens, n_types, seed=seed))
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("text8", text.encode("ascii"))
    os.replace(tmp, path)
    return path
