r"""Recurrent cells with TensorFlow 1.x's formulas and parameter layout.

Shapes: B batch, I input width, H ``num_units``. A cell maps one time step,
``cell(inputs (B, I), state) -> (output (B, H), new_state)``; the runners in :mod:`rnnkit.runners`
unroll it over time. Parameters belong to the cell object: calling the same cell twice shares its
weights, a new cell has new weights, and there is no global variable scope to collide in.

Parameters keep TensorFlow's layout so that checkpoints convert by renaming (see :mod:`rnnkit.interop`):
a ``kernel`` of shape ``(I + H, G * H)`` whose rows ``[:I]`` multiply the input and rows ``[I:]`` the
state, and a ``bias`` of shape ``(G * H,)``.

Lazy cells follow torch's lazy-module convention (``torch.nn.LazyLinear``): a cell made without
``input_size`` holds its parameters as ``torch.nn.parameter.UninitializedParameter`` objects, which
are materialised *in place* (the same objects become ordinary parameters) by ``build``, by the first
call, or by ``load_state_dict``. So ``cell.parameters()`` always lists every parameter, an optimizer
made before the first call trains them, and a state dict loads into a cell that was never called.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from numbers import Integral
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.nn.parameter import UninitializedParameter, UninitializedTensorMixin

from rnnkit import _nest
from rnnkit._validation import (
    check_bool,
    check_dtype,
    check_positive_int,
    check_rank,
    check_real,
    checked_init,
    invalid_type,
    invalid_value,
    missing_argument,
    refuse_jit_trace,
    to_tensor,
)
from rnnkit.platform import gemm, pointwise

__all__ = [
    "RNNCell",
    "BasicRNNCell",
    "BasicLSTMCell",
    "LSTMCell",
    "GRUCell",
    "LSTMStateTuple",
]

StateSize = Any  # int, LSTMStateTuple of ints, or a tuple of those
State = Any  # a tensor (B, H), LSTMStateTuple of tensors, or a tuple of those


class LSTMStateTuple(NamedTuple):
    """The state of an LSTM cell: memory ``c`` and hidden state ``h``, each ``(B, H)``."""

    c: Any
    h: Any

    @property
    def dtype(self) -> torch.dtype:
        return self.c.dtype


def _glorot_uniform_(tensor: torch.Tensor, generator: torch.Generator | None = None) -> None:
    fan_in, fan_out = tensor.shape[0], tensor.shape[-1]
    limit = (6.0 / (fan_in + fan_out)) ** 0.5
    with torch.no_grad():
        tensor.uniform_(-limit, limit, generator=generator)


def _initialize_(param: torch.Tensor, init: str) -> None:
    """Fill a freshly materialised parameter: TensorFlow's initialisers for each kind."""
    with torch.no_grad():
        if init == "glorot":
            _glorot_uniform_(param)
        elif init == "zeros":
            param.zero_()
        elif init == "ones":
            param.fill_(1.0)
        elif init == "peephole":  # TF draws these from a glorot-like uniform; keep them small
            limit = (3.0 / param.shape[0]) ** 0.5
            param.uniform_(-limit, limit)
        else:  # pragma: no cover - internal
            raise AssertionError(init)


_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh,
    "relu": torch.relu,
}


def _activation_name(fn: Callable[..., Any]) -> str | None:
    for name, known in _ACTIVATIONS.items():
        if fn is known or fn in (getattr(torch.nn.functional, name, None), getattr(torch, name)):
            return name
    return None


def is_lazy(p: Any) -> bool:
    """Whether ``p`` is an unbuilt (uninitialized) parameter; a plain isinstance, which
    torch.compile traces (torch.nn.parameter.is_lazy is not traceable)."""
    return isinstance(p, UninitializedTensorMixin)


