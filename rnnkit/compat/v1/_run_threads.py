"""How many torch threads a ``Session.run`` computes on: one while other processes keep the cores busy.

Torch's OpenMP team (its products, oneDNN's LSTM, large elementwise ops) has every thread meet at
the end of each parallel region. When other processes leave less than one core free, the second
thread is often descheduled and the first waits a scheduler slice for it, on every small op of a
step: a 64x96x256 product measured 20 us median but 48 ms at the 90th percentile with two threads
at load 10 on two cores, 32 us flat with one. A run therefore computes on one thread while
:func:`rnnkit.engine.load.spare_cores` (``/proc/stat``, read at most every 0.25 s) reports less than
:data:`FREE_CORES` left free by others, and with torch's own setting otherwise.

The setting is torch's, for the whole process, so runs share it: the first run that finds the
machine busy lowers it, a run that finds cores free again puts it back, and it is put back when the
last run in flight (runs of queue-runner threads included) returns. Torch's products and reductions
on CPU split their work the same way whatever the thread count (checked: sums, products,
``log_softmax``), so the values do not depend on it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from rnnkit.engine import load

__all__ = ["FREE_CORES", "run_threads"]

FREE_CORES = 1.0  # below this many cores left free by other processes, a run uses one thread

_lock = threading.Lock()
_active = 0  # runs in flight
_saved = 0  # torch's thread count while lowered to one, else 0


@contextmanager
def run_threads() -> Iterator[None]:
    """Compute the body on one torch thread while the machine is busy (see the module's notes)."""
    global _active, _saved
    with _lock:
        busy = load.spare_cores() < FREE_CORES
        if busy and not _saved:
            n = torch.get_num_threads()
            if n > 1:
                _saved = n
                torch.set_num_threads(1)
        elif not busy and _saved:
            torch.set_num_threads(_saved)
            _saved = 0
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _saved:
                torch.set_num_threads(_saved)
                _saved = 0
