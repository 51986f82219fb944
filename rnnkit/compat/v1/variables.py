"""Variables (TensorFlow's ``ops/variables.py`` and ``ops/variable_scope.py``).

A :class:`Variable` is a graph tensor whose value lives in each session (its
:class:`~rnnkit.compat.v1.variable_store.VariableStore`), set by its initializer op.
``get_variable`` names variables by the enclosing ``variable_scope``s and, like TensorFlow, refuses
to create a name twice unless the scope reuses. Variables in the collections ``GLOBAL_VARIABLES`` /
``TRAINABLE_VARIABLES`` are what ``global_variables_initializer``, the optimizers and ``Saver`` see.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from rnnkit.compat.v1.dtypes import as_dtype, float32
from rnnkit.compat.v1.errors import InvalidArgumentError
from rnnkit.compat.v1.init_ops import as_initializer, glorot_uniform_initializer
from rnnkit.compat.v1.ops import (
    GraphKeys,
    Operation,
    Tensor,
    cast_tensor,
    convert_to_tensor,
    get_default_graph,
    session_for,
    shape_list,
    to_numpy,
)
from rnnkit.compat.v1.tensor_shape import TensorShape, shape_text

_py_bool = bool

__all__ = [
    "Variable",
    "VariableScope",
    "variable_scope",
    "get_variable",
    "get_variable_scope",
    "global_variables",
    "all_variables",
    "trainable_variables",
    "local_variables",
    "global_variables_initializer",
    "initialize_all_variables",
    "variables_initializer",
    "local_variables_initializer",
    "assign",
    "assign_add",
    "assign_sub",
    "AUTO_REUSE",
    "is_variable_initialized",
]

AUTO_REUSE = "AUTO_REUSE"


class Variable(Tensor):
    """A variable: a value kept by each session, set by its initializer.

    ``Variable(initial_value, trainable=True, name=None, dtype=None)``; ``initial_value`` is a tensor
    (e.g. ``tf.random_normal([3, 5])``) or a Python/numpy value.
    """

    _stateful = True

    def __init__(
        self,
        initial_value: Any = None,
        trainable: _py_bool = True,
        collections: Sequence[str] | None = None,
        validate_shape: _py_bool = True,
        caching_device: Any = None,
        name: str | None = None,
        variable_def: Any = None,
        dtype: Any = None,
        expected_shape: Any = None,
        import_scope: Any = None,
        constraint: Any = None,
        use_resource: Any = None,
        *,
        _exact_name: str | None = None,
    ) -> None:
        if callable(initial_value) and not isinstance(initial_value, Tensor):
            initial_value = initial_value()
        if initial_value is None:
            raise ValueError("Received an invalid value for argument `initial_value`: got None.")
        dt = None if dtype is None else as_dtype(dtype)
        graph = get_default_graph()
        base = _exact_name or name or "Variable"
        init = convert_to_tensor(initial_value, dt, name="initial_value")
        if dt is not None and init.dtype is not dt:
            init = cast_tensor(init, dt)
        if _exact_name is not None:
            super().__init__(_exact_name, init.dtype, init.shape, graph=graph, unique=False)
            graph._names.setdefault(_exact_name.lower(), 1)
        else:
            super().__init__(base, init.dtype, init.shape, graph=graph)
        self._control = ()
        self.initial_value = init
        self.trainable = _py_bool(trainable)
        self.constraint = constraint
        self.initializer = Operation(
            f"{self._op_name}/Assign",
            [init],
            effect=self._assign_effect,
            graph=graph,
            register=False,
        )
        for key in collections or [GraphKeys.GLOBAL_VARIABLES]:
            graph.add_to_collection(key, self)
        if self.trainable and GraphKeys.TRAINABLE_VARIABLES not in (collections or []):
            graph.add_to_collection(GraphKeys.TRAINABLE_VARIABLES, self)

    def _assign_effect(self, sess: Any, values: list[Any]) -> None:
        value = values[0].detach().to(self.dtype.torch).clone()
        sess.variable_store.assign(self, value, self.initializer.name)

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        return sess.variable_store.read(self)  # FailedPreconditionError when uninitialized

    def initialized_value(self) -> Tensor:
        return self.initial_value

    def value(self) -> Tensor:
        return self

    read_value = value

    def load(self, value: Any, session: Any = None) -> None:
        """Set this variable's value in ``session`` (default: the default session) from a Python or
        numpy value of its shape, without adding ops to the graph."""
        sess = session_for("load", session)
        arr = to_numpy(f"value of {self._op_name}", value, self.dtype)
        if not self.shape.is_compatible_with(arr.shape):
            raise ValueError(
                f"Cannot load a value of shape {arr.shape} into variable {self._op_name!r} of "
                f"shape {self.shape}."
            )
        sess.variable_store.assign(self, torch.from_numpy(np.array(arr, copy=True)))

    def assign(self, value: Any, use_locking: Any = None, name: str | None = None) -> Tensor:
        return assign(self, value, name=name)

    def assign_add(self, delta: Any, use_locking: Any = None, name: str | None = None) -> Tensor:
        return assign_add(self, delta, name=name)

    def assign_sub(self, delta: Any, use_locking: Any = None, name: str | None = None) -> Tensor:
        return assign_sub(self, delta, name=name)

    @property
    def op(self) -> Operation:
        if self._op is None:
            self._op = Operation(self._op_name, [self], graph=self.graph, register=False)
        return self._op

    def __repr__(self) -> str:
        return f"<tf.Variable {self.name!r} shape={self.shape} dtype={self.dtype.name}_ref>"


class _Assign(Tensor):
    """``ref = f(ref, value)`` in the session; evaluates to the new value."""

    _stateful = True

    def __init__(
        self, name: str, ref: Variable, value: Tensor, update: Any, kind: str = "Assign"
    ) -> None:
        super().__init__(name, ref.dtype, ref.shape, [value])
        self._ref = ref
        self._update = update
        if update is not None:  # AssignAdd/AssignSub: both shapes merged, as TF's shape function
            _merge_both(self._op_name, kind, ref.shape, value.shape)

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        store = sess.variable_store
        with torch.no_grad():
            new = values[0].detach().to(self._ref.dtype.torch)
            if self._update is not None:  # FailedPreconditionError when uninitialized
                old = store.read(self._ref)
                if old.shape != new.shape:  # TF's kernel does not broadcast the update
                    raise InvalidArgumentError(
                        "Parameters and update must be the same size "
                        f"(in op {self._op_name!r}: {list(old.shape)} and {list(new.shape)})"
                    )
                new = self._update(old, new)
            return store.assign(self._ref, new.clone(), self._op_name)


def _merge_both(node: str, op: str, a: TensorShape, b: TensorShape) -> None:
    """TF's build-time check that two inputs have one shape (``MergeBothInputsShapeFn``)."""
    if a.ndims is None or b.ndims is None:
        return
    where = f"for '{{{{node {node}}}}} = {op}' with input shapes: {shape_text(a)}, {shape_text(b)}."
    if a.ndims != b.ndims:
        raise ValueError(f"Shapes must be equal rank, but are {a.ndims} and {b.ndims} {where}")
    for i, (x, y) in enumerate(zip(a.as_list(), b.as_list())):
        if x is not None and y is not None and x != y:
            raise ValueError(
                f"Dimension {i} in both shapes must be equal, but are {x} and {y}. Shapes are "
                f"{shape_text(a)} and {shape_text(b)}. {where}"
            )


