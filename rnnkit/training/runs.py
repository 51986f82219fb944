"""What defines a training run: its options, their per-task defaults, how a resumed run's recorded
options combine with the ones given, and the exit codes of ``train``.

Imports neither torch nor the library, so ``train --help`` (which shows the defaults) stays fast.

Example::

    config = resolve_config("sine", {"units": 8}, None, None)
    config["units"], config["epochs"]  # 8, 15 (the default for sine)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnnkit.training.files import CheckpointError

__all__ = [
    "DEFAULT_SEED",
    "EXIT_DIVERGED",
    "EXIT_INTERRUPTED",
    "EXIT_REFUSED",
    "RUN_KEYS",
    "TASK_DEFAULTS",
    "batch_too_small",
    "describe",
    "resolve_config",
]

EXIT_REFUSED = 2  # a bad option or file, or a failed write: one line on stderr
EXIT_DIVERGED = 3  # a non-finite loss or weight: training stopped, the last good files kept
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it (also when torchrun is gone)

# per-task defaults, measured to reach the targets in the README with margin
TASK_DEFAULTS: dict[str, dict[str, Any]] = {
    "sine": {
        "cell": "gru",
        "units": 32,
        "layers": 1,
        "bidirectional": False,
        "epochs": 15,
        "batch_size": 32,
        "lr": 0.01,
        "clip": 1.0,
    },
    "digits": {
        "cell": "lstm",
        "units": 128,
        "layers": 1,
        "bidirectional": True,
        "epochs": 30,
        "batch_size": 32,
        "lr": 0.005,
        "clip": 1.0,
    },
    "sunspots": {
        "cell": "gru",
        "units": 32,
        "layers": 1,
        "bidirectional": False,
        "epochs": 150,
        "batch_size": 16,
        "lr": 0.003,
        "clip": 1.0,
    },
}
# options that define a run; a resumed run takes the checkpoint's values for those not given
RUN_KEYS: tuple[str, ...] = (
    "cell",
    "units",
    "layers",
    "bidirectional",
    "epochs",
    "batch_size",
    "lr",
    "clip",
    "seed",
)
DEFAULT_SEED = 0


def resolve_config(
    task: str,
    explicit: dict[str, Any],
    saved: dict[str, Any] | None,
    saved_path: Path | None,
) -> dict[str, Any]:
    """The run config: ``explicit`` options (those given, keys of :data:`RUN_KEYS`), else the
    checkpoint's values ``saved`` (on resume), else the task's defaults.

    A resumed run refuses (:class:`CheckpointError` naming ``saved_path``) a checkpoint of another
    task and an explicit option that differs from the recorded one, except ``epochs``, which sets the
    total to reach.
    """
    if saved is None:
        config = {**TASK_DEFAULTS[task], "seed": DEFAULT_SEED, **explicit}
    else:
        assert saved_path is not None  # saved passed the schema (load_training_state)
        if saved["task"] != task:
            raise CheckpointError(
                saved_path, f"is a checkpoint of task {saved.get('task')!r}, not {task!r}"
            )
        for key, value in explicit.items():
            if key != "epochs" and saved[key] != value:
                option = "--" + key.replace("_", "-")
                raise CheckpointError(
                    saved_path,
                    f"does not match the requested run: it was trained with {option} {saved[key]}, "
                    f"not {value} (drop {option} or use another --out)",
                )
        config = {k: saved[k] for k in RUN_KEYS}
        config.update({k: v for k, v in explicit.items() if k == "epochs"})
    config["lr"] = float(config["lr"])
    config["clip"] = float(config["clip"])
    return {"task": task, **config}


def batch_too_small(batch_size: int, world_size: int) -> str:
    """The message refusing a global batch smaller than the number of processes sharing it."""
    return (
        f"argument --batch-size: {batch_size} is less than the {world_size} processes that share "
        "each batch"
    )


def describe(run: dict[str, Any]) -> str:
    """One line naming a run's task and options (in messages that refuse a folder)."""
    return (
        f"task {run['task']!r} ({run['cell']} x{run['units']}, {run['layers']} layer(s)"
        f"{', bidirectional' if run['bidirectional'] else ''}, {run['epochs']} epochs, batch "
        f"{run['batch_size']}, lr {run['lr']:g}, clip {run['clip']:g}, seed {run['seed']})"
    )
