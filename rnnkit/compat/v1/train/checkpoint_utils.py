"""Reading TensorFlow checkpoints without a graph: ``tf.train.NewCheckpointReader``,
``tf.train.list_variables``, ``load_variable``, ``load_checkpoint`` (also under
``tf.contrib.framework``), and ``tf.train.global_step``.

The files are read by :mod:`rnnkit.interop.tf1_checkpoint` (TensorFlow's own format). As in TF, a
checkpoint is named by its prefix (``.../model.ckpt-100``) or, for the ``list``/``load`` functions,
by a directory whose ``checkpoint`` state file names it; a missing checkpoint is
``tf.errors.NotFoundError``, a directory without one a ValueError.
"""

from __future__ import annotations

import glob
import os
from typing import Any

import numpy as np

from rnnkit.compat.v1.dtypes import as_dtype
from rnnkit.compat.v1.errors import NotFoundError
from rnnkit.compat.v1.train.checkpoint_state import latest_checkpoint

__all__ = [
    "NewCheckpointReader",
    "list_variables",
    "load_variable",
    "load_checkpoint",
    "global_step",
]


class CheckpointReader:
    """TF's ``CheckpointReader``: ``get_tensor(name)``, ``has_tensor(name)``,
    ``get_variable_to_shape_map()``, ``get_variable_to_dtype_map()``."""

    def __init__(self, prefix: str) -> None:
        from rnnkit.interop.tf1_checkpoint import open_tf1_checkpoint

        if not glob.glob(glob.escape(prefix) + ".index"):
            raise NotFoundError(
                "Unsuccessful TensorSliceReader constructor: Failed to find any matching files "
                f"for {prefix}"
            )
        with open_tf1_checkpoint(prefix) as ckpt:
            self._shapes = {n: list(ckpt.shape(n)) for n in ckpt}
            self._dtypes = {n: ckpt.dtype(n) for n in ckpt}
        self._prefix = prefix
        self._cache: dict[str, np.ndarray] | None = None

    def _values(self) -> dict[str, np.ndarray]:
        if self._cache is None:
            from rnnkit.interop.tf1_checkpoint import read_tf1_checkpoint

            self._cache = read_tf1_checkpoint(self._prefix)
        return self._cache

    def has_tensor(self, name: str) -> bool:
        return name in self._shapes

    def get_tensor(self, name: str) -> np.ndarray:
        if name not in self._shapes:
            raise NotFoundError(f"Key {name} not found in checkpoint")
        return self._values()[name]

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        return {n: list(s) for n, s in self._shapes.items()}

    def get_variable_to_dtype_map(self) -> dict[str, Any]:
        out = {}
        for name, dt in self._dtypes.items():
            try:
                out[name] = as_dtype(dt)
            except (TypeError, ValueError):
                out[name] = dt  # a dtype outside compat.v1's (bfloat16, string): numpy's
        return out

    def __repr__(self) -> str:
        return f"<rnnkit.compat.v1 CheckpointReader of {self._prefix!r}>"


def NewCheckpointReader(filepattern: Any) -> CheckpointReader:  # noqa: N802 - TensorFlow's name
    """A reader of the checkpoint with prefix ``filepattern``."""
    return CheckpointReader(os.fspath(filepattern))


def _prefix(ckpt_dir_or_file: Any) -> str:
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        found = latest_checkpoint(path)
        if not found:
            raise ValueError(
                f"Couldn't find 'checkpoint' file or checkpoints in given directory {path}"
            )
        return found
    return path


def load_checkpoint(ckpt_dir_or_file: Any) -> CheckpointReader:
    """A reader of the checkpoint ``ckpt_dir_or_file`` names (a directory: its latest)."""
    return CheckpointReader(_prefix(ckpt_dir_or_file))


def list_variables(ckpt_dir_or_file: Any) -> list[tuple[str, list[int]]]:
    """``(name, shape)`` of every variable in the checkpoint, sorted by name."""
    shapes = load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map()
    return [(n, shapes[n]) for n in sorted(shapes)]


def load_variable(ckpt_dir_or_file: Any, name: str) -> np.ndarray:
    """The value of variable ``name`` (a trailing ``:0`` is dropped) in the checkpoint."""
    if name.endswith(":0"):
        name = name[:-2]
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


def global_step(sess: Any, global_step_tensor: Any) -> int:
    """The value of the global step in ``sess``, as a Python int."""
    return int(sess.run(global_step_tensor))
