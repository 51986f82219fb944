"""rnnkit through PyTorch's toolchain: the engine's torch operators, torch.compile from a cold process,
torch.export round trips, and torch.jit.trace's refusal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import rnnkit
from rnnkit import _nest
from rnnkit.engine import autograd as eager_path
from rnnkit.engine import layers
from rnnkit.engine import library as op_path
from tests.engine.test_engine import KINDS, make_cell, random_state

ROOT = Path(__file__).resolve().parents[2]


def _lengths(B: int, T: int) -> torch.Tensor:
    """Lengths with a 0, a full row and values in between (B >= 3)."""
    return torch.tensor([T, 0, *[(3 * b) % (T + 1) for b in range(2, B)]])


# ------------------------------------------------------------------------------------ operators
@pytest.mark.parametrize("kind", ["tanh", "lstm_peep", "gru", "gru_after"])
def test_operators_pass_opcheck(kind: str) -> None:
    """torch's own checks of a custom operator: schema, fake tensor shapes, autograd registration and
    AOT dispatch with dynamic shapes (which runs the backward operator too)."""
    T, B, I, H = 4, 3, 2, 3
    cell = make_cell(kind, H, I)
    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
    s = random_state(cell, B, torch.float64)
    lengths = _lengths(B, T)
    gru_params = ()
    if kind.startswith("gru"):
        gru_params = (
            cell.gates_kernel,
            cell.candidate_kernel,
            cell.gates_bias,
            cell.candidate_bias,
        )
    if kind == "tanh":
        op, args = op_path.rnn_layer, (x, s, cell.kernel, cell.bias, lengths, False)
    elif kind == "lstm_peep":
        peep = (cell.w_i_diag, cell.w_f_diag, cell.w_o_diag)
        op, args = (
            op_path.lstm_layer,
            (x, s.c, s.h, cell.kernel, cell.bias, *peep, lengths, 0.5, True),
        )
    elif kind == "gru":
        op, args = op_path.gru_layer, (x, s, *gru_params, lengths)
    else:
        op, args = op_path.grur_layer, (x, s, *gru_params, cell.candidate_recurrent_bias, lengths)
    result = torch.library.opcheck(op, args)
    assert set(result.values()) == {"SUCCESS"}, result


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("with_lengths", [True, False])
def test_operators_equal_eager_functions(kind: str, with_lengths: bool) -> None:
    """The operator path (compile/export) and the autograd.Function path (eager) give the same values
    and gradients for inputs, states and every parameter."""
    T, B, I, H = 6, 4, 3, 5
    cell = make_cell(kind, H, I)
    x = torch.randn(T, B, I, dtype=torch.float64, requires_grad=True)
    state = random_state(cell, B, torch.float64)
    lengths = _lengths(B, T) if with_lengths else None
    cells = layers.layer_cells(cell)
    results = []
    for path in (eager_path, op_path):
        states = layers.flatten_states(cell, state)
        y, finals = path.run_layers(cells, x, states, lengths)
        leaves = [y, *_nest.flatten(finals)]
        gen = torch.Generator().manual_seed(1)
        loss = sum((v * torch.randn(v.shape, generator=gen, dtype=v.dtype)).sum() for v in leaves)
        inputs = [x, *_nest.flatten(state), *cell.parameters()]
        grads = torch.autograd.grad(loss, inputs)
        results.append([v.detach() for v in leaves] + list(grads))
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_double_backward_through_the_operators_is_refused() -> None:
    cell = make_cell("gru", 3, 2)
    x = torch.randn(4, 2, 2, dtype=torch.float64, requires_grad=True)
    y, _ = op_path.run_layers([cell], x, [cell.zero_state(2, torch.float64)], None)
    (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="first derivatives only.*engine='loop'"):
        g.sum().backward()


# ------------------------------------------------------------------------------------ compile
COMPILE_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import torch
    import rnnkit
    from rnnkit.engine import kernels as K

    KERNELS = {"tanh": "rnn", "relu": "rnn", "lstm": "lstm", "lstm_peep": "lstm", "gru": "gru",
               "gru_after": "grur"}

    def cell(kind, I):
        return {
            "tanh": lambda: rnnkit.BasicRNNCell(6, input_size=I),
            "relu": lambda: rnnkit.BasicRNNCell(6, activation="relu", input_size=I),
            "lstm": lambda: rnnkit.BasicLSTMCell(6, forget_bias=0.7, input_size=I),
            "lstm_peep": lambda: rnnkit.LSTMCell(6, use_peepholes=True, input_size=I),
            "gru": lambda: rnnkit.GRUCell(6, input_size=I),
            "gru_after": lambda: rnnkit.GRUCell(6, reset_after=True, input_size=I),
        }[kind]()

    class Model(torch.nn.Module):
        def __init__(self, kind):
            super().__init__()
            self.rnn = rnnkit.MultiRNNCell([cell(kind, 3), cell(kind, 6)])
            self.head = torch.nn.Linear(6, 2)

        def forward(self, x, lengths):
            y, state = rnnkit.dynamic_rnn(self.rnn, x, sequence_length=lengths)
            return self.head(y), torch.utils._pytree.tree_leaves(state)[-1]

    def loss(outputs):
        gen = torch.Generator().manual_seed(1)
        return sum((v * torch.randn(v.shape, generator=gen)).sum() for v in outputs)

    out = {}
    x = torch.randn(4, 7, 3, requires_grad=True)  # batch-major, seen time-major by the operators
    lengths = torch.tensor([7, 0, 3, 5])
    for kind in KERNELS:
        torch.manual_seed(0)
        model = Model(kind)
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.3 * torch.randn_like(p))
        fwd = getattr(K, KERNELS[kind] + "_forward")
        bwd = getattr(K, KERNELS[kind] + "_backward")
        before = (len(fwd.signatures), len(bwd.signatures))
        t0 = time.perf_counter()
        compiled = torch.compile(model, fullgraph=True)
        got = compiled(x, lengths)  # the first call of this kind in the process is compiled
        loss(got).backward()
        seconds = time.perf_counter() - t0
        ran = (len(fwd.signatures) > before[0] or before[0] > 0,
               len(bwd.signatures) > before[1] or before[1] > 0)
        grads = [p.grad.clone() for p in (x, *model.parameters())]
        model.zero_grad()
        x.grad = None
        want = model(x, lengths)
        loss(want).backward()
        out[kind] = {
            "seconds": seconds,
            "kernels_ran": ran,
            # |got - want| / (1 + |want|): absolute for small values, relative for large ones (a
            # float32 ulp of a gradient of 4-8 is 4.8e-7, half the bound as a plain difference)
            "value_diff": max(((g - w).abs() / (1 + w.abs())).max().item()
                              for g, w in zip(got, want)),
            "grad_diff": max(((g - p.grad).abs() / (1 + p.grad.abs())).max().item()
                             for g, p in zip(grads, (x, *model.parameters()))),
        }
        x.grad = None
    print(json.dumps(out))
    """
)


