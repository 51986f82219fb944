"""``tf.train``: optimizers (one module each, as TensorFlow keeps them), ``Saver``, the global step,
learning-rate schedules, input producers and queue runners (``input``), ``Coordinator`` and
``Supervisor``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnnkit.compat.v1.ops import GraphKeys, Tensor, convert_to_tensor, get_default_graph
from rnnkit.compat.v1.train.adadelta import AdadeltaOptimizer
from rnnkit.compat.v1.train.adagrad import AdagradOptimizer
from rnnkit.compat.v1.train.adam import AdamOptimizer
from rnnkit.compat.v1.train.checkpoint_state import checkpoint_exists, get_checkpoint_state
from rnnkit.compat.v1.train.checkpoint_utils import (
    NewCheckpointReader,
    global_step,
    list_variables,
    load_checkpoint,
    load_variable,
)
from rnnkit.compat.v1.train.coordinator import Coordinator
from rnnkit.compat.v1.train.gradient_descent import GradientDescentOptimizer
from rnnkit.compat.v1.train.input import (
    QueueRunner,
    add_queue_runner,
    input_producer,
    range_input_producer,
    start_queue_runners,
)
from rnnkit.compat.v1.train.meta_graph import export_meta_graph, import_meta_graph
from rnnkit.compat.v1.train.momentum import MomentumOptimizer
from rnnkit.compat.v1.train.optimizer import Optimizer
from rnnkit.compat.v1.train.rmsprop import RMSPropOptimizer
from rnnkit.compat.v1.train.saver import Saver, latest_checkpoint
from rnnkit.compat.v1.train.supervisor import Supervisor
from rnnkit.compat.v1.variables import Variable

__all__ = [
    "Optimizer",
    "GradientDescentOptimizer",
    "MomentumOptimizer",
    "AdamOptimizer",
    "RMSPropOptimizer",
    "AdagradOptimizer",
    "AdadeltaOptimizer",
    "Saver",
    "latest_checkpoint",
    "get_checkpoint_state",
    "checkpoint_exists",
    "NewCheckpointReader",
    "list_variables",
    "load_variable",
    "load_checkpoint",
    "global_step",
    "export_meta_graph",
    "import_meta_graph",
    "get_global_step",
    "get_or_create_global_step",
    "create_global_step",
    "exponential_decay",
    "range_input_producer",
    "input_producer",
    "QueueRunner",
    "add_queue_runner",
    "start_queue_runners",
    "Coordinator",
    "Supervisor",
]


def get_global_step(graph: Any = None) -> Variable | None:
    items = (graph or get_default_graph()).get_collection(GraphKeys.GLOBAL_STEP)
    return items[0] if items else None


def create_global_step(graph: Any = None) -> Variable:
    g = graph or get_default_graph()
    if get_global_step(g) is not None:
        raise ValueError('"global_step" already exists.')
    from rnnkit.compat.v1.dtypes import int64

    step = Variable(
        np.int64(0),
        trainable=False,
        dtype=int64,
        _exact_name="global_step",
        collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP],
    )
    return step


def get_or_create_global_step(graph: Any = None) -> Variable:
    return get_global_step(graph) or create_global_step(graph)


def exponential_decay(
    learning_rate: Any,
    global_step: Any,
    decay_steps: Any,
    decay_rate: Any,
    staircase: bool = False,
    name: str | None = None,
) -> Tensor:
    """``learning_rate * decay_rate ^ (global_step / decay_steps)`` (floored when ``staircase``)."""
    step = convert_to_tensor(global_step)
    lr, ds, dr = float(learning_rate), float(decay_steps), float(decay_rate)

    def fn(s: torch.Tensor) -> torch.Tensor:
        p = float(s) / ds
        return torch.tensor(lr * dr ** (np.floor(p) if staircase else p), dtype=torch.float32)

    from rnnkit.compat.v1.dtypes import float32

    return Tensor(name or "ExponentialDecay", float32, [], [step], fn=fn)
