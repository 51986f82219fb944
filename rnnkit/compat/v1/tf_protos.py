"""Protocol buffer messages TF1 programs import from TensorFlow's own modules, served (by
``rnnkit.compat.v1.install``) as ``tensorflow.core.framework.variable_pb2`` and
``tensorflow.core.protobuf.rewriter_config_pb2``.

The PTB tutorial, for one, imports both at the top of a helper module and uses them only to rewrite
a graph for several GPUs. The messages are declared field for field from TensorFlow's
``variable.proto`` and ``rewriter_config.proto`` (same full names, field numbers and types; enum
fields as ``int32``), so a program can build, read and serialize them as under TensorFlow:

- ``VariableDef`` and ``SaveSliceInfoDef`` whole, with the ``VariableSynchronization`` and
  ``VariableAggregation`` values as module constants;
- ``RewriterConfig``'s scalar options (its enum values, ``RewriterConfig.OFF`` and the others, are
  attributes of the class), ``auto_parallel`` (``AutoParallelOptions``) and the ``optimizers``
  list. Its remaining message fields (custom optimizers, the scoped allocator's and
  the verifiers' options) are not declared: parsing keeps them as unknown fields, which serialize
  back unchanged. Grappler itself does not run on rnnkit, so these options configure nothing.
"""

from __future__ import annotations

from typing import Any

from rnnkit._protos import message_classes

__all__ = ["VARIABLE_PB2", "REWRITER_CONFIG_PB2"]

_VARIABLE = message_classes(
    "tensorflow/core/framework/variable.proto",
    "tensorflow",
    {
        "VariableDef": [
            ("variable_name", 1, "string", False, None),
            ("initial_value_name", 6, "string", False, None),
            ("initializer_name", 2, "string", False, None),
            ("snapshot_name", 3, "string", False, None),
            ("save_slice_info_def", 4, "SaveSliceInfoDef", False, None),
            ("is_resource", 5, "bool", False, None),
            ("trainable", 7, "bool", False, None),
            ("synchronization", 8, "int32", False, None),  # enum VariableSynchronization
            ("aggregation", 9, "int32", False, None),  # enum VariableAggregation
        ],
        "SaveSliceInfoDef": [
            ("full_name", 1, "string", False, None),
            ("full_shape", 2, "int64", True, None),
            ("var_offset", 3, "int64", True, None),
            ("var_shape", 4, "int64", True, None),
        ],
    },
)

# enum RewriterConfig.Toggle and the other option enums are int32 fields here
_TOGGLES = (
    ("cpu_layout_conversion", 50),
    ("layout_optimizer", 1),
    ("constant_folding", 3),
    ("shape_optimization", 13),
    ("remapping", 14),
    ("common_subgraph_elimination", 24),
    ("arithmetic_optimization", 7),
    ("dependency_optimization", 8),
    ("loop_optimization", 9),
    ("function_optimization", 10),
    ("debug_stripper", 11),
    ("scoped_allocator_optimization", 15),
    ("pin_to_host_optimization", 18),
    ("implementation_selector", 22),
    ("auto_mixed_precision", 23),
    ("auto_mixed_precision_mkl", 25),
    ("auto_mixed_precision_onednn_bfloat16", 31),
    ("auto_mixed_precision_cpu", 29),
    ("use_plugin_optimizers", 28),
    ("experimental_conditional_code_motion", 30),
    ("meta_optimizer_iterations", 12),
    ("memory_optimization", 4),
)
_REWRITER = message_classes(
    "tensorflow/core/protobuf/rewriter_config.proto",
    "tensorflow",
    {
        "AutoParallelOptions": [
            ("enable", 1, "bool", False, None),
            ("num_replicas", 2, "int32", False, None),
        ],
        "RewriterConfig": [
            *((name, number, "int32", False, None) for name, number in _TOGGLES),
            ("disable_model_pruning", 2, "bool", False, None),
            ("disable_meta_optimizer", 19, "bool", False, None),
            ("disable_tfg_optimizer", 32, "bool", False, None),
            ("min_graph_nodes", 17, "int32", False, None),
            ("experimental_disable_compressed_tensor_optimization", 26, "bool", False, None),
            ("experimental_disable_folding_quantization_emulation", 27, "bool", False, None),
            ("memory_optimizer_target_node_name_scope", 6, "string", False, None),
            ("meta_optimizer_timeout_ms", 20, "int64", False, None),
            ("auto_parallel", 5, "AutoParallelOptions", False, None),
            ("fail_on_optimizer_errors", 21, "bool", False, None),
            ("optimizers", 100, "string", True, None),
        ],
    },
)


# RewriterConfig's nested enums (Toggle, CpuLayout, NumIterationsType, MemOptType): their values are
# attributes of the message class, as in TensorFlow's generated code
_REWRITER_ENUMS = {
    **{"DEFAULT": 0, "ON": 1, "OFF": 2, "AGGRESSIVE": 3, "EXPERIMENTAL_MLIR": 4},
    **{"EXPERIMENTAL_BOTH": 5, "NO_CONVERSION_ON_CPU": 0, "NCHW_TO_NHWC": 1, "NHWC_TO_NCHW": 2},
    **{"DEFAULT_NUM_ITERS": 0, "ONE": 1, "TWO": 2, "DEFAULT_MEM_OPT": 0, "NO_MEM_OPT": 1},
    **{"MANUAL": 2, "HEURISTICS": 3, "SWAPPING_HEURISTICS": 4, "RECOMPUTATION_HEURISTICS": 5},
    **{"SCHEDULING_HEURISTICS": 6},
}
for _name, _value in _REWRITER_ENUMS.items():
    setattr(_REWRITER["RewriterConfig"], _name, _value)

# {name: object} of each module, served through namespaces of rnnkit.compat.v1
VARIABLE_PB2: dict[str, Any] = {
    "VariableDef": _VARIABLE["VariableDef"],
    "SaveSliceInfoDef": _VARIABLE["SaveSliceInfoDef"],
    "VARIABLE_SYNCHRONIZATION_AUTO": 0,
    "VARIABLE_SYNCHRONIZATION_NONE": 1,
    "VARIABLE_SYNCHRONIZATION_ON_WRITE": 2,
    "VARIABLE_SYNCHRONIZATION_ON_READ": 3,
    "VARIABLE_AGGREGATION_NONE": 0,
    "VARIABLE_AGGREGATION_SUM": 1,
    "VARIABLE_AGGREGATION_MEAN": 2,
    "VARIABLE_AGGREGATION_ONLY_FIRST_REPLICA": 3,
}
REWRITER_CONFIG_PB2: dict[str, Any] = {
    "RewriterConfig": _REWRITER["RewriterConfig"],
    "AutoParallelOptions": _REWRITER["AutoParallelOptions"],
}
