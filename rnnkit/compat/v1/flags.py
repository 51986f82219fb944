"""``tf.flags`` / ``tf.app.flags``: command-line flags (TensorFlow 1.x's absl-based ``flags``).

``DEFINE_string/integer/float/bool/boolean/enum/list(name, default, help)`` add a flag to ``FLAGS``;
``FLAGS.name`` reads it. As in TensorFlow, ``FLAGS`` parses ``sys.argv`` on the first read if
``tf.app.run`` has not parsed it yet; flags it does not know are left for the program
(``--name=value``, ``--name value``, ``--bool``/``--nobool``, ``--bool=false``; ``--`` ends flags).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

__all__ = [
    "FLAGS",
    "FlagValues",
    "DEFINE_string",
    "DEFINE_integer",
    "DEFINE_float",
    "DEFINE_bool",
    "DEFINE_boolean",
    "DEFINE_enum",
    "DEFINE_list",
]

_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")


def _parse_bool(text: str) -> bool:
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _wrap(text: str, first: str, rest: str) -> str:
    import textwrap

    return textwrap.fill(
        text, width=80, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False
    )


def _serialize(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def _defining_module() -> str:
    """The ``__name__`` of the module whose code defines a flag (the first caller outside this
    module)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    return "" if frame is None else str(frame.f_globals.get("__name__", ""))


class _Flag:
    def __init__(
        self, name: str, default: Any, help_: str, parser: Callable[[str], Any], kind: str
    ) -> None:
        self.name, self.help, self.parser, self.kind = name, help_, parser, kind
        self.default = default
        self.value = default
        self.present = False
        self.module = _defining_module()
        self.choices: list[str] | None = None

    def help_lines(self) -> str:
        """This flag in absl's ``--help`` layout (wrapped at 80 columns)."""
        name = f"[no]{self.name}" if self.kind == "bool" else self.name
        text = self.help
        if self.choices is not None:
            text = f"<{'|'.join(self.choices)}>: {text}"
        lines = [_wrap(f"--{name}: {text}", "  ", "    ")]
        if self.default is not None:
            lines.append(_wrap(f"(default: '{_serialize(self.default)}')", "    ", "    "))
        kind = {
            "integer": "(an integer)",
            "float": "(a number)",
            "list": "(a comma separated list)",
        }
        if self.kind in kind:
            lines.append(f"    {kind[self.kind]}")
        return "\n".join(lines)

    def parse(self, text: str) -> None:
        try:
            self.value = self.parser(text)
        except ValueError as e:
            raise ValueError(
                f"Received an invalid value for flag `--{self.name}`: {e} ({self.kind} flag)."
            ) from None
        self.present = True


class FlagValues:
    """Defined flags and their values; ``FLAGS(argv)`` parses and returns what it left."""

    def __init__(self) -> None:
        self.__dict__["_flags"] = {}
        self.__dict__["_parsed"] = False

    def _define(
        self, name: Any, default: Any, help_: Any, parser: Callable[[str], Any], kind: str
    ) -> _Flag:
        if not isinstance(name, str) or not name or name.startswith("-"):
            raise TypeError(
                f"Received an invalid value for argument `name`: expected a flag name such as "
                f"'data_path', got {name!r}."
            )
        if name in self._flags:
            raise ValueError(f"The flag {name!r} is defined twice.")
        if default is not None and not isinstance(default, str):
            value = default
        elif default is None:
            value = None
        else:
            try:
                value = parser(default)
            except ValueError as e:
                raise ValueError(
                    f"Received an invalid value for argument `default` of flag {name!r}: {e}."
                ) from None
        self._flags[name] = _Flag(name, value, "" if help_ is None else str(help_), parser, kind)
        return self._flags[name]

    def main_module_help(self, program: str | None = None) -> str:
        """absl's help for the flags the main module (``__main__``) defines, sorted by name, under
        the program's name (``sys.argv[0]``)."""
        program = sys.argv[0] if program is None else program
        mine = sorted((f for f in self._flags.values() if f.module == "__main__"),
                      key=lambda f: f.name)  # fmt: skip
        if not mine:
            return ""
        return f"\n{program}:\n" + "\n".join(f.help_lines() for f in mine)

    def __call__(self, argv: Any, known_only: bool = False) -> list[str]:
        """Parse ``argv`` (argv[0] is the program); return argv[0] and the arguments left (``--``
        and what follows it included). An unknown flag is an error unless ``known_only`` (absl's
        default; ``tf.app.run`` passes ``known_only=True``)."""
        args = list(argv)
        rest = args[:1]
        i = 1
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                rest.extend(args[i - 1 :])
                break
            if not arg.startswith("-") or arg == "-":
                rest.append(arg)
                continue
            body = arg.lstrip("-")
            name, eq, text = body.partition("=")
            flag = self._flags.get(name)
            if flag is None and name.startswith("no") and not eq:
                negated = self._flags.get(name[2:])
                if negated is not None and negated.kind == "bool":
                    negated.value, negated.present = False, True
                    continue
            if flag is None:
                if not known_only:
                    raise ValueError(f"Unknown command line flag {name!r}.")
                rest.append(arg)
                continue
            if not eq:
                if flag.kind == "bool":
                    flag.value, flag.present = True, True
                    continue
                if i >= len(args):
                    raise ValueError(f"Flag --{name} needs a value.")
                text = args[i]
                i += 1
            flag.parse(text)
        self.__dict__["_parsed"] = True
        return rest

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_flags", "_parsed"):
            # not a flag: copy/pickle probe dunders on an instance whose __dict__ may be empty
            raise AttributeError(name)
        flag = self._flags.get(name)
        if flag is None:
            raise AttributeError(f"Unknown flag {name!r}: define it with tf.flags.DEFINE_*.")
        if not self._parsed:
            self(sys.argv, known_only=True)
        return flag.value

    def __setattr__(self, name: str, value: Any) -> None:
        flag = self._flags.get(name)
        if flag is None:
            raise AttributeError(f"Unknown flag {name!r}: define it with tf.flags.DEFINE_*.")
        flag.value = value

    def __contains__(self, name: str) -> bool:
        return name in self._flags

    def is_parsed(self) -> bool:
        return self._parsed

    def mark_as_parsed(self) -> None:
        self.__dict__["_parsed"] = True

    def flag_values_dict(self) -> dict[str, Any]:
        return {n: f.value for n, f in self._flags.items()}

    def __dir__(self) -> list[str]:
        return sorted(self._flags)


