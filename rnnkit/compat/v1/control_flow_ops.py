"""TF1 control flow: ``tf.cond``, ``tf.case``, ``tf.while_loop``, ``tf.TensorArray``, ``tf.tuple``.

A branch or loop body is a Python function called once while the graph is built, as in TensorFlow:
the nodes it creates form a sub-graph (:class:`Body`) that the control-flow node evaluates on
demand inside ``Session.run``, only for the branch taken, or once per iteration. Tensors the function
uses but did not create (captured tensors) are inputs of the control-flow node, so they are evaluated
once per run whichever branch is taken, as in TF1. Gradients are torch autograd over the evaluation
that ran (the taken branch, the unrolled loop).

A ``TensorArray`` is a Python object over a "flow" tensor whose run-time value is a tuple of the
written elements (``None`` where nothing was written); ``write``/``unstack``/``scatter`` return a
new ``TensorArray`` with a new flow, so arrays can be loop variables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from rnnkit.compat.v1.dtypes import DType, as_dtype, int32
from rnnkit.compat.v1.dtypes import bool as tf_bool
from rnnkit.compat.v1.errors import InvalidArgumentError, UnimplementedError
from rnnkit.compat.v1.gradients import GradientsNode
from rnnkit.compat.v1.ops import (
    Operation,
    StructNode,
    Tensor,
    _Node,
    control_dependencies,
    convert_to_tensor,
    get_default_graph,
    group,
    kernel_only,
    name_scope,
    requiring_grad,
    run_kernel,
    run_steps,
)
from rnnkit.compat.v1.tensor_shape import TensorShape
from rnnkit.compat.v1.variables import Variable

__all__ = ["cond", "case", "while_loop", "TensorArray", "tuple_"]

_py_bool = bool


# ------------------------------------------------------------------------------------------------
# Nested structures (TensorFlow's nest: dicts by sorted key, TensorArrays as their flow)
# ------------------------------------------------------------------------------------------------


def _is_namedtuple(x: Any) -> _py_bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def flatten(s: Any) -> list[Any]:
    """The leaves of a nested structure of lists, tuples, namedtuples and dicts, in TF's order."""
    if isinstance(s, TensorArray):
        return [s.flow]
    if isinstance(s, dict):
        return [leaf for k in sorted(s) for leaf in flatten(s[k])]
    if isinstance(s, (list, tuple)):
        return [leaf for item in s for leaf in flatten(item)]
    return [s]


def pack(template: Any, leaves: Sequence[Any]) -> Any:
    """The inverse of :func:`flatten`: ``leaves`` in the structure of ``template``."""
    it = iter(leaves)

    def leaf(s: Any) -> Any:
        return s._with_flow(next(it)) if isinstance(s, TensorArray) else next(it)

    return _rebuild(template, leaf, sorted_keys=True)


def _rebuild(struct: Any, leaf: Any, sorted_keys: bool) -> Any:
    """``struct`` with each leaf ``x`` (a TensorArray counts as one) replaced by ``leaf(x)``; lists,
    tuples, namedtuples and dicts rebuilt as their own types; a dict's values are visited in key
    order with ``sorted_keys``, else in its own order, and keep its own order."""

    def build(s: Any) -> Any:
        if isinstance(s, TensorArray):
            return leaf(s)
        if isinstance(s, dict):
            built = {k: build(s[k]) for k in (sorted(s) if sorted_keys else s)}
            return type(s)((k, built[k]) for k in s)
        if _is_namedtuple(s):
            return type(s)(*[build(x) for x in s])
        if isinstance(s, (list, tuple)):
            return type(s)(build(x) for x in s)
        return leaf(s)

    return build(struct)


def structure_error(a: Any, b: Any) -> Exception | None:
    """TensorFlow's ``assert_same_structure`` verdict (TypeError for sequence types that differ,
    ValueError otherwise), or None when ``a`` and ``b`` have the same structure."""
    head = (
        "The two structures don't have the same nested structure.\n\n"
        f"First structure: {a!r}\n\nSecond structure: {b!r}\n\nMore specifically: "
    )

    def check(x: Any, y: Any) -> Exception | None:
        x_seq = isinstance(x, (list, tuple, dict)) or isinstance(x, TensorArray)
        y_seq = isinstance(y, (list, tuple, dict)) or isinstance(y, TensorArray)
        if x_seq != y_seq:
            which = (x, y) if x_seq else (y, x)
            return ValueError(
                head + f"Substructure {which[0]!r} is a sequence, while substructure "
                f"{which[1]!r} is not"
            )
        if not x_seq:
            return None
        if type(x) is not type(y) and not (isinstance(x, dict) and isinstance(y, dict)):
            return TypeError(
                head + f"The two namedtuples don't have the same sequence type. First structure "
                f"{x!r} has type {type(x).__name__}, while second structure {y!r} has type "
                f"{type(y).__name__}"
            )
        if isinstance(x, TensorArray):
            return None
        if isinstance(x, dict):
            if set(x) != set(y):
                return ValueError(
                    head + "The two dictionaries don't have the same set of keys. First "
                    f"structure has keys {sorted(x)}, while second structure has keys {sorted(y)}"
                )
            pairs = [(x[k], y[k]) for k in sorted(x)]
        else:
            if len(x) != len(y):
                return ValueError(
                    head + "The two structures don't have the same number of elements. First "
                    f"structure: {x!r}. Second structure: {y!r}"
                )
            pairs = list(zip(x, y))
        for p, q in pairs:
            err = check(p, q)
            if err is not None:
                return err
        return None

    return check(a, b)


