"""Lazy cells (no ``input_size``): torch's lazy-module convention, optimizers, state dicts, interop.

References: the same model built eagerly (``input_size`` given) or by a forward pass, with its weights
copied; torch's own optimizers and ``nn.GRU``.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import textwrap

import pytest
import torch
from torch.nn.parameter import UninitializedParameter, is_lazy

import rnnkit
from rnnkit.fused import FusedRNN
from rnnkit.interop import load_tf1_variables, load_torch_state_dict, tf1_variables

I = 3  # input width of every test


def _cells() -> dict:
    """name -> factory(input_size) of every cell kind, stack and wrapper (``None``: lazy)."""
    return {
        "rnn_tanh": lambda i: rnnkit.BasicRNNCell(5, input_size=i),
        "rnn_relu": lambda i: rnnkit.BasicRNNCell(5, activation="relu", input_size=i),
        "basic_lstm": lambda i: rnnkit.BasicLSTMCell(4, forget_bias=0.5, input_size=i),
        "lstm": lambda i: rnnkit.LSTMCell(4, input_size=i),
        "lstm_peepholes": lambda i: rnnkit.LSTMCell(4, use_peepholes=True, input_size=i),
        "gru": lambda i: rnnkit.GRUCell(4, input_size=i),
        "gru_reset_after": lambda i: rnnkit.GRUCell(4, reset_after=True, input_size=i),
        "multi": lambda i: rnnkit.MultiRNNCell(
            [rnnkit.LSTMCell(4, use_peepholes=True), rnnkit.GRUCell(3), rnnkit.BasicRNNCell(2)],
            input_size=i,
        ),
        "dropout": lambda i: rnnkit.DropoutWrapper(
            rnnkit.BasicLSTMCell(4, input_size=i), output_keep_prob=0.5
        ),
        "residual": lambda i: rnnkit.ResidualWrapper(rnnkit.GRUCell(I, input_size=i)),
        "projection": lambda i: rnnkit.OutputProjectionWrapper(
            rnnkit.MultiRNNCell([rnnkit.GRUCell(4, input_size=i), rnnkit.BasicLSTMCell(5)]), 2
        ),
        "nested": lambda i: rnnkit.MultiRNNCell(
            [
                rnnkit.ResidualWrapper(rnnkit.BasicRNNCell(I, input_size=i)),
                rnnkit.OutputProjectionWrapper(rnnkit.DropoutWrapper(rnnkit.GRUCell(4)), 6),
            ]
        ),
    }


CELLS = _cells()


def _run(cell: rnnkit.RNNCell, x: torch.Tensor, engine: str = "auto") -> torch.Tensor:
    outputs, state = rnnkit.dynamic_rnn(cell, x, sequence_length=[4, 2], engine=engine)
    return torch.cat([outputs.flatten(), *[s.flatten() for s in _leaves(state)]])


def _leaves(state):
    return [state] if isinstance(state, torch.Tensor) else [t for s in state for t in _leaves(s)]


@pytest.mark.parametrize("kind", CELLS)
def test_unbuilt_cell_declares_every_parameter_uninitialized(kind):
    lazy, eager = CELLS[kind](None), CELLS[kind](I)
    assert lazy.input_size is None and not lazy.built
    assert eager.input_size == I and eager.built
    names = [n for n, _ in lazy.named_parameters()]
    assert names == [n for n, _ in eager.named_parameters()]  # TF names, same order
    assert all(isinstance(p, UninitializedParameter) for p in lazy.parameters())
    assert not any(is_lazy(p) for p in eager.parameters())
    sd = lazy.state_dict()  # an unbuilt cell saves its parameters as they are (torch's convention)
    assert list(sd) == list(eager.state_dict()) and all(is_lazy(v) for v in sd.values())


@pytest.mark.parametrize("kind", CELLS)
def test_first_call_materialises_the_same_objects_in_place(kind):
    cell = CELLS[kind](None)
    before = dict(cell.named_parameters())
    _run(cell, torch.randn(2, 4, I, dtype=torch.float64))
    assert cell.input_size == I
    after = dict(cell.named_parameters())
    assert after.keys() == before.keys()
    for name, p in after.items():
        assert p is before[name], name
        assert type(p) is torch.nn.Parameter and p.dtype == torch.float64, name


@pytest.mark.parametrize("kind", ["gru", "multi", "projection", "nested"])
def test_optimizer_made_before_the_first_call_trains_the_cell(kind):
    """The issue: Adam(model.parameters()) before the first forward left the cell's weights out."""
    torch.manual_seed(0)
    model = _Model(CELLS[kind](None))
    opt = torch.optim.Adam(model.parameters(), lr=0.05)  # the cell is not built yet
    x, target = torch.randn(2, 4, I), torch.randn(2, 1)
    loss = torch.nn.functional.mse_loss(model(x), target)  # builds the cell
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    reference = _Model(CELLS[kind](I))  # same weights, optimizer made after building
    reference.load_state_dict(start)
    ref_opt = torch.optim.Adam(reference.parameters(), lr=0.05)
    loss.backward()
    opt.step()
    torch.nn.functional.mse_loss(reference(x), target).backward()
    ref_opt.step()
    cell_params = [n for n in start if n.startswith("cell.")]
    assert cell_params and len(start) == len(list(model.parameters()))
    for name, p in model.named_parameters():
        assert not torch.equal(p, start[name]), f"{name} did not move"
        torch.testing.assert_close(p, dict(reference.named_parameters())[name], msg=name)


