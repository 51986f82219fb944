"""Tensor bytes in a TF1 tensor bundle's data files, and the keys of partitioned-variable slices.

From TensorFlow's ``tensor_bundle.cc`` and ``saved_tensor_slice_util.cc`` / ``ordered_code.cc``:

* a numeric tensor is its raw bytes in C order (the header's endianness, little on every TF build
  in use), checksummed as they lie in the file;
* a string tensor is ``varint64 length`` per element, a 4-byte masked CRC32C of those lengths (each
  checksummed as a little-endian uint32, or uint64 past 4 GiB), then the bytes of every element;
  its checksum covers the lengths (as uint32/uint64), the length checksum and the bytes;
* a partitioned variable is an entry for the full tensor that lists its slices, and one entry per
  slice under the key ``OrderedCode(0, name, rank, start_0, length_0, ...)``.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence

import numpy as np

from rnnkit.interop._sstable import crc32c, damaged, get_varint, mask, put_varint

# -- slice keys (TensorFlow's OrderedCode) ---------------------------------------------------------------
_LENGTH_TO_HEADER = [(0, 0), (0x80, 0), (0xC0, 0), (0xE0, 0), (0xF0, 0), (0xF8, 0), (0xFC, 0), (0xFE, 0), (0xFF, 0), (0xFF, 0x80), (0xFF, 0xC0)]  # fmt: skip
_ESCAPES = {b"\x00": b"\x00\xff", b"\xff": b"\xff\x00"}
_BITS_TO_LENGTH = [1] * 7 + [2] * 7 + [3] * 7 + [4] * 7 + [5] * 7 + [6] * 7 + [7] * 7 + [8] * 7 + [9] * 7 + [10]  # fmt: skip


def _num_increasing(value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return bytes([len(raw)]) + raw


def _signed_num_increasing(value: int) -> bytes:
    x = ~value if value < 0 else value
    n = _BITS_TO_LENGTH[x.bit_length()]
    out = bytearray((value & ((1 << (8 * n)) - 1)).to_bytes(n, "big"))  # two's complement, n bytes
    out[0] ^= _LENGTH_TO_HEADER[n][0]
    if n > 1:
        out[1] ^= _LENGTH_TO_HEADER[n][1]
    return bytes(out)


def _ordered_string(value: bytes) -> bytes:
    escaped = re.sub(rb"[\x00\xff]", lambda m: _ESCAPES[m.group()], value)
    return escaped + b"\x00\x01"  # \x00 -> \x00\xff, \xff -> \xff\x00, then the separator


def slice_key(name: bytes, starts: Sequence[int], lengths: Sequence[int]) -> bytes:
    """The key of one slice of a partitioned tensor (``length -1``: the whole dimension)."""
    parts = [_num_increasing(0), _ordered_string(name), _num_increasing(len(starts))]
    for start, length in zip(starts, lengths):
        parts += [_signed_num_increasing(start), _signed_num_increasing(length)]
    return b"".join(parts)


# -- numeric tensors -------------------------------------------------------------------------------------
def byteswap(array: np.ndarray) -> np.ndarray:
    """``array`` with every element's bytes reversed in place (complex: each half)."""
    unit = array.dtype.itemsize // (2 if array.dtype.kind == "c" else 1)
    if unit > 1:
        array.reshape(-1).view(f"u{unit}").byteswap(inplace=True)
    return array


def decode_numeric(
    buf: bytearray, dtype: np.dtype, shape: tuple[int, ...], big_endian: bool, where: tuple
) -> np.ndarray:
    """The array held in ``buf`` (already checksummed); ``where`` = (file, tensor) for errors."""
    array = np.frombuffer(buf, dtype=dtype).reshape(shape)  # shares buf: no copy
    if big_endian:
        byteswap(array)
    if dtype == np.bool_ and array.size and array.view(np.uint8).max() > 1:
        raise damaged(*where[:1], "a bool tensor holds bytes other than 0 and 1", where[1])
    return array


def encode_numeric(array: np.ndarray) -> np.ndarray:
    """The little-endian bytes of ``array`` in C order, as a uint8 array (a view where possible)."""
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)


# -- string tensors --------------------------------------------------------------------------------------
def _lengths_bytes(lengths: Sequence[int], order: str) -> bytes:
    return b"".join(struct.pack(order + ("I" if n <= 0xFFFFFFFF else "Q"), n) for n in lengths)


def decode_strings(
    data: bytes, count: int, shape: tuple[int, ...], big_endian: bool, where: tuple
) -> tuple[np.ndarray, int]:
    """(object array of bytes, checksum) of a string tensor's ``data``; ``where`` = (file, tensor)."""
    if not data and count == 0:
        return np.empty(shape, dtype=object), 0
    order = ">" if big_endian else "<"
    pos, lengths = 0, []
    for _ in range(count):
        got = get_varint(data, pos, len(data))
        if got is None:
            raise damaged(where[0], "bad string length in a string tensor", where[1])
        lengths.append(got[0])
        pos = got[1]
    crc = crc32c(_lengths_bytes(lengths, order))
    if pos + 4 + sum(lengths) != len(data):
        raise damaged(where[0], "string lengths do not add up to the stored size", where[1])
    (stored,) = struct.unpack_from(order + "I", data, pos)
    if mask(crc) != stored:
        raise damaged(where[0], "checksum mismatch in a string tensor's lengths", where[1])
    crc = crc32c(data[pos : pos + 4], crc)
    crc = crc32c(data[pos + 4 :], crc)
    out = np.empty(count, dtype=object)
    pos += 4
    for k, n in enumerate(lengths):
        out[k] = data[pos : pos + n]
        pos += n
    return out.reshape(shape), crc


def encode_strings(values: Sequence[bytes]) -> tuple[bytes, int]:
    """(bytes, checksum) of a string tensor whose elements in C order are ``values``."""
    lengths = [len(v) for v in values]
    crc = crc32c(_lengths_bytes(lengths, "<"))
    length_checksum = struct.pack("<I", mask(crc))
    body = b"".join(values)
    crc = crc32c(body, crc32c(length_checksum, crc))
    return b"".join(put_varint(n) for n in lengths) + length_checksum + body, crc
