"""A TensorFlow 1.x-style graph-and-session layer over rnnkit: ``import rnnkit.compat.v1 as tf``.

Building a graph creates lazy nodes (an op function and its input nodes); ``Session.run`` evaluates
the fetched nodes once each (memoized per run) into torch tensors and returns numpy arrays. Variables
hold their values per session, set by ``global_variables_initializer()``. The RNN functions run
rnnkit's own cells and runners: a compat cell wraps an ``rnnkit.cells`` cell, whose parameters *are*
the cell's weights, so a second cell never collides with the first (no global ``rnn`` scope).

Supported subset (anything else raises :class:`UnsupportedError` naming it)::

    placeholder Variable constant zeros ones random_normal random_uniform set_random_seed
    reset_default_graph get_default_graph global_variables_initializer variables_initializer
    global_variables trainable_variables float32 float64 int32 int64 bool
    matmul tanh sigmoid add subtract multiply divide negative transpose reshape concat stack unstack
    reduce_sum reduce_mean, + - * / @ ** and unary - on tensors
    nn.{relu, tanh, sigmoid, static_rnn, dynamic_rnn, bidirectional_dynamic_rnn}
    nn.rnn_cell.{RNNCell, BasicRNNCell, BasicLSTMCell, LSTMCell, GRUCell, MultiRNNCell, LSTMStateTuple}
    contrib.rnn.{the same cells, static_rnn}
    Session InteractiveSession get_default_session Graph TensorShape Dimension errors

Example::

    import rnnkit.compat.v1 as tf
    X = tf.placeholder(tf.float32, [None, 3])
    W = tf.Variable(tf.random_normal([3, 5]))
    Y = tf.tanh(tf.matmul(X, W))
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        print(sess.run(Y, feed_dict={X: [[0, 1, 2]]}).shape)   # (1, 5)

Differences from TensorFlow: cell weights are drawn when the cell is first built (at graph
construction when the input width is static, seeded from ``set_random_seed``) and are shared by all
sessions of the graph; ``global_variables_initializer`` marks them initialized. There is no training
(no gradients, optimizers or ``assign``).
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

import rnnkit
from rnnkit import _nest

__all__ = [
    "UnsupportedError",
    "errors",
    "DType",
    "as_dtype",
    "float32",
    "float64",
    "int32",
    "int64",
    "bool",
    "Dimension",
    "TensorShape",
    "Graph",
    "Tensor",
    "Operation",
    "Variable",
    "Session",
    "InteractiveSession",
    "get_default_graph",
    "get_default_session",
    "reset_default_graph",
    "set_random_seed",
    "placeholder",
    "constant",
    "zeros",
    "ones",
    "random_normal",
    "random_uniform",
    "global_variables_initializer",
    "variables_initializer",
    "global_variables",
    "trainable_variables",
    "matmul",
    "tanh",
    "sigmoid",
    "add",
    "subtract",
    "multiply",
    "divide",
    "negative",
    "transpose",
    "reshape",
    "concat",
    "stack",
    "unstack",
    "reduce_sum",
    "reduce_mean",
    "nn",
    "contrib",
    "SUPPORTED",
]

_py_bool = bool

# ------------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------------


class UnsupportedError(AttributeError, NotImplementedError):
    """A TensorFlow name or option outside rnnkit.compat.v1's supported subset."""


class InvalidArgumentError(ValueError):
    """A run-time argument is invalid (e.g. a placeholder needed by a fetch was not fed)."""


class FailedPreconditionError(RuntimeError):
    """A variable was read before it was initialized."""


def _unsupported(qualname: str) -> UnsupportedError:
    return UnsupportedError(
        f"`{qualname}` is outside rnnkit.compat.v1's supported subset "
        "(see rnnkit.compat.v1.SUPPORTED); use rnnkit's own API (import rnnkit) instead."
    )


class _Namespace:
    """A module-like namespace (``tf.nn``, ``tf.contrib.rnn``) that names what it lacks."""

    def __init__(self, path: str, **members: Any) -> None:
        self._path = path
        self.__dict__.update(members)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise _unsupported(f"tf.{self._path}.{name}")

    def __repr__(self) -> str:
        return f"<rnnkit.compat.v1 namespace tf.{self._path}>"

    def __dir__(self) -> list[str]:
        return [k for k in self.__dict__ if not k.startswith("_")]


errors = _Namespace(
    "errors",
    InvalidArgumentError=InvalidArgumentError,
    FailedPreconditionError=FailedPreconditionError,
    UnsupportedError=UnsupportedError,
)

# ------------------------------------------------------------------------------------------------
# DTypes
# ------------------------------------------------------------------------------------------------


class DType:
    """A TensorFlow dtype: ``name``, ``as_numpy_dtype`` and the matching ``torch`` dtype."""

    def __init__(self, name: str, torch_dtype: torch.dtype, numpy_dtype: Any) -> None:
        self.name = name
        self.torch = torch_dtype
        self.as_numpy_dtype = np.dtype(numpy_dtype).type
        self._np = np.dtype(numpy_dtype)

    @property
    def is_floating(self) -> _py_bool:
        return self._np.kind == "f"

    @property
    def is_integer(self) -> _py_bool:
        return self._np.kind in "iu"

    @property
    def base_dtype(self) -> DType:
        return self

    def __repr__(self) -> str:
        return f"tf.{self.name}"


float32 = DType("float32", torch.float32, np.float32)
float64 = DType("float64", torch.float64, np.float64)
int32 = DType("int32", torch.int32, np.int32)
int64 = DType("int64", torch.int64, np.int64)
bool = DType("bool", torch.bool, np.bool_)  # noqa: A001 - TensorFlow's name
_DTYPES = (float32, float64, int32, int64, bool)


def as_dtype(value: Any) -> DType:
    """A :class:`DType` from a DType, its name, a numpy dtype or a torch dtype."""
    if isinstance(value, DType):
        return value
    for d in _DTYPES:
        if value is d.torch or value == d.name:
            return d
    try:
        np_dtype = np.dtype(value)
    except TypeError:
        np_dtype = None
    for d in _DTYPES:
        if np_dtype is not None and np_dtype == d._np:
            return d
    raise TypeError(
        "Received an invalid value for argument `dtype`: expected one of "
        f"{[d.name for d in _DTYPES]}, got {value!r}."
    )


def _infer_dtype(value: Any) -> DType:
    """TensorFlow's inference: Python floats -> float32, Python ints -> int32, numpy keeps its own."""
    if isinstance(value, (np.ndarray, np.generic)):
        if value.dtype.kind in "fiub":
            return as_dtype(value.dtype if value.dtype.kind != "u" else np.int64)
        raise TypeError(f"Cannot convert a numpy array of dtype {value.dtype} to a tensor.")
    arr = np.asarray(value)
    if arr.dtype.kind == "b":
        return bool
    if arr.dtype.kind in "iu":
        return int32
    if arr.dtype.kind == "f":
        return float32
    raise TypeError(f"Cannot convert {value!r} (numpy dtype {arr.dtype}) to a tensor.")


def _to_numpy(name: str, value: Any, dtype: DType) -> np.ndarray:
    """``value`` (scalar, nested list, numpy array, torch tensor) as a numpy array of ``dtype``."""
    if isinstance(value, Tensor):
        raise TypeError(
            f"Received an invalid value for `{name}`: expected a Python or numpy value, got the graph "
            f"tensor {value.name!r} (graph tensors cannot be used as values here)."
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
            f"{dtype.name}, got {value!r} (numpy dtype {arr.dtype})."
        )
    if dtype.is_integer and arr.dtype.kind == "f" and not np.all(np.mod(arr, 1) == 0):
        raise TypeError(
            f"Received an invalid value for `{name}`: expected values of type {dtype.name}, "
            f"got non-integral floats {value!r}."
        )
    return arr.astype(dtype._np, copy=False)


# ------------------------------------------------------------------------------------------------
# Shapes
# ------------------------------------------------------------------------------------------------


class Dimension:
    """One dimension of a :class:`TensorShape`: an int, or unknown (``value is None``, shown ``?``)."""

    def __init__(self, value: int | None) -> None:
        self.value = None if value is None else int(value)

    def __int__(self) -> int:
        if self.value is None:
            raise ValueError("Cannot convert an unknown Dimension to an int.")
        return self.value

    __index__ = __int__

    def __eq__(self, other: object) -> Any:
        other_value = other.value if isinstance(other, Dimension) else other
        if self.value is None or other_value is None:
            return None
        return self.value == other_value

    def __ne__(self, other: object) -> Any:
        eq = self.__eq__(other)
        return None if eq is None else not eq

    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        return "?" if self.value is None else str(self.value)

    def __repr__(self) -> str:
        return f"Dimension({self.value})"


