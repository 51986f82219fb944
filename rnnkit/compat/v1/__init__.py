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
(``tf.nest``), ``candidate_sampling`` (``tf.nn.sampled_softmax_loss``). Anything outside
the subset raises :class:`UnsupportedError` naming it (``SUPPORTED`` lists the subset).
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

from typing import Any

from rnnkit.compat.v1 import app as _app
from rnnkit.compat.v1 import array_ops as _array
from rnnkit.compat.v1 import candidate_sampling as _sampling
from rnnkit.compat.v1 import check_ops as _check
from rnnkit.compat.v1 import contrib_layers as _contrib_layers
from rnnkit.compat.v1 import contrib_slim as _contrib_slim
from rnnkit.compat.v1 import control_flow_ops as _cf
from rnnkit.compat.v1 import data as _data
from rnnkit.compat.v1 import device_lib as _device_lib_module
from rnnkit.compat.v1 import dtypes as _dtypes
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
from rnnkit.compat.v1 import nest as _nest_mod
from rnnkit.compat.v1 import nn as _nn
from rnnkit.compat.v1 import ops as _ops
from rnnkit.compat.v1 import random_ops as _random
from rnnkit.compat.v1 import resource_ops as _resource_ops
from rnnkit.compat.v1 import rnn as _rnn
from rnnkit.compat.v1 import rnn_cell as _cells
from rnnkit.compat.v1 import seq2seq as _contrib_seq2seq
from rnnkit.compat.v1 import seq2seq_loss as _seq2seq_loss
from rnnkit.compat.v1 import slice_ops as _slice_ops
from rnnkit.compat.v1 import strided_slice as _strided
from rnnkit.compat.v1 import summary as _summary
from rnnkit.compat.v1 import tf_logging as _logging
from rnnkit.compat.v1 import train as _train
from rnnkit.compat.v1 import variables as _vars
from rnnkit.compat.v1._install import install, uninstall
from rnnkit.compat.v1.dtypes import (
    DType,
    as_dtype,
    bool,  # noqa: A004 - TensorFlow's name
    float16,
    float32,
    float64,
    int32,
    int64,
    string,
    uint8,
)
from rnnkit.compat.v1.errors import Namespace as _Namespace
from rnnkit.compat.v1.errors import UnsupportedError, errors, unsupported
from rnnkit.compat.v1.ops import Graph, GraphKeys, IndexedSlicesValue, Operation, Tensor
from rnnkit.compat.v1.session import InteractiveSession, Session, get_default_session
from rnnkit.compat.v1.session_config import ConfigProto, GPUOptions
from rnnkit.compat.v1.tensor_shape import Dimension, TensorShape
from rnnkit.compat.v1.variables import Variable, VariableScope

