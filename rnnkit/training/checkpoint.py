"""Safe files for models and training state: atomic writes, no pickle, one-line errors.

Layout of a run directory ``DIR``::

    DIR/config.json                        what the model is (enough to rebuild it) and how it was trained
    DIR/model.safetensors                  the model's tensors
    DIR/checkpoints/epoch-0007.safetensors model + optimizer tensors after epoch 7
    DIR/checkpoints/epoch-0007.json        epoch, RNG states, optimizer scalars, history, config, and
                                           the SHA-256 of the tensor file; written last, so it commits

Every file is written to a temporary file in the same directory, flushed, fsync'ed and moved over the
old name with ``os.replace`` (atomic on POSIX), so a reader -- or a process killed with ``kill -9`` --
only ever sees a complete old file or a complete new one. A training checkpoint counts once its JSON
exists; older checkpoints are removed only after that. Only files this program wrote are ever deleted:
``epoch-NNNN.{json,safetensors}`` (and their temporary files) that are regular files in a real
``DIR/checkpoints`` folder; a ``checkpoints`` that is a symbolic link, or that holds anything else, is
refused with a :class:`CheckpointError` before anything is written. Nothing is unpickled: tensors are read with
safetensors, everything else is JSON. Any damaged or mismatched file raises :class:`CheckpointError`,
whose message is one line that starts with the file's path.

Example::

    atomic_write_json(path, {"epoch": 3})
    tensors = read_tensors(run_dir / "model.safetensors")
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import re
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
MODEL_FORMAT = "rnnkit.model/1"
STATE_FORMAT = "rnnkit.training-state/1"
_TEMP_MARK = ".tmp-"
# the only names this program writes in DIR/checkpoints: a checkpoint's two files, and the temporary
# files of atomic_write_bytes (mkstemp adds 8 characters of [a-z0-9_])
_EPOCH_RE = re.compile(r"^epoch-(\d{4,})\.json$")
_OWN_FILE_RE = re.compile(r"^epoch-\d{4,}\.(?:json|safetensors)$")
_OWN_TEMP_RE = re.compile(r"^\.epoch-\d{4,}\.(?:json|safetensors)\.tmp-[a-z0-9_]{8}$")


class CheckpointError(Exception):
    """A checkpoint file is missing, damaged or does not fit; ``str()`` is one line naming the file."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = Path(path)
        self.problem = " ".join(str(problem).split())  # one line, whatever the cause said
        super().__init__(f"{self.path}: {self.problem}")


# --------------------------------------------------------------------------- atomic writing


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is always either the old or the new content."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{_TEMP_MARK}")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON."""
    text = json.dumps(obj, indent=2, sort_keys=True, allow_nan=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_save_tensors(path: str | os.PathLike[str], tensors: Mapping[str, torch.Tensor]) -> bytes:
    """Atomically write ``tensors`` as a safetensors file; returns the bytes written."""
    from safetensors.torch import save

    data = save({k: v.detach().to("cpu").contiguous() for k, v in tensors.items()})
    atomic_write_bytes(path, data)
    return data


def remove_stale_temp_files(directory: str | os.PathLike[str]) -> None:
    """Delete temporary files that a killed writer left behind in ``directory``."""
    directory = Path(directory)
    if directory.is_dir():
        for p in directory.glob(f".*{_TEMP_MARK}*"):
            p.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # not supported on this platform
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- checked reading


def read_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a JSON object; any problem is a :class:`CheckpointError` naming ``path``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CheckpointError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise CheckpointError(path, f"cannot be read ({e})") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise CheckpointError(path, f"damaged JSON ({e})") from None
    if not isinstance(obj, dict):
        raise CheckpointError(path, f"expected a JSON object, got {type(obj).__name__}")
    return obj


def read_tensors(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a safetensors file (never pickle); any problem is a :class:`CheckpointError`."""
    return _parse_tensors(path, _read_bytes(path))


