"""``python -m rnnkit evaluate --checkpoint DIR``: rebuild a trained model and recompute its test metrics.

Reads ``DIR/config.json`` and ``DIR/model.safetensors`` (written by ``train``), loads the task's data
and prints the same test metrics ``train`` stored in ``DIR/metrics.json``. A missing, damaged or
mismatched file ends with a one-line error naming it and exit code 2.

Example::

    python -m rnnkit train digits --out runs/digits
    python -m rnnkit evaluate --checkpoint runs/digits
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import torch

from rnnkit.data import TaskData


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Options of the ``evaluate`` command."""
    from rnnkit.train import device_name

    parser.add_argument(
        "--checkpoint",
        required=True,
        metavar="DIR",
        help="a directory written by `train --out DIR`",
    )
    parser.add_argument(
        "--device", type=device_name, default="auto", help="auto (default), cpu, cuda or cuda:N"
    )
    parser.add_argument("--json", action="store_true", help="print the metrics as one JSON object")


@torch.no_grad()
def predict(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """The model's outputs for ``x (N, T, I)`` in evaluation mode, batched; on ``x``'s device."""
    was_training = model.training
    model.eval()
    try:
        parts = [model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(parts)


def test_metrics(
    model: torch.nn.Module, data: TaskData, device: torch.device | str = "cpu"
) -> tuple[dict[str, Any], torch.Tensor]:
    """``(metrics, predictions)`` on the test split.

    Classification: ``test_accuracy`` and ``baseline_accuracy`` (majority class); predictions are
    class ids ``(N,)``. Regression: ``test_mae`` and ``baseline_mae`` (persistence) in the data's
    original units; predictions are de-normalised values shaped like ``y_test``.
    """
    out = predict(model, data.x_test.to(device)).cpu()
    metrics: dict[str, Any] = {}
    if data.kind == "classification":
        pred = out.argmax(dim=-1)  # (N,)
        metrics["test_accuracy"] = float((pred == data.y_test).double().mean())
    else:
        pred = data.denormalize(out.double())
        truth = data.denormalize(data.y_test.double())
        metrics["test_mae"] = float((pred - truth).abs().mean())
    metrics.update(data.baseline)
    if "baseline_mae" in metrics:
        metrics["mae_ratio_to_baseline"] = metrics["test_mae"] / metrics["baseline_mae"]
    return metrics, pred


def run(args: argparse.Namespace) -> int:
    from rnnkit.checkpoint import CheckpointError, load_model
    from rnnkit.data import load_task
    from rnnkit.train import resolve_device

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
