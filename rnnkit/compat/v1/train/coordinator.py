"""``tf.train.Coordinator``: a stop flag shared by a training loop and its helper threads.

As in TensorFlow: ``request_stop(ex)`` records the first exception; ``join()`` re-raises it, except
``tf.errors.OutOfRangeError`` (input exhausted), which is a clean stop.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from rnnkit.compat.v1.errors import OutOfRangeError
from rnnkit.compat.v1.tf_logging import info as _log_info

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

    def _exc_info_of(self, ex: Any) -> Any:
        """``ex`` as an ``exc_info`` triple, None for None or a clean-stop exception."""
        if ex is None:
            return None
        if isinstance(ex, BaseException):
            info = (type(ex), ex, ex.__traceback__)
        elif (
            isinstance(ex, tuple)
            and len(ex) == 3
            and isinstance(ex[1], BaseException)
            and isinstance(ex[0], type)
            and isinstance(ex[1], ex[0])
        ):
            info = ex
        else:
            raise TypeError(
                "Received an invalid type for argument `ex`: expected None, an exception or a "
                f"sys.exc_info() tuple (type, exception, traceback), got {ex!r} "
                f"(type {type(ex).__name__})."
            )
        if isinstance(info[1], self._clean_stop_exception_types):
            return None
        return info

    def request_stop(self, ex: Any = None) -> None:
        """Ask everything to stop; ``ex`` (an exception or ``sys.exc_info()``) is re-raised by
        ``join`` unless it is a clean-stop type. As in TensorFlow only the first request's
        exception is kept (one passed after a stop was requested is ignored), and after ``join``
        an exception passed here is raised at once."""
        with self._lock:
            info = self._exc_info_of(ex)
            if self._joined and info is not None:
                raise info[1].with_traceback(info[2])
            if not self._stop_event.is_set():
                if info is not None and self._exc_info is None:
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
        """A block whose exception requests a stop (recorded, not raised): any exception, as
        TensorFlow's bare ``except:`` (``KeyboardInterrupt`` included)."""
        try:
            yield
        except BaseException:
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
        """As TensorFlow: wait until all of ``threads`` (and the registered ones) have finished or a
        stop is requested, then give the live ones ``stop_grace_period_secs`` in total to finish;
        re-raise a recorded exception, else raise ``RuntimeError`` naming the threads still
        running (unless ``ignore_live_threads``)."""
        if (
            isinstance(stop_grace_period_secs, bool)
            or not isinstance(stop_grace_period_secs, (int, float))
            or stop_grace_period_secs != stop_grace_period_secs
        ):
            raise TypeError(
                "Received an invalid type for argument `stop_grace_period_secs`: expected a "
                f"number of seconds, got {stop_grace_period_secs!r}."
            )
        with self._lock:
            pending = list(set(self._registered_threads) | set(threads or []))

        while any(t.is_alive() for t in pending) and not self.wait_for_stop(1.0):
            pass

        # One grace period for all the threads together (TensorFlow's backoff polling).
        deadline = time.monotonic() + max(float(stop_grace_period_secs), 0.0)
        wait = 0.001
        while any(t.is_alive() for t in pending):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(wait, left))
            wait = min(2 * wait, 1.0)

        live = [t.name for t in pending if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered_threads = set()
            exc_info = self._exc_info
        if exc_info is not None:
            raise exc_info[1].with_traceback(exc_info[2])
        if live:
            if ignore_live_threads:
                _log_info("Coordinator stopped with threads still running: %s", " ".join(live))
            else:
                raise RuntimeError(
                    f"Coordinator stopped with threads still running: {' '.join(live)}"
                )

    @property
    def joined(self) -> bool:
        return self._joined

    def raise_requested_exception(self) -> None:
        with self._lock:
            if self._exc_info is not None:
                raise self._exc_info[1].with_traceback(self._exc_info[2])
