"""``tf.train.AdamOptimizer`` (TensorFlow 1.x's ``training/adam.py``)::

    lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
    m = beta1 * m + (1 - beta1) * g          # slot "Adam", zeros
    v = beta2 * v + (1 - beta2) * g^2        # slot "Adam_1", zeros
    var -= lr_t * m / (sqrt(v) + epsilon)

``beta1^t`` and ``beta2^t`` are the variables ``beta1_power`` and ``beta2_power`` (initialized to the
betas, multiplied by them after each step).
"""

from __future__ import annotations

import math
from typing import Any

from rnnkit.compat.v1.train.optimizer import Optimizer


class AdamOptimizer(Optimizer):
    _slot_names = (("Adam", 0.0), ("Adam_1", 0.0))

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta1: Any = 0.9,
        beta2: Any = 0.999,
        epsilon: Any = 1e-8,
        use_locking: bool = False,
        name: str = "Adam",
    ) -> None:
        super().__init__(use_locking, name)
        self._set_hyper(learning_rate=learning_rate, beta1=beta1, beta2=beta2, epsilon=epsilon)

    def _create_non_slots(self, variables):
        dtype = variables[0].dtype
        self._non_slot("beta1_power", self._hyper["beta1"], dtype)
        self._non_slot("beta2_power", self._hyper["beta2"], dtype)

    def _update(self, var, grad, slots, hyper, state):
        b1, b2, eps = hyper["beta1"], hyper["beta2"], hyper["epsilon"]
        p1, p2 = float(state["beta1_power"]), float(state["beta2_power"])
        lr_t = hyper["learning_rate"] * math.sqrt(1 - p2) / (1 - p1)
        m, v = slots["Adam"], slots["Adam_1"]
        m.mul_(b1).add_(grad, alpha=1 - b1)
        v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        var.sub_(lr_t * m / (v.sqrt() + eps))

    def _finish(self, sess, state):
        state["beta1_power"].mul_(self._hyper["beta1"])
        state["beta2_power"].mul_(self._hyper["beta2"])
