"""One matrix: every cell kind the fused engine runs x every path that runs it, on the same inputs,
values and gradients (inputs, parameters, initial state) against the plain loop.

Paths: ``small`` (one compiled kernel each way), ``general`` (the engine's loop, whole), ``halves``
(the engine's loop in two halves of the batch at once), ``onednn`` and ``onednn_halves`` (torch's
oneDNN LSTM from the general path), ``small_onednn`` (the small path's straight way to it),
``operators`` (the ``rnnkit::*_layer`` torch operators, called as ``torch.compile`` calls them),
``compiled`` (``torch.compile``, slow), ``cudnn`` (the cuDNN formulation, which runs on CPU tensors
too) and ``onnx`` (torch.onnx.export run by onnxruntime, values only, slow). Each engine call is
first checked to take the path it stands for (:func:`rnnkit.engine.explain`)."""

from __future__ import annotations

import pytest
import torch

import rnnkit
from rnnkit import _nest
from rnnkit.engine import cuda, explain, kinds, library, onednn, paths, small, team
from rnnkit.engine.layers import flatten_states, layer_cells, rebuild_states

B, T, I, H = 4, 6, 3, 5
LENGTHS = [6, 4, 1, 0]

CELLS = {
    "tanh": lambda: rnnkit.BasicRNNCell(H, input_size=I),
    "relu": lambda: rnnkit.BasicRNNCell(H, activation="relu", input_size=I),
    "basic_lstm": lambda: rnnkit.BasicLSTMCell(H, forget_bias=0.7, input_size=I),
    "lstm": lambda: rnnkit.LSTMCell(H, forget_bias=0.4, input_size=I),
    "lstm_peephole": lambda: rnnkit.LSTMCell(H, use_peepholes=True, input_size=I),
    "gru": lambda: rnnkit.GRUCell(H, input_size=I),
    "gru_reset_after": lambda: rnnkit.GRUCell(H, reset_after=True, input_size=I),
}


def _runs(path: str, kind: kinds.Kind) -> bool:
    """Whether ``path`` runs cells of ``kind``."""
    if path in ("small",):
        return kind.small
    if path in ("onednn", "onednn_halves", "small_onednn"):
        return kind.onednn
    if path == "cudnn":
        return kind.cudnn is not None
    return True


PATHS = ["small", "general", "halves", "onednn", "onednn_halves", "small_onednn", "operators",
         "cudnn", "compiled", "onnx"]  # fmt: skip
SLOW = {"compiled", "onnx"}
MATRIX = [
    pytest.param(name, path, marks=[pytest.mark.slow] if path in SLOW else [])
    for path in PATHS
    for name in CELLS
    if _runs(path, kinds.of(CELLS[name]()))
]


def _cell(name: str) -> rnnkit.RNNCell:
    torch.manual_seed(0)
    cell = CELLS[name]()
    with torch.no_grad():  # non-trivial biases and peepholes: every gradient matters
        for p in cell.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return cell


def _inputs(path: str, cell: rnnkit.RNNCell) -> dict:
    """The call's arguments on this path: lengths and a random initial state where it takes them."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(B, T, I, generator=gen, requires_grad=True)
    if path in ("small", "small_onednn", "onnx", "compiled"):
        return {"inputs": x}
    state = _nest.map_structure(
        lambda s: torch.randn(s.shape, generator=gen).requires_grad_(), cell.zero_state(B)
    )
    lengths = None if path in ("onednn", "onednn_halves") else torch.tensor(LENGTHS)
    return {"inputs": x, "initial_state": state, "sequence_length": lengths}


def _loss(y: torch.Tensor, state) -> torch.Tensor:
    gen = torch.Generator().manual_seed(2)
    leaves = [y, *_nest.flatten(state)]
    return sum((t * torch.randn(t.shape, generator=gen)).sum() for t in leaves)


def _values_and_grads(cell, args: dict, run) -> list[torch.Tensor]:
    y, state = run(cell, **args)
    state0 = _nest.flatten(args["initial_state"]) if "initial_state" in args else []
    wrt = [args["inputs"], *cell.parameters(), *state0]
    grads = torch.autograd.grad(_loss(y, state), wrt)
    return [y.detach(), *(t.detach() for t in _nest.flatten(state)), *grads]


def _loop(cell, **args):
    return rnnkit.dynamic_rnn(cell, engine="loop", **args)


def _fused(cell, **args):
    return rnnkit.dynamic_rnn(cell, engine="fused", **args)


def _operators(cell, inputs, initial_state, sequence_length):
    """dynamic_rnn's fused path as the operators run it (what torch.compile/export call)."""
    x = inputs.transpose(0, 1)
    states = flatten_states(cell, initial_state)
    y, finals = library.run_layers(layer_cells(cell), x, states, sequence_length)
    return y.transpose(0, 1), rebuild_states(cell, iter(finals))


