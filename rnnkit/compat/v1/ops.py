"""The graph core (TensorFlow's ``framework/ops.py``): graphs, name and device scopes, nodes, tensors.

A graph node is lazy: ``Tensor(op_name, dtype, shape, inputs, fn)`` computes ``fn(*input_values)``
(torch tensors) when a :class:`~rnnkit.compat.v1.session.Session` runs it, once per ``run``. Operators
on tensors (``+``, ``@``, ``[...]``) are installed by ``math_ops`` and ``array_ops``, as TensorFlow does.

Example::

    g = Graph()
    with g.as_default():
        x = placeholder(float32, [None, 3])      # shape (?, 3)
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from rnnkit.compat.v1.dtypes import DType, as_dtype, float32, infer_dtype, int32
from rnnkit.compat.v1.errors import InvalidArgumentError, unsupported
from rnnkit.compat.v1.tensor_shape import TensorShape

_py_bool = bool

__all__ = [
    "Graph",
    "Tensor",
    "Operation",
    "GraphKeys",
    "get_default_graph",
    "reset_default_graph",
    "set_random_seed",
    "name_scope",
    "device",
    "control_dependencies",
    "get_collection",
    "get_collection_ref",
    "add_to_collection",
    "placeholder",
    "placeholder_with_default",
    "constant",
    "convert_to_tensor",
    "group",
    "no_op",
    "IndexedSlicesValue",
]

_DEFAULT_GRAPH_SEED = 87654321


class GraphKeys:
    """Names of the standard collections."""

    GLOBAL_VARIABLES = "variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    UPDATE_OPS = "update_ops"
    GLOBAL_STEP = "global_step"
    LOSSES = "losses"
    REGULARIZATION_LOSSES = "regularization_losses"
    LOCAL_VARIABLES = "local_variables"
    QUEUE_RUNNERS = "queue_runners"
    SUMMARY_OP = "summary_op"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    SAVERS = "savers"
    SAVEABLE_OBJECTS = "saveable_objects"  # read by the PTB tutorial (its cuDNN path fills it)
    TRAIN_OP = "train_op"  # every Optimizer.apply_gradients op (the PTB tutorial reads it back)


class Graph:
    """A collection of nodes, named uniquely, with collections, scopes and a random seed."""

    def __init__(self) -> None:
        self.seed: int | None = None
        self._last_id = 0
        self._names: dict[str, int] = {}
        self._by_name: dict[str, Any] = {}
        self._collections: dict[str, list[Any]] = {}
        self._name_stack: list[str] = []  # name scopes ("" entries reset to the top level)
        self._var_scopes: list[Any] = []  # VariableScope objects (variables.py)
        self._used_var_scopes: set[str] = set()
        self._control: list[list[Any]] = []
        self._plans: dict[Any, Any] = {}  # Session run plans, keyed by fetches and feeds
        self.finalized = False

    def _next_id(self) -> int:
        self._last_id += 1
        return self._last_id

    @property
    def _scope_prefix(self) -> str:
        return self._name_stack[-1] if self._name_stack else ""

    def unique_name(self, base: str, mark_as_used: _py_bool = True) -> str:
        """``scope/base``, or ``scope/base_1``, ... when taken (TensorFlow's op naming)."""
        prefix = self._scope_prefix
        full = f"{prefix}/{base}" if prefix else base
        key = full.lower()
        n = self._names.get(key, 0)
        name = full if n == 0 else f"{full}_{n}"
        while n and name.lower() in self._names:
            n += 1
            name = f"{full}_{n}"
        if mark_as_used:
            self._names[key] = n + 1
            self._names.setdefault(name.lower(), 1)
        return name

    def _op_seed(self, op_seed: int | None) -> int | None:
        """TensorFlow's seed rule: graph seed + op seed (the op's id when only the graph's is set)."""
        if self.seed is None and op_seed is None:
            return None
        graph_seed = _DEFAULT_GRAPH_SEED if self.seed is None else self.seed
        op_seed = self._last_id if op_seed is None else int(op_seed)
        return (graph_seed * 1_000_003 + op_seed) % (2**63)

    # -- lookup ------------------------------------------------------------------------------------
    def get_tensor_by_name(self, name: str) -> Tensor:
        """The tensor named ``name`` (``"Placeholder:0"``, or ``"Placeholder"`` for output 0)."""
        key = name if ":" in name else f"{name}:0"
        if key not in self._by_name:
            raise KeyError(
                f"The name {name!r} refers to a Tensor which does not exist in this graph."
            )
        return self._by_name[key]

    def get_operation_by_name(self, name: str) -> Any:
        node = self._by_name.get(f"{name}:0") or self._by_name.get(name)
        if node is None:
            raise KeyError(f"The name {name!r} refers to an Operation not in the graph.")
        return node.op if isinstance(node, Tensor) else node

    def as_graph_element(self, obj: Any) -> Any:
        if isinstance(obj, str):
            return self.get_tensor_by_name(obj) if ":" in obj else self.get_operation_by_name(obj)
        return obj

    def get_operations(self) -> list[str]:
        return sorted({k.split(":")[0] for k in self._by_name})

    # -- collections -------------------------------------------------------------------------------
    def add_to_collection(self, name: str, value: Any) -> None:
        self._collections.setdefault(name, []).append(value)

    def get_collection(self, name: str, scope: str | None = None) -> list[Any]:
        items = list(self._collections.get(name, []))
        if scope:
            items = [i for i in items if getattr(i, "name", "").startswith(scope)]
        return items

    def get_collection_ref(self, name: str) -> list[Any]:
        return self._collections.setdefault(name, [])

    # -- scopes ------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def name_scope(self, name: str | None) -> Iterator[str]:
        """Prefix the names of nodes created inside with ``name/`` (made unique); ``None`` or ``""``
        returns to the top level. Yields the scope string ``"name/"``."""
        if name is None or name == "":
            scope = ""
        elif name.endswith("/"):  # an existing scope re-entered as is
            scope = name[:-1]
        else:
            scope = self.unique_name(name)
        self._name_stack.append(scope)
        try:
            yield scope + "/" if scope else ""
        finally:
            self._name_stack.pop()

    @contextlib.contextmanager
    def as_default(self) -> Iterator[Graph]:
        _graph_stack.append(self)
        try:
            yield self
        finally:
            _graph_stack.remove(self)

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs: Sequence[Any] | None) -> Iterator[None]:
        self._control.append([] if control_inputs is None else list(control_inputs))
        try:
            yield
        finally:
            self._control.pop()

    def _current_control(self) -> list[Any]:
        out: list[Any] = []
        for c in self._control:
            for n in c:
                n = n.op if isinstance(n, Tensor) else n
                if n not in out:
                    out.append(n)
        return out

    def finalize(self) -> None:
        self.finalized = True

    @contextlib.contextmanager
    def device(self, name: Any) -> Iterator[None]:
        yield


