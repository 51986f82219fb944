"""TF1's ``tf.data`` basics: ``Dataset`` pipelines read through one-shot or initializable iterators.

A dataset is a Python description of a pipeline. Its graph inputs (the tensors given to
``from_tensor_slices``/``from_tensors``, and the tensors its ``map``/``filter`` functions capture) are
evaluated when an iterator is initialized: in the ``Session.run`` of ``iterator.initializer`` for an
initializable iterator (so placeholders can be fed there), or of the first ``get_next()`` for a
one-shot iterator. ``map``/``filter`` functions are traced once into a sub-graph (as TF does) and run
per element. ``get_next()`` is a structure of tensors that take the next element in every
``Session.run`` that evaluates them (once per run, whichever of them are fetched); at the end of the
data that run raises ``tf.errors.OutOfRangeError``, as in TensorFlow. Iterator state lives in the
session.

Differs from TensorFlow: ``shuffle`` draws from numpy's generator (seeded from the graph and op
seeds as TF seeds its ops, and deterministic for a given seed), so the order differs from TF's for
the same seed; the elements and the buffer semantics are TF's. ``prefetch`` and ``cache()`` in memory
change nothing but speed in TF and are no-ops here.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Callable, Sequence
from collections.abc import Iterator as _Iter
from typing import Any

import numpy as np
import torch

from rnnkit.compat.v1.control_flow_ops import flatten, pack, structure_error, trace
from rnnkit.compat.v1.dtypes import DType, as_dtype, int64, string
from rnnkit.compat.v1.dtypes import bool as tf_bool
from rnnkit.compat.v1.errors import (
    DataLossError,
    FailedPreconditionError,
    InvalidArgumentError,
    Namespace,
    OutOfRangeError,
    unsupported,
)
from rnnkit.compat.v1.ops import (
    Operation,
    StructNode,
    Tensor,
    _Placeholder,
    convert_to_tensor,
    get_default_graph,
    leaf,
    run_kernel,
    to_numpy,
)
from rnnkit.compat.v1.tensor_shape import TensorShape

__all__ = [
    "Dataset",
    "Iterator",
    "make_one_shot_iterator",
    "make_initializable_iterator",
    "get_output_types",
    "get_output_shapes",
    "get_output_classes",
    "experimental",
]

_py_bool = bool


def _as_data_tensors(value: Any, what: str) -> Any:
    """A dataset input as a structure of tensors: tuples and dicts are structures, lists (and
    numpy arrays) are tensors, as in ``tf.data``."""
    if isinstance(value, dict):
        return type(value)((k, _as_data_tensors(v, what)) for k, v in value.items())
    if isinstance(value, tuple):
        if hasattr(value, "_fields"):
            return type(value)(*[_as_data_tensors(v, what) for v in value])
        return tuple(_as_data_tensors(v, what) for v in value)
    if value is None:
        raise TypeError(f"Received an invalid value for argument `{what}`: got None.")
    return convert_to_tensor(value)


def _map_struct(fn: Callable[[Any], Any], struct: Any) -> Any:
    """``fn`` over the leaves of ``struct`` (tuples, namedtuples, dicts), keeping the structure."""
    return pack(struct, [fn(x) for x in flatten(struct)])


def _check_placeholders(nodes: Sequence[Any]) -> None:
    for n in nodes:
        if isinstance(n, _Placeholder):
            raise ValueError(
                f"Cannot capture a placeholder (name:{n._op_name}, type:Placeholder) by value."
            )


def _seed(graph: Any, seed: Any) -> int | None:
    if seed is not None and (isinstance(seed, _py_bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"Received an invalid value for argument `seed`: expected an int, got {seed!r}.")  # fmt: skip
    return graph._op_seed(seed)


def _count(name: str, value: Any) -> int:
    if isinstance(value, Tensor):
        const = getattr(value, "_const", None)
        if const is None:
            raise TypeError(
                f"Received an invalid value for argument `{name}`: expected a Python int or a "
                f"constant, got the graph tensor {value.name!r}."
            )
        value = const
    arr = np.asarray(value)
    if arr.ndim != 0 or arr.dtype.kind not in "iu":
        raise TypeError(f"Received an invalid value for argument `{name}`: expected an int, got {value!r}.")  # fmt: skip
    return int(arr)


class _Arg:
    """An integer argument of a dataset: a Python int (or constant), or a scalar integer tensor
    (e.g. a placeholder fed with the initializer) read when an iterator starts."""

    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        self.tensor: Tensor | None = None
        self.static: int | None = None
        if isinstance(value, Tensor) and getattr(value, "_const", None) is None:
            if not value.dtype.is_integer or value.shape.ndims not in (None, 0):
                raise TypeError(
                    f"Received an invalid value for argument `{name}`: expected a scalar integer "
                    f"tensor, got {value!r}."
                )
            self.tensor = value
        else:
            self.static = _count(name, value)

    def inputs(self) -> list[Tensor]:
        return [] if self.tensor is None else [self.tensor]

    def __call__(self, ctx: _Context) -> int:
        return self.static if self.tensor is None else int(ctx.values[id(self.tensor)])


class _Unsupported(type):
    """Names a ``tf.data`` class attribute outside the subset (``Dataset.list_files``)."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise unsupported(f"tf.data.{cls._tf_name}.{name}")


