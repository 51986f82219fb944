"""The old TF names and the ``tensorflow`` import paths ``_install.install()`` provides."""

from __future__ import annotations

import pytest

import rnnkit.compat.v1 as tf


def test_old_names_and_import_paths():
    from rnnkit.compat.v1._install import install, uninstall

    assert tf.train.SummaryWriter is tf.summary.FileWriter
    for n in ("BasicLSTMCell", "MultiRNNCell", "DropoutWrapper", "GRUCell"):
        assert getattr(tf.contrib.rnn.core_rnn_cell, n) is getattr(tf.nn.rnn_cell, n)
        assert f"contrib.rnn.core_rnn_cell.{n}" in tf.SUPPORTED
    for n in ("nn.raw_rnn", "nn.rnn", "nn.sampled_softmax_loss", "metrics.accuracy", "nest.flatten",
              "train.AdadeltaOptimizer", "train.SummaryWriter", "contrib.framework.nest.is_sequence"):  # fmt: skip
        assert n in tf.SUPPORTED
    install()
    try:
        from tensorflow.python.layers import core as layers_core
        from tensorflow.python.layers.core import Dense
        from tensorflow.python.util import nest

        assert Dense is layers_core.Dense is tf.layers.Dense
        assert nest.flatten is tf.nest.flatten
    finally:
        uninstall()


def test_the_debugger_module_imports_and_its_names_are_outside_the_subset():
    """Programs import ``tensorflow.python.debug`` at the top and use it behind a flag: the import
    works, and a use names what is missing."""
    from rnnkit.compat.v1._install import install, uninstall
    from rnnkit.compat.v1.errors import UnsupportedError

    install()
    try:
        from tensorflow.python import debug as tf_debug

        with pytest.raises(UnsupportedError, match="python.debug.LocalCLIDebugWrapperSession"):
            _ = tf_debug.LocalCLIDebugWrapperSession
    finally:
        uninstall()