_graph_stack: list[Graph] = []
_global_graph = [Graph()]
_session_stack: list[Any] = []  # sessions entered with `with` / as_default (session.py)


def get_default_session() -> Any:
    """The session of the innermost ``with Session()`` / ``with sess.as_default()`` block."""
    return _session_stack[-1] if _session_stack else None


def session_for(what: str, session: Any) -> Any:
    sess = session or get_default_session()
    if sess is None:
        raise ValueError(
            f"Cannot {what} without a session: no default session is registered. Use "
            f"`with tf.Session() as sess:` or pass it explicitly ({what}(session=sess))."
        )
    return sess


def get_default_graph() -> Graph:
    """The graph new nodes go into."""
    return _graph_stack[-1] if _graph_stack else _global_graph[0]


def reset_default_graph() -> None:
    """Start a fresh default graph (not allowed inside a ``with graph.as_default()`` block)."""
    if _graph_stack:
        raise AssertionError(
            "Do not use tf.reset_default_graph() to clear nested graphs. If you need a cleared "
            "graph, exit the nesting and create a new graph."
        )
    _global_graph[0] = Graph()


def set_random_seed(seed: int) -> None:
    """Set the default graph's random seed: random ops and initial values become reproducible."""
    if isinstance(seed, _py_bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"Received an invalid value for argument `seed`: expected an integer, got {seed!r}."
        )
    get_default_graph().seed = int(seed)


