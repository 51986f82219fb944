"""``tf.train.AdamOptimizer`` (TensorFlow 1.x's ``training/adam.py``)::

    lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
    m = beta1 * m + (1 - beta1) * g          # slot "m", variable W/Adam, zeros
    v = beta2 * v + (1 - beta2) * g^2        # slot "v", variable W/Adam_1, zeros
    var -= lr_t * m / (sqrt(v) + epsilon)

``beta1^t`` and ``beta2^t`` are the variables ``beta1_power`` and ``beta2_power`` (initialized to the
betas, multiplied by them after each step).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnnkit.compat.v1.dtypes import float32
from rnnkit.compat.v1.train import _fused
from rnnkit.compat.v1.train.optimizer import Optimizer

__all__ = ["AdamOptimizer"]


class AdamOptimizer(Optimizer):
    _slot_names = (("m", 0.0), ("v", 0.0))

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
        # float32 whatever the variables' dtype, as TF creates them from Python floats (a float64
        # model's checkpoint then restores in TF); each update casts them to the variable's dtype
        self._non_slot("beta1_power", self._hyper["beta1"], float32)
        self._non_slot("beta2_power", self._hyper["beta2"], float32)

    def _scalars(self, var, hyper, state) -> tuple[float, float, float, float]:
        """``(alpha, 1 - beta1, 1 - beta2, epsilon)`` as ApplyAdam computes them, in the variable's
        dtype: alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)."""
        dt = self._dtype(var)
        one = dt(1)
        p1, p2 = dt(float(state["beta1_power"])), dt(float(state["beta2_power"]))
        alpha = float(dt(hyper["learning_rate"]) * np.sqrt(one - p2) / (one - p1))
        b1, b2 = float(one - dt(hyper["beta1"])), float(one - dt(hyper["beta2"]))
        return alpha, b1, b2, self._scalar(var, hyper["epsilon"])

    def _update_all(self, dense, hyper, state):
        """Small variables of one dtype together, with torch's multi-tensor ops (the same arithmetic
        as :meth:`_update`, one call per operation instead of one per operation and variable: the
        tutorial-size step spent ~100 us in per-variable calls)."""
        by_dtype: dict[torch.dtype, list] = {}
        for var, grad, slots in dense:
            g = grad.contiguous()
            if var.device.type != "cpu" or _fused.usable(var, slots["m"], slots["v"], g):
                self._update(var, g, slots, hyper, state)
            else:
                by_dtype.setdefault(var.dtype, []).append((var, g, slots))
        for group in by_dtype.values():
            alpha, b1, b2, eps = self._scalars(group[0][0], hyper, state)
            if max(b1, b2) >= 0.5:  # _lerp_'s other rounding: one variable at a time
                for var, g, slots in group:
                    self._update(var, g, slots, hyper, state)
                continue
            vs = [var for var, _, _ in group]
            gs = [g for _, g, _ in group]
            ms = [slots["m"] for _, _, slots in group]
            sq = [slots["v"] for _, _, slots in group]
            torch._foreach_lerp_(ms, gs, b1)  # m += (g - m) * (1 - beta1)
            torch._foreach_lerp_(sq, torch._foreach_mul(gs, gs), b2)  # v += (g^2 - v) * (1 - beta2)
            denom = torch._foreach_sqrt(sq)
            torch._foreach_add_(denom, eps)
            step = torch._foreach_mul(ms, alpha)
            torch._foreach_div_(step, denom)
            torch._foreach_sub_(vs, step)  # var -= (m * alpha) / (sqrt(v) + epsilon)

    def _update(self, var, grad, slots, hyper, state):
        alpha, b1, b2, eps = self._scalars(var, hyper, state)
        m, v = slots["m"], slots["v"]
        g = grad.contiguous()
        if _fused.usable(var, m, v, g):
            _fused.adam(var, m, v, g, alpha, b1, b2, eps)  # one pass, same formula
            return
        _lerp_(m, grad, b1)  # m += (g - m) * (1 - beta1)
        _lerp_(v, grad.square(), b2)  # v += (g^2 - v) * (1 - beta2)
        denom = v.sqrt().add_(eps)
        var.sub_(m.mul(alpha).div_(denom))  # var -= (m * alpha) / (sqrt(v) + epsilon)

    def _finish(self, sess, state):
        state["beta1_power"].mul_(self._hyper["beta1"])
        state["beta2_power"].mul_(self._hyper["beta2"])


def _lerp_(a: torch.Tensor, b: torch.Tensor, w: float) -> None:
    """``a += (b - a) * w`` in place with one temporary (torch's lerp computes exactly that for
    weights below one half; above, it rounds differently, so the plain formula is used)."""
    if w < 0.5:
        a.lerp_(b, w)
    else:
        a.add_((b - a).mul_(w))
