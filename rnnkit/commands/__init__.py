"""Command line: ``rnnkit COMMAND`` (the console script) or ``python -m rnnkit COMMAND``.

Each command lives in its own module here exposing ``configure_parser(parser)`` and ``run(args) -> int``;
modules are imported only when their command is used, and none imports torch before ``run``, so
``--help`` and ``--version`` stay fast. Commands sit on top: they may import anything in rnnkit, and
nothing in rnnkit imports them. The program calls itself ``rnnkit`` however it is started; an error in
the command line prints the usage and one line ``rnnkit COMMAND: error: ...`` (exit code 2).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import NoReturn

# command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "rnnkit.commands.demo",
        "walk through the TF1 RNN tutorial with rnnkit (the main job)",
    ),
    "bench": (
        "rnnkit.commands.bench",
        "benchmark the fused engine against the plain loop and peers (a checkout's benchmarks/)",
    ),
    "bench-compat": (
        "rnnkit.commands.bench_compat",
        "time a compat.v1 training step against rnnkit + torch (a checkout's benchmarks/)",
    ),
    "train": ("rnnkit.commands.train", "train a sequence model on bundled data"),
    "evaluate": ("rnnkit.commands.evaluate", "recompute the test metrics of a checkpoint"),
    "export": (
        "rnnkit.commands.export",
        "export a trained model to ONNX and check it with onnxruntime",
    ),
    "compile": (
        "rnnkit.commands.compile",
        "compile and cache the fused engine's kernels ahead of use",
    ),
    "checkpoint": (
        "rnnkit.commands.checkpoint",
        "inspect or convert TensorFlow 1.x checkpoint files (no TensorFlow needed)",
    ),
    "tf1": (
        "rnnkit.commands.tf1",
        "run an unmodified TensorFlow 1.x script on rnnkit.compat.v1",
    ),
    "info": ("rnnkit.commands", "print the version, the cells and the engine's set-up"),
}


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """The ``info`` command takes no options."""


def run(args: argparse.Namespace) -> int:
    import torch

    import rnnkit
    from rnnkit import engine

    print(f"rnnkit {rnnkit.__version__}")
    print("cells:", ", ".join(rnnkit.CELLS))
    cuda = f"CUDA {torch.version.cuda}" if torch.cuda.is_available() else "no CUDA device"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {cuda}")
    if not engine.available():
        print("fused engine: unavailable (numba could not be imported); dynamic_rnn uses the loop")
        return 0
    import numba

    from rnnkit.engine.kernels import cache_location

    path, writable = cache_location()
    note = "" if writable else " (not writable: set NUMBA_CACHE_DIR)"
    print(f"fused engine: numba {numba.__version__}; kernel cache {path}{note}")
    return 0


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def _launched_rank() -> int:
    """This process's rank as torchrun set it (0 without torchrun): of several processes running the
    same command line, only the first prints what all of them would (an option error, Ctrl-C)."""
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help, with each option's default after its help text (unless the text says it, or
    there is none to say: a flag, or a default the command fills in itself)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            action.option_strings
            and default not in (None, False, argparse.SUPPRESS)
            and "default" not in text
            and "%(default)" not in text
        ):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """argparse, whose errors only the first of several torchrun processes prints (all exit 2)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        if _launched_rank() > 0:
            self.exit(2)
        super().error(message)


PROG = "rnnkit"  # also under ``python -m rnnkit``: one name in usage lines and errors


def build_parser(argv_command: str | None) -> argparse.ArgumentParser:
    from rnnkit import __version__  # rnnkit's __init__ imports nothing heavy up front

    parser = _Parser(prog=PROG, description="rnnkit's command line: one COMMAND per job.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == argv_command:  # import only the module of the command being run
            module = importlib.import_module(module_name)
            module.configure_parser(p)
            p.set_defaults(_module=module, _parser=p)  # run() may call args._parser.error
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    args, extra = parser.parse_known_args(argv)
    if extra:  # said by the command's parser: its usage, `rnnkit CMD: error:`
        getattr(args, "_parser", parser).error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:  # Ctrl-C: one line, not a traceback (what is on disk stays valid)
        hint = (
            " (what was saved stays valid: `train --resume` continues)"
            if args.command == "train"
            else ""
        )
        if _launched_rank() == 0:
            print(f"rnnkit {args.command}: interrupted{hint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `rnnkit demo | head`: the reader has gone, nothing is wrong
        try:  # what is still buffered goes nowhere, instead of a second error at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0


if __name__ == "__main__":
    sys.exit(main())
