"""``tf.container`` and ``tf.tables_initializer``.

``container(name)`` names the resource container of the stateful ops created inside it; a
container matters when sessions share a server's resources, which a ``tf.Session`` here never does
(each session holds its own variable values), so ops created inside it behave as outside.
``tables_initializer()`` runs the initializers of the lookup tables in the graph's
``table_initializer`` collection; with none (there are no lookup tables in the subset) it is a
no-op, as TF's is for a graph without tables.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from rnnkit.compat.v1.ops import Operation, get_default_graph, group, no_op

__all__ = ["container", "tables_initializer"]

TABLE_INITIALIZERS = "table_initializer"


@contextlib.contextmanager
def container(container_name: Any) -> Iterator[None]:
    """Stateful ops created inside belong to the container ``container_name`` (a string)."""
    if not isinstance(container_name, str):
        raise TypeError(
            "Received an invalid value for argument `container_name`: expected a string, got "
            f"{container_name!r}."
        )
    yield


def tables_initializer(name: str = "init_all_tables") -> Operation:
    """An op running every table initializer of the default graph (a no-op without tables)."""
    inits = get_default_graph().get_collection(TABLE_INITIALIZERS)
    return group(*inits, name=name) if inits else no_op(name=name)
