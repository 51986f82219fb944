"""TF1 checkpoint files without TensorFlow: against checkpoints real TensorFlow wrote (see
tests/fixtures/tf1_checkpoints/README.md), round trips, and damage."""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rnnkit
from rnnkit.interop import (
    TF1Checkpoint,
    latest_tf1_checkpoint,
    load_tf1_variables,
    open_tf1_checkpoint,
    read_tf1_checkpoint,
    tf1_variables,
    write_tf1_checkpoint,
)
from rnnkit.interop._bundle_protos import BundleEntryProto, BundleHeaderProto
from rnnkit.interop._sstable import build_table, crc32c, mask, put_varint, read_table

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "tf1_checkpoints"
TF_PREFIXES = {
    "rnn_adam": FIX / "rnn_adam" / "model.ckpt-3",
    "dtypes": FIX / "dtypes" / "model.ckpt",
    "partitioned": FIX / "partitioned" / "model.ckpt",
}


def expected(name: str) -> dict[str, np.ndarray]:
    """The variables TensorFlow saved in fixture ``name`` (see the README for the encoding)."""
    data = np.load(FIX / f"{name}.npz")
    out = {}
    for key in data.files:
        kind, _, rest = key.partition("/")
        if kind == "var":
            out[rest] = data[key]
        elif kind == "bf16":
            out[rest] = data[key].view(ml_dtypes.bfloat16)
        elif kind == "str" and rest.endswith("/shape"):
            rest = rest[: -len("/shape")]
            raw, flat = data[f"str/{rest}/bytes"].tobytes(), []
            for n in data[f"str/{rest}/lengths"]:
                flat.append(raw[:n])
                raw = raw[n:]
            array = np.empty(len(flat), dtype=object)
            array[:] = flat
            out[rest] = array.reshape(tuple(data[key]))
    return out


def assert_same(got: dict, want: dict) -> None:
    assert sorted(got) == sorted(want)
    for name in want:
        g, w = got[name], np.asarray(want[name])
        assert (g.dtype, g.shape) == (w.dtype, w.shape), name
        if w.dtype == object:
            assert g.reshape(-1).tolist() == w.reshape(-1).tolist(), name
        else:
            assert g.tobytes() == w.tobytes(), name  # bit for bit, NaNs included


# -- checkpoints written by TensorFlow ---------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(TF_PREFIXES))
def test_reads_tensorflow_checkpoints_exactly(name):
    assert_same(read_tf1_checkpoint(TF_PREFIXES[name]), expected(name))


def test_the_fixtures_cover_what_the_issue_asks():
    adam = expected("rnn_adam")
    assert {"global_step", "beta1_power", "lstm_head/kernel/Adam_1"} <= set(adam)
    assert "lstm_rnn/multi_rnn_cell/cell_0/lstm_cell/w_f_diag/Adam" in adam
    dtypes = {str(a.dtype) for a in expected("dtypes").values()}
    assert {
        "float16",
        "float32",
        "float64",
        "bfloat16",
        "int8",
        "int16",
        "int32",
        "int64",
    } <= dtypes
    assert {"uint8", "bool", "object"} <= dtypes
    shards = sorted(p.name for p in (FIX / "partitioned").glob("*.data-*"))
    assert shards == ["model.ckpt.data-00000-of-00002", "model.ckpt.data-00001-of-00002"]


def test_lazy_metadata_reads_no_data(monkeypatch):
    want = expected("partitioned")
    reads = []
    original = TF1Checkpoint._read
    monkeypatch.setattr(
        TF1Checkpoint, "_read", lambda self, e, n: reads.append(n) or original(self, e, n)
    )
    with open_tf1_checkpoint(TF_PREFIXES["partitioned"]) as ckpt:
        assert list(ckpt) == sorted(want)  # the slices of partitioned variables are not listed
        assert {n: ckpt.shape(n) for n in ckpt} == {n: a.shape for n, a in want.items()}
        assert {n: ckpt.dtype(n) for n in ckpt} == {n: a.dtype for n, a in want.items()}
        assert ckpt.tf_dtype("wide") == "DT_DOUBLE" and len(ckpt) == 4 and "emb" in ckpt
        assert reads == []
        np.testing.assert_array_equal(ckpt["wide"], want["wide"])
        assert reads == ["wide", "wide"]  # its two slices, nothing else
        with pytest.raises(KeyError):
            ckpt["missing"]
    with pytest.raises(ValueError, match="closed"):
        ckpt["wide"]