def _read_bytes(path: str | os.PathLike[str]) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise CheckpointError(path, "file not found") from None
    except OSError as e:
        raise CheckpointError(path, f"cannot be read ({e})") from None


def _parse_tensors(path: str | os.PathLike[str], data: bytes) -> dict[str, torch.Tensor]:
    from safetensors.torch import load

    try:
        return load(data)
    except Exception as e:  # safetensors raises its own error types for damaged files
        raise CheckpointError(path, f"damaged safetensors file ({type(e).__name__}: {e})") from None


def require(path: str | os.PathLike[str], obj: Mapping[str, Any], key: str, kind: type) -> Any:
    """``obj[key]`` if present with type ``kind``, else a :class:`CheckpointError` naming ``path``."""
    if key not in obj:
        raise CheckpointError(path, f"missing entry {key!r}")
    value = obj[key]
    ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:
        raise CheckpointError(path, f"entry {key!r} should be {kind.__name__}, got {value!r}")
    return value


def load_state_into(
    path: str | os.PathLike[str], module: torch.nn.Module, tensors: Mapping[str, torch.Tensor]
) -> None:
    """Copy ``tensors`` into ``module`` after checking names, shapes and dtypes against it."""
    expected = module.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            path,
            f"does not match the model: missing tensors {missing[:4]}, unexpected tensors "
            f"{unexpected[:4]}",
        )
    for name, want in expected.items():
        got = tensors[name]
        if tuple(got.shape) != tuple(want.shape) or got.dtype != want.dtype:
            raise CheckpointError(
                path,
                f"does not match the model: tensor {name!r} has shape {tuple(got.shape)} and dtype "
                f"{got.dtype}, the model needs {tuple(want.shape)} and {want.dtype}",
            )
    module.load_state_dict(dict(tensors), strict=True)


# --------------------------------------------------------------------------- model files


def save_model(directory: str | os.PathLike[str], model: torch.nn.Module, config: dict) -> None:
    """Write ``model.safetensors`` and ``config.json`` (``config`` must hold a ``"model"`` entry)."""
    directory = Path(directory)
    atomic_save_tensors(directory / MODEL_FILE, model.state_dict())
    atomic_write_json(directory / CONFIG_FILE, {"format": MODEL_FORMAT, **config})


