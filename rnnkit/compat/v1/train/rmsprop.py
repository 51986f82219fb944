"""``tf.train.RMSPropOptimizer`` (TensorFlow 1.x's ``ApplyRMSProp``)::

    ms = decay * ms + (1 - decay) * g^2                 # slot "RMSProp", ONES
    mom = momentum * mom + lr * g / sqrt(ms + epsilon)  # slot "Momentum", zeros
    var -= mom

``centered=True`` also keeps ``mg = decay * mg + (1 - decay) * g`` (slot "MG", zeros) and divides by
``sqrt(ms - mg^2 + epsilon)``.
"""

from __future__ import annotations

from typing import Any

from rnnkit.compat.v1.train.optimizer import Optimizer


class RMSPropOptimizer(Optimizer):
    def __init__(
        self,
        learning_rate: Any,
        decay: Any = 0.9,
        momentum: Any = 0.0,
        epsilon: Any = 1e-10,
        use_locking: bool = False,
        centered: bool = False,
        name: str = "RMSProp",
    ) -> None:
        super().__init__(use_locking, name)
        self._set_hyper(
            learning_rate=learning_rate, decay=decay, momentum=momentum, epsilon=epsilon
        )
        self._centered = bool(centered)
        self._slot_names = (("RMSProp", 1.0), ("Momentum", 0.0)) + (
            (("MG", 0.0),) if centered else ()
        )

    def _update(self, var, grad, slots, hyper, state):
        rho, mo, eps, lr = (
            hyper["decay"],
            hyper["momentum"],
            hyper["epsilon"],
            hyper["learning_rate"],
        )
        ms, mom = slots["RMSProp"], slots["Momentum"]
        ms.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        if self._centered:
            mg = slots["MG"]
            mg.mul_(rho).add_(grad, alpha=1 - rho)
            denom = (ms - mg * mg + eps).sqrt()
        else:
            denom = (ms + eps).sqrt()
        mom.mul_(mo).add_(grad * lr / denom)
        var.sub_(mom)
