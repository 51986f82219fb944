"""``tf.gfile`` on local files: ``GFile``/``Open``/``FastGFile`` (``open`` with TensorFlow's
``NotFoundError`` for a missing file), ``Exists``, ``IsDirectory``, ``ListDirectory``, ``Glob``,
``MakeDirs``, ``MkDir`` (also ``Mkdir``), ``Remove``, ``Rename``, ``Copy``, ``DeleteRecursively``,
``Walk``. Errors as TensorFlow's: ``NotFoundError`` for a missing source, ``AlreadyExistsError`` for
an existing target without ``overwrite``, ``FailedPreconditionError`` where a directory is found for
a file or the other way round. ``file://`` paths are local; other schemes (``gs://``, ``hdfs://``)
are outside the subset."""

from __future__ import annotations

import glob as _glob
import os
import shutil
from collections.abc import Iterator
from typing import IO, Any

from rnnkit.compat.v1.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    unsupported,
)

__all__ = [
    "GFile",
    "Open",
    "FastGFile",
    "Exists",
    "IsDirectory",
    "ListDirectory",
    "Glob",
    "MakeDirs",
    "MkDir",
    "Mkdir",
    "Remove",
    "Rename",
    "Copy",
    "DeleteRecursively",
    "Walk",
]


def _path(name: str, value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode()
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(
            f"Received an invalid value for argument `{name}`: expected a path, got {value!r}."
        )
    text = os.fspath(value)
    if text.startswith("file://"):
        text = text[len("file://") :]
    if "://" in text:
        raise unsupported(f"tf.gfile with the remote path {text!r}")
    return text


def GFile(name: Any, mode: str = "r") -> IO[Any]:  # noqa: N802
    """A file object for ``name`` (``"rb"`` reads bytes, as TensorFlow's does)."""
    path = _path("name", name)
    if not isinstance(mode, str) or not mode or mode[0] not in "rwa":
        raise ValueError(
            f"Received an invalid value for argument `mode`: expected 'r', 'rb', 'w', 'wb', 'a' "
            f"or 'ab', got {mode!r}."
        )
    try:
        return open(path, mode)
    except FileNotFoundError:
        raise NotFoundError(f"{path}; No such file or directory") from None


Open = GFile
FastGFile = GFile


def Exists(filename: Any) -> bool:  # noqa: N802
    return os.path.exists(_path("filename", filename))


def IsDirectory(dirname: Any) -> bool:  # noqa: N802
    return os.path.isdir(_path("dirname", dirname))


def ListDirectory(dirname: Any) -> list[str]:  # noqa: N802
    path = _path("dirname", dirname)
    if not os.path.isdir(path):
        raise NotFoundError(f"Could not find directory {path}")
    return os.listdir(path)


def Glob(filename: Any) -> list[str]:  # noqa: N802
    return sorted(_glob.glob(_path("filename", filename)))


def _missing(path: str) -> NotFoundError:
    return NotFoundError(f"{path}; No such file or directory")


def MakeDirs(dirname: Any) -> None:  # noqa: N802
    path = _path("dirname", dirname)
    try:
        os.makedirs(path, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise FailedPreconditionError(f"{path} is not a directory") from None


def MkDir(dirname: Any) -> None:  # noqa: N802
    """Create the directory ``dirname`` (its parent must exist); an existing one is kept, as
    TensorFlow's."""
    path = _path("dirname", dirname)
    if os.path.isdir(path):
        return
    try:
        os.mkdir(path)
    except FileNotFoundError:
        raise _missing(path) from None
    except FileExistsError:
        raise AlreadyExistsError(f"{path}; File exists (not a directory)") from None
    except NotADirectoryError:
        raise FailedPreconditionError(f"{path}; Not a directory") from None


Mkdir = MkDir


def Remove(filename: Any) -> None:  # noqa: N802
    path = _path("filename", filename)
    if os.path.isdir(path):
        raise FailedPreconditionError(f"{path}; Is a directory")
    try:
        os.remove(path)
    except FileNotFoundError:
        raise _missing(path) from None


def _check_move(src: str, dst: str, overwrite: bool) -> None:
    if not os.path.exists(src):
        raise _missing(src)
    if os.path.isdir(src):
        raise InvalidArgumentError(f"{src}; Is a directory (expected a file)")
    if os.path.isdir(dst):
        raise FailedPreconditionError(f"{dst}; Is a directory")
    if os.path.exists(dst) and not overwrite:
        raise AlreadyExistsError(f"{dst}; file already exists (pass overwrite=True)")


def Rename(oldname: Any, newname: Any, overwrite: bool = False) -> None:  # noqa: N802
    src, dst = _path("oldname", oldname), _path("newname", newname)
    _check_move(src, dst, overwrite)
    os.replace(src, dst)


def Copy(oldpath: Any, newpath: Any, overwrite: bool = False) -> None:  # noqa: N802
    src, dst = _path("oldpath", oldpath), _path("newpath", newpath)
    _check_move(src, dst, overwrite)
    shutil.copyfile(src, dst)


def DeleteRecursively(dirname: Any) -> None:  # noqa: N802
    """Delete the directory ``dirname`` and what it holds, or the file ``dirname`` (as
    TensorFlow)."""
    path = _path("dirname", dirname)
    if not os.path.lexists(path):
        raise NotFoundError(f"{path} not found")
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    else:
        os.remove(path)


def Walk(top: Any, in_order: bool = True) -> Iterator[tuple[str, list[str], list[str]]]:  # noqa: N802
    yield from os.walk(_path("top", top), topdown=in_order)
