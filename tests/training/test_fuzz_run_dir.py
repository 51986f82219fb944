"""Fuzz over a whole run directory: every file ``evaluate`` and ``train --resume`` read is
edited, damaged or replaced, and every case must end in success with verified data or a one-line
:class:`CheckpointError` -- never another exception, a hang, memory beyond a bound, a lost user file
or silently different weights.

Cases (seeded, ~800 in all, run in-process through the same library calls the commands make):

- every field of ``config.json`` and ``epoch-0002.json`` edited (another type, out of range, huge,
  nested, deleted, an unknown key beside it), then *resealed* so that the schema, not the seal, judges;
  a sample left unsealed (the seal must catch those);
- single-bit flips and truncations of all four files;
- each file replaced by a symbolic link to ``/dev/zero``, a FIFO, a folder, a 64 GiB sparse file, an
  empty file, a dangling link, and a link to a good copy outside the run.

A handful of cases run the real command line in subprocesses, with their peak memory measured.
"""

from __future__ import annotations

import copy
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit.commands import main
from rnnkit.training import checkpoint as ck
from rnnkit.training.files import CheckpointError, seal
from rnnkit.training.models import build_model, task_model_config

FILES = (
    "config.json",
    "model.safetensors",
    "checkpoints/epoch-0002.json",
    "checkpoints/epoch-0002.safetensors",
)
MEMORY_BOUND_KIB = 300 * 1024  # what the in-process fuzz may add to the test process's peak RSS
CLI_MEMORY_BOUND_KIB = (
    1536 * 1024
)  # a whole `python -m rnnkit` process (torch, numba, ...) included


class Hang(BaseException):
    """Not an OSError, so file code cannot swallow it."""


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("fuzz") / "run"
    args = ["train", "sine", "--epochs", "2", "--units", "3", "--batch-size", "400", "--quiet"]
    assert main([*args, "--out", str(out)]) == 0
    model, _ = ck.load_model(out)
    meta, model_t, opt_t = ck.load_training_state(ck.latest_checkpoint(out))
    reference = build_model(task_model_config("sine", meta["config"]))
    groups = torch.optim.Adam(reference.parameters(), lr=meta["config"]["lr"]).state_dict()
    return {
        "groups": groups["param_groups"],
        "dir": out,
        "model": {k: v.clone() for k, v in model.state_dict().items()},
        "state": {
            **{f"m.{k}": v for k, v in model_t.items()},
            **{f"o.{k}": v for k, v in opt_t.items()},
        },
        "json": {
            name: json.loads((out / name).read_text()) for name in FILES if name.endswith("json")
        },
    }


# --------------------------------------------------------------------------- reading like the commands


def _equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _read_like_the_commands(run: Path, pristine: dict) -> list[str]:
    """What ``evaluate`` and ``train --resume`` read, through the same library calls; returns the
    outcomes ("ok" or the one-line error). Fails the test on anything else."""
    outcomes = []
    try:
        model, _ = ck.load_model(run)
        assert _equal(model.state_dict(), pristine["model"]), "silently different weights"
        outcomes.append("ok")
    except CheckpointError as e:
        outcomes.append(_one_line(e, run))
    try:
        json_path = ck.latest_checkpoint(run)
        assert json_path is not None or not (run / FILES[2]).exists()
        if json_path is not None:
            meta, model_t, opt_t = ck.load_training_state(json_path)
            model = build_model(task_model_config("sine", meta["config"]))
            ck.load_state_into(json_path, model, model_t)
            opt = torch.optim.Adam(model.parameters(), lr=meta["config"]["lr"])
            ck.restore_optimizer(json_path, opt, meta, opt_t)
            ck.set_rng_states(json_path, meta["rng"], torch.Generator())
            state = {**{f"m.{k}": v for k, v in model.state_dict().items()}}
            for idx, entry in opt.state_dict()["state"].items():
                state.update({f"o.{idx}.{k}": v for k, v in entry.items()})
            assert _equal(state, pristine["state"]), "silently different training state"
            assert opt.state_dict()["param_groups"] == pristine["groups"], "other Adam settings"
            outcomes.append("ok")
    except CheckpointError as e:
        outcomes.append(_one_line(e, run))
    return outcomes


def _one_line(e: CheckpointError, run: Path) -> str:
    text = str(e)
    assert "\n" not in text and len(text) < 800, text
    assert text.startswith(str(run)), text  # names the file (or folder) in the run directory
    return text


class _guard:
    """Per case: a deadline (a hang fails the test) and the RNG states the readers may set."""

    def __enter__(self):
        self.rng = (torch.get_rng_state(), np.random.get_state(), random.getstate())

        def on_alarm(*_):
            raise Hang("a case ran for more than 20 s")

        self.previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(20)

    def __exit__(self, *exc):
        signal.alarm(0)
        signal.signal(signal.SIGALRM, self.previous)
        torch.set_rng_state(self.rng[0])
        np.random.set_state(self.rng[1])
        random.setstate(self.rng[2])


