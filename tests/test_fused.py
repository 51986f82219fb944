"""FusedRNN (rnnkit.fused) and the cuDNN formulation of the engine (rnnkit.engine.cuda)."""

from __future__ import annotations

import pytest
import torch

import rnnkit
from rnnkit import _nest, engine
from rnnkit.engine import cuda, layers
from rnnkit.fused import FusedRNN

CUDA = torch.cuda.is_available()


def _randomize(module: torch.nn.Module, seed: int = 0) -> None:
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.4 * torch.randn_like(p))


@pytest.mark.parametrize("mode", ["tanh", "relu", "lstm", "gru"])
@pytest.mark.parametrize("direction", ["unidirectional", "bidirectional"])
def test_fused_rnn_matches_the_plain_loop(mode, direction):
    rnn = FusedRNN(4, num_layers=2, mode=mode, direction=direction, input_size=3).double()
    _randomize(rnn)
    x = torch.randn(6, 3, 3, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([6, 2, 0])
    y, states = rnn(x, sequence_lengths=lengths)
    D = 2 if direction == "bidirectional" else 1
    assert y.shape == (6, 3, 4 * D) and len(states) == 2 * D
    # reference: the same cells, layer by layer, on the plain loop
    ref_x, ref_states = x, []
    for layer in range(2):
        if D == 1:
            ref_x, s = rnnkit.dynamic_rnn(
                rnn.cells_fw[layer], ref_x, lengths, time_major=True, engine="loop"
            )
            ref_states.append(s)
        else:
            (a, b), (s1, s2) = rnnkit.bidirectional_dynamic_rnn(
                rnn.cells_fw[layer], rnn.cells_bw[layer], ref_x, lengths, time_major=True,
                engine="loop",
            )  # fmt: skip
            ref_x = torch.cat([a, b], -1)
            ref_states += [s1, s2]
    torch.testing.assert_close(y, ref_x)
    for a, b in zip(_nest.flatten(states), _nest.flatten(tuple(ref_states))):
        torch.testing.assert_close(a, b)
    (gy,) = torch.autograd.grad(y.sum(), x)
    (gr,) = torch.autograd.grad(ref_x.sum(), x)
    torch.testing.assert_close(gy, gr)
    assert torch.all(y[:, 2] == 0)  # a row of length 0 produces zeros


def test_fused_rnn_shares_parameters_with_its_cells():
    rnn = FusedRNN(5, num_layers=2, mode="gru", input_size=3)
    names = {n for n, _ in rnn.named_parameters()}
    assert "cells_fw.0.gates_kernel" in names and "cells_fw.1.candidate_recurrent_bias" in names
    assert rnn.cells_fw[1].input_size == 5
    y, _ = rnn(torch.randn(4, 2, 3))
    y.sum().backward()
    assert all(p.grad is not None for p in rnn.parameters())


def test_fused_rnn_lstm_equals_torch_lstm_with_copied_weights():
    """mode="lstm" with forget_bias=0 is cuDNN's/torch's LSTM, up to the gate order i, j, f, o."""
    H, I = 4, 3
    rnn = FusedRNN(H, mode="lstm", input_size=I, batch_first=True)
    _randomize(rnn)
    ref = torch.nn.LSTM(I, H, batch_first=True)
    w_ih, w_hh, b_ih, b_hh = cuda.torch_params(rnn.cells_fw[0])
    with torch.no_grad():
        ref.weight_ih_l0.copy_(w_ih)
        ref.weight_hh_l0.copy_(w_hh)
        ref.bias_ih_l0.copy_(b_ih)
        ref.bias_hh_l0.copy_(b_hh)
    x = torch.randn(2, 7, I)
    y, (state,) = rnn(x)
    y_ref, (h_ref, c_ref) = ref(x)
    torch.testing.assert_close(y, y_ref, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(state.h, h_ref[0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(state.c, c_ref[0], rtol=1e-4, atol=1e-5)


def test_fused_rnn_initial_state_and_dropout():
    rnn = FusedRNN(3, num_layers=2, mode="lstm", dropout=0.5, input_size=2)
    x = torch.randn(5, 2, 2)
    init = tuple(c.zero_state(2) for c in rnn.layer_cells())
    init = tuple(rnnkit.LSTMStateTuple(s.c + 1, s.h - 1) for s in init)
    rnn.eval()
    y1, _ = rnn(x, initial_state=init)
    y2, _ = rnn(x, initial_state=init)
    torch.testing.assert_close(y1, y2)  # no dropout in eval mode
    y0, _ = rnn(x)
    assert not torch.allclose(y0, y1)  # the initial state matters
    rnn.train()
    torch.manual_seed(0)
    y3, _ = rnn(x, initial_state=init)
    assert not torch.allclose(y1, y3)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"num_units": 0}, "num_units"),
        ({"num_units": 3, "mode": "sigmoid"}, "mode"),
        ({"num_units": 3, "direction": "both"}, "direction"),
        ({"num_units": 3, "dropout": 1.0}, "dropout"),
        ({"num_units": 3, "num_layers": 0}, "num_layers"),
    ],
)
def test_fused_rnn_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        FusedRNN(**kwargs)


