"""Files from outside are hostile: a run directory a user or an attacker prepared, edited or damaged.

Each test checks one promise about such files: rnnkit never deletes a file it did not write, and
every damaged, edited or strange input ends in exit 2 with one line naming the file.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import signal
import stat
from pathlib import Path

import pytest
import torch

from rnnkit.commands import main
from rnnkit.training import checkpoint as ck
from rnnkit.training import files
from rnnkit.training.files import seal

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


@pytest.mark.slow
def test_1_fresh_run_replaces_only_its_own_checkpoints(tmp_path) -> None:
    out = tmp_path / "run"
    assert _train(out, epochs=2) == 0
    ckpt_dir = out / "checkpoints"
    (ckpt_dir / ".epoch-0003.json.tmp-abcd1234").write_text("{")  # a killed writer's leftover
    # the same run again (one of other options is refused): the older run's checkpoints and the
    # leftover go, the folder stays
    assert _train(out, epochs=2) == 0
    assert sorted(p.name for p in ckpt_dir.iterdir()) == [
        "epoch-0002.json",
        "epoch-0002.safetensors",
    ]


def test_1_stale_temp_files_removed_are_only_rnnkits(tmp_path) -> None:
    """A killed writer leaves ``.NAME.tmp-XXXXXXXX`` files; a new run removes those of its own
    outputs, and nothing else."""
    out = tmp_path / "run"
    out.mkdir()
    ours = [out / ".model.safetensors.tmp-k1ll3d_9", out / ".config.json.tmp-abcdefgh"]
    theirs = [
        out / ".thesis.txt.tmp-abcdefgh",
        out / ".model.safetensors.tmp-short",
        out / "x.tmp-",
    ]
    for p in ours + theirs:
        p.write_text("partial")
    link = out / ".metrics.json.tmp-linklink"
    (tmp_path / "target.txt").write_text("keep")
    link.symlink_to(tmp_path / "target.txt")
    assert _train(out) == 0
    assert not any(p.exists() for p in ours)
    assert all(p.read_text() == "partial" for p in theirs)
    assert link.is_symlink() and (tmp_path / "target.txt").read_text() == "keep"


def test_1_save_training_state_prunes_only_own_files(tmp_path) -> None:
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


# --------------------------------------------------------------------------- shared: a finished run


@pytest.fixture(scope="module")
def _pristine(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pristine") / "run"
    assert _train(out, epochs=2) == 0
    return out


@pytest.fixture
def run_dir(_pristine: Path, tmp_path: Path) -> Path:
    """A finished 2-epoch sine run, copied for each test to damage as it likes."""
    return Path(shutil.copytree(_pristine, tmp_path / "run", symlinks=True))


def _edit_json(path: Path, edit, reseal: bool = True) -> None:
    """Apply ``edit(obj)`` to the JSON at ``path``; reseal so that the schema, not the seal, judges."""
    obj = json.loads(path.read_text())
    edit(obj)
    path.write_text(json.dumps(seal(obj) if reseal else obj))


def _evaluate(run: Path) -> int:
    return main(["evaluate", "--checkpoint", str(run), "--json"])


def _resume(run: Path, epochs: int = 3) -> int:
    return main(
        ["train", "sine", "--epochs", str(epochs), "--out", str(run), "--resume", "--quiet"]
    )


# --------------------------------------------------------------------------- defect 2: integrity


def test_2_flipped_data_byte_of_model_is_caught(run_dir: Path, capsys) -> None:
    path = run_dir / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01  # a weight's low bit: still a valid safetensors file with other numbers
    path.write_bytes(bytes(data))
    capsys.readouterr()
    assert _evaluate(run_dir) == 2
    _one_line_error(capsys, str(path), "SHA-256")


def test_2_flipped_digit_in_config_is_caught(run_dir: Path, capsys) -> None:
    path = run_dir / "config.json"
    text = path.read_text()
    assert '"lr": 0.01' in text
    path.write_text(text.replace('"lr": 0.01', '"lr": 0.03'))  # still valid JSON and schema
    capsys.readouterr()
    assert _evaluate(run_dir) == 2
    _one_line_error(capsys, str(path), "edited")


@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_2_model_and_config_verify_at_every_moment_of_a_save(
    run_dir: Path, monkeypatch, crash_at: int
) -> None:
    """save_model replaces the pair in three writes; a kill after any of them leaves a pair that
    verifies, with the old or the new weights."""
    old_model, config = ck.load_model(run_dir)
    old = {k: v.clone() for k, v in old_model.state_dict().items()}
    new_model, _ = ck.load_model(run_dir)
    with torch.no_grad():
        for p in new_model.parameters():
            p.add_(1.0)
    calls = []

    def killed(path, data):
        calls.append(path)
        if len(calls) == crash_at:
            raise KeyboardInterrupt  # the process dies here: nothing after this write happens
        real_write(path, data)

    real_write = files.atomic_write_bytes
    monkeypatch.setattr(ck, "atomic_write_bytes", killed)
    monkeypatch.setattr(
        ck, "atomic_write_json", lambda p, o: killed(p, (json.dumps(o) + "\n").encode())
    )
    body = {k: config[k] for k in ("task", "model", "train")}
    with pytest.raises(KeyboardInterrupt):
        ck.save_model(run_dir, new_model, body)
    monkeypatch.undo()
    loaded, _ = ck.load_model(run_dir)
    got = loaded.state_dict()
    is_old = all(torch.equal(got[k], old[k]) for k in old)
    is_new = all(torch.equal(got[k], v) for k, v in new_model.state_dict().items())
    assert is_old or is_new
    assert is_old == (crash_at <= 2)


@pytest.mark.parametrize("name", ["config.json", "checkpoints/epoch-0002.json"])
def test_2_files_of_the_older_unverified_format_are_refused(run_dir: Path, capsys, name) -> None:
    path = run_dir / name
    obj = json.loads(path.read_text())
    obj["format"] = obj["format"].replace("/2", "/1")
    path.write_text(json.dumps(obj))
    capsys.readouterr()
    assert (_evaluate(run_dir) if name == "config.json" else _resume(run_dir)) == 2
    _one_line_error(capsys, str(path), "another rnnkit version")


def test_2_two_interrupted_saves_in_a_row_still_verify(run_dir: Path, monkeypatch) -> None:
    """Killed after the first write of a save, then again in the next run: the model file on disk is
    still the oldest one, and config.json must still accept it."""
    model, config = ck.load_model(run_dir)
    oldest = {k: v.clone() for k, v in model.state_dict().items()}
    body = {k: config[k] for k in ("task", "model", "train")}
    real_json = ck.atomic_write_json

    def killed_after_first_write(path, obj):
        real_json(path, obj)
        raise KeyboardInterrupt

    for step in (1.0, 2.0):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(step)
        monkeypatch.setattr(ck, "atomic_write_json", killed_after_first_write)
        with pytest.raises(KeyboardInterrupt):
            ck.save_model(run_dir, model, body)
        monkeypatch.undo()
        loaded, _ = ck.load_model(run_dir)
        assert all(torch.equal(loaded.state_dict()[k], v) for k, v in oldest.items())
    ck.save_model(run_dir, model, body)  # an uninterrupted save ends with one digest listed
    assert "replacing_sha256" not in json.loads((run_dir / "config.json").read_text())
    loaded, _ = ck.load_model(run_dir)
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in model.state_dict().items())


def test_3_schema_and_task_shapes_match_the_data() -> None:
    """The schema and the model check know the tasks without loading data: they must agree with it."""
    from rnnkit.training import data, schema

    assert schema.TASKS == data.TASKS
    for task in data.TASKS:
        d = data.load_task(task)
        want = {"input_size": d.input_size, "output_size": d.output_size}
        want["per_step"] = d.kind == "seq2seq"
        assert data.TASK_MODEL_SHAPES[task] == want, task


# --------------------------------------------------------------------------- defect 3: crafted config


@pytest.mark.parametrize(
    "key, value",
    [("units", 40000), ("units", 10**6), ("units", 1e30), ("layers", 10**6), ("units", 0)],
)
def test_3_crafted_model_size_is_refused_before_allocating(
    run_dir: Path, capsys, key: str, value
) -> None:
    _edit_json(run_dir / "config.json", lambda c: c["model"].__setitem__(key, value))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    capsys.readouterr()
    assert _evaluate(run_dir) == 2
    _one_line_error(capsys, str(run_dir / "config.json"), key)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB


def test_3_model_too_large_within_each_limit_is_refused(run_dir: Path, capsys) -> None:
    big = {"cell": "lstm", "units": 4096, "layers": 16}  # each in range, 4.3e9 parameters together
    _edit_json(run_dir / "config.json", lambda c: c["model"].update(big))
    capsys.readouterr()
    assert _evaluate(run_dir) == 2
    _one_line_error(capsys, "parameters, more than the limit")


@pytest.mark.parametrize("units", [2, 64])
def test_3_config_that_disagrees_with_the_tensor_header(run_dir: Path, capsys, units: int) -> None:
    """The config's digest matches the file, but its shapes do not: refused before building."""
    _edit_json(run_dir / "config.json", lambda c: c["model"].__setitem__("units", units))
    capsys.readouterr()
    assert _evaluate(run_dir) == 2
    _one_line_error(capsys, str(run_dir / "model.safetensors"), "does not match config.json")


