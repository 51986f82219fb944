"""Numba settings and the scalar activations every compiled kernel of rnnkit uses (the fused engine's
step loops, the cells' one-step pointwise kernels), so that all of them compute the same values.

Inside compiled code, ``tanh(x)`` and ``sigmoid(x)`` of a float32 ``x`` are a rational function (see
below) and of a float64 ``x`` libm's ``tanh``/``exp``; ``one(a)`` is 1 in the dtype of the array ``a``,
so that float32 arithmetic stays float32. Called from Python they are plain ``math`` functions.

Example::

    @njit(**JIT)
    def kernel(x, out):
        for k in range(x.shape[0]):
            out[k] = sigmoid(x[k]) * (one(x) - tanh(x[k]))
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

__all__ = ["JIT", "tanh", "sigmoid", "one"]

# cached on disk, released GIL, numpy's error model (a division by zero gives inf, not an exception)
JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


# float32 tanh as a rational function (Eigen's generic_fast_tanh_float, max error a few ulp): pure
# arithmetic, so the elementwise loops vectorise; float64 keeps libm's tanh/exp for gradcheck accuracy.
_CLAMP = np.float32(7.90531110763549805)
_A = tuple(
    np.float32(v)
    for v in (
        -2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-08,
        1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03,
    )
)  # fmt: skip
_B = tuple(
    np.float32(v)
    for v in (
        1.19825839466702e-06,
        1.18534705686654e-04,
        2.26843463243900e-03,
        4.89352518554385e-03,
    )
)
_A13, _A11, _A9, _A7, _A5, _A3, _A1 = _A
_B6, _B4, _B2, _B0 = _B
_HALF = np.float32(0.5)


@njit
def _tanh_rational(x):
    x = _CLAMP if x > _CLAMP else x  # comparisons keep NaN
    x = -_CLAMP if x < -_CLAMP else x
    x2 = x * x
    p = x2 * _A13 + _A11
    p = x2 * p + _A9
    p = x2 * p + _A7
    p = x2 * p + _A5
    p = x2 * p + _A3
    p = x2 * p + _A1
    q = x2 * _B6 + _B4
    q = x2 * q + _B2
    q = x2 * q + _B0
    return x * p / q


def tanh(x):  # pragma: no cover - replaced by the overload below inside compiled code
    return math.tanh(x)


def sigmoid(x):  # pragma: no cover
    return 1.0 / (1.0 + math.exp(-x))


def one(a):  # pragma: no cover
    return 1


@overload(tanh)
def _ol_tanh(x):
    if x == types.float32:
        return lambda x: _tanh_rational(x)
    return lambda x: math.tanh(x)


@overload(sigmoid)
def _ol_sigmoid(x):
    if x == types.float32:
        return lambda x: _HALF + _HALF * _tanh_rational(_HALF * x)
    return lambda x: 1.0 / (1.0 + math.exp(-x))


@overload(one)
def _ol_one(a):
    dt = a.dtype
    return lambda a: dt(1)  # 1 in the array's dtype, so float32 arithmetic stays float32
