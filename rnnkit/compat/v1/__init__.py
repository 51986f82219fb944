"""A TensorFlow 1.x-style graph-and-session layer over rnnkit: ``import rnnkit.compat.v1 as tf``.

Building a graph creates lazy nodes (an op function and its input nodes); ``Session.run`` evaluates
the fetched nodes once each into torch tensors and returns numpy arrays. Variables (cell weights
included) hold their values per session, set by ``global_variables_initializer()``; ``tf.gradients``
and the optimizers differentiate with torch autograd over the same evaluation. The RNN functions run
rnnkit's own cells and runners: a compat cell wraps one ``rnnkit.cells`` cell.

Modules mirror TensorFlow's namespaces: ``ops`` (graphs, tensors, scopes), ``session``, ``variables``,
``init_ops``, ``random_ops``, ``math_ops``, ``array_ops``, ``gradients``, ``nn``, ``rnn_cell``, ``rnn``,
``layers``, ``train/`` (one optimizer per module, ``saver``, ``input`` producers and queue runners,
``coordinator``, ``supervisor``), ``keras_datasets``, ``strided_slice``, ``check_ops``,
``legacy_seq2seq``, ``seq2seq/``, ``seq2seq_loss`` (``tf.contrib``), ``flags``, ``app``, ``tf_logging``
(``tf.logging``), ``gfile``, ``session_config`` (``tf.ConfigProto``), ``control_flow_ops``
(``cond``, ``case``, ``while_loop``, ``TensorArray``, ``tuple``), ``functional_ops`` (``map_fn``,
``scan``, ``foldl``, ``foldr``), ``data`` (``tf.data``), ``metrics`` (``tf.metrics``), ``nest``
(``tf.nest``), ``candidate_sampling`` (``tf.nn.sampled_softmax_loss``), ``conv_ops``
(``tf.nn.conv2d``, ``conv1d``, ``max_pool``, ``avg_pool``). Each module's ``__all__``
lists the TensorFlow names it provides at the namespace it mirrors; the export table ``_EXPORTS``
below says which modules feed which namespace (``math_ops`` feeds ``tf`` and ``tf.math``), and
``tf``, its namespaces and ``SUPPORTED`` are built from it. Anything outside the subset raises
:class:`UnsupportedError` naming it (``SUPPORTED`` lists the subset).
``install()`` makes ``import tensorflow`` (and ``tensorflow.contrib.*``, ``tensorflow.compat.v1``, ...)
resolve to this layer so that a TF1 program runs unmodified (``python -m rnnkit tf1 SCRIPT`` does
that for a script); ``uninstall()`` undoes it.

Example::

    import rnnkit.compat.v1 as tf
    X = tf.placeholder(tf.float32, [None, 3])
    W = tf.Variable(tf.random_normal([3, 5]))
    loss = tf.reduce_mean(tf.square(tf.matmul(X, W)))
    step = tf.train.AdamOptimizer(0.01).minimize(loss)
    with tf.Session() as sess:
        tf.global_variables_initializer().run()
        sess.run(step, feed_dict={X: [[0, 1, 2]]})
"""

from __future__ import annotations

import types as _types
from typing import Any

from rnnkit.compat.v1 import app as _app
from rnnkit.compat.v1 import array_ops as _array
from rnnkit.compat.v1 import candidate_sampling as _sampling
from rnnkit.compat.v1 import check_ops as _check
from rnnkit.compat.v1 import contrib_layers as _contrib_layers
from rnnkit.compat.v1 import contrib_slim as _contrib_slim
from rnnkit.compat.v1 import control_flow_ops as _cf
from rnnkit.compat.v1 import conv_ops as _conv
from rnnkit.compat.v1 import data as _data
from rnnkit.compat.v1 import device_lib as _device_lib_module
from rnnkit.compat.v1 import dtypes as _dtypes
from rnnkit.compat.v1 import errors as _errors
from rnnkit.compat.v1 import flags as _flags
from rnnkit.compat.v1 import functional_ops as _functional
from rnnkit.compat.v1 import gfile as _gfile
from rnnkit.compat.v1 import gradients as _grad
from rnnkit.compat.v1 import init_ops as _init
from rnnkit.compat.v1 import keras_datasets as _mnist
from rnnkit.compat.v1 import layers as _layers
from rnnkit.compat.v1 import legacy_seq2seq as _seq2seq
from rnnkit.compat.v1 import logging_ops as _logging_ops
from rnnkit.compat.v1 import losses as _losses
from rnnkit.compat.v1 import math_ops as _math
from rnnkit.compat.v1 import metrics as _metrics
from rnnkit.compat.v1 import nest as _nest
from rnnkit.compat.v1 import nn as _nn
from rnnkit.compat.v1 import ops as _ops
from rnnkit.compat.v1 import random_ops as _random
from rnnkit.compat.v1 import resource_ops as _resource_ops
from rnnkit.compat.v1 import rnn as _rnn
from rnnkit.compat.v1 import rnn_cell as _cells
from rnnkit.compat.v1 import seq2seq as _contrib_seq2seq
from rnnkit.compat.v1 import seq2seq_loss as _seq2seq_loss
from rnnkit.compat.v1 import session as _session
from rnnkit.compat.v1 import session_config as _session_config
from rnnkit.compat.v1 import slice_ops as _slice_ops
from rnnkit.compat.v1 import strided_slice as _strided
from rnnkit.compat.v1 import summary as _summary
from rnnkit.compat.v1 import tensor_shape as _tensor_shape
from rnnkit.compat.v1 import tf_logging as _logging
from rnnkit.compat.v1 import tf_protos as _tf_protos
from rnnkit.compat.v1 import train as _train
from rnnkit.compat.v1 import variables as _vars
from rnnkit.compat.v1._install import install, uninstall
from rnnkit.compat.v1.errors import Namespace as _Namespace
from rnnkit.compat.v1.errors import UnsupportedError, unsupported
from rnnkit.compat.v1.seq2seq import dense as _dense

