"""The training loop of ``python -m rnnkit train``: :func:`fit` and the steps it is made of.

:func:`fit` runs on every process of a job (one process without ``torchrun``), in five steps that
can each be called on their own:

1. :func:`open_run` -- refuse an ``--out`` that is not a folder, cannot be written or holds files
   rnnkit did not write; read the last checkpoint (``--resume``), or check that a fresh run replaces
   only an earlier run of the same task and options; make every process agree on where it starts;
   resolve the run's options (:func:`rnnkit.training.runs.resolve_config`).
2. :func:`check_config` -- the model those options make must fit its task and the size limits.
3. :func:`start` -- load the task's data, seed every RNG, build the model and Adam, then restore the
   checkpoint's weights, moments, RNG states and history (an exact resume), or clear an earlier
   run's checkpoints (a fresh run).
4. per remaining epoch, :func:`one_epoch` (one pass over the shuffled training rows; stops with
   :class:`TrainingDiverged` when the loss or a weight is not finite, before saving anything) and
   :func:`save_epoch` (the model files and an atomic checkpoint).
5. :func:`finish` -- test metrics, the model files, ``metrics.json``, the plots, one summary line.

Under ``torchrun`` a step that can fail on some processes only runs inside
:func:`rnnkit.training.distributed.together`: every process stops there and one says why. Only
rank 0 writes files and prints.

Example::

    with processes(info, device):
        result = fit(Request("sine", Path("runs/sine"), {"epochs": 2}), info, device)
    result["test_mae"]
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from rnnkit.training import checkpoint, distributed, runs
from rnnkit.training import data as task_data
from rnnkit.training.distributed import DistInfo
from rnnkit.training.files import CheckpointError, remove_stale_temp_files
from rnnkit.training.metrics import test_metrics
from rnnkit.training.models import build_model, meta_model, task_model_config
from rnnkit.training.plots import write_plots
from rnnkit.training.schema import MAX_PARAMETERS

__all__ = [
    "OUTPUT_FILES",
    "OptionRefused",
    "Opened",
    "Request",
    "Run",
    "TrainingDiverged",
    "check_config",
    "check_other_run",
    "check_out_dir",
    "finish",
    "fit",
    "one_epoch",
    "open_run",
    "processes",
    "save_epoch",
    "start",
]

# what train writes in --out besides checkpoints/ (stale temporary files of these are removed)
OUTPUT_FILES = (
    "model.safetensors",
    "config.json",
    "metrics.json",
    "loss.png",
    "confusion.png",
    "forecast.png",
)
ONE_PROCESS = DistInfo()
CPU = torch.device("cpu")


class TrainingDiverged(Exception):
    """The loss or the weights stopped being finite; ``str()`` is one line for the user."""


class OptionRefused(ValueError):
    """The options make a run that cannot be trained; ``str()`` is one line naming the option
    (``argument --units/--layers: ...``), for the command's usage error."""


@dataclass(frozen=True)
class Request:
    """What the user asked for: a ``task``, an output folder, the run options given (keys of
    :data:`rnnkit.training.runs.RUN_KEYS`; the others come from the checkpoint on ``resume``, else
    from the task's defaults), and whether progress lines replace the progress bar."""

    task: str
    out_dir: Path
    options: dict[str, Any] = field(default_factory=dict)
    resume: bool = False
    quiet: bool = False


@dataclass
class Opened:
    """What :func:`open_run` found: the run's ``config`` (task and run options) and, when resuming,
    the checkpoint's JSON path, its validated JSON and its tensors."""

    config: dict[str, Any]
    checkpoint: Path | None = None
    meta: dict[str, Any] | None = None
    model_tensors: dict[str, torch.Tensor] | None = None
    optimizer_tensors: dict[str, torch.Tensor] | None = None


