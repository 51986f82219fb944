"""``tf.app.run``: parse the flags, call ``main(argv)`` and exit with what it returns.

As in TensorFlow 1.x: ``argv`` defaults to ``sys.argv``; ``main`` (default: ``__main__.main``) gets
argv[0] and the arguments ``tf.flags`` did not know; ``sys.exit(main(argv))``. ``--help``
(``-help``, ``--helpshort``, ``-?``, ``--helpfull``; before any ``--``) prints the main module's
docstring and its flags in absl's layout to stdout and exits with status 1 without calling
``main``, as TensorFlow's ``app.run`` (absl) does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from rnnkit.compat.v1 import flags as _flags

__all__ = ["run"]

flags = _flags


def run(main: Callable[[list[str]], Any] | None = None, argv: Any = None) -> None:
    args = list(sys.argv if argv is None else argv)
    if main is None:
        main = getattr(sys.modules["__main__"], "main", None)
        if main is None:
            raise ValueError(
                "Received an invalid value for argument `main`: expected a function, and "
                "__main__ has no `main` to default to."
            )
    if not callable(main):
        raise TypeError(
            f"Received an invalid value for argument `main`: expected a function, got {main!r}."
        )
    if _asks_for_help(args):
        sys.stdout.write(_usage(args[0] if args else ""))
        sys.stdout.flush()
        sys.exit(1)
    rest = _flags.FLAGS(args, known_only=True)
    sys.exit(main(rest))


_HELP = ("help", "helpshort", "helpfull", "?")


def _asks_for_help(args: list[str]) -> bool:
    for arg in args[1:]:
        if arg == "--":
            return False
        name = arg.lstrip("-") if arg.startswith("-") else None
        if name in _HELP and name not in _flags.FLAGS._flags:
            return True
    return False


def _usage(program: str) -> str:
    """absl's short help: the main module's docstring (or a USAGE line), then its flags."""
    doc = getattr(sys.modules.get("__main__"), "__doc__", None)
    if not doc:
        doc = f"\n       USAGE: {program} [flags]"
    text = doc
    flag_str = _flags.FLAGS.main_module_help(program)
    if flag_str:
        text += "\nflags:\n" + flag_str
    return text + "\n\nTry --helpfull to get a list of all flags.\n"
