"""Model files and training checkpoints: every byte verified on read, nothing but our own files deleted.

Layout of a run directory ``DIR``::

    DIR/config.json                        what the model is (enough to rebuild it), how it was trained,
                                           and the SHA-256 of model.safetensors
    DIR/model.safetensors                  the model's tensors
    DIR/checkpoints/epoch-0007.safetensors model + optimizer tensors after epoch 7
    DIR/checkpoints/epoch-0007.json        epoch, RNG states, optimizer settings, history, config, and
                                           the SHA-256 of the tensor file; written last, so it commits

Writing (:mod:`rnnkit.training.files`): atomic (temporary file, fsync, ``os.replace``), so a ``kill -9``
leaves the old or the new file. ``model.safetensors`` is replaced in three steps -- ``config.json``
first lists the new digest beside the old one (``replacing_sha256``), then the model file is replaced,
then ``config.json`` lists only the new digest -- so the pair always verifies. A training checkpoint
counts once its JSON exists; older checkpoints are removed only after that, and only files this
program wrote are ever deleted: ``epoch-NNNN.{json,safetensors}`` (and their temporary files) that are
regular files in a real ``DIR/checkpoints`` folder. A ``checkpoints`` that is a symbolic link, or that
holds anything else, is refused before anything is written.

Reading: JSON files are sealed (their own SHA-256) and validated against one schema
(:mod:`rnnkit.training.schema`); the model a config describes is laid out on the meta device and its
size checked *before* any tensor file is read, with a size limit that this model justifies; tensor files
must match the digest their JSON records, then the expected names, shapes and dtypes, and hold finite
numbers. Nothing is unpickled. Every problem is a :class:`CheckpointError`: one line naming the file.

Example::

    save_model(run_dir, model, {"task": "sine", "model": model_config, "train": run_config})
    model, config = load_model(run_dir)
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from rnnkit.training import schema
from rnnkit.training.files import (
    CheckpointError,
    atomic_write_bytes,
    atomic_write_json,
    check_seal,
    read_json,
    read_regular_file,
    remove_stale_temp_files,
    seal,
)
from rnnkit.training.rng import get_rng_states, set_rng_states

__all__ = [
    "CheckpointError",
    "save_model",
    "load_model",
    "save_training_state",
    "load_training_state",
    "latest_checkpoint",
    "recorded_run",
    "own_checkpoint_files",
    "clear_checkpoints",
    "restore_optimizer",
    "get_rng_states",
    "set_rng_states",
    "load_state_into",
    "checkpoint_paths",
    "atomic_write_json",
    "remove_stale_temp_files",
]

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
MODEL_FORMAT = "rnnkit.model/2"
STATE_FORMAT = "rnnkit.training-state/2"
_ADAM_STATE = ("step", "exp_avg", "exp_avg_sq")
# the only names this program writes in DIR/checkpoints: a checkpoint's two files, and the temporary
# files of atomic_write_bytes (mkstemp adds 8 characters of [a-z0-9_])
_EPOCH_RE = re.compile(r"^epoch-(\d{4,})\.json$")
_OWN_FILE_RE = re.compile(r"^epoch-\d{4,}\.(?:json|safetensors)$")
_OWN_TEMP_RE = re.compile(r"^\.epoch-\d{4,}\.(?:json|safetensors)\.tmp-[a-z0-9_]{8}$")


# --------------------------------------------------------------------------- tensors


def _tensor_bytes(tensors: Mapping[str, torch.Tensor]) -> bytes:
    from safetensors.torch import save

    return save({k: v.detach().to("cpu").contiguous() for k, v in tensors.items()})


def _read_tensors(
    path: Path, expected: Mapping[str, torch.Tensor], digest: Iterable[str], source: str, **kw: Any
) -> dict[str, torch.Tensor]:
    """Tensors of ``path`` if its SHA-256 is one of ``digest`` (recorded in ``source``) and it holds
    exactly the finite tensors ``expected`` describes (names, shapes, dtypes; meta tensors).

    The file may not be larger than those tensors need, so nothing larger is ever read or parsed.
    """
    limit = (
        sum(t.numel() * t.element_size() for t in expected.values()) + schema.TENSOR_HEADER_LIMIT
    )
    data = read_regular_file(path, limit, **kw)
    if hashlib.sha256(data).hexdigest() not in set(digest):
        raise CheckpointError(path, f"damaged or replaced: its SHA-256 differs from {source}'s")
    from safetensors.torch import load

    try:
        tensors = load(data)
    except Exception as e:  # safetensors raises its own error types for damaged files
        raise CheckpointError(path, f"damaged safetensors file ({type(e).__name__}: {e})") from None
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            path, f"does not match {source}: missing {missing[:3]}, unexpected {unexpected[:3]}"
        )
    for name, want in expected.items():
        got = tensors[name]
        if tuple(got.shape) != tuple(want.shape) or got.dtype != want.dtype:
            raise CheckpointError(
                path,
                f"does not match {source}: tensor {name!r} has shape {tuple(got.shape)} and dtype "
                f"{got.dtype}, expected {tuple(want.shape)} and {want.dtype}",
            )
        if got.is_floating_point() and not bool(torch.isfinite(got).all()):
            raise CheckpointError(path, f"tensor {name!r} holds NaN or infinite values")
    return tensors


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


def _checked_json(path: Path, fmt: str, limit: int, **kw: Any) -> dict[str, Any]:
    obj = read_json(path, limit, **kw)
    found = obj.get("format")
    if found != fmt:
        if isinstance(found, str) and found.rsplit("/", 1)[0] == fmt.rsplit("/", 1)[0]:
            raise CheckpointError(
                path, f"format {found}, written by another rnnkit version; this one reads {fmt}"
            )
        raise CheckpointError(path, f"not an rnnkit file of format {fmt} (format {found!r:.40})")
    obj = check_seal(path, obj)
    schema.validate(path, obj, schema.CONFIG_SCHEMA if fmt == MODEL_FORMAT else schema.STATE_SCHEMA)
    return obj


def _model_layout(path: Path, task: str, model_config: dict[str, Any]) -> torch.nn.Module:
    """The model on the meta device, after checking that it fits ``task`` and the size limit."""
    from rnnkit.training.models import meta_model, task_model_config

    try:
        want = task_model_config(task, model_config)
    except ValueError as e:
        raise CheckpointError(path, str(e)) from None
    for key in ("input_size", "output_size", "per_step"):
        if model_config.get(key, want[key]) != want[key]:
            raise CheckpointError(
                path,
                f"entry model.{key} is {model_config[key]!r}, task {task!r} needs {want[key]!r}",
            )
    layout = meta_model(want)
    count = sum(p.numel() for p in layout.parameters())
    if count > schema.MAX_PARAMETERS:
        raise CheckpointError(
            path,
            f"describes a model of {count} parameters, more than the limit {schema.MAX_PARAMETERS}",
        )
    return layout


# --------------------------------------------------------------------------- model files


def save_model(
    directory: str | os.PathLike[str], model: torch.nn.Module, config: dict[str, Any]
) -> None:
    """Write ``model.safetensors`` and ``config.json`` so that the pair verifies at every moment.

    ``config`` holds ``"task"``, ``"model"`` (see :func:`rnnkit.training.models.check_model_config`)
    and ``"train"`` (the run options); the digest of the tensors is added.
    """
    directory = Path(directory)
    data = _tensor_bytes(model.state_dict())
    digest = hashlib.sha256(data).hexdigest()
    config_path = directory / CONFIG_FILE
    body = {"format": MODEL_FORMAT, **config, "model_sha256": digest}
    previous = _current_model_digest(directory, config)
    if previous is not None and previous != digest:
        atomic_write_json(config_path, seal({**body, "replacing_sha256": previous}))
    atomic_write_bytes(directory / MODEL_FILE, data)
    atomic_write_json(config_path, seal(body))


def _current_model_digest(directory: Path, config: dict[str, Any]) -> str | None:
    """The digest of the model.safetensors there now, if config.json is a valid config of the same
    model (so that either file may be there for a moment while it is replaced), else None."""
    try:
        current = _checked_json(directory / CONFIG_FILE, MODEL_FORMAT, schema.CONFIG_JSON_LIMIT)
    except CheckpointError:
        return None
    if current["task"] != config["task"] or current["model"] != config["model"]:
        return None
    if "replacing_sha256" not in current:  # at rest: the file is the one listed
        return current["model_sha256"]
    # an earlier save was killed half way: either listed file may be there; hash the one that is
    layout = _model_layout(directory / CONFIG_FILE, current["task"], current["model"])
    limit = sum(t.numel() * t.element_size() for t in layout.state_dict().values())
    try:
        data = read_regular_file(directory / MODEL_FILE, limit + schema.TENSOR_HEADER_LIMIT)
    except CheckpointError:
        return None
    digest = hashlib.sha256(data).hexdigest()
    return digest if digest in (current["model_sha256"], current["replacing_sha256"]) else None


def load_model(
    directory: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[torch.nn.Module, dict]:
    """Rebuild the model saved by :func:`save_model`; returns ``(model, config)``."""
    from rnnkit.training.models import build_model

    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(directory, "is not a directory")
    config_path = directory / CONFIG_FILE
    config = _checked_json(config_path, MODEL_FORMAT, schema.CONFIG_JSON_LIMIT)
    layout = _model_layout(config_path, config["task"], config["model"])
    digests = [config["model_sha256"]]
    if (
        "replacing_sha256" in config
    ):  # killed while replacing model.safetensors: either file is good
        digests.append(config["replacing_sha256"])
    model_path = directory / MODEL_FILE
    tensors = _read_tensors(model_path, layout.state_dict(), digests, CONFIG_FILE)
    model = build_model(config["model"])  # only now: the file verified and fits this model
    load_state_into(model_path, model, tensors)
    return model.to(device), config


# --------------------------------------------------------------------------- the checkpoints folder


def checkpoint_paths(directory: str | os.PathLike[str], epoch: int) -> tuple[Path, Path]:
    """``(tensors, json)`` paths of the training checkpoint after ``epoch``."""
    base = Path(directory) / CHECKPOINT_DIR / f"epoch-{epoch:04d}"
    return base.with_suffix(".safetensors"), base.with_suffix(".json")


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
    except (FileNotFoundError, NotADirectoryError):
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
                        ckpt_dir, f"holds {entry.name!r:.80}, which rnnkit did not write; {advice}"
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


def _remove_own_files(paths: Iterable[Path]) -> None:
    for p in paths:
        try:
            os.unlink(p)  # never follows a link: own_checkpoint_files accepted regular files only
        except FileNotFoundError:
            pass
        except OSError as e:
            raise CheckpointError(p, f"cannot be deleted ({e.strerror or e})") from None


def recorded_run(directory: str | os.PathLike[str]) -> tuple[Path, dict[str, Any]] | None:
    """The run whose files are in ``directory``: ``(file, {"task": ..., <run options>})`` read from
    its verified ``config.json``, else from its newest training checkpoint; None when there is
    neither. A damaged file is a :class:`CheckpointError` (nothing is guessed about it)."""
    directory = Path(directory)
    config_path = directory / CONFIG_FILE
    if os.path.lexists(config_path):
        config = _checked_json(config_path, MODEL_FORMAT, schema.CONFIG_JSON_LIMIT)
        return config_path, {"task": config["task"], **config["train"]}
    latest = latest_checkpoint(directory)
    if latest is None:
        return None
    meta = _checked_json(latest, STATE_FORMAT, schema.STATE_JSON_LIMIT, follow_symlinks=False)
    return latest, dict(meta["config"])


def latest_checkpoint(directory: str | os.PathLike[str]) -> Path | None:
    """The JSON of the newest complete training checkpoint in run ``directory``, or None."""
    files = own_checkpoint_files(directory)
    found = [(int(m.group(1)), p) for p in files if (m := _EPOCH_RE.match(p.name))]
    return max(found)[1] if found else None


# --------------------------------------------------------------------------- training state


def save_training_state(
    directory: str | os.PathLike[str],
    epoch: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    state: dict[str, Any],
) -> Path:
    """Write the checkpoint after ``epoch`` (tensors first, then the committing JSON); prune older.

    ``state`` holds ``config`` (task and run options), ``rng`` (:func:`get_rng_states`), ``history``
    (one entry per epoch) and ``train_seconds``. Refuses (:class:`CheckpointError`, nothing written) a
    ``checkpoints`` folder that holds anything this program did not write; see
    :func:`own_checkpoint_files`.
    """
    existing = own_checkpoint_files(directory)
    tensors_path, json_path = checkpoint_paths(directory, epoch)
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    opt_state = optimizer.state_dict()
    for idx, entry in opt_state["state"].items():
        for key, value in entry.items():
            if not isinstance(value, torch.Tensor):  # pragma: no cover - Adam keeps tensors only
                raise TypeError(f"optimizer state {key!r} is not a tensor")
            tensors[f"optimizer.{idx}.{key}"] = value
    data = _tensor_bytes(tensors)
    atomic_write_bytes(tensors_path, data)
    meta = {
        "format": STATE_FORMAT,
        "epoch": epoch,
        "tensors_file": tensors_path.name,
        "tensors_sha256": hashlib.sha256(data).hexdigest(),
        "optimizer": {"param_groups": opt_state["param_groups"]},
        **state,
    }
    atomic_write_json(json_path, seal(meta))
    # the new checkpoint is complete: only now remove older ones and leftovers of killed writers
    _remove_own_files(p for p in existing if p not in (tensors_path, json_path))
    return json_path


def load_training_state(
    json_path: str | os.PathLike[str],
) -> tuple[dict[str, Any], dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Read and verify a training checkpoint; returns ``(meta, model_tensors, optimizer_tensors)``.

    Optimizer tensors are named ``"<parameter index>.<step|exp_avg|exp_avg_sq>"``.
    """
    json_path = Path(json_path)
    named = _EPOCH_RE.match(json_path.name)
    if not named:
        raise CheckpointError(json_path, "not a checkpoint name rnnkit writes (epoch-NNNN.json)")
    meta = _checked_json(json_path, STATE_FORMAT, schema.STATE_JSON_LIMIT, follow_symlinks=False)
    epoch, task = meta["epoch"], meta["config"]["task"]
    if epoch != int(named.group(1)) or meta["tensors_file"] != f"epoch-{epoch:04d}.safetensors":
        raise CheckpointError(
            json_path, f"its epoch {epoch} and tensors file do not match its name"
        )
    history = meta["history"]
    metric = "train_accuracy" if task == "digits" else "train_mae"
    if len(history) != epoch or any(
        h["epoch"] != k + 1 or metric not in h for k, h in enumerate(history)
    ):
        raise CheckpointError(json_path, f"its history is not epochs 1..{epoch} with {metric}")
    layout = _model_layout(json_path, task, meta["config"])
    expected = {f"model.{k}": v for k, v in layout.state_dict().items()}
    for idx, p in enumerate(layout.parameters()):  # Adam's parameter indices
        expected[f"optimizer.{idx}.step"] = torch.empty((), dtype=torch.float32, device="meta")
        expected[f"optimizer.{idx}.exp_avg"] = p
        expected[f"optimizer.{idx}.exp_avg_sq"] = p
    tensors = _read_tensors(
        json_path.parent / meta["tensors_file"],
        expected,
        [meta["tensors_sha256"]],
        json_path.name,
        follow_symlinks=False,
    )
    model_t = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    opt_t = {k[len("optimizer.") :]: v for k, v in tensors.items() if k.startswith("optimizer.")}
    return meta, model_t, opt_t