def to_tensors(struct: Any, what: str) -> Any:
    """``struct`` with every leaf a graph tensor (Python numbers and arrays become constants)."""

    def conv(leaf: Any) -> Any:
        if isinstance(leaf, (Tensor, TensorArray)):
            return leaf
        if leaf is None or isinstance(leaf, _Node):
            raise TypeError(f"{what} must return tensors (or Python/numpy values), got {leaf!r}.")
        return convert_to_tensor(leaf)

    return _rebuild(struct, conv, sorted_keys=False)


# ------------------------------------------------------------------------------------------------
# Sub-graphs
# ------------------------------------------------------------------------------------------------


class _Param(Tensor):
    """A function's argument inside a sub-graph: its value is given each time the body runs."""

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        raise InvalidArgumentError(
            f"The tensor {self.name!r} is an argument of a loop body, branch or dataset function: "
            "it has a value only while that function's ops run, not elsewhere (e.g. in a variable's "
            "initial value; pass the initializer as a lambda, or create the variable outside)."
        )


class Body:
    """The nodes a function created between two graph ids, reachable from its ``outputs``.

    ``run(sess, param_values, captured_values)`` evaluates them in order with the ``params``
    standing for the function's arguments and ``captured`` (tensors created outside the function
    that its nodes read) given by the caller.
    """

    def __init__(
        self, lo: int, hi: int, params: Sequence[Tensor], outputs: Sequence[_Node]
    ) -> None:
        self.params = list(params)
        self.outputs = list(outputs)
        given = {id(p) for p in self.params}
        memo: dict[int, _py_bool] = {}

        def internal(n: _Node) -> _py_bool:
            key = id(n)
            if key not in memo:
                i = getattr(n, "_id", None)
                if i is not None:
                    memo[key] = lo < i <= hi
                else:  # an op made on request (tensor.op): inside when what it runs is
                    memo[key] = any(internal(x) for x in (*n._inputs, *n._control))
            return memo[key]

        order: list[_Node] = []
        captured: list[_Node] = []
        seen: set[int] = set()
        stack: list[tuple[_Node, _py_bool]] = [(o, False) for o in reversed(self.outputs)]
        while stack:
            n, done = stack.pop()
            if done:
                order.append(n)
                continue
            if id(n) in seen:
                continue
            seen.add(id(n))
            if id(n) in given:
                continue
            # a variable read or a constant is the same in every run of the body: it is evaluated
            # once, outside (and gradients with respect to variables made inside reach them)
            if not internal(n) or isinstance(n, Variable) or hasattr(n, "_const"):
                captured.append(n)
                continue
            stack.append((n, True))
            for i in reversed((*n._inputs, *n._control)):
                if id(i) not in seen:
                    stack.append((i, False))
        self.order = order
        self.captured = captured
        # each value's slot in run()'s list: the parameters, the captured tensors, then the nodes
        slot: dict[int, int] = {}
        for k, n in enumerate([*self.params, *captured, *order]):
            slot.setdefault(id(n), k)
        self._base = len(self.params) + len(captured)
        # (slot, node, input slots, whether the run calls its kernel itself), as Session.run's plan
        self._steps = [
            (k, n, [slot[id(i)] for i in n._inputs], kernel_only(n))
            for k, n in enumerate(order, self._base)
        ]
        self._unset = [None] * len(order)
        self._out = [slot[id(o)] for o in self.outputs]
        # tf.gradients called inside the function: the slots it differentiates with respect to
        self._grad_slots = {
            slot[id(x)]
            for n in order
            if isinstance(n, GradientsNode)
            for x in n.xs
            if id(x) in slot
        }

    def run(self, sess: Any, param_values: Sequence[Any], captured_values: Sequence[Any]) -> list:
        vals = [*param_values, *captured_values, *self._unset]
        targets = self._grad_slots
        if targets:
            for k in range(self._base):
                if k in targets:
                    vals[k] = requiring_grad(vals[k])
            with torch.enable_grad():
                run_steps(sess, self._steps, vals, targets)
        else:
            run_steps(sess, self._steps, vals, targets)
        return [vals[i] for i in self._out]


def trace(
    fn: Callable[..., Any],
    specs: Any,
    what: str,
    call: Callable[[Callable[..., Any], Any], Any] | None = None,
) -> tuple[Body, Any, Any]:
    """Call ``fn`` on parameter tensors shaped like ``specs`` (a structure of ``(dtype, shape)`` or
    of TensorArrays); return the traced :class:`Body`, the structure of parameters passed and the
    function's result (with tensors for Python values). ``call(fn, params)`` calls it (default
    ``fn(*params)``)."""
    graph = get_default_graph()
    lo = graph._last_id

    def make(spec: Any) -> Any:
        if isinstance(spec, TensorArray):
            return spec._with_flow(_Param("Identity", spec.flow.dtype, spec.flow.shape))
        dtype, shape = spec
        return _Param("Identity", dtype, shape)

    params = _map_specs(make, specs)
    result = fn(*params) if call is None else call(fn, params)
    if result is None:
        raise ValueError(f"'{what}' must have a return value.")
    result = to_tensors(result, f"'{what}'")
    body = Body(lo, graph._last_id, flatten(params), flatten(result))
    return body, params, result


