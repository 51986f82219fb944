"""rnnkit.platform.gemm: oneDNN's matmul for float32 products from MIN_MACS multiply-adds: the same
values as a float64 product for the layouts it takes (dense matrices, transposed views, row slices),
accumulation, and torch's mm where oneDNN is off, refuses, or the product is small, a
matrix-vector product, not float32 or has gaps between rows."""

from __future__ import annotations

import pytest
import torch

from rnnkit.platform import gemm


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch):
    monkeypatch.setitem(gemm._state, "refused", False)
    monkeypatch.setattr(gemm, "MIN_MACS", 1)
    monkeypatch.setattr(gemm, "retaining", lambda: 1 << 30)  # as after retain_freed_memory()


def _layouts():
    g = torch.Generator().manual_seed(0)

    def r(*shape):
        return torch.randn(*shape, generator=g)

    yield "dense", r(30, 20), r(20, 25)
    yield "a transposed", r(20, 30).t(), r(20, 25)
    yield "b transposed", r(30, 20), r(25, 20).t()
    yield "both transposed", r(20, 30).t(), r(25, 20).t()
    yield "two rows", r(2, 20), r(20, 25)
    yield "row slices", r(90, 20)[10:40], r(90, 30)[10:35].t()[:, :20].t()


@pytest.mark.parametrize("name", [n for n, _, _ in _layouts()])
def test_products_equal_a_float64_product(name):
    if not gemm.usable():
        pytest.skip("torch without oneDNN")
    a, b = next((a, b) for n, a, b in _layouts() if n == name)
    assert gemm.takes(a, b)
    want = a.double() @ b.double()
    torch.testing.assert_close(gemm.mm(a, b).double(), want, rtol=1e-5, atol=1e-5)
    out = torch.full(want.shape, 2.0)
    gemm.mm_into(a, b, out, accumulate=True)
    torch.testing.assert_close(out.double(), want + 2.0, rtol=1e-5, atol=1e-5)
    gemm.mm_into(a, b, out)
    torch.testing.assert_close(out.double(), want, rtol=1e-5, atol=1e-5)
    assert not gemm._state["refused"]


def test_nan_and_inf_propagate():
    a = torch.tensor([[float("nan"), 1.0], [float("inf"), 0.5]])
    got = gemm.mm(a, torch.ones(2, 3))
    assert got[0].isnan().all() and got[1].isinf().all()


def test_what_stays_on_torch(monkeypatch):
    a, b = torch.randn(8, 4), torch.randn(4, 6)
    assert not gemm.takes(a.double(), b.double())
    assert not gemm.takes(a[None], b[None])
    assert not gemm.takes(a, torch.randn(5, 6))
    assert not gemm.takes(a[:1], b) and not gemm.takes(a, b[:, :1])  # matrix-vector: torch's gemv
    # not a dense matrix or its transpose: gaps between rows (a column slice of a wider matrix,
    # which oneDNN reorders slowly), steps in both dimensions (which it refuses), broadcast rows
    wide = torch.randn(40, 90)
    for x, y in [
        (a, wide[:4, :6]),
        (wide[:8, :4], b),
        (wide[::2, ::3][:8, :4], b),
        (torch.randn(1, 4).expand(8, 4), b),
        (a, torch.randn(4, 1).expand(4, 6)),
    ]:
        assert not gemm.takes(x, y)
        torch.testing.assert_close(gemm.mm(x, y), x @ y)
    assert not gemm._state["refused"]
    # a large transposed left operand (copied by oneDNN) with few output columns
    tall = torch.randn(1 << 14, 64)
    assert not gemm.takes(tall.t(), torch.randn(1 << 14, 16))
    assert gemm.takes(tall.t(), torch.randn(1 << 14, 64)) == gemm.usable()
    assert gemm.takes(tall.t().contiguous(), torch.randn(1 << 14, 16)) == gemm.usable()
    monkeypatch.setattr(gemm, "MIN_MACS", 8 * 4 * 6 + 1)
    assert not gemm.takes(a, b)
    enabled = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False  # the user's switch, read on each call
    try:
        monkeypatch.setattr(gemm, "MIN_MACS", 1)
        assert not gemm.takes(a, b)
        torch.testing.assert_close(gemm.mm(a, b), a @ b)
    finally:
        torch.backends.mkldnn.enabled = enabled
    # an empty contraction (oneDNN refuses k = 0) never reaches oneDNN
    monkeypatch.setattr(gemm, "MIN_MACS", gemm.MIN_MACS)
    assert not gemm.takes(torch.zeros(5, 0), torch.zeros(0, 3)) or gemm.MIN_MACS <= 0


