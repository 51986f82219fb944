"""static_rnn, dynamic_rnn and bidirectional_dynamic_rnn against each other and against torch's layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import rnnkit
from rnnkit import _nest
from rnnkit.interop import load_torch_state_dict

KINDS = ["tanh", "relu", "basic_lstm", "lstm", "peephole_lstm", "gru", "gru_reset_after", "stack"]


def make(kind: str, H: int, I: int, dtype=torch.float64) -> rnnkit.RNNCell:
    cells = {
        "tanh": lambda: rnnkit.BasicRNNCell(H, input_size=I),
        "relu": lambda: rnnkit.BasicRNNCell(H, activation="relu", input_size=I),
        "basic_lstm": lambda: rnnkit.BasicLSTMCell(H, forget_bias=0.5, input_size=I),
        "lstm": lambda: rnnkit.LSTMCell(H, input_size=I),
        "peephole_lstm": lambda: rnnkit.LSTMCell(H, use_peepholes=True, input_size=I),
        "gru": lambda: rnnkit.GRUCell(H, input_size=I),
        "gru_reset_after": lambda: rnnkit.GRUCell(H, reset_after=True, input_size=I),
        "stack": lambda: rnnkit.MultiRNNCell(
            [rnnkit.BasicLSTMCell(H), rnnkit.GRUCell(H + 1), rnnkit.BasicRNNCell(H)], input_size=I
        ),
    }
    cell = cells[kind]().to(dtype)
    with torch.no_grad():  # non-trivial biases, so bias paths are exercised
        for p in cell.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return cell


def grads(loss: torch.Tensor, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    return list(torch.autograd.grad(loss, tensors, allow_unused=True))


def loss_of(outputs: torch.Tensor, state) -> torch.Tensor:
    w = torch.linspace(-1, 1, outputs.numel(), dtype=outputs.dtype).view_as(outputs)
    total = (w * outputs).sum()
    for k, leaf in enumerate(_nest.flatten(state)):
        total = total + (k + 1) * leaf.sin().sum()
    return total


@st.composite
def problems(draw):
    kind = draw(st.sampled_from(KINDS))
    B = draw(st.integers(0, 4))
    T = draw(st.integers(1, 6))
    I = draw(st.integers(1, 4))
    H = draw(st.integers(1, 5))
    lengths = draw(st.none() | st.lists(st.integers(0, T), min_size=B, max_size=B))
    with_init = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    return kind, B, T, I, H, lengths, with_init, seed


@given(problems(), st.booleans())
def test_static_and_dynamic_agree(problem, time_major):
    kind, B, T, I, H, lengths, with_init, seed = problem
    torch.manual_seed(seed)
    cell = make(kind, H, I)
    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
    init = None
    leaves = []
    if with_init:
        init = _nest.map_structure(
            lambda z: torch.randn_like(z).requires_grad_(), cell.zero_state(B)
        )
        leaves = _nest.flatten(init)
    wrt = [x, *cell.parameters(), *leaves]

    s_out, s_state = rnnkit.static_rnn(
        cell, list(x.unbind(0)), initial_state=init, sequence_length=lengths
    )
    s_out = torch.stack(s_out, 0)
    d_in = x if time_major else x.transpose(0, 1)
    d_out, d_state = rnnkit.dynamic_rnn(
        cell,
        d_in,
        sequence_length=lengths,
        initial_state=init,
        time_major=time_major,
        engine="loop",
    )
    if not time_major:
        d_out = d_out.transpose(0, 1)
    torch.testing.assert_close(d_out, s_out)
    for a, b in zip(_nest.flatten(d_state), _nest.flatten(s_state)):
        torch.testing.assert_close(a, b)
    for a, b in zip(grads(loss_of(d_out, d_state), wrt), grads(loss_of(s_out, s_state), wrt)):
        if a is None or b is None:
            assert a is None and b is None
        else:
            torch.testing.assert_close(a, b)

    if lengths is not None and B:
        L = torch.tensor(lengths)
        t = torch.arange(T).unsqueeze(1)
        assert torch.all(d_out[t >= L] == 0), "outputs past each row's length must be zero"


TORCH_LAYERS = {
    "tanh": (torch.nn.RNN, {"nonlinearity": "tanh"}, lambda H: rnnkit.BasicRNNCell(H)),
    "relu": (
        torch.nn.RNN,
        {"nonlinearity": "relu"},
        lambda H: rnnkit.BasicRNNCell(H, activation=torch.relu),
    ),
    "lstm": (torch.nn.LSTM, {}, lambda H: rnnkit.BasicLSTMCell(H, forget_bias=1.0)),
    "gru": (torch.nn.GRU, {}, lambda H: rnnkit.GRUCell(H, reset_after=True)),
}


def _torch_state(kind: str, h_n: torch.Tensor, c_n: torch.Tensor | None, layer: int):
    if kind == "lstm":
        return rnnkit.LSTMStateTuple(c_n[layer], h_n[layer])
    return h_n[layer]


@given(
    kind=st.sampled_from(sorted(TORCH_LAYERS)),
    B=st.integers(1, 4),
    T=st.integers(1, 6),
    I=st.integers(1, 4),
    H=st.integers(1, 5),
    layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    use_lengths=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_matches_torch_layers(kind, B, T, I, H, layers, bidirectional, use_lengths, seed):
    torch.manual_seed(seed)
    cls, kwargs, make_cell = TORCH_LAYERS[kind]
    ref = cls(I, H, num_layers=layers, bidirectional=bidirectional, **kwargs).double()
    if layers > 1 and bidirectional:
        return  # torch feeds both directions into layer 2; that is a different model than two cells

    def stack():
        return (
            rnnkit.MultiRNNCell([make_cell(H) for _ in range(layers)])
            if layers > 1
            else make_cell(H)
        )

    cell_fw = stack()
    cell_bw = stack() if bidirectional else None
    load_torch_state_dict(cell_fw, ref.state_dict(), cell_bw=cell_bw)
    cell_fw.double()
    if cell_bw is not None:
        cell_bw.double()

    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
    lengths = torch.randint(1, T + 1, (B,)) if use_lengths else None
    # reference: torch's layer, packed when there are lengths
    if lengths is not None:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        ref_out, ref_state = ref(packed)
        ref_out, _ = torch.nn.utils.rnn.pad_packed_sequence(ref_out, total_length=T)
    else:
        ref_out, ref_state = ref(x)
    h_n, c_n = ref_state if kind == "lstm" else (ref_state, None)

    if bidirectional:
        (o_fw, o_bw), (s_fw, s_bw) = rnnkit.bidirectional_dynamic_rnn(
            cell_fw, cell_bw, x, sequence_length=lengths, time_major=True, engine="loop"
        )
        out = torch.cat([o_fw, o_bw], -1)
        states = [(s_fw, _torch_state(kind, h_n, c_n, 0)), (s_bw, _torch_state(kind, h_n, c_n, 1))]
    else:
        out, s = rnnkit.dynamic_rnn(
            cell_fw, x, sequence_length=lengths, time_major=True, engine="loop"
        )
        mine = list(s) if layers > 1 else [s]
        states = [(mine[k], _torch_state(kind, h_n, c_n, k)) for k in range(layers)]
    torch.testing.assert_close(out, ref_out)
    for a, b in states:
        for u, v in zip(_nest.flatten(a), _nest.flatten(b)):
            torch.testing.assert_close(u, v)
    g_mine = torch.autograd.grad(loss_of(out, ()), x)[0]
    g_ref = torch.autograd.grad(loss_of(ref_out, ()), x)[0]
    torch.testing.assert_close(g_mine, g_ref)


def test_weight_gradients_match_torch_lstm():
    torch.manual_seed(0)
    ref = torch.nn.LSTM(3, 4).double()
    cell = rnnkit.BasicLSTMCell(4)
    load_torch_state_dict(cell, ref.state_dict())
    cell.double()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    out, _ = rnnkit.dynamic_rnn(cell, x, time_major=True, engine="loop")
    loss_of(out, ()).backward()
    ref_out, _ = ref(x)
    loss_of(ref_out, ()).backward()
    # kernel = [W_ih; W_hh]^T with gates reordered: compare through the torch layout
    from rnnkit.interop.names import _LSTM_PERM, _chunks

    g_kernel = _chunks(cell.kernel.grad.T, 4, _LSTM_PERM)
    torch.testing.assert_close(
        g_kernel, torch.cat([ref.weight_ih_l0.grad, ref.weight_hh_l0.grad], 1)
    )
    torch.testing.assert_close(_chunks(cell.bias.grad, 4, _LSTM_PERM), ref.bias_ih_l0.grad)


def test_zero_length_rows_keep_initial_state_and_zero_outputs():
    cell = rnnkit.GRUCell(3, input_size=2)
    init = torch.randn(2, 3)
    out, state = rnnkit.dynamic_rnn(
        cell, torch.randn(2, 4, 2), sequence_length=[0, 4], initial_state=init
    )
    assert torch.equal(out[0], torch.zeros(4, 3))
    assert torch.equal(state[0], init[0])
    assert not torch.equal(state[1], init[1])


@pytest.mark.parametrize("T", [1, 5])
def test_full_lengths_equal_no_lengths_in_the_plain_loop(T):
    torch.manual_seed(0)
    cell = rnnkit.MultiRNNCell([rnnkit.BasicLSTMCell(4), rnnkit.GRUCell(3)], input_size=2)
    x = torch.randn(3, T, 2, requires_grad=True)
    results = []
    for lengths in ([T, T, T], None, [T, T - 1, T]):
        out, state = rnnkit.dynamic_rnn(cell, x, sequence_length=lengths, engine="loop")
        (grad,) = torch.autograd.grad(out.sum() + sum(s.sum() for s in _nest.flatten(state)), x)
        results.append((out, _nest.flatten(state), grad))
    (o1, s1, g1), (o2, s2, g2), (o3, _, _) = results
    assert torch.equal(o1, o2) and torch.equal(g1, g2)
    assert all(torch.equal(a, b) for a, b in zip(s1, s2))
    assert torch.equal(o3[1, T - 1], torch.zeros(3))  # a shorter row is still masked


def test_empty_time_and_batch():
    cell = rnnkit.BasicLSTMCell(3, input_size=2)
    out, state = rnnkit.dynamic_rnn(cell, torch.zeros(4, 0, 2))
    assert (
        out.shape == (4, 0, 3)
        and state.c.shape == (4, 3)
        and torch.equal(state.h, torch.zeros(4, 3))
    )
    out, state = rnnkit.dynamic_rnn(cell, torch.zeros(0, 5, 2), sequence_length=[])
    assert out.shape == (0, 5, 3) and state.h.shape == (0, 3)
    (fw, bw), _ = rnnkit.bidirectional_dynamic_rnn(
        cell, rnnkit.BasicLSTMCell(3), np.zeros((2, 0, 2))
    )
    assert fw.shape == bw.shape == (2, 0, 3)


def test_nan_in_one_sequence_stays_there():
    torch.manual_seed(0)
    cell = rnnkit.MultiRNNCell([rnnkit.BasicLSTMCell(4), rnnkit.GRUCell(4)], input_size=3)
    x = torch.randn(3, 6, 3)
    x[1, 2] = float("nan")  # inside row 1's sequence
    x[2, 4:] = float("nan")  # in row 2's padding, past its length
    for engine in ("loop", "auto"):
        out, state = rnnkit.dynamic_rnn(cell, x, sequence_length=[6, 6, 4], engine=engine)
        assert torch.isfinite(out[0]).all() and torch.isfinite(out[2]).all()
        assert torch.isnan(out[1, 2:]).all() and torch.isfinite(out[1, :2]).all()
        for leaf in _nest.flatten(state):
            assert torch.isfinite(leaf[0]).all() and torch.isfinite(leaf[2]).all()
            assert torch.isnan(leaf[1]).all()


def test_bidirectional_reverses_within_each_length():
    torch.manual_seed(0)
    fw, bw = rnnkit.BasicRNNCell(3, input_size=2), rnnkit.BasicRNNCell(3, input_size=2)
    x = torch.randn(2, 5, 2)
    (_, out_bw), (_, s_bw) = rnnkit.bidirectional_dynamic_rnn(fw, bw, x, sequence_length=[5, 3])
    # row 1 backward over its first 3 steps equals a forward run over those steps reversed
    ref_out, ref_state = rnnkit.dynamic_rnn(bw, x[1:2, :3].flip(1))
    torch.testing.assert_close(out_bw[1, :3], ref_out[0].flip(0))
    torch.testing.assert_close(s_bw[1], ref_state[0])
    assert torch.equal(out_bw[1, 3:], torch.zeros(2, 3))


def test_numpy_and_integer_inputs_follow_tf_feed_rules():
    cell = rnnkit.BasicRNNCell(5)
    batch = np.array([[[0, 1, 2], [9, 8, 7]], [[3, 4, 5], [0, 0, 0]]])  # int64, as in the tutorial
    out, h = rnnkit.dynamic_rnn(cell, batch, dtype=torch.float32)
    assert out.dtype == torch.float32 and out.shape == (2, 2, 5)
    out64, _ = rnnkit.dynamic_rnn(rnnkit.BasicRNNCell(5), batch.astype(np.float64))
    assert out64.dtype == torch.float64
    out2, _ = rnnkit.dynamic_rnn(
        cell, torch.tensor(batch, dtype=torch.float32), sequence_length=np.array([2, 1])
    )
    torch.testing.assert_close(out2[0], out[0])
    assert torch.equal(out2[1, 1], torch.zeros(5))


def test_same_cell_shares_weights_new_cell_has_new_weights():
    """The tutorial's part 3 failed in TF1 with "Variable rnn/basic_rnn_cell/kernel already exists"."""
    x = torch.randn(4, 2, 3)
    cell = rnnkit.BasicRNNCell(5)
    out_a, _ = rnnkit.dynamic_rnn(cell, x)
    out_b, _ = rnnkit.dynamic_rnn(cell, x)  # same object: same weights, same numbers
    torch.testing.assert_close(out_a, out_b)
    other = rnnkit.BasicRNNCell(5)
    out_c, _ = rnnkit.dynamic_rnn(other, x)  # a new cell in the "same scope" just works
    assert not torch.allclose(out_a, out_c)
    assert cell.kernel.data_ptr() != other.kernel.data_ptr()


@pytest.mark.parametrize("kind", KINDS)
def test_cell_call_matches_one_step_of_dynamic_rnn(kind):
    torch.manual_seed(1)
    cell = make(kind, 4, 3, dtype=torch.float32)
    x = torch.randn(2, 3)
    state = cell.zero_state(2)
    y, s = cell(x, state)
    out, s2 = rnnkit.dynamic_rnn(cell, x.unsqueeze(1), engine="loop")
    torch.testing.assert_close(out[:, 0], y)
    for a, b in zip(_nest.flatten(s), _nest.flatten(s2)):
        torch.testing.assert_close(a, b)