_TOP: dict[str, Any] = {}
for _module, _names in (
    (
        _ops,
        [
            "get_default_graph",
            "reset_default_graph",
            "set_random_seed",
            "name_scope",
            "device",
            "control_dependencies",
            "get_collection",
            "get_collection_ref",
            "add_to_collection",
            "placeholder",
            "placeholder_with_default",
            "constant",
            "convert_to_tensor",
            "group",
            "no_op",
        ],
    ),
    (
        _vars,
        [
            "variable_scope",
            "get_variable",
            "get_variable_scope",
            "global_variables",
            "all_variables",
            "trainable_variables",
            "local_variables",
            "global_variables_initializer",
            "initialize_all_variables",
            "variables_initializer",
            "local_variables_initializer",
            "assign",
            "assign_add",
            "assign_sub",
            "AUTO_REUSE",
            "is_variable_initialized",
        ],
    ),
    (
        _init,
        [
            "zeros_initializer",
            "ones_initializer",
            "constant_initializer",
            "random_normal_initializer",
            "random_uniform_initializer",
            "truncated_normal_initializer",
            "variance_scaling_initializer",
            "glorot_uniform_initializer",
            "glorot_normal_initializer",
        ],
    ),
    (
        _random,
        ["random_normal", "random_uniform", "truncated_normal", "random_shuffle", "multinomial"],
    ),
    (
        _math,
        [
            "add",
            "subtract",
            "multiply",
            "divide",
            "floordiv",
            "mod",
            "maximum",
            "minimum",
            "negative",
            "tanh",
            "sigmoid",
            "exp",
            "log",
            "sqrt",
            "rsqrt",
            "square",
            "sign",
            "floor",
            "ceil",
            "reciprocal",
            "log1p",
            "sin",
            "cos",
            "squared_difference",
            "equal",
            "not_equal",
            "greater",
            "greater_equal",
            "less",
            "less_equal",
            "logical_and",
            "logical_or",
            "logical_xor",
            "logical_not",
            "cast",
            "to_float",
            "to_int32",
            "to_int64",
            "matmul",
            "reduce_sum",
            "reduce_mean",
            "reduce_max",
            "reduce_min",
            "reduce_prod",
            "reduce_any",
            "reduce_all",
            "reduce_logsumexp",
            "argmax",
            "argmin",
            "clip_by_value",
            "add_n",
        ],
    ),
    (
        _array,
        [
            "zeros",
            "ones",
            "fill",
            "zeros_like",
            "ones_like",
            "identity",
            "stop_gradient",
            "shape",
            "size",
            "rank",
            "expand_dims",
            "squeeze",
            "tile",
            "gather",
            "one_hot",
            "where",
            "split",
            "reverse",
            "sequence_mask",
            "boolean_mask",
            "pad",
            "transpose",
            "reshape",
            "concat",
            "stack",
            "unstack",
            "newaxis",
        ],
    ),
    (_cf, ["cond", "case", "while_loop", "TensorArray"]),
    (_functional, ["map_fn", "scan", "foldl", "foldr"]),
    (_grad, ["gradients", "clip_by_global_norm", "global_norm", "clip_by_norm"]),
    (_strided, ["strided_slice"]),
    (_check, ["assert_positive", "assert_non_negative"]),
):
    for _name in _names:
        _TOP[_name] = getattr(_module, _name)
_TOP.update(abs=_math.abs_, round=_math.round_, pow=_math.pow_, range=_math.range_)
_TOP.update(Print=_logging_ops.Print, slice=_slice_ops.slice_, assert_rank=_slice_ops.assert_rank)
_TOP.update(container=_resource_ops.container, tables_initializer=_resource_ops.tables_initializer)
globals().update(_TOP)

