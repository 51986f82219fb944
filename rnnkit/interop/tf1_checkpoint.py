"""TensorFlow 1.x checkpoints read and written without TensorFlow.

A TF1 checkpoint (``tf.compat.v1.train.Saver``, format V2) is a *prefix* such as ``model.ckpt-1000``
naming two kinds of files, plus a ``checkpoint`` state file in the directory::

    model.ckpt-1000.index                  sorted table: tensor name -> dtype, shape, where its bytes are
    model.ckpt-1000.data-00000-of-00001    the tensors' bytes, one shard or more
    checkpoint                             text proto: model_checkpoint_path: "model.ckpt-1000" ...

Reading verifies everything it uses: the table's block checksums and structure, each entry's dtype,
shape and extent against the data file's size (before allocating anything), and each tensor's CRC32C
as it is read. Damage raises ``ValueError`` naming the file (and the tensor). Nothing is unpickled.

Example::

    weights = read_tf1_checkpoint("train_dir")               # latest checkpoint in the directory
    with open_tf1_checkpoint("train_dir/model.ckpt-1000") as ckpt:
        ckpt.shape("rnn/lstm_cell/kernel"), ckpt["rnn/lstm_cell/kernel"]   # reads one tensor
    write_tf1_checkpoint("out/model.ckpt-0", weights)         # TensorFlow's Saver.restore reads it
"""

from __future__ import annotations

import itertools
import math
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnkit._validation import check_positive_int, invalid_type, invalid_value
from rnnkit.interop import _bundle
from rnnkit.interop._bundle_protos import (
    DT_STRING,
    DTYPES,
    TF_TYPES,
    BundleEntryProto,
    BundleHeaderProto,
)
from rnnkit.interop._checkpoint_state import (
    STATE_FILE,
    atomic_write,
    fspath,
    fsync_dir,
    in_the_way,
    latest_tf1_checkpoint,
    not_regular,
    open_regular,
    read_state,
    record_latest,
    regular_size,
    remember_written,
)
from rnnkit.interop._sstable import build_table, crc32c, damaged, mask, read_at_most, read_table

__all__ = [
    "TF1Checkpoint",
    "latest_tf1_checkpoint",
    "open_tf1_checkpoint",
    "read_tf1_checkpoint",
    "write_tf1_checkpoint",
]

# An index holds one small entry per tensor (name, dtype, shape, offset, checksum): a real one is
# kilobytes to a few megabytes. Bigger ones are refused before they are read into memory.
MAX_INDEX_BYTES = 1 << 28


# A partitioned variable has a slice per partition (TensorFlow's partitioners make a few to a few
# thousand); checking that the slices tile it counts 2**k corners per slice, k the number of
# dimensions they split.
_MAX_SLICES = 1 << 16
_MAX_CORNERS = 1 << 19

_MAX_RANK = 32  # numpy's limit before 2.0; TensorFlow variables have far fewer dimensions
_MAX_ELEMENTS = 1 << 58  # bounds shapes such as (0, 2**62) that numpy cannot even describe
_DATA_SUFFIX = re.compile(r"\.data-\d{5,}-of-\d{5,}$")


def _data_path(prefix: str, shard: int, num_shards: int) -> str:
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


def _resolve(path: Any) -> str:
    """The prefix meant by a prefix, its ``.index`` or data file, or a checkpoint directory."""
    path = fspath("path", path)
    if os.path.isdir(path):
        prefix = latest_tf1_checkpoint(path)
        if prefix is None:
            raise invalid_value(
                "path",
                "a directory whose `checkpoint` state file names an existing checkpoint",
                f"{path!r}",
            )
        return prefix
    if path.endswith(".index"):
        return path[: -len(".index")]
    return _DATA_SUFFIX.sub("", path)


# -- reading ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Entry:
    dtype: int
    shape: tuple[int, ...]
    shard: int = 0
    offset: int = 0
    size: int = 0
    crc: int = 0
    slices: tuple[tuple[tuple[slice, ...], bytes], ...] = ()  # (where in the full tensor, key)


