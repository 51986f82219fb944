"""TF1's input producers and queue runners: ``tf.train.range_input_producer``, ``input_producer``,
``QueueRunner``, ``add_queue_runner``, ``start_queue_runners``.

A producer returns a FIFO queue; ``queue.dequeue()`` is a tensor that takes the next element each
``Session.run`` that evaluates it (once per run, however many ops read it, as in TensorFlow). In
TensorFlow a runner thread refills the queue with one epoch at a time (``range(limit)``, shuffled
when ``shuffle``); here the queue refills itself, one epoch at a time, when it runs dry, so the
elements come in the same order, with no thread. The queue and its epoch count live in the
session (``Session._resources``). As in TensorFlow the runners must have been started in that
session (``start_queue_runners``, which ``Supervisor`` and ``MonitoredTrainingSession`` call):
where TensorFlow would wait forever, a dequeue raises ``FailedPreconditionError`` saying so.
After ``num_epochs`` epochs a dequeue raises ``tf.errors.OutOfRangeError``.

Differs from TensorFlow: a shuffled epoch is a permutation from torch's generator (seeded by the
graph and op seeds), not TensorFlow's Philox stream; there is no ``fraction_of_N_full`` summary.
"""

from __future__ import annotations

import collections
import numbers
from typing import Any

import numpy as np
import torch

from rnnkit.compat.v1.dtypes import int32
from rnnkit.compat.v1.errors import FailedPreconditionError, InvalidArgumentError, OutOfRangeError
from rnnkit.compat.v1.ops import (
    GraphKeys,
    Tensor,
    add_to_collection,
    convert_to_tensor,
    get_default_graph,
    get_default_session,
    name_scope,
)

__all__ = [
    "range_input_producer",
    "input_producer",
    "QueueRunner",
    "add_queue_runner",
    "start_queue_runners",
]


class _Dequeue(Tensor):
    """The next element of its queue (reads the epoch source when the queue needs refilling)."""

    _stateful = True

    def __init__(self, queue: FIFOQueue, name: str) -> None:
        self._queue = queue
        shape = queue._source.shape[1:] if queue._source.shape.ndims is not None else None
        super().__init__(name, queue._source.dtype, shape, [queue._source])

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        return self._queue._next(sess, values[0])


class FIFOQueue:
    """The queue a producer returns: ``dequeue()``, ``dequeue_many(n)``, ``name``."""

    def __init__(
        self,
        source: Tensor,
        num_epochs: int | None,
        shuffle: bool,
        seed: int | None,
        capacity: int,
        name: str,
    ) -> None:
        self._source = source
        self._num_epochs = num_epochs
        self._shuffle = shuffle
        self._graph = source.graph
        self._seed = self._graph._op_seed(seed)
        self.capacity = capacity
        self.name = name
        self.dtypes = [source.dtype]

    def _next(self, sess: Any, source: torch.Tensor) -> torch.Tensor:
        runners = sess._resources.get(_STARTED, ())
        if not any(qr.queue is self for qr in runners):
            raise FailedPreconditionError(
                f"The queue {self.name!r} is empty and no queue runner fills it in this session: "
                "call tf.train.start_queue_runners(sess) (tf.train.Supervisor's managed_session "
                "does) before running ops that read from it (TensorFlow would wait forever)."
            )
        state = sess._resources.setdefault(self, {"buffer": collections.deque(), "epochs": 0})
        buffer = state["buffer"]
        if not buffer:
            if self._num_epochs is not None and state["epochs"] >= self._num_epochs:
                raise OutOfRangeError(
                    f"FIFOQueue {self.name!r} is closed and has insufficient elements "
                    "(requested 1, current size 0)"
                )
            epoch = source
            if len(epoch) == 0:
                if self._num_epochs is None:
                    raise FailedPreconditionError(
                        f"The queue {self.name!r} reads an empty input (0 rows per epoch) for ever: "
                        "nothing can be dequeued (TensorFlow would wait forever); pass a non-empty "
                        "input or num_epochs."
                    )
                state["epochs"] = self._num_epochs
                raise OutOfRangeError(
                    f"FIFOQueue {self.name!r} is closed and has insufficient elements "
                    "(requested 1, current size 0)"
                )
            if self._shuffle and len(epoch) > 1:
                gen = sess._generator(self, self._seed)
                epoch = epoch[torch.randperm(len(epoch), generator=gen)]
            buffer.extend(epoch.unbind(0))
            state["epochs"] += 1
        return buffer.popleft()

    def dequeue(self, name: str | None = None) -> Tensor:
        with name_scope(None):
            return _Dequeue(self, name or f"{self.name}_Dequeue")

    def __repr__(self) -> str:
        return f"<tf.FIFOQueue {self.name!r}>"


def _check_epochs(num_epochs: Any) -> int | None:
    if num_epochs is None:
        return None
    if (
        isinstance(num_epochs, bool)
        or not isinstance(num_epochs, numbers.Integral)
        or num_epochs <= 0
    ):
        raise ValueError(
            "Received an invalid value for argument `num_epochs`: expected None or a positive "
            f"integer, got {num_epochs!r}."
        )
    return int(num_epochs)


