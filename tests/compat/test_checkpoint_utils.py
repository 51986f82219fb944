"""``train/checkpoint_utils.py``: reading a TensorFlow checkpoint without a graph
(``tests/fixtures/tf1_census_gaps/multi_shared_ckpt``), and ``tf.train.global_step``."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import CENSUS, census_fixture


def test_checkpoint_reader_and_list_variables_on_tf_checkpoint(tmp_path):
    ref = census_fixture("multi_shared")
    prefix = str(CENSUS / "multi_shared_ckpt" / "model")
    kernel, bias = (f"rnn/multi_rnn_cell/cell_0/basic_lstm_cell/{n}" for n in ("kernel", "bias"))
    reader = tf.train.NewCheckpointReader(prefix)
    assert reader.get_variable_to_shape_map() == {kernel: [8, 16], bias: [16]}
    assert reader.get_variable_to_dtype_map() == {kernel: tf.float32, bias: tf.float32}
    assert reader.has_tensor(bias) and not reader.has_tensor("x")
    np.testing.assert_array_equal(reader.get_tensor(kernel), ref["kernel"])
    with pytest.raises(tf.errors.NotFoundError, match="Key nope not found in checkpoint"):
        reader.get_tensor("nope")
    for where in (prefix, str(CENSUS / "multi_shared_ckpt")):
        assert tf.train.list_variables(where) == [(bias, [16]), (kernel, [8, 16])]
        assert tf.contrib.framework.list_variables(where) == [(bias, [16]), (kernel, [8, 16])]
    np.testing.assert_array_equal(tf.train.load_variable(prefix, bias + ":0"), ref["bias"])
    assert tf.contrib.framework.load_checkpoint(prefix).has_tensor(kernel)
    with pytest.raises(tf.errors.NotFoundError, match="Failed to find any matching files for"):
        tf.train.NewCheckpointReader(str(tmp_path / "model"))
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file or checkpoints"):
        tf.train.list_variables(str(tmp_path))


def test_train_global_step_is_an_int():
    step = tf.train.get_or_create_global_step()
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        s.run(tf.assign_add(step, 3))
        got = tf.train.global_step(s, step)
    assert got == 3 and type(got) is int