def name_scope(name: str | None, default_name: str | None = None, values: Any = None) -> Any:
    """``with tf.name_scope("loss"):`` prefixes the names of ops created inside."""
    return get_default_graph().name_scope(name if name is not None else default_name)


def device(name: Any) -> Any:
    """``with tf.device("/gpu:0"):`` accepted for compatibility; placement is rnnkit's (the CPU, or
    CUDA when the inputs are on it)."""
    if not (name is None or isinstance(name, str) or callable(name)):
        raise TypeError(
            f"Received an invalid value for argument `device_name_or_function`: expected a device "
            f"string such as '/cpu:0', got {name!r}."
        )
    return get_default_graph().device(name)


def control_dependencies(control_inputs: Sequence[Any] | None) -> Any:
    """Ops created inside run after ``control_inputs`` (each op of the block waits for them)."""
    return get_default_graph().control_dependencies(control_inputs)


def get_collection(key: str, scope: str | None = None) -> list[Any]:
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key: str) -> list[Any]:
    return get_default_graph().get_collection_ref(key)


def add_to_collection(name: str, value: Any) -> None:
    get_default_graph().add_to_collection(name, value)


# ------------------------------------------------------------------------------------------------
# Nodes
# ------------------------------------------------------------------------------------------------


class _Node:
    """A lazy graph node: ``_compute(session, input_values)`` runs once per ``Session.run``.

    ``_inputs`` are data inputs; ``_control`` nodes run first but pass no value.
    """

    _inputs: tuple[_Node, ...] = ()
    _control: tuple[_Node, ...] = ()
    _stateful = False  # reads or writes session state (variables): never cached across runs

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        raise NotImplementedError


def _check_same_graph(node: Any, graph: Graph) -> None:
    if getattr(node, "graph", graph) is not graph:
        raise ValueError(
            f"{node!r} must be from the same graph as the other tensors of this op (was "
            "tf.reset_default_graph() called between creating them?)."
        )


class Tensor(_Node):
    """A symbolic value: the output of a graph node, evaluated by ``Session.run`` or ``eval()``.

    ``Tensor(op_name, dtype, shape, inputs, fn)``: ``fn(*input_values) -> torch.Tensor``.
    """

    # make numpy defer to our operators (np_array + tensor -> Tensor.__radd__)
    __array_priority__ = 100

    def __init__(
        self,
        op_name: str,
        dtype: DType,
        shape: Any,
        inputs: Sequence[_Node] = (),
        fn: Callable[..., Any] | None = None,
        graph: Graph | None = None,
        unique: _py_bool = True,
        index: int = 0,
    ) -> None:
        self.graph = graph or get_default_graph()
        self._index = index
        self._id = self.graph._next_id()
        self._op_name = self.graph.unique_name(op_name) if unique else op_name
        self.dtype = dtype
        self._shape = shape if isinstance(shape, TensorShape) else TensorShape(shape)
        self._inputs = tuple(inputs)
        for node in self._inputs:
            _check_same_graph(node, self.graph)
        self._control = tuple(self.graph._current_control()) if self.graph._control else ()
        self._fn = fn
        self._op: Operation | None = None
        self.graph._by_name[self.name] = self

    @property
    def name(self) -> str:
        return f"{self._op_name}:{self._index}"

    @property
    def shape(self) -> TensorShape:
        return self._shape

    def get_shape(self) -> TensorShape:
        return self._shape

    def set_shape(self, shape: Any) -> None:
        new = TensorShape(shape)
        if not self._shape.is_compatible_with(new):
            raise ValueError(f"Shapes {self._shape} and {new} are incompatible ({self.name!r}).")
        self._shape = self._shape.merge_with(new)

    @property
    def op(self) -> Operation:
        """The operation producing this tensor; running it evaluates the tensor and returns None."""
        if self._op is None:
            self._op = Operation(self._op_name, [self], graph=self.graph, register=False)
        return self._op

    @property
    def device(self) -> str:
        return ""

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        assert self._fn is not None
        return run_kernel(self._op_name, self._fn, values)

    def eval(self, feed_dict: dict | None = None, session: Any = None) -> Any:
        """Evaluate in ``session`` (default: the session of the enclosing ``with Session()``)."""
        return session_for("eval", session).run(self, feed_dict=feed_dict)

    def consumers(self) -> list[Any]:
        return []

    def __repr__(self) -> str:
        return f"<tf.Tensor {self.name!r} shape={self.shape} dtype={self.dtype.name}>"

    # TensorFlow tensors hash and compare by identity (so they can key feed_dict)
    __hash__ = object.__hash__

    def __bool__(self) -> _py_bool:
        raise TypeError(
            "Using a tf.Tensor as a Python bool is not allowed; run it in a session to get its value."
        )

    def __iter__(self) -> Iterator[Any]:
        dims = self.shape.dims
        if dims is None or dims[0].value is None:
            raise TypeError(
                f"Tensor {self.name!r} is not iterable in graph mode (its first dimension is "
                "unknown); use tf.unstack(tensor, num=...) to split it."
            )
        return iter([self[i] for i in range(dims[0].value)])

    def __len__(self) -> int:
        raise TypeError(f"len is not well defined for symbolic Tensors ({self.name!r}).")


