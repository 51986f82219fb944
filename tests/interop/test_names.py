"""TF1 variable names and torch state dicts, both directions."""

import re

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit.interop import (
    load_tf1_variables,
    load_torch_state_dict,
    tf1_variables,
    torch_state_dict,
)


def test_tf1_names_for_every_structure():
    cell = rnnkit.MultiRNNCell(
        [rnnkit.LSTMCell(4, use_peepholes=True), rnnkit.GRUCell(3), rnnkit.BasicRNNCell(2)],
        input_size=5,
    )
    names = {k: v.shape for k, v in tf1_variables(cell, scope="bidirectional_rnn/fw").items()}
    assert names == {
        "bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/kernel": (9, 16),
        "bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/bias": (16,),
        "bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/w_f_diag": (4,),
        "bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/w_i_diag": (4,),
        "bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/w_o_diag": (4,),
        "bidirectional_rnn/fw/multi_rnn_cell/cell_1/gru_cell/gates/kernel": (7, 6),
        "bidirectional_rnn/fw/multi_rnn_cell/cell_1/gru_cell/gates/bias": (6,),
        "bidirectional_rnn/fw/multi_rnn_cell/cell_1/gru_cell/candidate/kernel": (7, 3),
        "bidirectional_rnn/fw/multi_rnn_cell/cell_1/gru_cell/candidate/bias": (3,),
        "bidirectional_rnn/fw/multi_rnn_cell/cell_2/basic_rnn_cell/kernel": (5, 2),
        "bidirectional_rnn/fw/multi_rnn_cell/cell_2/basic_rnn_cell/bias": (2,),
    }
    wrapped = rnnkit.OutputProjectionWrapper(rnnkit.DropoutWrapper(rnnkit.BasicLSTMCell(4)), 2)
    wrapped.build(3)
    assert set(tf1_variables(wrapped)) == {
        "rnn/output_projection_wrapper/basic_lstm_cell/kernel",
        "rnn/output_projection_wrapper/basic_lstm_cell/bias",
        "rnn/output_projection_wrapper/kernel",
        "rnn/output_projection_wrapper/bias",
    }


def test_tf1_round_trip_builds_unbuilt_cells():
    src = rnnkit.MultiRNNCell([rnnkit.GRUCell(3), rnnkit.BasicLSTMCell(4)], input_size=6)
    variables = tf1_variables(src)
    variables["other_scope/x"] = np.zeros(3)  # outside the scope: ignored
    dst = rnnkit.MultiRNNCell([rnnkit.GRUCell(3), rnnkit.BasicLSTMCell(4)])
    load_tf1_variables(dst, variables)
    assert dst.input_size == 6
    x = torch.randn(2, 5, 6)
    torch.testing.assert_close(rnnkit.dynamic_rnn(dst, x)[0], rnnkit.dynamic_rnn(src, x)[0])


def test_tf1_gradients_are_exported_in_tf_layout():
    cell = rnnkit.BasicRNNCell(3, input_size=2)
    out, _ = rnnkit.dynamic_rnn(cell, torch.randn(4, 5, 2))
    out.sum().backward()
    grads = tf1_variables(cell, grad=True)
    np.testing.assert_array_equal(grads["rnn/basic_rnn_cell/kernel"], cell.kernel.grad.numpy())
    with pytest.raises(ValueError, match="gradient for rnn/basic_rnn_cell/kernel"):
        tf1_variables(rnnkit.BasicRNNCell(3, input_size=2), grad=True)


def test_tf1_errors_name_the_variables():
    cell = rnnkit.BasicLSTMCell(4, input_size=3)
    good = tf1_variables(cell)
    missing = {k: v for k, v in good.items() if not k.endswith("bias")}
    with pytest.raises(ValueError, match=re.escape("missing ['rnn/basic_lstm_cell/bias']")):
        load_tf1_variables(cell, missing)
    extra = {**good, "rnn/basic_lstm_cell/w_f_diag": np.zeros(4)}
    with pytest.raises(ValueError, match=re.escape("unexpected ['rnn/basic_lstm_cell/w_f_diag']")):
        load_tf1_variables(cell, extra)
    bad = {**good, "rnn/basic_lstm_cell/kernel": np.zeros((7, 15))}
    with pytest.raises(ValueError, match=re.escape("rnn/basic_lstm_cell/kernel of shape (7, 16)")):
        load_tf1_variables(cell, bad)
    with pytest.raises(ValueError, match="lstm_cell/kernel"):
        load_tf1_variables(rnnkit.LSTMCell(4), good)  # BasicLSTMCell's names, not LSTMCell's
    with pytest.raises(TypeError, match="`source`"):
        load_tf1_variables(cell, [1, 2])


@pytest.mark.parametrize(
    "layer,make",
    [
        (
            lambda: torch.nn.RNN(3, 5, num_layers=2, nonlinearity="relu"),
            lambda: rnnkit.BasicRNNCell(5, activation="relu"),
        ),
        (
            lambda: torch.nn.LSTM(3, 5, bidirectional=True),
            lambda: rnnkit.LSTMCell(5, forget_bias=0.3),
        ),
        (lambda: torch.nn.GRU(3, 5, num_layers=2), lambda: rnnkit.GRUCell(5, reset_after=True)),
    ],
)
def test_torch_round_trip(layer, make):
    torch.manual_seed(0)
    ref = layer()
    bidir = ref.bidirectional
    stack = (
        (lambda: rnnkit.MultiRNNCell([make() for _ in range(ref.num_layers)]))
        if ref.num_layers > 1
        else make
    )
    fw, bw = stack(), (stack() if bidir else None)
    load_torch_state_dict(fw, ref.state_dict(), cell_bw=bw)
    back = torch_state_dict(fw, cell_bw=bw)
    assert set(back) == set(ref.state_dict())
    x = torch.randn(6, 2, 3)
    ref2 = layer()
    ref2.load_state_dict(back)
    torch.testing.assert_close(ref2(x)[0], ref(x)[0])


def test_torch_errors():
    with pytest.raises(TypeError, match="torch counterpart"):
        torch_state_dict(rnnkit.GRUCell(3, input_size=2))  # TF1 formulation has no torch twin
    with pytest.raises(TypeError, match="torch counterpart"):
        torch_state_dict(rnnkit.LSTMCell(3, use_peepholes=True, input_size=2))
    sd = torch.nn.GRU(2, 3).state_dict()
    with pytest.raises(
        ValueError, match=re.escape("weight_ih_l0 of shape (16, 2), got shape (9, 2)")
    ):
        load_torch_state_dict(
            rnnkit.BasicLSTMCell(4, input_size=2), {**sd, "weight_hh_l0": torch.zeros(9, 3)}
        )
    with pytest.raises(ValueError, match="unexpected"):
        load_torch_state_dict(
            rnnkit.GRUCell(3, reset_after=True), torch.nn.GRU(2, 3, num_layers=2).state_dict()
        )
