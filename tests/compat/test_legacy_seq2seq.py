"""``tf.contrib.legacy_seq2seq`` decoders and models against TensorFlow 1.x's numbers.

``tests/fixtures/tf1_seq2seq/legacy.npz`` (made by ``tools/make_tf1_seq2seq_fixtures.py``) holds, per
case, TF1's variables (names and values), inputs, outputs, final states and the gradients of
``sum_k reduce_sum(out_k ** 2)``. Each test builds the same model here, checks that it creates
exactly TF1's variables, loads TF1's values into them and compares everything.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import rnnkit.compat.v1 as tf

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tf1_seq2seq" / "legacy.npz"
s2s = tf.contrib.legacy_seq2seq


@pytest.fixture(scope="module")
def ref():
    with np.load(FIXTURE, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def part(ref, case, kind):
    prefix = f"{case}/{kind}/"
    return {k[len(prefix) :]: v for k, v in ref.items() if k.startswith(prefix)}


def steps(ins, prefix):
    n = sum(1 for k in ins if k.startswith(prefix) and k[len(prefix) :].isdigit())
    return [tf.constant(ins[f"{prefix}{k}"]) for k in range(n)]


def check(ref, case, outputs, state=None, losses=None):
    """Same variables as TF1, TF1's values loaded: same outputs, final state and gradients."""
    want_vars = part(ref, case, "var")
    variables = {v.op.name: v for v in tf.global_variables()}
    assert sorted(variables) == sorted(want_vars)
    for name, v in variables.items():
        assert v.shape.as_list() == list(want_vars[name].shape), name
    if losses is None:
        flat = list(outputs)
        total = tf.add_n([tf.reduce_sum(o * o) for o in flat])
    else:
        flat = [o for bucket in outputs for o in bucket]
        total = tf.add_n([tf.reduce_sum(o * o) for o in flat] + list(losses))
    names = sorted(variables)
    grads = [tf.convert_to_tensor(g) for g in tf.gradients(total, [variables[n] for n in names])]
    with tf.Session() as sess:
        for name, v in variables.items():
            v.load(want_vars[name], sess)
        got_out, got_grads = sess.run([flat, grads])
        want_out = part(ref, case, "out")
        if losses is None:
            keys = [str(k) for k in range(len(flat))]
        else:
            keys = [f"{j}_{k}" for j, bucket in enumerate(outputs) for k in range(len(bucket))]
        assert sorted(keys) == sorted(want_out)
        for key, got in zip(keys, got_out):
            np.testing.assert_allclose(got, want_out[key], rtol=1e-5, atol=1e-5, err_msg=key)
        if state is not None:
            want_state = part(ref, case, "state")
            got_state = sess.run(_flat(state))
            assert len(got_state) == len(want_state)
            for k, got in enumerate(got_state):
                np.testing.assert_allclose(got, want_state[str(k)], rtol=1e-5, atol=1e-5)
        if losses is not None:
            want_loss = part(ref, case, "loss")
            got_loss = sess.run(list(losses))
            for j, got in enumerate(got_loss):
                np.testing.assert_allclose(got, want_loss[str(j)], rtol=1e-5, atol=1e-6)
        want_grads = part(ref, case, "grad")
        for name, got in zip(names, got_grads):
            np.testing.assert_allclose(got, want_grads[name], rtol=1e-4, atol=1e-5, err_msg=name)


def _flat(state):
    from rnnkit import _nest

    return _nest.flatten(state)


def lstm_state(ins):
    return tf.nn.rnn_cell.LSTMStateTuple(tf.constant(ins["init0"]), tf.constant(ins["init1"]))


def test_rnn_decoder(ref):
    ins = part(ref, "rnn_decoder", "in")
    cell = tf.nn.rnn_cell.BasicLSTMCell(6)
    outs, st = s2s.rnn_decoder(steps(ins, "dec"), lstm_state(ins), cell)
    check(ref, "rnn_decoder", outs, st)


def test_rnn_decoder_loop_function_feeds_each_output_back(ref):
    ins = part(ref, "rnn_decoder_loop", "in")
    seen = []

    def loop(prev, i):
        seen.append(i)
        return tf.tanh(prev * 2.0) + float(i)

    cell = tf.nn.rnn_cell.GRUCell(5)
    outs, st = s2s.rnn_decoder(
        steps(ins, "dec"), tf.constant(ins["init0"]), cell, loop_function=loop
    )
    assert seen == [1, 2, 3]
    check(ref, "rnn_decoder_loop", outs, st)


def test_basic_rnn_seq2seq(ref):
    ins = part(ref, "basic_rnn_seq2seq", "in")
    cell = tf.nn.rnn_cell.BasicLSTMCell(6)
    outs, st = s2s.basic_rnn_seq2seq(steps(ins, "enc"), steps(ins, "dec"), cell)
    check(ref, "basic_rnn_seq2seq", outs, st)


