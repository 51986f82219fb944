"""No silent numeric lies in the library: NaN and infinities travel
the same way through the plain loop (the reference) and the fused engine, forward and backward; empty
inputs, changed activations and odd arguments give the loop's answer or a clear error.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from rnnkit import (
    BasicLSTMCell,
    BasicRNNCell,
    DropoutWrapper,
    GRUCell,
    LSTMCell,
    MultiRNNCell,
    _nest,
    bidirectional_dynamic_rnn,
    dynamic_rnn,
)
from rnnkit.engine import cuda as torch_kernels  # torch's fused RNN; runs on CPU tensors too

KINDS = {
    "tanh": lambda: BasicRNNCell(3, input_size=2),
    "relu": lambda: BasicRNNCell(3, activation="relu", input_size=2),
    "lstm": lambda: BasicLSTMCell(3, input_size=2),
    "lstmp": lambda: LSTMCell(3, use_peepholes=True, input_size=2),
    "gru": lambda: GRUCell(3, input_size=2),
    "grur": lambda: GRUCell(3, reset_after=True, input_size=2),
}
LENGTHS = [4, 2]  # row 1 is padding at steps 2 and 3
CASES = ["input_nan", "input_inf", "state_nan", "padding_inf", "weight_nan"]


def _run(cell, x, state, path: str) -> list[torch.Tensor]:
    """Outputs, final state, and the gradients of their sum w.r.t. the live inputs, the initial state
    and every parameter."""
    x = x.clone().requires_grad_()
    state = _nest.map_structure(lambda t: t.clone().requires_grad_(), state)
    for p in cell.parameters():
        p.grad = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's "invalid value" warnings are the point here
        if path == "torch":
            out, finals = torch_kernels.run_layers(
                [cell], x.transpose(0, 1), [state], torch.tensor(LENGTHS)
            )
            out, final = out.transpose(0, 1), finals[0]
        else:
            out, final = dynamic_rnn(cell, x, LENGTHS, initial_state=state, engine=path)
        leaves = _nest.flatten(final)
        (out.sum() + sum(leaf.sum() for leaf in leaves)).backward()
    live = (torch.arange(4)[None, :] < torch.tensor(LENGTHS)[:, None])[..., None]  # (B, T, 1)
    return [
        out.detach(),
        *(leaf.detach() for leaf in leaves),
        torch.where(live, x.grad, 0.0),
        *(s.grad for s in _nest.flatten(state)),
        *(p.grad.clone() for p in cell.parameters()),
    ]


def _poisoned(kind: str, case: str, dtype: torch.dtype, which: int = 0):
    torch.manual_seed(1)
    cell = KINDS[kind]().to(dtype)
    x = torch.randn(2, 4, 2, dtype=dtype)
    state = _nest.map_structure(torch.randn_like, cell.zero_state(2))
    if case == "input_nan":
        x[0, 1, 0] = float("nan")
    elif case == "input_inf":
        x[0, 1, 0], x[1, 0, 1] = float("inf"), -float("inf")
    elif case == "padding_inf":
        x[1, 2, 1], x[1, 3, 0] = -float("inf"), float("inf")
    elif case == "state_nan":
        _nest.flatten(state)[-1][1, 0] = float("nan")
    else:
        with torch.no_grad():
            list(cell.parameters())[which].view(-1)[1] = float("nan")
    return cell, x, state


def _same(a: torch.Tensor, b: torch.Tensor, nan_exact: bool) -> bool:
    """Equal values where finite; NaN exactly where the reference has NaN (``nan_exact``), else
    non-finite exactly where the reference is non-finite."""
    if a.shape != b.shape:
        return False
    mark = torch.isnan if nan_exact else (lambda t: ~torch.isfinite(t))
    if not torch.equal(mark(a), mark(b)):
        return False
    ok = mark(a) | (a == b) | ((a - b).abs() <= 1e-4 * (1 + b.abs()))
    return bool(ok.all())


def _cases():
    for kind in KINDS:
        n_params = len(list(KINDS[kind]().parameters()))
        for case in CASES:
            for which in range(n_params) if case == "weight_nan" else (0,):
                yield kind, case, which


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("kind, case, which", list(_cases()))
def test_6_nan_and_inf_travel_like_the_loop(kind, case, which, dtype) -> None:
    """Defect 6: the fused ReLU turned NaN into 0 (and its gradient into 0). Every activation and gate
    of every kernel, forward and backward, now gives NaN exactly where the loop does."""
    cell, x, state = _poisoned(kind, case, dtype, which)
    reference = _run(cell, x, state, "loop")
    assert any(bool(torch.isnan(t).any()) for t in reference)  # the case does poison something
    got = _run(cell, x, state, "fused")
    names = ["outputs", "final state", "live input grads", "state grads", "parameter grads"]
    for k, (a, b) in enumerate(zip(reference, got)):
        assert _same(a, b, nan_exact=True), (names[min(k, len(names) - 1)], k, a, b)


@pytest.mark.parametrize("kind", ["tanh", "relu", "lstm", "grur"])
@pytest.mark.parametrize("case", ["input_nan", "input_inf", "state_nan", "weight_nan"])
def test_6_torch_kernels_path_agrees_on_what_is_not_finite(kind, case) -> None:
    """The CUDA path (torch's fused RNN) agrees with the loop on which values are not finite (torch's
    kernels may give inf where the loop's 0 * inf gives NaN)."""
    cell, x, state = _poisoned(kind, case, torch.float64)
    for a, b in zip(_run(cell, x, state, "loop"), _run(cell, x, state, "torch")):
        assert _same(a, b, nan_exact=False), (a, b)


@pytest.mark.parametrize("kind", list(KINDS))
def test_6_nan_in_padding_never_reaches_values(kind) -> None:
    """A NaN past a row's length changes no output or final state on any path. (Its gradients are
    path-dependent: the loop, like TF1, runs the cell on the padding, and 0 * NaN is NaN.)"""
    torch.manual_seed(1)
    cell = KINDS[kind]()
    x = torch.randn(2, 4, 2)
    clean = [t.detach() for t in _nest.flatten(dynamic_rnn(cell, x, LENGTHS, engine="loop"))]
    x[1, 2:] = float("nan")
    for path in ("loop", "fused"):
        got = [t.detach() for t in _nest.flatten(dynamic_rnn(cell, x, LENGTHS, engine=path))]
        for a, b in zip(clean, got):
            torch.testing.assert_close(b, a)


def test_6_fused_relu_gives_nan_like_torch_relu() -> None:
    """The issue's reproduction, with TensorFlow's and torch's answer: relu(NaN) is NaN."""
    cell = BasicRNNCell(2, activation=torch.relu, input_size=1)
    x = torch.tensor([[[float("nan")], [1.0]]])  # (B=1, T=2, I=1)
    for engine in ("loop", "fused"):
        out, h = dynamic_rnn(cell, x, engine=engine)
        assert torch.isnan(out).all() and torch.isnan(h).all(), engine
    assert torch.isnan(torch.relu(torch.tensor(float("nan"))))


# --------------------------------------------------------------------------- defect 7


@pytest.mark.parametrize("engine", ["loop", "auto"])
def test_7_bidirectional_with_no_steps_and_lengths(engine) -> None:
    fw, bw = GRUCell(3, input_size=4), GRUCell(3, input_size=4)
    x = torch.randn(2, 0, 4, requires_grad=True)
    (out_fw, out_bw), (s_fw, s_bw) = bidirectional_dynamic_rnn(
        fw, bw, x, sequence_length=[0, 0], engine=engine
    )
    assert out_fw.shape == out_bw.shape == (2, 0, 3)
    assert torch.equal(s_fw, torch.zeros(2, 3)) and torch.equal(s_bw, torch.zeros(2, 3))
    (out_fw.sum() + out_bw.sum() + s_fw.sum()).backward()  # the graph is still usable
    from rnnkit.runners import reverse_sequence

    assert reverse_sequence(torch.zeros(0, 2, 5, 6), torch.tensor([0, 0])).shape == (0, 2, 5, 6)


# --------------------------------------------------------------------------- defect 10


def test_10_engine_follows_a_changed_activation() -> None:
    cell = BasicRNNCell(4)
    cell.build(3)
    cell.activation = torch.relu  # after construction: the engine must not keep running tanh
    assert cell.activation_name == "relu"
    x = 3 * torch.randn(2, 5, 3)
    loop, _ = dynamic_rnn(cell, x, engine="loop")
    fused, _ = dynamic_rnn(cell, x, engine="fused")
    torch.testing.assert_close(fused, loop)
    assert bool((loop == 0).any())  # relu, not tanh
    cell.activation = torch.sigmoid  # not a fused kind: auto falls back to the loop, fused refuses
    torch.testing.assert_close(
        dynamic_rnn(cell, x)[0], torch.sigmoid(dynamic_rnn(cell, x)[0]).logit()
    )
    with pytest.raises(ValueError, match="engine"):
        dynamic_rnn(cell, x, engine="fused")


# --------------------------------------------------------------------------- defect 12


def test_12_variational_masks_follow_a_new_batch_size() -> None:
    cell = DropoutWrapper(BasicRNNCell(4), output_keep_prob=0.5, variational_recurrent=True, seed=3)
    cell.train()
    y2, _ = cell(torch.ones(2, 3), cell.zero_state(2))
    again, _ = cell(torch.ones(2, 3), cell.zero_state(2))
    assert torch.equal(y2 == 0, again == 0)  # same sequence, same mask
    y5, _ = cell(torch.ones(5, 3), cell.zero_state(5))  # was a torch size-mismatch error
    assert y5.shape == (5, 4)


@pytest.mark.parametrize("seed, error", [("abc", TypeError), (-1, ValueError), (2**64, ValueError)])
def test_12_dropout_seed_is_checked(seed, error) -> None:
    with pytest.raises(error, match="`seed`"):
        DropoutWrapper(BasicRNNCell(4), seed=seed)


@pytest.mark.parametrize("engine", ["loop", "auto"])
def test_12_stack_mixing_dtypes_names_the_layers(engine) -> None:
    match = r"`cells`.*cells\[1\] torch.float64"
    with pytest.raises(ValueError, match=match):  # built cells: refused at construction
        MultiRNNCell([BasicRNNCell(4, input_size=3), BasicRNNCell(4, input_size=4).double()])
    stack = MultiRNNCell([BasicRNNCell(4, input_size=3), BasicRNNCell(4, input_size=4)])
    stack.cells[1].double()  # converted later: refused at the call, not a torch matmul error
    with pytest.raises(ValueError, match=match):
        dynamic_rnn(stack, torch.randn(2, 3, 3), engine=engine)


def test_12_zero_state_takes_numpy_integers() -> None:
    assert BasicRNNCell(4).zero_state(np.int64(2)).shape == (2, 4)
    assert BasicLSTMCell(4).zero_state(np.int32(3)).h.shape == (3, 4)


def test_12_fused_on_half_blames_the_dtype() -> None:
    cell = BasicRNNCell(4, input_size=3).half()
    with pytest.raises(TypeError, match=r"`inputs`.*float32 or float64.*float16"):
        dynamic_rnn(cell, torch.randn(2, 3, 3).half(), engine="fused")


@pytest.mark.parametrize("units", [10**7, 10**12])
def test_12_huge_num_units_names_the_argument(units) -> None:
    with pytest.raises(ValueError, match="`num_units`.*memory"):
        BasicRNNCell(units, input_size=3)


def test_12_lengths_on_the_meta_device() -> None:
    lengths = torch.tensor([1, 2], device="meta")
    with pytest.raises(ValueError, match="`sequence_length`.*meta"):
        dynamic_rnn(BasicRNNCell(4, input_size=3), torch.randn(2, 3, 3), sequence_length=lengths)


def test_7_compat_bidirectional_with_no_steps_and_lengths() -> None:
    import rnnkit.compat.v1 as tf

    x = tf.placeholder(tf.float32, [2, None, 4])
    lengths = tf.placeholder(tf.int32, [2])
    fw, bw = tf.nn.rnn_cell.GRUCell(3), tf.nn.rnn_cell.GRUCell(3)
    (out_fw, out_bw), _ = tf.nn.bidirectional_dynamic_rnn(
        fw, bw, x, sequence_length=lengths, dtype=tf.float32
    )
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a, b = sess.run([out_fw, out_bw], {x: np.zeros((2, 0, 4), np.float32), lengths: [0, 0]})
    assert a.shape == b.shape == (2, 0, 3)
