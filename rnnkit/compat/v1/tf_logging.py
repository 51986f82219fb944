"""``tf.logging`` (TensorFlow 1.x's ``platform/tf_logging``): Python logging on the logger named
``tensorflow``, verbosity ``WARN`` until ``set_verbosity``; messages read ``INFO:tensorflow:...``."""

from __future__ import annotations

import logging as _logging
import sys
from typing import Any

__all__ = [
    "DEBUG",
    "INFO",
    "WARN",
    "ERROR",
    "FATAL",
    "debug",
    "info",
    "warn",
    "warning",
    "error",
    "fatal",
    "log",
    "vlog",
    "log_every_n",
    "log_first_n",
    "log_if",
    "set_verbosity",
    "get_verbosity",
    "get_logger",
]

DEBUG, INFO, WARN, ERROR, FATAL = (
    _logging.DEBUG,
    _logging.INFO,
    _logging.WARN,
    _logging.ERROR,
    _logging.FATAL,
)

_logger: _logging.Logger | None = None


def get_logger() -> _logging.Logger:
    global _logger
    if _logger is None:
        logger = _logging.getLogger("tensorflow")
        if not logger.handlers and not _logging.getLogger().handlers:
            handler = _logging.StreamHandler(sys.stderr)
            handler.setFormatter(_logging.Formatter(_logging.BASIC_FORMAT))
            logger.addHandler(handler)
        if logger.level == _logging.NOTSET:
            logger.setLevel(WARN)
        _logger = logger
    return _logger


def log(level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().log(level, msg, *args, **kwargs)


def debug(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().debug(msg, *args, **kwargs)


def info(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().info(msg, *args, **kwargs)


def warning(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().warning(msg, *args, **kwargs)


warn = warning


def error(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().error(msg, *args, **kwargs)


def fatal(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().fatal(msg, *args, **kwargs)


def vlog(level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().log(level, msg, *args, **kwargs)


_counts: dict[Any, int] = {}


def _calls_before() -> int:
    """How many times the line calling the caller called it before (this call is counted)."""
    f = sys._getframe(2)
    key = (f.f_code.co_filename, f.f_lineno)
    count = _counts.get(key, 0)
    _counts[key] = count + 1
    return count


def log_every_n(level: int, msg: Any, n: int, *args: Any) -> None:
    """Log on the 1st, (n+1)th, (2n+1)th, ... call from the same line."""
    if _calls_before() % max(int(n), 1) == 0:
        log(level, msg, *args)


def log_first_n(level: int, msg: Any, n: int, *args: Any) -> None:
    if _calls_before() < n:
        log(level, msg, *args)


def log_if(level: int, msg: Any, condition: Any, *args: Any) -> None:
    if condition:
        log(level, msg, *args)


def set_verbosity(v: int) -> None:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(
            f"Received an invalid value for argument `v`: expected a level such as "
            f"tf.logging.INFO, got {v!r}."
        )
    get_logger().setLevel(v)


def get_verbosity() -> int:
    return get_logger().getEffectiveLevel()
