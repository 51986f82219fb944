"""The bundled datasets: shapes, fixed splits, train-only normalisation, baselines computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.training.data import (
    SUNSPOTS_TEST_YEARS,
    SUNSPOTS_WINDOW,
    TASKS,
    load_task,
    sunspot_series,
)


@pytest.mark.parametrize("task", TASKS)
def test_shapes_and_determinism(task: str) -> None:
    a, b = load_task(task), load_task(task)
    assert a.x_train.dim() == 3 and a.x_train.shape[2] == a.input_size
    assert len(a.x_train) == len(a.y_train) and len(a.x_test) == len(a.y_test)
    assert torch.isfinite(a.x_train).all() and torch.isfinite(a.x_test).all()
    for name in ("x_train", "y_train", "x_test", "y_test"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name  # no hidden randomness


def test_digits_rows_are_steps() -> None:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_task("digits")
    assert d.x_train.shape[1:] == (8, 8) and d.num_classes == 10
    assert len(d.x_train) + len(d.x_test) == 1797
    assert len(d.x_test) == 450
    # the standardisation is per pixel with training statistics: train columns have mean 0
    assert d.x_train.double().mean(0).abs().max() < 1e-5
    # undo the standardisation: the test rows are sklearn's images, read row by row (not transposed)
    bunch = load_digits()
    train_idx, _ = train_test_split(
        np.arange(1797), test_size=0.25, stratify=bunch.target, random_state=0
    )
    raw_train = bunch.images[train_idx]
    std = raw_train.std(0)
    std[std < 1e-6] = 1.0
    raw_test = d.x_test.double().numpy() * std + raw_train.mean(0)  # (N, 8, 8)
    for k in (0, 17, 449):
        hits = np.flatnonzero(np.abs(bunch.images - raw_test[k]).max(axis=(1, 2)) < 1e-4)
        assert len(hits) >= 1, k
        assert bunch.target[hits[0]] == d.y_test[k].item()
    counts = np.bincount(d.y_test.numpy(), minlength=10)
    assert d.baseline["baseline_accuracy"] == pytest.approx(counts.max() / counts.sum())


def test_sunspots_split_normalisation_and_persistence() -> None:
    years, values = sunspot_series()
    assert years[0] == 1700 and years[-1] == 2008 and len(values) == 309
    d = load_task("sunspots")
    assert d.info["test_years"] == list(range(2008 - SUNSPOTS_TEST_YEARS + 1, 2009))
    assert d.x_train.shape[1:] == (SUNSPOTS_WINDOW, 1) and len(d.x_test) == SUNSPOTS_TEST_YEARS
    train_values = values[: len(values) - SUNSPOTS_TEST_YEARS]
    assert d.target_mean == pytest.approx(train_values.mean())  # fitted on train years only
    assert d.target_std == pytest.approx(train_values.std())
    assert d.target_mean != pytest.approx(values.mean())
    # the last training target is 1968; every test target is later
    last_train_target = d.denormalize(d.y_train[-1, 0].double()).item()
    assert last_train_target == pytest.approx(values[years == 1968][0], abs=1e-3)
    truth = values[-SUNSPOTS_TEST_YEARS:]
    previous = values[-SUNSPOTS_TEST_YEARS - 1 : -1]
    assert d.baseline["baseline_mae"] == pytest.approx(np.abs(truth - previous).mean())
    # each test input ends the year before its target
    ends = d.denormalize(d.x_test[:, -1, 0].double()).numpy()
    np.testing.assert_allclose(ends, previous, atol=1e-3)


def test_sine_targets_are_next_values() -> None:
    d = load_task("sine")
    assert d.kind == "seq2seq" and d.y_train.shape == d.x_train.shape
    torch.testing.assert_close(d.y_train[:, :-1], d.x_train[:, 1:])
    persistence = (d.y_test - d.x_test).abs().mean().item()
    assert d.baseline["baseline_mae"] == pytest.approx(persistence, rel=1e-5)


def test_unknown_task() -> None:
    with pytest.raises(ValueError, match="`task`"):
        load_task("mnist")


@pytest.mark.parametrize("task", TASKS)
def test_raw_test_inputs_normalise_to_the_test_inputs(task: str) -> None:
    """x_test_raw is in the original units (what an exported model is given); the task's own
    input normalisation maps it to x_test, what the model was trained and evaluated on."""
    data = load_task(task)
    raw = data.x_test_raw
    assert raw.shape == data.x_test.shape and raw.dtype == torch.float32
    torch.testing.assert_close(data.normalize_inputs(raw), data.x_test, rtol=1e-5, atol=1e-5)
    if task == "digits":  # pixel values 0..16, statistics per pixel (T, I)
        assert torch.equal(raw, raw.round()) and raw.min() == 0 and raw.max() == 16
        assert data.input_mean.shape == data.input_std.shape == (8, 8)
    elif task == "sunspots":  # sunspot numbers: the window before each held-out year
        years, values = sunspot_series()
        last = torch.tensor(values[-SUNSPOTS_TEST_YEARS - 1 : -1], dtype=torch.float32)
        torch.testing.assert_close(raw[:, -1, 0], last)
        assert data.input_mean.shape == (1, 1)
        assert data.input_mean.item() == pytest.approx(data.target_mean)
    else:
        assert torch.equal(raw, data.x_test)  # sine values are not normalised