class TF1Checkpoint(Mapping):
    """A TF1 checkpoint opened for reading: a read-only mapping from variable names to arrays.

    Opening reads and verifies the ``.index`` only; ``keys()``, ``shape(name)`` and ``dtype(name)``
    read no tensor data; ``ckpt[name]`` reads and checksums that one tensor (partitioned variables
    are returned whole). Strings come back as object arrays of ``bytes``, bfloat16 as
    ``ml_dtypes.bfloat16``. Use it as a context manager, or call ``close()``, to close the files.
    """

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.index_path = prefix + ".index"
        if not os.path.isfile(self.index_path):
            if os.path.exists(self.index_path):  # a folder, FIFO, device... (links followed)
                kind = not_regular(os.stat(self.index_path).st_mode)
                found = f"{self.index_path!r} is not a regular file ({kind})"
            elif os.path.lexists(self.index_path):
                found = f"{self.index_path!r} is a dangling link"
            elif os.path.isfile(prefix):
                found = f"no file {self.index_path!r} (a TF V1 checkpoint? only V2 is supported)"
            else:
                found = f"no file {self.index_path!r}"
            raise invalid_value("path", "an existing checkpoint", f"{prefix!r}: {found}")
        with open_regular(self.index_path, _refuse) as f:
            big = os.fstat(f.fileno()).st_size > MAX_INDEX_BYTES
            data = b"" if big else read_at_most(f, MAX_INDEX_BYTES + 1)
        if big or len(data) > MAX_INDEX_BYTES:
            raise damaged(
                self.index_path, f"an index of more than {MAX_INDEX_BYTES} bytes (refused unread)"
            )
        items = read_table(data, self.index_path)
        if not items or items[0][0] != b"":
            raise damaged(self.index_path, "the header entry (empty key) is missing")
        self._num_shards, self._big_endian = self._header(items[0][1])
        raw = {key: self._entry(key, value) for key, value in items[1:]}
        parts: dict[bytes, _Entry] = {}
        for key, entry in raw.items():
            for where, part_key in entry.slices:
                part = raw.get(part_key)
                lengths = tuple(w.stop - w.start for w in where)
                if (
                    part is None
                    or part.slices
                    or (part.dtype, part.shape) != (entry.dtype, lengths)
                ):
                    raise damaged(
                        self.index_path, "a slice entry is missing or does not match", _name(key)
                    )
                parts[part_key] = part
        self._parts = parts
        self._entries = {_name(k): e for k, e in raw.items() if k not in parts}
        self._files: dict[int, Any] = {}
        self._sizes: dict[int, int] = {}
        for key, entry in raw.items():
            if not entry.slices:
                self._check_extent(entry, _name(key))
        self._closed = False

    # metadata
    def _header(self, value: bytes) -> tuple[int, bool]:
        header = _parse(BundleHeaderProto, value, self.index_path, None)
        version = header.version
        if header.num_shards < 1 or header.endianness not in (0, 1):
            raise damaged(
                self.index_path,
                f"bad header: {header.num_shards} shards, endianness {header.endianness}",
            )
        if version.producer < 0 or version.min_consumer > 1 or 1 in version.bad_consumers:
            raise damaged(
                self.index_path, f"bundle version {version.producer} needs a newer reader"
            )
        return header.num_shards, header.endianness == 1

    def _entry(self, key: bytes, value: bytes) -> _Entry:
        name = _name(key)
        proto = _parse(BundleEntryProto, value, self.index_path, name)
        if proto.dtype not in DTYPES:
            raise damaged(self.index_path, f"unsupported dtype number {proto.dtype}", name)
        if proto.shape.unknown_rank or len(proto.shape.dim) > _MAX_RANK:
            raise damaged(self.index_path, "the shape has an unknown or too large rank", name)
        shape = tuple(d.size for d in proto.shape.dim)
        if min(shape, default=0) < 0 or math.prod(max(d, 1) for d in shape) > _MAX_ELEMENTS:
            raise damaged(self.index_path, f"invalid shape {shape}", name)
        if not proto.slices:
            return _Entry(
                proto.dtype, shape, proto.shard_id, proto.offset, proto.size, proto.crc32c
            )
        if len(proto.slices) > _MAX_SLICES:
            raise damaged(
                self.index_path, f"{len(proto.slices)} slices (at most {_MAX_SLICES})", name
            )
        slices, boxes = [], []
        for extents in proto.slices:
            if len(extents.extent) != len(shape):
                raise damaged(self.index_path, "a slice's rank differs from the tensor's", name)
            starts, lengths, box = [], [], []
            for e, dim in zip(extents.extent, shape):
                full = not e.HasField("length")
                start, length = (0, dim) if full else (e.start, e.length)
                if start < 0 or length < 0 or start + length > dim or (full and e.start != 0):
                    raise damaged(self.index_path, f"a slice lies outside the shape {shape}", name)
                starts.append(0 if full else start)
                lengths.append(-1 if full else length)
                box.append((start, start + length))
            boxes.append(box)
            where = tuple(slice(a, b) for a, b in box)
            slices.append((where, _bundle.slice_key(key, starts, lengths)))
        if sum(math.prod(b - a for a, b in box) for box in boxes) != math.prod(shape):
            raise damaged(self.index_path, "the slices do not cover the tensor", name)
        whole = [(0, d) for d in shape]
        split = [j for j in range(len(shape)) if any(box[j] != whole[j] for box in boxes)]
        if len(boxes) << len(split) > _MAX_CORNERS:
            raise damaged(
                self.index_path,
                f"{len(boxes)} slices splitting {len(split)} dimensions, too many to check",
                name,
            )
        if not _tiles(boxes, whole, split):  # the volumes add up: some element is in two slices
            raise damaged(self.index_path, "two slices overlap", name)
        return _Entry(proto.dtype, shape, slices=tuple(slices))

    def _check_extent(self, entry: _Entry, name: str) -> None:
        """The entry's bytes must be plausible for its shape and lie inside an existing data file."""
        count = math.prod(entry.shape)
        dtype = DTYPES[entry.dtype][1]
        if entry.dtype == DT_STRING:
            ok = entry.size >= count + 4 or entry.size == count == 0
        else:
            ok = entry.size == count * dtype.itemsize
        if not ok or not 0 <= entry.shard < self._num_shards or entry.offset < 0:
            raise damaged(
                self.index_path,
                f"entry claims {entry.size} bytes at {entry.offset} in shard {entry.shard}",
                name,
            )
        path = _data_path(self.prefix, entry.shard, self._num_shards)
        if entry.shard not in self._sizes:
            try:
                self._sizes[entry.shard] = regular_size(path, _refuse)
            except OSError as exc:
                raise damaged(path, f"data file unreadable ({exc.strerror})", name) from None
        if entry.offset + entry.size > self._sizes[entry.shard]:
            raise damaged(
                path,
                f"tensor claims bytes [{entry.offset}, {entry.offset + entry.size}) "
                f"but the file has {self._sizes[entry.shard]}",
                name,
            )

    # the mapping
    def __getitem__(self, name: str) -> np.ndarray:
        entry = self._entries[name]
        if self._closed:
            raise invalid_value("checkpoint", "an open checkpoint", f"{self.prefix!r}, closed")
        if not entry.slices:
            return self._read(entry, name)
        full = np.empty(entry.shape, dtype=DTYPES[entry.dtype][1])
        for where, key in entry.slices:
            full[where] = self._read(self._parts[key], name)
        return full

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def shape(self, name: str) -> tuple[int, ...]:
        """The shape of tensor ``name`` (read from the index, no data)."""
        return self._entries[name].shape

    def dtype(self, name: str) -> np.dtype:
        """The numpy dtype of tensor ``name``: object for strings, ``ml_dtypes.bfloat16`` for bfloat16."""
        return DTYPES[self._entries[name].dtype][1]

    def tf_dtype(self, name: str) -> str:
        """TensorFlow's name of the dtype of tensor ``name``, e.g. ``"DT_FLOAT"``."""
        return DTYPES[self._entries[name].dtype][0]

    def _read(self, entry: _Entry, name: str) -> np.ndarray:
        path = _data_path(self.prefix, entry.shard, self._num_shards)
        where = (path, name)
        f = self._files.get(entry.shard)
        if f is None:
            f = self._files[entry.shard] = open_regular(path, _refuse)
        buf = bytearray(entry.size)  # size checked against the file when opened
        f.seek(entry.offset)
        got = f.readinto(buf)
        if got != entry.size:
            raise damaged(
                path, f"file ends {entry.size - got} bytes early (truncated since opened?)", name
            )
        if entry.dtype == DT_STRING:
            array, crc = _bundle.decode_strings(
                bytes(buf), math.prod(entry.shape), entry.shape, self._big_endian, where
            )
        else:
            array, crc = None, crc32c(buf)
        if mask(crc) != entry.crc:
            raise damaged(path, "checksum mismatch in the tensor's bytes", name)
        if array is None:
            array = _bundle.decode_numeric(
                buf, DTYPES[entry.dtype][1], entry.shape, self._big_endian, where
            )
        return array

    def close(self) -> None:
        """Close the data files; reading afterwards raises ``ValueError``."""
        for f in self._files.values():
            f.close()
        self._files.clear()
        self._closed = True

    def __enter__(self) -> TF1Checkpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TF1Checkpoint({self.prefix!r}, {len(self)} tensors)"


