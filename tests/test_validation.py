"""Bad input raises ValueError/TypeError naming the argument, what was expected and what was received."""

import re

import numpy as np
import pytest
import torch

import rnnkit


def raises(exc, *words):
    """pytest.raises whose message must contain every word (argument name, expected, received)."""
    pattern = "".join(f"(?=.*{re.escape(w)})" for w in words)
    return pytest.raises(exc, match=re.compile(pattern, re.S))


@pytest.mark.parametrize(
    "cls", [rnnkit.BasicRNNCell, rnnkit.BasicLSTMCell, rnnkit.LSTMCell, rnnkit.GRUCell]
)
@pytest.mark.parametrize(
    "bad,exc",
    [(0, ValueError), (-3, ValueError), (2.5, TypeError), ("8", TypeError), (True, TypeError)],
)
def test_num_units(cls, bad, exc):
    with raises(
        exc,
        "`num_units`",
        "positive integer",
        repr(bad) if exc is ValueError else type(bad).__name__,
    ):
        cls(bad)


def test_other_constructor_arguments():
    with raises(ValueError, "`activation`", "'sigmoid'"):
        rnnkit.BasicRNNCell(3, activation="sigmoid")
    with raises(TypeError, "`forget_bias`", "real number"):
        rnnkit.BasicLSTMCell(3, forget_bias="1")
    with raises(TypeError, "`use_peepholes`", "bool"):
        rnnkit.LSTMCell(3, use_peepholes=1)
    with raises(ValueError, "`input_size`", "positive integer", "0"):
        rnnkit.GRUCell(3, input_size=0)
    with raises(ValueError, "`cells`", "non-empty", "empty list"):
        rnnkit.MultiRNNCell([])
    with raises(TypeError, "`cells[1]`", "rnnkit cell"):
        rnnkit.MultiRNNCell([rnnkit.GRUCell(2), torch.nn.GRU(2, 2)])
    with raises(ValueError, "`output_keep_prob`", "(0, 1]", "1.5"):
        rnnkit.DropoutWrapper(rnnkit.GRUCell(2), output_keep_prob=1.5)
    with raises(ValueError, "`output_size`", "positive integer"):
        rnnkit.OutputProjectionWrapper(rnnkit.GRUCell(2), 0)
    with raises(ValueError, "`batch_size`", "non-negative"):
        rnnkit.GRUCell(2).zero_state(-1)


def test_inputs_rank_and_width():
    cell = rnnkit.BasicRNNCell(4)
    with raises(ValueError, "`inputs`", "rank-3", "(B, T, I)", "(2, 3)"):
        rnnkit.dynamic_rnn(cell, torch.zeros(2, 3))
    with raises(ValueError, "`inputs`", "(T, B, I)", "time_major"):
        rnnkit.dynamic_rnn(cell, torch.zeros(2, 3, 4, 5), time_major=True)
    rnnkit.dynamic_rnn(cell, torch.zeros(2, 3, 5))  # builds with I = 5
    with raises(ValueError, "`inputs`", "input width 5", "got 6"):
        rnnkit.dynamic_rnn(cell, torch.zeros(2, 3, 6))
    with raises(ValueError, "`inputs`", "input width 5", "got 2"):
        cell(torch.zeros(1, 2), cell.zero_state(1))
    with raises(TypeError, "`inputs`", "numeric"):
        rnnkit.dynamic_rnn(cell, np.array([["a"]]))
    with raises(TypeError, "`inputs`", "torch.Tensor or numpy array"):
        rnnkit.dynamic_rnn(cell, "hello")
    with raises(TypeError, "`inputs`", "torch.float32", "float64"):
        rnnkit.dynamic_rnn(cell, torch.zeros(2, 3, 5, dtype=torch.float64))


def test_static_rnn_inputs():
    cell = rnnkit.BasicRNNCell(4)
    with raises(ValueError, "`inputs`", "non-empty"):
        rnnkit.static_rnn(cell, [])
    with raises(TypeError, "`inputs`", "list of T tensors"):
        rnnkit.static_rnn(cell, torch.zeros(2, 3, 4))
    with raises(ValueError, "`inputs[1]`", "(3, 2)", "(4, 2)"):
        rnnkit.static_rnn(cell, [torch.zeros(3, 2), torch.zeros(4, 2)])
    with raises(ValueError, "`inputs[0]`", "rank-2"):
        rnnkit.static_rnn(cell, [torch.zeros(3)])


