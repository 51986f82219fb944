"""rnnkit.engine.explain (rnnkit.engine.paths.choose): for calls that take each path -- small, the
small path's straight way to oneDNN, the general path's engine loop (whole and in halves), oneDNN
(whole and in halves), the plain loop, the operators while tracing, ONNX, no steps -- its answer is
the path the call then takes, seen by spies on the code of each path."""

from __future__ import annotations

import pytest
import torch

import rnnkit
from rnnkit import runners
from rnnkit.engine import autograd, explain, library, onednn, paths, small, team


@pytest.fixture
def ran(monkeypatch):
    """What the next calls run: ``("small", None)``, ``("loop", None)``, ``("layer", route)``."""
    seen: list[tuple[str, str | None]] = []
    small_forward = small._SmallFn.forward

    def small_spy(ctx, spec, *args):
        seen.append(("small", None))
        seen.append(("layer", "small"))
        return small_forward(ctx, spec, *args)

    straight = small._onednn_layer

    def straight_spy(*args):
        seen.append(("small", None))
        return straight(*args)

    eager = autograd.eager_layer

    def eager_spy(cell, x, state, lengths, tmax, graph, cut):
        route = "loop" if cut is None else "onednn halves" if cut else "onednn"
        seen.append(("layer", route))
        return eager(cell, x, state, lengths, tmax, graph, cut)

    split = autograd._split_layer

    def split_spy(*args):
        seen.append(("layer", "halves"))
        return split(*args)

    loop = runners._loop

    def loop_spy(*args):
        seen.append(("loop", None))
        return loop(*args)

    op_layer = library._op_layer

    def op_spy(*args):
        seen.append(("layer", "operator"))
        return op_layer(*args)

    monkeypatch.setattr(small._SmallFn, "forward", staticmethod(small_spy))
    monkeypatch.setattr(small, "_onednn_layer", straight_spy)
    monkeypatch.setattr(autograd, "eager_layer", eager_spy)
    monkeypatch.setattr(autograd, "_split_layer", split_spy)
    monkeypatch.setattr(runners, "_loop", loop_spy)
    monkeypatch.setattr(library, "_op_layer", op_spy)
    return seen


def _taken(seen: list) -> tuple[str, list[str]]:
    """``(path, layer routes)`` of what the spies saw."""
    kinds = {k for k, _ in seen}
    path = (
        "small" if "small" in kinds
        else "loop" if "loop" in kinds
        else "operators" if ("layer", "operator") in seen
        else "general"
    )  # fmt: skip
    return path, [r for k, r in seen if k == "layer"]


def _agrees(cell, x, ran, **kwargs):
    """explain's answer, then the call: the same path and the same route for each layer."""
    plan = explain(cell, x, **kwargs)
    text = str(plan)
    assert plan.path in text and all(layer.route in text for layer in plan.layers)
    y, _ = rnnkit.dynamic_rnn(cell, x, **kwargs)
    if y.requires_grad:
        y.sum().backward()
    path, routes = _taken(ran)
    assert (plan.path, [layer.route for layer in plan.layers]) == (path, routes), text
    return plan


def _idle(monkeypatch):
    """The machine as if idle (two spare cores); skips where torch cannot run two pieces at once."""
    monkeypatch.setattr(team.load, "spare_cores", lambda: 2.0)
    if not team.available():
        pytest.skip("torch here does not run on libgomp with 2+ threads")


def _lstm(H=6, I=4):
    return rnnkit.BasicLSTMCell(H, input_size=I)


@pytest.mark.parametrize(
    "make",
    [
        lambda: rnnkit.BasicRNNCell(5, input_size=3),
        lambda: rnnkit.GRUCell(5, reset_after=True, input_size=3),
        lambda: _lstm(5, 3),
    ],
)
def test_a_small_built_layer_takes_the_small_path(make, ran):
    plan = _agrees(make(), torch.randn(4, 2, 3, requires_grad=True), ran)
    assert plan.path == "small" and plan.layers[0].route == "small"