@dataclass
class Run:
    """A run in progress: its options, data (on the device), model and optimizer, the data-order
    generator, and the epochs done (``epoch``, from ``start_epoch``) with their ``history``."""

    out_dir: Path
    config: dict[str, Any]
    model_config: dict[str, Any]
    data: task_data.TaskData
    device: torch.device
    model: torch.nn.Module
    net: torch.nn.Module  # the model, or its DistributedDataParallel wrapper
    optimizer: torch.optim.Optimizer
    shuffle: torch.Generator
    x_train: torch.Tensor
    y_train: torch.Tensor
    start_epoch: int = 0
    epoch: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    train_seconds: float = 0.0

    @property
    def task(self) -> str:
        return self.config["task"]

    @property
    def options(self) -> dict[str, Any]:
        """The run options (RUN_KEYS), as recorded in every file."""
        return {k: self.config[k] for k in runs.RUN_KEYS}

    @property
    def saved_config(self) -> dict[str, Any]:
        """What ``config.json`` records beside the model file."""
        return {"task": self.task, "model": self.model_config, "train": self.options}


def _refusals(info: DistInfo) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """``together`` for steps that refuse a file or a folder (exit code 2 on every process)."""
    return partial(distributed.together, info, (CheckpointError,), runs.EXIT_REFUSED)


# --------------------------------------------------------------------------- the process


@contextlib.contextmanager
def processes(info: DistInfo, device: torch.device) -> Iterator[None]:
    """Join the job's process group (a no-op for one process) with one torch thread per CPU
    process, unless ``OMP_NUM_THREADS`` says otherwise; leave it and restore the thread count after."""
    threads = torch.get_num_threads()
    if device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        # these models are small (B x H = 32 x 128 at most): one thread per process is fastest, and on a
        # busy machine extra threads that wait for each other are much slower
        torch.set_num_threads(1)
    distributed.start(info, device)
    try:
        yield
    finally:
        distributed.stop()
        torch.set_num_threads(threads)


# --------------------------------------------------------------------------- 1. open the run


def open_run(request: Request, info: DistInfo = ONE_PROCESS) -> Opened:
    """Check ``request.out_dir`` and find where the run starts (see the module docstring, step 1);
    :class:`CheckpointError` refuses a folder or file, on every process."""
    out_dir = request.out_dir
    together = _refusals(info)
    with together():
        if info.is_main:  # before any work: a file, an unwritable folder, a foreign checkpoint
            check_out_dir(out_dir)
        else:  # refuses a checkpoints folder holding files rnnkit did not write
            checkpoint.own_checkpoint_files(out_dir)
        ckpt_json = checkpoint.latest_checkpoint(out_dir) if request.resume else None
        meta = model_t = opt_t = None
        if ckpt_json is not None:
            meta, model_t, opt_t = checkpoint.load_training_state(ckpt_json)
        elif info.is_main:  # a fresh run replaces only an earlier run of the same task and options
            check_other_run(out_dir, runs.resolve_config(request.task, request.options, None, None))
    with together():
        # e.g. an --out on each machine's own disk: every process must resume from the same point
        resume_from = f"epoch {meta['epoch']} of {meta['config']}" if meta else "a fresh run"
        if not distributed.same(info, resume_from):
            raise CheckpointError(
                out_dir / checkpoint.CHECKPOINT_DIR,
                f"process {info.rank} would start from {resume_from}, another process from "
                "something else: every process must see the same --out folder",
            )
        saved = meta["config"] if meta else None
        config = runs.resolve_config(request.task, request.options, saved, ckpt_json)
    return Opened(config, ckpt_json, meta, model_t, opt_t)


