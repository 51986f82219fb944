"""``tf.flags`` (``flags.py``) and what a TF1 script starts with (``tf.app.run``, ``tf.logging``,
``tf.ConfigProto``): parsing, copies, errors, and ``--help`` printed as TensorFlow prints it
(``tests/fixtures/tf1_census_gaps/help.json``)."""

from __future__ import annotations

import sys

import pytest

import rnnkit.compat.v1 as tf
from tests.compat._helpers import CENSUS


def test_flags_app_logging_and_config_errors(monkeypatch):
    flags = tf.flags.FlagValues()
    tf.flags.DEFINE_integer("n", 1, "", flag_values=flags)
    with pytest.raises(ValueError, match="flag `--n`"):
        flags(["p", "--n=abc"])
    with pytest.raises(ValueError, match="defined twice"):
        tf.flags.DEFINE_integer("n", 2, "", flag_values=flags)
    with pytest.raises(TypeError, match="`default` of flag 'm': expected an integer"):
        tf.flags.DEFINE_integer("m", 1.5, "", flag_values=flags)
    with pytest.raises(ValueError, match='ConfigProto has no "allow_soft" field'):
        tf.ConfigProto(allow_soft=True)
    with pytest.raises(TypeError, match="`main`: expected a function"):
        tf.app.run(main=3, argv=["p"])
    tf.logging.set_verbosity(tf.logging.INFO)
    assert tf.logging.get_verbosity() == tf.logging.INFO
    with pytest.raises(tf.errors.NotFoundError):
        tf.gfile.GFile("/nonexistent/ptb.train.txt", "rb")
    with pytest.raises(tf.UnsupportedError):
        tf.gfile.GFile("gs://bucket/x")
    monkeypatch.setattr(sys, "argv", ["p"])


def test_flags_copy_definition_errors_unknown_flags_and_double_dash():
    import copy

    flags = tf.flags.FlagValues()
    tf.flags.DEFINE_string("data_path", "d", "", flag_values=flags)
    tf.flags.DEFINE_bool("fast", False, "", flag_values=flags)
    flags(["prog"])
    shallow, deep = copy.copy(flags), copy.deepcopy(flags)
    assert shallow.data_path == "d" and deep.data_path == "d"
    deep.data_path = "e"
    assert flags.data_path == "d"
    with pytest.raises(TypeError, match="argument `default` of flag 'n': expected a string"):
        tf.flags.DEFINE_string("n", 5, "", flag_values=flags)
    with pytest.raises(TypeError, match="argument `enum_values` of flag 'm'"):
        tf.flags.DEFINE_enum("m", "a", None, "", flag_values=flags)
    with pytest.raises(ValueError, match="Unknown command line flag 'bogus'"):
        flags(["prog", "--bogus=1"])
    assert flags(["prog", "--bogus=1"], known_only=True) == ["prog", "--bogus=1"]
    assert flags(["prog", "--fast", "--", "--x", "y"]) == ["prog", "--", "--x", "y"]
    assert flags.fast


@pytest.mark.parametrize(
    "case", ["doc --help", "nodoc --help", "doc --batch_size 5", "nodoc --batch_size 5"]
)
def test_tf1_script_help_prints_flags_as_tf(case, tmp_path):
    import json
    import subprocess
    import sys

    ref = json.loads((CENSUS / "help.json").read_text())
    name, *args = case.split()
    doc = '"""Trains a small model."""\n\n' if name == "doc" else ""
    path = tmp_path / f"flags_{name}.py"
    path.write_text(ref["script"].format(doc=doc))
    run = subprocess.run(
        [sys.executable, "-m", "rnnkit", "tf1", str(path), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    want = ref["cases"][case]
    assert run.returncode == want["rc"], run.stderr[-2000:]
    assert run.stdout.replace(str(path), "PROGRAM") == want["stdout"]
