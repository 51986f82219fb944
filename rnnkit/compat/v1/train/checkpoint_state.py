"""``tf.train.get_checkpoint_state``, ``latest_checkpoint`` and ``checkpoint_exists`` (TensorFlow's
``checkpoint_management``), over the ``checkpoint`` state file a ``Saver`` writes.

Paths recorded relative to the state file's folder come back joined to the folder as given
(``get_checkpoint_state("save").model_checkpoint_path == "save/model.ckpt-2"``), as in TF.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["get_checkpoint_state", "latest_checkpoint", "checkpoint_exists"]


def _joined(directory: str, path: str) -> str:
    return path if os.path.isabs(path) else os.path.join(directory, path)


def get_checkpoint_state(checkpoint_dir: Any, latest_filename: str | None = None) -> Any:
    """The ``CheckpointState`` proto of ``checkpoint_dir/checkpoint`` (``model_checkpoint_path``,
    ``all_model_checkpoint_paths``), relative paths joined to ``checkpoint_dir``; None when there
    is no state file. A damaged state file raises ValueError naming it."""
    from rnnkit.interop._checkpoint_state import fspath, read_state

    directory = fspath("checkpoint_dir", checkpoint_dir)
    name = "checkpoint" if latest_filename is None else fspath("latest_filename", latest_filename)
    state_path = os.path.join(directory, name)
    if not os.path.isfile(state_path):
        return None
    state = read_state(state_path)
    if not state.model_checkpoint_path:
        raise ValueError(f"Invalid checkpoint state loaded from {directory}")
    state.model_checkpoint_path = _joined(directory, state.model_checkpoint_path)
    paths = [_joined(directory, p) for p in state.all_model_checkpoint_paths]
    del state.all_model_checkpoint_paths[:]
    state.all_model_checkpoint_paths.extend(paths)
    return state


def latest_checkpoint(checkpoint_dir: Any, latest_filename: str | None = None) -> str | None:
    """The prefix of the newest checkpoint recorded in ``checkpoint_dir``, or None when there is
    none or its files are gone."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None:
        return None
    prefix = state.model_checkpoint_path
    return prefix if checkpoint_exists(prefix) else None


def checkpoint_exists(checkpoint_prefix: Any) -> bool:
    """Whether a checkpoint with this prefix exists (its ``.index`` file, or the path itself)."""
    from rnnkit.interop._checkpoint_state import fspath

    prefix = fspath("checkpoint_prefix", checkpoint_prefix)
    return os.path.isfile(prefix + ".index") or os.path.exists(prefix)