def check_out_dir(out_dir: Path) -> None:
    """Refuse (CheckpointError) an ``--out`` that is not a folder, cannot be created or written, or
    whose checkpoints folder is not rnnkit's -- before any training, with a write probe in each folder
    (under rnnkit's own temporary-file names, removed at once)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise CheckpointError(out_dir, "is not a folder (--out must name a folder)")
    own = checkpoint.own_checkpoint_files(out_dir)
    # outputs are replaced only in an earlier run's folder (its checkpoints beside them): a file of
    # the same name in any other folder is the user's, and rnnkit never overwrites what it did not write
    theirs = [n for n in OUTPUT_FILES if os.path.lexists(out_dir / n)]
    if theirs and not own:
        raise CheckpointError(
            out_dir,
            f"holds {theirs[0]!r} but no rnnkit checkpoints: not an earlier run's folder, so rnnkit "
            "will not overwrite it (move it away or use another --out)",
        )
    for folder, prefix in (
        (out_dir, ".config.json.tmp-"),
        (out_dir / checkpoint.CHECKPOINT_DIR, ".epoch-0000.json.tmp-"),
    ):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=folder, prefix=prefix)
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise CheckpointError(folder, f"cannot be written ({e.strerror or e})") from None


def check_other_run(out_dir: Path, requested: dict[str, Any]) -> None:
    """Refuse (CheckpointError) a fresh run into a folder holding a run of another task or other
    options: its files would be replaced, or left beside the new ones (a forecast.png beside a
    confusion.png). A run of the same task and options is replaced (the same command again)."""
    found = checkpoint.recorded_run(out_dir)
    if found is None:
        return
    path, existing = found
    if all(existing.get(k) == requested[k] for k in ("task", *runs.RUN_KEYS)):
        return
    if existing["task"] == requested["task"]:
        changed = [k for k in runs.RUN_KEYS if existing.get(k) != requested[k]]
        options = " ".join(f"--{k.replace('_', '-')} {requested[k]}" for k in changed)
        todo = (
            f"`train {requested['task']} --resume --out {out_dir}` continues that run (with "
            f"--epochs N to train it longer); to start over with {options}, use another --out or "
            "delete the folder"
        )
    else:
        todo = f"to train {requested['task']!r}, use another --out or delete the folder"
    recorded = f"holds a run of {runs.describe(existing)}, recorded in {path.name}"
    raise CheckpointError(out_dir, f"{recorded}; {todo}")


# --------------------------------------------------------------------------- 2. check the options


def check_config(config: dict[str, Any], world_size: int = 1) -> dict[str, Any]:
    """The model config of a run ``config``; :class:`OptionRefused` when its task cannot take it,
    it would exceed :data:`rnnkit.training.schema.MAX_PARAMETERS`, or its batch is smaller than
    ``world_size`` (a resumed run's own batch size)."""
    task = config["task"]
    try:
        model_config = task_model_config(task, config)
    except ValueError:
        raise OptionRefused(f"argument --bidirectional: not available for task {task}") from None
    size = sum(p.numel() for p in meta_model(model_config).parameters())  # allocates nothing
    if size > MAX_PARAMETERS:
        raise OptionRefused(
            f"argument --units/--layers: the model would have {size} parameters, more than the "
            f"limit of {MAX_PARAMETERS}"
        )
    if config["batch_size"] < world_size:
        raise OptionRefused(runs.batch_too_small(config["batch_size"], world_size))
    return model_config


# --------------------------------------------------------------------------- 3. start or restore


def start(
    request: Request,
    opened: Opened,
    model_config: dict[str, Any],
    info: DistInfo = ONE_PROCESS,
    device: torch.device = CPU,
) -> Run:
    """Build the run's model and optimizer from its seed, then restore the checkpoint ``opened``
    found, or clear an earlier run's checkpoints; everything ends on ``device``."""
    config = opened.config
    data = task_data.load_task(config["task"])  # looked up at call time: tests replace it
    seed = config["seed"]
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    shuffle = torch.Generator().manual_seed(seed)
    model = build_model(model_config)  # initialised from the seeded global RNG
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    start_epoch, history, train_seconds = 0, [], 0.0
    out_dir = request.out_dir
    with _refusals(info)():
        meta, ckpt_json = opened.meta, opened.checkpoint
        if meta is not None:
            assert ckpt_json is not None
            checkpoint.load_state_into(
                ckpt_json.with_suffix(".safetensors"), model, opened.model_tensors
            )
            checkpoint.restore_optimizer(ckpt_json, optimizer, meta, opened.optimizer_tensors)
            checkpoint.set_rng_states(ckpt_json, meta["rng"], shuffle)
            start_epoch = meta["epoch"]
            history = list(meta["history"])
            train_seconds = float(meta["train_seconds"])
        elif request.resume and info.is_main:
            print(
                f"no checkpoint in {out_dir / checkpoint.CHECKPOINT_DIR}; starting from epoch 0",
                flush=True,
            )
        model.to(device)
        _optimizer_to(optimizer, device)
        if info.is_main:
            remove_stale_temp_files(out_dir, OUTPUT_FILES)  # left by a killed run: our names only
            if meta is None:  # a fresh run must never resume into an older run's checkpoint
                # only files rnnkit wrote, by name; refuses anything else
                checkpoint.clear_checkpoints(out_dir)
    net = DistributedDataParallel(model) if info.enabled else model
    return Run(
        out_dir=out_dir,
        config=config,
        model_config=model_config,
        data=data,
        device=device,
        model=model,
        net=net,
        optimizer=optimizer,
        shuffle=shuffle,
        x_train=data.x_train.to(device),
        y_train=data.y_train.to(device),
        start_epoch=start_epoch,
        epoch=start_epoch,
        history=history,
        train_seconds=train_seconds,
    )


def _optimizer_to(optimizer: torch.optim.Optimizer, device: torch.device) -> None:
    for state in optimizer.state.values():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and key != "step":
                state[key] = value.to(device)


# --------------------------------------------------------------------------- 4. epochs


def one_epoch(run: Run, info: DistInfo = ONE_PROCESS) -> dict[str, Any]:
    """Train ``run`` for one epoch and return its history entry (also appended to ``run.history``).

    Each global batch of ``batch_size`` shuffled rows is split across the processes (rank r takes
    rows r, r + world_size, ...), with the loss scaled so that DDP's average over processes is the
    mean over the global batch: N processes take the same steps as one. Raises
    :class:`TrainingDiverged` (on every process) when the epoch's sums, a weight or an Adam moment
    is not finite; nothing of that epoch is saved.
    """
    t0 = time.perf_counter()
    device, data, config = run.device, run.data, run.config
    classification = data.kind == "classification"
    per_example = 1 if classification else int(np.prod(data.y_train.shape[1:]))
    loss_fn = torch.nn.CrossEntropyLoss(reduction="sum") if classification else None
    n = len(run.x_train)
    run.net.train()
    perm = torch.randperm(n, generator=run.shuffle).to(device)
    totals = torch.zeros(3, dtype=torch.float64, device=device)  # loss sum, metric sum, count
    for begin in range(0, n, config["batch_size"]):
        batch = perm[begin : begin + config["batch_size"]]
        local, weight = batch[info.rank :: info.world_size], 1.0
        if len(local) == 0:  # a last batch of fewer rows than processes: this one still takes
            local, weight = batch[:1], 0.0  # part in DDP's all-reduce, adding nothing
        xb, yb = run.x_train[local], run.y_train[local]
        out = run.net(xb)
        if classification:
            loss_sum = loss_fn(out, yb) * weight
            metric_sum = (out.argmax(-1) == yb).sum() * weight
        else:
            diff = out - yb
            loss_sum = diff.square().sum() * weight
            metric_sum = diff.abs().sum() * data.target_std * weight
        # scaled so that DDP's average over processes is the mean over the global batch
        loss = loss_sum * (info.world_size / (len(batch) * per_example))
        run.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(run.model.parameters(), config["clip"])
        run.optimizer.step()
        totals += torch.stack(
            [
                loss_sum.detach().double(),
                metric_sum.detach().double(),
                torch.tensor(len(local) * per_example * weight, dtype=torch.float64, device=device),
            ]
        )
    distributed.all_reduce_sum(totals)
    epoch = run.epoch + 1
    if not _all_finite(totals, run.model, run.optimizer):  # the same answer on every process
        last = checkpoint.latest_checkpoint(run.out_dir) if info.is_main else None
        kept = f"the last good checkpoint {last} is kept" if last else "no epoch was saved"
        loss_value = totals[0].item() / max(1.0, totals[2].item())
        raise TrainingDiverged(
            f"training diverged in epoch {epoch} (loss {loss_value:.4g}"
            f", or a weight is not finite); stopped without saving it, {kept} (try a smaller "
            "--lr, or --clip)"
        )
    loss_total, metric_total, count = totals.tolist()
    count = max(count, 1.0)
    seconds = time.perf_counter() - t0
    entry = {
        "epoch": epoch,
        "train_loss": loss_total / count,
        "train_accuracy" if classification else "train_mae": metric_total / count,
        "seconds": round(seconds, 3),
    }
    run.history.append(entry)
    run.train_seconds += seconds
    run.epoch = epoch
    return entry


def _all_finite(
    totals: torch.Tensor, model: torch.nn.Module, optimizer: torch.optim.Optimizer
) -> bool:
    """Whether the epoch's sums, the weights and the optimizer's moments are all finite numbers."""
    tensors = [totals, *model.parameters()]
    tensors += [v for s in optimizer.state.values() for v in s.values() if torch.is_tensor(v)]
    return all(bool(torch.isfinite(t).all()) for t in tensors)


def save_epoch(run: Run, info: DistInfo = ONE_PROCESS) -> None:
    """Write the model files and the checkpoint of the epochs done (rank 0); a failed write (a full
    disk) stops every process with :class:`CheckpointError`."""
    with _refusals(info)():
        if info.is_main:
            checkpoint.save_model(run.out_dir, run.model, run.saved_config)
            state = {
                "config": {"task": run.task, **run.options},
                "rng": checkpoint.get_rng_states(run.shuffle),
                "history": run.history,
                "train_seconds": run.train_seconds,
            }
            checkpoint.save_training_state(run.out_dir, run.epoch, run.model, run.optimizer, state)


# --------------------------------------------------------------------------- 5. finish


def finish(run: Run, info: DistInfo = ONE_PROCESS) -> dict[str, Any] | None:
    """Compute the test metrics and write the model files, ``metrics.json`` and the plots (rank 0,
    which also prints one summary line and returns what ``metrics.json`` holds; None elsewhere)."""
    result = None
    with _refusals(info)():  # the files only rank 0 writes: every process learns whether they were
        if info.is_main:
            run.model.eval()
            metrics, predictions = test_metrics(run.model, run.data, run.device)
            result = {
                "task": run.task,
                **metrics,
                "epochs_completed": max(run.start_epoch, run.config["epochs"]),
                "resumed_from_epoch": run.start_epoch,
                "train_seconds": round(run.train_seconds, 3),
                "world_size": info.world_size,
                "device": str(run.device),
                "config": run.options,
                "history": run.history,
            }
            checkpoint.save_model(run.out_dir, run.model, run.saved_config)
            checkpoint.atomic_write_json(run.out_dir / "metrics.json", result)
            write_plots(run.out_dir, run.data, run.history, predictions)
            summary = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))
            print(
                f"{run.task}: {summary}; {run.train_seconds:.1f}s of training; wrote {run.out_dir}"
            )
    return result


