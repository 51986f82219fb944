"""A Python list, tuple or dict as ``dynamic_rnn``'s ``inputs``: TensorFlow 1.x reads it as a nested
structure of sequences, never as time steps, and so do ``rnnkit.dynamic_rnn`` and
``rnnkit.compat.v1.nn.dynamic_rnn``: the same exception type as TensorFlow, with the fix.

``tests/fixtures/tf1_structured_inputs.json`` is what ``tf.compat.v1.nn.dynamic_rnn`` (TF 2.21)
did with each case (tools/make_tf1_structured_inputs_fixture.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import rnnkit
import rnnkit.compat.v1 as tf

RECORD = json.loads(
    (Path(__file__).resolve().parent / "fixtures" / "tf1_structured_inputs.json").read_text()
)
CASES = {case["name"]: case for case in RECORD["cases"]}

# TensorFlow's IndexError (an empty list) and KeyError (a dict) come from indexing its own lists;
# rnnkit names the argument with the ValueError/TypeError every other bad `inputs` gets.
_SAME_KIND = {"IndexError": ValueError, "KeyError": TypeError}


def expected_exception(case: dict) -> type[Exception] | None:
    raised = case["result"].get("raises")
    if raised is None:
        return None
    return _SAME_KIND.get(raised) or {"ValueError": ValueError, "TypeError": TypeError}[raised]


def make(structure, leaf_fn):
    if structure == "number":
        return 1.0
    if structure and isinstance(structure[0], str):
        kind, items = structure[0], [make(s, leaf_fn) for s in structure[1:]]
        if kind == "dict":
            return {f"k{i}": item for i, item in enumerate(items)}
        return tuple(items) if kind == "tuple" else items
    return leaf_fn(structure)


def test_the_record_covers_each_kind_of_structure():
    assert RECORD["tensorflow"].startswith("2.")
    raised = {case["result"].get("raises") for case in CASES.values()}
    assert raised == {"ValueError", "TypeError", "IndexError", "KeyError", None}
    assert CASES["list of two steps"]["result"]["message"] == (
        "Shape (3, 4) must have rank at least 3"  # transposed as (B, T) -> (T, B), then refused
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_rnnkit_dynamic_rnn_does_what_tensorflow_does(name):
    case = CASES[name]
    inputs = make(case["structure"], lambda shape: torch.ones(shape))
    if case["leaf"] == "array":
        inputs = np.ones(case["structure"], np.float32)
    cell = rnnkit.BasicRNNCell(5)

    def call():
        if case["function"] == "dynamic_rnn":
            return rnnkit.dynamic_rnn(cell, inputs, time_major=case["time_major"])[0]
        return rnnkit.bidirectional_dynamic_rnn(
            cell, rnnkit.BasicRNNCell(5), inputs, time_major=case["time_major"]
        )[0][0]

    exc = expected_exception(case)
    if exc is None:
        assert list(call().shape) == case["result"]["outputs"]
        return
    with pytest.raises(exc, match="`inputs`: expected one tensor of shape") as info:
        call()
    assert type(info.value) is exc
    if case["structure"][1:] == [[4, 3], [4, 3]]:  # time steps: the two ways to pass them
        axis = 0 if case["time_major"] else 1
        assert "rnnkit.static_rnn(cell, inputs)" in str(info.value)
        assert f"torch.stack(inputs, dim={axis})" in str(info.value)


@pytest.mark.parametrize("name", sorted(CASES))
def test_compat_dynamic_rnn_does_what_tensorflow_does(name):
    case = CASES[name]
    tf.reset_default_graph()

    def leaf(shape):
        if case["leaf"] == "placeholder":
            return tf.placeholder(tf.float32, shape)
        return tf.constant(np.ones(shape, np.float32))

    inputs = make(case["structure"], leaf)
    if case["leaf"] == "array":
        inputs = np.ones(case["structure"], np.float32)
    cell = tf.nn.rnn_cell.BasicRNNCell(5)

    def call():
        kwargs = {"dtype": tf.float32, "time_major": case["time_major"]}
        if case["function"] == "dynamic_rnn":
            return tf.nn.dynamic_rnn(cell, inputs, **kwargs)[0]
        other = tf.nn.rnn_cell.BasicRNNCell(5)
        return tf.nn.bidirectional_dynamic_rnn(cell, other, inputs, **kwargs)[0][0]

    exc = expected_exception(case)
    try:
        if exc is None:
            assert call().shape.as_list() == case["result"]["outputs"]
            return
        with pytest.raises(exc, match="`inputs`: expected one tensor of shape") as info:
            call()
        assert type(info.value) is exc
        if case["structure"][1:] == [[4, 3], [4, 3]]:
            axis = 0 if case["time_major"] else 1
            assert "tf.nn.static_rnn(cell, inputs)" in str(info.value)
            assert f"tf.stack(inputs, axis={axis})" in str(info.value)
    finally:
        tf.reset_default_graph()


def test_the_fixes_the_message_names_give_what_a_tensor_gives():
    """static_rnn over the list of steps, and dynamic_rnn over them stacked, agree."""
    torch.manual_seed(0)
    cell = rnnkit.GRUCell(5)
    steps = [torch.randn(4, 3) for _ in range(2)]
    with pytest.raises(ValueError, match="static_rnn"):
        rnnkit.dynamic_rnn(cell, steps)
    outputs, state = rnnkit.dynamic_rnn(cell, torch.stack(steps, dim=1))
    step_outputs, step_state = rnnkit.static_rnn(cell, steps)
    torch.testing.assert_close(outputs, torch.stack(step_outputs, dim=1))
    torch.testing.assert_close(state, step_state)