def test_a_refusal_falls_back_to_torch_for_good(monkeypatch):
    calls = []

    def refuse(*args):
        calls.append(1)
        raise RuntimeError("could not create a primitive")

    monkeypatch.setattr(gemm, "_pointwise", refuse)
    a, b = torch.randn(5, 4), torch.randn(4, 3)
    torch.testing.assert_close(gemm.mm(a, b), a @ b)
    out = torch.ones(5, 3)
    gemm.mm_into(a, b, out, accumulate=True)
    torch.testing.assert_close(out, a @ b + 1)
    assert calls == [1] and gemm._state["refused"] and not gemm.takes(a, b)


def test_without_retained_memory_only_large_products_take_onednn(monkeypatch):
    """oneDNN allocates on every call; while freed memory goes back to the system those allocations
    fault on every call, so only products of FRESH_MIN_MACS+ go there."""
    monkeypatch.setattr(gemm, "MIN_MACS", 1 << 21)
    a, b = torch.randn(256, 256), torch.randn(256, 256)  # 16.8M multiply-adds
    monkeypatch.setattr(gemm, "retaining", lambda: 0)
    assert not gemm.takes(a, b)
    monkeypatch.setattr(gemm, "FRESH_MIN_MACS", 1 << 24)
    assert gemm.takes(a, b) == gemm.usable()
    monkeypatch.setattr(gemm, "FRESH_MIN_MACS", 1 << 27)
    monkeypatch.setattr(gemm, "retaining", lambda: 1 << 30)
    assert gemm.takes(a, b) == gemm.usable()


def _count_nodes(monkeypatch) -> list:
    calls: list = []
    real = gemm._Linear.apply
    monkeypatch.setattr(gemm._Linear, "apply", lambda *a: calls.append(1) or real(*a))
    return calls


def _cell_values_and_grads(cell, x, state):
    import rnnkit

    params = [p for p in cell.parameters()]
    leaves = [x, *(state if isinstance(state, tuple) else (state,)), *params]
    out, new_state = cell(x, state)
    flat = [out, *rnnkit._nest.flatten(new_state)]
    w = torch.Generator().manual_seed(7)
    loss = sum((t * torch.randn(t.shape, generator=w)).sum() for t in flat)
    grads = torch.autograd.grad(loss, leaves)
    return [t.detach() for t in flat], list(grads)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "basic_lstm", "gru", "gru_reset_after", "proj"])
def test_cells_gate_products_on_onednn_equal_torchs(monkeypatch, kind):
    """A cell's gate product (``bias + [x, h] @ kernel``) on the oneDNN node gives torch's values
    and gradients, the bias's included."""
    if not gemm.usable():
        pytest.skip("torch without oneDNN")
    import rnnkit

    torch.manual_seed(0)
    make = {
        "rnn": lambda: rnnkit.BasicRNNCell(6, input_size=5),
        "lstm": lambda: rnnkit.LSTMCell(6, input_size=5),
        "basic_lstm": lambda: rnnkit.BasicLSTMCell(6, input_size=5),
        "gru": lambda: rnnkit.GRUCell(6, input_size=5),
        "gru_reset_after": lambda: rnnkit.GRUCell(6, input_size=5, reset_after=True),
        "proj": lambda: rnnkit.OutputProjectionWrapper(rnnkit.GRUCell(6, input_size=5), 4),
    }[kind]
    cell = make()
    with torch.no_grad():
        for p in cell.parameters():
            p.uniform_(-0.5, 0.5)  # biases too
    x = torch.randn(3, 5, requires_grad=True)
    state = cell.zero_state(3, torch.float32)
    state = rnnkit._nest.map_structure(lambda s: (s + 0.3).requires_grad_(), state)
    calls = _count_nodes(monkeypatch)
    routed = _cell_values_and_grads(cell, x, state)
    assert calls, "the gate product did not take the oneDNN node"
    monkeypatch.setattr(gemm, "MIN_MACS", 1 << 60)
    n = len(calls)
    plain = _cell_values_and_grads(cell, x, state)
    assert len(calls) == n
    for got, want in zip(routed[0] + routed[1], plain[0] + plain[1]):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_addmm_second_derivative_and_its_fallbacks(monkeypatch):
    if not gemm.usable():
        pytest.skip("torch without oneDNN")
    calls = _count_nodes(monkeypatch)
    x = torch.randn(4, 3, requires_grad=True)
    w = torch.randn(3, 5, requires_grad=True)
    b = torch.randn(5, requires_grad=True)
    y = gemm.addmm(b, x, w)
    assert len(calls) == 1
    (gx,) = torch.autograd.grad(torch.tanh(y).sum(), x, create_graph=True)
    (ggw,) = torch.autograd.grad(gx.pow(2).sum(), w)
    y2 = torch.addmm(b, x, w)
    (gx2,) = torch.autograd.grad(torch.tanh(y2).sum(), x, create_graph=True)
    (ggw2,) = torch.autograd.grad(gx2.pow(2).sum(), w)
    torch.testing.assert_close(ggw, ggw2, rtol=1e-5, atol=1e-6)
    # not taken: a float64 bias, a 2-D bias, a tracer or compiler at work, a tensor subclass
    gemm.addmm(b.double(), x.double(), w.double())
    gemm.addmm(b.expand(4, 5), x, w)
    with pytest.raises(RuntimeError):  # a bias of the wrong size: torch's own error, and the
        gemm.addmm(b[:3], x, w)  # route stays usable
    assert not gemm._state["refused"]
    import rnnkit._validation as validation

    with monkeypatch.context() as m:  # what tracing() reads for torch.compile and torch.export
        m.setattr(validation, "_is_compiling", lambda: True)
        gemm.addmm(b, x, w)
        gemm.product(x, w)
    with monkeypatch.context() as m:
        m.setattr(torch.jit, "is_tracing", lambda: True)
        gemm.addmm(b, x, w)

    class Sub(torch.Tensor):
        pass

    gemm.addmm(b, x.detach().as_subclass(Sub), w)
    assert len(calls) == 1  # the first call above only
    gemm.addmm(b, x, w)
    assert len(calls) == 2


