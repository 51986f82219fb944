"""``tf.gfile`` (``gfile.py``): ``file://`` names and TensorFlow's errors."""

from __future__ import annotations

import pytest

import rnnkit.compat.v1 as tf


def test_gfile_errors_and_names_as_tensorflow(tmp_path):
    g = tf.gfile
    d, f = tmp_path / "d", tmp_path / "f"
    f.write_text("x")
    g.MkDir(str(d))
    g.MkDir(str(d))  # an existing directory is kept, as TF
    assert g.IsDirectory(f"file://{d}") and g.Exists(f"file://{f}")
    with pytest.raises(tf.errors.NotFoundError):
        g.MkDir(str(tmp_path / "no" / "x"))
    with pytest.raises(tf.errors.NotFoundError):
        g.Copy(str(tmp_path / "missing"), str(tmp_path / "z"))
    with pytest.raises(tf.errors.NotFoundError):
        g.Rename(str(tmp_path / "missing"), str(tmp_path / "z"))
    for op in (g.Copy, g.Rename):
        with pytest.raises(tf.errors.AlreadyExistsError, match="already exists"):
            op(str(f), str(f))
        with pytest.raises(OSError):  # existing `except OSError` code still catches it
            op(str(f), str(f))
        with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
            op(str(f), str(d), overwrite=True)
    with pytest.raises(tf.errors.FailedPreconditionError, match="Is a directory"):
        g.Remove(str(d))
    with pytest.raises(tf.errors.FailedPreconditionError, match="is not a directory"):
        g.MakeDirs(str(f / "sub"))
    g.Copy(f"file://{f}", str(tmp_path / "f2"))
    g.DeleteRecursively(str(tmp_path / "f2"))  # a file is deleted, as TF
    assert not (tmp_path / "f2").exists()
    g.DeleteRecursively(f"file://{d}")
    assert not d.exists()
