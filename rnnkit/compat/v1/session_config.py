"""``tf.ConfigProto`` and ``tf.GPUOptions``: session options, accepted so TF1 programs run.

Fields are TensorFlow's (an unknown field is a ``ValueError`` naming it, as protobuf's is); none
changes how rnnkit runs (threads are torch's, placement is rnnkit's), except that they are kept.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ConfigProto", "GPUOptions"]


class _Message:
    _fields: dict[str, Any] = {}

    def __init__(self, **kwargs: Any) -> None:
        for k, v in self._fields.items():
            object.__setattr__(self, k, v() if callable(v) else v)
        for k, v in kwargs.items():
            setattr(self, k, v)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._fields:
            raise ValueError(
                f'Protocol message {type(self).__name__} has no "{name}" field (fields: '
                f"{', '.join(sorted(self._fields))})."
            )
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        set_ = {
            k: getattr(self, k)
            for k in self._fields
            if getattr(self, k) != _default(self._fields[k])
        }
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in set_.items())})"


def _default(v: Any) -> Any:
    return v() if callable(v) else v


class GPUOptions(_Message):
    _fields = {
        "per_process_gpu_memory_fraction": 0.0,
        "allow_growth": False,
        "allocator_type": "",
        "visible_device_list": "",
        "force_gpu_compatible": False,
    }


class ConfigProto(_Message):
    _fields = {
        "device_count": dict,
        "intra_op_parallelism_threads": 0,
        "inter_op_parallelism_threads": 0,
        "use_per_session_threads": False,
        "allow_soft_placement": False,
        "log_device_placement": False,
        "gpu_options": GPUOptions,
        "graph_options": None,
        "operation_timeout_in_ms": 0,
        "isolate_session_state": False,
    }
