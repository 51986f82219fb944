"""``tf.summary`` (scalar, histogram, image, text, merge_all) written by ``FileWriter`` and read back
from the event file, against what real TensorFlow wrote for the same values
(``tests/fixtures/tf1_api/summary.json``, made by ``tools/make_tf1_api_fixtures.py``)."""

from __future__ import annotations

import io
import json
import pathlib
import struct

import numpy as np
import pytest

import rnnkit.compat.v1 as tf

pytest.importorskip("tensorboardX")
Image = pytest.importorskip("PIL.Image")
from tensorboardX.proto import event_pb2  # noqa: E402

FIX = json.loads(
    (
        pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "tf1_api" / "summary.json"
    ).read_text()
)


def _events(logdir: pathlib.Path) -> list:
    """The events of the one event file in ``logdir`` (TFRecord framing: length, its CRC, the
    record, its CRC)."""
    (path,) = list(logdir.iterdir())
    data = path.read_bytes()
    out, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        record = data[pos + 12 : pos + 12 + length]
        pos += 12 + length + 4
        event = event_pb2.Event()
        event.ParseFromString(record)
        out.append(event)
    return out


def _write(tmp_path: pathlib.Path) -> list:
    tf.reset_default_graph()
    x = tf.constant(np.array(FIX["values"], np.float32))
    tf.summary.scalar("loss", tf.reduce_mean(x))
    tf.summary.histogram("weights", x)
    ramp = np.linspace(0.0, 0.8, 24, dtype=np.float32).reshape(2, 4, 3, 1)
    tf.summary.image("img", tf.constant(ramp))
    signed = np.linspace(-1.0, 0.5, 24, dtype=np.float32).reshape(1, 4, 2, 3)
    tf.summary.image("signed", tf.constant(signed), max_outputs=1)
    tf.summary.text("note", "hello")
    merged = tf.summary.merge_all()
    writer = tf.summary.FileWriter(str(tmp_path))
    with tf.Session() as sess:
        writer.add_summary(sess.run(merged), 7)
    writer.close()
    return [
        (e.step, v) for e in _events(tmp_path) if e.HasField("summary") for v in e.summary.value
    ]


def test_event_file_holds_tfs_summaries(tmp_path) -> None:
    got = _write(tmp_path)
    assert [v.tag for _, v in got] == [e["tag"] for e in FIX["events"]]
    for (step, v), want in zip(got, FIX["events"]):
        assert step == want["step"]
        if "simple_value" in want:
            assert v.simple_value == pytest.approx(want["simple_value"])
        if "histo" in want:
            h = want["histo"]
            assert list(v.histo.bucket) == h["bucket"]
            np.testing.assert_allclose(v.histo.bucket_limit, h["bucket_limit"], rtol=1e-15)
            for key in ("min", "max", "num", "sum"):
                assert getattr(v.histo, key) == pytest.approx(h[key], rel=1e-12), key
            assert v.histo.sum_squares == pytest.approx(h["sum_squares"], rel=1e-9)
        if "image" in want:
            img = want["image"]
            assert (v.image.height, v.image.width, v.image.colorspace) == (
                img["height"],
                img["width"],
                img["colorspace"],
            )
            pixels = np.asarray(Image.open(io.BytesIO(v.image.encoded_image_string)))
            np.testing.assert_array_equal(
                pixels.reshape(np.shape(img["pixels"])), np.array(img["pixels"])
            )
        if "tensor_string_val" in want:
            assert [s.decode() for s in v.tensor.string_val] == want["tensor_string_val"]
            assert v.metadata.plugin_data.plugin_name == want["plugin"]
            assert [d.size for d in v.tensor.tensor_shape.dim] == want["tensor_shape"]
            assert v.tensor.dtype == want["tensor_dtype"]


def test_histogram_of_one_value_and_of_none(tmp_path) -> None:
    """One value fills one bucket between two collapsed runs of empty ones; an empty tensor gives
    no bucket counts."""
    from rnnkit.compat.v1.summary import _histogram_proto

    pb = _histogram_proto(np.array([0.5]))
    assert list(pb.bucket) == [0.0, 1.0, 0.0]
    assert pb.bucket_limit[1] > 0.5 > pb.bucket_limit[0]
    assert _histogram_proto(np.zeros(0)).num == 0


def _searched_counts(values: np.ndarray) -> np.ndarray:
    """The bucket counts by binary search over TF's edges (``upper_bound``, as TF's kernel)."""
    from rnnkit.compat.v1._histogram import EDGES

    slot = np.minimum(np.searchsorted(EDGES, values, side="right"), EDGES.size - 1)
    return np.bincount(slot, minlength=EDGES.size)


