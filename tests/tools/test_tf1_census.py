"""tools/tf1_census.py: which TensorFlow names a TF1 program uses, and which rnnkit lacks."""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

_PATH = Path(__file__).resolve().parents[2] / "tools" / "tf1_census.py"
_spec = importlib.util.spec_from_file_location("tf1_census", _PATH)
census = importlib.util.module_from_spec(_spec)
sys.modules["tf1_census"] = census
_spec.loader.exec_module(census)


def names(source: str) -> set[str]:
    return set(census.scan_source(textwrap.dedent(source)).names)


def test_import_forms_resolve_to_public_names():
    got = names(
        """
        import tensorflow as tf
        import tensorflow.compat.v1 as tf1
        from tensorflow.contrib import rnn
        from tensorflow.contrib import legacy_seq2seq as s2s
        from tensorflow.contrib.rnn import GRUCell as G
        from tensorflow.python.ops import rnn_cell
        import tensorflow.contrib.layers as layers

        x = tf.placeholder(tf.float32, [None, 5, 3])
        cell = rnn.BasicLSTMCell(8)
        out, _ = s2s.rnn_decoder([x], None, cell)
        y = tf1.layers.dense(x, 2)
        g = G(4)
        c = rnn_cell.MultiRNNCell([g])
        w = layers.xavier_initializer()
        """
    )
    assert got == {
        "placeholder",
        "float32",
        "contrib.rnn",
        "contrib.legacy_seq2seq",
        "contrib.rnn.GRUCell",
        "nn.rnn_cell",
        "contrib.rnn.BasicLSTMCell",
        "contrib.legacy_seq2seq.rnn_decoder",
        "layers.dense",
        "nn.rnn_cell.MultiRNNCell",
        "contrib.layers.xavier_initializer",
    }


def test_longest_chain_under_tensorflow_only():
    got = names(
        """
        import numpy as np
        import tensorflow as tf
        opt = tf.train.AdamOptimizer(0.1).minimize(loss)
        a = np.float32(tf.compat.v1.nn.rnn_cell.LSTMCell(3).state_size)
        n = tf.app.flags.FLAGS.batch_size + tf.flags.FLAGS.steps
        k = tf.GraphKeys.TRAINABLE_VARIABLES
        """
    )
    assert got == {
        "train.AdamOptimizer",
        "nn.rnn_cell.LSTMCell",
        "app.flags.FLAGS",
        "flags.FLAGS",
        "GraphKeys.TRAINABLE_VARIABLES",
    }


def test_assigned_namespace_is_an_alias():
    got = names(
        """
        import tensorflow as tf
        cells = tf.nn.rnn_cell
        c = cells.GRUCell(3)
        """
    )
    assert got == {"nn.rnn_cell", "nn.rnn_cell.GRUCell"}


def test_keywords_are_recorded_per_name():
    usage = census.scan_source(
        "import tensorflow as tf\n"
        "c = tf.nn.rnn_cell.BasicLSTMCell(4, forget_bias=1.0, activation=tf.tanh)\n"
        "d = tf.nn.rnn_cell.BasicLSTMCell(4, state_is_tuple=False)\n"
    )
    assert usage.keywords["nn.rnn_cell.BasicLSTMCell"] == {
        "forget_bias",
        "activation",
        "state_is_tuple",
    }
    assert usage.names["nn.rnn_cell.BasicLSTMCell"] == 2
    assert "tanh" in usage.names


def test_python2_source_is_read_token_by_token():
    usage = census.scan_source(
        textwrap.dedent(
            """
            import tensorflow as tf
            from tensorflow.models.rnn import rnn_cell
            cell = rnn_cell.BasicLSTMCell(10, forget_bias=f(a=1), state_is_tuple=(b == 2))
            print "loss", sess.run(tf.reduce_mean(x))
            print tf . nn . softmax(y)
            flags = tf.app.flags
            flags.DEFINE_integer("steps", 10, "training steps")
            """
        ),
        "old.py",
    )
    assert usage.token_mode == ["old.py"]
    assert set(usage.names) == {
        "nn.rnn_cell",
        "nn.rnn_cell.BasicLSTMCell",
        "reduce_mean",
        "nn.softmax",
        "app.flags",
        "app.flags.DEFINE_integer",
    }
    assert usage.keywords["nn.rnn_cell.BasicLSTMCell"] == {"forget_bias", "state_is_tuple"}


