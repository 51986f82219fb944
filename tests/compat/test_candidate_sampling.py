"""``tf.nn.sampled_softmax_loss`` and ``log_uniform_candidate_sampler``
(``candidate_sampling.py``): against TensorFlow's numbers with the samples given
(``tests/fixtures/tf1_census_gaps``), and training with rnnkit's own draws."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import census_fixture


@pytest.mark.parametrize("num_true", [1, 2])
@pytest.mark.parametrize("hits", [True, False])
def test_sampled_softmax_loss_with_given_samples_matches_tf(num_true, hits):
    """With ``sampled_values`` given, TF's loss is deterministic: compare the numbers."""
    ref = census_fixture("sampled_softmax")
    loss = tf.nn.sampled_softmax_loss(
        weights=tf.constant(ref["weights"]),
        biases=tf.constant(ref["biases"]),
        labels=tf.constant(ref[f"labels_{num_true}"]),
        inputs=tf.constant(ref["inputs"]),
        num_sampled=len(ref["sampled"]),
        num_classes=10,
        num_true=num_true,
        sampled_values=(
            tf.constant(ref["sampled"]),
            tf.constant(ref[f"true_expected_{num_true}"]),
            tf.constant(ref[f"sampled_expected_{num_true}"]),
        ),
        remove_accidental_hits=hits,
    )
    assert loss.shape.as_list() == [3]
    with tf.Session() as s:
        got = s.run(loss)
    np.testing.assert_allclose(got, ref[f"loss_{num_true}_{int(hits)}"], rtol=1e-5, atol=1e-6)


def test_sampled_softmax_loss_with_its_own_sampler_trains():
    """TF's random sampler cannot be matched draw for draw: here the samples are torch's, so only
    shapes, finiteness and a falling loss are checked."""
    tf.set_random_seed(3)
    W = tf.Variable(tf.random_normal([50, 8], stddev=0.1))
    b = tf.Variable(tf.zeros([50]))
    x = tf.constant(np.random.default_rng(0).normal(size=(16, 8)).astype(np.float32))
    y = tf.constant(np.arange(16, dtype=np.int64).reshape(16, 1) % 5)
    loss = tf.reduce_mean(tf.nn.sampled_softmax_loss(W, b, y, x, num_sampled=10, num_classes=50))
    step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        first = s.run(loss)
        for _ in range(30):
            s.run(step)
        last = s.run(loss)
    assert np.isfinite(first) and last < first


def test_log_uniform_sampler_unique_and_expected_counts():
    sampled, true_exp, samp_exp = tf.nn.log_uniform_candidate_sampler(
        tf.constant([[0], [3]], tf.int64), 1, 6, True, 10, seed=1
    )
    with tf.Session() as s:
        sv, tv, ev = s.run([sampled, true_exp, samp_exp])
    assert len(set(sv.tolist())) == 6 and sv.min() >= 0 and sv.max() < 10
    assert tv.shape == (2, 1) and ev.shape == (6,)
    assert np.all((ev > 0) & (ev <= 1)) and tv[0, 0] > tv[1, 0]  # class 0 is the likeliest
    with pytest.raises(ValueError, match="num_sampled"):
        tf.nn.log_uniform_candidate_sampler(tf.constant([[0]], tf.int64), 1, 11, True, 10)
