r"""The fused engine on CUDA: torch's own fused RNN (cuDNN) with the cells' parameters re-laid out.

Shapes: T time, B batch, I input width, H units. Used by :func:`rnnkit.engine.dynamic_rnn_fused`
for CUDA tensors when every layer's math matches cuDNN's (``supports`` checks that):

- BasicRNNCell tanh/relu: ``w_ih = kernel[:I].T``, ``w_hh = kernel[I:].T``, ``b_ih = bias``, ``b_hh = 0``;
- BasicLSTMCell / LSTMCell without peepholes: TF's gate order i, j, f, o becomes torch's i, f, g, o,
  and ``forget_bias`` is folded into the forget gate's bias;
- GRUCell(reset_after=True): ``w_ih = [Wg[:I] | Wc[:I]].T``, ``w_hh = [Wg[I:] | Wc[I:]].T``,
  ``b_hh = [0, 0, candidate_recurrent_bias]`` (torch's z is rnnkit's u).

Lengths go through a packed sequence (rows of length 0 are run for one step and then reset to the
initial state and zero outputs), so rows past their length produce zeros and keep their state, as
TF1's ``dynamic_rnn``. The re-layout is made of differentiable torch ops, so gradients reach the cells'
own parameters. Nothing here is CUDA-specific: it runs on CPU tensors too (which is how it is tested
on machines without a GPU).

Example::

    y, (c, h) = dynamic_rnn_cudnn(cell, x_tbi.cuda(), lengths.cuda(), state)
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.cells import LSTMStateTuple
from rnnkit.engine import kinds

__all__ = ["run_layers", "torch_params"]


def torch_params(cell: Any) -> list[torch.Tensor]:
    """``[w_ih, w_hh, b_ih, b_hh]`` in torch's layout, built (differentiably) from the cell's
    parameters by its kind (:mod:`rnnkit.engine.kinds`); ValueError for a kind cuDNN has no
    formulation of."""
    return kinds.of(cell).cudnn_weights(cell)


def rnn_weights(cell: Any) -> list[torch.Tensor]:
    """A tanh or relu layer's weights (TF1's one bias is ``b_ih``)."""
    I, k = cell.input_size, cell.kernel
    return [k[:I].t(), k[I:].t(), cell.bias, torch.zeros_like(cell.bias)]


def lstm_weights(cell: Any) -> list[torch.Tensor]:
    """An LSTM layer's weights (no peepholes): TF1's gate order i, j, f, o to torch's i, f, g, o,
    ``forget_bias`` folded into the forget gate's bias."""
    I, H = cell.input_size, cell.num_units
    k, b = cell.kernel, cell.bias

    def order(m: torch.Tensor) -> torch.Tensor:  # i, j, f, o -> i, f, g(=j), o on the last axis
        i, j, f, o = m.split(H, -1)
        return torch.cat([i, f, j, o], -1)

    fb = torch.zeros_like(b)
    fb[H : 2 * H] = cell.forget_bias  # after reordering, the forget gate is the second block
    return [order(k[:I]).t(), order(k[I:]).t(), order(b) + fb, torch.zeros_like(b)]


def gru_reset_after_weights(cell: Any) -> list[torch.Tensor]:
    """A ``GRUCell(reset_after=True)`` layer's weights (torch's z is rnnkit's u)."""
    I = cell.input_size
    gk, ck = cell.gates_kernel, cell.candidate_kernel
    w_ih = torch.cat([gk[:I], ck[:I]], 1).t()  # (3H, I)
    w_hh = torch.cat([gk[I:], ck[I:]], 1).t()  # (3H, H)
    b_ih = torch.cat([cell.gates_bias, cell.candidate_bias])
    b_hh = torch.cat([torch.zeros_like(cell.gates_bias), cell.candidate_recurrent_bias])
    return [w_ih, w_hh, b_ih, b_hh]


def _run(kind: kinds.Kind, x: Any, batch_sizes: torch.Tensor | None, hx: Any, params: list):
    fn = getattr(torch._VF, kind.cudnn)
    if kind.lstm_state:  # torch's LSTM returns (out, h, c)
        if batch_sizes is None:
            out, h, c = fn(x, hx, params, True, 1, 0.0, False, False, False)
        else:
            out, h, c = fn(x, batch_sizes, hx, params, True, 1, 0.0, False, False)
        return out, (h, c)
    if batch_sizes is None:
        return fn(x, hx, params, True, 1, 0.0, False, False, False)
    return fn(x, batch_sizes, hx, params, True, 1, 0.0, False, False)


def _layer(cell: Any, kind: kinds.Kind, x: torch.Tensor, lengths: torch.Tensor | None, state: Any):
    """One layer: ``x (T, B, I)`` -> ``(outputs (T, B, H), final_state)``."""
    T = x.shape[0]
    params = kind.cudnn_weights(cell)
    if kind.lstm_state:
        hx: Any = (state.h.unsqueeze(0).contiguous(), state.c.unsqueeze(0).contiguous())
    else:
        hx = state.unsqueeze(0).contiguous()
    if lengths is None:
        out, hn = _run(kind, x, None, hx, params)
    else:
        packed = pack_padded_sequence(x, lengths.clamp(min=1).cpu(), enforce_sorted=False)
        sorted_idx, unsorted_idx = packed.sorted_indices, packed.unsorted_indices
        if kind.lstm_state:
            hx = tuple(t.index_select(1, sorted_idx) for t in hx)
        else:
            hx = hx.index_select(1, sorted_idx)
        out_data, hn = _run(kind, packed.data, packed.batch_sizes, hx, params)
        out, _ = pad_packed_sequence(
            PackedSequence(out_data, packed.batch_sizes, sorted_idx, unsorted_idx), total_length=T
        )
        if kind.lstm_state:
            hn = tuple(t.index_select(1, unsorted_idx) for t in hn)
        else:
            hn = hn.index_select(1, unsorted_idx)
    if kind.lstm_state:
        final: Any = LSTMStateTuple(hn[1][0], hn[0][0])
    else:
        final = hn[0]
    if lengths is not None:
        empty = (lengths == 0).unsqueeze(1)  # (B, 1): rows that never ran keep the initial state
        if bool(empty.any()):
            out = torch.where(empty.unsqueeze(0), torch.zeros_like(out), out)
            if kind.lstm_state:
                final = LSTMStateTuple(
                    torch.where(empty, state.c, final.c), torch.where(empty, state.h, final.h)
                )
            else:
                final = torch.where(empty, state, final)
    return out, final


def run_layers(cells: list[Any], x: torch.Tensor, states: list[Any], lengths: torch.Tensor | None):
    """``dynamic_rnn`` semantics on torch's fused RNN, layer by layer on ``x (T, B, I)``; returns
    ``(outputs, [final state per layer])``, like :func:`rnnkit.engine.autograd.run_layers`."""
    finals = []
    for layer, s in zip(cells, states):
        kind = kinds.of(layer)
        if kind is None or kind.cudnn is None:
            name = kind.name if kind is not None else None
            raise ValueError(f"no cuDNN formulation for {type(layer).__name__} ({name})")
        x, s = _layer(layer, kind, x, lengths, s)
        finals.append(s)
    return x, finals
