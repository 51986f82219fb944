"""Every TensorFlow 1.x reference case: outputs, final states and all gradients match TensorFlow's."""

import numpy as np
import pytest

from tests._tf1 import load_cases, replay

CASES = load_cases()


def test_reference_cases_are_present():
    names = {case["name"] for case, _ in CASES}
    assert {"tutorial_static_rnn", "tutorial_dynamic_rnn", "bidir_lstm_gru_lengths"} <= names


@pytest.mark.parametrize("engine", ["loop", "auto"])
@pytest.mark.parametrize("case,path", CASES, ids=[c["name"] for c, _ in CASES])
def test_matches_tensorflow(case, path, engine):
    if case["runner"] == "static_rnn" and engine != "loop":
        pytest.skip("static_rnn has a single (unrolled) path")
    results = replay(case, path, engine=engine)
    expected_keys = {k for k in np.load(path).files if k.startswith(("out/", "grad/"))}
    assert set(results) == expected_keys
    for key, (got, want) in results.items():
        assert got.shape == want.shape, key
        if key.startswith("grad/"):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=key)
        else:
            np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6, err_msg=key)
