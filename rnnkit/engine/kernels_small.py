r"""Whole small layers in one compiled call each way (numba, ``cache=True``): the input projection,
the recurrence and, backward, every gradient, as plain loops with no BLAS call and no buffer handed
in that the caller must size per step.

For layers whose work is a few thousand multiply-adds (seed size: B=4, T=2, I=3, H=5), the time of a
fused call is all call overhead: each numpy operation, BLAS call and numba dispatch of the general
path (:mod:`rnnkit.engine.kernels` around :mod:`rnnkit.engine.cpu`) costs a microsecond or more,
against well under a microsecond of arithmetic. These kernels make it one dispatch per direction.

Layouts: ``x (T, B, I)`` and ``out (T, B, H)`` may be any strided views (the caller passes batch-major
arrays with their first two axes swapped, and the gradient of a sum may have zero strides); parameters
are C-contiguous, in the cell's own layout (``kernel (I + H, G*H)``). The initial state is zeros.
Every row runs all T steps (no ``sequence_length``). The activations are the engine's
(:mod:`rnnkit.platform.compiled`: float32 uses the same rational tanh as the general path), so small
and general paths agree to rounding.

Forward kernels also fill what backward needs (activated gates, cell states); backward kernels return
``dx`` (when ``need_x``) and accumulate the parameter gradients into zeroed arrays.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rnnkit.platform.compiled import JIT as _JIT
from rnnkit.platform.compiled import one as _one
from rnnkit.platform.compiled import sigmoid as _sigmoid
from rnnkit.platform.compiled import tanh as _tanh

__all__ = [
    "rnn_forward",
    "rnn_backward",
    "lstm_forward",
    "lstm_backward",
    "gru_forward",
    "gru_backward",
    "grur_forward",
    "grur_backward",
]


# ------------------------------------------------------------------------------------- helpers
@njit(**_JIT)
def _affine(x, t, b, h, k, bias, c0, n, acc):  # pragma: no cover - compiled
    """``acc[:n] = bias[c0:c0+n] + x[t, b] @ k[:I, c0:c0+n] + h @ k[I:, c0:c0+n]`` (``h`` a row)."""
    I = x.shape[2]
    for j in range(n):
        acc[j] = bias[c0 + j]
    for i in range(I):
        v = x[t, b, i]
        for j in range(n):
            acc[j] += v * k[i, c0 + j]
    for i in range(h.shape[0]):
        v = h[i]
        for j in range(n):
            acc[j] += v * k[I + i, c0 + j]


@njit(**_JIT)
def _back_affine(dg, x, t, b, h, k, c0, n, dk, db, dx, need_x, dh):  # pragma: no cover - compiled
    """The gradients of :func:`_affine` for ``dg (n,)``: into ``dk``, ``db``, ``dx[t, b]`` (when
    ``need_x``) and ``dh`` (the row ``h``'s gradient), all accumulated."""
    I = x.shape[2]
    for j in range(n):
        db[c0 + j] += dg[j]
    for i in range(I):
        v = x[t, b, i]
        s = dg[0] * 0
        for j in range(n):
            dk[i, c0 + j] += v * dg[j]
            s += dg[j] * k[i, c0 + j]
        if need_x:
            dx[t, b, i] += s
    for i in range(h.shape[0]):
        v = h[i]
        s = dg[0] * 0
        for j in range(n):
            dk[I + i, c0 + j] += v * dg[j]
            s += dg[j] * k[I + i, c0 + j]
        dh[i] += s


# ----------------------------------------------------------------------------- tanh / relu RNN
@njit(**_JIT)
def rnn_forward(x, k, bias, relu, out, h):  # pragma: no cover - compiled
    """``h_t = act([x_t, h_{t-1}] k + bias)`` from ``h_0 = 0``: ``out (T, B, H)``, final ``h (B, H)``."""
    T, B = x.shape[0], x.shape[1]
    H = h.shape[1]
    zero = _one(h) * 0
    acc = np.empty(H, dtype=h.dtype)
    h[:] = zero
    for t in range(T):
        for b in range(B):
            _affine(x, t, b, h[b], k, bias, 0, H, acc)
            for j in range(H):
                v = acc[j]
                out[t, b, j] = (zero if v < zero else v) if relu else _tanh(v)  # relu keeps NaN
            for j in range(H):
                h[b, j] = out[t, b, j]


@njit(**_JIT)
def rnn_backward(x, k, out, dout, dh_last, relu, need_x, dx, dk, db):  # pragma: no cover
    T, B = x.shape[0], x.shape[1]
    H = out.shape[2]
    one = _one(dk)
    zero = one * 0
    dh = dh_last.copy()  # the carried state gradient, C-contiguous
    dg = np.empty(H, dtype=dk.dtype)
    nxt = np.zeros((B, H), dtype=dk.dtype)
    h0 = np.zeros(H, dtype=dk.dtype)
    for t in range(T - 1, -1, -1):
        nxt[:] = zero
        for b in range(B):
            for j in range(H):
                y = out[t, b, j]
                d = dout[t, b, j] + dh[b, j]
                dg[j] = (zero if y <= zero else d) if relu else d * (one - y * y)  # NaN passes
            hp = out[t - 1, b] if t > 0 else h0
            _back_affine(dg, x, t, b, hp, k, 0, H, dk, db, dx, need_x, nxt[b])
        dh[:] = nxt


# ------------------------------------------------------------------------------------------ LSTM
@njit(**_JIT)
def lstm_forward(x, k, bias, forget_bias, out, c, h, gates, cs):  # pragma: no cover - compiled
    """TF1's LSTM (gates ``i, j, f, o``) from zero state; ``gates (T, B, 4H)`` keeps the activated
    gates and ``cs (T, B, H)`` the cell states for backward; final ``c``, ``h (B, H)``.
    ``forget_bias`` is a scalar of the arrays' dtype."""
    T, B = x.shape[0], x.shape[1]
    H = h.shape[1]
    zero = _one(h) * 0
    acc = np.empty(4 * H, dtype=h.dtype)
    h[:] = zero
    c[:] = zero
    for t in range(T):
        for b in range(B):
            _affine(x, t, b, h[b], k, bias, 0, 4 * H, acc)
            g = gates[t, b]
            for j in range(H):
                gi = _sigmoid(acc[j])
                gj = _tanh(acc[H + j])
                gf = _sigmoid(acc[2 * H + j] + forget_bias)
                go = _sigmoid(acc[3 * H + j])
                g[j], g[H + j], g[2 * H + j], g[3 * H + j] = gi, gj, gf, go
                cn = c[b, j] * gf + gi * gj
                c[b, j] = cn
                cs[t, b, j] = cn
                out[t, b, j] = _tanh(cn) * go
            for j in range(H):
                h[b, j] = out[t, b, j]


@njit(**_JIT)
def lstm_backward(
    x, k, out, gates, cs, dout, dc_last, dh_last, need_x, dx, dk, db
):  # pragma: no cover
    T, B = x.shape[0], x.shape[1]
    H = out.shape[2]
    one = _one(dk)
    zero = one * 0
    dh = dh_last.copy()  # the carried state gradient, C-contiguous
    dc = dc_last.copy()
    dg = np.empty(4 * H, dtype=dk.dtype)
    nxt = np.zeros((B, H), dtype=dk.dtype)
    h0 = np.zeros(H, dtype=dk.dtype)
    for t in range(T - 1, -1, -1):
        nxt[:] = zero
        for b in range(B):
            g = gates[t, b]
            for j in range(H):
                gi, gj, gf, go = g[j], g[H + j], g[2 * H + j], g[3 * H + j]
                ct = cs[t, b, j]
                cp = cs[t - 1, b, j] if t > 0 else zero
                tc = _tanh(ct)
                d = dout[t, b, j] + dh[b, j]
                dct = dc[b, j] + d * go * (one - tc * tc)
                dg[j] = dct * gj * gi * (one - gi)
                dg[H + j] = dct * gi * (one - gj * gj)
                dg[2 * H + j] = dct * cp * gf * (one - gf)
                dg[3 * H + j] = d * tc * go * (one - go)
                dc[b, j] = dct * gf
            hp = out[t - 1, b] if t > 0 else h0
            _back_affine(dg, x, t, b, hp, k, 0, 4 * H, dk, db, dx, need_x, nxt[b])
        dh[:] = nxt


# ------------------------------------------------------------------------------------------- GRU
@njit(**_JIT)
def _reset_update(x, t, b, h, gk, gb, acc, g):  # pragma: no cover - compiled
    """Both GRU formulations' gates: ``g[:H], g[H:2H] = r, u = sigmoid([x_t, h] gk + gb)`` for row
    ``b`` (``h`` its state; ``acc`` a ``(2H,)`` buffer)."""
    H = h.shape[0]
    _affine(x, t, b, h, gk, gb, 0, 2 * H, acc)
    for j in range(2 * H):
        g[j] = _sigmoid(acc[j])


@njit(**_JIT)
def gru_forward(x, gk, ck, gb, cb, out, h, gates):  # pragma: no cover - compiled
    """TF1's GRUCell (reset before the candidate's product): ``r, u = sigmoid([x, h] gk + gb)``,
    ``c = tanh([x, r h] ck + cb)``, ``h' = u h + (1 - u) c``. ``gates (T, B, 3H)`` keeps r, u, c."""
    T, B = x.shape[0], x.shape[1]
    H = h.shape[1]
    one = _one(h)
    acc = np.empty(2 * H, dtype=h.dtype)
    cand = np.empty(H, dtype=h.dtype)
    rh = np.empty(H, dtype=h.dtype)
    h[:] = one * 0
    for t in range(T):
        for b in range(B):
            g = gates[t, b]
            _reset_update(x, t, b, h[b], gk, gb, acc, g)
            for j in range(H):
                rh[j] = g[j] * h[b, j]
            _affine(x, t, b, rh, ck, cb, 0, H, cand)
            for j in range(H):
                cj = _tanh(cand[j])
                g[2 * H + j] = cj
                u = g[H + j]
                out[t, b, j] = u * h[b, j] + (one - u) * cj
            for j in range(H):
                h[b, j] = out[t, b, j]


@njit(**_JIT)
def gru_backward(
    x, gk, ck, out, gates, dout, dh_last, need_x, dx, dgk, dck, dgb, dcb
):  # pragma: no cover
    T, B = x.shape[0], x.shape[1]
    H = out.shape[2]
    one = _one(dgk)
    zero = one * 0
    dh = dh_last.copy()  # the carried state gradient, C-contiguous
    dgg = np.empty(2 * H, dtype=dgk.dtype)
    dgc = np.empty(H, dtype=dgk.dtype)
    rh = np.empty(H, dtype=dgk.dtype)
    drh = np.empty(H, dtype=dgk.dtype)
    nxt = np.zeros((B, H), dtype=dgk.dtype)
    h0 = np.zeros(H, dtype=dgk.dtype)
    for t in range(T - 1, -1, -1):
        nxt[:] = zero
        for b in range(B):
            g = gates[t, b]
            hp = out[t - 1, b] if t > 0 else h0
            for j in range(H):
                r, u, c = g[j], g[H + j], g[2 * H + j]
                d = dout[t, b, j] + dh[b, j]
                dgc[j] = d * (one - u) * (one - c * c)
                dgg[H + j] = d * (hp[j] - c) * u * (one - u)
                nxt[b, j] += d * u
                rh[j] = r * hp[j]
                drh[j] = zero
            _back_affine(dgc, x, t, b, rh, ck, 0, H, dck, dcb, dx, need_x, drh)
            for j in range(H):
                r = g[j]
                dgg[j] = drh[j] * hp[j] * r * (one - r)
                nxt[b, j] += drh[j] * r
            _back_affine(dgg, x, t, b, hp, gk, 0, 2 * H, dgk, dgb, dx, need_x, nxt[b])
        dh[:] = nxt


@njit(**_JIT)
def grur_forward(x, gk, ck, gb, cb, brec, out, h, gates):  # pragma: no cover - compiled
    """GRUCell(reset_after=True), torch's and cuDNN's GRU: ``c = tanh(x ck_x + cb + r (h ck_h +
    brec))``. ``gates (T, B, 4H)`` keeps r, u, c and ``h ck_h + brec``."""
    T, B = x.shape[0], x.shape[1]
    H = h.shape[1]
    I = x.shape[2]
    one = _one(h)
    acc = np.empty(2 * H, dtype=h.dtype)
    h[:] = one * 0
    for t in range(T):
        for b in range(B):
            g = gates[t, b]
            _reset_update(x, t, b, h[b], gk, gb, acc, g)
            for j in range(H):
                sx = cb[j]
                for i in range(I):
                    sx += x[t, b, i] * ck[i, j]
                sh = brec[j]
                for i in range(H):
                    sh += h[b, i] * ck[I + i, j]
                g[3 * H + j] = sh
                g[2 * H + j] = _tanh(sx + g[j] * sh)
            for j in range(H):
                u = g[H + j]
                out[t, b, j] = u * h[b, j] + (one - u) * g[2 * H + j]
            for j in range(H):
                h[b, j] = out[t, b, j]


@njit(**_JIT)
def grur_backward(
    x, gk, ck, out, gates, dout, dh_last, need_x, dx, dgk, dck, dgb, dcb, dbrec
):  # pragma: no cover - compiled
    T, B = x.shape[0], x.shape[1]
    H = out.shape[2]
    I = x.shape[2]
    one = _one(dgk)
    zero = one * 0
    dh = dh_last.copy()  # the carried state gradient, C-contiguous
    dgg = np.empty(2 * H, dtype=dgk.dtype)
    nxt = np.zeros((B, H), dtype=dgk.dtype)
    h0 = np.zeros(H, dtype=dgk.dtype)
    for t in range(T - 1, -1, -1):
        nxt[:] = zero
        for b in range(B):
            g = gates[t, b]
            hp = out[t - 1, b] if t > 0 else h0
            for j in range(H):
                r, u, c, sh = g[j], g[H + j], g[2 * H + j], g[3 * H + j]
                d = dout[t, b, j] + dh[b, j]
                dgc = d * (one - u) * (one - c * c)
                dgg[H + j] = d * (hp[j] - c) * u * (one - u)
                dgg[j] = dgc * sh * r * (one - r)
                nxt[b, j] += d * u
                dcb[j] += dgc
                dsh = dgc * r
                dbrec[j] += dsh
                for i in range(I):
                    dck[i, j] += x[t, b, i] * dgc
                    if need_x:
                        dx[t, b, i] += dgc * ck[i, j]
                for i in range(H):
                    dck[I + i, j] += hp[i] * dsh
                    nxt[b, i] += dsh * ck[I + i, j]
            _back_affine(dgg, x, t, b, hp, gk, 0, 2 * H, dgk, dgb, dx, need_x, nxt[b])
        dh[:] = nxt
