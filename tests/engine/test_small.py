"""Small layers in one compiled call each way (rnnkit.engine.small): the plain loop's values and
gradients for every cell kind it takes, in both layouts and dtypes; exact gradients (gradcheck); and
every call it must not take goes to the general path, with its checks and errors."""

from __future__ import annotations

import pytest
import torch

import rnnkit
from rnnkit import _nest
from rnnkit.engine import small
from tests.engine.test_engine import make_cell

SMALL_KINDS = ("tanh", "relu", "basic_lstm", "lstm", "gru", "gru_after")


@pytest.fixture
def small_calls(monkeypatch):
    """Counts the layers the small path runs."""
    calls = []
    original = small._SmallFn.forward

    def spy(ctx, spec, *args):
        calls.append(spec[0].name)
        return original(ctx, spec, *args)

    monkeypatch.setattr(small._SmallFn, "forward", staticmethod(spy))
    return calls


def _perturbed(kind: str, dtype: torch.dtype, H: int = 5, I: int = 3) -> rnnkit.RNNCell:
    cell = make_cell(kind, H, I, dtype=dtype)
    with torch.no_grad():  # non-trivial biases: every parameter's gradient matters
        for p in cell.parameters():
            p.add_(
                0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(3), dtype=dtype)
            )
    return cell


def _values_and_grads(cell, x, time_major, engine):
    y, s = rnnkit.dynamic_rnn(cell, x, time_major=time_major, engine=engine)
    leaves = [y, *_nest.flatten(s)]
    gen = torch.Generator().manual_seed(1)
    loss = sum((t * torch.randn(t.shape, generator=gen, dtype=t.dtype)).sum() for t in leaves)
    return [t.detach() for t in leaves], torch.autograd.grad(loss, [x, *cell.parameters()])


@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("kind", SMALL_KINDS)
def test_small_path_matches_the_loop(kind, dtype, time_major, small_calls):
    cell = _perturbed(kind, dtype)
    x = torch.randn(4, 2, 3, dtype=dtype, requires_grad=True)
    values, grads = _values_and_grads(cell, x, time_major, "fused")
    assert len(small_calls) == 1
    ref_values, ref_grads = _values_and_grads(cell, x, time_major, "loop")
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == torch.float32 else {"rtol": 1e-10, "atol": 1e-12}
    for a, b in zip(values + list(grads), ref_values + list(ref_grads)):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, **tol)


@pytest.mark.parametrize("kind", SMALL_KINDS)
def test_small_path_gradients_are_exact(kind, small_calls):
    """gradcheck (finite differences, float64) of the outputs and final state with respect to the
    inputs and every parameter, through the small path's own backward."""
    cell = _perturbed(kind, torch.float64, H=3, I=2)
    names = [n for n, _ in cell.named_parameters()]
    x = torch.randn(2, 3, 2, dtype=torch.float64, requires_grad=True)

    def run(x, *params):  # the cell with these parameters in place of its own
        saved = {n: getattr(cell, n) for n in names}
        try:
            for n, p in zip(names, params):
                cell._parameters[n] = p
            y, s = rnnkit.dynamic_rnn(cell, x)
        finally:
            for n, p in saved.items():
                cell._parameters[n] = p
        return (y, *_nest.flatten(s))

    params = [p.detach().clone().requires_grad_() for p in cell.parameters()]
    assert torch.autograd.gradcheck(run, (x, *params))
    assert small_calls  # the path under test ran


def test_small_path_without_a_graph(small_calls):
    cell = _perturbed("basic_lstm", torch.float32)
    x = torch.randn(4, 2, 3)
    with torch.no_grad():
        y, (c, h) = rnnkit.dynamic_rnn(cell, x)
    assert small_calls and y.grad_fn is None and h.grad_fn is None
    ref, (rc, rh) = rnnkit.dynamic_rnn(cell, x, engine="loop")
    torch.testing.assert_close(y, ref.detach())
    torch.testing.assert_close(c, rc.detach())


def test_small_path_refuses_second_derivatives(small_calls):
    cell = _perturbed("gru", torch.float64)
    x = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    y, _ = rnnkit.dynamic_rnn(cell, x)
    assert small_calls
    with pytest.raises(RuntimeError, match="engine='loop'"):
        torch.autograd.grad((y**2).sum(), x, create_graph=True)


