"""The plots of a training run: ``loss.png``, and ``confusion.png`` (classification) or
``forecast.png`` (regression), rendered with matplotlib's Agg backend and written atomically (a killed
or failing run never leaves a half-written PNG).

Example::

    write_plots(out_dir, data, history, predictions)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnnkit.training.files import atomic_write_bytes

__all__ = ["figures", "save_figure", "write_plots"]


def save_figure(fig, path: Path) -> None:
    """Render ``fig`` as PNG in memory, then write it atomically (never a half-written PNG)."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def write_plots(out_dir: Path, data, history: list[dict[str, Any]], predictions) -> None:
    """Write loss.png, and confusion.png (classification) or forecast.png (regression)."""
    for name, fig in figures(data, history, predictions).items():
        save_figure(fig, out_dir / name)


def figures(data, history: list[dict[str, Any]], predictions) -> dict[str, Any]:
    """The plots of a run as matplotlib figures, by file name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([h["epoch"] for h in history], [h["train_loss"] for h in history], marker=".")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss" + (" (cross-entropy)" if data.num_classes else " (MSE)"))
    ax.set_yscale("log")
    ax.set_title(f"{data.name}: training loss")
    fig.tight_layout()
    out = {"loss.png": fig}

    if data.kind == "classification":
        k = data.num_classes
        cm = np.zeros((k, k), dtype=np.int64)
        np.add.at(cm, (data.y_test.numpy(), predictions.numpy()), 1)
        fig, ax = plt.subplots(figsize=(5.5, 5))
        ax.imshow(cm, cmap="Blues")
        for i in range(k):
            for j in range(k):
                if cm[i, j]:
                    color = "white" if cm[i, j] > cm.max() / 2 else "black"
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", color=color, fontsize=8)
        ax.set_xticks(range(k))
        ax.set_yticks(range(k))
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        acc = np.trace(cm) / cm.sum()
        ax.set_title(f"{data.name}: test confusion matrix (accuracy {acc:.3f})")
        fig.tight_layout()
        out["confusion.png"] = fig
        return out

    truth = data.denormalize(data.y_test.double()).numpy()
    pred = predictions.numpy()
    if data.kind == "seq2seq":
        fig, axes = plt.subplots(3, 1, figsize=(7, 6.4), sharex=True, layout="constrained")
        for row, ax in enumerate(axes):
            ax.plot(truth[row, :, 0], label="truth")
            ax.plot(pred[row, :, 0], label="prediction", linestyle="--")
        fig.suptitle(f"{data.name}: next-value predictions on test sequences")
        # one legend above the panels, outside every axes, so it never covers a curve
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside upper center", ncols=2)
        axes[-1].set_xlabel("step")
    else:
        years = data.info["test_years"]
        persistence = data.denormalize(data.x_test[:, -1, 0].double()).numpy()
        fig, ax = plt.subplots(figsize=(8, 4))
        ax.plot(years, truth[:, 0], label="truth", marker=".")
        ax.plot(years, pred[:, 0], label="model", marker=".")
        ax.plot(years, persistence, label="persistence", linestyle=":")
        ax.set_xlabel("year")
        ax.set_ylabel("sunspot number")
        ax.set_title(f"{data.name}: one-year-ahead forecast on held-out years")
        ax.legend()
        fig.tight_layout()
    out["forecast.png"] = fig
    return out
