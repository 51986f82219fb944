"""Cells built from other cells: stacks and wrappers, as in TensorFlow 1.x's ``rnn_cell``.

Shapes: B batch, I input width, H the wrapped cell's output width.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from rnnkit import _nest
from rnnkit._validation import (
    check_bool,
    check_int_range,
    check_positive_int,
    check_probability,
    invalid_type,
    invalid_value,
)
from rnnkit.cells import RNNCell, State, StateSize, check_cell, is_lazy
from rnnkit.platform import gemm

__all__ = ["MultiRNNCell", "DropoutWrapper", "ResidualWrapper", "OutputProjectionWrapper"]


class MultiRNNCell(RNNCell):
    """A stack of cells: layer k's output is layer k+1's input.

    State: a tuple with one state per layer; output: the last layer's output ``(B, H_last)``.

    Example::

        stack = MultiRNNCell([BasicLSTMCell(16), GRUCell(8)])
        outputs, (lstm_state, gru_state) = dynamic_rnn(stack, torch.randn(4, 10, 3))
    """

    def __init__(self, cells: Sequence[RNNCell], input_size: int | None = None) -> None:
        super().__init__(input_size)
        if isinstance(cells, RNNCell) or not isinstance(cells, (list, tuple)):
            raise invalid_type("cells", "a non-empty list of rnnkit cells", cells)
        if len(cells) == 0:
            raise invalid_value("cells", "a non-empty list of rnnkit cells", "an empty list")
        self.cells = nn.ModuleList(check_cell(f"cells[{k}]", c) for k, c in enumerate(cells))
        first = self.cells[0].input_size
        if first is not None and self._pending_input_size is None:
            self._pending_input_size = first
        self._finish_init()
        self.register_load_state_dict_post_hook(_check_stack_after_load)

    @property
    def state_size(self) -> tuple[StateSize, ...]:
        return tuple(c.state_size for c in self.cells)

    @property
    def output_size(self) -> int:
        return self.cells[-1].output_size

    def _layers(self) -> tuple[RNNCell, ...]:
        # the layers without nn.Module's attribute lookup and the ModuleList's indexing: a one-step
        # call (a sampling loop's) reads them several times, and those two took 2.3 us a read
        return tuple(self._modules["cells"]._modules.values())

    @property
    def input_size(self) -> int | None:
        """The first layer's input width; None until every layer is built."""
        layers = self._layers()
        return layers[0].input_size if all(c.built for c in layers) else None

    def _param_dtype_device(self) -> tuple[torch.dtype | None, torch.device | None]:
        for cell in self._layers():  # the first layer with parameters, as parameters() finds it
            kind = cell._param_dtype_device()
            if kind != (None, None):
                return kind
        return None, None

    def build(self, input_size: int, dtype: torch.dtype | None = None, device: Any = None) -> None:
        input_size = check_positive_int("input_size", input_size)
        if self.input_size is not None and input_size != self.input_size:
            raise self._rebuild_error(input_size)
        layers = self._layers()
        width = input_size
        for k, cell in enumerate(layers):
            if cell.built and cell.input_size != width:
                raise invalid_value(
                    f"cells[{k}]",
                    f"a cell taking inputs of width {width} (the previous layer's output)",
                    f"a cell built for width {cell.input_size}",
                )
            cell.build(width, dtype, device)
            width = cell.output_size
        kinds = [c._param_dtype_device() for c in layers]
        if any(kind != kinds[0] for kind in kinds):
            raise invalid_value(
                "cells",
                "layers whose parameters share one dtype and device",
                ", ".join(f"cells[{k}] {d} on {v}" for k, (d, v) in enumerate(kinds)),
            )

    def start_sequence(self) -> None:
        for cell in self.cells:
            cell.start_sequence()

    def _cells_with_parameters(self) -> tuple[RNNCell, ...]:
        return tuple(c for cell in self.cells for c in cell._cells_with_parameters())

    def call(self, inputs: torch.Tensor, state: tuple[State, ...]) -> tuple[torch.Tensor, tuple]:
        new_states = []
        x = inputs
        for cell, s in zip(self.cells, state):
            x, s = cell.call(x, s)
            new_states.append(s)
        return x, tuple(new_states)

    def extra_repr(self) -> str:
        return f"input_size={self.input_size}"


