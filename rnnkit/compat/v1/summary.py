"""``tf.summary``: ``scalar``, ``histogram``, ``image``, ``text``, ``merge``, ``merge_all`` and
``FileWriter``, writing real TensorBoard event files with tensorboardX (the optional extra
``rnnkit[tf1]``; images are PNG-encoded with Pillow). Histograms use TensorFlow's bucket edges and
encoding, images TensorFlow's float-to-uint8 scaling, so TensorBoard shows what TF would.

A summary op evaluates to a serialized ``Summary`` protocol buffer (bytes), as in TensorFlow;
``FileWriter.add_summary(value, global_step)`` appends it to the event file. The graph passed to
``FileWriter`` is written as a ``GraphDef`` with each node's name, op type and inputs.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from rnnkit.compat.v1 import _histogram
from rnnkit.compat.v1.dtypes import check_allowed, string
from rnnkit.compat.v1.ops import (
    GraphKeys,
    Tensor,
    _Node,
    add_to_collection,
    convert_to_tensor,
    get_default_graph,
)

__all__ = ["scalar", "histogram", "image", "text", "merge", "merge_all", "FileWriter"]


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

    def fn(tag: str, v: Any) -> bytes:
        return tbx.summary.scalar(tag, float(v.detach())).SerializeToString()

    return _summary_op(name, [x], fn, collections)


def _histogram_proto(values: np.ndarray, name: str = "histogram") -> Any:
    """TensorFlow's ``HistogramProto`` of ``values`` (see :mod:`._histogram`)."""
    return _histogram.histogram(values, _summary_pb2().HistogramProto(), name)


def _summary_op(name: str, inputs: list[Tensor], fn: Any, collections: Any) -> Tensor:
    """A summary op computing ``fn(tag, *input_values)``; its tag is the op's name, as in TF1: under
    the enclosing name scopes and made unique (``train/loss``, ``train/loss_1``)."""
    tag: list[str] = []
    op = Tensor(str(name).replace(" ", "_"), string, [], inputs, fn=lambda *v: fn(tag[0], *v))
    tag.append(op._op_name)
    for key in collections or [GraphKeys.SUMMARIES]:
        add_to_collection(key, op)
    return op


# the dtypes TensorFlow's HistogramSummary op takes, in its order
_HISTOGRAM_TYPES = (
    "float32",
    "float64",
    "int32",
    "uint8",
    "int16",
    "int8",
    "int64",
    "bfloat16",
    "uint16",
    "float16",
    "uint32",
    "uint64",
)


def histogram(name: str, values: Any, collections: Any = None, family: Any = None) -> Tensor:
    """A summary op with TensorFlow's histogram of ``values`` (any shape, flattened)."""
    x = convert_to_tensor(values)
    check_allowed(x.dtype, "values", _HISTOGRAM_TYPES)
    summary_pb2 = _summary_pb2()

    def fn(tag: str, v: Any) -> bytes:
        pb = _histogram_proto(v.detach().cpu().numpy(), tag)
        return summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag=tag, histo=pb)]
        ).SerializeToString()

    return _summary_op(name, [x], fn, collections)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """TensorFlow's conversion of one float image: scaled so its largest value is 255 when none is
    negative, else so the largest magnitude is 127 around 128; truncated to uint8."""
    image = image.astype(np.float32)
    lo, hi = float(image.min()), float(image.max())
    if lo < 0:
        top = max(abs(lo), abs(hi))
        scale, offset = (0.0 if top < 1e-6 else 127.0 / top), 128.0
    else:
        scale, offset = (0.0 if hi < 1e-6 else 255.0 / hi), 0.0
    return (image * np.float32(scale) + np.float32(offset)).astype(np.uint8)


def _png(pixels: np.ndarray) -> bytes:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "tf.summary.image needs Pillow: pip install 'rnnkit[tf1]' (or pip install Pillow)."
        ) from None
    import io

    mode = {1: "L", 3: "RGB", 4: "RGBA"}[pixels.shape[-1]]
    data = pixels[..., 0] if mode == "L" else pixels
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(data), mode=mode).save(buf, format="PNG")
    return buf.getvalue()


