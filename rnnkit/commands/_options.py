"""Option checks the commands share: argparse types for numbers and devices, and the comma-list check.

Imports nothing from rnnkit: every command may use it.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any


def int_in(low: int, high: int):
    """argparse type factory: an integer in ``[low, high]`` (the error says the range)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"expected an integer from {low} to {high}, got {text!r:.40}"
            )
        return value

    parse.__name__ = f"integer from {low} to {high}"
    return parse


def int_list_in(low: int, high: int):
    """argparse type factory: a comma list of integers in ``[low, high]`` (at least one)."""

    def parse(text: str) -> list[int]:
        items = [t for t in text.split(",") if t]
        if not items or not all(t.isdigit() and low <= int(t) <= high for t in items):
            raise argparse.ArgumentTypeError(
                f"expected a comma list of integers from {low} to {high}, got {text!r:.60}"
            )
        return [int(t) for t in items]

    parse.__name__ = f"comma list of integers from {low} to {high}"
    return parse


def _finite_float(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = _finite_float(text, "a positive number")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    value = _finite_float(text, "a non-negative number")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative number, got {text!r}")
    return value


def path_text(text: str) -> str:
    """argparse type: a file or folder path; an empty one is refused (it would mean the current
    folder, or a default, without saying so)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a path, got {text!r}")
    return text


def device_name(text: str) -> str:
    """argparse type: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``."""
    if text in ("auto", "cpu", "cuda"):
        return text
    if text.startswith("cuda:") and text[5:].isdigit():
        return text
    raise argparse.ArgumentTypeError(f"expected auto, cpu, cuda or cuda:N, got {text!r}")


def bad_comma_list(
    parser: argparse.ArgumentParser, name: str, values: list[str], allowed: Any
) -> bool:
    """For commands' ``--name a,b,c`` options: print the error as argparse prints its own (the
    usage, then ``rnnkit CMD: error:`` naming the option, what it accepts and what it got) and return
    True when ``values`` is empty or has one outside ``allowed``."""
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        print(
            parser.format_usage().rstrip("\n")
            + f"\n{parser.prog}: error: Received an invalid value for argument `--{name}`: "
            f"expected a comma list of {', '.join(allowed)}, got {bad or values}.",
            file=sys.stderr,
        )
        return True
    return False
