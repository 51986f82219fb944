"""``tf.train.MomentumOptimizer``: ``accum = momentum * accum + grad``; ``var -= lr * accum``, or with
``use_nesterov=True`` ``var -= lr * grad + lr * momentum * accum`` (slot ``momentum``, variable ``W/Momentum``, zeros; with an ``embedding_lookup`` gradient only
the rows looked up, as ``SparseApplyMomentum``)."""

from __future__ import annotations

from typing import Any

from rnnkit.compat.v1.train.optimizer import Optimizer

__all__ = ["MomentumOptimizer"]


class MomentumOptimizer(Optimizer):
    _slot_names = (("momentum", 0.0),)
    _sparse_rows_matter = True

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
        lr, m = self._scalar(var, hyper["learning_rate"]), self._scalar(var, hyper["momentum"])
        accum = slots["momentum"]
        accum.mul_(m).add_(grad)  # ApplyMomentum: accum = accum * momentum + grad
        if self._nesterov:
            var.sub_(grad * lr + accum * m * lr)
        else:
            var.sub_(accum * lr)
