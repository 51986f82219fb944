"""ONNX: torch.onnx.export of rnnkit models (every cell kind, lengths, stacks, both directions) gives
graphs of ONNX's own RNN/LSTM/GRU operators that onnxruntime runs with dynamic batch and time axes,
equal to rnnkit within 1e-5; and ``python -m rnnkit export`` on a model trained by ``rnnkit train``."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import rnnkit
from rnnkit.commands import main

pytestmark = pytest.mark.slow  # every test exports with torch.onnx (seconds each)

ONNX_OP = {"tanh": "RNN", "relu": "RNN", "lstm": "LSTM", "lstm_peep": "LSTM", "gru": "GRU",
           "gru_after": "GRU"}  # fmt: skip


def _cell(kind: str, H: int, I: int) -> rnnkit.RNNCell:
    return {
        "tanh": lambda: rnnkit.BasicRNNCell(H, input_size=I),
        "relu": lambda: rnnkit.BasicRNNCell(H, activation="relu", input_size=I),
        "lstm": lambda: rnnkit.BasicLSTMCell(H, forget_bias=0.7, input_size=I),
        "lstm_peep": lambda: rnnkit.LSTMCell(H, use_peepholes=True, forget_bias=0.5, input_size=I),
        "gru": lambda: rnnkit.GRUCell(H, input_size=I),
        "gru_after": lambda: rnnkit.GRUCell(H, reset_after=True, input_size=I),
    }[kind]()


class Bidirectional(torch.nn.Module):
    """A stack of two ``kind`` layers forward, one backward; lengths; every output and state."""

    def __init__(self, kind: str, time_major: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fw = rnnkit.MultiRNNCell([_cell(kind, 5, 3), _cell(kind, 4, 5)])
        self.bw = _cell(kind, 6, 3)
        self.time_major = time_major
        with torch.no_grad():  # non-trivial biases and peepholes
            for p in self.parameters():
                p.add_(0.3 * torch.randn_like(p))

    def forward(self, x, lengths=None):
        (y_fw, y_bw), states = rnnkit.bidirectional_dynamic_rnn(
            self.fw, self.bw, x, sequence_length=lengths, time_major=self.time_major
        )
        return y_fw, y_bw, *torch.utils._pytree.tree_leaves(states)


def _export(model: torch.nn.Module, args: tuple, dynamic: dict, path: Path) -> onnx.ModelProto:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), args, path, dynamic_shapes=dynamic, verbose=False)
    return onnx.load(path)


def _lengths(B: int, T: int, seed: int) -> torch.Tensor:
    """A full row, a row of length 0, the rest random in [0, T]."""
    rest = torch.randint(0, T + 1, (B - 2,), generator=torch.Generator().manual_seed(seed))
    return torch.cat([torch.tensor([T, 0]), rest])


@pytest.mark.parametrize("kind", list(ONNX_OP))
def test_onnxruntime_equals_rnnkit(kind: str, tmp_path: Path) -> None:
    model = Bidirectional(kind)
    B, T = torch.export.Dim("B"), torch.export.Dim("T")
    example = (torch.randn(3, 5, 3), torch.tensor([5, 0, 2]))
    proto = _export(model, example, {"x": {0: B, 1: T}, "lengths": {0: B}}, tmp_path / "m.onnx")
    op_types = [n.op_type for n in proto.graph.node]
    assert op_types.count(ONNX_OP[kind]) == 3  # one ONNX operator per layer, no unrolled loop
    assert not {"Loop", "Scan"} & set(op_types)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    for Bn, Tn, seed in ((4, 9, 0), (7, 1, 1), (2, 17, 2)):  # shapes other than the example's
        x, lengths = torch.randn(Bn, Tn, 3), _lengths(Bn, Tn, seed)
        got = session.run(None, dict(zip(names, (x.numpy(), lengths.numpy()))))
        want = model(x, lengths)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w.detach().numpy(), rtol=0, atol=1e-5)


def test_onnx_without_lengths_time_major(tmp_path: Path) -> None:
    model = Bidirectional("lstm_peep", time_major=True)
    T, B = torch.export.Dim("T"), torch.export.Dim("B")
    _export(model, (torch.randn(5, 3, 3),), {"x": {0: T, 1: B}}, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    x = torch.randn(11, 2, 3)
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    for g, w in zip(got, model(x)):
        np.testing.assert_allclose(g, w.detach().numpy(), rtol=0, atol=1e-5)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_onnx_length_zero_rows_keep_a_given_initial_state(kind: str, tmp_path: Path) -> None:
    """ONNX runtimes give a length-0 row zeros as its final state; the graph must select the initial
    state there (with zero initial states the two cannot be told apart)."""

    class WithState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(1)
            self.cell = _cell(kind, 4, 3)

        def forward(self, x, lengths, *state):
            state = rnnkit.LSTMStateTuple(*state) if kind == "lstm" else state[0]
            y, final = rnnkit.dynamic_rnn(
                self.cell, x, sequence_length=lengths, initial_state=state
            )
            return y, *torch.utils._pytree.tree_leaves(final)

    model = WithState()
    n_state = 2 if kind == "lstm" else 1
    B, T = torch.export.Dim("B"), torch.export.Dim("T")
    example = (torch.randn(3, 5, 3), torch.tensor([5, 0, 2]))
    example += tuple(torch.randn(3, 4) for _ in range(n_state))
    dynamic = {"x": {0: B, 1: T}, "lengths": {0: B}, "state": tuple({0: B} for _ in range(n_state))}
    _export(model, example, dynamic, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    x, lengths = torch.randn(5, 7, 3), torch.tensor([7, 0, 3, 0, 1])
    state = tuple(3.0 + torch.randn(5, 4) for _ in range(n_state))  # far from zero
    got = session.run(None, dict(zip(names, (t.numpy() for t in (x, lengths, *state)))))
    want = model(x, lengths, *state)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.detach().numpy(), rtol=0, atol=1e-5)
    for final, initial in zip(got[1:], state):  # rows 1 and 3 have length 0
        np.testing.assert_allclose(final[[1, 3]], initial[[1, 3]].numpy(), rtol=0, atol=1e-6)


TINY = ["--units", "8", "--batch-size", "200", "--quiet"]


@pytest.mark.parametrize(
    "task, extra", [("sine", []), ("digits", ["--bidirectional", "--layers", "2"])]
)
def test_export_command_on_a_trained_model(task: str, extra: list, tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", task, "--epochs", "1", "--out", str(run), *TINY, *extra]) == 0
    out = tmp_path / "model.onnx"
    capsys.readouterr()
    assert main(["export", "--checkpoint", str(run), str(out)]) == 0
    text = capsys.readouterr().out
    assert "onnxruntime matches rnnkit within --rtol 0.0001 --atol 1e-05" in text
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    assert isinstance(inp.shape[0], str)  # dynamic batch
    # time is dynamic unless the normalisation is per step (digits: per pixel of 8 rows)
    assert isinstance(inp.shape[1], str) if task == "sine" else inp.shape[1] == 8
    from rnnkit.training.checkpoint import load_model
    from rnnkit.training.data import load_task
    from rnnkit.training.models import RawUnitsModel

    model, _ = load_model(run)
    T = 13 if task == "sine" else 8
    x = 4 * torch.randn(3, T, inp.shape[2])
    want = RawUnitsModel(model, load_task(task))(x).detach().numpy()
    np.testing.assert_allclose(session.run(None, {inp.name: x.numpy()})[0], want, 1e-4, 1e-5)


@pytest.mark.parametrize("task", ["digits", "sunspots"])
def test_exported_model_takes_raw_inputs_as_train_and_evaluate_do(task, tmp_path: Path, capsys):
    """The ONNX model applies the normalisation training used: raw test inputs (pixel values 0-16,
    sunspot numbers) give evaluate's predictions and metrics (an export of the bare model read raw
    inputs as if normalised: other logits, forecasts in normalised units)."""
    import json

    from rnnkit.training.checkpoint import load_model
    from rnnkit.training.data import load_task
    from rnnkit.training.metrics import test_metrics

    run, out = tmp_path / "run", tmp_path / "m.onnx"
    assert main(["train", task, "--epochs", "2", "--out", str(run), *TINY]) == 0
    assert main(["export", "--checkpoint", str(run), str(out)]) == 0
    assert main(["evaluate", "--checkpoint", str(run), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out.splitlines()[-1])
    data = load_task(task)
    raw = data.x_test_raw.numpy()
    assert raw.min() >= 0 and raw.max() > 15  # original units, not normalised values
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: raw})[0]
    model, _ = load_model(run)
    _, predictions = test_metrics(model, data)  # evaluate's: class ids, or sunspot numbers
    if task == "digits":
        logits = model(data.x_test).detach().numpy()
        np.testing.assert_allclose(got, logits, rtol=1e-4, atol=1e-4)
        assert (got.argmax(-1) == predictions.numpy()).all()
        accuracy = float((got.argmax(-1) == data.y_test.numpy()).mean())
        assert accuracy == pytest.approx(evaluated["test_accuracy"], abs=1e-12)
    else:
        np.testing.assert_allclose(got, predictions.numpy(), rtol=1e-4, atol=1e-3)
        truth = data.denormalize(data.y_test.double()).numpy()
        assert np.abs(got - truth).mean() == pytest.approx(evaluated["test_mae"], rel=1e-5)


class _Session:
    """An onnxruntime session stand-in that returns fixed outputs."""

    def __init__(self, outputs):
        self.outputs = outputs

    def get_inputs(self):
        return [type("Input", (), {"name": "x"})()]

    def run(self, names, feeds):
        return self.outputs


def test_export_check_is_relative_to_the_size_of_each_value() -> None:
    """As numpy.testing.assert_allclose: |got - want| <= atol + rtol * |want|. Logits of 100 that
    differ by 1e-5 relative (1e-3 absolute) are float32 rounding, well within rtol 1e-4; the same
    absolute difference on a value of 0.01 is not. An absolute --atol 1e-5 alone failed every export
    of a default digits model (1.14e-05 on logits of ~20)."""
    from rnnkit.commands.export import compare

    want = torch.tensor([[100.0, -100.0, 0.01]])
    model = lambda x: want  # noqa: E731
    close = (want * (1 + 1e-5)).numpy()
    diff, ratio = compare(model, _Session([close]), [torch.zeros(1)], rtol=1e-4, atol=1e-5)
    assert diff == pytest.approx(1e-3, rel=1e-3) and ratio == pytest.approx(0.1, rel=1e-2)
    far = np.array([[100.0, -100.0, 0.011]], np.float32)
    diff, ratio = compare(model, _Session([far]), [torch.zeros(1)], rtol=1e-4, atol=1e-5)
    assert ratio == pytest.approx(1e-3 / (1e-5 + 1e-6), rel=1e-3) and ratio > 1
    nan = np.array([[np.nan, 0.0, 0.0]], np.float32)
    assert np.isnan(compare(model, _Session([nan]), [torch.zeros(1)], 1e-4, 1e-5)[1])
    exact = want.numpy()
    assert compare(model, _Session([exact]), [torch.zeros(1)], rtol=0.0, atol=0.0) == (0.0, 0.0)


def test_export_help_says_how_outputs_are_compared(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "atol + rtol * |rnnkit's|" in text and "numpy.testing.assert_allclose" in text
    assert "(default: 0.0001)" in text and "(default: 1e-05)" in text
    assert "original units" in text


def test_export_command_errors(tmp_path: Path, capsys) -> None:
    out = tmp_path / "model.onnx"
    assert main(["export", "--checkpoint", str(tmp_path / "missing"), str(out)]) == 2
    err = capsys.readouterr().err
    assert (
        "rnnkit export: error:" in err and "missing" in err and len(err.strip().splitlines()) == 1
    )
    assert not out.exists()
    run = tmp_path / "run"
    assert main(["train", "sine", "--epochs", "1", "--out", str(run), *TINY]) == 0
    assert main(["export", "--checkpoint", str(run), str(tmp_path / "no" / "dir" / "m.onnx")]) == 2
    assert "rnnkit export: error:" in capsys.readouterr().err
    (tmp_path / "adir.onnx").mkdir()  # refused before any work, not after the export (exit 1)
    assert main(["export", "--checkpoint", str(run), str(tmp_path / "adir.onnx")]) == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and len(err.strip().splitlines()) == 1
