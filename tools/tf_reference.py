"""What the fixture generators share: real TensorFlow's ``tf.compat.v1`` in graph mode, with the
legacy Keras cells (TensorFlow 2.16 and later ship Keras 3, which lacks the TF1 ``rnn_cell``
classes; tf-keras has them) and its logging quiet. They run outside rnnkit's environment, in a venv
with ``tensorflow`` and ``tf-keras``; ``from tf_reference import tf, tf1`` (tools/ is the script's
folder).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

tf1 = tf.compat.v1
tf1.disable_v2_behavior()
tf1.logging.set_verbosity(tf1.logging.ERROR)

__all__ = ["tf", "tf1"]