def test_sequence_length():
    cell = rnnkit.GRUCell(4)
    x = torch.zeros(3, 5, 2)
    with raises(ValueError, "`sequence_length`", "(3,)", "(2,)"):
        rnnkit.dynamic_rnn(cell, x, sequence_length=[1, 2])
    with raises(ValueError, "`sequence_length`", "non-negative", "-1"):
        rnnkit.dynamic_rnn(cell, x, sequence_length=[1, -1, 2])
    with raises(ValueError, "`sequence_length`", "at most", "T=5", "6"):
        rnnkit.dynamic_rnn(cell, x, sequence_length=[1, 6, 2])
    with raises(ValueError, "`sequence_length`", "integer"):
        rnnkit.dynamic_rnn(cell, x, sequence_length=[1.5, 2, 2])
    with raises(ValueError, "`sequence_length`", "(3,)", "(3, 1)"):
        rnnkit.dynamic_rnn(cell, x, sequence_length=np.ones((3, 1), dtype=int))
    with raises(ValueError, "`sequence_length`", "T=5"):
        rnnkit.static_rnn(cell, list(x.transpose(0, 1)), sequence_length=[9, 1, 1])
    with raises(ValueError, "`sequence_length`", "(3,)"):
        rnnkit.bidirectional_dynamic_rnn(cell, rnnkit.GRUCell(4), x, sequence_length=[1])


def test_initial_state_structure_and_shape():
    lstm = rnnkit.BasicLSTMCell(4)
    x = torch.zeros(3, 5, 2)
    with raises(ValueError, "`initial_state`", "(3, 4)", "(2, 4)"):
        rnnkit.dynamic_rnn(rnnkit.GRUCell(4), x, initial_state=torch.zeros(2, 4))
    with raises(TypeError, "`initial_state`", "LSTMStateTuple(c=4, h=4)"):
        rnnkit.dynamic_rnn(lstm, x, initial_state=torch.zeros(3, 4))
    with raises(ValueError, "`initial_state`", "2 parts", "3 parts"):
        rnnkit.dynamic_rnn(lstm, x, initial_state=(torch.zeros(3, 4),) * 3)
    with raises(ValueError, "`initial_state.h`", "(3, 4)", "(3, 5)"):
        rnnkit.dynamic_rnn(lstm, x, initial_state=(torch.zeros(3, 4), torch.zeros(3, 5)))
    stack = rnnkit.MultiRNNCell([rnnkit.GRUCell(4), rnnkit.BasicLSTMCell(3)])
    with raises(ValueError, "`initial_state[1].c`", "(3, 3)"):
        rnnkit.dynamic_rnn(
            stack, x, initial_state=(torch.zeros(3, 4), (torch.zeros(3, 4), torch.zeros(3, 3)))
        )
    with raises(ValueError, "`initial_state_bw`", "(3, 4)"):
        rnnkit.bidirectional_dynamic_rnn(
            rnnkit.GRUCell(4), rnnkit.GRUCell(4), x, initial_state_bw=torch.zeros(1, 4)
        )


def test_runner_arguments():
    x = torch.zeros(3, 5, 2)
    with raises(TypeError, "`cell`", "rnnkit cell"):
        rnnkit.dynamic_rnn(torch.nn.GRUCell(2, 2), x)
    with raises(ValueError, "`engine`", "'auto'", "'cuda'"):
        rnnkit.dynamic_rnn(rnnkit.GRUCell(2), x, engine="cuda")
    with raises(ValueError, "`dtype`", "floating"):
        rnnkit.dynamic_rnn(rnnkit.GRUCell(2), x, dtype=torch.int32)


def test_stack_width_mismatch_and_residual_width():
    a = rnnkit.GRUCell(4, input_size=2)
    b = rnnkit.GRUCell(3, input_size=7)
    with raises(ValueError, "`cells[1]`", "width 4", "width 7"):
        rnnkit.MultiRNNCell([a, b])
    with raises(ValueError, "`inputs`", "ResidualWrapper", "4"):
        rnnkit.dynamic_rnn(rnnkit.ResidualWrapper(rnnkit.GRUCell(4)), torch.zeros(2, 3, 5))