def input_producer(
    input_tensor: Any,
    element_shape: Any = None,
    num_epochs: Any = None,
    shuffle: bool = True,
    seed: int | None = None,
    capacity: int = 32,
    shared_name: Any = None,
    summary_name: Any = None,
    name: str | None = None,
    cancel_op: Any = None,
) -> FIFOQueue:
    """A queue yielding the rows of ``input_tensor``, epoch after epoch (shuffled when ``shuffle``)."""
    epochs = _check_epochs(num_epochs)
    source = convert_to_tensor(input_tensor, name="input_tensor")
    if source.shape.ndims == 0:
        raise ValueError(
            "Received an invalid value for argument `input_tensor`: expected a tensor of rank >= 1 "
            f"(one element per row), got the scalar {source!r}."
        )
    if element_shape is not None and source.shape.ndims is not None:
        from rnnkit.compat.v1.tensor_shape import TensorShape

        if not TensorShape(element_shape).is_compatible_with(source.shape[1:]):
            raise ValueError(
                f"Received an invalid value for argument `element_shape`: {element_shape!r} does "
                f"not match the rows of `input_tensor` (shape {source.shape})."
            )
    graph = get_default_graph()
    with name_scope(name, "input_producer") as scope:
        queue = FIFOQueue(source, epochs, bool(shuffle), seed, int(capacity), scope.rstrip("/"))
    add_queue_runner(QueueRunner(queue, []), graph=graph)
    return queue


def _check_limit(n: int) -> None:
    if n < 0:
        raise InvalidArgumentError(
            f"Requires start <= limit when delta > 0: 0/{n} (argument `limit` of "
            "range_input_producer must be >= 0)"
        )


def _range(n: torch.Tensor) -> torch.Tensor:
    _check_limit(int(n))
    return torch.arange(int(n), dtype=torch.int32)


def range_input_producer(
    limit: Any,
    num_epochs: Any = None,
    shuffle: bool = True,
    seed: int | None = None,
    capacity: int = 32,
    shared_name: Any = None,
    name: str | None = None,
) -> FIFOQueue:
    """A queue yielding ``0, 1, ..., limit - 1`` (an int32 scalar each), epoch after epoch;
    ``limit`` may be a tensor (``reader.ptb_producer`` passes its ``epoch_size``)."""
    lim = convert_to_tensor(limit, name="limit")
    if not lim.dtype.is_integer or lim.shape.ndims not in (None, 0):
        raise TypeError(
            "Received an invalid value for argument `limit`: expected an integer scalar, got "
            f"{limit!r}."
        )
    if isinstance(limit, (numbers.Integral, np.integer)) and not isinstance(limit, bool):
        _check_limit(int(limit))
    with name_scope(name, "input_producer") as scope:
        source = Tensor(
            "range",
            int32,
            [None],
            [lim],
            fn=_range,
        )
        return input_producer(
            source, [], num_epochs, shuffle, seed, capacity, shared_name, name=scope
        )


class QueueRunner:
    """What fills a queue: ``QueueRunner(queue, enqueue_ops)``; ``create_threads(sess)``."""

    def __init__(
        self,
        queue: Any = None,
        enqueue_ops: Any = None,
        close_op: Any = None,
        cancel_op: Any = None,
        queue_closed_exception_types: Any = None,
        queue_runner_def: Any = None,
        import_scope: Any = None,
    ) -> None:
        if not isinstance(queue, FIFOQueue):
            raise TypeError(
                "Received an invalid value for argument `queue`: expected a queue made by "
                f"tf.train.input_producer / range_input_producer, got {queue!r}."
            )
        self.queue = queue
        self.enqueue_ops = list(enqueue_ops or [])
        self.name = queue.name

    def create_threads(
        self, sess: Any, coord: Any = None, daemon: bool = False, start: bool = False
    ) -> list[Any]:
        """Start this runner in ``sess`` (no thread: the queue refills itself when read)."""
        started = sess._resources.setdefault(_STARTED, [])
        if self not in started:
            started.append(self)
        return []


_STARTED = "started queue runners"


def add_queue_runner(
    qr: QueueRunner, collection: str = GraphKeys.QUEUE_RUNNERS, graph: Any = None
) -> None:
    if graph is None:
        add_to_collection(collection, qr)
    else:
        graph.add_to_collection(collection, qr)


def start_queue_runners(
    sess: Any = None,
    coord: Any = None,
    daemon: bool = True,
    start: bool = True,
    collection: str = GraphKeys.QUEUE_RUNNERS,
) -> list[Any]:
    """Start every queue runner of ``collection`` in ``sess`` (default: the default session)."""
    if sess is None:
        sess = get_default_session()
        if sess is None:
            raise ValueError(
                "Cannot start queue runners: no default session is registered. Use "
                "`with sess.as_default()` or pass an explicit session to "
                "tf.train.start_queue_runners(sess=sess)."
            )
    from rnnkit.compat.v1.session import Session

    if not isinstance(sess, Session):
        raise TypeError(
            f"Received an invalid value for argument `sess`: expected a tf.Session, got {sess!r}."
        )
    threads: list[Any] = []
    for qr in sess.graph.get_collection(collection):
        threads.extend(qr.create_threads(sess, coord=coord, daemon=daemon, start=start))
    return threads