class Operation(_Node):
    """A node run for its effect (an initializer, a training step); fetching it returns ``None``.

    ``effect(session, input_values)`` runs under ``torch.no_grad()``.
    """

    def __init__(
        self,
        name: str,
        inputs: Sequence[_Node] = (),
        effect: Callable[[Any, list[Any]], None] | None = None,
        graph: Graph | None = None,
        register: _py_bool = True,
        control: Sequence[_Node] = (),
    ) -> None:
        self.graph = graph or get_default_graph()
        self.name = self.graph.unique_name(name) if register else name
        self._inputs = tuple(inputs)
        self._control = tuple(control) + (
            tuple(self.graph._current_control()) if register and self.graph._control else ()
        )
        self._effect = effect
        self._stateful = effect is not None
        if register:
            self._id = self.graph._next_id()  # creation order (control flow finds its branch ops)
            self.graph._by_name.setdefault(self.name, self)

    @property
    def type(self) -> str:
        return type(self).__name__

    @property
    def outputs(self) -> list[Tensor]:
        return [i for i in self._inputs if isinstance(i, Tensor) and i._op is self]

    @property
    def inputs(self) -> list[Any]:
        return list(self._inputs)

    def _compute(self, sess: Any, values: list[Any]) -> None:
        if self._effect is not None:
            with torch.no_grad():
                self._effect(sess, values)
        return None

    def run(self, feed_dict: dict | None = None, session: Any = None) -> None:
        """Run in ``session`` (default: the session of the enclosing ``with Session()``)."""
        session_for("run", session).run(self, feed_dict=feed_dict)

    def __repr__(self) -> str:
        return f"<tf.Operation {self.name!r}>"


def group(*inputs: Any, name: str = "group_deps") -> Operation:
    """An op that runs all ``inputs`` (ops or tensors)."""
    nodes = [i for i in _flatten_nodes(inputs)]
    return Operation(name, control=nodes)


def no_op(name: str = "NoOp") -> Operation:
    return Operation(name)


def _flatten_nodes(items: Any) -> list[_Node]:
    out: list[_Node] = []
    for i in items:
        if isinstance(i, (list, tuple)):
            out.extend(_flatten_nodes(i))
        elif isinstance(i, _Node):
            out.append(i)
        elif i is not None:
            raise TypeError(f"Expected ops or tensors, got {i!r}.")
    return out


class StructNode(_Node):
    """Evaluates to a Python structure of torch tensors; :func:`leaf` tensors pick its parts.

    ``partial``: None, or ``(kept, fn)`` set by :meth:`offer_partial`: a cheaper kernel that still
    computes the output tensors ``kept`` (an RNN's final state without its outputs); a session's
    plan runs it when nothing else of the node is read."""

    partial: tuple[tuple[_Node, ...], Callable[..., Any]] | None = None

    def offer_partial(self, kept: Sequence[_Node], fn: Callable[..., Any]) -> None:
        self.partial = (tuple(kept), fn)

    def __init__(
        self, name: str, inputs: Sequence[_Node], fn: Callable[..., Any], graph: Graph
    ) -> None:
        self.graph = graph
        self.name = name
        self._inputs = tuple(inputs)
        for node in self._inputs:
            _check_same_graph(node, graph)
        self._control = tuple(graph._current_control()) if graph._control else ()
        self._fn = fn
        self._n_outputs = 0
        self._id = graph._next_id()

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        return run_kernel(self.name, self._fn, values)