# ------------------------------------------------------------------ found by the session-6 audit
@pytest.mark.parametrize("engine", ["auto", "loop"])
def test_time_major_must_be_a_bool(engine):
    """``time_major="False"`` used to read as True: the input taken as (T, B, I), no error."""
    x = torch.randn(2, 3, 3)
    with pytest.raises(TypeError, match="`time_major`: expected a bool, got 'False'"):
        rnnkit.dynamic_rnn(rnnkit.GRUCell(5), x, time_major="False", engine=engine)
    with pytest.raises(TypeError, match="`time_major`"):
        rnnkit.bidirectional_dynamic_rnn(rnnkit.GRUCell(5), rnnkit.GRUCell(5), x, time_major="no")
    y, _ = rnnkit.dynamic_rnn(rnnkit.GRUCell(5), x, time_major=np.bool_(False), engine=engine)
    assert y.shape == (2, 3, 5)


def test_compat_time_major_must_be_a_bool():
    import rnnkit.compat.v1 as tf

    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None, 4, 3])
    with pytest.raises(TypeError, match="`time_major`"):
        tf.nn.dynamic_rnn(tf.nn.rnn_cell.GRUCell(5), x, dtype=tf.float32, time_major="x")
    tf.reset_default_graph()


@pytest.mark.parametrize("engine", ["auto", "fused", "loop", "cell"])
@pytest.mark.parametrize(
    "name, replacement, error",
    [
        ("kernel", lambda: torch.zeros(9, 20), ValueError),
        ("bias", lambda: torch.zeros(1), ValueError),  # the loop broadcast it: wrong outputs
        ("bias", lambda: torch.zeros(20, dtype=torch.float64), TypeError),
    ],
)
def test_parameters_replaced_by_hand_are_checked_on_every_path(name, replacement, error, engine):
    """The fused engine checked replaced parameters; the loop and direct cell calls did not (a
    torch error naming no argument, or a bias of shape (1,) broadcast into wrong outputs)."""
    cell = rnnkit.BasicLSTMCell(5, input_size=3)
    setattr(cell, name, torch.nn.Parameter(replacement()))
    x = torch.randn(2, 4, 3)
    with pytest.raises(error, match=f"`cell{'.' + name if error is ValueError else ''}`"):
        if engine == "cell":
            cell(x[:, 0], cell.zero_state(2))
        else:
            rnnkit.dynamic_rnn(cell, x, engine=engine)


def test_forget_bias_is_checked_when_set_later():
    cell = rnnkit.BasicLSTMCell(5, input_size=3)
    with pytest.raises(TypeError, match="`forget_bias`: expected a real number"):
        cell.forget_bias = "1"
    cell.forget_bias = 2
    assert cell.forget_bias == 2.0 and type(cell.forget_bias) is float
    with pytest.raises(TypeError, match="`forget_bias`"):
        rnnkit.LSTMCell(5).forget_bias = None


def test_fused_rnn_refuses_absurd_layer_counts_at_once():
    with pytest.raises(ValueError, match="`num_layers`: expected an integer from 1 to 1024"):
        rnnkit.FusedRNN(4, num_layers=10**7)


def test_parameters_beyond_the_memory_available_are_refused_before_allocating(monkeypatch):
    """Sizes the allocator would accept but the machine cannot hold (the process was OOM-killed
    once their pages were touched) are refused up front, naming the argument that sets them."""
    from rnnkit import cells

    monkeypatch.setattr(cells, "_available_memory", lambda: 1 << 20)  # 1 MiB: half is 512 KiB
    with pytest.raises(
        ValueError, match="`num_units`: expected a size whose parameters take at most"
    ):
        rnnkit.BasicRNNCell(400, input_size=3)  # 403 x 400 floats: 645 KB
    with pytest.raises(ValueError, match="`output_size`"):
        rnnkit.OutputProjectionWrapper(rnnkit.GRUCell(4, input_size=3), 200_000)
    cell = rnnkit.OutputProjectionWrapper(rnnkit.GRUCell(4), 200_000)  # unbuilt: refused on use
    with pytest.raises(ValueError, match="`output_size`"):
        rnnkit.dynamic_rnn(cell, torch.randn(1, 1, 3))
    assert rnnkit.BasicRNNCell(100, input_size=3).kernel.shape == (103, 100)


