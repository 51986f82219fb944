"""``tf.summary.FileWriter`` (``summary.py``): the TFRecord event files it writes (each record's
masked CRC32C checked), ``tf.Summary`` protos, its TF 0.x name and its argument errors."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import close


def _events(path):
    """Events of a TFRecord event file, each record's masked CRC32C checked."""
    import struct

    import google_crc32c
    from tensorboardX.proto import event_pb2

    def masked(b: bytes) -> int:
        c = google_crc32c.value(b)
        return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    data, out, i = path.read_bytes(), [], 0
    while i < len(data):
        header = data[i : i + 8]
        (n,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[i + 8 : i + 12])[0] == masked(header)
        body = data[i + 12 : i + 12 + n]
        assert struct.unpack("<I", data[i + 12 + n : i + 16 + n])[0] == masked(body)
        out.append(event_pb2.Event.FromString(body))
        i += 16 + n
    return out


def test_file_writer_writes_scalars_and_the_graph_as_tensorboard_event_records(tmp_path):
    X = tf.placeholder(tf.float32, [None, 3], name="X")
    W = tf.Variable(tf.ones([3, 1]), name="W")
    loss = tf.reduce_mean(tf.square(tf.matmul(X, W)), name="loss")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    tf.summary.scalar("loss", loss)
    merged = tf.summary.merge_all()
    writer = tf.summary.FileWriter(str(tmp_path), tf.get_default_graph())
    losses = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(3):
            _, value, summary = sess.run([train, loss, merged], {X: np.ones((2, 3))})
            writer.add_summary(summary, step)
            losses.append(value)
    writer.close()
    (path,) = tmp_path.glob("events.out.tfevents.*")
    events = _events(path)
    graphs = [e for e in events if e.graph_def]
    from tensorboardX.proto import graph_pb2

    names = {n.name for n in graph_pb2.GraphDef.FromString(graphs[0].graph_def).node}
    assert {"X", "W", "loss"} <= names
    scalars = [(e.step, v.tag, v.simple_value) for e in events for v in e.summary.value]
    assert [(s, t) for s, t, _ in scalars] == [(0, "loss"), (1, "loss"), (2, "loss")]
    close([v for _, _, v in scalars], losses)


def test_summary_proto_written_by_file_writer(tmp_path):
    pytest.importorskip("tensorboardX")
    import struct

    from tensorboardX.proto import event_pb2

    value = tf.Summary.Value(tag="loss", simple_value=1.5)
    with tf.summary.FileWriter(str(tmp_path)) as writer:
        writer.add_summary(tf.Summary(value=[value]), 7)
    data = next(tmp_path.iterdir()).read_bytes()
    events, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        event = event_pb2.Event()
        event.ParseFromString(data[pos + 12 : pos + 12 + length])
        events.append(event)
        pos += 16 + length
    (ev,) = [e for e in events if e.HasField("summary")]
    assert ev.step == 7 and ev.summary.value[0].tag == "loss"
    assert ev.summary.value[0].simple_value == 1.5


def test_summary_writer_tf0_name_and_bad_arguments(tmp_path):
    pytest.importorskip("tensorboardX")
    tf.constant(1.0, name="c")
    with tf.Session() as s:
        writer = tf.train.SummaryWriter(str(tmp_path / "a"), s.graph)
        writer.close()
        tf.train.SummaryWriter(str(tmp_path / "b"), graph_def=s.graph).close()
    assert len(list((tmp_path / "a").iterdir())) == 1
    with pytest.raises(TypeError, match="`graph`: expected a tf.Graph"):
        tf.summary.FileWriter(str(tmp_path / "c"), 3)
    with pytest.raises(TypeError, match="grpah"):
        tf.summary.FileWriter(str(tmp_path / "d"), grpah=None)