def _check_ref(ref: Any, op: str) -> Variable:
    if not isinstance(ref, Variable):
        raise TypeError(
            f"Received an invalid value for argument `ref` of tf.{op}: expected a tf.Variable, got "
            f"{ref!r}."
        )
    return ref


def assign(
    ref: Any,
    value: Any,
    validate_shape: Any = None,
    use_locking: Any = None,
    name: str | None = None,
) -> Tensor:
    """Set ``ref`` to ``value`` when run; evaluates to the new value."""
    ref = _check_ref(ref, "assign")
    v = convert_to_tensor(value, ref.dtype)
    return _Assign(name or "Assign", ref, v, None)


def assign_add(ref: Any, value: Any, use_locking: Any = None, name: str | None = None) -> Tensor:
    ref = _check_ref(ref, "assign_add")
    return _Assign(
        name or "AssignAdd", ref, convert_to_tensor(value, ref.dtype), torch.add, "AssignAdd"
    )


def assign_sub(ref: Any, value: Any, use_locking: Any = None, name: str | None = None) -> Tensor:
    ref = _check_ref(ref, "assign_sub")
    return _Assign(
        name or "AssignSub", ref, convert_to_tensor(value, ref.dtype), torch.sub, "AssignSub"
    )


# ------------------------------------------------------------------------------------------------
# Variable scopes and get_variable
# ------------------------------------------------------------------------------------------------