FLAGS = FlagValues()


def _str(text: str) -> str:
    return text


def _check_default(name: str, default: Any, types: tuple[type, ...], expected: str) -> None:
    """A flag's default: None, a string (parsed like the command line) or one of ``types`` (a bool
    only where ``types`` has it: it is an int to Python)."""
    if default is None or isinstance(default, str):
        return
    if isinstance(default, types) and (bool in types or not isinstance(default, bool)):
        return
    raise TypeError(
        f"Received an invalid value for argument `default` of flag {name!r}: expected {expected}, "
        f"got {default!r} (type {type(default).__name__})."
    )


def DEFINE_string(
    name: str, default: Any, help: Any = None, flag_values: FlagValues = FLAGS, **kw: Any
) -> None:  # noqa: A002, N802
    _check_default(name, default, (), "a string or None")
    flag_values._define(name, default, help, _str, "string")


def DEFINE_integer(
    name: str, default: Any, help: Any = None, flag_values: FlagValues = FLAGS, **kw: Any
) -> None:  # noqa: A002, N802
    _check_default(name, default, (int,), "an integer")
    flag_values._define(name, default, help, int, "integer")


def DEFINE_float(
    name: str, default: Any, help: Any = None, flag_values: FlagValues = FLAGS, **kw: Any
) -> None:  # noqa: A002, N802
    _check_default(name, default, (int, float), "a number")
    flag_values._define(
        name, default if not isinstance(default, int) else float(default), help, float, "float"
    )


def DEFINE_bool(
    name: str, default: Any, help: Any = None, flag_values: FlagValues = FLAGS, **kw: Any
) -> None:  # noqa: A002, N802
    _check_default(name, default, (bool,), "a bool")
    flag_values._define(name, default, help, _parse_bool, "bool")


DEFINE_boolean = DEFINE_bool


def DEFINE_enum(
    name: str,
    default: Any,
    enum_values: Any,
    help: Any = None,
    flag_values: FlagValues = FLAGS,
    **kw: Any,
) -> None:  # noqa: A002, N802
    if isinstance(enum_values, str) or not isinstance(enum_values, (list, tuple)):
        raise TypeError(
            f"Received an invalid value for argument `enum_values` of flag {name!r}: expected a "
            f"non-empty list of strings, got {enum_values!r}."
        )
    choices = list(enum_values)
    if not choices or not all(isinstance(c, str) for c in choices):
        raise ValueError(
            f"Received an invalid value for argument `enum_values` of flag {name!r}: expected a "
            f"non-empty list of strings, got {enum_values!r}."
        )

    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"expected one of {choices}, got {text!r}")
        return text

    flag_values._define(name, default, help, parse, "enum").choices = choices


def DEFINE_list(
    name: str, default: Any, help: Any = None, flag_values: FlagValues = FLAGS, **kw: Any
) -> None:  # noqa: A002, N802
    def parse(text: str) -> list[str]:
        return [t for t in text.split(",") if t]

    flag_values._define(name, default, help, parse, "list")