def test_paths_directories_and_the_state_file():
    folder = FIX / "rnn_adam"
    assert latest_tf1_checkpoint(folder) == str(folder / "model.ckpt-3")
    step3 = read_tf1_checkpoint(folder)
    assert step3["global_step"] == 3
    for path in (str(folder / "model.ckpt-3.index"), folder / "model.ckpt-3.data-00000-of-00001"):
        assert read_tf1_checkpoint(path)["global_step"] == 3
    assert read_tf1_checkpoint(folder / "model.ckpt-2")["global_step"] == 2
    assert latest_tf1_checkpoint(FIX) is None  # no state file there
    with pytest.raises(ValueError, match="`checkpoint` state file"):
        read_tf1_checkpoint(FIX)
    with pytest.raises(ValueError, match="no file .*model.ckpt-9.index"):
        read_tf1_checkpoint(folder / "model.ckpt-9")
    with pytest.raises(TypeError, match="`path`"):
        read_tf1_checkpoint(3)


@pytest.mark.parametrize("name", ["rnn_adam", "dtypes"])
def test_writes_the_bytes_tensorflow_writes(name, tmp_path):
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt", read_tf1_checkpoint(TF_PREFIXES[name]))
    for suffix in (".index", ".data-00000-of-00001"):
        assert (
            Path(str(prefix) + suffix).read_bytes()
            == Path(str(TF_PREFIXES[name]) + suffix).read_bytes()
        )


def test_partitioned_variables_are_written_whole(tmp_path):
    prefix = write_tf1_checkpoint(tmp_path / "m", read_tf1_checkpoint(TF_PREFIXES["partitioned"]))
    assert_same(read_tf1_checkpoint(prefix), expected("partitioned"))


# -- into rnnkit cells: TensorFlow's outputs ----------------------------------------------------------------
MODELS = {
    "lstm": lambda: rnnkit.MultiRNNCell(
        [rnnkit.LSTMCell(8, use_peepholes=True), rnnkit.LSTMCell(8)]
    ),
    "gru": lambda: rnnkit.MultiRNNCell([rnnkit.GRUCell(6), rnnkit.GRUCell(6)]),
}


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("engine", ["loop", "auto"])
def test_cells_loaded_from_a_checkpoint_reproduce_tensorflow(model, engine):
    data = np.load(FIX / "rnn_adam.npz")
    cell = MODELS[model]()
    load_tf1_variables(cell, FIX / "rnn_adam", scope=f"{model}_rnn")  # Adam slots are skipped
    x, lengths = torch.tensor(data["inputs"]), torch.tensor(data["sequence_length"])
    with torch.no_grad():
        out, state = rnnkit.dynamic_rnn(cell, x, sequence_length=lengths, engine=engine)
    got = {f"out/{model}/outputs": out}
    for k, s in enumerate(state):
        if model == "lstm":
            got[f"out/{model}/state/{k}/c"], got[f"out/{model}/state/{k}/h"] = s.c, s.h
        else:
            got[f"out/{model}/state/{k}"] = s
    head = read_tf1_checkpoint(FIX / "rnn_adam")
    last = state[-1].h if model == "lstm" else state[-1]
    got[f"out/{model}/logits"] = (
        last.numpy() @ head[f"{model}_head/kernel"] + head[f"{model}_head/bias"]
    )
    assert {k for k in data.files if k.startswith(f"out/{model}/")} == set(got)
    for key, value in got.items():
        np.testing.assert_allclose(np.asarray(value), data[key], rtol=2e-5, atol=2e-6, err_msg=key)


