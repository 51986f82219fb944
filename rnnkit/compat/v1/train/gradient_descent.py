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

    def _update(self, var, grad, slots, hyper, state):
        var.sub_(grad * self._scalar(var, hyper["learning_rate"]))  # ApplyGradientDescent
