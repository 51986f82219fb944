"""Every TensorFlow 1.x reference case: outputs, final states and all gradients match TensorFlow's."""

import numpy as np
import pytest

from tests._tf1 import DIRS, SHARED_TF1, TF1, load_cases, replay

CASES = load_cases()


def test_reference_cases_are_present():
    names = {case["name"] for case, _ in CASES}
    assert {"tutorial_static_rnn", "tutorial_dynamic_rnn", "bidir_lstm_gru_lengths"} <= names
    assert len(names) == len(CASES) >= 34  # 14 shared + 20 of this repository's own, at least


@pytest.mark.parametrize("directory", DIRS, ids=[d.name for d in DIRS])
def test_every_case_file_is_listed_and_present(directory):
    listed = {path.name for _, path in CASES if path.parent == directory}
    assert listed == {p.name for p in directory.glob("*.npz")}


def test_vendored_cases_are_byte_identical_to_the_shared_ones():
    if not SHARED_TF1.is_dir():
        pytest.skip(f"{SHARED_TF1} is not beside this repository (a lone clone)")
    shared = sorted(p.name for p in SHARED_TF1.iterdir())
    assert sorted(p.name for p in TF1.iterdir()) == shared
    for name in shared:
        assert (TF1 / name).read_bytes() == (SHARED_TF1 / name).read_bytes(), name


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
