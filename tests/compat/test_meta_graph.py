"""``tf.train.export_meta_graph`` / ``import_meta_graph`` in one process (``train/meta_graph.py``)."""

from __future__ import annotations

import numpy as np
import pytest

import rnnkit.compat.v1 as tf


def _small_lm():
    data = tf.constant(np.arange(60, dtype=np.int32) % 7)
    x = tf.reshape(tf.strided_slice(data, [0], [24]), [4, 6])
    emb = tf.get_variable("emb", [7, 5], initializer=tf.constant_initializer(0.1))
    cell = tf.nn.rnn_cell.BasicLSTMCell(5)
    init = cell.zero_state(4, tf.float32)
    out, final = tf.nn.dynamic_rnn(cell, tf.nn.embedding_lookup(emb, x), initial_state=init)
    cost = tf.reduce_sum(out)
    lr = tf.Variable(0.5, trainable=False)
    train_op = tf.train.GradientDescentOptimizer(lr).minimize(cost)
    return cost, train_op, lr, final


def test_meta_graph_round_trip_moves_graph_and_collections():
    with tf.Graph().as_default() as g1:
        with tf.variable_scope("Model", initializer=tf.constant_initializer(0.05)):
            cost, train_op, lr, final = _small_lm()
        tf.add_to_collection("Train/cost", cost)
        # as in TF1, the optimizer put its op in the train_op collection (the PTB tutorial reads it)
        assert tf.get_collection("train_op") == [train_op]
        assert tf.GraphKeys.TRAIN_OP == "train_op"
        tf.add_to_collection("Train/final_c", final.c)
        names = [v.op.name for v in tf.global_variables()]
        meta = tf.train.export_meta_graph()
    with tf.Graph().as_default() as g2:
        saver = tf.train.import_meta_graph(meta)
        assert isinstance(saver, tf.train.Saver)
        assert [v.op.name for v in tf.global_variables()] == names
        (cost2,) = tf.get_collection_ref("Train/cost")
        (step,) = tf.get_collection_ref("train_op")
        assert cost2 is cost and cost2.graph is g2 and tf.get_default_graph() is g2
        with tf.Session() as s:
            s.run(tf.global_variables_initializer())
            first = s.run(cost2)
            s.run(step)
            assert s.run(cost2) < first
    assert g1.get_collection("Train/cost") == []
    with pytest.raises(ValueError, match="imported already"), tf.Graph().as_default():
        tf.train.import_meta_graph(meta)
    with pytest.raises(tf.errors.UnimplementedError, match=r"\.meta files"):
        tf.train.export_meta_graph("model.meta")
    with pytest.raises(tf.errors.UnimplementedError, match=r"\.meta files"):
        tf.train.import_meta_graph("model.meta")
