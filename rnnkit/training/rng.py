"""All RNG states training uses (torch, the data-order generator, Python, numpy, CUDA), as JSON-ready
values, and their restoration. The values are validated by :mod:`rnnkit.training.schema` on read;
anything torch or numpy still refuses is a :class:`CheckpointError`.

Example::

    states = get_rng_states(shuffle)          # saved in a checkpoint's JSON
    set_rng_states(json_path, states, shuffle)
"""

from __future__ import annotations

import base64
import os
import random
from typing import Any

import numpy as np
import torch

from rnnkit.training.files import CheckpointError

__all__ = ["get_rng_states", "set_rng_states"]


def _b64(t: torch.Tensor) -> str:
    return base64.b64encode(t.numpy().tobytes()).decode("ascii")


def _unb64(s: str) -> torch.Tensor:
    return torch.frombuffer(
        bytearray(base64.b64decode(s, validate=True)), dtype=torch.uint8
    ).clone()


def get_rng_states(generator: torch.Generator) -> dict[str, Any]:
    """All RNG states that training uses, as JSON-ready values."""
    py_state = random.getstate()
    np_state = np.random.get_state()
    states: dict[str, Any] = {
        "torch": _b64(torch.get_rng_state()),
        "shuffle": _b64(generator.get_state()),
        "python": [py_state[0], list(py_state[1]), py_state[2]],
        "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = [_b64(s) for s in torch.cuda.get_rng_state_all()]
    return states


def set_rng_states(
    json_path: str | os.PathLike[str], states: Any, generator: torch.Generator
) -> None:
    """Restore what :func:`get_rng_states` returned (validated by the schema on read)."""
    try:
        torch.set_rng_state(_unb64(states["torch"]))
        generator.set_state(_unb64(states["shuffle"]))
        version, internal, gauss = states["python"]
        if internal[-1] > 624:
            raise ValueError(f"position {internal[-1]} past the 624 words of the state")
        random.setstate((version, tuple(internal), gauss))
        name, keys, pos, has_gauss, cached = states["numpy"]
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
        if "cuda" in states and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([_unb64(s) for s in states["cuda"]])
    except (KeyError, ValueError, TypeError, RuntimeError, OverflowError) as e:
        raise CheckpointError(json_path, f"damaged RNG state ({type(e).__name__}: {e})") from None
