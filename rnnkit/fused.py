r"""``FusedRNN``: a multi-layer RNN module over the fused engine (counterpart of ``CudnnRNNTanh``/``CudnnLSTM``).

Shapes: T time, B batch, I input width, H ``num_units``, D directions (1 or 2), L ``num_layers``.

Each layer is an rnnkit cell (so its parameters are exactly the plain cell's, in TensorFlow's layout),
run by ``dynamic_rnn`` on the fused engine; layer ``l > 0`` reads the concatenated outputs
``(T, B, D*H)`` of layer ``l - 1``, with dropout between layers while training::

    for l in range(L):
        y_fw, s_fw = dynamic_rnn(cell_fw[l], x, lengths)            # (T, B, H)
        y_bw, s_bw = reversed dynamic_rnn(cell_bw[l], x, lengths)   # bidirectional only
        x = dropout(cat([y_fw, y_bw], -1)) if l < L - 1 else cat(...)

Modes: ``"tanh"``/``"relu"`` (BasicRNNCell), ``"lstm"`` (BasicLSTMCell with ``forget_bias``, default 0
as in cuDNN), ``"gru"`` (GRUCell with ``reset_after=True``, cuDNN's and torch's formulation).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from rnnkit._validation import (
    as_lengths,
    check_bool,
    check_choice,
    check_int_range,
    check_positive_int,
    check_real,
    invalid_type,
    invalid_value,
)
from rnnkit.cells import BasicLSTMCell, BasicRNNCell, GRUCell, RNNCell
from rnnkit.runners import bidirectional_dynamic_rnn, dynamic_rnn

__all__ = ["FusedRNN"]

MODES = ("tanh", "relu", "lstm", "gru")
MAX_LAYERS = 1024  # far past any stack trained in practice; more is a mistake that would hang here
DIRECTIONS = ("unidirectional", "bidirectional")


class FusedRNN(nn.Module):
    r"""A stack of ``num_layers`` recurrent layers run by the fused engine.

    Args:
        num_units: H, units per layer and direction.
        num_layers: L.
        mode: ``"tanh"``, ``"relu"``, ``"lstm"`` or ``"gru"``.
        direction: ``"unidirectional"`` or ``"bidirectional"`` (outputs concatenate fw and bw: ``2H``).
        dropout: probability of zeroing the inputs of layers ``1 .. L-1`` while training.
        input_size: I; when None the first layer's parameters stay uninitialized (see
            :mod:`rnnkit.cells`) until the first call or ``load_state_dict``.
        batch_first: inputs and outputs ``(B, T, .)`` instead of ``(T, B, .)``.
        forget_bias: added to the LSTM forget gate (cuDNN has none: default 0).

    ``forward(inputs, initial_state=None, sequence_lengths=None)`` returns ``(outputs, final_state)``:
    outputs ``(T, B, D*H)`` (zeros past each row's length) and a tuple of ``L*D`` cell states, in the
    order layer 0 fw, layer 0 bw, layer 1 fw, ... (``LSTMStateTuple(c, h)`` for LSTM, ``(B, H)`` else);
    ``initial_state`` takes the same structure (zeros when None).

    Example::

        rnn = FusedRNN(64, num_layers=2, mode="lstm", direction="bidirectional")
        y, states = rnn(torch.randn(100, 8, 32))     # y: (100, 8, 128), len(states) == 4
    """

    def __init__(
        self,
        num_units: int,
        num_layers: int = 1,
        mode: str = "tanh",
        direction: str = "unidirectional",
        dropout: float = 0.0,
        input_size: int | None = None,
        batch_first: bool = False,
        forget_bias: float = 0.0,
    ) -> None:
        super().__init__()
        self.num_units = check_positive_int("num_units", num_units)
        self.num_layers = check_int_range("num_layers", num_layers, 1, MAX_LAYERS)
        self.mode = check_choice("mode", mode, MODES)
        self.direction = check_choice("direction", direction, DIRECTIONS)
        self.dropout = check_real("dropout", dropout)
        if not 0.0 <= self.dropout < 1.0:
            raise invalid_value("dropout", "a probability in [0, 1)", dropout)
        self.batch_first = check_bool("batch_first", batch_first)
        self.forget_bias = check_real("forget_bias", forget_bias)
        if input_size is not None:
            input_size = check_positive_int("input_size", input_size)
        self.num_directions = 2 if self.direction == "bidirectional" else 1
        H, D = self.num_units, self.num_directions
        self.cells_fw = nn.ModuleList()
        self.cells_bw = nn.ModuleList()
        for layer in range(self.num_layers):
            width = input_size if layer == 0 else D * H
            self.cells_fw.append(self._make_cell(width))
            if D == 2:
                self.cells_bw.append(self._make_cell(width))

    def _make_cell(self, input_size: int | None) -> RNNCell:
        H = self.num_units
        if self.mode == "tanh":
            return BasicRNNCell(H, input_size=input_size)
        if self.mode == "relu":
            return BasicRNNCell(H, activation=torch.relu, input_size=input_size)
        if self.mode == "lstm":
            return BasicLSTMCell(H, forget_bias=self.forget_bias, input_size=input_size)
        return GRUCell(H, reset_after=True, input_size=input_size)

    @property
    def input_size(self) -> int | None:
        return self.cells_fw[0].input_size

    @property
    def output_size(self) -> int:
        return self.num_directions * self.num_units

    def layer_cells(self) -> list[RNNCell]:
        """The cells in state order: layer 0 fw, (layer 0 bw,) layer 1 fw, ..."""
        out: list[RNNCell] = []
        for layer in range(self.num_layers):
            out.append(self.cells_fw[layer])
            if self.num_directions == 2:
                out.append(self.cells_bw[layer])
        return out

    def forward(
        self, inputs: torch.Tensor, initial_state: Any = None, sequence_lengths: Any = None
    ) -> tuple[torch.Tensor, tuple[Any, ...]]:
        layout = "(B, T, I)" if self.batch_first else "(T, B, I)"
        if not isinstance(inputs, torch.Tensor):
            raise invalid_type("inputs", f"a rank-3 torch.Tensor {layout}", inputs)
        if inputs.dim() != 3:
            raise invalid_value("inputs", f"a rank-3 tensor {layout}", tuple(inputs.shape))
        x = inputs.transpose(0, 1) if self.batch_first else inputs  # (T, B, I)
        if sequence_lengths is not None:  # checked here, so that errors name this argument
            sequence_lengths = as_lengths(
                "sequence_lengths", sequence_lengths, x.shape[1], x.shape[0], x.device
            )
        n_states = self.num_layers * self.num_directions
        if initial_state is not None:
            if not isinstance(initial_state, (tuple, list)) or len(initial_state) != n_states:
                raise invalid_value(
                    "initial_state",
                    f"a tuple of {n_states} cell states (layer 0 fw, layer 0 bw, ...)",
                    f"{type(initial_state).__name__} of length "
                    f"{len(initial_state) if isinstance(initial_state, (tuple, list)) else '-'}",
                )
            init = list(initial_state)
        else:
            init = [None] * n_states
        finals: list[Any] = []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = nn.functional.dropout(x, self.dropout, training=True)
            if self.num_directions == 1:
                x, s = dynamic_rnn(
                    self.cells_fw[layer], x, sequence_length=sequence_lengths,
                    initial_state=init[layer], time_major=True,
                )  # fmt: skip
                finals.append(s)
            else:
                (y_fw, y_bw), (s_fw, s_bw) = bidirectional_dynamic_rnn(
                    self.cells_fw[layer], self.cells_bw[layer], x,
                    sequence_length=sequence_lengths, initial_state_fw=init[2 * layer],
                    initial_state_bw=init[2 * layer + 1], time_major=True,
                )  # fmt: skip
                x = torch.cat([y_fw, y_bw], -1)  # (T, B, 2H)
                finals += [s_fw, s_bw]
        outputs = x.transpose(0, 1) if self.batch_first else x
        return outputs, tuple(finals)

    def extra_repr(self) -> str:
        return (
            f"num_units={self.num_units}, num_layers={self.num_layers}, mode={self.mode!r}, "
            f"direction={self.direction!r}, dropout={self.dropout}, input_size={self.input_size}"
        )
