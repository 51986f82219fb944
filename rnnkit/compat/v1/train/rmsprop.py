"""``tf.train.RMSPropOptimizer`` (TensorFlow 1.x's ``ApplyRMSProp``)::

    ms = decay * ms + (1 - decay) * g^2                 # slot "rms" (W/RMSProp), ONES
    mom = momentum * mom + lr * g / sqrt(ms + epsilon)  # slot "momentum" (W/RMSProp_1), zeros
    var -= mom

``centered=True`` also keeps ``mg = decay * mg + (1 - decay) * g`` (slot "mg", before "momentum", zeros) and divides by
``sqrt(ms - mg^2 + epsilon)``.
"""

from __future__ import annotations

from typing import Any

from rnnkit.compat.v1.train import _fused
from rnnkit.compat.v1.train.optimizer import Optimizer

__all__ = ["RMSPropOptimizer"]


class RMSPropOptimizer(Optimizer):
    _sparse_rows_matter = True

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
        mg = (("mg", 0.0),) if centered else ()
        self._slot_names = (("rms", 1.0), *mg, ("momentum", 0.0))  # TF's slot order

    def _update(self, var, grad, slots, hyper, state):
        s = self._scalar
        dt = self._dtype(var)
        rho1, mo = float(dt(1) - dt(hyper["decay"])), s(var, hyper["momentum"])
        eps, lr = s(var, hyper["epsilon"]), s(var, hyper["learning_rate"])
        ms, mom = slots["rms"], slots["momentum"]
        mg = slots["mg"] if self._centered else None
        g = grad.contiguous()
        if _fused.usable(var, ms, mom, g, *([] if mg is None else [mg])):
            _fused.rmsprop(var, ms, mom, mg, g, rho1, mo, lr, eps)  # one pass, same formula
            return
        ms.add_((grad.square() - ms) * rho1)  # ApplyRMSProp / ApplyCenteredRMSProp
        if mg is not None:
            mg.add_((grad - mg) * rho1)
            denom = (ms - mg.square()) + eps
        else:
            denom = ms + eps
        mom.copy_(mom * mo + (grad * lr) / denom.sqrt())
        var.sub_(mom)
