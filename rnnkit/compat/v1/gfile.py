"""``tf.gfile`` on local files: ``GFile``/``Open``/``FastGFile`` (``open`` with TensorFlow's
``NotFoundError`` for a missing file), ``Exists``, ``IsDirectory``, ``ListDirectory``, ``Glob``,
``MakeDirs``, ``Mkdir``, ``Remove``, ``Rename``, ``Copy``, ``DeleteRecursively``, ``Walk``.
Paths with a scheme (``gs://``, ``hdfs://``) are outside the subset."""

from __future__ import annotations

import glob as _glob
import os
import shutil
from collections.abc import Iterator
from typing import IO, Any

from rnnkit.compat.v1.errors import NotFoundError, unsupported

__all__ = [
    "GFile",
    "Open",
    "FastGFile",
    "Exists",
    "IsDirectory",
    "ListDirectory",
    "Glob",
    "MakeDirs",
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


def MakeDirs(dirname: Any) -> None:  # noqa: N802
    os.makedirs(_path("dirname", dirname), exist_ok=True)


def Mkdir(dirname: Any) -> None:  # noqa: N802
    os.mkdir(_path("dirname", dirname))


def Remove(filename: Any) -> None:  # noqa: N802
    path = _path("filename", filename)
    try:
        os.remove(path)
    except FileNotFoundError:
        raise NotFoundError(f"{path}; No such file or directory") from None


def Rename(oldname: Any, newname: Any, overwrite: bool = False) -> None:  # noqa: N802
    src, dst = _path("oldname", oldname), _path("newname", newname)
    if os.path.exists(dst) and not overwrite:
        raise FileExistsError(f"{dst} already exists (pass overwrite=True)")
    os.replace(src, dst)


def Copy(oldpath: Any, newpath: Any, overwrite: bool = False) -> None:  # noqa: N802
    src, dst = _path("oldpath", oldpath), _path("newpath", newpath)
    if os.path.exists(dst) and not overwrite:
        raise FileExistsError(f"{dst} already exists (pass overwrite=True)")
    shutil.copyfile(src, dst)


def DeleteRecursively(dirname: Any) -> None:  # noqa: N802
    path = _path("dirname", dirname)
    if not os.path.exists(path):
        raise NotFoundError(f"{path}; No such file or directory")
    shutil.rmtree(path)


def Walk(top: Any, in_order: bool = True) -> Iterator[tuple[str, list[str], list[str]]]:  # noqa: N802
    yield from os.walk(_path("top", top), topdown=in_order)