def test_an_unbuilt_cell_and_lengths_take_the_general_path(ran):
    cell = rnnkit.MultiRNNCell([rnnkit.GRUCell(5), rnnkit.LSTMCell(4, use_peepholes=True)])
    plan = _agrees(cell, torch.randn(3, 6, 2), ran, sequence_length=[6, 2, 0])
    assert plan.path == "general" and [layer.route for layer in plan.layers] == ["loop", "loop"]
    assert "sequence_length given" in plan.reason
    assert [layer.kind for layer in plan.layers] == ["gru", "lstm_peephole"]
    assert "lstm_peephole is not an LSTM it runs" in str(plan.layers[1])


def test_peepholes_are_not_the_small_paths(ran):
    cell = rnnkit.LSTMCell(4, use_peepholes=True, input_size=2)
    plan = _agrees(cell, torch.randn(3, 5, 2), ran)
    assert plan.path == "general" and "does not run lstm_peephole" in plan.reason


def test_the_plain_loop_for_what_the_engine_does_not_run(ran):
    cell = rnnkit.BasicRNNCell(4, input_size=2)
    plan = _agrees(cell, torch.randn(3, 5, 2), ran, engine="loop")
    assert plan.path == "loop" and plan.layers == [] and "engine='loop'" in plan.reason
    ran.clear()
    wrapped = rnnkit.DropoutWrapper(rnnkit.GRUCell(4, input_size=2), state_keep_prob=0.5)
    plan = _agrees(wrapped, torch.randn(3, 5, 2), ran)
    assert plan.path == "loop" and "does not run" in plan.reason
    ran.clear()
    half = rnnkit.BasicRNNCell(4, input_size=2).to(torch.float16)
    with torch.no_grad():
        plan = _agrees(half, torch.randn(3, 5, 2, dtype=torch.float16), ran)
    assert plan.path == "loop" and "float32 and float64, not torch.float16" in plan.reason
    ran.clear()
    plan = _agrees(cell.double(), torch.randn(3, 5, 2, dtype=torch.float64), ran,
                   initial_state=torch.zeros(3, 4, dtype=torch.float64))  # fmt: skip
    assert plan.path == "general" and "initial_state given" in plan.reason


def test_halves_on_the_team(monkeypatch, ran):
    monkeypatch.setattr(paths, "SPLIT_MIN_MACS", 1)
    _idle(monkeypatch)
    cell = rnnkit.MultiRNNCell([rnnkit.GRUCell(5), rnnkit.BasicRNNCell(3)])
    plan = _agrees(
        cell, torch.randn(4, 6, 2, requires_grad=True), ran, sequence_length=[6, 5, 1, 0]
    )
    assert [layer.route for layer in plan.layers] == ["halves", "halves"]
    ran.clear()
    monkeypatch.setattr(team.load, "spare_cores", lambda: 0.5)  # a busy machine: whole
    plan = _agrees(cell, torch.randn(4, 6, 2), ran, sequence_length=[6, 5, 1, 0])
    assert [layer.route for layer in plan.layers] == ["loop", "loop"]
    assert "no two spare cores" in str(plan)


@pytest.fixture
def onednn_small(monkeypatch):
    if not onednn.available():
        pytest.skip("torch built without oneDNN")
    monkeypatch.setattr(onednn, "MIN_MACS", 0)
    monkeypatch.setattr(paths, "ONEDNN_SPLIT_MIN_TBH", 0)
    _idle(monkeypatch)


@pytest.mark.parametrize("halves", [False, True])
def test_onednn_whole_or_in_halves(monkeypatch, onednn_small, ran, halves):
    monkeypatch.setattr(paths, "ONEDNN_SPLIT_MAX_STEP", 1 << 40 if halves else 0)
    monkeypatch.setattr(small, "MAX_MACS", 0)
    cell = _lstm()
    x = torch.randn(8, 5, 4)
    plan = _agrees(cell, x, ran)  # from zero state: straight from the small path
    assert plan.path == "small" and plan.layers[0].route == (
        "onednn halves" if halves else "onednn"
    )
    ran.clear()
    state = cell.zero_state(8)  # an initial state: the general path, the same rule
    plan = _agrees(cell, x, ran, initial_state=state)
    assert plan.path == "general" and plan.layers[0].route == (
        "onednn halves" if halves else "onednn"
    )
    ran.clear()
    with torch.no_grad():  # forward only: whole
        plan = _agrees(cell, x, ran, initial_state=state)
    assert plan.layers[0].route == "onednn" and "forward only" in str(plan)
    ran.clear()
    plan = _agrees(cell, x, ran, sequence_length=[5, 5, 5, 5, 5, 5, 5, 2])  # ragged: the loop
    assert plan.layers[0].route == "loop" and "rows of different lengths" in str(plan)


