"""rnnkit.platform.pointwise: an LSTM step's elementwise part as one compiled kernel and one autograd
node. Its values and first and second derivatives are those of the torch-op twins (gradcheck in
float64, rounding in float32), including for outputs nobody reads, strided inputs and inputs that
need no gradient; where the kernel does not apply (other dtypes, devices, tracers, torch.func), the
twin runs; and the LSTM cells' steps agree with their torch-op formulas."""

from __future__ import annotations

import pytest
import torch

import rnnkit
from rnnkit.platform import pointwise

LSTM = (lambda g, c: pointwise.lstm(g, c, 1.0), lambda g, c: pointwise.lstm_reference(g, c, 1.0))
CASES = {"lstm": (*LSTM, [(5, 12), (5, 3)])}  # name: (entry, torch-op twin, shapes for B=5, H=3)


def _inputs(shapes, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(2 * torch.randn(*s, generator=g)).to(dtype).requires_grad_() for s in shapes]


def _tuple(x):
    return x if isinstance(x, tuple) else (x,)


@pytest.mark.parametrize("name", CASES)
def test_first_and_second_derivatives(name):
    entry, _, shapes = CASES[name]
    xs = _inputs(shapes)
    assert pointwise.takes(*xs)
    assert torch.autograd.gradcheck(entry, xs)
    assert torch.autograd.gradgradcheck(entry, xs)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_values_and_gradients_equal_the_torch_ops(name, dtype):
    entry, twin, shapes = CASES[name]
    xs = _inputs(shapes, dtype, seed=1)
    ys = [x.detach().clone().requires_grad_() for x in xs]
    out, ref = _tuple(entry(*xs)), _tuple(twin(*ys))
    assert all(o.grad_fn is not None for o in out)
    tol = {"atol": 1e-6, "rtol": 1e-5} if dtype == torch.float32 else {"atol": 1e-12, "rtol": 0}
    for o, r in zip(out, ref):
        torch.testing.assert_close(o, r, **tol)
    weights = [torch.randn(o.shape, dtype=dtype) for o in out]
    sum(((o * w).sum() for o, w in zip(out, weights)), torch.zeros((), dtype=dtype)).backward()
    sum(((r * w).sum() for r, w in zip(ref, weights)), torch.zeros((), dtype=dtype)).backward()
    for x, y in zip(xs, ys):
        torch.testing.assert_close(x.grad, y.grad, **tol)


@pytest.mark.parametrize("name", ["lstm"])
@pytest.mark.parametrize("read", [0, 1])
def test_one_output_read(name, read):
    entry, twin, shapes = CASES[name]
    xs = _inputs(shapes, seed=2)
    ys = [x.detach().clone().requires_grad_() for x in xs]
    entry(*xs)[read].sum().backward()
    twin(*ys)[read].sum().backward()
    for x, y in zip(xs, ys):
        torch.testing.assert_close(x.grad, y.grad)


def test_strided_inputs_and_inputs_without_gradient():
    g = torch.Generator().manual_seed(3)
    wide = torch.randn(5, 20, dtype=torch.float64, generator=g)
    gates = wide[:, :12].requires_grad_(False)  # a view with gaps between rows, no gradient
    c = torch.randn(3, 5, dtype=torch.float64, generator=g).t().requires_grad_()
    out = pointwise.lstm(gates, c, 0.5)
    ref = pointwise.lstm_reference(gates, c.detach().clone(), 0.5)
    for o, r in zip(out, ref):
        torch.testing.assert_close(o, r)
    out[1].sum().backward()
    c2 = c.detach().clone().requires_grad_()
    pointwise.lstm_reference(gates, c2, 0.5)[1].sum().backward()
    torch.testing.assert_close(c.grad, c2.grad)


def test_without_grad_mode_nothing_is_recorded():
    xs = _inputs(CASES["lstm"][2])
    with torch.no_grad():
        new_c, new_h = pointwise.lstm(*xs, 1.0)
    assert new_c.grad_fn is None and new_h.grad_fn is None


def _spy(monkeypatch):
    calls = []
    cls = pointwise._LSTM
    monkeypatch.setattr(cls, "apply", lambda *a, _f=cls.apply: calls.append(1) or _f(*a))
    return calls


@pytest.mark.parametrize(
    "why, make",
    [
        ("half precision", lambda x: x.to(torch.bfloat16)),
        ("float16", lambda x: x.to(torch.float16)),
        ("meta tensors", lambda x: x.to("meta")),
    ],
)
def test_the_torch_ops_run_where_the_kernel_does_not_apply(monkeypatch, why, make):
    calls = _spy(monkeypatch)
    g, c = (make(x.detach()) for x in _inputs(CASES["lstm"][2]))
    new_c, _ = pointwise.lstm(g, c, 1.0)
    assert new_c.dtype == g.dtype and new_c.device == g.device
    assert not calls, why


def test_other_widths_run_the_torch_ops(monkeypatch):
    calls = _spy(monkeypatch)
    gates, c = torch.randn(4, 10), torch.randn(4, 3)  # not 4H wide: torch's chunk decides
    for o, r in zip(pointwise.lstm(gates, c, 1.0), pointwise.lstm_reference(gates, c, 1.0)):
        torch.testing.assert_close(o, r)
    assert not calls


def test_torch_func_transforms_see_the_torch_ops(monkeypatch):
    calls = _spy(monkeypatch)
    g, c = (x.detach() for x in _inputs(CASES["lstm"][2]))

    def h_sum(g):
        return pointwise.lstm(g, c, 1.0)[1].sum()

    grad = torch.func.grad(h_sum)(g)
    g2 = g.clone().requires_grad_()
    pointwise.lstm_reference(g2, c, 1.0)[1].sum().backward()
    torch.testing.assert_close(grad, g2.grad)
    assert not calls


def test_export_records_no_kernel():
    cell = rnnkit.LSTMCell(3, input_size=2)

    class Step(torch.nn.Module):
        def forward(self, x, c, h):
            out, state = cell(x, rnnkit.LSTMStateTuple(c, h))
            return out, state.c

    args = (torch.randn(4, 2), torch.randn(4, 3), torch.randn(4, 3))
    program = torch.export.export(Step(), args)
    torch.testing.assert_close(program.module()(*args), Step()(*args))


@pytest.mark.parametrize(
    "make",
    [
        lambda: rnnkit.BasicLSTMCell(6, forget_bias=0.5, input_size=4),
        lambda: rnnkit.LSTMCell(6, input_size=4),
    ],
)
def test_cell_steps_equal_their_torch_op_formulas(monkeypatch, make):
    torch.manual_seed(0)
    calls = _spy(monkeypatch)
    cell = make()
    x = torch.randn(5, 4)
    state = cell.zero_state(5)
    state = (
        type(state)(*[torch.randn_like(s) for s in state])
        if isinstance(state, tuple)
        else (torch.randn_like(state))
    )
    out, new = cell(x, state)
    out.sum().backward()
    grads = [p.grad.clone() for p in cell.parameters()]
    assert calls  # the kernel ran
    cell.zero_grad()
    monkeypatch.setattr(pointwise, "takes", lambda g, c: False)  # the torch ops alone
    out2, new2 = cell(x, state)
    out2.sum().backward()
    torch.testing.assert_close(out, out2)
    torch.testing.assert_close(new, new2)
    for g, p in zip(grads, cell.parameters()):
        torch.testing.assert_close(g, p.grad)