def _map_specs(fn: Callable[[Any], Any], specs: Any) -> Any:
    if isinstance(specs, TensorArray) or (
        isinstance(specs, tuple) and len(specs) == 2 and isinstance(specs[0], DType)
    ):
        return fn(specs)
    if isinstance(specs, dict):
        return type(specs)((k, _map_specs(fn, v)) for k, v in specs.items())
    if _is_namedtuple(specs):
        return type(specs)(*[_map_specs(fn, v) for v in specs])
    if isinstance(specs, (list, tuple)):
        return type(specs)(_map_specs(fn, v) for v in specs)
    raise TypeError(f"Expected a structure of tensors, got {specs!r}.")


def spec_of(struct: Any) -> Any:
    """The ``(dtype, shape)`` (or TensorArray) structure of a structure of tensors."""

    def walk(s: Any) -> Any:
        if isinstance(s, TensorArray):
            return s
        if isinstance(s, Tensor):
            return (s.dtype, s.shape)
        if isinstance(s, dict):
            return type(s)((k, walk(v)) for k, v in s.items())
        if _is_namedtuple(s):
            return type(s)(*[walk(v) for v in s])
        if isinstance(s, (list, tuple)):
            return type(s)(walk(v) for v in s)
        raise TypeError(f"Expected a tensor, got {s!r}.")

    return walk(struct)


def outputs_of(node: StructNode, leaves: Sequence[Tensor], shapes: Sequence[Any], op: str) -> list:
    """One tensor per output of ``node`` (its value is a list), named ``op``, ``op_1``, ..."""
    outs = []
    for k, (t, shape) in enumerate(zip(leaves, shapes)):
        out = Tensor(op, t.dtype, shape, [node], fn=lambda v, k=k: v[k])
        outs.append(out)
    return outs


def most_specific_compatible(a: TensorShape, b: TensorShape) -> TensorShape:
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])


# ------------------------------------------------------------------------------------------------
# cond / case
# ------------------------------------------------------------------------------------------------


def _check_pred(pred: Any, what: str) -> Tensor:
    p = convert_to_tensor(pred)
    if p.dtype is not tf_bool:
        raise TypeError(
            f"Input 'pred' of 'Switch' Op has type {p.dtype.name} that does not match expected "
            f"type of bool."
        )
    if p.shape.ndims is not None and p.shape.ndims != 0:
        raise ValueError(
            f"Shape must be rank 0 but is rank {p.shape.ndims} for '{what}/Switch' (op: 'Switch') "
            f"with input shapes: {p.shape}."
        )
    return p


def _ops_to_tensors(result: Any, pivot: _py_bool) -> Any:
    def conv(x: Any) -> Any:
        if isinstance(x, Operation):
            with control_dependencies([x]):
                return Tensor("Identity", tf_bool, [], fn=lambda: torch.tensor(pivot))
        if isinstance(x, dict):
            return type(x)((k, conv(v)) for k, v in x.items())
        if _is_namedtuple(x):
            return type(x)(*[conv(v) for v in x])
        if isinstance(x, (list, tuple)):
            return type(x)(conv(v) for v in x)
        return x

    return conv(result)


def _truth(value: Any, what: str) -> _py_bool:
    """A condition's run-time value as a Python bool (it must hold one element)."""
    if isinstance(value, torch.Tensor) and value.dim() != 0:
        raise InvalidArgumentError(
            f"{what} must be a scalar, but it has shape {list(value.shape)}."
        )
    return _py_bool(value)


def _unpack_singleton(x: Any) -> Any:
    return x[0] if isinstance(x, (list, tuple)) and len(x) == 1 else x


def _branches(
    preds: list[Tensor],
    fns: list[Callable[[], Any]],
    names: list[str],
    select: Callable[[list[Any]], int],
    strict: _py_bool,
    scope: str,
) -> Any:
    """Trace each of ``fns``; a node that evaluates ``preds``, picks a branch with ``select`` and
    runs only that branch. Outputs have the first branch's structure."""
    graph = get_default_graph()
    bodies, results = [], []
    for k, (fn, name) in enumerate(zip(fns, names)):
        # an op a branch returns becomes a bool tensor that runs it: True from the first
        # branch(es), False from the last (TF's pivot)
        pivot = k < len(fns) - 1
        body, _, result = trace(fn, (), name, call=lambda f, _, p=pivot: _ops_to_tensors(f(), p))
        if not strict:
            result = _unpack_singleton(result)
        bodies.append(body)
        results.append(result)
    first = results[0]
    for name, result in zip(names[1:], results[1:]):
        err = structure_error(first, result)
        if err is not None:
            raise err
        a_types = [t.dtype.name for t in flatten(first)]
        b_types = [t.dtype.name for t in flatten(result)]
        if a_types != b_types:
            a_s = a_types[0] if len(a_types) == 1 else ", ".join(a_types)
            b_s = b_types[0] if len(b_types) == 1 else ", ".join(b_types)
            raise ValueError(
                f"Outputs of '{names[0]}' and '{name}' must have the same type(s). Received {a_s} "
                f"from '{names[0]}' and {b_s} from '{name}'."
            )
    flat = flatten(first)
    shapes = []
    for k, t in enumerate(flat):
        shape = t.shape
        for result in results[1:]:
            shape = most_specific_compatible(shape, flatten(result)[k].shape)
        shapes.append(shape)
    n_pred = len(preds)
    spans = []
    start = n_pred
    for body in bodies:
        spans.append((start, start + len(body.captured)))
        start += len(body.captured)

    def run(sess: Any, *values: Any) -> list[Any]:
        k = select(list(values[:n_pred]))
        lo, hi = spans[k]
        return bodies[k].run(sess, [], values[lo:hi])

    node = SessionNode(
        graph.unique_name("cond"), [*preds, *[c for b in bodies for c in b.captured]], run, graph
    )
    outs = outputs_of(node, flat, shapes, "Merge")
    return pack(first, outs)


