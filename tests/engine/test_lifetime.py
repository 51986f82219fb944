"""Nothing a fused call returns outlives the caller's last reference to it, on every path of the
engine: an autograd node that keeps its own outputs on ``ctx`` (outside ``save_for_backward``) makes
a cycle output -> node -> ctx -> output that the garbage collector cannot see, and every call's
buffers leak (the oneDNN LSTM node did: 9 MB a call at the benchmark's S size)."""

from __future__ import annotations

import gc
import weakref

import pytest
import torch

import rnnkit
from rnnkit import _nest
from rnnkit.engine import onednn, paths, small

CELLS = {
    "tanh": lambda H: rnnkit.BasicRNNCell(H),
    "lstm": lambda H: rnnkit.BasicLSTMCell(H),
    "peepholes": lambda H: rnnkit.LSTMCell(H, use_peepholes=True),
    "gru": lambda H: rnnkit.GRUCell(H),
    "gru_reset_after": lambda H: rnnkit.GRUCell(H, reset_after=True),
}


def _path(monkeypatch, path: str) -> None:
    """Route calls through one path of the engine, however small the layer."""
    if path == "small":
        return
    monkeypatch.setattr(small, "MAX_MACS", -1)  # the general path
    if path.startswith("onednn"):
        if not onednn.available():
            pytest.skip("torch built without oneDNN")
        monkeypatch.setattr(onednn, "MIN_MACS", 0)
        halves = path == "onednn_halves"
        monkeypatch.setattr(paths, "ONEDNN_SPLIT_MAX_STEP", 1 << 40 if halves else 0)
        monkeypatch.setattr(paths, "ONEDNN_SPLIT_MIN_TBH", 0)
    elif path == "halves":
        monkeypatch.setattr(paths, "splits", lambda cell, x, tmax: x.shape[1] >= 2)
    elif path == "pair":
        monkeypatch.setattr(paths, "pairs", lambda *a: True)


def _call(kind: str, bidirectional: bool, mode: str):
    """One fused call: ``(weak references to everything it returned, gradients or None)``."""
    torch.manual_seed(0)
    x = torch.randn(4, 6, 3, requires_grad=mode == "backward")
    with torch.set_grad_enabled(mode != "no_grad"):
        return _run(kind, bidirectional, x, mode == "backward")


def _run(kind: str, bidirectional: bool, x: torch.Tensor, grad: bool):
    if bidirectional:
        cells = (CELLS[kind](5), CELLS[kind](5))
        outs, states = rnnkit.bidirectional_dynamic_rnn(*cells, x, dtype=torch.float32)
        leaves = [*outs, *_nest.flatten(states)]
        params = [p for c in cells for p in c.parameters()]
    else:
        cell = CELLS[kind](5)
        y, s = rnnkit.dynamic_rnn(cell, x, dtype=torch.float32)
        leaves, params = [y, *_nest.flatten(s)], list(cell.parameters())
    grads = None
    if grad:
        grads = torch.autograd.grad(sum(t.sum() for t in leaves), [x, *params])
    return [weakref.ref(t) for t in leaves], grads


@pytest.mark.parametrize("mode", ["backward", "graph_only", "no_grad"])
@pytest.mark.parametrize(
    "path, kind, bidirectional",
    [
        ("small", "tanh", False),
        ("small", "lstm", False),
        ("small", "gru_reset_after", False),
        *[("loop", kind, False) for kind in CELLS],
        ("halves", "lstm", False),
        ("pair", "gru", True),
        ("onednn_whole", "lstm", False),
        ("onednn_halves", "lstm", False),
        ("onednn_whole", "lstm", True),
    ],
)
def test_outputs_die_with_their_last_reference(path, kind, bidirectional, mode, monkeypatch):
    """``backward``: forward and backward; ``graph_only``: a graph recorded (the parameters require
    grad) but never run backward; ``no_grad``: no graph."""
    _path(monkeypatch, path)
    refs, grads = _call(kind, bidirectional, mode)
    assert grads is None or all(g is not None for g in grads)
    gc.collect()  # Python-level cycles would be collectable; the leak this guards against was not
    alive = [i for i, r in enumerate(refs) if r() is not None]
    assert not alive, f"outputs {alive} of a {path} call outlived every reference to them"
