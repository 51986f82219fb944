"""Multi-process training support: read torchrun's environment, start and stop the process group.

``torchrun`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` in every
process it starts; a plain ``python -m rnnkit train`` has none of them and runs as a world of one.
The backend is nccl for CUDA devices and gloo otherwise.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the job: ``rank`` of ``world_size``, ``local_rank`` on its machine."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_env() -> DistInfo:
    """The :class:`DistInfo` described by torchrun's environment variables (a world of one without)."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError as e:
        raise ValueError(
            f"invalid torchrun environment (RANK/WORLD_SIZE/LOCAL_RANK): {e}"
        ) from None
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"invalid torchrun environment: RANK={rank}, WORLD_SIZE={world}")
    return DistInfo(rank=rank, world_size=world, local_rank=local)


def start(info: DistInfo, device: torch.device) -> None:
    """Join the process group (no-op for a world of one)."""
    if info.enabled and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)


def stop() -> None:
    """Leave the process group if this process joined one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


# How long all_reduce_sum waits for the backend to let go of its tensor (it takes microseconds)
RELEASE_TIMEOUT_S = 10.0


def all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum ``t`` over all processes in place (identity for a world of one); returns ``t`` once the
    backend holds no reference to it.

    Why wait: gloo marks a collective done before its worker thread drops the work, and with it the
    tensor (measured: 132 of 2000 calls returned with the worker still holding it). A barrier issued
    in that moment keeps the finished work, and frees it -- and this Python tensor -- on the worker
    thread when the barrier itself is freed, which can be after the interpreter began shutting down:
    the worker then cannot take the GIL and the process aborts ("terminate called without an active
    exception", SIGABRT, seen at the end of a two-process run).
    """
    if dist.is_available() and dist.is_initialized():
        held = t._use_count()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        if dist.get_backend() == "gloo":  # nccl's works are freed by its watchdog, in its own time
            _wait_released(t, held)
    return t


def _wait_released(t: torch.Tensor, count: int, timeout: float = RELEASE_TIMEOUT_S) -> None:
    """Wait until no more than ``count`` references to ``t``'s tensor remain (at most ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while t._use_count() > count and time.monotonic() < deadline:
        time.sleep(1e-4)


def barrier() -> None:
    """Wait for every process (no-op for a world of one)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
