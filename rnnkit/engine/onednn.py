r"""LSTM layers on torch's own fused CPU LSTM (``torch.lstm``, which runs oneDNN's RNN primitive),
for the sizes where it is faster than the engine's compiled loop.

Why: on a CPU where torch's matrix multiplies run on MKL's slower path (AMD) and torch's OpenMP
workers keep spinning for milliseconds after each parallel op, the engine's loop gets one core for its
per-step products; oneDNN's LSTM runs inside torch's own thread pool with its own AVX-512 kernels and
uses both. Measured on the 2-core machine (below and docs/bench_engine.md): at B=128, T=28, I=28,
H=128 forward+backward 12.7 ms on the loop, 6.4 ms on torch's LSTM. Small layers stay on the loop,
which is faster there (torch's call costs more than their work).

Same math, TF1's: a ``BasicLSTMCell``/``LSTMCell`` (no peepholes) kernel ``(I + H, 4H)`` holds the
gates in TF's order ``i, j, f, o`` with ``forget_bias`` added to ``f`` at run time; torch's LSTM wants
``w_ih (4H, I)``, ``w_hh (4H, H)`` in the order ``i, f, g, o``. The engine's autograd node
(``rnnkit.engine.autograd._OneDNNLSTMFn``) calls torch's oneDNN layer and its backward directly
(``aten::mkldnn_rnn_layer``, ``aten::mkldnn_rnn_layer_backward``, the pair behind ``torch.lstm``'s
autograd on the CPU), reordering the weights on the way in (:func:`torch_weights`) and their
gradients on the way out (:func:`kernel_grads`) outside autograd: cheaper than recording the reorder
as autograd ops, and callable from the team's two threads for two halves of a batch at once.
:func:`reference` is the same layer in differentiable torch ops, for second derivatives. Rows that
all run the same number of steps only: ``sequence_length`` with different values keeps TF1's per-row
freezing on the loop. oneDNN reads dense tensors: every tensor handed to it is made contiguous first
(strided ones give wrong values).

Example::

    weights = torch_weights(cell.kernel, cell.bias, cell.forget_bias, keep=True)
    out, h, c, workspace = layer_forward(x, c0, h0, weights, train=True)   # x (T, B, I) dense
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnkit.engine import cpu, kinds
from rnnkit.engine import kernels as K

__all__ = [
    "big_enough",
    "takes",
    "torch_weights",
    "layer_forward",
    "layer_backward",
    "kernel_grads",
    "reference",
    "pad_steps",
    "dense",
    "MIN_MACS",
]

# A layer goes to torch's LSTM when its T*B*H*4H multiply-adds are at least MIN_MACS; below, torch's
# per-call overhead costs more than the loop. Measured on the 2-core machine (medians, ms, loop vs
# torch's LSTM, forward+backward / forward-only), (T, B, I, H) =
#   (20, 16, 16, 64)     0.48 vs 0.61  / 0.15 vs 0.19    (10, 8, 16, 32)      0.19 vs 0.38 / 0.06 vs 0.11
#   (20, 32, 32, 64)     0.88 vs 0.82  / 0.28 vs 0.26    (100, 32, 32, 64)    3.7 vs 2.5   / 1.2 vs 0.71
#   (28, 128, 28, 128)   12.7 vs 6.4   / 3.8 vs 1.7      (100, 64, 256, 512)  206 vs 206   / 64 vs 50
#   (200, 64, 128, 256)  126-174 vs 140-144 / 38 vs 28-30 (the loop's time there varies most)
#   (100, 64, 512, 1024) 719-836 vs 671-692 / 250 vs 199
MIN_MACS = 1 << 23
# Buffers of POOL_FROM bytes or more (weights in torch's layout, their gradients, dense copies of inputs
# and output gradients) are reused across calls (see dense()): at L, a call otherwise faulted ~17,000
# more fresh pages than torch's own layer (151,000 against 134,000; ~2 us each on this VM).
POOL_FROM = 1 << 22

_BLOCKS = [0, 2, 1, 3]  # TF's gate block k is torch's block _BLOCKS[k] (and back: it swaps j and f)
_LAYER = getattr(torch.ops.aten, "mkldnn_rnn_layer", None)
_LAYER_BACKWARD = getattr(torch.ops.aten, "mkldnn_rnn_layer_backward", None)
_MODE_LSTM = 2  # ideep::rnn_kind::LSTM


def available() -> bool:
    return (
        _LAYER is not None
        and torch.backends.mkldnn.is_available()
        and bool(torch.backends.mkldnn.enabled)
    )


def big_enough(T: int, B: int, H: int) -> bool:
    """Whether an LSTM layer of ``T`` steps, ``B`` rows and ``H`` units has MIN_MACS recurrent
    multiply-adds (the size rule of :func:`takes`, shared with the short dispatch)."""
    return T * B * H * 4 * H >= MIN_MACS


def takes(cell: Any, x: Tensor, lengths: np.ndarray | None, tmax: int) -> bool:
    """Whether the layer ``cell`` over ``x (T, B, I)`` with these ``lengths`` (None: every row runs
    all ``tmax`` steps) runs here: a kind whose record says so (an LSTM without peepholes), float32
    on the CPU, every row running all ``tmax`` steps, at least MIN_MACS."""
    if not big_enough(tmax, x.shape[1], cell.num_units):  # first: the one check small calls need
        return False
    kind = kinds.of(cell)
    if kind is None or not kind.onednn or x.dtype != torch.float32 or x.device.type != "cpu":
        return False
    if tmax == 0 or (lengths is not None and int(lengths.min()) < tmax):  # TF1's freezing
        return False
    return available()


# ------------------------------------------------------------------------------ TF <-> torch layout
def dense(shape: tuple[int, ...]) -> Tensor:
    """An uninitialised float32 CPU tensor that may leave the call; from POOL_FROM bytes up it comes
    from the engine's pool of buffers (``cpu.output_buffer``: reused once nothing references it), so
    that big layers do not fault fresh pages in on every call."""
    return torch.from_numpy(cpu.output_buffer(shape, np.float32, POOL_FROM))


def torch_weights(kernel: Tensor, bias: Tensor, forget_bias: float, keep: bool) -> list[Tensor]:
    """``[w_ih (4H, I), w_hh (4H, H), b_ih (4H,), b_hh (4H,)]`` for torch's LSTM from a TF1 LSTM's
    ``kernel (I + H, 4H)`` and ``bias (4H,)``, ``forget_bias`` folded into ``b_ih``'s ``f`` block:
    one compiled pass (``kernels.lstm_tf_to_torch``; 0.24 ms at I=128, H=256 and 5.2 ms at I=512,
    H=1024, where torch's gather and transposing copy took 0.4-0.9 and 12). Plain tensors (no
    autograd graph). ``keep``: the weights outlive the call (a graph's backward needs them), else
    they are the calling thread's scratch buffers, valid until its next call."""
    H = bias.shape[0] // 4
    n = kernel.shape[0]
    k, b = cpu.as_dense_array(kernel), cpu.as_dense_array(bias)
    if keep:
        w_ih, w_hh, b_ih = (dense(s).numpy() for s in ((4 * H, n - H), (4 * H, H), (4 * H,)))
    else:
        w_ih = cpu._scratch("lstm_w_ih", 4 * H, n - H, like=k)
        w_hh = cpu._scratch("lstm_w_hh", 4 * H, H, like=k)
        b_ih = cpu._scratch("lstm_b_ih", 4 * H, like=k)
    K.lstm_tf_to_torch(k, b, k.dtype.type(forget_bias), w_ih, w_hh, b_ih)
    return [torch.from_numpy(w) for w in (w_ih, w_hh, b_ih)] + [_zeros(4 * H)]


def _zeros(n: int) -> Tensor:
    """A float32 zeros ``(n,)`` that nothing writes to (torch's ``b_hh``; TF1 has one bias)."""
    z = _zero_biases.get(n)
    if z is None:
        z = _zero_biases[n] = torch.zeros(n)
    return z


_zero_biases: dict[int, Tensor] = {}


def kernel_grads(dw_ih: Tensor, dw_hh: Tensor, db_ih: Tensor) -> tuple[Tensor, Tensor]:
    """``(d kernel (I + H, 4H), d bias (4H,))`` in TF's layout from torch's weight gradients: one
    compiled pass (``kernels.lstm_torch_to_tf``; 5.3 ms at I=512, H=1024, where a transposing
    ``index_copy_`` per matrix took 9)."""
    H, I = dw_hh.shape[1], dw_ih.shape[1]
    dk, db = dense((I + H, 4 * H)), dense((4 * H,))
    dense_in = [cpu.as_dense_array(g) for g in (dw_ih, dw_hh, db_ih)]
    K.lstm_torch_to_tf(*dense_in, dk.numpy(), db.numpy())
    return dk, db


# ------------------------------------------------------------------------------ the layer, both ways
def layer_forward(x: Tensor, c0: Tensor, h0: Tensor, weights: list[Tensor], train: bool):
    """``(out (T, B, H), h, c, workspace)`` of torch's oneDNN LSTM layer on plain tensors. ``train``
    keeps the workspace that :func:`layer_backward` needs (oneDNN trains only in grad mode)."""
    H = h0.shape[1]
    with torch.set_grad_enabled(train):
        return _LAYER(
            x, *weights, h0, c0, False, [], _MODE_LSTM, H, 1, True, False, False, train
        )  # fmt: skip


def layer_backward(x, c0, h0, weights, out, h, c, workspace, g_out, g_h, g_c):
    """``(dx, dw_ih, dw_hh, db_ih, db_hh, dh0, dc0)`` of :func:`layer_forward`'s training run."""
    H = h0.shape[1]
    return _LAYER_BACKWARD(
        x, *weights, h0, c0, out, h, c, g_out, g_h, g_c, False, _MODE_LSTM, H, 1, True, True,
        False, [], False, workspace,
    )  # fmt: skip


def reference(x: Tensor, c0: Tensor, h0: Tensor, kernel: Tensor, bias: Tensor, forget_bias: float,
              tmax: int) -> tuple[Tensor, Tensor, Tensor]:  # fmt: skip
    """``(outputs (T, B, H), c, h)`` of one LSTM layer run for ``tmax`` steps, with torch ops that
    autograd differentiates (twice, too): what the engine's node (``rnnkit.engine.autograd``)
    recomputes for second derivatives. Outputs past ``tmax`` are zeros."""
    I, H = x.shape[2], bias.shape[0] // 4
    idx = torch.cat([torch.arange(k * H, (k + 1) * H, device=x.device) for k in _BLOCKS])
    kernel = kernel.index_select(1, idx)  # (I + H, 4H), torch's gate order
    forget = torch.zeros(4 * H, dtype=bias.dtype, device=bias.device)
    forget[H : 2 * H] = forget_bias
    weights = [kernel[:I].t(), kernel[I:].t(), bias.index_select(0, idx) + forget, forget * 0]
    steps = x if tmax == x.shape[0] else x[:tmax]
    out, h, c = torch.lstm(
        steps, (h0.unsqueeze(0), c0.unsqueeze(0)), weights, True, 1, 0.0, False, False, False
    )
    return pad_steps(out, x.shape[0]), c[0], h[0]


def pad_steps(y: Tensor, T: int) -> Tensor:
    """``y (tmax, ...)`` with zeros appended up to ``T`` steps."""
    if y.shape[0] == T:
        return y
    return torch.cat([y, y.new_zeros(T - y.shape[0], *y.shape[1:])])
