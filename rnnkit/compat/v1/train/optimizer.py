"""``tf.train.Optimizer``: ``minimize = compute_gradients + apply_gradients`` (TensorFlow's
``training/optimizer.py``).

Slots are graph variables named as TensorFlow names them (``W/Adam`` for Adam's slot ``m``,
``W/Adam_1`` for ``v``), created by ``apply_gradients`` and initialized by
``global_variables_initializer`` like any other. The update runs in place on the session's values,
under ``torch.no_grad()``, with the arithmetic of TensorFlow 1.x's kernels (``Apply*`` in
``training_ops.cc``, in the variable's dtype, in the same order).

Sparse gradients: when a variable reaches the loss only through ``embedding_lookup``/``gather`` rows,
its gradient is an :class:`~rnnkit.compat.v1.ops.IndexedSlices`, and Momentum, RMSProp and Adadelta
update only the rows looked up, as TensorFlow's ``SparseApply*`` kernels do (``_sparse_rows_matter``:
the indices are evaluated with the gradient, the update applied to the dense gradient's rows).
GradientDescent applies the rows themselves, as TF's sparse rule does (``ScatterSub`` of each
lookup's row times the learning rate; ``_applies_rows``), and no dense gradient is made: for a
10,000-word embedding that is a fill, a scatter, a product and a subtraction over the whole table
a step. Adam and Adagrad give the same values either way and take the dense gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from rnnkit.compat.v1.gradients import gradients
from rnnkit.compat.v1.ops import (
    GraphKeys,
    IndexedSlices,
    Operation,
    Tensor,
    convert_to_tensor,
    get_default_graph,
)
from rnnkit.compat.v1.variables import Variable, unique_variable_name

__all__ = ["Optimizer"]


class Optimizer:
    """Base of the optimizers. Subclasses define ``_slots`` ({slot name: initial value}) and
    ``_update(var, grad, slots, hyper, state)`` working on torch tensors in place."""

    _slot_names: tuple[tuple[str, float], ...] = ()  # (TF slot name, initial value), in TF's order
    _sparse_rows_matter = False  # True where TF's SparseApply* differs from the dense update
    _applies_rows = False  # True where ``_apply_rows`` applies an embedding's gradient row by row

    def __init__(self, use_locking: bool = False, name: str = "Optimizer") -> None:
        self._name = name
        self._slots: dict[tuple[Variable, str], Variable] = {}
        self._non_slots: dict[str, Variable] = {}
        self._hyper: dict[str, Any] = {}

    def get_name(self) -> str:
        return self._name

    def _set_hyper(self, **values: Any) -> None:
        for key, value in values.items():
            if not isinstance(value, Tensor):
                v = float(value)
                if not np.isfinite(v):
                    raise ValueError(
                        f"Received an invalid value for argument `{key}`: expected a finite number, got {value!r}."
                    )
                # TF makes a float32 tensor of a Python number and casts it to each variable's
                # dtype: a float64 model sees float64(float32(0.9)), not 0.9
                value = float(np.float32(v))
            self._hyper[key] = value

    # -- the TF API --------------------------------------------------------------------------------
    def compute_gradients(
        self,
        loss: Any,
        var_list: Sequence[Variable] | None = None,
        gate_gradients: int = 1,
        aggregation_method: Any = None,
        colocate_gradients_with_ops: bool = False,
        grad_loss: Any = None,
    ) -> list[tuple[Tensor | None, Variable]]:
        """``[(gradient, variable)]`` of ``loss`` for ``var_list`` (default: trainable variables)."""
        loss = convert_to_tensor(loss)
        if not loss.dtype.is_floating:
            raise TypeError(
                f"Received an invalid value for argument `loss`: expected a float tensor, got {loss.dtype.name} ({loss.name!r})."
            )
        graph = get_default_graph()
        variables = (
            list(var_list)
            if var_list is not None
            else graph.get_collection(GraphKeys.TRAINABLE_VARIABLES)
        )
        if not variables:
            raise ValueError("No variables to optimize.")
        for v in variables:
            if not isinstance(v, Variable):
                raise TypeError(
                    f"Received an invalid value for argument `var_list`: expected tf.Variable items, got {v!r}."
                )
        grads = gradients(loss, variables, grad_ys=grad_loss)
        return list(zip(grads, variables))

    def apply_gradients(
        self, grads_and_vars: Any, global_step: Variable | None = None, name: str | None = None
    ) -> Operation:
        """An op applying each ``(gradient, variable)`` with this optimizer's rule, then adding one
        to ``global_step`` when given."""
        pairs = [(g, v) for g, v in grads_and_vars]
        for _g, v in pairs:
            if not isinstance(v, Variable):
                raise TypeError(
                    f"Received an invalid value for argument `grads_and_vars`: expected (gradient, tf.Variable) pairs, got variable {v!r}."
                )
        live = [
            (g if isinstance(g, Tensor) else convert_to_tensor(g), v)
            for g, v in pairs
            if g is not None
        ]
        if not live:
            raise ValueError(
                f"No gradients provided for any variable, check your graph for ops that do not support "
                f"gradients, between variables {[v.name for _, v in pairs]} and loss."
            )
        graph = get_default_graph()
        self._create_non_slots([v for _, v in live])
        for _, v in live:
            for slot, init in self._slot_names:
                self._slot(v, slot, init)
        hyper_nodes = [h for h in self._hyper.values() if isinstance(h, Tensor)]
        keys = list(self._hyper)
        grads = [g for g, _ in live]
        variables = [v for _, v in live]
        # an embedding's rows applied as rows (no dense gradient made) where the rule allows
        by_rows = [self._applies_rows and isinstance(g, IndexedSlices) for g in grads]
        grad_nodes = [
            n for g, r in zip(grads, by_rows) for n in ((g.indices, g.values) if r else (g,))
        ]
        rows_of = [
            g.indices if self._sparse_rows_matter and isinstance(g, IndexedSlices) else None
            for g in grads
        ]
        row_nodes = [r for r in rows_of if r is not None]
        n_g, n_h = len(grad_nodes), len(hyper_nodes)

        def effect(sess: Any, values: list[Any]) -> None:
            gi, hv = iter(values[:n_g]), iter(values[n_g : n_g + n_h])
            rv = iter(values[n_g + n_h :])
            rows = [
                None if r is None else torch.unique(next(rv).reshape(-1).long()) for r in rows_of
            ]
            hyper = {
                k: (float(next(hv)) if isinstance(self._hyper[k], Tensor) else self._hyper[k])
                for k in keys
            }
            store = sess.variable_store
            state = {
                k: store.read(v) for k, v in self._non_slots.items() if store.is_initialized(v)
            }
            dense: list[tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]] = []
            for var, idx, as_rows in zip(variables, rows, by_rows):
                value = store.read(var)  # updated in place; FailedPreconditionError naming it
                if as_rows:
                    ids, vals = next(gi), next(gi)
                    self._apply_rows(value, ids.reshape(-1).long(), vals.detach(), hyper)
                    continue
                slots = {s: self._slot_value(sess, var, s) for s, _ in self._slot_names}
                g = next(gi).detach().to(value.dtype)
                if idx is None:
                    dense.append((value, g, slots))
                else:  # TF's SparseApply*: only the rows looked up
                    sub = {k: t[idx] for k, t in slots.items()}
                    rows_value = value[idx]
                    self._update(rows_value, g[idx], sub, hyper, state)
                    value[idx] = rows_value
                    for k, t in slots.items():
                        t[idx] = sub[k]
            self._update_all(dense, hyper, state)
            self._finish(sess, state)
            if global_step is not None:
                store.read(global_step).add_(1)

        op = Operation(
            name or self._name, [*grad_nodes, *hyper_nodes, *row_nodes], effect=effect, graph=graph
        )
        train_ops = graph.get_collection_ref(GraphKeys.TRAIN_OP)  # as TF1's apply_gradients
        if op not in train_ops:
            train_ops.append(op)
        return op

    def minimize(
        self,
        loss: Any,
        global_step: Variable | None = None,
        var_list: Sequence[Variable] | None = None,
        gate_gradients: int = 1,
        aggregation_method: Any = None,
        colocate_gradients_with_ops: bool = False,
        name: str | None = None,
        grad_loss: Any = None,
    ) -> Operation:
        """``apply_gradients(compute_gradients(loss, var_list), global_step)``."""
        grads_and_vars = self.compute_gradients(loss, var_list=var_list, grad_loss=grad_loss)
        if all(g is None for g, _ in grads_and_vars):
            raise ValueError(
                f"No gradients provided for any variable, check your graph for ops that do not "
                f"support gradients, between variables {[v.name for _, v in grads_and_vars]} and "
                f"loss {convert_to_tensor(loss).name!r}."
            )
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    @staticmethod
    def _dtype(like: torch.Tensor) -> type:
        """The numpy scalar type of the variable's dtype, in which TF's kernels compute."""
        return like.numpy().dtype.type if like.device.type == "cpu" else np.float32

    def _scalar(self, like: torch.Tensor, value: float) -> float:
        """``value`` rounded to the variable's dtype, as TF's kernels see their scalar inputs."""
        return float(self._dtype(like)(value))

    def get_slot_names(self) -> list[str]:
        return [s for s, _ in self._slot_names]

    def get_slot(self, var: Variable, name: str) -> Variable | None:
        return self._slots.get((var, name))

    def variables(self) -> list[Variable]:
        return [*self._non_slots.values(), *self._slots.values()]

    # -- slots -------------------------------------------------------------------------------------
    def _slot(self, var: Variable, slot: str, init: float) -> Variable:
        """The slot ``slot`` of ``var``: a variable named ``var/<optimizer name>`` (then ``_1``,
        ``_2``, ... in slot order), as TensorFlow names them."""
        key = (var, slot)
        if key not in self._slots:
            name = unique_variable_name(f"{var._op_name}/{self._name}")
            value = np.full(var.shape.as_list(), init, dtype=var.dtype._np)
            self._slots[key] = Variable(value, trainable=False, dtype=var.dtype, _exact_name=name)
        return self._slots[key]

    def _slot_value(self, sess: Any, var: Variable, slot: str) -> torch.Tensor:
        # the slot's value, updated in place; FailedPreconditionError naming an uninitialized slot
        return sess.variable_store.read(self._slots[(var, slot)])

    def _create_non_slots(self, variables: list[Variable]) -> None:
        pass

    def _non_slot(self, name: str, value: float, dtype: Any) -> Variable:
        if name not in self._non_slots:
            full = unique_variable_name(name)
            self._non_slots[name] = Variable(
                np.asarray(value, dtype=dtype._np), trainable=False, dtype=dtype, _exact_name=full
            )
        return self._non_slots[name]

    def _update(
        self,
        var: torch.Tensor,
        grad: torch.Tensor,
        slots: dict[str, torch.Tensor],
        hyper: dict[str, float],
        state: dict[str, torch.Tensor],
    ) -> None:
        raise NotImplementedError

    def _apply_rows(
        self, var: torch.Tensor, ids: torch.Tensor, rows: torch.Tensor, hyper: dict[str, float]
    ) -> None:
        """Apply an embedding's gradient given as its rows (one per lookup, ``ids`` theirs), in
        place, where ``_applies_rows``."""
        raise NotImplementedError

    def _update_all(
        self,
        dense: list[tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]],
        hyper: dict[str, float],
        state: dict[str, torch.Tensor],
    ) -> None:
        """``_update`` of each ``(var, grad, slots)`` (an optimizer may do them together)."""
        for var, grad, slots in dense:
            self._update(var, grad, slots, hyper, state)

    def _finish(self, sess: Any, state: dict[str, torch.Tensor]) -> None:
        pass
