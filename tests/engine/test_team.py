"""Two pieces of the engine's work at once (rnnkit.engine.team, rnnkit.engine.autograd): a layer split
into two halves of its batch, and the two directions of a bidirectional RNN, each one autograd node
run on torch's OpenMP threads. Same values and gradients as the plain loop, for every cell kind,
lengths and stacks included, with the team and without it."""

from __future__ import annotations

import pytest
import torch

import rnnkit
from rnnkit import _nest
from rnnkit.engine import autograd, cpu, paths, team
from tests.engine.test_engine import KINDS, make_cell, random_state

pytestmark = pytest.mark.usefixtures("general_path")  # small layers here test the general path


@pytest.fixture(params=["team", "one_after_the_other"])
def forced(request, monkeypatch):
    """Every layer splits and every bidirectional layer pairs; the pieces run on torch's OpenMP
    threads (where this torch has them) or one after the other. Counts the calls."""
    if request.param == "team":
        monkeypatch.setattr(team.load, "spare_cores", lambda: 2.0)  # as on an idle machine
        if not team.available():
            pytest.skip("torch here does not run on libgomp with 2+ threads")
    if request.param == "one_after_the_other":
        monkeypatch.setattr(team, "available", lambda: False)
    calls = []
    original = autograd._pair_layers

    def spy(*args, **kwargs):
        calls.append(args[0][0])
        return original(*args, **kwargs)

    monkeypatch.setattr(paths, "splits", lambda cell, x, tmax: x.shape[1] >= 2)
    monkeypatch.setattr(paths, "pairs", lambda *a: not (a[0].before or a[0].after))
    monkeypatch.setattr(autograd, "_pair_layers", spy)
    return calls


def _loss_and_grads(leaves, wrt):
    gen = torch.Generator().manual_seed(1)
    loss = sum((t * torch.randn(t.shape, generator=gen, dtype=t.dtype)).sum() for t in leaves)
    return [t.detach() for t in leaves], torch.autograd.grad(loss, wrt)


def _assert_same(a, b):
    for u, v in zip(a[0] + list(a[1]), b[0] + list(b[1])):
        torch.testing.assert_close(u, v)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("with_lengths", [False, True])
def test_halves_of_the_batch_match_the_loop(kind, with_lengths, forced):
    T, B, I, H = 6, 5, 3, 4  # an odd batch: halves of 2 and 3 rows
    cell = make_cell(kind, H, I)
    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([6, 0, 3, 6, 1]) if with_lengths else None
    state = random_state(cell, B, torch.float64)
    wrt = [x, *_nest.flatten(state), *cell.parameters()]
    results = []
    for engine in ("fused", "loop"):
        y, s = rnnkit.dynamic_rnn(cell, x, lengths, state, time_major=True, engine=engine)
        results.append(_loss_and_grads([y, *_nest.flatten(s)], wrt))
    assert len(forced) == (len(cell.cells) if kind == "multi" else 1)
    _assert_same(*results)


@pytest.mark.parametrize("kind", ["tanh", "lstm_peep", "gru", "gru_after"])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_two_directions_at_once_match_the_loop(kind, with_lengths, forced):
    T, B, I, H = 7, 4, 3, 5
    cell_fw, cell_bw = make_cell(kind, H, I, seed=0), make_cell(kind, H, I, seed=1)
    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([7, 3, 0, 5]) if with_lengths else None
    s_fw, s_bw = random_state(cell_fw, B, torch.float64), random_state(cell_bw, B, torch.float64)
    wrt = [x, *_nest.flatten((s_fw, s_bw)), *cell_fw.parameters(), *cell_bw.parameters()]
    results = []
    for engine in ("fused", "loop"):
        (a, b), (f, g) = rnnkit.bidirectional_dynamic_rnn(
            cell_fw, cell_bw, x, lengths, s_fw, s_bw, time_major=True, engine=engine
        )
        results.append(_loss_and_grads([a, b, *_nest.flatten((f, g))], wrt))
    assert len(forced) == 1  # the directions ran as one pair (not split further)
    _assert_same(*results)


