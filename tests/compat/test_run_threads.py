"""Session.run (rnnkit.engine.load.adaptive_threads) computes on one torch thread per core other
processes leave free, puts torch's setting back afterwards (errors and overlapping runs included),
and computes the same values."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

import rnnkit.compat.v1 as tf
from rnnkit.compat.v1.ops import Tensor
from rnnkit.engine import load


@pytest.fixture(autouse=True)
def _two_threads():
    tf.reset_default_graph()
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def _spare(monkeypatch: pytest.MonkeyPatch, cores: float) -> None:
    monkeypatch.setattr(load, "spare_cores", lambda: cores)


def _probe() -> Tensor:
    """A node whose value is the torch thread count it is computed on."""
    return Tensor(
        "Probe",
        tf.int32,
        [],
        [],
        fn=lambda: torch.tensor(torch.get_num_threads(), dtype=torch.int32),
    )


@pytest.mark.parametrize(
    ("spare", "inside"), [(0.0, 1), (0.9, 1), (1.0, 1), (1.7, 1), (1.8, 2), (2.0, 2)]
)
def test_thread_count_follows_free_cores(monkeypatch, spare, inside):
    """One busy process on two cores (one core free) leaves a run one thread: its second would
    wait for the scheduler at the end of every parallel op."""
    _spare(monkeypatch, spare)
    probe = _probe()
    with tf.Session() as sess:
        assert sess.run(probe) == inside
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize(("spare", "inside"), [(4.0, 4), (3.0, 3), (2.9, 3), (2.6, 2), (0.5, 1)])
def test_more_threads_than_free_cores_are_cut_to_the_free_ones(monkeypatch, spare, inside):
    torch.set_num_threads(4)
    _spare(monkeypatch, spare)
    with load.adaptive_threads():
        assert torch.get_num_threads() == inside
    assert torch.get_num_threads() == 4


def test_setting_restored_after_an_error(monkeypatch):
    _spare(monkeypatch, 0.0)
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.reshape(x, [2, 2])
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError):
        sess.run(y, {x: np.zeros((1, 3), np.float32)})
    assert torch.get_num_threads() == 2


def test_nested_runs_restore_once(monkeypatch):
    _spare(monkeypatch, 0.0)
    with load.adaptive_threads():
        assert torch.get_num_threads() == 1
        with load.adaptive_threads():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1  # the outer run is still in flight
        _spare(monkeypatch, 2.0)
        with load.adaptive_threads():  # cores free again: torch's setting comes back
            assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == 2


def test_each_python_thread_restores_its_own_setting(monkeypatch):
    """Runs of another thread (a queue runner's) overlapping the main thread's, in both orders of
    returning: every thread ends with its own setting."""
    _spare(monkeypatch, 0.0)
    seen = {}
    inside, leave = threading.Event(), threading.Event()

    def worker() -> None:
        with load.adaptive_threads():
            seen["worker inside"] = torch.get_num_threads()
            inside.set()
            leave.wait(5)
        seen["worker after"] = torch.get_num_threads()

    thread = threading.Thread(target=worker)
    thread.start()  # started outside any run: it starts on two threads
    inside.wait(5)
    with load.adaptive_threads():
        seen["main inside"] = torch.get_num_threads()
        leave.set()
        thread.join(5)
    assert seen == {"worker inside": 1, "worker after": 2, "main inside": 1}
    assert torch.get_num_threads() == 2


def test_one_thread_leaves_a_user_setting_of_one_alone(monkeypatch):
    torch.set_num_threads(1)
    _spare(monkeypatch, 0.0)
    with load.adaptive_threads():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 1


def _train(monkeypatch: pytest.MonkeyPatch, spare: float) -> list[np.ndarray]:
    """Five Adam steps of an LSTM encoder and a decoder of cell calls feeding back its argmax."""
    _spare(monkeypatch, spare)
    tf.reset_default_graph()
    tf.set_random_seed(3)
    rng = np.random.default_rng(3)
    B, T, V, H = 16, 6, 12, 24
    src = tf.placeholder(tf.int32, [B, T])
    emb = tf.get_variable("emb", [V, H])
    with tf.variable_scope("enc"):
        _, state = tf.nn.dynamic_rnn(
            tf.nn.rnn_cell.LSTMCell(H), tf.nn.embedding_lookup(emb, src), dtype=tf.float32
        )
    w = tf.get_variable("w", [H, V])
    prev, losses = tf.zeros([B], tf.int32), []
    with tf.variable_scope("dec") as scope:
        cell = tf.nn.rnn_cell.LSTMCell(H)
        for t in range(T):
            if t:
                scope.reuse_variables()
            out, state = cell(tf.nn.embedding_lookup(emb, prev), state)
            logits = tf.matmul(out, w)
            losses.append(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=src[:, t], logits=logits)
            )
            prev = tf.cast(tf.argmax(logits, 1), tf.int32)
    loss = tf.reduce_mean(tf.add_n(losses))
    grads, _ = tf.clip_by_global_norm(tf.gradients(loss, tf.trainable_variables()), 1.0)
    train = tf.train.AdamOptimizer(0.01).apply_gradients(zip(grads, tf.trainable_variables()))
    data = rng.integers(0, V, (B, T)).astype(np.int32)
    out = []
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(5):
            out.append(sess.run([loss, train], {src: data})[0])
        out += sess.run(tf.trainable_variables())
    return out


def test_busy_and_idle_runs_compute_the_same_values(monkeypatch):
    busy, idle = _train(monkeypatch, 0.0), _train(monkeypatch, 2.0)
    assert busy[4] < busy[0]  # the five steps trained
    # float32 rounding only: on one torch thread the engine's large products run on OpenBLAS, on two
    # on torch's mm (and a BLAS may split a product differently by thread count); five Adam steps
    # carry the last bits into the weights (1.4e-6 at most measured on the 2-core VM)
    for a, b in zip(busy, idle):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-5)


def test_first_run_of_a_thread_on_an_idle_machine(monkeypatch):
    _spare(monkeypatch, 2.0)
    probe = _probe()
    got, errors = [], []

    def worker() -> None:
        try:
            with tf.Session() as sess:
                got.append(int(sess.run(probe)))
        except Exception as e:  # noqa: BLE001 - reported to the test below
            errors.append(e)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(30)
    assert errors == [] and got == [2]
