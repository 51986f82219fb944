"""The protocol buffer messages of TensorFlow's tensor bundle and checkpoint state, and its dtypes.

The messages are the few a checkpoint uses, declared here field for field from TensorFlow's
``tensor_bundle.proto``, ``tensor_shape.proto``, ``tensor_slice.proto``, ``versions.proto`` and
``checkpoint_state.proto``, built by :func:`rnnkit._protos.message_classes`. The ``DataType`` enum
fields are declared ``int32``: the same varint on the wire, and unknown values survive parsing so
that they can be reported.
"""

from __future__ import annotations

import numpy as np

from rnnkit._protos import message_classes

try:
    import ml_dtypes

    _BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - ml_dtypes is a dependency
    _BFLOAT16 = None

_PACKAGE = "rnnkit.tf1"

# message (outer before nested) -> [(field, number, type or message name, repeated, oneof index)]
_MESSAGES = {
    "VersionDef": [
        ("producer", 1, "int32", False, None),
        ("min_consumer", 2, "int32", False, None),
        ("bad_consumers", 3, "int32", True, None),
    ],
    "TensorShapeProto": [
        ("dim", 2, "TensorShapeProto.Dim", True, None),
        ("unknown_rank", 3, "bool", False, None),
    ],
    "TensorShapeProto.Dim": [("size", 1, "int64", False, None), ("name", 2, "string", False, None)],
    "TensorSliceProto": [("extent", 1, "TensorSliceProto.Extent", True, None)],
    "TensorSliceProto.Extent": [
        ("start", 1, "int64", False, None),
        ("length", 2, "int64", False, 0),  # oneof has_length: unset means "the whole dimension"
    ],
    "BundleHeaderProto": [
        ("num_shards", 1, "int32", False, None),
        ("endianness", 2, "int32", False, None),  # enum Endianness {LITTLE = 0; BIG = 1}
        ("version", 3, "VersionDef", False, None),
    ],
    "BundleEntryProto": [
        ("dtype", 1, "int32", False, None),  # enum DataType
        ("shape", 2, "TensorShapeProto", False, None),
        ("shard_id", 3, "int32", False, None),
        ("offset", 4, "int64", False, None),
        ("size", 5, "int64", False, None),
        ("crc32c", 6, "fixed32", False, None),
        ("slices", 7, "TensorSliceProto", True, None),
    ],
    "CheckpointState": [
        ("model_checkpoint_path", 1, "string", False, None),
        ("all_model_checkpoint_paths", 2, "string", True, None),
        ("all_model_checkpoint_timestamps", 3, "double", True, None),
        ("last_preserved_timestamp", 4, "double", False, None),
    ],
}


_CLASSES = message_classes("rnnkit/tf1_checkpoint.proto", _PACKAGE, _MESSAGES)
VersionDef = _CLASSES["VersionDef"]
TensorShapeProto = _CLASSES["TensorShapeProto"]
TensorSliceProto = _CLASSES["TensorSliceProto"]
BundleHeaderProto = _CLASSES["BundleHeaderProto"]
BundleEntryProto = _CLASSES["BundleEntryProto"]
CheckpointState = _CLASSES["CheckpointState"]

DT_STRING = 7
# TensorFlow DataType number -> (name, numpy dtype; object for strings).
DTYPES: dict[int, tuple[str, np.dtype]] = {
    1: ("DT_FLOAT", np.dtype(np.float32)),
    2: ("DT_DOUBLE", np.dtype(np.float64)),
    3: ("DT_INT32", np.dtype(np.int32)),
    4: ("DT_UINT8", np.dtype(np.uint8)),
    5: ("DT_INT16", np.dtype(np.int16)),
    6: ("DT_INT8", np.dtype(np.int8)),
    7: ("DT_STRING", np.dtype(object)),
    8: ("DT_COMPLEX64", np.dtype(np.complex64)),
    9: ("DT_INT64", np.dtype(np.int64)),
    10: ("DT_BOOL", np.dtype(np.bool_)),
    17: ("DT_UINT16", np.dtype(np.uint16)),
    18: ("DT_COMPLEX128", np.dtype(np.complex128)),
    19: ("DT_HALF", np.dtype(np.float16)),
    22: ("DT_UINT32", np.dtype(np.uint32)),
    23: ("DT_UINT64", np.dtype(np.uint64)),
}
if _BFLOAT16 is not None:
    DTYPES[14] = ("DT_BFLOAT16", _BFLOAT16)
# numpy dtype -> TensorFlow DataType number, for writing (strings are handled apart)
TF_TYPES = {dtype: number for number, (_, dtype) in DTYPES.items() if number != DT_STRING}