@pytest.mark.slow
def test_compile_fullgraph_from_a_cold_process_equals_eager() -> None:
    """torch.compile(fullgraph=True), first thing in a fresh process, for each cell kind (stacked,
    with lengths): the compiled graph runs the engine's kernels (forward and backward) and equals
    eager in values and gradients (the batch-major input's too) within 1e-6 (relative above 1).
    Inductor's caches are
    off: a cached graph would not see a change to the operators' fake kernels."""
    env = {**os.environ, "TORCHINDUCTOR_FORCE_DISABLE_CACHES": "1"}
    done = subprocess.run(
        [sys.executable, "-c", COMPILE_SCRIPT],
        capture_output=True, text=True, timeout=600, cwd=ROOT, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(results) == {"tanh", "relu", "lstm", "lstm_peep", "gru", "gru_after"}
    for kind, r in results.items():
        assert r["kernels_ran"] == [True, True], (kind, r)
        assert r["value_diff"] <= 1e-6 and r["grad_diff"] <= 1e-6, (kind, r)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["tanh", "basic_lstm", "lstm_peep", "gru_after", "multi"])
def test_compiled_training_on_strided_inputs_and_states_equals_eager(kind: str) -> None:
    """torch.compile(fullgraph=True) forward and backward with a strided batch-major input (every
    other step of a longer one), tensor lengths and a transposed initial state that requires grad:
    values and the gradients of the input's base, the state and every parameter equal eager's
    (aot_eager for breadth; the cold-process test above runs inductor, which also checks the fake
    kernels' strides against the real outputs)."""
    T, B, I, H = 5, 3, 3, 4
    cell = make_cell(kind, H, I, dtype=torch.float64)
    base = torch.randn(B, 2 * T, I, dtype=torch.float64, requires_grad=True)
    state = _nest.map_structure(
        lambda s: torch.randn(s.shape[::-1], dtype=s.dtype).t().requires_grad_(),
        cell.zero_state(B, torch.float64),
    )
    lengths = torch.tensor([T, 0, 2])

    def run(base, state):
        return rnnkit.dynamic_rnn(cell, base[:, ::2], sequence_length=lengths, initial_state=state)

    leaves = [base, *_nest.flatten(state), *cell.parameters()]
    results = []
    torch._dynamo.reset()
    for fn in (run, torch.compile(run, fullgraph=True, backend="aot_eager")):
        y, final = fn(base, state)
        outs = [y, *_nest.flatten(final)]
        gen = torch.Generator().manual_seed(1)
        loss = sum((t * torch.randn(t.shape, generator=gen, dtype=t.dtype)).sum() for t in outs)
        results.append([t.detach() for t in outs] + list(torch.autograd.grad(loss, leaves)))
    for got, want in zip(results[1], results[0]):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("lengths", [[3, 0, 2], (3, 0, 2)])