class VariableScope:
    """A variable scope: its name (``"a/b"``), reuse flag, and default initializer and dtype."""

    def __init__(
        self,
        name: str,
        reuse: Any = None,
        initializer: Any = None,
        dtype: Any = None,
        regularizer: Any = None,
    ) -> None:
        self.name = name
        self.original_name_scope = name + "/" if name else ""
        self.reuse = reuse
        self.initializer = initializer
        self.dtype = dtype
        self.regularizer = regularizer

    def reuse_variables(self) -> None:
        self.reuse = True

    def set_initializer(self, initializer: Any) -> None:
        self.initializer = initializer

    def set_regularizer(self, regularizer: Any) -> None:
        self.regularizer = regularizer


def get_variable_scope() -> VariableScope:
    graph = get_default_graph()
    return graph._var_scopes[-1] if graph._var_scopes else VariableScope("")


@contextlib.contextmanager
def variable_scope(
    name_or_scope: Any,
    default_name: str | None = None,
    values: Any = None,
    initializer: Any = None,
    regularizer: Any = None,
    caching_device: Any = None,
    partitioner: Any = None,
    custom_getter: Any = None,
    reuse: Any = None,
    dtype: Any = None,
    use_resource: Any = None,
    constraint: Any = None,
    auxiliary_name_scope: _py_bool = True,
) -> Iterator[VariableScope]:
    """``with tf.variable_scope("layer1"):`` prefixes variable (and op) names with ``layer1/``;
    ``reuse=True`` / ``tf.AUTO_REUSE`` lets ``get_variable`` return existing variables."""
    graph = get_default_graph()
    parent = get_variable_scope()
    if isinstance(name_or_scope, VariableScope):
        full = name_or_scope.name
        name_scope = name_or_scope.original_name_scope or None
    elif name_or_scope:
        full = f"{parent.name}/{name_or_scope}" if parent.name else str(name_or_scope)
        name_scope = str(name_or_scope)
    elif default_name:
        base = f"{parent.name}/{default_name}" if parent.name else default_name
        full, n = base, 0
        while (
            any(
                v._op_name.startswith(full + "/")
                for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES)
            )
            or full in graph._used_var_scopes
        ):
            n += 1
            full = f"{base}_{n}"
        name_scope = full.rsplit("/", 1)[-1]
    else:
        raise ValueError("variable_scope needs `name_or_scope` or `default_name`.")
    graph._used_var_scopes.add(full)
    if reuse is False:
        reuse = None
    # a scope object brings its own reuse flag, initializer and regularizer; a name inherits the
    # enclosing scope's (a reusing parent makes every child reuse)
    base = name_or_scope if isinstance(name_or_scope, VariableScope) else parent
    scope = VariableScope(
        full,
        reuse=True if base.reuse is True else (reuse if reuse is not None else base.reuse),
        initializer=initializer if initializer is not None else base.initializer,
        dtype=dtype if dtype is not None else base.dtype,
        regularizer=regularizer if regularizer is not None else base.regularizer,
    )
    graph._var_scopes.append(scope)
    try:
        if auxiliary_name_scope:
            with graph.name_scope(name_scope):
                yield scope
        else:
            yield scope
    finally:
        graph._var_scopes.pop()


def variables_by_name(graph: Any) -> dict[str, Variable]:
    """The graph's global variables by name (``"rnn/basic_rnn_cell/kernel"``)."""
    return {v._op_name: v for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES)}