_KERNEL_COMPUTES = (Tensor._compute, StructNode._compute)


def kernel_only(n: _Node) -> bool:
    """Whether ``n``'s value is ``n._fn(*input_values)``: its ``_compute`` is run_kernel's, so
    :func:`run_steps` may call the kernel itself, saving two Python calls a node."""
    return (
        type(n)._compute in _KERNEL_COMPUTES
        and "_compute" not in vars(n)
        and getattr(n, "_fn", None) is not None
    )


def requiring_grad(v: Any) -> Any:
    """A floating tensor as a leaf that records gradients (a value ``tf.gradients`` differentiates
    with respect to); anything else unchanged."""
    if isinstance(v, torch.Tensor) and v.is_floating_point() and not v.requires_grad:
        return v.detach().requires_grad_(True)
    return v


def run_steps(
    sess: Any,
    steps: Sequence[tuple[int, _Node, list[int], bool]],
    vals: list[Any],
    targets: set[int],
) -> None:
    """An executor's loop (``Session.run``'s plan, a loop body): for each step ``(slot, node, input
    slots, kernel_only(node))``, the node's value into ``vals[slot]``, as a gradient-recording leaf
    where the slot is in ``targets``. Torch's own errors about a kernel's inputs become
    TensorFlow's ``InvalidArgumentError`` naming the op, as :func:`run_kernel` does (rnnkit's and
    TF's error classes, and errors of other nodes, pass unchanged)."""
    step = None
    try:
        if targets:
            for step in steps:
                k, n, ins, direct = step
                args = [vals[i] for i in ins]
                v = n._fn(*args) if direct else n._compute(sess, args)
                vals[k] = requiring_grad(v) if k in targets else v
        else:
            for step in steps:
                k, n, ins, direct = step
                args = [vals[i] for i in ins]
                vals[k] = n._fn(*args) if direct else n._compute(sess, args)
    except (RuntimeError, IndexError) as e:
        if step is None or not step[3] or type(e) not in (RuntimeError, IndexError):
            raise
        n = step[1]
        name = n._op_name if isinstance(n, Tensor) else n.name
        raise InvalidArgumentError(f"{e} (in op {name!r})") from None


def run_kernel(name: str, fn: Callable[..., Any], values: list[Any]) -> Any:
    """``fn(*values)``; torch's own errors about its inputs (shapes that do not broadcast or
    multiply, sizes that do not match) become TensorFlow's run-time ``InvalidArgumentError``,
    naming the op."""
    try:
        return fn(*values)
    except (RuntimeError, IndexError) as e:
        if type(e) not in (RuntimeError, IndexError):  # rnnkit's and TF's own error classes
            raise
        raise InvalidArgumentError(f"{e} (in op {name!r})") from None


def leaf(
    node: StructNode,
    path: tuple[int, ...],
    dtype: DType,
    shape: Any,
    kind: type[Tensor] | None = None,
    **fields: Any,
) -> Tensor:
    """Output ``node.name:k`` of a multi-output node: the part of its value at ``path``; a
    ``kind`` other than Tensor (e.g. :class:`IndexedSlices`) gets ``fields`` as its own."""

    def pick(value: Any) -> torch.Tensor:
        for p in path:
            value = value[p]
        return value

    index = node._n_outputs
    node._n_outputs += 1
    return (kind or Tensor)(
        node.name,
        dtype,
        shape,
        [node],
        fn=pick,
        graph=node.graph,
        unique=False,
        index=index,
        **fields,
    )


