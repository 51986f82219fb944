"""How many cores the rest of the machine leaves free, for the engine's choice of threads.

The engine can run a layer's two halves at once on two threads, and its large products on several
BLAS threads. That pays only when the cores are free: when another process keeps a core busy, two
threads that must meet at the end of each piece wait for whichever one the scheduler put aside, and a
2-core machine with one busy process beside rnnkit ran such steps several times slower than on one
thread. So the engine asks :func:`spare_cores` before it splits work.

It reads the machine's busy CPU time (``/proc/stat``) and this process's own (all its threads, from
``time.process_time``) twice, at least :data:`INTERVAL` seconds apart, and reports the cores that
*other* processes did not use in between; between two readings it answers from the last one, so a
call costs a clock read. Where ``/proc/stat`` cannot be read (not Linux), every core counts as free.

:func:`adaptive_threads` applies the same reading to torch's own thread team, around a whole
training step (``Session.run`` of ``rnnkit.compat.v1`` uses it for every run). Torch's OpenMP team
(its products, oneDNN's LSTM, elementwise ops of 2,048 elements and more) has every thread meet at
the end of each parallel region; a thread the scheduler puts aside for another process makes the
others wait for it on every op: a 64x96x256 product measured 20 us median but 48 ms at the 90th
percentile with two threads at load 10 on two cores, 32 us flat with one, and a ``tanh`` of 4,000
elements 7 us idle but 20-640 us with two threads beside one busy process, 10 us with one. So the
body computes on one torch thread per core that other processes leave free (:func:`spare_cores`,
rounded down after adding :data:`SLACK`), at most torch's own setting: on two cores, one busy
process beside a training step leaves it one thread (the chapter's compat step at load 1: 2.5x its
idle time with two threads, 1.6x with one). Torch keeps the thread count per calling thread
(OpenMP's setting is per thread; a new thread starts from the last one set), so each Python thread
lowers and restores its own: a call sets the count the machine allows now, and the outermost call
puts torch's setting back when it returns. Values differ between one thread and two by float32
rounding only: on one torch thread the engine's large products run on OpenBLAS rather than torch's
``mm`` (``rnnkit.engine.cpu._tmm``), and a BLAS may split a product differently by thread count.

Example::

    if spare_cores() >= 2:
        run_two_halves_at_once()

    with adaptive_threads():  # one training step
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["INTERVAL", "SLACK", "spare_cores", "cores", "threads_for_step", "adaptive_threads"]

INTERVAL = 0.25  # seconds between two readings of /proc/stat
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# [monotonic time, machine busy seconds, process CPU seconds, spare cores] of the last reading
_last: list[float] | None = None


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _machine_busy_seconds() -> float | None:
    """CPU seconds all cores have spent busy since boot (user, nice, system, irq, softirq, steal)."""
    try:
        with open("/proc/stat", "rb") as f:
            fields = f.readline().split()
    except OSError:  # pragma: no cover - not Linux
        return None
    if not fields or fields[0] != b"cpu":
        return None
    ticks = [int(v) for v in fields[1:9]] + [0] * max(0, 9 - len(fields))
    user, nice, system, _idle, _iowait, irq, softirq, steal = ticks[:8]
    return (user + nice + system + irq + softirq + steal) / _TICK


def spare_cores() -> float:
    """Cores not used by other processes over the last interval (between 0 and :func:`cores`)."""
    global _last
    now = time.monotonic()
    if _last is not None and now - _last[0] < INTERVAL:
        return _last[3]
    busy, mine, n = _machine_busy_seconds(), time.process_time(), cores()
    if busy is None:
        _last = [now, 0.0, mine, float(n)]
        return float(n)
    spare = float(n)
    if _last is not None:
        wall = now - _last[0]
        others = max(0.0, (busy - _last[1]) - (mine - _last[2])) / wall
        spare = min(float(n), max(0.0, n - others))
    _last = [now, busy, mine, spare]
    return spare


# a core counts as free when others leave at least 1 - SLACK of it (the rest of an idle machine's
# daemons, a shell)
SLACK = 0.25

_threads = threading.local()  # per thread: calls in flight, and torch's count while lowered (or 0)


def threads_for_step(own: int) -> int:
    """Torch threads for a step now: one per core other processes leave free, at most ``own``."""
    return max(1, min(own, int(spare_cores() + SLACK)))


@contextmanager
def adaptive_threads() -> Iterator[None]:
    """Run the body on :func:`threads_for_step` torch threads (torch's own setting when the machine
    is otherwise idle; see the module's notes); nests, and each Python thread keeps its own
    setting."""
    import torch

    st = _threads
    if not hasattr(st, "depth"):  # this thread's first call
        st.depth, st.saved = 0, 0
    own = st.saved or torch.get_num_threads()
    want = threads_for_step(own)
    if want != torch.get_num_threads():
        torch.set_num_threads(want)
    st.saved = own if want != own else 0
    st.depth += 1
    try:
        yield
    finally:
        st.depth -= 1
        if st.depth == 0 and st.saved:
            torch.set_num_threads(st.saved)
            st.saved = 0