def _dim(value: Any) -> int | None:
    if isinstance(value, Dimension):
        return value.value
    if value is None:
        return None
    if isinstance(value, _py_bool) or not isinstance(value, numbers.Integral) or value < -1:
        raise TypeError(
            f"Received an invalid value for a shape dimension: expected a non-negative integer or "
            f"None, got {value!r}."
        )
    return None if value == -1 else int(value)


class TensorShape:
    """A static shape with unknown dimensions, printed as TensorFlow 1.x does: ``(?, 3)``.

    ``TensorShape(None)`` has unknown rank. ``as_list()`` gives ``[None, 3]``; indexing gives a
    :class:`Dimension` (``shape[1].value == 3``).
    """

    def __init__(self, dims: Any) -> None:
        if isinstance(dims, TensorShape):
            dims = dims.dims and [d.value for d in dims.dims]
        if dims is None:
            self._dims: list[int | None] | None = None
        elif isinstance(dims, (numbers.Integral, Dimension)) and not isinstance(dims, _py_bool):
            self._dims = [_dim(dims)]
        else:
            try:
                self._dims = [_dim(d) for d in dims]
            except TypeError as e:
                raise TypeError(
                    f"Received an invalid value for `shape`: {e} (in {dims!r})"
                ) from None

    @property
    def dims(self) -> list[Dimension] | None:
        return None if self._dims is None else [Dimension(d) for d in self._dims]

    @property
    def ndims(self) -> int | None:
        return None if self._dims is None else len(self._dims)

    rank = ndims

    def as_list(self) -> list[int | None]:
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self._dims)

    def is_fully_defined(self) -> _py_bool:
        return self._dims is not None and all(d is not None for d in self._dims)

    def is_compatible_with(self, other: Any) -> _py_bool:
        other = other if isinstance(other, TensorShape) else TensorShape(other)
        if self._dims is None or other._dims is None:
            return True
        if len(self._dims) != len(other._dims):
            return False
        return all(a is None or b is None or a == b for a, b in zip(self._dims, other._dims))

    def __len__(self) -> int:
        if self._dims is None:
            raise ValueError("Cannot take the length of a shape with unknown rank.")
        return len(self._dims)

    def __iter__(self) -> Iterator[Dimension]:
        if self._dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank.")
        return iter(Dimension(d) for d in self._dims)

    def __getitem__(self, key: Any) -> Any:
        if self._dims is None:
            return TensorShape(None) if isinstance(key, slice) else Dimension(None)
        if isinstance(key, slice):
            return TensorShape(self._dims[key])
        return Dimension(self._dims[key])

    def __eq__(self, other: object) -> _py_bool:
        if isinstance(other, (list, tuple)):
            other = TensorShape(other)
        return isinstance(other, TensorShape) and self._dims == other._dims

    def __hash__(self) -> int:
        return hash(None if self._dims is None else tuple(self._dims))

    def __str__(self) -> str:
        if self._dims is None:
            return "<unknown>"
        inner = ", ".join("?" if d is None else str(d) for d in self._dims)
        return f"({inner},)" if len(self._dims) == 1 else f"({inner})"

    def __repr__(self) -> str:
        if self._dims is None:
            return "TensorShape(None)"
        return f"TensorShape([{', '.join(repr(Dimension(d)) for d in self._dims)}])"


def _shape_list(name: str, shape: Any) -> list[int]:
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


# ------------------------------------------------------------------------------------------------
# Graphs
# ------------------------------------------------------------------------------------------------

_DEFAULT_GRAPH_SEED = 87654321


class Graph:
    """A collection of nodes, the variables to initialize and the graph-level random seed."""

    def __init__(self) -> None:
        self.seed: int | None = None
        self._last_id = 0
        self._names: dict[str, int] = {}
        self._by_name: dict[str, Any] = {}
        self._initializables: list[Any] = []  # Variable and _CellWeights, in creation order

    def _next_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def unique_name(self, base: str) -> str:
        """``base``, or ``base_1``, ``base_2``, ... when taken (TensorFlow's op naming)."""
        n = self._names.get(base, 0)
        self._names[base] = n + 1
        name = base if n == 0 else f"{base}_{n}"
        while name in self._names and name != base:
            n += 1
            self._names[base] = n + 1
            name = f"{base}_{n}"
        self._names.setdefault(name, 1)
        return name

    def _op_seed(self, op_seed: int | None) -> int | None:
        """TensorFlow's seed rule: graph seed + op seed (the op's id when only the graph's is set)."""
        if self.seed is None and op_seed is None:
            return None
        graph_seed = _DEFAULT_GRAPH_SEED if self.seed is None else self.seed
        op_seed = self._last_id if op_seed is None else int(op_seed)
        return (graph_seed * 1_000_003 + op_seed) % (2**63)

    def get_tensor_by_name(self, name: str) -> Tensor:
        """The tensor named ``name`` (``"Placeholder:0"``, or ``"Placeholder"`` for output 0)."""
        key = name if ":" in name else f"{name}:0"
        if key not in self._by_name:
            raise KeyError(
                f"The name {name!r} refers to a Tensor which does not exist in this graph."
            )
        return self._by_name[key]

    def get_operations(self) -> list[str]:
        return sorted({k.split(":")[0] for k in self._by_name})

    @contextlib.contextmanager
    def as_default(self) -> Iterator[Graph]:
        _graph_stack.append(self)
        try:
            yield self
        finally:
            _graph_stack.remove(self)


_graph_stack: list[Graph] = []
_global_graph = [Graph()]


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
    """Set the default graph's random seed: random ops and cell weights become reproducible."""
    if isinstance(seed, _py_bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"Received an invalid value for argument `seed`: expected an integer, got {seed!r}."
        )
    get_default_graph().seed = int(seed)


# ------------------------------------------------------------------------------------------------
# Nodes
# ------------------------------------------------------------------------------------------------


class _Node:
    """A lazy graph node: ``_compute(session, input_values)`` runs once per ``Session.run``."""

    _inputs: tuple[_Node, ...] = ()

    def _compute(self, sess: Session, values: list[Any]) -> Any:
        raise NotImplementedError


