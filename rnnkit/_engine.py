r"""The fused recurrent engine behind ``dynamic_rnn`` (CPU: numba kernels; CUDA: torch's cuDNN RNN).

Shapes: T time steps, B batch, I input width, H units, G gate blocks (1 tanh/relu, 4 LSTM, 3 GRU).

For each layer the engine computes, with one autograd node per layer::

    xw = x.reshape(T*B, I) @ W_x + b                    # all steps in ONE matmul      (T*B, G*H)
    for t in range(max(lengths)):                       # compiled loop (rnnkit._kernels)
        gates = xw[t] + h @ W_h                         # the only per-step matmul      (B, G*H)
        h, c, y[t] = cell_elementwise(gates, h, c)      # fused, rows past their length frozen

and backward runs back-propagation through time in the same compiled style, producing the gate
gradients ``dg (T, B, G*H)`` from which ``dx = dg @ W_x^T``, ``dW_x = x^T dg``, ``dW_h = h_{t-1}^T dg``
are large matrix multiplies (over chunks of steps, so memory stays bounded for very long sequences).
What is saved for backward is only what the formulas need: the outputs for tanh/relu, the activated
gates and cell states for LSTM, the gates (and the recurrent candidate for ``reset_after``) for GRU.

Parameters are the cells' own (``kernel[:I]`` is ``W_x``, ``kernel[I:]`` is ``W_h``), so the fused path
and the plain loop are interchangeable and gradients land on the cells' parameters.

Example::

    cell = BasicLSTMCell(64, input_size=32)
    x = torch.randn(100, 16, 32)                                 # (T, B, I)
    y, (c, h) = dynamic_rnn_fused(cell, x, None, cell.zero_state(16))
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnnkit import _kernels as K
from rnnkit._validation import invalid_type, invalid_value
from rnnkit.cells import BasicLSTMCell, BasicRNNCell, GRUCell, LSTMCell, LSTMStateTuple, check_state
from rnnkit.wrappers import MultiRNNCell

__all__ = ["supports", "dynamic_rnn_fused"]

# Backward processes at most this many gate-gradient elements per chunk of steps (bounds memory at
# 32 MiB in float32 while keeping the weight-gradient matmuls large).
CHUNK_ELEMENTS = 1 << 23

_FLOAT_DTYPES = (torch.float32, torch.float64)

# --------------------------------------------------------------------------------------- threads
_blas_threads: int | None = None


def _sync_blas_threads() -> None:
    """Give OpenBLAS (used by the kernels' per-step matmuls) torch's thread count, once per change."""
    global _blas_threads
    n = torch.get_num_threads()
    if n == _blas_threads:
        return
    try:
        from threadpoolctl import ThreadpoolController

        ThreadpoolController().select(internal_api="openblas").limit(limits=n)
    except Exception:  # pragma: no cover - threadpoolctl missing or an exotic BLAS
        pass
    _blas_threads = n


# --------------------------------------------------------------------------------------- support
def _cell_kind(cell: Any) -> str | None:
    t = type(cell)
    if t is BasicRNNCell:
        return {"tanh": "tanh", "relu": "relu"}.get(cell.activation_name)
    if t is BasicLSTMCell:
        return "lstm"
    if t is LSTMCell:
        return "lstmp" if cell.use_peepholes else "lstm"
    if t is GRUCell:
        return "grur" if cell.reset_after else "gru"
    return None


def _layers(cell: Any) -> list[Any] | None:
    """The flat list of supported layer cells, or None if any part is unsupported."""
    if type(cell) is MultiRNNCell:
        out: list[Any] = []
        for c in cell.cells:
            sub = _layers(c)
            if sub is None:
                return None
            out.extend(sub)
        return out
    return [cell] if _cell_kind(cell) is not None else None


def supports(cell: Any, inputs_tbi: torch.Tensor) -> bool:
    """Whether :func:`dynamic_rnn_fused` handles ``cell`` on ``inputs_tbi (T, B, I)``.

    CPU: BasicRNNCell (tanh, relu), BasicLSTMCell, LSTMCell (with or without peepholes), GRUCell (both
    formulations) and MultiRNNCell stacks of them, in float32 or float64. CUDA: the cells whose math
    matches torch's cuDNN RNN (tanh/relu, LSTM without peepholes, GRU with ``reset_after=True``).
    """
    if not isinstance(inputs_tbi, torch.Tensor) or inputs_tbi.dtype not in _FLOAT_DTYPES:
        return False
    if inputs_tbi.dim() != 3:
        return False
    layers = _layers(cell)
    if layers is None:
        return False
    if inputs_tbi.device.type == "cpu":
        return True
    if inputs_tbi.device.type == "cuda":
        return all(_cell_kind(c) in ("tanh", "relu", "lstm", "grur") for c in layers)
    return False


# --------------------------------------------------------------------------------------- helpers
def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


def _lengths_np(lengths: torch.Tensor | None, B: int, T: int) -> tuple[np.ndarray, int]:
    if lengths is None:
        return np.full(B, T, dtype=np.int64), T
    arr = np.ascontiguousarray(lengths.detach().cpu().numpy(), dtype=np.int64)
    tmax = int(min(max(int(arr.max()), 0), T)) if B else 0
    return arr, tmax


def _chunks(tmax: int, row_elems: int):
    """Yield ``(t0, t1)`` step ranges from the end, each with at most CHUNK_ELEMENTS gate gradients."""
    step = max(1, min(tmax, CHUNK_ELEMENTS // max(1, row_elems)))
    t1 = tmax
    while t1 > 0:
        t0 = max(0, t1 - step)
        yield t0, t1
        t1 = t0


def _input_projection(x: torch.Tensor, Wx: torch.Tensor, bx: torch.Tensor, tmax: int, rows: int):
    """``x[:tmax] @ Wx + bx`` as one matmul into a fresh ``(rows, B, G*H)`` buffer (rows >= tmax)."""
    T, B, I = x.shape
    GH = Wx.shape[1]
    xw = torch.empty(rows, B, GH, dtype=x.dtype)
    if tmax:
        torch.addmm(bx, x[:tmax].reshape(tmax * B, I), Wx, out=xw[:tmax].view(tmax * B, GH))
    if rows > tmax:
        xw[tmax:].zero_()
    return xw


class _Grads:
    """Accumulates the large-matmul gradients of one layer over backward chunks."""

    def __init__(self, ctx: Any, x: torch.Tensor, Wx: torch.Tensor, GH: int) -> None:
        T, B, I = x.shape
        self.x, self.Wx, self.B, self.I = x, Wx, B, I
        self.need_x, self.need_w = ctx.needs_input_grad[1], any(ctx.needs_input_grad[3:])
        self.dx = torch.zeros_like(x) if self.need_x else None
        self.dWx = torch.zeros_like(Wx) if self.need_w else None
        self.dbx = torch.zeros(GH, dtype=x.dtype) if self.need_w else None

    def add(self, t0: int, t1: int, dg: torch.Tensor) -> None:
        """``dg (Tc, B, G*H)``: gradients w.r.t. the input projection of steps ``[t0, t1)``."""
        n = (t1 - t0) * self.B
        dg2 = dg[: t1 - t0].reshape(n, -1)
        if self.need_x:
            torch.mm(dg2, self.Wx.t(), out=self.dx[t0:t1].view(n, self.I))
        if self.need_w:
            self.dWx.addmm_(self.x[t0:t1].reshape(n, self.I).t(), dg2)
            self.dbx.add_(dg2.sum(0))


def _prev_h(h0: torch.Tensor, out: torch.Tensor, t0: int, t1: int) -> torch.Tensor:
    """``h_{t-1}`` for t in ``[t0, t1)`` as ``((t1 - t0) * B, H)``; rows past their length unused."""
    if t0 > 0:
        hp = out[t0 - 1 : t1 - 1]
    else:
        hp = torch.cat([h0.unsqueeze(0), out[: t1 - 1]], 0)
    return hp.reshape(-1, hp.shape[-1])


def _dout(grad_out: torch.Tensor, t0: int, t1: int) -> np.ndarray:
    return _np(grad_out[t0:t1].contiguous())


# --------------------------------------------------------------------------------------- tanh/relu
class _RNNFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, relu, x, h0, Wx, bx, Wh, lengths, tmax):  # type: ignore[override]
        T, B, _ = x.shape
        H = Wh.shape[0]
        out = _input_projection(x, Wx, bx, tmax, T)  # (T, B, H), becomes the outputs
        h = h0.detach().clone()
        tmp = np.empty((B, H), dtype=_np(h).dtype)
        K.rnn_forward(_np(out), _np(Wh), _np(h), lengths, tmax, relu, tmp)
        ctx.relu, ctx.lengths, ctx.tmax = relu, lengths, tmax
        ctx.save_for_backward(x, h0, Wx, Wh, out)
        return out, h

    @staticmethod
    def backward(ctx, grad_out, grad_h):  # type: ignore[override]
        x, h0, Wx, Wh, out = ctx.saved_tensors
        B, H = h0.shape
        g = _Grads(ctx, x, Wx, H)
        dh = grad_h.detach().clone().contiguous()
        dWh = torch.zeros_like(Wh) if g.need_w else None
        wht = _np(Wh.t().contiguous())
        tmp = np.empty((B, H), dtype=wht.dtype)
        dg = None
        for t0, t1 in _chunks(ctx.tmax, B * H):
            if dg is None:
                dg = torch.empty(t1 - t0, B, H, dtype=x.dtype)
            dgn = _np(dg)
            K.rnn_backward(
                _dout(grad_out, t0, t1),
                _np(out),
                wht,
                _np(dh),
                ctx.lengths,
                t0,
                t1,
                ctx.relu,
                dgn,
                tmp,
            )
            g.add(t0, t1, dg)
            if g.need_w:
                dWh.addmm_(_prev_h(h0, out, t0, t1).t(), dg[: t1 - t0].reshape(-1, H))
        return None, g.dx, dh, g.dWx, g.dbx, dWh, None, None


# --------------------------------------------------------------------------------------- LSTM
class _LSTMFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, cfg, x, c0, h0, Wx, bx, Wh, wi, wf, wo, lengths, tmax):  # type: ignore[override]
        forget_bias, peep = cfg
        T, B, _ = x.shape
        H = Wh.shape[0]
        gates = _input_projection(x, Wx, bx, tmax, tmax)  # (tmax, B, 4H), becomes activations
        cs = torch.empty(tmax, B, H, dtype=x.dtype)
        out = torch.empty(T, B, H, dtype=x.dtype)
        out[tmax:].zero_()
        c, h = c0.detach().clone(), h0.detach().clone()
        dt = _np(h).dtype
        tmp = np.empty((B, 4 * H), dtype=dt)
        K.lstm_forward(
            _np(gates), _np(Wh), _np(c), _np(h), _np(cs), _np(out), lengths, tmax,
            dt.type(forget_bias), peep, _np(wi), _np(wf), _np(wo), tmp,
        )  # fmt: skip
        ctx.peep, ctx.lengths, ctx.tmax = peep, lengths, tmax
        ctx.save_for_backward(x, c0, h0, Wx, Wh, wi, wf, wo, gates, cs, out)
        return out, c, h

    @staticmethod
    def backward(ctx, grad_out, grad_c, grad_h):  # type: ignore[override]
        x, c0, h0, Wx, Wh, wi, wf, wo, gates, cs, out = ctx.saved_tensors
        B, H = h0.shape
        g = _Grads(ctx, x, Wx, 4 * H)
        dh = grad_h.detach().clone().contiguous()
        dc = grad_c.detach().clone().contiguous()
        dWh = torch.zeros_like(Wh) if g.need_w else None
        dpeep = torch.zeros(3, H, dtype=x.dtype)
        wht = _np(Wh.t().contiguous())
        tmp = np.empty((B, H), dtype=wht.dtype)
        dg = None
        for t0, t1 in _chunks(ctx.tmax, B * 4 * H):
            if dg is None:
                dg = torch.empty(t1 - t0, B, 4 * H, dtype=x.dtype)
            K.lstm_backward(
                _dout(grad_out, t0, t1), _np(gates), _np(cs), _np(c0), wht, _np(dh), _np(dc),
                ctx.lengths, t0, t1, ctx.peep, _np(wi), _np(wf), _np(wo), _np(dpeep), _np(dg), tmp,
            )  # fmt: skip
            g.add(t0, t1, dg)
            if g.need_w:
                dWh.addmm_(_prev_h(h0, out, t0, t1).t(), dg[: t1 - t0].reshape(-1, 4 * H))
        dwi, dwf, dwo = (dpeep[0], dpeep[1], dpeep[2]) if ctx.peep else (None, None, None)
        return None, g.dx, dc, dh, g.dWx, g.dbx, dWh, dwi, dwf, dwo, None, None


# --------------------------------------------------------------------------------------- GRU (TF1)
class _GRUFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, _cfg, x, h0, Wx, bx, Wgh, Wch, lengths, tmax):  # type: ignore[override]
        T, B, _ = x.shape
        H = Wch.shape[0]
        gates = _input_projection(x, Wx, bx, tmax, tmax)  # (tmax, B, 3H) -> r, u, c
        out = torch.empty(T, B, H, dtype=x.dtype)
        out[tmax:].zero_()
        h = h0.detach().clone()
        dt = _np(h).dtype
        tmp2, rh, tmp1 = np.empty((B, 2 * H), dt), np.zeros((B, H), dt), np.empty((B, H), dt)
        K.gru_forward(
            _np(gates), _np(Wgh), _np(Wch), _np(h), _np(out), lengths, tmax, tmp2, rh, tmp1
        )
        ctx.lengths, ctx.tmax = lengths, tmax
        ctx.save_for_backward(x, h0, Wx, Wgh, Wch, gates, out)
        return out, h

    @staticmethod
    def backward(ctx, grad_out, grad_h):  # type: ignore[override]
        x, h0, Wx, Wgh, Wch, gates, out = ctx.saved_tensors
        B, H = h0.shape
        g = _Grads(ctx, x, Wx, 3 * H)
        dh = grad_h.detach().clone().contiguous()
        dWgh = torch.zeros_like(Wgh) if g.need_w else None
        dWch = torch.zeros_like(Wch) if g.need_w else None
        wght, wcht = _np(Wgh.t().contiguous()), _np(Wch.t().contiguous())
        dt = wght.dtype
        dpc, dgu = np.empty((B, H), dt), np.empty((B, 2 * H), dt)
        drh, acc = np.empty((B, H), dt), np.empty((B, H), dt)
        dg = None
        for t0, t1 in _chunks(ctx.tmax, B * 3 * H):
            if dg is None:
                dg = torch.empty(t1 - t0, B, 3 * H, dtype=x.dtype)
            K.gru_backward(
                _dout(grad_out, t0, t1), _np(out), _np(gates), _np(h0), wght, wcht, _np(dh),
                ctx.lengths, t0, t1, _np(dg), dpc, dgu, drh, acc,
            )  # fmt: skip
            g.add(t0, t1, dg)
            if g.need_w:
                n = (t1 - t0) * B
                d = dg[: t1 - t0].reshape(n, 3 * H)
                hp = _prev_h(h0, out, t0, t1)  # (n, H)
                dWgh.addmm_(hp.t(), d[:, : 2 * H])
                rh = gates[t0:t1, :, :H].reshape(n, H) * hp  # r * h_{t-1}
                dWch.addmm_(rh.t(), d[:, 2 * H :])
        return None, g.dx, dh, g.dWx, g.dbx, dWgh, dWch, None, None


# --------------------------------------------------------------------------------------- GRU (after)
class _GRURFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, _cfg, x, h0, Wx, bx, Wh, brec, lengths, tmax):  # type: ignore[override]
        T, B, _ = x.shape
        H = Wh.shape[0]
        gates = _input_projection(x, Wx, bx, tmax, tmax)  # (tmax, B, 3H) -> r, u, c
        hcs = torch.empty(tmax, B, H, dtype=x.dtype)
        out = torch.empty(T, B, H, dtype=x.dtype)
        out[tmax:].zero_()
        h = h0.detach().clone()
        tmp = np.empty((B, 3 * H), _np(h).dtype)
        K.grur_forward(
            _np(gates), _np(Wh), _np(brec), _np(h), _np(hcs), _np(out), lengths, tmax, tmp
        )
        ctx.lengths, ctx.tmax = lengths, tmax
        ctx.save_for_backward(x, h0, Wx, Wh, gates, hcs, out)
        return out, h

    @staticmethod
    def backward(ctx, grad_out, grad_h):  # type: ignore[override]
        x, h0, Wx, Wh, gates, hcs, out = ctx.saved_tensors
        B, H = h0.shape
        g = _Grads(ctx, x, Wx, 3 * H)
        dh = grad_h.detach().clone().contiguous()
        dWh = torch.zeros_like(Wh) if g.need_w else None
        dbrec = torch.zeros(H, dtype=x.dtype) if g.need_w else None
        wht = _np(Wh.t().contiguous())
        dt = wht.dtype
        drec, tmp = np.empty((B, 3 * H), dt), np.empty((B, H), dt)
        dg = dhc = None
        for t0, t1 in _chunks(ctx.tmax, B * 4 * H):
            if dg is None:
                dg = torch.empty(t1 - t0, B, 3 * H, dtype=x.dtype)
                dhc = torch.empty(t1 - t0, B, H, dtype=x.dtype)
            K.grur_backward(
                _dout(grad_out, t0, t1), _np(out), _np(gates), _np(hcs), _np(h0), wht, _np(dh),
                ctx.lengths, t0, t1, _np(dg), _np(dhc), drec, tmp,
            )  # fmt: skip
            g.add(t0, t1, dg)
            if g.need_w:
                n = (t1 - t0) * B
                d = dg[: t1 - t0].reshape(n, 3 * H)
                dc = dhc[: t1 - t0].reshape(n, H)
                hp = _prev_h(h0, out, t0, t1)
                dWh[:, : 2 * H].addmm_(hp.t(), d[:, : 2 * H])
                dWh[:, 2 * H :].addmm_(hp.t(), dc)
                dbrec.add_(dc.sum(0))
        return None, g.dx, dh, g.dWx, g.dbx, dWh, dbrec, None, None


# --------------------------------------------------------------------------------------- layers
def _cpu_layer(cell: Any, x: torch.Tensor, state: Any, lengths: np.ndarray, tmax: int):
    """One layer on the CPU: ``x (T, B, I)`` contiguous -> ``(outputs (T, B, H), final_state)``."""
    I = x.shape[2]
    kind = _cell_kind(cell)
    if kind in ("tanh", "relu"):
        k = cell.kernel
        out, h = _RNNFn.apply(kind == "relu", x, state, k[:I], cell.bias, k[I:], lengths, tmax)
        return out, h
    if kind in ("lstm", "lstmp"):
        k = cell.kernel
        c0, h0 = state
        peep = kind == "lstmp"
        if peep:
            wi, wf, wo = cell.w_i_diag, cell.w_f_diag, cell.w_o_diag
        else:
            wi = wf = wo = x.new_zeros(cell.num_units)
        cfg = (float(cell.forget_bias), peep)
        out, c, h = _LSTMFn.apply(
            cfg, x, c0, h0, k[:I], cell.bias, k[I:], wi, wf, wo, lengths, tmax
        )
        return out, LSTMStateTuple(c, h)
    gk, ck = cell.gates_kernel, cell.candidate_kernel
    Wx = torch.cat([gk[:I], ck[:I]], 1)  # (I, 3H)
    bx = torch.cat([cell.gates_bias, cell.candidate_bias], 0)  # (3H,)
    if kind == "gru":
        return _GRUFn.apply(None, x, state, Wx, bx, gk[I:], ck[I:], lengths, tmax)
    Wh = torch.cat([gk[I:], ck[I:]], 1)  # (H, 3H)
    return _GRURFn.apply(None, x, state, Wx, bx, Wh, cell.candidate_recurrent_bias, lengths, tmax)


def _check_inputs(cell: Any, inputs_tbi: Any, lengths: Any) -> None:
    """Internal guard: nothing malformed reaches a kernel."""
    if not isinstance(inputs_tbi, torch.Tensor):
        raise invalid_type("inputs", "a torch.Tensor (T, B, I)", inputs_tbi)
    if inputs_tbi.dtype not in _FLOAT_DTYPES:
        raise invalid_type("inputs", "a float32 or float64 tensor", inputs_tbi)
    if inputs_tbi.dim() != 3:
        raise invalid_value(
            "inputs", "a rank-3 tensor (T, B, I)", f"shape {tuple(inputs_tbi.shape)}"
        )
    if _layers(cell) is None:
        raise invalid_value(
            "cell", "a cell the fused engine supports", f"{type(cell).__name__} (use engine='loop')"
        )
    if cell.input_size is None or inputs_tbi.shape[2] != cell.input_size:
        raise invalid_value(
            "inputs",
            f"input width {cell.input_size} (the width the cell was built with)",
            f"shape {tuple(inputs_tbi.shape)}",
        )
    for name, p in cell.named_parameters():
        if p.dtype != inputs_tbi.dtype or p.device != inputs_tbi.device:
            raise invalid_type(
                "cell", f"parameters of dtype {inputs_tbi.dtype} on {inputs_tbi.device}", p
            )
    if lengths is not None:
        if not isinstance(lengths, torch.Tensor) or lengths.dtype != torch.int64:
            raise invalid_type("sequence_length", "an int64 tensor (B,)", lengths)
        if tuple(lengths.shape) != (inputs_tbi.shape[1],):
            raise invalid_value(
                "sequence_length",
                f"shape ({inputs_tbi.shape[1]},)",
                f"shape {tuple(lengths.shape)}",
            )
        if lengths.device != inputs_tbi.device:
            raise invalid_value(
                "sequence_length", f"a tensor on {inputs_tbi.device}", f"device {lengths.device}"
            )


def dynamic_rnn_fused(
    cell: Any, inputs_tbi: torch.Tensor, lengths: torch.Tensor | None, initial_state: Any
) -> tuple[torch.Tensor, Any]:
    """Run a supported cell over time-major inputs with the fused engine.

    Args:
        cell: a built cell for which :func:`supports` is True (a MultiRNNCell runs layer by layer).
        inputs_tbi: ``(T, B, I)`` float32/float64; any strides (copied to contiguous if needed).
        lengths: ``None`` or an int64 ``(B,)`` tensor with ``0 <= lengths <= T``.
        initial_state: the cell's state structure for B rows (``LSTMStateTuple(c, h)`` for LSTMs).

    Returns:
        ``(outputs (T, B, H), final_state)`` with TF1 semantics: outputs past a row's length are zeros,
        its final state is the state after its last valid step.

    Example::

        cell = GRUCell(8, input_size=3)
        y, h = dynamic_rnn_fused(cell, torch.randn(5, 2, 3), None, cell.zero_state(2))
    """
    _check_inputs(cell, inputs_tbi, lengths)
    T, B, _ = inputs_tbi.shape
    state = check_state("initial_state", initial_state, cell.state_size, B, inputs_tbi.dtype,
                        inputs_tbi.device)  # fmt: skip
    if inputs_tbi.device.type == "cuda":
        from rnnkit import _engine_cuda

        return _engine_cuda.dynamic_rnn_cudnn(cell, inputs_tbi, lengths, state)
    if inputs_tbi.device.type != "cpu":
        raise invalid_value("inputs", "a CPU or CUDA tensor", f"device {inputs_tbi.device}")
    _sync_blas_threads()
    lengths_np, tmax = _lengths_np(lengths, B, T)
    layers = _layers(cell)
    states = _flatten_states(cell, state)  # one state per layer, like ``layers``
    x = inputs_tbi.contiguous()
    finals = []
    for layer, s in zip(layers, states):
        s = _contiguous_state(s)
        x, s = _cpu_layer(layer, x, s, lengths_np, tmax)
        finals.append(s)
    final = _rebuild_states(cell, iter(finals))
    return x, final


def _contiguous_state(s: Any) -> Any:
    if isinstance(s, LSTMStateTuple):
        return LSTMStateTuple(s.c.contiguous(), s.h.contiguous())
    return s.contiguous()


def _flatten_states(cell: Any, state: Any) -> list[Any]:
    if type(cell) is MultiRNNCell:
        out: list[Any] = []
        for c, s in zip(cell.cells, state):
            out.extend(_flatten_states(c, s))
        return out
    return [state]


def _rebuild_states(cell: Any, finals: Any) -> Any:
    if type(cell) is MultiRNNCell:
        return tuple(_rebuild_states(c, finals) for c in cell.cells)
    return next(finals)