class RowGather(Tensor):
    """Rows of ``params`` picked along its first axis by integer ``indices`` (``tf.gather`` with
    ``axis=0``, ``embedding_lookup``): ``inputs == [params, indices]``. ``tf.gradients`` gives a
    tensor reaching the loss only as the ``params`` of row gathers an :class:`IndexedSlices`
    gradient, the gradients of these nodes' outputs being its rows."""

    @property
    def params(self) -> Tensor:
        return self._inputs[0]  # type: ignore[return-value]

    @property
    def indices(self) -> Tensor:
        return self._inputs[1]  # type: ignore[return-value]


class IndexedSlices(Tensor):
    """A gradient made of rows, TensorFlow's ``tf.IndexedSlices``: the gradient of a tensor read
    only through :class:`RowGather` nodes. As a tensor it evaluates to the dense gradient (the
    rows summed per index; TF converts an IndexedSlices to that wherever a tensor is needed).
    ``indices`` (a vector of row ids, one per lookup) and ``value_parts`` (one tensor per gather,
    its rows in the gather's output layout; a repeated id's rows apart) are the sparse form:
    clipping maps the rows, the norms count each lookup's row, the optimizers whose sparse update
    differs update only the rows looked up, and ``Session.run`` fetches it as an
    :class:`IndexedSlicesValue`."""

    def __init__(
        self,
        *args: Any,
        indices: Tensor,
        value_parts: Sequence[Tensor],
        dense_like: Tensor | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not value_parts:
            raise ValueError("Received an invalid value for argument `value_parts`: no rows.")
        self.indices = indices
        self.value_parts = tuple(value_parts)
        # a tensor of the dense gradient's shape (the embedding itself): shapes read from it need
        # no dense gradient
        self.dense_like = self if dense_like is None else dense_like
        self._sparse_nodes: dict[str, Tensor] = {}

    def rows_node(
        self, name: str, inputs: Sequence[Tensor], fn: Callable[..., torch.Tensor]
    ) -> Tensor:
        """A node whose value is ``fn(rows, *inputs)``, ``rows`` the value parts as one ``(lookups,
        *row shape)`` tensor. The row shape comes from the static shape where it is fully known,
        else from the dense value (which the node then computes)."""
        n = len(self.value_parts)
        row = self.shape.as_list()[1:] if self.shape.ndims is not None else None
        known = row is not None and None not in row
        if known:
            body = lambda *vs: fn(stacked_rows(vs[:n], row), *vs[n:])  # noqa: E731
            ins = [*self.value_parts, *inputs]
        else:
            body = lambda d, *vs: fn(stacked_rows(vs[:n], d.shape[1:]), *vs[n:])  # noqa: E731
            ins = [self.dense_like, *self.value_parts, *inputs]
        return Tensor(
            name,
            self.dtype,
            None if row is None else [self.indices.shape.as_list()[0], *row],
            ins,
            fn=body,
            graph=self.graph,
        )

    @property
    def values(self) -> Tensor:
        """The rows as one ``(lookups, *row shape)`` tensor, in the order of ``indices``."""
        if "values" not in self._sparse_nodes:
            node = self.rows_node(f"{self._op_name}/values", [], lambda r: r)
            self._sparse_nodes["values"] = node
        return self._sparse_nodes["values"]

    @property
    def dense_shape(self) -> Tensor:
        """The dense gradient's shape (int32, as TensorFlow gives a variable's)."""
        if "dense_shape" not in self._sparse_nodes:
            self._sparse_nodes["dense_shape"] = Tensor(
                f"{self._op_name}/dense_shape",
                int32,
                [self.shape.ndims],
                [self.dense_like],
                fn=lambda d: torch.tensor(tuple(d.shape), dtype=torch.int32),
                graph=self.graph,
            )
        return self._sparse_nodes["dense_shape"]


def stacked_rows(parts: Sequence[torch.Tensor], row_shape: Sequence[int]) -> torch.Tensor:
    """An IndexedSlices' value parts (each in its lookup's layout) as one ``(lookups, *row_shape)``
    tensor, in order; a single part is reshaped, not copied."""
    if len(parts) == 1:
        return parts[0].reshape(-1, *row_shape)
    return torch.cat([p.reshape(-1, *row_shape) for p in parts])


class IndexedSlicesValue(NamedTuple):
    """A fetched embedding gradient, as TensorFlow returns its IndexedSlices: one row of ``values``
    per lookup (a repeated id's rows apart), the ``indices`` they belong to, and the dense shape."""

    values: np.ndarray
    indices: np.ndarray
    dense_shape: np.ndarray


def sparse_parts(t: Any) -> list[Any] | None:
    """The nodes whose values make up ``t``'s IndexedSlicesValue when ``t`` is an
    :class:`IndexedSlices` (its row indices, then its rows), else None."""
    return [t.indices, *t.value_parts] if isinstance(t, IndexedSlices) else None


def indexed_slices_value(dense: np.ndarray, indices: Any, *parts: Any) -> IndexedSlicesValue:
    dense = np.asarray(dense)
    rows = [np.asarray(p).reshape(-1, *dense.shape[1:]) for p in parts]
    return IndexedSlicesValue(
        values=np.concatenate(rows) if rows else np.zeros((0, *dense.shape[1:]), dense.dtype),
        indices=np.asarray(indices).reshape(-1),
        dense_shape=np.asarray(dense.shape, dtype=np.int32),
    )


# ------------------------------------------------------------------------------------------------
# Values into the graph
# ------------------------------------------------------------------------------------------------


def to_numpy(name: str, value: Any, dtype: DType) -> np.ndarray:
    """``value`` (scalar, nested list, numpy array, torch tensor) as a numpy array of ``dtype``.

    Integers must fit ``dtype`` (an int32 feed of ``2**40`` is an error, not a silent wrap)."""
    if isinstance(value, _Node):
        raise TypeError(
            f"Received an invalid value for `{name}`: expected a Python or numpy value, got the graph "
            f"tensor {getattr(value, 'name', value)!r} (graph tensors cannot be used as values here)."
        )
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"Received an invalid value for `{name}`: {e}") from None
    if arr.dtype.kind not in "fiub":
        raise TypeError(
            f"Received an invalid value for `{name}`: expected numbers convertible to "
            f"{dtype.name}, got {_short(value)} (numpy dtype {arr.dtype})."
        )
    if dtype.is_integer:
        if arr.dtype.kind == "f" and not np.all(np.mod(arr, 1) == 0):
            raise TypeError(
                f"Received an invalid value for `{name}`: expected values of type {dtype.name}, "
                f"got non-integral floats {_short(value)}."
            )
        if arr.size and arr.dtype.kind in "iuf":
            info = np.iinfo(dtype._np)
            lo, hi = arr.min(), arr.max()
            if lo < info.min or hi > info.max:
                raise ValueError(
                    f"Received an invalid value for `{name}`: expected {dtype.name} values in "
                    f"[{info.min}, {info.max}], got values from {lo} to {hi}."
                )
    return arr.astype(dtype._np, copy=False)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def shape_list(name: str, shape: Any) -> list[int]:
    """A fully known shape (list/tuple of ints or a TensorShape) as a list of ints."""
    if isinstance(shape, Tensor):
        raise TypeError(
            f"Received an invalid value for argument `{name}`: expected a static shape (a list of "
            f"ints), got the graph tensor {shape.name!r}."
        )
    s = TensorShape(shape)
    if not s.is_fully_defined():
        raise ValueError(
            f"Received an invalid value for argument `{name}`: expected a fully known shape, got "
            f"{shape!r}."
        )
    return s.as_list()