def test_histogram_buckets_equal_a_binary_search_over_tfs_edges() -> None:
    """The table lookup puts every value where a binary search over the edges does: the edges
    themselves and their float neighbours, both signs, zeros, subnormals, DBL_MAX, float32 input."""
    from rnnkit.compat.v1._histogram import EDGES
    from rnnkit.compat.v1.summary import _histogram_proto

    finite = EDGES[np.isfinite(EDGES)]
    rng = np.random.default_rng(3)
    values = np.concatenate(
        [
            finite,
            np.nextafter(finite[1:-1], np.inf),
            np.nextafter(finite[1:-1], -np.inf),
            [0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 1e300, -1e300],
            rng.standard_normal(20000) * 10.0 ** rng.uniform(-15, 22, 20000),
        ]
    )
    values = values[np.isfinite(values)]
    small = values[np.abs(values) < 3e38]
    for v in (values, small.astype(np.float32)):
        v64 = v.astype(np.float64)
        want = _searched_counts(v64)
        pb = _histogram_proto(v)
        got = np.zeros(EDGES.size)
        got[np.searchsorted(EDGES, list(pb.bucket_limit))] = list(pb.bucket)
        np.testing.assert_array_equal(got, want)
        assert (pb.min, pb.max, pb.num) == (v64.min(), v64.max(), v64.size)
        # TF adds the values one after another, in order
        assert pb.sum == sum(v64.tolist())
        with np.errstate(over="ignore"):  # 1e300 squared: infinity on both sides
            assert pb.sum_squares == sum((v64 * v64).tolist())


def test_histogram_of_nan_or_infinity_raises_tfs_error() -> None:
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None])
    with tf.name_scope("train"):
        h = tf.summary.histogram("logits", x)
    with tf.Session() as sess:
        assert sess.run(h, {x: [1.0, 2.0]})
        with pytest.raises(
            tf.errors.InvalidArgumentError, match="^Nan in summary histogram for: train/logits$"
        ):
            sess.run(h, {x: [1.0, np.nan, np.inf]})
        with pytest.raises(
            tf.errors.InvalidArgumentError, match="^Infinity in Histogram for: train/logits$"
        ):
            sess.run(h, {x: [-np.inf, np.nan]})


def test_bad_image_and_text_arguments() -> None:
    tf.reset_default_graph()
    with pytest.raises(ValueError, match="4-D with last dim 1, 3, or 4"):
        tf.summary.image("x", tf.zeros([2, 3, 3]))
    with pytest.raises(ValueError, match="max_outputs"):
        tf.summary.image("x", tf.zeros([2, 3, 3, 1]), max_outputs=0)
    with pytest.raises(ValueError, match="string tensor"):
        tf.summary.text("x", tf.zeros([2]))


def test_tags_follow_name_scopes_as_tf() -> None:
    tf.reset_default_graph()
    one = tf.constant(1.0)
    with tf.name_scope("train"):
        ops = [
            tf.summary.scalar("loss", one),
            tf.summary.scalar("loss", one),
            tf.summary.histogram("w", tf.constant([1.0])),
            tf.summary.image("im", tf.zeros([1, 2, 2, 1])),
        ]
    ops.append(tf.summary.scalar("my loss", one))
    from tensorboardX.proto import summary_pb2

    with tf.Session() as sess:
        tags = []
        for op in ops:
            pb = summary_pb2.Summary()
            pb.ParseFromString(sess.run(op))
            tags.append([v.tag for v in pb.value])
    assert tags == FIX["scoped_tags"]


def test_histogram_of_a_bool_tensor_is_refused_as_tf_refuses_it() -> None:
    with pytest.raises(
        TypeError, match="^Value passed to parameter 'values' has DataType bool not in"
    ):
        tf.summary.histogram("h", tf.constant([True, False]))


def test_the_event_file_is_made_by_the_first_event_as_in_tensorflow(tmp_path) -> None:
    # TF 2.21's tf.compat.v1 FileWriter (checked): no file until an event is written; a writer
    # made with a graph writes it at once; nothing is written after close(); reopen() starts a
    # new file. A program that empties its log directory after making its writer keeps its
    # summaries (DeepQA's "clean start" does that)
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [])
    s = tf.summary.scalar("loss", x)
    quiet = tmp_path / "quiet"
    w = tf.summary.FileWriter(str(quiet))
    w.flush()
    w.close()
    assert quiet.is_dir() and list(quiet.iterdir()) == []
    logdir = tmp_path / "run"
    w = tf.summary.FileWriter(str(logdir))
    assert w.get_logdir() == str(logdir)
    for f in logdir.iterdir():  # the program's own clean start
        f.unlink()
    with tf.Session() as sess:
        w.add_summary(sess.run(s, {x: 1.5}), 3)
        w.close()
        w.add_summary(sess.run(s, {x: 9.0}), 4)  # after close: dropped
    (event,) = [e for e in _events(logdir) if e.HasField("summary")]
    assert event.step == 3 and event.summary.value[0].simple_value == 1.5
    graph_dir = tmp_path / "graph"
    tf.summary.FileWriter(str(graph_dir), graph=tf.get_default_graph())
    assert len(list(graph_dir.iterdir())) == 1


def test_reopen_writes_a_new_event_file(tmp_path) -> None:
    tf.reset_default_graph()
    s = tf.summary.scalar("loss", tf.constant(2.0))
    w = tf.summary.FileWriter(str(tmp_path))
    with tf.Session() as sess:
        w.add_summary(sess.run(s), 1)
        w.close()
        w.reopen()
        w.add_summary(sess.run(s), 2)
        w.close()
    files = sorted(tmp_path.iterdir())
    steps = []
    for f in files:
        one = tmp_path / "one"
        one.mkdir()
        (one / f.name).write_bytes(f.read_bytes())
        steps += [e.step for e in _events(one) if e.HasField("summary")]
        (one / f.name).unlink()
        one.rmdir()
    assert 2 in steps  # the reopened writer's event is on disk