class RNNCell(nn.Module):
    """Base class: one recurrent step with a lazily or eagerly known input width.

    Subclasses define ``state_size``, ``output_size``, ``_parameter_specs(input_size)`` (their own
    parameters' names, shapes and initialisers) and ``call(inputs, state)`` (the math, on validated
    arguments). ``forward`` validates, builds the cell on its first call when ``input_size`` was not
    given, then runs ``call``. Until it is built, ``input_size`` is None and the parameters are
    uninitialized (see the module's docstring).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # every cell's constructor names an argument it does not take, and the accepted ones
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_checks_arguments", False):
            cls.__init__ = checked_init(init)

    def __init__(self, input_size: int | None = None) -> None:
        super().__init__()
        self._input_size: int | None = None
        self._pending_input_size = (
            None if input_size is None else check_positive_int("input_size", input_size)
        )

    def _finish_init(self) -> None:
        """Called by subclasses at the end of ``__init__``: declare the parameters (uninitialized),
        then build now if the width is known."""
        for name in self._parameter_specs(1):
            # torch's own class, not a subclass with an rnnkit message: torch.compile special-cases
            # exactly this type, so a model compiled before its first call still traces.
            self.register_parameter(name, UninitializedParameter())
        if self._pending_input_size is not None:
            self.build(self._pending_input_size)

    # -- structure -------------------------------------------------------------------------------
    @property
    def state_size(self) -> StateSize:
        raise NotImplementedError

    @property
    def output_size(self) -> int:
        raise NotImplementedError

    @property
    def input_size(self) -> int | None:
        """I, the input width the cell is built for; None until it is built."""
        return self._input_size

    @property
    def built(self) -> bool:
        return self.input_size is not None

    def _param_dtype_device(self) -> tuple[torch.dtype | None, torch.device | None]:
        for p in self._parameters.values():  # fast path: a built cell's own parameters
            if p is not None and not is_lazy(p):
                return p.dtype, p.device
        for p in self.parameters():  # wrappers and stacks: their cells' parameters
            if not is_lazy(p):
                return p.dtype, p.device
        return None, None

    def build(self, input_size: int, dtype: torch.dtype | None = None, device: Any = None) -> None:
        """Create the parameters for inputs of width ``input_size`` (a no-op when already built).

        ``dtype``/``device`` default to the unbuilt parameters' (torch's default dtype, or what
        ``cell.to(...)`` set); the first call passes its inputs' dtype and device.
        """
        input_size = check_positive_int("input_size", input_size)
        if self.input_size is not None:
            if input_size != self.input_size:
                raise self._rebuild_error(input_size)
            return
        self._create_parameters(input_size, dtype, device)
        self._input_size = input_size

    def _rebuild_error(self, input_size: int) -> ValueError:
        return invalid_value(
            "input_size",
            f"input width {self.input_size}, the width {type(self).__name__} is already built for "
            "(its parameters are made once; make a new cell for inputs of another width)",
            input_size,
        )

    def _build_for(self, inputs: torch.Tensor) -> None:
        """Build for the width of ``inputs`` (B, ..., I), with their dtype and device; a cell
        built for another width names ``inputs``."""
        width = inputs.shape[-1]
        if self.input_size is not None and width != self.input_size:
            raise invalid_value(
                "inputs",
                f"input width {self.input_size} (the width {type(self).__name__} was built with)",
                width,
            )
        self.build(width, dtype=inputs.dtype, device=inputs.device)

    def _parameter_specs(self, input_size: int) -> dict[str, tuple[tuple[int, ...], str]]:
        """``{name: (shape, init)}`` of the cell's own parameters, in creation order.

        ``init`` is ``"glorot"``, ``"zeros"``, ``"ones"`` or ``"peephole"``. A leaf cell lists its
        input kernel ``(I + H, .)`` first (``load_state_dict`` reads ``I`` from its rows).
        """
        return {}

    def _size_argument(self) -> tuple[str, Any]:
        """The constructor argument that sets the parameters' size, and its value (for errors)."""
        return "num_units", getattr(self, "num_units", "?")

    def _create_parameters(self, input_size: int, dtype: torch.dtype | None, device: Any) -> None:
        """Materialise the declared parameters in place and initialise them. Parameters of more than
        half the memory available are refused before anything is allocated: the allocator may not
        refuse them, and the process would be killed once their pages are touched (their gradients
        alone would need as much again)."""
        specs = self._parameter_specs(input_size)
        name, value = self._size_argument()
        itemsize = torch.empty(0, dtype=dtype).element_size()
        nbytes = sum(math.prod(shape) for shape, _ in specs.values()) * itemsize
        memory = (
            _available_memory() if device is None or torch.device(device).type == "cpu" else None
        )
        if memory is not None and nbytes > memory // 2:
            raise invalid_value(
                name,
                f"a size whose parameters take at most half the memory available ({memory} bytes;"
                " their gradients need as much again)",
                f"{value} with input width {input_size}: {nbytes} bytes of parameters",
            )
        try:
            for pname, (shape, init) in specs.items():
                param = self._parameters[pname]
                if not is_lazy(param):  # pragma: no cover - internal
                    raise AssertionError(f"{pname} is already built")
                with torch.no_grad():
                    param.materialize(shape, device=device, dtype=dtype)
                    _initialize_(param, init)
        except (RuntimeError, MemoryError) as e:  # the allocator's error names no argument
            if not (isinstance(e, MemoryError) or "alloc" in str(e) or "overflow" in str(e)):
                raise
            raise invalid_value(
                name,
                "a size whose parameters fit in memory",
                f"{value} with input width {input_size} ({str(e).splitlines()[0][:120]})",
            ) from None

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ) -> None:
        # torch's LazyModuleMixin materialises each uninitialized parameter from the loaded shape;
        # a cell builds itself instead, so that input_size is set and the shapes stay consistent.
        if any(is_lazy(p) for p in self._parameters.values()):
            self._build_from_state_dict(state_dict, prefix, error_msgs)
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )

    def _build_from_state_dict(self, state_dict: Any, prefix: str, error_msgs: list[str]) -> None:
        """Build an unbuilt leaf cell for the width of its input kernel in ``state_dict``."""
        name, (shape, _) = next(iter(self._parameter_specs(1).items()))
        key, value = prefix + name, state_dict.get(prefix + name)
        if not isinstance(value, torch.Tensor) or is_lazy(value):
            return  # missing (torch's loader reports it) or saved unbuilt (stays unbuilt)
        H = shape[0] - 1  # the input kernel has I + H rows
        if value.dim() != len(shape) or value.shape[0] <= H or value.shape[1:] != shape[1:]:
            error_msgs.append(
                f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} from "
                f"checkpoint, the shape in current model is (I + {H}, "
                f"{', '.join(map(str, shape[1:]))}) for an input width I >= 1 "
                f"({type(self).__name__} is not built yet)."
            )
            return
        self.build(value.shape[0] - H)

    def _save_to_state_dict(self, destination, prefix, keep_vars) -> None:
        # As torch's LazyModuleMixin: an unbuilt parameter is saved as itself (it cannot be detached).
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = (
                    param if keep_vars or is_lazy(param) else param.detach()
                )
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()

    def zero_state(
        self, batch_size: int, dtype: torch.dtype | None = None, device: Any = None
    ) -> State:
        """A state of zeros for ``batch_size`` rows, in the structure of ``state_size``."""
        refuse_jit_trace("cells")
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (Integral, torch.SymInt))
            or batch_size < 0
        ):
            raise invalid_value("batch_size", "a non-negative integer", repr(batch_size))
        if not isinstance(batch_size, (int, torch.SymInt)):
            batch_size = int(batch_size)  # numpy integers (a SymInt stays symbolic for export)
        p_dtype, p_device = self._param_dtype_device()
        dtype = check_dtype("dtype", dtype) or p_dtype or torch.get_default_dtype()
        if device is not None:
            try:
                device = torch.device(device)
            except (RuntimeError, TypeError):
                raise invalid_value(
                    "device", "a torch device such as 'cpu' or 'cuda:0'", repr(device)
                ) from None
        device = device if device is not None else p_device
        try:
            return self._zeros(batch_size, dtype, device)
        except (RuntimeError, MemoryError) as e:  # the allocator's error names no argument
            if not (isinstance(e, MemoryError) or "alloc" in str(e) or "overflow" in str(e)):
                raise
            raise invalid_value(
                "batch_size", "a batch whose state fits in memory", repr(batch_size)
            ) from None

    def _zeros(self, batch_size: int, dtype: torch.dtype, device: Any) -> State:
        """:meth:`zero_state` on checked arguments (the runners call it for their own inputs'
        batch, dtype and device when a cell does not override ``zero_state``)."""
        size = self.state_size
        if isinstance(size, int):  # one (B, H) tensor: no walk of a structure
            return torch.zeros(batch_size, size, dtype=dtype, device=device)
        return _nest.map_structure(
            lambda n: torch.zeros(batch_size, n, dtype=dtype, device=device), size
        )

    def start_sequence(self) -> None:
        """Hook the runners call before each sequence (wrappers reset variational masks here)."""

    # -- running -----------------------------------------------------------------------------------
    def forward(self, inputs: Any = None, state: State = None) -> tuple[torch.Tensor, State]:
        refuse_jit_trace("cells")
        if inputs is None:
            raise missing_argument("inputs", "one time step's inputs, a tensor of shape (B, I)")
        if state is None:
            raise missing_argument(
                "state",
                f"the state {type(self).__name__} continues from, "
                f"{_state_description(self.state_size)}: `cell(inputs, "
                "cell.zero_state(batch_size))` for the first step (rnnkit.dynamic_rnn starts a "
                "whole sequence from zeros itself)",
            )
        p_dtype, p_device = self._param_dtype_device()
        x = to_tensor("inputs", inputs, dtype=p_dtype, device=p_device)
        check_rank("inputs", x, 2, "(B, I)")
        self._build_for(x)
        self.check_parameters(x.dtype, x.device)
        state = check_state("state", state, self.state_size, x.shape[0], x.dtype, x.device)
        return self.call(x, state)

    def check_parameters(self, dtype: torch.dtype, device: Any) -> None:
        """Every built parameter of this cell and of the cells it holds has the shape it declared
        and ``dtype``/``device`` (see :meth:`_check_parameters`); what calls and runners check."""
        for cell in self._cells_with_parameters():
            cell._check_parameters(dtype, device)

    def _cells_with_parameters(self) -> tuple[RNNCell, ...]:
        """This cell and the cells it holds (stacks and wrappers list theirs)."""
        return (self,)

    def _check_parameters(self, dtype: torch.dtype, device: torch.device) -> None:
        """Each parameter of this cell, once built (not those of the cells it holds), has the shape it
        was built with and the inputs' dtype and device: one replaced by hand may not, and the math
        would then fail with a torch error naming no argument, read past its end (the fused
        kernels), or broadcast a wrong-shaped bias silently. The one check of the loop, direct
        calls and the fused engine (``engine.layers.check_inputs``)."""
        own = self._parameters
        if all(p is None or is_lazy(p) for p in own.values()):
            return  # not built yet: build() makes them
        for name, (shape, _) in self._parameter_specs(self.input_size or 1).items():
            p = own.get(name)  # a parameter, or a tensor swapped in (functional calls)
            if not isinstance(p, torch.Tensor) or is_lazy(p) or tuple(p.shape) != shape:
                raise invalid_value(
                    f"cell.{name}",
                    f"a parameter of shape {shape} (what {type(self).__name__} was built with)",
                    f"shape {tuple(p.shape)}"
                    if isinstance(p, torch.Tensor) and not is_lazy(p)
                    else type(p).__name__,
                )
            if p.dtype != dtype or p.device != device:
                raise invalid_type("cell", f"parameters of dtype {dtype} on {device}", p)

    def call(self, inputs: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"num_units={getattr(self, 'num_units', '?')}, input_size={self.input_size}"


def _available_memory() -> int | None:
    """Bytes of memory available for new allocations: Linux's MemAvailable, else the physical
    memory where the OS says, else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # pragma: no cover - Windows
        return None


def check_cell(name: str, cell: Any) -> RNNCell:
    """``cell`` must be an rnnkit cell (``TypeError`` naming the argument otherwise)."""
    if not isinstance(cell, RNNCell):
        raise invalid_type(name, "an rnnkit cell (an RNNCell instance)", cell)
    return cell


def check_state(
    name: str, state: Any, state_size: StateSize, batch: int, dtype: torch.dtype, device: Any
) -> State:
    """Validate ``state`` against ``state_size`` and return it as tensors in the cell's structure."""
    if _nest.is_sequence(state_size):
        if not _nest.is_sequence(state) or isinstance(state, torch.Tensor):
            raise invalid_type(name, f"a structure like {_size_repr(state_size)}", state)
        if len(state) != len(state_size):
            raise invalid_value(
                name,
                f"{len(state_size)} parts in the structure {_size_repr(state_size)}",
                f"{len(state)} parts",
            )
        fields = getattr(state_size, "_fields", None)
        parts = [
            check_state(
                f"{name}.{fields[i]}" if fields else f"{name}[{i}]", s, size, batch, dtype, device
            )
            for i, (s, size) in enumerate(zip(state, state_size))
        ]
        return _nest.pack_sequence_as(state_size, parts) if fields else tuple(parts)
    t = to_tensor(name, state, dtype=dtype, device=device)
    if t.dim() != 2 or t.shape[0] != batch or t.shape[1] != state_size:
        raise invalid_value(name, f"shape ({batch}, {state_size})", f"shape {tuple(t.shape)}")
    return t


def _size_repr(state_size: StateSize) -> str:
    if isinstance(state_size, LSTMStateTuple):
        return f"LSTMStateTuple(c={state_size.c}, h={state_size.h})"
    if isinstance(state_size, tuple):
        parts = [_size_repr(s) for s in state_size]
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    return str(state_size)


def _state_description(state_size: StateSize) -> str:
    if isinstance(state_size, int):
        return f"a tensor of shape (B, {state_size})"
    return f"a structure like {_size_repr(state_size)} of tensors of shape (B, size)"


class BasicRNNCell(RNNCell):
    r"""The basic recurrent cell: :math:`h' = \mathrm{act}([x, h] W + b)`.

    Args:
        num_units: H, the width of the state and the output.
        activation: ``torch.tanh`` (default), ``torch.relu``, the strings ``"tanh"``/``"relu"``, or any
            elementwise callable (other callables run on the plain loop only).
        input_size: I, or ``None`` to infer it on the first call.

    Parameters: ``kernel (I + H, H)``, ``bias (H,)``. Output and state are both ``h' (B, H)``.

    Example::

        cell = BasicRNNCell(5)
        h = cell.zero_state(4)
        y, h = cell(torch.randn(4, 3), h)   # y: (4, 5)
    """

    def __init__(
        self,
        num_units: int,
        activation: Callable[[torch.Tensor], torch.Tensor] | str = torch.tanh,
        input_size: int | None = None,
    ) -> None:
        super().__init__(input_size)
        self.num_units = check_positive_int("num_units", num_units)
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise invalid_value(
                    "activation", f"one of {list(_ACTIVATIONS)} or a callable", repr(activation)
                )
            activation = _ACTIVATIONS[activation]
        if not callable(activation):
            raise invalid_type("activation", "a callable or 'tanh'/'relu'", activation)
        self.activation = activation
        self._finish_init()

    @property
    def activation_name(self) -> str | None:
        """``"tanh"``/``"relu"`` for those functions, else None; read from the live ``activation``
        attribute, so assigning another activation later also changes what the fused engine runs."""
        return _activation_name(self.activation)

    @property
    def state_size(self) -> int:
        return self.num_units

    @property
    def output_size(self) -> int:
        return self.num_units

    def _parameter_specs(self, input_size: int) -> dict[str, tuple[tuple[int, ...], str]]:
        H = self.num_units
        return {"kernel": ((input_size + H, H), "glorot"), "bias": ((H,), "zeros")}

    def call(self, inputs: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.activation(gemm.addmm(self.bias, torch.cat([inputs, state], 1), self.kernel))
        return h, h


class _LSTMBase(RNNCell):
    num_units: int
    _forget_bias: float

    @property
    def forget_bias(self) -> float:
        return self._forget_bias

    @forget_bias.setter
    def forget_bias(self, value: Any) -> None:  # checked when set later too: every engine reads it
        self._forget_bias = check_real("forget_bias", value)

    @property
    def state_size(self) -> LSTMStateTuple:
        return LSTMStateTuple(self.num_units, self.num_units)

    @property
    def output_size(self) -> int:
        return self.num_units

    def _parameter_specs(self, input_size: int) -> dict[str, tuple[tuple[int, ...], str]]:
        H = self.num_units
        return {"kernel": ((input_size + H, 4 * H), "glorot"), "bias": ((4 * H,), "zeros")}


class BasicLSTMCell(_LSTMBase):
    r"""TensorFlow 1.x's ``BasicLSTMCell`` (no peepholes), gate order i, j, f, o.

    .. math::
        [i, j, f, o] = [x, h] W + b, \quad
        c' = c \,\sigma(f + b_f) + \sigma(i) \tanh(j), \quad
        h' = \tanh(c')\, \sigma(o)

    where :math:`b_f` is ``forget_bias``. Parameters: ``kernel (I + H, 4H)``, ``bias (4H,)``.
    State: ``LSTMStateTuple(c, h)``, each ``(B, H)``; output ``h' (B, H)``.

    Example::

        cell = BasicLSTMCell(8)
        y, (c, h) = cell(torch.randn(2, 3), cell.zero_state(2))
    """

    def __init__(
        self, num_units: int, forget_bias: float = 1.0, input_size: int | None = None
    ) -> None:
        super().__init__(input_size)
        self.num_units = check_positive_int("num_units", num_units)
        self.forget_bias = forget_bias
        self._finish_init()

    def call(
        self, inputs: torch.Tensor, state: LSTMStateTuple
    ) -> tuple[torch.Tensor, LSTMStateTuple]:
        c, h = state
        gates = gemm.addmm(self.bias, torch.cat([inputs, h], 1), self.kernel)  # (B, 4H)
        new_c, new_h = pointwise.lstm(gates, c, self.forget_bias)
        return new_h, LSTMStateTuple(new_c, new_h)


class LSTMCell(_LSTMBase):
    r"""TensorFlow 1.x's ``LSTMCell``, optionally with peephole connections.

    Without peepholes it computes exactly what :class:`BasicLSTMCell` computes. With
    ``use_peepholes=True`` (parameters ``w_i_diag``, ``w_f_diag``, ``w_o_diag``, each ``(H,)``):

    .. math::
        c' = \sigma(f + b_f + w_f c)\, c + \sigma(i + w_i c) \tanh(j), \quad
        h' = \sigma(o + w_o c') \tanh(c')

    Example::

        cell = LSTMCell(8, use_peepholes=True)
        y, state = cell(torch.randn(2, 3), cell.zero_state(2))
    """

    def __init__(
        self,
        num_units: int,
        forget_bias: float = 1.0,
        use_peepholes: bool = False,
        input_size: int | None = None,
    ) -> None:
        super().__init__(input_size)
        self.num_units = check_positive_int("num_units", num_units)
        self.forget_bias = forget_bias
        self.use_peepholes = check_bool("use_peepholes", use_peepholes)
        self._finish_init()

    def _parameter_specs(self, input_size: int) -> dict[str, tuple[tuple[int, ...], str]]:
        specs = super()._parameter_specs(input_size)
        if self.use_peepholes:
            for name in ("w_f_diag", "w_i_diag", "w_o_diag"):
                specs[name] = ((self.num_units,), "peephole")
        return specs

    def call(
        self, inputs: torch.Tensor, state: LSTMStateTuple
    ) -> tuple[torch.Tensor, LSTMStateTuple]:
        c, h = state
        gates = gemm.addmm(self.bias, torch.cat([inputs, h], 1), self.kernel)  # (B, 4H)
        if self.use_peepholes:
            i, j, f, o = gates.chunk(4, 1)
            new_c = torch.sigmoid(f + self.forget_bias + self.w_f_diag * c) * c + torch.sigmoid(
                i + self.w_i_diag * c
            ) * torch.tanh(j)
            new_h = torch.sigmoid(o + self.w_o_diag * new_c) * torch.tanh(new_c)
        else:
            new_c, new_h = pointwise.lstm(gates, c, self.forget_bias)
        return new_h, LSTMStateTuple(new_c, new_h)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", use_peepholes={self.use_peepholes}"


class GRUCell(RNNCell):
    r"""Gated recurrent unit, in TensorFlow 1.x's formulation by default.

    .. math::
        [r, u] = \sigma([x, h] W_g + b_g), \qquad h' = u\, h + (1 - u)\, c

    ``reset_after=False`` (TensorFlow 1.x ``GRUCell``): the reset gate scales the state *before* the
    candidate's matmul, :math:`c = \tanh([x, r h] W_c + b_c)`.

    ``reset_after=True`` (the formulation of ``torch.nn.GRU`` and cuDNN): the reset gate scales the
    recurrent product *after* it, :math:`c = \tanh(x W_c[:I] + b_c + r (h W_c[I:] + b_{rec}))`, with an
    extra ``candidate_recurrent_bias`` :math:`b_{rec}`.

    Parameters: ``gates_kernel (I + H, 2H)``, ``gates_bias (2H,)`` (r then u; initialised to ones as
    in TensorFlow), ``candidate_kernel (I + H, H)``, ``candidate_bias (H,)``.

    Example::

        cell = GRUCell(8)
        y, h = cell(torch.randn(2, 3), cell.zero_state(2))
    """

    def __init__(
        self, num_units: int, reset_after: bool = False, input_size: int | None = None
    ) -> None:
        super().__init__(input_size)
        self.num_units = check_positive_int("num_units", num_units)
        self.reset_after = check_bool("reset_after", reset_after)
        self._finish_init()

    @property
    def state_size(self) -> int:
        return self.num_units

    @property
    def output_size(self) -> int:
        return self.num_units

    def _parameter_specs(self, input_size: int) -> dict[str, tuple[tuple[int, ...], str]]:
        H = self.num_units
        specs = {
            "gates_kernel": ((input_size + H, 2 * H), "glorot"),
            "gates_bias": ((2 * H,), "ones"),
            "candidate_kernel": ((input_size + H, H), "glorot"),
            "candidate_bias": ((H,), "zeros"),
        }
        if self.reset_after:
            specs["candidate_recurrent_bias"] = ((H,), "zeros")
        return specs

    def call(self, inputs: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = state
        gates = torch.sigmoid(
            gemm.addmm(self.gates_bias, torch.cat([inputs, h], 1), self.gates_kernel)
        )
        r, u = gates.chunk(2, 1)
        if self.reset_after:
            I = self.input_size
            cand_x = gemm.addmm(self.candidate_bias, inputs, self.candidate_kernel[:I])
            cand_h = gemm.addmm(self.candidate_recurrent_bias, h, self.candidate_kernel[I:])
            c = torch.tanh(cand_x + r * cand_h)
        else:
            c = torch.tanh(
                gemm.addmm(
                    self.candidate_bias, torch.cat([inputs, r * h], 1), self.candidate_kernel
                )
            )
        new_h = u * h + (1 - u) * c
        return new_h, new_h

    def extra_repr(self) -> str:
        return super().extra_repr() + f", reset_after={self.reset_after}"