class SessionNode(StructNode):
    """A StructNode whose function also receives the session: ``fn(sess, *values)``."""

    _stateful = True

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        # torch's errors about the values (e.g. results of different shapes stacked) become
        # TF's InvalidArgumentError, as for any op
        return run_kernel(self.name, lambda *vs: self._fn(sess, *vs), values)


def cond(
    pred: Any,
    true_fn: Callable[[], Any] | None = None,
    false_fn: Callable[[], Any] | None = None,
    strict: _py_bool = False,
    name: str | None = None,
    fn1: Callable[[], Any] | None = None,
    fn2: Callable[[], Any] | None = None,
) -> Any:
    """``true_fn()`` if ``pred`` (a scalar bool tensor) else ``false_fn()``; only the taken branch
    runs. Both branches must return the same structure and dtypes; a one-element list or tuple
    result is unpacked unless ``strict``."""
    true_fn = true_fn if true_fn is not None else fn1
    false_fn = false_fn if false_fn is not None else fn2
    if isinstance(pred, _py_bool):
        raise TypeError("'pred' must not be a Python bool.")
    if not callable(true_fn):
        raise TypeError("'true_fn' must be callable.")
    if not callable(false_fn):
        raise TypeError("'false_fn' must be callable.")
    with name_scope(name, "cond") as scope:
        p = _check_pred(pred, scope.rstrip("/") or "cond")
        return _branches(
            [p],
            [true_fn, false_fn],
            ["true_fn", "false_fn"],
            lambda v: 0 if _truth(v[0], "pred") else 1,
            strict,
            scope,
        )


def case(
    pred_fn_pairs: Any,
    default: Callable[[], Any] | None = None,
    exclusive: _py_bool = False,
    strict: _py_bool = False,
    name: str = "case",
) -> Any:
    """The result of the function paired with the first true predicate (in the order given; a
    dict's items in insertion order), else ``default()``. With ``exclusive=True``, more than one
    true predicate is an ``InvalidArgumentError`` at run time."""
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else pred_fn_pairs
    if not isinstance(pairs, (list, tuple)):
        raise TypeError(
            f"'pred_fn_pairs' must be a list, tuple, or dict. Received: {type(pairs).__name__}"
        )
    for entry in pairs:
        if not isinstance(entry, tuple) or len(entry) != 2:
            raise TypeError(f"Each entry in 'pred_fn_pairs' must be a 2-tuple. Received {entry}.")
        pred, fn = entry
        if not isinstance(pred, Tensor):
            raise TypeError(f"pred must be a Tensor, got: {pred}")
        if pred.dtype is not tf_bool:
            raise TypeError(f"pred must be Tensor of type bool: {pred.name}")
        if not callable(fn):
            raise TypeError(f"fn for pred {pred.name} must be callable.")
    if default is not None and not callable(default):
        raise TypeError("'default' must be callable.")
    if not pairs:
        raise ValueError("'pred_fn_pairs' must contain at least one (pred, fn) pair.")
    pairs = list(pairs)
    if default is None:
        *pairs, (_, default) = pairs
        if not pairs:
            return _unpack_singleton(default()) if not strict else default()
    preds = [p for p, _ in pairs]
    fns = [f for _, f in pairs] + [default]
    with name_scope(name) as scope:

        def select(values: list[Any]) -> int:
            true = [k for k, v in enumerate(values) if _truth(v, "pred")]
            if exclusive and len(true) > 1:
                raise InvalidArgumentError(
                    "assertion failed: [Input error: exclusive=True: more than 1 conditions ("
                    + ", ".join(p.name for p in preds)
                    + ") evaluated as True:] ["
                    + " ".join(str(int(_py_bool(v))) for v in values)
                    + "]"
                )
            return true[0] if true else len(preds)

        for p in preds:
            _check_pred(p, scope.rstrip("/"))
        names = [f"fn for pred {p.name}" for p in preds] + ["default"]
        return _branches(preds, fns, names, select, strict, scope)


# ------------------------------------------------------------------------------------------------
# while_loop
# ------------------------------------------------------------------------------------------------


def _shape_at_most(shape: TensorShape, invariant: TensorShape) -> _py_bool:
    """Whether ``shape`` satisfies ``invariant`` statically (unknown dims of ``shape`` are
    checked at run time)."""
    if invariant.ndims is None:
        return True
    if shape.ndims is None:
        return True
    if shape.ndims != invariant.ndims:
        return False
    return all(
        i is None or s is None or s == i for s, i in zip(shape.as_list(), invariant.as_list())
    )


def _needs_check(shape: TensorShape, invariant: TensorShape) -> _py_bool:
    """Whether a body output of static ``shape`` may break ``invariant`` at run time."""
    if invariant.ndims is None:
        return False
    if shape.ndims is None:
        return True
    return any(i is not None and s is None for s, i in zip(shape.as_list(), invariant.as_list()))


