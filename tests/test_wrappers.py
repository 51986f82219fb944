"""MultiRNNCell, DropoutWrapper, ResidualWrapper, OutputProjectionWrapper."""

import torch

import rnnkit


def test_multi_rnn_cell_is_layers_composed():
    torch.manual_seed(0)
    a, b = rnnkit.BasicLSTMCell(4, input_size=3), rnnkit.GRUCell(2, input_size=4)
    stack = rnnkit.MultiRNNCell([a, b])
    assert stack.state_size == (rnnkit.LSTMStateTuple(4, 4), 2) and stack.output_size == 2
    x = torch.randn(3, 6, 3)
    out, (s_a, s_b) = rnnkit.dynamic_rnn(stack, x, sequence_length=[6, 2, 0], engine="loop")
    mid, ref_a = rnnkit.dynamic_rnn(a, x, sequence_length=[6, 2, 0], engine="loop")
    ref_out, ref_b = rnnkit.dynamic_rnn(b, mid, sequence_length=[6, 2, 0], engine="loop")
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(s_a.h, ref_a.h)
    torch.testing.assert_close(s_b, ref_b)


def test_dropout_wrapper_train_and_eval():
    torch.manual_seed(0)
    inner = rnnkit.BasicRNNCell(64, input_size=8)
    cell = rnnkit.DropoutWrapper(inner, output_keep_prob=0.5, seed=1)
    x = torch.randn(16, 5, 8)
    plain, _ = rnnkit.dynamic_rnn(inner, x)
    dropped, _ = rnnkit.dynamic_rnn(cell, x)
    zero = dropped == 0
    assert 0.35 < zero.float().mean() < 0.65
    torch.testing.assert_close(dropped[~zero], 2 * plain[~zero])  # kept units scaled by 1/keep
    cell.eval()
    torch.testing.assert_close(rnnkit.dynamic_rnn(cell, x)[0], plain)


def test_variational_masks_repeat_over_time_and_change_between_runs():
    cell = rnnkit.DropoutWrapper(
        rnnkit.BasicRNNCell(32, input_size=4),
        input_keep_prob=0.5,
        output_keep_prob=0.5,
        variational_recurrent=True,
        seed=3,
    )
    x = torch.ones(2, 6, 4)
    out1, _ = rnnkit.dynamic_rnn(cell, x)
    mask = out1 == 0
    assert torch.equal(mask[:, 0], mask[:, 3])  # the same output mask at every step
    out2, _ = rnnkit.dynamic_rnn(cell, x)
    assert not torch.equal(mask, out2 == 0)  # a new sequence draws new masks


def test_residual_wrapper_adds_inputs():
    inner = rnnkit.GRUCell(4, input_size=4)
    cell = rnnkit.ResidualWrapper(inner)
    x = torch.randn(2, 3, 4)
    out, state = rnnkit.dynamic_rnn(cell, x)
    ref, ref_state = rnnkit.dynamic_rnn(inner, x)
    torch.testing.assert_close(out, ref + x)
    torch.testing.assert_close(state, ref_state)


def test_output_projection_wrapper():
    inner = rnnkit.BasicLSTMCell(6)
    cell = rnnkit.OutputProjectionWrapper(inner, output_size=2)
    x = torch.randn(3, 4, 5)
    out, state = rnnkit.dynamic_rnn(cell, x)
    assert out.shape == (3, 4, 2) and cell.output_size == 2
    hidden, _ = rnnkit.dynamic_rnn(inner, x)
    torch.testing.assert_close(out, hidden @ cell.kernel + cell.bias)
    assert set(dict(cell.named_parameters())) == {"cell.kernel", "cell.bias", "kernel", "bias"}


def test_a_stacks_dtype_and_device_are_its_first_parameters_as_before():
    from rnnkit.cells import RNNCell

    stacks = [
        rnnkit.MultiRNNCell([rnnkit.GRUCell(4), rnnkit.GRUCell(3)]),  # nothing built
        rnnkit.MultiRNNCell([rnnkit.GRUCell(4), rnnkit.GRUCell(3, input_size=4)]),  # the 2nd built
        rnnkit.MultiRNNCell([rnnkit.BasicRNNCell(2, input_size=5), rnnkit.GRUCell(3)]).double(),
    ]
    stacks[0].build(6)
    for stack in stacks:
        # the stack's own lookup and the generic one (parameters() in registration order) agree
        assert stack._param_dtype_device() == RNNCell._param_dtype_device(stack)
    assert stacks[1]._param_dtype_device()[0] == torch.float32
    assert stacks[2]._param_dtype_device()[0] == torch.float64
    assert rnnkit.MultiRNNCell([rnnkit.GRUCell(4)])._param_dtype_device() == (None, None)