def test_without_a_graph_and_in_float32(forced):
    cell = make_cell("gru", 6, 3, torch.float32)
    x = torch.randn(9, 6, 3)
    with torch.no_grad():
        y, h = rnnkit.dynamic_rnn(cell, x, time_major=True)
    assert forced and not y.requires_grad
    ref, rh = rnnkit.dynamic_rnn(cell, x, time_major=True, engine="loop")
    torch.testing.assert_close(y, ref.detach(), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(h, rh.detach(), rtol=1e-5, atol=1e-6)


def test_an_error_in_either_piece_reaches_the_caller(forced, monkeypatch):
    def boom(*args, **kwargs):
        raise ValueError("kernel failed")

    monkeypatch.setattr(cpu, "rnn_forward", boom)
    cell = make_cell("tanh", 4, 3)
    with pytest.raises(ValueError, match="kernel failed"):
        rnnkit.dynamic_rnn(cell, torch.randn(5, 4, 3, dtype=torch.float64), time_major=True)
    assert cpu._paired == 0  # the paired mode was left


def test_second_derivatives_are_refused(forced):
    cell = make_cell("gru", 3, 2)
    x = torch.randn(4, 4, 2, dtype=torch.float64, requires_grad=True)
    y, _ = rnnkit.dynamic_rnn(cell, x, time_major=True)
    with pytest.raises(RuntimeError, match="engine='loop'"):
        torch.autograd.grad((y**2).sum() + (x**3).sum(), x, create_graph=True)


def test_which_layers_split(monkeypatch):
    monkeypatch.setattr(team, "available", lambda: True)
    mnist = rnnkit.BasicRNNCell(150, input_size=28)  # the TF1 chapter's MNIST layer
    assert paths.splits(mnist, torch.randn(28, 150, 28), 28)
    seed = rnnkit.BasicRNNCell(5, input_size=3)
    assert not paths.splits(seed, torch.randn(2, 4, 3), 2)  # the hand-off costs more
    wide = rnnkit.GRUCell(1024, input_size=8)  # per-step product on several BLAS threads already
    assert not paths.splits(wide, torch.randn(100, 64, 8), 100)
    assert not paths.splits(mnist, torch.randn(28, 1, 28), 28)  # one row
    # LSTM layers on torch's oneDNN LSTM: training runs of enough T*B*H, per-step product below 2^25
    lstm = rnnkit.BasicLSTMCell(256, input_size=128)
    m = torch.randn(200, 64, 128)
    assert paths.onednn_cut(lstm, m, 200, True) == 32
    assert paths.onednn_cut(lstm, m, 200, False) == 0  # forward-only: whole
    small = rnnkit.BasicLSTMCell(64, input_size=32)
    assert paths.onednn_cut(small, torch.randn(100, 32, 32), 100, True) == 0
    big = rnnkit.BasicLSTMCell(1024, input_size=512)
    assert paths.onednn_cut(big, torch.randn(100, 64, 512), 100, True) == 0
    monkeypatch.setattr(team, "available", lambda: False)
    assert not paths.splits(mnist, torch.randn(28, 150, 28), 28)


def test_run_both_runs_both_and_keeps_order():
    a, b = team.run_both(lambda: "first", lambda: "second")
    assert (a, b) == ("first", "second")
    with pytest.raises(KeyError):
        team.run_both(lambda: {}["missing"], lambda: 1)


def test_two_directions_of_different_depths(forced):
    """A bidirectional RNN whose directions are stacks of different depths."""
    torch.manual_seed(0)
    cell_fw = rnnkit.BasicRNNCell(4, input_size=3).double()
    cell_bw = rnnkit.MultiRNNCell(
        [rnnkit.BasicRNNCell(4), rnnkit.GRUCell(5), rnnkit.LSTMCell(4, use_peepholes=True)],
        input_size=3,
    ).double()
    x = torch.randn(5, 3, 3, dtype=torch.float64, requires_grad=True)
    wrt = [x, *cell_fw.parameters(), *cell_bw.parameters()]
    results = []
    for engine in ("fused", "loop"):
        (a, b), (f, g) = rnnkit.bidirectional_dynamic_rnn(
            cell_fw, cell_bw, x, time_major=True, engine=engine, dtype=torch.float64
        )
        results.append(_loss_and_grads([a, b, *_nest.flatten((f, g))], wrt))
    assert len(forced) == 3  # the first layers paired; the deeper stack's two others split alone
    _assert_same(*results)