def test_small_path_sees_inputs_changed_in_place(small_calls):
    cell = _perturbed("tanh", torch.float32)
    x = torch.randn(4, 2, 3, requires_grad=True)
    xc = x.clone()
    y, _ = rnnkit.dynamic_rnn(cell, xc)
    xc.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_calls_the_small_path_leaves_to_the_general_one(small_calls):
    cell = _perturbed("basic_lstm", torch.float32)
    x = torch.randn(4, 2, 3)
    state = cell.zero_state(4)
    others = [
        dict(sequence_length=[2, 1, 2, 2]),
        dict(initial_state=state),
        dict(engine="loop"),
    ]
    for kwargs in others:
        rnnkit.dynamic_rnn(cell, x, **kwargs)
    with pytest.raises(
        TypeError, match="inputs"
    ):  # a dtype that converts: the general path's check
        rnnkit.dynamic_rnn(cell, x, dtype=torch.float64)
    rnnkit.dynamic_rnn(cell, x.double().float().requires_grad_())  # control: these two are taken
    rnnkit.dynamic_rnn(cell, x, dtype=torch.float32)  # a dtype that converts nothing
    assert small_calls == ["lstm", "lstm"]
    small_calls.clear()
    rnnkit.dynamic_rnn(make_cell("lstm_peep", 5, 3, dtype=torch.float32), x)  # peepholes
    rnnkit.dynamic_rnn(rnnkit.BasicRNNCell(5, activation=torch.sigmoid, input_size=3), x)
    rnnkit.dynamic_rnn(rnnkit.MultiRNNCell([rnnkit.GRUCell(5)], input_size=3), x)  # a stack
    rnnkit.dynamic_rnn(rnnkit.BasicRNNCell(5), x)  # not built yet: the general path builds it
    rnnkit.dynamic_rnn(rnnkit.BasicRNNCell(200, input_size=3), torch.randn(8, 10, 3))  # big
    rnnkit.dynamic_rnn(cell, x.numpy())  # an array, not a tensor
    assert small_calls == []


def test_bad_input_still_gets_the_general_paths_errors():
    cell = _perturbed("tanh", torch.float32)
    with pytest.raises(ValueError, match="inputs"):
        rnnkit.dynamic_rnn(cell, torch.randn(4, 2, 7))  # built for width 3
    with pytest.raises(TypeError, match="inputs"):
        rnnkit.dynamic_rnn(cell, torch.randn(4, 2, 3, dtype=torch.float64))  # the cell is float32
    with pytest.raises(ValueError, match="inputs"):
        rnnkit.dynamic_rnn(cell, torch.randn(4, 3))
    with pytest.raises(ValueError, match="engine"):
        rnnkit.dynamic_rnn(cell, torch.randn(4, 2, 3), engine="fast")


def test_a_tampered_parameter_takes_the_checked_path(small_calls):
    """The kernels index by the built shapes: a parameter replaced by one of another shape must never
    reach them (it would read or write out of bounds)."""
    for shape in [(7,), (3,)]:  # one longer, one shorter than the built (5,)
        cell = _perturbed("tanh", torch.float32)
        cell.bias = torch.nn.Parameter(torch.zeros(shape))
        with pytest.raises(ValueError, match=r"cell\.bias.*\(5,\)"):
            rnnkit.dynamic_rnn(cell, torch.randn(4, 2, 3))
    assert small_calls == []


def test_zero_steps_and_zero_rows_take_the_general_path(small_calls):
    cell = _perturbed("gru", torch.float32)
    y, h = rnnkit.dynamic_rnn(cell, torch.randn(4, 0, 3))
    assert y.shape == (4, 0, 5) and h.shape == (4, 5)
    y, h = rnnkit.dynamic_rnn(cell, torch.randn(0, 2, 3))
    assert y.shape == (0, 2, 5)
    assert small_calls == []


# ------------------------------------------------------------------- LSTM layers for oneDNN
@pytest.fixture(params=["whole", "halves"])
def onednn_direct(request, monkeypatch):
    """LSTM layers of any size go from the short dispatch to the oneDNN node (whole, or in two
    halves of the batch); returns the list of ``graph`` flags of the calls it took."""
    from rnnkit.engine import onednn, paths

    if not onednn.available():
        pytest.skip("torch built without oneDNN")
    monkeypatch.setattr(small, "MAX_MACS", 0)
    monkeypatch.setattr(onednn, "MIN_MACS", 0)
    halves = request.param == "halves"
    # the machine's load decides whether the team runs halves: pinned, so that every call of a test
    # splits (or not) alike (idle for halves; whole either way where torch has no team)
    monkeypatch.setattr(paths.team.load, "spare_cores", lambda: 2.0 if halves else 0.0)
    monkeypatch.setattr(paths, "ONEDNN_SPLIT_MAX_STEP", 1 << 40 if halves else 0)
    monkeypatch.setattr(paths, "ONEDNN_SPLIT_MIN_TBH", 0)
    calls = []
    original = small._onednn_layer

    def spy(cell, x, time_major, graph):
        calls.append(graph)
        return original(cell, x, time_major, graph)

    monkeypatch.setattr(small, "_onednn_layer", spy)
    return calls


