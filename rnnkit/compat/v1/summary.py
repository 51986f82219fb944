"""``tf.summary``: ``scalar``, ``histogram``, ``merge``, ``merge_all`` and ``FileWriter``, writing real
TensorBoard event files with tensorboardX (the optional extra ``rnnkit[tf1]``).

A summary op evaluates to a serialized ``Summary`` protocol buffer (bytes), as in TensorFlow;
``FileWriter.add_summary(value, global_step)`` appends it to the event file. The graph passed to
``FileWriter`` is written as a ``GraphDef`` with each node's name, op type and inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnkit.compat.v1.dtypes import string
from rnnkit.compat.v1.ops import (
    GraphKeys,
    Tensor,
    _Node,
    add_to_collection,
    convert_to_tensor,
    get_default_graph,
)

__all__ = ["scalar", "histogram", "merge", "merge_all", "FileWriter"]


def _tbx() -> Any:
    try:
        import tensorboardX
    except ImportError:
        raise ImportError(
            "tf.summary needs tensorboardX: pip install 'rnnkit[tf1]' (or pip install tensorboardX)."
        ) from None
    return tensorboardX


def scalar(name: str, tensor: Any, collections: Any = None, family: Any = None) -> Tensor:
    """A summary op recording the scalar ``tensor`` under ``name``."""
    x = convert_to_tensor(tensor)
    if x.shape.ndims not in (None, 0):
        raise ValueError(f"tf.summary.scalar({name!r}) needs a scalar tensor, got shape {x.shape}.")
    tbx = _tbx()
    tag = str(name)

    def fn(v: Any) -> bytes:
        return tbx.summary.scalar(tag, float(v.detach())).SerializeToString()

    op = Tensor(tag.replace(" ", "_"), string, [], [x], fn=fn)
    for key in collections or [GraphKeys.SUMMARIES]:
        add_to_collection(key, op)
    return op


def histogram(name: str, values: Any, collections: Any = None, family: Any = None) -> Tensor:
    x = convert_to_tensor(values)
    tbx = _tbx()
    tag = str(name)

    def fn(v: Any) -> bytes:
        return tbx.summary.histogram(
            tag, v.detach().cpu().double().numpy(), "tensorflow"
        ).SerializeToString()

    op = Tensor(tag.replace(" ", "_"), string, [], [x], fn=fn)
    for key in collections or [GraphKeys.SUMMARIES]:
        add_to_collection(key, op)
    return op


def merge(inputs: Any, collections: Any = None, name: str | None = None) -> Tensor:
    """One summary holding the values of all ``inputs`` summaries."""
    ops = list(inputs)
    summary_pb2 = _summary_pb2()

    def fn(*values: bytes) -> bytes:
        out = summary_pb2.Summary()
        for v in values:
            out.MergeFromString(v)
        return out.SerializeToString()

    return Tensor(name or "Merge/MergeSummary", string, [], ops, fn=fn)


def merge_all(
    key: str = GraphKeys.SUMMARIES, scope: Any = None, name: str | None = None
) -> Tensor | None:
    ops = get_default_graph().get_collection(key, scope)
    return merge(ops, name=name) if ops else None


def _summary_pb2() -> Any:
    _tbx()
    from tensorboardX.proto import summary_pb2

    return summary_pb2


class FileWriter:
    """``FileWriter(logdir, graph=None)``: an event file TensorBoard reads; ``add_summary`` takes the
    bytes a summary op evaluates to (or a Summary proto)."""

    def __init__(
        self,
        logdir: str,
        graph: Any = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        **kwargs: Any,
    ) -> None:
        tbx = _tbx()
        self._writer = tbx.FileWriter(str(logdir), max_queue=max_queue, flush_secs=flush_secs)
        self.logdir = str(logdir)
        if graph is not None:
            self.add_graph(graph)

    def add_summary(self, summary: Any, global_step: Any = None) -> None:
        pb = _summary_pb2().Summary()
        if isinstance(summary, (bytes, bytearray)):
            pb.ParseFromString(bytes(summary))
        elif isinstance(summary, np.ndarray) and summary.dtype == object:
            pb.ParseFromString(summary.item())
        else:
            pb = summary
        self._writer.add_summary(pb, None if global_step is None else int(global_step))

    def add_graph(self, graph: Any, global_step: Any = None) -> None:
        from tensorboardX.proto import graph_pb2, node_def_pb2, versions_pb2

        nodes = []
        seen: set[str] = set()
        for tensor in list(graph._by_name.values()):
            name = getattr(tensor, "_op_name", getattr(tensor, "name", None))
            if not name or name in seen:
                continue
            seen.add(name)
            node = node_def_pb2.NodeDef(name=name, op=type(tensor).__name__.lstrip("_"))
            for i in getattr(tensor, "_inputs", ()):
                if isinstance(i, _Node):
                    node.input.append(getattr(i, "_op_name", getattr(i, "name", "")))
            nodes.append(node)
        gd = graph_pb2.GraphDef(node=nodes, versions=versions_pb2.VersionDef(producer=22))
        from tensorboardX.proto import event_pb2

        self._writer.add_event(event_pb2.Event(graph_def=gd.SerializeToString()))

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
