"""rnnkit.final_state and the engine's final-state loop (rnnkit.engine.final): the final state of
every cell kind, stacks, lengths and time-major inputs equals the full run's (the plain loop and the
engine's full forward), the loop allocates nothing of size T, and calls that record a graph or drop
out run the full forward so that gradients stay right."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit import _nest
from rnnkit.engine import explain, final
from rnnkit.runners import final_state

CELLS = {
    "tanh": lambda: rnnkit.BasicRNNCell(7),
    "relu": lambda: rnnkit.BasicRNNCell(7, activation="relu"),
    "lstm": lambda: rnnkit.BasicLSTMCell(7),
    "lstm_peephole": lambda: rnnkit.LSTMCell(7, use_peepholes=True),
    "gru": lambda: rnnkit.GRUCell(7),
    "gru_reset_after": lambda: rnnkit.GRUCell(7, reset_after=True),
    "stack": lambda: rnnkit.MultiRNNCell(
        [rnnkit.GRUCell(6), rnnkit.BasicLSTMCell(5), rnnkit.BasicRNNCell(4)]
    ),
}


def _flat(state) -> torch.Tensor:
    return torch.cat([s.reshape(s.shape[0], -1) for s in _nest.flatten(state)], 1)


def _inputs(dtype, time_major, B=11, T=9, I=5):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(T, B, I, generator=g, dtype=dtype)
    lengths = torch.tensor([9, 0, 3, 9, 1, 5, 8, 2, 9, 4, 6])[:B]
    return (x if time_major else x.transpose(0, 1).contiguous()), lengths


@pytest.fixture(params=["default", "tiny"])
def blocks(request, monkeypatch):
    """The loop's chunking as shipped, and with chunks of a few rows and steps (several row blocks
    and step chunks at these sizes, rows ending inside and before a chunk)."""
    if request.param == "tiny":
        monkeypatch.setattr(final, "BLOCK_ELEMENTS", 64)
    return request.param


@pytest.mark.parametrize("kind", sorted(CELLS))
@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("with_lengths", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_final_state_equals_the_full_runs(kind, time_major, with_lengths, dtype, blocks):
    torch.manual_seed(0)
    cell = CELLS[kind]().to(dtype)
    x, lengths = _inputs(dtype, time_major)
    lengths = lengths if with_lengths else None
    g = torch.Generator().manual_seed(5)
    rnnkit.dynamic_rnn(cell, x[:1], time_major=time_major)  # builds it
    batch = x.shape[1] if time_major else x.shape[0]
    state = _nest.map_structure(
        lambda s: torch.randn(s.shape, generator=g, dtype=dtype), cell.zero_state(batch, dtype)
    )
    with torch.no_grad():
        _, loop = rnnkit.dynamic_rnn(cell, x, lengths, state, time_major=time_major, engine="loop")
        _, fused = rnnkit.dynamic_rnn(cell, x, lengths, state, time_major=time_major)
        before = final.calls
        got = final_state(cell, x, lengths, state, time_major=time_major)
        assert final.calls == before + 1  # the final-state loop ran
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == torch.float32 else {"rtol": 1e-12, "atol": 1e-13}
    torch.testing.assert_close(_flat(got), _flat(fused), **tol)
    torch.testing.assert_close(_flat(got), _flat(loop), **tol)
    if with_lengths:  # a row of length 0 keeps its initial state exactly
        torch.testing.assert_close(_flat(got)[1], _flat(state)[1], rtol=0, atol=0)
    assert type(got) is type(fused)


def test_cells_off_the_engine_run_the_plain_loop():
    """A cell the engine does not run (another activation) runs the plain loop, which keeps no
    outputs; same final state as dynamic_rnn's."""
    cell = rnnkit.BasicRNNCell(4, activation=torch.sigmoid)
    x, lengths = _inputs(torch.float32, False)
    _, want = rnnkit.dynamic_rnn(cell, x, lengths)
    before = final.calls
    got = final_state(cell, x, lengths)
    assert final.calls == before
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    plan = explain(cell, x, lengths, final_only=True)
    assert plan.path == "loop" and "none kept" in plan.outputs