# --------------------------------------------------------------------------- defect 4: unbounded reads


def _special(path: Path, kind: str, tmp_path: Path) -> None:
    path.unlink()
    if kind == "dev_zero":
        path.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "huge":
        with open(path, "wb") as f:  # sparse: 64 GiB of zeros on disk costs nothing
            f.truncate(64 << 30)


@pytest.mark.parametrize("name", ["model.safetensors", "config.json"])
@pytest.mark.parametrize("kind", ["dev_zero", "fifo", "folder", "huge"])
def test_4_special_files_are_refused_without_reading(
    run_dir: Path, tmp_path: Path, capsys, name: str, kind: str
) -> None:
    _special(run_dir / name, kind, tmp_path)
    capsys.readouterr()
    with _deadline(20):
        assert _evaluate(run_dir) == 2
    _one_line_error(capsys, str(run_dir / name))


@pytest.mark.parametrize("name", ["epoch-0002.json", "epoch-0002.safetensors"])
@pytest.mark.parametrize("kind", ["dev_zero", "fifo", "huge"])
def test_4_special_files_in_checkpoints_are_refused(
    run_dir: Path, tmp_path: Path, capsys, name: str, kind: str
) -> None:
    _special(run_dir / "checkpoints" / name, kind, tmp_path)
    capsys.readouterr()
    with _deadline(20):
        assert _resume(run_dir) == 2
    _one_line_error(capsys, str(run_dir / "checkpoints"))


