"""``tf.train.Supervisor``: a session that initializes or restores the model, starts the queue
runners and, with a ``logdir``, checkpoints on a timer (TensorFlow's ``training/supervisor.py``).

``managed_session()`` as in TensorFlow: it creates a session, restores the newest checkpoint of
``logdir`` if there is one, else runs ``init_op`` (default: ``global_variables_initializer()``,
made when the supervisor is) with ``init_feed_dict`` and then ``init_fn(sess)``; runs
``local_init_op``; with ``logdir`` starts the checkpoint service (``saver.save`` to
``logdir/model.ckpt-STEP`` now and every ``save_model_secs``, on a thread); starts the queue
runners. Leaving the block stops the services and closes the session; an exception raised inside
propagates, except ``tf.errors.OutOfRangeError`` (input exhausted), which ends the block cleanly.

Differs from TensorFlow: the summary service (``summary_op`` every ``save_summaries_secs`` on a
thread) and the steps-per-second counter are not run; ``summary_computed`` writes a summary you
computed. ``master``, ``is_chief=False`` (distributed training) are outside the subset.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from rnnkit.compat.v1.errors import unsupported
from rnnkit.compat.v1.ops import GraphKeys, Operation, Tensor, get_default_graph, group
from rnnkit.compat.v1.session import Session
from rnnkit.compat.v1.tf_logging import info, warning
from rnnkit.compat.v1.train.coordinator import Coordinator
from rnnkit.compat.v1.train.input import start_queue_runners
from rnnkit.compat.v1.train.saver import Saver, latest_checkpoint
from rnnkit.compat.v1.variables import (
    global_variables,
    global_variables_initializer,
    local_variables_initializer,
)

__all__ = ["Supervisor"]


def _check_logdir(logdir: str) -> None:
    if os.path.exists(logdir) and not os.path.isdir(logdir):
        raise ValueError(
            f"Received an invalid value for argument `logdir`: expected a folder (or a path to "
            f"create one at), got {logdir!r}, which is a file."
        )


class _CheckpointThread(threading.Thread):
    """Saves now, then every ``secs`` seconds, until the coordinator stops (no save once a stop
    is requested)."""

    def __init__(self, sv: Supervisor, sess: Session, secs: float) -> None:
        super().__init__(name="supervisor-checkpoint", daemon=True)
        self._sv, self._sess, self._secs = sv, sess, secs

    def run(self) -> None:
        # TensorFlow's LooperThread timer loop: the first save now, each one after a stop check.
        coord = self._sv.coord
        with coord.stop_on_exception():
            next_time = time.time()
            while not coord.wait_for_stop(max(next_time - time.time(), 0.0)):
                next_time += self._secs
                self._sv._save(self._sess)


class Supervisor:
    """``Supervisor(logdir=None, init_op=..., saver=..., global_step=..., save_model_secs=600, ...)``;
    ``with sv.managed_session() as sess:`` (see the module)."""

    USE_DEFAULT = 0

    def __init__(
        self,
        graph: Any = None,
        ready_op: Any = USE_DEFAULT,
        ready_for_local_init_op: Any = USE_DEFAULT,
        is_chief: bool = True,
        init_op: Any = USE_DEFAULT,
        init_feed_dict: Any = None,
        local_init_op: Any = USE_DEFAULT,
        logdir: Any = None,
        summary_op: Any = USE_DEFAULT,
        saver: Any = USE_DEFAULT,
        global_step: Any = USE_DEFAULT,
        save_summaries_secs: float = 120,
        save_model_secs: float = 600,
        recovery_wait_secs: float = 30,
        stop_grace_secs: float = 120,
        checkpoint_basename: str = "model.ckpt",
        session_manager: Any = None,
        summary_writer: Any = USE_DEFAULT,
        init_fn: Any = None,
        local_init_run_options: Any = None,
    ) -> None:
        if not is_chief:
            raise unsupported("tf.train.Supervisor(is_chief=False) (distributed training)")
        if session_manager is not None:
            raise unsupported("tf.train.Supervisor(session_manager=...)")
        if init_fn is not None and not callable(init_fn):
            raise TypeError(
                f"Received an invalid value for argument `init_fn`: expected a function of the "
                f"session, got {init_fn!r}."
            )
        if init_feed_dict is not None and not isinstance(init_feed_dict, dict):
            raise TypeError(
                "Received an invalid value for argument `init_feed_dict`: expected a dict, got "
                f"{type(init_feed_dict).__name__}."
            )
        if logdir is not None and not isinstance(logdir, (str, os.PathLike)):
            raise TypeError(
                f"Received an invalid value for argument `logdir`: expected a folder path or None, "
                f"got {logdir!r}."
            )
        for name, secs in (
            ("save_model_secs", save_model_secs),
            ("save_summaries_secs", save_summaries_secs),
            ("stop_grace_secs", stop_grace_secs),
        ):
            if isinstance(secs, bool) or not isinstance(secs, (int, float)) or secs < 0:
                raise ValueError(
                    f"Received an invalid value for argument `{name}`: expected a number of "
                    f"seconds >= 0, got {secs!r}."
                )
        if logdir is not None:
            _check_logdir(os.fspath(logdir))
        self._graph = graph or get_default_graph()
        with self._graph.as_default():
            self._init_op = self._default_op(
                init_op, GraphKeys.INIT_OP, global_variables_initializer
            )
            self._local_init_op = self._default_op(
                local_init_op, GraphKeys.LOCAL_INIT_OP, lambda: group(local_variables_initializer())
            )
            if saver is Supervisor.USE_DEFAULT:
                saver = self._first(GraphKeys.SAVERS)
                if saver is None and global_variables():
                    saver = Saver()
                    self._graph.add_to_collection(GraphKeys.SAVERS, saver)
            if global_step is Supervisor.USE_DEFAULT:
                global_step = self._first(GraphKeys.GLOBAL_STEP)
                if global_step is None:
                    global_step = self._graph._by_name.get("global_step:0")
            if summary_op is Supervisor.USE_DEFAULT:
                summary_op = self._first(GraphKeys.SUMMARY_OP)
        self._saver = saver or None
        self._global_step = global_step
        self._summary_op = summary_op or None
        self._ready_op = None if ready_op is Supervisor.USE_DEFAULT else ready_op
        self._init_feed_dict = init_feed_dict
        self._init_fn = init_fn
        self._logdir = None if logdir is None else os.fspath(logdir)
        self._save_path = (
            None if self._logdir is None else os.path.join(self._logdir, checkpoint_basename)
        )
        self._save_model_secs = save_model_secs
        self._save_summaries_secs = save_summaries_secs
        self._stop_grace_secs = stop_grace_secs
        self._summary_writer = None if summary_writer is Supervisor.USE_DEFAULT else summary_writer
        self._coord = Coordinator()
        self._threads: list[threading.Thread] = []
        self._graph.finalize()

    # -- construction helpers ------------------------------------------------------------------
    def _first(self, key: str) -> Any:
        items = self._graph.get_collection(key)
        return items[0] if items else None

    def _default_op(self, op: Any, key: str, make: Any) -> Any:
        if op is not Supervisor.USE_DEFAULT:
            if op is not None and not isinstance(op, (Operation, Tensor)):
                raise TypeError(
                    f"Received an invalid value for an op argument: expected an op or None, got {op!r}."
                )
            return op
        found = self._first(key)
        if found is None:
            found = make()
            self._graph.add_to_collection(key, found)
        return found

    # -- properties -------------------------------------------------------------------------------
    graph = property(lambda self: self._graph)
    saver = property(lambda self: self._saver)
    global_step = property(lambda self: self._global_step)
    summary_op = property(lambda self: self._summary_op)
    summary_writer = property(lambda self: self._summary_writer)
    coord = property(lambda self: self._coord)
    init_op = property(lambda self: self._init_op)
    init_feed_dict = property(lambda self: self._init_feed_dict)
    local_init_op = property(lambda self: self._local_init_op)
    ready_op = property(lambda self: self._ready_op)
    is_chief = property(lambda self: True)
    session_manager = property(lambda self: None)
    save_path = property(lambda self: self._save_path)
    save_model_secs = property(lambda self: self._save_model_secs)
    save_summaries_secs = property(lambda self: self._save_summaries_secs)

    # -- sessions ------------------------------------------------------------------------------
    def prepare_or_wait_for_session(
        self,
        master: str = "",
        config: Any = None,
        wait_for_checkpoint: bool = False,
        max_wait_secs: float = 7200,
        start_standard_services: bool = True,
    ) -> Session:
        """A session with the model initialized (or restored from ``logdir``) and, when
        ``start_standard_services``, the checkpoint service and the queue runners started."""
        if master:
            raise unsupported(f"tf.train.Supervisor session master={master!r}")
        # As TensorFlow: a new session starts unstopped, without the last one's error.
        self._coord.clear_stop()
        sess = Session(graph=self._graph, config=config)
        ckpt = latest_checkpoint(self._logdir) if self._logdir and self._saver else None
        if ckpt:
            self._saver.restore(sess, ckpt)
            info("Restoring parameters from %s", ckpt)
        else:
            if self._init_op is not None:
                sess.run(self._init_op, feed_dict=self._init_feed_dict)
            if self._init_fn is not None:
                self._init_fn(sess)
        if self._local_init_op is not None:
            info("Running local_init_op.")
            sess.run(self._local_init_op)
            info("Done running local_init_op.")
        if start_standard_services:
            info("Starting standard services.")
            self.start_standard_services(sess)
            info("Starting queue runners.")
            self.start_queue_runners(sess)
        return sess

    def start_standard_services(self, sess: Session) -> list[threading.Thread]:
        if not self._logdir:
            warning("Standard services need a 'logdir' passed to the SessionManager")
            return []
        _check_logdir(self._logdir)
        os.makedirs(self._logdir, exist_ok=True)
        threads: list[threading.Thread] = []
        if self._saver is not None and self._save_model_secs:
            t = _CheckpointThread(self, sess, float(self._save_model_secs))
            t.start()
            threads.append(t)
        self._threads.extend(threads)
        return threads

    def _save(self, sess: Session) -> None:
        step = self._global_step
        info("Saving checkpoint to path %s", self._save_path)
        self._saver.save(sess, self._save_path, global_step=step)

    def start_queue_runners(self, sess: Session, queue_runners: Any = None) -> list[Any]:
        if queue_runners is None:
            return start_queue_runners(sess, coord=self._coord)
        threads: list[Any] = []
        for qr in queue_runners:
            threads.extend(qr.create_threads(sess, coord=self._coord, daemon=True, start=True))
        return threads

    @contextlib.contextmanager
    def managed_session(
        self,
        master: str = "",
        config: Any = None,
        start_standard_services: bool = True,
        close_summary_writer: bool = True,
    ) -> Iterator[Session]:
        sess = None
        try:
            sess = self.prepare_or_wait_for_session(
                master=master, config=config, start_standard_services=start_standard_services
            )
            yield sess
        except Exception as e:
            self.request_stop(e)
        finally:
            try:
                self.stop(close_summary_writer=close_summary_writer)
            finally:
                if sess is not None:
                    sess.close()

    # -- stopping ------------------------------------------------------------------------------
    def request_stop(self, ex: Any = None) -> None:
        self._coord.request_stop(ex=ex)

    def should_stop(self) -> bool:
        return self._coord.should_stop()

    def stop_on_exception(self) -> Any:
        return self._coord.stop_on_exception()

    def wait_for_stop(self) -> None:
        self._coord.wait_for_stop()

    def stop(
        self,
        threads: Any = None,
        close_summary_writer: bool = True,
        ignore_live_threads: bool = False,
    ) -> None:
        """Stop the services and re-raise an exception a stop was requested with (not
        ``OutOfRangeError``)."""
        self._coord.request_stop()
        try:
            self._coord.join(
                list(self._threads) + list(threads or []),
                stop_grace_period_secs=self._stop_grace_secs,
                ignore_live_threads=ignore_live_threads,
            )
        finally:
            self._threads = []
            if close_summary_writer and self._summary_writer is not None:
                self._summary_writer.close()

    def summary_computed(self, sess: Session, summary: Any, global_step: Any = None) -> None:
        """Write ``summary`` (what a summary op evaluated to) to ``logdir``'s event file."""
        if self._summary_writer is None:
            if not self._logdir:
                raise RuntimeError("Writing a summary requires a summary writer (pass logdir).")
            from rnnkit.compat.v1.summary import FileWriter

            self._summary_writer = FileWriter(self._logdir, self._graph)
        if global_step is None and self._global_step is not None:
            global_step = sess.run(self._global_step)
        self._summary_writer.add_summary(summary, global_step)