_CELLS = {n: getattr(_cells, n) for n in _cells.__all__}
rnn_cell = _Namespace("nn.rnn_cell", **_CELLS)
nn = _Namespace(
    "nn",
    rnn_cell=rnn_cell,
    seq2seq=_Namespace("nn.seq2seq", **{n: getattr(_seq2seq, n) for n in _seq2seq.__all__}),
    **{n: getattr(_nn, n) for n in _nn.__all__},
    **{n: getattr(_rnn, n) for n in _rnn.__all__},
    **{n: getattr(_sampling, n) for n in _sampling.__all__},
    moments=None,
)
del nn.__dict__["moments"]
layers = _Namespace(
    "layers", dense=_layers.dense, dropout=_layers.dropout, Dense=_contrib_seq2seq.Dense
)
losses = _Namespace(
    "losses",
    **{n: getattr(_losses, n) for n in _losses.__all__},
    get_regularization_loss=_contrib_layers.get_regularization_loss,
    get_regularization_losses=_contrib_layers.get_regularization_losses,
)
train = _Namespace(
    "train",
    **{n: getattr(_train, n) for n in _train.__all__},
    SummaryWriter=_summary.FileWriter,  # TensorFlow 0.x's name of tf.summary.FileWriter
)
metrics = _Namespace("metrics", **{n: getattr(_metrics, n) for n in _metrics.__all__})
nest = _Namespace("nest", **{n: getattr(_nest_mod, n) for n in _nest_mod.__all__})
initializers = _Namespace(
    "initializers",
    zeros=_init.zeros_initializer,
    ones=_init.ones_initializer,
    constant=_init.constant_initializer,
    random_normal=_init.random_normal_initializer,
    random_uniform=_init.random_uniform_initializer,
    truncated_normal=_init.truncated_normal_initializer,
    variance_scaling=_init.variance_scaling_initializer,
    glorot_uniform=_init.glorot_uniform_initializer,
    glorot_normal=_init.glorot_normal_initializer,
)
contrib = _Namespace(
    "contrib",
    rnn=_Namespace(
        "contrib.rnn",
        static_rnn=_rnn.static_rnn,
        static_bidirectional_rnn=_rnn.static_bidirectional_rnn,
        LSTMBlockCell=_cells.LSTMBlockCell,
        NASCell=_cells.NASCell,
        **_CELLS,
        # TensorFlow 1.0-1.1's module of the cells (tf.contrib.rnn.core_rnn_cell.BasicLSTMCell)
        core_rnn_cell=_Namespace("contrib.rnn.core_rnn_cell", **_CELLS),
    ),
    layers=_Namespace(
        "contrib.layers", **{n: getattr(_contrib_layers, n) for n in _contrib_layers.__all__}
    ),
    slim=_Namespace(
        "contrib.slim",
        model_analyzer=_Namespace(
            "contrib.slim.model_analyzer", analyze_vars=_contrib_slim.analyze_vars
        ),
    ),
    learn=_Namespace(
        "contrib.learn",
        ModeKeys=_Namespace("contrib.learn.ModeKeys", TRAIN="train", EVAL="eval", INFER="infer"),
    ),
    legacy_seq2seq=_Namespace(
        "contrib.legacy_seq2seq", **{n: getattr(_seq2seq, n) for n in _seq2seq.__all__}
    ),
    seq2seq=_Namespace(
        "contrib.seq2seq",
        **{n: getattr(_contrib_seq2seq, n) for n in _contrib_seq2seq.__all__},
    ),
    framework=_Namespace(
        "contrib.framework",
        get_or_create_global_step=_train.get_or_create_global_step,
        get_global_step=_train.get_global_step,
        create_global_step=_train.create_global_step,
        list_variables=_train.list_variables,
        load_checkpoint=_train.load_checkpoint,
        load_variable=_train.load_variable,
        nest=nest,
    ),
)
flags = _Namespace("flags", **{n: getattr(_flags, n) for n in _flags.__all__})
# served as the module tensorflow.python.client.device_lib by install()
_device_lib = _Namespace(
    "python.client.device_lib", list_local_devices=_device_lib_module.list_local_devices
)
app = _Namespace("app", run=_app.run, flags=flags)
logging = _Namespace("logging", **{n: getattr(_logging, n) for n in _logging.__all__})
gfile = _Namespace("gfile", **{n: getattr(_gfile, n) for n in _gfile.__all__})
summary = _Namespace("summary", **{n: getattr(_summary, n) for n in _summary.__all__})
data = _Namespace("data", **{n: getattr(_data, n) for n in _data.__all__})
keras = _Namespace(
    "keras",
    datasets=_Namespace(
        "keras.datasets", mnist=_Namespace("keras.datasets.mnist", load_data=_mnist.load_data)
    ),
    initializers=_Namespace(
        "keras.initializers",
        glorot_uniform=_init.glorot_uniform_initializer,
        glorot_normal=_init.glorot_normal_initializer,
        zeros=_init.zeros_initializer,
        ones=_init.ones_initializer,
    ),
)
math = _Namespace(
    "math",
    **{
        n: _TOP[n]
        for n in (
            "add",
            "subtract",
            "multiply",
            "divide",
            "exp",
            "log",
            "sqrt",
            "square",
            "tanh",
            "sigmoid",
            "maximum",
            "minimum",
            "equal",
            "argmax",
            "reduce_sum",
            "reduce_mean",
            "abs",
        )
    },
)

