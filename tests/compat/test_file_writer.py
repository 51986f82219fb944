"""``tf.summary.FileWriter`` (``summary.py``): the TFRecord event files it writes (each record's
masked CRC32C checked), ``tf.Summary`` protos, its TF 0.x name and its argument errors."""

from __future__ import annotations

import pytest

import rnnkit.compat.v1 as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


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