def test_tied_rnn_seq2seq_shares_one_set_of_weights(ref):
    ins = part(ref, "tied_rnn_seq2seq", "in")
    cell = tf.nn.rnn_cell.GRUCell(5)
    outs, st = s2s.tied_rnn_seq2seq(steps(ins, "enc"), steps(ins, "dec"), cell)
    check(ref, "tied_rnn_seq2seq", outs, st)


def test_embedding_rnn_seq2seq_multi_layer(ref):
    ins = part(ref, "embedding_rnn_seq2seq", "in")
    cell = tf.nn.rnn_cell.MultiRNNCell([tf.nn.rnn_cell.BasicLSTMCell(n) for n in (6, 5)])
    outs, st = s2s.embedding_rnn_seq2seq(steps(ins, "enc"), steps(ins, "dec"), cell, 7, 9, 4)
    assert [o.shape.as_list() for o in outs] == [[3, 9]] * 4
    check(ref, "embedding_rnn_seq2seq", outs, st)


def test_embedding_rnn_seq2seq_feed_previous_with_output_projection(ref):
    case = "embedding_rnn_seq2seq_fp"
    ins = part(ref, case, "in")
    cell = tf.nn.rnn_cell.BasicLSTMCell(6)
    proj = (tf.constant(ins["proj_w"]), tf.constant(ins["proj_b"]))
    outs, st = s2s.embedding_rnn_seq2seq(
        steps(ins, "enc"), steps(ins, "dec"), cell, 7, 9, 4, output_projection=proj,
        feed_previous=True,
    )  # fmt: skip
    assert [o.shape.as_list() for o in outs] == [[3, 6]] * 4
    check(ref, case, outs, st)


def test_embedding_tied_rnn_seq2seq_feed_previous(ref):
    case = "embedding_tied_rnn_seq2seq"
    ins = part(ref, case, "in")
    cell = tf.nn.rnn_cell.GRUCell(5)
    outs, st = s2s.embedding_tied_rnn_seq2seq(
        steps(ins, "enc"), steps(ins, "dec"), cell, 8, 4, num_decoder_symbols=6,
        feed_previous=True,
    )  # fmt: skip
    assert [o.shape.as_list() for o in outs] == [[3, 6]] * 4
    check(ref, case, outs, st)


def test_attention_decoder_two_heads_initial_state_attention(ref):
    ins = part(ref, "attention_decoder", "in")
    cell = tf.nn.rnn_cell.BasicLSTMCell(6)
    outs, st = s2s.attention_decoder(
        steps(ins, "dec"), lstm_state(ins), tf.constant(ins["attn"]), cell, output_size=7,
        num_heads=2, initial_state_attention=True,
    )  # fmt: skip
    assert [o.shape.as_list() for o in outs] == [[3, 7]] * 3
    check(ref, "attention_decoder", outs, st)


def test_embedding_attention_seq2seq(ref):
    ins = part(ref, "embedding_attention_seq2seq", "in")
    cell = tf.nn.rnn_cell.GRUCell(6)
    outs, st = s2s.embedding_attention_seq2seq(steps(ins, "enc"), steps(ins, "dec"), cell, 7, 9, 5)
    check(ref, "embedding_attention_seq2seq", outs, st)


def test_embedding_attention_seq2seq_feed_previous(ref):
    case = "embedding_attention_seq2seq_fp"
    ins = part(ref, case, "in")
    cell = tf.nn.rnn_cell.BasicLSTMCell(6)
    outs, st = s2s.embedding_attention_seq2seq(
        steps(ins, "enc"), steps(ins, "dec"), cell, 7, 9, 5, num_heads=2, feed_previous=True,
        initial_state_attention=True,
    )  # fmt: skip
    check(ref, case, outs, st)


