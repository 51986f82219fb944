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

The command parses the options and calls :func:`rnnkit.training.loop.fit`, which does the training
(restore or start, epochs, checkpoints, the final files); it maps what ``fit`` raises to exit codes.

Example::

    python -m rnnkit train digits --out runs/digits
    torchrun --standalone --nproc_per_node=2 -m rnnkit train digits --out runs/digits-ddp
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rnnkit.commands._options import (
    device_name,
    int_in,
    non_negative_float,
    path_text,
    positive_float,
)
from rnnkit.training import schema
from rnnkit.training.runs import (
    DEFAULT_SEED,
    EXIT_DIVERGED,
    EXIT_INTERRUPTED,
    EXIT_REFUSED,
    RUN_KEYS,
    TASK_DEFAULTS,
    batch_too_small,
)

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


def run(args: argparse.Namespace) -> int:
    """Train; returns the exit code (see the module docstring: 0, 2 refused, 3 diverged)."""
    from rnnkit.training import distributed
    from rnnkit.training.devices import resolve_device
    from rnnkit.training.files import CheckpointError

    if args.bidirectional and args.task == "sine":
        args._parser.error(
            "argument --bidirectional: not available for task sine (each step's prediction may "
            "only see the past)"
        )
    try:
        info = distributed.from_env()
        device = resolve_device(args.device, info.local_rank, info.enabled)
    except ValueError as e:
        print(f"rnnkit train: error: {e}", file=sys.stderr)
        return EXIT_REFUSED
    if args.batch_size is not None and args.batch_size < info.world_size:  # before any file is made
        args._parser.error(batch_too_small(args.batch_size, info.world_size))
    from rnnkit.training import loop

    request = loop.Request(
        task=args.task,
        out_dir=Path(args.out) if args.out else Path("runs") / args.task,
        options={k: getattr(args, k) for k in RUN_KEYS if getattr(args, k) is not None},
        resume=args.resume,
        quiet=args.quiet,
    )
    with loop.processes(info, device):
        try:
            loop.fit(request, info, device)
            return 0
        except loop.OptionRefused as e:  # the same on every process (they agreed on the config)
            args._parser.error(str(e))
        except CheckpointError as e:  # under torchrun, raised on one process only (see together)
            print(f"rnnkit train: error: {e}", file=sys.stderr)
            return EXIT_REFUSED
        except distributed.PeerFailed as e:  # the process that failed said why
            return e.code
        except distributed.LauncherGone as e:
            print(f"rnnkit train: {e}", file=sys.stderr)
            return EXIT_INTERRUPTED
        except loop.TrainingDiverged as e:  # every process agrees (one_epoch); the first says so
            if info.is_main:
                print(f"rnnkit train: error: {e}", file=sys.stderr, flush=True)
            distributed.barrier()  # printed before any process exits (torchrun stops the rest then)
            return EXIT_DIVERGED
