"""``tf.contrib.slim.model_analyzer`` (``contrib_slim.py``) against TF-Slim's output
(``tests/fixtures/tf1_census_gaps/analyze_vars.json``)."""

from __future__ import annotations

import rnnkit.compat.v1 as tf
from tests.compat._helpers import CENSUS


def test_slim_analyze_vars_prints_as_tf_slim(capsys):
    import json

    ref = json.loads((CENSUS / "analyze_vars.json").read_text())
    tf.get_variable("a", [3, 4])
    tf.get_variable("s/b", [5], dtype=tf.float64)
    tf.Variable(3, name="c")
    got = tf.contrib.slim.model_analyzer.analyze_vars(tf.global_variables(), print_info=True)
    assert list(got) == ref["result"]
    assert capsys.readouterr().out == ref["stdout"]
