"""``python -m rnnkit tf1 SCRIPT [ARGS...]``: run an unmodified TensorFlow 1.x script on rnnkit.compat.v1.

The script runs as ``python SCRIPT ARGS...`` would run it under TensorFlow 1.x: ``import tensorflow``
(and ``tensorflow.contrib.*``, ``tensorflow.compat.v1``, ``tensorflow.examples.tutorials.mnist``, ...)
resolves to rnnkit.compat.v1 (``rnnkit.compat.v1.install()``); ``__name__`` is ``"__main__"``,
``__file__`` its absolute path, ``sys.argv`` is ``[SCRIPT, *ARGS]`` (so ``tf.app.run`` and
``tf.flags`` parse ARGS), and the script's folder is first on ``sys.path``. Exit status: what the
script exits with; 1 and its traceback for an exception of its own, as Python; 3 and one line
naming the API, file and line for a TensorFlow name outside rnnkit.compat.v1's subset; 2 for a
script that cannot be opened.

The process keeps the memory it frees for reuse (:func:`rnnkit.engine.retain_freed_memory`, up to
1 GiB), as TensorFlow's own allocator keeps what a session frees: a TF1 program runs the same graph
step after step, and on machines where fresh pages fault expensively, handing the step's buffers back
to the OS and faulting them in again cost more than the computation (measured: a 2-layer LSTM
``static_rnn`` over 128 steps, batch 1500, trained 367 ms a step without, 141-150 ms with it, real
TF 142 ms; docs/tf1-census.md). ``--no-retain-memory`` leaves glibc's defaults.
"""

from __future__ import annotations

import argparse
import builtins
import linecache
import os
import re
import sys
import types
from types import TracebackType

EXIT_UNSUPPORTED = 3


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run a TensorFlow 1.x script unmodified: import tensorflow resolves to rnnkit.compat.v1. "
        f"Exit status: the script's; {EXIT_UNSUPPORTED} when it uses a TensorFlow name outside the "
        "supported subset (one line names it, with the file and line)."
    )
    parser.add_argument(
        "--no-retain-memory",
        dest="retain_memory",
        action="store_false",
        help="hand freed memory back to the OS as glibc does by default (see "
        "rnnkit.engine.retain_freed_memory; kept by default, as TensorFlow's allocator keeps it)",
    )
    parser.add_argument("script", metavar="SCRIPT", help="the TF1 program (a .py file)")
    rest = parser.add_argument(
        "args",
        metavar="ARGS",
        nargs=argparse.REMAINDER,
        help="the script's own arguments and flags (its sys.argv[1:])",
    )
    rest.required = False  # a script may take no arguments


def _user_frame(tb: TracebackType | None) -> tuple[str, int] | None:
    """(file, line) of the innermost frame that is not rnnkit's nor the import machinery's."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        inside = filename.startswith(package + os.sep) or filename.startswith("<frozen ")
        if not inside and not filename.endswith(os.sep + "runpy.py"):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _shown(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith(os.pardir) else rel


def _unsupported_name(exc: BaseException) -> str | None:
    """What a TensorFlow name outside the subset is called in ``exc``, None for other errors."""
    from rnnkit.compat.v1 import UnsupportedError
    from rnnkit.compat.v1._install import UnsupportedImport, qualname_of

    if isinstance(exc, (UnsupportedError, UnsupportedImport)):
        text = str(exc)
        match = re.match(r"`([^`]+)` is outside", text)
        if match:
            return f"{match.group(1)} is not supported"
        return text.splitlines()[0] if text else type(exc).__name__
    # `from tensorflow.contrib.rnn import Foo`: Python reports the missing name as an ImportError
    if type(exc) is ImportError and exc.name:
        owner = qualname_of(exc.name)
        match = re.match(r"cannot import name '([^']+)'", str(exc))
        if owner and match:
            return f"{owner}.{match.group(1)} is not supported"
    return None


def _full_name(name: str, where: tuple[str, int] | None) -> str:
    """``tf.contrib.foo`` extended by the attributes the line reads after it (``tf.contrib.foo.bar``)."""
    if where is None:
        return name
    line = linecache.getline(*where)
    last = re.escape(name.rsplit(".", 1)[-1])
    match = re.search(rf"\b{last}((?:\s*\.\s*[A-Za-z_]\w*)+)", line)
    return name + re.sub(r"\s+", "", match.group(1)) if match else name


def _exec_main(path: str) -> None:
    """Run the file at ``path`` as Python runs a script: a fresh ``__main__`` module."""
    with open(path, "rb") as f:
        source = f.read()
    code = compile(source, path, "exec", dont_inherit=True)
    module = types.ModuleType("__main__")
    module.__dict__.update(__file__=path, __builtins__=builtins, __cached__=None)
    previous = sys.modules.get("__main__")
    sys.modules["__main__"] = module
    try:
        exec(code, module.__dict__)
    finally:
        if previous is not None:
            sys.modules["__main__"] = previous


def run(args: argparse.Namespace) -> int:
    path = os.path.abspath(args.script)
    if not os.path.isfile(path):
        args._parser.error(f"can't open file {args.script!r}: no such file")
    from rnnkit.compat.v1 import _install

    if args.retain_memory:
        from rnnkit.platform import memory

        memory.retain_freed_memory()
    _install.install()
    sys.argv = [args.script, *args.args]
    sys.path.insert(0, os.path.dirname(path))
    try:
        _exec_main(path)
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException as exc:
        tb = exc.__traceback__
        name = _unsupported_name(exc)
        if name is not None:
            where = _user_frame(tb)
            at = f" ({_shown(where[0])}:{where[1]})" if where else ""
            if name.endswith(" is not supported"):
                name = _full_name(name[: -len(" is not supported")], where) + " is not supported"
            hint = re.search(r"\(see rnnkit\.compat\.v1\.SUPPORTED\); (for .+?)\.?$", str(exc))
            tail = f"; {hint.group(1)}" if hint else ""
            print(f"rnnkit tf1: error: {name}{at}{tail}", file=sys.stderr)
            return EXIT_UNSUPPORTED
        while tb is not None and tb.tb_frame.f_code.co_filename != path:
            tb = tb.tb_next  # start the traceback at the script, as Python's does
        if isinstance(exc, SyntaxError) and tb is None:
            exc.__traceback__ = None  # the script did not compile: Python shows no frame
        elif tb is not None:
            exc.__traceback__ = tb
        sys.excepthook(type(exc), exc, exc.__traceback__)
        return 1
    return 0
