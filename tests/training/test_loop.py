"""The steps of :func:`rnnkit.training.loop.fit`, each called on its own in this process: open the run,
check its options, start or restore, one epoch, save, finish (tiny sine and digits models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rnnkit.training import checkpoint, loop, runs
from rnnkit.training.files import CheckpointError
from rnnkit.training.models import build_model

TINY = {"units": 4, "batch_size": 200, "epochs": 2}


def _request(out: Path, task: str = "sine", resume: bool = False, **options) -> loop.Request:
    return loop.Request(task, out, {**TINY, **options}, resume=resume, quiet=True)


def _started(request: loop.Request) -> loop.Run:
    opened = loop.open_run(request)
    return loop.start(request, opened, loop.check_config(opened.config))


def _weights(run: loop.Run) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in run.model.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --------------------------------------------------------------------------- open the run


def test_open_run_takes_the_options_given_and_the_task_defaults(tmp_path: Path) -> None:
    out = tmp_path / "run"
    opened = loop.open_run(_request(out, seed=7))
    want = {**runs.TASK_DEFAULTS["sine"], **TINY, "seed": 7}
    assert opened.config == {"task": "sine", **want}
    assert isinstance(opened.config["lr"], float) and isinstance(opened.config["clip"], float)
    assert opened.checkpoint is None and opened.meta is None
    assert (out / "checkpoints").is_dir()  # made by the write probe, which leaves nothing behind
    assert list(out.rglob("*.tmp-*")) == []


def test_open_run_refuses_a_file_and_a_folder_of_the_users(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("mine")
    with pytest.raises(CheckpointError, match="is not a folder"):
        loop.open_run(_request(a_file))
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "metrics.json").write_text("{}")
    with pytest.raises(CheckpointError, match="'metrics.json' but no rnnkit checkpoints"):
        loop.open_run(_request(theirs))
    assert (theirs / "metrics.json").read_text() == "{}"


def test_a_fresh_run_replaces_only_the_same_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run = _started(_request(out))
    loop.one_epoch(run)
    loop.save_epoch(run)
    loop.open_run(_request(out))  # the same command again: accepted
    with pytest.raises(CheckpointError, match="--resume --out .* --units 5"):
        loop.open_run(_request(out, units=5))
    with pytest.raises(CheckpointError, match="to train 'digits'"):
        loop.open_run(_request(out, task="digits"))
    with pytest.raises(CheckpointError, match="trained with --units 4, not 5"):
        loop.open_run(_request(out, resume=True, units=5))


# --------------------------------------------------------------------------- check the options


def test_check_config_refuses_what_cannot_be_trained() -> None:
    config = runs.resolve_config("sine", TINY, None, None)
    model_config = loop.check_config(config)
    assert model_config["units"] == 4 and model_config["per_step"] is True
    with pytest.raises(loop.OptionRefused, match="^argument --bidirectional: not available"):
        loop.check_config({**config, "bidirectional": True})
    with pytest.raises(loop.OptionRefused, match="^argument --units/--layers: .* more than"):
        loop.check_config({**config, "units": 4096, "layers": 16})
    with pytest.raises(loop.OptionRefused, match="^argument --batch-size: 1 is less than the 2"):
        loop.check_config({**config, "batch_size": 1}, world_size=2)


# --------------------------------------------------------------------------- start, epochs, save


def test_start_builds_the_model_of_the_seed_and_clears_older_checkpoints(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = _started(_request(out, seed=3))
    loop.one_epoch(first)
    loop.save_epoch(first)
    assert checkpoint.latest_checkpoint(out) is not None
    run = _started(_request(out, seed=3))  # the same run again, from scratch
    assert checkpoint.latest_checkpoint(out) is None
    assert (run.epoch, run.start_epoch, run.history, run.train_seconds) == (0, 0, [], 0.0)
    torch.manual_seed(3)
    assert _same(_weights(run), build_model(run.model_config).state_dict())


def test_one_epoch_trains_and_records_its_entry(tmp_path: Path) -> None:
    run = _started(_request(tmp_path / "sine"))
    before = _weights(run)
    entry = loop.one_epoch(run)
    assert set(entry) == {"epoch", "train_loss", "train_mae", "seconds"}
    assert entry["epoch"] == run.epoch == 1 and run.history == [entry]
    assert 0 < entry["train_loss"] < 10 and run.train_seconds > 0
    assert not _same(before, _weights(run))
    digits = _started(_request(tmp_path / "digits", task="digits", batch_size=512))
    entry = loop.one_epoch(digits)
    assert set(entry) == {"epoch", "train_loss", "train_accuracy", "seconds"}
    assert 0 <= entry["train_accuracy"] <= 1


def test_one_epoch_stops_on_divergence_before_anything_is_saved(tmp_path: Path) -> None:
    run = _started(_request(tmp_path / "run", lr=1e30))
    with pytest.raises(loop.TrainingDiverged, match="diverged in epoch 1 .* no epoch was saved"):
        loop.one_epoch(run)
    assert run.history == [] and run.epoch == 0


def test_a_restored_run_continues_exactly_as_the_saved_one(tmp_path: Path) -> None:
    """Weights, Adam's moments, the data order and the history all come back: one more epoch of
    the restored run ends with the very weights of one more epoch of the original."""
    out = tmp_path / "run"
    original = _started(_request(out, epochs=3))
    loop.one_epoch(original)
    loop.save_epoch(original)
    request = _request(out, resume=True, epochs=3)
    opened = loop.open_run(request)
    assert opened.checkpoint == out / "checkpoints" / "epoch-0001.json"
    restored = loop.start(request, opened, loop.check_config(opened.config))
    assert (restored.start_epoch, restored.epoch) == (1, 1)
    assert restored.history == original.history
    assert _same(_weights(restored), _weights(original))
    torch.manual_seed(12345)  # the restored run takes its RNG states from the checkpoint
    loop.one_epoch(restored)
    loop.one_epoch(original)
    assert _same(_weights(restored), _weights(original))
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in restored.history]
    assert strip == [{k: v for k, v in h.items() if k != "seconds"} for h in original.history]


# --------------------------------------------------------------------------- finish, fit


def test_finish_writes_the_model_metrics_and_plots(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    run = _started(_request(out))
    loop.one_epoch(run)
    loop.save_epoch(run)
    result = loop.finish(run)
    assert result is not None
    assert json.loads((out / "metrics.json").read_text()) == result
    assert result["epochs_completed"] == 2 and result["resumed_from_epoch"] == 0
    assert result["config"] == run.options and result["world_size"] == 1
    assert (out / "loss.png").is_file() and (out / "forecast.png").is_file()
    model, _ = checkpoint.load_model(out)
    assert _same(model.state_dict(), _weights(run))
    assert capsys.readouterr().out.startswith("sine: test_mae ")


def test_fit_resumed_ends_with_the_weights_of_an_uninterrupted_fit(tmp_path: Path, capsys) -> None:
    full, split = tmp_path / "full", tmp_path / "split"
    a = loop.fit(_request(full))
    loop.fit(_request(split, epochs=1))
    b = loop.fit(loop.Request("sine", split, {"epochs": 2}, resume=True, quiet=True))
    assert a is not None and b is not None
    assert (full / "model.safetensors").read_bytes() == (split / "model.safetensors").read_bytes()
    assert b["test_mae"] == a["test_mae"] and b["resumed_from_epoch"] == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("epoch 1/2  loss ") and lines[-1].startswith("sine: test_mae")


def test_fit_resume_without_a_checkpoint_starts_fresh(tmp_path: Path, capsys) -> None:
    result = loop.fit(_request(tmp_path / "new", resume=True, epochs=1))
    assert result is not None and result["resumed_from_epoch"] == 0
    assert "no checkpoint in" in capsys.readouterr().out


def test_processes_restore_the_thread_count_and_exit_codes_match_the_commands() -> None:
    from rnnkit.commands import EXIT_INTERRUPTED

    threads = torch.get_num_threads()
    with loop.processes(loop.ONE_PROCESS, torch.device("cpu")):
        pass
    assert torch.get_num_threads() == threads
    assert runs.EXIT_INTERRUPTED == EXIT_INTERRUPTED
