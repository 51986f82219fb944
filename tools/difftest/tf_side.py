"""The TensorFlow side of the difftest: runs in the TF venv (``TF_USE_LEGACY_KERAS=1
/root/tfvenv/bin/python tf_side.py programs.json results_prefix workdir``), one process per batch of
programs (importing TF takes seconds), and writes ``results_prefix.json`` (errors, dtypes, shapes,
names) and ``results_prefix.npz`` (the arrays, keyed ``<case>/<name>``)."""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import interp  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf_root  # noqa: E402

tf = tf_root.compat.v1
tf.disable_v2_behavior()
tf_root.get_logger().setLevel("ERROR")


def main() -> None:
    programs_path, out_prefix, workdir = sys.argv[1:4]
    with open(programs_path) as f:
        programs = json.load(f)
    meta, arrays = [], {}
    for i, prog in enumerate(programs):
        res = interp.run(tf, prog, workdir)
        for k, v in res.pop("values").items():
            arrays[f"{i}/{k}"] = v
        meta.append(res)
    np.savez(out_prefix + ".npz", **arrays)
    with open(out_prefix + ".json", "w") as f:
        json.dump(meta, f)


if __name__ == "__main__":
    main()
