"""``rnnkit bench``: runs the benchmark harness of a source checkout, ``benchmarks/bench.py``.

The harness is not part of the package (a wheel ships ``rnnkit/`` only): it sits in ``benchmarks/``
beside the package in the repository, as plain scripts that can also be run directly
(``python benchmarks/bench.py --quick``). From a checkout this command loads that script and hands
it the command line, so ``rnnkit bench ...`` and ``rnnkit bench-compat ...`` keep every option,
output and message of the scripts; loading it imports no torch, so ``--help`` stays fast. In an
installed copy without the folder, the command says in one line where to get the harness (exit 2).

The harness's names (``CELLS``, ``SIZES``, ...) read through this module's attributes.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

# where a source checkout keeps the harness: beside the package, next to pyproject.toml
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def harness(name: str) -> ModuleType | None:
    """``benchmarks/<name>.py`` of the checkout this package runs from, loaded once (one module object
    for the command and for whoever patches it); None when this copy has no such folder."""
    key = f"rnnkit_benchmarks.{name}"
    if key in sys.modules:
        module = sys.modules[key]
        if Path(module.__file__ or "").parent == BENCHMARKS:
            return module
    path = BENCHMARKS / f"{name}.py"
    if not (path.is_file() and (BENCHMARKS.parent / "pyproject.toml").is_file()):
        return None
    spec = importlib.util.spec_from_file_location(key, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[key]
        raise
    return module


def not_here(command: str, script: str) -> NoReturn:
    """One line on stderr saying how to get and run the harness, exit status 2."""
    sys.stderr.write(
        f"rnnkit {command}: error: the benchmark harness is not part of an installed rnnkit (no "
        f"{BENCHMARKS / script}): it is the benchmarks/ folder of rnnkit's source repository; in a "
        f"checkout, with rnnkit installed from it (pip install -e .), run 'python -m rnnkit "
        f"{command} ...' or 'python benchmarks/{script} ...'\n"
    )
    sys.exit(2)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    module = harness("bench")
    if module is None:
        not_here("bench", "bench.py")
    module.configure_parser(parser)


def run(args: argparse.Namespace) -> int:
    module = harness("bench")
    if module is None:
        not_here("bench", "bench.py")
    return module.run(args)


def __getattr__(name: str) -> Any:
    module = harness("bench")
    if module is None or name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(module, name)
