"""Which torch device a run uses (``--device`` of ``train`` and ``evaluate``)."""

from __future__ import annotations

import torch


def resolve_device(name: str, local_rank: int, distributed: bool) -> torch.device:
    """The torch device for ``--device name``; ValueError if it is not available."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"--device {name}: CUDA is not available on this machine")
        if name == "cuda":
            name = f"cuda:{local_rank if distributed else torch.cuda.current_device()}"
    return torch.device(name)
