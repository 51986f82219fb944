"""``tensorflow.core.framework.variable_pb2`` and ``tensorflow.core.protobuf.rewriter_config_pb2``
through ``install()``: the messages serialize to TensorFlow's bytes (fixture made with real TF by
``tools/make_tf1_proto_fixtures.py``), parse them back, and keep fields they do not declare."""

from __future__ import annotations

import json
import pathlib

import pytest

from rnnkit.compat.v1._install import install, uninstall

FIX = json.loads((pathlib.Path(__file__).parents[1] / "fixtures" / "tf1_protos.json").read_text())


@pytest.fixture()
def pb2():
    install()
    try:
        from tensorflow.core.framework import variable_pb2
        from tensorflow.core.protobuf import rewriter_config_pb2

        yield variable_pb2, rewriter_config_pb2
    finally:
        uninstall()


def test_variable_def_serializes_as_tensorflows(pb2) -> None:
    variable_pb2, _ = pb2
    case = FIX["variable_def"]
    fields = {
        k: getattr(variable_pb2, v) if isinstance(v, str) and v.isupper() else v
        for k, v in case["fields"].items()
    }
    v = variable_pb2.VariableDef(**fields)
    v.save_slice_info_def.full_name = case["slice"]["full_name"]
    for key in ("full_shape", "var_offset", "var_shape"):
        getattr(v.save_slice_info_def, key).extend(case["slice"][key])
    assert v.SerializeToString().hex() == case["hex"]
    back = variable_pb2.VariableDef()
    back.ParseFromString(bytes.fromhex(case["hex"]))
    assert back.snapshot_name == "Model/w/read:0"
    assert list(back.save_slice_info_def.var_offset) == [5, 0]
    assert back.DESCRIPTOR.full_name == "tensorflow.VariableDef"
    for name, number in FIX["variable_enums"].items():
        assert getattr(variable_pb2, name) == number, name


def test_rewriter_config_serializes_as_tensorflows(pb2) -> None:
    _, rewriter_config_pb2 = pb2
    config = rewriter_config_pb2.RewriterConfig
    r = config()
    r.optimizers.append("autoparallel")
    r.auto_parallel.enable = True
    r.auto_parallel.num_replicas = 2
    for key, value in FIX["rewriter_config"]["fields"].items():
        setattr(
            r, key, getattr(config, value) if isinstance(value, str) and value.isupper() else value
        )
    assert r.SerializeToString().hex() == FIX["rewriter_config"]["hex"]
    for name, number in FIX["rewriter_enums"].items():
        assert getattr(config, name) == number, name


def test_rewriter_config_keeps_the_fields_it_does_not_declare(pb2) -> None:
    """The scoped allocator's options are not declared: parsed, they serialize back unchanged
    (after the declared fields, as protobuf writes unknown fields)."""
    _, rewriter_config_pb2 = pb2
    data = bytes.fromhex(FIX["rewriter_config_with_scoped_allocator"])
    r = rewriter_config_pb2.RewriterConfig()
    r.ParseFromString(data)
    assert r.auto_parallel.num_replicas == 2 and list(r.optimizers) == ["autoparallel"]
    unknown = b"\x82\x01\x12\x0a\x10CollectiveReduce"  # field 16: {enable_op: "CollectiveReduce"}
    assert unknown in data
    assert r.SerializeToString() == data.replace(unknown, b"") + unknown


def test_other_core_modules_stay_outside_the_subset() -> None:
    install()
    try:
        with pytest.raises(ImportError, match="config_pb2|not supported|subset"):
            from tensorflow.core.protobuf import config_pb2  # noqa: F401
    finally:
        uninstall()
