"""``tf.contrib.seq2seq`` helpers, ``BasicDecoder``, ``dynamic_decode`` and attention against
TensorFlow's numbers.

``tests/fixtures/tf1_seq2seq/contrib.npz`` (``tools/make_tf1_seq2seq_fixtures.py``) comes from
TensorFlow Addons' ``seq2seq`` (TF1's ``contrib.seq2seq`` algorithms on TF 2.21), its weights stored
under TF1's variable names. Each test builds the TF1 program here, checks that it creates exactly
those variables, loads the values and compares outputs, sample ids, lengths, final states and the
gradients of ``reduce_sum(rnn_output ** 2)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import rnnkit.compat.v1 as tf

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tf1_seq2seq" / "contrib.npz"
s2s = tf.contrib.seq2seq
Dense = tf.layers.Dense


@pytest.fixture(scope="module")
def ref():
    with np.load(FIXTURE, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def part(ref, case, kind):
    prefix = f"{case}/{kind}/"
    return {k[len(prefix) :]: v for k, v in ref.items() if k.startswith(prefix)}


def check(ref, case, fetches):
    """TF's variables (names, shapes), TF's values loaded: ``fetches`` (name -> tensor) and the
    gradients match."""
    want_vars = part(ref, case, "var")
    variables = {v.op.name: v for v in tf.global_variables()}
    assert sorted(variables) == sorted(want_vars)
    for name, v in variables.items():
        assert v.shape.as_list() == list(want_vars[name].shape), name
    names = sorted(variables)
    loss = tf.reduce_sum(tf.square(fetches.get("rnn_output", fetches.get("scores"))))
    grads = [tf.convert_to_tensor(g) for g in tf.gradients(loss, [variables[n] for n in names])]
    want = part(ref, case, "out")
    with tf.Session() as sess:
        for name, v in variables.items():
            v.load(want_vars[name], sess)
        got, got_grads = sess.run([fetches, grads])
    for key, value in got.items():
        if np.asarray(value).dtype.kind in "iub":
            np.testing.assert_array_equal(value, want[key], err_msg=key)
        else:
            np.testing.assert_allclose(value, want[key], rtol=1e-5, atol=1e-5, err_msg=key)
    want_grads = part(ref, case, "grad")
    for name, g in zip(names, got_grads):
        np.testing.assert_allclose(g, want_grads[name], rtol=1e-4, atol=1e-5, err_msg=name)


def decoded(outputs, lengths, **more):
    return {"rnn_output": outputs.rnn_output, "sample_id": outputs.sample_id,
            "lengths": lengths, **more}  # fmt: skip


@pytest.mark.parametrize("case", ["training", "training_impute"])
def test_training_helper_basic_decoder(ref, case):
    ins = part(ref, case, "in")
    x = tf.placeholder(tf.float32, [None, 4, 4])
    lengths = tf.placeholder(tf.int32, [None])
    cell = tf.nn.rnn_cell.BasicLSTMCell(5)
    init = tf.nn.rnn_cell.LSTMStateTuple(tf.constant(ins["init0"]), tf.constant(ins["init1"]))
    helper = s2s.TrainingHelper(x, lengths)
    decoder = s2s.BasicDecoder(cell, helper, init, output_layer=Dense(7))
    outputs, state, lens = s2s.dynamic_decode(decoder, impute_finished=case == "training_impute")
    assert isinstance(outputs, s2s.BasicDecoderOutput)
    assert outputs.rnn_output.shape.as_list() == [None, None, 7]
    assert outputs.sample_id.dtype == tf.int32
    fetches = decoded(outputs, lens, state0=state.c, state1=state.h)
    feeds = {x: ins["x"], lengths: ins["lengths"]}
    want_vars = part(ref, case, "var")
    assert sorted(v.op.name for v in tf.global_variables()) == sorted(want_vars)
    with tf.Session() as sess:
        for v in tf.global_variables():
            v.load(want_vars[v.op.name], sess)
        got = sess.run(fetches, feeds)
    want = part(ref, case, "out")
    for key, value in got.items():
        np.testing.assert_allclose(value, want[key], rtol=1e-5, atol=1e-5, err_msg=key)


def test_training_helper_gradients(ref):
    ins = part(ref, "training", "in")
    cell = tf.nn.rnn_cell.BasicLSTMCell(5)
    init = tf.nn.rnn_cell.LSTMStateTuple(tf.constant(ins["init0"]), tf.constant(ins["init1"]))
    helper = s2s.TrainingHelper(tf.constant(ins["x"]), tf.constant(ins["lengths"]))
    decoder = s2s.BasicDecoder(cell, helper, init, output_layer=Dense(7))
    outputs, state, lens = s2s.dynamic_decode(decoder)
    check(ref, "training", decoded(outputs, lens, state0=state.c, state1=state.h))


def test_greedy_embedding_helper_stops_at_end_token(ref):
    ins = part(ref, "greedy", "in")
    embedding = tf.get_variable("embedding", [8, 4])
    cell = tf.nn.rnn_cell.GRUCell(6)
    helper = s2s.GreedyEmbeddingHelper(embedding, tf.fill([3], 1), 2)
    decoder = s2s.BasicDecoder(cell, helper, tf.constant(ins["init0"]), output_layer=Dense(8))
    outputs, state, lens = s2s.dynamic_decode(decoder, maximum_iterations=6)
    check(ref, "greedy", decoded(outputs, lens, state0=state))


def test_bahdanau_attention_wrapper(ref):
    case = "bahdanau"
    ins = part(ref, case, "in")
    mech = s2s.BahdanauAttention(
        6, tf.constant(ins["memory"]), memory_sequence_length=ins["memory_lengths"], normalize=True
    )
    cell = tf.nn.rnn_cell.BasicLSTMCell(5)
    wrapper = s2s.AttentionWrapper(cell, mech, attention_layer_size=7, alignment_history=True)
    assert wrapper.output_size == 7
    helper = s2s.TrainingHelper(tf.constant(ins["x"]), ins["lengths"])
    init = wrapper.zero_state(3, tf.float32)
    decoder = s2s.BasicDecoder(wrapper, helper, init, output_layer=Dense(7))
    outputs, st, lens = s2s.dynamic_decode(decoder, impute_finished=True)
    history = st.alignment_history.stack()
    fetches = decoded(outputs, lens, cell0=st.cell_state.c, cell1=st.cell_state.h,
                      attention=st.attention, alignments=st.alignments, history=history)  # fmt: skip
    check(ref, case, fetches)


def test_luong_attention_wrapper_clone_cell_state(ref):
    case = "luong"
    ins = part(ref, case, "in")
    mech = s2s.LuongAttention(6, tf.constant(ins["memory"]), scale=True)
    cell = tf.nn.rnn_cell.GRUCell(6)
    wrapper = s2s.AttentionWrapper(cell, mech, output_attention=False)
    assert wrapper.output_size == 6
    init = wrapper.zero_state(3, tf.float32).clone(cell_state=tf.constant(ins["enc_state"]))
    helper = s2s.TrainingHelper(tf.constant(ins["x"]), ins["lengths"])
    outputs, st, lens = s2s.dynamic_decode(s2s.BasicDecoder(wrapper, helper, init))
    fetches = decoded(outputs, lens, cell0=st.cell_state, attention=st.attention,
                      alignments=st.alignments)  # fmt: skip
    check(ref, case, fetches)


@pytest.mark.parametrize("case", ["beam", "beam_attention"])
def test_beam_search_decoder(ref, case):
    ins = part(ref, case, "in")
    k = 3
    embedding = tf.get_variable("embedding", [7, 4])
    enc = tf.nn.rnn_cell.LSTMStateTuple(tf.constant(ins["enc0"]), tf.constant(ins["enc1"]))
    tiled = s2s.tile_batch(enc, multiplier=k)
    cell = tf.nn.rnn_cell.BasicLSTMCell(5)
    if case == "beam_attention":
        memory = s2s.tile_batch(tf.constant(ins["memory"]), multiplier=k)
        mech = s2s.BahdanauAttention(6, memory)
        cell = s2s.AttentionWrapper(cell, mech, attention_layer_size=6, alignment_history=True)
        init = cell.zero_state(3 * k, tf.float32).clone(cell_state=tiled)
        penalty = 0.0
    else:
        init, penalty = tiled, 0.6
    decoder = s2s.BeamSearchDecoder(
        cell, embedding, tf.fill([3], 1), 2, init, beam_width=k, output_layer=Dense(7),
        length_penalty_weight=penalty,
    )  # fmt: skip
    outputs, state, lengths = s2s.dynamic_decode(decoder, maximum_iterations=6)
    assert isinstance(outputs, s2s.FinalBeamSearchDecoderOutput)
    raw = outputs.beam_search_decoder_output
    assert outputs.predicted_ids.shape.as_list() == [3, None, k]
    fetches = {"predicted_ids": outputs.predicted_ids, "scores": raw.scores,
               "step_ids": raw.predicted_ids, "parent_ids": raw.parent_ids, "lengths": lengths,
               "log_probs": state.log_probs, "state_lengths": state.lengths}  # fmt: skip
    if case == "beam_attention":  # each final beam's own alignments, as TF sorts them
        fetches["history"] = state.cell_state.alignment_history.stack()
    check(ref, case, fetches)


def test_gather_tree_follows_parents_and_pads_after_the_end():
    ids = np.array([[[1, 2]], [[3, 4]], [[2, 5]]], np.int32)  # (T=3, B=1, K=2)
    parents = np.array([[[0, 0]], [[1, 0]], [[1, 0]]], np.int32)
    got = tf.Session().run(s2s.gather_tree(ids, parents, [3], 2))
    # beam 0: step 2 picks id 2 from parent 1, whose step-1 id 4 came from parent 0 (id 1)
    np.testing.assert_array_equal(got[:, 0, 0], [1, 4, 2])
    np.testing.assert_array_equal(got[:, 0, 1], [2, 2, 2])  # the end token at step 0, then ends


def test_attention_wrapper_over_two_mechanisms(ref):
    case = "two_mechanisms"
    ins = part(ref, case, "in")
    bahdanau = s2s.BahdanauAttention(
        6, tf.constant(ins["memory"]), memory_sequence_length=ins["memory_lengths"]
    )
    luong = s2s.LuongAttention(5, tf.constant(ins["memory2"]))
    cell = tf.nn.rnn_cell.BasicLSTMCell(5)
    wrapper = s2s.AttentionWrapper(
        cell, [bahdanau, luong], attention_layer_size=[5, 4], alignment_history=True
    )
    assert wrapper.output_size == 9
    helper = s2s.TrainingHelper(tf.constant(ins["x"]), ins["lengths"])
    outputs, st, lens = s2s.dynamic_decode(
        s2s.BasicDecoder(wrapper, helper, wrapper.zero_state(3, tf.float32))
    )
    assert isinstance(st.alignments, tuple) and len(st.alignment_history) == 2
    fetches = decoded(outputs, lens, attention=st.attention, alignments0=st.alignments[0],
                      alignments1=st.alignments[1], history0=st.alignment_history[0].stack(),
                      history1=st.alignment_history[1].stack())  # fmt: skip
    check(ref, case, fetches)
    with pytest.raises(ValueError, match="exactly one integer per attention_mechanism"):
        s2s.AttentionWrapper(cell, [bahdanau, luong], attention_layer_size=5)


def test_dynamic_decode_time_major_and_maximum_iterations():
    tf.set_random_seed(5)
    x = tf.random_normal([2, 6, 3])
    cell = tf.nn.rnn_cell.GRUCell(4)
    helper = s2s.TrainingHelper(x, [6, 5])
    decoder = s2s.BasicDecoder(cell, helper, cell.zero_state(2, tf.float32))
    (out_bm, _), _, lens_bm = s2s.dynamic_decode(decoder, scope="a")
    (out_tm, _), _, _ = s2s.dynamic_decode(decoder, output_time_major=True, scope="a")
    (out_cut, _), _, lens_cut = s2s.dynamic_decode(decoder, maximum_iterations=3, scope="a")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        bm, tm, cut, lb, lc = sess.run([out_bm, out_tm, out_cut, lens_bm, lens_cut])
    assert bm.shape == (2, 6, 4) and tm.shape == (6, 2, 4) and cut.shape == (2, 3, 4)
    np.testing.assert_allclose(tm.transpose(1, 0, 2), bm, rtol=1e-6)
    np.testing.assert_allclose(cut, bm[:, :3], rtol=1e-6)
    np.testing.assert_array_equal(lb, [6, 5])
    np.testing.assert_array_equal(lc, [3, 3])


def test_tile_batch_repeats_each_entry():
    t = tf.constant(np.arange(6).reshape(3, 2))
    tiled = s2s.tile_batch(t, 2)
    state = s2s.tile_batch(tf.nn.rnn_cell.LSTMStateTuple(t, t), 3)
    assert tiled.shape.as_list() == [6, 2]
    with tf.Session() as sess:
        got, st = sess.run([tiled, state])
    np.testing.assert_array_equal(got, [[0, 1], [0, 1], [2, 3], [2, 3], [4, 5], [4, 5]])
    assert st.c.shape == (9, 2)
    with pytest.raises(ValueError, match="multiplier"):
        s2s.tile_batch(t, 0)


def test_bad_arguments_raise_tensorflow_errors():
    cell = tf.nn.rnn_cell.GRUCell(3)
    x = tf.zeros([2, 4, 3])
    helper = s2s.TrainingHelper(x, [4, 4])
    with pytest.raises(TypeError, match="helper must be a Helper"):
        s2s.BasicDecoder(cell, "helper", cell.zero_state(2, tf.float32))
    with pytest.raises(TypeError, match="Expected decoder to be type Decoder"):
        s2s.dynamic_decode(cell)
    with pytest.raises(ValueError, match="same nested structure"):
        s2s.BasicDecoder(tf.nn.rnn_cell.BasicLSTMCell(3), helper, tf.zeros([2, 3]))
    decoder = s2s.BasicDecoder(cell, helper, cell.zero_state(2, tf.float32))
    with pytest.raises(ValueError, match="maximum_iterations must be a scalar"):
        s2s.dynamic_decode(decoder, maximum_iterations=[3])
    with pytest.raises(ValueError, match="sequence_length to be a vector"):
        s2s.TrainingHelper(x, [[4, 4]])
    with pytest.raises(ValueError, match="start_tokens must be a vector"):
        s2s.GreedyEmbeddingHelper(tf.zeros([5, 3]), 1, 2)
    with pytest.raises(ValueError, match="end_token must be a scalar"):
        s2s.GreedyEmbeddingHelper(tf.zeros([5, 3]), [1, 1], [2])
    with pytest.raises(TypeError, match="attention_mechanism"):
        s2s.AttentionWrapper(cell, "mechanism")
    mech = s2s.LuongAttention(5, tf.zeros([2, 4, 3]))
    wrapper = s2s.AttentionWrapper(cell, mech)
    with pytest.raises(ValueError, match="Incompatible or unknown inner dimensions"):
        wrapper(tf.zeros([2, 3]), wrapper.zero_state(2, tf.float32))
    with pytest.raises(ValueError, match="Unknown AttentionWrapperState fields"):
        wrapper.zero_state(2, tf.float32).clone(cells=1)


def test_training_helper_lengths_beyond_the_inputs_are_an_invalid_argument():
    cell = tf.nn.rnn_cell.GRUCell(3)
    helper = s2s.TrainingHelper(tf.zeros([2, 4, 3]), tf.placeholder(tf.int32, [2], name="len"))
    outputs, _, _ = s2s.dynamic_decode(
        s2s.BasicDecoder(cell, helper, cell.zero_state(2, tf.float32))
    )
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match="longer than the inputs' 4"):
            sess.run(outputs.rnn_output, {"len:0": [6, 4]})


def test_greedy_decoding_that_never_ends_is_an_error_not_a_hang(monkeypatch):
    from rnnkit.compat.v1.seq2seq import decoder as decoder_module

    monkeypatch.setattr(decoder_module, "MAX_STEPS_WITHOUT_LIMIT", 5)
    cell = tf.nn.rnn_cell.GRUCell(3)
    helper = s2s.GreedyEmbeddingHelper(tf.zeros([4, 2]), tf.fill([2], 0), 7)  # 7 is never sampled
    decoder = s2s.BasicDecoder(cell, helper, cell.zero_state(2, tf.float32))
    outputs, _, _ = s2s.dynamic_decode(decoder)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match="maximum_iterations"):
            sess.run(outputs.rnn_output)


def _scheduled(p):
    tf.set_random_seed(11)
    x = tf.random_normal([3, 5, 4], seed=1)
    embedding = tf.random_normal([6, 4], seed=2)
    cell = tf.nn.rnn_cell.GRUCell(6)
    helper = s2s.ScheduledEmbeddingTrainingHelper(x, [5, 5, 5], embedding, p)
    decoder = s2s.BasicDecoder(cell, helper, cell.zero_state(3, tf.float32))
    with tf.variable_scope("shared", reuse=tf.AUTO_REUSE):
        outputs, _, _ = s2s.dynamic_decode(decoder)
        train, _, _ = s2s.dynamic_decode(
            s2s.BasicDecoder(cell, s2s.TrainingHelper(x, [5, 5, 5]), cell.zero_state(3, tf.float32))
        )
    return outputs, train


def test_scheduled_embedding_training_helper_probability_zero_and_one():
    outputs, train = _scheduled(0.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, want = sess.run([outputs, train.rnn_output])
    np.testing.assert_array_equal(got.sample_id, -1)  # never sampled: plain teacher forcing
    np.testing.assert_allclose(got.rnn_output, want, rtol=1e-6)
    tf.reset_default_graph()
    outputs, train = _scheduled(1.0)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got, want = sess.run([outputs, train.rnn_output])
        again = sess.run(outputs.sample_id)
    assert ((got.sample_id >= 0) & (got.sample_id < 6)).all()
    np.testing.assert_allclose(got.rnn_output[:, 0], want[:, 0], rtol=1e-6)  # the same first input
    assert not np.allclose(got.rnn_output[:, 1:], want[:, 1:])  # then its own samples, embedded
    assert again.shape == got.sample_id.shape
    with pytest.raises(ValueError, match="sampling_probability"):
        s2s.ScheduledEmbeddingTrainingHelper(tf.zeros([2, 3, 4]), [3, 3], tf.zeros([5, 4]), 1.5)


def test_sample_embedding_helper_at_low_temperature_is_greedy():
    tf.set_random_seed(4)
    embedding = tf.random_normal([6, 3], seed=3)
    cell = tf.nn.rnn_cell.GRUCell(6)
    init = tf.random_normal([4, 6], seed=5)
    start = tf.fill([4], 0)
    with tf.variable_scope("s", reuse=tf.AUTO_REUSE):
        greedy = s2s.GreedyEmbeddingHelper(embedding, start, 5)
        (g, _), _, _ = s2s.dynamic_decode(
            s2s.BasicDecoder(cell, greedy, init), maximum_iterations=4
        )
        sample = s2s.SampleEmbeddingHelper(embedding, start, 5, softmax_temperature=1e-4)
        (s, _), _, _ = s2s.dynamic_decode(
            s2s.BasicDecoder(cell, sample, init), maximum_iterations=4
        )
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_g, got_s = sess.run([g, s])
    np.testing.assert_allclose(got_s, got_g, rtol=1e-6)


def test_attention_seq2seq_trains_and_greedy_decodes_with_shared_weights():
    B, T, V, H = 16, 5, 10, 24
    tf.set_random_seed(0)
    src = tf.placeholder(tf.int32, [None, T])
    dec_in = tf.placeholder(tf.int32, [None, T])
    lens = tf.placeholder(tf.int32, [None])
    emb = tf.get_variable("emb", [V, 12])
    enc_out, enc_state = tf.nn.dynamic_rnn(
        tf.nn.rnn_cell.GRUCell(H), tf.nn.embedding_lookup(emb, src), sequence_length=lens,
        dtype=tf.float32,
    )  # fmt: skip
    mech = s2s.BahdanauAttention(H, enc_out, memory_sequence_length=lens)
    cell = s2s.AttentionWrapper(tf.nn.rnn_cell.GRUCell(H), mech, attention_layer_size=H)
    init = cell.zero_state(tf.shape(src)[0], tf.float32).clone(cell_state=enc_state)
    proj = tf.layers.Dense(V)
    helper = s2s.TrainingHelper(tf.nn.embedding_lookup(emb, dec_in), lens)
    out, _, _ = s2s.dynamic_decode(s2s.BasicDecoder(cell, helper, init, output_layer=proj))
    loss = s2s.sequence_loss(out.rnn_output, src, tf.sequence_mask(lens, T, dtype=tf.float32))
    step = tf.train.AdamOptimizer(0.02).minimize(loss)
    with tf.variable_scope(tf.get_variable_scope(), reuse=True):
        greedy = s2s.GreedyEmbeddingHelper(emb, tf.fill([tf.shape(src)[0]], 1), 0)
        gout, _, _ = s2s.dynamic_decode(
            s2s.BasicDecoder(cell, greedy, init, output_layer=proj), maximum_iterations=T
        )
    n_vars = len(tf.trainable_variables())
    x = np.random.default_rng(0).integers(2, V, (B, T)).astype(np.int32)
    go = np.concatenate([np.ones((B, 1), np.int32), x[:, :-1]], 1)
    feed = {src: x, dec_in: go, lens: np.full(B, T, np.int32)}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, feed)
        for _ in range(80):
            sess.run(step, feed)
        last = sess.run(loss, feed)
        ids = sess.run(gout.sample_id, feed)
    assert len(tf.trainable_variables()) == n_vars  # inference reuses the training weights
    assert last < first / 10
    assert (ids == x).mean() > 0.9
