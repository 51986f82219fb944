"""``tf.nn.rnn_cell`` / ``tf.contrib.rnn`` cells (TensorFlow's ``ops/rnn_cell_impl.py``).

Each built-in cell wraps one ``rnnkit`` cell (``cell.rnnkit_cell``), which does all the math: one
compat cell is one rnnkit cell, and the RNN functions run rnnkit's runners (and its fused engine).
The weights are graph :class:`Variable` s under TensorFlow's names (``rnn/basic_rnn_cell/kernel``),
created on the cell's first call with TensorFlow's initializers (glorot-uniform kernels, zero biases,
GRU gate biases of one) and held per session; at run time the session's values are put in place of
the rnnkit cell's parameters, so gradients reach the variables.

A user subclass of :class:`RNNCell` that defines ``state_size``, ``output_size`` and
``__call__(inputs, state, scope=None)`` with compat ops runs too (the runners unroll it in the graph).
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Iterator, Sequence
from typing import Any

import torch

import rnnkit
from rnnkit import _nest
from rnnkit.compat.v1 import math_ops
from rnnkit.compat.v1.array_ops import zeros
from rnnkit.compat.v1.dtypes import DType, as_dtype, float32
from rnnkit.compat.v1.init_ops import (
    as_initializer,
    constant_initializer,
    glorot_uniform_initializer,
    zeros_initializer,
)
from rnnkit.compat.v1.ops import (
    StructNode,
    Tensor,
    convert_to_tensor,
    get_default_graph,
    leaf,
    unsupported_option,
)
from rnnkit.compat.v1.variables import Variable, get_variable_scope, variables_by_name

_py_bool = bool

__all__ = [
    "RNNCell",
    "BasicRNNCell",
    "BasicLSTMCell",
    "LSTMCell",
    "GRUCell",
    "MultiRNNCell",
    "DropoutWrapper",
    "OutputProjectionWrapper",
    "ResidualWrapper",
    "DeviceWrapper",
    "LSTMStateTuple",
]

LSTMStateTuple = rnnkit.LSTMStateTuple


def _torch_activation(activation: Any) -> Any:
    if activation is None:
        return torch.tanh
    known = {math_ops.tanh: torch.tanh, math_ops.relu: torch.relu, math_ops.sigmoid: torch.sigmoid}
    if activation in known:
        return known[activation]
    if activation in (torch.tanh, torch.relu, torch.sigmoid):
        return activation
    raise TypeError(
        "Received an invalid value for argument `activation`: expected tf.tanh, tf.nn.relu or "
        f"tf.sigmoid (other activations are outside rnnkit.compat.v1's subset), got {activation!r}."
    )


def _default_initializer(tf_name: str, cell_initializer: Any) -> Any:
    """TensorFlow 1.x's initializer for a cell variable, by its name."""
    if tf_name.endswith("gates/bias"):
        return constant_initializer(1.0)  # GRU: start with gates open
    if tf_name.endswith("bias") or tf_name.endswith("recurrent_bias"):
        return zeros_initializer()
    scope_init = get_variable_scope().initializer
    return cell_initializer or scope_init or glorot_uniform_initializer()


class _Weights:
    """A built-in cell's variables and the rnnkit parameters they stand for, in TF order."""

    def __init__(self, graph: Any, pairs: list[tuple[Variable, Any, str]]) -> None:
        self.graph = graph
        self.pairs = pairs

    @property
    def variables(self) -> list[Variable]:
        return [v for v, _, _ in self.pairs]

    @contextlib.contextmanager
    def bound(self, values: Sequence[torch.Tensor]) -> Iterator[None]:
        """The session's ``values`` in place of the rnnkit cell's parameters, for one run."""
        saved = [(owner, attr, owner._parameters[attr]) for _, owner, attr in self.pairs]
        try:
            for (_, owner, attr), value in zip(self.pairs, values):
                owner._parameters[attr] = value
            yield
        finally:
            for owner, attr, param in saved:
                owner._parameters[attr] = param