def _refuse(path: str, kind: str) -> ValueError:
    return damaged(path, f"it is {kind}, not a regular file")


def _tiles(
    boxes: list[list[tuple[int, int]]], whole: list[tuple[int, int]], split: list[int]
) -> bool:
    """Whether ``boxes`` (a ``(start, stop)`` per dimension each) cover every element of the box
    ``whole`` exactly once, in time linear in their number.

    After a difference along every dimension, the indicator of a box is +1 or -1 at each of its
    corners (-1 per ``stop`` coordinate) and 0 elsewhere. Differencing is invertible for finite
    supports, so the boxes' indicators add up to the whole's exactly when their signed corners
    cancel the whole's. Only the dimensions in ``split`` are counted: in the others every box spans
    the whole, a common factor.
    """
    counts: dict[tuple[int, ...], int] = {}
    for box, sign in [*((box, 1) for box in boxes), (whole, -1)]:
        choices = [((box[j][0], 1), (box[j][1], -1)) for j in split]
        for corner in itertools.product(*choices):
            key = tuple(c for c, _ in corner)
            counts[key] = counts.get(key, 0) + sign * math.prod(s for _, s in corner)
    return not any(counts.values())


def _name(key: bytes) -> str:
    return key.decode("utf-8", "surrogateescape")


