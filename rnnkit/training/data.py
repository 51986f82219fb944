"""Datasets of the ``train`` command: all bundled with installed packages or generated, no network.

Shapes: N examples, T time steps, I input features, O outputs. Inputs are batch-major ``(N, T, I)``.

- ``sine``: generated noisy sine waves of random frequency and phase; sequence-to-sequence next-value
  prediction (targets ``(N, T, 1)`` are the inputs shifted by one step). Baseline: persistence.
- ``digits``: scikit-learn's 8x8 handwritten digits read row by row (T=8 steps of I=8 pixels),
  10-class classification (targets ``(N,)`` int64). Baseline: the majority class.
- ``sunspots``: statsmodels' yearly sunspot numbers 1700-2008; windows of ``window`` years predict the
  next year, the last 40 years are held out as the test targets; the normalisation is fitted on the
  training years only. Baseline: persistence (next year = this year). Forecasts are clamped at 0 when
  mapped back to sunspot numbers (the model's linear head can go below; counts cannot).

Every split is fixed (independent of the training seed), so runs with different seeds see the same data.

Example::

    data = load_task("digits")
    data.x_train.shape  # (1347, 8, 8)
    data.num_classes  # 10
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

TASKS: tuple[str, ...] = ("sine", "digits", "sunspots")
# what each task fixes of its model (a config.json must agree), known without loading the data
TASK_MODEL_SHAPES: dict[str, dict[str, Any]] = {
    "sine": {"input_size": 1, "output_size": 1, "per_step": True},
    "digits": {"input_size": 8, "output_size": 10, "per_step": False},
    "sunspots": {"input_size": 1, "output_size": 1, "per_step": False},
}

_SINE_STEPS = 40
_SINE_TRAIN, _SINE_TEST = 800, 200
_SINE_NOISE = 0.02
_DIGITS_TEST_FRACTION = 0.25
SUNSPOTS_TEST_YEARS = 40
SUNSPOTS_WINDOW = 24


@dataclass
class TaskData:
    """One task's tensors, split into train and test.

    ``kind`` is "classification" (``y`` int64 ``(N,)``), "forecast" (``y`` ``(N, 1)``: the value after
    the window) or "seq2seq" (``y`` ``(N, T, 1)``: the next value at every step). Regression targets are
    normalised; ``target_mean + target_std * y`` is in the original units, in which MAE is reported.
    ``target_min`` is the smallest value the original units allow (sunspot numbers are counts, so 0),
    or None; :meth:`denormalize` clamps to it, so a forecast never goes below what can happen.

    Inputs are normalised too, with statistics of the training split: ``x = (raw - input_mean) /
    input_std``, where ``input_mean`` and ``input_std`` are ``(T, I)`` (per step and feature: digits'
    per-pixel statistics) or ``(1, 1)`` (one for every value). ``x_test_raw`` holds the test inputs in
    the original units (pixel values 0-16, sunspot numbers), as a user of an exported model has them.
    """

    name: str
    kind: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    input_size: int
    output_size: int
    num_classes: int = 0
    target_mean: float = 0.0
    target_std: float = 1.0
    target_min: float | None = None
    baseline: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    input_mean: torch.Tensor = field(default_factory=lambda: torch.zeros(1, 1))
    input_std: torch.Tensor = field(default_factory=lambda: torch.ones(1, 1))
    x_test_raw: torch.Tensor | None = None

    def normalize_inputs(self, raw: torch.Tensor) -> torch.Tensor:
        """Raw inputs ``(N, T, I)`` in the original units -> what the model was trained on."""
        return (raw - self.input_mean) / self.input_std

    def denormalize(self, y: torch.Tensor) -> torch.Tensor:
        """Map normalised regression values back to the original units (clamped at ``target_min``)."""
        y = y * self.target_std + self.target_mean
        return y if self.target_min is None else y.clamp(min=self.target_min)


def load_task(name: str) -> TaskData:
    """The data of task ``name`` (one of ``TASKS``)."""
    if name == "sine":
        return _sine()
    if name == "digits":
        return _digits()
    if name == "sunspots":
        return _sunspots()
    raise ValueError(
        f"Received an invalid value for argument `task`: expected one of {list(TASKS)}, got {name!r}."
    )


def _float(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def _sine() -> TaskData:
    rng = np.random.default_rng(20240601)  # fixed: the data does not depend on --seed
    n = _SINE_TRAIN + _SINE_TEST
    freq = rng.uniform(0.02, 0.1, size=(n, 1))  # cycles per step
    phase = rng.uniform(0.0, 2.0 * np.pi, size=(n, 1))
    amp = rng.uniform(0.5, 1.5, size=(n, 1))
    t = np.arange(_SINE_STEPS + 1)[None, :]
    series = amp * np.sin(2.0 * np.pi * freq * t + phase)
    series = series + _SINE_NOISE * rng.standard_normal(series.shape)  # (N, T+1)
    x = series[:, :-1, None]  # (N, T, 1)
    y = series[:, 1:, None]  # (N, T, 1)
    x_tr, y_tr = x[:_SINE_TRAIN], y[:_SINE_TRAIN]
    x_te, y_te = x[_SINE_TRAIN:], y[_SINE_TRAIN:]
    persistence = float(np.mean(np.abs(y_te - x_te)))
    return TaskData(
        name="sine",
        kind="seq2seq",
        x_train=_float(x_tr),
        y_train=_float(y_tr),
        x_test=_float(x_te),
        y_test=_float(y_te),
        input_size=1,
        output_size=1,
        baseline={"baseline_mae": persistence},
        info={"steps": _SINE_STEPS},
        x_test_raw=_float(x_te),  # the sine task's inputs are not normalised
    )


def _digits() -> TaskData:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    images = bunch.images.astype(np.float64)  # (N, 8, 8): 8 rows (steps) of 8 pixels (features)
    labels = bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        images, labels, test_size=_DIGITS_TEST_FRACTION, stratify=labels, random_state=0
    )
    mean = x_tr.mean(axis=0, keepdims=True)  # per pixel, fitted on train only
    std = x_tr.std(axis=0, keepdims=True)
    std = np.where(std < 1e-6, 1.0, std)  # pixels that are always blank
    raw_te = x_te
    x_tr = (x_tr - mean) / std
    x_te = (x_te - mean) / std
    majority = float(np.max(np.bincount(y_te, minlength=10)) / len(y_te))
    return TaskData(
        name="digits",
        kind="classification",
        x_train=_float(x_tr),
        y_train=torch.from_numpy(y_tr),
        x_test=_float(x_te),
        y_test=torch.from_numpy(y_te),
        input_size=8,
        output_size=10,
        num_classes=10,
        baseline={"baseline_accuracy": majority},
        input_mean=_float(mean[0]),  # (T, I) = (8, 8)
        input_std=_float(std[0]),
        x_test_raw=_float(raw_te),
    )


def sunspot_series() -> tuple[np.ndarray, np.ndarray]:
    """Years 1700..2008 and the yearly sunspot numbers, from statsmodels' bundled copy."""
    from statsmodels.datasets import sunspots

    frame = sunspots.load_pandas().data
    return frame["YEAR"].to_numpy(dtype=np.int64), frame["SUNACTIVITY"].to_numpy(dtype=np.float64)


