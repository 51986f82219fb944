"""``python -m rnnkit train TASK``: train a recurrent model on bundled data, safely and reproducibly.

Tasks (see :mod:`rnnkit.data`): ``sine`` (sequence-to-sequence next value), ``digits`` (8x8 digits read
row by row, classification), ``sunspots`` (one-step-ahead yearly forecast, last 40 years held out).
The model is rnnkit cells run by ``dynamic_rnn`` with a linear head (:mod:`rnnkit.models`), trained
with Adam and gradient-norm clipping.

``--out DIR`` receives ``metrics.json``, ``model.safetensors`` + ``config.json`` and PNG plots; after
every epoch a checkpoint is written atomically under ``DIR/checkpoints``
(:mod:`rnnkit.training.checkpoint`), and ``--resume`` continues from the last complete one. Same seed,
same metrics (one process): the data order comes from a seeded ``torch.Generator`` whose state, like
every other RNG state, is saved.

Exit codes: 0 done; 2 refused before or during training (a bad option, a damaged, edited or mismatched
file, an ``--out`` that cannot be written or whose ``checkpoints`` folder holds files rnnkit did not
write, a failed write such as a full disk), with one line naming the option or file; 3 the training
diverged (a non-finite loss or weight): it stops, and the last good checkpoint and model files stay.

Under ``torchrun`` (``RANK``/``WORLD_SIZE`` set) the model is wrapped in DistributedDataParallel;
``--batch-size`` is the global batch, split across the processes, so N processes take the same steps
as one; only rank 0 writes files and prints.

Example::

    python -m rnnkit train digits --out runs/digits
    torchrun --standalone --nproc_per_node=2 -m rnnkit train digits --out runs/digits-ddp
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

from rnnkit.commands import EXIT_INTERRUPTED  # also when torchrun is gone
from rnnkit.commands._options import (
    device_name,
    int_in,
    non_negative_float,
    path_text,
    positive_float,
)
from rnnkit.training import schema

EXIT_REFUSED = 2  # a bad option or file, or a failed write: one line on stderr
EXIT_DIVERGED = 3  # a non-finite loss or weight: training stopped, the last good files kept
# what train writes in --out besides checkpoints/ (stale temporary files of these are removed)
OUTPUT_FILES = (
    "model.safetensors",
    "config.json",
    "metrics.json",
    "loss.png",
    "confusion.png",
    "forecast.png",
)

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
# the cells of --cell (bench --cells names the same ones); rnnkit.training.models.CELL_TYPES maps them
CELL_NAMES: tuple[str, ...] = ("rnn", "lstm", "gru")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Options of the ``train`` command (defaults of None are filled per task)."""
    d = TASK_DEFAULTS
    tasks = tuple(d)  # == rnnkit.training.data.TASKS, without importing torch for --help

    def per_task(key: str) -> str:  # the options' defaults are filled per task (and on --resume)
        values = {t: v[key] for t, v in d.items()}
        if len(set(values.values())) == 1:
            return f"(default: {next(iter(values.values()))})"
        return "(default: " + ", ".join(f"{v} for {t}" for t, v in values.items()) + ")"

    parser.add_argument("task", choices=tasks, help="what to learn: " + ", ".join(tasks))
    parser.add_argument(
        "--cell",
        choices=CELL_NAMES,
        default=None,
        help=f"recurrent cell {per_task('cell')}",
    )
    parser.add_argument(
        "--units",
        type=int_in(1, schema.MAX_UNITS),
        default=None,
        help=f"state width H {per_task('units')}",
    )
    parser.add_argument(
        "--layers",
        type=int_in(1, schema.MAX_LAYERS),
        default=None,
        help=f"stacked cells {per_task('layers')}",
    )
    parser.add_argument(
        "--bidirectional",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="read each sequence both ways: digits and sunspots only "
        "(default: on for digits, off for sunspots)",
    )
    parser.add_argument(
        "--epochs",
        type=int_in(1, schema.MAX_EPOCHS),
        default=None,
        help=f"total epochs to reach {per_task('epochs')}",
    )
    parser.add_argument(
        "--batch-size",
        type=int_in(1, schema.MAX_BATCH_SIZE),
        default=None,
        help=f"global batch size, all processes together {per_task('batch_size')}",
    )
    parser.add_argument(
        "--lr", type=positive_float, default=None, help=f"Adam learning rate {per_task('lr')}"
    )
    parser.add_argument(
        "--clip",
        type=non_negative_float,
        default=None,
        help=f"gradient-norm clip, 0 for none {per_task('clip')}",
    )
    parser.add_argument(
        "--seed",
        type=int_in(0, schema.MAX_SEED),
        default=None,
        help=f"random seed (default: {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--out",
        type=path_text,
        default=None,
        metavar="DIR",
        help="output folder (default: runs/TASK); a folder holding another run is refused",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its last complete epoch (options not given keep "
        "that run's values; --epochs may raise its total)",
    )
    parser.add_argument(
        "--device", type=device_name, default="auto", help="auto, cpu, cuda or cuda:N"
    )
    parser.add_argument(
        "--quiet", action="store_true", help="plain progress lines instead of a progress bar"
    )
    parser.epilog = (
        f"Exit codes: 0 done, {EXIT_REFUSED} a bad option or file (one line says which), "
        f"{EXIT_DIVERGED} the training diverged (the last good checkpoint is kept)."
    )


# --------------------------------------------------------------------------- configuration


def _resolve_config(
    args: argparse.Namespace, saved: dict[str, Any] | None, saved_path: Path | None
):
    """The run config: explicit options, else the checkpoint's values (on resume), else defaults."""
    from rnnkit.training.checkpoint import CheckpointError

    explicit = {k: getattr(args, k) for k in RUN_KEYS if getattr(args, k) is not None}
    if saved is None:
        config = {**TASK_DEFAULTS[args.task], "seed": DEFAULT_SEED, **explicit}
    else:
        assert saved_path is not None  # saved passed the schema (load_training_state)
        if saved["task"] != args.task:
            raise CheckpointError(
                saved_path, f"is a checkpoint of task {saved.get('task')!r}, not {args.task!r}"
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
    return {"task": args.task, **config}


# --------------------------------------------------------------------------- training


class TrainingDiverged(Exception):
    """The loss or the weights stopped being finite; ``str()`` is one line for the user."""


def _batch_too_small(batch_size: int, world_size: int) -> str:
    return (
        f"argument --batch-size: {batch_size} is less than the {world_size} processes that share "
        "each batch"
    )


def run(args: argparse.Namespace) -> int:
    """Train; returns the exit code (see the module docstring: 0, 2 refused, 3 diverged)."""
    from rnnkit.training import distributed as _distributed
    from rnnkit.training.checkpoint import CheckpointError

    if args.bidirectional and args.task == "sine":
        args._parser.error(
            "argument --bidirectional: not available for task sine (each step's prediction may "
            "only see the past)"
        )
    from rnnkit.training.devices import resolve_device

    try:
        info = _distributed.from_env()
        device = resolve_device(args.device, info.local_rank, info.enabled)
    except ValueError as e:
        print(f"rnnkit train: error: {e}", file=sys.stderr)
        return 2
    if args.batch_size is not None and args.batch_size < info.world_size:  # before any file is made
        args._parser.error(_batch_too_small(args.batch_size, info.world_size))
    import torch

    threads = torch.get_num_threads()
    if device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        # these models are small (B x H = 32 x 128 at most): one thread per process is fastest, and on a
        # busy machine extra threads that wait for each other are much slower
        torch.set_num_threads(1)
    _distributed.start(info, device)
    try:
        return _train(args, info, device)
    except CheckpointError as e:  # under torchrun, raised on one process only (see together)
        print(f"rnnkit train: error: {e}", file=sys.stderr)
        return EXIT_REFUSED
    except _distributed.PeerFailed as e:  # the process that failed said why
        return e.code
    except _distributed.LauncherGone as e:
        print(f"rnnkit train: {e}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except TrainingDiverged as e:  # every process agrees (_all_finite); the first one says so
        if info.is_main:
            print(f"rnnkit train: error: {e}", file=sys.stderr, flush=True)
        _distributed.barrier()  # printed before any process exits (torchrun stops the rest then)
        return EXIT_DIVERGED
    finally:
        _distributed.stop()
        torch.set_num_threads(threads)


def _train(args: argparse.Namespace, info, device) -> int:
    import numpy as np
    import torch
    from torch.nn.parallel import DistributedDataParallel

    from rnnkit.training import distributed as _distributed
    from rnnkit.training.checkpoint import (
        CHECKPOINT_DIR,
        CheckpointError,
        atomic_write_json,
        clear_checkpoints,
        get_rng_states,
        latest_checkpoint,
        load_state_into,
        load_training_state,
        own_checkpoint_files,
        restore_optimizer,
        save_model,
        save_training_state,
        set_rng_states,
    )
    from rnnkit.training.data import load_task
    from rnnkit.training.files import remove_stale_temp_files
    from rnnkit.training.metrics import test_metrics
    from rnnkit.training.models import build_model, meta_model, task_model_config
    from rnnkit.training.plots import write_plots

    out_dir = Path(args.out) if args.out else Path("runs") / args.task
    # Under torchrun, a step that can fail on some processes only runs `together`: all of them stop
    # there, and one says why (instead of the others waiting in a collective, or a traceback each)
    together = partial(_distributed.together, info, (CheckpointError,), EXIT_REFUSED)
    with together():
        if info.is_main:  # before any work: a file, an unwritable folder, a foreign checkpoint
            _check_out_dir(out_dir)
        else:  # refuses a checkpoints folder holding files rnnkit did not write
            own_checkpoint_files(out_dir)
        ckpt_json = latest_checkpoint(out_dir) if args.resume else None
        meta = model_t = opt_t = None
        if ckpt_json is not None:
            meta, model_t, opt_t = load_training_state(ckpt_json)
        elif info.is_main:  # a fresh run replaces only an earlier run of the same task and options
            _check_other_run(out_dir, _resolve_config(args, None, None))
    with together():
        # e.g. an --out on each machine's own disk: every process must resume from the same point
        resume_from = f"epoch {meta['epoch']} of {meta['config']}" if meta else "a fresh run"
        if not _distributed.same(info, resume_from):
            raise CheckpointError(
                out_dir / CHECKPOINT_DIR,
                f"process {info.rank} would start from {resume_from}, another process from "
                "something else: every process must see the same --out folder",
            )
        config = _resolve_config(args, meta["config"] if meta else None, ckpt_json)
    try:
        model_config = task_model_config(args.task, config)
    except ValueError:
        args._parser.error(f"argument --bidirectional: not available for task {args.task}")
    size = sum(p.numel() for p in meta_model(model_config).parameters())  # allocates nothing
    if size > schema.MAX_PARAMETERS:
        args._parser.error(
            f"argument --units/--layers: the model would have {size} parameters, more than the "
            f"limit of {schema.MAX_PARAMETERS}"
        )
    if config["batch_size"] < info.world_size:  # a resumed run's own batch size
        args._parser.error(_batch_too_small(config["batch_size"], info.world_size))
    data = load_task(args.task)

    seed = config["seed"]
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    shuffle = torch.Generator().manual_seed(seed)
    model = build_model(model_config)  # initialised from the seeded global RNG
    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"])
    start_epoch, history, train_seconds = 0, [], 0.0
    with together():
        if meta is not None:
            load_state_into(ckpt_json.with_suffix(".safetensors"), model, model_t)
            restore_optimizer(ckpt_json, optimizer, meta, opt_t)
            set_rng_states(ckpt_json, meta["rng"], shuffle)
            start_epoch = meta["epoch"]
            history = list(meta["history"])
            train_seconds = float(meta["train_seconds"])
        elif args.resume and info.is_main:
            print(f"no checkpoint in {out_dir / CHECKPOINT_DIR}; starting from epoch 0", flush=True)
        model.to(device)
        _optimizer_to(optimizer, device)
        if info.is_main:
            remove_stale_temp_files(out_dir, OUTPUT_FILES)  # left by a killed run: our names only
            if meta is None:  # a fresh run must never resume into an older run's checkpoint
                # only files rnnkit wrote, by name; refuses anything else
                clear_checkpoints(out_dir)
    net = DistributedDataParallel(model) if info.enabled else model
    saved_config = {
        "task": args.task,
        "model": model_config,
        "train": {k: config[k] for k in RUN_KEYS},
    }

    x_train = data.x_train.to(device)
    y_train = data.y_train.to(device)
    n = len(x_train)
    classification = data.kind == "classification"
    per_example = 1 if classification else int(np.prod(data.y_train.shape[1:]))
    loss_fn = torch.nn.CrossEntropyLoss(reduction="sum") if classification else None
    metric_name = "acc" if classification else "mae"

    progress = _Progress(
        info.is_main, args.quiet, start_epoch, config["epochs"], args.task, metric_name
    )
    for epoch in range(start_epoch, config["epochs"]):
        with _distributed.together(info, (_distributed.LauncherGone,), EXIT_INTERRUPTED):
            _distributed.check_launcher()
        t0 = time.perf_counter()
        net.train()
        perm = torch.randperm(n, generator=shuffle).to(device)
        totals = torch.zeros(3, dtype=torch.float64, device=device)  # loss sum, metric sum, count
        for begin in range(0, n, config["batch_size"]):
            batch = perm[begin : begin + config["batch_size"]]
            local, weight = batch[info.rank :: info.world_size], 1.0
            if len(local) == 0:  # a last batch of fewer rows than processes: this one still takes
                local, weight = batch[:1], 0.0  # part in DDP's all-reduce, adding nothing
            xb, yb = x_train[local], y_train[local]
            out = net(xb)
            if classification:
                loss_sum = loss_fn(out, yb) * weight
                metric_sum = (out.argmax(-1) == yb).sum() * weight
            else:
                diff = out - yb
                loss_sum = diff.square().sum() * weight
                metric_sum = diff.abs().sum() * data.target_std * weight
            # scaled so that DDP's average over processes is the mean over the global batch
            loss = loss_sum * (info.world_size / (len(batch) * per_example))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config["clip"] > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config["clip"])
            optimizer.step()
            totals += torch.stack(
                [
                    loss_sum.detach().double(),
                    metric_sum.detach().double(),
                    torch.tensor(
                        len(local) * per_example * weight, dtype=torch.float64, device=device
                    ),
                ]
            )
        _distributed.all_reduce_sum(totals)
        if not _all_finite(totals, model, optimizer):  # the same answer on every process
            last = latest_checkpoint(out_dir) if info.is_main else None
            kept = f"the last good checkpoint {last} is kept" if last else "no epoch was saved"
            raise TrainingDiverged(
                f"training diverged in epoch {epoch + 1} (loss {totals[0].item() / max(1.0, totals[2].item()):.4g}"
                f", or a weight is not finite); stopped without saving it, {kept} (try a smaller "
                "--lr, or --clip)"
            )
        loss_sum, metric_sum, count = totals.tolist()
        count = max(count, 1.0)
        seconds = time.perf_counter() - t0
        entry = {
            "epoch": epoch + 1,
            "train_loss": loss_sum / count,
            "train_accuracy" if classification else "train_mae": metric_sum / count,
            "seconds": round(seconds, 3),
        }
        history.append(entry)
        train_seconds += seconds
        with together():  # a failed write (a full disk) stops every process
            if info.is_main:
                save_model(out_dir, model, saved_config)
                state = {
                    "config": {"task": args.task, **{k: config[k] for k in RUN_KEYS}},
                    "rng": get_rng_states(shuffle),
                    "history": history,
                    "train_seconds": train_seconds,
                }
                save_training_state(out_dir, epoch + 1, model, optimizer, state)
        progress.update(entry)
    progress.close()

    with together():  # the files only rank 0 writes: every process learns whether they were written
        if info.is_main:
            model.eval()
            metrics, predictions = test_metrics(model, data, device)
            result = {
                "task": args.task,
                **metrics,
                "epochs_completed": max(start_epoch, config["epochs"]),
                "resumed_from_epoch": start_epoch,
                "train_seconds": round(train_seconds, 3),
                "world_size": info.world_size,
                "device": str(device),
                "config": {k: config[k] for k in RUN_KEYS},
                "history": history,
            }
            save_model(out_dir, model, saved_config)
            atomic_write_json(out_dir / "metrics.json", result)
            write_plots(out_dir, data, history, predictions)
            summary = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items() if isinstance(v, float))
            print(f"{args.task}: {summary}; {train_seconds:.1f}s of training; wrote {out_dir}")
    return 0


def _check_out_dir(out_dir: Path) -> None:
    """Refuse (CheckpointError) an ``--out`` that is not a folder, cannot be created or written, or
    whose checkpoints folder is not rnnkit's -- before any training, with a write probe in each folder
    (under rnnkit's own temporary-file names, removed at once)."""
    import tempfile

    from rnnkit.training.checkpoint import CHECKPOINT_DIR, own_checkpoint_files
    from rnnkit.training.files import CheckpointError

    if out_dir.exists() and not out_dir.is_dir():
        raise CheckpointError(out_dir, "is not a folder (--out must name a folder)")
    own = own_checkpoint_files(out_dir)
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
        (out_dir / CHECKPOINT_DIR, ".epoch-0000.json.tmp-"),
    ):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=folder, prefix=prefix)
            os.close(fd)
            os.unlink(probe)
        except OSError as e:
            raise CheckpointError(folder, f"cannot be written ({e.strerror or e})") from None