# math_ops names TensorFlow has as tf.NAME but not as tf.math.NAME
_NOT_IN_TF_MATH = ("cast", "to_float", "to_int32", "to_int64", "matmul", "clip_by_value", "range_")
_INITIALIZERS = ("zeros", "ones", "constant", "random_normal", "random_uniform", "truncated_normal")
_INITIALIZERS += ("variance_scaling", "glorot_uniform", "glorot_normal", "orthogonal", "identity")
_INITIALIZERS += (
    "uniform_unit_scaling",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
)

# The export table: namespace path ("" is tf itself) -> where its names come from. A module gives
# every name in its ``__all__`` (the names of the namespace it mirrors); (module, names) gives some
# of a module's names at another namespace, as attributes or {TensorFlow name: attribute}; a dict
# gives constants. An attribute's trailing underscore (``abs_``, ``tuple_``) keeps a Python builtin
# usable in its module; the TensorFlow name drops it. Parent namespaces (``tf.contrib``) are made
# for their children.
_EXPORTS: dict[str, tuple[Any, ...]] = {
    "": (
        _ops,
        _vars,
        _init,
        _random,
        _math,
        _array,
        _cf,
        _functional,
        _grad,
        _strided,
        _check,
        _logging_ops,
        _slice_ops,
        _resource_ops,
        _dtypes,
        _tensor_shape,
        _session,
        _session_config,
        (_errors, ("UnsupportedError",)),
    ),
    "errors": (_errors,),
    "math": ((_math, [n for n in _math.__all__ if n not in _NOT_IN_TF_MATH]),),
    "nn": (_nn, _rnn, _sampling, _conv),
    "nn.rnn_cell": (_cells,),
    "nn.seq2seq": (_seq2seq,),  # TensorFlow 0.x's place of legacy_seq2seq
    "layers": (_layers, _dense),
    "losses": (
        _losses,
        (_contrib_layers, ("get_regularization_loss", "get_regularization_losses")),
    ),
    # tf.train.SummaryWriter: TensorFlow 0.x's name of tf.summary.FileWriter
    "train": (_train, (_summary, {"SummaryWriter": "FileWriter"})),
    "metrics": (_metrics,),
    "nest": (_nest,),
    "summary": (_summary,),
    "data": (_data,),
    "flags": (_flags,),
    "app": (_app,),
    "logging": (_logging,),
    "gfile": (_gfile,),
    "initializers": (
        (_init, {n: f"{n}_initializer" for n in _INITIALIZERS}),
        # TF1's tf.initializers.global_variables() and friends: the ops that run initializers
        (
            _vars,
            {
                "global_variables": "global_variables_initializer",
                "local_variables": "local_variables_initializer",
                "variables": "variables_initializer",
            },
        ),
        (_resource_ops, ("tables_initializer",)),
    ),
    "keras.datasets.mnist": (_mnist,),
    "keras.initializers": (
        (
            _init,
            {n: f"{n}_initializer" for n in ("glorot_uniform", "glorot_normal", "zeros", "ones")},
        ),
        (_init, {n: f"{n}_initializer" for n in ("he_normal", "he_uniform", "lecun_normal")}),
        (_init, {n: f"{n}_initializer" for n in ("lecun_uniform", "orthogonal", "identity")}),
        (_init, ("Initializer",)),
    ),
    "contrib.rnn": (
        _cells,
        (_cells, ("LSTMBlockCell", "NASCell")),
        (_rnn, ("static_rnn", "static_bidirectional_rnn")),
    ),
    "contrib.rnn.core_rnn_cell": (_cells,),  # TensorFlow 1.0-1.1's module of the cells
    "contrib.layers": (_contrib_layers,),
    "contrib.slim.model_analyzer": (_contrib_slim,),
    "contrib.learn.ModeKeys": ({"TRAIN": "train", "EVAL": "eval", "INFER": "infer"},),
    "contrib.legacy_seq2seq": (_seq2seq,),
    "contrib.seq2seq": (_contrib_seq2seq, _seq2seq_loss),
    "contrib.framework": (
        (
            _train,
            (
                "get_or_create_global_step",
                "get_global_step",
                "create_global_step",
                "list_variables",
                "load_checkpoint",
                "load_variable",
            ),
        ),
    ),
}
# a namespace reachable at a second path: path -> the path of the namespace object it is
_ALIASES = {"app.flags": "flags", "contrib.framework.nest": "nest"}
# rnnkit's own names among tf's, left out of SUPPORTED
_NOT_TF = frozenset({"UnsupportedError", "SUPPORTED"})