# --------------------------------------------------------------------------- JSON edits


def _paths(obj, prefix=(), rng=None):
    """Every path into ``obj`` (long lists sampled: first, second, last and one at random)."""
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k), rng)
    elif isinstance(obj, list):
        n = len(obj)
        idx = range(n) if n <= 8 else sorted({0, 1, n - 1, rng.randrange(n)})
        for i in idx:
            yield from _paths(obj[i], (*prefix, i), rng)


def _nested(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


ODD_VALUES = [
    None, True, False, 0, -1, 1, 2**31, 2**70, -(2**70), 0.5, -0.5, 1e300, -1e300, 5e-324, "",
    "x" * 10, "A" * 6744, [], [1], [1.0, 1.0], {}, {"a": 1}, _nested(60), list(range(700)),
]  # fmt: skip


def _perturbed(value, rng):
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, -value - 1, value * 3 + 7]
    if isinstance(value, float):
        return [value * 1.5 + 1e-3, -value, value + 1.0]
    if isinstance(value, str):
        if not value:
            return ["a"]
        i = rng.randrange(len(value))
        return [value[:i] + chr((ord(value[i]) + 1) % 128) + value[i + 1 :], value[:-1]]
    if isinstance(value, list):
        return [value[:-1], value + value[-1:]] if value else [[0]]
    if isinstance(value, dict):
        return [{**value, "unknown": 1}, {k: v for k, v in list(value.items())[1:]}]
    return [0.0]  # None


def _set(obj, path, value):
    if not path:
        return value
    target = obj
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return obj


_DELETE = object()


def _json_cases(pristine: dict, rng: random.Random):
    for name, original in pristine["json"].items():
        for path in _paths(original, (), rng):
            current = original
            for key in path:
                current = current[key]
            similar = _perturbed(current, rng)  # same type, another value: often schema-valid
            values = rng.sample(ODD_VALUES, 3) + similar
            if path and isinstance(path[-1], str):
                values.append(_DELETE)
            for value in values:
                yield name, path, value, True
            if rng.random() < 0.15:  # a sample stays unsealed: the seal must catch those
                yield name, path, similar[0], False


def _write_json_case(run: Path, name: str, obj: dict, path, value, reseal: bool) -> bool:
    edited = _set(copy.deepcopy(obj), path, value)
    if not isinstance(edited, dict):
        (run / name).write_text(json.dumps(edited))
        return True
    if reseal:
        edited = seal({k: v for k, v in edited.items() if k != "json_sha256"})
    (run / name).write_text(json.dumps(edited, indent=1))
    return True


@pytest.mark.slow
def test_fuzz_every_json_field(pristine: dict, tmp_path: Path) -> None:
    rng = random.Random(20240614)
    run = Path(shutil.copytree(pristine["dir"], tmp_path / "run"))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seen = {"ok": 0, "refused": 0}
    cases = list(_json_cases(pristine, rng))
    assert len(cases) > 400
    for name, path, value, reseal in cases:
        original_text = (pristine["dir"] / name).read_text()
        _write_json_case(run, name, pristine["json"][name], path, value, reseal)
        with _guard():
            outcomes = _read_like_the_commands(run, pristine)
        if not reseal:  # an edit the seal does not cover would be a silent change
            assert any(o != "ok" for o in outcomes), (name, path)
        for o in outcomes:
            seen["ok" if o == "ok" else "refused"] += 1
        (run / name).write_text(original_text)
    assert seen["refused"] > 300 and seen["ok"] > 100, seen  # both outcomes really happen
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown < MEMORY_BOUND_KIB, f"peak memory grew by {grown} KiB"


# --------------------------------------------------------------------------- bytes and special files