def load_model(
    directory: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[torch.nn.Module, dict]:
    """Rebuild the model saved by :func:`save_model`; returns ``(model, config)``."""
    from rnnkit.training.models import build_model, check_model_config

    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(directory, "is not a directory")
    config_path = directory / CONFIG_FILE
    config = read_json(config_path)
    if config.get("format") != MODEL_FORMAT:
        raise CheckpointError(
            config_path, f"not an rnnkit model config (format {config.get('format')!r})"
        )
    from rnnkit.training.data import TASKS

    task = require(config_path, config, "task", str)
    if task not in TASKS:
        raise CheckpointError(config_path, f"unknown task {task!r}, expected one of {list(TASKS)}")
    model_config = require(config_path, config, "model", dict)
    try:
        model_config = check_model_config(model_config)
    except (TypeError, ValueError) as e:
        raise CheckpointError(config_path, f"invalid model config ({e})") from None
    model = build_model(model_config)
    model_path = directory / MODEL_FILE
    load_state_into(model_path, model, read_tensors(model_path))
    return model.to(device), config


# --------------------------------------------------------------------------- training state


def checkpoint_paths(directory: str | os.PathLike[str], epoch: int) -> tuple[Path, Path]:
    """``(tensors, json)`` paths of the training checkpoint after ``epoch``."""
    base = Path(directory) / CHECKPOINT_DIR / f"epoch-{epoch:04d}"
    return base.with_suffix(".safetensors"), base.with_suffix(".json")


def save_training_state(
    directory: str | os.PathLike[str],
    epoch: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    state: dict[str, Any],
) -> Path:
    """Write the checkpoint after ``epoch`` (tensors first, then the committing JSON); prune older.

    Refuses (:class:`CheckpointError`, nothing written) a ``checkpoints`` folder that holds anything
    this program did not write; see :func:`own_checkpoint_files`.
    """
    existing = own_checkpoint_files(directory)
    tensors_path, json_path = checkpoint_paths(directory, epoch)
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    opt_tensors, opt_meta = _split_optimizer_state(optimizer.state_dict())
    tensors.update(opt_tensors)
    data = atomic_save_tensors(tensors_path, tensors)
    meta = {
        "format": STATE_FORMAT,
        "epoch": epoch,
        "tensors_file": tensors_path.name,
        "tensors_sha256": hashlib.sha256(data).hexdigest(),
        "optimizer": opt_meta,
        **state,
    }
    atomic_write_json(json_path, meta)
    # the new checkpoint is complete: only now remove older ones and leftovers of killed writers
    _remove_own_files(p for p in existing if p not in (tensors_path, json_path))
    return json_path


def latest_checkpoint(directory: str | os.PathLike[str]) -> Path | None:
    """The JSON of the newest complete training checkpoint in run ``directory``, or None."""
    files = own_checkpoint_files(directory)
    found = [(int(m.group(1)), p) for p in files if (m := _EPOCH_RE.match(p.name))]
    return max(found)[1] if found else None


def own_checkpoint_files(directory: str | os.PathLike[str]) -> list[Path]:
    """Every file in ``directory/checkpoints``, each one this program wrote; [] if there is no folder.

    Raises :class:`CheckpointError` (one line naming the folder) if ``checkpoints`` is a symbolic link
    or not a folder, or if it holds anything but regular files named ``epoch-NNNN.json``,
    ``epoch-NNNN.safetensors`` or their temporary files: such a folder is not ours to write or prune.
    """
    ckpt_dir = Path(directory) / CHECKPOINT_DIR
    advice = (
        "rnnkit only writes and deletes its own files there (move it away or use another --out)"
    )
    try:
        mode = os.lstat(ckpt_dir).st_mode
    except FileNotFoundError:
        return []
    except OSError as e:
        raise CheckpointError(ckpt_dir, f"cannot be read ({e.strerror or e})") from None
    if stat.S_ISLNK(mode):
        raise CheckpointError(
            ckpt_dir, f"is a symbolic link, which rnnkit never follows out of --out; {advice}"
        )
    if not stat.S_ISDIR(mode):
        raise CheckpointError(ckpt_dir, f"is not a folder; {advice}")
    files: list[Path] = []
    try:
        with os.scandir(ckpt_dir) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                named = _OWN_FILE_RE.match(entry.name) or _OWN_TEMP_RE.match(entry.name)
                if not named:
                    raise CheckpointError(
                        ckpt_dir, f"holds {entry.name!r}, which rnnkit did not write; {advice}"
                    )
                if not entry.is_file(follow_symlinks=False):
                    raise CheckpointError(
                        ckpt_dir,
                        f"holds {entry.name!r}, which is not a regular file (rnnkit writes only "
                        f"regular files); {advice}",
                    )
                files.append(Path(entry.path))
    except OSError as e:
        raise CheckpointError(ckpt_dir, f"cannot be read ({e.strerror or e})") from None
    return files


def clear_checkpoints(directory: str | os.PathLike[str]) -> None:
    """Delete the checkpoints of an earlier run in ``directory`` (a fresh run never resumes into them).

    Only the files :func:`own_checkpoint_files` accepts are deleted (it refuses a folder holding
    anything else); the folder itself stays.
    """
    _remove_own_files(own_checkpoint_files(directory))


def _remove_own_files(paths) -> None:
    for p in paths:
        try:
            os.unlink(p)  # never follows a link: own_checkpoint_files accepted regular files only
        except FileNotFoundError:
            pass
        except OSError as e:
            raise CheckpointError(p, f"cannot be deleted ({e.strerror or e})") from None


def load_training_state(
    json_path: str | os.PathLike[str],
) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Read a training checkpoint; returns ``(meta, model_tensors, optimizer_tensors)``."""
    json_path = Path(json_path)
    meta = read_json(json_path)
    if meta.get("format") != STATE_FORMAT:
        raise CheckpointError(
            json_path, f"not an rnnkit training state (format {meta.get('format')!r})"
        )
    require(json_path, meta, "epoch", int)
    name = require(json_path, meta, "tensors_file", str)
    digest = require(json_path, meta, "tensors_sha256", str)
    require(json_path, meta, "optimizer", dict)
    require(json_path, meta, "config", dict)
    require(json_path, meta, "rng", dict)
    require(json_path, meta, "history", list)
    require(json_path, meta, "train_seconds", float)
    tensors_path = json_path.parent / Path(name).name
    data = _read_bytes(tensors_path)
    if hashlib.sha256(data).hexdigest() != digest:
        raise CheckpointError(tensors_path, f"damaged: its SHA-256 differs from {json_path.name}")
    tensors = _parse_tensors(tensors_path, data)
    model_t = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    opt_t = {k: v for k, v in tensors.items() if k.startswith("optimizer.")}
    return meta, model_t, opt_t


def _split_optimizer_state(sd: dict) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, entry in sd["state"].items():
        scalars[str(idx)] = {}
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer.{idx}.{key}"] = value
            else:
                scalars[str(idx)][key] = value
    return tensors, {"param_groups": sd["param_groups"], "state": scalars}


def restore_optimizer(
    json_path: str | os.PathLike[str],
    optimizer: torch.optim.Optimizer,
    meta: dict[str, Any],
    tensors: Mapping[str, torch.Tensor],
) -> None:
    """Load the optimizer state split by :func:`save_training_state` back into ``optimizer``."""
    opt_meta = meta["optimizer"]
    state: dict[int, dict[str, Any]] = {}
    try:
        for idx, scalars in opt_meta["state"].items():
            state[int(idx)] = dict(scalars)
        for name, value in tensors.items():
            _, idx, key = name.split(".", 2)
            state.setdefault(int(idx), {})[key] = value
        groups = opt_meta["param_groups"]
        for g in groups:
            if "betas" in g:
                g["betas"] = tuple(g["betas"])
        optimizer.load_state_dict({"state": state, "param_groups": groups})
    except (KeyError, ValueError, TypeError) as e:
        raise CheckpointError(json_path, f"optimizer state does not fit ({e})") from None


# --------------------------------------------------------------------------- RNG states


def _b64(t: torch.Tensor) -> str:
    return base64.b64encode(t.numpy().tobytes()).decode("ascii")


def _unb64(s: str) -> torch.Tensor:
    return torch.frombuffer(bytearray(base64.b64decode(s)), dtype=torch.uint8).clone()


def get_rng_states(generator: torch.Generator) -> dict[str, Any]:
    """All RNG states that training uses, as JSON-ready values."""
    py_state = random.getstate()
    np_state = np.random.get_state()
    states: dict[str, Any] = {
        "torch": _b64(torch.get_rng_state()),
        "shuffle": _b64(generator.get_state()),
        "python": [py_state[0], list(py_state[1]), py_state[2]],
        "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = [_b64(s) for s in torch.cuda.get_rng_state_all()]
    return states


def set_rng_states(
    json_path: str | os.PathLike[str], states: Any, generator: torch.Generator
) -> None:
    """Restore what :func:`get_rng_states` returned."""
    try:
        torch.set_rng_state(_unb64(states["torch"]))
        generator.set_state(_unb64(states["shuffle"]))
        version, internal, gauss = states["python"]
        random.setstate((version, tuple(internal), gauss))
        name, keys, pos, has_gauss, cached = states["numpy"]
        np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
        if "cuda" in states and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([_unb64(s) for s in states["cuda"]])
    except (KeyError, ValueError, TypeError, RuntimeError) as e:
        raise CheckpointError(json_path, f"damaged RNG state ({type(e).__name__}: {e})") from None
