"""Generate reference data from real TensorFlow for ``tf.nn.conv2d``, ``conv1d``, ``max_pool`` and
``avg_pool``: one ``<case>.npz`` per case in ``tests/fixtures/tf1_conv`` (numbers as float32
arrays, call specifications and error texts as unicode arrays; no pickles).

Cases (values: the op's output ``y`` and the gradients ``d sum(y * w) / d input`` and ``/ d filter``
for fixed random weights ``w``, from ``tf.gradients``):

- ``conv2d_same``: SAME, stride 1, a 3x2 filter (the padding's extra row and column go after).
- ``conv2d_same_s2``: SAME, strides 2, a 4x3 filter over 7x8 (asymmetric padding in both).
- ``conv2d_valid_s2``: VALID, strides ``[2, 1]`` (a list of two).
- ``conv2d_explicit``: explicit padding ``[[0, 0], [1, 2], [0, 3], [0, 0]]``, stride 2.
- ``conv2d_dilated_same`` / ``conv2d_dilated_valid``: dilations 2 (``dilations=2``).
- ``conv2d_nchw``: NCHW, SAME, strides 2 (TensorFlow's oneDNN CPU kernels run NCHW).
- ``conv2d_grouped``: input depth 6, filter input depth 3 (two groups).
- ``max_pool_same`` / ``max_pool_valid`` / ``avg_pool_same`` / ``avg_pool_valid``: 3x2 windows,
  strides 2, over 7x9 (odd sizes, so SAME pads unevenly).
- ``avg_pool_same_s1``: 3x3 windows, stride 1 (each edge window averages fewer elements).
- ``max_pool_ties``: a ReLU-like input (two thirds zeros), overlapping 3x3 windows, strides 2:
  which of equal maxima gets the gradient.
- ``max_pool_nchw`` / ``avg_pool_nchw``: NCHW, SAME.
- ``max_pool_explicit``: explicit padding ``[[0, 0], [1, 0], [0, 1], [0, 0]]``.
- ``max_pool_depth``: a window across the depth alone (``ksize [1, 1, 1, 3]``); the output only
  (TF's CPU kernels have no gradient for it: "MaxPoolingGrad is not yet supported on the depth
  dimension.").
- ``program``: a text CNN's layer: ``conv2d(emb, W, [1, 1, 1, 1], 'VALID')``, ``bias_add``,
  ``relu``, ``max_pool(ksize=[1, 3, 1, 1], strides=[1, 3, 1, 1], 'SAME')``.
- ``conv1d_same`` / ``conv1d_valid_s2`` / ``conv1d_ncw`` / ``conv1d_dilated``: ``tf.nn.conv1d``.
- ``build``: calls made while building a graph (placeholder shapes, arguments) and what TF did:
  the output's name, static shape and dtype, or the exception's type and text.
- ``run_errors``: calls on placeholders of unknown shape fed arrays, and the error (or the output
  shape) when the graph runs, from TensorFlow's reference CPU kernels (``TF_ENABLE_ONEDNN_OPTS=0``,
  in a subprocess: oneDNN's kernels abort the process or return garbage on some of these inputs).

Each ``build`` and ``run_errors`` entry is a JSON call specification: ``op`` (a ``tf.nn`` name),
``args`` and ``kwargs``, where ``{"placeholder": [dtype, shape]}`` is a new placeholder and
``{"ones": [dtype, shape]}`` a numpy array of ones.

Needs TensorFlow 2.16 or later with ``tf-keras``; run it outside rnnkit's environment::

    TF_USE_LEGACY_KERAS=1 /root/tfvenv/bin/python tools/make_tf1_conv_fixtures.py \\
        --out tests/fixtures/tf1_conv
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from tf_reference import tf, tf1

f32 = np.float32


def _ph(shape, dtype="float32"):
    return {"placeholder": [dtype, shape]}


def _ones(shape, dtype="float32"):
    return {"ones": [dtype, shape]}


def _call(op, *args, **kwargs):
    return {"op": op, "args": list(args), "kwargs": kwargs}


X, W = _ph([2, 5, 7, 3]), _ph([3, 2, 3, 4])
X9 = _ph([2, 9, 7, 3])
# graph-build calls: static shapes and TF's build-time errors
BUILD = {
    "same": _call("conv2d", X, W, [1, 1, 1, 1], "SAME"),
    "valid_s2": _call("conv2d", X, W, [1, 2, 2, 1], "VALID"),
    "unknown_dims": _call("conv2d", _ph([None, None, 7, 3]), W, [1, 2, 2, 1], "VALID"),
    "unknown_rank": _call("conv2d", _ph(None), W, [1, 2, 2, 1], "VALID"),
    "unknown_filter": _call("conv2d", X, _ph(None), [1, 2, 2, 1], "VALID"),
    "unknown_filter_dims": _call("conv2d", X, _ph([None, 2, 3, None]), [1, 2, 2, 1], "VALID"),
    "unknown_filter_same": _call("conv2d", X9, _ph([None, None, 3, 4]), [1, 2, 2, 1], "SAME"),
    "unknown_depth": _call("conv2d", _ph([2, 5, 7, None]), W, [1, 1, 1, 1], "VALID"),
    "rank3": _call("conv2d", _ph([5, 7, 3]), W, [1, 1, 1, 1], "SAME"),
    "rank5": _call("conv2d", _ph([1, 2, 5, 7, 3]), W, [1, 1, 1, 1], "SAME"),
    "filter_rank3": _call("conv2d", X, _ph([3, 3, 4]), [1, 1, 1, 1], "SAME"),
    "depth_mismatch": _call("conv2d", X, _ph([3, 2, 5, 4]), [1, 1, 1, 1], "SAME"),
    "grouped": _call("conv2d", _ph([2, 5, 7, 6]), W, [1, 1, 1, 1], "SAME"),
    "groups_output": _call("conv2d", _ph([2, 9, 7, 9]), W, [1, 1, 1, 1], "VALID"),
    "batch_stride": _call("conv2d", X, W, [2, 1, 1, 1], "SAME"),
    "strides_3": _call("conv2d", X, W, [1, 1, 1], "SAME"),
    "strides_int": _call("conv2d", X, W, 2, "SAME"),
    "strides_2": _call("conv2d", X, W, [2, 1], "SAME"),
    "strides_none": _call("conv2d", X, W, None, "SAME"),
    "stride_0": _call("conv2d", X, W, [1, 0, 1, 1], "SAME"),
    "padding_full": _call("conv2d", X, W, [1, 1, 1, 1], "FULL"),
    "padding_lower": _call("conv2d", X, W, [1, 1, 1, 1], "same"),
    "padding_EXPLICIT": _call("conv2d", X, W, [1, 1, 1, 1], "EXPLICIT"),
    "padding_int": _call("conv2d", X, W, [1, 1, 1, 1], 3),
    "padding_none": _call("conv2d", X, W, [1, 1, 1, 1], None),
    "explicit": _call("conv2d", X, W, [1, 1, 1, 1], [[0, 0], [1, 2], [0, 3], [0, 0]]),
    "explicit_batch": _call("conv2d", X, W, [1, 1, 1, 1], [[1, 0], [1, 2], [0, 3], [0, 0]]),
    "explicit_2": _call("conv2d", X, W, [1, 1, 1, 1], [[1, 2], [0, 3]]),
    "explicit_negative": _call("conv2d", X, W, 1, [[0, 0], [-1, 2], [0, 3], [0, 0]]),
    "explicit_flat": _call("conv2d", X, W, 1, [0, 0, 1, 2, 0, 3, 0, 0]),
    "explicit_pair_3": _call("conv2d", X, W, 1, [[0, 0], [1, 2, 3], [0, 0], [0, 0]]),
    "explicit_too_small": _call(
        "conv2d", _ph([3, 1, 7, 6]), _ph([4, 1, 6, 2]), 1, [[0, 0], [1, 1], [0, 0], [0, 0]]
    ),
    "filter_none": _call("conv2d", X, None, [1, 1, 1, 1], "SAME"),
    "filters_alias": _call("conv2d", X, filters=W, strides=[1, 1, 1, 1], padding="SAME"),
    "filter_and_filters": _call("conv2d", X, W, [1, 1, 1, 1], "SAME", filters=W),
    "dilations": _call("conv2d", X9, W, [1, 1, 1, 1], "VALID", dilations=[1, 2, 2, 1]),
    "dilations_int": _call("conv2d", X9, W, [1, 2, 2, 1], "VALID", dilations=2),
    "dilations_3": _call("conv2d", X9, W, [1, 1, 1, 1], "VALID", dilations=[1, 2, 2]),
    "dilation_0": _call("conv2d", X9, W, [1, 1, 1, 1], "VALID", dilations=[1, 0, 2, 1]),
    "dilated_too_small": _call(
        "conv2d", _ph([3, 4, 7, 6]), _ph([3, 1, 6, 2]), 1, "VALID", dilations=2
    ),
    "too_small": _call("conv2d", _ph([2, 2, 7, 3]), W, [1, 1, 1, 1], "VALID"),
    "nchw": _call("conv2d", _ph([2, 3, 5, 7]), W, [1, 1, 1, 1], "SAME", data_format="NCHW"),
    "nchw_strides_2": _call("conv2d", _ph([2, 3, 9, 7]), W, [2, 3], "VALID", data_format="NCHW"),
    "nchw_explicit": _call(
        "conv2d", _ph([2, 3, 9, 7]), W, 1, [[0, 0], [0, 0], [1, 2], [3, 0]], data_format="NCHW"
    ),
    "data_format_bad": _call("conv2d", X, W, [1, 1, 1, 1], "SAME", data_format="NWHC"),
    "int64": _call("conv2d", _ph([2, 5, 7, 3], "int64"), _ph([3, 2, 3, 4], "int64"), 1, "SAME"),
    "dtype_mismatch": _call("conv2d", X, _ph([3, 2, 3, 4], "float64"), 1, "SAME"),
    "float64_rank3": _call(
        "conv2d", _ph([5, 7, 3], "float64"), _ph([3, 2, 3, 4], "float64"), 1, "SAME"
    ),
    "numpy_inputs_rank3": _call("conv2d", _ones([5, 7, 3]), _ones([3, 2, 3, 4]), 1, "SAME"),
    "numpy_filter_rank3": _call(
        "conv2d", _ph([5, 7, 3]), _ones([3, 2, 3, 4]), 1, "SAME", use_cudnn_on_gpu=False
    ),
    "numpy_float64_input": _call(
        "conv2d", _ones([1, 5, 7, 3], "float64"), _ones([3, 2, 3, 4]), 1, "SAME"
    ),
    "named": _call("conv2d", X, W, [1, 1, 1, 1], "SAME", name="conv"),
    "max_pool": _call("max_pool", X, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
    "avg_pool": _call("avg_pool", X, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
    "max_pool_ints": _call("max_pool", X, 2, 2, "SAME"),
    "max_pool_lists_1": _call("max_pool", X, [2], [2], "SAME"),
    "max_pool_lists_2": _call("max_pool", X, [3, 2], [2, 1], "VALID"),
    "max_pool_ksize_3": _call("max_pool", X, [3, 2, 1], [2, 1, 1], "VALID"),
    "max_pool_strides_3": _call("max_pool", X, [1, 3, 2, 1], [2, 1, 1], "VALID"),
    "max_pool_unknown_dims": _call("max_pool", _ph([None, 5, None, 3]), 2, 2, "SAME"),
    "max_pool_unknown_rank": _call("max_pool", _ph(None), [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
    "max_pool_rank3": _call("max_pool", _ph([5, 7, 3]), [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
    "max_pool_rank5": _call("max_pool", _ph([1, 2, 5, 7, 3]), 2, 2, "SAME"),
    "avg_pool_rank3": _call("avg_pool", _ph([5, 7, 3]), 2, 2, "SAME"),
    "max_pool_too_small": _call("max_pool", _ph([2, 2, 7, 3]), [1, 3, 3, 1], 2, "VALID"),
    "avg_pool_too_small": _call("avg_pool", _ph([2, 2, 7, 3]), 3, 1, "VALID"),
    "max_pool_padding_full": _call("max_pool", X, 2, 2, "FULL"),
    "avg_pool_padding_full": _call("avg_pool", X, 2, 2, "FULL"),
    "avg_pool_padding_EXPLICIT": _call("avg_pool", X, 2, 2, "EXPLICIT"),
    "max_pool_padding_EXPLICIT": _call("max_pool", X, 2, 2, "EXPLICIT"),
    "max_pool_explicit": _call("max_pool", X, 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]),
    "avg_pool_explicit": _call("avg_pool", X, 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]),
    "max_pool_explicit_batch": _call("max_pool", X, 2, 1, [[1, 0], [0, 0], [0, 0], [0, 0]]),
    "max_pool_explicit_negative": _call("max_pool", X, 2, 1, [[0, 0], [-1, 0], [0, 0], [0, 0]]),
    "max_pool_explicit_too_small": _call(
        "max_pool", _ph([3, 1, 7, 6]), [1, 3, 2, 1], 1, [[0, 0], [1, 0], [0, 0], [0, 0]]
    ),
    "max_pool_ksize_batch": _call("max_pool", X, [2, 1, 1, 1], 1, "VALID"),
    "max_pool_ksize_0": _call("max_pool", X, [1, 0, 2, 1], 2, "SAME"),
    "max_pool_ksize_int_0": _call("max_pool", X, 0, 2, "SAME"),
    "avg_pool_ksize_0": _call("avg_pool", X, 0, 2, "SAME"),
    "max_pool_stride_0": _call("max_pool", X, 2, [1, 0, 2, 1], "SAME"),
    "max_pool_depth": _call("max_pool", _ph([2, 5, 7, 6]), [1, 1, 1, 3], [1, 1, 1, 3], "VALID"),
    "max_pool_depth_7": _call("max_pool", _ph([2, 5, 7, 7]), [1, 1, 1, 3], [1, 1, 1, 3], "VALID"),
    "avg_pool_depth": _call("avg_pool", _ph([2, 5, 7, 6]), [1, 1, 1, 3], [1, 1, 1, 3], "VALID"),
    "max_pool_nchw": _call("max_pool", _ph([2, 3, 5, 7]), 2, 2, "SAME", data_format="NCHW"),
    "max_pool_data_format_bad": _call("max_pool", X, 2, 2, "SAME", data_format="NWHC"),
    "avg_pool_data_format_bad": _call("avg_pool", X, 2, 2, "SAME", data_format="NWHC"),
    "max_pool_input": _call("max_pool", None, 2, 2, "SAME", input=X),
    "max_pool_value_and_input": _call("max_pool", X, 2, 2, "SAME", input=X),
    "max_pool_named": _call("max_pool", X, 2, 2, "SAME", name="pool"),
    "max_pool_int32": _call("max_pool", _ph([2, 5, 7, 3], "int32"), 2, 2, "SAME"),
    "max_pool_bool": _call("max_pool", _ph([2, 5, 7, 3], "bool"), 2, 2, "SAME"),
    "avg_pool_int32": _call("avg_pool", _ph([2, 5, 7, 3], "int32"), 2, 2, "SAME"),
    "max_pool_ksize_5": _call("max_pool", X, [1, 2, 2, 1, 1], 2, "SAME"),
    "max_pool_ksize_none": _call("max_pool", X, None, 2, "SAME"),
    "max_pool_padding_none": _call("max_pool", X, 2, 2, None),
    "max_pool2d": _call("max_pool2d", X, 2, 2, "SAME"),
    "avg_pool2d": _call("avg_pool2d", X, 2, 2, "SAME"),
    "conv1d": _call("conv1d", _ph([2, 9, 3]), _ph([3, 3, 4]), 1, "SAME"),
    "conv1d_stride_2": _call("conv1d", _ph([2, 9, 3]), _ph([3, 3, 4]), 2, "VALID"),
    "conv1d_strides_3": _call("conv1d", _ph([2, 9, 3]), _ph([3, 3, 4]), [1, 2, 1], "VALID"),
    "conv1d_unknown_dims": _call("conv1d", _ph([None, None, 3]), _ph([3, 3, 4]), 1, "SAME"),
    "conv1d_unknown_rank": _call("conv1d", _ph(None), _ph([3, 3, 4]), 1, "SAME"),
    "conv1d_rank2": _call("conv1d", _ph([9, 3]), _ph([3, 3, 4]), 1, "SAME"),
    "conv1d_rank4": _call("conv1d", _ph([1, 2, 9, 3]), _ph([3, 3, 4]), 1, "SAME"),
    "conv1d_filter_rank4": _call("conv1d", _ph([2, 9, 3]), _ph([3, 3, 3, 4]), 1, "SAME"),
    "conv1d_depth_mismatch": _call("conv1d", _ph([2, 9, 3]), _ph([3, 5, 4]), 1, "SAME"),
    "conv1d_ncw": _call("conv1d", _ph([2, 3, 9]), _ph([3, 3, 4]), 1, "SAME", data_format="NCW"),
    "conv1d_nchw": _call("conv1d", _ph([2, 9, 3]), _ph([3, 3, 4]), 1, "SAME", data_format="NCHW"),
    "conv1d_padding_full": _call("conv1d", _ph([2, 9, 3]), _ph([3, 3, 4]), 1, "FULL"),
    "conv1d_padding_list": _call(
        "conv1d", _ph([2, 9, 3]), _ph([3, 3, 4]), 1, [[0, 0], [1, 2], [0, 0]]
    ),
    "conv1d_named": _call("conv1d", _ph([2, 9, 3]), _ph([3, 3, 4]), 1, "SAME", name="cv"),
    "conv1d_dilations": _call("conv1d", _ph([2, 9, 3]), _ph([3, 3, 4]), 1, "SAME", dilations=2),
    "conv1d_stride_2_values": _call("conv1d", _ph([2, 9, 3]), _ph([3, 3, 4]), [1, 1], "SAME"),
    "conv1d_data_format_bad": _call(
        "conv1d", _ph([2, 9, 3]), _ph([3, 3, 4]), 1, "SAME", data_format="NWCX"
    ),
    "conv1d_value_and_input": _call(
        "conv1d", _ph([2, 5, 3]), _ph([2, 3, 3]), 1, "SAME", input=_ph([2, 5, 3])
    ),
}

U = _ph(None)  # a placeholder of unknown shape: the checks happen when the graph runs
# run-time calls: {"call": spec, "feeds": the shapes fed to its placeholders, in order}
RUN = {
    "conv_input_rank3": ([[5, 7, 3], [3, 2, 3, 4]], _call("conv2d", U, U, 1, "SAME")),
    "conv_filter_rank3": ([[2, 5, 7, 3], [3, 3, 4]], _call("conv2d", U, U, 1, "SAME")),
    "conv_depth": ([[2, 5, 7, 3], [3, 2, 5, 4]], _call("conv2d", U, U, 1, "SAME")),
    "conv_groups": ([[2, 5, 7, 9], [3, 2, 3, 4]], _call("conv2d", U, U, 1, "VALID")),
    "conv_batch_stride": (
        [[2, 5, 7, 3], [3, 2, 3, 4]],
        _call("conv2d", U, U, [2, 1, 1, 1], "SAME"),
    ),
    "conv_depth_stride": (
        [[2, 5, 7, 3], [3, 2, 3, 4]],
        _call("conv2d", U, U, [1, 1, 1, 2], "SAME"),
    ),
    "conv_batch_dilation": (
        [[2, 9, 7, 3], [3, 2, 3, 4]],
        _call("conv2d", U, U, 1, "VALID", dilations=[2, 1, 1, 1]),
    ),
    "conv_negative": ([[2, 1, 7, 3], [3, 2, 3, 4]], _call("conv2d", U, U, 1, "VALID")),
    "conv_empty": ([[2, 1, 7, 3], [3, 2, 3, 4]], _call("conv2d", U, U, [1, 3, 1, 1], "VALID")),
    "conv_grouped": ([[2, 5, 7, 6], [3, 2, 3, 4]], _call("conv2d", U, U, 1, "SAME")),
    "pool_rank3": ([[5, 7, 3]], _call("max_pool", U, 2, 2, "SAME")),
    "pool_batch": ([[2, 2, 2, 6]], _call("max_pool", U, [2, 1, 1, 1], [2, 1, 1, 1], "VALID")),
    "pool_depth_and_spatial": ([[2, 5, 7, 3]], _call("max_pool", U, [1, 2, 2, 3], 1, "SAME")),
    "avg_pool_depth_and_spatial": ([[2, 5, 7, 3]], _call("avg_pool", U, [1, 2, 2, 3], 1, "SAME")),
    "pool_depth_stride": (
        [[1, 2, 2, 6]],
        _call("max_pool", U, [1, 1, 1, 3], [1, 1, 1, 2], "VALID"),
    ),
    "pool_depth_divide": (
        [[1, 2, 2, 7]],
        _call("max_pool", U, [1, 1, 1, 3], [1, 1, 1, 3], "VALID"),
    ),
    "avg_pool_depth": ([[1, 2, 2, 6]], _call("avg_pool", U, [1, 1, 1, 3], [1, 1, 1, 3], "VALID")),
    "pool_explicit_top": (
        [[1, 3, 3, 1]],
        _call("max_pool", U, 2, 1, [[0, 0], [2, 0], [0, 0], [0, 0]]),
    ),
    "pool_explicit_bottom": (
        [[1, 3, 3, 1]],
        _call("max_pool", U, 2, 1, [[0, 0], [0, 2], [0, 0], [0, 0]]),
    ),
    "pool_explicit_left": (
        [[1, 3, 3, 1]],
        _call("max_pool", U, 2, 1, [[0, 0], [0, 0], [2, 0], [0, 0]]),
    ),
    "pool_explicit_right": (
        [[1, 3, 3, 1]],
        _call("max_pool", U, 2, 1, [[0, 0], [0, 0], [0, 2], [0, 0]]),
    ),
    "pool_ksize_negative": ([[1, 4, 5, 1]], _call("max_pool", U, [1, -1, 2, 1], 1, "SAME")),
    "avg_pool_ksize_0": ([[1, 4, 5, 1]], _call("avg_pool", U, [1, 0, 2, 1], 1, "SAME")),
    "pool_empty": ([[2, 1, 7, 3]], _call("max_pool", U, [1, 3, 3, 1], 2, "VALID")),
    "avg_pool_empty": ([[2, 1, 7, 3]], _call("avg_pool", U, [1, 3, 3, 1], 2, "VALID")),
}


def _value(spec):
    if isinstance(spec, dict) and "placeholder" in spec:
        dtype, shape = spec["placeholder"]
        return tf1.placeholder(tf.as_dtype(dtype), shape)
    if isinstance(spec, dict) and "ones" in spec:
        dtype, shape = spec["ones"]
        return np.ones(shape, dtype)
    return spec


def _make(call):
    args = [_value(a) for a in call["args"]]
    kwargs = {k: _value(v) for k, v in call["kwargs"].items()}
    return getattr(tf1.nn, call["op"])(*args, **kwargs)


def _cases(table: dict, outcome) -> dict:
    names, specs, kinds, texts = [], [], [], []
    for name, spec in table.items():
        tf1.reset_default_graph()
        try:
            kind, text = "OK", outcome(spec)
        except Exception as e:  # noqa: BLE001 - recording whatever TF raises
            kind, text = type(e).__name__, str(e)
        names.append(name)
        specs.append(json.dumps(spec))
        kinds.append(kind)
        texts.append(text)
    return {
        "name": np.array(names),
        "call": np.array(specs),
        "kind": np.array(kinds),
        "text": np.array(texts),
    }


def _built(call) -> str:
    """The output's name, static shape (JSON list, or null) and dtype."""
    y = _make(call)
    shape = None if y.shape.ndims is None else y.shape.as_list()
    return json.dumps({"name": y.name, "shape": shape, "dtype": y.dtype.name})


