"""Named difftest programs, one per kind of defect the tester found: ``make_fixtures.py`` records
TensorFlow's result of each in ``tests/fixtures/tf1_diff/``, and ``tests/compat/test_diff_fixtures.py``
replays them on rnnkit."""

from __future__ import annotations

from typing import Any


def R(name: str) -> dict:  # noqa: N802 - a reference to an input or op output
    return {"ref": name}


def D(name: str) -> dict:  # noqa: N802 - a tf dtype
    return {"tf_dtype": name}


def ph(name: str, value: Any, shape: Any = "same", dtype: str = "float32") -> dict:
    """A placeholder fed ``value``; ``shape`` its static shape (default: the value's)."""
    import numpy as np

    if shape == "same":
        shape = list(np.shape(value))
    return {"name": name, "kind": "placeholder", "dtype": dtype, "shape": shape, "value": value}


def const(name: str, value: Any, dtype: str = "float32") -> dict:
    import numpy as np

    return {"name": name, "kind": "const", "dtype": dtype, "shape": list(np.shape(value)),
            "value": value}  # fmt: skip


def var(name: str, value: Any, dtype: str = "float32") -> dict:
    import numpy as np

    return {"name": name, "kind": "variable", "dtype": dtype, "shape": list(np.shape(value)),
            "value": value}  # fmt: skip


def op(fn: str, *args: Any, out: str = "y", **kwargs: Any) -> dict:
    return {"fn": fn, "args": list(args), "kwargs": kwargs, "out": out}


def prog(area: str, inputs: list, ops: list, fetch: Any = None, grad: Any = "auto",
         **extra: Any) -> dict:  # fmt: skip
    fetch = fetch or [ops[-1]["out"]]
    if grad == "auto":
        xs = [i["name"] for i in inputs if i["dtype"].startswith("float")]
        grad = [[f, xs] for f in fetch] if xs else []
    p = {"seed": -1, "area": area, "kind": "expr", "inputs": inputs, "ops": ops, "fetch": fetch,
         "grad": grad}  # fmt: skip
    p.update(extra)
    return p


ZERO2 = [0.0, 0.0]

