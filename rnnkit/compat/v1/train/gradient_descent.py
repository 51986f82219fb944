"""``tf.train.GradientDescentOptimizer``: ``var -= lr * grad``."""

from __future__ import annotations

from typing import Any

from rnnkit.compat.v1.train.optimizer import Optimizer

__all__ = ["GradientDescentOptimizer"]


class GradientDescentOptimizer(Optimizer):
    def __init__(
        self, learning_rate: Any, use_locking: bool = False, name: str = "GradientDescent"
    ) -> None:
        super().__init__(use_locking, name)
        self._set_hyper(learning_rate=learning_rate)

    _applies_rows = True

    def _update(self, var, grad, slots, hyper, state):
        var.sub_(grad * self._scalar(var, hyper["learning_rate"]))  # ApplyGradientDescent

    def _apply_rows(self, var, ids, rows, hyper):
        # TF's sparse rule: ScatterSub of rows * lr, a repeated id's rows subtracted one by one
        # (a - b and a + (-1) * b round alike)
        scaled = rows.to(var.dtype) * self._scalar(var, hyper["learning_rate"])
        var.index_add_(0, ids, scaled, alpha=-1)
