"""How torch's OpenMP threads wait between parallel regions, chosen before torch is loaded.

libgomp (torch's OpenMP runtime on Linux) lets an idle worker spin for a while after each parallel
region before it sleeps, and reads that policy once, when torch loads it. On an idle machine the spin
saves a wake-up (microseconds); on a busy one (a laptop with a browser, a CI runner, a second job) a
spinning worker holds a core that the process's other thread, or another process, needs: a TF1
chapter-sized training step measured 175-530 ms under load against 16-60 ms with passive waiting, on
a 2-core machine (docs/benchmarks.md, "A busy machine"). So rnnkit asks for passive waiting when it is
imported before torch and the user has not chosen a policy: ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``
set in the environment always win, and ``RNNKIT_OMP_WAIT_POLICY=keep`` leaves the default alone.
Imported after torch, nothing can change: the runtime has read its settings.
"""

from __future__ import annotations

import os
import sys

__all__ = ["choose_wait_policy"]


def choose_wait_policy() -> str | None:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` for torch's OpenMP runtime when that is still possible and the
    user has not chosen; returns the policy set, or None where nothing was changed."""
    if "torch" in sys.modules:  # libgomp has already read its environment
        return None
    if os.environ.get("RNNKIT_OMP_WAIT_POLICY", "").lower() == "keep":
        return None
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return None
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    return "PASSIVE"