def unique_variable_name(base: str, graph: Any = None) -> str:
    """``base``, or ``base_1``, ``base_2``, ... when a global variable already has that name."""
    taken = variables_by_name(graph or get_default_graph())
    name, n = base, 0
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def get_variable(
    name: str,
    shape: Any = None,
    dtype: Any = None,
    initializer: Any = None,
    regularizer: Any = None,
    trainable: _py_bool = True,
    collections: Any = None,
    caching_device: Any = None,
    partitioner: Any = None,
    validate_shape: _py_bool = True,
    use_resource: Any = None,
    custom_getter: Any = None,
    constraint: Any = None,
) -> Variable:
    """The variable ``scope/name``: created (by ``initializer``, the scope's, or glorot-uniform
    for floats and zeros otherwise) or, in a reusing scope, the existing one."""
    graph = get_default_graph()
    scope = get_variable_scope()
    full = f"{scope.name}/{name}" if scope.name else name
    existing = variables_by_name(graph).get(full)
    if scope.reuse is True and existing is None:
        raise ValueError(
            f"Variable {full} does not exist, or was not created with tf.get_variable(). Did you "
            "mean to set reuse=tf.AUTO_REUSE in VarScope?"
        )
    if existing is not None:
        if scope.reuse not in (True, AUTO_REUSE):
            raise ValueError(
                f"Variable {full} already exists, disallowed. Did you mean to set reuse=True or "
                "reuse=tf.AUTO_REUSE in VarScope?"
            )
        if shape is not None and not existing.shape.is_compatible_with(TensorShape(shape)):
            raise ValueError(
                f"Trying to share variable {full}, but specified shape {TensorShape(shape)} and "
                f"found shape {existing.shape}."
            )
        return existing
    dt = as_dtype(dtype) if dtype is not None else (as_dtype(scope.dtype) if scope.dtype else None)
    init = initializer if initializer is not None else scope.initializer
    with graph.name_scope(""), graph.name_scope(full + "/"):
        if isinstance(init, Tensor) or (init is not None and not callable(init)):
            value = convert_to_tensor(init, dt)
            if shape is not None and not value.shape.is_compatible_with(TensorShape(shape)):
                raise ValueError(
                    f"Received an invalid value for argument `shape` of get_variable({name!r}): "
                    f"{TensorShape(shape)} does not match the initial value's shape {value.shape}."
                )
        else:
            if shape is None:
                raise ValueError(
                    f"Shape of a new variable ({full}) must be fully defined, but instead was None."
                )
            dims = shape_list("shape", shape)
            dt = dt or float32
            if init is None:
                init = glorot_uniform_initializer() if dt.is_floating else _zeros_init()
            with graph.name_scope("Initializer"):
                value = as_initializer(init)(dims, dtype=dt)
    var = Variable(
        value,
        trainable=trainable,
        collections=collections,
        dtype=dt,
        _exact_name=full,
        constraint=constraint,
    )
    regularizer = regularizer if regularizer is not None else scope.regularizer
    if regularizer is not None:  # TF1: the penalty joins REGULARIZATION_LOSSES
        with graph.name_scope(""), graph.name_scope(full + "/Regularizer/"):
            loss = regularizer(var)
        if loss is not None:
            graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return var


def _zeros_init() -> Any:
    from rnnkit.compat.v1.init_ops import zeros_initializer

    return zeros_initializer()


# ------------------------------------------------------------------------------------------------
# Collections and initializers
# ------------------------------------------------------------------------------------------------


def global_variables(scope: str | None = None) -> list[Variable]:
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


all_variables = global_variables


def trainable_variables(scope: str | None = None) -> list[Variable]:
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope: str | None = None) -> list[Variable]:
    return get_default_graph().get_collection("local_variables", scope)


def variables_initializer(var_list: Sequence[Any], name: str = "init") -> Operation:
    """An op setting each variable of ``var_list`` to its initial value (in this session)."""
    if isinstance(var_list, Variable) or not isinstance(var_list, (list, tuple)):
        raise TypeError(
            "Received an invalid value for argument `var_list`: expected a list of variables, "
            f"got {var_list!r}."
        )
    for v in var_list:
        if not isinstance(v, Variable):
            raise TypeError(
                "Received an invalid value for argument `var_list`: expected tf.Variable items, "
                f"got {v!r}."
            )
    variables = list(var_list)
    inits = [v.initial_value for v in variables]

    def effect(sess: Any, values: list[Any]) -> None:
        for v, value in zip(variables, values):
            v._assign_effect(sess, [value])

    return Operation(name, inits, effect=effect)


def global_variables_initializer() -> Operation:
    """An op initializing every global variable created so far (cell weights included)."""
    return variables_initializer(global_variables())


initialize_all_variables = global_variables_initializer


def local_variables_initializer() -> Operation:
    return variables_initializer(local_variables(), name="init_1")


def is_variable_initialized(variable: Variable) -> Tensor:
    def check(sess: Any) -> Any:
        return torch.tensor(sess.variable_store.is_initialized(variable))

    from rnnkit.compat.v1.dtypes import bool as tf_bool

    node = Tensor("IsVariableInitialized", tf_bool, [])
    node._compute = lambda sess, values: check(sess)  # type: ignore[method-assign]
    return node