def test_fused_rnn_bad_inputs():
    rnn = FusedRNN(3, input_size=2)
    with pytest.raises(ValueError, match="inputs"):
        rnn(torch.randn(5, 2))
    with pytest.raises(ValueError, match="inputs"):
        rnn(torch.randn(5, 2, 4))
    with pytest.raises(ValueError, match="initial_state"):
        rnn(torch.randn(5, 2, 2), initial_state=(torch.zeros(2, 3), torch.zeros(2, 3)))


# ------------------------------------------------------------------ the cuDNN formulation (any device)
CUDNN_CELLS = {
    "tanh": lambda: rnnkit.BasicRNNCell(4, input_size=3),
    "relu": lambda: rnnkit.BasicRNNCell(4, activation=torch.relu, input_size=3),
    "basic_lstm": lambda: rnnkit.BasicLSTMCell(4, forget_bias=0.8, input_size=3),
    "lstm": lambda: rnnkit.LSTMCell(4, input_size=3),
    "gru_after": lambda: rnnkit.GRUCell(4, reset_after=True, input_size=3),
    "multi": lambda: rnnkit.MultiRNNCell(
        [rnnkit.BasicLSTMCell(4), rnnkit.GRUCell(5, reset_after=True)], input_size=3
    ),
}


@pytest.mark.parametrize("name", list(CUDNN_CELLS))
@pytest.mark.parametrize("with_lengths", [False, True])
def test_cudnn_formulation_matches_the_loop(name, with_lengths, device="cpu"):
    torch.manual_seed(0)
    cell = CUDNN_CELLS[name]().double().to(device)
    _randomize(cell)
    x = torch.randn(5, 3, 3, dtype=torch.float64, device=device, requires_grad=True)
    lengths = torch.tensor([5, 0, 2], device=device) if with_lengths else None
    state = _nest.map_structure(
        lambda s: torch.randn_like(s).requires_grad_(), cell.zero_state(3, torch.float64, device)
    )
    y, finals = cuda.run_layers(
        layers.layer_cells(cell), x, layers.flatten_states(cell, state), lengths
    )
    s = layers.rebuild_states(cell, iter(finals))
    y_ref, s_ref = rnnkit.dynamic_rnn(cell, x, lengths, state, time_major=True, engine="loop")
    torch.testing.assert_close(y, y_ref)
    for a, b in zip(_nest.flatten(s), _nest.flatten(s_ref)):
        torch.testing.assert_close(a, b)
    wrt = [x, *_nest.flatten(state), *cell.parameters()]
    loss = lambda y, s: (y * y).sum() + sum((t * 1.5).sum() for t in _nest.flatten(s))  # noqa: E731
    g = torch.autograd.grad(loss(y, s), wrt)
    g_ref = torch.autograd.grad(loss(y_ref, s_ref), wrt)
    for a, b in zip(g, g_ref):
        torch.testing.assert_close(a, b)


def test_cuda_support_is_limited_to_cudnn_formulations():
    x = torch.empty(2, 2, 3, device="meta")
    assert not engine.supports(rnnkit.BasicRNNCell(4, input_size=3), x)  # neither CPU nor CUDA
    gpu_like = type("T", (), {})  # supports() needs a real tensor
    assert not engine.supports(rnnkit.BasicRNNCell(4, input_size=3), gpu_like)


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
@pytest.mark.parametrize("name", list(CUDNN_CELLS))
def test_cuda_path_matches_the_loop(name):
    test_cudnn_formulation_matches_the_loop(name, True, device="cuda")
    cell = CUDNN_CELLS[name]().cuda()
    assert engine.supports(cell, torch.randn(2, 2, 3, device="cuda"))


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
def test_cuda_unsupported_cells_take_the_loop():
    x = torch.randn(2, 2, 3, device="cuda")
    for cell in (rnnkit.LSTMCell(4, use_peepholes=True), rnnkit.GRUCell(4)):
        cell.build(3, device="cuda")
        assert not engine.supports(cell.cuda(), x)
        y, _ = rnnkit.dynamic_rnn(cell, x, time_major=True)
        assert y.is_cuda


@pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
def test_fused_rnn_on_cuda():
    rnn = FusedRNN(8, num_layers=2, mode="lstm", direction="bidirectional", input_size=3).cuda()
    y, states = rnn(
        torch.randn(7, 4, 3, device="cuda"), sequence_lengths=torch.tensor([7, 3, 1, 0])
    )
    assert y.shape == (7, 4, 16) and y.is_cuda and torch.all(y[:, 3] == 0)