def test_zero_state_checks_its_arguments():
    cell = rnnkit.GRUCell(4)
    with pytest.raises(TypeError, match="`dtype`"):
        cell.zero_state(2, dtype="x")
    with pytest.raises(ValueError, match="`dtype`: expected a floating dtype"):
        cell.zero_state(2, dtype=torch.int32)
    with pytest.raises(ValueError, match="`device`: expected a torch device"):
        cell.zero_state(2, device="nope")
    assert cell.zero_state(2, dtype="float64", device="cpu").dtype == torch.float64


@pytest.mark.parametrize(
    "lengths, got",
    [([float("inf"), 1, 1], "inf"), ([1e20, 1, 1], "100000000000000000000"), ([-1, 2, 3], "-1")],
)
def test_out_of_range_lengths_report_the_value_received(lengths, got):
    """Range-checked before the cast to int64 (inf and 1e20 wrapped to -2**63 in the message)."""
    with pytest.raises(ValueError, match=f"`sequence_length`.* of {got}"):
        rnnkit.dynamic_rnn(rnnkit.GRUCell(4), torch.randn(3, 5, 2), sequence_length=lengths)


def test_fused_rnn_names_its_own_arguments():
    rnn = rnnkit.FusedRNN(4, batch_first=True)
    with pytest.raises(TypeError, match="`inputs`: expected a rank-3 torch.Tensor"):
        rnn(np.zeros((2, 3, 3), np.float32))
    with pytest.raises(ValueError, match="`inputs`: expected a rank-3 tensor"):
        rnn(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="`sequence_lengths`: expected lengths at most"):
        rnn(torch.zeros(2, 3, 3), sequence_lengths=[5, 1])


def test_a_dtype_mismatch_names_where_the_expected_dtype_came_from():
    """The error used to blame 'the cell's parameters or state' and suggest cell.to() even when the
    cell was unbuilt and the dtype came from initial_state or the dtype argument."""
    x = torch.randn(2, 3, 5)
    cases = [
        (dict(initial_state=torch.zeros(2, 4, dtype=torch.float64)), "`initial_state`"),
        (dict(dtype=torch.float64), "the `dtype` argument"),
    ]
    for kwargs, source in cases:
        with pytest.raises(TypeError, match=f"argument `inputs`.*float64 to match {source}"):
            rnnkit.dynamic_rnn(rnnkit.BasicRNNCell(4), x, **kwargs)
    built = rnnkit.BasicRNNCell(4)
    rnnkit.dynamic_rnn(built, x)
    with pytest.raises(TypeError, match="float32 to match the cell's parameters"):
        rnnkit.dynamic_rnn(built, x.double())
    with pytest.raises(TypeError, match=r"argument `inputs\[1\]`.*float32 to match inputs\[0\]"):
        rnnkit.static_rnn(rnnkit.BasicRNNCell(4), [x[:, 0], x[:, 1].double()])


CELLS_AND_STACKS = [
    lambda: rnnkit.BasicRNNCell(5),
    lambda: rnnkit.BasicLSTMCell(5),
    lambda: rnnkit.LSTMCell(5),
    lambda: rnnkit.GRUCell(5),
    lambda: rnnkit.MultiRNNCell([rnnkit.GRUCell(5), rnnkit.LSTMCell(5)]),
    lambda: rnnkit.DropoutWrapper(rnnkit.GRUCell(5), output_keep_prob=0.5),
]


@pytest.mark.parametrize("make", CELLS_AND_STACKS)
def test_a_step_without_a_state_says_how_to_make_one(make):
    cell = make()
    name = type(cell).__name__
    with raises(TypeError, "Missing argument `state`", name, "(B, ", "cell.zero_state(batch_size)"):
        cell(torch.zeros(4, 3))
    with raises(TypeError, "Missing argument `state`", "cell.zero_state(batch_size)"):
        cell(torch.zeros(4, 3), None)
    with raises(TypeError, "Missing argument `inputs`", "(B, I)"):
        cell()
    output, _ = cell(torch.zeros(4, 3), cell.zero_state(4))  # what the message says works
    assert output.shape == (4, 5)


