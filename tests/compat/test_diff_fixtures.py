"""rnnkit.compat.v1 against TensorFlow's recorded results of small TF1 programs, one per kind of
difference the difftest (``tools/difftest``) found: values, gradients (including which are None
and which are IndexedSlices), dtypes, static shapes, variable names and exception types.

The programs and TF 2.21's results (``tf.compat.v1``) are in ``tests/fixtures/tf1_diff/``, written
by ``tools/difftest/make_fixtures.py``; each is replayed here with the tester's own interpreter and
compared with its tolerances (values 1e-5, gradients 1e-4)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "tf1_diff"


def _interp():
    spec = importlib.util.spec_from_file_location(
        "difftest_interp", ROOT / "tools" / "difftest" / "interp.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


interp = _interp()
META = json.loads((FIXTURES / "cases.json").read_text())["cases"]


def _tf_result(name: str) -> dict:
    res = dict(META[name]["tf"])
    res["values"] = {}
    with np.load(FIXTURES / "cases.npz", allow_pickle=False) as z:
        for key in z.files:
            case, value = key.split("/", 1)
            if case == name:
                res["values"][value] = z[key]
    return res


@pytest.mark.parametrize("name", sorted(n for n in META if "." not in n))
def test_case_matches_tensorflow(name: str) -> None:
    import rnnkit.compat.v1 as tf

    got = interp.run(tf, META[name]["program"], None)
    assert interp.compare(got, _tf_result(name)) == []


@pytest.mark.parametrize("name", sorted({n.split(".")[0] for n in META if "." in n}))
def test_saver_case_matches_tensorflow(name: str, tmp_path: Path) -> None:
    """rnnkit writes what TF wrote, and reads TF's checkpoint as TF reads it back."""
    import rnnkit.compat.v1 as tf

    write = META[f"{name}.write"]["program"]
    folder = Path(write["path"]).parent
    (tmp_path / folder).mkdir(parents=True)
    got = interp.run(tf, write, str(tmp_path))
    assert interp.compare(got, _tf_result(f"{name}.write")) == []
    shutil.copytree(FIXTURES / folder, tmp_path / "tf" / folder)
    read = dict(META[f"{name}.read"]["program"], path=f"tf/{folder}/model")
    got = interp.run(tf, read, str(tmp_path))
    assert interp.compare(got, _tf_result(f"{name}.read")) == []
