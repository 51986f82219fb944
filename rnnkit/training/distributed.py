"""Multi-process training support: read torchrun's environment, start and stop the process group.

``torchrun`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` in every
process it starts; a plain ``python -m rnnkit train`` has none of them and runs as a world of one.
The backend is nccl for CUDA devices and gloo otherwise.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

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


class PeerFailed(Exception):
    """Another process stopped with an error, which it reported; this one stops with ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(f"another process stopped (exit code {code})")
        self.code = code


@contextlib.contextmanager
def together(
    info: DistInfo, failures: tuple[type[BaseException], ...], code: int
) -> Iterator[None]:
    """Run a block on every process, then agree on whether it failed anywhere.

    When the block raised one of ``failures`` on some processes, every process stops there: the
    lowest-ranked of those re-raises its own error (and reports it), the others raise
    :class:`PeerFailed` (``code``), which reports nothing. Without this, an error on one process
    (a file only rank 0 writes, a checkpoint only one machine sees) left the others waiting in a
    collective until gloo's timeout, or dying with a connection traceback. A world of one just
    runs the block.
    """
    if not info.enabled:
        yield
        return
    failed: BaseException | None = None
    try:
        yield
    except failures as e:
        failed = e
    first = torch.tensor([info.rank if failed is not None else info.world_size], device=_device())
    _all_reduce(first, dist.ReduceOp.MIN)
    if int(first) == info.rank:
        raise failed  # type: ignore[misc]
    if int(first) < info.world_size:
        raise PeerFailed(code)


def same(info: DistInfo, value: str) -> bool:
    """Whether every process holds the same ``value`` (compared by SHA-256; True for a world of
    one). Every process must call it."""
    if not info.enabled:
        return True
    digest = list(hashlib.sha256(value.encode()).digest())
    mine = torch.tensor(digest, dtype=torch.int64, device=_device())
    low, high = mine.clone(), mine.clone()
    _all_reduce(low, dist.ReduceOp.MIN)
    _all_reduce(high, dist.ReduceOp.MAX)
    return torch.equal(low, high)


class LauncherGone(Exception):
    """torchrun, which started this process, has exited without stopping it (a SIGKILL)."""


# The process that started this one, when it is torchrun's (see check_launcher)
_launcher: dict[str, int | None] = {"pid": None}


def check_launcher() -> None:
    """Raise :class:`LauncherGone` when torchrun, which started this process, is gone: killed with
    SIGKILL it cannot stop its workers, which run in their own sessions and would otherwise train to
    the end unwatched (and race a new run in the same --out). A no-op outside torchrun."""
    pid = _launcher["pid"]
    if pid is not None and os.getppid() != pid:
        raise LauncherGone(
            f"torchrun (process {pid}) is gone; stopped (what was saved stays valid: "
            "`train --resume` continues)"
        )


def start(info: DistInfo, device: torch.device) -> None:
    """Join the process group (no-op for a world of one)."""
    if info.enabled and not dist.is_initialized():
        _launcher["pid"] = os.getppid()
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)


def _device() -> torch.device:
    """Where this process group's collectives take their tensors (nccl: the current CUDA device)."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def stop() -> None:
    """Leave the process group if this process joined one."""
    _launcher["pid"] = None
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


# How long all_reduce_sum waits for the backend to let go of its tensor (it takes microseconds)
RELEASE_TIMEOUT_S = 10.0


def all_reduce_sum(t: torch.Tensor) -> torch.Tensor:
    """Sum ``t`` over all processes in place (identity for a world of one); returns ``t`` once the
    backend holds no reference to it (see :func:`_all_reduce`)."""
    if dist.is_available() and dist.is_initialized():
        _all_reduce(t, dist.ReduceOp.SUM)
    return t


def _all_reduce(t: torch.Tensor, op: Any) -> None:
    """``dist.all_reduce``, returning once the backend holds no reference to ``t``.

    Why wait: gloo marks a collective done before its worker thread drops the work, and with it the
    tensor (measured: 132 of 2000 calls returned with the worker still holding it). A barrier issued
    in that moment keeps the finished work, and frees it -- and this Python tensor -- on the worker
    thread when the barrier itself is freed, which can be after the interpreter began shutting down:
    the worker then cannot take the GIL and the process aborts ("terminate called without an active
    exception", SIGABRT, seen at the end of a two-process run).
    """
    held = t._use_count()
    dist.all_reduce(t, op=op)
    if dist.get_backend() == "gloo":  # nccl's works are freed by its watchdog, in its own time
        _wait_released(t, held)


def _wait_released(t: torch.Tensor, count: int, timeout: float = RELEASE_TIMEOUT_S) -> None:
    """Wait until no more than ``count`` references to ``t``'s tensor remain (at most ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while t._use_count() > count and time.monotonic() < deadline:
        time.sleep(1e-4)


def barrier() -> None:
    """Wait for every process (no-op for a world of one)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