class RNNCell:
    """Base of the compat cells, and of user-written cells.

    A user cell defines ``state_size``, ``output_size`` and ``__call__(inputs, state, scope=None)``
    (or ``call(inputs, state)``) with compat ops; ``zero_state(batch_size, dtype)`` gives graph
    tensors in the state's structure.
    """

    _tf_name = "rnn_cell"
    _core: Any = None  # the rnnkit cell of a built-in cell; None for user cells
    _extra_inputs: tuple[Tensor, ...] = ()  # run-time tensors the core needs (fed keep_prob)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._weights: _Weights | None = None

    # -- what the runners use ----------------------------------------------------------------------
    @property
    def rnnkit_cell(self) -> Any:
        """The underlying ``rnnkit`` cell (a ``torch.nn.Module``), for built-in cells."""
        return self._core

    @property
    def state_size(self) -> Any:
        return self._core.state_size

    @property
    def output_size(self) -> int:
        return self._core.output_size

    @property
    def variables(self) -> list[Variable]:
        weights = getattr(self, "_weights", None)
        return [] if weights is None else weights.variables

    trainable_variables = trainable_weights = weights_list = variables

    def zero_state(self, batch_size: Any, dtype: Any) -> Any:
        """Zeros in the structure of ``state_size``, ``(batch_size, size)`` per leaf."""
        dt = as_dtype(dtype)
        if isinstance(batch_size, Tensor):
            b = batch_size

            def make(size: int) -> Tensor:
                return Tensor(
                    "zeros",
                    dt,
                    [None, size],
                    [b],
                    fn=lambda n: torch.zeros(int(n), size, dtype=dt.torch),
                )
        else:
            if isinstance(batch_size, _py_bool) or not isinstance(batch_size, numbers.Integral):
                raise TypeError(
                    "Received an invalid value for argument `batch_size`: expected an int or a "
                    f"scalar tensor, got {batch_size!r}."
                )
            n = int(batch_size)

            def make(size: int) -> Tensor:
                return zeros([n, size], dt)

        return _nest.map_structure(make, self.state_size)

    def _has_core(self) -> _py_bool:
        return self._core is not None

    def _core_parts(self) -> list[RNNCell]:
        """This cell and its wrapped compat cells (whose variables the core uses)."""
        return [self]

    def build_weights(self, scope: str, input_size: int | None, dtype: DType) -> _Weights:
        """Create this cell's variables under ``scope`` (once per graph; later calls reuse them)."""
        graph = get_default_graph()
        if self._weights is not None and self._weights.graph is graph:
            core = self._core
            if input_size is not None and core.input_size != input_size:
                var = self._weights.pairs[0][0]
                rows = int(input_size) + (
                    core.input_size and var.shape.as_list()[0] - core.input_size
                )
                raise ValueError(
                    f"Trying to share variable {var.op.name}, but specified shape "
                    f"{(rows, *var.shape.as_list()[1:])} and found shape {tuple(var.shape.as_list())} "
                    f"(the cell was built for inputs of width {core.input_size}, not {input_size})."
                )
            return self._weights
        if input_size is None:
            raise ValueError(
                f"The last dimension of the inputs to {type(self).__name__} must be known "
                "statically (e.g. placeholder(tf.float32, [None, n_steps, n_inputs]))."
            )
        core = self._core
        if not core.built or core.input_size != input_size:
            core.build(int(input_size), dtype=dtype.torch)
        from rnnkit.interop.names import _walk

        pairs = []
        cell_init = getattr(self, "_initializer", None)
        by_name = variables_by_name(graph)
        for name, owner, attr in _walk(core, scope):
            param = getattr(owner, attr)
            existing = by_name.get(name)
            if existing is not None:
                var = existing
            else:
                with graph.name_scope(""), graph.name_scope(name + "/"):
                    init = as_initializer(_default_initializer(name, cell_init))
                    value = init(list(param.shape), dtype=dtype)
                var = Variable(value, dtype=dtype, _exact_name=name)
            pairs.append((var, owner, attr))
        self._weights = _Weights(graph, pairs)
        return self._weights

    def _runtime_inputs(self) -> list[Tensor]:
        """Tensors fed to the core at run time (``keep_prob`` placeholders of dropout wrappers)."""
        out: list[Tensor] = []
        for part in self._core_parts():
            out.extend(part._extra_inputs)
        return out

    def _apply_runtime(self, values: Sequence[Any]) -> None:
        it = iter(values)
        for part in self._core_parts():
            part._set_runtime([next(it) for _ in part._extra_inputs])

    def _set_runtime(self, values: list[Any]) -> None:
        pass

    # -- one step in the graph ---------------------------------------------------------------------
    def __call__(self, inputs: Any, state: Any, scope: str | None = None) -> tuple[Tensor, Any]:
        if not self._has_core():
            if type(self).call is not RNNCell.call:
                return self.call(inputs, state)
            raise NotImplementedError(
                f"{type(self).__name__} must define __call__(inputs, state, scope=None) or "
                "call(inputs, state)."
            )
        x = convert_to_tensor(inputs, float32)
        vs = get_variable_scope().name
        prefix = "/".join(p for p in (vs, scope) if p)
        state = _nest.pack_sequence_as(
            state, [convert_to_tensor(s, x.dtype) for s in _nest.flatten(state)]
        )

        def step(values: Sequence[torch.Tensor], states: list[Any]) -> Any:
            self._core.start_sequence()
            return self._core(values[0], states[0])

        name = x.graph.unique_name(scope or self._tf_name)
        node = core_node(
            name, [self], [prefix or self._tf_name], _width(x), x.dtype, [x], [state], step
        )
        batch = _dim(x, 0)
        output = leaf(node, (0,), x.dtype, [batch, self.output_size])
        new_state = state_leaves(node, (1,), self.state_size, x.dtype, batch)
        return output, new_state

    def call(self, inputs: Any, state: Any) -> Any:  # user cells may define this instead
        raise NotImplementedError

    def __repr__(self) -> str:
        if self._core is None:
            return f"<rnnkit.compat.v1 user cell {type(self).__name__}>"
        return f"<rnnkit.compat.v1 {type(self).__name__} wrapping {self._core!r}>"


