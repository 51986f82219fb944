"""The fused engine (rnnkit.engine) against the plain loop, TensorFlow's numbers and gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnkit
from rnnkit import _nest, engine
from rnnkit.engine import cpu, kernels, small
from tests._tf1 import load_cases, replay

KINDS = ("tanh", "relu", "basic_lstm", "lstm", "lstm_peep", "gru", "gru_after", "multi")


def make_cell(kind: str, H: int, I: int, dtype=torch.float64, seed: int = 0) -> rnnkit.RNNCell:
    makers = {
        "tanh": lambda: rnnkit.BasicRNNCell(H, input_size=I),
        "relu": lambda: rnnkit.BasicRNNCell(H, activation=torch.relu, input_size=I),
        "basic_lstm": lambda: rnnkit.BasicLSTMCell(H, forget_bias=0.7, input_size=I),
        "lstm": lambda: rnnkit.LSTMCell(H, input_size=I),
        "lstm_peep": lambda: rnnkit.LSTMCell(H, forget_bias=0.5, use_peepholes=True, input_size=I),
        "gru": lambda: rnnkit.GRUCell(H, input_size=I),
        "gru_after": lambda: rnnkit.GRUCell(H, reset_after=True, input_size=I),
        "multi": lambda: rnnkit.MultiRNNCell(
            [
                rnnkit.LSTMCell(H, use_peepholes=True),
                rnnkit.GRUCell(H + 1),
                rnnkit.BasicRNNCell(H),
                rnnkit.GRUCell(H, reset_after=True),
            ],
            input_size=I,
        ),
    }
    torch.manual_seed(seed)
    cell = makers[kind]().to(dtype)
    with torch.no_grad():  # non-trivial biases and peepholes, so every gradient path is exercised
        for p in cell.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return cell


def random_state(cell: rnnkit.RNNCell, B: int, dtype) -> object:
    return _nest.map_structure(
        lambda s: torch.randn_like(s).requires_grad_(), cell.zero_state(B, dtype)
    )


def run_and_grad(cell, x, lengths, state, engine, time_major):
    y, s = rnnkit.dynamic_rnn(
        cell, x, sequence_length=lengths, initial_state=state, time_major=time_major, engine=engine
    )
    leaves = [y, *_nest.flatten(s)]
    gen = torch.Generator().manual_seed(1)
    loss = sum(
        (leaf * torch.randn(leaf.shape, generator=gen, dtype=leaf.dtype)).sum() for leaf in leaves
    )
    wrt = [x, *(_nest.flatten(state) if state is not None else []), *cell.parameters()]
    grads = torch.autograd.grad(loss, [w for w in wrt if w.requires_grad], allow_unused=True)
    return [t.detach() for t in leaves], [g if g is not None else None for g in grads]


@pytest.fixture
def fused_calls(monkeypatch):
    """Count calls of the engine so a test can check the fused path really ran (its general path, or
    the small-layer path when that takes the call)."""
    calls = []
    for name in ("dynamic_rnn_fused", "bidirectional_fused", "small_call"):
        original = getattr(engine, name)

        def spy(*args, _original=original, **kwargs):
            result = _original(*args, **kwargs)
            if result is not None:  # small_call: None when it leaves the call to the general path
                calls.append(args[0])
            return result

        monkeypatch.setattr(engine, name, spy)
    return calls


@pytest.mark.slow
@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    T=st.integers(1, 5),
    B=st.integers(1, 4),
    I=st.integers(1, 4),
    H=st.integers(1, 4),
    use_lengths=st.booleans(),
    time_major=st.booleans(),
    with_state=st.booleans(),
    strided=st.booleans(),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    data=st.data(),
)
def test_fused_matches_loop(
    kind, T, B, I, H, use_lengths, time_major, with_state, strided, dtype, data
):
    cell = make_cell(kind, H, I, dtype)
    shape = (T, B, I) if time_major else (B, T, I)
    if strided:  # a non-contiguous view: every other feature of a wider tensor, axes swapped
        base = torch.randn(shape[1], shape[0], 2 * I, dtype=dtype)
        x = base[:, :, ::2].transpose(0, 1)
        x.requires_grad_()
    else:
        x = torch.randn(shape, dtype=dtype, requires_grad=True)
    lengths = (
        torch.tensor(data.draw(st.lists(st.integers(0, T), min_size=B, max_size=B)))
        if use_lengths
        else None
    )
    state = random_state(cell, B, dtype) if with_state else None
    fused = run_and_grad(cell, x, lengths, state, "fused", time_major)
    loop = run_and_grad(cell, x, lengths, state, "loop", time_major)
    tol = {"rtol": 1e-10, "atol": 1e-10} if dtype == torch.float64 else {"rtol": 1e-4, "atol": 1e-5}
    for a, b in zip(fused[0] + fused[1], loop[0] + loop[1]):
        torch.testing.assert_close(a, b, **tol)
    if lengths is not None:  # outputs past each row's length are exactly zero
        y = fused[0][0] if time_major else fused[0][0].transpose(0, 1)
        for b, n in enumerate(lengths.tolist()):
            assert torch.all(y[n:, b] == 0)


@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck_float64(kind):
    T, B, I, H = 4, 3, 2, 3
    cell = make_cell(kind, H, I)
    lengths = torch.tensor([4, 2, 0])
    state0 = random_state(cell, B, torch.float64)
    leaves0 = _nest.flatten(state0)
    params = list(cell.parameters())
    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)

    names = [n for n, _ in cell.named_parameters()]

    def g(x, *args):  # parameters enter as plain leaves so gradcheck perturbs them
        state = _nest.pack_sequence_as(cell.state_size, list(args[: len(leaves0)]))
        with _swap(cell, dict(zip(names, args[len(leaves0) :]))):
            y, s = engine.dynamic_rnn_fused(cell, x, lengths, state)
        return (y, *_nest.flatten(s))

    inputs = (x, *leaves0, *[p.detach().clone().requires_grad_() for p in params])
    assert torch.autograd.gradcheck(g, inputs, eps=1e-6, atol=1e-6)


class _swap:
    """Temporarily replace a module's parameters (by dotted name) with given tensors."""

    def __init__(self, module: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
        self.module, self.tensors, self.saved = module, tensors, {}

    def _owner(self, name):
        parts = name.split(".")
        mod = self.module
        for p in parts[:-1]:
            mod = getattr(mod, p)
        return mod, parts[-1]

    def __enter__(self):
        for name, t in self.tensors.items():
            mod, attr = self._owner(name)
            self.saved[name] = mod._parameters[attr]
            del mod._parameters[attr]
            setattr(mod, attr, t)
        return self

    def __exit__(self, *exc):
        for name, p in self.saved.items():
            mod, attr = self._owner(name)
            delattr(mod, attr)
            mod._parameters[attr] = p
        return False


DYNAMIC_CASES = [(c, p) for c, p in load_cases() if c["runner"] != "static_rnn"]


@pytest.mark.parametrize("small_layers", ["small_path", "general_path"])
@pytest.mark.parametrize("case,path", DYNAMIC_CASES, ids=[c["name"] for c, _ in DYNAMIC_CASES])
def test_tf1_reference_cases_through_fused_path(case, path, small_layers, fused_calls, monkeypatch):
    if small_layers == "general_path":  # every layer through the general path, however small
        monkeypatch.setattr(small, "MAX_MACS", -1)
    results = replay(case, path, engine="fused")
    assert fused_calls, "the fused engine was not used"
    for key, (ours, theirs) in results.items():
        np.testing.assert_allclose(
            ours, theirs, rtol=1e-4, atol=1e-5, err_msg=f"{case['name']} {key}"
        )


def test_tf1_reference_cases_exist():
    assert len(DYNAMIC_CASES) >= 10


def test_fused_path_is_the_default_for_builtin_cells(fused_calls):
    cell = rnnkit.BasicLSTMCell(4)
    rnnkit.dynamic_rnn(cell, torch.randn(2, 3, 5))
    assert len(fused_calls) == 1
    rnnkit.dynamic_rnn(cell, torch.randn(2, 3, 5), engine="loop")
    assert len(fused_calls) == 1


@pytest.mark.parametrize(
    "cell",
    [
        rnnkit.BasicRNNCell(3, activation=torch.sigmoid, input_size=2),
        rnnkit.DropoutWrapper(rnnkit.BasicRNNCell(3, input_size=2), state_keep_prob=0.5),
        rnnkit.MultiRNNCell(
            [rnnkit.BasicRNNCell(3), rnnkit.ResidualWrapper(rnnkit.BasicRNNCell(3))]
        ),
    ],
    ids=["sigmoid", "state_dropout", "multi_with_wrapper"],
)
def test_unsupported_cells_take_the_loop(cell, fused_calls):
    x = torch.randn(2, 4, 2)
    assert not engine.supports(cell, x.transpose(0, 1))
    y, _ = rnnkit.dynamic_rnn(cell, x)
    assert y.shape == (2, 4, 3) and not fused_calls
    with pytest.raises(ValueError, match="engine"):
        rnnkit.dynamic_rnn(cell, x, engine="fused")


def test_subclass_of_a_builtin_cell_is_not_fused():
    class MyCell(rnnkit.BasicRNNCell):
        def call(self, inputs, state):
            h = torch.sin(
                inputs @ self.kernel[: self.input_size] + state @ self.kernel[self.input_size :]
            )
            return h, h

    assert not engine.supports(MyCell(3, input_size=2), torch.randn(4, 2, 2))


@pytest.fixture
def no_kernels(monkeypatch):
    """Make every kernel raise, so a test proves bad input is rejected before any kernel runs."""

    def boom(*a, **k):
        raise AssertionError("a kernel was called")

    for name in dir(kernels):
        if name.endswith(("_forward", "_backward")):
            monkeypatch.setattr(kernels, name, boom)


@pytest.mark.parametrize(
    "args,exc,match",
    [
        (lambda c: (torch.randn(3, 2, 5), None, c.zero_state(2)), ValueError, "inputs"),
        (lambda c: (torch.randn(3, 2), None, c.zero_state(2)), ValueError, "inputs"),
        (lambda c: (torch.randn(3, 2, 4).int(), None, c.zero_state(2)), TypeError, "inputs"),
        (lambda c: (torch.randn(3, 2, 4), torch.tensor([1, 2, 3]), c.zero_state(2)), ValueError,
         "sequence_length"),
        (lambda c: (torch.randn(3, 2, 4), torch.tensor([1.0, 2.0]), c.zero_state(2)), TypeError,
         "sequence_length"),
        (lambda c: (torch.randn(3, 2, 4), torch.tensor([[1, 2]]), c.zero_state(2)), ValueError,
         "sequence_length"),
        (lambda c: (torch.randn(3, 2, 4), None, c.zero_state(3)), ValueError, "initial_state"),
        (lambda c: (torch.randn(3, 2, 4), None, torch.zeros(2, 5)), TypeError, "initial_state"),
        (lambda c: (torch.randn(3, 2, 4).double(), None, c.zero_state(2)), TypeError, "cell"),
    ],
    ids=["width", "rank", "int", "lengths_shape", "lengths_float", "lengths_rank", "state_batch",
         "state_structure", "dtype_mismatch"],
)  # fmt: skip
def test_bad_input_raises_before_any_kernel(args, exc, match, no_kernels):
    cell = rnnkit.BasicLSTMCell(5, input_size=4)
    inputs, lengths, state = args(cell)
    with pytest.raises(exc, match=match):
        engine.dynamic_rnn_fused(cell, inputs, lengths, state)


def test_unbuilt_cell_is_rejected(no_kernels):
    cell = rnnkit.GRUCell(3)
    with pytest.raises(ValueError, match="inputs"):
        engine.dynamic_rnn_fused(cell, torch.randn(2, 2, 3), None, torch.zeros(2, 3))


def test_no_work_past_the_longest_sequence(monkeypatch):
    seen = []
    original = kernels.rnn_forward

    def spy(*args):
        seen.append(args[5])  # rnn_forward(xw, bx, wh, h, lengths, tmax, ...)
        return original(*args)

    monkeypatch.setattr(kernels, "rnn_forward", spy)
    cell = rnnkit.BasicRNNCell(3, input_size=2)
    y, h = rnnkit.dynamic_rnn(cell, torch.randn(2, 50, 2), sequence_length=[4, 7])
    assert seen == [7]
    assert torch.all(y[:, 7:] == 0)


def test_saves_only_what_backward_needs():
    """tanh: one autograd node per layer; it keeps the outputs, not per-step pre-activations."""
    cell = rnnkit.MultiRNNCell([rnnkit.BasicRNNCell(8), rnnkit.BasicRNNCell(8)], input_size=3)
    x = torch.randn(20, 4, 3, requires_grad=True)
    y, _ = rnnkit.dynamic_rnn(cell, x, time_major=True)
    node = y.grad_fn
    names = set()
    while node is not None and "RNNFunction" not in type(node).__name__:
        node = node.next_functions[0][0] if node.next_functions else None
    assert node is not None, "no fused autograd node found"
    saved = [t for t in node.saved_tensors]
    big = [t for t in saved if t.numel() >= 20 * 4 * 8]
    names = {tuple(t.shape) for t in big}
    assert names == {(20, 4, 8)}, names  # the outputs (and the layer input of width 8)
    # a single node for the whole sequence: backward needs no per-step graph
    assert type(node).__name__.endswith("Backward")


def test_respects_torch_threads(monkeypatch):
    from threadpoolctl import threadpool_info

    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        rnnkit.dynamic_rnn(rnnkit.BasicRNNCell(3), torch.randn(2, 3, 2))
        blas = [
            i for i in threadpool_info() if i["filepath"] in {b.filepath for b in cpu._blas_libs}
        ]
        assert blas and all(i["num_threads"] == 1 for i in blas)
        torch.set_num_threads(2)
        monkeypatch.setattr(cpu, "BIG_THREADS", 8)
        monkeypatch.setattr(cpu, "STEP_THREADS", 8)
        cpu._big_threads()
        assert all(b.num_threads <= 2 for b in cpu._blas_libs)
    finally:
        torch.set_num_threads(old)
        rnnkit.dynamic_rnn(rnnkit.BasicRNNCell(3), torch.randn(2, 3, 2))


def test_one_torch_thread_runs_large_products_on_openblas(monkeypatch):
    """With torch on one thread, the large products oneDNN does not take (here: freed memory not
    kept) run on OpenBLAS's gemm, plain, transposed and accumulating, with torch.mm's values; a
    product oneDNN takes stays on gemm.mm_into."""
    monkeypatch.setattr(cpu, "_auto_threads", 1)
    calls = []
    plain, acc = kernels.gemm, kernels.gemm_acc
    monkeypatch.setattr(kernels, "gemm", lambda a, b, o: (calls.append("gemm"), plain(a, b, o)))
    monkeypatch.setattr(
        kernels, "gemm_acc", lambda a, b, o, s: (calls.append("acc"), acc(a, b, o, s))
    )
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 40)).astype(np.float32)
    b = rng.standard_normal((40, 70)).astype(np.float32)
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        monkeypatch.setattr(cpu.gemm, "takes", lambda x, y: False)
        for left in (a, np.ascontiguousarray(a.T).T):  # dense, and a transposed view
            out = np.empty((300, 70), np.float32)
            cpu._tmm(left, b, out)
            cpu._tmm(left, b, out, accumulate=True)
            want = 2 * (torch.from_numpy(a) @ torch.from_numpy(b))
            torch.testing.assert_close(torch.from_numpy(out), want, rtol=1e-5, atol=1e-4)
        assert calls == ["gemm", "acc", "gemm", "acc"]
        monkeypatch.setattr(cpu.gemm, "takes", lambda x, y: True)
        routed = []
        monkeypatch.setattr(cpu.gemm, "mm_into", lambda *args: routed.append(len(args)))
        cpu._tmm(a, b, np.empty((300, 70), np.float32))
        assert routed and calls == ["gemm", "acc", "gemm", "acc"]
    finally:
        torch.set_num_threads(old)


