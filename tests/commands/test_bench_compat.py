"""The ``rnnkit bench-compat`` command: one model timed through compat.v1 and directly."""

from __future__ import annotations

import pytest

import rnnkit.compat.v1 as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def test_bench_compat_command_reports_a_ratio(capsys):
    import json

    from rnnkit.commands import main

    assert main(["bench-compat", "--models", "tutorial", "--repeats", "3", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["results"]
    assert row["model"] == "tutorial" and row["compat_ms"] > 0 and row["direct_ms"] > 0
    assert row["ratio"] == pytest.approx(row["compat_ms"] / row["direct_ms"])
    assert main(["bench-compat", "--models", "nope"]) == 2