def _width(x: Tensor) -> int | None:
    return None if x.shape.ndims is None else x.shape.as_list()[-1]


def _dim(x: Tensor, axis: int) -> int | None:
    return None if x.shape.ndims is None else x.shape.as_list()[axis]


def state_leaves(node: StructNode, path: tuple, size: Any, dtype: DType, batch: int | None) -> Any:
    """Graph tensors picking a state out of ``node``'s value, in the structure of ``size``."""
    if _nest.is_sequence(size):
        parts = [state_leaves(node, path + (i,), s, dtype, batch) for i, s in enumerate(size)]
        return type(size)(*parts) if hasattr(size, "_fields") else tuple(parts)
    return leaf(node, path, dtype, [batch, size])


def core_node(
    name: str,
    cells: Sequence[RNNCell],
    scopes: Sequence[str],
    width: int | None,
    dt: DType,
    data: Sequence[Tensor],
    states: Sequence[Any],
    run: Any,
) -> StructNode:
    """A node computing ``run(data_values, state_values_per_cell)`` with each cell's variables bound."""
    graph = get_default_graph()
    weights = [c.build_weights(s, width, dt) for c, s in zip(cells, scopes)]
    extras = [c._runtime_inputs() for c in cells]
    state_leaves_in = [[] if s is None else _nest.flatten(s) for s in states]
    flat: list[Tensor] = list(data)
    for w, e, s in zip(weights, extras, state_leaves_in):
        flat += [*w.variables, *e, *s]
    counts = [(len(w.pairs), len(e), len(s)) for w, e, s in zip(weights, extras, state_leaves_in)]
    n_data = len(data)

    def fn(*values: torch.Tensor) -> Any:
        data_v, rest = values[:n_data], values[n_data:]
        per_cell = []
        i = 0
        with contextlib.ExitStack() as stack:
            for cell, w, (nw, ne, ns), st in zip(cells, weights, counts, states):
                wv, ev, sv = (
                    rest[i : i + nw],
                    rest[i + nw : i + nw + ne],
                    rest[i + nw + ne : i + nw + ne + ns],
                )
                i += nw + ne + ns
                cell._apply_runtime(ev)
                per_cell.append(None if st is None else _nest.pack_sequence_as(st, list(sv)))
                stack.enter_context(w.bound(wv))
            return run(data_v, per_cell)

    return StructNode(name, flat, fn, graph)


