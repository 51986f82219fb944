"""TF1 checkpoint and state files from outside are hostile: rnnkit's TF1 interop deletes only what
it wrote, checks a crafted index in bounded time, and refuses a data file that is not a regular file
(a FIFO would block the reader, a folder would be misread) with a ValueError naming it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from rnnkit.commands import main
from rnnkit.interop import (
    _bundle,
    latest_tf1_checkpoint,
    open_tf1_checkpoint,
    read_tf1_checkpoint,
    write_tf1_checkpoint,
)
from rnnkit.interop._bundle_protos import BundleEntryProto, BundleHeaderProto
from rnnkit.interop._sstable import build_table, crc32c, mask

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "tf1_checkpoints"
DATA = ".data-00000-of-00001"


class Hang(BaseException):
    """Raised by ``deadline``; not an OSError, which file code may catch."""


class deadline:
    """Fail instead of hanging the suite when the block runs longer than ``seconds``."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds

    def __enter__(self) -> None:
        def on_alarm(*_: object) -> None:
            raise Hang(f"still running after {self.seconds} s")

        self.previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(self.seconds)

    def __exit__(self, *exc: object) -> None:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, self.previous)


def foreign_checkpoint(prefix: Path) -> dict[Path, bytes]:
    """A copy of a checkpoint TensorFlow wrote (not this process): its files and their bytes."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    files = {}
    for suffix in (".index", DATA):
        shutil.copyfile(FIX / "dtypes" / f"model.ckpt{suffix}", f"{prefix}{suffix}")
        files[Path(f"{prefix}{suffix}")] = Path(f"{prefix}{suffix}").read_bytes()
    return files


# -- max_to_keep deletes only what the writer wrote -------------------------------------------------
def test_max_to_keep_never_deletes_what_a_state_file_lists_from_elsewhere(tmp_path):
    folder = tmp_path / "train"
    precious = foreign_checkpoint(tmp_path / "elsewhere" / "precious")  # outside, absolute
    parent = foreign_checkpoint(tmp_path / "parent")  # outside, relative "../parent"
    theirs = foreign_checkpoint(folder / "theirs")  # inside, but another program's
    (folder / "checkpoint").write_text(
        f'model_checkpoint_path: "theirs"\n'
        f'all_model_checkpoint_paths: "{tmp_path}/elsewhere/precious"\n'
        f'all_model_checkpoint_paths: "../parent"\n'
        f'all_model_checkpoint_paths: "theirs"\n'
    )
    write_tf1_checkpoint(folder / "mine-1", {"x": np.float32(1)}, max_to_keep=1)
    write_tf1_checkpoint(folder / "mine-2", {"x": np.float32(2)}, max_to_keep=1)
    for path, data in {**precious, **parent, **theirs}.items():
        assert path.read_bytes() == data, path
    # the writer's own older checkpoint goes; the state file lists what is kept
    assert not (folder / "mine-1.index").exists() and not (folder / f"mine-1{DATA}").exists()
    assert (folder / "checkpoint").read_text() == (
        'model_checkpoint_path: "mine-2"\nall_model_checkpoint_paths: "mine-2"\n'
    )
    assert read_tf1_checkpoint(folder) == {"x": np.float32(2)}


def test_max_to_keep_never_deletes_the_checkpoint_just_written(tmp_path):
    """The state file names the new checkpoint by another spelling (through a symlinked folder)."""
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    write_tf1_checkpoint(tmp_path / "real" / "m", {"x": 1}, max_to_keep=1)
    (tmp_path / "real" / "checkpoint").write_text(
        f'model_checkpoint_path: "{tmp_path}/link/m"\n'
        f'all_model_checkpoint_paths: "{tmp_path}/link/m"\n'
    )
    write_tf1_checkpoint(tmp_path / "real" / "m", {"x": 2}, max_to_keep=1)
    assert read_tf1_checkpoint(tmp_path / "real" / "m") == {"x": 2}


def test_a_symlink_in_place_of_a_dropped_file_is_removed_not_its_target(tmp_path):
    target = tmp_path / "target"
    target.write_bytes(b"keep")
    write_tf1_checkpoint(tmp_path / "ck" / "m-1", {"x": 1}, max_to_keep=1)
    (tmp_path / "ck" / "m-1.index").unlink()
    (tmp_path / "ck" / "m-1.index").symlink_to(target)
    write_tf1_checkpoint(tmp_path / "ck" / "m-2", {"x": 2}, max_to_keep=1)
    assert target.read_bytes() == b"keep"
    assert not (tmp_path / "ck" / f"m-1{DATA}").exists()


def test_a_fifo_in_place_of_the_state_file_is_neither_read_nor_replaced(tmp_path):
    os.mkfifo(tmp_path / "checkpoint")
    with deadline(20):
        assert latest_tf1_checkpoint(tmp_path) is None
        with pytest.raises(ValueError, match=r"`prefix`.*checkpoint' is a FIFO"):
            write_tf1_checkpoint(tmp_path / "m", {"x": 1}, max_to_keep=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint"]  # nothing written
    assert stat.S_ISFIFO((tmp_path / "checkpoint").lstat().st_mode)


@pytest.mark.parametrize("name", ["m.index", f"m{DATA}", "checkpoint"])
def test_a_folder_where_a_file_goes_is_refused_before_anything_is_written(tmp_path, name):
    """The rename onto a folder would fail after the data file was replaced: half a checkpoint."""
    (tmp_path / name).mkdir()
    (tmp_path / name / "inside").write_bytes(b"keep")
    with pytest.raises(ValueError, match=f"`prefix`.*{re.escape(name)}' is a directory"):
        write_tf1_checkpoint(tmp_path / "m", {"x": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    assert (tmp_path / name / "inside").read_bytes() == b"keep"


# -- partitioned variables: the slices' tiling is checked in linear time -----------------------------
def partitioned(prefix: Path, pieces: list[tuple[int, int]], n: int) -> None:
    """A float32 tensor ``arange(n)`` stored as the slices ``[start, stop)`` of ``pieces``."""
    values = np.arange(n, dtype=np.float32)
    full = BundleEntryProto(dtype=1)
    full.shape.dim.add(size=n)
    items, data = [], b""
    for start, stop in pieces:
        extent = full.slices.add().extent.add()
        extent.start, extent.length = start, stop - start
        chunk = values[start:stop].tobytes()
        part = BundleEntryProto(dtype=1, offset=len(data), size=len(chunk))
        part.crc32c = mask(crc32c(chunk))
        part.shape.dim.add(size=stop - start)
        items.append((_bundle.slice_key(b"v", [start], [stop - start]), part.SerializeToString()))
        data += chunk
    items.append((b"v", full.SerializeToString()))
    header = BundleHeaderProto(num_shards=1)
    header.version.producer = 1
    index = build_table([(b"", header.SerializeToString()), *sorted(items)])
    Path(f"{prefix}.index").write_bytes(index)
    Path(f"{prefix}{DATA}").write_bytes(data)


def test_twenty_thousand_slices_are_checked_without_a_pairwise_comparison(tmp_path):
    n = 20_000  # pairwise: 2e8 box comparisons, minutes on a loaded machine
    partitioned(tmp_path / "m", [(i, i + 1) for i in range(n)], n)
    with deadline(20):
        assert read_tf1_checkpoint(tmp_path / "m")["v"].tolist() == list(range(n))
    # the same volume, but element 1 is in two slices and element n - 1 in none
    partitioned(tmp_path / "m", [(0, 2)] + [(i, i + 1) for i in range(1, n - 1)], n)
    with deadline(20), pytest.raises(ValueError, match="two slices overlap"):
        read_tf1_checkpoint(tmp_path / "m")


def test_more_slices_than_the_bound_are_refused_before_they_are_checked(tmp_path, monkeypatch):
    from rnnkit.interop import tf1_checkpoint

    assert tf1_checkpoint._MAX_SLICES >= 1 << 16  # TensorFlow's partitioners make far fewer
    monkeypatch.setattr(tf1_checkpoint, "_MAX_SLICES", 8)
    partitioned(tmp_path / "m", [(i, i + 1) for i in range(9)], 9)
    with pytest.raises(ValueError, match=r"'v'.*9 slices \(at most 8\)"):
        read_tf1_checkpoint(tmp_path / "m")


@pytest.mark.parametrize("seed", range(40))
def test_tiling_check_agrees_with_counting_every_element(seed):
    """Random boxes in a small 3-d tensor: exact cover according to a numpy count per element."""
    from rnnkit.interop.tf1_checkpoint import _tiles

    rng = np.random.default_rng(seed)
    shape = tuple(int(d) for d in rng.integers(1, 5, size=3))
    boxes = []
    if seed % 2:  # a grid of cuts, often an exact tiling, then maybe one box edited
        cuts = [sorted({0, d, *rng.integers(0, d + 1, size=2).tolist()}) for d in shape]
        for a in zip(cuts[0], cuts[0][1:]):
            for b in zip(cuts[1], cuts[1][1:]):
                for c in zip(cuts[2], cuts[2][1:]):
                    boxes.append([a, b, c])
        if seed % 4 == 3:
            j, k = int(rng.integers(3)), int(rng.integers(len(boxes)))
            start, stop = boxes[k][j]
            boxes[k][j] = (max(0, start - 1), stop)
    else:
        for _ in range(int(rng.integers(1, 6))):
            box = []
            for d in shape:
                a, b = sorted(rng.integers(0, d + 1, size=2).tolist())
                box.append((a, b))
            boxes.append(box)
    count = np.zeros(shape, dtype=int)
    for box in boxes:
        count[tuple(slice(a, b) for a, b in box)] += 1
    whole = [(0, d) for d in shape]
    assert _tiles(boxes, whole, [0, 1, 2]) == bool((count == 1).all())


# -- data files that are not regular files ------------------------------------------------------------
def empty_tensors_checkpoint(folder: Path) -> Path:
    """Every tensor empty: nothing is ever read from the data file, which has 0 bytes."""
    prefix = folder / "m"
    write_tf1_checkpoint(prefix, {"a": np.zeros((0, 3), np.float32), "b": np.zeros(0, np.int64)})
    assert Path(f"{prefix}{DATA}").stat().st_size == 0
    return prefix


def run_cli(*argv: str) -> subprocess.CompletedProcess:
    """The command in a child process, so that a regression hangs the child, not the suite."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "rnnkit", *argv], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"rnnkit {' '.join(argv)} still running after 60 s: a hang")