def _ran(case) -> str:
    """The output's shape when fed arrays of the given shapes; the kernel's message if it fails."""
    feeds, call = case
    y = _make(call)
    phs = [
        op.outputs[0] for op in tf1.get_default_graph().get_operations() if op.type == "Placeholder"
    ]
    feed = {p: np.ones(s, p.dtype.as_numpy_dtype) for p, s in zip(phs, feeds)}
    try:
        with tf1.Session() as s:
            return json.dumps({"shape": list(s.run(y, feed).shape)})
    except tf.errors.OpError as e:
        # the kernel's message: the line after "Node: '...'" in TF's report
        lines = str(e).splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("Node: "))
        raise type(e)(None, None, lines[at + 1]) from None


def _values(rng, build, x_shape, f_shape=None, x=None, grads=True) -> dict:
    """``y = build(x, filter)`` and the gradients of ``sum(y * w)`` with ``w`` fixed random (not
    where TF has no gradient: ``grads=False``)."""
    tf1.reset_default_graph()
    xv = rng.normal(size=x_shape).astype(f32) if x is None else x
    xp = tf1.placeholder(tf.float32, x_shape)
    out = {"x": xv}
    feed = {xp: xv}
    inputs = [xp]
    if f_shape is not None:
        fv = rng.normal(0, 0.5, size=f_shape).astype(f32)
        fp = tf1.placeholder(tf.float32, f_shape)
        out["filter"], feed[fp] = fv, fv
        inputs.append(fp)
    y = build(*inputs)
    wv = rng.uniform(0.5, 2, size=y.shape.as_list()).astype(f32)
    grads = tf1.gradients(tf1.reduce_sum(y * wv), inputs) if grads else []
    with tf1.Session() as s:
        values = s.run([y, *grads], feed)
    out["y"] = values[0]
    if grads:
        out.update(w=wv, dx=values[1])
    if grads and f_shape is not None:
        out["dfilter"] = values[2]
    return out


