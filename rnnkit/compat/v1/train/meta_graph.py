"""``tf.train.export_meta_graph`` and ``tf.train.import_meta_graph`` within one process.

``export_meta_graph()`` returns a :class:`MetaGraph` standing for the default graph as it is then;
``import_meta_graph(meta_graph)`` in another (empty) graph makes that graph hold the exported
graph's nodes, names, variables and collections, so that ``tf.get_collection`` there returns the
exported tensors (what TensorFlow's PTB tutorial does between building and training). It returns a
``tf.train.Saver`` of the variables (None when there are none), as TF does.

The nodes move rather than being copied: after the import they belong to the importing graph, and
the exported graph is left empty (a program using it again gets TF's "must be from the same graph"
error rather than a silent second copy). Writing or reading ``.meta`` files (TF's
``MetaGraphDef`` protocol buffer) is outside the subset and raises ``tf.errors.UnimplementedError``.
"""

from __future__ import annotations

from typing import Any

from rnnkit.compat.v1.errors import UnimplementedError
from rnnkit.compat.v1.ops import GraphKeys, get_default_graph

__all__ = ["export_meta_graph", "import_meta_graph"]


class MetaGraph:
    """What :func:`export_meta_graph` returns: the graph it stands for (until imported)."""

    def __init__(self, graph: Any, collection_list: Any) -> None:
        self._graph = graph
        self._collections = None if collection_list is None else list(collection_list)

    def __repr__(self) -> str:
        state = "imported" if self._graph is None else f"{len(self._graph._by_name)} tensors"
        return f"<rnnkit.compat.v1 MetaGraph ({state})>"


def _file_refused(what: str) -> UnimplementedError:
    return UnimplementedError(
        f"{what}: .meta files (TensorFlow's MetaGraphDef) are outside rnnkit.compat.v1's subset; "
        "pass the object export_meta_graph() returns to import_meta_graph() in the same process, "
        "or rebuild the graph and restore the variables with tf.train.Saver."
    )


def export_meta_graph(
    filename: Any = None,
    meta_info_def: Any = None,
    graph_def: Any = None,
    saver_def: Any = None,
    collection_list: Any = None,
    as_text: bool = False,
    graph: Any = None,
    export_scope: Any = None,
    clear_devices: bool = False,
    clear_extraneous_savers: bool = False,
    strip_default_attrs: bool = False,
    save_debug_info: bool = False,
    **kwargs: Any,
) -> MetaGraph:
    """The default graph (or ``graph``) as a :class:`MetaGraph` for :func:`import_meta_graph`."""
    if filename is not None:
        raise _file_refused("tf.train.export_meta_graph(filename=...)")
    if export_scope is not None:
        raise UnimplementedError(
            "tf.train.export_meta_graph(export_scope=...) is outside rnnkit.compat.v1's subset."
        )
    return MetaGraph(graph or get_default_graph(), collection_list)


def _all_nodes(graph: Any) -> list[Any]:
    """Every node reachable from the graph's named tensors and collections (inputs, control
    inputs, operations, variable initializers)."""
    seen: dict[int, Any] = {}
    stack = list(graph._by_name.values())
    for items in graph._collections.values():
        stack.extend(items)
    while stack:
        node = stack.pop()
        if id(node) in seen or getattr(node, "graph", None) is not graph:
            continue
        seen[id(node)] = node
        stack.extend(getattr(node, "_inputs", ()))
        stack.extend(getattr(node, "_control", ()))
        for attr in ("_op", "initializer", "initial_value"):
            child = node.__dict__.get(attr) if hasattr(node, "__dict__") else None
            if child is not None:
                stack.append(child)
    return list(seen.values())


def import_meta_graph(
    meta_graph_or_file: Any,
    clear_devices: bool = False,
    import_scope: Any = None,
    **kwargs: Any,
) -> Any:
    """Make the default graph hold the exported graph (see the module docstring); returns a
    ``tf.train.Saver`` of its variables, or None when it has none."""
    if isinstance(meta_graph_or_file, (str, bytes)) or hasattr(meta_graph_or_file, "__fspath__"):
        raise _file_refused("tf.train.import_meta_graph(<file>)")
    if not isinstance(meta_graph_or_file, MetaGraph):
        raise TypeError(
            "Received an invalid value for argument `meta_graph_or_file`: expected what "
            f"tf.train.export_meta_graph() returned, got {type(meta_graph_or_file).__name__}."
        )
    if import_scope is not None:
        raise UnimplementedError(
            "tf.train.import_meta_graph(import_scope=...) is outside rnnkit.compat.v1's subset."
        )
    source = meta_graph_or_file._graph
    if source is None:
        raise ValueError("This MetaGraph was imported already; export the graph again.")
    dest = get_default_graph()
    if dest is source:
        raise ValueError("import_meta_graph must run in another graph than the exported one.")
    if dest._by_name or any(dest._collections.values()):
        raise UnimplementedError(
            "tf.train.import_meta_graph into a graph that already has nodes is outside "
            "rnnkit.compat.v1's subset; import into a new tf.Graph()."
        )
    nodes = _all_nodes(source)
    keep = meta_graph_or_file._collections
    state = dict(source.__dict__)
    collections = {
        k: list(v)
        for k, v in state["_collections"].items()
        if keep is None
        or k in keep
        or k in (GraphKeys.GLOBAL_VARIABLES, GraphKeys.TRAINABLE_VARIABLES)  # fmt: skip
    }
    for key in ("_names", "_by_name", "_used_var_scopes", "seed", "_last_id"):
        value = state[key]
        setattr(dest, key, type(value)(value) if isinstance(value, (dict, set)) else value)
    dest._collections = collections
    for key, value in state.items():  # per-graph registries other modules keep (RNN scopes)
        if key not in dest.__dict__:
            dest.__dict__[key] = type(value)(value) if isinstance(value, (dict, set)) else value
    for node in nodes:
        node.graph = dest
    fresh = type(source)()
    source.__dict__.clear()
    source.__dict__.update(fresh.__dict__)
    meta_graph_or_file._graph = None
    from rnnkit.compat.v1.train.saver import Saver

    variables = dest.get_collection(GraphKeys.GLOBAL_VARIABLES)
    return Saver() if variables else None