def test_an_unknown_constructor_keyword_is_named_with_the_accepted_ones():
    with raises(TypeError, "`hidden_size`", "GRUCell", "`num_units`, `reset_after`, `input_size`"):
        rnnkit.GRUCell(hidden_size=5)
    with raises(TypeError, "`hidden_size` is `num_units` here (TensorFlow's name)"):
        rnnkit.LSTMCell(hidden_size=5)
    with raises(TypeError, "`units` is `num_units`"):
        rnnkit.BasicRNNCell(units=5)
    with raises(TypeError, "`state_is_tuple`", "MultiRNNCell", "always tuples"):
        rnnkit.MultiRNNCell([rnnkit.GRUCell(2)], state_is_tuple=True)
    with raises(TypeError, "`reset_afte`", "did you mean `reset_after`?"):
        rnnkit.GRUCell(5, reset_afte=True)
    with raises(TypeError, "`keep_prob` is `output_keep_prob`", "`input_keep_prob`"):
        rnnkit.DropoutWrapper(rnnkit.GRUCell(2), keep_prob=0.5)
    with raises(TypeError, "GRUCell(num_units, reset_after=False, input_size=None)", "'num_units'"):
        rnnkit.GRUCell()
    with raises(TypeError, "BasicLSTMCell(num_units", "too many positional arguments"):
        rnnkit.BasicLSTMCell(5, 1.0, None, 7)
    with raises(
        TypeError, "`num_units`", "positive integer"
    ):  # errors from inside stay as they are
        rnnkit.GRUCell(num_units="5")


def test_a_subclass_of_a_cell_is_named_in_argument_errors():
    class Mine(rnnkit.GRUCell):
        pass

    class Sized(rnnkit.BasicRNNCell):
        def __init__(self, width: int) -> None:
            super().__init__(width)

    with raises(TypeError, "`hidden_size`", "for Mine:", "`num_units`"):
        Mine(hidden_size=3)
    with raises(TypeError, "`num_units`", "for Sized:", "expected one of `width`"):
        Sized(num_units=3)
    assert Sized(3).num_units == 3


@pytest.mark.parametrize(
    "make",
    [
        lambda: rnnkit.LSTMCell(5),
        lambda: rnnkit.MultiRNNCell([rnnkit.GRUCell(5), rnnkit.GRUCell(4)]),
        lambda: rnnkit.OutputProjectionWrapper(rnnkit.GRUCell(5), 2),
    ],
)
def test_a_second_build_for_another_width_names_input_size(make):
    cell = make()
    cell.build(3)
    cell.build(3)  # the same width: nothing to do
    with raises(ValueError, "`input_size`", "input width 3", "already built", "new cell", "got 4"):
        cell.build(4)
    with raises(ValueError, "`inputs`", "input width 3", "got 4"):  # a call names its inputs
        cell(torch.zeros(2, 4), cell.zero_state(2))


def test_compat_unsupported_option_message_closes_its_parenthesis():
    import rnnkit.compat.v1 as tf

    with pytest.raises(Exception, match=re.escape("`LSTMCell(num_unit_shards=2)` is outside")):
        tf.nn.rnn_cell.LSTMCell(5, num_unit_shards=2)


@pytest.mark.parametrize("flag", ["globals", "flags"])
def test_an_onnx_export_in_progress_keeps_custom_nodes_out(monkeypatch, flag):
    # untraced() reads the two flags torch.onnx.is_in_onnx_export reads; either one set means an
    # export is recording, and rnnkit's numpy/oneDNN nodes must not be recorded
    from torch.onnx._internal.exporter import _flags
    from torch.onnx._internal.torchscript_exporter._globals import GLOBALS

    from rnnkit._validation import untraced

    t = torch.ones(2)
    assert untraced(t)
    if flag == "globals":
        monkeypatch.setattr(GLOBALS, "in_onnx_export", True)
    else:
        monkeypatch.setattr(_flags, "_is_onnx_exporting", True)
    assert torch.onnx.is_in_onnx_export()
    assert not untraced(t)