def test_optimizer_that_reads_values_on_construction_says_what_to_do():
    """torch's optimizers take uninitialized parameters (Adam, SGD, ...: see above); Adagrad reads them
    at once and raises torch's ValueError, which names the uninitialized parameter and the forward."""
    with pytest.raises(ValueError, match="uninitialized parameter.*[Cc]all `forward`"):
        torch.optim.Adagrad(rnnkit.GRUCell(4).parameters())
    torch.optim.Adagrad(rnnkit.GRUCell(4, input_size=I).parameters())  # input_size given: fine
    cell = rnnkit.GRUCell(4)
    cell(torch.randn(2, I), cell.zero_state(2))  # one forward first: fine
    torch.optim.Adagrad(cell.parameters())


class _Model(torch.nn.Module):
    def __init__(self, cell: rnnkit.RNNCell) -> None:
        super().__init__()
        self.cell = cell
        self.head = torch.nn.Linear(cell.output_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs, _ = rnnkit.dynamic_rnn(self.cell, x)
        return self.head(outputs[:, -1])


@pytest.mark.parametrize("source_built_by", ["forward", "input_size"])
@pytest.mark.parametrize("kind", CELLS)
def test_state_dict_loads_into_an_unbuilt_cell(kind, source_built_by):
    torch.manual_seed(1)
    x = torch.randn(2, 4, I)
    if source_built_by == "forward":
        src = CELLS[kind](None)
        _run(src, x)
    else:
        src = CELLS[kind](I)
    dst = CELLS[kind](None)
    params = list(dst.parameters())
    dst.load_state_dict(src.state_dict())  # strict: no missing or unexpected key
    assert dst.input_size == I and dst.built
    assert all(p is q for p, q in zip(dst.parameters(), params, strict=True))  # in place
    src.eval(), dst.eval()  # dropout off
    for engine in ("loop", "auto"):
        torch.testing.assert_close(_run(dst, x, engine), _run(src, x, engine), rtol=0, atol=0)


def test_state_dict_of_an_unbuilt_cell_leaves_another_unbuilt():
    dst = rnnkit.GRUCell(4)
    dst.load_state_dict(rnnkit.GRUCell(4).state_dict())
    assert not dst.built and all(is_lazy(p) for p in dst.parameters())


def test_state_dict_into_an_unbuilt_cell_checks_shapes():
    src = rnnkit.BasicLSTMCell(4, input_size=I)
    sd = {"kernel": torch.zeros(4, 16), "bias": src.bias.detach()}  # rows must be I + 4, I >= 1
    with pytest.raises(RuntimeError, match=r"size mismatch for kernel.*\(I \+ 4, 16\)"):
        rnnkit.BasicLSTMCell(4).load_state_dict(sd)
    sd = {"kernel": torch.zeros(7, 12), "bias": src.bias.detach()}  # 12 columns, not 16
    with pytest.raises(RuntimeError, match="size mismatch for kernel"):
        rnnkit.BasicLSTMCell(4).load_state_dict(sd)
    sd = {"kernel": src.kernel.detach(), "bias": torch.zeros(12)}  # built from the kernel
    with pytest.raises(RuntimeError, match=r"size mismatch for bias.*\[16\]"):
        rnnkit.BasicLSTMCell(4).load_state_dict(sd)


def test_state_dict_into_an_unbuilt_stack_checks_that_the_widths_chain():
    a = rnnkit.MultiRNNCell([rnnkit.GRUCell(4), rnnkit.GRUCell(3)], input_size=I)
    b = rnnkit.MultiRNNCell([rnnkit.GRUCell(5), rnnkit.GRUCell(3)], input_size=I)
    mixed = {k: v for k, v in a.state_dict().items() if k.startswith("cells.0.")}
    mixed |= {k: v for k, v in b.state_dict().items() if k.startswith("cells.1.")}
    dst = rnnkit.MultiRNNCell([rnnkit.GRUCell(4), rnnkit.GRUCell(3)])
    with pytest.raises(ValueError, match=r"cells\[1\].*width 4.*width 5"):
        dst.load_state_dict(mixed)


def test_build_and_to_follow_torch_conventions():
    cell = rnnkit.LSTMCell(4, use_peepholes=True)
    kernel = cell.kernel
    cell.to(torch.float64)  # moves the unbuilt parameters: build() then uses that dtype
    cell.build(I)
    assert cell.kernel is kernel and kernel.dtype == torch.float64 and kernel.shape == (I + 4, 16)
    cell.build(I)  # a no-op once built
    with pytest.raises(ValueError, match="input width 3"):
        cell.build(5)
    twin = copy.deepcopy(rnnkit.GRUCell(4))  # an unbuilt cell copies and builds on its own
    twin.build(2)
    assert twin.gates_kernel.shape == (6, 8)


def test_bidirectional_model_loads_into_an_unbuilt_model():
    class Bi(torch.nn.Module):
        def __init__(self, i):
            super().__init__()
            self.fw = rnnkit.MultiRNNCell([rnnkit.LSTMCell(4, input_size=i), rnnkit.GRUCell(3)])
            self.bw = rnnkit.GRUCell(5, input_size=i)

        def forward(self, x):
            (y_fw, y_bw), _ = rnnkit.bidirectional_dynamic_rnn(
                self.fw, self.bw, x, sequence_length=[4, 1]
            )
            return torch.cat([y_fw, y_bw], -1)

    src, dst = Bi(I), Bi(None)
    dst.load_state_dict(src.state_dict())
    assert dst.fw.input_size == dst.bw.input_size == I
    x = torch.randn(2, 4, I)
    torch.testing.assert_close(dst(x), src(x), rtol=0, atol=0)


@pytest.mark.parametrize("mode", ["tanh", "relu", "lstm", "gru"])
@pytest.mark.parametrize("direction", ["unidirectional", "bidirectional"])
def test_fused_rnn_state_dict_loads_into_an_unbuilt_one(mode, direction):
    kw = {"num_layers": 2, "mode": mode, "direction": direction}
    src, dst = FusedRNN(4, input_size=I, **kw), FusedRNN(4, **kw)
    assert dst.input_size is None
    assert sum(is_lazy(p) for p in dst.parameters()) == sum(
        len(c._parameters) for c in dst.layer_cells()[: 1 + (direction == "bidirectional")]
    )  # only the first layer waits for the input width
    dst.load_state_dict(src.state_dict())
    assert dst.input_size == I
    x = torch.randn(5, 2, I)
    torch.testing.assert_close(dst(x)[0], src(x)[0], rtol=0, atol=0)


@pytest.mark.parametrize("kind", CELLS)
def test_tf1_variables_load_into_an_unbuilt_cell_in_place(kind):
    src = CELLS[kind](I)
    dst = CELLS[kind](None)
    params = list(dst.parameters())
    load_tf1_variables(
        dst, tf1_variables(src, scope="bidirectional_rnn/fw"), "bidirectional_rnn/fw"
    )
    assert dst.input_size == I
    assert all(p is q for p, q in zip(dst.parameters(), params, strict=True))
    src.eval(), dst.eval()
    x = torch.randn(2, 4, I)
    torch.testing.assert_close(_run(dst, x), _run(src, x), rtol=0, atol=0)


def test_tf1_variables_with_wrong_names_leave_the_cell_unbuilt():
    variables = tf1_variables(rnnkit.GRUCell(4, input_size=I))
    del variables["rnn/gru_cell/candidate/bias"]
    cell = rnnkit.GRUCell(4)
    with pytest.raises(ValueError, match="missing"):
        load_tf1_variables(cell, variables)
    assert not cell.built
    bad = {**tf1_variables(rnnkit.GRUCell(4, input_size=I)), "rnn/gru_cell/gates/kernel": [[1.0]]}
    with pytest.raises(ValueError, match=r"gates/kernel of shape \(I \+ 4, \.\) with I >= 1"):
        load_tf1_variables(cell, bad)


def test_torch_state_dict_loads_into_an_unbuilt_cell():
    gru = torch.nn.GRU(I, 4, bidirectional=True)
    fw, bw = rnnkit.GRUCell(4, reset_after=True), rnnkit.GRUCell(4, reset_after=True)
    params = [*fw.parameters(), *bw.parameters()]
    load_torch_state_dict(fw, gru.state_dict(), cell_bw=bw)
    assert fw.input_size == bw.input_size == I
    assert all(p is q for p, q in zip([*fw.parameters(), *bw.parameters()], params, strict=True))
    x = torch.randn(5, 2, I)
    (y_fw, y_bw), _ = rnnkit.bidirectional_dynamic_rnn(fw, bw, x, time_major=True)
    torch.testing.assert_close(torch.cat([y_fw, y_bw], -1), gru(x)[0])

    lstm = torch.nn.LSTM(I, 4, num_layers=2)
    stack = rnnkit.MultiRNNCell([rnnkit.BasicLSTMCell(4), rnnkit.LSTMCell(4)])
    load_torch_state_dict(stack, lstm.state_dict())
    assert stack.input_size == I
    torch.testing.assert_close(rnnkit.dynamic_rnn(stack, x, time_major=True)[0], lstm(x)[0])

    unbuilt = rnnkit.GRUCell(4, reset_after=True)
    with pytest.raises(ValueError, match=r"weight_ih_l0 of shape \(G \* H, I\) with I >= 1"):
        load_torch_state_dict(unbuilt, {**gru.state_dict(), "weight_ih_l0": torch.zeros(12)})
    assert not unbuilt.built


@pytest.mark.slow
def test_subpackages_are_reachable_lazily():
    """``import rnnkit`` reaches ``rnnkit.interop`` and ``rnnkit.compat`` without importing compat."""
    code = textwrap.dedent(
        """
        import sys
        import rnnkit
        assert "rnnkit.compat" not in sys.modules, "import rnnkit imported rnnkit.compat"
        assert "rnnkit.compat.v1" not in sys.modules
        assert callable(rnnkit.interop.load_tf1_variables)
        assert rnnkit.compat.v1.__name__ == "rnnkit.compat.v1"
        assert "rnnkit.compat.v1" in sys.modules
        try:
            rnnkit.no_such_thing
        except AttributeError as e:
            assert "no_such_thing" in str(e)
        else:
            raise AssertionError("rnnkit.no_such_thing did not raise")
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