def test_a_cell_written_by_rnnkit_matches_tensorflows_restored_outputs(tmp_path):
    """TensorFlow restored rnnkit_written/ (written by rnnkit) into its own cells and ran dynamic_rnn
    (tools/make_tf1_checkpoint_fixtures.py); rnnkit still writes those bytes and gets those outputs."""
    data = np.load(FIX / "rnnkit_written.npz")
    cell = rnnkit.MultiRNNCell([rnnkit.LSTMCell(5, use_peepholes=True), rnnkit.GRUCell(4)])
    load_tf1_variables(cell, FIX / "rnnkit_written")
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt-7", tf1_variables(cell))
    for suffix in (".index", ".data-00000-of-00001", ""):
        name = "checkpoint" if not suffix else "model.ckpt-7" + suffix
        assert (tmp_path / name).read_bytes() == (FIX / "rnnkit_written" / name).read_bytes()
    with torch.no_grad():
        out, (s0, s1) = rnnkit.dynamic_rnn(
            cell,
            torch.tensor(data["inputs"]),
            sequence_length=torch.tensor(data["sequence_length"]),
        )
    got = {"out/outputs": out, "out/state/0/c": s0.c, "out/state/0/h": s0.h, "out/state/1": s1}
    for key, value in got.items():
        np.testing.assert_allclose(value.numpy(), data[key], rtol=2e-5, atol=2e-6, err_msg=key)
    assert prefix == str(tmp_path / "model.ckpt-7")


def test_load_tf1_variables_from_a_checkpoint_still_refuses_bad_parameters():
    three = rnnkit.MultiRNNCell([rnnkit.GRUCell(6) for _ in range(3)])
    with pytest.raises(ValueError, match=r"missing \[.*gru_rnn/multi_rnn_cell/cell_2/gru_cell"):
        load_tf1_variables(three, FIX / "rnn_adam", scope="gru_rnn")
    with pytest.raises(
        ValueError, match=r"cell_1/gru_cell/gates/kernel of shape \(11, 10\), got shape \(12, 12\)"
    ):
        load_tf1_variables(
            rnnkit.MultiRNNCell([rnnkit.GRUCell(6), rnnkit.GRUCell(5)]),
            FIX / "rnn_adam",
            scope="gru_rnn",
        )
    with pytest.raises(
        ValueError, match="unexpected.*w_f_diag"
    ):  # peepholes in the file, not the cell
        load_tf1_variables(
            rnnkit.MultiRNNCell([rnnkit.LSTMCell(8), rnnkit.LSTMCell(8)]),
            FIX / "rnn_adam",
            scope="lstm_rnn",
        )
    with pytest.raises(ValueError, match="no file"):
        load_tf1_variables(rnnkit.GRUCell(6), FIX / "nothing_here")


# -- round trips ----------------------------------------------------------------------------------------
NUMERIC = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16",
           "uint32", "uint64", "bool", "complex64", "complex128"]  # fmt: skip
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)


@st.composite
def tensors(draw):
    kind = draw(st.sampled_from([*NUMERIC, "bfloat16", "string"]))
    shape = draw(SHAPES)
    if kind == "string":
        flat = draw(
            st.lists(
                st.binary(max_size=300), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))
            )
        )
        array = np.empty(len(flat), dtype=object)
        array[:] = flat
        return array.reshape(shape)
    if kind == "bfloat16":
        return draw(hnp.arrays(np.uint16, shape)).view(ml_dtypes.bfloat16)
    return draw(hnp.arrays(np.dtype(kind), shape))


names = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=12)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.dictionaries(names, tensors(), max_size=6))
def test_round_trip_any_dtype_and_shape(values, tmp_path):
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt", values, update_state=False)
    assert_same(read_tf1_checkpoint(prefix), values)
    with open_tf1_checkpoint(prefix) as ckpt:
        assert {n: (ckpt.shape(n), ckpt.dtype(n)) for n in ckpt} == {
            n: (v.shape, v.dtype) for n, v in values.items()
        }