def _numpy_peak(fn) -> int:
    """Peak bytes numpy allocated during ``fn()`` (numpy reports its buffers to tracemalloc; the
    engine's outputs and projections are numpy buffers)."""
    fn()  # warm: compiled kernels, scratch buffers
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind", ["tanh", "lstm", "gru"])
def test_outputs_are_not_materialised(kind):
    """B=256, T=40, H=64: the outputs are 2.6 MB (an LSTM's projection four times that); the
    final-state loop allocates a small fraction of one output sequence."""
    torch.manual_seed(0)
    cell = {"tanh": rnnkit.BasicRNNCell, "lstm": rnnkit.BasicLSTMCell, "gru": rnnkit.GRUCell}[kind](
        64
    )
    x = torch.randn(256, 40, 4)
    lengths = torch.full((256,), 40)
    lengths[0] = 39  # rows of different lengths: the engine's own loop (numpy buffers), not oneDNN
    outputs_bytes = 256 * 40 * 64 * 4
    with torch.no_grad():
        full = _numpy_peak(lambda: rnnkit.dynamic_rnn(cell, x, lengths))
        only = _numpy_peak(lambda: final_state(cell, x, lengths))
    assert full >= outputs_bytes  # the measure sees the full run's outputs
    assert only < outputs_bytes // 8, (only, outputs_bytes)


def test_explain_reports_the_final_path_and_why_not():
    cell = rnnkit.BasicLSTMCell(16)
    x = torch.randn(8, 30, 3)
    with torch.no_grad():
        final_state(cell, x)
        plan = explain(cell, x, final_only=True)
        assert plan.path == "final" and plan.outputs.startswith("not built")
        assert [layer.route for layer in plan.layers] == ["final"]
        assert "final state only" in str(plan)
        assert explain(cell, x).path != "final"  # dynamic_rnn itself returns its outputs
    plan = explain(cell, x, final_only=True)  # grad mode on, the cell's weights require grad
    assert plan.path == "general" and "records an autograd graph" in plan.outputs


def test_big_lstm_takes_the_loop_not_onednn():
    """An LSTM that dynamic_rnn's small path sends to torch's oneDNN LSTM (whose layer returns all
    steps) runs on the final-state loop when only the final state is wanted."""
    cell = rnnkit.BasicLSTMCell(128)
    x = torch.randn(128, 28, 28)
    with torch.no_grad():
        _, want = rnnkit.dynamic_rnn(cell, x)
        assert explain(cell, x).layers[0].route.startswith("onednn")
        before = final.calls
        got = final_state(cell, x)
        assert final.calls == before + 1
        assert explain(cell, x, final_only=True).path == "final"
    torch.testing.assert_close(_flat(got), _flat(want), rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("kind", ["tanh", "lstm", "gru", "stack"])
def test_gradients_through_the_final_state(kind):
    """Under grad the full forward runs (its backward needs every step) and the gradients of the
    final state are the plain loop's."""
    torch.manual_seed(1)
    cell = CELLS[kind]().double()
    x, lengths = _inputs(torch.float64, False)
    x.requires_grad_(True)
    rnnkit.dynamic_rnn(cell, x[:1].detach())
    params = [x, *cell.parameters()]
    before = final.calls
    got = final_state(cell, x, lengths)
    assert final.calls == before  # recorded the full forward
    loss = sum((s * s).sum() for s in _nest.flatten(got))
    grads = torch.autograd.grad(loss, params)
    _, ref = rnnkit.dynamic_rnn(cell, x, lengths, engine="loop")
    ref_loss = sum((s * s).sum() for s in _nest.flatten(ref))
    want = torch.autograd.grad(ref_loss, params)
    for a, b in zip(grads, want):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_active_dropout_runs_the_full_forward():
    """Dropout masks cover the whole sequence: the full forward runs (and in eval mode the loop)."""
    cell = rnnkit.DropoutWrapper(rnnkit.GRUCell(6), input_keep_prob=0.5)
    x = torch.randn(4, 5, 3)
    with torch.no_grad():
        before = final.calls
        assert final_state(cell, x).shape == (4, 6)
        assert final.calls == before
        assert "DropoutWrapper" in explain(cell, x, final_only=True).outputs
        cell.eval()
        _, want = rnnkit.dynamic_rnn(cell, x)
        torch.testing.assert_close(final_state(cell, x), want, rtol=1e-6, atol=1e-7)
        assert final.calls == before + 1


def test_empty_and_bad_inputs():
    cell = rnnkit.GRUCell(3)
    s0 = torch.randn(2, 3)
    assert torch.equal(final_state(cell, torch.zeros(2, 0, 4), initial_state=s0), s0)
    with pytest.raises(ValueError, match="engine"):
        final_state(cell, torch.zeros(2, 3, 4), engine="fast")
    with pytest.raises(ValueError, match="sequence_length"):
        final_state(cell, torch.zeros(2, 3, 4), sequence_length=[1, 4])


def test_blocks_cover_every_row_and_step():
    assert final.blocks(10_000, 600, 28) == (final.BLOCK_ELEMENTS // 600, 1)
    rows, steps = final.blocks(64, 28, 50)
    assert rows == 64 and steps == min(50, final.BLOCK_ELEMENTS // (64 * 28))
    assert np.prod(final.blocks(3, 4, 0)) >= 1
