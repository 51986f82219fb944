"""compat.v1's static_bidirectional_rnn: TF1's values, variables and gradients, and TF1's pruning (a
fetch of the last step's output runs one step of the backward RNN)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rnnkit
import rnnkit.compat.v1 as tf

T, B, I, H = 6, 3, 4, 5


def _model(cell, lengths: bool):
    tf.reset_default_graph()
    tf.set_random_seed(3)
    x = tf.placeholder(tf.float32, [None, T, I])
    seq = tf.placeholder(tf.int32, [None]) if lengths else None
    steps = tf.unstack(x, T, 1)
    outputs, s_fw, s_bw = tf.contrib.rnn.static_bidirectional_rnn(
        cell(H), cell(H), steps, dtype=tf.float32, sequence_length=seq
    )
    return x, seq, outputs, s_fw, s_bw


def _reference(cell_cls, weights, x, lengths):
    """rnnkit's own bidirectional_dynamic_rnn with the session's weights."""
    cells = [cell_cls(H, input_size=I), cell_cls(H, input_size=I)]
    for c, names in zip(cells, (["fw"], ["bw"])):
        params = dict(c.named_parameters())
        for name, value in weights.items():
            if f"/{names[0]}/" in name:
                key = {"kernel": "kernel", "bias": "bias"}[name.rsplit("/", 1)[1].split(":")[0]]
                with torch.no_grad():
                    params[key].copy_(torch.from_numpy(value))
    seq = None if lengths is None else torch.from_numpy(lengths)
    (y_fw, y_bw), (s_fw, s_bw) = rnnkit.bidirectional_dynamic_rnn(
        cells[0], cells[1], torch.from_numpy(x), seq, dtype=torch.float32
    )
    return torch.cat([y_fw, y_bw], -1).detach().numpy(), s_fw, s_bw


@pytest.mark.parametrize("lengths", [False, True])
@pytest.mark.parametrize("cell_name", ["BasicLSTMCell", "BasicRNNCell"])
def test_static_bidirectional_matches_rnnkit(cell_name, lengths):
    x_ph, seq_ph, outputs, s_fw, s_bw = _model(getattr(tf.nn.rnn_cell, cell_name), lengths)
    names = sorted(v.name for v in tf.trainable_variables())
    kind = "basic_lstm_cell" if cell_name == "BasicLSTMCell" else "basic_rnn_cell"
    assert names == sorted(
        f"bidirectional_rnn/{d}/{kind}/{p}:0" for d in ("fw", "bw") for p in ("kernel", "bias")
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    seq = np.array([6, 2, 4], dtype=np.int32) if lengths else None
    feed = {x_ph: x, **({seq_ph: seq} if lengths else {})}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        weights = dict(zip([v.name for v in tf.trainable_variables()],
                           sess.run(tf.trainable_variables())))  # fmt: skip
        outs, fw, bw = sess.run([outputs, s_fw, s_bw], feed)
    ref, ref_fw, ref_bw = _reference(getattr(rnnkit, cell_name), weights, x, seq)
    np.testing.assert_allclose(np.stack(outs, 1), ref, rtol=1e-5, atol=1e-6)
    flat = lambda s: [t.detach().numpy() for t in rnnkit._nest.flatten(s)]  # noqa: E731
    for a, b in zip(
        rnnkit._nest.flatten(fw) + rnnkit._nest.flatten(bw), flat(ref_fw) + flat(ref_bw)
    ):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_gradients_of_the_last_output_run_one_backward_step(monkeypatch):
    """TF1 prunes: a loss on outputs[-1] runs all forward steps but one backward step; the gradients
    equal those of the whole bidirectional RNN."""
    x_ph, _, outputs, _, _ = _model(tf.nn.rnn_cell.BasicLSTMCell, False)
    loss = tf.reduce_sum(tf.square(outputs[-1]))
    grads = tf.gradients(loss, tf.trainable_variables() + [x_ph])
    steps = []
    original = rnnkit.dynamic_rnn

    def spy(cell, x, *args, **kwargs):
        steps.append(x.shape[0])
        return original(cell, x, *args, **kwargs)

    monkeypatch.setattr(rnnkit, "dynamic_rnn", spy)
    x = np.random.default_rng(1).standard_normal((B, T, I)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(grads, {x_ph: x})
        weights = dict(zip([v.name for v in tf.trainable_variables()],
                           sess.run(tf.trainable_variables())))  # fmt: skip
    assert sorted(steps) == [1, T]  # forward: all T steps; backward: its first step only
    monkeypatch.setattr(rnnkit, "dynamic_rnn", original)
    # reference: the whole bidirectional RNN in torch, same weights
    cells = [rnnkit.BasicLSTMCell(H, input_size=I) for _ in range(2)]
    for c, d in zip(cells, ("fw", "bw")):
        with torch.no_grad():
            c.kernel.copy_(
                torch.from_numpy(weights[f"bidirectional_rnn/{d}/basic_lstm_cell/kernel:0"])
            )
            c.bias.copy_(torch.from_numpy(weights[f"bidirectional_rnn/{d}/basic_lstm_cell/bias:0"]))
    xt = torch.from_numpy(x).requires_grad_()
    (y_fw, y_bw), _ = rnnkit.bidirectional_dynamic_rnn(cells[0], cells[1], xt, dtype=torch.float32)
    ref_loss = (torch.cat([y_fw, y_bw], -1)[:, -1] ** 2).sum()
    by_name = {v.name: g for v, g in zip(tf.trainable_variables(), got)}
    ref = torch.autograd.grad(ref_loss, [*cells[0].parameters(), *cells[1].parameters(), xt])
    expect = {
        "bidirectional_rnn/fw/basic_lstm_cell/kernel:0": ref[0],
        "bidirectional_rnn/fw/basic_lstm_cell/bias:0": ref[1],
        "bidirectional_rnn/bw/basic_lstm_cell/kernel:0": ref[2],
        "bidirectional_rnn/bw/basic_lstm_cell/bias:0": ref[3],
    }
    for name, value in expect.items():
        np.testing.assert_allclose(by_name[name], value.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got[-1], ref[4].numpy(), rtol=1e-4, atol=1e-5)