def test_integer_inputs_are_explained_as_the_dtype_they_convert_to(ran):
    cell = rnnkit.GRUCell(4, input_size=2).double()
    plan = _agrees(cell, torch.randint(0, 3, (3, 5, 2)), ran, sequence_length=[5, 1, 0])
    assert plan.path == "general" and plan.layers[0].route == "loop"


def test_no_steps(ran):
    plan = explain(rnnkit.BasicRNNCell(3, input_size=2), torch.randn(4, 0, 2))
    assert plan.path == "empty" and plan.layers == []


def test_operators_while_tracing(ran):
    """Fake tensors (what torch.compile and torch.export trace with): the torch operators."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    cell = rnnkit.MultiRNNCell([_lstm(4, 3), rnnkit.GRUCell(4, reset_after=True)])
    with FakeTensorMode(allow_non_fake_inputs=True) as mode:
        x = mode.from_tensor(torch.randn(2, 5, 3))
        plan = explain(cell, x)
        rnnkit.dynamic_rnn(cell, x)
    assert plan.path == "operators"
    assert [layer.reason for layer in plan.layers] == ["rnnkit::lstm_layer", "rnnkit::grur_layer"]
    assert _taken(ran) == ("operators", ["operator", "operator"])


def test_onnx_under_export(monkeypatch):
    from torch._subclasses.fake_tensor import FakeTensorMode

    monkeypatch.setattr(torch.onnx, "is_in_onnx_export", lambda: True)
    cell = rnnkit.GRUCell(4, input_size=3)
    with FakeTensorMode(allow_non_fake_inputs=True) as mode:
        plan = explain(cell, mode.from_tensor(torch.randn(2, 5, 3)))
    assert plan.path == "onnx" and plan.layers[0].reason == "ONNX GRU"


def test_one_time_step_takes_the_plain_loop(ran):
    """A one-step call (a sampling loop's) runs the plain loop unless the fused engine is asked for
    or a tracer records it; the values are the engine's."""
    cell = rnnkit.MultiRNNCell([rnnkit.GRUCell(6, input_size=4), rnnkit.GRUCell(5)])
    x, lengths = torch.randn(2, 1, 4), torch.tensor([1, 0])
    state = (torch.randn(2, 6), torch.randn(2, 5))
    plan = _agrees(cell, x, ran, sequence_length=lengths, initial_state=state)
    assert plan.path == "loop" and "one time step" in plan.reason
    ran.clear()
    y_fused, s_fused = rnnkit.dynamic_rnn(
        cell, x, lengths, state, engine="fused"
    )  # the engine, as asked
    assert _taken(ran)[0] == "general"
    y, s = rnnkit.dynamic_rnn(cell, x, lengths, state)
    torch.testing.assert_close(y, y_fused, rtol=1e-6, atol=1e-6)
    for a, b in zip(s, s_fused):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)
    assert explain(cell, torch.randn(2, 2, 4), lengths, state).path == "general"


def test_one_time_step_final_state_equals_the_engines():
    cell = rnnkit.MultiRNNCell([rnnkit.GRUCell(6, input_size=4), rnnkit.GRUCell(5)])
    x, lengths = torch.randn(2, 1, 4), torch.tensor([1, 0])
    state = (torch.randn(2, 6), torch.randn(2, 5))
    plan = explain(cell, x, lengths, state, final_only=True)
    assert plan.path == "loop" and "one time step" in plan.reason
    _, s_fused = rnnkit.dynamic_rnn(cell, x, lengths, state, engine="fused")
    for a, b in zip(rnnkit.final_state(cell, x, lengths, state), s_fused):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)