def test_write_accepts_tensors_scalars_lists_and_text(tmp_path):
    values = {
        "t": torch.arange(6, dtype=torch.float32).reshape(2, 3),
        "bf": torch.tensor([1.5, -2.0], dtype=torch.bfloat16),
        "scalar": 2.5,
        "list": [[1, 2], [3, 4]],
        "text": ["caf\u00e9", "x"],
        "big_endian": np.arange(3, dtype=">i4"),
    }
    got = read_tf1_checkpoint(write_tf1_checkpoint(tmp_path / "m", values))
    np.testing.assert_array_equal(got["t"], values["t"].numpy())
    assert got["bf"].dtype == ml_dtypes.bfloat16 and got["bf"].astype(np.float32).tolist() == [
        1.5,
        -2.0,
    ]
    assert got["scalar"].shape == () and got["scalar"].dtype == np.float64
    assert got["list"].dtype == np.int64 and got["list"].tolist() == [[1, 2], [3, 4]]
    assert got["text"].tolist() == ["caf\u00e9".encode(), b"x"]
    assert got["big_endian"].dtype == np.int32 and got["big_endian"].tolist() == [0, 1, 2]


def test_write_refuses_bad_input_and_leaves_no_file(tmp_path):
    with pytest.raises(TypeError, match="`tensors`"):
        write_tf1_checkpoint(tmp_path / "m", [1, 2])
    with pytest.raises(TypeError, match="tensors\\['when'\\]"):
        write_tf1_checkpoint(
            tmp_path / "m", {"when": np.array(["2020-01-01"], dtype="datetime64[D]")}
        )
    with pytest.raises(TypeError, match="tensors\\['mixed'\\]"):
        write_tf1_checkpoint(tmp_path / "m", {"mixed": np.array([b"a", 3], dtype=object)})
    with pytest.raises(ValueError, match="`tensors`.*non-empty str"):
        write_tf1_checkpoint(tmp_path / "m", {"": 1.0})
    with pytest.raises(TypeError, match="`tensors`.*str variable names"):
        write_tf1_checkpoint(tmp_path / "m", {3: 1.0})
    with pytest.raises(ValueError, match="`prefix`"):
        write_tf1_checkpoint(str(tmp_path) + "/", {"a": 1.0})
    with pytest.raises(TypeError, match="`max_to_keep`"):
        write_tf1_checkpoint(tmp_path / "m", {"a": 1.0}, max_to_keep=1.5)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    real = os.replace

    def fail_on_index(src, dst):
        if str(dst).endswith(".index"):
            raise OSError("disk full")
        real(src, dst)

    monkeypatch.setattr(os, "replace", fail_on_index)
    with pytest.raises(OSError, match="disk full"):
        write_tf1_checkpoint(tmp_path / "m", {"a": np.ones(3)})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "m.data-00000-of-00001"
    ]  # no index: no checkpoint


def test_state_file_as_the_saver_writes_it(tmp_path):
    for step in range(1, 5):
        write_tf1_checkpoint(
            tmp_path / f"model.ckpt-{step}", {"step": np.int64(step)}, max_to_keep=2
        )
    assert (tmp_path / "checkpoint").read_text() == (
        'model_checkpoint_path: "model.ckpt-4"\n'
        'all_model_checkpoint_paths: "model.ckpt-3"\n'
        'all_model_checkpoint_paths: "model.ckpt-4"\n'
    )
    assert sorted(p.name for p in tmp_path.glob("model.ckpt-*.index")) == [
        "model.ckpt-3.index",
        "model.ckpt-4.index",
    ]
    assert not list(tmp_path.glob("model.ckpt-[12].data*"))
    write_tf1_checkpoint(
        tmp_path / "model.ckpt-3", {"step": np.int64(33)}
    )  # rewritten: now the latest
    assert read_tf1_checkpoint(tmp_path)["step"] == 33
    assert (tmp_path / "checkpoint").read_text().count("model.ckpt-3") == 2  # latest + listed once
    write_tf1_checkpoint(tmp_path / "other", {"x": 1}, update_state=False)
    assert latest_tf1_checkpoint(tmp_path) == str(tmp_path / "model.ckpt-3")