class BasicRNNCell(RNNCell):
    """``tf.nn.rnn_cell.BasicRNNCell(num_units, activation=None)``: ``h' = act([x, h] W + b)``."""

    _tf_name = "basic_rnn_cell"

    def __init__(
        self,
        num_units: int,
        activation: Any = None,
        reuse: Any = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self._core = rnnkit.BasicRNNCell(num_units, activation=_torch_activation(activation))


class BasicLSTMCell(RNNCell):
    """``tf.nn.rnn_cell.BasicLSTMCell(num_units, forget_bias=1.0)``; state ``LSTMStateTuple(c, h)``."""

    _tf_name = "basic_lstm_cell"

    def __init__(
        self,
        num_units: int,
        forget_bias: float = 1.0,
        state_is_tuple: _py_bool = True,
        activation: Any = None,
        reuse: Any = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        unsupported_option("BasicLSTMCell(state_is_tuple", state_is_tuple, True)
        unsupported_option("BasicLSTMCell(activation", activation)
        self._core = rnnkit.BasicLSTMCell(num_units, forget_bias=forget_bias)


class LSTMCell(RNNCell):
    """``tf.nn.rnn_cell.LSTMCell(num_units, use_peepholes=False, initializer=None, forget_bias=1.0)``."""

    _tf_name = "lstm_cell"

    def __init__(
        self,
        num_units: int,
        use_peepholes: _py_bool = False,
        cell_clip: Any = None,
        initializer: Any = None,
        num_proj: Any = None,
        proj_clip: Any = None,
        num_unit_shards: Any = None,
        num_proj_shards: Any = None,
        forget_bias: float = 1.0,
        state_is_tuple: _py_bool = True,
        activation: Any = None,
        reuse: Any = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        for opt, value in (
            ("cell_clip", cell_clip),
            ("num_proj", num_proj),
            ("proj_clip", proj_clip),
            ("num_unit_shards", num_unit_shards),
            ("num_proj_shards", num_proj_shards),
            ("activation", activation),
        ):
            unsupported_option(f"LSTMCell({opt}", value)
        unsupported_option("LSTMCell(state_is_tuple", state_is_tuple, True)
        self._initializer = initializer
        self._core = rnnkit.LSTMCell(
            num_units, forget_bias=forget_bias, use_peepholes=use_peepholes
        )


class LSTMBlockCell(LSTMCell):
    """``tf.contrib.rnn.LSTMBlockCell(num_units, forget_bias=1.0, use_peephole=False)``: TF1's fused
    LSTM kernel, the same math and variables as ``LSTMCell`` (``lstm_cell/kernel``, ``bias``, with
    peepholes ``w_i_diag``, ``w_f_diag``, ``w_o_diag``); here it runs on rnnkit's engine like the
    other cells. ``cell_clip`` is not supported."""

    def __init__(
        self,
        num_units: int,
        forget_bias: float = 1.0,
        cell_clip: Any = None,
        use_peephole: _py_bool = False,
        dtype: Any = None,
        reuse: Any = None,
        name: str = "lstm_cell",
    ) -> None:
        if cell_clip is not None and (
            isinstance(cell_clip, bool) or not isinstance(cell_clip, numbers.Real)
        ):
            raise TypeError(
                "Received an invalid type for argument `cell_clip`: expected None or a number "
                f"(TF1's -1 for no clipping), got {cell_clip!r} (type {type(cell_clip).__name__})."
            )
        if cell_clip is not None and cell_clip >= 0:  # TF1's -1 (or None) means no clipping
            unsupported_option("LSTMBlockCell(cell_clip", cell_clip)
        super().__init__(
            num_units, use_peepholes=use_peephole, forget_bias=forget_bias, reuse=reuse, name=name
        )


class GRUCell(RNNCell):
    """``tf.nn.rnn_cell.GRUCell(num_units)`` (TensorFlow 1.x's formulation)."""

    _tf_name = "gru_cell"

    def __init__(
        self,
        num_units: int,
        activation: Any = None,
        reuse: Any = None,
        kernel_initializer: Any = None,
        bias_initializer: Any = None,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        unsupported_option("GRUCell(activation", activation)
        unsupported_option("GRUCell(bias_initializer", bias_initializer)
        self._initializer = kernel_initializer
        self._core = rnnkit.GRUCell(num_units)


def _check_cell(name: str, cell: Any) -> RNNCell:
    if not isinstance(cell, RNNCell):
        raise TypeError(
            f"Received an invalid value for argument `{name}`: expected an rnnkit.compat.v1 cell "
            f"(tf.nn.rnn_cell.* or a subclass of tf.nn.rnn_cell.RNNCell), got {type(cell).__name__}."
        )
    return cell


class MultiRNNCell(RNNCell):
    """``tf.nn.rnn_cell.MultiRNNCell(cells)``: stacked cells; the state is a tuple of layer states.

    Built-in cells stack into one ``rnnkit.MultiRNNCell``; user cells are called in the graph, each
    under ``cell_<k>``."""

    _tf_name = "multi_rnn_cell"

    def __init__(self, cells: Sequence[RNNCell], state_is_tuple: _py_bool = True) -> None:
        super().__init__()
        unsupported_option("MultiRNNCell(state_is_tuple", state_is_tuple, True)
        if isinstance(cells, RNNCell) or not isinstance(cells, (list, tuple)) or not cells:
            raise TypeError(
                "Received an invalid value for argument `cells`: expected a non-empty list of "
                f"cells, got {cells!r}."
            )
        for c in cells:
            _check_cell("cells", c)
        self._cells = list(cells)
        if all(c._has_core() for c in cells):
            self._core = rnnkit.MultiRNNCell([c._core for c in cells])

    def _core_parts(self) -> list[RNNCell]:
        return [p for c in self._cells for p in c._core_parts()]

    @property
    def state_size(self) -> Any:
        return tuple(c.state_size for c in self._cells)

    @property
    def output_size(self) -> int:
        return self._cells[-1].output_size

    def __call__(self, inputs: Any, state: Any, scope: str | None = None) -> tuple[Tensor, Any]:
        if self._has_core():
            return super().__call__(inputs, state, scope)
        from rnnkit.compat.v1.variables import variable_scope

        x, new_states = inputs, []
        with variable_scope(scope or self._tf_name):
            for k, (cell, s) in enumerate(zip(self._cells, state)):
                with variable_scope(f"cell_{k}"):
                    x, ns = cell(x, s)
                new_states.append(ns)
        return x, tuple(new_states)


class _Wrapper(RNNCell):
    def _wrap(self, cell: Any) -> RNNCell:
        self._cell = _check_cell("cell", cell)
        return self._cell

    def _core_parts(self) -> list[RNNCell]:
        return [self, *self._cell._core_parts()]

    @property
    def state_size(self) -> Any:
        return self._cell.state_size

    @property
    def output_size(self) -> int:
        return self._cell.output_size


class DropoutWrapper(_Wrapper):
    """``DropoutWrapper(cell, input_keep_prob=1.0, output_keep_prob=1.0, state_keep_prob=1.0)``;
    a keep probability may be a tensor (``tf.placeholder_with_default(1.0, shape=())``) fed at run
    time. Dropout applies whenever the keep probability is below one, as in TensorFlow."""

    def __init__(
        self,
        cell: Any,
        input_keep_prob: Any = 1.0,
        output_keep_prob: Any = 1.0,
        state_keep_prob: Any = 1.0,
        variational_recurrent: _py_bool = False,
        input_size: Any = None,
        dtype: Any = None,
        seed: Any = None,
        dropout_state_filter_visitor: Any = None,
    ) -> None:
        super().__init__()
        inner = self._wrap(cell)
        probs = {
            "input_keep_prob": input_keep_prob,
            "output_keep_prob": output_keep_prob,
            "state_keep_prob": state_keep_prob,
        }
        self._fed = [k for k, v in probs.items() if isinstance(v, Tensor)]
        self._extra_inputs = tuple(probs[k] for k in self._fed)
        static = {k: (1.0 if isinstance(v, Tensor) else v) for k, v in probs.items()}
        if inner._has_core():
            self._core = rnnkit.DropoutWrapper(
                inner._core, variational_recurrent=variational_recurrent, seed=seed, **static
            )
            self._core.train()
        else:
            raise TypeError(
                "DropoutWrapper around a user-written cell is outside rnnkit.compat.v1's subset; "
                "wrap a built-in cell (tf.nn.rnn_cell.*)."
            )

    def _set_runtime(self, values: list[Any]) -> None:
        for key, value in zip(self._fed, values):
            p = float(value)
            if not 0.0 < p <= 1.0:
                raise ValueError(f"{key} must be in (0, 1], got {p}.")
            setattr(self._core, key, p)
        self._core.train()


class OutputProjectionWrapper(_Wrapper):
    """``OutputProjectionWrapper(cell, output_size)``: a linear layer on the cell's outputs."""

    def __init__(
        self, cell: Any, output_size: int, activation: Any = None, reuse: Any = None
    ) -> None:
        super().__init__()
        unsupported_option("OutputProjectionWrapper(activation", activation)
        inner = self._wrap(cell)
        if not inner._has_core():
            raise TypeError(
                "OutputProjectionWrapper around a user-written cell is outside rnnkit.compat.v1's subset."
            )
        self._core = rnnkit.OutputProjectionWrapper(inner._core, output_size)

    @property
    def output_size(self) -> int:
        return self._core.output_size


class ResidualWrapper(_Wrapper):
    """``ResidualWrapper(cell)``: the cell's output plus its input."""

    def __init__(self, cell: Any, residual_fn: Any = None) -> None:
        super().__init__()
        unsupported_option("ResidualWrapper(residual_fn", residual_fn)
        inner = self._wrap(cell)
        if not inner._has_core():
            raise TypeError(
                "ResidualWrapper around a user-written cell is outside rnnkit.compat.v1's subset."
            )
        self._core = rnnkit.ResidualWrapper(inner._core)


class DeviceWrapper(_Wrapper):
    """``DeviceWrapper(cell, device)``: runs ``cell`` (placement is rnnkit's; the device is noted)."""

    def __init__(self, cell: Any, device: str) -> None:
        super().__init__()
        inner = self._wrap(cell)
        self._device = device
        self._core = inner._core

    def _core_parts(self) -> list[RNNCell]:
        return self._cell._core_parts()

    def build_weights(self, scope: str, input_size: int | None, dtype: DType) -> _Weights:
        self._weights = self._cell.build_weights(scope, input_size, dtype)
        return self._weights

    def __call__(self, inputs: Any, state: Any, scope: str | None = None) -> tuple[Tensor, Any]:
        if self._has_core():
            return super().__call__(inputs, state, scope)
        return self._cell(inputs, state, scope)
