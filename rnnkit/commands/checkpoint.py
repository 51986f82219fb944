"""``rnnkit checkpoint {inspect,convert}``: TensorFlow 1.x checkpoint files, without TensorFlow.

A TF1 checkpoint is what ``tf.train.Saver`` writes: ``PREFIX.index`` and ``PREFIX.data-00000-of-00001``
(and a ``checkpoint`` state file naming the latest prefix). rnnkit's own training runs (``rnnkit train
--out DIR``: ``config.json``, ``model.safetensors``, ``checkpoints/epoch-NNNN.*``) are not TF1
checkpoints: given one, the command says what it is and which command reads it (``evaluate``,
``export``), and ``convert DIR/model.safetensors PREFIX`` writes its tensors as a TF1 checkpoint.

``inspect PATH`` lists every tensor as ``name (DT_FLOAT) [3,4]`` (like TensorFlow's
``inspect_checkpoint``); ``--tensor NAME`` prints one tensor's values, ``--all-tensors`` all of them.
``convert PATH OUT.safetensors`` writes the tensors as safetensors (string and complex128 tensors,
which safetensors cannot hold, are skipped with a note); ``convert IN.safetensors OUT`` writes the
TF1 checkpoint with prefix ``OUT`` (``OUT.index`` is accepted too). Either way one line says what was
written. PATH is a checkpoint prefix, its ``.index`` file, or a directory with a ``checkpoint`` state
file. A missing or damaged file ends with a one-line error naming it and exit code 2.

Example::

    python -m rnnkit checkpoint inspect train_dir --tensor rnn/lstm_cell/bias
    python -m rnnkit checkpoint convert train_dir/model.ckpt-1000 weights.safetensors
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from rnnkit.commands._options import path_text


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Sub-commands ``inspect`` and ``convert``."""
    parser.description = (
        "Inspect or convert TensorFlow 1.x checkpoint files (PREFIX.index + PREFIX.data-*, as "
        "tf.train.Saver writes them) without TensorFlow. A run folder of rnnkit train is not one: "
        "rnnkit evaluate and rnnkit export read those."
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    inspect = sub.add_parser(
        "inspect",
        help="list the tensors of a TF1 checkpoint (or print them)",
        description="List the tensors of a TensorFlow 1.x checkpoint: name (dtype) [shape].",
    )
    inspect.set_defaults(_parser=inspect)
    inspect.add_argument(
        "path", type=path_text, metavar="PATH", help="checkpoint prefix, .index file or directory"
    )
    inspect.add_argument("--tensor", metavar="NAME", help="print the values of tensor NAME")
    inspect.add_argument("--all-tensors", action="store_true", help="print every tensor's values")
    convert = sub.add_parser(
        "convert",
        help="TF1 checkpoint <-> safetensors",
        description="Write a TensorFlow 1.x checkpoint's tensors as a .safetensors file, or a "
        ".safetensors file's tensors as a TensorFlow 1.x checkpoint.",
    )
    convert.set_defaults(_parser=convert)
    convert.add_argument(
        "path", type=path_text, metavar="PATH", help="a TF1 checkpoint or a .safetensors file"
    )
    convert.add_argument(
        "out", type=path_text, metavar="OUT", help="OUT.safetensors, or a TF1 checkpoint prefix"
    )


def rnnkit_file(path: str) -> str | None:
    """What ``path`` is when it is one of rnnkit's own training files rather than a TF1 checkpoint
    (a sentence naming the command that reads it), else None."""
    p = os.path.normpath(path)
    name, folder = os.path.basename(p), os.path.dirname(p)
    if os.path.isdir(p):
        if os.path.isfile(os.path.join(p, "config.json")) and (
            os.path.isfile(os.path.join(p, "model.safetensors"))
            or os.path.isdir(os.path.join(p, "checkpoints"))
        ):
            return (
                f"{path} is a run folder of rnnkit train, not a TF1 checkpoint: "
                f"`rnnkit evaluate --checkpoint {path}` tests its model, "
                f"`rnnkit export --checkpoint {path} OUT.onnx` exports it"
            )
        return None
    run = folder
    if re.fullmatch(r"epoch-\d{4,}\.(json|safetensors)", name) and (
        os.path.basename(folder) == "checkpoints"
    ):
        what, run = (
            "a training checkpoint of rnnkit train (for train --resume)",
            os.path.dirname(folder),
        )
    elif name in ("config.json", "model.safetensors") and os.path.isfile(
        os.path.join(folder, "config.json")
    ):
        what = "part of a run folder of rnnkit train"
    elif name.endswith(".safetensors"):
        return (
            f"{path} is a safetensors file, not a TF1 checkpoint: "
            f"`rnnkit checkpoint convert {path} PREFIX` writes its tensors as one"
        )
    else:
        return None
    run = run or "."
    return (
        f"{path} is {what}, not a TF1 checkpoint: `rnnkit evaluate --checkpoint {run}` tests the "
        f"run's model, `rnnkit export --checkpoint {run} OUT.onnx` exports it"
    )


def _inspect(args: argparse.Namespace) -> int:
    from rnnkit.interop import open_tf1_checkpoint

    with open_tf1_checkpoint(args.path) as ckpt:
        if args.tensor is not None:
            if args.tensor not in ckpt:
                raise ValueError(f"no tensor named {args.tensor!r} in checkpoint {ckpt.prefix!r}")
            names = [args.tensor]
        elif args.all_tensors:
            names = list(ckpt)
        else:
            for name in ckpt:
                shape = ",".join(str(d) for d in ckpt.shape(name))
                print(f"{name} ({ckpt.tf_dtype(name)}) [{shape}]")
            return 0
        for name in names:
            print(f"tensor_name:  {name}")
            print(ckpt[name])
    return 0


def _to_safetensors(path: str, out: str) -> None:
    import numpy as np
    import torch
    from safetensors.torch import save

    from rnnkit.interop import read_tf1_checkpoint
    from rnnkit.interop._checkpoint_state import atomic_write

    folder = os.path.dirname(os.path.abspath(out))
    if os.path.isdir(out) or not os.path.isdir(folder):
        raise ValueError(f"OUT {out!r}: expected a file path in an existing folder")

    tensors, skipped = {}, []
    for name, array in read_tf1_checkpoint(path).items():
        if array.dtype == object or array.dtype == np.complex128:
            skipped.append(name)
        elif array.dtype.name == "bfloat16":
            tensors[name] = torch.from_numpy(array.view(np.int16)).view(torch.bfloat16)
        else:
            tensors[name] = torch.from_numpy(np.require(array, requirements="C"))  # keeps 0-d
    try:
        data = save(tensors)
    except Exception as exc:  # safetensors_rust.SafetensorError and friends
        raise ValueError(f"cannot encode {path!r} as safetensors: {exc}") from None
    # a temporary file beside OUT, fsynced, then renamed: never half-written
    atomic_write(out, [data])
    print(
        f"wrote {out}: {len(tensors)} tensor(s) of TF1 checkpoint {path}, "
        f"{_size(os.path.getsize(out))}"
    )
    if skipped:
        print(
            f"rnnkit checkpoint: note: skipped {len(skipped)} tensor(s) safetensors cannot hold "
            f"(strings, complex128): {', '.join(skipped)}",
            file=sys.stderr,
        )


def _from_safetensors(path: str, out: str) -> None:
    from safetensors import safe_open

    from rnnkit.interop import write_tf1_checkpoint
    from rnnkit.interop._checkpoint_state import regular_size

    # a FIFO or device would block or stream the reader: refused before opening
    regular_size(path, lambda p, kind: ValueError(f"PATH {p!r} is {kind}, not a regular file"))
    try:
        with safe_open(path, framework="pt") as f:
            tensors = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
    except OSError:
        raise
    except Exception as exc:  # safetensors_rust.SafetensorError and friends
        raise ValueError(f"cannot read safetensors file {path!r}: {exc}") from None
    prefix = write_tf1_checkpoint(out[: -len(".index")] if out.endswith(".index") else out, tensors)
    files = [prefix + ".index", prefix + ".data-00000-of-00001"]
    state = os.path.join(os.path.dirname(prefix), "checkpoint")
    print(
        f"wrote TF1 checkpoint {prefix}: {', '.join(files)} ({len(tensors)} tensor(s), "
        f"{_size(sum(os.path.getsize(f) for f in files))}); {state} names it as the latest"
    )


def _size(n: int) -> str:
    return f"{n} bytes" if n < 10 * 1024 else f"{n / 1024:.0f} KiB"


def run(args: argparse.Namespace) -> int:
    try:
        tf1 = os.path.exists(args.path + ".index")  # a TF1 prefix beside which rnnkit files may lie
        from_safetensors = args.action == "convert" and args.path.endswith(".safetensors")
        if not tf1 and not from_safetensors and (what := rnnkit_file(args.path)):
            raise ValueError(what)
        if args.action == "inspect":
            return _inspect(args)
        if args.out.endswith(".safetensors"):
            _to_safetensors(args.path, args.out)
        elif args.path.endswith(".safetensors"):
            _from_safetensors(args.path, args.out)
        else:
            raise ValueError("one of PATH and OUT must be a .safetensors file")
    except BrokenPipeError:  # e.g. `inspect ... | head`
        sys.stdout = None  # nothing more can be printed; exit quietly
        return 0
    except (ValueError, TypeError, OSError) as e:
        print(f"rnnkit checkpoint: error: {e}", file=sys.stderr)
        return 2
    return 0
