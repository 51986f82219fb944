"""rnnkit.compat.v1's export table: ``tf``, its namespaces and ``SUPPORTED`` come from each compat
module's ``__all__`` (the TensorFlow names it provides at the namespace it mirrors) through
``_EXPORTS``; a public function or class a module defines is exported or named here as a helper."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

import rnnkit.compat.v1 as tf
from rnnkit.compat.v1 import contrib_layers, control_flow_ops, init_ops, math_ops
from rnnkit.compat.v1.errors import Namespace

# modules whose package attribute is a tf namespace of the same name (tf.rnn_cell, tf.summary)
rnn_cell = importlib.import_module("rnnkit.compat.v1.rnn_cell")
summary = importlib.import_module("rnnkit.compat.v1.summary")

# Public functions and classes of compat modules that are rnnkit's helpers, not TensorFlow names:
# shared between the compat modules, or the types of what TF functions return.
INTERNAL = {
    "_install": {"UnsupportedImport", "installed", "install", "uninstall", "qualname_of"},
    "array_ops": {"rows_kept"},
    "candidate_sampling": {"sampled_logits"},
    "control_flow_ops": {
        "flatten",
        "pack",
        "structure_error",
        "to_tensors",
        "Body",
        "trace",
        "spec_of",
        "outputs_of",
        "most_specific_compatible",
        "SessionNode",
    },
    "data": {"Iterator_"},  # exported as tf.data.Iterator
    "device_lib": {"DeviceAttributes"},
    "dtypes": {"infer_dtype", "check_allowed"},
    "errors": {"Namespace", "unsupported"},
    "gradients": {"GradientsNode"},
    "init_ops": {"compute_fans", "as_initializer"},
    "ops": {
        "get_default_session",  # tf.get_default_session is session's
        "session_for",
        "StructNode",
        "run_kernel",
        "kernel_only",
        "requiring_grad",
        "run_steps",
        "leaf",
        "RowGather",
        "IndexedSlices",
        "sparse_parts",
        "stacked_rows",
        "indexed_slices_value",
        "to_numpy",
        "shape_list",
        "cast_tensor",
        "unsupported_option",
    },
    "random_ops": {"RandomTensor", "truncated"},
    "rnn_cell": {
        "step_order",
        "run_order",
        "walk_variables",
        "state_leaf",
        "history_leaves",
        "user_cell_rnn",
        "user_cell_bidirectional",
        "batch_from_state",
        "state_leaves",
        "core_node",
        "mark_alignment_histories",
    },
    "seq2seq.decoder": {"Fragment", "LoopNode"},
    "strided_slice": {"slice_with_tensors"},
    "train.checkpoint_utils": {"CheckpointReader"},
    "train.input": {"FIFOQueue"},
    "train.meta_graph": {"MetaGraph"},
    "tensor_shape": {"shape_text"},
    "variables": {"variables_by_name", "unique_variable_name"},
}
# modules of helpers only (no TensorFlow names)
HELPER_MODULES = {"cell_shapes", "variable_store"}
# modules whose names are served outside the tf namespaces: install() serves input_data as the
# module tensorflow.examples.tutorials.mnist.input_data, device_lib as
# tensorflow.python.client.device_lib (tf._device_lib) and tf_protos's two tables as
# tensorflow.core.framework.variable_pb2 and tensorflow.core.protobuf.rewriter_config_pb2
SERVED_AS_MODULES = {"input_data", "device_lib", "tf_protos"}


def _short(module: types.ModuleType) -> str:
    return module.__name__.removeprefix("rnnkit.compat.v1.")


def _modules() -> list[types.ModuleType]:
    """Every compat module with TensorFlow names: no private ones (``_kernels``) or helpers."""
    out = []
    for info in pkgutil.walk_packages(tf.__path__, "rnnkit.compat.v1."):
        module = importlib.import_module(info.name)
        short = _short(module)
        if any(p.startswith("_") for p in short.split(".")) or short in HELPER_MODULES:
            continue
        out.append(module)
    return out


def _resolve(path: str):
    obj = tf
    for part in path.split(".") if path else ():
        obj = getattr(obj, part)
    return obj


def _tf_name(attr: str) -> str:
    return attr[:-1] if attr.endswith("_") else attr


def _mirrors() -> dict[str, list[str]]:
    """Module -> the namespace paths its ``__all__`` goes to ("" is tf): where _EXPORTS takes the
    whole module, or for a module inside a package (train/, seq2seq/), where it takes the package."""
    out: dict[str, list[str]] = {}
    for path, sources in tf._EXPORTS.items():
        for source in sources:
            if isinstance(source, types.ModuleType):
                out.setdefault(source.__name__, []).append(path)
    for module in _modules():
        package = module.__name__.rpartition(".")[0]
        if module.__name__ not in out and package in out:
            out[module.__name__] = out[package]
    return out


def _walk(prefix: str, names: dict) -> dict[str, object]:
    """Every dotted name reachable from ``names`` through namespaces -> its object."""
    out = {}
    for name, obj in names.items():
        if name.startswith("_"):
            continue
        out[prefix + name] = obj
        if isinstance(obj, Namespace):
            out.update(_walk(f"{prefix}{name}.", vars(obj)))
    return out


def _exported() -> dict[str, object]:
    return _walk("", {n: getattr(tf, n) for n in tf.__all__})


def test_every_module_declares_all_and_is_in_the_table():
    mirrors = _mirrors()
    for module in _modules():
        short = _short(module)
        assert isinstance(getattr(module, "__all__", None), list), f"{short} has no __all__"
        if short not in SERVED_AS_MODULES:
            assert module.__name__ in mirrors, (
                f"{short}'s __all__ is exported nowhere: add it to _EXPORTS in "
                "rnnkit/compat/v1/__init__.py"
            )


def test_each_all_name_resolves_at_its_namespace_to_the_modules_object():
    mirrors = _mirrors()
    checked = 0
    for module in _modules():
        for path in mirrors.get(module.__name__, []):
            for attr in module.__all__:
                name = f"{path}.{_tf_name(attr)}".lstrip(".")
                assert _resolve(name) is getattr(module, attr), f"tf.{name} is not {attr}"
                checked += 1
    from rnnkit.compat.v1 import device_lib

    for attr in device_lib.__all__:
        assert getattr(tf._device_lib, attr) is getattr(device_lib, attr)
    assert checked > 400


def test_every_public_function_or_class_is_exported_or_a_named_helper():
    reachable = {id(obj) for obj in _exported().values()}
    reachable |= {id(obj) for obj in vars(tf._device_lib).values()}
    from rnnkit.compat.v1 import input_data

    reachable |= {id(getattr(input_data, n)) for n in input_data.__all__}
    drift = []
    for module in _modules():
        short = _short(module)
        helpers = INTERNAL.get(short, set())
        assert not helpers & set(module.__all__), f"{short}: a name both in __all__ and INTERNAL"
        for name, obj in vars(module).items():
            if name.startswith("_") or not callable(obj) or isinstance(obj, types.ModuleType):
                continue
            if getattr(obj, "__module__", None) != module.__name__ or name in helpers:
                continue
            if id(obj) not in reachable:
                drift.append(f"{short}.{name}")
    assert not drift, (
        f"defined but exported nowhere: {drift}; a TensorFlow name goes in its module's __all__ "
        "(or in _EXPORTS for another namespace), a helper in INTERNAL here"
    )


def test_supported_is_what_the_namespaces_export():
    exported = {
        n for n in _exported() if n.rpartition(".")[2] not in ("UnsupportedError", "SUPPORTED")
    }
    assert set(tf.SUPPORTED) == exported | {"Summary", "Summary.Value"}
    assert list(tf.SUPPORTED) == sorted(set(tf.SUPPORTED))
    for name in ("nn.rnn_cell.LSTMCell", "contrib.rnn.LSTMBlockCell", "train.SummaryWriter"):
        assert name in tf.SUPPORTED
    for name in ("tuple", "math.abs", "errors.OutOfRangeError", "app.flags.FLAGS", "AUTO_REUSE"):
        assert name in tf.SUPPORTED
    # rnnkit's own names and the module's leftovers are not TensorFlow's
    for name in ("UnsupportedError", "SUPPORTED", "install", "rnn_cell.LSTMCell", "math_ops"):
        assert name not in tf.SUPPORTED


def test_all_is_tf_names_and_namespaces():
    assert set(tf.__all__) == set(tf._TOP) | {"SUPPORTED"}
    for name in tf.__all__:
        assert hasattr(tf, name), name
    for name in ("nn", "contrib", "errors", "Session", "tuple", "abs", "UnsupportedError"):
        assert name in tf.__all__
    assert "install" not in tf.__all__ and "rnn_cell" not in tf.__all__


def test_renamed_and_shared_exports():
    # a trailing underscore keeps a builtin usable in its module; TensorFlow's name drops it
    assert tf.abs is math_ops.abs_ and tf.math.abs is math_ops.abs_
    assert tf.tuple is control_flow_ops.tuple_ and tf.range is math_ops.range_
    # names TF has at tf but not at tf.math (TensorFlow 2.21's tf.compat.v1.math lacks them)
    for name in ("cast", "matmul", "clip_by_value", "range", "to_float"):
        assert hasattr(tf, name)
        with pytest.raises(tf.UnsupportedError, match=f"tf.math.{name}`"):
            getattr(tf.math, name)
    assert tf.math.reduce_logsumexp is tf.reduce_logsumexp
    assert tf.train.SummaryWriter is summary.FileWriter
    assert tf.losses.get_regularization_loss is contrib_layers.get_regularization_loss
    assert tf.contrib.rnn.LSTMBlockCell is rnn_cell.LSTMBlockCell
    with pytest.raises(tf.UnsupportedError):
        tf.nn.rnn_cell.LSTMBlockCell  # noqa: B018 - contrib.rnn only, as in TF
    assert tf.initializers.zeros is init_ops.zeros_initializer
    # TF1's tf.initializers.global_variables() and friends are the initializer ops
    assert tf.initializers.global_variables is tf.global_variables_initializer
    assert tf.initializers.local_variables is tf.local_variables_initializer
    assert tf.initializers.variables is tf.variables_initializer
    assert tf.initializers.tables_initializer is tf.tables_initializer
    assert tf.keras.initializers.Initializer is init_ops.Initializer
    assert tf.contrib.learn.ModeKeys.TRAIN == "train"
    # one namespace object at two paths
    assert tf.app.flags is tf.flags and tf.contrib.framework.nest is tf.nest
    assert tf.rnn_cell is tf.nn.rnn_cell
    # two namespaces of the same names name their own path in what they refuse
    assert tf.nn.seq2seq is not tf.contrib.legacy_seq2seq
    with pytest.raises(tf.UnsupportedError, match="tf.nn.seq2seq.nothing"):
        tf.nn.seq2seq.nothing  # noqa: B018


def test_two_objects_under_one_name_stop_the_import(monkeypatch):
    clash = (math_ops, {"relu": "tanh"})
    monkeypatch.setitem(tf._EXPORTS, "nn", (*tf._EXPORTS["nn"], clash))
    with pytest.raises(ImportError, match=r"tf\.nn\.relu"):
        tf._build()
    monkeypatch.undo()
    assert tf._build().keys() == tf._TOP.keys()