class _Placeholder(Tensor):
    def _compute(self, sess: Any, values: list[Any]) -> Any:
        raise InvalidArgumentError(
            f"You must feed a value for placeholder tensor {self._op_name!r} with dtype "
            f"{self.dtype.name} and shape {self.shape} (pass it in feed_dict)."
        )


def placeholder(dtype: Any, shape: Any = None, name: str | None = None) -> Tensor:
    """A tensor fed at run time: ``placeholder(tf.float32, [None, 3])`` (``None``: any size)."""
    return _Placeholder(name or "Placeholder", as_dtype(dtype), TensorShape(shape))


def placeholder_with_default(input: Any, shape: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """A tensor that is ``input`` unless fed: ``placeholder_with_default(False, shape=())``."""
    default = convert_to_tensor(input)
    shp = TensorShape(shape)
    if not shp.is_compatible_with(default.shape):
        raise ValueError(
            f"Received an invalid value for argument `input`: its shape {default.shape} is not "
            f"compatible with `shape` {shp}."
        )
    return Tensor(name or "PlaceholderWithDefault", default.dtype, shp, [default], fn=lambda v: v)


def _const_node(arr: np.ndarray, dtype: DType, name: str) -> Tensor:
    value = torch.from_numpy(np.array(arr, copy=True))
    t = Tensor(name, dtype, list(arr.shape), fn=lambda: value)
    t._const = arr
    t._const_value = value  # what every run computes: a session's run plan holds it ready
    return t


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str = "Const") -> Tensor:
    """A constant from a Python scalar, nested list or numpy array (integers included)."""
    dt = infer_dtype(value) if dtype is None else as_dtype(dtype)
    arr = to_numpy("value", value, dt)
    if shape is not None:
        target = shape_list("shape", shape)
        if arr.size == 1:
            arr = np.full(target, arr.reshape(()), dtype=dt._np)
        elif arr.size == int(np.prod(target)):
            arr = arr.reshape(target)
        else:
            raise ValueError(
                f"Received an invalid value for argument `shape`: {arr.size} values do not fill "
                f"shape {target}."
            )
    return _const_node(arr, dt, name)