def test_absolute_paths_in_the_state_file(tmp_path):
    (tmp_path / "sub").mkdir()
    write_tf1_checkpoint(tmp_path / "sub" / "m", {"x": 1}, update_state=False)
    (tmp_path / "checkpoint").write_text(f'model_checkpoint_path: "{tmp_path}/sub/m"\n')
    assert latest_tf1_checkpoint(tmp_path) == f"{tmp_path}/sub/m"
    assert read_tf1_checkpoint(tmp_path)["x"] == 1
    (tmp_path / "checkpoint").write_text("model_checkpoint_path: [garbage\n")
    with pytest.raises(ValueError, match="checkpoint' is damaged.*text proto"):
        latest_tf1_checkpoint(tmp_path)
    with pytest.raises(ValueError, match="checkpoint' is damaged"):
        write_tf1_checkpoint(tmp_path / "n", {"x": 1})


def test_an_oversized_state_file_is_refused_unread(tmp_path, monkeypatch):
    from rnnkit.interop import _checkpoint_state

    monkeypatch.setattr(_checkpoint_state, "MAX_STATE_BYTES", 64)
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "m"\n' * 3)
    with pytest.raises(ValueError, match="checkpoint' is damaged.*more than 64 bytes"):
        latest_tf1_checkpoint(tmp_path)


def test_dropped_checkpoints_lose_their_files_and_nothing_else(tmp_path):
    """max_to_keep deletes the index and data file it wrote for a dropped checkpoint, not files whose
    names only look alike (another prefix, a glob character in the name, a shard it did not write)."""
    write_tf1_checkpoint(tmp_path / "m[1]", {"x": 1}, max_to_keep=1)
    keep = [
        tmp_path / "m1.data-00000-of-00001",
        tmp_path / "m[1].data-0-of-1",
        tmp_path / "m[1]x",
        tmp_path / "m[1].data-00001-of-00002",
    ]
    for path in keep:
        path.write_bytes(b"not ours")
    write_tf1_checkpoint(tmp_path / "m2", {"x": 2}, max_to_keep=1)
    assert not (tmp_path / "m[1].data-00000-of-00001").exists()
    assert not (tmp_path / "m[1].index").exists()
    assert all(path.read_bytes() == b"not ours" for path in keep)


# -- damage -------------------------------------------------------------------------------------------------
def copy_fixture(name: str, tmp_path: Path) -> str:
    shutil.copytree(TF_PREFIXES[name].parent, tmp_path / name)
    return str(tmp_path / name / TF_PREFIXES[name].name)


def files_of(prefix: str) -> list[str]:
    folder = Path(prefix).parent
    return sorted(str(p) for p in folder.glob(Path(prefix).name + ".*"))


def damaged_or_same(prefix: str, want: dict) -> str:
    """Reading ``prefix`` gives ``want`` exactly or a ValueError naming one of its files."""
    try:
        got = read_tf1_checkpoint(prefix)
    except ValueError as e:
        assert any(repr(f) in str(e) for f in files_of(prefix)), str(e)
        return "damaged"
    assert_same(got, want)
    return "same"


def edit_index(prefix: str, edit) -> None:
    """Rewrite ``prefix.index`` with consistent checksums after ``edit(key, proto)``."""
    path = prefix + ".index"
    out = []
    for key, value in read_table(Path(path).read_bytes(), path):
        proto = (BundleHeaderProto if key == b"" else BundleEntryProto)()
        proto.ParseFromString(value)
        edit(key, proto)
        out.append((key, proto if isinstance(proto, bytes) else proto.SerializeToString()))
    Path(path).write_bytes(build_table(out))


def set_fields(target: str, **fields):
    def edit(key, proto):
        if key == target.encode():
            for name, value in fields.items():
                if name == "shape":
                    del proto.shape.dim[:]
                    for d in value:
                        proto.shape.dim.add(size=d)
                elif name == "version":
                    proto.version.min_consumer = value
                else:
                    setattr(proto, name, value)

    return edit


