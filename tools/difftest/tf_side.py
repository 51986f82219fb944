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

# The reference is TF's graph semantics, so Grappler's arithmetic rewrites are off: they can change a
# result against the graph's own static shape (pow(x, -0.5) of a scalar x and a [[-0.5]] constant,
# with gradients in the graph, is rewritten to rsqrt(x) and returns shape [] where the graph says
# [1, 1], or fails with InvalidArgumentError once x has a rank of its own).
_Session = tf.Session


def _session(*args, **kwargs):
    from tensorflow.core.protobuf import rewriter_config_pb2

    config = kwargs.pop("config", None) or tf.ConfigProto()
    config.graph_options.rewrite_options.arithmetic_optimization = (
        rewriter_config_pb2.RewriterConfig.OFF
    )
    return _Session(*args, config=config, **kwargs)


tf.Session = _session


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
