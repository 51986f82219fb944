"""Safe file primitives of the training commands: atomic writes, bounded reads, sealed JSON.

Files from outside are untrusted. Reading:

- only regular files are read (a FIFO, a device such as ``/dev/zero``, a folder or a socket is refused,
  also through a symbolic link), with a size limit given by the caller, checked before any byte is read;
  files inside ``OUT/checkpoints`` are opened without following a symbolic link at all;
- JSON must be one object of finite numbers (``NaN``/``Infinity``/``1e999`` and integers of more than
  4300 digits are refused), nested at most as deep as Python's parser allows;
- JSON that rnnkit writes is *sealed*: its ``"json_sha256"`` entry is the SHA-256 of the rest of the
  object in canonical form (sorted keys, no spaces), so a flipped byte that still parses is caught.

Writing: every file goes to a temporary file in the same folder (``.NAME.tmp-XXXXXXXX``), is flushed,
fsync'ed and moved over ``NAME`` with ``os.replace``, so a reader or a ``kill -9`` only ever sees the old
or the new file. A failed write (a full disk, no permission) leaves the old file and no temporary file,
and raises :class:`CheckpointError`.

Every problem is a :class:`CheckpointError` whose message is one line starting with the file's path.

Example::

    atomic_write_json(path, seal({"epoch": 3}))
    obj = check_seal(path, read_json(path, limit=1 << 16))
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "CheckpointError",
    "atomic_write_bytes",
    "atomic_write_json",
    "read_regular_file",
    "read_json",
    "seal",
    "check_seal",
    "remove_stale_temp_files",
    "SEAL_KEY",
]

SEAL_KEY = "json_sha256"
_TEMP_MARK = ".tmp-"
_TEMP_SUFFIX = r"\.tmp-[a-z0-9_]{8}"  # what tempfile.mkstemp adds after our prefix


class CheckpointError(Exception):
    """A file is missing, damaged, refused or cannot be written; ``str()`` is one line naming it."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = Path(path)
        self.problem = " ".join(str(problem).split())  # one line, whatever the cause said
        if len(self.problem) > 400:
            self.problem = self.problem[:397] + "..."
        super().__init__(f"{self.path}: {self.problem}")


def _os_problem(e: OSError) -> str:
    return e.strerror or type(e).__name__


# --------------------------------------------------------------------------- atomic writing


def _file_mode() -> int:
    """The mode ``open()`` gives a new file: 0o666 less the process's umask (read from
    /proc/self/status where Linux shows it; setting and restoring it would race other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting it, and put it back at once
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is always either the old or the new content."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{_TEMP_MARK}")
    except OSError as e:
        raise CheckpointError(path, f"cannot be written ({_os_problem(e)})") from None
    try:
        try:
            os.fchmod(fd, _file_mode())  # mkstemp's 0600 would stay after the rename
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError):
            raise CheckpointError(path, f"cannot be written ({_os_problem(e)})") from None
        raise
    _fsync_dir(path.parent)


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON (finite numbers only)."""
    text = json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temp_files(directory: str | os.PathLike[str], names: Iterable[str]) -> None:
    """Delete the temporary files a killed writer of ``directory/NAME`` left, for each NAME in ``names``.

    Only regular files named exactly as :func:`atomic_write_bytes` names its temporary files are
    deleted (never a link, never another name).
    """
    directory = Path(directory)
    pattern = re.compile(
        "^(?:" + "|".join(r"\." + re.escape(n) + _TEMP_SUFFIX for n in names) + ")$"
    )
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as e:
        raise CheckpointError(directory, f"cannot be read ({_os_problem(e)})") from None
    for entry in entries:
        if pattern.match(entry.name) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                pass
            except OSError as e:
                raise CheckpointError(entry.path, f"cannot be deleted ({_os_problem(e)})") from None


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not supported on this platform
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- bounded reading


def read_regular_file(
    path: str | os.PathLike[str], limit: int, *, follow_symlinks: bool = True
) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Opened non-blocking (a FIFO never hangs) and checked with ``fstat`` on the open file before
    reading; ``follow_symlinks=False`` refuses a symbolic link in the last path component.
    """
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise CheckpointError(path, "file not found") from None
    except OSError as e:
        if not follow_symlinks and os.path.islink(path):
            raise CheckpointError(path, "is a symbolic link; rnnkit does not follow it") from None
        raise CheckpointError(path, f"cannot be read ({_os_problem(e)})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise CheckpointError(path, f"is not a regular file ({_kind(st.st_mode)})")
        if st.st_size > limit:
            raise CheckpointError(
                path, f"is {st.st_size} bytes, more than the {limit} bytes this file may have"
            )
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise CheckpointError(path, f"cannot be read ({_os_problem(e)})") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while being read
        raise CheckpointError(path, f"is more than the {limit} bytes this file may have")
    return data


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a plain file"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if value - value != 0.0:  # inf or nan
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def read_json(
    path: str | os.PathLike[str], limit: int, *, follow_symlinks: bool = True
) -> dict[str, Any]:
    """Read a JSON object from a regular file of at most ``limit`` bytes; finite numbers only."""
    data = read_regular_file(path, limit, follow_symlinks=follow_symlinks)
    try:
        text = data.decode("utf-8")
        obj = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise CheckpointError(path, "damaged: not UTF-8 text") from None
    except RecursionError:
        raise CheckpointError(path, "damaged JSON (nested too deeply)") from None
    except ValueError as e:  # JSONDecodeError, refused constants, huge integers
        raise CheckpointError(path, f"damaged JSON ({e})") from None
    if not isinstance(obj, dict):
        raise CheckpointError(path, f"expected a JSON object, got {type(obj).__name__}")
    return obj


# --------------------------------------------------------------------------- sealed JSON


def _canonical_digest(obj: dict[str, Any]) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with its ``"json_sha256"`` entry set (see the module docstring)."""
    body = {k: v for k, v in obj.items() if k != SEAL_KEY}
    return {**body, SEAL_KEY: _canonical_digest(body)}


def check_seal(path: str | os.PathLike[str], obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without its seal, if the seal matches; else a :class:`CheckpointError`."""
    digest = obj.get(SEAL_KEY)
    if not isinstance(digest, str):
        raise CheckpointError(path, f"missing entry {SEAL_KEY!r} (not written by this rnnkit)")
    body = {k: v for k, v in obj.items() if k != SEAL_KEY}
    try:
        ok = _canonical_digest(body) == digest
    except (ValueError, RecursionError):  # cannot happen for what read_json returns
        ok = False
    if not ok:
        raise CheckpointError(path, f"damaged or edited: its content does not match {SEAL_KEY}")
    return body
