"""Record what TensorFlow 1.x's ``dynamic_rnn`` does with a Python list, tuple or dict as ``inputs``.

TF1 reads such ``inputs`` as a nested structure of sequences (``nest.flatten``), each ``(B, T, ...)``,
never as a list of time steps. For each case below this runs ``tf.compat.v1.nn.dynamic_rnn`` (and
``bidirectional_dynamic_rnn`` where named) with a ``BasicRNNCell(5)`` in graph mode, and records
the exception type and message, or the output shape when it runs::

    TF_USE_LEGACY_KERAS=1 /root/tfvenv/bin/python tools/make_tf1_structured_inputs_fixture.py \\
        --out tests/fixtures/tf1_structured_inputs.json

Each case: ``structure`` of leaf shapes (a list/tuple/dict nesting; a leaf is a shape list, or
``"number"`` for a Python float), ``time_major``, ``function``, ``leaf`` (``"constant"`` or
``"placeholder"``) and TensorFlow's ``result``.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf1 = tf.compat.v1

CASES = [
    # (name, structure, time_major, function, leaf)
    ("list of two steps", ["list", [4, 3], [4, 3]], False, "dynamic_rnn", "constant"),
    (
        "list of two step placeholders",
        ["list", [4, 3], [4, 3]],
        False,
        "dynamic_rnn",
        "placeholder",
    ),
    ("list of two steps, time-major", ["list", [4, 3], [4, 3]], True, "dynamic_rnn", "constant"),
    ("list of one step", ["list", [4, 3]], False, "dynamic_rnn", "constant"),
    ("tuple of two steps", ["tuple", [4, 3], [4, 3]], False, "dynamic_rnn", "constant"),
    ("list of two sequences", ["list", [4, 2, 3], [4, 2, 3]], False, "dynamic_rnn", "constant"),
    ("tuple of two sequences", ["tuple", [4, 2, 3], [4, 2, 1]], False, "dynamic_rnn", "constant"),
    ("list of one sequence", ["list", [4, 2, 3]], False, "dynamic_rnn", "constant"),
    ("tuple of one sequence", ["tuple", [4, 2, 3]], False, "dynamic_rnn", "placeholder"),
    ("dict of one sequence", ["dict", [4, 2, 3]], False, "dynamic_rnn", "constant"),
    ("empty list", ["list"], False, "dynamic_rnn", "constant"),
    ("nested list of numbers", ["list", ["list", "number", "number"]], False, "dynamic_rnn", "-"),
    ("array", [2, 4, 3], False, "dynamic_rnn", "array"),
    (
        "bidirectional, list of two steps",
        ["list", [4, 3], [4, 3]],
        False,
        "bidirectional_dynamic_rnn",
        "constant",
    ),
]


def make(structure, leaf):
    if structure == "number":
        return 1.0
    if structure and isinstance(structure[0], str):
        kind, items = structure[0], [make(s, leaf) for s in structure[1:]]
        if kind == "dict":
            return {f"k{i}": item for i, item in enumerate(items)}
        return tuple(items) if kind == "tuple" else items
    if leaf == "placeholder":
        return tf1.placeholder(tf.float32, structure)
    if leaf == "array":
        return np.ones(structure, np.float32)
    return tf.constant(np.ones(structure, np.float32))


def run(case):
    name, structure, time_major, function, leaf = case
    graph = tf1.Graph()
    with graph.as_default():
        try:
            inputs = make(structure, leaf)
            cell = tf1.nn.rnn_cell.BasicRNNCell(5)
            if function == "dynamic_rnn":
                out, _ = tf1.nn.dynamic_rnn(cell, inputs, dtype=tf.float32, time_major=time_major)
            else:
                (out, _), _ = tf1.nn.bidirectional_dynamic_rnn(
                    cell,
                    tf1.nn.rnn_cell.BasicRNNCell(5),
                    inputs,
                    dtype=tf.float32,
                    time_major=time_major,
                )
            result = {"outputs": out.shape.as_list()}
        except Exception as exc:  # what TensorFlow raises is the record
            result = {"raises": type(exc).__name__, "message": str(exc)[:300]}
    return {
        "name": name,
        "structure": structure,
        "time_major": time_major,
        "function": function,
        "leaf": leaf,
        "result": result,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    tf1.disable_v2_behavior()
    record = {"tensorflow": tf.__version__, "cases": [run(case) for case in CASES]}
    with open(args.out, "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    for case in record["cases"]:
        print(case["name"], case["result"].get("raises", case["result"].get("outputs")))


if __name__ == "__main__":
    main()