def _cudnn(cell, inputs, initial_state, sequence_length):
    x = inputs.transpose(0, 1)
    states = flatten_states(cell, initial_state)
    y, finals = cuda.run_layers(layer_cells(cell), x, states, sequence_length)
    return y.transpose(0, 1), rebuild_states(cell, iter(finals))


def _compiled(cell, inputs):
    fn = torch.compile(lambda x: rnnkit.dynamic_rnn(cell, x), fullgraph=True, dynamic=False)
    return fn(inputs)


def _idle(monkeypatch):
    monkeypatch.setattr(team.load, "spare_cores", lambda: 2.0)
    if not team.available():
        pytest.skip("torch here does not run on libgomp with 2+ threads")


def _set_path(path: str, monkeypatch) -> str | None:
    """Make small calls take ``path``; the route explain must report for the layer, if any."""
    if path in ("general", "halves", "onednn", "onednn_halves"):
        monkeypatch.setattr(small, "MAX_MACS", -1)
        monkeypatch.setattr(small, "_onednn_takes", lambda *a: False)
    if path in ("onednn", "onednn_halves", "small_onednn"):
        if not onednn.available():
            pytest.skip("torch built without oneDNN")
        monkeypatch.setattr(onednn, "MIN_MACS", 0)
        monkeypatch.setattr(small, "MAX_MACS", 0)
        monkeypatch.setattr(paths, "ONEDNN_SPLIT_MIN_TBH", 0)
        halves = path == "onednn_halves"
        monkeypatch.setattr(paths, "ONEDNN_SPLIT_MAX_STEP", 1 << 40 if halves else 0)
        if halves:
            _idle(monkeypatch)
        return "onednn halves" if halves else "onednn"
    if path == "halves":
        monkeypatch.setattr(paths, "SPLIT_MIN_MACS", 1)
        _idle(monkeypatch)
        return "halves"
    if path == "general":
        monkeypatch.setattr(team.load, "spare_cores", lambda: 0.0)  # never halves
        return "loop"
    if path == "small":
        return "small"
    return None


@pytest.mark.parametrize("name, path", MATRIX)
def test_every_kind_on_every_path_agrees_with_the_loop(name, path, monkeypatch, tmp_path):
    cell = _cell(name)
    args = _inputs(path, cell)
    want = _values_and_grads(cell, args, _loop)
    route = _set_path(path, monkeypatch)
    if route is not None:  # the call takes the path it stands for
        plan = explain(cell, args["inputs"], args.get("sequence_length"), args.get("initial_state"))
        assert [layer.route for layer in plan.layers] == [route], str(plan)
    if path == "onnx":
        return _check_onnx(cell, args["inputs"], want[0], tmp_path)
    run = {"operators": _operators, "cudnn": _cudnn, "compiled": _compiled}.get(path, _fused)
    got = _values_and_grads(cell, args, run)
    tol = {"rtol": 1e-4, "atol": 2e-5} if "onednn" in path else {"rtol": 1e-5, "atol": 1e-5}
    assert len(got) == len(want)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, **tol)


def _check_onnx(cell, x, want_y, folder):
    """The exported graph run by onnxruntime: the loop's outputs (values only)."""
    import warnings

    ort = pytest.importorskip("onnxruntime")

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cell = cell

        def forward(self, x):
            return rnnkit.dynamic_rnn(self.cell, x)[0]

    path = folder / "model.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Model().eval(), (x.detach(),), path, verbose=False)
    session = ort.InferenceSession(str(path))
    (y,) = session.run(None, {session.get_inputs()[0].name: x.detach().numpy()})
    torch.testing.assert_close(torch.from_numpy(y), want_y, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", list(CELLS))
def test_each_record_matches_its_cell_and_names_code_that_exists(name):
    """What a new kind's record must get right: its parameters (names and kernel order, the cell's
    own built shapes), its state, and the code it names."""
    cell = CELLS[name]()
    kind = kinds.of(cell)
    assert kind in kinds.KINDS and kinds.of(rnnkit.MultiRNNCell([cell])) is None
    assert set(kind.params) == set(dict(cell.named_parameters()))
    x = torch.zeros(T, B, I)
    weights = kind.weights(cell, x)
    assert len(weights) == len(kind.params) + (3 if kind.zero_peepholes else 0)
    assert kind.state_parts == len(kind.unpack(cell.zero_state(B)))
    assert type(kind.pack(kind.unpack(cell.zero_state(B)))) is type(cell.zero_state(B))
    assert issubclass(kind.function, torch.autograd.Function)
    assert getattr(torch.ops.rnnkit, kind.operator_name) is not None
    assert len(kind.onnx_weights(cell)) == 4
    if kind.small:
        assert len(kind.small_kernels) == 2
    if kind.cudnn is not None:
        assert hasattr(torch._VF, kind.cudnn) and len(kind.cudnn_weights(cell)) == 4
    else:
        with pytest.raises(ValueError, match="no cuDNN formulation"):
            kind.cudnn_weights(cell)
