"""How many torch threads a ``Session.run`` computes on: one while other processes keep the cores
busy.

Torch's OpenMP team (its products, oneDNN's LSTM, large elementwise ops) has every thread meet at
the end of each parallel region. When other processes leave less than one core free, the second
thread is often descheduled and the first waits a scheduler slice for it, on every small op of a
step: a 64x96x256 product measured 20 us median but 48 ms at the 90th percentile with two threads
at load 10 on two cores, 32 us flat with one. A run therefore computes on one thread while
:func:`rnnkit.engine.load.spare_cores` (``/proc/stat``, read at most every 0.25 s) reports less than
:data:`FREE_CORES` left free by others, and with torch's own setting otherwise.

Torch keeps the thread count per calling thread (OpenMP's setting is per thread; a new thread
starts from the last one set, so one started inside a lowered run starts on one), so each Python
thread that runs a session (queue runners included) lowers and restores its own: the first run
that finds the machine busy lowers it, a run that finds cores free again puts it back, and the
outermost run puts it back when it returns. On the 2-core VM this was measured on, sums, products,
``log_softmax`` and five Adam steps of LSTM models gave the same bits on one thread and on two; a
BLAS that splits a product by thread count would differ in float32 rounding.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from rnnkit.engine import load

__all__ = ["FREE_CORES", "run_threads"]

FREE_CORES = 1.0  # below this many cores left free by other processes, a run uses one thread

_state = threading.local()  # per thread: runs in flight, and torch's count while lowered (or 0)


@contextmanager
def run_threads() -> Iterator[None]:
    """Compute the body on one torch thread while the machine is busy (see the module's notes)."""
    st = _state
    if not hasattr(st, "depth"):  # this thread's first run
        st.depth, st.saved = 0, 0
    saved = st.saved
    busy = load.spare_cores() < FREE_CORES
    if busy and not saved:
        n = torch.get_num_threads()
        if n > 1:
            st.saved = n
            torch.set_num_threads(1)
    elif not busy and saved:
        torch.set_num_threads(saved)
        st.saved = 0
    st.depth += 1
    try:
        yield
    finally:
        st.depth -= 1
        if st.depth == 0 and st.saved:
            torch.set_num_threads(st.saved)
            st.saved = 0
