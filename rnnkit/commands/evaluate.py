"""``python -m rnnkit evaluate --checkpoint DIR``: rebuild a trained model and recompute its test metrics.

Reads ``DIR/config.json`` and ``DIR/model.safetensors`` (written by ``train``), loads the task's data
and prints the same test metrics ``train`` stored in ``DIR/metrics.json``. A missing, damaged or
mismatched file ends with a one-line error naming it and exit code 2; what is verified is listed in
:mod:`rnnkit.training.checkpoint`.

Example::

    python -m rnnkit train digits --out runs/digits
    python -m rnnkit evaluate --checkpoint runs/digits
"""

from __future__ import annotations

import argparse
import json
import sys

from rnnkit.commands._options import device_name, path_text


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Options of the ``evaluate`` command."""
    parser.add_argument(
        "--checkpoint",
        type=path_text,
        required=True,
        metavar="DIR",
        help="a directory written by train --out DIR",
    )
    parser.add_argument(
        "--device", type=device_name, default="auto", help="auto, cpu, cuda or cuda:N"
    )
    parser.add_argument("--json", action="store_true", help="print the metrics as one JSON object")


def run(args: argparse.Namespace) -> int:
    from rnnkit.training.checkpoint import CheckpointError, load_model
    from rnnkit.training.data import load_task
    from rnnkit.training.devices import resolve_device
    from rnnkit.training.metrics import test_metrics

    try:
        device = resolve_device(args.device, local_rank=0, distributed=False)
    except ValueError as e:
        print(f"rnnkit evaluate: error: {e}", file=sys.stderr)
        return 2
    try:
        model, config = load_model(args.checkpoint, device=device)
    except CheckpointError as e:
        print(f"rnnkit evaluate: error: {e}", file=sys.stderr)
        return 2
    data = load_task(config["task"])
    metrics, _ = test_metrics(model, data, device)
    if args.json:
        print(json.dumps(metrics, sort_keys=True))
    else:
        print(f"{config['task']} ({args.checkpoint}):")
        for key, value in metrics.items():
            print(f"  {key:24s} {value:.4f}")
    return 0