@pytest.mark.parametrize("time_major", [False, True])
@pytest.mark.parametrize("kind", ["lstm", "lstm_basic"])
def test_lstm_layers_go_straight_to_onednn_with_the_general_paths_results(
    kind, time_major, onednn_direct
):
    """From zero state and without lengths, an LSTM layer for oneDNN skips the general path's
    planning: same values and gradients as that path (an explicit zero initial state takes it)."""
    torch.manual_seed(0)
    cell = _perturbed("lstm" if kind == "lstm" else "basic_lstm", torch.float32, H=6, I=4)
    x = torch.randn(5, 7, 4, requires_grad=True)
    direct = _values_and_grads(cell, x, time_major, "fused")
    assert onednn_direct == [True]
    zero = cell.zero_state(x.shape[0 if not time_major else 1])
    y, s = rnnkit.dynamic_rnn(cell, x, initial_state=zero, time_major=time_major)
    leaves = [y, *_nest.flatten(s)]
    gen = torch.Generator().manual_seed(1)
    loss = sum((t * torch.randn(t.shape, generator=gen)).sum() for t in leaves)
    general = [t.detach() for t in leaves], torch.autograd.grad(loss, [x, *cell.parameters()])
    assert onednn_direct == [True]  # the general path took the second call
    for a, b in zip([*direct[0], *direct[1]], [*general[0], *general[1]]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    with torch.no_grad():
        y, s = rnnkit.dynamic_rnn(cell, x, time_major=time_major)
    assert onednn_direct == [True, False] and not y.requires_grad
    torch.testing.assert_close(y, direct[0][0], rtol=1e-6, atol=1e-6)


def test_what_the_short_dispatch_leaves_to_onednns_general_path(onednn_direct):
    """float64, peepholes, GRU, lengths, an initial state, a dtype conversion: not this way."""
    torch.manual_seed(0)
    x = torch.randn(3, 4, 2)
    rnnkit.dynamic_rnn(make_cell("lstm", 5, 2, dtype=torch.float64), x.double())
    rnnkit.dynamic_rnn(rnnkit.LSTMCell(5, use_peepholes=True, input_size=2), x)
    rnnkit.dynamic_rnn(make_cell("lstm", 5, 2, dtype=torch.float32), x, sequence_length=[4, 4, 4])
    assert onednn_direct == []


def test_onednn_calls_see_weights_changed_in_place(onednn_direct):
    """Forward-only calls reorder the weights into the same scratch buffers every time: a weight
    changed in place between two calls (through ``.data`` too, which bumps no version counter) must
    change the second call's outputs exactly as the loop's."""
    torch.manual_seed(0)
    cell = _perturbed("basic_lstm", torch.float32, H=6, I=4)
    x = torch.randn(5, 7, 4)
    with torch.no_grad():
        rnnkit.dynamic_rnn(cell, x)
        cell.kernel.data.mul_(-0.5)
        cell.bias.data.add_(0.25)
        got, _ = rnnkit.dynamic_rnn(cell, x)
        want, _ = rnnkit.dynamic_rnn(cell, x, engine="loop")
    assert onednn_direct == [False, False]
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_the_short_dispatch_sends_to_onednn_what_the_general_path_would(monkeypatch):
    """Same size rule as ``onednn.takes`` (recurrent multiply-adds T*B*H*4H, the input width not
    counted): a wide input does not make a small recurrence go to oneDNN."""
    from rnnkit.engine import onednn

    taken = []
    original = small._onednn_layer
    monkeypatch.setattr(small, "_onednn_layer", lambda *a: taken.append(1) or original(*a))
    cell = rnnkit.BasicLSTMCell(64, input_size=512)
    T, B = 15, 32  # T*B*64*256 just under MIN_MACS; with I counted it would be 9x over
    assert not onednn.big_enough(T, B, 64) and onednn.big_enough(T + 2, B, 64)
    with torch.no_grad():
        rnnkit.dynamic_rnn(cell, torch.randn(B, T, 512))
        assert taken == []
        rnnkit.dynamic_rnn(cell, torch.randn(B, T + 2, 512))
    assert taken == ([1] if onednn.available() else [])