class Tensor(_Node):
    """A symbolic value: the output of a graph node, evaluated by ``Session.run`` or ``eval()``."""

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

    @property
    def op(self) -> Operation:
        """The operation producing this tensor; running it evaluates the tensor and returns None."""
        if self._op is None:
            self._op = Operation(self._op_name, [self], graph=self.graph, register=False)
        return self._op

    def _compute(self, sess: Session, values: list[Any]) -> Any:
        assert self._fn is not None
        return self._fn(*values)

    def eval(self, feed_dict: dict | None = None, session: Session | None = None) -> Any:
        """Evaluate in ``session`` (default: the session of the enclosing ``with Session()``)."""
        return _session_for("eval", session).run(self, feed_dict=feed_dict)

    def __repr__(self) -> str:
        return f"<tf.Tensor {self.name!r} shape={self.shape} dtype={self.dtype.name}>"

    # TensorFlow tensors hash and compare by identity (so they can key feed_dict)
    __hash__ = object.__hash__

    def __bool__(self) -> _py_bool:
        raise TypeError(
            "Using a tf.Tensor as a Python bool is not allowed; run it in a session to get its value."
        )

    def __iter__(self) -> Iterator[Any]:
        raise TypeError(
            f"Tensor {self.name!r} is not iterable in graph mode; use tf.unstack(tensor) to split it."
        )

    def __len__(self) -> int:
        raise TypeError(f"len is not well defined for symbolic Tensors ({self.name!r}).")

    def __add__(self, other: Any) -> Tensor:
        return add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return subtract(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return subtract(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return multiply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return multiply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return divide(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return divide(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _binary("pow", torch.pow, self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _binary("pow", torch.pow, other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(other, self)

    def __neg__(self) -> Tensor:
        return negative(self)

    def __pos__(self) -> Tensor:
        return self


class Operation(_Node):
    """A node run for its effect (e.g. the initializer); fetching it returns ``None``."""

    def __init__(
        self,
        name: str,
        inputs: Sequence[_Node] = (),
        effect: Callable[[Session, list[Any]], None] | None = None,
        graph: Graph | None = None,
        register: _py_bool = True,
    ) -> None:
        self.graph = graph or get_default_graph()
        self.name = self.graph.unique_name(name) if register else name
        self._inputs = tuple(inputs)
        self._effect = effect

    def _compute(self, sess: Session, values: list[Any]) -> None:
        if self._effect is not None:
            self._effect(sess, values)
        return None

    def run(self, feed_dict: dict | None = None, session: Session | None = None) -> None:
        """Run in ``session`` (default: the session of the enclosing ``with Session()``)."""
        _session_for("run", session).run(self, feed_dict=feed_dict)

    def __repr__(self) -> str:
        return f"<tf.Operation {self.name!r}>"


def _check_same_graph(node: Any, graph: Graph) -> None:
    if getattr(node, "graph", graph) is not graph:
        raise ValueError(
            f"{node!r} must be from the same graph as the other tensors of this op (was "
            "tf.reset_default_graph() called between creating them?)."
        )


class _Placeholder(Tensor):
    def _compute(self, sess: Session, values: list[Any]) -> Any:
        raise InvalidArgumentError(
            f"You must feed a value for placeholder tensor {self._op_name!r} with dtype "
            f"{self.dtype.name} and shape {self.shape} (pass it in feed_dict)."
        )

    def __repr__(self) -> str:
        return f"<tf.Tensor {self.name!r} shape={self.shape} dtype={self.dtype.name}>"


class _Random(Tensor):
    """A random op: a per-session generator seeded from the graph and op seeds."""

    def __init__(
        self, name: str, dtype: DType, shape: list[int], draw: Callable, seed: Any
    ) -> None:
        super().__init__(name, dtype, shape)
        self._seed = self.graph._op_seed(seed)
        self._draw = draw

    def _compute(self, sess: Session, values: list[Any]) -> Any:
        gen = sess._generators.get(self)
        if gen is None:
            seed = self._seed
            if seed is None:  # unseeded: draw a seed from torch's global generator
                seed = int(torch.randint(0, 2**62, (), dtype=torch.int64))
            gen = sess._generators[self] = torch.Generator().manual_seed(seed)
        return self._draw(gen)


class Variable(Tensor):
    """A variable: a value kept by each session, set by its initializer.

    ``Variable(initial_value, name=None, dtype=None, trainable=True)``; ``initial_value`` is a tensor
    (e.g. ``tf.random_normal([3, 5])``) or a Python/numpy value.
    """

    def __init__(
        self,
        initial_value: Any,
        trainable: _py_bool = True,
        name: str | None = None,
        dtype: Any = None,
        validate_shape: _py_bool = True,
    ) -> None:
        if callable(initial_value) and not isinstance(initial_value, Tensor):
            initial_value = initial_value()
        if initial_value is None:
            raise ValueError("Received an invalid value for argument `initial_value`: got None.")
        dt = None if dtype is None else as_dtype(dtype)
        init = _convert(initial_value, dt, name="initial_value")
        if dt is not None and init.dtype is not dt:
            init = _cast(init, dt)
        super().__init__(name or "Variable", init.dtype, init.shape)
        self.initial_value = init
        self.trainable = _py_bool(trainable)
        self.initializer = Operation(
            f"{self._op_name}/Assign", [init], effect=self._assign_effect, graph=self.graph
        )
        self.graph._initializables.append(self)

    def _assign_effect(self, sess: Session, values: list[Any]) -> None:
        sess._values[self] = values[0].clone()

    def _compute(self, sess: Session, values: list[Any]) -> Any:
        if self not in sess._values:
            raise FailedPreconditionError(
                f"Attempting to use uninitialized value {self._op_name} (run "
                "tf.global_variables_initializer() in this session first)."
            )
        return sess._values[self]

    def initialized_value(self) -> Tensor:
        return self.initial_value

    def __repr__(self) -> str:
        return f"<tf.Variable {self.name!r} shape={self.shape} dtype={self.dtype.name}_ref>"


# ------------------------------------------------------------------------------------------------
# Sessions
# ------------------------------------------------------------------------------------------------

_session_stack: list[Session] = []


def get_default_session() -> Session | None:
    """The session of the innermost ``with Session()`` / ``with sess.as_default()`` block."""
    return _session_stack[-1] if _session_stack else None


def _session_for(what: str, session: Session | None) -> Session:
    sess = session or get_default_session()
    if sess is None:
        raise ValueError(
            f"Cannot {what} without a session: no default session is registered. Use "
            f"`with tf.Session() as sess:` or pass it explicitly ({what}(session=sess))."
        )
    return sess


def _flatten_fetches(fetches: Any, graph: Graph, leaves: list[_Node]) -> Callable[[Iterator], Any]:
    """Collect the fetched nodes into ``leaves``; return a function rebuilding the structure."""
    if isinstance(fetches, str):
        fetches = graph.get_tensor_by_name(fetches)
    if isinstance(fetches, (Tensor, Operation)):
        if fetches.graph is not graph:
            raise ValueError(f"Fetch {fetches!r} is not an element of this session's graph.")
        leaves.append(fetches)
        return lambda it: next(it)
    if isinstance(fetches, dict):
        keys = list(fetches)
        parts = [_flatten_fetches(fetches[k], graph, leaves) for k in keys]
        kind = type(fetches)
        return lambda it: kind((k, p(it)) for k, p in zip(keys, parts))
    if isinstance(fetches, (list, tuple)):
        parts = [_flatten_fetches(f, graph, leaves) for f in fetches]
        if hasattr(fetches, "_fields"):  # namedtuple, e.g. LSTMStateTuple
            kind = type(fetches)
            return lambda it: kind(*[p(it) for p in parts])
        kind = type(fetches)
        return lambda it: kind(p(it) for p in parts)
    raise TypeError(
        f"Fetch argument {fetches!r} has invalid type {type(fetches)}, must be a Tensor, an "
        "Operation, a tensor name, or a list/tuple/dict/namedtuple of them."
    )


class Session:
    """Runs graph nodes: ``Session()`` as a context manager (installed as the default session) or
    an object closed with ``close()``. Variables' values live in the session.

    Example::

        with tf.Session() as sess:
            init.run()                                   # the default session
            y = sess.run(Y, feed_dict={X: x_batch})      # numpy array
    """

    def __init__(self, target: str = "", graph: Graph | None = None, config: Any = None) -> None:
        if target:
            raise _unsupported(f"tf.Session(target={target!r})")
        self.graph = graph or get_default_graph()
        self._values: dict[Variable, torch.Tensor] = {}
        self._initialized: set[Any] = set()
        self._generators: dict[_Node, torch.Generator] = {}
        self._closed = False
        self._entered: list[contextlib.ExitStack] = []

    # -- context management --------------------------------------------------------------------
    def __enter__(self) -> Session:
        stack = contextlib.ExitStack()
        stack.enter_context(self.as_default())
        if self.graph is not get_default_graph():
            stack.enter_context(self.graph.as_default())
        self._entered.append(stack)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._entered.pop().close()
        self.close()

    @contextlib.contextmanager
    def as_default(self) -> Iterator[Session]:
        _session_stack.append(self)
        try:
            yield self
        finally:
            _session_stack.remove(self)

    def close(self) -> None:
        """Free the session's variable values; later ``run`` calls raise RuntimeError."""
        self._closed = True
        self._values.clear()
        self._generators.clear()

    # -- running ---------------------------------------------------------------------------------
    def run(
        self,
        fetches: Any,
        feed_dict: dict | None = None,
        options: Any = None,
        run_metadata: Any = None,
    ) -> Any:
        """Evaluate ``fetches`` (a tensor, an op, a tensor name, or nested lists/tuples/dicts/
        namedtuples of them) with ``feed_dict`` ({placeholder or name: value}); tensors come back
        as numpy arrays, ops as ``None``, in the structure of ``fetches``."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        leaves: list[_Node] = []
        rebuild = _flatten_fetches(fetches, self.graph, leaves)
        cache: dict[_Node, Any] = self._feeds(feed_dict)
        with torch.no_grad():
            for leaf in leaves:
                self._evaluate(leaf, cache)
        results = [None if isinstance(n, Operation) else _result(cache[n]) for n in leaves]
        return rebuild(iter(results))

    def _feeds(self, feed_dict: dict | None) -> dict[_Node, Any]:
        if feed_dict is None:
            return {}
        if not isinstance(feed_dict, dict):
            raise TypeError(
                "Received an invalid value for argument `feed_dict`: expected a dict "
                f"{{tensor: value}}, got {type(feed_dict).__name__}."
            )
        out: dict[_Node, Any] = {}
        for key, value in feed_dict.items():
            if _nest.is_sequence(key):  # a structure of tensors fed with a matching structure
                keys = _nest.flatten(key)
                values = _nest.flatten(value) if _nest.is_sequence(value) else [value]
                if len(keys) != len(values):
                    raise ValueError(
                        f"Cannot feed {value!r} for the structure {key!r}: expected "
                        f"{len(keys)} values, got {len(values)}."
                    )
                pairs = list(zip(keys, values))
            else:
                pairs = [(key, value)]
            for k, v in pairs:
                tensor = self.graph.get_tensor_by_name(k) if isinstance(k, str) else k
                if not isinstance(tensor, Tensor):
                    raise TypeError(
                        f"Cannot interpret feed_dict key {k!r} as a Tensor: expected a tensor "
                        "or a tensor name."
                    )
                if tensor.graph is not self.graph:
                    raise ValueError(
                        f"Feed key {tensor!r} is not an element of this session's graph."
                    )
                out[tensor] = self._feed_value(tensor, v)
        return out

    @staticmethod
    def _feed_value(tensor: Tensor, value: Any) -> torch.Tensor:
        kind = "placeholder" if isinstance(tensor, _Placeholder) else "tensor"
        arr = _to_numpy(f"feed_dict[{tensor.name!r}]", value, tensor.dtype)
        if not tensor.shape.is_compatible_with(arr.shape):
            raise ValueError(
                f"Cannot feed value of shape {arr.shape} for {kind} {tensor.name!r}, which has "
                f"shape {tensor.shape}."
            )
        return torch.from_numpy(np.array(arr, copy=True))

    def _evaluate(self, node: _Node, cache: dict[_Node, Any]) -> Any:
        stack = [node]
        while stack:
            n = stack[-1]
            if n in cache:
                stack.pop()
                continue
            missing = [i for i in n._inputs if i not in cache]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            cache[n] = n._compute(self, [cache[i] for i in n._inputs])
        return cache[node]


def _result(value: Any) -> Any:
    arr = value.detach().cpu().numpy().copy()
    return arr[()] if arr.ndim == 0 else arr


class InteractiveSession(Session):
    """A session that installs itself as the default on creation (for notebooks)."""

    def __init__(self, target: str = "", graph: Graph | None = None, config: Any = None) -> None:
        super().__init__(target, graph, config)
        self._default = self.as_default()
        self._default.__enter__()

    def close(self) -> None:
        if not self._closed:
            self._default.__exit__(None, None, None)
        super().close()


# ------------------------------------------------------------------------------------------------
# Creating tensors
# ------------------------------------------------------------------------------------------------


def placeholder(dtype: Any, shape: Any = None, name: str | None = None) -> Tensor:
    """A tensor fed at run time: ``placeholder(tf.float32, [None, 3])`` (``None``: any size)."""
    return _Placeholder(name or "Placeholder", as_dtype(dtype), TensorShape(shape))


def _const_node(arr: np.ndarray, dtype: DType, name: str) -> Tensor:
    value = torch.from_numpy(np.array(arr, copy=True))
    return Tensor(name, dtype, list(arr.shape), fn=lambda: value)


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str = "Const") -> Tensor:
    """A constant from a Python scalar, nested list or numpy array (integers included)."""
    dt = _infer_dtype(value) if dtype is None else as_dtype(dtype)
    arr = _to_numpy("value", value, dt)
    if shape is not None:
        target = _shape_list("shape", shape)
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


def _convert(value: Any, dtype: DType | None = None, name: str = "Const") -> Tensor:
    """``value`` as a graph tensor: tensors pass through, other values become constants."""
    if isinstance(value, Tensor):
        _check_same_graph(value, get_default_graph())
        return value
    if isinstance(value, (Operation, RNNCell)):
        raise TypeError(
            f"Received an invalid value for `{name}`: expected a tensor, got {value!r}."
        )
    return constant(value, dtype=dtype, name="Const")


def _cast(x: Tensor, dtype: DType) -> Tensor:
    return Tensor("Cast", dtype, x.shape, [x], fn=lambda v: v.to(dtype.torch))


def zeros(shape: Any, dtype: Any = float32, name: str = "zeros") -> Tensor:
    """A tensor of zeros of a static ``shape``."""
    dims, dt = _shape_list("shape", shape), as_dtype(dtype)
    return Tensor(name, dt, dims, fn=lambda: torch.zeros(dims, dtype=dt.torch))


def ones(shape: Any, dtype: Any = float32, name: str = "ones") -> Tensor:
    """A tensor of ones of a static ``shape``."""
    dims, dt = _shape_list("shape", shape), as_dtype(dtype)
    return Tensor(name, dt, dims, fn=lambda: torch.ones(dims, dtype=dt.torch))


def random_normal(
    shape: Any,
    mean: float = 0.0,
    stddev: float = 1.0,
    dtype: Any = float32,
    seed: int | None = None,
    name: str = "random_normal",
) -> Tensor:
    """Normal samples (a new draw on each run); reproducible under ``set_random_seed``."""
    dims, dt = _shape_list("shape", shape), as_dtype(dtype)
    if not dt.is_floating:
        raise TypeError(
            f"Received an invalid value for argument `dtype`: expected a float dtype, got {dt.name}."
        )

    def draw(gen: torch.Generator) -> torch.Tensor:
        return torch.randn(dims, generator=gen, dtype=dt.torch) * stddev + mean

    return _Random(name, dt, dims, draw, seed)


def random_uniform(
    shape: Any,
    minval: float = 0,
    maxval: float | None = None,
    dtype: Any = float32,
    seed: int | None = None,
    name: str = "random_uniform",
) -> Tensor:
    """Uniform samples in ``[minval, maxval)`` (``maxval`` defaults to 1 for floats)."""
    dims, dt = _shape_list("shape", shape), as_dtype(dtype)
    if maxval is None:
        if dt.is_integer:
            raise ValueError(f"Must specify maxval for integer dtype {dt.name}.")
        maxval = 1.0

    def draw(gen: torch.Generator) -> torch.Tensor:
        if dt.is_integer:
            return torch.randint(int(minval), int(maxval), dims, generator=gen, dtype=dt.torch)
        return torch.rand(dims, generator=gen, dtype=dt.torch) * (maxval - minval) + minval

    return _Random(name, dt, dims, draw, seed)


def global_variables() -> list[Tensor]:
    """The default graph's variables, cell weights included (those of built cells)."""
    out: list[Tensor] = []
    for item in get_default_graph()._initializables:
        out.extend(item.variables if isinstance(item, _CellWeights) else [item])
    return out


def trainable_variables() -> list[Tensor]:
    """The trainable variables of the default graph (cell weights included)."""
    return [v for v in global_variables() if getattr(v, "trainable", True)]


def variables_initializer(var_list: Sequence[Any], name: str = "init") -> Operation:
    """An op that initializes ``var_list`` (variables and cells' weights) in the session running it."""
    items = []
    for v in var_list:
        if isinstance(v, _CellVariable):
            v = v._group
        if not isinstance(v, (Variable, _CellWeights)):
            raise TypeError(
                f"Received an invalid value for argument `var_list`: expected variables, got {v!r}."
            )
        if v not in items:
            items.append(v)
    plain = [v for v in items if isinstance(v, Variable)]
    cells = [v for v in items if isinstance(v, _CellWeights)]

    def effect(sess: Session, values: list[Any]) -> None:
        for var, value in zip(plain, values):
            sess._values[var] = value.clone()
        sess._initialized.update(cells)

    return Operation(name, [v.initial_value for v in plain], effect=effect)


def global_variables_initializer() -> Operation:
    """An op that initializes every variable (and cell weights) created so far in the graph."""
    return variables_initializer(list(get_default_graph()._initializables), name="init")


# ------------------------------------------------------------------------------------------------
# Ops
# ------------------------------------------------------------------------------------------------


def _pair(x: Any, y: Any, op: str) -> tuple[Tensor, Tensor]:
    """Convert the operands of a binary op; non-tensors take the other operand's dtype."""
    if isinstance(x, Tensor) and not isinstance(y, Tensor):
        y = _convert(y, x.dtype)
    elif isinstance(y, Tensor) and not isinstance(x, Tensor):
        x = _convert(x, y.dtype)
    else:
        x, y = _convert(x), _convert(y)
    if x.dtype is not y.dtype:
        raise TypeError(
            f"Input 'y' of '{op}' has type {y.dtype.name} that does not match type "
            f"{x.dtype.name} of argument 'x' ({x.name!r} and {y.name!r})."
        )
    return x, y


def _broadcast(op: str, a: TensorShape, b: TensorShape) -> TensorShape:
    if a.ndims is None or b.ndims is None:
        return TensorShape(None)
    da, db = a.as_list(), b.as_list()
    n = max(len(da), len(db))
    da, db = [1] * (n - len(da)) + da, [1] * (n - len(db)) + db
    out: list[int | None] = []
    for x, y in zip(da, db):
        if x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        elif x is None or y is None:
            out.append(x if y is None else y)
        elif x == y:
            out.append(x)
        else:
            raise ValueError(
                f"Dimensions must be equal, but are {x} and {y} for '{op}' with input shapes "
                f"{a} and {b}."
            )
    return TensorShape(out)


def _binary(op: str, fn: Callable, x: Any, y: Any) -> Tensor:
    x, y = _pair(x, y, op)
    dtype = x.dtype
    if op == "truediv" and dtype.is_integer:  # TensorFlow: int / int -> float64
        dtype = float64
        return Tensor(
            op,
            dtype,
            _broadcast(op, x.shape, y.shape),
            [x, y],
            fn=lambda a, b: torch.true_divide(a.double(), b.double()),
        )
    return Tensor(op, dtype, _broadcast(op, x.shape, y.shape), [x, y], fn=fn)


def add(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``x + y`` with broadcasting."""
    return _binary("add", torch.add, x, y)


def subtract(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``x - y`` with broadcasting."""
    return _binary("sub", torch.sub, x, y)


def multiply(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``x * y`` elementwise, with broadcasting."""
    return _binary("mul", torch.mul, x, y)


def divide(x: Any, y: Any, name: str | None = None) -> Tensor:
    """``x / y`` (true division; integers give float64)."""
    return _binary("truediv", torch.true_divide, x, y)


def _unary(op: str, fn: Callable, x: Any, float_only: _py_bool = True) -> Tensor:
    x = _convert(x)
    if float_only and not x.dtype.is_floating:
        raise TypeError(
            f"Received an invalid value for `x` of '{op}': expected a float tensor, got "
            f"{x.dtype.name} ({x.name!r})."
        )
    return Tensor(op, x.dtype, x.shape, [x], fn=fn)


def negative(x: Any, name: str | None = None) -> Tensor:
    """``-x``."""
    return _unary("Neg", torch.neg, x, float_only=False)


def tanh(x: Any, name: str | None = None) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return _unary("Tanh", torch.tanh, x)


def sigmoid(x: Any, name: str | None = None) -> Tensor:
    """Elementwise logistic sigmoid ``1 / (1 + exp(-x))``."""
    return _unary("Sigmoid", torch.sigmoid, x)


def relu(features: Any, name: str | None = None) -> Tensor:
    """Elementwise ``max(x, 0)``."""
    return _unary("Relu", torch.relu, features, float_only=False)


def matmul(
    a: Any,
    b: Any,
    transpose_a: _py_bool = False,
    transpose_b: _py_bool = False,
    name: str | None = None,
) -> Tensor:
    """Matrix product of rank-2 (or batched, rank >= 2) tensors: ``(..., m, k) @ (..., k, n)``."""
    a, b = _pair(a, b, "MatMul")
    sa, sb = a.shape, b.shape
    for arg, s in (("a", sa), ("b", sb)):
        if s.ndims is not None and s.ndims < 2:
            raise ValueError(
                f"Shape must be at least rank 2 for argument `{arg}` of 'MatMul', got shape {s}."
            )
    shape = TensorShape(None)
    if sa.ndims is not None and sb.ndims is not None:
        la, lb = sa.as_list(), sb.as_list()
        m, ka = (la[-1], la[-2]) if transpose_a else (la[-2], la[-1])
        kb, n = (lb[-1], lb[-2]) if transpose_b else (lb[-2], lb[-1])
        if ka is not None and kb is not None and ka != kb:
            raise ValueError(
                f"Dimensions must be equal, but are {ka} and {kb} for 'MatMul' with input shapes "
                f"{sa} and {sb}."
            )
        batch = _broadcast("MatMul", TensorShape(la[:-2]), TensorShape(lb[:-2])).as_list()
        shape = TensorShape(batch + [m, n])

    def fn(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.matmul(
            x.transpose(-1, -2) if transpose_a else x, y.transpose(-1, -2) if transpose_b else y
        )

    return Tensor("MatMul", a.dtype, shape, [a, b], fn=fn)


def _axis(name: str, axis: Any, rank: int | None) -> int:
    if isinstance(axis, _py_bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(
            f"Received an invalid value for argument `{name}`: expected an int, got {axis!r}."
        )
    if rank is not None:
        if not -rank <= axis < rank:
            raise ValueError(
                f"Received an invalid value for argument `{name}`: expected an axis in "
                f"[{-rank}, {rank}), got {axis}."
            )
        return int(axis) % rank
    if axis < 0:
        raise ValueError(f"Negative `{name}` {axis} needs a tensor of known rank.")
    return int(axis)


def transpose(a: Any, perm: Sequence[int] | None = None, name: str = "transpose") -> Tensor:
    """Permute the dimensions (default: reverse them)."""
    a = _convert(a)
    rank = a.shape.ndims
    if perm is None:
        if rank is None:
            raise ValueError("tf.transpose without `perm` needs a tensor of known rank.")
        perm = list(range(rank))[::-1]
    perm = [int(p) for p in perm]
    if rank is not None and sorted(perm) != list(range(rank)):
        raise ValueError(
            f"Received an invalid value for argument `perm`: expected a permutation of "
            f"{list(range(rank))}, got {perm}."
        )
    shape = TensorShape(None) if rank is None else TensorShape([a.shape.as_list()[p] for p in perm])
    return Tensor(name, a.dtype, shape, [a], fn=lambda x: x.permute(*perm))


def reshape(tensor: Any, shape: Any, name: str = "Reshape") -> Tensor:
    """Reshape to a static ``shape`` (a list of ints; one entry may be -1)."""
    x = _convert(tensor)
    if isinstance(shape, Tensor):
        raise TypeError(
            "Received an invalid value for argument `shape`: expected a list of ints, got "
            f"the graph tensor {shape.name!r}."
        )
    target = [int(d) for d in (shape.as_list() if isinstance(shape, TensorShape) else shape)]
    if sum(d == -1 for d in target) > 1 or any(d < -1 for d in target):
        raise ValueError(
            "Received an invalid value for argument `shape`: expected non-negative sizes and at "
            f"most one -1, got {target}."
        )
    static: list[int | None] = list(target)
    known = int(np.prod([d for d in target if d != -1]))
    if x.shape.is_fully_defined():
        total = int(np.prod(x.shape.as_list()))
        if -1 in target:
            if known == 0 or total % known:
                raise ValueError(
                    f"Cannot reshape a tensor with {total} elements to shape {target}."
                )
            static[target.index(-1)] = total // known
        elif total != known:
            raise ValueError(
                f"Cannot reshape a tensor with {total} elements to shape {target} ({known} "
                f"elements) for {x.name!r}."
            )
    else:
        static = [None if d == -1 else d for d in target]

    def fn(v: torch.Tensor) -> torch.Tensor:
        try:
            return v.reshape(target)
        except RuntimeError:
            raise InvalidArgumentError(
                f"Input to reshape is a tensor with {v.numel()} values, but the requested shape "
                f"is {target}."
            ) from None

    return Tensor(name, x.dtype, static, [x], fn=fn)


def _same_dtype(values: Sequence[Any], what: str) -> list[Tensor]:
    if isinstance(values, Tensor) or not isinstance(values, (list, tuple)) or not values:
        raise TypeError(
            f"Received an invalid value for argument `values` of {what}: expected a non-empty "
            f"list of tensors, got {values!r}."
        )
    first = next((v for v in values if isinstance(v, Tensor)), None)
    dtype = None if first is None else first.dtype
    ts = [_convert(v, dtype) for v in values]
    for t in ts:
        if t.dtype is not ts[0].dtype:
            raise TypeError(
                f"{what}: all values must have the same dtype, got {ts[0].dtype.name} and "
                f"{t.dtype.name} ({t.name!r})."
            )
    return ts


def _merge_dims(what: str, shapes: list[list[int | None]], skip: int | None) -> list[int | None]:
    out = list(shapes[0])
    for s in shapes[1:]:
        if len(s) != len(out):
            raise ValueError(f"{what}: all values must have the same rank, got shapes {shapes}.")
        for i, d in enumerate(s):
            if i == skip:
                continue
            if out[i] is None:
                out[i] = d
            elif d is not None and d != out[i]:
                raise ValueError(
                    f"{what}: dimension {i} of the values must match, got shapes "
                    f"{[str(TensorShape(x)) for x in shapes]}."
                )
    return out


def concat(values: Sequence[Any], axis: int, name: str = "concat") -> Tensor:
    """Join tensors along an existing ``axis``."""
    ts = _same_dtype(values, "tf.concat")
    if any(t.shape.ndims is None for t in ts):
        shape = TensorShape(None)
        ax = _axis("axis", axis, None)
    else:
        shapes = [t.shape.as_list() for t in ts]
        ax = _axis("axis", axis, len(shapes[0]))
        dims = _merge_dims("tf.concat", shapes, skip=ax)
        sizes = [s[ax] for s in shapes]
        dims[ax] = None if any(s is None for s in sizes) else sum(sizes)
        shape = TensorShape(dims)
    return Tensor(name, ts[0].dtype, shape, ts, fn=lambda *vs: torch.cat(vs, ax))


def stack(values: Sequence[Any], axis: int = 0, name: str = "stack") -> Tensor:
    """Stack same-shaped tensors along a new ``axis``."""
    ts = _same_dtype(values, "tf.stack")
    if any(t.shape.ndims is None for t in ts):
        shape = TensorShape(None)
        ax = _axis("axis", axis, None)
    else:
        dims = _merge_dims("tf.stack", [t.shape.as_list() for t in ts], skip=None)
        ax = _axis("axis", axis, len(dims) + 1)
        shape = TensorShape(dims[:ax] + [len(ts)] + dims[ax:])
    return Tensor(name, ts[0].dtype, shape, ts, fn=lambda *vs: torch.stack(vs, ax))


def unstack(
    value: Any, num: int | None = None, axis: int = 0, name: str = "unstack"
) -> list[Tensor]:
    """Split a tensor along ``axis`` into a list of tensors (the size must be static or ``num``)."""
    x = _convert(value)
    if x.shape.ndims is None:
        raise ValueError(f"Cannot unstack {x.name!r}: its rank is unknown.")
    dims = x.shape.as_list()
    ax = _axis("axis", axis, len(dims))
    n = dims[ax] if dims[ax] is not None else num
    if n is None:
        raise ValueError(
            f"Cannot infer num from shape {x.shape} of {x.name!r}: pass num= (the size of axis {ax})."
        )
    rest = dims[:ax] + dims[ax + 1 :]
    base = x.graph.unique_name(name)
    split = _StructNode(base, [x], lambda v: v.unbind(ax), x.graph)
    return [_leaf(split, (i,), x.dtype, rest) for i in range(n)]


def _reduce(
    op: str, fn: Callable, x: Any, axis: Any, keepdims: Any, keep_dims: Any, reduction_indices: Any
) -> Tensor:
    x = _convert(x)
    if axis is None:
        axis = reduction_indices
    keep = _py_bool(keepdims if keepdims is not None else (keep_dims or False))
    rank = x.shape.ndims
    if axis is None:
        axes = None if rank is None else list(range(rank))
    else:
        axes = sorted(
            {_axis("axis", a, rank) for a in (axis if isinstance(axis, (list, tuple)) else [axis])}
        )
    if rank is None:
        shape = TensorShape(None)
    else:
        dims = x.shape.as_list()
        shape = TensorShape(
            [1 if i in axes else d for i, d in enumerate(dims)]
            if keep
            else [d for i, d in enumerate(dims) if i not in axes]
        )

    def run(v: torch.Tensor) -> torch.Tensor:
        ax = list(range(v.dim())) if axes is None else axes
        return fn(v, ax, keep) if ax else v.clone()

    return Tensor(op, x.dtype, shape, [x], fn=run)


def _mean(v: torch.Tensor, axes: list[int], keep: _py_bool) -> torch.Tensor:
    if v.is_floating_point():
        return v.mean(dim=axes, keepdim=keep)
    count = int(np.prod([v.shape[a] for a in axes]))  # TensorFlow truncates integer means
    return torch.div(v.sum(dim=axes, keepdim=keep), count, rounding_mode="trunc").to(v.dtype)


def reduce_sum(
    input_tensor: Any,
    axis: Any = None,
    keepdims: Any = None,
    name: str | None = None,
    reduction_indices: Any = None,
    keep_dims: Any = None,
) -> Tensor:
    """Sum over ``axis`` (an int, a list, or None for all axes); ``keepdims`` keeps them as 1."""
    return _reduce(
        "Sum",
        lambda v, a, k: v.sum(dim=a, keepdim=k).to(v.dtype),
        input_tensor,
        axis,
        keepdims,
        keep_dims,
        reduction_indices,
    )


def reduce_mean(
    input_tensor: Any,
    axis: Any = None,
    keepdims: Any = None,
    name: str | None = None,
    reduction_indices: Any = None,
    keep_dims: Any = None,
) -> Tensor:
    """Mean over ``axis`` (an int, a list, or None for all axes); ``keepdims`` keeps them as 1."""
    return _reduce("Mean", _mean, input_tensor, axis, keepdims, keep_dims, reduction_indices)


# ------------------------------------------------------------------------------------------------
# Structured nodes (one evaluation, several output tensors)
# ------------------------------------------------------------------------------------------------


class _StructNode(_Node):
    """Evaluates to a Python structure of torch tensors; :func:`_leaf` tensors pick its parts."""

    def __init__(
        self, name: str, inputs: Sequence[_Node], fn: Callable[..., Any], graph: Graph
    ) -> None:
        self.graph = graph
        self.name = name
        self._inputs = tuple(inputs)
        for node in self._inputs:
            _check_same_graph(node, graph)
        self._fn = fn
        self._n_outputs = 0

    def _compute(self, sess: Session, values: list[Any]) -> Any:
        return self._fn(*values)


def _leaf(node: _StructNode, path: tuple[int, ...], dtype: DType, shape: Any) -> Tensor:
    """Output ``node.name:k`` of a multi-output node: the part of its value at ``path``."""

    def pick(value: Any) -> torch.Tensor:
        for p in path:
            value = value[p]
        return value

    index = node._n_outputs
    node._n_outputs += 1
    return Tensor(
        node.name, dtype, shape, [node], fn=pick, graph=node.graph, unique=False, index=index
    )


# ------------------------------------------------------------------------------------------------
# RNN cells
# ------------------------------------------------------------------------------------------------


def _torch_activation(activation: Any) -> Any:
    if activation is None:
        return torch.tanh
    known = {tanh: torch.tanh, relu: torch.relu, sigmoid: torch.sigmoid}
    if activation in known:
        return known[activation]
    if activation in (torch.tanh, torch.relu, torch.sigmoid):
        return activation
    raise TypeError(
        "Received an invalid value for argument `activation`: expected tf.tanh, tf.nn.relu or "
        f"tf.sigmoid (other activations are outside rnnkit.compat.v1's subset), got {activation!r}."
    )


def _no_option(name: str, value: Any, default: Any = None) -> None:
    if value is not default and not (default is None and value is None):
        raise _unsupported(f"{name}={value!r}")


class _CellWeights:
    """The weights of one compat cell as the graph sees them: named, and initialized per session."""

    def __init__(self, cell: RNNCell, scope: str, graph: Graph) -> None:
        self.cell = cell
        self.scope = scope
        self.graph = graph
        self.variables: list[_CellVariable] = []

    def names(self) -> list[str]:
        if self.cell._core.built:
            from rnnkit import interop

            return list(interop.tf1_variables(self.cell._core, self.scope))
        return [f"{self.scope}/{self.cell._tf_name}/kernel"]

    def make_variables(self) -> None:
        """Expose the built cell's parameters as graph variables, under TF1's names."""
        if self.variables or not self.cell._core.built:
            return
        from rnnkit import interop

        arrays = interop.tf1_variables(self.cell._core, self.scope)
        with self.graph.as_default():
            for name, arr in arrays.items():
                self.variables.append(_CellVariable(self, name, arr))

    def values(self) -> dict[str, np.ndarray]:
        from rnnkit import interop

        return interop.tf1_variables(self.cell._core, self.scope)

    def check(self, sess: Session) -> None:
        if self not in sess._initialized:
            raise FailedPreconditionError(
                f"Attempting to use uninitialized value {self.names()[0]} (run "
                "tf.global_variables_initializer() in this session first)."
            )


class _CellVariable(Tensor):
    """One cell parameter seen as a graph variable (its value is the rnnkit cell's parameter)."""

    trainable = True

    def __init__(self, group: _CellWeights, name: str, value: np.ndarray) -> None:
        dtype = float64 if value.dtype == np.float64 else float32
        super().__init__(name, dtype, list(value.shape), graph=group.graph, unique=False)
        self._group = group
        self._var_name = name

    def _compute(self, sess: Session, values: list[Any]) -> Any:
        self._group.check(sess)
        return torch.from_numpy(self._group.values()[self._var_name])

    def __repr__(self) -> str:
        return f"<tf.Variable {self.name!r} shape={self.shape} dtype={self.dtype.name}_ref>"


class RNNCell:
    """Base of the compat cells: each wraps an ``rnnkit`` cell (``cell.rnnkit_cell``).

    ``cell.zero_state(batch_size, dtype)`` gives graph tensors in the state's structure;
    ``cell(inputs, state)`` runs one step in the graph.
    """

    _tf_name = "rnn_cell"
    _core: Any

    def __init__(self) -> None:
        self._weights: _CellWeights | None = None

    @property
    def rnnkit_cell(self) -> Any:
        """The underlying ``rnnkit`` cell (a ``torch.nn.Module``) whose parameters are the weights."""
        return self._core

    @property
    def state_size(self) -> Any:
        return self._core.state_size

    @property
    def output_size(self) -> int:
        return self._core.output_size

    @property
    def variables(self) -> list[Tensor]:
        return [] if self._weights is None else list(self._weights.variables)

    trainable_variables = weights = variables

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

    def _attach(self, scope: str, input_size: int | None, dtype: DType) -> _CellWeights:
        """Register the weights in the graph under ``scope``; build now when the width is static."""
        graph = get_default_graph()
        if self._weights is None or self._weights.graph is not graph:
            self._weights = _CellWeights(self, scope, graph)
            graph._initializables.append(self._weights)
        if input_size is not None:
            self._build(input_size, dtype, graph)
        return self._weights

    def _build(self, input_size: int, dtype: DType, graph: Graph) -> None:
        if not self._core.built:
            seed = graph._op_seed(None)
            if seed is None:
                self._core.build(input_size, dtype=dtype.torch)
            else:
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(seed)
                    self._core.build(input_size, dtype=dtype.torch)
        if self._weights is not None:
            self._weights.make_variables()

    def __call__(self, inputs: Any, state: Any, scope: str | None = None) -> tuple[Tensor, Any]:
        x = _convert(inputs, float32)
        weights = self._attach(scope or self._tf_name, _width(x, 1), x.dtype)
        template = state
        leaves = [_convert(s, x.dtype) for s in _nest.flatten(state)]
        graph = x.graph
        name = graph.unique_name(scope or self._tf_name)

        def step(xv: torch.Tensor, *state_values: torch.Tensor) -> Any:
            self._build(xv.shape[-1], x.dtype, graph)
            return self._core(xv, _nest.pack_sequence_as(template, list(state_values)))

        node = _RNNNode(name, [x, *leaves], step, graph, weights)
        batch = _dim_of(x, 0)
        output = _leaf(node, (0,), x.dtype, [batch, self.output_size])
        new_state = _state_leaves(node, (1,), self.state_size, x.dtype, batch, name)
        return output, new_state

    def __repr__(self) -> str:
        return f"<rnnkit.compat.v1 {type(self).__name__} wrapping {self._core!r}>"


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
        _no_option("BasicLSTMCell(state_is_tuple", state_is_tuple, True)
        _no_option("BasicLSTMCell(activation", activation)
        self._core = rnnkit.BasicLSTMCell(num_units, forget_bias=forget_bias)


class LSTMCell(RNNCell):
    """``tf.nn.rnn_cell.LSTMCell(num_units, use_peepholes=False, forget_bias=1.0)``."""

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
            ("initializer", initializer),
            ("num_proj", num_proj),
            ("proj_clip", proj_clip),
            ("num_unit_shards", num_unit_shards),
            ("num_proj_shards", num_proj_shards),
            ("activation", activation),
        ):
            _no_option(f"LSTMCell({opt}", value)
        _no_option("LSTMCell(state_is_tuple", state_is_tuple, True)
        self._core = rnnkit.LSTMCell(
            num_units, forget_bias=forget_bias, use_peepholes=use_peepholes
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
        for opt, value in (
            ("activation", activation),
            ("kernel_initializer", kernel_initializer),
            ("bias_initializer", bias_initializer),
        ):
            _no_option(f"GRUCell({opt}", value)
        self._core = rnnkit.GRUCell(num_units)


class MultiRNNCell(RNNCell):
    """``tf.nn.rnn_cell.MultiRNNCell(cells)``: stacked cells; the state is a tuple of layer states."""

    _tf_name = "multi_rnn_cell"

    def __init__(self, cells: Sequence[RNNCell], state_is_tuple: _py_bool = True) -> None:
        super().__init__()
        _no_option("MultiRNNCell(state_is_tuple", state_is_tuple, True)
        if isinstance(cells, RNNCell) or not isinstance(cells, (list, tuple)) or not cells:
            raise TypeError(
                "Received an invalid value for argument `cells`: expected a non-empty list of "
                f"cells, got {cells!r}."
            )
        for c in cells:
            if not isinstance(c, RNNCell):
                raise TypeError(
                    "Received an invalid value for argument `cells`: expected rnnkit.compat.v1 "
                    f"cells (tf.nn.rnn_cell.*), got {c!r}."
                )
        self._cells = list(cells)
        self._core = rnnkit.MultiRNNCell([c._core for c in cells])


LSTMStateTuple = rnnkit.LSTMStateTuple


# ------------------------------------------------------------------------------------------------
# RNN runners
# ------------------------------------------------------------------------------------------------


class _RNNNode(_StructNode):
    """Runs an rnnkit runner at session time, after checking that the cell weights were initialized."""

    def __init__(
        self,
        name: str,
        inputs: Sequence[_Node],
        fn: Callable[..., Any],
        graph: Graph,
        *weights: _CellWeights,
    ) -> None:
        super().__init__(name, inputs, fn, graph)
        self._weights = weights

    def _compute(self, sess: Session, values: list[Any]) -> Any:
        for w in self._weights:
            w.check(sess)
        return self._fn(*values)


def _width(x: Tensor, axis: int) -> int | None:
    return None if x.shape.ndims is None else x.shape.as_list()[axis]


def _dim_of(x: Tensor, axis: int) -> int | None:
    return _width(x, axis)


def _state_leaves(
    node: _StructNode, path: tuple, size: Any, dtype: DType, batch: int | None, name: str
) -> Any:
    """Graph tensors picking the final state out of ``node``'s value, in the cell's structure."""
    if _nest.is_sequence(size):
        parts = [
            _state_leaves(node, path + (i,), s, dtype, batch, name) for i, s in enumerate(size)
        ]
        return type(size)(*parts) if hasattr(size, "_fields") else tuple(parts)
    return _leaf(node, path, dtype, [batch, size])


def _rnn_dtype(dtype: Any, *tensors: Tensor) -> DType:
    dt = as_dtype(dtype) if dtype is not None else tensors[0].dtype
    if not dt.is_floating:
        raise TypeError(
            f"Received an invalid value for argument `dtype`: expected float32 or float64, got "
            f"{dt.name}."
        )
    return dt


def _initial_state(
    cell: RNNCell, initial_state: Any, dtype: Any, arg: str
) -> tuple[Any, list[Tensor]]:
    """The template and graph tensors of an initial state (``None``: the cell's zero state)."""
    if initial_state is None:
        if dtype is None:
            raise ValueError(
                f"If no `{arg}` is provided, argument `dtype` must be specified (e.g. dtype=tf.float32)."
            )
        return None, []
    leaves = [
        _convert(s, as_dtype(dtype) if dtype is not None else None)
        for s in _nest.flatten(initial_state)
    ]
    want = len(_nest.flatten(cell.state_size))
    if len(leaves) != want:
        raise ValueError(
            f"Received an invalid value for argument `{arg}`: expected {want} tensors in the "
            f"structure of the cell's state_size {cell.state_size}, got {len(leaves)}."
        )
    return initial_state, leaves


def _pack_state(template: Any, values: Sequence[torch.Tensor]) -> Any:
    if template is None:
        return None
    return _nest.pack_sequence_as(template, list(values))


def _lengths_node(sequence_length: Any) -> Tensor | None:
    if sequence_length is None:
        return None
    t = _convert(sequence_length, int32)
    if not t.dtype.is_integer:
        raise TypeError(
            "Received an invalid value for argument `sequence_length`: expected an int32/int64 "
            f"vector, got {t.dtype.name} ({t.name!r})."
        )
    return t


def _check_cell(name: str, cell: Any) -> RNNCell:
    if not isinstance(cell, RNNCell):
        raise TypeError(
            f"Received an invalid value for argument `{name}`: expected an rnnkit.compat.v1 cell "
            f"(tf.nn.rnn_cell.*), got {type(cell).__name__}."
        )
    return cell


def static_rnn(
    cell: RNNCell,
    inputs: Sequence[Any],
    initial_state: Any = None,
    dtype: Any = None,
    sequence_length: Any = None,
    scope: str | None = None,
) -> tuple[list[Tensor], Any]:
    """Unroll ``cell`` over a Python list of T inputs, each ``(B, I)``, with ``rnnkit.static_rnn``.

    Returns ``(outputs, state)``: a list of T tensors ``(B, output_size)`` and the final state (at
    each row's last valid step when ``sequence_length`` is given; outputs past it are zeros).
    """
    _check_cell("cell", cell)
    if isinstance(inputs, Tensor) or not isinstance(inputs, (list, tuple)) or not inputs:
        raise TypeError(
            "Received an invalid value for argument `inputs`: expected a non-empty list of (B, I) "
            f"tensors, got {inputs!r}."
        )
    xs = [_convert(x, as_dtype(dtype) if dtype is not None else float32) for x in inputs]
    dt = _rnn_dtype(dtype, *xs)
    for x in xs:
        if x.shape.ndims not in (None, 2):
            raise ValueError(
                f"Received an invalid value for argument `inputs`: expected (B, I) tensors, got "
                f"{x.name!r} of shape {x.shape}."
            )
    graph = xs[0].graph
    name = graph.unique_name(scope or "rnn")
    weights = cell._attach(name, _width(xs[0], 1), dt)
    template, init = _initial_state(cell, initial_state, dtype, "initial_state")
    lengths = _lengths_node(sequence_length)
    extra = [] if lengths is None else [lengths]
    T = len(xs)

    def run(*values: torch.Tensor) -> Any:
        steps, rest = list(values[:T]), values[T:]
        seq = rest[0] if lengths is not None else None
        state = _pack_state(template, rest[len(extra) :])
        cell._build(steps[0].shape[-1], dt, graph)
        outs, final = rnnkit.static_rnn(
            cell._core,
            [s.to(dt.torch) for s in steps],
            initial_state=state,
            dtype=dt.torch,
            sequence_length=seq,
        )
        return list(outs), final

    node = _RNNNode(name, [*xs, *extra, *init], run, graph, weights)
    batch = next((_dim_of(x, 0) for x in xs if _dim_of(x, 0) is not None), None)
    outputs = [_leaf(node, (0, t), dt, [batch, cell.output_size]) for t in range(T)]
    return outputs, _state_leaves(node, (1,), cell.state_size, dt, batch, name)


def _check_seq_input(inputs: Any, dtype: Any) -> Tensor:
    x = _convert(inputs, as_dtype(dtype) if dtype is not None else float32)
    if x.shape.ndims not in (None, 3):
        raise ValueError(
            "Received an invalid value for argument `inputs`: expected a rank-3 tensor (B, T, I) "
            f"or (T, B, I) when time_major, got {x.name!r} of shape {x.shape}."
        )
    return x


def dynamic_rnn(
    cell: RNNCell,
    inputs: Any,
    sequence_length: Any = None,
    initial_state: Any = None,
    dtype: Any = None,
    parallel_iterations: Any = None,
    swap_memory: _py_bool = False,
    time_major: _py_bool = False,
    scope: str | None = None,
) -> tuple[Tensor, Any]:
    """Run ``cell`` over ``inputs`` ``(B, T, I)`` (``(T, B, I)`` when ``time_major``) with
    ``rnnkit.dynamic_rnn``. Returns ``(outputs, state)``; outputs past a row's
    ``sequence_length`` are zeros and its state is the one at its last valid step."""
    _check_cell("cell", cell)
    x = _check_seq_input(inputs, dtype)
    dt = _rnn_dtype(dtype, x)
    graph = x.graph
    name = graph.unique_name(scope or "rnn")
    weights = cell._attach(name, _width(x, 2), dt)
    template, init = _initial_state(cell, initial_state, dtype, "initial_state")
    lengths = _lengths_node(sequence_length)
    extra = [] if lengths is None else [lengths]

    def run(xv: torch.Tensor, *rest: torch.Tensor) -> Any:
        seq = rest[0] if lengths is not None else None
        state = _pack_state(template, rest[len(extra) :])
        cell._build(xv.shape[-1], dt, graph)
        return rnnkit.dynamic_rnn(
            cell._core,
            xv.to(dt.torch),
            sequence_length=seq,
            initial_state=state,
            dtype=dt.torch,
            time_major=time_major,
        )

    node = _RNNNode(name, [x, *extra, *init], run, graph, weights)
    d0, d1 = _dim_of(x, 0), _dim_of(x, 1)
    batch = d1 if time_major else d0
    outputs = _leaf(node, (0,), dt, [d0, d1, cell.output_size])
    return outputs, _state_leaves(node, (1,), cell.state_size, dt, batch, name)


def bidirectional_dynamic_rnn(
    cell_fw: RNNCell,
    cell_bw: RNNCell,
    inputs: Any,
    sequence_length: Any = None,
    initial_state_fw: Any = None,
    initial_state_bw: Any = None,
    dtype: Any = None,
    parallel_iterations: Any = None,
    swap_memory: _py_bool = False,
    time_major: _py_bool = False,
    scope: str | None = None,
) -> tuple[tuple[Tensor, Tensor], Any]:
    """Forward and backward RNNs over ``inputs`` with ``rnnkit.bidirectional_dynamic_rnn``.

    Returns ``((output_fw, output_bw), (state_fw, state_bw))``; the backward direction reverses each
    row within its ``sequence_length``, and its outputs are given in the original time order."""
    _check_cell("cell_fw", cell_fw)
    _check_cell("cell_bw", cell_bw)
    x = _check_seq_input(inputs, dtype)
    dt = _rnn_dtype(dtype, x)
    graph = x.graph
    name = graph.unique_name(scope or "bidirectional_rnn")
    w_fw = cell_fw._attach(f"{name}/fw", _width(x, 2), dt)
    w_bw = cell_bw._attach(f"{name}/bw", _width(x, 2), dt)
    t_fw, init_fw = _initial_state(cell_fw, initial_state_fw, dtype, "initial_state_fw")
    t_bw, init_bw = _initial_state(cell_bw, initial_state_bw, dtype, "initial_state_bw")
    lengths = _lengths_node(sequence_length)
    extra = [] if lengths is None else [lengths]
    n_fw = len(init_fw)

    def run(xv: torch.Tensor, *rest: torch.Tensor) -> Any:
        seq = rest[0] if lengths is not None else None
        states = rest[len(extra) :]
        cell_fw._build(xv.shape[-1], dt, graph)
        cell_bw._build(xv.shape[-1], dt, graph)
        return rnnkit.bidirectional_dynamic_rnn(
            cell_fw._core,
            cell_bw._core,
            xv.to(dt.torch),
            sequence_length=seq,
            initial_state_fw=_pack_state(t_fw, states[:n_fw]),
            initial_state_bw=_pack_state(t_bw, states[n_fw:]),
            dtype=dt.torch,
            time_major=time_major,
        )

    node = _RNNNode(name, [x, *extra, *init_fw, *init_bw], run, graph, w_fw, w_bw)
    d0, d1 = _dim_of(x, 0), _dim_of(x, 1)
    batch = d1 if time_major else d0
    out_fw = _leaf(node, (0, 0), dt, [d0, d1, cell_fw.output_size])
    out_bw = _leaf(node, (0, 1), dt, [d0, d1, cell_bw.output_size])
    st_fw = _state_leaves(node, (1, 0), cell_fw.state_size, dt, batch, f"{name}/fw")
    st_bw = _state_leaves(node, (1, 1), cell_bw.state_size, dt, batch, f"{name}/bw")
    return (out_fw, out_bw), (st_fw, st_bw)


# ------------------------------------------------------------------------------------------------
# Namespaces and the supported subset
# ------------------------------------------------------------------------------------------------

_CELLS = dict(
    RNNCell=RNNCell,
    BasicRNNCell=BasicRNNCell,
    BasicLSTMCell=BasicLSTMCell,
    LSTMCell=LSTMCell,
    GRUCell=GRUCell,
    MultiRNNCell=MultiRNNCell,
    LSTMStateTuple=LSTMStateTuple,
)

rnn_cell = _Namespace("nn.rnn_cell", **_CELLS)
nn = _Namespace(
    "nn",
    relu=relu,
    tanh=tanh,
    sigmoid=sigmoid,
    static_rnn=static_rnn,
    dynamic_rnn=dynamic_rnn,
    bidirectional_dynamic_rnn=bidirectional_dynamic_rnn,
    rnn_cell=rnn_cell,
)
contrib = _Namespace("contrib", rnn=_Namespace("contrib.rnn", static_rnn=static_rnn, **_CELLS))

SUPPORTED: tuple[str, ...] = tuple(
    sorted(
        [n for n in __all__ if n not in ("nn", "contrib", "SUPPORTED", "UnsupportedError")]
        + [f"nn.{n}" for n in dir(nn) if n != "rnn_cell"]
        + [f"nn.rnn_cell.{n}" for n in dir(rnn_cell)]
        + [f"contrib.rnn.{n}" for n in dir(contrib.rnn)]
    )
)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise _unsupported(f"tf.{name}")
