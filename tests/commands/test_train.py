"""The ``train`` and ``evaluate`` commands: options, outputs, reproducibility, resume, two processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnnkit.commands import main

TINY = ["--units", "8", "--batch-size", "200", "--quiet"]


def _metrics(out: Path) -> dict:
    return json.loads((out / "metrics.json").read_text())


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    "option, value",
    [
        ("--units", "0"),
        ("--units", "abc"),
        ("--layers", "-1"),
        ("--epochs", "2.5"),
        ("--batch-size", "0"),
        ("--lr", "0"),
        ("--lr", "nan"),
        ("--clip", "-1"),
        ("--seed", "-3"),
        ("--cell", "transformer"),
        ("--device", "tpu"),
    ],
)
def test_bad_option_values(option: str, value: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["train", "sine", option, value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}:" in err and value in err, err
    assert "Traceback" not in err


def test_unknown_task_and_bidirectional_sine(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["train", "mnist"])
    assert exc.value.code == 2 and "invalid choice: 'mnist'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["train", "sine", "--bidirectional", "--epochs", "1"])
    assert exc.value.code == 2 and "--bidirectional" in capsys.readouterr().err


# --------------------------------------------------------------------------- outputs


def test_outputs_and_evaluate_recomputes_metrics(tmp_path: Path, capsys) -> None:
    out = tmp_path / "sun"
    assert main(["train", "sunspots", "--epochs", "3", "--out", str(out), *TINY]) == 0
    printed = capsys.readouterr().out
    assert "epoch 1/3" in printed and "epoch 3/3" in printed  # plain lines when not a terminal
    m = _metrics(out)
    for key in (
        "test_mae",
        "baseline_mae",
        "epochs_completed",
        "resumed_from_epoch",
        "train_seconds",
        "config",
    ):
        assert key in m, key
    assert m["epochs_completed"] == 3 and m["resumed_from_epoch"] == 0
    assert m["config"]["units"] == 8 and m["config"]["cell"] == "gru"
    for name in ("model.safetensors", "config.json", "loss.png", "forecast.png"):
        data = (out / name).read_bytes()
        assert len(data) > 100, name
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["evaluate", "--checkpoint", str(out), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["test_mae"] == m["test_mae"]
    assert again["baseline_mae"] == m["baseline_mae"]


def test_digits_short_run_is_far_above_chance(tmp_path: Path, capsys) -> None:
    out = tmp_path / "digits"
    args = [
        "train",
        "digits",
        "--epochs",
        "3",
        "--units",
        "32",
        "--no-bidirectional",
        "--cell",
        "gru",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    m = _metrics(out)
    assert m["test_accuracy"] > 0.8, m["test_accuracy"]  # chance is 0.1
    assert (out / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["test_accuracy"] == m["test_accuracy"]


def test_a_run_of_another_task_or_options_in_out_is_refused(tmp_path: Path, capsys) -> None:
    """A fresh run never replaces an earlier run of another task or other options (a digits run in
    a sunspots run's folder left its forecast.png beside the new confusion.png); the same command
    again replaces its own run, and --resume continues it."""
    out = tmp_path / "sun"
    sun = ["train", "sunspots", "--out", str(out), "--epochs", "1", *TINY]
    assert main(sun) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    capsys.readouterr()
    assert main(["train", "digits", "--out", str(out), "--epochs", "1", *TINY]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"rnnkit train: error: {out}: holds a run of ")
    assert "task 'sunspots' (gru x8, 1 layer(s), 1 epochs, batch 200, lr 0.003" in err
    assert (
        "recorded in config.json; to train 'digits', use another --out or delete the folder" in err
    )
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert not (out / "confusion.png").exists()
    # the same task with other options: refused, naming the options and how to continue
    assert main([*sun[: -len(TINY)], "--units", "16", "--batch-size", "200", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"`train sunspots --resume --out {out}` continues that run" in err
    assert "to start over with --units 16, use another --out or delete the folder" in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    # a checkpoint alone (no config.json) also names the run
    (out / "config.json").unlink()
    assert main([*sun[: -len(TINY)], "--epochs", "2", *TINY]) == 2
    assert "recorded in epoch-0001.json" in capsys.readouterr().err
    assert main([*sun, "--resume", "--epochs", "2"]) == 0  # continues it
    assert _metrics(out)["epochs_completed"] == 2
    assert main(["train", "sunspots", "--out", str(out), "--epochs", "2", *TINY]) == 0  # again
    assert _metrics(out)["resumed_from_epoch"] == 0


# --------------------------------------------------------------------------- reproducibility


@pytest.mark.slow
def test_same_seed_same_metrics(tmp_path: Path) -> None:
    results = []
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        out = tmp_path / name
        assert (
            main(["train", "sine", "--epochs", "2", "--seed", seed, "--out", str(out), *TINY]) == 0
        )
        m = _metrics(out)
        results.append((m["test_mae"], [h["train_loss"] for h in m["history"]]))
    assert results[0] == results[1]
    assert results[0] != results[2]  # the seed matters, so equality above means something


@pytest.mark.slow
@pytest.mark.parametrize(
    "task, extra",
    [
        ("sine", ["--cell", "rnn", "--layers", "2"]),
        ("digits", ["--cell", "lstm", "--bidirectional", "--batch-size", "128"]),
    ],
)
def test_resume_equals_uninterrupted(tmp_path: Path, task: str, extra: list[str]) -> None:
    full, split = tmp_path / "full", tmp_path / "split"
    assert main(["train", task, "--epochs", "4", "--out", str(full), *TINY, *extra]) == 0
    assert main(["train", task, "--epochs", "2", "--out", str(split), *TINY, *extra]) == 0
    # resume without repeating the options: they come from the checkpoint
    assert main(["train", task, "--epochs", "4", "--out", str(split), "--resume", "--quiet"]) == 0
    a, b = _metrics(full), _metrics(split)
    key = "test_accuracy" if task == "digits" else "test_mae"
    assert b[key] == a[key]

    def curve(m: dict) -> list[dict]:
        return [{k: v for k, v in h.items() if k != "seconds"} for h in m["history"]]

    assert curve(b) == curve(a) and len(curve(a)) == 4
    assert (a["resumed_from_epoch"], b["resumed_from_epoch"]) == (0, 2)
    assert a["epochs_completed"] == b["epochs_completed"] == 4
    assert a["config"] == b["config"]
    assert (full / "model.safetensors").read_bytes() == (split / "model.safetensors").read_bytes()


def test_resume_without_checkpoint_starts_fresh(tmp_path: Path, capsys) -> None:
    out = tmp_path / "new"
    assert main(["train", "sine", "--epochs", "1", "--out", str(out), "--resume", *TINY]) == 0
    assert "starting from epoch 0" in capsys.readouterr().out
    assert _metrics(out)["resumed_from_epoch"] == 0


# --------------------------------------------------------------------------- two processes


@pytest.mark.slow
def test_two_process_gloo_run(tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "rnnkit",
        "train",
        "digits",
        "--epochs",
        "1",
        "--units",
        "16",
        "--no-bidirectional",
        "--device",
        "cpu",
        "--out",
        str(out),
        "--quiet",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("epoch 1/1") == 1, done.stdout  # only rank 0 prints
    m = _metrics(out)
    assert m["world_size"] == 2
    assert m["test_accuracy"] > 0.3, m  # one epoch, far above chance (0.1)
    assert (out / "model.safetensors").exists() and (out / "confusion.png").exists()


# --------------------------------------------------------------------------- small things


def test_sunspot_forecasts_never_go_below_zero() -> None:
    """Sunspot numbers are counts: de-normalised forecasts are clamped at 0 (metrics and plots)."""
    import torch

    from rnnkit.training.data import load_task
    from rnnkit.training.metrics import test_metrics
    from rnnkit.training.models import build_model, task_model_config

    data = load_task("sunspots")
    run = {"cell": "gru", "units": 4, "layers": 1, "bidirectional": False}
    model = build_model(task_model_config("sunspots", run))
    with torch.no_grad():
        model.head.bias.fill_(-100.0)  # far below zero once de-normalised
    metrics, predictions = test_metrics(model, data)
    assert float(predictions.min()) == 0.0
    truth = data.denormalize(data.y_test.double())
    assert metrics["test_mae"] == pytest.approx(float(truth.abs().mean()))
    raw = data.y_test.double() * data.target_std + data.target_mean
    assert torch.equal(truth, raw)  # the true counts are never changed by the clamp


def test_sine_plot_legend_covers_no_panel() -> None:
    from rnnkit.training.data import load_task
    from rnnkit.training.plots import figures

    data = load_task("sine")
    history = [{"epoch": 1, "train_loss": 0.5}, {"epoch": 2, "train_loss": 0.25}]
    fig = figures(data, history, data.denormalize(data.y_test.double()) + 0.1)["forecast.png"]
    fig.canvas.draw()
    (legend,) = fig.legends
    box = legend.get_window_extent()
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert not box.overlaps(ax.get_window_extent()), "the legend covers a panel"


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_help_shows_no_rest_markup(command: str, capsys) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    assert "`" not in text, text
    if command == "train":
        assert "Exit codes" in text


def test_all_reduce_sum_returns_once_gloo_lets_go_of_the_tensor(tmp_path: Path) -> None:
    # gloo marks a collective done before its worker drops the work: without the wait, about 1 call
    # in 15 returned with the worker still holding the tensor, which a following barrier could then
    # keep until interpreter shutdown (SIGABRT at the end of a two-process run)
    import torch
    import torch.distributed as dist

    from rnnkit.training import distributed

    dist.init_process_group("gloo", init_method=(tmp_path / "store").as_uri(), rank=0, world_size=1)
    try:
        held = []
        for _ in range(1000):
            t = torch.ones(3)
            assert distributed.all_reduce_sum(t) is t
            held.append(t._use_count())
        assert max(held) == 1, sum(c > 1 for c in held)
        assert torch.equal(t, torch.ones(3))
    finally:
        distributed.stop()