CASES: dict[str, dict] = {
    # gradients at zeros, ties, kinks and bounds
    "sigmoid_ce_grad_at_zero": prog(
        "nn",
        [ph("z", [0.0, 1.0]), ph("x", ZERO2)],
        [op("nn.sigmoid_cross_entropy_with_logits", labels=R("z"), logits=R("x"))],
    ),
    "maximum_tie_grad_to_x": prog(
        "math",
        [ph("a", [0.0, 1.0, 2.0]), ph("b", [0.0, 1.0, 3.0])],
        [op("maximum", R("a"), R("b"))],
    ),
    "maximum_relu_at_zero": prog("math", [ph("a", [-1.0, 0.0, 1.0])], [op("maximum", R("a"), 0.0)]),
    "minimum_tie_grad_to_x": prog(
        "math",
        [ph("a", [0.0, 1.0, 2.0]), ph("b", [0.0, 2.0, 2.0])],
        [op("minimum", R("a"), R("b"))],
    ),
    "clip_by_value_grad_at_bounds": prog(
        "math", [ph("a", [-1.0, -0.5, 0.0, 0.5, 1.0])], [op("clip_by_value", R("a"), -0.5, 0.5)]
    ),
    "relu6_grad_at_0_and_6": prog(
        "nn", [ph("a", [-1.0, 0.0, 3.0, 6.0, 7.0])], [op("nn.relu6", R("a"))]
    ),
    "selu_grad_at_zero": prog("nn", [ph("a", [-1.0, 0.0, 1.0])], [op("nn.selu", R("a"))]),
    "elu_grad_at_zero": prog("nn", [ph("a", [-1.0, 0.0, 1.0])], [op("nn.elu", R("a"))]),
    "clip_by_norm_zero_vector": prog(
        "nn", [ph("a", [[0.0, 0.0], [3.0, 4.0]])], [op("clip_by_norm", R("a"), 1.0)]
    ),
    "clip_by_norm_zero_rows_axes": prog(
        "nn", [ph("a", [[0.0, 0.0], [3.0, 4.0]])], [op("clip_by_norm", R("a"), 1.0, axes=[1])]
    ),
    "softmax_ce_grad_labels_not_summing_to_1": prog(
        "nn",
        [ph("z", [[0.2, 0.3, 0.1], [0.5, 0.9, 0.0]]), ph("x", [[0.5, -1.0, 2.0], [0.0, 1.0, 0.0]])],
        [op("nn.softmax_cross_entropy_with_logits_v2", labels=R("z"), logits=R("x"))],
    ),
    "softmax_ce_v1_labels_not_summing_to_1": prog(
        "nn",
        [ph("z", [[0.2, 0.3, 0.1], [0.5, 0.9, 0.0]]), ph("x", [[0.5, -1.0, 2.0], [0.0, 1.0, 0.0]])],
        [op("nn.softmax_cross_entropy_with_logits", labels=R("z"), logits=R("x"))],
    ),
    # values
    "pad_reflect": prog(
        "array",
        [ph("a", [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])],
        [op("pad", R("a"), [[1, 1], [2, 2]], mode="REFLECT")],
    ),
    "pad_symmetric": prog(
        "array",
        [ph("a", [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])],
        [op("pad", R("a"), [[2, 1], [3, 0]], mode="symmetric")],
    ),
    "reduce_any_two_axes": prog(
        "reduce",
        [const("a", [[[True, False], [False, False]], [[False, False], [False, False]]], "bool")],
        [op("reduce_any", R("a"), axis=[0, 2])],
    ),
    "reduce_all_keepdims": prog(
        "reduce",
        [const("a", [[True, False], [True, True]], "bool")],
        [op("reduce_all", R("a"), axis=1, keepdims=True)],
    ),
    "reduce_prod_int32_dtype": prog(
        "reduce", [const("a", [[1, 2], [3, 4]], "int32")], [op("reduce_prod", R("a"), axis=0)]
    ),
    # losses
    "mse_shape_mismatch_refused": prog(
        "losses",
        [ph("z", [[1.0], [2.0], [3.0]]), ph("p", [1.0, 2.0, 3.0])],
        [op("losses.mean_squared_error", labels=R("z"), predictions=R("p"))],
    ),
    "losses_weighted_sum": prog(
        "losses",
        [ph("z", [1.0, 2.0, 3.0]), ph("p", [1.5, 2.0, 2.0]), const("w", [1.0, 0.0, 2.0])],
        [
            op(
                "losses.mean_squared_error",
                labels=R("z"),
                predictions=R("p"),
                weights=R("w"),
                reduction="weighted_sum",
            )
        ],
    ),
    "losses_reduction_none": prog(
        "losses",
        [ph("z", [1.0, 2.0, 3.0]), ph("p", [1.5, 2.0, 2.0])],
        [op("losses.absolute_difference", labels=R("z"), predictions=R("p"), reduction="none")],
    ),
    "losses_zero_weights_grad": prog(
        "losses",
        [ph("z", [1.0, 2.0]), ph("p", [1.5, 2.0]), const("w", [0.0, 0.0])],
        [op("losses.absolute_difference", labels=R("z"), predictions=R("p"), weights=R("w"))],
    ),
    "losses_float32_in_float32_graph": prog(
        "losses",
        [ph("z", [1.0, 0.0]), ph("p", [0.25, 0.5])],
        [op("losses.log_loss", labels=R("z"), predictions=R("p"), weights=2.0)],
    ),
    "losses_softmax_ce_labels_no_grad": prog(
        "losses",
        [ph("z", [[1.0, 0.0], [0.0, 1.0]]), ph("x", [[0.5, 0.1], [0.2, 0.3]])],
        [op("losses.softmax_cross_entropy", onehot_labels=R("z"), logits=R("x"))],
    ),
    # run-time shape checks
    "squeeze_runtime_not_1": prog(
        "array", [ph("a", [[1.0, 2.0]], [None, None])], [op("squeeze", R("a"), axis=[1])]
    ),
    "split_runtime_not_divisible": prog(
        "array", [ph("a", [1.0, 2.0, 3.0], [None])], [op("split", R("a"), 2)]
    ),
    "unstack_num_runtime_mismatch": prog(
        "array", [ph("a", [1.0, 2.0, 3.0], [None])], [op("unstack", R("a"), num=2)]
    ),
    "where_runtime_shape_mismatch": prog(
        "array",
        [
            const("c", [True, False], "bool"),
            ph("a", [1.0, 2.0, 3.0], [None]),
            const("b", [5.0, 6.0]),
        ],
        [op("where", R("c"), R("a"), R("b"))],
    ),
    "add_runtime_shape_mismatch": prog(
        "math",
        [ph("a", [1.0, 2.0, 3.0], [None]), ph("b", [1.0, 2.0], [None])],
        [op("add", R("a"), R("b"))],
    ),
    "matmul_runtime_shape_mismatch": prog(
        "math",
        [ph("a", [[1.0, 2.0]], [None, None]), ph("b", [[1.0, 2.0]], [None, None])],
        [op("matmul", R("a"), R("b"))],
    ),
    "concat_runtime_shape_mismatch": prog(
        "array",
        [ph("a", [[1.0, 2.0]], [None, None]), const("b", [[1.0, 2.0, 3.0]])],
        [op("concat", [R("a"), R("b")], 0)],
    ),
    # static shapes and accepted arguments
    "one_hot_axis0_static_shape": prog(
        "array", [const("i", [0, 2, 1], "int32")], [op("one_hot", R("i"), 4, axis=0)]
    ),
    "split_sizes_with_minus_one": prog(
        "array", [ph("a", [[1.0, 2.0, 3.0, 4.0]])], [op("split", R("a"), [1, -1], axis=1)]
    ),
    "stack_unknown_rank_shape": prog(
        "array",
        [ph("a", [1.0, 2.0], None), const("b", [3.0, 4.0])],
        [op("stack", [R("a"), R("b")])],
    ),
    "bias_add_static_shape": prog(
        "nn",
        [ph("a", [[1.0, 2.0]], [1, None]), const("b", [1.0, 2.0])],
        [op("nn.bias_add", R("a"), R("b"))],
    ),
    # raw errors
    "range_delta_zero": prog("math", [], [op("range", 0, 5, 0)], grad=[]),
    "softmax_axis_out_of_range": prog(
        "nn", [ph("a", [[1.0, 2.0]])], [op("nn.softmax", R("a"), axis=2)]
    ),
    "in_top_k_target_out_of_range": prog(
        "nn",
        [ph("p", [[0.1, 0.9], [0.5, 0.5]]), const("t", [2, 1], "int32")],
        [op("nn.in_top_k", R("p"), R("t"), 1)],
        grad=[],
    ),
    # gradients that TensorFlow leaves None
    "floor_grad_none": prog("math", [ph("a", [0.5, 1.5])], [op("floor", R("a"))]),
    "round_grad_none": prog("math", [ph("a", [0.5, 1.5])], [op("round", R("a"))]),
    "sign_grad": prog("math", [ph("a", [0.5, -1.5])], [op("sign", R("a"))]),
    "stop_gradient_grad_none": prog("array", [ph("a", [0.5, -1.5])], [op("stop_gradient", R("a"))]),
    "zeros_like_grad_none": prog("array", [ph("a", [0.5, -1.5])], [op("zeros_like", R("a"))]),
    "minimize_through_floor_refused": prog(
        "optim",
        [const("x", [[1.0, 2.0]]), var("w", [[0.5], [0.25]])],
        [
            op("matmul", R("x"), R("w"), out="m"),
            op("floor", R("m"), out="f"),
            op("reduce_sum", R("f"), out="loss"),
        ],
        fetch=["loss"],
        grad=[],
        kind="optim",
        optimizer={"fn": "train.GradientDescentOptimizer", "kwargs": {"learning_rate": 0.1}},
        loss="loss",
        steps=1,
    ),
    "embedding_grad_indexed_slices": prog(
        "nn",
        [const("p", [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), const("i", [2, 0, 2], "int32")],
        [op("nn.embedding_lookup", R("p"), R("i"))],
    ),
    # names and dtypes
    "gru_cell_called_at_top_level": prog(
        "rnn",
        [ph("x", [[1.0, 2.0]]), ph("h", [[0.5, -0.5]])],
        [op("nn.rnn_cell.GRUCell", num_units=2, out="c"), op("__call__", R("c"), R("x"), R("h"))],
    ),
    "adam_beta_powers_float32_for_float64": prog(
        "optim",
        [const("x", [[1.0, 2.0]], "float64"), var("w", [[0.5], [0.25]], "float64")],
        [op("matmul", R("x"), R("w"), out="m"), op("reduce_sum", R("m"), out="loss")],
        fetch=["loss"],
        grad=[],
        kind="optim",
        optimizer={"fn": "train.AdamOptimizer", "kwargs": {"learning_rate": 0.1}},
        loss="loss",
        steps=2,
    ),
    "dynamic_rnn_int64_sequence_length": prog(
        "rnn",
        [ph("x", [[[1.0], [2.0], [3.0]], [[0.5], [0.0], [0.0]]]), const("n", [3, 1], "int64")],
        [
            op("nn.rnn_cell.BasicRNNCell", num_units=2, out="c"),
            op("nn.dynamic_rnn", R("c"), R("x"), sequence_length=R("n"), dtype=D("float32")),
        ],
    ),
    "dynamic_rnn_float64_initial_state_no_dtype": prog(
        "rnn",
        [ph("x", [[[1.0], [2.0]]], dtype="float64"), ph("h", [[0.5, -0.5]], dtype="float64")],
        [
            op("nn.rnn_cell.GRUCell", num_units=2, out="c"),
            op("nn.dynamic_rnn", R("c"), R("x"), initial_state=R("h")),
        ],
    ),
    # assign_add/assign_sub: the update is not broadcast (build-time shape merge, run-time check)
    "assign_add_rank_mismatch_refused": prog(
        "array",
        [var("w", [[1.0, 2.0], [3.0, 4.0]]), const("d", [1.0, 2.0])],
        [op("assign_add", R("w"), R("d"))],
        grad=[],
    ),
    "assign_sub_dim_mismatch_refused": prog(
        "array",
        [var("w", [[1.0, 2.0], [3.0, 4.0]]), const("d", [[1.0]])],
        [op("assign_sub", R("w"), R("d"))],
        grad=[],
    ),
    "assign_add_runtime_shape_refused": prog(
        "array",
        [var("w", [[1.0, 2.0], [3.0, 4.0]]), ph("d", [1.0, 2.0], shape=None)],
        [op("assign_add", R("w"), R("d"))],
        grad=[],
    ),
    "assign_add_same_shape": prog(
        "array",
        [var("w", [[1.0, 2.0], [3.0, 4.0]]), ph("d", [[0.5, 1.0], [1.5, 2.0]], shape=None)],
        [op("assign_add", R("w"), R("d"))],
        grad=[],
    ),
    # a fed sequence_length: past the last step or negative (clipped), of another batch (refused)
    "dynamic_rnn_lengths_past_end_and_negative": prog(
        "rnn",
        [
            ph("x", [[[1.0], [2.0], [3.0]], [[0.5], [-1.0], [2.0]], [[1.5], [0.5], [0.0]]]),
            ph("n", [5, -1, 2], "same", "int32"),
        ],
        [
            op("nn.rnn_cell.GRUCell", num_units=2, out="c"),
            op("nn.dynamic_rnn", R("c"), R("x"), sequence_length=R("n"), dtype=D("float32")),
        ],
    ),
    "static_rnn_lengths_past_end_and_negative": prog(
        "rnn",
        [
            ph("x", [[[1.0], [2.0], [3.0]], [[0.5], [-1.0], [2.0]], [[1.5], [0.5], [0.0]]]),
            ph("n", [4, -2, 1], "same", "int32"),
        ],
        [
            op("nn.rnn_cell.BasicRNNCell", num_units=2, out="c"),
            op("unstack", R("x"), axis=1, out="xs"),
            op("nn.static_rnn", R("c"), R("xs"), sequence_length=R("n"), dtype=D("float32")),
        ],
    ),
    "dynamic_rnn_lengths_of_another_batch_refused": prog(
        "rnn",
        [ph("x", [[[1.0], [2.0]], [[0.5], [-1.0]]]), ph("n", [1, 2, 2], [None], "int32")],
        [
            op("nn.rnn_cell.BasicRNNCell", num_units=2, out="c"),
            op("nn.dynamic_rnn", R("c"), R("x"), sequence_length=R("n"), dtype=D("float32")),
        ],
    ),
    "bidirectional_rnn_length_past_end_refused": prog(
        "rnn",
        [ph("x", [[[1.0], [2.0]], [[0.5], [-1.0]]]), ph("n", [3, 1], [None], "int32")],
        [
            op("nn.rnn_cell.GRUCell", num_units=2, out="c"),
            op("nn.rnn_cell.GRUCell", num_units=2, out="d"),
            op(
                "nn.bidirectional_dynamic_rnn",
                R("c"),
                R("d"),
                R("x"),
                sequence_length=R("n"),
                dtype=D("float32"),
            ),
        ],
    ),
    # a cell called directly on a state of another width than its units: refused at build time
    "gru_cell_call_state_width_refused": prog(
        "rnn",
        [ph("x", [[1.0, 2.0]]), ph("h", [[0.5, -0.5]])],
        [op("nn.rnn_cell.GRUCell", num_units=3, out="c"), op("__call__", R("c"), R("x"), R("h"))],
    ),
    "basic_lstm_call_cell_state_width_refused": prog(
        "rnn",
        [ph("x", [[1.0, 2.0]]), ph("c0", [[0.5, -0.5]]), ph("h0", [[0.5, -0.5, 1.0]])],
        [
            op("nn.rnn_cell.BasicLSTMCell", num_units=3, out="c"),
            op("nn.rnn_cell.LSTMStateTuple", R("c0"), R("h0"), out="s"),
            op("__call__", R("c"), R("x"), R("s")),
        ],
    ),
}

SAVER_CASES: dict[str, dict] = {
    # a checkpoint's float64 variable restored into a float32 one: refused
    "saver_restore_dtype_mismatch": {
        "write": [{"name": "v", "shape": [2], "dtype": "float64"}],
        "read": [{"name": "v", "shape": [2], "dtype": "float32"}],
    },
}

#: cases the random tester found, by seed (``programs.program(seed)``; the program itself is what
#: the fixture records, so later changes to the generator do not change the case)
SEEDED: dict[str, int] = {
    "adam_float64_hyper_rounded_to_float32": 140,
    "floordiv_grad_none": 663,
    "reduce_negative_axis_unknown_rank": 361,
    "argmin_negative_axis_unknown_rank": 710,
    "dense_output_named_bias_add": 7,
    "dense_same_name_twice_unique_scope": 620,
    "softmax_ce_label_smoothing_unknown_classes": 362,
    "losses_none_static_shape_broadcast": 370,
    "losses_none_static_shape_from_labels": 364,
    "sigmoid_ce_static_shape_broadcast": 440,
    "in_top_k_batch_from_targets": 564,
    "sparse_ce_static_shape_from_logits": 616,
    "softmax_ce_static_shape_from_labels": 718,
    "pack_of_incompatible_shapes_refused": 308,
    "squeeze_unknown_dims_no_axis": 768,
    "squeeze_unknown_rank_axis": 983,
    "transpose_unknown_rank_perm": 790,
    "pad_unknown_rank": 757,
    "cell_call_float64": 853,
    "tile_unknown_rank": 5086,
    "sequence_mask_constant_lengths_maxlen": 6432,
    "sequence_mask_scalar_constant": 5445,
    "concat_negative_axis_unknown_rank": 5969,
    "concat_some_unknown_ranks": 6276,
    "squeeze_empty_axis_list": 6011,
    "softmax_ce_unknown_logits_rank": 5680,
    "dynamic_rnn_batch_from_initial_state": 5464,
    "dynamic_rnn_state_keeps_initial_shape": 5090,
    "softmax_axis_unknown_rank_refused": 200898,
    "unstack_unknown_rank_with_num": 1000160,
    "transpose_unknown_rank_one_axis": 1000738,
    "expand_dims_negative_axis_unknown_rank": 1001039,
    "stack_negative_axis_unknown_rank": 1002306,
    "split_negative_axis_unknown_rank": 1005150,
    "clip_by_global_norm_grad_at_norm_equal_clip": 3003066,
    "where_static_shape_from_condition": 3003862,
    "losses_sparse_ce_unknown_logits_rank": 3004249,
    "where_condition_shape_ignored_for_unknown_rank_x": 5009263,
    "where_condition_rank3_shape_merged": 9007021,
    "lstm_cell_call_batch_from_state": 30000740,
    "gru_cell_call_batch_from_state": 30001563,
    "basic_lstm_call_unknown_state_width": 31000268,
    "lstm_call_unknown_rank_state": 31000459,
    "gru_call_unknown_rank_state": 31001322,
    "losses_sparse_ce_unknown_logits_rank_labels_not_squeezable": 32002820,
    "losses_sparse_ce_unknown_labels_rank_weights": 33004948,
    # TF's result with Grappler's arithmetic rewrites off (see tf_side.py): the graph's shape
    "pow_scalar_by_matrix_exponent_keeps_the_broadcast_shape": 90002720,
    "pow_rank2_by_rank3_exponent_broadcasts": 90007442,
    "where_unknown_rank_x_and_y_ignore_a_rank2_condition": 96000422,
}
