"""``rnnkit bench-compat``: runs ``benchmarks/bench_compat.py`` of a source checkout (see
``rnnkit.commands.bench``: the harness is not part of the package)."""

from __future__ import annotations

import argparse

from rnnkit.commands.bench import harness, not_here


def configure_parser(parser: argparse.ArgumentParser) -> None:
    module = harness("bench_compat")
    if module is None:
        not_here("bench-compat", "bench_compat.py")
    module.configure_parser(parser)


def run(args: argparse.Namespace) -> int:
    module = harness("bench_compat")
    if module is None:
        not_here("bench-compat", "bench_compat.py")
    return module.run(args)