def _sunspots() -> TaskData:
    years, values = sunspot_series()
    w = SUNSPOTS_WINDOW
    n_train_values = len(values) - SUNSPOTS_TEST_YEARS  # 1700..1968
    mean = float(values[:n_train_values].mean())  # fitted on the training years only
    std = float(values[:n_train_values].std())
    z = (values - mean) / std
    # window ending at index e-1 predicts index e; the target years decide the split
    targets = np.arange(w, len(values))
    x = np.stack([z[e - w : e] for e in targets])[:, :, None]  # (N, W, 1)
    y = z[targets][:, None]  # (N, 1)
    is_test = targets >= n_train_values
    y_true = values[targets[is_test]]
    persistence = float(np.mean(np.abs(y_true - values[targets[is_test] - 1])))
    return TaskData(
        name="sunspots",
        kind="forecast",
        x_train=_float(x[~is_test]),
        y_train=_float(y[~is_test]),
        x_test=_float(x[is_test]),
        y_test=_float(y[is_test]),
        input_size=1,
        output_size=1,
        target_mean=mean,
        target_std=std,
        target_min=0.0,  # sunspot numbers are counts
        baseline={"baseline_mae": persistence},
        info={"test_years": years[targets[is_test]].tolist(), "window": w},
        input_mean=_float(np.full((1, 1), mean)),  # inputs and targets share the normalisation
        input_std=_float(np.full((1, 1), std)),
        x_test_raw=_float(np.stack([values[e - w : e] for e in targets[is_test]])[:, :, None]),
    )
