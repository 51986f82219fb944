"""``tensorflow.python.client.device_lib`` (``device_lib.py``) through ``_install.install()``."""

from __future__ import annotations


def test_device_lib_lists_the_cpu():
    from rnnkit.compat.v1._install import install, uninstall

    install()
    try:
        from tensorflow.python.client import device_lib

        devices = device_lib.list_local_devices()
    finally:
        uninstall()
    assert [(d.name, d.device_type) for d in devices] == [("/device:CPU:0", "CPU")]
    assert [d.name for d in devices if d.device_type == "GPU"] == []