def _parse(message: type, value: bytes, path: str, name: str | None) -> Any:
    proto = message()
    try:
        proto.ParseFromString(value)
    except Exception as exc:  # google.protobuf.message.DecodeError and its relatives
        raise damaged(path, f"entry does not parse ({type(exc).__name__})", name) from None
    return proto


def open_tf1_checkpoint(path: str | os.PathLike) -> TF1Checkpoint:
    """Open a TF1 checkpoint lazily: ``path`` is a prefix, its ``.index``, or a checkpoint directory.

    Example::

        with open_tf1_checkpoint("train_dir") as ckpt:
            {name: ckpt.shape(name) for name in ckpt}
    """
    return TF1Checkpoint(_resolve(path))


def read_tf1_checkpoint(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every tensor of a TF1 checkpoint (``path``: a prefix, its ``.index``, or a checkpoint
    directory, whose latest checkpoint is read), by variable name."""
    with open_tf1_checkpoint(path) as ckpt:
        return {name: ckpt[name] for name in ckpt}


# -- writing ---------------------------------------------------------------------------------------------
def _as_array(name: str, value: Any) -> np.ndarray:
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        if value.dtype == torch.bfloat16:
            return value.view(torch.int16).numpy().view(DTYPES[14][1])
        value = value.numpy()
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        raise invalid_value(f"tensors[{name!r}]", "an array", type(value).__name__) from None
    if array.dtype.kind in "USO":
        flat = [v.encode("utf-8") if isinstance(v, str) else v for v in array.reshape(-1).tolist()]
        if not all(isinstance(v, bytes) for v in flat):
            raise invalid_type(
                f"tensors[{name!r}]", "a numeric array or an array of bytes/str", value
            )
        out = np.empty(len(flat), dtype=object)
        out[:] = flat
        return out.reshape(array.shape)
    if array.dtype.newbyteorder("=") not in TF_TYPES:
        raise invalid_type(
            f"tensors[{name!r}]", f"a dtype TensorFlow stores ({_dtype_list()})", array
        )
    return array


def _dtype_list() -> str:
    return ", ".join(sorted({str(d) for d in TF_TYPES} | {"bytes/str"}))


def write_tf1_checkpoint(
    prefix: str | os.PathLike,
    tensors: Mapping[str, Any],
    *,
    update_state: bool = True,
    max_to_keep: int | None = None,
) -> str:
    """Write ``tensors`` (name -> array-like) as the TF1 checkpoint ``prefix``; returns ``prefix``.

    Writes ``prefix.index`` and ``prefix.data-00000-of-00001`` (each to a temporary file, fsynced,
    then renamed, data file first) in TensorFlow's V2 format, byte for byte what TensorFlow writes for
    the same tensors. With ``update_state``, records ``prefix`` as the latest checkpoint in the
    ``checkpoint`` state file of its directory (a path relative to it); with ``max_to_keep``, keeps
    that many checkpoints in the state file and deletes the files of the older ones that this
    function wrote in this process into the same folder, as ``Saver(max_to_keep=...)`` deletes only
    what it saved: other entries of the state file (another program's checkpoints, paths outside
    the folder) are dropped from the list but their files are kept. Arrays may be numpy arrays, torch tensors, scalars or nested
    lists, of any dtype in ``DTYPES``, or bytes/str (written as ``DT_STRING``).

    Example::

        write_tf1_checkpoint("out/model.ckpt-0", tf1_variables(cell))
    """
    prefix = fspath("prefix", prefix)
    if prefix.endswith(("/", os.sep)) or not os.path.basename(prefix):
        raise invalid_value(
            "prefix", "a file prefix such as 'train_dir/model.ckpt-100'", repr(prefix)
        )
    if not isinstance(tensors, Mapping):
        raise invalid_type("tensors", "a mapping from variable names to arrays", tensors)
    if max_to_keep is not None:
        max_to_keep = check_positive_int("max_to_keep", max_to_keep)
    arrays = []
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise invalid_type("tensors", "str variable names", name)
        if not name:
            raise invalid_value("tensors", "non-empty str variable names", repr(name))
        arrays.append((name.encode("utf-8", "surrogateescape"), _as_array(name, value)))
    arrays.sort(key=lambda item: item[0])
    directory = os.path.dirname(os.path.abspath(prefix))
    state_path = os.path.join(directory, STATE_FILE)
    # a folder (or FIFO, device) where a file goes would fail its rename halfway through the writes
    for path in [_data_path(prefix, 0, 1), prefix + ".index", *[state_path] * update_state]:
        kind = in_the_way(path)
        if kind is not None:
            raise invalid_value(
                "prefix",
                "a checkpoint prefix whose files are regular files or absent",
                f"{prefix!r}: {path!r} is {kind}",
            )
    state = read_state(state_path) if update_state and os.path.isfile(state_path) else None
    os.makedirs(directory, exist_ok=True)

    entries, chunks, offset = [], [], 0
    for key, array in arrays:
        entry = BundleEntryProto(offset=offset)
        entry.shape.SetInParent()  # TensorFlow writes the shape even for scalars
        for dim in array.shape:
            entry.shape.dim.add(size=dim)
        if array.dtype == object:
            data, crc = _bundle.encode_strings(array.reshape(-1).tolist())
            entry.dtype = DT_STRING
        else:
            data = _bundle.encode_numeric(array)
            crc = crc32c(data)
            entry.dtype = TF_TYPES[array.dtype.newbyteorder("=")]
        entry.size, entry.crc32c = len(data), mask(crc)
        offset += len(data)
        chunks.append(data)
        entries.append((key, entry.SerializeToString()))
    header = BundleHeaderProto(num_shards=1)
    header.version.producer = 1
    index = build_table([(b"", header.SerializeToString()), *entries])

    atomic_write(_data_path(prefix, 0, 1), chunks)
    atomic_write(prefix + ".index", [index])
    fsync_dir(directory)
    if update_state:
        remember_written(prefix)
        record_latest(state_path, prefix, state, max_to_keep)
    return prefix