def _describe(run: dict[str, Any]) -> str:
    return (
        f"task {run['task']!r} ({run['cell']} x{run['units']}, {run['layers']} layer(s)"
        f"{', bidirectional' if run['bidirectional'] else ''}, {run['epochs']} epochs, batch "
        f"{run['batch_size']}, lr {run['lr']:g}, clip {run['clip']:g}, seed {run['seed']})"
    )


def _check_other_run(out_dir: Path, requested: dict[str, Any]) -> None:
    """Refuse (CheckpointError) a fresh run into a folder holding a run of another task or other
    options: its files would be replaced, or left beside the new ones (a forecast.png beside a
    confusion.png). A run of the same task and options is replaced (the same command again)."""
    from rnnkit.training.checkpoint import recorded_run
    from rnnkit.training.files import CheckpointError

    found = recorded_run(out_dir)
    if found is None:
        return
    path, existing = found
    if all(existing.get(k) == requested[k] for k in ("task", *RUN_KEYS)):
        return
    if existing["task"] == requested["task"]:
        changed = [k for k in RUN_KEYS if existing.get(k) != requested[k]]
        options = " ".join(f"--{k.replace('_', '-')} {requested[k]}" for k in changed)
        todo = (
            f"`train {requested['task']} --resume --out {out_dir}` continues that run (with "
            f"--epochs N to train it longer); to start over with {options}, use another --out or "
            "delete the folder"
        )
    else:
        todo = f"to train {requested['task']!r}, use another --out or delete the folder"
    recorded = f"holds a run of {_describe(existing)}, recorded in {path.name}"
    raise CheckpointError(out_dir, f"{recorded}; {todo}")


def _all_finite(totals, model, optimizer) -> bool:
    """Whether the epoch's sums, the weights and the optimizer's moments are all finite numbers."""
    import torch

    tensors = [totals, *model.parameters()]
    tensors += [v for s in optimizer.state.values() for v in s.values() if torch.is_tensor(v)]
    return all(bool(torch.isfinite(t).all()) for t in tensors)


def _optimizer_to(optimizer, device) -> None:
    import torch

    for state in optimizer.state.values():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and key != "step":
                state[key] = value.to(device)


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
