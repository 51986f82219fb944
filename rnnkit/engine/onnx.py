r"""The fused engine under ``torch.onnx.export``: each layer becomes ONNX's own ``RNN``, ``LSTM`` or
``GRU`` operator, so the exported graph runs in any ONNX runtime with dynamic batch and time axes.

Shapes: T time, B batch, I input width, H units. The cells' parameters are re-laid out with torch
operations (exported as ONNX nodes on the parameters, folded by the runtime when it loads the graph):

- BasicRNNCell: ``W = kernel[:I]^T``, ``R = kernel[I:]^T``, ``B = [bias, 0]``; activation Tanh or Relu.
- BasicLSTMCell / LSTMCell: TF1's gate order i, j, f, o becomes ONNX's i, o, f, c (c is TF1's j), and
  ``forget_bias`` is added to the forget gate's input bias; peepholes ``P = [w_i, w_o, w_f]``.
- GRUCell: TF1's ``[r, u]`` and candidate become ONNX's z, r, h (z is TF1's u, and ONNX's
  ``H = (1 - z) h~ + z H_prev`` is TF1's ``u h + (1 - u) c``). ``reset_after=False`` is ONNX's
  ``linear_before_reset=0``; ``reset_after=True`` is ``linear_before_reset=1`` with
  ``candidate_recurrent_bias`` as the candidate's recurrent bias ``Rbh``.

Lengths go to the operators' ``sequence_lens`` (int32): ONNX writes zeros past a row's length and
returns the state after its last valid step, as TF1. A row of length 0 gets zeros from ONNX runtimes
rather than its initial state, so the final state is selected with ``Where(length > 0, Y_h, h0)``.

Example::

    torch.onnx.export(model, (x, lengths), "model.onnx", dynamic_shapes=...)   # dynamo exporter
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from rnnkit.cells import LSTMStateTuple
from rnnkit.engine import kinds

__all__ = ["run_layers", "onnx_weights", "rnn_weights", "lstm_weights", "gru_weights"]


def _zeros(like: Tensor, n: int) -> Tensor:
    return like.new_zeros(n)


def _blocks(m: Tensor, H: int, n: int) -> list[Tensor]:
    """The ``n`` blocks of width H on the last axis (slices, which the ONNX exporter folds)."""
    return [m[..., k * H : (k + 1) * H] for k in range(n)]


def onnx_weights(cell: Any) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
    """``(W (1, G*H, I), R (1, G*H, H), B (1, 2*G*H), P (1, 3H) or None)`` in ONNX's layout, by the
    cell's kind (:mod:`rnnkit.engine.kinds`)."""
    return kinds.of(cell).onnx_weights(cell)


def rnn_weights(cell: Any, kind: kinds.Kind) -> tuple[Tensor, Tensor, Tensor, None]:
    """A tanh or relu layer's ``(W, R, B, None)``."""
    I, H = cell.input_size, cell.num_units
    k, b = cell.kernel, cell.bias
    return k[:I].t()[None], k[I:].t()[None], torch.cat([b, _zeros(b, H)])[None], None


def lstm_weights(cell: Any, kind: kinds.Kind) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
    """An LSTM layer's ``(W, R, B, P)``; ``P`` None without peepholes."""
    I, H = cell.input_size, cell.num_units
    k, b = cell.kernel, cell.bias

    def iofc(m: Tensor) -> Tensor:  # TF1's i, j, f, o on the last axis -> ONNX's i, o, f, c
        i, j, f, o = _blocks(m, H, 4)
        return torch.cat([i, o, f, j], -1)

    i, j, f, o = _blocks(b, H, 4)
    wb = torch.cat([i, o, f + float(cell.forget_bias), j])
    p = None
    if not kind.zero_peepholes:
        p = torch.cat([cell.w_i_diag, cell.w_o_diag, cell.w_f_diag])[None]
    return (
        iofc(k[:I]).t()[None],
        iofc(k[I:]).t()[None],
        torch.cat([wb, _zeros(b, 4 * H)])[None],
        p,
    )


def gru_weights(cell: Any, kind: kinds.Kind) -> tuple[Tensor, Tensor, Tensor, None]:
    """A GRU layer's ``(W, R, B, None)``; with ``reset_after`` (``linear_before_reset=1``) the
    candidate's recurrent bias is ``candidate_recurrent_bias``, else zeros."""
    I, H = cell.input_size, cell.num_units
    gk, ck = cell.gates_kernel, cell.candidate_kernel

    def zrh(g: Tensor, c: Tensor) -> Tensor:  # TF1's [r | u] and candidate -> ONNX's z, r, h
        r, u = _blocks(g, H, 2)
        return torch.cat([u, r, c], -1)

    wb = zrh(cell.gates_bias, cell.candidate_bias)
    if kind.onnx_attrs["linear_before_reset"]:
        rb = torch.cat([_zeros(wb, 2 * H), cell.candidate_recurrent_bias])
    else:
        rb = _zeros(wb, 3 * H)
    return (
        zrh(gk[:I], ck[:I]).t()[None],
        zrh(gk[I:], ck[I:]).t()[None],
        torch.cat([wb, rb])[None],
        None,
    )


def _layer(cell: Any, x: Tensor, state: Any, seq: Tensor | None, live: Tensor | None):
    """One layer as an ONNX operator: ``x (T, B, I)`` -> ``(outputs (T, B, H), final state)``."""
    kind = kinds.of(cell)
    T, B, H = x.shape[0], x.shape[1], cell.num_units
    W, R, bias, P = kind.onnx_weights(cell)
    dt = x.dtype
    y_shape, s_shape = (T, 1, B, H), (1, B, H)
    attrs = {"hidden_size": H, **kind.onnx_attrs}
    if kind.lstm_state:
        c0, h0 = state
        y, h, c = torch.onnx.ops.symbolic_multi_out(
            kind.onnx_op, [x, W, R, bias, seq, h0[None], c0[None], P], attrs,
            dtypes=[dt, dt, dt], shapes=[y_shape, s_shape, s_shape],
        )  # fmt: skip
        h, c = h[0], c[0]
        if live is not None:
            h, c = torch.where(live, h, h0), torch.where(live, c, c0)
        return y[:, 0], LSTMStateTuple(c, h)
    y, h = torch.onnx.ops.symbolic_multi_out(
        kind.onnx_op, [x, W, R, bias, seq, state[None]], attrs, dtypes=[dt, dt],
        shapes=[y_shape, s_shape],
    )  # fmt: skip
    h = h[0]
    if live is not None:
        h = torch.where(live, h, state)
    return y[:, 0], h


def run_layers(
    cells: list[Any], x: Tensor, states: list[Any], lengths: Tensor | None
) -> tuple[Tensor, list[Any]]:
    """Run the checked layer cells on ``x (T, B, I)`` as ONNX operators (only inside
    ``torch.onnx.export``). Returns ``(outputs (T, B, H), [final state per layer])``."""
    if not hasattr(torch.onnx, "ops"):  # pragma: no cover - torch < 2.8
        raise RuntimeError(
            "exporting rnnkit's fused engine to ONNX needs torch >= 2.8 (torch.onnx.ops); "
            "run dynamic_rnn with engine='loop' to export an unrolled graph instead"
        )
    seq = live = None
    if lengths is not None:
        seq = lengths.to(torch.int32)
        live = (lengths > 0)[:, None]  # (B, 1): rows whose final state is the operator's
    finals = []
    for layer, s in zip(cells, states):
        x, s = _layer(layer, x, s, seq, live)
        finals.append(s)
    return x, finals
