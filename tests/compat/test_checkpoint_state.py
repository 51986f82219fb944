"""``tf.train.get_checkpoint_state`` / ``latest_checkpoint`` / ``checkpoint_exists`` and the state
file a ``Saver`` writes for a relative save path, against what real TensorFlow wrote and returned
(``tests/fixtures/tf1_api/checkpoint_state.json``, made by ``tools/make_tf1_api_fixtures.py``)."""

from __future__ import annotations

import json
import os
import pathlib

import pytest

import rnnkit.compat.v1 as tf

FIX = json.loads(
    (
        pathlib.Path(__file__).resolve().parents[1]
        / "fixtures"
        / "tf1_api"
        / "checkpoint_state.json"
    ).read_text()
)


@pytest.fixture
def saved(tmp_path, monkeypatch):
    """Two saves to the relative path save/model.ckpt, from tmp_path, as the TF program did."""
    monkeypatch.chdir(tmp_path)
    os.mkdir("save")
    tf.reset_default_graph()
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        returned = [saver.save(sess, "save/model.ckpt", global_step=s) for s in (1, 2)]
    return returned


def test_relative_save_path_writes_tfs_state_file(saved) -> None:
    assert saved == FIX["returned"]
    assert pathlib.Path("save/checkpoint").read_text() == FIX["state_file"]
    tf_files = {f for f in FIX["files"] if not f.endswith(".meta")}  # no meta graphs here
    assert set(os.listdir("save")) == tf_files


def test_latest_checkpoint_finds_it(saved) -> None:
    assert tf.train.latest_checkpoint("save") == FIX["latest"]
    assert tf.train.latest_checkpoint("save/") == FIX["latest_slash"]


def test_get_checkpoint_state_joins_the_folder(saved) -> None:
    state = tf.train.get_checkpoint_state("save")
    assert state.model_checkpoint_path == FIX["get_state"]["model_checkpoint_path"]
    assert list(state.all_model_checkpoint_paths) == FIX["get_state"]["all_model_checkpoint_paths"]
    assert (tf.train.get_checkpoint_state("nowhere") is None) == FIX["get_state_missing"]


def test_checkpoint_exists(saved) -> None:
    for path, exists in FIX["exists"].items():
        assert tf.train.checkpoint_exists(path) == exists, path


def test_restore_from_the_state_it_found(saved) -> None:
    tf.reset_default_graph()
    v = tf.Variable(5.0, name="v")
    with tf.Session() as sess:
        state = tf.train.get_checkpoint_state("save")
        tf.train.Saver().restore(sess, state.model_checkpoint_path)
        assert sess.run(v) == 1.0


def test_bad_arguments_name_them(tmp_path) -> None:
    with pytest.raises(TypeError, match="checkpoint_dir"):
        tf.train.get_checkpoint_state(3)
    with pytest.raises(TypeError, match="checkpoint_prefix"):
        tf.train.checkpoint_exists(None)
    (tmp_path / "checkpoint").write_text("all_model_checkpoint_paths: 'x'\n")
    with pytest.raises(ValueError, match="Invalid checkpoint state"):
        tf.train.get_checkpoint_state(str(tmp_path))