def restore_optimizer(
    json_path: str | os.PathLike[str],
    optimizer: torch.optim.Optimizer,
    meta: dict[str, Any],
    tensors: Mapping[str, torch.Tensor],
) -> None:
    """Load a checkpoint's optimizer state into ``optimizer`` (a fresh Adam over the same model).

    The saved settings must equal the fresh optimizer's (the learning rate comes from the checkpoint's
    config, so an edited ``lr`` or ``betas`` is refused), and the step counts must be whole numbers.
    """
    fresh = optimizer.state_dict()
    saved_group = meta["optimizer"]["param_groups"][0]
    (group,) = fresh["param_groups"]
    for key, value in saved_group.items():
        if key not in group:
            raise CheckpointError(json_path, f"unknown optimizer setting {key!r:.40}")
        want = list(group[key]) if isinstance(group[key], tuple) else group[key]
        if value != want or type(value) is not type(want):
            raise CheckpointError(
                json_path,
                f"optimizer setting {key!r} is {value!r:.40}, this run's Adam has {want!r:.40}",
            )
    state: dict[int, dict[str, torch.Tensor]] = {}
    for idx in range(len(group["params"])):
        step = float(tensors[f"{idx}.step"])
        if not (0 <= step <= 2**40 and step == round(step)):
            raise CheckpointError(json_path, f"optimizer step count {step!r} is not valid")
        if bool((tensors[f"{idx}.exp_avg_sq"] < 0).any()):
            raise CheckpointError(json_path, "optimizer state exp_avg_sq holds negative values")
        state[idx] = {key: tensors[f"{idx}.{key}"] for key in _ADAM_STATE}
    optimizer.load_state_dict({"state": state, "param_groups": fresh["param_groups"]})
