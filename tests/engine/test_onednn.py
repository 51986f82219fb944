"""LSTM layers on torch's fused CPU LSTM (rnnkit.engine.onednn): TF1's values and gradients (the plain
loop's), and only where it applies."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import _nest
from rnnkit.engine import cpu, onednn, paths
from tests._tf1 import load_cases, replay

pytestmark = [
    pytest.mark.skipif(not onednn.available(), reason="torch built without oneDNN"),
    pytest.mark.usefixtures("general_path"),  # small layers here test the general path
]


class _Calls(list):
    halves = False


@pytest.fixture(params=["whole", "halves"])
def onednn_calls(request, monkeypatch):
    """Every size qualifies; a layer runs whole, or as two halves of its batch at once (on the
    team's two threads where torch has them). Returns the batch size of each oneDNN run (so a test
    knows this path ran, and how; ``calls.halves`` says which)."""
    calls = _Calls()
    original = onednn.layer_forward

    def spy(x, *args, **kwargs):
        calls.append(x.shape[1])
        return original(x, *args, **kwargs)

    monkeypatch.setattr(onednn, "MIN_MACS", 0)
    monkeypatch.setattr(onednn, "layer_forward", spy)
    halves = calls.halves = request.param == "halves"
    if halves:  # the halves need the team: as on an idle machine (a busy one runs them whole)
        monkeypatch.setattr(paths.team.load, "spare_cores", lambda: 2.0)
        if not paths.team.available():
            pytest.skip("torch here does not run on libgomp with 2+ threads")
    monkeypatch.setattr(paths, "ONEDNN_SPLIT_MAX_STEP", 1 << 40 if halves else 0)
    monkeypatch.setattr(paths, "ONEDNN_SPLIT_MIN_TBH", 0)
    return calls


def _run(cell, x, lengths, state, engine):
    y, s = rnnkit.dynamic_rnn(
        cell, x, sequence_length=lengths, initial_state=state, time_major=True, engine=engine
    )
    leaves = [y, *_nest.flatten(s)]
    gen = torch.Generator().manual_seed(1)
    loss = sum((t * torch.randn(t.shape, generator=gen)).sum() for t in leaves)
    wrt = [x, *_nest.flatten(state), *cell.parameters()]
    return [t.detach() for t in leaves], torch.autograd.grad(loss, wrt)


def _lstm(kind: str, H: int, I: int) -> rnnkit.RNNCell:
    torch.manual_seed(0)
    cell = {
        "basic": lambda: rnnkit.BasicLSTMCell(H, forget_bias=0.7, input_size=I),
        "lstm": lambda: rnnkit.LSTMCell(H, forget_bias=1.3, input_size=I),
        "stack": lambda: rnnkit.MultiRNNCell(
            [rnnkit.BasicLSTMCell(H), rnnkit.GRUCell(H), rnnkit.LSTMCell(H)], input_size=I
        ),
    }[kind]()
    with torch.no_grad():  # non-trivial biases: every gate's reordering matters
        for p in cell.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return cell


@pytest.mark.parametrize("B", [4, 5])
@pytest.mark.parametrize("kind", ["basic", "lstm", "stack"])
@pytest.mark.parametrize("lengths", [None, "uniform"])
def test_torch_lstm_matches_the_loop(kind, lengths, B, onednn_calls):
    T, I, H = 9, 3, 6
    cell = _lstm(kind, H, I)
    x = torch.randn(T, B, I, requires_grad=True)
    seq = torch.full((B,), 6) if lengths else None  # every row stops at step 6 of 9
    state = _nest.map_structure(lambda s: torch.randn_like(s).requires_grad_(), cell.zero_state(B))
    values, grads = _run(cell, x, seq, state, "fused")
    assert sum(onednn_calls) == (2 if kind == "stack" else 1) * B  # the LSTM layers, not the GRU
    layers = 2 if kind == "stack" else 1
    expected = [B // 2, B - B // 2] if onednn_calls.halves else [B]
    assert sorted(onednn_calls) == sorted(expected * layers)
    ref_values, ref_grads = _run(cell, x, seq, state, "loop")
    for a, b in zip(values + list(grads), ref_values + list(ref_grads)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    if lengths:
        assert torch.all(values[0][6:] == 0)  # steps past the lengths are zeros


def test_torch_lstm_only_where_it_applies(monkeypatch):
    x = torch.randn(28, 128, 28)
    full = np.full(128, 28)
    lstm = rnnkit.BasicLSTMCell(128, input_size=28)
    assert onednn.takes(lstm, x, full, 28)
    ragged = full.copy()
    ragged[3] = 5
    assert not onednn.takes(lstm, x, ragged, 28)  # TF1's per-row freezing: the loop
    peep = rnnkit.LSTMCell(128, use_peepholes=True, input_size=28)
    assert not onednn.takes(peep, x, full, 28)
    assert not onednn.takes(rnnkit.GRUCell(128, input_size=28), x, full, 28)
    assert not onednn.takes(lstm.double(), x.double(), full, 28)
    tiny = rnnkit.BasicLSTMCell(5, input_size=28)
    assert not onednn.takes(tiny, x[:3, :4], full[:4], 3)
    big = rnnkit.BasicLSTMCell(1024, input_size=28)
    wide = torch.randn(10, 64, 28)
    assert onednn.takes(big, wide, full[:64], 10)
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", False)
    assert not onednn.takes(rnnkit.BasicLSTMCell(128, input_size=28), x, full, 28)


def test_torch_lstm_without_a_graph(onednn_calls):
    cell = _lstm("basic", 6, 3)
    x = torch.randn(9, 4, 3)
    with torch.no_grad():
        y, (c, h) = rnnkit.dynamic_rnn(cell, x, time_major=True)
    assert onednn_calls and not y.requires_grad
    ref, (rc, rh) = rnnkit.dynamic_rnn(cell, x, time_major=True, engine="loop")
    torch.testing.assert_close(y, ref.detach(), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(h, rh.detach(), rtol=1e-4, atol=1e-5)


_LSTM_CASES = [
    (c, p)
    for c, p in load_cases()
    if c["runner"] != "static_rnn" and "lstm" in c["name"] and "peephole" not in c["name"]
]


@pytest.mark.parametrize("case,path", _LSTM_CASES, ids=[c["name"] for c, _ in _LSTM_CASES])
def test_tf1_reference_cases_on_torch_lstm(case, path, onednn_calls):
    """TensorFlow 1.x's own numbers, with every eligible LSTM layer on torch's LSTM (rows of different
    lengths stay on the loop, so some cases exercise it only in part)."""
    results = replay(case, path, engine="fused")
    for key, (ours, theirs) in results.items():
        np.testing.assert_allclose(
            ours, theirs, rtol=1e-4, atol=1e-5, err_msg=f"{case['name']} {key}"
        )


def test_tf1_reference_cases_reach_torch_lstm(onednn_calls):
    for case, path in _LSTM_CASES:
        replay(case, path, engine="fused")
    # float32 cases of one length per batch (the others are float64, or ragged: the loop runs them)
    assert len(onednn_calls) >= 1


def test_torch_lstm_second_derivatives_equal_the_loop(onednn_calls):
    """Unlike the engine's own nodes, torch's LSTM differentiates twice: the values must be right."""
    cell = _lstm("basic", 6, 3)
    x = torch.randn(5, 4, 3, requires_grad=True)
    results = []
    for name in ("fused", "loop"):
        y, _ = rnnkit.dynamic_rnn(cell, x, time_major=True, engine=name)
        (g,) = torch.autograd.grad((y**2).sum(), x, create_graph=True)
        (h,) = torch.autograd.grad((g**2).sum(), x)
        results.append((g.detach(), h))
    assert onednn_calls
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_pooled_buffers_live_as_long_as_a_graph_needs_them(onednn_calls, monkeypatch):
    """Every buffer of the oneDNN path from the engine's pool: two graphs built before either runs
    backward, and a gradient kept as ``.grad``, must each keep their own buffers."""
    monkeypatch.setattr(onednn, "POOL_FROM", 1)
    monkeypatch.setattr(cpu, "_big_pool", [])  # the small buffers it pools stay out of later tests
    cell = _lstm("basic", 6, 3)
    xs = [torch.randn(4, 9, 3, requires_grad=True) for _ in range(2)]  # batch-major: dense copies
    results = []
    for engine in ("fused", "loop"):
        ys = [rnnkit.dynamic_rnn(cell, x, engine=engine)[0] for x in xs]
        loss = (ys[0] * ys[1]).sum() + (ys[1] ** 2).sum()
        results.append(
            [y.detach() for y in ys] + list(torch.autograd.grad(loss, [*xs, *cell.parameters()]))
        )
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert len(onednn_calls) >= 2


@pytest.mark.parametrize("I, H", [(3, 5), (17, 13), (8, 16), (40, 24), (100, 90), (93, 97)])
@pytest.mark.parametrize("keep", [True, False])
def test_weight_layout_both_ways(I, H, keep):
    """TF1's ``kernel (I + H, 4H)`` / ``bias`` (gates i, j, f, o) as torch's ``w_ih``, ``w_hh``,
    ``b_ih + forget_bias on f``, ``b_hh = 0`` (gates i, f, g, o), and gradients back: against
    torch's own slicing; blocks small enough for plain loops and big enough for 8x8 tiles, on
    and off the tiles' edges."""
    torch.manual_seed(0)
    kernel, bias = torch.randn(I + H, 4 * H), torch.randn(4 * H)
    i, j, f, o = kernel.split(H, 1)
    bi, bj, bf, bo = bias.split(H)
    w_ih, w_hh, b_ih, b_hh = onednn.torch_weights(kernel, bias, 0.7, keep=keep)
    torch_order = torch.cat([i, f, j, o], 1).t()
    assert torch.equal(w_ih, torch_order[:, :I]) and torch.equal(w_hh, torch_order[:, I:])
    assert torch.equal(b_ih, torch.cat([bi, bf + 0.7, bj, bo])) and not b_hh.any()
    dk, db = onednn.kernel_grads(w_ih.clone(), w_hh.clone(), b_ih.clone())
    assert torch.equal(dk, torch.cat([i, j, f, o], 1))
    assert torch.equal(db, torch.cat([bi, bj, bf + 0.7, bo]))
