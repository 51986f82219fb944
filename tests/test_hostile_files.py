"""Files from outside are hostile: a run directory a user or an attacker prepared, edited or damaged.

Each test reproduces one defect of issue 14 (the number in its name) and checks the promise that
replaced it: rnnkit never deletes a file it did not write, and every damaged, edited or strange input
ends in exit 2 with one line naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rnnkit.commands import main
from rnnkit.training import checkpoint as ck

TINY = ["--units", "4", "--batch-size", "400", "--quiet"]


def _one_line_error(capsys, *must_contain: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err, err
    for text in must_contain:
        assert text in err, err
    return err


def _train(out: Path, *extra: str, epochs: int = 1) -> int:
    return main(["train", "sine", "--epochs", str(epochs), "--out", str(out), *TINY, *extra])


# --------------------------------------------------------------------------- defect 1: data loss


def test_1_symlinked_checkpoints_folder_is_refused_and_its_files_kept(tmp_path, capsys) -> None:
    user = tmp_path / "v"
    user.mkdir()
    (user / "thesis.txt").write_text("years of work")
    out = tmp_path / "r"
    out.mkdir()
    (out / "checkpoints").symlink_to(user)
    for extra in ((), ("--resume",)):
        capsys.readouterr()
        assert _train(out, *extra, epochs=2) == 2
        _one_line_error(capsys, str(out / "checkpoints"), "symbolic link")
        assert sorted(p.name for p in user.iterdir()) == ["thesis.txt"]
        assert (user / "thesis.txt").read_text() == "years of work"
    assert not (out / "model.safetensors").exists()  # refused before writing anything


@pytest.mark.parametrize("resume", [False, True])
@pytest.mark.parametrize(
    "intruder", ["file", "folder", "symlink_named_like_ours", "fifo_named_like_ours"]
)
def test_1_checkpoints_folder_with_foreign_entries_is_refused(
    tmp_path, capsys, intruder: str, resume: bool
) -> None:
    out = tmp_path / "run"
    assert _train(out) == 0
    ckpt_dir = out / "checkpoints"
    outside = tmp_path / "notes.txt"
    outside.write_text("keep me")
    if intruder == "file":
        (ckpt_dir / "notes.txt").write_text("keep me")
    elif intruder == "folder":  # crashed --resume with IsADirectoryError
        (ckpt_dir / "epoch-9999.json").mkdir()
    elif intruder == "symlink_named_like_ours":
        (ckpt_dir / "epoch-0000.safetensors").symlink_to(outside)
    else:
        os.mkfifo(ckpt_dir / "epoch-0000.json")
    before = sorted(p.name for p in ckpt_dir.iterdir())
    model_before = (out / "model.safetensors").read_bytes()
    capsys.readouterr()
    assert _train(out, *(("--resume",) if resume else ()), epochs=2) == 2
    _one_line_error(capsys, str(ckpt_dir))
    assert sorted(p.name for p in ckpt_dir.iterdir()) == before
    assert outside.read_text() == "keep me"
    assert (out / "model.safetensors").read_bytes() == model_before
    if intruder == "file":
        assert (ckpt_dir / "notes.txt").read_text() == "keep me"


def test_1_fresh_run_replaces_only_its_own_checkpoints(tmp_path) -> None:
    out = tmp_path / "run"
    assert _train(out, epochs=2) == 0
    ckpt_dir = out / "checkpoints"
    (ckpt_dir / ".epoch-0003.json.tmp-abcd1234").write_text("{")  # a killed writer's leftover
    assert _train(out) == 0  # fresh run: the older run's checkpoints go, the folder stays
    assert sorted(p.name for p in ckpt_dir.iterdir()) == [
        "epoch-0001.json",
        "epoch-0001.safetensors",
    ]


def test_1_save_training_state_prunes_only_own_files(tmp_path) -> None:
    import torch

    from rnnkit.training.models import build_model

    model = build_model(
        {"cell": "gru", "units": 3, "layers": 1, "bidirectional": False, "input_size": 1,
         "output_size": 1, "per_step": True}
    )  # fmt: skip
    opt = torch.optim.Adam(model.parameters())
    gen = torch.Generator().manual_seed(0)
    state = {"config": {}, "rng": ck.get_rng_states(gen), "history": [], "train_seconds": 0.0}
    ck.save_training_state(tmp_path, 1, model, opt, state)
    ckpt_dir = tmp_path / "checkpoints"
    (ckpt_dir / "README").write_text("mine")
    with pytest.raises(ck.CheckpointError, match="README"):
        ck.save_training_state(tmp_path, 2, model, opt, state)
    assert (ckpt_dir / "README").read_text() == "mine"
    assert sorted(p.name for p in ckpt_dir.iterdir()) == [
        "README",
        "epoch-0001.json",
        "epoch-0001.safetensors",
    ]
    (ckpt_dir / "README").unlink()
    ck.save_training_state(tmp_path, 2, model, opt, state)
    assert sorted(p.name for p in ckpt_dir.iterdir()) == [
        "epoch-0002.json",
        "epoch-0002.safetensors",
    ]
