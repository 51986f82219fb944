"""``tf.app.run``: parse the flags, call ``main(argv)`` and exit with what it returns.

As in TensorFlow 1.x: ``argv`` defaults to ``sys.argv``; ``main`` (default: ``__main__.main``) gets
argv[0] and the arguments ``tf.flags`` did not know; ``sys.exit(main(argv))``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from rnnkit.compat.v1 import flags as _flags

__all__ = ["run", "flags"]

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
    rest = _flags.FLAGS(args, known_only=True)
    sys.exit(main(rest))
