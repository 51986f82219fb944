r"""Compiled per-step loops of the fused engine (numba, ``cache=True``).

Shapes: B batch, T time steps, H units, G the number of gate blocks (1 tanh/relu, 4 LSTM, 3 GRU).
Every kernel works on C-contiguous numpy arrays of one floating dtype (float32 or float64); the caller
(:mod:`rnnkit.engine.cpu`) has validated shapes, dtypes and contiguity, and owns every buffer: nothing is
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

import os

import numpy as np
from numba import njit

from rnnkit.platform.compiled import JIT as _JIT
from rnnkit.platform.compiled import one as _one
from rnnkit.platform.compiled import sigmoid as _sigmoid
from rnnkit.platform.compiled import tanh as _tanh


@njit(**_JIT)
def gemm(a, b, out):  # pragma: no cover - compiled
    """``out = a @ b`` (BLAS gemm; ``a``/``b`` C- or F-contiguous, ``out`` C-contiguous)."""
    np.dot(a, b, out)


@njit(**_JIT)
def gemm_acc(a, b, out, scratch):  # pragma: no cover - compiled
    """``out += a @ b`` through ``scratch`` (same shape as ``out``)."""
    np.dot(a, b, scratch)
    out += scratch


@njit(**_JIT)
def project(x2, wx, xw2, rows):  # pragma: no cover - compiled
    """``xw2[:rows] = x2[:rows] @ wx`` (the input projection of all steps, bias added per step)."""
    if rows > 0:
        np.dot(x2[:rows], wx, xw2[:rows])


# ----------------------------------------------------------------------------- tanh / relu RNN
# Elementwise work is written as short loops over one row of H values with one activation each, so
# LLVM vectorises them; ``one`` is 1 in the arrays' dtype (float32 math stays float32).


@njit(**_JIT)
def rnn_forward(xw, bx, wh, h, lengths, tmax, relu, tmp):  # pragma: no cover - compiled
    """``h_t = act(xw[t] + b + h_{t-1} @ wh)``; ``xw (T, B, H)`` becomes the outputs; ``h`` in/out."""
    B, H = h.shape
    zero = _one(h) * 0
    for t in range(tmax):
        np.dot(h, wh, tmp)  # (B, H)
        for b in range(B):
            xr, hr, tr = xw[t, b], h[b], tmp[b]
            if t < lengths[b]:
                if relu:
                    for k in range(H):
                        v = xr[k] + bx[k] + tr[k]
                        v = zero if v < zero else v  # keeps NaN, as torch.relu does
                        xr[k] = v
                        hr[k] = v
                else:
                    for k in range(H):
                        v = _tanh(xr[k] + bx[k] + tr[k])
                        xr[k] = v
                        hr[k] = v
            else:
                xr[:] = zero
    xw[tmax:] = zero


@njit(**_JIT)
def rnn_backward(dout, out, wht, dh, lengths, t0, t1, relu, dg, tmp):  # pragma: no cover
    """BPTT over steps ``[t0, t1)``: ``dg[t - t0] = dL/d(pre-activation)``; ``dh (B, H)`` carry in/out."""
    B, H = dh.shape
    one = _one(dh)
    zero = one * 0
    for t in range(t1 - 1, t0 - 1, -1):
        tt = t - t0
        for b in range(B):
            d, go, o, c = dg[tt, b], dout[tt, b], out[t, b], dh[b]
            if t < lengths[b]:
                if relu:
                    for k in range(H):
                        d[k] = zero if o[k] <= zero else go[k] + c[k]  # NaN passes, as torch's
                else:
                    for k in range(H):
                        d[k] = (go[k] + c[k]) * (one - o[k] * o[k])
            else:
                d[:] = zero
        np.dot(dg[tt], wht, tmp)  # (B, H)
        for b in range(B):
            if t < lengths[b]:
                dh[b, :] = tmp[b]


# ----------------------------------------------------------------------------- LSTM
@njit(**_JIT)
def lstm_forward(
    xw, bx, wh, c, h, cs, out, lengths, tmax, forget_bias, wi, wf, wo, tmp
):  # pragma: no cover - compiled
    """Gate order i, j, f, o; without peepholes ``wi = wf = wo = 0``.

    ``xw (tmax, B, 4H)`` (x @ W_x) becomes the activated gates; ``cs``/``out (T, B, H)``.
    """
    B, H = h.shape
    zero = _one(h) * 0
    for t in range(tmax):
        np.dot(h, wh, tmp)  # (B, 4H)
        for b in range(B):
            g, r, cr, hr = xw[t, b], tmp[b], c[b], h[b]
            if t < lengths[b]:
                for k in range(4 * H):
                    r[k] += g[k] + bx[k]
                for k in range(H):
                    g[k] = _sigmoid(r[k] + wi[k] * cr[k])
                for k in range(H):
                    g[H + k] = _tanh(r[H + k])
                for k in range(H):
                    g[2 * H + k] = _sigmoid(r[2 * H + k] + forget_bias + wf[k] * cr[k])
                for k in range(H):
                    cr[k] = g[2 * H + k] * cr[k] + g[k] * g[H + k]
                for k in range(H):
                    g[3 * H + k] = _sigmoid(r[3 * H + k] + wo[k] * cr[k])
                for k in range(H):
                    hr[k] = g[3 * H + k] * _tanh(cr[k])
                out[t, b, :] = hr
            else:
                out[t, b, :] = zero
            cs[t, b, :] = cr
    out[tmax:] = zero


@njit(**_JIT)
def lstm_backward(
    dout, gates, cs, c0, wht, dh, dc, lengths, t0, t1, wi, wf, wo, dg, tmp
):  # pragma: no cover - compiled
    """BPTT over ``[t0, t1)``; ``dg (Tc, B, 4H)``; carries ``dh``, ``dc (B, H)``.

    Peephole weight gradients are reductions of ``dg`` (``sum dpi * c_{t-1}`` ...), left to the caller.
    """
    B, H = dh.shape
    one = _one(dh)
    zero = one * 0
    for t in range(t1 - 1, t0 - 1, -1):
        tt = t - t0
        for b in range(B):
            d = dg[tt, b]
            if t < lengths[b]:
                gt, cn, go, dhr, dcr = gates[t, b], cs[t, b], dout[tt, b], dh[b], dc[b]
                cp = cs[t - 1, b] if t > 0 else c0[b]
                for k in range(H):  # output gate and the cell gradient
                    o = gt[3 * H + k]
                    ghd = go[k] + dhr[k]
                    tc = _tanh(cn[k])
                    dpo = ghd * tc * o * (one - o)
                    d[3 * H + k] = dpo
                    dcr[k] += ghd * o * (one - tc * tc) + dpo * wo[k]
                for k in range(H):  # input, candidate and forget gates
                    i = gt[k]
                    j = gt[H + k]
                    f = gt[2 * H + k]
                    gc = dcr[k]
                    dpi = gc * j * i * (one - i)
                    dpf = gc * cp[k] * f * (one - f)
                    d[k] = dpi
                    d[H + k] = gc * i * (one - j * j)
                    d[2 * H + k] = dpf
                    dcr[k] = gc * f + dpi * wi[k] + dpf * wf[k]
            else:
                d[:] = zero
        np.dot(dg[tt], wht, tmp)  # (B, H)
        for b in range(B):
            if t < lengths[b]:
                dh[b, :] = tmp[b]


# ----------------------------------------------------------------------------- GRU, TF1 (reset before)
@njit(**_JIT)
def gru_forward(xw, bx, wgh, wch, h, out, lengths, tmax, tmp2, rh, tmp1):  # pragma: no cover
    """``xw (tmax, B, 3H)`` = x @ [Wg | Wc] becomes [r, u, c]; ``rh``/``tmp1 (B, H)``, ``tmp2 (B, 2H)``."""
    B, H = h.shape
    one = _one(h)
    zero = one * 0
    for t in range(tmax):
        np.dot(h, wgh, tmp2)  # (B, 2H)
        for b in range(B):
            g, r2, hr, rr = xw[t, b], tmp2[b], h[b], rh[b]
            if t < lengths[b]:
                for k in range(2 * H):
                    g[k] = _sigmoid(g[k] + bx[k] + r2[k])
                for k in range(H):
                    rr[k] = g[k] * hr[k]
            else:
                rr[:] = zero
                g[:] = zero  # no raw projection (inf from padding) left for backward's r * h
        np.dot(rh, wch, tmp1)  # (B, H)
        for b in range(B):
            g, r1, hr = xw[t, b], tmp1[b], h[b]
            if t < lengths[b]:
                for k in range(H):
                    g[2 * H + k] = _tanh(g[2 * H + k] + bx[2 * H + k] + r1[k])
                for k in range(H):
                    u = g[H + k]
                    hr[k] = u * hr[k] + (one - u) * g[2 * H + k]
                out[t, b, :] = hr
            else:
                out[t, b, :] = zero
    out[tmax:] = zero


@njit(**_JIT)
def gru_backward(
    dout, out, gates, h0, wght, wcht, dh, lengths, t0, t1, dg, dpc, dgu, drh, acc
):  # pragma: no cover - compiled
    """BPTT over ``[t0, t1)``; ``dg (Tc, B, 3H)`` = d[pre r, pre u, pre c]; scratch (B, H)/(B, 2H)."""
    B, H = dh.shape
    one = _one(dh)
    zero = one * 0
    for t in range(t1 - 1, t0 - 1, -1):
        tt = t - t0
        for b in range(B):
            d = dg[tt, b]
            if t < lengths[b]:
                gt, go, dhr, pc, gu, ac = gates[t, b], dout[tt, b], dh[b], dpc[b], dgu[b], acc[b]
                hp = out[t - 1, b] if t > 0 else h0[b]
                for k in range(H):
                    u = gt[H + k]
                    cc = gt[2 * H + k]
                    ghd = go[k] + dhr[k]
                    p = ghd * (one - u) * (one - cc * cc)
                    pu = ghd * (hp[k] - cc) * u * (one - u)
                    pc[k] = p
                    d[2 * H + k] = p
                    d[H + k] = pu
                    gu[H + k] = pu
                    ac[k] = ghd * u
            else:
                dpc[b, :] = zero
        np.dot(dpc, wcht, drh)  # d(r*h) (B, H)
        for b in range(B):
            d = dg[tt, b]
            if t < lengths[b]:
                gt, dr, gu, ac = gates[t, b], drh[b], dgu[b], acc[b]
                hp = out[t - 1, b] if t > 0 else h0[b]
                for k in range(H):
                    r = gt[k]
                    pr = dr[k] * hp[k] * r * (one - r)
                    d[k] = pr
                    gu[k] = pr
                    ac[k] += dr[k] * r
            else:
                d[:] = zero
                dgu[b, :] = zero
        np.dot(dgu, wght, dpc)  # (B, H), dpc reused as scratch
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    dh[b, k] = acc[b, k] + dpc[b, k]


# ----------------------------------------------------------------------------- GRU, reset after
@njit(**_JIT)
def grur_forward(xw, bx, wh, brec, h, hcs, out, lengths, tmax, tmp):  # pragma: no cover
    """``c = tanh(xc + r * (h @ Wch + brec))``; ``xw (tmax, B, 3H)`` becomes [r, u, c]; ``hcs (tmax, B, H)``."""
    B, H = h.shape
    one = _one(h)
    zero = one * 0
    for t in range(tmax):
        np.dot(h, wh, tmp)  # (B, 3H)
        for b in range(B):
            g, r3, hr, hc = xw[t, b], tmp[b], h[b], hcs[t, b]
            if t < lengths[b]:
                for k in range(2 * H):
                    g[k] = _sigmoid(g[k] + bx[k] + r3[k])
                for k in range(H):
                    hc[k] = r3[2 * H + k] + brec[k]
                for k in range(H):
                    g[2 * H + k] = _tanh(g[2 * H + k] + bx[2 * H + k] + g[k] * hc[k])
                for k in range(H):
                    u = g[H + k]
                    hr[k] = u * hr[k] + (one - u) * g[2 * H + k]
                out[t, b, :] = hr
            else:
                out[t, b, :] = zero
    out[tmax:] = zero


@njit(**_JIT)
def grur_backward(
    dout, out, gates, hcs, h0, wht, dh, lengths, t0, t1, dg, drec, tmp
):  # pragma: no cover - compiled
    """``dg (Tc, B, 3H)`` = d[pre r, pre u, pre c (input side)]; ``drec (Tc, B, 3H)`` = d(h @ Wh)
    with the candidate part ``d(h @ Wch + brec)``, so ``dWh = sum_t h_{t-1}^T drec_t`` is one matmul."""
    B, H = dh.shape
    one = _one(dh)
    zero = one * 0
    for t in range(t1 - 1, t0 - 1, -1):
        tt = t - t0
        for b in range(B):
            d, dr = dg[tt, b], drec[tt, b]
            if t < lengths[b]:
                gt, hc, go, dhr = gates[t, b], hcs[t, b], dout[tt, b], dh[b]
                hp = out[t - 1, b] if t > 0 else h0[b]
                for k in range(H):
                    r = gt[k]
                    u = gt[H + k]
                    cc = gt[2 * H + k]
                    ghd = go[k] + dhr[k]
                    pc = ghd * (one - u) * (one - cc * cc)
                    pu = ghd * (hp[k] - cc) * u * (one - u)
                    pr = pc * hc[k] * r * (one - r)
                    phc = pc * r
                    d[k] = pr
                    d[H + k] = pu
                    d[2 * H + k] = pc
                    dr[k] = pr
                    dr[H + k] = pu
                    dr[2 * H + k] = phc
                    dhr[k] = ghd * u
            else:
                d[:] = zero
                dr[:] = zero
        np.dot(drec[tt], wht, tmp)  # (B, H)
        for b in range(B):
            if t < lengths[b]:
                for k in range(H):
                    dh[b, k] += tmp[b, k]


# ----------------------------------------------------------------------------- oneDNN's LSTM layout
# TF1's LSTM kernel ``(I + H, 4H)`` holds gate blocks ``i, j, f, o`` in its columns; torch's (and
# oneDNN's) LSTM wants ``w_ih (4H, I)``, ``w_hh (4H, H)`` with blocks ``i, f, g, o`` in their rows:
# a transpose that swaps blocks 1 and 2. One pass each way, in tiles so that both sides stay in cache.
# Tiles of 8x8: the best of 8-64 measured at H = 256 and 1024 (power-of-two strides thrash bigger
# ones); a block of n * H up to _ONE_TILE (32 KB) is one tile.
_TILE = 8
_ONE_TILE = 1 << 13


@njit(inline="always")
def _torch_block(k):
    return 3 - k if k == 1 or k == 2 else k  # TF block k <-> torch block (swaps j and f)


@njit(inline="always")
def _transpose(src, dst):  # pragma: no cover - compiled
    """``dst[i, j] = src[j, i]`` (views of one gate block each), writing rows of ``dst`` in order."""
    rows, cols = dst.shape
    if rows * cols <= _ONE_TILE:  # plain loops: 2x faster than tiles at H=64
        for i in range(rows):
            for j in range(cols):
                dst[i, j] = src[j, i]
        return
    for j0 in range(0, cols, _TILE):
        j1 = min(j0 + _TILE, cols)
        for i0 in range(0, rows, _TILE):
            for i in range(i0, min(i0 + _TILE, rows)):
                for j in range(j0, j1):
                    dst[i, j] = src[j, i]


@njit(**_JIT)
def lstm_tf_to_torch(kernel, bias, forget_bias, w_ih, w_hh, b_ih):  # pragma: no cover - compiled
    """``w_ih``, ``w_hh`` and ``b_ih`` (``bias`` with ``forget_bias`` added to the f block) in
    torch's layout from a TF1 LSTM's ``kernel`` and ``bias``."""
    I, H = w_ih.shape[1], w_hh.shape[1]
    for k in range(4):
        src, dst = k * H, _torch_block(k) * H
        add = forget_bias if k == 2 else bias.dtype.type(0)
        for u in range(H):
            b_ih[dst + u] = bias[src + u] + add
        _transpose(kernel[:I, src : src + H], w_ih[dst : dst + H])
        _transpose(kernel[I:, src : src + H], w_hh[dst : dst + H])


@njit(**_JIT)
def lstm_torch_to_tf(dw_ih, dw_hh, db_ih, dkernel, dbias):  # pragma: no cover - compiled
    """The gradients of :func:`lstm_tf_to_torch`'s outputs back in TF's layout."""
    I, H = dw_ih.shape[1], dw_hh.shape[1]
    for k in range(4):
        src, dst = _torch_block(k) * H, k * H
        for u in range(H):
            dbias[dst + u] = db_ih[src + u]
        _transpose(dw_ih[src : src + H], dkernel[:I, dst : dst + H])
        _transpose(dw_hh[src : src + H], dkernel[I:, dst : dst + H])


def cache_location() -> tuple[str, bool]:
    """Where numba keeps the compiled kernels, and whether that folder is writable."""
    path = rnn_forward._cache._cache_path
    return path, os.access(path, os.W_OK) if os.path.isdir(path) else False