__all__ = sorted(
    [
        *_TOP,
        "UnsupportedError",
        "errors",
        *_dtypes.__all__,
        "Dimension",
        "TensorShape",
        "Graph",
        "GraphKeys",
        "Tensor",
        "Operation",
        "IndexedSlicesValue",
        "Variable",
        "VariableScope",
        "Session",
        "InteractiveSession",
        "get_default_session",
        "ConfigProto",
        "GPUOptions",
        "flags",
        "app",
        "logging",
        "gfile",
        "nn",
        "layers",
        "losses",
        "summary",
        "train",
        "contrib",
        "keras",
        "initializers",
        "math",
        "data",
        "metrics",
        "nest",
        "SUPPORTED",
    ]
)

SUPPORTED: tuple[str, ...] = tuple(
    sorted(
        [
            n
            for n in __all__
            if n
            not in (
                "nn",
                "contrib",
                "layers",
                "losses",
                "summary",
                "train",
                "keras",
                "initializers",
                "math",
                "SUPPORTED",
                "UnsupportedError",
                "flags",
                "app",
                "logging",
                "gfile",
                "data",
                "metrics",
                "nest",
            )
        ]
        + [f"nn.{n}" for n in dir(nn) if n not in ("rnn_cell", "seq2seq")]
        + [f"nn.rnn_cell.{n}" for n in dir(rnn_cell)]
        + [f"nn.seq2seq.{n}" for n in dir(nn.seq2seq)]  # TF 0.x's place of legacy_seq2seq
        + [f"contrib.rnn.{n}" for n in dir(contrib.rnn) if n != "core_rnn_cell"]
        + [f"contrib.rnn.core_rnn_cell.{n}" for n in dir(contrib.rnn.core_rnn_cell)]
        + [f"metrics.{n}" for n in dir(metrics)]
        + [f"nest.{n}" for n in dir(nest)]
        + [f"contrib.framework.nest.{n}" for n in dir(nest)]
        + [f"layers.{n}" for n in dir(layers)]
        + [f"train.{n}" for n in dir(train)]
        + [f"losses.{n}" for n in dir(losses)]
        + [f"summary.{n}" for n in dir(summary)]
        + [f"contrib.legacy_seq2seq.{n}" for n in dir(contrib.legacy_seq2seq)]
        + [f"contrib.seq2seq.{n}" for n in dir(contrib.seq2seq)]
        + [f"contrib.framework.{n}" for n in dir(contrib.framework) if n != "nest"]
        + [f"contrib.layers.{n}" for n in dir(contrib.layers)]
        + [f"flags.{n}" for n in dir(flags)]
        + [f"app.{n}" for n in dir(app)]
        + [f"logging.{n}" for n in dir(logging)]
        + [f"gfile.{n}" for n in dir(gfile)]
        + ["keras.datasets.mnist.load_data", "Summary", "Summary.Value"]
        + [f"keras.initializers.{n}" for n in dir(keras.initializers)]
        + [f"contrib.learn.ModeKeys.{n}" for n in dir(contrib.learn.ModeKeys)]
        + ["contrib.slim.model_analyzer.analyze_vars"]
        + [f"data.{n}" for n in dir(data)]
    )
)

# tf.tuple, bound last: the code above calls the builtin tuple
tuple = _cf.tuple_  # noqa: A001
__all__ = sorted([*__all__, "tuple"])
SUPPORTED = (*sorted([*SUPPORTED, "tuple"]),)


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name == "Summary":  # the summary protocol buffer (tensorboardX's copy, imported on use)
        return _summary._summary_pb2().Summary
    raise unsupported(f"tf.{name}")
