"""``tf.train.MomentumOptimizer``: ``accum = momentum * accum + grad``; ``var -= lr * accum``, or with
``use_nesterov=True`` ``var -= lr * grad + lr * momentum * accum`` (slot ``Momentum``, zeros)."""

from __future__ import annotations

from typing import Any

from rnnkit.compat.v1.train.optimizer import Optimizer


class MomentumOptimizer(Optimizer):
    _slot_names = (("Momentum", 0.0),)

    def __init__(
        self,
        learning_rate: Any,
        momentum: Any,
        use_locking: bool = False,
        name: str = "Momentum",
        use_nesterov: bool = False,
    ) -> None:
        super().__init__(use_locking, name)
        self._set_hyper(learning_rate=learning_rate, momentum=momentum)
        self._nesterov = bool(use_nesterov)

    def _update(self, var, grad, slots, hyper, state):
        lr, m = hyper["learning_rate"], hyper["momentum"]
        accum = slots["Momentum"]
        accum.mul_(m).add_(grad)
        if self._nesterov:
            var.sub_(grad * lr + accum * (m * lr))
        else:
            var.sub_(accum, alpha=lr)