class Hang(BaseException):
    """Raised by _deadline; not an OSError (TimeoutError is one, and file code may catch those)."""


class _deadline:
    """Fail (instead of hanging the suite) if the block runs longer than ``seconds``."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds

    def __enter__(self):
        def on_alarm(*_):
            raise Hang(f"still running after {self.seconds} s: a hang")

        self.previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(self.seconds)

    def __exit__(self, *exc):
        signal.alarm(0)
        signal.signal(signal.SIGALRM, self.previous)


# --------------------------------------------------------------------------- defect 5: divergence


def test_5_diverged_run_stops_with_its_own_exit_code(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    capsys.readouterr()
    assert _train(out, "--lr", "1e30", epochs=2) == 3
    _one_line_error(capsys, "diverged in epoch 1")
    assert ck.latest_checkpoint(out) is None and not (out / "model.safetensors").exists()


def test_5_divergence_later_keeps_the_last_good_checkpoint(
    run_dir: Path, monkeypatch, capsys
) -> None:
    from rnnkit.training import data as data_module

    good = ck.latest_checkpoint(run_dir)
    files_before = {p.name: p.read_bytes() for p in (run_dir / "checkpoints").iterdir()}
    model_before = (run_dir / "model.safetensors").read_bytes()
    real = data_module.load_task

    def poisoned(task):  # epoch 3 meets a NaN in its data
        d = real(task)
        d.x_train[0, 0, 0] = float("nan")
        return d

    monkeypatch.setattr(data_module, "load_task", poisoned)
    capsys.readouterr()
    assert _resume(run_dir, epochs=4) == 3
    _one_line_error(capsys, "diverged in epoch 3", str(good))
    assert {p.name: p.read_bytes() for p in (run_dir / "checkpoints").iterdir()} == files_before
    assert (run_dir / "model.safetensors").read_bytes() == model_before
    ck.load_model(run_dir)
    ck.load_training_state(good)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_5_json_with_non_finite_numbers_is_refused(run_dir: Path, capsys, literal: str) -> None:
    path = run_dir / "checkpoints" / "epoch-0002.json"
    text = path.read_text()
    path.write_text(text.replace('"train_seconds": ', f'"train_seconds": {literal}, "x": ', 1))
    capsys.readouterr()
    assert _resume(run_dir) == 2
    _one_line_error(capsys, str(path), "JSON")


# --------------------------------------------------------------------------- defect 8: one schema


@pytest.mark.parametrize(
    "edit",
    [
        {"task": "sunspots"},  # a sine model is per-step; sunspots is not
        {"task": "digits"},
        {"per_step": False},
        {"bidirectional": True},
        {"input_size": 3},
        {"cell": "transformer"},
    ],
    ids=str,
)
def test_8_evaluate_config_edited_to_another_task(run_dir: Path, capsys, edit: dict) -> None:
    def apply(c):
        for k, v in edit.items():
            (c if k == "task" else c["model"])[k] = v

    _edit_json(run_dir / "config.json", apply)
    capsys.readouterr()
    assert _evaluate(run_dir) == 2
    _one_line_error(capsys, str(run_dir / "config.json"))


def _nested(depth: int):
    return json.loads("[" * depth + "]" * depth) if depth < 900 else None


@pytest.mark.parametrize(
    "where, value",
    [
        (("config", "batch_size"), -4),
        (("config", "lr"), -1),
        (("config", "lr"), 0.5),  # in range, but the optimizer was set up with another
        (("epoch",), 10**20),
        (("epoch",), 1e20),
        (("epoch",), 2.0),
        (("config", "units"), 0),
        (("config", "seed"), 2**70),
        (("optimizer", "param_groups", 0, "betas"), [1]),
        (("optimizer", "param_groups", 0, "betas"), [1.0, 1.0]),
        (("optimizer", "param_groups", 0, "foreach"), True),
        (("rng", "python", 1, 624), 1000),
        (("rng", "python", 1, 0), 2**40),
        (("rng", "numpy", 2), 700),
        (("rng", "torch"), "AAAA"),
        (("history",), [[[[[[[[[]]]]]]]]]),
        (("history", 0, "train_loss"), -1.0),
        (("train_seconds",), "1"),
        (("tensors_file",), "../../model.safetensors"),
    ],
    ids=str,
)
def test_8_checkpoint_json_out_of_range_is_refused(run_dir: Path, capsys, where, value) -> None:
    def apply(obj):
        for key in where[:-1]:
            obj = obj[key]
        obj[where[-1]] = value

    path = run_dir / "checkpoints" / "epoch-0002.json"
    _edit_json(path, apply)
    capsys.readouterr()
    assert _resume(run_dir) == 2
    _one_line_error(capsys, str(path))


def test_8_deeply_nested_json_is_refused(run_dir: Path, capsys) -> None:
    path = run_dir / "checkpoints" / "epoch-0002.json"
    path.write_text('{"history": ' + "[" * 100_000 + "]" * 100_000 + "}")
    capsys.readouterr()
    assert _resume(run_dir) == 2
    _one_line_error(capsys, str(path), "deep")


# --------------------------------------------------------------------------- defect 9: the CLI


@pytest.mark.parametrize(
    "option, value",
    [
        ("--seed", "4294967296"),
        ("--units", "1e20"),
        ("--units", "100000000000000000000"),
        ("--units", "9" * 5000),
        ("--layers", "1000"),
        ("--epochs", "10000000000"),
        ("--batch-size", "99999999999"),
    ],
)
def test_9_out_of_range_options_are_refused_by_the_parser(capsys, option: str, value: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["train", "sine", option, value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}:" in err and "Traceback" not in err, err


def test_9_model_too_large_is_refused_before_training(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["train", "digits", "--units", "4096", "--layers", "16", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    assert "parameters" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["file", "under_a_file"])
def test_9_out_naming_a_file(tmp_path: Path, capsys, where: str) -> None:
    f = tmp_path / "afile"
    f.write_text("mine")
    out = f if where == "file" else f / "sub"
    for resume in ((), ("--resume",)):
        capsys.readouterr()
        assert _train(out, *resume) == 2
        _one_line_error(capsys, str(f))
        assert f.read_text() == "mine"


@pytest.mark.parametrize("resume", [False, True])
def test_9_unwritable_out_is_refused_before_training(
    run_dir: Path, monkeypatch, capsys, resume: bool
) -> None:
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(
        tempfile, "mkstemp", denied
    )  # root ignores chmod: deny the way the OS would
    capsys.readouterr()
    assert _train(run_dir, *(("--resume",) if resume else ()), epochs=3) == 2
    captured = capsys.readouterr()
    assert "epoch" not in captured.out  # refused before the first epoch
    assert "Permission denied" in captured.err and len(captured.err.strip().splitlines()) == 1


def _fsync_fails_after(monkeypatch, n: int) -> list[int]:
    calls = []
    real = os.fsync

    def fsync(fd):
        if stat.S_ISREG(os.fstat(fd).st_mode):  # file data, not the folder's entry
            calls.append(fd)
            if len(calls) > n:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


@pytest.mark.slow
def test_9_full_disk_at_every_write(tmp_path: Path, monkeypatch, capsys) -> None:
    """ENOSPC at the k-th file written, for every k: exit 2 with one line, no temporary file, and
    whatever files exist still verify."""
    k = 0
    while True:
        out = tmp_path / f"run{k}"
        calls = _fsync_fails_after(monkeypatch, k)
        capsys.readouterr()
        code = _train(out, epochs=2)
        monkeypatch.undo()
        if code == 0:
            break
        assert code == 2, k
        _one_line_error(capsys, "No space left on device")
        assert [p for p in out.rglob("*") if ".tmp-" in p.name] == [], k
        if (out / "config.json").exists():
            ck.load_model(out)
        if ck.latest_checkpoint(out) is not None:
            ck.load_training_state(ck.latest_checkpoint(out))
        assert len(calls) == k + 1
        k += 1
    assert k >= 12  # every write of a 2-epoch run was made to fail once (model, checkpoints, plots)


def test_1_outputs_of_the_users_own_are_never_overwritten(tmp_path, capsys) -> None:
    """A folder holding a file named like one of train's outputs, but no rnnkit checkpoints, is
    not an earlier run's: refused before training, and the user's file keeps its bytes (train used
    to replace it). An earlier run's folder is rerun into as before."""
    user = tmp_path / "user"
    user.mkdir()
    (user / "metrics.json").write_text("mine")
    (user / "loss.png").symlink_to(tmp_path / "elsewhere.png")
    assert main(["train", "sine", "--epochs", "1", "--out", str(user), *TINY]) == 2
    err = capsys.readouterr().err
    assert "holds 'metrics.json' but no rnnkit checkpoints" in err and err.count("\n") == 1
    assert (user / "metrics.json").read_text() == "mine" and (user / "loss.png").is_symlink()
    assert sorted(p.name for p in user.iterdir()) == ["loss.png", "metrics.json"]
    run = tmp_path / "run"
    for _ in range(2):
        assert main(["train", "sine", "--epochs", "1", "--out", str(run), *TINY]) == 0


def test_written_files_get_the_mode_open_would_give(tmp_path) -> None:
    """mkstemp creates 0600 files and the rename kept that: outputs unreadable to the group even
    under umask 022. They now get 0666 less the umask, as open() gives."""
    from rnnkit.training.files import atomic_write_bytes

    old = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "a.json", b"{}")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o640
