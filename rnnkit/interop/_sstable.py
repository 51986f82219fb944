"""LevelDB-style sorted string tables: the container of a TF1 checkpoint's ``.index`` file.

Layout (TensorFlow's ``tsl/lib/io/{table_builder,format,block_builder}.cc``)::

    [data block]* [metaindex block] [index block] [footer: 48 bytes]

Each block is ``entries, restarts (uint32 each), num_restarts (uint32)`` followed by a 5-byte trailer:
a compression byte (0 none, 1 snappy) and the masked CRC32C of the block and that byte. An entry is
``varint shared, varint non_shared, varint value_len, key[shared:], value``: keys are stored as the
suffix after the prefix they share with the previous key. The index block maps a key >= every key of a
data block (and < every key of the next) to that block's handle (``varint offset, varint size``).
The footer is the metaindex and index handles padded to 40 bytes, then the magic number.

Reading checks every block's CRC, every length against its block and every handle against the file,
and that keys strictly increase; anything off raises ``ValueError`` naming the file.
Writing reproduces TensorFlow's ``TableBuilder`` byte for byte (no compression).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

import google_crc32c

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48  # two handles padded to 2 * 20 bytes, then the 8-byte magic
TRAILER_SIZE = 5  # compression byte + masked CRC32C
BLOCK_SIZE = 262144  # TensorFlow's table::Options default
RESTART_INTERVAL = 16
_CHUNK = 1 << 22  # google_crc32c wants bytes: checksum large buffers in 4 MiB copies


def damaged(path: str, detail: str, tensor: str | None = None) -> ValueError:
    """The error for a checkpoint file that is not what it should be."""
    where = f" (tensor {tensor!r})" if tensor is not None else ""
    return ValueError(
        f"TF1 checkpoint file {str(path)!r} is damaged or not a checkpoint{where}: {detail}"
    )


def crc32c(data, crc: int = 0) -> int:
    """CRC32C of any bytes-like ``data``, extending ``crc``."""
    if isinstance(data, bytes):
        return google_crc32c.extend(crc, data)
    view = memoryview(data).cast("B")
    for start in range(0, len(view), _CHUNK):
        crc = google_crc32c.extend(crc, bytes(view[start : start + _CHUNK]))
    return crc


def mask(crc: int) -> int:
    """TensorFlow/LevelDB's masked CRC: rotate right by 15 and add a constant."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def put_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def get_varint(data: bytes, pos: int, limit: int, bits: int = 64) -> tuple[int, int] | None:
    """(value, next position) of the varint at ``data[pos:limit]``; ``None`` if malformed."""
    value = shift = 0
    while pos < limit and shift < bits:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return (value, pos) if value < (1 << bits) else None
        shift += 7
    return None


# -- reading -------------------------------------------------------------------------------------------
def _handle(data: bytes, pos: int, limit: int) -> tuple[int, int, int] | None:
    offset = get_varint(data, pos, limit)
    size = offset and get_varint(data, offset[1], limit)
    return None if not size else (offset[0], size[0], size[1])


def _block(data: bytes, offset: int, size: int, what: str, path: str) -> bytes:
    """The verified, uncompressed contents of the block at ``offset``."""
    end = len(data) - FOOTER_SIZE
    if offset + size + TRAILER_SIZE > end:
        raise damaged(
            path, f"the {what} at bytes [{offset}, {offset + size}) runs past the tables' end {end}"
        )
    raw = data[offset : offset + size + 1]  # contents and the compression byte
    stored = struct.unpack_from("<I", data, offset + size + 1)[0]
    if mask(crc32c(raw)) != stored:
        raise damaged(path, f"checksum mismatch in the {what} at byte {offset}")
    kind = raw[-1]
    if kind == 0:
        return raw[:-1]
    if kind == 1:
        return _snappy(raw[:-1], what, path)
    raise damaged(path, f"unknown compression type {kind} in the {what} at byte {offset}")


def _snappy(contents: bytes, what: str, path: str) -> bytes:
    try:
        import cramjam
    except ImportError:
        raise damaged(
            path, f"the {what} is snappy-compressed; install `cramjam` to read it"
        ) from None
    header = get_varint(contents, 0, len(contents), bits=32)
    # A snappy element of k bytes expands to at most 64 bytes (a 3-byte copy): bound the output.
    if header is None or header[0] > 32 * len(contents) + 64:
        raise damaged(path, f"bad snappy length header in the {what}")
    try:
        out = bytes(cramjam.snappy.decompress_raw(contents))
    except Exception as exc:  # cramjam raises its own DecompressionError
        raise damaged(path, f"corrupt snappy data in the {what} ({exc})") from None
    if len(out) != header[0]:
        raise damaged(path, f"snappy data in the {what} has the wrong length")
    return out


def _entries(block: bytes, what: str, path: str) -> list[tuple[bytes, bytes]]:
    """The (key, value) pairs of one block, with its restart points checked."""
    if len(block) < 4:
        raise damaged(path, f"the {what} is {len(block)} bytes, too short for its restart count")
    (count,) = struct.unpack_from("<I", block, len(block) - 4)
    restarts_at = len(block) - 4 - 4 * count
    if count == 0 or restarts_at < 0:
        raise damaged(path, f"the {what} claims {count} restart points in {len(block)} bytes")
    restarts = struct.unpack_from(f"<{count}I", block, restarts_at)
    out: list[tuple[bytes, bytes]] = []
    fresh: set[int] = set()  # offsets of entries that share nothing with the previous key
    pos, last = 0, b""
    while pos < restarts_at:
        start = pos
        fields = []
        for _ in range(3):
            got = get_varint(block, pos, restarts_at, bits=32)
            if got is None:
                raise damaged(path, f"bad entry header at byte {start} of the {what}")
            fields.append(got[0])
            pos = got[1]
        shared, fresh_len, value_len = fields
        if shared > len(last) or pos + fresh_len + value_len > restarts_at:
            raise damaged(path, f"entry at byte {start} of the {what} runs out of its block")
        key = last[:shared] + block[pos : pos + fresh_len]
        pos += fresh_len
        if out and key <= last:
            raise damaged(path, f"keys out of order at byte {start} of the {what}")
        out.append((key, block[pos : pos + value_len]))
        pos += value_len
        last = key
        if shared == 0:
            fresh.add(start)
    if (out and restarts[0] != 0) or any(r not in fresh for r in restarts if out):
        raise damaged(path, f"restart points of the {what} do not match its entries")
    return out