class _Elements:
    """``output_types``, ``output_shapes`` and ``output_classes`` of an element structure (the
    structure with DTypes and TensorShapes as leaves, flat in ``_types`` and ``_shapes``), for
    datasets and iterators alike."""

    _structure: Any
    _types: list[DType]
    _shapes: list[TensorShape]

    @property
    def output_types(self) -> Any:
        return pack(self._structure, self._types)

    @property
    def output_shapes(self) -> Any:
        return pack(self._structure, self._shapes)

    @property
    def output_classes(self) -> Any:
        return pack(self._structure, [Tensor] * len(self._types))


class Dataset(_Elements, metaclass=_Unsupported):
    """A pipeline of elements (structures of tensors). Build one with ``from_tensor_slices``,
    ``from_tensors``, ``from_generator`` or ``range`` and chain the transformations."""

    _tf_name = "Dataset"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise unsupported(f"tf.data.Dataset.{name}")

    # what a subclass sets: the element structure with DTypes and TensorShapes as leaves, the
    # graph tensors evaluated at initialization, and the datasets it reads
    _structure: Any
    _types: list[DType]
    _shapes: list[TensorShape]
    _graph_inputs: list[Any] = []
    _parents: tuple[Dataset, ...] = ()

    def _set_spec(self, template: Any, types: list[DType], shapes: list[TensorShape]) -> None:
        self._structure = template
        self._types = list(types)
        self._shapes = [TensorShape(s) for s in shapes]

    def _all_inputs(self) -> list[Any]:
        """Every graph tensor the pipeline needs at initialization, once each."""
        out: list[Any] = []
        for d in self._parents:
            out.extend(d._all_inputs())
        out.extend(self._graph_inputs)
        seen: set[int] = set()
        return [n for n in out if not (id(n) in seen or seen.add(id(n)))]

    def _elements(self, ctx: _Context) -> _Iter[list[Any]]:
        """The flat elements (lists of torch tensors), in order."""
        raise NotImplementedError

    def __iter__(self) -> Any:
        raise RuntimeError(
            "`tf.data.Dataset` only supports Python-style iteration in eager mode or within "
            "tf.function."
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__[1:]} shapes: {self.output_shapes}, types: {self.output_types}>"  # fmt: skip

    # -- sources ------------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors: Any) -> Dataset:
        """One element per row (first dimension) of ``tensors`` (a tensor, array, or a tuple/dict
        of them with the same number of rows)."""
        return _Slices(tensors)

    @staticmethod
    def from_tensors(tensors: Any) -> Dataset:
        """A dataset of the single element ``tensors``."""
        return _Tensors(tensors)

    @staticmethod
    def range(*args: Any, output_type: Any = int64) -> Dataset:  # noqa: A003
        """``range(stop)``, ``range(start, stop[, step])`` as int64 scalars."""
        return _Range(args, as_dtype(output_type))

    @staticmethod
    def from_generator(
        generator: Callable[..., Any],
        output_types: Any = None,
        output_shapes: Any = None,
        args: Any = None,
        output_signature: Any = None,
    ) -> Dataset:
        """The values ``generator(*args)`` yields (a new call each time an iterator starts),
        converted to ``output_types`` and checked against ``output_shapes``."""
        return _Generator(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def zip(datasets: Any) -> Dataset:  # noqa: A003
        """Elements of ``datasets`` (a tuple or dict of datasets) side by side, until the shortest
        ends."""
        return _Zip(datasets)

    # -- transformations ----------------------------------------------------------------------
    def map(self, map_func: Callable[..., Any], num_parallel_calls: Any = None,
            deterministic: Any = None, name: str | None = None) -> Dataset:  # fmt: skip
        """``map_func`` over each element (a tuple element is passed as separate arguments)."""
        return _Map(self, map_func)

    def filter(self, predicate: Callable[..., Any], name: str | None = None) -> Dataset:  # noqa: A003
        """The elements for which ``predicate`` (a scalar bool tensor) is true."""
        return _Filter(self, predicate)

    def batch(self, batch_size: Any, drop_remainder: _py_bool = False,
              num_parallel_calls: Any = None, deterministic: Any = None,
              name: str | None = None) -> Dataset:  # fmt: skip
        """Consecutive elements stacked ``batch_size`` at a time (the last batch smaller unless
        ``drop_remainder``)."""
        return _Batch(self, batch_size, drop_remainder, None, None)

    def padded_batch(self, batch_size: Any, padded_shapes: Any = None, padding_values: Any = None,
                     drop_remainder: _py_bool = False, name: str | None = None) -> Dataset:  # fmt: skip
        """Like ``batch``, each component padded (at the end of each dimension) to
        ``padded_shapes`` (``None`` or -1 dimensions: the longest in the batch) with
        ``padding_values`` (zeros by default)."""
        return _Batch(self, batch_size, drop_remainder, padded_shapes, padding_values, padded=True)

    def shuffle(self, buffer_size: Any, seed: Any = None,
                reshuffle_each_iteration: Any = None, name: str | None = None) -> Dataset:  # fmt: skip
        """Elements drawn at random from a buffer of ``buffer_size`` (see the module's note on
        the order)."""
        return _Shuffle(self, buffer_size, seed, reshuffle_each_iteration)

    def repeat(self, count: Any = None, name: str | None = None) -> Dataset:
        """The dataset ``count`` times (``None`` or -1: for ever)."""
        return _Repeat(self, count)

    def take(self, count: Any, name: str | None = None) -> Dataset:
        """The first ``count`` elements (-1: all)."""
        return _Take(self, count)

    def skip(self, count: Any, name: str | None = None) -> Dataset:
        """All but the first ``count`` elements (-1: none)."""
        return _Skip(self, count)

    def concatenate(self, dataset: Dataset, name: str | None = None) -> Dataset:
        """This dataset's elements, then those of ``dataset`` (same structure and types)."""
        return _Concatenate(self, dataset)

    def prefetch(self, buffer_size: Any, name: str | None = None) -> Dataset:
        """The same elements (prefetching only overlaps work in TensorFlow)."""
        _Arg("buffer_size", buffer_size)  # checked, then unused
        return self

    def cache(self, filename: str = "", name: str | None = None) -> Dataset:
        """The same elements (an in-memory cache only saves work in TensorFlow)."""
        if filename:
            raise TypeError(
                "Received an invalid value for argument `filename`: caching to a file is not "
                f"supported, got {filename!r} (use cache() to cache in memory)."
            )
        return self

    def apply(self, transformation_func: Callable[[Dataset], Dataset]) -> Dataset:
        """``transformation_func(self)``, which must return a dataset."""
        out = transformation_func(self)
        if not isinstance(out, Dataset):
            raise TypeError(
                "`transformation_func` must return a `tf.data.Dataset` object. Got "
                f"{type(out).__name__}."
            )
        return out

    # -- iterators ----------------------------------------------------------------------------
    def make_one_shot_iterator(self) -> Iterator_:
        """An iterator that starts by itself at its first ``get_next()`` run."""
        return Iterator_(self, one_shot=True)

    def make_initializable_iterator(self, shared_name: str | None = None) -> Iterator_:
        """An iterator started (and restarted) by running ``iterator.initializer``."""
        return Iterator_(self, one_shot=False)


class _Context:
    """What one iterator start hands a pipeline: the session and its graph inputs' values."""

    def __init__(self, sess: Any, values: dict[int, Any], state: dict[Any, Any]) -> None:
        self.sess = sess
        self.values = values
        self.state = state  # the iterator's state in the session (a shuffle's generator)


class _Slices(Dataset):
    def __init__(self, tensors: Any) -> None:
        struct = _as_data_tensors(tensors, "tensors")
        leaves = flatten(struct)
        n = None
        for t in leaves:
            if t.shape.ndims == 0:
                raise ValueError("Unbatching a tensor is only supported for rank >= 1")
            d = None if t.shape.ndims is None else t.shape.as_list()[0]
            if d is not None:
                if n is not None and d != n:
                    raise ValueError(f"Dimensions {n} and {d} are not compatible")
                n = d
        self._graph_inputs = leaves
        shapes = [TensorShape(None) if t.shape.ndims is None else t.shape[1:] for t in leaves]
        self._set_spec(struct, [t.dtype for t in leaves], shapes)

    def _elements(self, ctx: _Context) -> _Iter[list[Any]]:
        vals = [ctx.values[id(t)] for t in self._graph_inputs]
        sizes = {len(v) for v in vals}
        if len(sizes) > 1:
            raise InvalidArgumentError(
                "All components must have the same size in the 0th dimension, got "
                + ", ".join(str(len(v)) for v in vals)
            )
        for i in range(sizes.pop() if sizes else 0):
            yield [v[i] for v in vals]


class _Tensors(Dataset):
    def __init__(self, tensors: Any) -> None:
        struct = _as_data_tensors(tensors, "tensors")
        leaves = flatten(struct)
        self._graph_inputs = leaves
        self._set_spec(struct, [t.dtype for t in leaves], [t.shape for t in leaves])

    def _elements(self, ctx: _Context) -> _Iter[list[Any]]:
        yield [ctx.values[id(t)] for t in self._graph_inputs]


class _Range(Dataset):
    def __init__(self, args: tuple, dtype: DType) -> None:
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Invalid arguments to range: {args}")
        self._args = [_Arg("range argument", a) for a in args]
        if len(self._args) == 1:
            self._args.insert(0, _Arg("start", 0))
        self._graph_inputs = [t for a in self._args for t in a.inputs()]
        self._dtype = dtype
        self._set_spec(0, [dtype], [[]])

    def _elements(self, ctx: _Context) -> _Iter[list[Any]]:
        ints = [a(ctx) for a in self._args]
        if len(ints) == 3 and ints[2] == 0:
            raise InvalidArgumentError("step must be a non-zero integer.")
        for i in range(*ints):
            yield [torch.tensor(i, dtype=self._dtype.torch)]


def _types_struct(output_types: Any) -> Any:
    if isinstance(output_types, (dict, tuple)):
        return _map_struct(as_dtype, output_types)
    return as_dtype(output_types)


class _Generator(Dataset):
    def __init__(
        self, generator: Any, output_types: Any, output_shapes: Any, args: Any, signature: Any
    ) -> None:
        if not callable(generator):
            raise TypeError("`generator` must be a Python callable.")
        if signature is not None:
            output_types = _map_struct(lambda s: s.dtype, signature)
            output_shapes = _map_struct(lambda s: s.shape, signature)
        if output_types is None:
            raise TypeError("The `output_types` argument can not be None.")
        types = _types_struct(output_types)
        flat_types = flatten(types)
        if output_shapes is None:
            flat_shapes = [TensorShape(None)] * len(flat_types)
        else:
            if not isinstance(types, (tuple, dict)):
                flat_shapes = [TensorShape(output_shapes)]
            else:
                err = structure_error(types, _map_shape_leaves(output_shapes, types))
                if err is not None:
                    raise err
                flat_shapes = [TensorShape(s) for s in _flat_shapes(output_shapes, types)]
        self._generator = generator
        self._args = tuple(args) if args is not None else ()
        self._set_spec(types, flat_types, flat_shapes)

    def _elements(self, ctx: _Context) -> _Iter[list[Any]]:
        for value in self._generator(*self._args):
            flat = _flat_like(self._structure, value)
            out = []
            for v, dtype, shape in zip(flat, self._types, self._shapes):
                try:
                    arr = to_numpy("element", v, dtype)
                except (TypeError, ValueError):
                    raise InvalidArgumentError(
                        "`generator` yielded an element that could not be converted "
                        f"to the expected type. The expected type was {dtype.name}, but the "
                        f"yielded element was {v!r}."
                    ) from None
                if not shape.is_compatible_with(arr.shape):
                    raise InvalidArgumentError(
                        f"`generator` yielded an element of shape {arr.shape} where an "
                        f"element of shape {tuple(shape.as_list())} was expected."
                    )
                out.append(torch.from_numpy(np.array(arr, copy=True)))
            yield out


def _map_shape_leaves(shapes: Any, types: Any) -> Any:
    """``shapes`` with each shape leaf (a TensorShape, list or tuple of dims) where ``types`` has
    a leaf, so the two structures compare."""
    if isinstance(types, dict):
        if not isinstance(shapes, dict):
            return shapes
        return type(shapes)((k, _map_shape_leaves(v, types.get(k))) for k, v in shapes.items())
    if isinstance(types, tuple):
        if not isinstance(shapes, (tuple, list)) or isinstance(shapes, TensorShape):
            return shapes
        return tuple(_map_shape_leaves(s, t) for s, t in zip(shapes, types)) + tuple(
            shapes[len(types) :]
        )
    return 0


def _flat_shapes(shapes: Any, types: Any) -> list[Any]:
    if isinstance(types, dict):
        return [s for k in sorted(types) for s in _flat_shapes(shapes[k], types[k])]
    if isinstance(types, tuple):
        return [s for sh, t in zip(shapes, types) for s in _flat_shapes(sh, t)]
    return [shapes]


def _flat_like(structure: Any, value: Any) -> list[Any]:
    """``value`` flattened against ``structure`` (a generator's yielded element)."""
    if isinstance(structure, dict):
        if not isinstance(value, dict) or set(value) != set(structure):
            raise _bad_element(structure, value)
        return [v for k in sorted(structure) for v in _flat_like(structure[k], value[k])]
    if isinstance(structure, tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(structure):
            raise _bad_element(structure, value)
        return [v for s, x in zip(structure, value) for v in _flat_like(s, x)]
    return [value]


def _bad_element(structure: Any, value: Any) -> InvalidArgumentError:
    return InvalidArgumentError(
        "`generator` yielded an element that did not match the expected structure. "
        f"The expected structure was {_map_struct(lambda d: d.name, structure)}, but the yielded "
        f"element was {value!r}."
    )


def _call(fn: Callable[..., Any], element: Any) -> Any:
    if isinstance(element, tuple) and not hasattr(element, "_fields"):
        return fn(*element)
    return fn(element)


class _Function:
    """A ``map``/``filter`` function traced over one element of ``ds``."""

    def __init__(self, ds: Dataset, fn: Callable[..., Any], what: str) -> None:
        if not callable(fn):
            raise TypeError(f"Received an invalid value for argument `{what}`: expected a callable, got {fn!r}.")  # fmt: skip
        specs = pack(ds._structure, list(zip(ds._types, ds._shapes)))
        self.body, _, result = trace(fn, specs, what, call=lambda f, p: _call(f, p))
        self.result = _lists_to_tuples(result)

    def __call__(self, ctx: _Context, element: list[Any], captured: list[Any]) -> list[Any]:
        return self.body.run(ctx.sess, element, captured)


def _lists_to_tuples(struct: Any) -> Any:
    if isinstance(struct, list):
        return tuple(_lists_to_tuples(x) for x in struct)
    if isinstance(struct, dict):
        return type(struct)((k, _lists_to_tuples(v)) for k, v in struct.items())
    if isinstance(struct, tuple) and not hasattr(struct, "_fields"):
        return tuple(_lists_to_tuples(x) for x in struct)
    return struct


class _Map(Dataset):
    def __init__(self, ds: Dataset, fn: Callable[..., Any]) -> None:
        self._parents = (ds,)
        self._fn = _Function(ds, fn, "map_func")
        self._graph_inputs = self._fn.body.captured
        leaves = flatten(self._fn.result)
        self._set_spec(self._fn.result, [t.dtype for t in leaves], [t.shape for t in leaves])

    def _elements(self, ctx: _Context) -> _Iter[list[Any]]:
        cap = [ctx.values[id(n)] for n in self._graph_inputs]
        for el in self._parents[0]._elements(ctx):
            yield self._fn(ctx, el, cap)


class _Filter(Dataset):
    def __init__(self, ds: Dataset, fn: Callable[..., Any]) -> None:
        self._parents = (ds,)
        self._fn = _Function(ds, fn, "predicate")
        out = self._fn.result
        if not isinstance(out, Tensor) or out.dtype is not tf_bool or out.shape.ndims not in (None, 0):  # fmt: skip
            raise ValueError(
                f"Invalid `predicate`. `predicate` must return a `tf.bool` scalar tensor, but its "
                f"return type was {out!r}."
            )
        self._graph_inputs = self._fn.body.captured
        self._set_spec(ds._structure, ds._types, ds._shapes)

    def _elements(self, ctx: _Context) -> _Iter[list[Any]]:
        cap = [ctx.values[id(n)] for n in self._graph_inputs]
        for el in self._parents[0]._elements(ctx):
            if _py_bool(self._fn(ctx, el, cap)[0]):
                yield el


class _Batch(Dataset):
    def __init__(
        self,
        ds: Dataset,
        batch_size: Any,
        drop_remainder: Any,
        padded_shapes: Any,
        padding_values: Any,
        padded: _py_bool = False,
    ) -> None:
        self._parents = (ds,)
        self._n = _Arg("batch_size", batch_size)
        self._graph_inputs = self._n.inputs()
        self._drop = _py_bool(drop_remainder)
        self._padded = padded
        lead = self._n.static if self._drop else None
        shapes = ds._shapes
        if padded:
            if padded_shapes is None:
                pads = [TensorShape([None] * s.ndims) if s.ndims is not None else s for s in shapes]
            else:
                flat = _flat_shapes(padded_shapes, ds._structure)
                if len(flat) != len(shapes):
                    raise ValueError(
                        "The two structures don't have the same nested structure: "
                        f"`padded_shapes` {padded_shapes!r} and the dataset's elements "
                        f"{ds.output_shapes!r}."
                    )
                pads = []
                for p, s in zip(flat, shapes):
                    p = TensorShape(
                        None if p is None else [None if d in (-1, None) else d for d in _dims(p)]
                    )
                    if not p.is_compatible_with(s) and not (
                        p.ndims is not None and s.ndims == p.ndims
                    ):
                        raise ValueError(
                            f"The padded shape {p} is not compatible with the shape {s} of the "
                            "corresponding input component."
                        )
                    pads.append(p)
            if padding_values is None:
                pad_vals = [_zero(t) for t in ds._types]
            else:
                pv = padding_values
                flat_pv = [pv] * len(shapes) if not isinstance(pv, (tuple, dict)) else flatten(pv)
                pad_vals = [_pad_value(v, t) for v, t in zip(flat_pv, ds._types)]
            self._pads = pads
            self._pad_vals = pad_vals
            shapes = pads
        out = [TensorShape(None) if s.ndims is None else TensorShape([lead, *s.as_list()]) for s in shapes]  # fmt: skip
        self._set_spec(ds._structure, ds._types, out)

    def _elements(self, ctx: _Context) -> _Iter[list[Any]]:
        n = self._n(ctx)
        if n <= 0:
            raise InvalidArgumentError("Batch size must be greater than zero.")
        it = self._parents[0]._elements(ctx)
        while True:
            rows = list(itertools.islice(it, n))
            if not rows or (self._drop and len(rows) < n):
                return
            yield [self._combine([r[k] for r in rows], k) for k in range(len(self._types))]

    def _combine(self, items: list[torch.Tensor], k: int) -> torch.Tensor:
        if not self._padded:
            first = tuple(items[0].shape)
            for j, x in enumerate(items[1:], 1):
                if tuple(x.shape) != first:
                    raise InvalidArgumentError(
                        f"Cannot batch tensors with different shapes in component {k}. First "
                        f"element had shape {list(first)} and element {j} had shape "
                        f"{list(x.shape)}."
                    )
            return torch.stack(items)
        pad = self._pads[k]
        ndim = items[0].dim()
        target = []
        for d in range(ndim):
            want = pad.as_list()[d] if pad.ndims is not None else None
            longest = max(int(x.shape[d]) for x in items)
            if want is not None and longest > want:
                raise DataLossError("Attempted to pad to a smaller size than the input element.")
            target.append(longest if want is None else want)
        out = torch.full((len(items), *target), self._pad_vals[k], dtype=items[0].dtype)
        for j, x in enumerate(items):
            out[(j, *[slice(0, s) for s in x.shape])] = x
        return out


def _dims(shape: Any) -> list[Any]:
    if isinstance(shape, TensorShape):
        return shape.as_list()
    if isinstance(shape, Tensor):
        const = getattr(shape, "_const", None)
        if const is None:
            raise TypeError(f"Received an invalid value for argument `padded_shapes`: expected static shapes, got {shape.name!r}.")  # fmt: skip
        return [int(d) for d in np.asarray(const).reshape(-1)]
    return list(shape)


def _zero(dtype: DType) -> Any:
    if dtype is string:
        raise TypeError("Padding string components is not supported.")
    return False if dtype is tf_bool else 0


def _pad_value(v: Any, dtype: DType) -> Any:
    if isinstance(v, Tensor):
        const = getattr(v, "_const", None)
        if const is None:
            raise TypeError(f"Received an invalid value for argument `padding_values`: expected constants, got {v.name!r}.")  # fmt: skip
        v = const
    arr = to_numpy("padding_values", v, dtype)
    if arr.ndim != 0:
        raise ValueError(f"Received an invalid value for argument `padding_values`: expected scalars, got {v!r}.")  # fmt: skip
    return arr.item()


class _Shuffle(Dataset):
    def __init__(self, ds: Dataset, buffer_size: Any, seed: Any, reshuffle: Any) -> None:
        self._parents = (ds,)
        self._buffer = _Arg("buffer_size", buffer_size)
        self._graph_inputs = self._buffer.inputs()
        self._seed = _seed(get_default_graph(), seed)
        self._reshuffle = True if reshuffle is None else _py_bool(reshuffle)
        self._set_spec(ds._structure, ds._types, ds._shapes)

    def _rng(self, ctx: _Context) -> np.random.Generator:
        key = ("shuffle", id(self))
        state = ctx.state
        if self._reshuffle:  # one generator per iterator start: each pass draws a new order
            rng = state.setdefault(key, None)
            if rng is None:
                rng = state[key] = np.random.default_rng(self._seed)
            return rng
        return np.random.default_rng(self._seed if self._seed is not None else 0)

    def _elements(self, ctx: _Context) -> _Iter[list[Any]]:
        rng = self._rng(ctx)
        buffer: list[list[Any]] = []
        size = self._buffer(ctx)
        if size == 0 or size < -1:
            raise InvalidArgumentError("buffer_size must be greater than zero.")
        size = None if size == -1 else size  # -1: the whole dataset
        for el in self._parents[0]._elements(ctx):
            buffer.append(el)
            if size is not None and len(buffer) >= size:
                k = int(rng.integers(len(buffer)))
                buffer[k], buffer[-1] = buffer[-1], buffer[k]
                yield buffer.pop()
        while buffer:
            k = int(rng.integers(len(buffer)))
            buffer[k], buffer[-1] = buffer[-1], buffer[k]
            yield buffer.pop()


class _Repeat(Dataset):
    def __init__(self, ds: Dataset, count: Any) -> None:
        self._parents = (ds,)
        self._count = _Arg("count", -1 if count is None else count)
        self._graph_inputs = self._count.inputs()
        self._set_spec(ds._structure, ds._types, ds._shapes)

    def _elements(self, ctx: _Context) -> _Iter[list[Any]]:
        count = self._count(ctx)
        passes = itertools.count() if count < 0 else range(count)
        for _ in passes:
            empty = True
            for el in self._parents[0]._elements(ctx):
                empty = False
                yield el
            if empty:  # an empty input repeated for ever is still empty (TF ends, too)
                return


class _Counted(Dataset):
    """A dataset with the elements of ``ds`` cut by ``count`` (``take``, ``skip``)."""

    def __init__(self, ds: Dataset, count: Any) -> None:
        self._parents = (ds,)
        self._count = _Arg("count", count)
        self._graph_inputs = self._count.inputs()
        self._set_spec(ds._structure, ds._types, ds._shapes)


class _Take(_Counted):
    def _elements(self, ctx: _Context) -> _Iter[list[Any]]:
        it = self._parents[0]._elements(ctx)
        count = self._count(ctx)
        return it if count < 0 else itertools.islice(it, count)


class _Skip(_Counted):
    def _elements(self, ctx: _Context) -> _Iter[list[Any]]:
        it = self._parents[0]._elements(ctx)
        count = self._count(ctx)
        if count < 0:
            return iter(())
        return itertools.islice(it, count, None)


class _Zip(Dataset):
    def __init__(self, datasets: Any) -> None:
        if isinstance(datasets, Dataset) or not isinstance(datasets, (tuple, dict)):
            raise TypeError(
                "Received an invalid value for argument `datasets`: expected a tuple or dict of "
                f"datasets, got {datasets!r}."
            )
        parts = flatten(datasets)
        for d in parts:
            if not isinstance(d, Dataset):
                raise TypeError(f"Invalid `datasets`. `datasets` must be a nested structure of `tf.data.Dataset` objects, got {d!r}.")  # fmt: skip
        self._parents = tuple(parts)
        self._set_spec(
            pack(datasets, [d._structure for d in parts]),
            [t for d in parts for t in d._types],
            [s for d in parts for s in d._shapes],
        )

    def _elements(self, ctx: _Context) -> _Iter[list[Any]]:
        its = [d._elements(ctx) for d in self._parents]
        for els in zip(*its):
            yield [x for el in els for x in el]


class _Concatenate(Dataset):
    def __init__(self, a: Dataset, b: Dataset) -> None:
        if not isinstance(b, Dataset):
            raise TypeError(f"Received an invalid value for argument `dataset`: expected a Dataset, got {b!r}.")  # fmt: skip
        err = structure_error(a.output_types, b.output_types)
        if err is not None or a._types != b._types:
            raise TypeError(
                f"Incompatible dataset elements:\n  {a.output_types} vs.   {b.output_types}"
            )
        self._parents = (a, b)
        shapes = [
            s.merge_with(t) if s.is_compatible_with(t) else TensorShape(None)
            for s, t in zip(a._shapes, b._shapes)
        ]
        self._set_spec(a._structure, a._types, shapes)

    def _elements(self, ctx: _Context) -> _Iter[list[Any]]:
        yield from self._parents[0]._elements(ctx)
        yield from self._parents[1]._elements(ctx)


# ------------------------------------------------------------------------------------------------
# Iterators
# ------------------------------------------------------------------------------------------------


class _GetNext(StructNode):
    _stateful = True

    def __init__(self, iterator: Iterator_, inputs: list[Any], name: str) -> None:
        graph = get_default_graph()
        super().__init__(graph.unique_name(name), inputs, self._next, graph)
        self._iterator = iterator

    def _compute(self, sess: Any, values: list[Any]) -> Any:
        # torch's errors about the elements become TF's InvalidArgumentError, as for any op
        return run_kernel(self.name, lambda *vs: self._iterator._next(sess, list(vs)), values)

    def _next(self, *values: Any) -> Any:  # never called: _compute reads the session
        raise AssertionError


class Iterator_(_Elements):
    """A dataset iterator: ``get_next()``, ``initializer`` (initializable iterators),
    ``make_initializer(dataset)`` (``Iterator.from_structure``)."""

    def __init__(self, dataset: Dataset | None, one_shot: _py_bool, structure: Any = None) -> None:
        self._graph = get_default_graph()
        self._one_shot = one_shot
        self._dataset = dataset
        if dataset is not None:
            structure, types, shapes = dataset._structure, dataset._types, dataset._shapes
        else:
            types, shapes = structure[1], structure[2]
            structure = structure[0]
        self._structure = structure
        self._types = list(types)
        self._shapes = list(shapes)
        self._initializer: Operation | None = None
        if one_shot:
            _check_placeholders(dataset._all_inputs())
        elif dataset is not None:
            self._initializer = self.make_initializer(dataset)

    @property
    def initializer(self) -> Operation:
        if self._initializer is None:
            raise ValueError(
                "The iterator does not have an initializer. This means it was likely created "
                "using `tf.data.Dataset.make_one_shot_iterator()`. For an initializable iterator, "
                "use `tf.data.Dataset.make_initializable_iterator()` instead."
            )
        return self._initializer

    # -- running -----------------------------------------------------------------------------
    def make_initializer(self, dataset: Dataset, name: str | None = None) -> Operation:
        """An op that (re)starts this iterator on ``dataset`` (same structure and types)."""
        if not isinstance(dataset, Dataset):
            raise TypeError(f"Received an invalid value for argument `dataset`: expected a Dataset, got {dataset!r}.")  # fmt: skip
        err = structure_error(self.output_types, dataset.output_types)
        if err is not None:
            raise err
        if self._types != dataset._types:
            raise TypeError(
                f"Expected output types {_names(self.output_types)} but got dataset with output "
                f"types {_names(dataset.output_types)}."
            )
        for mine, theirs in zip(self._shapes, dataset._shapes):
            if not mine.is_compatible_with(theirs):
                raise TypeError(
                    f"Expected output shapes compatible with {self.output_shapes} but got "
                    f"dataset with output shapes {dataset.output_shapes}."
                )
        inputs = dataset._all_inputs()

        def start(sess: Any, values: list[Any]) -> None:
            self._start(sess, dataset, inputs, values)

        return Operation(name or "MakeIterator", inputs, effect=start, graph=self._graph)

    def _start(self, sess: Any, dataset: Dataset, inputs: list[Any], values: list[Any]) -> None:
        state: dict[Any, Any] = {}
        ctx = _Context(sess, {id(n): v for n, v in zip(inputs, values)}, state)
        state["elements"] = dataset._elements(ctx)
        sess._resources[self] = state

    def _next(self, sess: Any, values: list[Any]) -> list[Any]:
        state = sess._resources.get(self)
        if state is None:
            if not self._one_shot:
                raise FailedPreconditionError(
                    "GetNext() failed because the iterator has not been initialized. Ensure that "
                    "you have run the initializer operation for this iterator before getting the "
                    "next element."
                )
            self._start(sess, self._dataset, self._dataset._all_inputs(), values)
            state = sess._resources[self]
        try:
            with torch.no_grad():
                return next(state["elements"])
        except StopIteration:
            state["elements"] = iter(())
            raise OutOfRangeError("End of sequence") from None

    def get_next(self, name: str | None = None) -> Any:
        """The next element, as a structure of tensors (one element per ``Session.run``)."""
        inputs = self._dataset._all_inputs() if self._one_shot else []
        node = _GetNext(self, inputs, name or "IteratorGetNext")
        outs = [leaf(node, (k,), t, s) for k, (t, s) in enumerate(zip(self._types, self._shapes))]
        return pack(self._structure, outs)

    def string_handle(self, name: str | None = None) -> Any:
        raise unsupported("tf.data.Iterator.string_handle")

    @staticmethod
    def from_string_handle(*args: Any, **kwargs: Any) -> Any:
        raise unsupported("tf.data.Iterator.from_string_handle")

    @staticmethod
    def from_structure(
        output_types: Any,
        output_shapes: Any = None,
        shared_name: str | None = None,
        output_classes: Any = None,
    ) -> Iterator_:
        """An iterator with no dataset yet: ``make_initializer(dataset)`` gives the op that starts
        it on one (reinitializable iterators)."""
        types = _types_struct(output_types)
        flat_types = flatten(types)
        if output_shapes is None:
            flat_shapes = [TensorShape(None)] * len(flat_types)
        elif not isinstance(types, (tuple, dict)):
            flat_shapes = [TensorShape(output_shapes)]
        else:
            flat_shapes = [TensorShape(s) for s in _flat_shapes(output_shapes, types)]
        return Iterator_(None, one_shot=False, structure=(types, flat_types, flat_shapes))


def _names(types: Any) -> str:
    if isinstance(types, DType):
        return f"tf.{types.name}"
    return str(_map_struct(lambda d: f"tf.{d.name}", types)).replace("'", "")


Iterator = Iterator_


def make_one_shot_iterator(dataset: Dataset) -> Iterator_:
    """``dataset.make_one_shot_iterator()``."""
    return _dataset(dataset).make_one_shot_iterator()


def make_initializable_iterator(dataset: Dataset, shared_name: str | None = None) -> Iterator_:
    """``dataset.make_initializable_iterator()``."""
    return _dataset(dataset).make_initializable_iterator()


def _dataset(d: Any) -> Dataset:
    if not isinstance(d, Dataset):
        raise TypeError(f"Received an invalid value for argument `dataset`: expected a tf.data.Dataset, got {d!r}.")  # fmt: skip
    return d


#: ``tf.data.experimental``: AUTOTUNE (-1) for ``prefetch``/``num_parallel_calls``
experimental = Namespace("data.experimental", AUTOTUNE=-1)


def get_output_types(obj: Any) -> Any:
    return obj.output_types


def get_output_shapes(obj: Any) -> Any:
    return obj.output_shapes


def get_output_classes(obj: Any) -> Any:
    return obj.output_classes
