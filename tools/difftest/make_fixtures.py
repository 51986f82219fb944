"""Records TensorFlow's result of each named case of ``cases.py`` in ``tests/fixtures/tf1_diff/``:
``cases.json`` (the programs, errors, dtypes, shapes, names) and ``cases.npz`` (the arrays, keyed
``<case>/<name>``), and for the saver cases a checkpoint TF wrote (``ckpt_<case>/``).

    TF_USE_LEGACY_KERAS=1 /root/tfvenv/bin/python tools/difftest/make_fixtures.py
"""

from __future__ import annotations

import json
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cases  # noqa: E402
import interp  # noqa: E402
import numpy as np  # noqa: E402
import programs  # noqa: E402
from tf_side import tf, tf_root  # noqa: E402  (tf.compat.v1 as the tester's TF side runs it)

OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "tf1_diff")


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    meta, arrays = {}, {}
    seeded = {name: programs.program(seed) for name, seed in cases.SEEDED.items()}
    for name, prog in {**cases.CASES, **seeded}.items():
        res = interp.run(tf, prog, None)
        for k, v in res.pop("values").items():
            arrays[f"{name}/{k}"] = v
        meta[name] = {"program": prog, "tf": res}
    for name, spec in cases.SAVER_CASES.items():
        folder = f"ckpt_{name}"
        shutil.rmtree(os.path.join(OUT, folder), ignore_errors=True)
        os.makedirs(os.path.join(OUT, folder))
        progs = {}
        for mode in ("write", "read"):
            progs[mode] = {"seed": -1, "area": "saver", "kind": "saver", "mode": mode,
                           "inputs": spec[mode], "path": f"{folder}/model"}  # fmt: skip
            with tf.Graph().as_default():
                res = interp.run(tf, progs[mode], OUT)
            for k, v in res.pop("values").items():
                arrays[f"{name}.{mode}/{k}"] = v
            meta[f"{name}.{mode}"] = {"program": progs[mode], "tf": res}
        for junk in ("checkpoint",):  # the state file names absolute paths: not needed
            p = os.path.join(OUT, folder, junk)
            if os.path.exists(p):
                os.remove(p)
        for f in os.listdir(os.path.join(OUT, folder)):
            if f.endswith(".meta"):
                os.remove(os.path.join(OUT, folder, f))
    np.savez(os.path.join(OUT, "cases.npz"), **arrays)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"tensorflow": tf_root.__version__, "cases": meta}, f, indent=1, sort_keys=True)
    print(f"{len(meta)} cases recorded in {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
