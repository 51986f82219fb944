"""Every compat test starts and ends with an empty default graph, as TensorFlow's own tests do."""

from __future__ import annotations

import pytest

import rnnkit.compat.v1 as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()
