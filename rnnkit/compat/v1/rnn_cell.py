"""``tf.nn.rnn_cell`` / ``tf.contrib.rnn`` cells (TensorFlow's ``ops/rnn_cell_impl.py``).

Each built-in cell wraps one ``rnnkit`` cell (``cell.rnnkit_cell``), which does all the math: one
compat cell is one rnnkit cell, and the RNN functions run rnnkit's runners (and its fused engine).
The weights are graph :class:`Variable` s under TensorFlow's names (``rnn/basic_rnn_cell/kernel``),
created on the cell's first call with TensorFlow's initializers (glorot-uniform kernels, zero biases,
GRU gate biases of one) and held per session; at run time :class:`_ParameterBinding` puts the
session's values in place of the rnnkit cell's parameters (docs/DESIGN.md, "The mapping").

A user subclass of :class:`RNNCell` that defines ``state_size``, ``output_size`` and
``__call__(inputs, state, scope=None)`` with compat ops runs too (the runners unroll it in the graph).
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

import rnnkit
from rnnkit import _nest
from rnnkit.compat.v1 import cell_shapes, math_ops
from rnnkit.compat.v1.array_ops import zeros
from rnnkit.compat.v1.dtypes import DType, as_dtype, float32
from rnnkit.compat.v1.init_ops import (
    as_initializer,
    constant_initializer,
    glorot_uniform_initializer,
    zeros_initializer,
)
from rnnkit.compat.v1.ops import (
    Graph,
    StructNode,
    Tensor,
    _Node,
    convert_to_tensor,
    get_default_graph,
    leaf,
    unsupported_option,
)
from rnnkit.compat.v1.variables import (
    Variable,
    get_variable_scope,
    variable_scope,
    variables_by_name,
)
from rnnkit.wrappers import _Wrapper as _CoreWrapper

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
    """A torch function computing ``activation``: TF's own functions map to torch's (the fused
    engine runs tanh and relu); any other callable of graph tensors (``tf.nn.elu``, a lambda of
    compat ops) is traced once per input dtype and evaluated on torch tensors."""
    if activation is None:
        return torch.tanh
    known = {math_ops.tanh: torch.tanh, math_ops.relu: torch.relu, math_ops.sigmoid: torch.sigmoid}
    if activation in known:
        return known[activation]
    if activation in (torch.tanh, torch.relu, torch.sigmoid):
        return activation
    if not callable(activation):
        raise TypeError(
            "Received an invalid value for argument `activation`: expected a callable such as "
            f"tf.tanh or tf.nn.relu, got {activation!r}."
        )
    return _TracedActivation(activation)


class _TracedActivation:
    """An elementwise graph function (compat ops on one tensor) applied to torch tensors."""

    def __init__(self, fn: Callable[[Tensor], Any]) -> None:
        self.fn = fn
        self._traced: dict[torch.dtype, tuple[Tensor, list[_Node], Tensor]] = {}

    def __call__(self, value: torch.Tensor) -> torch.Tensor:
        traced = self._traced.get(value.dtype)
        if traced is None:
            graph = Graph()
            with graph.as_default():
                stand_in = _StandIn("activation", as_dtype(value.dtype), [None, None])
                out = convert_to_tensor(self.fn(stand_in))
            if not isinstance(out, Tensor):
                raise TypeError(
                    f"Received an invalid value for argument `activation`: {self.fn!r} must map a "
                    f"tensor to a tensor, got {out!r}."
                )
            order, free = step_order([out], [stand_in])
            try:  # constants: computed once here
                known = run_order(None, _all_nodes(free), {})
            except Exception:
                raise TypeError(
                    f"Received an invalid value for argument `activation`: {self.fn!r} uses "
                    "variables or other session state; an activation must be elementwise."
                ) from None
            constants = {n: known[n] for n in free}
            traced = self._traced[value.dtype] = (stand_in, order, out, constants)
        stand_in, order, out, constants = traced
        return run_order(None, order, {**constants, stand_in: value})[out]


class _StandIn(Tensor):
    """A graph tensor whose value is supplied per evaluation (a step's input or state)."""

    def _compute(self, sess: Any, values: list[Any]) -> Any:  # pragma: no cover - always supplied
        raise AssertionError(f"{self.name} is supplied by its loop")


def step_order(outputs: Sequence[_Node], stand_ins: Sequence[_Node]) -> tuple[list, list]:
    """The nodes computing ``outputs`` from ``stand_ins``, in order (those that depend on a
    stand-in), and the nodes they read that do not (evaluated once, outside the loop)."""
    depends: dict[int, bool] = {id(n): True for n in stand_ins}
    order: list[_Node] = []
    stack: list[tuple[_Node, bool]] = [(n, False) for n in reversed(outputs)]
    while stack:
        n, done = stack.pop()
        if done:
            depends[id(n)] = any(depends[id(i)] for i in (*n._inputs, *n._control))
            if depends[id(n)]:
                order.append(n)
            continue
        if id(n) in depends:
            continue
        depends[id(n)] = False  # visiting; set for real once its inputs are done
        stack.append((n, True))
        for i in reversed((*n._inputs, *n._control)):
            if id(i) not in depends:
                stack.append((i, False))
    free: dict[int, _Node] = {}
    for n in order:
        for i in (*n._inputs, *n._control):
            if not depends[id(i)]:
                free.setdefault(id(i), i)
    for n in outputs:
        if not depends[id(n)]:
            free.setdefault(id(n), n)
    return order, list(free.values())


def _all_nodes(outputs: Sequence[_Node]) -> list[_Node]:
    """Every node ``outputs`` need, inputs before the nodes reading them."""
    order: list[_Node] = []
    seen: set[int] = set()
    stack: list[tuple[_Node, bool]] = [(n, False) for n in reversed(outputs)]
    while stack:
        n, done = stack.pop()
        if done:
            order.append(n)
        elif id(n) not in seen:
            seen.add(id(n))
            stack.append((n, True))
            stack.extend((i, False) for i in reversed((*n._inputs, *n._control)))
    return order


def run_order(sess: Any, order: Sequence[_Node], values: dict) -> dict:
    """Evaluate ``order`` given ``values`` (stand-ins and free nodes); returns ``values``."""
    for n in order:
        if n not in values:
            values[n] = n._compute(sess, [values[i] for i in n._inputs])
    return values


def _snake_case(name: str) -> str:
    """TensorFlow's scope name for a layer class (``MyCell`` -> ``my_cell``)."""
    s = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    s = re.sub("([a-z])([A-Z])", r"\1_\2", s).lower()
    return s if s[0] != "_" else "private" + s


def _default_initializer(tf_name: str, cell_initializer: Any, bias_initializer: Any = None) -> Any:
    """TensorFlow 1.x's initializer for a cell variable, by its name."""
    if bias_initializer is not None and tf_name.endswith("bias"):
        return bias_initializer
    if tf_name.endswith("gates/bias"):
        return constant_initializer(1.0)  # GRU: start with gates open
    if tf_name.endswith("bias") or tf_name.endswith("recurrent_bias"):
        return zeros_initializer()
    scope_init = get_variable_scope().initializer
    return cell_initializer or scope_init or glorot_uniform_initializer()


# ------------------------------------------------------------------------------------------------
# rnnkit cells for the options rnnkit's own cells do not have (the defaults keep rnnkit's cells,
# which the fused engine runs; these run on the runners' plain loop)
# ------------------------------------------------------------------------------------------------


class _ActLSTMCell(rnnkit.LSTMCell):
    """TF1's ``LSTMCell`` (and ``BasicLSTMCell``) with every option: ``activation`` on the candidate
    and the output, ``cell_clip`` on the cell state, a projection ``m = h P`` (``num_proj``,
    ``projection/kernel (H, P)``, no bias) clipped to ``proj_clip``. The recurrent input is the
    projected output, so the kernel is ``(I + P, 4H)``; the state is ``LSTMStateTuple(c (H), m (P))``."""

    def __init__(
        self,
        num_units: int,
        forget_bias: float,
        use_peepholes: bool,
        activation: Any,
        cell_clip: float | None,
        num_proj: int | None,
        proj_clip: float | None,
    ) -> None:
        self.num_proj = num_proj
        super().__init__(num_units, forget_bias=forget_bias, use_peepholes=use_peepholes)
        self.activation = activation
        self.cell_clip = cell_clip
        self.proj_clip = proj_clip

    @property
    def state_size(self) -> LSTMStateTuple:
        return LSTMStateTuple(self.num_units, self.num_proj or self.num_units)

    @property
    def output_size(self) -> int:
        return self.num_proj or self.num_units

    def _parameter_specs(self, input_size: int) -> dict[str, tuple[tuple[int, ...], str]]:
        H, P = self.num_units, self.num_proj or self.num_units
        specs = {"kernel": ((input_size + P, 4 * H), "glorot"), "bias": ((4 * H,), "zeros")}
        if self.use_peepholes:
            for name in ("w_f_diag", "w_i_diag", "w_o_diag"):
                specs[name] = ((H,), "peephole")
        if self.num_proj:
            specs["projection_kernel"] = ((H, P), "glorot")
        return specs

    def call(self, inputs: torch.Tensor, state: Any) -> tuple[torch.Tensor, LSTMStateTuple]:
        c, m = state
        act = self.activation
        gates = torch.addmm(self.bias, torch.cat([inputs, m], 1), self.kernel)
        i, j, f, o = gates.chunk(4, 1)
        if self.use_peepholes:
            new_c = torch.sigmoid(f + self.forget_bias + self.w_f_diag * c) * c + torch.sigmoid(
                i + self.w_i_diag * c
            ) * act(j)
        else:
            new_c = torch.sigmoid(f + self.forget_bias) * c + torch.sigmoid(i) * act(j)
        if self.cell_clip is not None:
            new_c = new_c.clamp(-self.cell_clip, self.cell_clip)
        if self.use_peepholes:
            new_m = torch.sigmoid(o + self.w_o_diag * new_c) * act(new_c)
        else:
            new_m = torch.sigmoid(o) * act(new_c)
        if self.num_proj:
            new_m = new_m @ self.projection_kernel
            if self.proj_clip is not None:
                new_m = new_m.clamp(-self.proj_clip, self.proj_clip)
        return new_m, LSTMStateTuple(new_c, new_m)


class _ActBasicLSTMCell(rnnkit.BasicLSTMCell):
    """TF1's ``BasicLSTMCell`` with an ``activation`` other than tanh."""

    def __init__(self, num_units: int, forget_bias: float, activation: Any) -> None:
        super().__init__(num_units, forget_bias=forget_bias)
        self.activation = activation

    def call(self, inputs: torch.Tensor, state: Any) -> tuple[torch.Tensor, LSTMStateTuple]:
        c, h = state
        gates = torch.addmm(self.bias, torch.cat([inputs, h], 1), self.kernel)
        i, j, f, o = gates.chunk(4, 1)
        new_c = c * torch.sigmoid(f + self.forget_bias) + torch.sigmoid(i) * self.activation(j)
        new_h = self.activation(new_c) * torch.sigmoid(o)
        return new_h, LSTMStateTuple(new_c, new_h)


class _ActGRUCell(rnnkit.GRUCell):
    """TF1's ``GRUCell`` with an ``activation`` other than tanh on the candidate."""

    def __init__(self, num_units: int, activation: Any) -> None:
        super().__init__(num_units)
        self.activation = activation

    def call(self, inputs: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = state
        gates = torch.sigmoid(
            torch.addmm(self.gates_bias, torch.cat([inputs, h], 1), self.gates_kernel)
        )
        r, u = gates.chunk(2, 1)
        c = self.activation(
            torch.addmm(self.candidate_bias, torch.cat([inputs, r * h], 1), self.candidate_kernel)
        )
        new_h = u * h + (1 - u) * c
        return new_h, new_h


class _ConcatState(_CoreWrapper):
    """``state_is_tuple=False``: the wrapped cell's state structure as one ``(B, sum of sizes)``
    tensor, its parts concatenated in order (``[c, h]`` for an LSTM, the layers' states for a
    stack)."""

    @property
    def state_size(self) -> int:
        return sum(_nest.flatten(self.cell.state_size))

    def call(self, inputs: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        sizes = _nest.flatten(self.cell.state_size)
        parts = list(torch.split(state, sizes, dim=1))
        output, new_state = self.cell.call(
            inputs, _nest.pack_sequence_as(self.cell.state_size, parts)
        )
        return output, torch.cat(_nest.flatten(new_state), 1)


def _leaf_scope_name(cell: Any) -> str:
    named = getattr(cell, "tf_scope_name", None)
    if named:
        return named
    for kind, name in (
        (rnnkit.GRUCell, "gru_cell"),
        (rnnkit.LSTMCell, "lstm_cell"),
        (rnnkit.BasicLSTMCell, "basic_lstm_cell"),
        (rnnkit.BasicRNNCell, "basic_rnn_cell"),
    ):
        if isinstance(cell, kind):
            return name
    raise TypeError(f"no TensorFlow 1.x name for the cell {type(cell).__name__}")


def _leaf_core(cell: Any) -> Any:
    """The innermost rnnkit cell under wrappers (the one named in TF's variable names)."""
    while isinstance(cell, (_CoreWrapper, rnnkit.OutputProjectionWrapper)):
        cell = cell.cell
    return cell


def walk_variables(cell: Any, prefix: str) -> Iterator[tuple[str, Any, str]]:
    """(TF variable name, owning module, attribute) for every parameter of the rnnkit ``cell``,
    in TF's order; a leaf cell is named by its compat cell's ``name`` when it was given one."""
    from rnnkit.interop.names import _leaf_params

    if isinstance(cell, rnnkit.MultiRNNCell):
        for k, sub in enumerate(cell.cells):
            yield from walk_variables(sub, f"{prefix}/multi_rnn_cell/cell_{k}")
    elif isinstance(cell, rnnkit.OutputProjectionWrapper):
        yield from walk_variables(cell.cell, f"{prefix}/output_projection_wrapper")
        yield f"{prefix}/output_projection_wrapper/kernel", cell, "kernel"
        yield f"{prefix}/output_projection_wrapper/bias", cell, "bias"
    elif isinstance(cell, _CoreWrapper):
        yield from walk_variables(cell.cell, prefix)
    else:
        base = f"{prefix}/{_leaf_scope_name(cell)}"
        for suffix, attr in _leaf_params(cell):
            yield f"{base}/{suffix}", cell, attr
        if getattr(cell, "num_proj", None):
            yield f"{base}/projection/kernel", cell, "projection_kernel"


def _check_units(name: str, value: Any, optional: bool = False) -> int | None:
    if optional and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(
            f"Received an invalid value for argument `{name}`: expected a positive integer"
            f"{' or None' if optional else ''}, got {value!r}."
        )
    return int(value)


def _check_clip(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"Received an invalid type for argument `{name}`: expected None or a number, got "
            f"{value!r} (type {type(value).__name__})."
        )
    return float(value)


class _Weights:
    """A built-in cell's variables and the rnnkit parameters they stand for, in TF order."""

    def __init__(self, graph: Any, pairs: list[tuple[Variable, Any, str]]) -> None:
        self.graph = graph
        self.pairs = pairs

    @property
    def variables(self) -> list[Variable]:
        return [v for v, _, _ in self.pairs]


class _ParameterBinding:
    """Runs a node's function with the session's values of its cells' variables in place of the
    rnnkit cells' parameters (``_parameters[attr]`` of each owning module), restoring them after,
    even when the run raises; the runners and the fused engine read the parameters from the cells.

    ``torch.func.functional_call`` does the same swap, but resolves dotted names and goes through
    ``Module.__call__`` on every run: two to four times this binding's cost, 5-13% of a training
    step of a graph that calls a cell 20 times (docs/DESIGN.md, "The mapping")."""

    def __init__(self, weights: Sequence[_Weights]) -> None:
        # per pair of every cell, in order: (module, attribute), or None for one already bound
        # (one cell object in two places: its variables are the same)
        self.spots: list[tuple[torch.nn.Module, str] | None] = []
        seen: set[tuple[int, str]] = set()
        for w in weights:
            for _, owner, attr in w.pairs:
                key = (id(owner), attr)
                self.spots.append(None if key in seen else (owner, attr))
                seen.add(key)

    def call(self, values: Sequence[torch.Tensor], run: Callable[..., Any], *args: Any) -> Any:
        """``run(*args)`` with ``values`` (one per pair, in order) as the cells' parameters."""
        saved: list[tuple[dict[str, Any], str, Any]] = []
        try:
            for spot, value in zip(self.spots, values):
                if spot is not None:
                    params = spot[0]._parameters
                    saved.append((params, spot[1], params[spot[1]]))
                    params[spot[1]] = value
            return run(*args)
        finally:
            for params, attr, param in saved:
                params[attr] = param


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
        pairs = []
        cell_init = getattr(self, "_initializer", None)
        by_name = variables_by_name(graph)
        reuse = get_variable_scope().reuse
        seen: set[tuple[int, str]] = set()
        for name, owner, attr in walk_variables(core, scope):
            # one cell object listed twice (MultiRNNCell([cell] * 2)) has one set of variables,
            # named after its first place, as in TF1
            if (id(owner), attr) in seen:
                continue
            seen.add((id(owner), attr))
            name = name.lstrip("/")  # a cell called at the top level: "gru_cell/gates/kernel"
            param = getattr(owner, attr)
            existing = by_name.get(name)
            if existing is None and reuse is True:
                raise ValueError(
                    f"Variable {name} does not exist, or was not created with tf.get_variable(). "
                    "Did you mean to set reuse=tf.AUTO_REUSE in VarScope?"
                )
            if existing is not None:
                found = tuple(existing.shape.as_list())
                if found != tuple(param.shape):
                    raise ValueError(
                        f"Trying to share variable {name}, but specified shape "
                        f"{tuple(param.shape)} and found shape {found}."
                    )
                var = existing
            else:
                with graph.name_scope(""), graph.name_scope(name + "/"):
                    init = as_initializer(
                        _default_initializer(
                            name,
                            getattr(owner, "tf_kernel_init", None) or cell_init,
                            getattr(owner, "tf_bias_init", None),
                        )
                    )
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
                return self._call_in_layer_scope(inputs, state, scope)
            raise NotImplementedError(
                f"{type(self).__name__} must define __call__(inputs, state, scope=None) or "
                "call(inputs, state)."
            )
        # a tensor keeps its dtype (a float64 cell); other values become float32, as in TF
        x = (
            convert_to_tensor(inputs)
            if isinstance(inputs, Tensor)
            else convert_to_tensor(inputs, float32)
        )
        vs = get_variable_scope().name
        prefix = "/".join(p for p in (vs, scope) if p)
        state = _nest.pack_sequence_as(
            state, [convert_to_tensor(s, x.dtype) for s in _nest.flatten(state)]
        )

        def step(values: Sequence[torch.Tensor], states: list[Any]) -> Any:
            # the cell's math directly: the graph checked the step's shapes and dtypes when it was
            # built, and a run-time mismatch (a fed batch) fails in the math as TF's
            # InvalidArgumentError (run_kernel); the module call's checks cost a third of a small
            # step (88 against 57 us for an LSTM of 40 units, batch 100)
            self._core.start_sequence()
            return self._core.call(values[0], states[0])

        name = x.graph.unique_name(scope or self._tf_name)
        node = core_node(name, [self], [prefix], _width(x), x.dtype, [x], [state], step)
        shapes = self._step_shapes(_dims(x), _nest.map_structure(_dims, state))
        if shapes is None:  # the input's batch, else the state's
            batch = batch_from_state(_dim(x, 0), state)
            output = leaf(node, (0,), x.dtype, [batch, self.output_size])
            return output, state_leaves(node, (1,), self.state_size, x.dtype, batch)
        output = leaf(node, (0,), x.dtype, shapes[0])
        leaves = [
            leaf(node, (1, *path), x.dtype, dims)
            for path, dims in _paths(shapes[1], (), self.state_size)
        ]
        return output, _nest.pack_sequence_as(self.state_size, leaves)

    def _step_shapes(self, x: list | None, state: Any) -> tuple[Any, Any] | None:
        """TF's static ``(output, state)`` shapes of one step on inputs and state of these shapes
        (:mod:`cell_shapes`), or None where the step's shapes come from the input's batch, else
        the state's (wrappers, stacks)."""
        return None

    def call(self, inputs: Any, state: Any) -> Any:  # user cells may define this instead
        raise NotImplementedError

    def _call_in_layer_scope(self, inputs: Any, state: Any, scope: Any) -> Any:
        """A user cell's ``call`` under TF1's layer scope: ``scope`` when given, else a scope named
        after the class (``MyCell`` -> ``my_cell``, ``my_cell_1`` for a second cell) created on the
        first call and re-entered with reuse on later ones, so ``tf.get_variable`` in ``call``
        shares the variables across steps."""
        if scope is not None:
            with variable_scope(scope):
                return self.call(inputs, state)
        graph = get_default_graph()
        held = self.__dict__.get("_layer_scope")
        if held is not None and held[0] is graph:
            with variable_scope(held[1], reuse=True):
                return self.call(inputs, state)
        with variable_scope(None, default_name=_snake_case(type(self).__name__)) as vs:
            self.__dict__["_layer_scope"] = (graph, vs)
            return self.call(inputs, state)

    def __repr__(self) -> str:
        if self._core is None:
            return f"<rnnkit.compat.v1 user cell {type(self).__name__}>"
        return f"<rnnkit.compat.v1 {type(self).__name__} wrapping {self._core!r}>"


class _SessionNode(StructNode):
    """A multi-output node whose function also receives the session (a loop evaluating graph
    nodes inside it needs the session for variables and random generators)."""

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        return self._fn(sess, *values)


def state_leaf(value: Any, dt: DType) -> Tensor:
    """A part of an initial state as a graph tensor: in the RNN's float dtype, except a tensor of
    another kind (AttentionWrapperState's int32 ``time``), which keeps its own dtype as in TF."""
    if isinstance(value, Tensor) and not value.dtype.is_floating:
        return value
    return convert_to_tensor(value, dt)


def history_leaves(state: Any) -> list[_py_bool]:
    """Per leaf of ``state``: whether it is an ``alignment_history`` (a tensor of all steps so far,
    TF's TensorArray, rather than a ``(batch, size)`` state)."""
    flags: list[_py_bool] = []

    def walk(s: Any, under: _py_bool) -> None:
        if _nest.is_sequence(s):
            fields = getattr(s, "_fields", None)
            for k, item in enumerate(s):
                walk(item, under or (fields is not None and fields[k] == "alignment_history"))
        else:
            flags.append(under)

    walk(state, False)
    return flags


def user_cell_rnn(
    cell: RNNCell,
    x: Tensor,
    init: Any,
    lengths: Tensor | None,
    dt: DType,
    time_major: _py_bool,
    scope: str,
) -> tuple[Tensor, Any]:
    """``dynamic_rnn`` over a user-written cell, for any number of steps (known or not when the
    graph is built): the cell is called once, as in TF1's ``while_loop``, on stand-ins for a step's
    input and state under the variable scope ``scope``; at run time one node evaluates that step's
    nodes once per step (outputs past a row's ``sequence_length`` are zeros and its state stays)."""
    from rnnkit.compat.v1 import array_ops

    dims = x.shape.as_list() if x.shape.ndims is not None else [None, None, None]
    batch = dims[1] if time_major else dims[0]
    if init is None:
        size = batch if batch is not None else array_ops.shape(x)[1 if time_major else 0]
        init = cell.zero_state(size, dt)
    init_leaves = [state_leaf(s, dt) for s in _nest.flatten(init)]
    # AttentionWrapperState.alignment_history grows by a step each step (TF's TensorArray): it is
    # written at every step, past a row's sequence_length too, as TF's dynamic_rnn does
    growing = history_leaves(init)
    step_x = _StandIn(f"{scope}/step_input", dt, [batch, dims[2]])
    state_ins = [_StandIn(f"{scope}/step_state", s.dtype, s.shape) for s in init_leaves]
    with variable_scope(scope):
        out, new_state = cell(step_x, _nest.pack_sequence_as(init, state_ins))
    out = convert_to_tensor(out)
    new_leaves = [convert_to_tensor(s) for s in _nest.flatten(new_state)]
    if len(new_leaves) != len(state_ins):
        raise ValueError(
            f"{type(cell).__name__} returned a state of {len(new_leaves)} tensors, but its "
            f"state_size {cell.state_size} (and the initial state) has {len(state_ins)}."
        )
    order, free = step_order([out, *new_leaves], [step_x, *state_ins])
    n_len, n_state = (0 if lengths is None else 1), len(state_ins)
    out_width = _width(out)

    def run(sess: Any, xv: torch.Tensor, *rest: torch.Tensor) -> Any:
        seq = rest[0].to(torch.int64) if n_len else None
        state = list(rest[n_len : n_len + n_state])
        base = dict(zip(free, rest[n_len + n_state :]))
        axis = 0 if time_major else 1
        outs = []
        for t, xt in enumerate(xv.unbind(axis)):
            values = run_order(sess, order, {**base, step_x: xt, **dict(zip(state_ins, state))})
            o, ns = values[out], [values[n] for n in new_leaves]
            if seq is not None:
                valid = (seq > t).unsqueeze(1)
                o = torch.where(valid, o, o.new_zeros(()))
                # scalars (AttentionWrapperState.time) and histories pass through, as in TF
                ns = [
                    n if g or n.dim() == 0 else torch.where(valid, n, s)
                    for n, s, g in zip(ns, state, growing)
                ]
            outs.append(o)
            state = ns
        if not outs:
            rows = xv.shape[1 if time_major else 0]
            shape = (0, rows, out_width or 0) if time_major else (rows, 0, out_width or 0)
            return xv.new_zeros(shape), state
        return torch.stack(outs, axis), state

    inputs = [x, *([] if lengths is None else [lengths]), *init_leaves, *free]
    node = _SessionNode(x.graph.unique_name(scope), inputs, run, x.graph)
    steps = dims[0] if time_major else dims[1]
    shape = [steps, batch, out_width] if time_major else [batch, steps, out_width]
    outputs = leaf(node, (0,), out.dtype, shape)
    finals = [leaf(node, (1, k), s.dtype, s.shape) for k, s in enumerate(init_leaves)]
    final = _nest.pack_sequence_as(init, finals)
    if any(growing):
        mark_alignment_histories(final)  # .stack(), as TF's TensorArray
    return outputs, final


def user_cell_bidirectional(
    cell_fw: RNNCell,
    cell_bw: RNNCell,
    x: Tensor,
    init_fw: Any,
    init_bw: Any,
    lengths: Tensor | None,
    dt: DType,
    time_major: _py_bool,
    scope: str,
) -> tuple[tuple[Tensor, Tensor], tuple[Any, Any]]:
    """``bidirectional_dynamic_rnn`` where a cell is user-written: :func:`user_cell_rnn` forward
    under ``scope/fw`` and over the inputs reversed within each row's length under ``scope/bw``,
    whose outputs are reversed back into the original time order."""
    from rnnkit.runners import reverse_sequence

    def reverse(t: Tensor) -> Tensor:
        def fn(v: torch.Tensor, n: torch.Tensor | None = None) -> torch.Tensor:
            tbi = v if time_major else v.transpose(0, 1)
            out = reverse_sequence(tbi, None if n is None else n.to(torch.int64))
            return out if time_major else out.transpose(0, 1)

        parts = [t, *([] if lengths is None else [lengths])]
        return Tensor("ReverseSequence", t.dtype, t.shape, parts, fn=fn)

    with variable_scope(scope):
        out_fw, st_fw = user_cell_rnn(cell_fw, x, init_fw, lengths, dt, time_major, "fw")
        out_bw, st_bw = user_cell_rnn(cell_bw, reverse(x), init_bw, lengths, dt, time_major, "bw")
        return (out_fw, reverse(out_bw)), (st_fw, st_bw)


def batch_from_state(batch: int | None, state: Any) -> int | None:
    """The static batch size of a runner's outputs: the inputs', else the initial state's (TF's
    dynamic_rnn takes it from either)."""
    if batch is None and state is not None:
        for part in _nest.flatten(state):
            dims = part.shape.as_list() if isinstance(part, Tensor) and part.shape.ndims else None
            if dims and dims[0] is not None:
                return dims[0]
    return batch


def _dims(x: Tensor) -> list | None:
    return x.shape.as_list() if x.shape.ndims is not None else None


def _paths(shapes: Any, path: tuple, size: Any) -> list[tuple[tuple, Any]]:
    """``(path, dims)`` of each leaf of a state, in ``size``'s structure."""
    if _nest.is_sequence(size):
        return [p for i, s in enumerate(size) for p in _paths(shapes[i], path + (i,), s)]
    return [(path, shapes)]


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
    binding = _ParameterBinding(weights)

    def fn(*values: torch.Tensor) -> Any:
        data_v, rest = values[:n_data], values[n_data:]
        per_cell = []
        params: list[torch.Tensor] = []
        i = 0
        for cell, (nw, ne, ns), st in zip(cells, counts, states):
            params += rest[i : i + nw]
            ev, sv = rest[i + nw : i + nw + ne], rest[i + nw + ne : i + nw + ne + ns]
            i += nw + ne + ns
            cell._apply_runtime(ev)
            per_cell.append(None if st is None else _nest.pack_sequence_as(st, list(sv)))
        return binding.call(params, run, data_v, per_cell)

    return StructNode(name, flat, fn, graph)


def _named_core(cell: RNNCell, core: Any, name: str | None, kernel_init: Any = None) -> Any:
    """Record on the rnnkit ``core`` what names and initializes its variables."""
    if name is not None:
        if not isinstance(name, str) or not name:
            raise TypeError(
                f"Received an invalid value for argument `name`: expected a non-empty string, got "
                f"{name!r}."
            )
        core.tf_scope_name = name
        cell._tf_name = name
    core.tf_kernel_init = kernel_init
    return core


def _state_layout(cell: RNNCell, core: Any, state_is_tuple: Any, what: str) -> Any:
    if not isinstance(state_is_tuple, _py_bool):
        raise TypeError(
            f"Received an invalid value for argument `state_is_tuple` of {what}: expected True or "
            f"False, got {state_is_tuple!r}."
        )
    return core if state_is_tuple else _ConcatState(core)


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
        core = rnnkit.BasicRNNCell(
            _check_units("num_units", num_units), activation=_torch_activation(activation)
        )
        self._core = _named_core(self, core, name)

    def _step_shapes(self, x: list | None, state: Any) -> tuple[Any, Any]:
        return cell_shapes.basic_rnn(self.output_size, x, state)


class BasicLSTMCell(RNNCell):
    """``tf.nn.rnn_cell.BasicLSTMCell(num_units, forget_bias=1.0, state_is_tuple=True,
    activation=None)``; state ``LSTMStateTuple(c, h)``, or ``concat([c, h], 1)`` when
    ``state_is_tuple=False``."""

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
        units = _check_units("num_units", num_units)
        act = _torch_activation(activation)
        if act is torch.tanh:
            core = rnnkit.BasicLSTMCell(units, forget_bias=forget_bias)
        else:
            core = _ActBasicLSTMCell(units, forget_bias, act)
        core = _named_core(self, core, name)
        self._core = _state_layout(self, core, state_is_tuple, "BasicLSTMCell")

    def _step_shapes(self, x: list | None, state: Any) -> tuple[Any, Any]:
        return cell_shapes.basic_lstm(self.output_size, x, state)


class LSTMCell(RNNCell):
    """``tf.nn.rnn_cell.LSTMCell(num_units, use_peepholes=False, cell_clip=None, initializer=None,
    num_proj=None, proj_clip=None, forget_bias=1.0, state_is_tuple=True, activation=None)``.

    ``num_proj`` adds ``projection/kernel (num_units, num_proj)``: outputs and the state's ``h`` have
    width ``num_proj``. Without clipping, projection or a custom activation the cell is rnnkit's
    ``LSTMCell`` (the fused engine runs it)."""

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
        unsupported_option("LSTMCell(num_unit_shards", num_unit_shards)
        unsupported_option("LSTMCell(num_proj_shards", num_proj_shards)
        units = _check_units("num_units", num_units)
        proj = _check_units("num_proj", num_proj, optional=True)
        cell_clip = _check_clip("cell_clip", cell_clip)
        proj_clip = _check_clip("proj_clip", proj_clip)
        act = _torch_activation(activation)
        self._initializer = initializer
        self._units, self._num_proj, self._use_peepholes = units, proj, _py_bool(use_peepholes)
        if act is torch.tanh and cell_clip is None and proj is None:
            core = rnnkit.LSTMCell(units, forget_bias=forget_bias, use_peepholes=use_peepholes)
        else:
            core = _ActLSTMCell(
                units, forget_bias, use_peepholes, act, cell_clip, proj, proj_clip if proj else None
            )
        core = _named_core(self, core, name, initializer)
        self._core = _state_layout(self, core, state_is_tuple, "LSTMCell")

    def _step_shapes(self, x: list | None, state: Any) -> tuple[Any, Any] | None:
        if type(self) is not LSTMCell:  # LSTMBlockCell: TF's fused op has its own shape function
            return None
        return cell_shapes.lstm(self._units, self._use_peepholes, self._num_proj, x, state)


class LSTMBlockCell(LSTMCell):
    """``tf.contrib.rnn.LSTMBlockCell(num_units, forget_bias=1.0, cell_clip=None,
    use_peephole=False)``: TF1's fused LSTM kernel, the same math and variables as ``LSTMCell``
    (``lstm_cell/kernel``, ``bias``, with peepholes ``w_i_diag``, ``w_f_diag``, ``w_o_diag``); here it
    runs on rnnkit's engine like the other cells. ``cell_clip`` bounds the cell state to
    ``[-cell_clip, cell_clip]``; None or a negative value (TF1's default -1) means no clipping."""

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
        clip = _check_clip("cell_clip", cell_clip)
        super().__init__(
            num_units,
            use_peepholes=use_peephole,
            forget_bias=forget_bias,
            cell_clip=clip if clip is not None and clip >= 0 else None,
            reuse=reuse,
            name=name,
        )


class GRUCell(RNNCell):
    """``tf.nn.rnn_cell.GRUCell(num_units, activation=None, kernel_initializer=None,
    bias_initializer=None)`` (TensorFlow 1.x's formulation; the gate biases start at one unless
    ``bias_initializer`` is given)."""

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
        units = _check_units("num_units", num_units)
        act = _torch_activation(activation)
        core = rnnkit.GRUCell(units) if act is torch.tanh else _ActGRUCell(units, act)
        self._initializer = kernel_initializer
        self._core = _named_core(self, core, name, kernel_initializer)
        self._core.tf_bias_init = bias_initializer

    def _step_shapes(self, x: list | None, state: Any) -> tuple[Any, Any]:
        return cell_shapes.gru(self.output_size, x, state)


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
        if isinstance(cells, RNNCell) or not isinstance(cells, (list, tuple)) or not cells:
            raise TypeError(
                "Received an invalid value for argument `cells`: expected a non-empty list of "
                f"cells, got {cells!r}."
            )
        for c in cells:
            _check_cell("cells", c)
        self._cells = list(cells)
        self._state_is_tuple = state_is_tuple
        if all(c._has_core() for c in cells):
            core = rnnkit.MultiRNNCell([c._core for c in cells])
            self._core = _state_layout(self, core, state_is_tuple, "MultiRNNCell")
        elif not state_is_tuple:
            raise TypeError(
                "MultiRNNCell(state_is_tuple=False) over user-written cells is outside "
                "rnnkit.compat.v1's subset; use state_is_tuple=True."
            )

    def _core_parts(self) -> list[RNNCell]:
        parts: list[RNNCell] = []
        for c in self._cells:
            parts += [p for p in c._core_parts() if all(p is not q for q in parts)]
        return parts

    def build_weights(self, scope: str, input_size: int | None, dtype: DType) -> _Weights:
        if input_size is not None:
            self._check_shared_widths(scope, int(input_size))
        return super().build_weights(scope, input_size, dtype)

    def _check_shared_widths(self, scope: str, width: int) -> None:
        """A cell object listed twice has one kernel, built for the inputs of its first place;
        TF1 then fails at graph build when another place feeds it inputs of another width."""
        first: dict[int, tuple[int, int]] = {}
        for k, cell in enumerate(self._cells):
            core = _leaf_core(cell._core)  # wrappers of one cell share its kernel too
            key, rec = id(core), core.output_size  # the kernel has input + recurrent rows
            if key in first and first[key][1] != width:
                k0, w0 = first[key]
                is_stack = isinstance(core, rnnkit.MultiRNNCell)
                leaf = "multi_rnn_cell" if is_stack else _leaf_scope_name(core)
                name = "/".join(p for p in (scope.lstrip("/"), self._tf_name, f"cell_{k0}", leaf))
                raise ValueError(
                    f"Dimensions must be equal, but are {width + rec} and {w0 + rec} for "
                    f"'{{{{node {name}/MatMul}}}} = MatMul' with input shapes: "
                    f"[?,{width + rec}], [{w0 + rec},?] (one cell object is in cells[{k0}] and "
                    f"cells[{k}] of the MultiRNNCell: its one kernel takes inputs of width {w0}, "
                    f"and cells[{k}] receives width {width})."
                )
            first.setdefault(key, (k, width))
            width = cell.output_size

    @property
    def state_size(self) -> Any:
        if self._core is not None:
            return self._core.state_size
        return tuple(c.state_size for c in self._cells)

    @property
    def output_size(self) -> int:
        return self._cells[-1].output_size

    def __call__(self, inputs: Any, state: Any, scope: str | None = None) -> tuple[Tensor, Any]:
        if self._has_core():
            return super().__call__(inputs, state, scope)

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
    time. Dropout applies whenever the keep probability is below one, as in TensorFlow. Around a
    user-written cell it is ``tf.nn.dropout`` on the step's input, output and state in the graph
    (no ``variational_recurrent``)."""

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
        else:  # a user-written cell: dropout ops around its call in the graph
            unsupported_option(
                "DropoutWrapper(variational_recurrent", variational_recurrent or None
            )
            for key, value in static.items():
                if isinstance(value, _py_bool) or not isinstance(value, numbers.Real):
                    raise TypeError(
                        f"Received an invalid value for argument `{key}`: expected a float or a "
                        f"scalar tensor, got {value!r}."
                    )
                if not 0.0 <= value <= 1.0:  # TF's check and wording (%d of the value)
                    raise ValueError(f"Parameter {key} must be between 0 and 1: {int(value)}")
            self._probs, self._seed = probs, seed

    def __call__(self, inputs: Any, state: Any, scope: str | None = None) -> tuple[Tensor, Any]:
        if self._has_core():
            return super().__call__(inputs, state, scope)
        from rnnkit.compat.v1.nn import dropout

        def drop(key: str, t: Any) -> Any:
            p = self._probs[key]
            if not isinstance(p, Tensor) and p == 1.0:
                return t
            return dropout(t, keep_prob=p, seed=self._seed)

        args = (drop("input_keep_prob", inputs), state)
        out, new_state = self._cell(*args) if scope is None else self._cell(*args, scope=scope)
        new_state = _nest.map_structure(lambda t: drop("state_keep_prob", t), new_state)
        return drop("output_keep_prob", out), new_state

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


class NASCell(RNNCell):
    """``tf.contrib.rnn.NASCell(num_units, num_proj=None, use_biases=False)``: the recurrent cell
    found by Neural Architecture Search (Zoph & Le, 2017), a tree of eight input/recurrent
    branches over an LSTM-like state ``LSTMStateTuple(c (num_units), m (num_proj or num_units))``.

    Variables, under ``nas_cell``: ``recurrent_kernel (m, 8 * num_units)``, ``kernel (input,
    8 * num_units)``, ``bias (8 * num_units)`` (zeros; with ``use_biases``, added to the recurrent
    branch only) and ``projection_weights (num_units, num_proj)`` with ``num_proj``. Its step runs
    as graph ops (like a user-written cell)."""

    def __init__(
        self, num_units: int, num_proj: int | None = None, use_biases: _py_bool = False,
        reuse: Any = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self._num_units = _check_units("num_units", num_units)
        self._num_proj = _check_units("num_proj", num_proj, optional=True)
        if not isinstance(use_biases, _py_bool):
            raise TypeError(
                "Received an invalid value for argument `use_biases`: expected True or False, "
                f"got {use_biases!r}."
            )
        self._use_biases = use_biases

    @property
    def state_size(self) -> LSTMStateTuple:
        return LSTMStateTuple(self._num_units, self.output_size)

    @property
    def output_size(self) -> int:
        return self._num_proj or self._num_units

    def call(self, inputs: Any, state: Any) -> tuple[Tensor, LSTMStateTuple]:
        from rnnkit.compat.v1 import array_ops, nn
        from rnnkit.compat.v1.init_ops import zeros_initializer
        from rnnkit.compat.v1.variables import get_variable

        x = convert_to_tensor(inputs)
        c_prev, m_prev = state
        width = _width(x)
        if width is None:
            raise ValueError("Could not infer input size from inputs.get_shape()[-1]")
        n, dt = self._num_units, x.dtype
        w_m = get_variable("recurrent_kernel", [self.output_size, 8 * n], dt)
        w_x = get_variable("kernel", [width, 8 * n], dt)
        m_mat = math_ops.matmul(m_prev, w_m)
        x_mat = math_ops.matmul(x, w_x)
        if self._use_biases:
            bias = get_variable("bias", [8 * n], dt, initializer=zeros_initializer())
            m_mat = nn.bias_add(m_mat, bias)
        ms = array_ops.split(m_mat, 8, axis=1)
        xs = array_ops.split(x_mat, 8, axis=1)
        sig, tanh, relu = math_ops.sigmoid, math_ops.tanh, math_ops.relu
        # first layer: eight branches, each joining the input and recurrent parts
        a0 = sig(xs[0] + ms[0])
        a1 = relu(xs[1] + ms[1])
        a2 = sig(xs[2] + ms[2])
        a3 = relu(xs[3] * ms[3])
        a4 = tanh(xs[4] + ms[4])
        a5 = sig(xs[5] + ms[5])
        a6 = tanh(xs[6] + ms[6])
        a7 = sig(xs[7] + ms[7])
        # second layer: pairs; the previous cell state enters the first pair
        b0 = tanh(tanh(a0 * a1) + c_prev)
        b1 = tanh(a2 + a3)
        b2 = tanh(a4 * a5)
        b3 = sig(a6 + a7)
        new_c = b0 * b1
        new_m = tanh(new_c * tanh(b2 + b3))
        if self._num_proj is not None:
            w_p = get_variable("projection_weights", [n, self._num_proj], dt)
            new_m = math_ops.matmul(new_m, w_p)
        return new_m, LSTMStateTuple(new_c, new_m)


def mark_alignment_histories(state: Any, under_history: _py_bool = False) -> Any:
    """Give every ``alignment_history`` tensor in ``state`` (one per attention mechanism) TF1's
    ``TensorArray.stack()``."""
    if _nest.is_sequence(state):
        fields = getattr(state, "_fields", None)
        for k, item in enumerate(state):
            here = under_history or (fields is not None and fields[k] == "alignment_history")
            mark_alignment_histories(item, here)
    elif under_history and isinstance(state, Tensor):
        state.stack = lambda name=None, _h=state: _h  # type: ignore[attr-defined]
    return state
