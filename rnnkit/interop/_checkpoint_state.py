"""The ``checkpoint`` state file of a TF1 checkpoint directory, and atomic file writes.

TensorFlow's ``Saver`` keeps, beside its checkpoints, a text-format ``CheckpointState`` proto::

    model_checkpoint_path: "model.ckpt-3"
    all_model_checkpoint_paths: "model.ckpt-2"
    all_model_checkpoint_paths: "model.ckpt-3"

Relative paths are relative to the directory holding the file.
"""

from __future__ import annotations

import os
import secrets
import stat
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

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


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def not_regular(mode: int) -> str | None:
    """What a file of ``mode`` is ("a FIFO", "a directory", ...) unless it is a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def _default_refusal(path: str, kind: str) -> Exception:
    return ValueError(f"{path!r} is {kind}, not a regular file")


Refusal = Callable[[str, str], Exception]  # (path, what it is) -> the exception to raise


def regular_size(path: str, refuse: Refusal = _default_refusal) -> int:
    """The size of the regular file ``path`` (links followed); ``refuse(path, kind)`` is raised for
    a directory, FIFO, device or socket, which reading would misread or block on."""
    st = os.stat(path)
    kind = not_regular(st.st_mode)
    if kind is not None:
        raise refuse(path, kind)
    return st.st_size


def open_regular(path: str, refuse: Refusal = _default_refusal) -> BinaryIO:
    """``path`` opened for unbuffered binary reading if it is a regular file, else ``refuse(path,
    kind)`` raised. Checked before opening, and again on the open descriptor (opened non-blocking,
    so a FIFO swapped in between cannot block the open)."""
    regular_size(path, refuse)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        kind = not_regular(os.fstat(fd).st_mode)
        if kind is not None:
            raise refuse(path, kind)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise


MAX_STATE_BYTES = 1 << 24  # a state file lists checkpoint paths: far below this


def read_state(state_path: str) -> Any:
    try:
        with open_regular(state_path) as f:
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


def in_the_way(path: str) -> str | None:
    """What ``path`` is when a file renamed onto it could not replace it, or should not (a folder,
    a FIFO, a device); None when it is absent, a regular file or a link (the link is replaced)."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    return None if stat.S_ISLNK(mode) else not_regular(mode)


def atomic_write(path: str, chunks: Any) -> None:
    """Write ``chunks`` (bytes-likes) to a temporary file beside ``path``, fsync, then rename;
    ``ValueError`` before writing anything when ``path`` is a folder, FIFO or device."""
    kind = in_the_way(path)
    if kind is not None:
        raise ValueError(f"cannot write {path!r}: it is {kind}, not a regular file")
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


# The checkpoints write_tf1_checkpoint wrote in this process (real paths of their prefixes). Only
# these are ever deleted for max_to_keep: a state file may list anything (another program's
# checkpoints, a path outside the folder), and TF1's Saver likewise deletes only what it saved.
_written: set[str] = set()
_written_lock = threading.Lock()


def _real(prefix: str) -> str:
    directory, base = os.path.split(os.path.abspath(prefix))
    return os.path.join(os.path.realpath(directory), base)


def remember_written(prefix: str) -> None:
    """Note that this process wrote the checkpoint ``prefix`` (its ``.index`` and one data file)."""
    with _written_lock:
        _written.add(_real(prefix))


def record_latest(state_path: str, prefix: str, old: Any, max_to_keep: int | None) -> None:
    """Record ``prefix`` as the latest checkpoint, as ``Saver.save`` does (relative paths); with
    ``max_to_keep``, list that many and delete the files of older ones this process wrote into the
    state file's folder (never another entry of the state file)."""
    directory = os.path.dirname(state_path)

    def where(path: str) -> str:
        return os.path.normpath(path if os.path.isabs(path) else os.path.join(directory, path))

    paths = list(old.all_model_checkpoint_paths) if old is not None else []
    paths = [p for p in paths if where(p) != where(prefix)] + [os.path.basename(prefix)]
    dropped = paths[:-max_to_keep] if max_to_keep is not None else []
    paths = paths[len(dropped) :]
    write_state(state_path, paths)
    folder, latest = os.path.realpath(directory or "."), _real(prefix)
    for path in dropped:
        real = _real(where(path))
        if os.path.dirname(real) != folder or real == latest:
            continue
        with _written_lock:
            if real not in _written:
                continue
            _written.discard(real)
        for file in (real + ".index", real + ".data-00000-of-00001"):
            try:
                if stat.S_ISREG(os.lstat(file).st_mode):
                    os.remove(file)
            except FileNotFoundError:
                pass