def read_table(data: bytes, path: str) -> list[tuple[bytes, bytes]]:
    """Every (key, value) of the table ``data`` (the bytes of file ``path``), in key order."""
    if len(data) < FOOTER_SIZE:
        raise damaged(path, f"{len(data)} bytes is too short for the 48-byte table footer")
    footer = len(data) - FOOTER_SIZE
    magic = struct.unpack_from("<Q", data, footer + 40)[0]
    if magic != MAGIC:
        raise damaged(path, f"wrong magic number {magic:#018x} (expected {MAGIC:#018x})")
    meta = _handle(data, footer, footer + 40)
    index = meta and _handle(data, meta[2], footer + 40)
    if not index:
        raise damaged(path, "bad block handles in the table footer")
    _block(data, meta[0], meta[1], "metaindex block", path)  # checked, not used (TF writes none)
    out: list[tuple[bytes, bytes]] = []
    for n, (separator, value) in enumerate(
        _entries(_block(data, *index[:2], "index block", path), "index block", path)
    ):
        handle = _handle(value, 0, len(value))
        if handle is None or handle[2] != len(value):
            raise damaged(path, f"bad block handle in index entry {n}")
        what = f"data block {n}"
        entries = _entries(_block(data, handle[0], handle[1], what, path), what, path)
        if entries and out and entries[0][0] <= out[-1][0]:
            raise damaged(path, f"keys of {what} overlap the previous block")
        if entries and entries[-1][0] > separator:
            raise damaged(path, f"index key of {what} is below its last key")
        out += entries
    return out


# -- writing -------------------------------------------------------------------------------------------
class _BlockBuilder:
    def __init__(self, restart_interval: int):
        self.interval = restart_interval
        self.reset()

    def reset(self) -> None:
        self.buf, self.restarts, self.counter, self.last = bytearray(), [0], 0, b""

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.counter < self.interval:
            limit = min(len(self.last), len(key))
            while shared < limit and self.last[shared] == key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buf))
            self.counter = 0
        self.buf += put_varint(shared) + put_varint(len(key) - shared) + put_varint(len(value))
        self.buf += key[shared:] + value
        self.last, self.counter = key, self.counter + 1

    def size_estimate(self) -> int:
        return len(self.buf) + 4 * len(self.restarts) + 4

    def finish(self) -> bytes:
        return bytes(self.buf) + struct.pack(
            f"<{len(self.restarts) + 1}I", *self.restarts, len(self.restarts)
        )


def _shortest_separator(start: bytes, limit: bytes) -> bytes:
    n = 0
    while n < min(len(start), len(limit)) and start[n] == limit[n]:
        n += 1
    if n < min(len(start), len(limit)) and start[n] < 0xFF and start[n] + 1 < limit[n]:
        return start[:n] + bytes([start[n] + 1])
    return start


def _short_successor(key: bytes) -> bytes:
    for n, byte in enumerate(key):
        if byte != 0xFF:
            return key[:n] + bytes([byte + 1])
    return key


def build_table(items: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The table holding ``items`` (strictly increasing keys), as TensorFlow's TableBuilder writes it."""
    out = bytearray()

    def write_block(block: _BlockBuilder) -> bytes:
        contents = block.finish() + b"\x00"
        handle = put_varint(len(out)) + put_varint(len(contents) - 1)
        out.extend(contents + struct.pack("<I", mask(crc32c(contents))))
        block.reset()
        return handle

    data, index = _BlockBuilder(RESTART_INTERVAL), _BlockBuilder(1)
    pending, last = None, None  # handle of a written data block awaiting its index entry
    for key, value in items:
        if last is not None and key <= last:
            raise ValueError(f"table keys must strictly increase: {key!r} after {last!r}")
        if last is not None and len(key) + len(value) >= 2 * BLOCK_SIZE and data.buf:
            pending = write_block(data)
        if pending is not None:
            index.add(_shortest_separator(last, key), pending)
            pending = None
        data.add(key, value)
        last = key
        if data.size_estimate() >= BLOCK_SIZE:
            pending = write_block(data)
    if data.buf:
        pending = write_block(data)
    meta_handle = write_block(_BlockBuilder(RESTART_INTERVAL))
    if pending is not None:
        index.add(_short_successor(last), pending)
    index_handle = write_block(index)
    footer = (meta_handle + index_handle).ljust(40, b"\x00")
    out += footer + struct.pack("<II", MAGIC & 0xFFFFFFFF, MAGIC >> 32)
    return bytes(out)


def read_at_most(f: Any, limit: int) -> bytes:
    """Up to ``limit`` bytes of ``f``, in 1 MiB reads (``f.read(limit)`` would allocate ``limit``
    bytes up front; a special file may report size 0 and stream)."""
    chunks, total = [], 0
    while total < limit:
        chunk = f.read(min(1 << 20, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)
