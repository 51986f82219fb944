"""sequence_length as published TF1 programs pass it: a float32 vector computed in the graph
(``reduce_sum(reduce_max(sign(x), 2), 1)``) or fed as floats or bools. dynamic_rnn and static_rnn
cast it to int32 as TF does; bidirectional_dynamic_rnn refuses it with TF's ReverseSequence
TypeError. Reference numbers: tools/make_tf1_census_program_fixtures.py (TF 2.21)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rnnkit.compat.v1 as tf
from tests.compat import _census_programs as programs
from tests.compat._helpers import FIXTURES

FIX = FIXTURES / "tf1_census_programs"


def _reference(name: str) -> dict[str, np.ndarray]:
    with np.load(FIX / f"{name}.npz", allow_pickle=False) as d:
        return {k: d[k] for k in d.files}


@pytest.mark.parametrize("name", sorted(programs.PROGRAMS))
def test_program_matches_tensorflow(name):
    ref = _reference(name)
    got = programs.PROGRAMS[name](tf)
    assert sorted(got) == sorted(ref)
    for key, want in ref.items():
        np.testing.assert_allclose(np.asarray(got[key]), want, rtol=1e-5, atol=1e-6, err_msg=key)


def test_float_lengths_truncate_toward_zero():
    got = programs.PROGRAMS["float_lengths_fed"](tf)
    steps_run = (np.abs(got["float_outputs"]).sum(-1) > 0).sum(1)
    assert steps_run.tolist() == [2, 1, 0]  # 2.7, 1.0, -0.5
    assert (np.abs(got["static_outputs"]).sum(-1) > 0).sum(1).tolist() == [2, 0, 4]


def test_bidirectional_refuses_float_lengths_as_tensorflow():
    want = json.loads((FIX / "errors.json").read_text())["bidirectional_float_lengths"]
    with pytest.raises(TypeError) as e:
        programs.bidirectional_float_lengths(tf)
    assert type(e.value).__name__ == want["type"]
    assert str(e.value) == want["message"]