def _fits(value: Any, dims: list[int | None]) -> _py_bool:
    if not isinstance(value, torch.Tensor):
        return True
    shape = value.shape
    return len(shape) == len(dims) and all(d is None or d == s for s, d in zip(shape, dims))


def while_loop(
    cond: Callable[..., Any],
    body: Callable[..., Any],
    loop_vars: Any,
    shape_invariants: Any = None,
    parallel_iterations: int = 10,
    back_prop: _py_bool = True,
    swap_memory: _py_bool = False,
    name: str | None = None,
    maximum_iterations: Any = None,
    return_same_structure: _py_bool = False,
) -> Any:
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``, at most
    ``maximum_iterations`` times. ``loop_vars`` is a list or tuple of (nested) tensors and
    TensorArrays; each keeps its dtype, and its shape unless ``shape_invariants`` gives a less
    specific one. A single loop variable comes back unpacked (``return_same_structure=False``).
    Gradients flow through the iterations that ran (``back_prop=False`` stops them)."""
    if not callable(cond):
        raise TypeError("'cond' must be callable.")
    if not callable(body):
        raise TypeError("'body' must be callable.")
    if parallel_iterations < 1:
        raise TypeError("'parallel_iterations' must be a positive integer.")
    if not loop_vars:
        raise ValueError("'loop_vars' must be provided.")
    graph = get_default_graph()
    with name_scope(name, "while"):
        loop_vars = to_tensors(loop_vars, "'loop_vars'")
        flat_init = flatten(loop_vars)
        if shape_invariants is None:
            invariants = [t.shape for t in flat_init]
        else:
            inv_struct = _map_structure_shapes(loop_vars, shape_invariants)
            invariants = []
            for t, inv in zip(flat_init, inv_struct):
                inv = t.shape if inv is None else TensorShape(inv)
                if not t.shape.is_compatible_with(inv) or not _shape_at_most(t.shape, inv):
                    raise ValueError(
                        f"The shape invariant specified for {t.name} is not compatible with the "
                        f"initial shape of the loop variable. It enters the loop with shape "
                        f"{t.shape}, but the specified shape invariant is {inv}."
                    )
                invariants.append(inv)
        max_iter = None
        if maximum_iterations is not None:
            max_iter = convert_to_tensor(maximum_iterations)
            if max_iter.shape.ndims not in (None, 0):
                raise ValueError(
                    f"'maximum_iterations' must be a scalar. Received shape: {max_iter.shape}"
                )
        specs = pack(loop_vars, flat_init)
        spec_struct = _map_specs_shapes(specs, invariants)
        cond_body, params_c, c_out = trace(cond, spec_struct, "cond")
        if isinstance(c_out, Tensor):
            if c_out.dtype is not tf_bool:
                raise TypeError(
                    f"Input 'input' of 'LoopCond' Op has type {c_out.dtype.name} that does not "
                    "match expected type of bool."
                )
            if c_out.shape.ndims not in (None, 0):
                raise ValueError(
                    f"Shape must be rank 0 but is rank {c_out.shape.ndims} for 'LoopCond' with "
                    f"input shapes: {c_out.shape}."
                )
        else:
            raise TypeError(f"'cond' must return a boolean scalar tensor, got {c_out!r}.")

        def call_body(fn: Callable[..., Any], params: Any) -> Any:
            out = fn(*params)
            if len(params) == 1 and not isinstance(out, (list, tuple)):
                out = [out]
            return out

        loop_body, params_b, b_out = trace(body, spec_struct, "body", call=call_body)
        err = structure_error(list(params_b), list(b_out))
        if err is not None:
            raise err
        flat_out = flatten(b_out)
        for t0, t1, inv in zip(flat_init, flat_out, invariants):
            if t1.dtype is not t0.dtype:
                raise TypeError(
                    f"Loop variable {t0.name} enters the loop with type {t0.dtype.name}, but has "
                    f"type {t1.dtype.name} after one iteration."
                )
            if not _shape_at_most(t1.shape, inv):
                raise ValueError(
                    f"Input tensor '{t0.name}' enters the loop with shape {t0.shape}, but has "
                    f"shape {t1.shape} after one iteration. To allow the shape to vary across "
                    "iterations, use the `shape_invariants` argument of tf.while_loop to specify a "
                    "less-specific shape."
                )
        n_vars = len(flat_init)
        n_c = len(cond_body.captured)
        with_max = max_iter is not None
        # the loop variables whose invariant only a run can check: (index, name, dims)
        checks = [
            (k, t0.name, inv.as_list())
            for k, (t0, t1, inv) in enumerate(zip(flat_init, flat_out, invariants))
            if _needs_check(t1.shape, inv)
        ]

        def run(sess: Any, *values: Any) -> list[Any]:
            vals = list(values[:n_vars])
            rest = values[n_vars:]
            limit = None
            if with_max:
                limit = int(rest[0])
                rest = rest[1:]
            cap_c, cap_b = rest[:n_c], rest[n_c:]
            steps = 0
            with torch.set_grad_enabled(back_prop and torch.is_grad_enabled()):
                while limit is None or steps < limit:
                    if not _truth(cond_body.run(sess, vals, cap_c)[0], "cond's result"):
                        break
                    vals = loop_body.run(sess, vals, cap_b)
                    for k, name_, dims in checks:
                        if not _fits(vals[k], dims):
                            raise InvalidArgumentError(
                                f"The loop variable entering as {name_!r} has shape "
                                f"{tuple(vals[k].shape)} after iteration {steps + 1}, which does "
                                f"not match its shape invariant {invariants[k]}."
                            )
                    steps += 1
            return vals

        inputs = [*flat_init, *([max_iter] if with_max else []), *cond_body.captured,
                  *loop_body.captured]  # fmt: skip
        node = SessionNode(graph.unique_name("while"), inputs, run, graph)
        outs = outputs_of(node, flat_init, invariants, "Exit")
        result = pack(b_out, outs)  # the structure the body returns, as in TF
        if not return_same_structure and len(outs) == 1:
            return result[0]
        return result


def _map_structure_shapes(loop_vars: Any, shape_invariants: Any) -> list[Any]:
    """``shape_invariants`` flattened against ``loop_vars`` (a TensorShape or list of dims is a
    leaf; a TensorArray's invariant is ignored)."""
    out: list[Any] = []

    def walk(v: Any, s: Any) -> None:
        if isinstance(v, TensorArray):
            out.append(None)
        elif isinstance(v, Tensor):
            out.append(s)
        elif isinstance(v, dict):
            if not isinstance(s, dict) or set(s) != set(v):
                raise ValueError(
                    "The two structures don't have the same nested structure: 'loop_vars' "
                    f"{v!r} and 'shape_invariants' {s!r}."
                )
            for k in sorted(v):
                walk(v[k], s[k])
        else:
            if not isinstance(s, (list, tuple)) or len(s) != len(v):
                raise ValueError(
                    "The two structures don't have the same nested structure: 'loop_vars' "
                    f"{v!r} and 'shape_invariants' {s!r}."
                )
            for a, b in zip(v, s):
                walk(a, b)

    walk(loop_vars, shape_invariants)
    return out


def _map_specs_shapes(specs: Any, shapes: Sequence[TensorShape]) -> Any:
    it = iter(shapes)

    def walk(s: Any) -> Any:
        if isinstance(s, TensorArray):
            next(it)
            return s
        if isinstance(s, Tensor):
            return (s.dtype, next(it))
        if isinstance(s, dict):
            built = {k: walk(s[k]) for k in sorted(s)}
            return type(s)((k, built[k]) for k in s)
        if _is_namedtuple(s):
            return type(s)(*[walk(v) for v in s])
        return type(s)(walk(v) for v in s)

    return walk(specs)


# ------------------------------------------------------------------------------------------------
# TensorArray
# ------------------------------------------------------------------------------------------------


def _index(name: str, value: Any) -> Tensor:
    t = convert_to_tensor(value)
    if not t.dtype.is_integer:
        raise TypeError(
            f"Received an invalid value for argument `{name}`: expected an int32 scalar, got "
            f"dtype {t.dtype.name}."
        )
    return t


class TensorArray:
    """TF1's ``tf.TensorArray(dtype, size, dynamic_size=False, element_shape=None, ...)``.

    ``write(i, v)``, ``unstack(v)`` and ``scatter(ix, v)`` return a new array (use the result);
    ``read(i)``, ``stack()``, ``gather(ix)``, ``concat()`` and ``size()`` are tensors. As in TF 2's
    ``tf.compat.v1``, an element never written reads as zeros once the element shape is known; an
    element is written at most once. Unlike TF, an element may be read more than once whatever
    ``clear_after_read`` says (TF raises at the second read).
    """

    def __init__(
        self,
        dtype: Any,
        size: Any = None,
        dynamic_size: Any = None,
        clear_after_read: Any = None,
        tensor_array_name: str | None = None,
        handle: Any = None,
        flow: Any = None,
        infer_shape: _py_bool = True,
        element_shape: Any = None,
        colocate_with_first_write_call: _py_bool = True,
        name: str | None = None,
    ) -> None:
        if handle is not None:
            raise TypeError("Received an invalid value for argument `handle`: TensorArray handles "
                            "are not supported; create the array with `size`.")  # fmt: skip
        self._dtype = as_dtype(dtype)
        self._dynamic_size = _py_bool(dynamic_size)
        self._infer_shape = _py_bool(infer_shape)
        self._shape_box = [None if element_shape is None else TensorShape(element_shape)]
        self._size: int | None = None  # the static size of a fixed-size array
        if flow is not None:
            self._flow = flow
            return
        if size is None:
            raise ValueError("Argument `size` must be provided if handle is not provided.")
        n = _index("size", size)
        dynamic = self._dynamic_size
        const = getattr(n, "_const", None)
        if const is not None and not dynamic:
            self._size = int(const)
        self._flow = Tensor(
            name or tensor_array_name or "TensorArray",
            self._dtype,
            [],
            [n],
            fn=lambda v: _TA(tuple([None] * int(v)), dynamic),
        )

    # -- structure ----------------------------------------------------------------------------
    def _with_flow(self, flow: Tensor) -> TensorArray:
        ta = TensorArray.__new__(TensorArray)
        ta._dtype = self._dtype
        ta._dynamic_size = self._dynamic_size
        ta._infer_shape = self._infer_shape
        ta._shape_box = self._shape_box
        ta._size = self._size
        ta._flow = flow
        return ta

    @property
    def flow(self) -> Tensor:
        return self._flow

    @property
    def dtype(self) -> DType:
        return self._dtype

    @property
    def dynamic_size(self) -> _py_bool:
        return self._dynamic_size

    @property
    def element_shape(self) -> TensorShape:
        s = self._shape_box[0]
        return TensorShape(None) if s is None else s

    @property
    def handle(self) -> Tensor:
        return self._flow

    def _merge_shape(self, shape: TensorShape) -> None:
        if not self._infer_shape:
            return
        known = self._shape_box[0]
        if known is None:
            self._shape_box[0] = shape
        elif not known.is_compatible_with(shape):
            raise ValueError(f"Inconsistent shapes: saw {shape} but expected {known} ")
        else:
            self._shape_box[0] = known.merge_with(shape)

    def _value(self, value: Any) -> Tensor:
        v = convert_to_tensor(value, self._dtype) if not isinstance(value, Tensor) else value
        if v.dtype is not self._dtype:
            raise TypeError(
                f"TensorArray dtype is {self._dtype.name} but Op is trying to write dtype "
                f"{v.dtype.name}."
            )
        return v

    def _zeros(self) -> torch.Tensor:
        shape = self._shape_box[0]
        if shape is None or not shape.is_fully_defined():
            return None
        return torch.zeros(shape.as_list(), dtype=self._dtype.torch)

    # -- writes -----------------------------------------------------------------------------
    def write(self, index: Any, value: Any, name: str | None = None) -> TensorArray:
        i = _index("index", index)
        v = self._value(value)
        self._merge_shape(v.shape)
        flow = Tensor(name or "TensorArrayWrite", self._dtype, [], [self._flow, i, v],
                      fn=lambda ta, k, x: ta.write(int(k), x))  # fmt: skip
        return self._with_flow(flow)

    def unstack(self, value: Any, name: str | None = None) -> TensorArray:
        v = self._value(value)
        if v.shape.ndims == 0:
            raise ValueError(
                "Shape must be at least rank 1 but is rank 0 for 'TensorArrayUnstack'."
            )
        if v.shape.ndims is not None:
            self._merge_shape(TensorShape(v.shape.as_list()[1:]))
        flow = Tensor(name or "TensorArrayUnstack", self._dtype, [], [self._flow, v],
                      fn=lambda ta, x: ta.scatter(range(len(x)), x.unbind(0)))  # fmt: skip
        return self._with_flow(flow)

    def scatter(self, indices: Any, value: Any, name: str | None = None) -> TensorArray:
        ix = _index("indices", indices)
        v = self._value(value)
        if v.shape.ndims is not None and v.shape.ndims > 0:
            self._merge_shape(TensorShape(v.shape.as_list()[1:]))
        flow = Tensor(
            name or "TensorArrayScatter",
            self._dtype,
            [],
            [self._flow, ix, v],
            fn=lambda ta, k, x: ta.scatter([int(j) for j in k.reshape(-1)], x.unbind(0)),
        )
        return self._with_flow(flow)

    def split(self, value: Any, lengths: Any, name: str | None = None) -> TensorArray:
        """Element ``i`` is the next ``lengths[i]`` rows of ``value``."""
        v = self._value(value)
        ls = _index("lengths", lengths)
        if v.shape.ndims == 0:
            raise ValueError("Shape must be at least rank 1 but is rank 0 for 'TensorArraySplit'.")
        if v.shape.ndims is not None:
            self._merge_shape(TensorShape([None, *v.shape.as_list()[1:]]))

        def fn(ta: _TA, x: torch.Tensor, k: torch.Tensor) -> _TA:
            sizes = [int(j) for j in k.reshape(-1)]
            if sum(sizes) != x.shape[0]:
                raise InvalidArgumentError(
                    f"Expected sum of lengths to be equal to values.shape[0], but sum of lengths "
                    f"is {sum(sizes)} and value's shape is: {list(x.shape)}"
                )
            return ta.scatter(range(len(sizes)), list(torch.split(x, sizes)))

        flow = Tensor(name or "TensorArraySplit", self._dtype, [], [self._flow, v, ls], fn=fn)
        return self._with_flow(flow)

    # -- reads ------------------------------------------------------------------------------
    def read(self, index: Any, name: str | None = None) -> Tensor:
        i = _index("index", index)
        return Tensor(name or "TensorArrayReadV3", self._dtype, self.element_shape,
                      [self._flow, i], fn=lambda ta, k: ta.read(int(k), self._zeros))  # fmt: skip

    def gather(self, indices: Any, element_shape: Any = None, name: str | None = None) -> Tensor:
        ix = _index("indices", indices)
        es = self.element_shape  # the number of rows is left unknown, as in TF
        shape = TensorShape(None) if es.ndims is None else TensorShape([None, *es.as_list()])
        return Tensor(
            name or "TensorArrayGatherV3",
            self._dtype,
            shape,
            [self._flow, ix],
            fn=lambda ta, k: ta.gather([int(j) for j in k.reshape(-1)], self._zeros()),
        )

    def stack(self, name: str | None = None) -> Tensor:
        es = self.element_shape
        shape = TensorShape(None) if es.ndims is None else TensorShape([None, *es.as_list()])
        if self._size is not None and shape.ndims is not None:
            shape = TensorShape([self._size, *es.as_list()])
        return Tensor(name or "TensorArrayStack", self._dtype, shape, [self._flow],
                      fn=lambda ta: ta.gather(range(len(ta.items)), self._zeros()))  # fmt: skip

    def concat(self, name: str | None = None) -> Tensor:
        es = self.element_shape
        shape = TensorShape(None) if es.ndims is None else TensorShape([None, *es.as_list()[1:]])
        return Tensor(name or "TensorArrayConcat", self._dtype, shape, [self._flow],
                      fn=lambda ta: ta.concat(self._zeros()))  # fmt: skip

    def size(self, name: str | None = None) -> Tensor:
        return Tensor(name or "TensorArraySizeV3", int32, [], [self._flow],
                      fn=lambda ta: torch.tensor(len(ta.items), dtype=torch.int32))  # fmt: skip

    def identity(self) -> TensorArray:
        return self

    def close(self, name: str | None = None) -> Operation:
        return group(self._flow, name=name or "TensorArrayClose")

    def mark_used(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"<tf.TensorArray dtype={self._dtype.name} flow={self._flow.name!r}>"


class _TA:
    """The run-time value of a TensorArray's flow: the elements, ``None`` where not written."""

    __slots__ = ("items", "dynamic")

    def __init__(self, items: tuple, dynamic: _py_bool) -> None:
        self.items = items
        self.dynamic = dynamic

    def _check_write(self, k: int, items: list) -> None:
        if k < 0:
            raise InvalidArgumentError(
                f"Tried to write to index {k} but array size is: {len(items)}"
            )
        if k >= len(items):
            if not self.dynamic:
                raise InvalidArgumentError(
                    f"Tried to write to index {k} but array is not resizeable and size is: "
                    f"{len(items)}"
                )
            items.extend([None] * (k + 1 - len(items)))
        if items[k] is not None:
            raise InvalidArgumentError(
                f"Could not write to TensorArray index {k} because it has already been written to."
            )

    def write(self, k: int, x: torch.Tensor) -> _TA:
        items = list(self.items)
        self._check_write(k, items)
        items[k] = x
        return _TA(tuple(items), self.dynamic)

    def scatter(self, ks: Any, xs: Sequence[torch.Tensor]) -> _TA:
        ks = list(ks)
        if len(ks) != len(xs):
            raise InvalidArgumentError(
                f"Expected len(indices) == values.shape[0], but saw: {len(ks)} vs. {len(xs)}"
            )
        items = list(self.items)
        for k, x in zip(ks, xs):
            self._check_write(k, items)
            items[k] = x
        return _TA(tuple(items), self.dynamic)

    def read(self, k: int, zeros: Any) -> torch.Tensor:
        """Element ``k``; an element never written reads as zeros (``zeros``: a tensor, None
        when the element shape is unknown, or a function making it)."""
        if not 0 <= k < len(self.items):
            raise InvalidArgumentError(
                f"Tried to read from index {k} but array size is: {len(self.items)}"
            )
        x = self.items[k]
        if x is None:
            like = next((v for v in self.items if v is not None), None)
            if like is not None:
                return torch.zeros_like(like)
            if callable(zeros):
                zeros = zeros()
            if zeros is None:
                raise InvalidArgumentError(
                    f"Could not read from TensorArray index {k}.  Furthermore, the element shape "
                    "is not fully defined: <unknown>.  It is possible you are working with a "
                    "resizeable TensorArray and stop_gradients is not allowing the gradients to "
                    "be written.  If you set the full element_shape property on the forward "
                    "TensorArray, the proper all-zeros tensor will be returned instead of "
                    "incurring this error."
                )
            return zeros
        return x

    def gather(self, ks: Any, zeros: torch.Tensor | None) -> torch.Tensor:
        ks = list(ks)
        if not ks:
            if zeros is None:
                raise UnimplementedError(
                    "TensorArray has size zero, but element shape <unknown> is not fully defined. "
                    "Currently only static shapes are supported when packing zero-size "
                    "TensorArrays."
                )
            return zeros.new_zeros((0, *zeros.shape))
        rows = [self.read(k, zeros) for k in ks]
        shapes = {tuple(r.shape) for r in rows}
        if len(shapes) > 1:
            raise InvalidArgumentError(
                "TensorArray has inconsistent shapes: "
                + ", ".join(str(list(s)) for s in sorted(shapes))
            )
        return torch.stack(rows)

    def concat(self, zeros: torch.Tensor | None) -> torch.Tensor:
        rows = [self.read(k, zeros) for k in range(len(self.items))]
        if not rows:
            if zeros is None:
                raise UnimplementedError(
                    "TensorArray has size zero, but element shape <unknown> is not fully defined."
                )
            return zeros.new_zeros((0, *zeros.shape[1:]))
        return torch.cat(rows)


# ------------------------------------------------------------------------------------------------
# tuple
# ------------------------------------------------------------------------------------------------


def tuple_(tensors: Sequence[Any], control_inputs: Sequence[Any] | None = None,
           name: str | None = None) -> list[Any]:  # fmt: skip
    """``tensors``, each available only after all of them (and ``control_inputs``) are computed."""
    if isinstance(tensors, (Tensor, str)) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"'tensors' must be a list or tuple of tensors, got {tensors!r}.")
    with name_scope(name, "tuple"):
        items = [None if t is None else convert_to_tensor(t) for t in tensors]
        deps = [t for t in items if t is not None] + list(control_inputs or [])
        gate = group(*deps)
        out = []
        with control_dependencies([gate]):
            for t in items:
                out.append(
                    None
                    if t is None
                    else Tensor("control_dependency", t.dtype, t.shape, [t], fn=lambda v: v)
                )
        return out