def test_compile_fullgraph_takes_lengths_as_python_values(lengths) -> None:
    cell = make_cell("lstm", 4, 3, dtype=torch.float32)
    x = torch.randn(3, 3, 3)

    def run(x):
        return rnnkit.dynamic_rnn(cell, x, sequence_length=lengths)[0]

    torch._dynamo.reset()
    compiled = torch.compile(run, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(x), run(x), rtol=0, atol=0)


# ------------------------------------------------------------------------------------ export
class _Bidirectional(torch.nn.Module):
    """Both directions, stacks of every kind, lengths and initial states, batch-major."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fw = rnnkit.MultiRNNCell(
            [rnnkit.LSTMCell(5, use_peepholes=True, forget_bias=0.5, input_size=3),
             rnnkit.GRUCell(4, input_size=5)]
        )  # fmt: skip
        self.bw = rnnkit.MultiRNNCell(
            [rnnkit.BasicRNNCell(4, activation="relu", input_size=3),
             rnnkit.GRUCell(5, reset_after=True, input_size=4), rnnkit.BasicLSTMCell(4, input_size=5)]
        )  # fmt: skip
        with torch.no_grad():
            for p in self.parameters():
                p.add_(0.3 * torch.randn_like(p))

    def forward(self, x, lengths, h_bw):
        B = x.shape[0]
        init_bw = (h_bw, self.bw.cells[1].zero_state(B), self.bw.cells[2].zero_state(B))
        (y_fw, y_bw), (s_fw, s_bw) = rnnkit.bidirectional_dynamic_rnn(
            self.fw, self.bw, x, sequence_length=lengths, initial_state_bw=init_bw
        )
        return torch.cat([y_fw, y_bw], -1), *torch.utils._pytree.tree_leaves((s_fw, s_bw))


def test_export_round_trip_keeps_tf1_semantics(tmp_path: Path) -> None:
    """torch.export captures the engine as rnnkit operators (one per layer, whatever T); the saved
    program loads and runs other batch sizes and lengths like eager rnnkit: zeros past each row's
    length, final states after the last valid step (the initial state for length 0)."""
    model = _Bidirectional()
    B, T = torch.export.Dim("B"), torch.export.Dim("T")
    example = (torch.randn(3, 6, 3), torch.tensor([6, 0, 4]), torch.randn(3, 4))
    ep = torch.export.export(
        model, example, dynamic_shapes={"x": {0: B, 1: T}, "lengths": {0: B}, "h_bw": {0: B}}
    )
    targets = [str(n.target) for n in ep.graph.nodes if n.op == "call_function"]
    layer_ops = [t for t in targets if t.startswith("rnnkit.")]
    assert sorted(layer_ops) == sorted(
        ["rnnkit.lstm_layer.default", "rnnkit.gru_layer.default", "rnnkit.rnn_layer.default",
         "rnnkit.grur_layer.default", "rnnkit.lstm_layer.default"]
    )  # fmt: skip
    path = tmp_path / "model.pt2"
    torch.export.save(ep, path)
    loaded = torch.export.load(path).module()
    for Bn, Tn in ((5, 9), (2, 1), (3, 6)):
        x, h_bw = torch.randn(Bn, Tn, 3), torch.randn(Bn, 4)
        lengths = torch.tensor([Tn, 0, *[(2 * b) % (Tn + 1) for b in range(2, Bn)]])
        got = loaded(x, lengths, h_bw)
        want = model(x, lengths, h_bw)
        for g, w in zip(got, want):
            torch.testing.assert_close(g, w, rtol=1e-6, atol=1e-6)
        y = got[0]
        for b in range(Bn):
            assert torch.all(y[b, int(lengths[b]) :] == 0)
        # outputs: y, then fw (c, h), h; bw h, h, (c, h). Length 0: bw layer 0 keeps its initial state
        torch.testing.assert_close(got[4][1], h_bw[1])
    # lengths past T act as T while tracing (eager rnnkit refuses them with a ValueError)
    x, h_bw = torch.randn(3, 6, 3), torch.randn(3, 4)
    got = loaded(x, torch.tensor([9, 6, 2]), h_bw)
    for g, w in zip(got, model(x, torch.tensor([6, 6, 2]), h_bw)):
        torch.testing.assert_close(g, w, rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------------------------ jit.trace
def test_jit_trace_says_what_to_use_instead() -> None:
    model = _Bidirectional()
    args = (torch.randn(2, 3, 3), torch.tensor([3, 1]), torch.randn(2, 4))
    with pytest.raises(RuntimeError, match="torch.jit.trace does not support.*torch.export.export"):
        torch.jit.trace(model, args)
    cell = rnnkit.GRUCell(4, input_size=3)
    with pytest.raises(RuntimeError, match="torch.jit.trace does not support rnnkit's cells"):
        torch.jit.trace(cell, (torch.randn(2, 3), cell.zero_state(2)))