def test_fuzz_flipped_bits_and_truncations(pristine: dict, tmp_path: Path) -> None:
    rng = random.Random(7)
    run = Path(shutil.copytree(pristine["dir"], tmp_path / "run"))
    refused = 0
    for name in FILES:
        data = (pristine["dir"] / name).read_bytes()
        n = len(data)
        variants = []
        for pos in [*range(0, 64, 9), *rng.sample(range(n), 16)]:
            flipped = bytearray(data)
            flipped[pos] ^= 1 << rng.randrange(8)
            variants.append(bytes(flipped))
        variants += [data[:k] for k in (0, 1, 7, 8, 9, n // 2, n - 1)] + [data + b"\0"]
        for variant in variants:
            (run / name).write_bytes(variant)
            with _guard():
                outcomes = _read_like_the_commands(run, pristine)
            refused += any(o != "ok" for o in outcomes)
        (run / name).write_bytes(data)
    assert refused >= 4 * 30  # every damaged variant of every file is refused (a few flips may be
    # in JSON whitespace, which the seal does not cover and which changes nothing)


@pytest.mark.parametrize("name", FILES)
def test_fuzz_special_files_in_place_of_each(pristine: dict, tmp_path: Path, name: str) -> None:
    user = tmp_path / "user"
    user.mkdir()
    (user / "precious.txt").write_text("keep")
    good_copy = user / Path(name).name
    shutil.copy(pristine["dir"] / name, good_copy)
    kinds = ["dev_zero", "fifo", "folder", "huge", "empty", "dangling", "link_to_good_copy",
             "link_to_user_file"]  # fmt: skip
    for kind in kinds:
        run = Path(shutil.copytree(pristine["dir"], tmp_path / f"run-{kind}"))
        target = run / name
        target.unlink()
        if kind == "dev_zero":
            target.symlink_to("/dev/zero")
        elif kind == "fifo":
            os.mkfifo(target)
        elif kind == "folder":
            target.mkdir()
        elif kind == "huge":
            with open(target, "wb") as f:
                f.truncate(64 << 30)  # sparse
        elif kind == "empty":
            target.write_bytes(b"")
        elif kind == "dangling":
            target.symlink_to(tmp_path / "nowhere")
        elif kind == "link_to_good_copy":
            target.symlink_to(good_copy)
        else:
            target.symlink_to(user / "precious.txt")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with _guard():
            outcomes = _read_like_the_commands(run, pristine)
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        assert grown < MEMORY_BOUND_KIB, (kind, grown)
        in_checkpoints = name.startswith("checkpoints/")
        if kind == "link_to_good_copy" and not in_checkpoints:
            assert outcomes == ["ok", "ok"], outcomes  # a link to a good file outside is fine
        else:
            assert any(o != "ok" for o in outcomes), (kind, outcomes)
    assert (user / "precious.txt").read_text() == "keep"
    assert sorted(p.name for p in user.iterdir()) == sorted(["precious.txt", good_copy.name])


# --------------------------------------------------------------------------- the command line


# The child's own peak RSS in KiB: VmHWM of its address space (ru_maxrss would carry the peak of the
# test process, which survives fork and exec, so it grew with whatever the suite ran before).
_WRAPPER = (
    "import os, resource, runpy, sys\n"
    "def peak():\n"
    "    try:\n"
    "        with open('/proc/self/status') as f:\n"
    "            return next(int(l.split()[1]) for l in f if l.startswith('VmHWM:'))\n"
    "    except (OSError, StopIteration):\n"
    "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
    "try:\n"
    "    runpy.run_module('rnnkit', run_name='__main__')\n"
    "finally:\n"
    "    with open(os.environ['RNNKIT_RSS_FILE'], 'w') as f:\n"
    "        f.write(str(peak()))\n"
)


@pytest.mark.slow
def test_fuzz_command_line_cases(pristine: dict, tmp_path: Path) -> None:
    """A few cases through ``python -m rnnkit``, in parallel: exit 2, one line on stderr, no hang,
    and a bounded peak memory (the issue measured 19 GB for ``units: 40000``)."""
    cases = {}

    def case(label: str) -> Path:
        run = Path(shutil.copytree(pristine["dir"], tmp_path / label))
        cases[label] = run
        return run

    run = case("units_40000")
    cfg = json.loads((run / "config.json").read_text())
    cfg["model"]["units"] = 40000
    (run / "config.json").write_text(json.dumps(seal(cfg)))
    run = case("model_fifo")
    (run / "model.safetensors").unlink()
    os.mkfifo(run / "model.safetensors")
    run = case("state_dev_zero")
    (run / FILES[2]).unlink()
    (run / FILES[2]).symlink_to("/dev/zero")
    run = case("nested_state")
    (run / FILES[2]).write_text('{"history": ' + "[" * 200_000 + "]" * 200_000 + "}")

    procs = {}
    for label, run in cases.items():
        if label in ("units_40000", "model_fifo"):
            args = ["evaluate", "--checkpoint", str(run)]
        else:
            args = ["train", "sine", "--resume", "--epochs", "3", "--out", str(run)]
        env = {**os.environ, "RNNKIT_RSS_FILE": str(tmp_path / f"{label}.rss")}
        procs[label] = subprocess.Popen(
            [sys.executable, "-c", _WRAPPER, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
    for label, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"{label}: hung")
        assert proc.returncode == 2, (label, proc.returncode, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err, (label, err)
        assert str(cases[label]) in lines[0], (label, err)
        rss = int((tmp_path / f"{label}.rss").read_text())
        assert rss < CLI_MEMORY_BOUND_KIB, (label, rss)