def _program(rng) -> dict:
    """A text CNN's layer: embeddings (B, L, D, 1), a (3, D) filter bank, VALID, bias, ReLU,
    max pooling over 3 positions with SAME (L - 2 = 8 positions: the last window covers 2)."""
    tf1.reset_default_graph()
    B, L, D, K, Fn = 2, 10, 4, 3, 5
    emb = rng.normal(size=(B, L, D, 1)).astype(f32)
    wv = rng.normal(0, 0.5, size=(K, D, 1, Fn)).astype(f32)
    bv = rng.normal(0, 0.1, size=Fn).astype(f32)
    e, Wp, b = (tf1.placeholder(tf.float32, v.shape) for v in (emb, wv, bv))
    conv = tf1.nn.conv2d(e, Wp, strides=[1, 1, 1, 1], padding="VALID", name="conv")
    h = tf1.nn.relu(tf1.nn.bias_add(conv, b), name="relu")
    pooled = tf1.nn.max_pool(
        h, ksize=[1, 3, 1, 1], strides=[1, 3, 1, 1], padding="SAME", name="pool"
    )
    w = rng.uniform(0.5, 2, size=pooled.shape.as_list()).astype(f32)
    grads = tf1.gradients(tf1.reduce_sum(pooled * w), [e, Wp, b])
    with tf1.Session() as s:
        y, de, dW, db = s.run([pooled, *grads], {e: emb, Wp: wv, b: bv})
    return {
        "x": emb,
        "filter": wv,
        "bias": bv,
        "w": w,
        "y": y,
        "dx": de,
        "dfilter": dW,
        "dbias": db,
        "names": np.array([conv.name, h.name, pooled.name]),
    }


