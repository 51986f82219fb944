r"""Keeping freed memory for reuse: an opt-in process setting for machines where touching fresh memory
is expensive.

Why: glibc's malloc serves large blocks (from 128 KiB, adapting up to 32 MiB) with ``mmap`` and hands
them back to the OS on ``free``, and trims the top of its heap once enough of it is free. The next
block of that size is fresh memory again, and every page of it faults on first touch. On the
project's 2-vCPU VM (Firecracker, with the kernel's DAMON reclaiming idle memory) a fault costs about
2 us, so an LSTM layer whose training run allocates its workspace, outputs and gradients afresh on
every call spends a large part of its time in faults: measured at M (B=64, T=200, I=128, H=256)
forward+backward, torch's own ``nn.LSTM`` 159 ms by default and 84 ms with freed memory kept; rnnkit's
LSTM 120 and 86 ms (docs/bench_engine.md). PyTorch's CPU performance guide makes the same point with
jemalloc or tcmalloc under ``LD_PRELOAD``; this is the same effect without another allocator.

It changes the whole process (torch's allocations too) and the memory stays with the process, up to
``limit_bytes`` freed at the top of the heap, so it is never done on import: call
:func:`retain_freed_memory` in a training script, or pass ``--retain-memory`` to ``python -m rnnkit
bench``. The same through the environment, before Python starts:
``MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824``.

Example::

    import rnnkit.engine
    rnnkit.engine.retain_freed_memory()          # keep up to 1 GiB of freed memory
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

from rnnkit._validation import check_int_range

__all__ = ["retain_freed_memory", "retaining"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_state: dict[str, Any] = {"limit": 0}


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        lib = ctypes.CDLL(name)
    except OSError:  # pragma: no cover - no C library by that name
        return None
    if not hasattr(lib, "mallopt") or not hasattr(lib, "gnu_get_libc_version"):
        return None  # not glibc (musl, macOS, Windows): nothing to set
    lib.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.mallopt.restype = ctypes.c_int
    return lib


def retain_freed_memory(limit_bytes: int = 1 << 30) -> bool:
    """Make glibc's malloc serve blocks of up to ``limit_bytes`` from its heap and keep up to
    ``limit_bytes`` of freed memory there, instead of returning both to the OS after each use.

    Returns True when set; False where the C library is not glibc (then nothing changes). For the
    whole process and not undone; see the module's docstring for what it buys and costs.

    Raises:
        TypeError / ValueError: ``limit_bytes`` not an integer from 1 to 2^31 - 1 (glibc's ``int``).
    """
    limit = check_int_range("limit_bytes", limit_bytes, 1, (1 << 31) - 1)  # glibc takes an int
    lib = _libc()
    if lib is None:
        return False
    if not (lib.mallopt(_M_MMAP_THRESHOLD, limit) and lib.mallopt(_M_TRIM_THRESHOLD, limit)):
        return False  # pragma: no cover - glibc refused the values
    _state["limit"] = limit
    return True


def retaining() -> int:
    """The limit set by :func:`retain_freed_memory` in this process, 0 if it was not called."""
    return int(_state["limit"])