def convert_to_tensor(value: Any, dtype: Any = None, name: str = "Const") -> Tensor:
    """``value`` as a graph tensor: tensors pass through (dtype checked; an embedding's sparse
    gradient becomes dense), other values become constants (Python floats default to float32, as
    in TensorFlow)."""
    if isinstance(value, Tensor):
        _check_same_graph(value, get_default_graph())
        if dtype is not None and as_dtype(dtype) is not value.dtype:
            raise ValueError(
                f"Tensor conversion requested dtype {as_dtype(dtype).name} for Tensor with dtype "
                f"{value.dtype.name}: {value!r}"
            )
        if isinstance(value, IndexedSlices):
            # an embedding's gradient converts to a dense tensor, as in TensorFlow:
            # the optimizers then apply it densely, as TF's do
            return Tensor("IndexedSlicesToDense", value.dtype, value.shape, [value], fn=lambda v: v)
        return value
    if isinstance(value, _Node) or hasattr(value, "state_size"):
        raise TypeError(
            f"Received an invalid value for `{name}`: expected a tensor, got {value!r}."
        )
    if isinstance(value, (list, tuple)) and any(isinstance(v, Tensor) for v in _iter_nested(value)):
        parts = [convert_to_tensor(v, dtype) for v in value]  # a packed list of tensors
        first = parts[0]
        for p in parts:
            if p.dtype is not first.dtype:
                raise TypeError(
                    f"Cannot pack tensors of dtypes {first.dtype.name} and {p.dtype.name}."
                )
            if not p.shape.is_compatible_with(first.shape):
                raise ValueError(
                    f"Tried to convert 'input' to a tensor and failed: shapes {first.shape} and "
                    f"{p.shape} of the packed tensors are incompatible."
                )
        shape = None if first.shape.ndims is None else [len(parts), *first.shape.as_list()]
        return Tensor("packed", first.dtype, shape, parts, fn=lambda *vs: torch.stack(vs))
    dt = None if dtype is None else as_dtype(dtype)
    if (
        dt is None
        and isinstance(value, (float, numbers.Real))
        and not isinstance(value, (numbers.Integral, np.generic))
    ):
        dt = float32
    return constant(value, dtype=dt, name="Const")


def _iter_nested(value: Any) -> Iterator[Any]:
    for v in value:
        if isinstance(v, (list, tuple)):
            yield from _iter_nested(v)
        else:
            yield v


def cast_tensor(x: Tensor, dtype: DType, name: str = "Cast") -> Tensor:
    return Tensor(name, dtype, x.shape, [x], fn=lambda v: v.to(dtype.torch))


def unsupported_option(name: str, value: Any, default: Any = None) -> None:
    if value is not default and not (default is None and value is None):
        close = (
            ")" if name.count("(") > name.count(")") else ""
        )  # "Cell(option" -> "Cell(option=1)"
        raise unsupported(f"{name}={value!r}{close}")
