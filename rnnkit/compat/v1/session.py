"""``tf.Session``: runs graph nodes over torch tensors, and holds each variable's value.

``run(fetches, feed_dict)`` finds the nodes the fetches need (fed tensors cut the graph), orders them
once per (fetches, fed keys) and caches that plan, then evaluates each node once. Plans that contain a
``GradientsNode`` run with torch autograd on; all others under ``torch.no_grad()``. A run computes
on one torch thread per core other processes leave free
(:func:`rnnkit.engine.load.adaptive_threads`). Variables' values live in ``sess.variable_store``.
How this fits with gradients, variables and cells: docs/DESIGN.md, "The mapping".
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from rnnkit import _nest
from rnnkit.compat.v1.errors import unsupported
from rnnkit.compat.v1.gradients import GradientsNode
from rnnkit.compat.v1.ops import (
    Graph,
    Operation,
    StructNode,
    Tensor,
    _Node,
    _Placeholder,
    _session_stack,
    get_default_graph,
    get_default_session,
    indexed_slices_value,
    kernel_only,
    requiring_grad,
    run_kernel,
    run_steps,
    sparse_parts,
    to_numpy,
)
from rnnkit.compat.v1.variable_store import VariableStore
from rnnkit.engine import load

__all__ = ["Session", "InteractiveSession", "get_default_session"]


def _flatten_fetches(fetches: Any, graph: Graph, leaves: list[_Node]) -> Callable[[Iterator], Any]:
    """Collect the fetched nodes into ``leaves``; return a function rebuilding the structure."""
    if isinstance(fetches, str):
        fetches = graph.as_graph_element(fetches)
    if isinstance(fetches, _Node) and hasattr(fetches, "graph"):
        if fetches.graph is not graph:
            raise ValueError(f"Fetch {fetches!r} is not an element of this session's graph.")
        leaves.append(fetches)
        parts = sparse_parts(fetches)
        if parts is not None:  # an embedding's gradient: fetched as TF's IndexedSlicesValue
            leaves.extend(parts)
            return lambda it: indexed_slices_value(*[next(it) for _ in range(len(parts) + 1)])
        return lambda it: next(it)
    if isinstance(fetches, dict):
        keys = list(fetches)
        parts = [_flatten_fetches(fetches[k], graph, leaves) for k in keys]
        kind = type(fetches)
        return lambda it: kind((k, p(it)) for k, p in zip(keys, parts))
    if isinstance(fetches, (list, tuple)):
        parts = [_flatten_fetches(f, graph, leaves) for f in fetches]
        kind = type(fetches)
        if hasattr(fetches, "_fields"):  # namedtuple, e.g. LSTMStateTuple
            return lambda it: kind(*[p(it) for p in parts])
        return lambda it: kind(p(it) for p in parts)
    raise TypeError(
        f"Fetch argument {fetches!r} has invalid type {type(fetches)}, must be a Tensor, an "
        "Operation, a tensor name, or a list/tuple/dict/namedtuple of them."
    )


class _Plan:
    """The nodes one ``run`` evaluates, in order, each with the slots of its inputs.

    A run fills a list of values by slot (one per node of ``order``) instead of a dict keyed by
    node: the fed slots first, then each step's computed value."""

    def __init__(self, leaves: list[_Node], fed: frozenset) -> None:
        order: list[_Node] = []
        seen: set[int] = set()
        for root in leaves:
            if id(root) in seen:
                continue
            stack: list[tuple[_Node, bool]] = [(root, False)]
            while stack:
                n, done = stack.pop()
                if done:
                    order.append(n)
                    continue
                if id(n) in seen:
                    continue
                seen.add(id(n))
                stack.append((n, True))
                if n in fed:
                    continue
                for i in reversed((*n._inputs, *n._control)):
                    if id(i) not in seen:
                        stack.append((i, False))
        self.order = order
        self.fed = fed
        slot = {id(n): k for k, n in enumerate(order)}
        self.fed_slots = {id(n): slot[id(n)] for n in order if n in fed}
        # per fetched node: its slot, or None for an op (fetched as None)
        self.leaf_slots = [None if isinstance(n, Operation) else slot[id(n)] for n in leaves]
        # gradient nodes and the slots of what they differentiate with respect to
        self.grad_targets: set[int] = set()
        for n in order:
            if isinstance(n, GradientsNode):
                self.grad_targets.update(slot[id(x)] for x in n.xs if id(x) in slot)
        self.needs_grad = bool(self.grad_targets)
        # constants: the tensor each run would compute, in its slot before the run starts
        self.initial: list[Any] = [None] * len(order)
        # each other node: (slot, node, input slots, whether the run calls its kernel directly);
        # a node whose unread outputs can be skipped runs as its cheaper stand-in (_partial_nodes)
        partial = _partial_nodes(order, leaves, fed)
        self.steps: list[tuple[int, _Node, list[int], bool]] = []
        for k, n in enumerate(order):
            if n in fed:
                continue
            const = getattr(n, "_const_value", None)
            if const is not None and k not in self.grad_targets:
                self.initial[k] = const
            else:
                node = partial.get(id(n), n)
                self.steps.append((k, node, [slot[id(i)] for i in n._inputs], kernel_only(n)))