def test_cells_export_without_the_onednn_node(monkeypatch):
    """With the route on for every size, ``torch.export`` of a cell step records torch's own ops
    (the oneDNN node is eager-only) and the exported program computes the eager values."""
    if not gemm.usable():
        pytest.skip("torch without oneDNN")
    import rnnkit

    calls = _count_nodes(monkeypatch)
    cell = rnnkit.BasicLSTMCell(6, input_size=5)

    class Step(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = cell

        def forward(self, x, c, h):
            out, state = self.cell(x, rnnkit.LSTMStateTuple(c, h))
            return out, state.c

    args = (torch.randn(3, 5), torch.randn(3, 6), torch.randn(3, 6))
    eager = Step()(*args)
    assert calls  # the eager step took the node
    n = len(calls)
    ep = torch.export.export(Step(), args)
    assert len(calls) == n
    assert "mkldnn" not in str(ep.graph)
    for got, want in zip(ep.module()(*args), eager):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def _unrolled(w, b, h, xs):
    for x in xs:  # a Python-unrolled recurrence sharing one weight
        h = torch.tanh(gemm.addmm(b, torch.cat([x, h], 1), w))
    return h


def test_a_weight_used_at_every_step_gets_its_gradient_as_one_product(monkeypatch):
    if not gemm.usable():
        pytest.skip("torch without oneDNN")
    g = torch.Generator().manual_seed(1)
    w = (torch.randn(16, 12, generator=g) * 0.3).requires_grad_()
    b = torch.randn(12, generator=g).requires_grad_()
    h0 = torch.randn(5, 12, generator=g).requires_grad_()
    xs = [torch.randn(5, 4, generator=g) for _ in range(7)]
    out = _unrolled(w, b, h0, xs)
    gy = torch.randn_like(out)
    want = torch.autograd.grad(out, [w, b, h0], gy, retain_graph=True)
    shapes = []
    real_mm = gemm.mm
    monkeypatch.setattr(
        gemm, "mm", lambda a, c: shapes.append((*a.shape, c.shape[1])) or real_mm(a, c)
    )
    got = gemm.grad_summing_weights([out], [w, b, h0], [gy])
    for a, c in zip(got, want):
        torch.testing.assert_close(a, c, rtol=1e-5, atol=1e-6)
    assert shapes.count((16, 35, 12)) == 1  # the weight's gradient: one (16, 7*5) @ (7*5, 12)
    assert (16, 5, 12) not in shapes  # and no product per step
    # a weight that is not a leaf passes its gradient on: those stay in the backward pass
    v = torch.randn(16, 12, generator=g).requires_grad_()
    out2 = _unrolled(v * 0.3, b, h0, xs)
    want2 = torch.autograd.grad(out2, [v], gy, retain_graph=True)
    got2 = gemm.grad_summing_weights([out2], [v], [gy])
    torch.testing.assert_close(got2[0], want2[0], rtol=1e-5, atol=1e-6)
    # another use of the weight by torch's own ops adds to the summed product
    out3 = _unrolled(w, b, h0, xs) + (w.sum() * 0.1)
    want3 = torch.autograd.grad(out3, [w], gy, retain_graph=True)
    torch.testing.assert_close(gemm.grad_summing_weights([out3], [w], [gy])[0], want3[0])
    # outside the call, the nodes compute their gradients themselves
    assert gemm._summing(w) is None
    torch.testing.assert_close(torch.autograd.grad(out, [w], gy)[0], want[0])