def _names_of(source: Any) -> dict[str, Any]:
    """{TensorFlow name: object} of one source of ``_EXPORTS``."""
    if isinstance(source, dict):
        return dict(source)
    module, names = (source, None) if isinstance(source, _types.ModuleType) else source
    if not isinstance(names, dict):
        attrs = module.__all__ if names is None else names
        names = {n[:-1] if n.endswith("_") else n: n for n in attrs}
    return {name: getattr(module, attr) for name, attr in names.items()}


def _add(names: dict[str, Any], path: str, name: str, obj: Any) -> None:
    if names.setdefault(name, obj) is not obj:
        raise ImportError(f"tf.{path}.{name}: the export table gives two objects this name")


def _build() -> dict[str, Any]:
    """tf's names (its namespaces included) from ``_EXPORTS`` and ``_ALIASES``."""
    members: dict[str, dict[str, Any]] = {}
    for path in [*_EXPORTS, *_ALIASES]:
        parts = path.split(".") if path else []
        for i, _ in enumerate(parts):  # the parents
            members.setdefault(".".join(parts[:i]), {})
        if path not in _ALIASES:
            members.setdefault(path, {})
    for path, sources in _EXPORTS.items():
        for source in sources:
            for name, obj in _names_of(source).items():
                _add(members[path], path, name, obj)
    spaces = {path: _Namespace(path, **names) for path, names in members.items() if path}
    for path in [*spaces, *_ALIASES]:
        parent, _, name = path.rpartition(".")
        parent_names = vars(spaces[parent]) if parent else members[""]
        _add(parent_names, parent, name, spaces[_ALIASES.get(path, path)])
    return members[""]


def _paths(prefix: str, names: dict[str, Any]) -> list[str]:
    """Every dotted name below ``prefix`` that resolves, namespaces included."""
    out = []
    for name, obj in names.items():
        if name.startswith("_") or name in _NOT_TF:
            continue
        out.append(prefix + name)
        if isinstance(obj, _Namespace):
            out += _paths(f"{prefix}{name}.", vars(obj))
    return out


_TOP = _build()
# served as the module tensorflow.python.client.device_lib by install()
_device_lib = _Namespace("python.client.device_lib", **_names_of(_device_lib_module))
# served as tensorflow.core.framework.variable_pb2 and tensorflow.core.protobuf.rewriter_config_pb2
_variable_pb2 = _Namespace("core.framework.variable_pb2", **_tf_protos.VARIABLE_PB2)
_rewriter_config_pb2 = _Namespace(
    "core.protobuf.rewriter_config_pb2", **_tf_protos.REWRITER_CONFIG_PB2
)

__all__ = sorted([*_TOP, "SUPPORTED"])
#: every TensorFlow name this layer resolves, dotted below ``tf`` (``nn.rnn_cell.LSTMCell``); the
#: summary protocol buffer ``Summary`` is imported on first use
SUPPORTED: tuple[str, ...] = tuple(sorted([*_paths("", _TOP), "Summary", "Summary.Value"]))

# Bound last: tf's names include ``tuple``, ``range``, ``abs``, ``bool`` and ``slice``, which then
# stand for TensorFlow's in this module (the functions above use none of them).
globals().update(_TOP)
# tf.rnn_cell is the tf.nn.rnn_cell namespace (not this package's rnn_cell module)
rnn_cell = _TOP["nn"].rnn_cell


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name == "Summary":  # the summary protocol buffer (tensorboardX's copy, imported on use)
        return _summary._summary_pb2().Summary
    raise unsupported(f"tf.{name}")