def _check_stack_after_load(stack: MultiRNNCell, incompatible_keys: Any) -> None:
    """After ``load_state_dict``: the loaded layers' widths must chain (``ValueError`` otherwise)."""
    if stack.built:
        stack.build(stack.input_size)


class _Wrapper(RNNCell):
    """A cell that delegates its state to ``self.cell``."""

    def __init__(self, cell: RNNCell) -> None:
        super().__init__(None)
        self.cell = check_cell("cell", cell)

    @property
    def state_size(self) -> StateSize:
        return self.cell.state_size

    @property
    def output_size(self) -> int:
        return self.cell.output_size

    @property
    def input_size(self) -> int | None:
        return self.cell.input_size

    def build(self, input_size: int, dtype: torch.dtype | None = None, device: Any = None) -> None:
        self.cell.build(input_size, dtype, device)

    def _cells_with_parameters(self) -> tuple[RNNCell, ...]:
        return (self, *self.cell._cells_with_parameters())

    def start_sequence(self) -> None:
        self.cell.start_sequence()

    def extra_repr(self) -> str:
        return ""


class DropoutWrapper(_Wrapper):
    """Dropout on a cell's inputs, outputs and/or state (active only in training mode).

    ``*_keep_prob`` is the probability of keeping a unit (TensorFlow's convention); kept units are
    scaled by ``1 / keep_prob``. With ``variational_recurrent=True`` one mask per sequence is drawn at
    the first step of each run and reused at every step (Gal & Ghahramani), as TensorFlow does.
    In eval mode (``module.eval()``) the wrapper is the identity.

    Example::

        cell = DropoutWrapper(BasicLSTMCell(32), output_keep_prob=0.8)
    """

    def __init__(
        self,
        cell: RNNCell,
        input_keep_prob: float = 1.0,
        output_keep_prob: float = 1.0,
        state_keep_prob: float = 1.0,
        variational_recurrent: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__(cell)
        self.input_keep_prob = check_probability("input_keep_prob", input_keep_prob)
        self.output_keep_prob = check_probability("output_keep_prob", output_keep_prob)
        self.state_keep_prob = check_probability("state_keep_prob", state_keep_prob)
        self.variational_recurrent = check_bool("variational_recurrent", variational_recurrent)
        self._generator: torch.Generator | None = None
        if seed is not None:
            seed = check_int_range("seed", seed, 0, 2**64 - 1)
            self._generator = torch.Generator().manual_seed(seed)
        self._masks: dict[str, Any] = {}

    def start_sequence(self) -> None:
        self._masks = {}
        super().start_sequence()

    def _new_mask(self, like: torch.Tensor, keep: float) -> torch.Tensor:
        noise = torch.rand(like.shape, generator=self._generator, dtype=like.dtype)
        return (noise < keep).to(like.dtype).to(like.device) / keep

    def _mask(self, key: str, like: torch.Tensor, keep: float) -> torch.Tensor:
        if self.variational_recurrent and key in self._masks:
            mask = self._masks[key]
            if mask.shape == like.shape:  # a new batch size (direct calls) draws a new mask
                return mask
        mask = self._new_mask(like, keep)
        if self.variational_recurrent:
            self._masks[key] = mask
        return mask

    def drop_sequence(self, where: str, x: torch.Tensor) -> torch.Tensor:
        """Input (``where="input"``) or output dropout of a whole time-major sequence ``(T, B, W)``,
        as the step-by-step calls apply it: a fresh mask per step (drawn in step order, so with a
        ``seed`` and input dropout alone the masks are the loop's), or one mask per sequence with
        ``variational_recurrent``. The fused engine's path; the identity in eval mode."""
        keep = self.input_keep_prob if where == "input" else self.output_keep_prob
        if keep >= 1.0 or not self.training:
            return x
        return x * self._new_mask(x[0] if self.variational_recurrent else x, keep)

    def _drop(self, key: str, x: Any, keep: float) -> Any:
        if keep >= 1.0 or not self.training:
            return x
        leaves = _nest.flatten(x)
        dropped = [leaf * self._mask(f"{key}{i}", leaf, keep) for i, leaf in enumerate(leaves)]
        return _nest.pack_sequence_as(x, dropped) if _nest.is_sequence(x) else dropped[0]

    def call(self, inputs: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        inputs = self._drop("input", inputs, self.input_keep_prob)
        output, new_state = self.cell.call(inputs, state)
        new_state = self._drop("state", new_state, self.state_keep_prob)
        output = self._drop("output", output, self.output_keep_prob)
        return output, new_state


class ResidualWrapper(_Wrapper):
    """Adds the step's input to the cell's output: ``y = cell(x, s).output + x`` (widths must match).

    Example::

        cell = ResidualWrapper(GRUCell(8))   # inputs must have width 8
    """

    def build(self, input_size: int, dtype: torch.dtype | None = None, device: Any = None) -> None:
        if input_size != self.cell.output_size:
            raise invalid_value(
                "inputs",
                f"input width {self.cell.output_size} (ResidualWrapper adds the input to the "
                "wrapped cell's output, so the widths must match)",
                input_size,
            )
        super().build(input_size, dtype, device)

    def call(self, inputs: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        output, new_state = self.cell.call(inputs, state)
        return output + inputs, new_state


class OutputProjectionWrapper(_Wrapper):
    """Projects the cell's output linearly: ``y = cell(x, s).output @ kernel + bias``.

    Parameters: ``kernel (H, output_size)``, ``bias (output_size,)``; the state is the wrapped cell's.

    Example::

        cell = OutputProjectionWrapper(BasicLSTMCell(32), output_size=1)
    """

    def __init__(self, cell: RNNCell, output_size: int) -> None:
        self._projection_size = check_positive_int("output_size", output_size)
        super().__init__(cell)
        self._finish_init()  # kernel and bias, uninitialized until the wrapped cell is built
        if cell.built:
            self._build_projection()

    @property
    def output_size(self) -> int:
        return self._projection_size

    @property
    def input_size(self) -> int | None:
        return None if is_lazy(self.kernel) else self.cell.input_size

    def _parameter_specs(self, input_size: int) -> dict[str, tuple[tuple[int, ...], str]]:
        P = self._projection_size
        return {"kernel": ((self.cell.output_size, P), "glorot"), "bias": ((P,), "zeros")}

    def _size_argument(self) -> tuple[str, Any]:
        return "output_size", self._projection_size

    def _build_projection(self) -> None:
        dtype, device = self.cell._param_dtype_device()  # the wrapped cell's
        self._create_parameters(self.cell.input_size, dtype, device)

    def _build_from_state_dict(self, state_dict: Any, prefix: str, error_msgs: list[str]) -> None:
        # The projection's shapes do not depend on the input width: materialise it as it is
        # declared; torch's loader then checks the shapes. The wrapped cell builds itself.
        value = state_dict.get(prefix + "kernel")
        if isinstance(value, torch.Tensor) and not is_lazy(value):
            self._create_parameters(1, None, None)

    def build(self, input_size: int, dtype: torch.dtype | None = None, device: Any = None) -> None:
        super().build(input_size, dtype, device)
        if is_lazy(self.kernel):
            self._build_projection()

    def call(self, inputs: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        output, new_state = self.cell.call(inputs, state)
        return gemm.addmm(self.bias, output, self.kernel), new_state
