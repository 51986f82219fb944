"""Atomic writes, no pickle, damaged / mismatched / killed checkpoints."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from rnnkit.commands import main
from rnnkit.training import checkpoint as ck
from rnnkit.training.models import build_model

TINY = ["--units", "8", "--batch-size", "200", "--quiet"]
_REAL_FDOPEN = os.fdopen
MODEL_CONFIG = {  # the shape of a digits model
    "cell": "lstm",
    "units": 4,
    "layers": 2,
    "bidirectional": True,
    "input_size": 8,
    "output_size": 10,
    "per_step": False,
}
RUN_CONFIG = {
    "task": "digits",
    "cell": "lstm",
    "units": 4,
    "layers": 2,
    "bidirectional": True,
    "epochs": 3,
    "batch_size": 8,
    "lr": 0.01,
    "clip": 1.0,
    "seed": 0,
}


def _state(gen: torch.Generator, epoch: int) -> dict:
    """The training state save_training_state takes, as train writes it after ``epoch``."""
    history = [
        {"epoch": k, "train_loss": 1.0 / k, "train_accuracy": 0.5, "seconds": 0.1}
        for k in range(1, epoch + 1)
    ]
    return {
        "config": dict(RUN_CONFIG),
        "rng": ck.get_rng_states(gen),
        "history": history,
        "train_seconds": 0.1 * epoch,
    }


def _stepped_model() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    model = build_model(MODEL_CONFIG)
    opt = torch.optim.Adam(model.parameters(), lr=RUN_CONFIG["lr"])
    model(torch.randn(2, 8, 8)).square().sum().backward()
    opt.step()
    return model, opt


def _temp_files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if ".tmp-" in p.name]


# --------------------------------------------------------------------------- atomic writes


@pytest.mark.parametrize("failing", ["fsync", "replace", "write"])
def test_crash_mid_write_keeps_old_file(tmp_path: Path, monkeypatch, failing: str) -> None:
    target = tmp_path / "state.json"
    ck.atomic_write_json(target, {"epoch": 1})
    before = target.read_bytes()

    class Crash(Exception):
        pass

    def boom(*args, **kwargs):
        raise Crash

    if failing == "write":  # the data itself fails to serialise half way
        monkeypatch.setattr(ck.os, "fdopen", lambda fd, mode: _HalfWriter(fd))
    else:
        monkeypatch.setattr(ck.os, failing, boom)
    with pytest.raises((Crash, OSError, ck.CheckpointError)):
        ck.atomic_write_json(target, {"epoch": 2, "pad": "x" * 10000})
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert json.loads(target.read_text()) == {"epoch": 1}
    assert _temp_files(tmp_path) == []


class _HalfWriter:
    """A file object that writes half of the data, then fails like a full disk."""

    def __init__(self, fd: int) -> None:
        self.f = _REAL_FDOPEN(fd, "wb")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()

    def write(self, data: bytes) -> None:
        self.f.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")


@pytest.mark.slow
def test_uncommitted_checkpoint_is_ignored_and_cleaned(tmp_path: Path) -> None:
    model, opt = _stepped_model()
    gen = torch.Generator().manual_seed(0)
    ck.save_training_state(tmp_path, 1, model, opt, _state(gen, 1))
    # a writer killed during epoch 2: tensors written, JSON (the commit) not yet; a stray temp file
    t2, j2 = ck.checkpoint_paths(tmp_path, 2)
    t2.write_bytes(b"partial")
    stray = t2.parent / ".epoch-0002.json.tmp-abc_1234"  # a name mkstemp makes
    stray.write_text("{")
    assert ck.latest_checkpoint(tmp_path) == ck.checkpoint_paths(tmp_path, 1)[1]
    ck.load_training_state(ck.latest_checkpoint(tmp_path))
    ck.save_training_state(tmp_path, 2, model, opt, _state(gen, 2))
    assert sorted(p.name for p in t2.parent.iterdir()) == [
        "epoch-0002.json",
        "epoch-0002.safetensors",
    ]


# --------------------------------------------------------------------------- round trips


def test_optimizer_and_rng_round_trip_exactly(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build_model(MODEL_CONFIG)
    opt = torch.optim.Adam(model.parameters(), lr=RUN_CONFIG["lr"])
    x = torch.randn(6, 7, 8)

    def step() -> None:
        opt.zero_grad()
        model(x).square().sum().backward()
        opt.step()

    for _ in range(3):
        step()
    gen = torch.Generator().manual_seed(5)
    torch.randperm(10, generator=gen)
    path = ck.save_training_state(tmp_path, 3, model, opt, _state(gen, 3))
    step()  # the reference continues
    expected_next = torch.randperm(10, generator=gen)
    expected = {k: v.clone() for k, v in model.state_dict().items()}

    model2 = build_model({**MODEL_CONFIG})
    opt2 = torch.optim.Adam(model2.parameters(), lr=RUN_CONFIG["lr"])
    gen2 = torch.Generator().manual_seed(123)
    meta, model_t, opt_t = ck.load_training_state(path)
    ck.load_state_into(path, model2, model_t)
    ck.restore_optimizer(path, opt2, meta, opt_t)
    ck.set_rng_states(path, meta["rng"], gen2)
    model, opt = model2, opt2
    step()
    for k, v in model2.state_dict().items():
        assert torch.equal(v, expected[k]), k
    assert torch.equal(torch.randperm(10, generator=gen2), expected_next)


@pytest.mark.slow
def test_loading_never_unpickles(tmp_path: Path, monkeypatch) -> None:
    assert main(["train", "sine", "--epochs", "1", "--out", str(tmp_path), *TINY]) == 0

    def forbidden(*args, **kwargs):
        raise AssertionError("unpickling is not allowed")

    monkeypatch.setattr(torch, "load", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    ck.load_model(tmp_path)
    ck.load_training_state(ck.latest_checkpoint(tmp_path))
    assert main(["train", "sine", "--epochs", "2", "--out", str(tmp_path), "--resume", *TINY]) == 0
    for p in tmp_path.rglob("*"):
        if p.is_file():
            assert p.suffix in (".json", ".safetensors", ".png"), p


# --------------------------------------------------------------------------- damaged / mismatched


def _one_line_error(capsys, path: Path) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert str(path) in err, err
    return err


@pytest.fixture(scope="module")
def _pristine_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pristine") / "run"
    assert main(["train", "sine", "--epochs", "2", "--out", str(out), *TINY]) == 0
    return out


@pytest.fixture
def run_dir(_pristine_run: Path, tmp_path: Path) -> Path:
    """A finished 2-epoch sine run, copied for each test to damage as it likes."""
    return Path(shutil.copytree(_pristine_run, tmp_path / "run"))


def test_truncated_model_file(run_dir: Path, capsys) -> None:
    path = run_dir / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(run_dir)]) == 2
    assert "damaged" in _one_line_error(capsys, path)


def test_garbage_config(run_dir: Path, capsys) -> None:
    path = run_dir / "config.json"
    path.write_text('{"format": "rnnkit.model/1", "task": ')
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(run_dir)]) == 2
    _one_line_error(capsys, path)


def test_missing_checkpoint_dir(tmp_path: Path, capsys) -> None:
    assert main(["evaluate", "--checkpoint", str(tmp_path / "nope")]) == 2
    _one_line_error(capsys, tmp_path / "nope")


def test_config_of_another_model(run_dir: Path, tmp_path: Path, capsys) -> None:
    other = tmp_path / "other"
    assert (
        main(
            [
                "train",
                "sine",
                "--epochs",
                "1",
                "--out",
                str(other),
                "--units",
                "5",
                "--batch-size",
                "200",
                "--quiet",
            ]
        )
        == 0
    )
    (run_dir / "config.json").write_bytes((other / "config.json").read_bytes())
    capsys.readouterr()
    assert main(["evaluate", "--checkpoint", str(run_dir)]) == 2
    err = _one_line_error(capsys, run_dir / "model.safetensors")
    assert "SHA-256 differs" in err  # the other config records the other model's digest


@pytest.mark.parametrize("damage", ["truncate_tensors", "truncate_json", "flip_byte"])
def test_damaged_training_checkpoint(run_dir: Path, capsys, damage: str) -> None:
    tensors, js = ck.checkpoint_paths(run_dir, 2)
    if damage == "truncate_tensors":
        tensors.write_bytes(tensors.read_bytes()[:100])
        bad = tensors
    elif damage == "truncate_json":
        js.write_bytes(js.read_bytes()[:50])
        bad = js
    else:  # a flipped bit in the tensor data still parses: the SHA-256 in the JSON catches it
        data = bytearray(tensors.read_bytes())
        data[-3] ^= 0x10
        tensors.write_bytes(bytes(data))
        bad = tensors
    capsys.readouterr()
    assert main(["train", "sine", "--epochs", "3", "--out", str(run_dir), "--resume", *TINY]) == 2
    _one_line_error(capsys, bad)


def test_resume_with_other_config_is_refused(run_dir: Path, capsys) -> None:
    capsys.readouterr()
    args = ["train", "sine", "--epochs", "3", "--out", str(run_dir), "--resume", "--quiet"]
    assert main([*args, "--units", "16"]) == 2
    err = _one_line_error(capsys, ck.checkpoint_paths(run_dir, 2)[1])
    assert "--units" in err
    assert main(["train", "digits", "--epochs", "3", "--out", str(run_dir), "--resume"]) == 2
    assert "task" in _one_line_error(capsys, ck.checkpoint_paths(run_dir, 2)[1])


# --------------------------------------------------------------------------- kill -9


@pytest.mark.slow
def test_kill_9_leaves_a_loadable_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "rnnkit",
        "train",
        "sunspots",
        "--units",
        "4",
        "--epochs",
        "100000",
        "--out",
        str(out),
        "--quiet",
        "--resume",
    ]
    for round_ in range(2):  # kill at a few different moments, resuming each time
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 180  # a fresh clone compiles the kernels first
            start = ck.latest_checkpoint(out)
            while ck.latest_checkpoint(out) == start:  # wait for at least one new checkpoint
                assert proc.poll() is None, proc.stderr.read().decode()
                assert time.monotonic() < deadline, "no checkpoint written"
                time.sleep(0.02)
            time.sleep(0.05 + 0.13 * round_)  # then kill, most likely in the middle of a write
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        latest = ck.latest_checkpoint(out)
        meta, model_t, opt_t = ck.load_training_state(latest)
        assert meta["epoch"] >= 1 and len(meta["history"]) == meta["epoch"]
        model, config = ck.load_model(out)
        assert config["task"] == "sunspots"
    epoch = meta["epoch"]
    done = subprocess.run(
        [*cmd[:8], str(epoch + 1), *cmd[9:]], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["resumed_from_epoch"] == epoch
    assert metrics["epochs_completed"] == epoch + 1
    assert _temp_files(out) == []