# --------------------------------------------------------------------------- the whole run


def fit(
    request: Request, info: DistInfo = ONE_PROCESS, device: torch.device = CPU
) -> dict[str, Any] | None:
    """Train the run ``request`` describes to its total of epochs, from its last checkpoint when
    ``request.resume`` finds one, saving one after every epoch; returns what ``metrics.json`` holds
    (None on processes other than rank 0).

    Raises :class:`CheckpointError` (a folder or file refused, a failed write),
    :class:`OptionRefused`, :class:`TrainingDiverged`, and under ``torchrun``
    :class:`~rnnkit.training.distributed.PeerFailed` (another process stopped and said why) or
    :class:`~rnnkit.training.distributed.LauncherGone`. Call it inside :func:`processes`.
    """
    opened = open_run(request, info)
    model_config = check_config(opened.config, info.world_size)
    run = start(request, opened, model_config, info, device)
    metric = "acc" if run.data.kind == "classification" else "mae"
    progress = _Progress(
        info.is_main, request.quiet, run.start_epoch, run.config["epochs"], run.task, metric
    )
    for _ in range(run.start_epoch, run.config["epochs"]):
        with distributed.together(info, (distributed.LauncherGone,), runs.EXIT_INTERRUPTED):
            distributed.check_launcher()
        entry = one_epoch(run, info)
        save_epoch(run, info)
        progress.update(entry)
    progress.close()
    return finish(run, info)


class _Progress:
    """A tqdm bar over epochs on a terminal; one plain line per epoch otherwise or with --quiet."""

    def __init__(
        self, enabled: bool, quiet: bool, start: int, total: int, task: str, metric: str
    ) -> None:
        self.enabled, self.total, self.metric = enabled, total, metric
        self.bar = None
        if enabled and not quiet and sys.stdout.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=start, desc=f"train {task}", unit="epoch")

    def update(self, entry: dict[str, Any]) -> None:
        if not self.enabled:
            return
        metric = entry.get("train_accuracy", entry.get("train_mae"))
        if self.bar is not None:
            self.bar.set_postfix(
                loss=f"{entry['train_loss']:.4f}", **{self.metric: f"{metric:.4f}"}
            )
            self.bar.update(1)
        else:
            print(
                f"epoch {entry['epoch']}/{self.total}  loss {entry['train_loss']:.4f}  "
                f"train {self.metric} {metric:.4f}  ({entry['seconds']:.1f}s)",
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