@pytest.mark.parametrize("kind", KINDS)
def test_one_torch_thread_layers_match_the_loop(monkeypatch, kind, general_path):
    """Every kind on one torch thread (its large products on OpenBLAS, in chunks of steps so the
    weight gradients accumulate) gives the loop's outputs and gradients."""
    monkeypatch.setattr(cpu, "CHUNK_ELEMENTS", 2 * 6 * 3 * 5)
    used = []
    plain = kernels.gemm
    monkeypatch.setattr(kernels, "gemm", lambda a, b, o: (used.append(a.shape), plain(a, b, o)))
    cell = make_cell(kind, 6, 5)
    x = torch.randn(40, 9, 5, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([40, 31, 40, 7, 40, 40, 12, 40, 3])
    state = random_state(cell, 9, torch.float64)
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        fused = run_and_grad(cell, x, lengths, state, "fused", True)
    finally:
        torch.set_num_threads(old)
    loop = run_and_grad(cell, x, lengths, state, "loop", True)
    assert used  # the large products went to OpenBLAS
    for a, b in zip(fused[0] + fused[1], loop[0] + loop[1]):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("kind", KINDS)
def test_long_sequence_backward_in_chunks(monkeypatch, kind):
    """Chunked BPTT (bounded memory) gives the same gradients as one chunk, and as the loop."""
    cell = make_cell(kind, 3, 2)
    x = torch.randn(37, 2, 2, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([37, 20])
    state = random_state(cell, 2, torch.float64)
    ref = run_and_grad(cell, x, lengths, state, "fused", True)
    loop = run_and_grad(cell, x, lengths, state, "loop", True)
    monkeypatch.setattr(cpu, "CHUNK_ELEMENTS", 2 * 6 * 3 * 5)  # a few steps per chunk
    small = run_and_grad(cell, x, lengths, state, "fused", True)
    for a, b, c in zip(ref[0] + ref[1], small[0] + small[1], loop[0] + loop[1]):
        torch.testing.assert_close(a, b)
        torch.testing.assert_close(a, c)


def test_scratch_buffers_are_not_shared_between_pending_graphs():
    """Two graphs built before either backward runs (scratch reuse must not mix them)."""
    cells = [make_cell("lstm_peep", 4, 3, seed=1), make_cell("gru", 5, 3, seed=2)]
    xs = [torch.randn(6, 2, 3, dtype=torch.float64, requires_grad=True) for _ in cells]

    def grads(c, x, y):
        return torch.autograd.grad((y * y).sum(), [x, *c.parameters()])

    alone = [grads(c, x, rnnkit.dynamic_rnn(c, x, time_major=True)[0]) for c, x in zip(cells, xs)]
    ys = [rnnkit.dynamic_rnn(c, x, time_major=True)[0] for c, x in zip(cells, xs)]
    for c, x, y, ref in reversed(list(zip(cells, xs, ys, alone))):
        for a, b in zip(grads(c, x, y), ref):
            torch.testing.assert_close(a, b)


def test_threads_running_the_engine_at_once_agree():
    """Scratch buffers are per thread: concurrent fused calls give the single-thread results."""
    from concurrent.futures import ThreadPoolExecutor

    cell = make_cell("lstm", 8, 3, dtype=torch.float32)
    xs = [torch.randn(30, 4, 3, requires_grad=True) for _ in range(8)]

    def work(x):
        y, _ = rnnkit.dynamic_rnn(cell, x, time_major=True)
        return [g.clone() for g in torch.autograd.grad((y * y).sum(), [x, *cell.parameters()])]

    ref = [work(x) for x in xs]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(work, xs))
    for a, b in zip(ref, got):
        for u, v in zip(a, b):
            torch.testing.assert_close(u, v)


def test_in_place_change_of_inputs_after_forward_is_caught():
    """Contiguous inputs are saved as themselves, so autograd's version check still applies."""
    cell = make_cell("tanh", 3, 2)
    x = torch.randn(5, 2, 2, dtype=torch.float64, requires_grad=True)
    inp = x * 1.0  # a non-leaf, contiguous (T, B, I)
    y, _ = rnnkit.dynamic_rnn(cell, inp, time_major=True)
    inp.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_second_derivatives_raise_instead_of_going_silently_wrong():
    torch.manual_seed(0)
    cell = rnnkit.GRUCell(3, input_size=2)
    x = torch.randn(2, 4, 2, requires_grad=True)

    def first_grad(engine):
        out, _ = rnnkit.dynamic_rnn(cell, x, engine=engine)
        loss = (out**2).sum() + (x**3).sum()  # a direct term keeps the first gradient attached
        return torch.autograd.grad(loss, x, create_graph=True)[0]

    with pytest.raises(RuntimeError, match="engine='loop'"):
        first_grad("fused")
    second = torch.autograd.grad(first_grad("loop").sum(), x)[
        0
    ]  # the plain loop differentiates twice
    assert not torch.allclose(second, 6 * x)  # the RNN's own second-order part is there
    out, _ = rnnkit.dynamic_rnn(cell, x, engine="fused")
    out.sum().backward()  # first-order backward is unaffected
    assert x.grad is not None


def test_scratch_keeps_only_small_buffers(monkeypatch):
    """Temporaries are reused across calls only up to SCRATCH_KEEP_BYTES; bigger ones are freed."""
    monkeypatch.setattr(cpu, "SCRATCH_KEEP_BYTES", 4096)
    monkeypatch.setattr(small, "MAX_MACS", -1)  # the general path's buffers
    cpu.release_scratch()
    cell = make_cell("lstm", 8, 3, dtype=torch.float32)
    x = torch.randn(50, 4, 3, requires_grad=True)  # gate gradients: 50*4*32 floats > 4096 bytes
    y, _ = rnnkit.dynamic_rnn(cell, x, time_major=True)
    y.sum().backward()
    kept = cpu._SCRATCH.bufs
    assert kept and all(b.nbytes <= 4096 for b in kept.values())
    cpu.release_scratch()
    assert not cpu._SCRATCH.bufs


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_when_only_some_parameters_train(kind):
    """Each parameter alone (the others frozen) gets the loop's gradient; frozen ones get none."""
    x = torch.randn(6, 3, 2, dtype=torch.float64)
    names = [n for n, _ in make_cell(kind, 4, 2).named_parameters()]
    for name in names:
        grads = {}
        for path in ("fused", "loop"):
            cell = make_cell(kind, 4, 2)
            for n, p in cell.named_parameters():
                p.requires_grad_(n == name)
            y, _ = rnnkit.dynamic_rnn(cell, x, time_major=True, engine=path)
            (y * y).sum().backward()
            grads[path] = {n: p.grad for n, p in cell.named_parameters()}
        assert grads["fused"][name] is not None, name
        torch.testing.assert_close(grads["fused"][name], grads["loop"][name])
        assert all(g is None for n, g in grads["fused"].items() if n != name)


@pytest.mark.parametrize("kind", KINDS)
def test_forward_without_a_graph_matches_the_recorded_one(kind):
    """Under no_grad, or with nothing requiring grad, the engine runs each layer's forward outside
    autograd: the same values as the recorded path (bit for bit), no graph, and a graph again as
    soon as anything of the call (inputs, state or a parameter) requires grad."""
    cell = make_cell(kind, 4, 3, torch.float32)
    x = torch.randn(5, 2, 3)
    lengths = torch.tensor([5, 3])
    ref_y, ref_s = rnnkit.dynamic_rnn(
        cell, x, lengths, engine="fused", time_major=True
    )  # parameters need grad
    assert ref_y.grad_fn is not None
    with torch.no_grad():
        y, s = rnnkit.dynamic_rnn(cell, x, lengths, engine="fused", time_major=True)
    assert y.grad_fn is None and not y.requires_grad
    assert torch.equal(y, ref_y)
    for a, b in zip(_nest.flatten(s), _nest.flatten(ref_s)):
        assert torch.equal(a, b) and a.grad_fn is None
    for p in cell.parameters():
        p.requires_grad_(False)
    y2, _ = rnnkit.dynamic_rnn(cell, x, lengths, engine="fused", time_major=True)
    assert y2.grad_fn is None and torch.equal(y2, ref_y)
    state = random_state(cell, 2, torch.float32)  # only the initial state requires grad
    y3, _ = rnnkit.dynamic_rnn(
        cell, x, lengths, initial_state=state, engine="fused", time_major=True
    )
    y4, _ = rnnkit.dynamic_rnn(
        cell, x, lengths, initial_state=state, engine="loop", time_major=True
    )
    g3 = torch.autograd.grad(y3.square().sum(), _nest.flatten(state))
    g4 = torch.autograd.grad(y4.square().sum(), _nest.flatten(state))
    for a, b in zip(g3, g4):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_forward_alone_sets_the_blas_threads():
    """A forward-only call (inference, no backward ever) picks the per-step products' OpenBLAS thread
    count itself: a small layer runs them on one thread whatever OpenBLAS was left at."""
    cpu._blas_threads(1)  # loads the BLAS controllers
    if not cpu._blas_libs or torch.get_num_threads() < 2:
        pytest.skip("needs threadpoolctl's view of OpenBLAS and 2 torch threads")
    cpu._blas_threads(2)  # what OpenBLAS starts with on a 2-core machine
    with torch.no_grad():
        rnnkit.dynamic_rnn(rnnkit.BasicLSTMCell(4), torch.randn(2, 3, 2))
    assert all(b.num_threads == 1 for b in cpu._blas_libs)


def test_forward_ad_and_vmap_are_refused_not_dropped():
    """Forward-mode AD and torch.func transforms still reach the autograd.Function (which refuses
    them) even with nothing requiring grad: the fast forward must not drop a tangent silently."""
    import torch.autograd.forward_ad as fwAD

    cell = rnnkit.BasicRNNCell(5, input_size=3)
    for p in cell.parameters():
        p.requires_grad_(False)
    x = torch.randn(4, 2, 3)
    with fwAD.dual_level():
        dual = fwAD.make_dual(x, torch.ones_like(x))
        with pytest.raises(NotImplementedError, match="jvp"):
            rnnkit.dynamic_rnn(cell, dual, engine="fused")
    with torch.no_grad(), pytest.raises(RuntimeError, match="setup_context"):
        torch.vmap(lambda t: rnnkit.dynamic_rnn(cell, t, engine="fused")[0])(x.unsqueeze(0))


def test_large_outputs_touched_before_two_blas_threads(monkeypatch, general_path):
    """With every output pre-faulted (``_touch``) and the large products on two BLAS threads, values
    and gradients still equal the loop's (the touch writes zeros the product then overwrites)."""
    monkeypatch.setattr(cpu, "PREFAULT_BYTES", 0)
    monkeypatch.setattr(cpu, "BIG_THREADS", 2)
    touched = []
    original = cpu._touch
    monkeypatch.setattr(cpu, "_touch", lambda out: (touched.append(out.shape), original(out)))
    cell = make_cell("gru", 6, 5)
    x = torch.randn(30, 8, 5, dtype=torch.float64, requires_grad=True)
    fused = run_and_grad(cell, x, None, None, "fused", True)
    assert touched
    loop = run_and_grad(cell, x, None, None, "loop", True)
    for a, b in zip(fused[0] + fused[1], loop[0] + loop[1]):
        torch.testing.assert_close(a, b)


def test_large_outputs_are_reused_only_once_freed(monkeypatch, general_path):
    """Pooled output buffers (cpu.output_buffer): a buffer still referenced by a live tensor is never
    handed out again; once its tensors are gone it is, and results stay the loop's."""
    monkeypatch.setattr(cpu, "BIG_MIN_BYTES", 1024)
    monkeypatch.setattr(cpu, "_big_pool", [])
    cell = make_cell("tanh", 16, 3, torch.float32)
    x = torch.randn(20, 8, 3)  # outputs (20, 8, 16) float32: 10 KiB
    with torch.no_grad():
        first, _ = rnnkit.dynamic_rnn(cell, x, time_major=True)
        kept = first.clone()
        second, _ = rnnkit.dynamic_rnn(cell, 2 * x, time_major=True)
    assert first.data_ptr() != second.data_ptr()  # first is alive: not reused
    torch.testing.assert_close(first, kept)  # and not overwritten
    ptr = first.data_ptr()
    del first
    with torch.no_grad():
        third, _ = rnnkit.dynamic_rnn(cell, x, time_major=True)
    assert third.data_ptr() == ptr  # freed, so reused
    torch.testing.assert_close(third, kept)
    ref, _ = rnnkit.dynamic_rnn(cell, 2 * x, time_major=True, engine="loop")
    torch.testing.assert_close(second, ref.detach())


def test_large_output_pool_is_bounded(monkeypatch):
    monkeypatch.setattr(cpu, "BIG_MIN_BYTES", 1024)
    monkeypatch.setattr(cpu, "BIG_POOL_BYTES", 8192)
    monkeypatch.setattr(cpu, "_big_pool", [])
    for n in range(300, 340):  # distinct sizes, each freed right away
        cpu.output_buffer((n, 4), np.dtype(np.float32))
    assert sum(b.nbytes for b in cpu._big_pool) <= 8192 + 340 * 16
    held = [cpu.output_buffer((500, 4), np.dtype(np.float32)) for _ in range(3)]
    assert len({h.ctypes.data for h in held}) == 3  # live buffers are all kept, even over the cap
    cpu.release_scratch()
    assert len(cpu._big_pool) == 3  # only the referenced ones stay


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_unread_outputs_hand_backward_no_gradient(kind, dtype, general_path, monkeypatch):
    """A loss of the final state alone: each layer's backward is handed no gradient of its outputs
    (no ``(T, B, H)`` tensor of zeros per step) where nothing reads them, gives the plain loop's
    gradients, and the zeros that stand for it stay zeros."""
    seen = []
    real = cpu._dout
    monkeypatch.setattr(cpu, "_dout", lambda g, *args: seen.append(g is None) or real(g, *args))
    cell = make_cell(kind, 6, 3, dtype)
    x = torch.randn(2, 5, 3, dtype=dtype, requires_grad=True)
    lengths = torch.tensor([5, 3])
    params = [x, *cell.parameters()]

    def grads(engine):
        _, state = rnnkit.dynamic_rnn(cell, x, sequence_length=lengths, engine=engine)
        loss = sum((s * s.detach().cos()).sum() for s in _nest.flatten(state))
        return torch.autograd.grad(loss, params)

    for _ in range(2):  # the second backward reads the zeros the first one left
        got = grads("fused")
    want = grads("loop")
    assert seen and seen[0]  # the top layer's outputs (its backward runs first) are unread
    tol = {"rtol": 1e-4, "atol": 1e-5} if dtype == torch.float32 else {}
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, **tol)
    assert all(not z.any() for z in cpu._SCRATCH.zeros.values())