def test_notebook_code_cells_and_directory_programs(tmp_path):
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": ["tf.this_is_prose()"]},
            {
                "cell_type": "code",
                "source": [
                    "try:\n",
                    "    %tensorflow_version 1.x\n",
                    "except Exception:\n",
                    "    pass\n",
                ],
            },
            {"cell_type": "code", "source": ["%matplotlib inline\n", "import tensorflow as tf\n"]},
            {"cell_type": "code", "source": "x = tf.nn.dynamic_rnn(c, i)\n!ls data\n"},
        ],
        "nbformat": 4,
    }
    prog = tmp_path / "prog"
    prog.mkdir()
    (prog / "model.ipynb").write_text(json.dumps(nb))
    (prog / "train.py").write_text("from tensorflow.contrib import seq2seq\nseq2seq.BasicDecoder\n")
    (prog / "notes.txt").write_text("import tensorflow as tf\ntf.not_python()\n")
    usage = census.scan_program(prog)
    assert usage.token_mode == []
    assert set(usage.names) == {"nn.dynamic_rnn", "contrib.seq2seq", "contrib.seq2seq.BasicDecoder"}


def test_has_name_walks_the_namespaces():
    class Lacking:
        def __getattr__(self, name):
            raise AttributeError(name)

    fake = SimpleNamespace(
        SUPPORTED=("placeholder",),
        nn=SimpleNamespace(rnn_cell=SimpleNamespace(GRUCell=object)),
        contrib=Lacking(),
    )
    assert census.has_name("placeholder", fake)
    assert census.has_name("nn.rnn_cell.GRUCell", fake)
    assert not census.has_name("nn.rnn_cell.LSTMCell", fake)
    assert not census.has_name("contrib.layers.fully_connected", fake)


def test_has_name_against_rnnkit():
    assert census.has_name("nn.rnn_cell.BasicLSTMCell")
    assert census.has_name("placeholder")
    assert not census.has_name("contrib.no_such_module.thing")
    assert not census.has_name("no_such_function")


def test_refused_keywords_read_the_signature():
    def cell(num_units, forget_bias=1.0):
        pass

    def open_cell(num_units, **kwargs):
        pass

    fake = SimpleNamespace(cell=cell, open_cell=open_cell)
    assert census.refused_keywords("cell", ["forget_bias", "activation"], fake) == ["activation"]
    assert census.refused_keywords("open_cell", ["activation"], fake) == []
    assert census.refused_keywords("missing", ["activation"], fake) == []


def test_counts_are_per_program():
    a = census.scan_source("import tensorflow as tf\ntf.tanh(x); tf.tanh(y); tf.sigmoid(z)\n")
    b = census.scan_source("import tensorflow as tf\ntf.tanh(x)\n")
    total = census.counts({"a": a, "b": b})
    assert total == {"tanh": 2, "sigmoid": 1}
    fake = SimpleNamespace(SUPPORTED=("tanh",))
    table = census.counts_markdown({"a": a, "b": b}, 2, fake)
    assert table.splitlines()[2:] == ["| `tf.tanh` | 2 | yes |"]


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        census.main([str(tmp_path / "missing.py")])
    assert e.value.code == 2
    assert "no such file or directory" in capsys.readouterr().err
    prog = tmp_path / "p.py"
    prog.write_text("import tensorflow as tf\n")
    with pytest.raises(SystemExit):
        census.main(["--counts", "0", str(prog)])
    assert "expected a number of programs >= 1, got 0" in capsys.readouterr().err
