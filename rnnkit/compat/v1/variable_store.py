"""The values of a session's variables: what ``Session.variable_store`` holds.

Each :class:`~rnnkit.compat.v1.session.Session` owns one :class:`VariableStore`, so two sessions of
one graph never share weights. Everything that reads or writes a variable's value in a session goes
through these methods: a variable node reads its value, initializers, ``tf.assign`` and
``Variable.load`` write one, the optimizers read theirs and their slots and update them in place,
``Saver`` reads them to save and writes them all together to restore. The checks are TensorFlow's
run-time ones, with its error types: reading an uninitialized variable is a
``FailedPreconditionError``, a value of another shape an ``InvalidArgumentError``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import torch

from rnnkit.compat.v1.errors import FailedPreconditionError, InvalidArgumentError
from rnnkit.compat.v1.tensor_shape import shape_text

__all__ = ["VariableStore"]


class VariableStore:
    """Each initialized variable's value, a torch tensor of its dtype and shape, keyed by the
    variable. ``read`` returns the stored tensor itself: an optimizer updates it in place (under
    ``torch.no_grad()``), and every later read sees the update."""

    def __init__(self) -> None:
        self._values: dict[Any, torch.Tensor] = {}

    def is_initialized(self, variable: Any) -> bool:
        """Whether ``variable`` has a value in this session (TF's ``is_variable_initialized``)."""
        return variable in self._values

    def read(self, variable: Any) -> torch.Tensor:
        """``variable``'s value; FailedPreconditionError naming it when it has none yet."""
        value = self._values.get(variable)
        if value is None:
            raise FailedPreconditionError(
                f"Attempting to use uninitialized value {variable._op_name} (run "
                "tf.global_variables_initializer() in this session first)."
            )
        return value

    def assign(self, variable: Any, value: torch.Tensor, op: str | None = None) -> torch.Tensor:
        """Make ``value`` (a torch tensor of ``variable``'s dtype, kept as is: the caller passes a
        tensor nothing else holds) ``variable``'s value, and return it. A shape that does not
        match the variable's is TensorFlow's InvalidArgumentError, naming the ``op`` writing it."""
        self._check(variable, value, op)
        self._values[variable] = value
        return value

    def assign_all(self, values: Mapping[Any, torch.Tensor], op: str | None = None) -> None:
        """``assign`` each ``{variable: value}``, all checked before any is written (a restore
        that fails leaves every value as it was)."""
        for variable, value in values.items():
            self._check(variable, value, op)
        self._values.update(values)

    def items(self) -> Iterator[tuple[Any, torch.Tensor]]:
        """``(variable, value)`` of every initialized variable."""
        return iter(list(self._values.items()))

    def clear(self) -> None:
        """Forget every value (the session closes)."""
        self._values.clear()

    def __len__(self) -> int:
        return len(self._values)

    @staticmethod
    def _check(variable: Any, value: Any, op: str | None) -> None:
        if not isinstance(value, torch.Tensor):
            raise TypeError(
                f"Received an invalid value for variable {variable._op_name!r}: expected a torch "
                f"tensor, got {type(value).__name__}."
            )
        if value.dtype != variable.dtype.torch:
            raise TypeError(
                f"Received an invalid value for variable {variable._op_name!r}: expected dtype "
                f"{variable.dtype.name}, got {value.dtype}."
            )
        if not variable.shape.is_compatible_with(tuple(value.shape)):
            where = f"variable {variable._op_name!r}" + ("" if op is None else f", in op {op!r}")
            raise InvalidArgumentError(
                "Assign requires shapes of both tensors to match. lhs shape= "
                f"{shape_text(variable.shape)} rhs shape= {shape_text(list(value.shape))} ({where})"
            )
