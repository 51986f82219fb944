"""Test metrics of a trained sequence model (used by ``train`` after training and by ``evaluate``)."""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.training.data import TaskData


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
