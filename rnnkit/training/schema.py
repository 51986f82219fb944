"""The one schema of the JSON files ``train`` writes and reads back, and the limits it enforces.

``config.json`` (the model) and ``checkpoints/epoch-NNNN.json`` (the training state) are validated on
read against the JSON Schemas below (draft 2020-12, with ``jsonschema``): every entry's type, range and
length, no unknown entries, and so a bounded depth (the ``json_sha256`` seal is checked and removed
before, by :func:`rnnkit.training.files.check_seal`). What a schema cannot say (an epoch that matches its
file name, a history of ``epoch`` entries, a model that fits its task) is checked by
:mod:`rnnkit.training.checkpoint`. The limits bound what a file can make the program allocate; the
``train`` options use the same limits, so everything ``train`` writes passes.

Imports neither torch nor the library, so ``train --help`` stays fast.

Example::

    validate(path, obj, STATE_SCHEMA)  # CheckpointError (one line naming the entry) if obj is invalid
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from rnnkit.training.files import CheckpointError

TASKS: tuple[str, ...] = ("sine", "digits", "sunspots")  # == rnnkit.training.data.TASKS
CELLS: tuple[str, ...] = ("rnn", "lstm", "gru")

MAX_UNITS = 4096
MAX_LAYERS = 16
MAX_EPOCHS = 100_000
MAX_BATCH_SIZE = 1 << 20
MAX_SEED = (1 << 32) - 1  # numpy's seed range
MAX_PARAMETERS = 1 << 26  # 256 MiB of float32 weights (the checkpoint with Adam's moments: 768 MiB)
CONFIG_JSON_LIMIT = 1 << 16  # bytes
STATE_JSON_LIMIT = 32 << 20  # bytes: 100,000 epochs of history fit
TENSOR_HEADER_LIMIT = 1 << 20  # bytes a safetensors file may hold besides the tensor data

_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_FLAG = {"type": "boolean"}


def _int(low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high}


def _obj(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": [k for k in properties if k not in optional],
        "additionalProperties": False,
    }


def _b64(decoded_bytes: int) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 4 * ((decoded_bytes + 2) // 3),
        "maxLength": 4 * ((decoded_bytes + 2) // 3),
        "pattern": "^[A-Za-z0-9+/]*={0,2}$",
    }


_NON_NEGATIVE = {"type": "number", "minimum": 0}
_UINT32 = _int(0, MAX_SEED)

MODEL_SCHEMA = _obj(
    {
        "cell": {"enum": list(CELLS)},
        "units": _int(1, MAX_UNITS),
        "layers": _int(1, MAX_LAYERS),
        "bidirectional": _FLAG,
        "input_size": _int(1, 1024),
        "output_size": _int(1, 1024),
        "per_step": _FLAG,
    }
)

RUN_SCHEMA = _obj(
    {
        "cell": {"enum": list(CELLS)},
        "units": _int(1, MAX_UNITS),
        "layers": _int(1, MAX_LAYERS),
        "bidirectional": _FLAG,
        "epochs": _int(1, MAX_EPOCHS),
        "batch_size": _int(1, MAX_BATCH_SIZE),
        "lr": {"type": "number", "exclusiveMinimum": 0},
        "clip": _NON_NEGATIVE,
        "seed": _UINT32,
    }
)

CONFIG_SCHEMA = _obj(
    {
        "format": {"const": "rnnkit.model/2"},
        "task": {"enum": list(TASKS)},
        "model": MODEL_SCHEMA,
        "train": RUN_SCHEMA,
        "model_sha256": _SHA256,
        "replacing_sha256": _SHA256,  # only while model.safetensors is being replaced
    },
    optional=("replacing_sha256",),
)

_ADAM_GROUP = {
    "type": "object",
    "properties": {
        "lr": {"type": "number", "exclusiveMinimum": 0},
        "betas": {
            "type": "array",
            "prefixItems": [{"type": "number"}, {"type": "number"}],
            "minItems": 2,
            "maxItems": 2,
        },
        "eps": {"type": "number", "exclusiveMinimum": 0},
        "weight_decay": _NON_NEGATIVE,
        "params": {"type": "array", "items": _int(0, 4096), "maxItems": 4096},
    },
    "required": ["lr", "betas", "eps", "weight_decay", "params"],
    # the remaining Adam settings are flags or null; each must equal this torch's (checked on restore)
    "additionalProperties": {"type": ["boolean", "null"]},
    "maxProperties": 32,
}

_HISTORY_ENTRY = {
    "type": "object",
    "properties": {
        "epoch": _int(1, MAX_EPOCHS),
        "train_loss": _NON_NEGATIVE,
        "train_mae": _NON_NEGATIVE,
        "train_accuracy": {"type": "number", "minimum": 0, "maximum": 1},
        "seconds": _NON_NEGATIVE,
    },
    "required": ["epoch", "train_loss", "seconds"],
    "additionalProperties": False,
    "minProperties": 4,
    "maxProperties": 4,
}

_TORCH_RNG_BYTES = 5056  # torch.get_rng_state() of the CPU generator

RNG_SCHEMA = _obj(
    {
        "torch": _b64(_TORCH_RNG_BYTES),
        "shuffle": _b64(_TORCH_RNG_BYTES),
        "python": {  # random.getstate(): (3, 624 words + position, gauss or None)
            "type": "array",
            "prefixItems": [
                {"const": 3},
                {
                    "type": "array",
                    "items": _UINT32,
                    "minItems": 625,
                    "maxItems": 625,
                },
                {"type": ["number", "null"]},
            ],
            "minItems": 3,
            "maxItems": 3,
        },
        "numpy": {  # np.random.get_state(): ("MT19937", 624 words, position, has_gauss, gauss)
            "type": "array",
            "prefixItems": [
                {"const": "MT19937"},
                {"type": "array", "items": _UINT32, "minItems": 624, "maxItems": 624},
                _int(0, 624),
                _int(0, 1),
                {"type": "number"},
            ],
            "minItems": 5,
            "maxItems": 5,
        },
        "cuda": {
            "type": "array",
            "items": {"type": "string", "maxLength": 1 << 16},
            "maxItems": 64,
        },
    },
    optional=("cuda",),
)

STATE_SCHEMA = _obj(
    {
        "format": {"const": "rnnkit.training-state/2"},
        "epoch": _int(1, MAX_EPOCHS),
        "tensors_file": {"type": "string", "pattern": "^epoch-[0-9]{4,6}\\.safetensors$"},
        "tensors_sha256": _SHA256,
        "optimizer": _obj(
            {"param_groups": {"type": "array", "items": _ADAM_GROUP, "minItems": 1, "maxItems": 1}}
        ),
        "config": _obj({"task": {"enum": list(TASKS)}, **RUN_SCHEMA["properties"]}),
        "rng": RNG_SCHEMA,
        "history": {"type": "array", "items": _HISTORY_ENTRY, "maxItems": MAX_EPOCHS},
        "train_seconds": _NON_NEGATIVE,
    }
)


@cache
def _validator(name: str) -> Any:
    import jsonschema

    schema = {"CONFIG": CONFIG_SCHEMA, "STATE": STATE_SCHEMA}[name]
    base = jsonschema.Draft202012Validator
    # JSON integers only: 2.0 is not an integer here (it would reach range() and fail there)
    checker = base.TYPE_CHECKER.redefine(
        "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
    )
    cls = jsonschema.validators.extend(base, type_checker=checker)
    cls.check_schema(schema)
    return cls(schema)


def validate(path: str | os.PathLike[str], obj: Any, schema: dict[str, Any]) -> None:
    """Raise :class:`CheckpointError` (one line: the entry, what it should be, what it is) unless
    ``obj`` is valid under ``schema`` (:data:`CONFIG_SCHEMA` or :data:`STATE_SCHEMA`)."""
    name = "CONFIG" if schema is CONFIG_SCHEMA else "STATE"
    error = next(iter(_validator(name).iter_errors(obj)), None)
    if error is not None:
        raise CheckpointError(path, f"invalid entry {error.json_path}: {_explain(error)}")


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return f"an object of {len(value)} entries"
    if isinstance(value, list):
        return f"an array of {len(value)} items"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _explain(error: Any) -> str:
    kind, want, got = error.validator, error.validator_value, error.instance
    if kind == "type":
        return f"should be of type {want}, got {_short(got)}"
    if kind in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        op = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
        return f"should be {op[kind]} {want}, got {_short(got)}"
    if kind in ("enum", "const"):
        return f"should be {'one of ' if kind == 'enum' else ''}{want!r}, got {_short(got)}"
    if kind in ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"):
        size = len(got) if hasattr(got, "__len__") else "?"
        word = "at least" if kind.startswith("min") else "at most"
        unit = {"I": "items", "L": "characters", "P": "entries"}[kind[3]]
        return f"should have {word} {want} {unit}, got {size}"
    if kind == "required":
        missing = [k for k in want if isinstance(got, dict) and k not in got]
        return f"missing entry {missing[0]!r}" if missing else "missing an entry"
    if kind == "additionalProperties" and want is False and isinstance(got, dict):
        extra = sorted(k for k in got if k not in error.schema.get("properties", {}))
        return f"unknown entry {_short(extra[0]) if extra else '?'}"
    if kind == "pattern":
        return f"should match {want}, got {_short(got)}"
    return f"fails {kind} {_short(want)}, got {_short(got)}"