@pytest.mark.slow
def test_a_fifo_data_file_is_refused_by_inspect_and_convert(tmp_path):
    prefix = empty_tensors_checkpoint(tmp_path)
    data = Path(f"{prefix}{DATA}")
    data.unlink()
    os.mkfifo(data)
    with deadline(20), pytest.raises(ValueError, match=f"{data.name}.*a FIFO, not a regular file"):
        read_tf1_checkpoint(prefix)
    for argv in (
        ["inspect", str(prefix), "--all-tensors"],
        ["inspect", str(prefix)],
        ["convert", str(prefix), str(tmp_path / "out.safetensors")],
    ):
        result = run_cli("checkpoint", *argv)
        assert result.returncode == 2, (argv, result.stdout, result.stderr)
        assert f"{str(data)!r}" in result.stderr and "a FIFO" in result.stderr, argv
    assert not (tmp_path / "out.safetensors").exists()


def test_a_fifo_given_to_convert_is_refused(tmp_path):
    fifo = tmp_path / "weights.safetensors"
    os.mkfifo(fifo)
    result = run_cli("checkpoint", "convert", str(fifo), str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert f"PATH {str(fifo)!r} is a FIFO, not a regular file" in result.stderr
    assert list(tmp_path.iterdir()) == [fifo]  # nothing written


def test_a_folder_in_place_of_the_data_file_is_refused(tmp_path, capsys):
    prefix = tmp_path / "m"
    write_tf1_checkpoint(prefix, {"v": np.ones(3, np.float32)})
    data = Path(f"{prefix}{DATA}")
    data.unlink()
    data.mkdir()
    with pytest.raises(ValueError, match=f"{data.name}.*a directory, not a regular file"):
        open_tf1_checkpoint(prefix)
    assert main(["checkpoint", "inspect", str(prefix)]) == 2  # listing reads no data, yet refused
    err = capsys.readouterr().err
    assert err.startswith("rnnkit checkpoint: error: ") and "a directory" in err

    tf.reset_default_graph()
    try:
        v = tf.get_variable("v", [3])
        saver = tf.train.Saver([v])
        with tf.Session() as sess:
            with pytest.raises(ValueError, match=f"{data.name}.*a directory"):
                saver.restore(sess, str(prefix))
    finally:
        tf.reset_default_graph()


def test_a_character_device_data_file_is_refused(tmp_path):
    prefix = empty_tensors_checkpoint(tmp_path)
    data = Path(f"{prefix}{DATA}")
    data.unlink()
    data.symlink_to("/dev/zero")
    with pytest.raises(ValueError, match=f"{data.name}.*a character device"):
        read_tf1_checkpoint(prefix)


def test_saver_save_names_a_folder_in_place_of_its_state_file(tmp_path):
    (tmp_path / "checkpoint").mkdir()
    tf.reset_default_graph()
    try:
        v = tf.get_variable("v", [3])
        saver = tf.train.Saver([v])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            with pytest.raises(ValueError, match="checkpoint': it is a directory"):
                saver.save(sess, str(tmp_path / "m"))
    finally:
        tf.reset_default_graph()
    assert (tmp_path / "checkpoint").is_dir()
