"""``tf.train.Coordinator``: a stop flag shared by a training loop and its helper threads.

As in TensorFlow: ``request_stop(ex)`` records the first exception; ``join()`` re-raises it, except
``tf.errors.OutOfRangeError`` (input exhausted), which is a clean stop.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

from rnnkit.compat.v1.errors import OutOfRangeError

__all__ = ["Coordinator"]


class Coordinator:
    """``should_stop()``, ``request_stop(ex=None)``, ``stop_on_exception()``, ``join(threads)``."""

    def __init__(self, clean_stop_exception_types: Any = None) -> None:
        types = (
            (OutOfRangeError,) if clean_stop_exception_types is None else clean_stop_exception_types
        )
        self._clean_stop_exception_types = tuple(types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info: Any = None
        self._registered_threads: set[threading.Thread] = set()
        self._joined = False

    def request_stop(self, ex: Any = None) -> None:
        """Ask everything to stop; ``ex`` (an exception or ``sys.exc_info()``) is re-raised by
        ``join`` unless it is a clean-stop type."""
        with self._lock:
            if self._joined and ex is None:
                return
            if ex is not None and self._exc_info is None:
                info = ex if isinstance(ex, tuple) else (type(ex), ex, ex.__traceback__)
                if not issubclass(info[0], self._clean_stop_exception_types):
                    self._exc_info = info
            self._stop_event.set()

    def clear_stop(self) -> None:
        with self._lock:
            self._joined = False
            self._exc_info = None
            self._stop_event.clear()

    def should_stop(self) -> bool:
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self) -> Iterator[None]:
        """A block whose exception requests a stop (recorded, not raised)."""
        try:
            yield
        except Exception:
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout: float | None = None) -> bool:
        return self._stop_event.wait(timeout)

    def register_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            self._registered_threads.add(thread)

    def join(
        self,
        threads: Any = None,
        stop_grace_period_secs: float = 120,
        ignore_live_threads: bool = False,
    ) -> None:
        """Wait for ``threads`` (and the registered ones), then re-raise a recorded exception."""
        with self._lock:
            pending = set(self._registered_threads) | set(threads or [])
        for t in pending:
            t.join(stop_grace_period_secs)
        live = [t.name for t in pending if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered_threads = set()
            exc_info = self._exc_info
        if exc_info is not None:
            raise exc_info[1].with_traceback(exc_info[2])
        if live and not ignore_live_threads:
            raise RuntimeError(f"Coordinator stopped with threads still running: {', '.join(live)}")

    @property
    def joined(self) -> bool:
        return self._joined

    def raise_requested_exception(self) -> None:
        with self._lock:
            if self._exc_info is not None:
                raise self._exc_info[1].with_traceback(self._exc_info[2])
