"""``tensorflow.python.client.device_lib``: ``list_local_devices()``, the devices a session can
place ops on. rnnkit.compat.v1 evaluates graphs on the CPU, so that is the one device listed (a
program counting GPUs, as TensorFlow's PTB tutorial does, finds none, as TF on a CPU-only machine)."""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["list_local_devices"]


@dataclasses.dataclass(frozen=True)
class DeviceAttributes:
    """The fields of TensorFlow's ``DeviceAttributes`` that programs read."""

    name: str
    device_type: str
    memory_limit: int = 0
    incarnation: int = 0
    physical_device_desc: str = ""


def list_local_devices(session_config: Any = None) -> list[DeviceAttributes]:
    """``[DeviceAttributes(name="/device:CPU:0", device_type="CPU", ...)]``."""
    return [DeviceAttributes(name="/device:CPU:0", device_type="CPU", memory_limit=268435456)]