def test_embedding_attention_seq2seq_feed_previous_tensor_picks_the_decoder(ref):
    case = "embedding_attention_seq2seq_fp"
    ins = part(ref, case, "in")
    fp = tf.placeholder(tf.bool, [])
    cell = tf.nn.rnn_cell.BasicLSTMCell(6)
    outs, _ = s2s.embedding_attention_seq2seq(
        steps(ins, "enc"), steps(ins, "dec"), cell, 7, 9, 5, num_heads=2, feed_previous=fp,
        initial_state_attention=True,
    )  # fmt: skip
    want_vars = part(ref, case, "var")
    assert sorted(v.op.name for v in tf.global_variables()) == sorted(want_vars)
    with tf.Session() as sess:
        for v in tf.global_variables():
            v.load(want_vars[v.op.name], sess)
        fed = sess.run(outs, {fp: True})
        given = sess.run(outs, {fp: False})
    for k, got in enumerate(fed):
        np.testing.assert_allclose(got, ref[f"{case}/out/{k}"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(given[0], fed[0], rtol=1e-6)  # the first input is the same
    assert not np.allclose(given[-1], fed[-1])


def test_model_with_buckets_outputs_and_losses_per_bucket(ref):
    case = "model_with_buckets"
    ins = part(ref, case, "in")
    cell = tf.nn.rnn_cell.GRUCell(5)
    outputs, losses = s2s.model_with_buckets(
        steps(ins, "enc"),
        steps(ins, "dec"),
        steps(ins, "tgt"),
        steps(ins, "w"),
        [(2, 3), (4, 4)],
        lambda x, y: s2s.embedding_rnn_seq2seq(x, y, cell, 7, 9, 4),
    )
    assert [len(o) for o in outputs] == [3, 4]
    assert [loss.shape.ndims for loss in losses] == [0, 0]
    check(ref, case, outputs, losses=losses)


def test_model_with_buckets_per_example_loss():
    enc = [tf.placeholder(tf.int32, [None]) for _ in range(3)]
    w = [tf.ones([2]) for _ in range(3)]
    cell = tf.nn.rnn_cell.GRUCell(4)
    _, losses = s2s.model_with_buckets(
        enc, enc, enc, w, [(3, 3)], lambda x, y: s2s.embedding_rnn_seq2seq(x, y, cell, 5, 5, 3),
        per_example_loss=True,
    )  # fmt: skip
    assert losses[0].shape.ndims == 1


def test_embedding_rnn_decoder_feed_previous_reads_only_the_first_input():
    tf.set_random_seed(3)
    dec = [tf.placeholder(tf.int32, [None]) for _ in range(4)]
    init = tf.zeros([2, 5])
    cell = tf.nn.rnn_cell.OutputProjectionWrapper(tf.nn.rnn_cell.GRUCell(5), 6)
    outs, _ = s2s.embedding_rnn_decoder(dec, init, cell, 6, 3, feed_previous=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        a = sess.run(outs, {d: np.array([1, 2]) for d in dec})
        b = sess.run(outs, {dec[0]: np.array([1, 2]), **{d: np.array([5, 0]) for d in dec[1:]}})
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_bad_arguments_raise_tensorflow_errors():
    x = [tf.zeros([2, 3])]
    cell = tf.nn.rnn_cell.GRUCell(3)
    with pytest.raises(TypeError, match="cell"):
        s2s.rnn_decoder(x, tf.zeros([2, 3]), "gru")
    with pytest.raises(ValueError, match=r"initial_state.*\(batch, 3\)"):
        s2s.rnn_decoder(x, tf.zeros([2, 5]), cell)
    with pytest.raises(TypeError, match="loop_function"):
        s2s.rnn_decoder(x, tf.zeros([2, 3]), cell, loop_function=3)
    with pytest.raises(ValueError, match="at least 1 input"):
        s2s.attention_decoder([], tf.zeros([2, 3]), tf.zeros([2, 4, 3]), cell)
    with pytest.raises(ValueError, match="less than 1 heads"):
        s2s.attention_decoder(x, tf.zeros([2, 3]), tf.zeros([2, 4, 3]), cell, num_heads=0)
    with pytest.raises(ValueError, match=r"Shape\[2\] of attention_states"):
        states = tf.placeholder(tf.float32, [2, 4, None])
        s2s.attention_decoder(x, tf.zeros([2, 3]), states, cell)
    ids = [tf.zeros([2], tf.int32)]
    with pytest.raises(TypeError, match="decoder_inputs.*int32"):
        s2s.embedding_rnn_decoder(x, tf.zeros([2, 3]), cell, 5, 3)
    with pytest.raises(ValueError, match="embedding_size"):
        s2s.embedding_rnn_seq2seq(ids, ids, cell, 5, 5, 0)
    with pytest.raises(TypeError, match="feed_previous"):
        s2s.embedding_rnn_seq2seq(ids, ids, cell, 5, 5, 3, feed_previous="yes")
    with pytest.raises(ValueError, match="incompatible"):
        s2s.embedding_rnn_decoder(
            ids, tf.zeros([2, 3]), cell, 5, 3, output_projection=(tf.zeros([3, 4]), tf.zeros([4]))
        )
    with pytest.raises(ValueError, match="Length of encoder_inputs"):
        s2s.model_with_buckets(ids, ids, ids, ids, [(2, 1)], lambda a, b: (a, None))
    with pytest.raises(TypeError, match="buckets"):
        s2s.model_with_buckets(ids, ids, ids, ids, [3], lambda a, b: (a, None))


def test_tf_nn_seq2seq_is_the_same_module():
    # TensorFlow 0.x programs call the same functions as tf.nn.seq2seq
    for name in ("rnn_decoder", "basic_rnn_seq2seq", "sequence_loss_by_example"):
        assert getattr(tf.nn.seq2seq, name) is getattr(s2s, name)
        assert f"nn.seq2seq.{name}" in tf.SUPPORTED