CRAFTED = {  # name: (fixture, edit, what the message says)
    "huge size": ("dtypes", set_fields("float32", size=1 << 62), "claims"),
    "huge shape and size": (
        "dtypes",
        set_fields("float32", shape=[1 << 58], size=1 << 60),
        "file has",
    ),
    "huge offset": ("dtypes", set_fields("float32", offset=1 << 62), "file has"),
    "huge string count": ("dtypes", set_fields("string", shape=[1 << 40]), "claims"),
    "huge empty shape": (
        "dtypes",
        set_fields("empty/float32", shape=[0, 1 << 62]),
        "invalid shape",
    ),
    "negative dim": ("dtypes", set_fields("float32", shape=[-3, -4]), "invalid shape"),
    "huge rank": ("dtypes", set_fields("empty/float32", shape=[0] + [1] * 40), "rank"),
    "unknown dtype": ("dtypes", set_fields("float32", dtype=99), "unsupported dtype"),
    "shard out of range": ("dtypes", set_fields("float32", shard_id=7), "shard 7"),
    "many shards": ("dtypes", set_fields("", num_shards=10**9), "data file unreadable"),
    "newer version": ("dtypes", set_fields("", version=5), "newer reader"),
    "bad endianness": ("dtypes", set_fields("", endianness=2), "endianness 2"),
    "wrong checksum": ("dtypes", set_fields("int64", crc32c=12345), "checksum mismatch"),
    "overlapping slices": (
        "partitioned",
        lambda k, p: p.slices[1].extent[0].__setattr__("start", 2) if k == b"emb" else None,
        "slice",
    ),
    "missing slice": (
        "partitioned",
        lambda k, p: p.slices.add().extent.add() if k == b"emb" else None,
        "slice",
    ),
    "uncovered": ("partitioned", lambda k, p: p.slices.pop() if k == b"ids" else None, "slice"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_damage_is_refused_without_large_allocations(case, tmp_path):
    import tracemalloc

    fixture, edit, message = CRAFTED[case]
    prefix = copy_fixture(fixture, tmp_path)
    edit_index(prefix, edit)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message):
            read_tf1_checkpoint(prefix)
        assert tracemalloc.get_traced_memory()[1] < 8 << 20  # nothing like the claimed sizes
    finally:
        tracemalloc.stop()


def test_an_entry_that_does_not_parse_is_named(tmp_path):
    prefix = copy_fixture("dtypes", tmp_path)
    path = prefix + ".index"
    items = read_table(Path(path).read_bytes(), path)
    items = [(k, b"\xff\xff\xff" if k == b"int8" else v) for k, v in items]
    Path(path).write_bytes(build_table(items))
    with pytest.raises(ValueError, match="'int8'.*does not parse"):
        read_tf1_checkpoint(prefix)


def test_each_kind_of_damage_has_its_message(tmp_path):
    prefix = copy_fixture("dtypes", tmp_path)
    index, data = Path(prefix + ".index"), Path(prefix + ".data-00000-of-00001")
    good_index, good_data = index.read_bytes(), data.read_bytes()
    index.write_bytes(good_index[:-1] + b"\x00")
    with pytest.raises(ValueError, match="wrong magic number"):
        read_tf1_checkpoint(prefix)
    index.write_bytes(good_index[:20])
    with pytest.raises(ValueError, match="too short"):
        read_tf1_checkpoint(prefix)
    index.write_bytes(bytes([good_index[0] ^ 1]) + good_index[1:])
    with pytest.raises(ValueError, match="checksum mismatch in the data block 0"):
        read_tf1_checkpoint(prefix)
    index.write_bytes(good_index)
    data.write_bytes(good_data[:-10])
    with pytest.raises(
        ValueError, match=f"{data.name}.*'uint64'.*but the file has {len(good_data) - 10}"
    ):
        read_tf1_checkpoint(prefix)
    data.write_bytes(good_data[:100] + bytes([good_data[100] ^ 4]) + good_data[101:])
    with pytest.raises(ValueError, match=f"{data.name}.*tensor .*checksum mismatch"):
        read_tf1_checkpoint(prefix)
    data.unlink()
    with pytest.raises(ValueError, match=f"{data.name}.*data file unreadable"):
        open_tf1_checkpoint(prefix)
    index.unlink()
    with pytest.raises(ValueError, match="no file"):
        open_tf1_checkpoint(prefix)
    # something that is not a regular file is named as such (it said "no file"), and never opened
    index.mkdir()
    with pytest.raises(ValueError, match=f"{index.name}' is not a regular file"):
        open_tf1_checkpoint(prefix)
    index.rmdir()
    os.mkfifo(index)  # opening a FIFO for reading would block
    with pytest.raises(ValueError, match=f"{index.name}' is not a regular file"):
        open_tf1_checkpoint(prefix)
    index.unlink()
    Path(prefix).write_bytes(b"\x00" * 16)  # the older V1 format: one file, no .index
    with pytest.raises(ValueError, match="a TF V1 checkpoint. only V2 is supported"):
        open_tf1_checkpoint(prefix)


@pytest.mark.parametrize("name", ["dtypes", "partitioned"])
def test_every_truncation_and_byte_flip_is_caught(name, tmp_path):
    prefix = copy_fixture(name, tmp_path)
    want = expected(name)
    outcomes = {"damaged": 0, "same": 0}
    for file in files_of(prefix):
        good = Path(file).read_bytes()
        fd = os.open(file, os.O_RDWR)  # edited in place: reopening per case is slow on some disks
        try:
            for n in range(len(good)):  # every truncation: every section boundary and all between
                os.ftruncate(fd, n)
                assert damaged_or_same(prefix, want) == "damaged", (file, n)
                os.pwrite(fd, good[n:], n)
            for n in range(len(good)):
                os.pwrite(fd, bytes([good[n] ^ 0xFF]), n)
                outcomes[damaged_or_same(prefix, want)] += 1
                os.pwrite(fd, good[n : n + 1], n)
        finally:
            os.close(fd)
        assert Path(file).read_bytes() == good
    # Only the padding between the footer's block handles and its magic number is never read.
    assert outcomes["same"] <= 40 - 6, outcomes


@pytest.mark.parametrize("seed", range(40))
def test_random_corruption_never_crashes_or_lies(seed, tmp_path):
    rng = np.random.default_rng(seed)
    name = ["dtypes", "partitioned", "rnn_adam"][seed % 3]
    prefix = copy_fixture(name, tmp_path)
    want = expected(name)
    for file in files_of(prefix):
        raw = bytearray(Path(file).read_bytes())
        for pos in rng.integers(0, len(raw), size=rng.integers(1, 6)):
            raw[pos] ^= 1 << int(rng.integers(0, 8))
        if rng.random() < 0.3:
            raw = raw[: rng.integers(0, len(raw))]
        if rng.random() < 0.2:
            raw += rng.bytes(int(rng.integers(1, 64)))
        Path(file).write_bytes(bytes(raw))
    damaged_or_same(prefix, want)


def test_big_endian_bundles_are_byte_swapped(tmp_path):
    values = {"f": np.arange(6, dtype=np.float32).reshape(2, 3), "c": np.array([1 + 2j], np.complex64),
              "s": np.array([b"ab", b""], dtype=object)}  # fmt: skip
    header = BundleHeaderProto(num_shards=1, endianness=1)
    header.version.producer = 1
    items, data = [(b"", header.SerializeToString())], b""
    for name in sorted(values):
        array = values[name]
        if array.dtype == object:
            lengths = [len(v) for v in array]
            crc = crc32c(b"".join(struct.pack(">I", n) for n in lengths))
            raw_check = struct.pack(">I", mask(crc))
            payload = bytes(lengths) + raw_check + b"".join(array)
            crc = crc32c(b"".join(array), crc32c(raw_check, crc))
            dtype = 7
        else:
            payload = array.astype(array.dtype.newbyteorder(">")).tobytes()
            crc, dtype = crc32c(payload), {"f": 1, "c": 8}[name]
        entry = BundleEntryProto(dtype=dtype, offset=len(data), size=len(payload), crc32c=mask(crc))
        for d in array.shape:
            entry.shape.dim.add(size=d)
        items.append((name.encode(), entry.SerializeToString()))
        data += payload
    (tmp_path / "be.index").write_bytes(build_table(items))
    (tmp_path / "be.data-00000-of-00001").write_bytes(data)
    assert_same(read_tf1_checkpoint(tmp_path / "be"), values)


def test_snappy_compressed_index_blocks(tmp_path):
    cramjam = pytest.importorskip("cramjam")
    from rnnkit.interop._sstable import _BlockBuilder

    prefix = copy_fixture("dtypes", tmp_path)
    path = prefix + ".index"
    items = read_table(Path(path).read_bytes(), path)

    def table(compress):
        out = bytearray()

        def block(entries, interval=16):
            builder = _BlockBuilder(interval)
            for k, v in entries:
                builder.add(k, v)
            contents = compress(builder.finish()) + b"\x01"
            handle = put_varint(len(out)) + put_varint(len(contents) - 1)
            out.extend(contents + struct.pack("<I", mask(crc32c(contents))))
            return handle

        data = block(items)
        meta = block([])
        index = block([(items[-1][0] + b"\x00", data)], interval=1)
        out.extend((meta + index).ljust(40, b"\x00") + struct.pack("<Q", 0xDB4775248B80FB57))
        return bytes(out)

    Path(path).write_bytes(table(lambda raw: bytes(cramjam.snappy.compress_raw(raw))))
    assert_same(read_tf1_checkpoint(prefix), expected("dtypes"))
    Path(path).write_bytes(table(lambda raw: b"\xff\xff\xff\x7f" + raw[:10]))  # claims 256 MiB
    with pytest.raises(ValueError, match="bad snappy length header in the metaindex block"):
        read_tf1_checkpoint(prefix)
    Path(path).write_bytes(table(lambda raw: put_varint(len(raw)) + b"\xff" * 20))
    with pytest.raises(ValueError, match="snappy"):
        read_tf1_checkpoint(prefix)


# -- real TensorFlow, when it is installed --------------------------------------------------------------
def test_tensorflow_restores_an_rnnkit_cell_into_dynamic_rnn(tmp_path):
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    tf = pytest.importorskip("tensorflow")
    tf1, rc = tf.compat.v1, tf.compat.v1.nn.rnn_cell
    torch.manual_seed(1)
    cell = rnnkit.MultiRNNCell([rnnkit.BasicLSTMCell(4), rnnkit.GRUCell(3), rnnkit.BasicRNNCell(5)])
    x = torch.randn(3, 6, 2)
    lengths = torch.tensor([6, 2, 4])
    with torch.no_grad():
        ours, _ = rnnkit.dynamic_rnn(cell, x, sequence_length=lengths)
    prefix = write_tf1_checkpoint(tmp_path / "model.ckpt-1", tf1_variables(cell, scope="rnn"))
    with tf.Graph().as_default(), tf1.Session() as sess:
        tf_cell = rc.MultiRNNCell([rc.BasicLSTMCell(4), rc.GRUCell(3), rc.BasicRNNCell(5)])
        out, _ = tf1.nn.dynamic_rnn(
            tf_cell, x.numpy(), sequence_length=lengths.numpy(), dtype=tf.float32
        )
        tf1.train.Saver().restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
        theirs = sess.run(out)
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=2e-5, atol=2e-6)
    reader = tf.train.load_checkpoint(prefix)
    for name, value in tf1_variables(cell).items():
        assert reader.get_tensor(name).tobytes() == value.tobytes()


def test_an_oversized_index_is_refused_unread(tmp_path, monkeypatch):
    """A 64 GiB sparse .index was read whole (MemoryError); the size is checked first."""
    import shutil

    from rnnkit.interop import tf1_checkpoint

    shutil.copytree(FIX / "dtypes", tmp_path / "c")
    index = tmp_path / "c" / "model.ckpt.index"
    with open(index, "r+b") as f:
        f.truncate(64 << 30)  # sparse: no disk used
    with pytest.raises(ValueError, match="model.ckpt.index' is damaged.*more than"):
        open_tf1_checkpoint(tmp_path / "c" / "model.ckpt")
    monkeypatch.setattr(tf1_checkpoint, "MAX_INDEX_BYTES", 64)  # under it, the read is bounded too
    with pytest.raises(ValueError, match="is damaged"):
        open_tf1_checkpoint(FIX / "dtypes" / "model.ckpt")
