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

Example::

    if spare_cores() >= 2:
        run_two_halves_at_once()
"""

from __future__ import annotations

import os
import time

__all__ = ["INTERVAL", "spare_cores", "cores"]

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
