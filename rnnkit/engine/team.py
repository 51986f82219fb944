r"""Two pieces of the engine's work at once, on torch's own OpenMP threads.

Why torch's threads: torch's OpenMP workers (libgomp) keep spinning for milliseconds after every
parallel torch op, so a thread of our own started after one shares its core with a spinning worker
(measured on the 2-core machine: two halves of a per-step loop took 21.4 ms on a Python thread against
27 ms one after the other). Started as an OpenMP parallel region of torch's own libgomp
(``GOMP_parallel``, what ``#pragma omp parallel`` compiles to), the work lands on that worker instead:
15 ms. The region's body is a ctypes callback; each thread runs one piece, whose heavy parts (the numba
kernels, OpenBLAS) release the GIL. Torch ops inside the region run inline on their thread (ATen does
not nest parallel regions).

Available where torch runs on libgomp (its Linux wheels) with at least two threads; elsewhere, or when
another thread is already using it, :func:`run_both` runs the two pieces one after the other.

Example::

    a, b = run_both(lambda: work(0), lambda: work(1))
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from rnnkit.engine import load

__all__ = ["available", "run_both", "on_worker", "SPARE_FOR_TWO"]

# Two pieces run at once only while other processes leave at least this many cores free
SPARE_FOR_TWO = 1.5

_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_state: dict[str, Any] = {"lib": None, "checked": False}
_lock = threading.Lock()
# While a region runs: [(piece, [result, error])] for the first and the second piece
_job: list[Any] = []
# What must outlive the worker callback's Python thread state, handed to the on_worker hooks
_worker_keep: dict[str, Any] = {}
_on_worker: list[Callable[[dict], None]] = []


def _torch_libgomp() -> Any:
    """torch's libgomp (already loaded by torch), or None."""
    if "OpenMP" not in torch.__config__.parallel_info():
        return None
    root = Path(torch.__file__).resolve().parent
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:  # not Linux
        return None
    for line in maps.splitlines():
        fields = line.split()
        path = fields[-1] if fields else ""
        name = os.path.basename(path)
        if name.startswith("libgomp") and (str(root) in path or "torch.libs" in path):
            lib = ctypes.CDLL(path)  # the loaded copy (same handle)
            if all(hasattr(lib, f) for f in ("GOMP_parallel", "omp_get_thread_num")):
                lib.GOMP_parallel.argtypes = [
                    _CALLBACK,
                    ctypes.c_void_p,
                    ctypes.c_uint,
                    ctypes.c_uint,
                ]
                lib.GOMP_parallel.restype = None
                lib.omp_get_thread_num.restype = ctypes.c_int
                lib.omp_get_num_threads.restype = ctypes.c_int
                return lib
    return None


def available() -> bool:
    """Whether :func:`run_both` can run its two pieces at once: torch on libgomp with 2+ threads, and
    two cores that other processes leave free (:func:`rnnkit.engine.load.spare_cores`; on a busy
    machine the two pieces would wait for each other's core)."""
    if not _state["checked"]:
        _state["lib"] = _torch_libgomp()
        _state["checked"] = True
    return (
        _state["lib"] is not None
        and torch.get_num_threads() >= 2
        and load.spare_cores() >= SPARE_FOR_TWO
    )


def _run(index: int) -> None:
    piece, slot = _job[index]
    try:
        slot[0] = piece()
    except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
        slot[1] = exc


def _body(_: Any) -> None:
    lib = _state["lib"]
    i, n = lib.omp_get_thread_num(), lib.omp_get_num_threads()
    if n < 2:  # the runtime gave one thread: both pieces here
        _run(1)
        _run(0)
        return
    if i == 0:
        _run(1)  # the calling thread takes the second piece
    elif i == 1:
        for hook in _on_worker:
            hook(_worker_keep)
        with torch.no_grad():  # grad mode is per thread; a fresh one starts with it on
            _run(0)


_callback = _CALLBACK(_body)  # kept alive for the process


def run_both(first: Callable[[], Any], second: Callable[[], Any]) -> tuple[Any, Any]:
    """``(first(), second())``, at once when :func:`available` (``first`` on torch's OpenMP worker,
    under ``torch.no_grad``; ``second`` on the calling thread), else one after the other. An exception
    in either is raised here after both have finished."""
    if not available() or not _lock.acquire(blocking=False):
        return first(), second()
    try:
        slots: list[list[Any]] = [[None, None], [None, None]]
        _job[:] = [(first, slots[0]), (second, slots[1])]
        _state["lib"].GOMP_parallel(_callback, None, 2, 0)
        _job.clear()
    finally:
        _lock.release()
    for _, error in slots:
        if error is not None:
            raise error
    return slots[0][0], slots[1][0]


def on_worker(hook: Callable[[dict], None]) -> None:
    """Register ``hook(persistent_dict)``, called on the worker thread before each piece it runs
    (the callback's Python thread state, and so its ``threading.local`` data, is new each time)."""
    _on_worker.append(hook)
