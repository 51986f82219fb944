"""``tf.train.AdagradOptimizer``: ``accum += g^2``; ``var -= lr * g / sqrt(accum)`` (slot
``accumulator``, variable ``W/Adagrad``, initialized to ``initial_accumulator_value`` = 0.1)."""

from __future__ import annotations

from typing import Any

from rnnkit.compat.v1.train.optimizer import Optimizer

__all__ = ["AdagradOptimizer"]


class AdagradOptimizer(Optimizer):
    def __init__(
        self,
        learning_rate: Any,
        initial_accumulator_value: float = 0.1,
        use_locking: bool = False,
        name: str = "Adagrad",
    ) -> None:
        super().__init__(use_locking, name)
        if not initial_accumulator_value > 0:
            raise ValueError(
                f"Received an invalid value for argument `initial_accumulator_value`: expected > 0, got {initial_accumulator_value}."
            )
        self._set_hyper(learning_rate=learning_rate)
        self._slot_names = (("accumulator", float(initial_accumulator_value)),)

    def _update(self, var, grad, slots, hyper, state):
        accum = slots["accumulator"]
        accum.add_(grad.square())  # ApplyAdagrad
        var.sub_(grad * self._scalar(var, hyper["learning_rate"]) * accum.rsqrt())