class _Partial:
    """A multi-output node as a run evaluates it when it reads only some of its outputs: the node's
    own kernel swapped for the cheaper one it offers (its ``partial``), under the node's name."""

    __slots__ = ("name", "_fn", "_inputs")

    def __init__(self, node: StructNode, fn: Callable[..., Any]) -> None:
        self.name, self._fn, self._inputs = node.name, fn, node._inputs

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        return run_kernel(self.name, self._fn, values)


def _partial_nodes(order: list[_Node], leaves: list[_Node], fed: frozenset) -> dict[int, _Partial]:
    """The nodes of ``order`` that offer a cheaper kernel for some of their outputs
    (``StructNode.partial``, e.g. an RNN's final state without its outputs) and whose readers in
    this run are all among those outputs: ``{id(node): stand-in}``."""
    offers = {
        id(n): n
        for n in order
        if isinstance(n, StructNode) and n.partial is not None and n not in fed
    }
    if not offers:
        return {}
    readers: dict[int, set[int]] = {k: set() for k in offers}
    for m in order:
        if m in fed:
            continue
        for i in (*m._inputs, *m._control):
            if id(i) in readers:
                readers[id(i)].add(id(m))
    out = {}
    fetched = {id(n) for n in leaves}
    for k, n in offers.items():
        kept, fn = n.partial
        if k not in fetched and readers[k] <= {id(t) for t in kept}:
            out[k] = _Partial(n, fn)
    return out


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
            raise unsupported(f"tf.Session(target={target!r})")
        self.graph = graph or get_default_graph()
        self.variable_store = VariableStore()  # each variable's value in this session
        self._generators: dict[Any, torch.Generator] = {}
        self._resources: dict[Any, Any] = {}  # per-session state of queues and their runners
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
        self.variable_store.clear()
        self._generators.clear()
        self._resources.clear()

    @property
    def sess_str(self) -> str:
        return ""

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
        values = self._feeds(feed_dict)
        key = (tuple(map(id, leaves)), frozenset(map(id, values)))
        plan = self.graph._plans.get(key)
        if plan is None:
            if len(self.graph._plans) > 512:  # fetches built anew in a loop: keep the cache small
                self.graph._plans.clear()
            plan = self.graph._plans[key] = _Plan(leaves, frozenset(values))
        with torch.set_grad_enabled(plan.needs_grad), load.adaptive_threads():
            vals = self._execute(plan, values)
        results = [None if k is None else _result(vals[k]) for k in plan.leaf_slots]
        return rebuild(iter(results))

    def _execute(self, plan: _Plan, feeds: dict[_Node, Any]) -> list[Any]:
        """Every value of ``plan.order`` by slot: constants, the fed ones, then each node's in
        order."""
        vals = plan.initial.copy()
        fed_slots = plan.fed_slots
        targets = plan.grad_targets
        for node, value in feeds.items():
            k = fed_slots.get(id(node))
            if k is not None:
                vals[k] = requiring_grad(value) if k in targets else value
        run_steps(self, plan.steps, vals, targets)
        return vals

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
        if (
            isinstance(value, np.ndarray)
            and value.dtype == tensor.dtype._np
            and value.dtype.kind == "f"
        ):
            arr = value  # the common case: skip the range checks of integer feeds
        else:
            arr = to_numpy(f"feed_dict[{tensor.name!r}]", value, tensor.dtype)
        if not tensor.shape.is_compatible_with(arr.shape):
            raise ValueError(
                f"Cannot feed value of shape {arr.shape} for {kind} {tensor.name!r}, which has "
                f"shape {tensor.shape}."
            )
        return torch.from_numpy(np.array(arr, copy=True))

    # -- variables ---------------------------------------------------------------------------------
    def _generator(self, node: Any, seed: int | None) -> torch.Generator:
        gen = self._generators.get(node)
        if gen is None:
            if seed is None:  # unseeded: draw a seed from torch's global generator
                seed = int(torch.randint(0, 2**62, (), dtype=torch.int64))
            gen = self._generators[node] = torch.Generator().manual_seed(seed)
        return gen


def _result(value: Any) -> Any:
    if isinstance(value, (bytes, str)):
        return value
    if isinstance(value, torch.Tensor):
        arr = value.detach().cpu().numpy().copy()
    else:
        arr = np.asarray(value)
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