def value_cases(rng) -> dict:
    c2, c1, mp, ap = tf1.nn.conv2d, tf1.nn.conv1d, tf1.nn.max_pool, tf1.nn.avg_pool
    ties = np.maximum(np.round(rng.normal(size=(2, 7, 7, 2)), 0), 0).astype(f32)
    explicit = [[0, 0], [1, 0], [0, 1], [0, 0]]
    return {
        "conv2d_same": _values(
            rng, lambda x, f: c2(x, f, [1, 1, 1, 1], "SAME"), (2, 5, 7, 3), (3, 2, 3, 4)
        ),
        "conv2d_same_s2": _values(
            rng, lambda x, f: c2(x, f, [1, 2, 2, 1], "SAME"), (2, 7, 8, 3), (4, 3, 3, 2)
        ),
        "conv2d_valid_s2": _values(
            rng, lambda x, f: c2(x, f, [2, 1], "VALID"), (2, 7, 8, 3), (3, 3, 3, 2)
        ),
        "conv2d_explicit": _values(
            rng,
            lambda x, f: c2(x, f, 2, [[0, 0], [1, 2], [0, 3], [0, 0]]),
            (2, 5, 6, 2),
            (3, 2, 2, 3),
        ),
        "conv2d_dilated_same": _values(
            rng, lambda x, f: c2(x, f, 1, "SAME", dilations=2), (1, 7, 8, 2), (3, 2, 2, 3)
        ),
        "conv2d_dilated_valid": _values(
            rng, lambda x, f: c2(x, f, 1, "VALID", dilations=2), (1, 7, 8, 2), (3, 2, 2, 3)
        ),
        "conv2d_nchw": _values(
            rng,
            lambda x, f: c2(x, f, [1, 1, 2, 2], "SAME", data_format="NCHW"),
            (2, 3, 7, 8),
            (3, 2, 3, 4),
        ),
        "conv2d_grouped": _values(
            rng, lambda x, f: c2(x, f, 1, "SAME"), (2, 5, 6, 6), (3, 3, 3, 4)
        ),
        "max_pool_same": _values(
            rng, lambda x: mp(x, [1, 3, 2, 1], [1, 2, 2, 1], "SAME"), (2, 7, 9, 3)
        ),
        "max_pool_valid": _values(
            rng, lambda x: mp(x, [1, 3, 2, 1], [1, 2, 2, 1], "VALID"), (2, 7, 9, 3)
        ),
        "avg_pool_same": _values(
            rng, lambda x: ap(x, [1, 3, 2, 1], [1, 2, 2, 1], "SAME"), (2, 7, 9, 3)
        ),
        "avg_pool_valid": _values(
            rng, lambda x: ap(x, [1, 3, 2, 1], [1, 2, 2, 1], "VALID"), (2, 7, 9, 3)
        ),
        "avg_pool_same_s1": _values(rng, lambda x: ap(x, 3, 1, "SAME"), (1, 5, 6, 2)),
        "max_pool_ties": _values(rng, lambda x: mp(x, 3, 2, "SAME"), (2, 7, 7, 2), x=ties),
        "max_pool_nchw": _values(
            rng, lambda x: mp(x, 3, 2, "SAME", data_format="NCHW"), (2, 3, 7, 9)
        ),
        "avg_pool_nchw": _values(
            rng, lambda x: ap(x, 3, 2, "SAME", data_format="NCHW"), (2, 3, 7, 9)
        ),
        "max_pool_explicit": _values(rng, lambda x: mp(x, 2, 1, explicit), (2, 4, 5, 2)),
        "max_pool_depth": _values(
            rng, lambda x: mp(x, [1, 1, 1, 3], [1, 1, 1, 3], "VALID"), (2, 3, 4, 6), grads=False
        ),
        "program": _program(rng),
        "conv1d_same": _values(rng, lambda x, f: c1(x, f, 1, "SAME"), (2, 9, 3), (3, 3, 4)),
        "conv1d_valid_s2": _values(rng, lambda x, f: c1(x, f, 2, "VALID"), (2, 10, 3), (4, 3, 2)),
        "conv1d_ncw": _values(
            rng, lambda x, f: c1(x, f, 2, "SAME", data_format="NCW"), (2, 3, 9), (3, 3, 4)
        ),
        "conv1d_dilated": _values(
            rng, lambda x, f: c1(x, f, 1, "SAME", dilations=2), (2, 9, 3), (3, 3, 2)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("tests/fixtures/tf1_conv"))
    parser.add_argument(
        "--run-errors",
        action="store_true",
        help="print the run_errors case as JSON (run with oneDNN off)",
    )
    args = parser.parse_args()
    if args.run_errors:
        arrays = _cases(RUN, _ran)
        print(json.dumps({k: v.tolist() for k, v in arrays.items()}))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(23)
    cases = value_cases(rng)
    cases["build"] = _cases(BUILD, _built)
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0"}
    run = subprocess.run(
        [sys.executable, __file__, "--run-errors"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    cases["run_errors"] = {k: np.array(v) for k, v in json.loads(run.stdout).items()}
    for name, arrays in cases.items():
        np.savez_compressed(
            args.out / f"{name}.npz", **{k: np.asarray(v) for k, v in arrays.items()}
        )
    meta = {"tensorflow": tf.__version__}
    (args.out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
