"""The ``checkpoint`` state file of a TF1 checkpoint directory, and atomic file writes.

TensorFlow's ``Saver`` keeps, beside its checkpoints, a text-format ``CheckpointState`` proto::

    model_checkpoint_path: "model.ckpt-3"
    all_model_checkpoint_paths: "model.ckpt-2"
    all_model_checkpoint_paths: "model.ckpt-3"

Relative paths are relative to the directory holding the file.
"""

from __future__ import annotations

import os
import re
import secrets
from typing import Any

from google.protobuf import text_format

from rnnkit._validation import invalid_type, invalid_value
from rnnkit.interop._bundle_protos import CheckpointState
from rnnkit.interop._sstable import damaged, read_at_most

STATE_FILE = "checkpoint"


def fspath(name: str, path: Any) -> str:
    if not isinstance(path, (str, os.PathLike)) or isinstance(os.fspath(path), bytes):
        raise invalid_type(name, "a path (str or os.PathLike)", path)
    path = os.fspath(path)
    if not path:
        raise invalid_value(name, "a non-empty path", repr(path))
    return path


MAX_STATE_BYTES = 1 << 24  # a state file lists checkpoint paths: far below this


def read_state(state_path: str) -> Any:
    try:
        with open(state_path, "rb") as f:
            data = read_at_most(f, MAX_STATE_BYTES + 1)
        if len(data) > MAX_STATE_BYTES:
            raise damaged(
                state_path, f"a checkpoint state file of more than {MAX_STATE_BYTES} bytes"
            )
        text = data.decode("utf-8")
        return text_format.Parse(text, CheckpointState())
    except (UnicodeDecodeError, text_format.ParseError) as exc:
        raise damaged(state_path, f"not a checkpoint state text proto ({exc})") from None


def latest_tf1_checkpoint(directory: str | os.PathLike) -> str | None:
    """The prefix of the newest checkpoint in ``directory``, like ``tf.train.latest_checkpoint``.

    Reads the ``checkpoint`` state file; a relative ``model_checkpoint_path`` is taken relative to
    ``directory``. ``None`` if there is no state file or its checkpoint's ``.index`` is missing.
    """
    return latest_in_state(fspath("directory", directory), STATE_FILE)


def latest_in_state(directory: str, state_file: str) -> str | None:
    """:func:`latest_tf1_checkpoint` from the state file ``state_file`` of ``directory``."""
    state_path = os.path.join(directory, state_file)
    if not os.path.isfile(state_path):
        return None
    path = read_state(state_path).model_checkpoint_path
    if not path:
        return None
    prefix = path if os.path.isabs(path) else os.path.join(directory, path)
    return prefix if os.path.isfile(prefix + ".index") else None


def atomic_write(path: str, chunks: Any) -> None:
    """Write ``chunks`` (bytes-likes) to a temporary file beside ``path``, fsync, then rename."""
    temp = f"{path}.tempstate{secrets.randbits(64)}"
    try:
        with open(temp, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise


def fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows: directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_state(state_path: str, paths: list[str]) -> None:
    """The ``checkpoint`` state file listing ``paths`` (oldest first; the last is the latest), each
    relative to the file's directory when it lies in it (as TF1's ``Saver(save_relative_paths=True)``
    writes them: the folder can move)."""
    directory = os.path.abspath(os.path.dirname(state_path))

    def relative(path: str) -> str:
        full = os.path.abspath(path if os.path.isabs(path) else os.path.join(directory, path))
        return os.path.relpath(full, directory) if os.path.dirname(full) == directory else full

    paths = [relative(p) for p in paths]
    state = CheckpointState(model_checkpoint_path=paths[-1])
    state.all_model_checkpoint_paths.extend(paths)
    atomic_write(state_path, [text_format.MessageToString(state).encode("utf-8")])


def record_latest(state_path: str, prefix: str, old: Any, max_to_keep: int | None) -> None:
    """Record ``prefix`` as the latest checkpoint, as ``Saver.save`` does (relative paths)."""
    directory = os.path.dirname(state_path)

    def where(path: str) -> str:
        return os.path.normpath(path if os.path.isabs(path) else os.path.join(directory, path))

    paths = list(old.all_model_checkpoint_paths) if old is not None else []
    paths = [p for p in paths if where(p) != where(prefix)] + [os.path.basename(prefix)]
    dropped = paths[:-max_to_keep] if max_to_keep is not None else []
    paths = paths[len(dropped) :]
    write_state(state_path, paths)
    for path in dropped:
        full = where(path)
        for file in [full + ".index", *_data_files(full)]:
            if os.path.isfile(file):
                os.remove(file)


def _data_files(prefix: str) -> list[str]:
    """The ``prefix.data-NNNNN-of-NNNNN`` shards beside ``prefix`` (a listing and one regular
    expression: ``glob`` would compile and cache a new pattern for every checkpoint ever dropped)."""
    directory, base = os.path.split(prefix)
    shard = re.compile(re.escape(base) + r"\.data-\d{5}-of-\d{5}")
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return []
    return [os.path.join(directory, n) for n in names if shard.fullmatch(n)]
