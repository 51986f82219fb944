r"""Compiled per-step loops of the fused engine (numba, ``cache=True``).

Shapes: B batch, T time steps, H units, G the number of gate blocks (1 tanh/relu, 4 LSTM, 3 GRU).
Every kernel works on C-contiguous numpy arrays of one floating dtype (float32 or float64); the caller
(:mod:`rnnkit._engine`) has validated shapes, dtypes and contiguity, and owns every buffer: nothing is
allocated inside the step loops. The recurrent product of each step is ``np.dot(a, b, out)``, which
numba lowers to a BLAS gemm (scipy's OpenBLAS through ``cython_blas``).

A row ``b`` is live at step ``t`` when ``t < lengths[b]``; dead rows write zero outputs, zero gate
gradients and keep their state (forward) or their carried gradient (backward). The input projection
``x @ W_x + b`` of all steps is computed by the caller as one matrix multiply and passed in ``xw``;
forward kernels overwrite it in place with what backward needs (activations), so the saved tensors are
no larger than the inputs of the kernels.

Backward kernels process a chunk of steps ``[t0, t1)`` from the end, writing the pre-activation gate
gradients ``dg`` of that chunk (from which the caller computes ``dx``, ``dW`` with large matmuls) and
updating the carried state gradients in place.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@njit(**_JIT)
def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


# ----------------------------------------------------------------------------- tanh / relu RNN
@njit(**_JIT)
def rnn_forward(xw, wh, h, lengths, tmax, relu, tmp):  # pragma: no cover - compiled
    """``h_t = act(xw[t] + h_{t-1} @ wh)``; ``xw (T, B, H)`` becomes the outputs; ``h (B, H)`` in/out."""
    B, H = h.shape
    for t in range(tmax):
        np.dot(h, wh, tmp)  # (B, H)
        xt = xw[t]
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    v = xt[b, k] + tmp[b, k]
                    if relu:
                        v = v if v > 0 else v * 0
                    else:
                        v = math.tanh(v)
                    xt[b, k] = v
                    h[b, k] = v
            else:
                for k in range(H):
                    xt[b, k] = 0


@njit(**_JIT)
def rnn_backward(dout, out, wht, dh, lengths, t0, t1, relu, dg, tmp):  # pragma: no cover
    """BPTT over steps ``[t0, t1)``: ``dg[t - t0] = dL/d(pre-activation)``; ``dh (B, H)`` carry in/out."""
    B, H = dh.shape
    for t in range(t1 - 1, t0 - 1, -1):
        tt = t - t0
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    g = dout[tt, b, k] + dh[b, k]
                    v = out[t, b, k]
                    if relu:
                        dg[tt, b, k] = g if v > 0 else g * 0
                    else:
                        dg[tt, b, k] = g * (1 - v * v)
            else:
                for k in range(H):
                    dg[tt, b, k] = 0
        np.dot(dg[tt], wht, tmp)  # (B, H)
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    dh[b, k] = tmp[b, k]


# ----------------------------------------------------------------------------- LSTM
@njit(**_JIT)
def lstm_forward(
    xw, wh, c, h, cs, out, lengths, tmax, forget_bias, peep, wi, wf, wo, tmp
):  # pragma: no cover
    """Gate order i, j, f, o. ``xw (T, B, 4H)`` becomes the activated gates; ``cs``/``out (T, B, H)``."""
    B, H = h.shape
    for t in range(tmax):
        np.dot(h, wh, tmp)  # (B, 4H)
        g = xw[t]
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    cp = c[b, k]
                    pi = g[b, k] + tmp[b, k]
                    pj = g[b, H + k] + tmp[b, H + k]
                    pf = g[b, 2 * H + k] + tmp[b, 2 * H + k] + forget_bias
                    po = g[b, 3 * H + k] + tmp[b, 3 * H + k]
                    if peep:
                        pi += wi[k] * cp
                        pf += wf[k] * cp
                    i = _sigmoid(pi)
                    j = math.tanh(pj)
                    f = _sigmoid(pf)
                    cn = f * cp + i * j
                    if peep:
                        po += wo[k] * cn
                    o = _sigmoid(po)
                    hn = o * math.tanh(cn)
                    g[b, k] = i
                    g[b, H + k] = j
                    g[b, 2 * H + k] = f
                    g[b, 3 * H + k] = o
                    cs[t, b, k] = cn
                    out[t, b, k] = hn
                    c[b, k] = cn
                    h[b, k] = hn
            else:
                for k in range(H):
                    out[t, b, k] = 0
                    cs[t, b, k] = c[b, k]


@njit(**_JIT)
def lstm_backward(
    dout, gates, cs, c0, wht, dh, dc, lengths, t0, t1, peep, wi, wf, wo, dpeep, dg, tmp
):  # pragma: no cover
    """BPTT over ``[t0, t1)``; ``dg (Tc, B, 4H)``; carries ``dh``, ``dc (B, H)``; ``dpeep (3, H)`` += i, f, o."""
    B, H = dh.shape
    for t in range(t1 - 1, t0 - 1, -1):
        tt = t - t0
        gt = gates[t]
        d = dg[tt]
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    i = gt[b, k]
                    j = gt[b, H + k]
                    f = gt[b, 2 * H + k]
                    o = gt[b, 3 * H + k]
                    cn = cs[t, b, k]
                    cp = cs[t - 1, b, k] if t > 0 else c0[b, k]
                    ghd = dout[tt, b, k] + dh[b, k]
                    tc = math.tanh(cn)
                    dpo = ghd * tc * o * (1 - o)
                    gc = dc[b, k] + ghd * o * (1 - tc * tc)
                    if peep:
                        gc += dpo * wo[k]
                    dpi = gc * j * i * (1 - i)
                    dpj = gc * i * (1 - j * j)
                    dpf = gc * cp * f * (1 - f)
                    gcp = gc * f
                    if peep:
                        gcp += dpi * wi[k] + dpf * wf[k]
                        dpeep[0, k] += dpi * cp
                        dpeep[1, k] += dpf * cp
                        dpeep[2, k] += dpo * cn
                    d[b, k] = dpi
                    d[b, H + k] = dpj
                    d[b, 2 * H + k] = dpf
                    d[b, 3 * H + k] = dpo
                    dc[b, k] = gcp
            else:
                for k in range(4 * H):
                    d[b, k] = 0
        np.dot(d, wht, tmp)  # (B, H)
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    dh[b, k] = tmp[b, k]


# ----------------------------------------------------------------------------- GRU, TF1 (reset before)
@njit(**_JIT)
def gru_forward(xw, wgh, wch, h, out, lengths, tmax, tmp2, rh, tmp1):  # pragma: no cover
    """``xw (T, B, 3H)`` = [x Wg + bg | x Wc + bc] becomes [r, u, c]; ``rh``/``tmp1 (B, H)``, ``tmp2 (B, 2H)``."""
    B, H = h.shape
    for t in range(tmax):
        np.dot(h, wgh, tmp2)  # (B, 2H)
        g = xw[t]
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    r = _sigmoid(g[b, k] + tmp2[b, k])
                    g[b, k] = r
                    g[b, H + k] = _sigmoid(g[b, H + k] + tmp2[b, H + k])
                    rh[b, k] = r * h[b, k]
            else:
                for k in range(H):
                    rh[b, k] = 0
        np.dot(rh, wch, tmp1)  # (B, H)
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    cc = math.tanh(g[b, 2 * H + k] + tmp1[b, k])
                    u = g[b, H + k]
                    g[b, 2 * H + k] = cc
                    hn = u * h[b, k] + (1 - u) * cc
                    out[t, b, k] = hn
                    h[b, k] = hn
            else:
                for k in range(H):
                    out[t, b, k] = 0


@njit(**_JIT)
def gru_backward(
    dout, out, gates, h0, wght, wcht, dh, lengths, t0, t1, dg, dpc, dgu, drh, acc
):  # pragma: no cover
    """BPTT over ``[t0, t1)``; ``dg (Tc, B, 3H)`` = d[pre r, pre u, pre c]; scratch (B, H)/(B, 2H)."""
    B, H = dh.shape
    for t in range(t1 - 1, t0 - 1, -1):
        tt = t - t0
        gt = gates[t]
        d = dg[tt]
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    u = gt[b, H + k]
                    cc = gt[b, 2 * H + k]
                    hp = out[t - 1, b, k] if t > 0 else h0[b, k]
                    ghd = dout[tt, b, k] + dh[b, k]
                    pc = ghd * (1 - u) * (1 - cc * cc)
                    pu = ghd * (hp - cc) * u * (1 - u)
                    dpc[b, k] = pc
                    d[b, 2 * H + k] = pc
                    d[b, H + k] = pu
                    dgu[b, H + k] = pu
                    acc[b, k] = ghd * u
            else:
                for k in range(H):
                    dpc[b, k] = 0
        np.dot(dpc, wcht, drh)  # d(r*h) (B, H)
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    r = gt[b, k]
                    hp = out[t - 1, b, k] if t > 0 else h0[b, k]
                    pr = drh[b, k] * hp * r * (1 - r)
                    d[b, k] = pr
                    dgu[b, k] = pr
                    acc[b, k] += drh[b, k] * r
            else:
                for k in range(3 * H):
                    d[b, k] = 0
                for k in range(2 * H):
                    dgu[b, k] = 0
        np.dot(dgu, wght, dpc)  # (B, H), dpc reused as scratch
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    dh[b, k] = acc[b, k] + dpc[b, k]


# ----------------------------------------------------------------------------- GRU, reset after
@njit(**_JIT)
def grur_forward(xw, wh, brec, h, hcs, out, lengths, tmax, tmp):  # pragma: no cover
    """``c = tanh(xc + r * (h @ Wch + brec))``; ``xw (T, B, 3H)`` becomes [r, u, c]; ``hcs (T, B, H)``."""
    B, H = h.shape
    for t in range(tmax):
        np.dot(h, wh, tmp)  # (B, 3H)
        g = xw[t]
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    r = _sigmoid(g[b, k] + tmp[b, k])
                    u = _sigmoid(g[b, H + k] + tmp[b, H + k])
                    hc = tmp[b, 2 * H + k] + brec[k]
                    cc = math.tanh(g[b, 2 * H + k] + r * hc)
                    g[b, k] = r
                    g[b, H + k] = u
                    g[b, 2 * H + k] = cc
                    hcs[t, b, k] = hc
                    hn = u * h[b, k] + (1 - u) * cc
                    out[t, b, k] = hn
                    h[b, k] = hn
            else:
                for k in range(H):
                    out[t, b, k] = 0


@njit(**_JIT)
def grur_backward(
    dout, out, gates, hcs, h0, wht, dh, lengths, t0, t1, dg, dhc, drec, tmp
):  # pragma: no cover
    """``dg (Tc, B, 3H)`` = d[pre r, pre u, pre c (input side)]; ``dhc (Tc, B, H)`` = d(h @ Wch + brec)."""
    B, H = dh.shape
    for t in range(t1 - 1, t0 - 1, -1):
        tt = t - t0
        gt = gates[t]
        d = dg[tt]
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    r = gt[b, k]
                    u = gt[b, H + k]
                    cc = gt[b, 2 * H + k]
                    hp = out[t - 1, b, k] if t > 0 else h0[b, k]
                    ghd = dout[tt, b, k] + dh[b, k]
                    pc = ghd * (1 - u) * (1 - cc * cc)
                    pu = ghd * (hp - cc) * u * (1 - u)
                    pr = pc * hcs[t, b, k] * r * (1 - r)
                    phc = pc * r
                    d[b, k] = pr
                    d[b, H + k] = pu
                    d[b, 2 * H + k] = pc
                    dhc[tt, b, k] = phc
                    drec[b, k] = pr
                    drec[b, H + k] = pu
                    drec[b, 2 * H + k] = phc
                    dh[b, k] = ghd * u
            else:
                for k in range(3 * H):
                    d[b, k] = 0
                    drec[b, k] = 0
                for k in range(H):
                    dhc[tt, b, k] = 0
        np.dot(drec, wht, tmp)  # (B, H)
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    dh[b, k] += tmp[b, k]
