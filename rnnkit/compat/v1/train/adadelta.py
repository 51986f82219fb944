"""``tf.train.AdadeltaOptimizer`` (TensorFlow 1.x's ``ApplyAdadelta``)::

    accum = rho * accum + (1 - rho) * g^2                                 # slot "accum" (W/Adadelta)
    update = sqrt(accum_update + epsilon) / sqrt(accum + epsilon) * g
    accum_update = rho * accum_update + (1 - rho) * update^2    # slot "accum_update" (W/Adadelta_1)
    var -= lr * update

Both slots start at zeros; the defaults are TF's (``learning_rate=0.001``, ``rho=0.95``,
``epsilon=1e-8``), so with them a variable moves by about ``lr * sqrt(epsilon)`` per step at first.
"""

from __future__ import annotations

from typing import Any

from rnnkit.compat.v1.train.optimizer import Optimizer

__all__ = ["AdadeltaOptimizer"]


class AdadeltaOptimizer(Optimizer):
    _sparse_rows_matter = True

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: Any = 0.95,
        epsilon: Any = 1e-8,
        use_locking: bool = False,
        name: str = "Adadelta",
    ) -> None:
        super().__init__(use_locking, name)
        self._set_hyper(learning_rate=learning_rate, rho=rho, epsilon=epsilon)
        self._slot_names = (("accum", 0.0), ("accum_update", 0.0))  # TF's slot order

    def _update(self, var, grad, slots, hyper, state):
        s = self._scalar
        dt = self._dtype(var)
        rho = s(var, hyper["rho"])
        one_minus_rho = float(dt(1) - dt(hyper["rho"]))
        eps, lr = s(var, hyper["epsilon"]), s(var, hyper["learning_rate"])
        accum, accum_update = slots["accum"], slots["accum_update"]
        accum.copy_(accum * rho + grad.square() * one_minus_rho)
        update = (accum_update + eps).sqrt() * (accum + eps).rsqrt() * grad
        accum_update.copy_(accum_update * rho + update.square() * one_minus_rho)
        var.sub_(update * lr)
