"""Serialize, with real TensorFlow, the protocol buffer messages TF1 programs import from
TensorFlow's own modules (``variable_pb2.VariableDef``, ``rewriter_config_pb2.RewriterConfig``),
every field set, into ``tests/fixtures/tf1_protos.json`` (bytes as hex), with the enum values the
programs name. rnnkit's stand-ins (``rnnkit/compat/v1/tf_protos.py``) must give the same bytes.

Run it outside rnnkit's environment::

    /root/tfvenv/bin/python tools/make_tf1_proto_fixtures.py --out tests/fixtures/tf1_protos.json
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from tensorflow.core.framework import variable_pb2  # noqa: E402
from tensorflow.core.protobuf import rewriter_config_pb2  # noqa: E402

# the fields each case sets (the test builds the same message from these)
VARIABLE_DEF = {
    "variable_name": "Model/w:0",
    "initial_value_name": "Model/w/Initializer/random_uniform:0",
    "initializer_name": "Model/w/Assign",
    "snapshot_name": "Model/w/read:0",
    "is_resource": False,
    "trainable": True,
    "synchronization": "VARIABLE_SYNCHRONIZATION_ON_READ",
    "aggregation": "VARIABLE_AGGREGATION_MEAN",
}
SLICE = {"full_name": "Model/w", "full_shape": [10, 4], "var_offset": [5, 0], "var_shape": [5, 4]}
REWRITER = {
    "arithmetic_optimization": "OFF",
    "memory_optimization": "NO_MEM_OPT",
    "min_graph_nodes": -1,
    "meta_optimizer_timeout_ms": 1234,
    "disable_model_pruning": True,
    "memory_optimizer_target_node_name_scope": "grads",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    out = parser.parse_args().out

    v = variable_pb2.VariableDef(
        **{
            k: getattr(variable_pb2, x) if isinstance(x, str) and x.isupper() else x
            for k, x in VARIABLE_DEF.items()
        }
    )
    v.save_slice_info_def.full_name = SLICE["full_name"]
    for key in ("full_shape", "var_offset", "var_shape"):
        getattr(v.save_slice_info_def, key).extend(SLICE[key])

    r = rewriter_config_pb2.RewriterConfig()
    r.optimizers.append("autoparallel")
    r.auto_parallel.enable = True
    r.auto_parallel.num_replicas = 2
    for key, value in REWRITER.items():
        setattr(
            r,
            key,
            getattr(rewriter_config_pb2.RewriterConfig, value)
            if isinstance(value, str) and value.isupper()
            else value,
        )
    with_unknown = rewriter_config_pb2.RewriterConfig()
    with_unknown.CopyFrom(r)
    with_unknown.scoped_allocator_opts.enable_op.append(
        "CollectiveReduce"
    )  # not declared in rnnkit

    desc = rewriter_config_pb2.RewriterConfig.DESCRIPTOR
    enums = {v.name: v.number for e in desc.enum_types for v in e.values}
    data = {
        "variable_def": {
            "fields": VARIABLE_DEF,
            "slice": SLICE,
            "hex": v.SerializeToString().hex(),
        },
        "variable_enums": {
            name: value.number
            for enum in variable_pb2.DESCRIPTOR.enum_types_by_name.values()
            for name, value in enum.values_by_name.items()
        },
        "rewriter_config": {"fields": REWRITER, "hex": r.SerializeToString().hex()},
        "rewriter_config_with_scoped_allocator": with_unknown.SerializeToString().hex(),
        "rewriter_enums": enums,
    }
    with open(out, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
