r"""One record per cell kind the fused engine runs: everything a path needs to know about a kind.

A *kind* is a built-in leaf cell with one formulation: ``BasicRNNCell`` with tanh or relu, an LSTM
(``BasicLSTMCell``, ``LSTMCell`` without peepholes), an LSTM with peepholes
(``LSTMCell(use_peepholes=True)``), TF1's GRU (``GRUCell``) and the GRU with the reset gate applied
after the recurrent product (``GRUCell(reset_after=True)``). :func:`of` gives a cell's record (None:
not a kind the engine runs).

What a record holds, and which path reads it:

- ``gate_blocks`` G (the size rules: a layer's per-step product is ``B*H*G*H``);
- ``params``: the cell's parameter names in the order the kernels take them (the CPU kernels, the
  autograd Functions, the torch operators, the small path); LSTMs without peepholes also get three
  zero peephole vectors after them (``zero_peepholes``), since the LSTM kernels serve both;
- ``lstm_state``: the state is ``LSTMStateTuple(c, h)`` (kernels take and return ``c, h``), else
  one tensor ``(B, H)``;
- ``config(cell)``: the kernels' non-tensor arguments (relu or not; forget bias and peepholes);
- ``function``, ``operator``, ``small_kernels``, ``onnx_weights``, ``cudnn_weights``: the code of
  the kind in the modules that run it, named here and imported when the engine is
  (:func:`load_code`) or on first use (those modules need numba or a recent torch; this one needs
  neither);
- ``onnx_op``/``onnx_attrs``: ONNX's operator for the kind; ``cudnn``: torch's fused RNN function
  (``torch._VF``) whose math is the kind's, None where there is none;
- ``small``: whether the short dispatch (:mod:`rnnkit.engine.small`) runs it; ``onednn``: whether
  its layers may run on torch's oneDNN LSTM (:mod:`rnnkit.engine.onednn`);
- ``final_step``: its chunk step in the final-state loop (:mod:`rnnkit.engine.final`).

Adding a kind: a record here and its kernels (``docs/DESIGN.md``, "Adding a cell kind").

Example::

    kind = kinds.of(cell)                       # kinds.LSTM for a BasicLSTMCell
    weights = kind.weights(cell, x)             # (kernel, bias, zeros, zeros, zeros)
    out, c, h = kind.function.apply(kind.config(cell), x, c0, h0, *weights, lengths, tmax)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import torch

from rnnkit.cells import BasicLSTMCell, BasicRNNCell, GRUCell, LSTMCell, LSTMStateTuple

__all__ = [
    "Kind",
    "of",
    "load_code",
    "KINDS",
    "TANH",
    "RELU",
    "LSTM",
    "LSTM_PEEPHOLE",
    "GRU",
    "GRU_RESET_AFTER",
]


class _Code:
    """A function or class of another engine module, imported on first use."""

    __slots__ = ("module", "name", "_value")

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name, self._value = module, name, None

    def get(self) -> Any:
        if self._value is None:
            module = importlib.import_module(f"rnnkit.engine.{self.module}")
            self._value = getattr(module, self.name)
        return self._value


def _code(spec: str | None) -> _Code | None:
    if spec is None:
        return None
    module, name = spec.split(":")
    return _Code(module, name)


class Kind:
    """The record of one cell kind (see the module docstring for its fields)."""

    __slots__ = (
        "name", "gate_blocks", "params", "zero_peepholes", "lstm_state", "config", "_function",
        "_operator", "_small", "_onnx_weights", "onnx_op", "onnx_attrs", "cudnn",
        "_cudnn_weights", "onednn", "_final",
    )  # fmt: skip

    def __init__(
        self,
        name: str,
        *,
        gate_blocks: int,
        params: tuple[str, ...],
        lstm_state: bool,
        config: Callable[[Any], tuple],
        function: str,
        operator: str,
        onnx_op: str,
        onnx_attrs: dict[str, Any],
        onnx_weights: str,
        final: str,
        zero_peepholes: bool = False,
        small: str | None = None,
        cudnn: str | None = None,
        cudnn_weights: str | None = None,
        onednn: bool = False,
    ) -> None:
        self.name, self.gate_blocks, self.params = name, gate_blocks, params
        self.zero_peepholes, self.lstm_state, self.config = zero_peepholes, lstm_state, config
        self._function, self._operator = _code(function), _code(operator)
        self._small, self._onnx_weights = _code(small), _code(onnx_weights)
        self.onnx_op, self.onnx_attrs = onnx_op, onnx_attrs
        self.cudnn, self._cudnn_weights, self.onednn = cudnn, _code(cudnn_weights), onednn
        self._final = _code(final)

    def __repr__(self) -> str:
        return f"<cell kind {self.name}>"

    # ------------------------------------------------------------------ the kind's code elsewhere
    @property
    def function(self) -> Any:
        """The ``torch.autograd.Function`` of eager CPU calls (:mod:`rnnkit.engine.autograd`):
        ``apply(config, x, *state, *weights, lengths, tmax) -> (out, *state)``."""
        return self._function.get()

    @property
    def operator(self) -> Any:
        """The torch operator (``rnnkit::*_layer``, :mod:`rnnkit.engine.library`):
        ``(x, *state, *weights, lengths, *config) -> (out, *state, *saved for backward)``."""
        return self._operator.get()

    @property
    def operator_name(self) -> str:
        """The operator's name in the ``rnnkit`` namespace (``torch.ops.rnnkit.<name>``)."""
        return self._operator.name

    @property
    def small(self) -> bool:
        """Whether the short dispatch of small layers runs this kind."""
        return self._small is not None

    @property
    def small_kernels(self) -> Any:
        """``(forward, backward)`` of the short dispatch (:mod:`rnnkit.engine.small`)."""
        return self._small.get() if self._small is not None else None

    @property
    def final_step(self) -> Any:
        """The class of its chunk step in the final-state loop (:mod:`rnnkit.engine.final`):
        ``final_step(k, cell, width, x)``."""
        return self._final.get()

    def onnx_weights(self, cell: Any) -> tuple:
        """``(W, R, B, P or None)`` in ONNX's layout (:func:`rnnkit.engine.onnx.onnx_weights`)."""
        return self._onnx_weights.get()(cell, self)

    def cudnn_weights(self, cell: Any) -> list[torch.Tensor]:
        """``[w_ih, w_hh, b_ih, b_hh]`` in torch's layout (:mod:`rnnkit.engine.cuda`)."""
        if self._cudnn_weights is None:
            raise ValueError(f"no cuDNN formulation for {self.name!r}")
        return self._cudnn_weights.get()(cell)

    # ------------------------------------------------------------------ tensors of a layer
    @property
    def state_parts(self) -> int:
        """How many tensors the state is (``c, h`` for LSTMs)."""
        return 2 if self.lstm_state else 1

    def weights(self, cell: Any, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The tensors after the state in a kernel call: the cell's parameters in ``params`` order,
        and for an LSTM without peepholes one zeros ``(H,)`` thrice for the peephole weights."""
        out = tuple([getattr(cell, name) for name in self.params])
        if self.zero_peepholes:
            z = x.new_zeros(cell.num_units)
            out += (z, z, z)
        return out

    def unpack(self, state: Any) -> tuple[torch.Tensor, ...]:
        """A layer's state as the kernels take it: ``(c, h)`` or ``(h,)``."""
        return tuple(state) if self.lstm_state else (state,)  # an LSTMStateTuple, or (c, h)

    def pack(self, parts: Any) -> Any:
        """The kernels' ``(c, h)`` or ``(h,)`` as the cell's state."""
        return LSTMStateTuple(parts[0], parts[1]) if self.lstm_state else parts[0]


def _no_config(cell: Any) -> tuple:
    return ()


def _lstm_config(peepholes: bool) -> Callable[[Any], tuple]:
    return lambda cell: (float(cell.forget_bias), peepholes)


_GRU_PARAMS = ("gates_kernel", "candidate_kernel", "gates_bias", "candidate_bias")
_PEEPHOLES = ("w_i_diag", "w_f_diag", "w_o_diag")

TANH = Kind(
    "tanh", gate_blocks=1, params=("kernel", "bias"), lstm_state=False,
    config=lambda cell: (False,), function="autograd:RNNFunction", operator="library:rnn_layer",
    onnx_op="RNN", onnx_attrs={"activations": ["Tanh"]}, onnx_weights="onnx:rnn_weights",
    small="small:RNN_KERNELS", cudnn="rnn_tanh", cudnn_weights="cuda:rnn_weights",
    final="final:RNNStep",
)  # fmt: skip
RELU = Kind(
    "relu", gate_blocks=1, params=("kernel", "bias"), lstm_state=False,
    config=lambda cell: (True,), function="autograd:RNNFunction", operator="library:rnn_layer",
    onnx_op="RNN", onnx_attrs={"activations": ["Relu"]}, onnx_weights="onnx:rnn_weights",
    small="small:RNN_KERNELS", cudnn="rnn_relu", cudnn_weights="cuda:rnn_weights",
    final="final:RNNStep",
)  # fmt: skip
LSTM = Kind(
    "lstm", gate_blocks=4, params=("kernel", "bias"), zero_peepholes=True, lstm_state=True,
    config=_lstm_config(False), function="autograd:LSTMFunction", operator="library:lstm_layer",
    onnx_op="LSTM", onnx_attrs={}, onnx_weights="onnx:lstm_weights", small="small:LSTM_KERNELS",
    cudnn="lstm", cudnn_weights="cuda:lstm_weights", onednn=True, final="final:LSTMStep",
)  # fmt: skip
LSTM_PEEPHOLE = Kind(
    "lstm_peephole", gate_blocks=4, params=("kernel", "bias", *_PEEPHOLES), lstm_state=True,
    config=_lstm_config(True), function="autograd:LSTMFunction", operator="library:lstm_layer",
    onnx_op="LSTM", onnx_attrs={}, onnx_weights="onnx:lstm_weights", final="final:LSTMStep",
)  # fmt: skip
GRU = Kind(
    "gru", gate_blocks=3, params=_GRU_PARAMS, lstm_state=False, config=_no_config,
    function="autograd:GRUFunction", operator="library:gru_layer", onnx_op="GRU",
    onnx_attrs={"linear_before_reset": 0}, onnx_weights="onnx:gru_weights",
    small="small:GRU_KERNELS", final="final:GRUStep",
)  # fmt: skip
GRU_RESET_AFTER = Kind(
    "gru_reset_after", gate_blocks=3, params=(*_GRU_PARAMS, "candidate_recurrent_bias"),
    lstm_state=False, config=_no_config, function="autograd:GRUResetAfterFunction",
    operator="library:grur_layer", onnx_op="GRU", onnx_attrs={"linear_before_reset": 1},
    onnx_weights="onnx:gru_weights", small="small:GRU_RESET_AFTER_KERNELS", cudnn="gru",
    cudnn_weights="cuda:gru_reset_after_weights", final="final:GRUResetAfterStep",
)  # fmt: skip

KINDS = (TANH, RELU, LSTM, LSTM_PEEPHOLE, GRU, GRU_RESET_AFTER)


def load_code() -> None:
    """Import now the code every record names (what can be imported: numba or the operators may be
    missing), so that nothing is imported while ``torch.compile`` traces a call."""
    for kind in KINDS:
        for code in (kind._function, kind._operator, kind._small, kind._onnx_weights,
                     kind._cudnn_weights, kind._final):  # fmt: skip
            if code is not None:
                try:
                    code.get()
                except (ImportError, AttributeError):  # pragma: no cover - old torch or no numba
                    pass


def of(cell: Any) -> Kind | None:
    """The record of a built-in leaf cell, or None (a stack, a wrapper, a user-written cell, a
    BasicRNNCell with another activation)."""
    t = type(cell)
    if t is BasicRNNCell:
        name = cell.activation_name
        return TANH if name == "tanh" else RELU if name == "relu" else None
    if t is BasicLSTMCell:
        return LSTM
    if t is LSTMCell:
        return LSTM_PEEPHOLE if cell.use_peepholes else LSTM
    if t is GRUCell:
        return GRU_RESET_AFTER if cell.reset_after else GRU
    return None
