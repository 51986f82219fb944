"""DropoutWrapper (input and output dropout) on the fused engine: the masks are applied to whole
sequences around the fused layers, with the loop's values where the random streams coincide and the
loop's structure where they cannot."""

from __future__ import annotations

import pytest
import torch

import rnnkit
from rnnkit import _nest, engine


def _grads(cell, x, engine_name):
    y, s = rnnkit.dynamic_rnn(cell, x, engine=engine_name)
    loss = (y * torch.linspace(-1, 1, y.shape[-1], dtype=y.dtype)).sum()
    loss = loss + sum(t.sum() for t in _nest.flatten(s))
    return y.detach(), torch.autograd.grad(loss, [x, *cell.parameters()])


@pytest.mark.parametrize("variational", [False, True])
@pytest.mark.parametrize("kind", ["tanh", "lstm", "gru"])
def test_input_dropout_equals_the_loop(kind, variational):
    """A seeded wrapper with input dropout alone draws the same masks, step by step or at once."""
    inner = {
        "tanh": lambda: rnnkit.BasicRNNCell(6, input_size=4),
        "lstm": lambda: rnnkit.BasicLSTMCell(6, input_size=4),
        "gru": lambda: rnnkit.GRUCell(6, input_size=4),
    }[kind]().double()
    x = torch.randn(3, 7, 4, dtype=torch.float64, requires_grad=True)
    results = []
    for name in ("fused", "loop"):
        cell = rnnkit.DropoutWrapper(
            inner, input_keep_prob=0.6, variational_recurrent=variational, seed=5
        )
        assert engine.supports(cell, x.transpose(0, 1))
        results.append(_grads(cell, x, name))
    (y, g), (ry, rg) = results
    torch.testing.assert_close(y, ry)
    for a, b in zip(g, rg):
        torch.testing.assert_close(a, b)
    assert (y != 0).any()


def test_stacked_dropout_layers_equal_the_loop():
    """The chapter's pattern: MultiRNNCell of DropoutWrapper(BasicRNNCell) with input dropout."""
    layers = [
        rnnkit.DropoutWrapper(rnnkit.BasicRNNCell(5), input_keep_prob=0.5, seed=i) for i in range(3)
    ]
    x = torch.randn(4, 9, 2, dtype=torch.float64, requires_grad=True)
    results = []
    for name in ("fused", "loop"):
        for i, w in enumerate(layers):  # same seeds for both runs
            w._generator.manual_seed(i)
        cell = rnnkit.MultiRNNCell(layers, input_size=2).double()
        results.append(_grads(cell, x, name))
    (y, g), (ry, rg) = results
    torch.testing.assert_close(y, ry)
    for a, b in zip(g, rg):
        torch.testing.assert_close(a, b)


def test_output_dropout_masks_outputs_not_the_recurrence():
    torch.manual_seed(0)
    inner = rnnkit.GRUCell(8, input_size=3)
    x = torch.randn(5, 40, 3)
    clean, clean_state = rnnkit.dynamic_rnn(inner, x, engine="loop")
    cell = rnnkit.DropoutWrapper(inner, output_keep_prob=0.25, seed=1)
    y, state = rnnkit.dynamic_rnn(cell, x, engine="fused")
    torch.testing.assert_close(state, clean_state)  # the state passed on is never dropped
    kept = y != 0
    assert 0.1 < kept.float().mean() < 0.4  # about a quarter kept
    torch.testing.assert_close(y[kept], (clean * 4)[kept])  # kept units scaled by 1 / keep_prob


def test_eval_mode_and_state_dropout():
    cell = rnnkit.DropoutWrapper(rnnkit.BasicRNNCell(3, input_size=2), input_keep_prob=0.5)
    x = torch.randn(2, 4, 2)
    cell.eval()  # the identity: the fused engine runs the inner cell
    y, _ = rnnkit.dynamic_rnn(cell, x, engine="fused")
    torch.testing.assert_close(y, rnnkit.dynamic_rnn(cell.cell, x, engine="loop")[0])
    state_drop = rnnkit.DropoutWrapper(rnnkit.BasicRNNCell(3, input_size=2), state_keep_prob=0.5)
    assert not engine.supports(state_drop, x.transpose(0, 1))  # changes the recurrence: the loop