def image(
    name: str, tensor: Any, max_outputs: int = 3, collections: Any = None, family: Any = None
) -> Tensor:
    """A summary op with the first ``max_outputs`` images of ``tensor (B, H, W, C)`` (C = 1, 3 or
    4; floats are scaled per image as TensorFlow does, uint8 kept) as PNGs tagged
    ``name/image/k`` (``name/image`` when ``max_outputs`` is 1)."""
    x = convert_to_tensor(tensor)
    if x.shape.ndims not in (None, 4):
        raise ValueError(
            f"Tensor must be 4-D with last dim 1, 3, or 4, not {x.shape} (tf.summary.image({name!r}))."
        )
    if x.shape.ndims == 4 and x.shape.as_list()[-1] not in (None, 1, 3, 4):
        raise ValueError(f"Tensor must be 4-D with last dim 1, 3, or 4, not {x.shape}.")
    if isinstance(max_outputs, bool) or not isinstance(max_outputs, int) or max_outputs < 1:
        raise ValueError(
            f"Received an invalid value for argument `max_outputs`: expected a positive integer, "
            f"got {max_outputs!r}."
        )
    summary_pb2 = _summary_pb2()

    def fn(tag: str, v: Any) -> bytes:
        arr = v.detach().cpu().numpy()
        if arr.ndim != 4 or arr.shape[-1] not in (1, 3, 4):
            from rnnkit.compat.v1.errors import InvalidArgumentError

            raise InvalidArgumentError(
                f"Tensor must be 4-D with last dim 1, 3, or 4, not {list(arr.shape)}"
            )
        values = []
        for k in range(min(max_outputs, arr.shape[0])):
            pixels = arr[k] if arr.dtype == np.uint8 else _to_uint8(arr[k])
            h, w, c = pixels.shape
            img = summary_pb2.Summary.Image(
                height=h, width=w, colorspace=c, encoded_image_string=_png(pixels)
            )
            sub = f"{tag}/image/{k}" if max_outputs > 1 else f"{tag}/image"
            values.append(summary_pb2.Summary.Value(tag=sub, image=img))
        return summary_pb2.Summary(value=values).SerializeToString()

    return _summary_op(name, [x], fn, collections)


def text(name: str, tensor: Any, collections: Any = None) -> Tensor:
    """A summary op with ``tensor`` (a string tensor, or Python strings) for TensorBoard's text
    plugin."""
    if isinstance(tensor, (str, bytes)) or (
        isinstance(tensor, (list, tuple)) and all(isinstance(t, (str, bytes)) for t in tensor)
    ):
        fixed = np.array(tensor, dtype=object)
        inputs: list[Tensor] = []
    else:
        x = convert_to_tensor(tensor)
        if x.dtype is not string:
            raise ValueError(
                f"Received an invalid value for argument `tensor` of tf.summary.text({name!r}): "
                f"expected a string tensor, got {x.dtype.name} ({x.name!r})."
            )
        inputs, fixed = [x], None
    summary_pb2 = _summary_pb2()
    from tensorboardX.proto import tensor_pb2, tensor_shape_pb2

    def fn(tag: str, v: Any = None) -> bytes:
        arr = fixed if not inputs else np.asarray(v, dtype=object)
        items = [s if isinstance(s, bytes) else str(s).encode("utf-8") for s in arr.ravel()]
        shape = tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in arr.shape]
        )
        proto = tensor_pb2.TensorProto(dtype=7, string_val=items, tensor_shape=shape)  # DT_STRING
        meta = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="text")
        )
        value = summary_pb2.Summary.Value(tag=tag, metadata=meta, tensor=proto)
        return summary_pb2.Summary(value=[value]).SerializeToString()

    return _summary_op(name, inputs, fn, collections)


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
        graph_def: Any = None,
        filename_suffix: Any = None,
        session: Any = None,
    ) -> None:
        from rnnkit.compat.v1.ops import Graph

        # graph_def: TensorFlow 0.x's SummaryWriter argument; a tf.Graph is written the same way
        for what, g in (("graph", graph), ("graph_def", graph_def)):
            if g is not None and not isinstance(g, Graph):
                raise TypeError(
                    f"Received an invalid value for argument `{what}`: expected a tf.Graph "
                    f"(e.g. sess.graph), got {type(g).__name__}."
                )
        _tbx()
        self.logdir = str(logdir)
        os.makedirs(self.logdir, exist_ok=True)
        # the event file is made by the first event, as TensorFlow's writer makes it: a program that
        # empties its log directory after making the writer (a "clean start") keeps its summaries
        self._options = {
            "max_queue": max_queue,
            "flush_secs": flush_secs,
            "filename_suffix": "" if filename_suffix is None else str(filename_suffix),
        }
        self._writer: Any = None
        self._closed = False
        g = graph if graph is not None else graph_def
        if g is not None:
            self.add_graph(g)

    def _add(self, method: str, *args: Any) -> None:
        """Write one event, making the event file first; nothing after ``close()`` (TF drops them)."""
        if self._closed:
            return
        if self._writer is None:
            self._writer = _tbx().FileWriter(self.logdir, **self._options)
        getattr(self._writer, method)(*args)

    def get_logdir(self) -> str:
        return self.logdir

    def reopen(self) -> None:
        """After ``close()``: later events go to a new event file in the same directory."""
        if self._closed:
            self._closed = False
            self._writer = None

    def add_summary(self, summary: Any, global_step: Any = None) -> None:
        pb = _summary_pb2().Summary()
        if isinstance(summary, (bytes, bytearray)):
            pb.ParseFromString(bytes(summary))
        elif isinstance(summary, np.ndarray) and summary.dtype == object:
            pb.ParseFromString(summary.item())
        else:
            pb = summary
        self._add("add_summary", pb, None if global_step is None else int(global_step))

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

        self._add("add_event", event_pb2.Event(graph_def=gd.SerializeToString()))

    def flush(self) -> None:
        if self._writer is not None and not self._closed:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None and not self._closed:
            self._writer.close()
        self._closed = True

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
