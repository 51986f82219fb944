"""Protocol buffer message classes built at import time from a table of fields.

rnnkit reads and writes a few of TensorFlow's messages (a checkpoint's bundle entries, a checkpoint
state file, the messages TF1 programs import). Each is declared field for field from TensorFlow's
``.proto`` files and built in a private descriptor pool: no generated code to keep in step with the
protobuf runtime, and no clash with TensorFlow's own registrations when both are loaded. Enum
fields are declared ``int32`` (the same varint on the wire; unknown values survive parsing).

A table maps each message name (an outer message before its nested ones, ``"Outer.Inner"``) to
its fields: ``(name, number, type, repeated, oneof)``, where ``type`` is a scalar type name or a
message name of the same table, and ``oneof`` the index of a one-field oneof named ``has_<name>``
(an unset field distinct from its default), or None.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = ["message_classes"]

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "int32": _F.TYPE_INT32,
    "int64": _F.TYPE_INT64,
    "bool": _F.TYPE_BOOL,
    "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
    "double": _F.TYPE_DOUBLE,
    "fixed32": _F.TYPE_FIXED32,
}

Fields = list[tuple[str, int, str, bool, Any]]


def message_classes(file_name: str, package: str, messages: dict[str, Fields]) -> dict[str, type]:
    """The message classes of ``messages`` (top-level names only; nested ones are attributes of
    their outer class), declared in a file ``file_name`` of ``package`` (proto3)."""
    file = descriptor_pb2.FileDescriptorProto(name=file_name, package=package, syntax="proto3")
    protos: dict[str, descriptor_pb2.DescriptorProto] = {}
    for full, fields in messages.items():
        outer, _, inner = full.partition(".")
        proto = (
            protos[outer].nested_type.add(name=inner)
            if inner
            else file.message_type.add(name=outer)
        )
        protos[full] = proto
        for name, number, kind, repeated, oneof in fields:
            field = proto.field.add(
                name=name,
                number=number,
                label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL,
            )
            if kind in _SCALARS:
                field.type = _SCALARS[kind]
            else:
                field.type, field.type_name = _F.TYPE_MESSAGE, f".{package}.{kind}"
            if oneof is not None:
                proto.oneof_decl.add(name=f"has_{name}")
                field.oneof_index = oneof
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    get_class = getattr(message_factory, "GetMessageClass", None)  # protobuf >= 4.22
    if get_class is None:  # pragma: no cover - older protobuf
        get_class = message_factory.MessageFactory(pool).GetPrototype
    return {
        full: get_class(pool.FindMessageTypeByName(f"{package}.{full}"))
        for full in messages
        if "." not in full
    }
